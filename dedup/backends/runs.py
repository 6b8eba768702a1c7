"""The SQLite archive's lookup keys as sorted runs: a small log-structured merge tree inside the
archive file.

Each committed batch writes its ``(key, row)`` pairs as one *run*: two blobs, the keys sorted
(unsigned 64-bit) and their rows, in the batch's own transaction. When :data:`FANOUT` runs of
one size tier are there, they are merged into one run of the next tier (in the same
transaction), so an archive of ``n`` keys holds about ``FANOUT × log_FANOUT(n / batch)`` runs and
each key is rewritten a few times in its life, whatever the archive's size. A lookup is a binary
search in each run (numpy, on arrays read once per process and kept while their run lives).

Merges change no answer, so they are not the batch's work: :class:`BackgroundMerges` runs them
in a thread with its own connection, each in its own transaction, while the writer sketches and
compares its next batch (a merge of 4 x 16 million keys takes seconds; in the batch's transaction
it was a quarter of ``add``'s time).

Why not a B-tree of one row per key (the archive's first layout): a batch's million keys fall all
over the key space, so its inserts touched (and rewrote, through the write-ahead log) pages all
over a table of a hundred million rows: ``add`` cost grew with the archive, 0.30x the batch
run's speed at a million articles. A run costs one sequential write.

Removed articles' rows are listed in ``dead_rows`` and filtered from every lookup (merges drop
their keys); rows are never reused (the next row is kept in ``meta``). Crash safety and
concurrency are SQLite's: runs and dead rows change in the transaction of the batch, a merge in
a transaction of its own (killed part way, it rolls back and the runs it read stay).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from ..shingles import sorted_unique

FANOUT = 4
"""Runs of one size tier merged into one of the next."""
MAX_MERGE_KEYS = 64_000_000
"""No merge makes a run larger than this (its key blob 512 MB: SQLite holds blobs under 1 GB)."""
BASE_KEYS = 1 << 16
"""Runs up to this many keys are tier 0; each tier above holds ``FANOUT`` times more."""
FENCE = 512
"""Every this-many-th key of a run is kept apart (its *fences*): a short-lived process looks up a
few keys by reading the fences and one stretch of each run, not the whole run."""
LAZY_KEYS = 5_000
LAZY_LOOKUPS = 20
"""A lookup of at most ``LAZY_KEYS`` keys reads stretches of the runs it has not loaded (a
one-article ``dedup index query`` of a million-article archive reads kilobytes, not 1.2 GB); after
``LAZY_LOOKUPS`` such lookups the process is long-lived (``dedup serve``, an open ``Index``) and
loads the runs whole."""

TABLES = """
CREATE TABLE IF NOT EXISTS key_runs (run INTEGER PRIMARY KEY AUTOINCREMENT, tag BLOB NOT NULL,
    tier INTEGER NOT NULL, size INTEGER NOT NULL, keys BLOB NOT NULL, rows BLOB NOT NULL, fences BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS dead_rows (row INTEGER PRIMARY KEY);
"""

Arrays = tuple[np.ndarray, np.ndarray]
ROW = np.dtype(np.int32)
"""A row number in a run (4 bytes: archives of up to two billion articles; 12 bytes a key)."""


def tier_of(size: int) -> int:
    tier, limit = 0, BASE_KEYS
    while size > limit:
        tier, limit = tier + 1, limit * FANOUT
    return tier


class KeyRuns:
    """The runs of one archive connection: reads, the writes of a transaction, merges."""

    def __init__(self, db: sqlite3.Connection, cache: dict[tuple[int, bytes], Arrays] | None = None) -> None:
        self.db = db
        self._cache: dict[tuple[int, bytes], Arrays] = {} if cache is None else cache  # (shared with merges)
        self._fences: dict[tuple[int, bytes], np.ndarray] = {}
        self._lazy = 0
        self._lock = threading.Lock()

    def _runs(self, load: bool = True) -> list[tuple[int, bytes]]:
        """The runs of this connection's view, with ``load`` their arrays loaded (each once per
        process: a run never changes, and its random tag tells it from a rolled-back run of the
        same number). Runs numbered past this view's (a merge committed since) stay cached."""
        runs = [(r, bytes(t)) for r, t in self.db.execute("SELECT run, tag FROM key_runs ORDER BY run")]
        last = runs[-1][0] if runs else 0
        with self._lock:
            for stale in {r for r in set(self._cache) - set(runs) if r[0] <= last}:
                self._cache.pop(stale, None)
        for stale in set(self._fences) - set(runs):
            del self._fences[stale]
        for run in runs if load else ():
            self._load(run)
        return runs

    def _load(self, run: tuple[int, bytes]) -> Arrays:
        found = self._cache.get(run)
        if found is None:
            keys, rows = self.db.execute(
                "SELECT keys, rows FROM key_runs WHERE run = ?", (run[0],)
            ).fetchone()
            found = self._cache[run] = (np.frombuffer(keys, np.uint64), np.frombuffer(rows, ROW))
        return found

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """One read transaction (the runs listed are the runs read), unless one is open."""
        if self.db.in_transaction:
            yield
            return
        self.db.execute("BEGIN")
        try:
            yield
        finally:
            self.db.execute("COMMIT")

    def _stretch(self, run: tuple[int, bytes], query: np.ndarray) -> Arrays:
        """:func:`_search` in the stretches of an unloaded run that can hold ``query``: its fences
        read (and kept), then the keys between the fences around each key, read from the blob."""
        if run not in self._fences:
            (fences,) = self.db.execute("SELECT fences FROM key_runs WHERE run = ?", (run[0],)).fetchone()
            self._fences[run] = np.frombuffer(fences, np.uint64)
        fences = self._fences[run]
        first = np.maximum(np.searchsorted(fences, query, "left") - 1, 0) * FENCE
        last = np.searchsorted(fences, query, "right") * FENCE
        keys, rows = [], []
        with self.db.blobopen("key_runs", "keys", run[0], readonly=True) as blob_keys, \
                self.db.blobopen("key_runs", "rows", run[0], readonly=True) as blob_rows:  # fmt: skip
            size = len(blob_keys) // 8
            for start, stop in _spans(first, np.minimum(last, size)):
                blob_keys.seek(start * 8)
                stretch = np.frombuffer(blob_keys.read((stop - start) * 8), np.uint64)
                low = np.searchsorted(stretch, query, "left")
                high = np.searchsorted(stretch, query, "right")
                if (high > low).any():
                    lo, hi = int(low[high > low].min()), int(high[high > low].max())
                    blob_rows.seek((start + lo) * ROW.itemsize)
                    part_rows = np.frombuffer(blob_rows.read((hi - lo) * ROW.itemsize), ROW)
                    found_keys, found_rows = _search(stretch[lo:hi], part_rows, query)
                    keys.append(found_keys)
                    rows.append(found_rows)
        if not keys:
            return np.empty(0, np.uint64), np.empty(0, ROW)
        return np.concatenate(keys), np.concatenate(rows)

    def _dead(self) -> np.ndarray:
        return np.fromiter((r for (r,) in self.db.execute("SELECT row FROM dead_rows")), np.int64)

    def holders(self, keys: Sequence[int]) -> dict[int, list[int]]:
        """The rows holding each of ``keys`` (rows sorted; keys no row holds are absent)."""
        query = sorted_unique(np.asarray(keys, dtype=np.uint64))
        lazy = len(query) <= LAZY_KEYS and self._lazy < LAZY_LOOKUPS
        self._lazy += lazy
        found: list[Arrays] = []
        with self._snapshot():
            for run in self._runs(load=not lazy):
                found.append(
                    _search(*self._cache[run], query) if run in self._cache else self._stretch(run, query)
                )
            dead = self._dead()
        if not found:
            return {}
        all_keys, all_rows = np.concatenate([k for k, _ in found]), np.concatenate([r for _, r in found])
        alive = _alive(all_rows, dead)
        all_keys, all_rows = _distinct(all_keys[alive], all_rows[alive])
        out: dict[int, list[int]] = {}
        for key, row in zip(all_keys.tolist(), all_rows.tolist(), strict=True):
            out.setdefault(key, []).append(row)
        return out

    def warm(self) -> None:
        """Every run loaded now (as after :data:`LAZY_LOOKUPS` lookups)."""
        with self._snapshot():
            self._runs()
        self._lazy = LAZY_LOOKUPS

    def keys_of(self, row: int) -> list[int]:
        """Every key ``row`` holds (a scan of the runs: for removing a damaged article)."""
        if row in self._dead():
            return []
        return sorted(
            {k for run in self._runs() for k in self._cache[run][0][self._cache[run][1] == row].tolist()}
        )

    def add(self, keys: np.ndarray, rows: np.ndarray) -> None:
        """A run of ``keys`` (unsigned 64-bit) and their ``rows``, inside the caller's transaction
        (the merges it makes due are :meth:`merge`'s)."""
        if len(keys):
            order = np.argsort(keys)
            self._write(keys.astype(np.uint64)[order], rows.astype(ROW)[order])

    def forget(self, rows: Sequence[int]) -> None:
        """Rows removed from the archive: their keys are dropped from lookups (and from merges)."""
        self.db.executemany("INSERT OR IGNORE INTO dead_rows VALUES (?)", ((r,) for r in rows))

    def _write(self, keys: np.ndarray, rows: np.ndarray) -> None:
        tag = os.urandom(8)
        cursor = self.db.execute(
            "INSERT INTO key_runs (tag, tier, size, keys, rows, fences) VALUES (?, ?, ?, ?, ?, ?)",
            (tag, tier_of(len(keys)), len(keys), keys.data, rows.data, keys[::FENCE].tobytes()),
        )
        if cursor.lastrowid is not None:  # kept, not read back (a rollback leaves it unmatched)
            self._cache[(cursor.lastrowid, tag)] = (keys, rows)

    def due(self) -> list[tuple[int, bytes]]:
        """The runs of the lowest tier holding :data:`FANOUT` runs (whose merge stays under
        :data:`MAX_MERGE_KEYS`), if any."""
        tiers: dict[int, list[tuple[tuple[int, bytes], int]]] = {}
        for run, tag, tier, size in self.db.execute("SELECT run, tag, tier, size FROM key_runs ORDER BY run"):
            tiers.setdefault(tier, []).append(((run, bytes(tag)), size))
        for _, runs in sorted(tiers.items()):
            if len(runs) >= FANOUT and sum(s for _, s in runs) <= MAX_MERGE_KEYS:
                return [run for run, _ in runs]
        return []

    def merge(self) -> bool:
        """The :meth:`due` runs as one, the dead rows' keys left out, inside the caller's
        transaction; whether there were any."""
        due = self.due()
        if not due:
            return False
        arrays = [self._load(run) for run in due]  # (only these: a one-article add reads little)
        keys = np.concatenate([k for k, _ in arrays])
        rows = np.concatenate([r for _, r in arrays])
        dead = self._dead()
        if len(dead):
            alive = _alive(rows, dead)
            keys, rows = keys[alive], rows[alive]
        order = np.argsort(keys)  # (a run's rows of one key need no order: lookups sort them)
        keys, rows = keys[order], rows[order]
        self.db.executemany("DELETE FROM key_runs WHERE run = ?", ((r,) for r, _ in due))
        if len(keys):
            self._write(keys, rows)
        return True


class BackgroundMerges:
    """:meth:`KeyRuns.merge` in a thread with its own connection (from ``connect``), one merge a
    transaction, until none is due; started after each commit, waited for at close. A merge that
    fails (a full disk) loses nothing: its error is raised by :meth:`wait`."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], runs: KeyRuns) -> None:
        self.connect, self.runs = connect, runs
        self.thread: threading.Thread | None = None
        self.error: sqlite3.Error | None = None

    def start(self) -> None:
        if self.thread is not None and self.thread.is_alive():
            return  # (it looks again before it stops)
        if not self.runs.due():
            return
        self.thread = threading.Thread(target=self._work, name="dedup-key-merges", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        try:
            db = self.connect()
        except sqlite3.Error as error:
            self.error = error
            return
        runs = KeyRuns(db, self.runs._cache)
        runs._lock = self.runs._lock
        try:
            while True:
                db.execute("BEGIN IMMEDIATE")
                try:
                    merged = runs.merge()
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                if not merged:
                    return
        except sqlite3.Error as error:
            self.error = error
        finally:
            db.close()

    def check(self) -> None:
        """The error of a merge that failed since the last look, raised (once)."""
        error, self.error = self.error, None
        if error is not None:
            raise error

    def wait(self) -> None:
        """The merge under way finished; :meth:`check`."""
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        self.check()


def _alive(rows: np.ndarray, dead: np.ndarray) -> np.ndarray:
    """Which of ``rows`` are not ``dead`` (a lookup table: ``np.isin`` by sorting goes through
    ``np.unique``, a hash table in numpy 2.3+ and slow here)."""
    if not len(dead) or not len(rows):
        return np.ones(len(rows), bool)
    return ~np.isin(rows, dead, kind="table")


def _search(keys: np.ndarray, rows: np.ndarray, query: np.ndarray) -> Arrays:
    """The ``(key, row)`` pairs of a sorted run (or a stretch of one) whose key is in ``query``."""
    low = np.searchsorted(keys, query, "left")
    hit = np.zeros(len(query), bool)
    inside = low < len(keys)
    hit[inside] = keys[low[inside]] == query[inside]  # (most keys are held by no run: one search)
    starts = low[hit]
    counts = np.searchsorted(keys, query[hit], "right") - starts
    index = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    return keys[index], rows[index]


def _spans(first: np.ndarray, last: np.ndarray) -> list[tuple[int, int]]:
    """The ranges ``[first, last)`` (sorted by start) with overlapping or touching ones joined."""
    spans: list[tuple[int, int]] = []
    for start, stop in zip(first.tolist(), last.tolist(), strict=True):
        if stop <= start:
            continue
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], stop))
        else:
            spans.append((start, stop))
    return spans


def _distinct(keys: np.ndarray, rows: np.ndarray) -> Arrays:
    """The ``(key, row)`` pairs sorted by key, then row, each once."""
    order = np.lexsort((rows, keys))
    keys, rows = keys[order], rows[order]
    if len(keys) > 1:
        first = np.ones(len(keys), bool)
        first[1:] = (keys[1:] != keys[:-1]) | (rows[1:] != rows[:-1])
        keys, rows = keys[first], rows[first]
    return keys, rows

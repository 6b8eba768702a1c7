"""An archive in one SQLite file (WAL mode: one writer at a time, readers alongside)."""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from .base import (
    FORMAT,
    SQLITE_MAGIC,
    Batch,
    Changed,
    Removal,
    StoredArticle,
    check_format,
    pack_texts,
    signed,
    signed_all,
    stored_meanwhile,
    unpack_text,
    unsigned,
    unsigned_all,
)
from .runs import TABLES, BackgroundMerges, KeyRuns

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE articles (
    row INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, digest BLOB NOT NULL,
    leader INTEGER NOT NULL, grp INTEGER NOT NULL, text BLOB NOT NULL, meta TEXT NOT NULL
);
CREATE INDEX articles_digest ON articles (digest) WHERE leader = row;
CREATE INDEX articles_leader ON articles (leader);
CREATE INDEX articles_group ON articles (grp);
CREATE TABLE lines (hash INTEGER PRIMARY KEY, texts INTEGER NOT NULL);
CREATE TABLE reports (key TEXT PRIMARY KEY, report TEXT NOT NULL);
"""
_VECTORS = "CREATE TABLE IF NOT EXISTS vectors (key INTEGER PRIMARY KEY, vector BLOB NOT NULL)"
"""Sentence vectors of the semantic check: made by the first batch that stores one (an archive
of an earlier version has none)."""
CACHE_KIB = 64 * 1024
"""SQLite's page cache (the lookup keys are held as arrays by :class:`~dedup.backends.runs.KeyRuns`)."""
_IN = 900  # values per IN (...) query, under SQLite's variable limit
LEGACY_KEY_TABLES = ("keys", "recent_keys")
"""The lookup keys of an archive made before the runs (one row a key): the first write moves them
into a run, inside its transaction; a reader reads them where they are."""


def _text_and_meta(data: bytes, meta: str) -> tuple[str, str, str]:
    text, damaged = unpack_text(data)
    return text, meta, damaged


def _writable(path: Path) -> bool:
    """Can this process write the archive (its file, and the directory its journal goes to)?"""
    directory = path.parent if str(path.parent) else Path(".")
    return os.access(directory, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def _connect(path: Path) -> sqlite3.Connection:
    """A writing connection (the busy wait long: another writer's batch or merge may take minutes)."""
    db = sqlite3.connect(path, isolation_level=None, timeout=600)
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def _wal_mode(db: sqlite3.Connection, patience: float = 600.0) -> None:
    """Switch the archive to WAL mode. SQLite refuses the switch at once (no busy wait) while
    another connection reads the file, as when two writers create one archive together: retried,
    for as long as a write would wait."""
    waited, pause = 0.0, 0.001
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or waited >= patience:
                raise
        time.sleep(pause)
        waited, pause = waited + pause, min(pause * 2, 0.1)


def _failure(error: sqlite3.Error, where: str) -> InputError:
    """The cause of a failed write, in one line."""
    text = str(error)
    if "full" in text:
        return InputError(f"{where}: the disk is full: nothing of this batch was stored ({text})")
    if "readonly" in text or "read-only" in text:
        return InputError(f"{where}: the archive is read-only: nothing of this batch was stored ({text})")
    if "locked" in text or "busy" in text:
        return InputError(f"{where}: another program holds the archive locked ({text}); try again")
    return InputError(f"{where}: the archive could not be used: {text}")


def _one_line_errors(cls: type) -> type:
    """Every public method of ``cls`` raises :class:`InputError` for a failing file (damaged,
    full, read-only), never SQLite's own exceptions."""

    def wrap(method: Any) -> Any:
        @functools.wraps(method)
        def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except sqlite3.OperationalError as error:
                raise _failure(error, self.location) from None
            except sqlite3.DatabaseError as error:
                raise InputError(f"{self.location}: the archive file is damaged ({error}); "
                                 "dedup index check ARCHIVE says more") from None  # fmt: skip

        return wrapped

    for name, member in list(vars(cls).items()):
        if callable(member) and not name.startswith("_"):
            setattr(cls, name, wrap(member))
    return cls


@_one_line_errors
class SQLiteBackend:
    """An archive in one SQLite file (WAL mode: one writer, readers alongside)."""

    def __init__(self, path: Path, *, create: bool) -> None:
        self.location = str(path)
        self._legacy: list[str] | None = None
        if path.is_dir():
            raise InputError(f"{path}: is a directory, not an archive")
        exists = path.exists() and path.stat().st_size > 0
        if exists:
            with path.open("rb") as handle:
                if handle.read(16) != SQLITE_MAGIC:
                    raise InputError(f"{path}: not a dedup archive (not an SQLite file)")
        elif not create:
            raise InputError(f"{path}: no such archive (dedup index add creates one)")
        elif not path.parent.is_dir():
            raise InputError(f"{path}: cannot create the archive: no directory {str(path.parent)!r}")
        if create and not _writable(path):  # a writer: refused before any work
            raise InputError(
                f"{path}: the archive is read-only here (file or directory not writable): cannot add"
            )
        try:
            if not create and not _writable(path):  # a reader of a read-only archive: nothing changes it
                self.db = sqlite3.connect(
                    f"{path.resolve().as_uri()}?immutable=1", uri=True, isolation_level=None
                )
            else:
                self.db = _connect(path)
            if exists:  # look before changing anything (WAL mode rewrites the header)
                tables = self._tables()
                # no tables at all: an archive whose creation was cut short (or is under way)
                if tables and not ({"meta", "articles", "lines", "reports"} <= tables
                               and tables & {"keys", "key_runs"}):  # fmt: skip
                    self.db.close()
                    raise InputError(f"{path}: not a dedup archive (an SQLite file of another program)")
                if not tables and not create:
                    self.db.close()
                    raise InputError(f"{path}: no such archive (dedup index add creates one)")
            if _writable(path):
                _wal_mode(self.db)
            self.db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self._check_format()
            self.runs = KeyRuns(self.db)
            self.merges = BackgroundMerges(lambda: _connect(path), self.runs)
        except sqlite3.DatabaseError as error:
            raise InputError(f"{path}: not a readable archive: {error}") from None

    def _tables(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}

    def _upgrade(self) -> None:
        """Before a write, inside its transaction: the lookup keys of an archive made before the
        runs (one row a key) moved into a run, their tables dropped."""
        self._legacy = None
        old = self._legacy_tables()
        if not old:
            return
        for statement in TABLES.split(";"):
            if statement.strip():
                self.db.execute(statement)
        found = self.db.execute(" UNION ALL ".join(f"SELECT key, row FROM {t}" for t in old)).fetchall()
        keys = np.array([k for k, _ in found], np.int64).view(np.uint64)
        self.runs.add(keys, np.array([r for _, r in found], np.int64))
        for table in old:
            self.db.execute(f"DROP TABLE {table}")
        self._legacy = []

    def _check_format(self) -> None:
        if "meta" not in self._tables():
            return
        row = self.db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        check_format(row[0] if row else None, self.location)

    def settings(self) -> dict[str, Any] | None:
        if not self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone():
            return None
        row = self.db.execute("SELECT value FROM meta WHERE key = 'settings'").fetchone()
        return json.loads(row[0]) if row else None

    def create(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Make the archive, unless another writer made it first: the settings it holds."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if "meta" not in self._tables():
                for statement in (_SCHEMA + TABLES).split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute("INSERT INTO meta VALUES ('settings', ?), ('format', ?)",
                                (json.dumps(settings, sort_keys=True), FORMAT))  # fmt: skip
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        self._check_format()
        stored = self.settings()
        if stored is None:
            raise InputError(f"{self.location}: not a dedup archive (no settings stored)")
        return stored

    def _next_row_and_group(self) -> tuple[int, int]:
        """The next row and group numbers: never one a removed article had (its keys may linger
        in a run until a merge drops them)."""
        row = self.db.execute(
            "SELECT COALESCE(MAX(row), -1) + 1, COALESCE(MAX(grp), -1) + 1 FROM articles"
        ).fetchone()
        stored = dict(self.db.execute("SELECT key, value FROM meta WHERE key IN ('next_row', 'next_group')"))
        return max(int(row[0]), int(stored.get("next_row", 0))), max(
            int(row[1]), int(stored.get("next_group", 0))
        )

    def _in(self, query: str, values: Sequence[Any]) -> Iterable[tuple[Any, ...]]:
        """``query`` with ``{0}`` (each time it appears) standing for a chunk of ``values``."""
        for start in range(0, len(values), _IN):
            part = values[start : start + _IN]
            yield from self.db.execute(query.format(",".join(f"?{k + 1}" for k in range(len(part)))), part)

    def rows_of_ids(self, ids: Sequence[str]) -> dict[str, tuple[int, bytes]]:
        return {
            i: (r, d) for i, r, d in self._in("SELECT id, row, digest FROM articles WHERE id IN ({})", ids)
        }

    def leaders_of_digests(self, digests: Sequence[bytes]) -> dict[bytes, int]:
        query = "SELECT digest, row FROM articles WHERE leader = row AND digest IN ({})"
        return {bytes(d): r for d, r in self._in(query, digests)}

    def holders(self, keys: Sequence[int]) -> dict[int, list[int]]:
        if not self._legacy_tables():
            return self.runs.holders(keys)
        query = " UNION ALL ".join(
            f"SELECT key, row FROM {t} WHERE key IN ({{0}})" for t in self._legacy_tables()
        )
        found = list(self._in(query, signed_all(keys)))
        out: dict[int, list[int]] = {}
        for key, (_, row) in zip(unsigned_all([k for k, _ in found]), found, strict=True):
            out.setdefault(key, []).append(row)
        for rows in out.values():
            rows.sort()
        return out

    def line_counts(self, hashes: Sequence[int]) -> dict[int, int]:
        found = list(self._in("SELECT hash, texts FROM lines WHERE hash IN ({})", signed_all(hashes)))
        return dict(zip(unsigned_all([h for h, _ in found]), [n for _, n in found], strict=True))

    def vectors(self, keys: Sequence[int]) -> dict[int, bytes]:
        if "vectors" not in self._tables():
            return {}
        found = list(self._in("SELECT key, vector FROM vectors WHERE key IN ({})", signed_all(keys)))
        return dict(zip(unsigned_all([k for k, _ in found]), [bytes(v) for _, v in found], strict=True))

    def articles(self, rows: Sequence[int]) -> list[StoredArticle]:
        query = "SELECT row, id, digest, leader, grp, text, meta FROM articles WHERE row IN ({})"
        found = {r[0]: r for r in self._in(query, list(rows))}
        return [
            StoredArticle(r, i, bytes(d), lead, g, *_text_and_meta(t, m))
            for r, i, d, lead, g, t, m in (found[x] for x in rows)
        ]

    def rows(self) -> list[int]:
        return [r for (r,) in self.db.execute("SELECT row FROM articles ORDER BY row")]

    def keys_of(self, row: int) -> list[int]:
        if not self._legacy_tables():
            return self.runs.keys_of(row)
        query = " UNION ALL ".join(f"SELECT key FROM {t} WHERE row = ?1" for t in self._legacy_tables())
        return sorted(unsigned(k) for (k,) in self.db.execute(query, (row,)))

    def _legacy_tables(self) -> list[str]:
        """The key tables of an archive made before the runs, read where it is not upgraded (a reader)."""
        if self._legacy is None:
            self._legacy = [t for t in LEGACY_KEY_TABLES if t in self._tables()]
        return self._legacy

    def pending_reports(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, report FROM reports"))

    def forget_reports(self, keys: Sequence[str]) -> None:
        self.db.executemany("DELETE FROM reports WHERE key = ?", ((k,) for k in keys))

    def integrity(self) -> list[str]:
        problems = [r[0] for r in self.db.execute("PRAGMA quick_check")]
        return [] if problems == ["ok"] else problems

    def group_sizes(self, groups: Sequence[int]) -> dict[int, int]:
        return dict(
            self._in(
                "SELECT grp, COUNT(*) FROM articles WHERE leader = row AND grp IN ({}) GROUP BY grp",
                list(groups),
            )
        )

    def group_members(self, groups: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
        out: dict[int, list[tuple[int, str]]] = {}
        for group, row, article in self._in(
            "SELECT grp, row, id FROM articles WHERE grp IN ({}) ORDER BY row", list(groups)
        ):
            out.setdefault(group, []).append((row, article))
        return out

    def copies_of(self, leader: int) -> list[int]:
        query = "SELECT row FROM articles WHERE leader = ? AND row != ? ORDER BY row"
        return [r for (r,) in self.db.execute(query, (leader, leader))]

    def version(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        return int(row[0]) if row else 0

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """The write lock held from here (``BEGIN IMMEDIATE``): other writers wait; readers read."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            if self.db.in_transaction:  # not committed (a query, an error): nothing written
                self.db.execute("ROLLBACK")

    def commit(self, batch: Batch) -> tuple[int, int]:
        db = self.db
        texts = pack_texts([a.text for a in batch.articles])  # (before the write lock, if not held)
        if not db.in_transaction:  # (under exclusive() the lock is held already)
            db.execute("BEGIN IMMEDIATE")  # the write lock first: the numbers read next are ours
        try:
            self.merges.check()  # (a merge that failed since: its cause, before this batch's work)
            if batch.based_on is not None and self.version() != batch.based_on:
                raise Changed
            self._upgrade()
            if batch.removal is not None:  # --replace: the old articles go in the same transaction
                self._forget(batch.removal)
            first_row, first_group = self._next_row_and_group()
            articles, key_rows = batch.numbered(first_row, first_group)
            try:
                db.executemany(
                    "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        (a.row, a.id, a.digest, a.leader, a.group, t, a.meta)
                        for a, t in zip(articles, texts, strict=True)
                    ),
                )
            except sqlite3.IntegrityError:
                taken = self.rows_of_ids([a.id for a in articles])
                raise InputError(stored_meanwhile(self, list(taken))) from None
            self.runs.add(batch.keys[0], key_rows)
            db.executemany(
                "INSERT INTO lines VALUES (?, ?) ON CONFLICT (hash) DO UPDATE SET texts = texts + excluded.texts",
                zip(signed_all(list(batch.lines)), batch.lines.values(), strict=True),
            )
            if batch.vectors:
                db.execute(_VECTORS)
                db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?)",
                               zip(signed_all(list(batch.vectors)), batch.vectors.values(), strict=True))  # fmt: skip
            db.executemany(
                "UPDATE articles SET grp = ? WHERE grp = ?", ((t, g) for g, t in batch.merged.items())
            )
            next_group = first_group + batch.new_groups
            db.execute("INSERT OR REPLACE INTO meta VALUES ('next_group', ?), ('next_row', ?)",
                       (str(next_group), str(first_row + len(articles))))  # fmt: skip
            db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (str(self.version() + 1),))
            if batch.report is not None:
                db.execute("INSERT OR REPLACE INTO reports VALUES (?, ?)", batch.report)
            db.execute("COMMIT")
            self.merges.start()
        except BaseException as error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            self._legacy = None  # (an upgrade rolled back with it)
            if isinstance(error, sqlite3.OperationalError):
                raise _failure(error, self.location) from None
            raise
        return first_row, first_group

    def remove(self, removal: Removal) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            self._upgrade()
            self._forget(removal)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (str(self.version() + 1),))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            self._legacy = None
            raise
        self.merges.start()

    def _forget(self, removal: Removal) -> None:
        """The statements of a removal, inside the caller's transaction."""
        db = self.db
        db.executemany("DELETE FROM articles WHERE row = ?", ((r,) for r in removal.rows))
        if removal.rows:  # (the next row stays past them: their keys are dropped at a merge)
            next_row, _ = self._next_row_and_group()
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('next_row', ?)",
                (str(max(next_row, max(removal.rows) + 1)),),
            )
        self.runs.forget(removal.rows)  # (every key dropped is a removed row's: only leaders hold keys)
        self.runs.add(np.array([k for k, _ in removal.new_keys], np.uint64),
                      np.array([r for _, r in removal.new_keys], np.int64))  # fmt: skip
        db.executemany("UPDATE lines SET texts = texts - ? WHERE hash = ?",
                       ((n, signed(h)) for h, n in removal.lines.items()))  # fmt: skip
        db.execute("DELETE FROM lines WHERE texts <= 0")
        for old, new in removal.promote.items():  # a removed leader's first copy leads its copies now
            db.execute("UPDATE articles SET leader = ? WHERE leader = ?", (new, old))

    def warm(self) -> None:
        if not self._legacy_tables():
            self.runs.warm()

    def stats(self) -> dict[str, Any]:
        articles = self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        groups = self.db.execute(  # story groups as reports count them: two articles or more
            "SELECT COUNT(*) FROM (SELECT grp FROM articles GROUP BY grp HAVING COUNT(*) > 1)"
        ).fetchone()[0]
        distinct = self.db.execute("SELECT COUNT(*) FROM articles WHERE leader = row").fetchone()[0]
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = sum(p.stat().st_size for p in Path(self.location).parent.glob(Path(self.location).name + "*"))
        return {"articles": articles, "distinct_texts": distinct, "groups": groups, "size_bytes": size,
                "backend": "sqlite"}  # fmt: skip

    def close(self) -> None:
        """Closed, after the key merge under way (if any) ends."""
        try:
            self.merges.wait()
        finally:
            self.db.close()

"""Where an archive keeps its articles: an SQLite file (embedded, the default) or a Redis server.

Both hold the same things, behind the same methods (:class:`Backend`):

- the archive's settings (fixed at creation);
- per article: its id (as JSON, so ``5`` and ``"5"`` stay apart), row number, digest of its words,
  the row of the exact copy it belongs to (its *leader*; itself for a distinct text), its story
  group and its text, zlib-compressed (for alignment, and to recompute its sketch);
- the lookup keys of each distinct text — its LSH band values, sentence anchors and passages, as
  64-bit keys (:func:`dedup.archive.lookup_keys`) — each with the rows holding it;
- how many distinct stored texts carry each line (the boilerplate statistics).

A batch of articles is written in one transaction (SQLite: WAL mode, one ``BEGIN IMMEDIATE`` ...
``COMMIT``; Redis: ``WATCH`` on the archive's header, then one ``MULTI``/``EXEC``), so a crash
leaves whole batches only. Row and group numbers are allocated *inside* that transaction (a
:class:`Batch` numbers its articles and new groups from 0), so two writers at once never take the
same numbers: SQLite serializes them, Redis retries the one whose header changed meanwhile.

Backends hold data; the logic (which groups merge, which copy leads when a leader is removed)
lives once above them, in :mod:`dedup.archive`. :class:`MemoryBackend` keeps an archive in
dictionaries: the test double every contract test runs beside the real ones.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .errors import ConfigError, InputError

FORMAT = "dedup-archive/2"
"""2: each article's metadata (title, url, outlet...) is stored with it, as JSON."""
SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass
class NewArticle:
    """An article of a :class:`Batch`: its row is its position in the batch."""

    id: str
    """The id as JSON."""
    digest: bytes
    leader: int
    """Its leader: a position in the batch (``leader_is_new``) or a stored row."""
    leader_is_new: bool
    group: int
    """Its group: a new group's number in the batch (``group_is_new``) or a stored group."""
    group_is_new: bool
    text: str
    meta: str = "{}"
    """Its metadata as JSON."""

    def stored(self, first_row: int, first_group: int, position: int) -> StoredArticle:
        """This article as stored, numbered from the archive's next row and group."""
        return StoredArticle(
            first_row + position, self.id, self.digest, first_row + self.leader if self.leader_is_new else self.leader,
            first_group + self.group if self.group_is_new else self.group, self.text, self.meta,
        )  # fmt: skip


@dataclass
class StoredArticle:
    row: int
    id: str
    """The id as JSON."""
    digest: bytes
    leader: int
    group: int
    text: str
    meta: str = "{}"
    """Its metadata as JSON."""


@dataclass
class Batch:
    """What one ``add`` writes: new articles, their keys and line counts, group changes. Rows and
    new groups are numbered from 0; the backend adds its next numbers inside the transaction."""

    articles: list[NewArticle] = field(default_factory=list)
    keys: tuple[np.ndarray, np.ndarray] = (np.empty(0, np.uint64), np.empty(0, np.int64))
    """The lookup keys of each distinct new text, and its position in the batch."""
    lines: dict[int, int] = field(default_factory=dict)
    """line hash → distinct new texts carrying it."""
    merged: dict[int, int] = field(default_factory=dict)
    """stored group → the stored group it joins."""
    new_groups: int = 0

    def numbered(self, first_row: int, first_group: int) -> tuple[list[StoredArticle], np.ndarray]:
        """The articles as stored and the keys' rows, from the archive's next row and group."""
        articles = [a.stored(first_row, first_group, k) for k, a in enumerate(self.articles)]
        return articles, self.keys[1] + first_row


class Backend(Protocol):
    """What :class:`dedup.Index` needs of a store."""

    location: str

    def settings(self) -> dict[str, Any] | None: ...
    def create(self, settings: dict[str, Any]) -> dict[str, Any]: ...
    def rows_of_ids(self, ids: Sequence[str]) -> dict[str, tuple[int, bytes]]: ...
    def leaders_of_digests(self, digests: Sequence[bytes]) -> dict[bytes, int]: ...
    def holders(self, keys: Sequence[int]) -> dict[int, list[int]]: ...
    def line_counts(self, hashes: Sequence[int]) -> dict[int, int]: ...
    def articles(self, rows: Sequence[int]) -> list[StoredArticle]: ...
    def group_sizes(self, groups: Sequence[int]) -> dict[int, int]:
        """How many distinct texts each group holds (exact copies counted once, as the majority
        rule counts them)."""

    def group_members(self, groups: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
        """The members (row, id as JSON) of each of these groups that has any, oldest first."""

    def copies_of(self, leader: int) -> list[int]: ...
    def commit(self, batch: Batch) -> tuple[int, int]:
        """Write ``batch`` in one transaction; the first row and group number it was given."""

    def remove(self, rows: Sequence[int], keys: Sequence[tuple[int, int]], new_keys: Sequence[tuple[int, int]],
               lines: dict[int, int], promote: dict[int, int]) -> None: ...  # fmt: skip
    def stats(self) -> dict[str, Any]: ...
    def close(self) -> None: ...


def signed(value: int) -> int:
    """A 64-bit unsigned hash as the signed integer SQLite stores."""
    return value - (1 << 64) if value >= 1 << 63 else value


def unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def pack_text(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8"), 6)


def unpack_text(data: bytes) -> str:
    return zlib.decompress(data).decode("utf-8")


def check_format(value: str | None, where: str) -> None:
    """Refuse an archive another version of dedup wrote in another format."""
    if value != FORMAT:
        raise InputError(f"{where}: an archive in format {value!r}, which this version of dedup "
                         f"cannot read (it reads {FORMAT!r})")  # fmt: skip


def _stored_meanwhile(backend: Backend, ids: Sequence[str]) -> str:
    return (f"{backend.location}: article {json.loads(ids[0])!r} was stored by another writer while this batch "
            "was compared; nothing of the batch was stored: add it again to pass over the stored ones")  # fmt: skip


def open_backend(location: str, *, create: bool) -> Backend:
    """The backend at ``location``: ``redis://host:port/db`` or an SQLite file path."""
    if location.startswith(("redis://", "rediss://", "unix://")):
        return RedisBackend(location)
    if location == ":memory:":
        return MemoryBackend()
    return SQLiteBackend(Path(location), create=create)


_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE articles (
    row INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, digest BLOB NOT NULL,
    leader INTEGER NOT NULL, grp INTEGER NOT NULL, text BLOB NOT NULL, meta TEXT NOT NULL
);
CREATE INDEX articles_digest ON articles (digest) WHERE leader = row;
CREATE INDEX articles_leader ON articles (leader);
CREATE INDEX articles_group ON articles (grp);
CREATE TABLE keys (key INTEGER NOT NULL, row INTEGER NOT NULL, PRIMARY KEY (key, row)) WITHOUT ROWID;
CREATE TABLE lines (hash INTEGER PRIMARY KEY, texts INTEGER NOT NULL);
"""
CACHE_KIB = 256 * 1024
"""SQLite's page cache: the key index of a million articles is about 2 GB, and a batch's lookups and
inserts touch pages all over it."""
_IN = 900  # values per IN (...) query, under SQLite's variable limit


class SQLiteBackend:
    """An archive in one SQLite file (WAL mode: one writer, readers alongside)."""

    def __init__(self, path: Path, *, create: bool) -> None:
        self.location = str(path)
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
        try:
            self.db = sqlite3.connect(path, isolation_level=None, timeout=60)
            if exists:  # look before changing anything (WAL mode rewrites the header)
                tables = self._tables()
                # no tables at all: an archive whose creation was cut short (or is under way)
                if tables and not {"meta", "articles", "keys", "lines"} <= tables:
                    self.db.close()
                    raise InputError(f"{path}: not a dedup archive (an SQLite file of another program)")
                if not tables and not create:
                    self.db.close()
                    raise InputError(f"{path}: no such archive (dedup index add creates one)")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self._check_format()
        except sqlite3.DatabaseError as error:
            raise InputError(f"{path}: not a readable archive: {error}") from None

    def _tables(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}

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
                for statement in _SCHEMA.split(";"):
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
        row = self.db.execute(
            "SELECT COALESCE(MAX(row), -1) + 1, COALESCE(MAX(grp), -1) + 1 FROM articles"
        ).fetchone()
        stored = self.db.execute("SELECT value FROM meta WHERE key = 'next_group'").fetchone()
        return int(row[0]), max(int(row[1]), int(stored[0]) if stored else 0)

    def _in(self, query: str, values: Sequence[Any]) -> Iterable[tuple[Any, ...]]:
        for start in range(0, len(values), _IN):
            part = values[start : start + _IN]
            yield from self.db.execute(query.format(",".join("?" * len(part))), part)

    def rows_of_ids(self, ids: Sequence[str]) -> dict[str, tuple[int, bytes]]:
        return {
            i: (r, d) for i, r, d in self._in("SELECT id, row, digest FROM articles WHERE id IN ({})", ids)
        }

    def leaders_of_digests(self, digests: Sequence[bytes]) -> dict[bytes, int]:
        query = "SELECT digest, row FROM articles WHERE leader = row AND digest IN ({})"
        return {bytes(d): r for d, r in self._in(query, digests)}

    def holders(self, keys: Sequence[int]) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for key, row in self._in("SELECT key, row FROM keys WHERE key IN ({})", [signed(k) for k in keys]):
            out.setdefault(unsigned(key), []).append(row)
        return out

    def line_counts(self, hashes: Sequence[int]) -> dict[int, int]:
        query = "SELECT hash, texts FROM lines WHERE hash IN ({})"
        return {unsigned(h): n for h, n in self._in(query, [signed(h) for h in hashes])}

    def articles(self, rows: Sequence[int]) -> list[StoredArticle]:
        query = "SELECT row, id, digest, leader, grp, text, meta FROM articles WHERE row IN ({})"
        found = {r[0]: r for r in self._in(query, list(rows))}
        return [
            StoredArticle(r, i, bytes(d), lead, g, unpack_text(t), m)
            for r, i, d, lead, g, t, m in (found[x] for x in rows)
        ]

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

    def commit(self, batch: Batch) -> tuple[int, int]:
        db = self.db
        db.execute("BEGIN IMMEDIATE")  # the write lock first: the numbers read next are ours
        try:
            first_row, first_group = self._next_row_and_group()
            articles, key_rows = batch.numbered(first_row, first_group)
            try:
                db.executemany(
                    "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?)",
                    ((a.row, a.id, a.digest, a.leader, a.group, pack_text(a.text), a.meta) for a in articles),
                )
            except sqlite3.IntegrityError:
                taken = self.rows_of_ids([a.id for a in articles])
                raise InputError(_stored_meanwhile(self, list(taken))) from None
            # in key order: the B-tree is filled page by page, not at random (several times faster)
            keys = batch.keys[0].view(np.int64)
            order = np.lexsort((key_rows, keys))
            db.executemany(
                "INSERT INTO keys VALUES (?, ?)",
                zip(keys[order].tolist(), key_rows[order].tolist(), strict=True),
            )
            db.executemany(
                "INSERT INTO lines VALUES (?, ?) ON CONFLICT (hash) DO UPDATE SET texts = texts + excluded.texts",
                ((signed(h), n) for h, n in batch.lines.items()),
            )
            db.executemany(
                "UPDATE articles SET grp = ? WHERE grp = ?", ((t, g) for g, t in batch.merged.items())
            )
            next_group = first_group + batch.new_groups
            db.execute("INSERT OR REPLACE INTO meta VALUES ('next_group', ?)", (str(next_group),))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return first_row, first_group

    def remove(self, rows: Sequence[int], keys: Sequence[tuple[int, int]], new_keys: Sequence[tuple[int, int]],
               lines: dict[int, int], promote: dict[int, int]) -> None:  # fmt: skip
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("DELETE FROM articles WHERE row = ?", ((r,) for r in rows))
            db.executemany("DELETE FROM keys WHERE key = ? AND row = ?", ((signed(k), r) for k, r in keys))
            db.executemany("INSERT INTO keys VALUES (?, ?)", ((signed(k), r) for k, r in new_keys))
            db.executemany(
                "UPDATE lines SET texts = texts - ? WHERE hash = ?",
                ((n, signed(h)) for h, n in lines.items()),
            )
            db.execute("DELETE FROM lines WHERE texts <= 0")
            for old, new in promote.items():  # a removed leader's first copy leads its copies now
                db.execute("UPDATE articles SET leader = ? WHERE leader = ?", (new, old))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def stats(self) -> dict[str, Any]:
        articles, groups = self.db.execute("SELECT COUNT(*), COUNT(DISTINCT grp) FROM articles").fetchone()
        distinct = self.db.execute("SELECT COUNT(*) FROM articles WHERE leader = row").fetchone()[0]
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = sum(p.stat().st_size for p in Path(self.location).parent.glob(Path(self.location).name + "*"))
        return {"articles": articles, "distinct_texts": distinct, "groups": groups, "size_bytes": size,
                "backend": "sqlite"}  # fmt: skip

    def close(self) -> None:
        self.db.close()


class RedisBackend:
    """An archive on a Redis server, under keys starting ``dedup:`` in the URL's database.

    Each batch is one ``MULTI``/``EXEC`` transaction: the server applies it whole or not at all;
    what survives a server crash is what its persistence (RDB snapshots, AOF) kept.
    """

    def __init__(self, url: str) -> None:
        self.location = url
        try:
            import redis
        except ImportError:
            raise ConfigError(
                "a Redis archive needs the redis client: pip install 'newsdedup[redis]'"
            ) from None
        self._errors = (redis.RedisError, OSError)
        try:
            self.r = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=60)
            self.r.ping()
        except ValueError as error:
            raise InputError(f"{url}: not a Redis URL: {error}") from None
        except self._errors as error:
            raise InputError(f"{url}: Redis does not answer: {error}") from None
        self.p = "dedup:"
        self._check_format()

    def _do(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except self._errors as error:
            raise InputError(f"{self.location}: Redis failed: {error}") from None

    def settings(self) -> dict[str, Any] | None:
        value = self._do(self.r.hget, self.p + "meta", "settings")
        return json.loads(value) if value else None

    def create(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Make the archive, unless another writer made it first: the settings it holds."""
        meta = self.p + "meta"
        self._do(self.r.hsetnx, meta, "format", FORMAT)
        self._do(self.r.hsetnx, meta, "settings", json.dumps(settings, sort_keys=True))
        self._check_format()
        stored = self.settings()
        if stored is None:
            raise InputError(f"{self.location}: not a dedup archive (no settings stored)")
        return stored

    def _check_format(self) -> None:
        if self._do(self.r.exists, self.p + "meta"):
            value = self._do(self.r.hget, self.p + "meta", "format")
            check_format(value.decode() if isinstance(value, bytes) else value, self.location)

    def rows_of_ids(self, ids: Sequence[str]) -> dict[str, tuple[int, bytes]]:
        if not ids:
            return {}
        rows = self._do(self.r.hmget, self.p + "ids", list(ids))
        found = {i: int(r) for i, r in zip(ids, rows, strict=True) if r is not None}
        digests = self._pipeline_get([f"{self.p}a:{r}" for r in found.values()], "digest")
        return {i: (r, d) for (i, r), d in zip(found.items(), digests, strict=True)}

    def _pipeline_get(self, keys: Sequence[str], name: str) -> list[Any]:
        pipe = self.r.pipeline(transaction=False)
        for key in keys:
            pipe.hget(key, name)
        return self._do(pipe.execute)

    def leaders_of_digests(self, digests: Sequence[bytes]) -> dict[bytes, int]:
        if not digests:
            return {}
        rows = self._do(self.r.hmget, self.p + "digests", list(digests))
        return {d: int(r) for d, r in zip(digests, rows, strict=True) if r is not None}

    def holders(self, keys: Sequence[int]) -> dict[int, list[int]]:
        pipe = self.r.pipeline(transaction=False)
        for key in keys:
            pipe.smembers(f"{self.p}k:{key}")
        found = self._do(pipe.execute)
        return {k: sorted(int(r) for r in rows) for k, rows in zip(keys, found, strict=True) if rows}

    def line_counts(self, hashes: Sequence[int]) -> dict[int, int]:
        if not hashes:
            return {}
        counts = self._do(self.r.hmget, self.p + "lines", [str(h) for h in hashes])
        return {h: int(n) for h, n in zip(hashes, counts, strict=True) if n is not None}

    def articles(self, rows: Sequence[int]) -> list[StoredArticle]:
        pipe = self.r.pipeline(transaction=False)
        for row in rows:
            pipe.hgetall(f"{self.p}a:{row}")
        out = []
        for row, data in zip(rows, self._do(pipe.execute), strict=True):
            out.append(StoredArticle(row, data[b"id"].decode(), data[b"digest"], int(data[b"leader"]),
                                     int(data[b"group"]), unpack_text(data[b"text"]),
                                     data.get(b"meta", b"{}").decode()))  # fmt: skip
        return out

    def group_sizes(self, groups: Sequence[int]) -> dict[int, int]:
        members = self.group_members(groups)
        rows = [r for m in members.values() for r, _ in m]
        leaders = dict(zip(rows, self._pipeline_get([f"{self.p}a:{r}" for r in rows], "leader"), strict=True))
        sizes = {g: sum(1 for r, _ in m if int(leaders[r]) == r) for g, m in members.items()}
        return {g: n for g, n in sizes.items() if n}

    def group_members(self, groups: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
        pipe = self.r.pipeline(transaction=False)
        for group in groups:
            pipe.smembers(f"{self.p}g:{group}")
        out = {}
        for group, rows in zip(groups, self._do(pipe.execute), strict=True):
            if not rows:
                continue
            ordered = sorted(int(r) for r in rows)
            ids = self._pipeline_get([f"{self.p}a:{r}" for r in ordered], "id")
            out[group] = [(r, i.decode()) for r, i in zip(ordered, ids, strict=True)]
        return out

    def copies_of(self, leader: int) -> list[int]:
        return sorted(int(r) for r in self._do(self.r.smembers, f"{self.p}c:{leader}") if int(r) != leader)

    def commit(self, batch: Batch) -> tuple[int, int]:
        import redis

        while True:  # WATCH the header: another writer's commit changes it, and we start again
            with self.r.pipeline(transaction=True) as pipe:
                try:
                    return self._commit(pipe, batch)
                except redis.WatchError:
                    continue
                except self._errors as error:
                    raise InputError(f"{self.location}: Redis failed: {error}") from None

    def _commit(self, pipe: Any, batch: Batch) -> tuple[int, int]:
        p = self.p
        pipe.watch(p + "meta")
        row, group = pipe.hmget(p + "meta", ["next_row", "next_group"])
        first_row, first_group = int(row or 0), int(group or 0)
        articles, key_rows = batch.numbered(first_row, first_group)
        names = [a.id for a in articles]
        taken = [
            i
            for i, r in zip(names, pipe.hmget(p + "ids", names) if names else [], strict=True)
            if r is not None
        ]
        if taken:
            raise InputError(_stored_meanwhile(self, taken))
        merged = {g: [int(r) for r in pipe.smembers(f"{p}g:{g}")] for g in batch.merged}
        pipe.multi()
        for a in articles:
            pipe.hset(f"{p}a:{a.row}", mapping={"id": a.id, "digest": a.digest, "leader": a.leader,
                                                "group": a.group, "text": pack_text(a.text), "meta": a.meta})  # fmt: skip
            pipe.hset(p + "ids", a.id, a.row)
            pipe.sadd(f"{p}g:{a.group}", a.row)
            pipe.sadd(f"{p}c:{a.leader}", a.row)
            if a.leader == a.row:
                pipe.hset(p + "digests", a.digest, a.row)
        for key, key_row in zip(batch.keys[0].tolist(), key_rows.tolist(), strict=True):
            pipe.sadd(f"{p}k:{key}", key_row)
        for line, count in batch.lines.items():
            pipe.hincrby(p + "lines", str(line), count)
        for group, into in batch.merged.items():
            for member in merged[group]:
                pipe.hset(f"{p}a:{member}", "group", into)
            if merged[group]:
                pipe.sadd(f"{p}g:{into}", *merged[group])
            pipe.delete(f"{p}g:{group}")
        pipe.hset(p + "meta", mapping={"next_row": first_row + len(articles),
                                       "next_group": first_group + batch.new_groups})  # fmt: skip
        pipe.execute()
        return first_row, first_group

    def remove(self, rows: Sequence[int], keys: Sequence[tuple[int, int]], new_keys: Sequence[tuple[int, int]],
               lines: dict[int, int], promote: dict[int, int]) -> None:  # fmt: skip
        p = self.p
        stored = self.articles(rows)
        pipe = self.r.pipeline(transaction=True)
        for a in stored:
            pipe.delete(f"{p}a:{a.row}")
            pipe.hdel(p + "ids", a.id)
            pipe.srem(f"{p}g:{a.group}", a.row)
            pipe.srem(f"{p}c:{a.leader}", a.row)
            if a.leader == a.row:
                pipe.hdel(p + "digests", a.digest)
        for key, row in keys:
            pipe.srem(f"{p}k:{key}", row)
        for key, row in new_keys:
            pipe.sadd(f"{p}k:{key}", row)
        for line, count in lines.items():
            pipe.hincrby(p + "lines", str(line), -count)
        pipe.hincrby(p + "meta", "changes", 1)  # a writer WATCHing the header starts again
        for old, new in promote.items():
            copies = [int(r) for r in self._do(self.r.smembers, f"{p}c:{old}") if int(r) != old]
            for row in copies:
                pipe.hset(f"{p}a:{row}", "leader", new)
            if copies:
                pipe.sadd(f"{p}c:{new}", *copies)
            pipe.delete(f"{p}c:{old}")
            digest = next(a.digest for a in stored if a.row == old)
            pipe.hset(p + "digests", digest, new)
        self._do(pipe.execute)

    def stats(self) -> dict[str, Any]:
        articles = self._do(self.r.hlen, self.p + "ids")
        distinct = self._do(self.r.hlen, self.p + "digests")
        groups = len(list(self.r.scan_iter(match=self.p + "g:*", count=10000)))
        memory = int(self._do(self.r.info, "memory").get("used_memory", 0))
        return {"articles": articles, "distinct_texts": distinct, "groups": groups, "size_bytes": memory,
                "backend": "redis"}  # fmt: skip

    def close(self) -> None:
        self.r.close()


class MemoryBackend:
    """An archive in dictionaries, gone when closed (``Index(":memory:")``): the test double the
    contract tests run beside SQLite and Redis, and a scratch archive for one process."""

    def __init__(self) -> None:
        self.location = ":memory:"
        self._settings: dict[str, Any] | None = None
        self._articles: dict[int, StoredArticle] = {}
        self._ids: dict[str, int] = {}
        self._keys: dict[int, set[int]] = {}
        self._lines: dict[int, int] = {}
        self._next = (0, 0)

    def settings(self) -> dict[str, Any] | None:
        return self._settings

    def create(self, settings: dict[str, Any]) -> dict[str, Any]:
        self._settings = self._settings or json.loads(json.dumps(settings, sort_keys=True))
        return self._settings

    def rows_of_ids(self, ids: Sequence[str]) -> dict[str, tuple[int, bytes]]:
        return {i: (self._ids[i], self._articles[self._ids[i]].digest) for i in ids if i in self._ids}

    def leaders_of_digests(self, digests: Sequence[bytes]) -> dict[bytes, int]:
        wanted = set(digests)
        return {a.digest: a.row for a in sorted(self._articles.values(), key=lambda a: -a.row)
                if a.leader == a.row and a.digest in wanted}  # fmt: skip

    def holders(self, keys: Sequence[int]) -> dict[int, list[int]]:
        return {k: sorted(self._keys[k]) for k in keys if self._keys.get(k)}

    def line_counts(self, hashes: Sequence[int]) -> dict[int, int]:
        return {h: self._lines[h] for h in hashes if h in self._lines}

    def articles(self, rows: Sequence[int]) -> list[StoredArticle]:
        return [StoredArticle(**vars(self._articles[r])) for r in rows]

    def group_sizes(self, groups: Sequence[int]) -> dict[int, int]:
        wanted = set(groups)
        sizes: dict[int, int] = {}
        for a in self._articles.values():
            if a.group in wanted and a.leader == a.row:
                sizes[a.group] = sizes.get(a.group, 0) + 1
        return sizes

    def group_members(self, groups: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
        wanted = set(groups)
        out: dict[int, list[tuple[int, str]]] = {}
        for row in sorted(self._articles):
            a = self._articles[row]
            if a.group in wanted:
                out.setdefault(a.group, []).append((row, a.id))
        return out

    def copies_of(self, leader: int) -> list[int]:
        return sorted(r for r, a in self._articles.items() if a.leader == leader and r != leader)

    def commit(self, batch: Batch) -> tuple[int, int]:
        first_row, first_group = self._next
        articles, key_rows = batch.numbered(first_row, first_group)
        taken = [a.id for a in articles if a.id in self._ids]
        if taken:
            raise InputError(_stored_meanwhile(self, taken))
        for a in articles:
            self._articles[a.row] = a
            self._ids[a.id] = a.row
        for key, row in zip(batch.keys[0].tolist(), key_rows.tolist(), strict=True):
            self._keys.setdefault(key, set()).add(row)
        for line, count in batch.lines.items():
            self._lines[line] = self._lines.get(line, 0) + count
        for a in self._articles.values():
            if a.group in batch.merged:
                a.group = batch.merged[a.group]
        self._next = (first_row + len(articles), first_group + batch.new_groups)
        return first_row, first_group

    def remove(self, rows: Sequence[int], keys: Sequence[tuple[int, int]], new_keys: Sequence[tuple[int, int]],
               lines: dict[int, int], promote: dict[int, int]) -> None:  # fmt: skip
        for row in rows:
            del self._ids[self._articles.pop(row).id]
        for key, row in keys:
            self._keys.get(key, set()).discard(row)
        for key, row in new_keys:
            self._keys.setdefault(key, set()).add(row)
        for line, count in lines.items():
            self._lines[line] = self._lines.get(line, 0) - count
            if self._lines[line] <= 0:
                del self._lines[line]
        for a in self._articles.values():
            if a.leader in promote:
                a.leader = promote[a.leader]

    def stats(self) -> dict[str, Any]:
        return {"articles": len(self._articles), "distinct_texts": sum(a.leader == a.row for a in self._articles.values()),
                "groups": len({a.group for a in self._articles.values()}), "size_bytes": 0, "backend": "memory"}  # fmt: skip

    def close(self) -> None:
        pass

"""An archive on a Redis server, under keys starting ``dedup:`` in the URL's database."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from ..errors import ConfigError, InputError
from .base import (
    FORMAT,
    Batch,
    Changed,
    Removal,
    StoredArticle,
    check_format,
    pack_text,
    stored_meanwhile,
    unpack_text,
)


def redact(url: str) -> str:
    """``url`` with its password (and user) shown as ``***``: never printed, in a report or an error."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _redacted(error: object, url: str) -> str:
    text = str(error)
    password = urlsplit(url).password
    return text.replace(password, "***") if password else text


def _database(url: str) -> int:
    """The database number of a ``redis://host:port/N`` URL (0 without one); a path that is not a
    number is an error, not database 0."""
    parts = urlsplit(url)
    path = parts.path.strip("/")
    given = parse_qs(parts.query).get("db", [path or "0"])[0]
    if not given.isdigit():
        raise InputError(
            f"{redact(url)}: the Redis database must be a number (redis://host:port/0), got {given!r}"
        )
    return int(given)


LEASE_SECONDS = 10
"""The writer lock is a lease: it expires this long after its holder stops renewing it (the holder
renews it every third of that while it lives), so a writer killed while holding it blocks the
others for seconds, not minutes."""
WAIT_SECONDS = 600
"""How long a writer waits for the lock before giving up with one line."""
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
_RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"


class RedisBackend:
    """An archive on a Redis server, under keys starting ``dedup:`` in the URL's database.

    Each batch is one ``MULTI``/``EXEC`` transaction: the server applies it whole or not at all;
    what survives a server crash is what its persistence (RDB snapshots, AOF) kept.
    """

    def __init__(self, url: str) -> None:
        self.location = redact(url)
        database = _database(url)
        try:
            import redis
        except ImportError:
            raise ConfigError(
                "a Redis archive needs the redis client: pip install 'newsdedup[redis]'"
            ) from None
        self._errors = (redis.RedisError, OSError)
        try:
            self.r = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=60, db=database)
            self.r.ping()
        except ValueError as error:
            raise InputError(f"{self.location}: not a Redis URL: {_redacted(error, url)}") from None
        except self._errors as error:
            raise InputError(f"{self.location}: Redis does not answer: {_redacted(error, url)}") from None
        self.p = "dedup:"
        self._token: str | None = None
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

    def vectors(self, keys: Sequence[int]) -> dict[int, bytes]:
        if not keys:
            return {}
        found = self._do(self.r.hmget, self.p + "vectors", [str(k) for k in keys])
        return {k: bytes(v) for k, v in zip(keys, found, strict=True) if v is not None}

    def articles(self, rows: Sequence[int]) -> list[StoredArticle]:
        pipe = self.r.pipeline(transaction=False)
        for row in rows:
            pipe.hgetall(f"{self.p}a:{row}")
        out = []
        for row, data in zip(rows, self._do(pipe.execute), strict=True):
            text, damaged = unpack_text(data[b"text"])
            out.append(StoredArticle(row, data[b"id"].decode(), data[b"digest"], int(data[b"leader"]),
                                     int(data[b"group"]), text, data.get(b"meta", b"{}").decode(), damaged))  # fmt: skip
        return out

    def rows(self) -> list[int]:
        return sorted(int(r) for r in self._do(self.r.hvals, self.p + "ids"))

    def keys_of(self, row: int) -> list[int]:
        found = []
        for name in self.r.scan_iter(match=self.p + "k:*", count=10000):
            if self._do(self.r.sismember, name, row):
                found.append(int(name.decode().rsplit(":", 1)[1]))
        return sorted(found)

    def pending_reports(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self._do(self.r.hgetall, self.p + "reports").items()}

    def forget_reports(self, keys: Sequence[str]) -> None:
        if keys:
            self._do(self.r.hdel, self.p + "reports", *keys)

    def integrity(self) -> list[str]:
        return []

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

    def version(self) -> int:
        return int(self._do(self.r.hget, self.p + "meta", "version") or 0)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """The writer lock (a key only its holder's token deletes, a lease of
        :data:`LEASE_SECONDS` its holder renews while it lives): other writers' commits fail with
        :class:`Changed` and are compared again once it is released or has lapsed."""
        key, token = self.p + "writer", uuid.uuid4().hex
        deadline = time.monotonic() + WAIT_SECONDS
        while not self._do(partial(self.r.set, nx=True, px=LEASE_SECONDS * 1000), key, token):
            if time.monotonic() > deadline:
                raise InputError(f"{self.location}: another writer held the archive for {WAIT_SECONDS} s")
            time.sleep(random.uniform(0.01, 0.05))
        self._token = token
        stop = threading.Event()

        def renew() -> None:  # (should the lease lapse all the same, the commit sees it and fails safe)
            while not stop.wait(LEASE_SECONDS / 3):
                try:
                    self.r.eval(_RENEW, 1, key, token, LEASE_SECONDS * 1000)
                except self._errors:
                    return

        renewer = threading.Thread(target=renew, name="dedup-redis-lease", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            self._token = None
            self._do(self.r.eval, _RELEASE, 1, key, token)

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
        pipe.watch(p + "meta", p + "writer")
        holder = pipe.get(p + "writer")
        if holder is not None and holder.decode() != self._token:  # another writer holds the lock
            raise Changed
        row, group, version = pipe.hmget(p + "meta", ["next_row", "next_group", "version"])
        if batch.based_on is not None and int(version or 0) != batch.based_on:
            raise Changed
        first_row, first_group = int(row or 0), int(group or 0)
        articles, key_rows = batch.numbered(first_row, first_group)
        forgetting = self._removal_reads(batch.removal) if batch.removal is not None else None
        removed = {a.id for a in forgetting[0]} if forgetting else set()
        names = [a.id for a in articles if a.id not in removed]
        taken = [
            i
            for i, r in zip(names, pipe.hmget(p + "ids", names) if names else [], strict=True)
            if r is not None
        ]
        if taken:
            raise InputError(stored_meanwhile(self, taken))
        merged = {g: [int(r) for r in pipe.smembers(f"{p}g:{g}")] for g in batch.merged}
        pipe.multi()
        if batch.removal is not None and forgetting is not None:  # --replace: in the same transaction
            self._forget(pipe, batch.removal, *forgetting)
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
        if batch.vectors:
            pipe.hset(p + "vectors", mapping={str(k): v for k, v in batch.vectors.items()})
        for group, into in batch.merged.items():
            self._relabel(pipe, merged[group], "group", into, f"{p}g:{group}", f"{p}g:{into}")
        if batch.report is not None:
            pipe.hset(p + "reports", *batch.report)
        pipe.hset(p + "meta", mapping={"next_row": first_row + len(articles), "next_group": first_group + batch.new_groups,
                                       "version": int(version or 0) + 1})  # fmt: skip
        pipe.execute()
        return first_row, first_group

    def remove(self, removal: Removal) -> None:
        pipe = self.r.pipeline(transaction=True)
        self._forget(pipe, removal, *self._removal_reads(removal))
        pipe.hincrby(self.p + "meta", "version", 1)  # a writer WATCHing the header starts again
        self._do(pipe.execute)

    def _removal_reads(self, removal: Removal) -> tuple[list[StoredArticle], dict[int, list[int]]]:
        """What a removal must read first: the articles, and the copies each promotion moves."""
        stored = self.articles(removal.rows)
        copies = {old: [int(r) for r in self._do(self.r.smembers, f"{self.p}c:{old}") if int(r) != old]
                  for old in removal.promote}  # fmt: skip
        return stored, copies

    def _forget(
        self, pipe: Any, removal: Removal, stored: list[StoredArticle], copies: dict[int, list[int]]
    ) -> None:
        """A removal queued on ``pipe`` (inside the caller's ``MULTI``)."""
        p = self.p
        for a in stored:
            pipe.delete(f"{p}a:{a.row}")
            pipe.hdel(p + "ids", a.id)
            pipe.srem(f"{p}g:{a.group}", a.row)
            pipe.srem(f"{p}c:{a.leader}", a.row)
            if a.leader == a.row:
                pipe.hdel(p + "digests", a.digest)
        for key, row in removal.keys:
            pipe.srem(f"{p}k:{key}", row)
        for key, row in removal.new_keys:
            pipe.sadd(f"{p}k:{key}", row)
        for line, count in removal.lines.items():
            pipe.hincrby(p + "lines", str(line), -count)
        for old, new in removal.promote.items():
            self._relabel(pipe, copies[old], "leader", new, f"{p}c:{old}", f"{p}c:{new}")
            pipe.hset(p + "digests", next(a.digest for a in stored if a.row == old), new)

    def _relabel(
        self, pipe: Any, members: list[int], field: str, value: int, source: str, target: str
    ) -> None:
        """Queue: ``members`` (rows of the set ``source``) get ``field = value`` and move to ``target``."""
        for member in members:
            pipe.hset(f"{self.p}a:{member}", field, value)
        if members:
            pipe.sadd(target, *members)
        pipe.delete(source)

    def warm(self) -> None:
        """Nothing to read: every lookup asks the server."""

    def stats(self) -> dict[str, Any]:
        articles = self._do(self.r.hlen, self.p + "ids")
        distinct = self._do(self.r.hlen, self.p + "digests")
        keys = list(self._do(lambda: list(self.r.scan_iter(match=self.p + "g:*", count=10000))))
        pipe = self.r.pipeline(transaction=False)
        for key in keys:
            pipe.scard(key)
        groups = sum(
            1 for size in self._do(pipe.execute) if size > 1
        )  # two articles or more, as reports count
        memory = int(self._do(self.r.info, "memory").get("used_memory", 0))
        return {"articles": articles, "distinct_texts": distinct, "groups": groups, "size_bytes": memory,
                "backend": "redis"}  # fmt: skip

    def close(self) -> None:
        self.r.close()

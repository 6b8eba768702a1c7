"""An archive in dictionaries, gone when closed: the test double of the contract tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from ..errors import InputError
from .base import Batch, Changed, Removal, StoredArticle, stored_meanwhile


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
        self._vectors: dict[int, bytes] = {}
        self._next = (0, 0)
        self._version = 0
        self._reports: dict[str, str] = {}

    def version(self) -> int:
        return self._version

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

    def vectors(self, keys: Sequence[int]) -> dict[int, bytes]:
        return {k: self._vectors[k] for k in keys if k in self._vectors}

    def articles(self, rows: Sequence[int]) -> list[StoredArticle]:
        return [StoredArticle(**vars(self._articles[r])) for r in rows]

    def exclusive(self) -> AbstractContextManager[None]:
        return nullcontext()  # one process, one writer

    def rows(self) -> list[int]:
        return sorted(self._articles)

    def keys_of(self, row: int) -> list[int]:
        return sorted(k for k, rows in self._keys.items() if row in rows)

    def pending_reports(self) -> dict[str, str]:
        return dict(self._reports)

    def forget_reports(self, keys: Sequence[str]) -> None:
        for key in keys:
            self._reports.pop(key, None)

    def integrity(self) -> list[str]:
        return []

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
        if batch.based_on is not None and batch.based_on != self._version:
            raise Changed
        first_row, first_group = self._next
        articles, key_rows = batch.numbered(first_row, first_group)
        removed = {self._articles[r].id for r in batch.removal.rows} if batch.removal is not None else set()
        taken = [a.id for a in articles if a.id in self._ids and a.id not in removed]
        if taken:
            raise InputError(stored_meanwhile(self, taken))
        if batch.removal is not None:  # --replace: in the same step
            self._forget(batch.removal)
        for a in articles:
            self._articles[a.row] = a
            self._ids[a.id] = a.row
        for key, row in zip(batch.keys[0].tolist(), key_rows.tolist(), strict=True):
            self._keys.setdefault(key, set()).add(row)
        for line, count in batch.lines.items():
            self._lines[line] = self._lines.get(line, 0) + count
        self._vectors.update(batch.vectors)
        for a in self._articles.values():
            if a.group in batch.merged:
                a.group = batch.merged[a.group]
        self._next = (first_row + len(articles), first_group + batch.new_groups)
        self._version += 1
        if batch.report is not None:
            self._reports[batch.report[0]] = batch.report[1]
        return first_row, first_group

    def remove(self, removal: Removal) -> None:
        self._forget(removal)
        self._version += 1

    def _forget(self, removal: Removal) -> None:
        for row in removal.rows:
            del self._ids[self._articles.pop(row).id]
        for key, row in removal.keys:
            self._keys.get(key, set()).discard(row)
        for key, row in removal.new_keys:
            self._keys.setdefault(key, set()).add(row)
        for line, count in removal.lines.items():
            self._lines[line] = self._lines.get(line, 0) - count
            if self._lines[line] <= 0:
                del self._lines[line]
        for a in self._articles.values():
            if a.leader in removal.promote:
                a.leader = removal.promote[a.leader]

    def warm(self) -> None:
        """Nothing to read: everything is in memory."""

    def stats(self) -> dict[str, Any]:
        return {"articles": len(self._articles), "distinct_texts": sum(a.leader == a.row for a in self._articles.values()),
                "groups": len({a.group for a in self._articles.values()}), "size_bytes": 0, "backend": "memory"}  # fmt: skip

    def close(self) -> None:
        pass

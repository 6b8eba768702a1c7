"""The archive's data model and the protocol every storage backend fills (:mod:`dedup.backends`)."""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..errors import InputError

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
    damaged: str = ""
    """Why its stored text cannot be read (``text`` is then empty); empty when it can."""


@dataclass
class Removal:
    """Articles to forget: their rows, the lookup keys to drop (key, row) and to give to the copies
    that lead after them, the line counts to take back, and the new leader of each removed
    leader's copies. Worked out above the backends (:meth:`dedup.Index.remove`)."""

    rows: list[int] = field(default_factory=list)
    keys: list[tuple[int, int]] = field(default_factory=list)
    new_keys: list[tuple[int, int]] = field(default_factory=list)
    lines: dict[int, int] = field(default_factory=dict)
    promote: dict[int, int] = field(default_factory=dict)


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
    removal: Removal | None = None
    """Articles the batch replaces (``--replace``): forgotten in the same transaction."""
    report: tuple[str, str] | None = None
    """``(key, JSON)``: the batch's report, kept with it until the add that wrote it finishes (an
    add stopped part way leaves it for the add that completes the work to report)."""
    vectors: dict[int, bytes] = field(default_factory=dict)
    """Sentence vectors the batch's semantic check embedded (:class:`dedup.semantic.StoredVectors`:
    key → float32 bytes), kept so that later batches read them back instead of embedding again."""
    based_on: int | None = None
    """The archive's version (:meth:`Backend.version`) the batch was compared with: a commit finding
    another raises :class:`Changed` (another writer committed meanwhile), and the batch is compared
    again — so concurrent writers report what writing one after the other would have."""

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
    def vectors(self, keys: Sequence[int]) -> dict[int, bytes]:
        """The stored sentence vectors of those ``keys`` that have one (:attr:`Batch.vectors`)."""

    def articles(self, rows: Sequence[int]) -> list[StoredArticle]: ...
    def group_sizes(self, groups: Sequence[int]) -> dict[int, int]:
        """How many distinct texts each group holds (exact copies counted once, as the majority
        rule counts them)."""

    def group_members(self, groups: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
        """The members (row, id as JSON) of each of these groups that has any, oldest first."""

    def copies_of(self, leader: int) -> list[int]: ...
    def version(self) -> int:
        """A number every commit and removal changes."""

    def rows(self) -> list[int]:
        """Every stored row, in order."""

    def keys_of(self, row: int) -> list[int]:
        """The lookup keys a row holds (a slow scan: for removing an article whose text is damaged)."""

    def pending_reports(self) -> dict[str, str]:
        """The reports of batches whose add did not finish, by key."""

    def forget_reports(self, keys: Sequence[str]) -> None:
        """Drop these pending reports (their pairs were reported)."""

    def integrity(self) -> list[str]:
        """Damage the store itself finds in its files, one line each (none: an empty list)."""

    def exclusive(self) -> AbstractContextManager[None]:
        """Hold the archive's writer lock: other writers' commits wait (SQLite) or fail with
        :class:`Changed` (Redis) until it is released; this writer's commits go through."""

    def commit(self, batch: Batch) -> tuple[int, int]:
        """Write ``batch`` in one transaction; the first row and group number it was given."""

    def remove(self, removal: Removal) -> None:
        """Forget articles, in one transaction."""

    def warm(self) -> None:
        """Read now what lookups will read (the SQLite archive's key runs), so that a long-lived
        process's first checks are as fast as the rest; nothing for stores that need nothing."""

    def stats(self) -> dict[str, Any]: ...
    def close(self) -> None: ...


def signed(value: int) -> int:
    """A 64-bit unsigned hash as the signed integer SQLite stores."""
    return value - (1 << 64) if value >= 1 << 63 else value


def unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def signed_all(values: Sequence[int]) -> list[int]:
    """:func:`signed` of many hashes at once."""
    return np.asarray(values, dtype=np.uint64).view(np.int64).tolist()  # type: ignore[no-any-return]


def unsigned_all(values: Sequence[int]) -> list[int]:
    """:func:`unsigned` of many stored integers at once."""
    return np.asarray(values, dtype=np.int64).view(np.uint64).tolist()  # type: ignore[no-any-return]


def pack_text(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8"), 1)  # 3x faster than level 6; a tenth larger


def pack_texts(texts: Sequence[str]) -> list[bytes]:
    """:func:`pack_text` of many texts, on every core (zlib lets go of the GIL): a batch's
    compression was a fifth of ``add``'s time in one thread."""
    if len(texts) < 256:
        return [pack_text(t) for t in texts]
    parts = os.cpu_count() or 1
    step = -(-len(texts) // parts)
    with ThreadPoolExecutor(parts) as pool:
        done = pool.map(lambda k: [pack_text(t) for t in texts[k : k + step]], range(0, len(texts), step))
        return [packed for part in done for packed in part]


def unpack_text(data: bytes) -> tuple[str, str]:
    """A stored text, and why it cannot be read (empty when it can): a damaged text is reported,
    never used."""
    try:
        return zlib.decompress(data).decode("utf-8"), ""
    except (zlib.error, UnicodeDecodeError) as error:
        return "", f"its stored text cannot be read ({error})"


class Changed(Exception):
    """The archive changed since the batch was compared (another writer committed)."""


def check_format(value: str | None, where: str) -> None:
    """Refuse an archive another version of dedup wrote in another format."""
    if value != FORMAT:
        raise InputError(f"{where}: an archive in format {value!r}, which this version of dedup "
                         f"cannot read (it reads {FORMAT!r})")  # fmt: skip


def stored_meanwhile(backend: Backend, ids: Sequence[str]) -> str:
    return (f"{backend.location}: article {json.loads(ids[0])!r} was stored by another writer while this batch "
            "was compared; nothing of the batch was stored: add it again to pass over the stored ones")  # fmt: skip

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

from pathlib import Path

from .base import FORMAT, Backend, Batch, Changed, NewArticle, Removal, StoredArticle, check_format
from .memory import MemoryBackend
from .redis import RedisBackend
from .sqlite import SQLiteBackend

__all__ = [
    "FORMAT",
    "Backend",
    "Batch",
    "Changed",
    "MemoryBackend",
    "NewArticle",
    "RedisBackend",
    "Removal",
    "SQLiteBackend",
    "StoredArticle",
    "check_format",
    "open_backend",
]


def open_backend(location: str, *, create: bool) -> Backend:
    """The backend at ``location``: ``redis://host:port/db`` or an SQLite file path."""
    if location.startswith(("redis://", "rediss://", "unix://")):
        return RedisBackend(location)
    if location == ":memory:":
        return MemoryBackend()
    return SQLiteBackend(Path(location), create=create)

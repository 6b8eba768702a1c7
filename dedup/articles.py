"""The unit of work, :class:`Article`, and the shapes of input that :func:`find_duplicates` accepts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np

from .errors import InputError

ArticleId: TypeAlias = str | int
"""Ids are strings or integers; plain strings given without ids get 0, 1, 2, ... An integer and
the string of its digits (``1`` and ``"1"``) print the same, so they count as the same id."""
WHERE = "\x00where"
"""The metadata key where readers record an article's file and line (``path:line``): named so no
record's own field (``source``, an outlet, say) is ever taken for it; never shown as metadata."""
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""What no UTF-8 output can carry (JSON lets ``"\\ud800"`` through)."""


@dataclass(frozen=True, slots=True)
class Article:
    """One article: a unique ``id``, its raw ``text`` and free-form ``meta`` (never compared)."""

    id: ArticleId
    text: str
    meta: Mapping[str, Any] = field(default_factory=dict)


def id_key(article_id: ArticleId) -> tuple[int, int, str]:
    """Sort key giving one total order over ids: integers by value, then strings."""
    if isinstance(article_id, int):
        return (0, article_id, "")
    return (1, 0, article_id)


ArticlesInput: TypeAlias = (
    Iterable[Article]
    | Iterable[tuple[ArticleId, str]]
    | Mapping[ArticleId, str]
    | Iterable[str]
    | Iterable[Mapping[str, Any]]
)


def iter_articles(
    articles: ArticlesInput, *, id_field: str = "id", text_field: str = "text"
) -> Iterator[Article]:
    """Every accepted input shape as a stream of :class:`Article`.

    Accepted: :class:`Article` objects, ``(id, text)`` pairs, a mapping id → text, plain strings
    (ids are then their positions 0..n-1), or records: dicts (a ``datasets.Dataset``'s rows) with
    the id in ``id_field`` and the text in ``text_field``, their other fields kept as metadata.
    Raises :class:`InputError` naming the id or position for a non-string text or a bad id
    (duplicate ids are caught by the pipeline).
    """
    if isinstance(articles, str | bytes):
        raise InputError("articles must be a collection of articles, got a single string")
    items: Iterable[Any] = articles.items() if isinstance(articles, Mapping) else articles
    for position, item in enumerate(items):
        yield _coerce_one(position, item, id_field, text_field)


def _coerce_one(position: int, item: object, id_field: str = "id", text_field: str = "text") -> Article:
    if isinstance(item, Article):
        article_id, text, meta = item.id, item.text, item.meta
    elif isinstance(item, Mapping):
        for name in (id_field, text_field):
            if name not in item:
                raise InputError(
                    f"record at position {position}: no field {name!r} (fields: {', '.join(map(str, item))})"
                )
        article_id, text = item[id_field], item[text_field]
        meta = {k: v for k, v in item.items() if k not in (id_field, text_field)}
    elif isinstance(item, str):
        article_id, text, meta = position, item, {}
    elif isinstance(item, tuple | list) and len(item) == 2:
        article_id, text, meta = item[0], item[1], {}
    else:
        raise InputError(
            f"article at position {position}: expected an Article, an (id, text) pair, a record (dict) or a string, "
            f"got {_type_name(item)}"
        )
    if isinstance(article_id, bool) or not isinstance(article_id, str | int):
        raise InputError(
            f"article at position {position}: id must be a string or an integer, got {_type_name(article_id)}"
        )
    if not isinstance(text, str):
        raise InputError(f"article {article_id!r}: text must be a string, got {_type_name(text)}")
    bad = LONE_SURROGATE.search(article_id) if isinstance(article_id, str) else None
    if bad:  # (texts are checked as they are stored, see dedup.store)
        raise InputError(
            f"article at position {position}: its id has a lone surrogate (\\u{ord(bad.group()):04x}) "
            f"at character {bad.start()}, which no UTF-8 output can carry"
        )
    return Article(article_id, text, meta)


def _type_name(value: object) -> str:
    return "None" if value is None else type(value).__name__


class Ingest:
    """Articles as they arrive: their ids and sources by row, duplicate ids refused."""

    def __init__(self) -> None:
        self.ids: list[ArticleId] = []
        self.sources: list[str] = []
        self.meta: list[Mapping[str, Any] | None] = []
        self._row_of: dict[str, int] = {}

    def add(self, article: Article) -> int:
        """The new article's row; :class:`InputError` naming both places for a repeated id."""
        source = str(article.meta.get(WHERE, ""))
        row = self._row_of.setdefault(str(article.id), len(self.ids))
        if row != len(self.ids):
            first = self.ids[row]
            same = "" if first == article.id else f" (the same as {first!r} when printed)"
            if source:
                raise InputError(
                    f"{source}: duplicate id {article.id!r}{same} (first seen at {self.sources[row]})"
                )
            raise InputError(f"article {article.id!r}: duplicate id{same}")
        self.ids.append(article.id)
        self.sources.append(source)
        self.meta.append(article.meta if article.meta.keys() - {WHERE} else None)  # most have none
        return row

    def metadata(self, rows: Iterable[int]) -> dict[ArticleId, dict[str, Any]]:
        """The metadata of these rows (where they have any besides their source), by id."""
        out = {}
        for row in rows:
            extra = {k: v for k, v in (self.meta[row] or {}).items() if k != WHERE}
            if extra:
                out[self.ids[row]] = extra
        return out

    def where(self, row: int) -> str:
        """``"source: "`` of a row, or nothing when it came without a source."""
        return f"{self.sources[row]}: " if self.sources[row] else ""


def id_ranks(ids: list[ArticleId]) -> np.ndarray:
    """Each row's position in id order (:func:`id_key`); ties cannot occur, ids are unique.

    Strings are sorted by Python (numpy would copy them into fixed-width cells: 4 bytes times
    the longest id for every id), integers by numpy.
    """
    if ids and all(isinstance(i, int) and -(2**62) < i < 2**62 for i in ids):
        order = np.argsort(np.array(ids, dtype=np.int64), kind="stable")
    elif all(isinstance(i, str) for i in ids):
        order = np.array(sorted(range(len(ids)), key=ids.__getitem__), dtype=np.int64)
    else:
        order = np.array(sorted(range(len(ids)), key=lambda r: id_key(ids[r])), dtype=np.int64)
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    return rank

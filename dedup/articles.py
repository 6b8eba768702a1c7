"""The unit of work, :class:`Article`, and the shapes of input that :func:`find_duplicates` accepts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from .errors import InputError

ArticleId: TypeAlias = str | int
"""Ids are strings or integers; plain strings given without ids get 0, 1, 2, ..."""


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
    Iterable[Article] | Iterable[tuple[ArticleId, str]] | Mapping[ArticleId, str] | Iterable[str]
)


def iter_articles(articles: ArticlesInput) -> Iterator[Article]:
    """Every accepted input shape as a stream of :class:`Article`.

    Accepted: :class:`Article` objects, ``(id, text)`` pairs, a mapping id → text, or plain
    strings (ids are then their positions 0..n-1). Raises :class:`InputError` naming the id or
    position for a non-string text or a bad id (duplicate ids are caught by the pipeline).
    """
    if isinstance(articles, str | bytes):
        raise InputError("articles must be a collection of articles, got a single string")
    items: Iterable[Any] = articles.items() if isinstance(articles, Mapping) else articles
    for position, item in enumerate(items):
        yield _coerce_one(position, item)


def _coerce_one(position: int, item: object) -> Article:
    if isinstance(item, Article):
        article_id, text, meta = item.id, item.text, item.meta
    elif isinstance(item, str):
        article_id, text, meta = position, item, {}
    elif isinstance(item, tuple | list) and len(item) == 2:
        article_id, text, meta = item[0], item[1], {}
    else:
        raise InputError(
            f"article at position {position}: expected an Article, an (id, text) pair or a string, "
            f"got {type(item).__name__}"
        )
    if isinstance(article_id, bool) or not isinstance(article_id, str | int):
        raise InputError(
            f"article at position {position}: id must be a string or an integer, "
            f"got {type(article_id).__name__}"
        )
    if not isinstance(text, str):
        raise InputError(f"article {article_id!r}: text must be a string, got {type(text).__name__}")
    return Article(article_id, text, meta)

"""Keeping article texts until alignment needs them.

Only candidate pairs are aligned, so most texts are never read again. A collection given as a
list or mapping is already in memory, and its strings are only referenced; a streamed collection
(a generator, a file being read) is spilled to an anonymous temporary file, so that memory does not
grow with the text of a million articles, and read back by offset for the candidates.
"""

from __future__ import annotations

import tempfile
from array import array
from collections.abc import Iterable, Iterator, Mapping

from .articles import LONE_SURROGATE, Article, ArticleId


class TextStore:
    """Texts by row number, in memory or spilled to a temporary file."""

    def __init__(self, *, spill: bool) -> None:
        self._texts: list[str] | None = None if spill else []
        self._file = tempfile.TemporaryFile() if spill else None  # noqa: SIM115 (closed by close())
        self._offsets = array("q", [0])

    def add(self, text: str) -> None:
        """Keep ``text``; ``UnicodeEncodeError`` if it holds a lone surrogate (no UTF-8 can carry it)."""
        if self._file is None:
            assert self._texts is not None
            if not text.isascii() and LONE_SURROGATE.search(text):
                text.encode("utf-8")  # raises, naming the position
            self._texts.append(text)
            return
        data = text.encode("utf-8")
        self._file.seek(self._offsets[-1])
        self._file.write(data)
        self._offsets.append(self._offsets[-1] + len(data))

    def get(self, row: int) -> str:
        if self._file is None:
            assert self._texts is not None
            return self._texts[row]
        start, end = self._offsets[row], self._offsets[row + 1]
        self._file.seek(start)
        return self._file.read(end - start).decode("utf-8")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def __enter__(self) -> TextStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class StoredTexts(Mapping[ArticleId, str]):
    """Texts by article id, spilled to a temporary file as articles stream past :meth:`tee`
    and read back one at a time: what a report needs to explain pairs, at no memory cost."""

    def __init__(self) -> None:
        self._store = TextStore(spill=True)
        self._rows: dict[ArticleId, int] = {}

    def tee(self, articles: Iterable[Article]) -> Iterator[Article]:
        """``articles`` unchanged, each text kept on the way (the first one of an id)."""
        for article in articles:
            if article.id not in self._rows and isinstance(article.text, str):
                self._rows[article.id] = len(self._rows)
                self._store.add(article.text)
            yield article

    def __getitem__(self, article_id: ArticleId) -> str:
        return self._store.get(self._rows[article_id])

    def __iter__(self) -> Iterator[ArticleId]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def close(self) -> None:
        self._store.close()

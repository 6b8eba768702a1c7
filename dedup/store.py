"""Keeping article texts (and shingles) until alignment (and the exact pre-check) needs them.

Only candidate pairs are aligned, so most texts are never read again. A collection given as a
list or mapping is already in memory, and its strings are only referenced; a streamed collection
(a generator, a file being read) is spilled to an anonymous temporary file, so that memory does not
grow with the text of a million articles, and read back by offset for the candidates.
"""

from __future__ import annotations

import os
import tempfile
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

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

    def __enter__(self) -> StoredTexts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Shingles:
    """The shingles of consecutive rows as sketching computes them, for :class:`ShingleStore`.

    ``values[k]`` is a shingle: its hash, then the ordinals (within its row) of the line and of the
    sentence its first word is in; each row's hashes sorted and distinct, rows in order (row ``r``
    has ``counts[r]``). ``line_hashes`` / ``sentence_hashes`` hold each row's lines / sentences in
    order (``line_counts[r]`` / ``sentence_counts[r]`` of them), as 64-bit hashes; ``line_forms``
    the lines' forms (:func:`~dedup.shingles.form_hashes`), as ``line_hashes``."""

    counts: np.ndarray
    values: np.ndarray
    line_counts: np.ndarray
    line_hashes: np.ndarray
    sentence_counts: np.ndarray
    sentence_hashes: np.ndarray
    line_forms: np.ndarray

    @classmethod
    def untagged(cls, counts: np.ndarray, hashes: np.ndarray) -> Shingles:
        """Rows of shingle ``hashes`` with one line and one sentence each, hashed 0 (no boilerplate
        line, no template sentence, no form)."""
        ones = np.ones(len(counts), dtype=np.int64)
        values = np.zeros((hashes.size, 3), dtype=np.uint32)
        values[:, 0] = hashes
        zeros = np.zeros(len(counts), dtype=np.uint64)
        return cls(np.asarray(counts, dtype=np.int64), values, ones, zeros, ones, zeros, zeros)


class ShingleStore:
    """Every article's :class:`Shingles`, spilled to a temporary file as sketching computes them
    and read back by row for the exact pre-check: at a million articles about six gigabytes of disk
    instead of memory. ``spill=False`` keeps them in memory instead (a one-article query of a warm
    archive makes no file). A row given again (its text re-sketched without boilerplate) is written
    again and its old record forgotten."""

    _PARTS = ("values", "line_hashes", "sentence_hashes", "line_forms")

    def __init__(self, *, spill: bool = True) -> None:
        self._file = tempfile.TemporaryFile() if spill else None  # noqa: SIM115 (closed by close())
        self._memory = bytearray()
        # per row and part: where it starts in the file and how many items it has
        self._offsets = {part: array("q") for part in self._PARTS}
        self._counts = {part: array("q") for part in self._PARTS}
        self._end = 0

    def __len__(self) -> int:
        return len(self._counts["values"])

    def put(self, rows: np.ndarray, shingles: Shingles) -> None:
        """Keep the shingles of ``rows`` (one per row of ``shingles``, in order): each new row is
        the next one, or one kept before."""
        parts = (
            (shingles.values.astype("<u4"), shingles.counts, 12),
            (shingles.line_hashes.astype("<u8"), shingles.line_counts, 8),
            (shingles.sentence_hashes.astype("<u8"), shingles.sentence_counts, 8),
            (shingles.line_forms.astype("<u8"), shingles.line_counts, 8),
        )
        for name, (data, counts, width) in zip(self._PARTS, parts, strict=True):
            offsets = self._end + (np.cumsum(counts) - counts) * width
            if self._file is None:  # always written at the end
                self._memory += np.ascontiguousarray(data).tobytes()
            else:
                os.pwrite(self._file.fileno(), np.ascontiguousarray(data).tobytes(), self._end)
            self._end += data.size * data.itemsize
            for column, new in ((self._offsets[name], offsets), (self._counts[name], counts)):
                old = rows < len(column)
                for row, value in zip(rows[old].tolist(), new[old].tolist(), strict=True):
                    column[row] = value
                column.extend(np.asarray(new)[~old].tolist())

    def get(self, row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Row ``row``'s shingles ``(n, 3)`` (hash, line ordinal, sentence ordinal), line hashes,
        sentence hashes and line forms."""
        out = []
        for name, dtype, width in zip(self._PARTS, ("<u4", "<u8", "<u8", "<u8"), (12, 8, 8, 8), strict=True):
            size, at = self._counts[name][row] * width, self._offsets[name][row]
            data = (
                os.pread(self._file.fileno(), size, at) if self._file else bytes(self._memory[at : at + size])
            )
            out.append(np.frombuffer(data, dtype))
        return out[0].reshape(-1, 3), out[1], out[2], out[3]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._memory = bytearray()

    def __enter__(self) -> ShingleStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RowCache:
    """Rows of a :class:`ShingleStore`, each read once while it stays among the most recently used
    (at most ``max_bytes`` of them): the pre-check reads a row for every candidate pair it is in."""

    def __init__(self, store: ShingleStore, max_bytes: int = 64 << 20) -> None:
        self.store, self.max_bytes = store, max_bytes
        self._rows: OrderedDict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = OrderedDict()
        self._bytes = 0

    def get(self, row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        found = self._rows.get(row)
        if found is not None:
            self._rows.move_to_end(row)
            return found
        found = self._rows[row] = self.store.get(row)
        self._bytes += sum(part.nbytes for part in found)
        while self._bytes > self.max_bytes and len(self._rows) > 1:
            _, old = self._rows.popitem(last=False)
            self._bytes -= sum(part.nbytes for part in old)
        return found

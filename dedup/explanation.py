"""What two articles share, paragraph by paragraph: the model every report is a view of.

:func:`explain` turns a pair's :class:`~dedup.alignment.Alignment` and the two texts into rows a
side-by-side view can draw: each matched paragraph pair with its words marked shared or changed,
each paragraph found inside a longer one, each paragraph only in one article, each ignored one
(too short, or boilerplate). Every row carries the paragraphs' numbers, texts and character
offsets ``[start, end)`` in the raw texts. The text report's ``--explain`` and the JSON's
``paragraphs`` are drawn from it.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Any, Literal

from .alignment import word_diff
from .paragraphs import Span, paragraph_spans, rejoin_hyphenation, split_paragraphs
from .results import Pair

RowKind = Literal[
    "match", "a_inside_b", "b_inside_a", "sentence", "only_a", "only_b", "ignored_a", "ignored_b"
]


@dataclass(frozen=True, slots=True)
class Side:
    """One article's paragraph in a row: its number, text, offsets and (in a match) its words,
    each flagged True when the other side shares it."""

    index: int
    text: str
    span: Span
    words: tuple[tuple[str, bool], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "index": self.index,
            "start": self.span[0],
            "end": self.span[1],
            "text": self.text,
        }
        if self.words:
            data["words"] = [[word, shared] for word, shared in self.words]
        return data


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a side-by-side view: a paragraph of ``a``, of ``b``, or one of each."""

    kind: RowKind
    a: Side | None
    b: Side | None
    score: float | None = None

    @property
    def edited(self) -> bool:
        """A matched pair whose words differ (a changed quote or case is not a difference)."""
        sides = (self.a, self.b)
        return self.kind == "match" and any(not shared for s in sides if s for _, shared in s.words)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "score": self.score,
            "edited": self.edited,
            "a": self.a.to_dict() if self.a else None,
            "b": self.b.to_dict() if self.b else None,
        }


@dataclass(frozen=True, slots=True)
class PairExplanation:
    """The rows of one pair: matches in ``a``'s order, then inside-matches, then the rest."""

    pair: Pair
    rows: tuple[Row, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.pair.a, "b": self.pair.b, "rows": [row.to_dict() for row in self.rows]}


class _Article:
    def __init__(self, text: str, columns: bool = False) -> None:
        self.text = text
        self.paragraphs = split_paragraphs(text, columns=columns)
        self.spans = paragraph_spans(text, columns=columns)

    def side(self, index: int, words: tuple[tuple[str, bool], ...] = ()) -> Side:
        return Side(index, self.paragraphs[index], self.spans[index], words)

    def sentence(self, span: Span) -> Side:
        """A sentence at ``span``, numbered by the paragraph it is in."""
        index = max(0, bisect_right([start for start, _ in self.spans], span[0]) - 1)
        return Side(index, self.text[span[0] : span[1]], span)


def explain(pair: Pair, text_a: str, text_b: str, *, misreads: bool = False) -> PairExplanation:
    """The side-by-side rows of ``pair``, whose articles' raw texts are ``text_a`` and ``text_b``.

    With ``misreads`` (OCR'd text), words that differ only as a misread glyph would are shown as
    shared (:func:`dedup.alignment.word_diff`), and words broken at line ends are shown whole."""
    a, b = _Article(text_a, misreads), _Article(text_b, misreads)  # (OCR'd text: set in columns)
    al = pair.alignment
    rows: list[Row] = []
    for m in al.matches:
        para_a, para_b = a.paragraphs[m.a], b.paragraphs[m.b]
        if misreads:  # words broken at line ends are compared whole
            para_a, para_b = rejoin_hyphenation(para_a), rejoin_hyphenation(para_b)
        left, right = word_diff(para_a, para_b, misreads=misreads)
        rows.append(Row("match", a.side(m.a, tuple(left)), b.side(m.b, tuple(right)), m.score))
    rows += [Row("a_inside_b", a.side(m.a), b.side(m.b), m.score) for m in al.a_inside_b]
    rows += [Row("b_inside_a", a.side(m.a), b.side(m.b), m.score) for m in al.b_inside_a]
    if pair.semantic is not None:  # a rewritten pair: its corresponding sentences
        rows += [Row("sentence", a.sentence(m.a_span), b.sentence(m.b_span), m.similarity)
                 for m in pair.semantic.sentences]  # fmt: skip
    rows += [Row("only_a", a.side(i), None) for i in al.only_a]
    rows += [Row("only_b", None, b.side(j)) for j in al.only_b]
    rows += [Row("ignored_a", a.side(i), None) for i in al.ignored_a]
    rows += [Row("ignored_b", None, b.side(j)) for j in al.ignored_b]
    return PairExplanation(pair, tuple(rows))

"""Splitting an article into the units that alignment compares.

Rules, first that applies:

1. paragraphs separated by blank lines;
2. a text with no blank line but several lines: one unit per non-empty line;
3. a single block of text: sentence groups.

A paragraph longer than :data:`MAX_PARAGRAPH_CHARS` (a wall of text, such as a whole body
without line breaks under a headline) is also split into sentence groups.

Sentence groups: sentences end at ``. ! ?`` followed by a space or, after a lower-case letter or
digit or a closing quote, glued to the next capital (``said.The``, ``$1bn.US``, ``AOL.For``; not
``U.S.``), and at ``۔ ؟ ।`` (Urdu, Arabic, Hindi full stops and question mark) with or
without a space, since those scripts have no capitals, and at the CJK full stop and full-width
``！ ？``. This is the one definition of a sentence end: alignment splits walls of text with it,
and :mod:`dedup.sketch` cuts its sentence anchors with it (:func:`mark_sentences`). A sentence shorter than
:data:`MIN_SENTENCE_CHARS` is joined to the one before it, so that "Mr." or a one-word quote does
not become a unit of its own.

A word broken across a line end with a hyphen, as newspapers and books set it ("infor-" /
"mation"), is rejoined in the units that are compared (:func:`compared_units`): where the hyphen
follows two letters and the next line starts with a lower-case letter, the rest of the word moves
up to its start ("information" / the rest of the line), so every unit keeps its lines. An OCR'd
column breaks words wherever its width falls; two printings of one story break them in different
places.

Indices into the returned list are the paragraph numbers every report uses;
:func:`paragraph_spans` gives where each unit lies in the raw text (for side-by-side views).
"""

from __future__ import annotations

import re

from .tokens import SENTENCE_MARK

MIN_SENTENCE_CHARS = 40
MAX_PARAGRAPH_CHARS = 800
_LINE_BREAK = re.compile(r"\r\n?|\n")
_BLANK_LINE = re.compile(r"(?:\r\n|\r(?!\n)|\n)[ \t\f\v]*(?:\r\n|\r(?!\n)|\n)")
_BLANK_LINE_N = re.compile(r"\n[ \t\f\v]*\n")  # the same, once line breaks are all "\n"
_STOPS = "\u06d4\u061f\u0964\u0965\u3002\uff01\uff1f"  # Urdu/Arabic/Hindi/CJK: no space needed
# a match starts at the terminator (one character, kept with its sentence: group 1), then the space
# after it (group 2)
_SENTENCE_END = re.compile(
    f"([.!?{_STOPS}])((?:"
    f"(?<=[{_STOPS}])\\s*"
    r"|\s+"  # a terminator and a space
    r"|(?<=[a-z0-9%)'\"\u2019\u201d][.!?])(?=[\"'\u201c\u2018]?[A-Z])"  # glued: "said.The", "$1bn.US"
    r"|(?<=[A-Z][A-Z][.!?])(?=[\"'\u201c\u2018]?[A-Z][a-z])))"  # after an acronym: "AOL.For"
)

Span = tuple[int, int]


def paragraph_spans(text: str, *, columns: bool = False) -> list[Span]:
    """``(start, end)`` of each unit of ``text`` (stripped, none empty), by the rules above;
    ``columns``: see :func:`split_paragraphs`."""
    blocks = _pieces(_BLANK_LINE, text, 0, len(text))
    if len(blocks) == 1:
        lines = _pieces(_LINE_BREAK, text, *blocks[0])
        blocks = lines if len(lines) > 1 and not columns else sentence_group_spans(text, *blocks[0])
    units: list[Span] = []
    for start, end in blocks:
        if end - start > MAX_PARAGRAPH_CHARS and not _LINE_BREAK.search(text, start, end):
            units.extend(sentence_group_spans(text, start, end))
        else:
            units.append((start, end))
    return units


def split_paragraphs(text: str, *, columns: bool = False) -> list[str]:
    """The units of ``text`` (line breaks written ``\\n``), as described above: the texts of
    :func:`paragraph_spans`, found faster with string methods (tested to agree).

    ``columns`` (OCR'd print, the ``ocr`` preset): a text with no blank line is prose set in
    columns whose lines break mid-sentence, not one unit per line: its units are sentence groups
    (rule 3), each keeping its line breaks (so hyphenated words are rejoined)."""
    paragraphs, lines = _blocks_and_lines(text)
    if len(paragraphs) == 1:
        paragraphs = lines if len(lines) > 1 and not columns else split_sentence_groups(paragraphs[0])
    units: list[str] = []
    for paragraph in paragraphs:
        if len(paragraph) > MAX_PARAGRAPH_CHARS and "\n" not in paragraph:
            units.extend(split_sentence_groups(paragraph))
        else:
            units.append(paragraph)
    return units


def printed_lines(text: str) -> bool:
    """Whether rule 2 makes the units of ``text`` its printed lines: no blank line, several lines."""
    blocks, lines = _blocks_and_lines(text)
    return len(blocks) == 1 and len(lines) > 1


def _blocks_and_lines(text: str) -> tuple[list[str], list[str]]:
    """The non-empty blocks of ``text`` between blank lines (stripped) and, when there is one
    block, its non-empty lines (stripped; otherwise none)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = [p for p in (b.strip() for b in _BLANK_LINE_N.split(text)) if p]
    if len(blocks) != 1:
        return blocks, []
    return blocks, [line for line in (line.strip() for line in blocks[0].split("\n")) if line]


def compared_units(text: str, *, columns: bool = False) -> list[str]:
    """:func:`split_paragraphs`, with words hyphenated at line ends rejoined (see above)."""
    return [rejoin_hyphenation(unit) for unit in split_paragraphs(text, columns=columns)]


_HYPHEN_BREAK = re.compile(r"(?<=[^\W\d_]{2})-[ \t]*\n[ \t]*([^\W\d_]\S*)[^\S\n]*")


def rejoin_hyphenation(unit: str) -> str:
    """``unit`` with every word broken by a hyphen at a line end rejoined on the first line."""
    if "-" not in unit or "\n" not in unit:
        return unit
    return _HYPHEN_BREAK.sub(_rejoined, unit)


def _rejoined(match: re.Match[str]) -> str:
    rest = match.group(1)
    return rest + "\n" if rest[0].islower() else match.group(0)


def _pieces(separator: re.Pattern[str], text: str, start: int, end: int) -> list[Span]:
    """The non-empty, stripped pieces of ``text[start:end]`` between matches of ``separator``
    (a sentence end's terminator stays with the sentence before it)."""
    keep = 1 if separator is _SENTENCE_END else 0
    spans = []
    for match in separator.finditer(text, start, end):
        spans.append((start, match.start() + keep))
        start = match.end()
    spans.append((start, end))
    return [stripped for span in spans if (stripped := _strip(text, *span))]


def _strip(text: str, start: int, end: int) -> Span | None:
    piece = text[start:end]
    kept = piece.strip()
    if not kept:
        return None
    start += len(piece) - len(piece.lstrip())
    return start, start + len(kept)


def split_sentences(text: str) -> list[str]:
    """The sentences of one block of text, as split by the rules above (none empty)."""
    return [text[start:end] for start, end in _pieces(_SENTENCE_END, text, 0, len(text))]


def sentence_group_spans(text: str, start: int, end: int) -> list[Span]:
    """Sentences of ``text[start:end]``, a sentence shorter than :data:`MIN_SENTENCE_CHARS`
    joined to the one before it."""
    groups: list[Span] = []
    for first, last in _pieces(_SENTENCE_END, text, start, end):
        if groups and last - first < MIN_SENTENCE_CHARS:
            groups[-1] = (groups[-1][0], last)
        else:
            groups.append((first, last))
    return groups


def split_sentence_groups(text: str) -> list[str]:
    """Split one block of text into sentences, joining very short ones to the previous one."""
    return [text[start:end] for start, end in sentence_group_spans(text, 0, len(text))]


def mark_sentences(text: str) -> str:
    """``text`` with :data:`~dedup.tokens.SENTENCE_MARK` before every sentence end's whitespace."""
    return _SENTENCE_END.sub(_MARKED, text)


_MARKED = f"\\1{SENTENCE_MARK}\\2"

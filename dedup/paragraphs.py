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
without a space, since those scripts have no capitals. A sentence shorter than
:data:`MIN_SENTENCE_CHARS` is joined to the one before it, so that "Mr." or a one-word quote does
not become a unit of its own.

Indices into the returned list are the paragraph numbers every report uses.
"""

from __future__ import annotations

import re

MIN_SENTENCE_CHARS = 40
MAX_PARAGRAPH_CHARS = 800
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_SENTENCE_END = re.compile(
    r"(?<=[\u06d4\u061f\u0964])\s*"  # Urdu/Arabic/Hindi full stop or question mark
    r"|(?<=[.!?])\s+"  # a terminator and a space
    r"|(?<=[a-z0-9%)'\"\u2019\u201d][.!?])(?=[\"'\u201c\u2018]?[A-Z])"  # glued: "said.The", "$1bn.US"
    r"|(?<=[A-Z][A-Z][.!?])(?=[\"'\u201c\u2018]?[A-Z][a-z])"  # after an acronym: "AOL.For"
)


def split_paragraphs(text: str) -> list[str]:
    """Return the paragraphs of ``text`` (stripped, none empty), falling back as described above."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = [p.strip() for p in _BLANK_LINE.split(text) if p.strip()]
    if len(paragraphs) == 1:
        lines = [line.strip() for line in paragraphs[0].split("\n") if line.strip()]
        paragraphs = lines if len(lines) > 1 else split_sentence_groups(paragraphs[0])
    units: list[str] = []
    for paragraph in paragraphs:
        if len(paragraph) > MAX_PARAGRAPH_CHARS and "\n" not in paragraph:
            units.extend(split_sentence_groups(paragraph))
        else:
            units.append(paragraph)
    return units


def split_sentences(text: str) -> list[str]:
    """The sentences of one block of text, as split by the rules above (none empty)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def split_sentence_groups(text: str) -> list[str]:
    """Split one block of text into sentences, joining very short ones to the previous one."""
    groups: list[str] = []
    for sentence in split_sentences(text):
        if groups and len(sentence) < MIN_SENTENCE_CHARS:
            groups[-1] = f"{groups[-1]} {sentence}"
        else:
            groups.append(sentence)
    return groups

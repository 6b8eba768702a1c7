"""Splitting an article into the units that alignment compares.

Rules, first that applies:

1. paragraphs separated by blank lines;
2. a text with no blank line but several lines: one unit per non-empty line;
3. a single block of text: sentence groups. Sentences end at ``. ! ?`` (and ``۔ ؟ ।`` for Urdu,
   Arabic and Hindi) followed by a space, or glued to the next capitalised word (``said.The``);
   a sentence shorter than :data:`MIN_SENTENCE_CHARS` is joined to the one before it, so that
   "Mr." or a one-word quote does not become a unit of its own.

Indices into the returned list are the paragraph numbers every report uses.
"""

from __future__ import annotations

import re

MIN_SENTENCE_CHARS = 40
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?\u06d4\u061f\u0964])(?:\s+|(?=[\"'\u201c\u2018]?[A-Z][a-z]))")


def split_paragraphs(text: str) -> list[str]:
    """Return the paragraphs of ``text`` (stripped, none empty), falling back as described above."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = [p.strip() for p in _BLANK_LINE.split(text) if p.strip()]
    if len(paragraphs) == 1:
        lines = [line.strip() for line in paragraphs[0].split("\n") if line.strip()]
        if len(lines) > 1:
            return lines
        return split_sentence_groups(paragraphs[0])
    return paragraphs


def split_sentence_groups(text: str) -> list[str]:
    """Split one block of text into sentences, joining very short ones to the previous one."""
    groups: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip()
        if not sentence:
            continue
        if groups and len(sentence) < MIN_SENTENCE_CHARS:
            groups[-1] = f"{groups[-1]} {sentence}"
        else:
            groups.append(sentence)
    return groups


def paragraph_lines(paragraph: str) -> list[str]:
    """The non-empty lines of one paragraph (boilerplate is detected line by line)."""
    return [line.strip() for line in paragraph.split("\n") if line.strip()]

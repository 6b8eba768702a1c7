"""What reads as a scan: an article printed and recognised by OCR, told from born-digital text by
its own characters and layout (nothing about the rest of the collection, so an article is read
the same way in a batch run, an archive and on Spark).

Two signs, either enough:

- **misread glyphs** — a digit or one of ``; : `` ` `` between two lower-case letters (``he1lo``,
  ``w0rd``, ``sto;ry``): OCR's confusions (``l``/``1``, ``o``/``0``) and stray marks inside words.
  Born-digital news almost never has them (``iPod``, ``3G``, ``1990s``, ``£10m``, ``e.g.`` and
  web addresses do not count); at least :data:`MIN_MISREADS` of them and one in
  ``1 / MISREAD_SHARE`` words;
- **set in print columns** — at least :data:`MIN_LINES` lines, :data:`INSIDE_SHARE` of them
  ending inside a sentence, with a word broken by a hyphen at a line end (two letters, a hyphen,
  the next line going on in lower case), and the lines narrow: a median of at most
  :data:`NARROW_CHARS` characters, or of at most :data:`COLUMN_CHARS` with a second broken word
  or a misread glyph (a wire story or an e-mail hard-wrapped at 65-72 characters is not a column;
  without two signs of print it is not read as one).

Measured on ``benchmarks/ocr.py``'s 3,656 copies of 500 stories: 99.0% read as scans at 0%
character errors (by their columns), 99.0% at 1-3%, 99.5% at 3-6%; of born-digital text, 1 of
BBC News' 2,225 articles, 1 of Reuters-21578's 19,043, 3 of dai2017's 3,824, none of 20,000
news-like ones, and 1.1% of 20 Newsgroups' posts (code, lists, ASCII art).

A pair with a scanned article is scored tolerantly (:func:`dedup.verification.pair_config`).
"""

from __future__ import annotations

import itertools
import statistics

import numpy as np

MIN_MISREADS = 3
MISREAD_SHARE = 0.004
MIN_LINES = 8
INSIDE_SHARE = 0.65
NARROW_CHARS = 48
COLUMN_CHARS = 60
_SENTENCE_END = tuple(".!?:;\"')”’»")

_CLASSES = bytearray(b" " * 256)
for _c in range(ord("a"), ord("z") + 1):
    _CLASSES[_c] = ord("a")
for _c in b"0123456789":
    _CLASSES[_c] = ord("0")
for _c in b";:`":
    _CLASSES[_c] = ord(".")
_GLYPHS = bytes(_CLASSES)
"""Each byte as its class: a lower-case letter ``a``, a digit ``0``, a stray mark ``.``, the rest
a space (a translation table: the whole text classified at C speed)."""


RULE = (
    f">= {MIN_MISREADS} misread glyphs and >= {MISREAD_SHARE} of words; or >= {MIN_LINES} lines, "
    f">= {INSIDE_SHARE} of them ending inside a sentence, a word broken across lines, and a median "
    f"<= {NARROW_CHARS} chars (<= {COLUMN_CHARS} with a second broken word or a misread glyph)"
)
"""The rule in words (a run's ``params``)."""


def looks_scanned(text: str) -> bool:
    """Does ``text`` read as OCR output (see the module's docstring)?"""
    classes = text.encode("utf-8", "replace").translate(_GLYPHS)
    misreads = classes.count(b"a0a") + classes.count(b"a.a")
    if misreads >= MIN_MISREADS and misreads >= MISREAD_SHARE * (classes.count(b" ") + 1):
        return True
    return set_in_columns(text, misreads)


def set_in_columns(text: str, misreads: int = 0) -> bool:
    """Is ``text`` laid out in narrow print columns with hyphenated line ends (``misreads``: the
    misread glyphs found, a sign of print too)?"""
    lines_about = text.count("\n") + 1 - text.count("\n\n")  # (blank lines aside)
    if lines_about < MIN_LINES or len(text) > 2 * COLUMN_CHARS * lines_about:  # (most texts: at once)
        return False
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) < MIN_LINES:
        return False
    width = statistics.median(len(line) for line in lines)
    inside = sum(1 for line in lines[:-1] if not line.endswith(_SENTENCE_END))
    broken = sum(1 for line, after in itertools.pairwise(lines) if _broken(line, after))
    if inside < INSIDE_SHARE * (len(lines) - 1) or width > COLUMN_CHARS or not broken:
        return False
    return width <= NARROW_CHARS or broken + min(misreads, 1) >= 2


def _broken(line: str, after: str) -> bool:
    """Does ``line`` end in a word broken with a hyphen that ``after`` (the next line) goes on?"""
    return (
        len(line) > 2
        and line[-1] == "-"
        and line[-2].isalpha()
        and line[-3].isalpha()
        and after[:1].islower()
    )


def scanned_rows(texts: list[str]) -> np.ndarray:
    """:func:`looks_scanned` of each text, as a boolean column."""
    return np.fromiter((looks_scanned(t) for t in texts), dtype=bool, count=len(texts))

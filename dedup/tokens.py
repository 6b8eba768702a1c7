"""Words of normalized text, in every script.

A *word* is a run of word characters as the ``regex`` package defines them (Unicode ``\\w``:
letters, digits, connector punctuation and the combining marks that belong inside a word, so the
vowel signs and viramas of Tamil, Kannada, Malayalam, Gurmukhi, Gujarati, Devanagari and Bengali,
Arabic and Urdu diacritics and Hebrew points stay in their word).

Scripts written without spaces between words — Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar
— have no word runs to find. There a unit is an overlapping *character bigram* (the indexing unit
of Lucene's CJK analyzer): "北京大学" gives "北京", "京大", "大学"; a run of one character is that
character. In Thai, Lao, Khmer and Myanmar a character is a grapheme cluster (a letter with its
vowel signs and tone marks), so a mark is never split from its letter.

The character classes are read from the ``regex`` package's Unicode tables once, at import, and
compiled into a standard-library pattern (a fast bitmap class over the Basic Multilingual Plane),
so the hot path of :mod:`dedup.sketch` stays one ``re`` scan per article; text with characters
beyond that plane or in a script without spaces is scanned with ``regex`` itself, by the same rules.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
import regex

SENTENCE_MARK = "\x1a"
"""Marks a sentence end in text given to :func:`scan` (see :func:`dedup.paragraphs.mark_sentences`):
an ASCII control character that is neither a word character nor whitespace, that no HTML entity
decodes to, and that keeps ASCII text ASCII (so its fast paths stay open)."""
LINE_BREAK = "\n"

_NO_SPACE_SCRIPTS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\u30fc\uff70"
_CLUSTERED_SCRIPTS = regex.compile(r"[\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]")


def unicode_class(pattern: str, *, astral: bool = False) -> str:
    """A standard-library character class body holding every code point that the ``regex``
    pattern ``pattern`` (one character) matches: in the Basic Multilingual Plane, and with
    ``astral`` also in planes 1, 2 and 14."""
    ranges = [(0, 0xD800), (0xE000, 0x10000)]
    if astral:
        ranges += [(0x10000, 0x30000), (0xE0000, 0xE1000)]
    parts = []
    for low, high in ranges:
        block = "".join(map(chr, range(low, high)))
        for match in regex.finditer(f"(?V1)(?:{pattern})+", block):
            first, last = match.group()[0], match.group()[-1]
            parts.append(re.escape(first) + ("-" + re.escape(last) if last != first else ""))
    return "".join(parts)


# Text with no character outside these two BMP classes (nearly all text) is scanned by the
# standard library; anything else by the slower ``regex`` patterns below, with the same rules.
_WORD_BMP = unicode_class(f"[\\w--[{_NO_SPACE_SCRIPTS}]]")
_SPECIAL = re.compile(f"[{unicode_class(f'[{_NO_SPACE_SCRIPTS}]')}\U00010000-\U0010ffff]")
_WORDS = re.compile(f"[{_WORD_BMP}]+")
_SCAN = re.compile(f"[{_WORD_BMP}]+|{LINE_BREAK}|{SENTENCE_MARK}")
_MIXED = regex.compile(
    f"(?V1)([{_NO_SPACE_SCRIPTS}]+)|[\\w--[{_NO_SPACE_SCRIPTS}]]+|{LINE_BREAK}|{SENTENCE_MARK}"
)


def plain(normalized_text: str) -> bool:
    """True when every word character of ``normalized_text`` is in :func:`word_table` (nothing
    beyond the Basic Multilingual Plane, no script written without spaces)."""
    return normalized_text.isascii() or not _SPECIAL.search(normalized_text)


@lru_cache(maxsize=1)
def word_table() -> np.ndarray:
    """``word_table()[c]`` is True when code point ``c`` (Basic Multilingual Plane) is a word
    character of plain text: the class of :func:`tokenize`, as a lookup table for numpy."""
    table = np.zeros(0x10000, dtype=bool)
    for match in _WORDS.finditer("".join(map(chr, range(0x10000)))):
        table[match.start() : match.end()] = True
    return table


@lru_cache(maxsize=1)
def digit_table() -> np.ndarray:
    """``digit_table()[c]`` is True when code point ``c`` (Basic Multilingual Plane) is a decimal
    digit (``str.isdecimal``, any script): :func:`dedup.shingles.is_number` for numpy."""
    return np.array([chr(c).isdecimal() for c in range(0x10000)], dtype=bool)


def tokenize(normalized_text: str) -> list[str]:
    """Words of an already normalized text (bigrams in scripts without spaces)."""
    if plain(normalized_text):
        return _WORDS.findall(normalized_text)
    return [t for t in _scan_mixed(normalized_text) if t not in (LINE_BREAK, SENTENCE_MARK)]


def scan(normalized_text: str) -> list[str]:
    """Words, line breaks and sentence marks of a normalized text, in text order."""
    if plain(normalized_text):
        return _SCAN.findall(normalized_text)
    return _scan_mixed(normalized_text)


def _scan_mixed(text: str) -> list[str]:
    out: list[str] = []
    for match in _MIXED.finditer(text):
        if match.lastindex is None:
            out.append(match.group())
        else:
            out += bigrams(match.group())
    return out


def bigrams(run: str) -> list[str]:
    """The units of a run of a script written without spaces (see the module docstring)."""
    chars = regex.findall(r"\X", run) if _CLUSTERED_SCRIPTS.search(run) else list(run)
    if len(chars) < 2:
        return chars
    return [a + b for a, b in pairwise(chars)]


_DISPLAY_UNIT = regex.compile(f"(?V1)[{_NO_SPACE_SCRIPTS}]\\p{{M}}*|[^{_NO_SPACE_SCRIPTS}]+")
_NO_SPACE_CHAR = regex.compile(f"[{_NO_SPACE_SCRIPTS}]")


def display_units(text: str) -> list[str]:
    """The units a word-level diff shows: whitespace-separated words, but each character (with its
    marks) of a script written without spaces, so a one-character edit in Chinese marks one character."""
    units: list[str] = []
    for word in text.split():
        units += _DISPLAY_UNIT.findall(word) if _NO_SPACE_CHAR.search(word) else [word]
    return units


def join_units(units: list[str]) -> str:
    """Display units back into text: a space between them, none next to a character of a script
    written without spaces or a full-width one (CJK punctuation)."""
    out: list[str] = []
    for unit in units:
        if out and not (_unspaced(unit[:1]) or _unspaced(out[-1][-1:])):
            out.append(" ")
        out.append(unit)
    return "".join(out)


def _unspaced(char: str) -> bool:
    return bool(char) and (
        bool(_NO_SPACE_CHAR.match(char)) or unicodedata.east_asian_width(char) in ("W", "F")
    )


FIGURES_AGREE = 0.5
"""Two texts agree on their figures when this share of the smaller one's numbers is in the other
(paragraphs in ``--preset reuse``, sentences in the semantic check)."""


_FRACTION = r"\d+(?:-\d+)?(?:/\d+)+"
_WHOLE_NUMBER = re.compile(_FRACTION + r"|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
"""A fraction or a date in slashes (``6-3/16``, ``02/24/2017``), a count in thousands, a decimal."""
_DIGITS = re.compile(r"\d+")


def whole_numbers(text: str) -> set[str]:
    """The numbers of a text as they are written, each whole: ``1,225,000`` is ``1225000``,
    ``51.50`` is ``51.5``, a fraction or a date in slashes one number (``6-3/16``, ``5/8``,
    ``02/24/2017`` as ``2/24/2017``); digits in any script as ASCII, no leading zeros, no trailing
    decimal zeros. Paragraphs compare these (``reworded_figures_agree``): read as tokens,
    ``51.00`` and ``51.50`` would share ``51``, any two counts in thousands their ``000``, and
    the rates ``6-3/16`` and ``6-1/16`` pct their ``6`` and ``16``. The semantic check reads
    only its sentences' decimals and fractions whole (:func:`decimals_whole`): with every number
    whole, COUNTER's rewritten pairs found fell (WD 0.815 → 0.800, ``benchmarks/README.md``)."""
    out = set()
    for found in _WHOLE_NUMBER.findall(text):
        if "/" in found:
            out.add(_DIGITS.sub(lambda digits: figure(digits.group()), found))
            continue
        whole, _, part = found.replace(",", "").partition(".")
        part = "".join(figure(digit) for digit in part).rstrip("0")
        out.add(figure(whole) + ("." + part if part else ""))
    return out


_UNITS = "one two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
SPELLED_NUMBERS: dict[str, int] = {
    **{word: n for n, word in enumerate(["zero", *_UNITS, *_TEENS])},
    **{word: 10 * n for n, word in enumerate(_TENS, start=2)},
}
"""English numbers under a hundred written out, and their values ("Qtly div five cts"; news
agencies spell those below ten): read as figures here, masked as numbers in forms."""
_WRITTEN_NUMBER = re.compile(
    rf"\b(?:({'|'.join(_TENS)})[- ]({'|'.join(_UNITS)})|({'|'.join(SPELLED_NUMBERS)}))\s+"
    r"(?=(?:hundred|thousand|million|mln|billion|trillion|pct|percent|per\s+cent|dlrs?|dollars?|cents?|cts"
    r"|points?|pence|francs?|yen|stg|marks)\b)",
    re.IGNORECASE,
)


def written_numbers(text: str) -> set[str]:
    """The numbers a text writes out before a scale or a unit ("two billion dlrs", "six pct",
    "twenty-five pct"), as :func:`whole_numbers` would read them in digits. Not a bare number word:
    "one of the", "the two companies" are no figures."""
    out = set()
    for tens, unit, alone in _WRITTEN_NUMBER.findall(text):
        value = (
            SPELLED_NUMBERS[alone.lower()]
            if alone
            else SPELLED_NUMBERS[tens.lower()] + SPELLED_NUMBERS[unit.lower()]
        )
        out.add(str(value))
    return out


_NAME_WORD = regex.compile(r"\p{L}+(?:['’.-]\p{L}+)*")
_SENTENCE_END = ".!?"
_POSSESSIVE = re.compile(r"['’]s$")
_BEFORE_A_WORD = frozenset(" \t\n\"'“‘(<")


def names(text: str) -> set[str]:
    """The names a text gives: its capitalized words that open no sentence, lowercased, without a
    possessive, each part of a hyphenated one apart ("Tralee, Co-Kerry" gives ``tralee``, ``co``
    and ``kerry``; "Browning-Ferris Industries Inc said its board" ``industries`` and ``inc``).
    The first word of a text may open a sentence, so it is none. A text set in capitals or title
    case (two thirds of its other words capitalized, two or more: a headline) gives none; nor does
    a script without case."""
    inside = []
    for word in _NAME_WORD.finditer(text):
        at = word.start() - 1
        while at >= 0 and text[at] in _BEFORE_A_WORD:
            at -= 1
        if at >= 0 and text[at] not in _SENTENCE_END:
            inside.append(word.group())
    capitalized = [w for w in inside if w[0].isupper()]
    if len(capitalized) >= 2 and 3 * len(capitalized) >= 2 * len(inside):
        return set()
    return {part for w in capitalized for part in _POSSESSIVE.sub("", w.lower()).split("-")}


def names_agree(shared: Any, smaller: Any) -> Any:
    """Whether two texts agree on their names: ``shared`` of them in both, ``smaller`` the count of
    the text with fewer. More than half of its names must be in the other, or it gives none (one
    formula written for two companies names other companies). Counts or arrays of counts."""
    return (smaller == 0) | (2 * shared > smaller)


_DECIMAL_OR_FRACTION = re.compile(_FRACTION + r"|\d+\.\d+")


def decimals_whole(text: str, numbers: list[str]) -> list[str]:
    """``numbers``, a text's tokens of digits (:func:`figure` of each), with each decimal or
    fraction of ``text`` whose digits are all among them read as one number (:func:`whole_numbers`):
    ``0.50`` is ``0.5``, not ``0`` and ``50``, which agreed with every other price ending in 50
    cents. Only where the tokens read the digits: :func:`whole_numbers` also reads digits glued to
    Urdu letters ("کے30"), and with it the semantic check lost two of COUNTER's wholly derived
    pairs. Counts in thousands stay apart (``40,500`` is ``40`` and ``500``)."""
    out = list(numbers)
    for found in _DECIMAL_OR_FRACTION.findall(text):
        parts = Counter(figure(digits) for digits in _DIGITS.findall(found))
        if not parts - Counter(out):
            for part in parts.elements():
                out.remove(part)
            out.extend(whole_numbers(found))
    return out


def figure(word: str) -> str:
    """A token of decimal digits (``str.isdecimal``) as ASCII digits without leading zeros."""
    return "".join(str(unicodedata.decimal(c)) for c in word).lstrip("0") or "0"

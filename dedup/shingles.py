"""Word shingles of normalized text, hashed to 32-bit integers.

Tokens are the words of :func:`dedup.tokens.tokenize` (any script). Each distinct token is hashed once with
BLAKE2b (stable across processes and ``PYTHONHASHSEED``); a shingle of ``k`` consecutive tokens is
hashed by a position-weighted sum of its token hashes in wrapping 64-bit arithmetic, mixed with the
MurmurHash3 finalizer and folded to 32 bits, all vectorized with numpy. A text with fewer than
``k`` tokens is one shingle of all its tokens.

The result is a sorted array of distinct ``uint32`` shingle hashes: the input of both the MinHash
signatures and the exact Jaccard / containment of verified pairs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from .normalize import normalize
from .tokens import LINE_BREAK, SENTENCE_MARK, SPELLED_NUMBERS, digit_table, tokenize

_U64 = np.uint64
# Odd 64-bit multipliers, one per position in a shingle (up to 64 words): fixed forever, since
# they define every stored shingle hash. Generated once from a fixed-seed SplitMix64 sequence.
POSITION_MULTIPLIERS: np.ndarray


def _splitmix64(n: int, state: int = 0x5EED_D0D0) -> np.ndarray:
    out = []
    mask = (1 << 64) - 1
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out.append((z ^ (z >> 31)) | 1)
    return np.array(out, dtype=_U64)


POSITION_MULTIPLIERS = _splitmix64(64)
SENTENCE_END = 0x5E5E_5E5E_0000_0001
"""Reserved hash of a sentence mark in :mod:`dedup.sketch`'s scan."""
LINE_END = 0x5E5E_5E5E_0000_0002
"""Reserved hash of a line end in :mod:`dedup.sketch`'s scan."""
NUMBER = 0x5E5E_5E5E_0000_0003
"""Reserved hash standing for each run of numbers (:func:`is_number`) in a line's *form*
(:func:`form_hashes`)."""
_TOKEN_MULTIPLIER = 0xD6E8FEB86659FD93  # odd, so invertible modulo 2**64
_TOKEN_INVERSE = pow(_TOKEN_MULTIPLIER, -1, 1 << 64)
MAX_RUN_BLOCK = 1 << 21
"""Code points hashed in one numpy pass (bounds the temporaries of :func:`run_hashes`)."""


def code_points(text: str) -> np.ndarray:
    """The code points of ``text`` as ``uint32`` (one per character, lone surrogates included)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def run_hashes(points: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The token hash of every run ``points[start:end]`` (code points of one token).

    ``sum(c[k] * T**(k - start))`` in wrapping 64-bit arithmetic, mixed with the MurmurHash3
    finalizer: computed for all runs at once from prefix sums, ``len(points)`` at most
    :data:`MAX_RUN_BLOCK` (see :func:`token_hashes` for any length).
    """
    n = points.size
    with np.errstate(over="ignore"):
        prefix = np.zeros(n + 1, dtype=_U64)
        np.cumsum(points * _powers(_TOKEN_MULTIPLIER, n), dtype=_U64, out=prefix[1:])
        return fmix64((prefix[ends] - prefix[starts]) * _powers(_TOKEN_INVERSE, n + 1)[starts])


def _long_token_hash(token: str) -> int:
    """:func:`run_hashes` of one token longer than a block, block by block."""
    total, scale, mask = 0, 1, (1 << 64) - 1
    for start in range(0, len(token), MAX_RUN_BLOCK):
        points = code_points(token[start : start + MAX_RUN_BLOCK]).astype(_U64)
        with np.errstate(over="ignore"):
            part = np.sum(points * _powers(_TOKEN_MULTIPLIER, points.size), dtype=_U64)
        total = (total + int(part) * scale) & mask
        scale = (scale * pow(_TOKEN_MULTIPLIER, points.size, 1 << 64)) & mask
    return int(fmix64(np.array([total], dtype=_U64))[0])


def token_hashes(tokens: list[str]) -> np.ndarray:
    """The 64-bit hash of every token (``uint64``); a line break or sentence mark gets its
    reserved hash (:data:`LINE_END`, :data:`SENTENCE_END`). Vectorized: no call per token."""
    out = np.empty(len(tokens), dtype=_U64)
    lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    ends = np.cumsum(lengths)
    first = 0
    while first < len(tokens):  # blocks of tokens holding at most MAX_RUN_BLOCK code points
        base = ends[first] - lengths[first]
        last = max(int(np.searchsorted(ends, base + MAX_RUN_BLOCK, side="right")), first + 1)
        if lengths[first] > MAX_RUN_BLOCK:
            out[first] = _long_token_hash(tokens[first])
        else:
            points = code_points("".join(tokens[first:last]))
            out[first:last] = run_hashes(
                points, ends[first:last] - lengths[first:last] - base, ends[first:last] - base
            )
        first = last
    single = lengths == 1
    if single.any():
        out[single & np.array([t == LINE_BREAK for t in tokens])] = LINE_END
        out[single & np.array([t == SENTENCE_MARK for t in tokens])] = SENTENCE_END
    return out


def sorted_unique(values: np.ndarray, *, return_index: bool = False) -> Any:
    """``np.unique(values)`` (and the first index of each value), by sorting.

    numpy 2.3+ answers ``np.unique`` with a hash table, 10-200x slower here than one sort on the
    small arrays of an article and on the large ones of a collection alike.
    """
    order = np.argsort(values, kind="stable") if return_index else None
    ordered = values[order] if order is not None else np.sort(values)
    new = np.ones(ordered.size, dtype=bool)
    if ordered.size > 1:
        np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    if order is not None:
        return ordered[new], order[new]
    return ordered[new]


def is_member(values: np.ndarray, sorted_set: np.ndarray, *, block: int = 1 << 20) -> np.ndarray:
    """``values`` found in ``sorted_set`` (a small sorted array), block by block: no full-size
    temporaries beside the answer."""
    found = np.zeros(values.size, dtype=bool)
    if sorted_set.size == 0:
        return found
    for start in range(0, values.size, block):
        part = values[start : start + block]
        slot = np.minimum(np.searchsorted(sorted_set, part), sorted_set.size - 1)
        found[start : start + block] = sorted_set[slot] == part
    return found


def hash_array(hashes: Iterable[int]) -> np.ndarray:
    """A set of 64-bit hashes as a sorted ``uint64`` array (for :func:`is_member`)."""
    return np.sort(np.fromiter(hashes, dtype=np.uint64))


def fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> _U64(33))


def shingle_hashes(tokens: list[str], size: int) -> np.ndarray:
    """Sorted distinct ``uint32`` hashes of the ``size``-word shingles of ``tokens``."""
    return shingles_of_hashes(token_hashes(tokens), size)


def shingles_of_hashes(token_hashes: np.ndarray, size: int) -> np.ndarray:
    """:func:`shingle_hashes` from the tokens' hashes."""
    if token_hashes.size == 0:
        return np.empty(0, dtype=np.uint32)
    tokens = token_hashes
    width = min(size, len(tokens))
    count = len(tokens) - width + 1
    combined = np.zeros(count, dtype=_U64)
    with np.errstate(over="ignore"):
        for position in range(width):
            combined += tokens[position : position + count] * POSITION_MULTIPLIERS[position]
    return sorted_unique(fold32(combined))


def fold32(combined: np.ndarray) -> np.ndarray:
    """32-bit shingle hashes from the position-weighted sums of their words' hashes."""
    with np.errstate(over="ignore"):
        mixed = fmix64(combined)
    return (mixed ^ (mixed >> _U64(32))).astype(np.uint32)


ANCHOR_MIN_WORDS = 8
"""Sentences of at least this many words are anchors (see :func:`anchor_hashes`)."""


_SEQUENCE_MULTIPLIER = 0x9E3779B97F4A7C15  # odd, so invertible modulo 2**64
_SEQUENCE_INVERSE = pow(_SEQUENCE_MULTIPLIER, -1, 1 << 64)


_POWER_TABLES: dict[int, np.ndarray] = {}


def _powers(base: int, count: int) -> np.ndarray:
    """``base ** k`` for k < count, modulo 2**64 (tables cached and grown by doubling)."""
    table = _POWER_TABLES.get(base)
    if table is None or table.size < count:
        size = max(4096, 1 << max(count - 1, 1).bit_length())
        with np.errstate(over="ignore"):
            steps = np.full(size, base, dtype=_U64)
            steps[0] = 1
            table = np.cumprod(steps, dtype=_U64)
        _POWER_TABLES[base] = table
    return table[:count]


def segment_hashes(token_hashes: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """One 64-bit hash per run ``token_hashes[start:end]`` of words (a sentence, a line).

    ``sum(h[k] * M**(k - start))`` in wrapping 64-bit arithmetic, mixed with the MurmurHash3
    finalizer; computed for all runs at once from prefix sums, and equal to
    :func:`sequence_hash` of the same words.
    """
    n = token_hashes.size
    with np.errstate(over="ignore"):
        prefix = np.zeros(n + 1, dtype=_U64)
        np.cumsum(token_hashes * _powers(_SEQUENCE_MULTIPLIER, n), dtype=_U64, out=prefix[1:])
        inverse = _powers(_SEQUENCE_INVERSE, n + 1)
        return fmix64((prefix[ends] - prefix[starts]) * inverse[starts])


def passage_hashes(sentences: np.ndarray, firsts: np.ndarray) -> np.ndarray:
    """The hash of each passage of two consecutive anchor sentences ``firsts[k]`` and
    ``firsts[k] + 1`` (their :func:`segment_hashes`)."""
    with np.errstate(over="ignore"):
        return fmix64(sentences[firsts] ^ (sentences[firsts + 1] * _U64(_SEQUENCE_MULTIPLIER)))


def sequence_hash(tokens: list[str]) -> int:
    """The hash of one word sequence (see :func:`segment_hashes`)."""
    return int(sequence_hashes([tokens])[0])


def sequence_hashes(sequences: list[list[str]]) -> np.ndarray:
    """:func:`sequence_hash` of many word sequences, all at once."""
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    ends = np.cumsum(lengths)
    return segment_hashes(token_hashes([w for words in sequences for w in words]), ends - lengths, ends)


NUMBER_WORDS = frozenset({*SPELLED_NUMBERS, "hundred", "thousand"})
"""English numbers written out (:data:`~dedup.tokens.SPELLED_NUMBERS`, and the two scales)."""


def is_number(word: str) -> bool:
    """A word that starts with a decimal digit (in any script: "12", "4th", "1990s") or is one of
    :data:`NUMBER_WORDS`: a figure or a date, in a form. ("G7" or "w123" are names.)"""
    return word in NUMBER_WORDS or (word[:1].isdecimal())


@lru_cache(maxsize=1)
def number_word_hashes() -> np.ndarray:
    """The sorted hashes of :data:`NUMBER_WORDS` (for :func:`is_member`)."""
    return np.sort(token_hashes(sorted(NUMBER_WORDS)))


def form_hashes(sequences: list[list[str]]) -> np.ndarray:
    """The *form* of each word sequence (a line): the :func:`sequence_hash` of its words with each
    run of numbers (:func:`is_number`) replaced by one :data:`NUMBER` — "Shr 14 cts vs 12 cts" and
    "Shr 22 cts vs 18 cts" have one form, and so have "div 17 cts" and "div 12.5 cts" (the words
    "12" "5") — or 0 for a sequence without such a word. No form equals a line's own hash (no word
    hashes to :data:`NUMBER`); :func:`dedup.sketch` computes the same values."""
    return lines_and_forms(sequences)[2]


def lines_and_forms(sequences: list[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The words' :func:`token_hashes` (all sequences one after the other), and the
    :func:`sequence_hashes` and :func:`form_hashes` of the sequences, their words hashed once."""
    flat = [w for words in sequences for w in words]
    hashes = token_hashes(flat)
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    ends = np.cumsum(lengths)
    starts = ends - lengths
    numeric = _numbers(flat, hashes)
    return hashes, segment_hashes(hashes, starts, ends), masked_segment_hashes(hashes, numeric, starts, ends)


def _numbers(words: list[str], hashes: np.ndarray) -> np.ndarray:
    """:func:`is_number` of every word, with numpy (words beyond the Basic Multilingual Plane one by one)."""
    points = code_points("".join(words))
    if points.size and int(points.max()) > 0xFFFF:
        return np.fromiter(map(is_number, words), dtype=bool, count=len(words))
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    starts = np.cumsum(lengths) - lengths
    first = np.zeros(len(words), dtype=bool)
    first[lengths > 0] = digit_table()[points[starts[lengths > 0]]]
    return first | is_member(hashes, number_word_hashes())


def masked_segment_hashes(
    token_hashes: np.ndarray, numeric: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    """:func:`segment_hashes` with each run of ``numeric`` words replaced by one :data:`NUMBER`; 0
    for a segment without a numeric word (see :func:`form_hashes`)."""
    counts = np.concatenate(([0], np.cumsum(numeric, dtype=np.int64)))
    out = np.zeros(starts.size, dtype=_U64)
    runs = np.flatnonzero(counts[ends] > counts[starts])  # hashed: only the runs with a number
    if runs.size:
        lengths = ends[runs] - starts[runs]
        ends_within = np.cumsum(lengths)
        words = np.arange(ends_within[-1]) + np.repeat(starts[runs] - (ends_within - lengths), lengths)
        masked = np.where(numeric[words], _U64(NUMBER), token_hashes[words])
        firsts = ends_within - lengths
        kept = np.ones(words.size, dtype=bool)  # a number right after a number of its segment: one run
        kept[1:] = ~(numeric[words[1:]] & numeric[words[:-1]])
        kept[firsts] = True
        kept_lengths = np.add.reduceat(kept.astype(np.int64), firsts)
        kept_ends = np.cumsum(kept_lengths)
        out[runs] = segment_hashes(masked[kept], kept_ends - kept_lengths, kept_ends)
    return out


def anchor_hashes(sentences: list[list[str]]) -> np.ndarray:
    """Sorted distinct hashes of the sentences (given as their words) that have at least
    :data:`ANCHOR_MIN_WORDS` words: two articles sharing one have reused a sentence verbatim."""
    return sorted_unique(sequence_hashes([words for words in sentences if len(words) >= ANCHOR_MIN_WORDS]))


def text_shingles(text: str, size: int) -> np.ndarray:
    """Shingle hashes of a raw text (normalized here)."""
    return shingle_hashes(tokenize(normalize(text)), size)


CHARACTER_GRAM = 8
"""Letters and digits per shingle of a scanned article's second sketch (:func:`character_shingles`)."""
_NOT_ALNUM = re.compile(r"[\W_]+")


def shingles_per_row(
    hashes: np.ndarray, rows: np.ndarray, words: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct shingle hashes of every row (as :func:`~dedup.shingles.shingles_of_hashes`), sorted
    by row then hash: the rows of the shingles, the shingles, and the index of each one's first
    word (its first occurrence)."""
    count = max(hashes.size - size + 1, 0)
    combined = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for position in range(min(size, hashes.size)):
            combined += hashes[position : position + count] * POSITION_MULTIPLIERS[position]
    inside = rows[:count] == rows[size - 1 : size - 1 + count]  # the window is in one article
    keys = [(rows[:count][inside].astype(np.uint64) << np.uint64(32)) | fold32(combined[inside])]
    first_words = [np.flatnonzero(inside)]
    firsts = np.cumsum(words) - words
    for row in np.flatnonzero((words > 0) & (words < size)).tolist():  # shorter than a shingle
        whole = shingles_of_hashes(hashes[firsts[row] : firsts[row] + words[row]], size)
        keys.append((np.uint64(row) << np.uint64(32)) | whole.astype(np.uint64))
        first_words.append(np.full(whole.size, firsts[row]))
    unique, index = sorted_unique(np.concatenate(keys), return_index=True)
    first = np.concatenate(first_words).astype(np.int64)[index]
    return (
        (unique >> np.uint64(32)).astype(np.int32),
        (unique & np.uint64(0xFFFFFFFF)).astype(np.uint32),
        first,
    )


def character_shingles(texts: Sequence[str], size: int = CHARACTER_GRAM) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``size``-character shingles of each text's letters and digits (normalized,
    spaces, punctuation and line ends dropped), as ``(rows, 32-bit hashes)`` sorted by row then
    hash (:func:`shingles_per_row` over the characters); a text shorter than ``size`` (with any)
    is one shingle. OCR misreads a glyph, splits or joins words: a misread character breaks the
    ``size`` shingles over it and no more, where it breaks every word shingle over its word, and a
    word split or joined breaks none."""
    cleaned = [_NOT_ALNUM.sub("", normalize(text)) for text in texts]
    lengths = np.array([len(c) for c in cleaned], dtype=np.int64)
    points = np.frombuffer("".join(cleaned).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    shingle_rows, shingles, _ = shingles_per_row(points + np.uint64(1), rows, lengths, size)
    return shingle_rows, shingles

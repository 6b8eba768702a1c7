"""Sketching: everything the later stages need from one article, computed in one pass over it.

The text is split into the units alignment compares (:func:`dedup.paragraphs.split_paragraphs`) and
their lines normalized in one pass (:func:`dedup.normalize.normalize_lines`). One regular-expression
scan then yields the words together with sentence ends (``. ! ?`` before a space, ``۔ ؟ ।``) and
line ends, every word is hashed once, and from those hashes, with numpy:

- a 128-bit digest of the words' hashes: articles with equal digests are exact copies;
- the MinHash signature of the word shingles (:mod:`dedup.signatures`) and the shingle count;
- anchors: hashes of the sentences of 8+ words, for the anchor candidates of :mod:`dedup.candidates`;
- the distinct lines, as hashes of their words with their lengths, for :mod:`dedup.boilerplate`.

A sketch is a few hundred bytes whatever the article's length, so a million of them fit in memory
when the texts do not; texts are fetched again only for candidate pairs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np

from .normalize import normalize_lines
from .paragraphs import split_paragraphs
from .shingles import (
    _MARKS,
    ANCHOR_MIN_WORDS,
    LINE_END,
    SENTENCE_END,
    segment_hashes,
    shingles_of_hashes,
    token_hashes,
)
from .signatures import signature

# words, sentence ends (empty matches) and line ends, in text order
_SCAN = re.compile(rf"[\w{_MARKS}]+|(?<=[.!?])(?=\s|$)|(?<=[\u06d4\u061f\u0964])|\n")


@dataclass(frozen=True, slots=True)
class Sketch:
    """What the pipeline keeps of one article (its text is not kept)."""

    words: int
    digest: bytes
    signature: np.ndarray
    shingles: int
    anchors: np.ndarray
    line_hashes: np.ndarray
    line_chars: np.ndarray


def _runs(segment_of_word: np.ndarray, min_words: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of equal (non-decreasing) segment ids with at least ``min_words`` words: their ids,
    first word and end."""
    if segment_of_word.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    starts = np.flatnonzero(np.diff(segment_of_word, prepend=-1))
    ends = np.append(starts[1:], segment_of_word.size)
    keep = ends - starts >= min_words
    return segment_of_word[starts[keep]], starts[keep], ends[keep]


def sketch(text: str, *, shingle_size: int, num_perm: int, seed: int) -> Sketch:
    """The :class:`Sketch` of one raw text."""
    lines = normalize_lines("\n".join(split_paragraphs(text)))
    # one hash per item; the two kinds of break have reserved hashes
    every = token_hashes(_SCAN.findall("\n".join(lines)))
    sentence_end, line_end = every == SENTENCE_END, every == LINE_END
    is_word = ~(sentence_end | line_end)
    hashes = every[is_word]
    # for every word: how many sentence/line ends, and how many line ends, come before it
    breaks = np.cumsum(~is_word)[is_word]
    line_of = np.cumsum(line_end)[is_word]
    _, starts, ends = _runs(breaks, ANCHOR_MIN_WORDS)
    anchors = np.unique(segment_hashes(hashes, starts, ends))
    line_ids, starts, ends = _runs(line_of, 1)
    line_hashes, first = np.unique(segment_hashes(hashes, starts, ends), return_index=True)
    shingles = shingles_of_hashes(hashes, shingle_size)
    return Sketch(
        words=int(hashes.size),
        digest=hashlib.blake2b(hashes.tobytes(), digest_size=16).digest(),
        signature=signature(shingles, num_perm, seed),
        shingles=len(shingles),
        anchors=anchors,
        line_hashes=line_hashes,
        line_chars=np.array([len(lines[i]) for i in line_ids[first]], dtype=np.uint32),
    )

"""Sketching: everything the later stages need from one article, computed in one pass over it.

The text is split into the units alignment compares (:func:`dedup.paragraphs.split_paragraphs`) and
their lines normalized in one pass (:func:`dedup.normalize.normalize_lines`); from that:

- the words, and a 128-bit digest of them: articles with equal digests are exact copies;
- the MinHash signature of the word shingles (:mod:`dedup.signatures`) and the shingle count;
- anchors: hashes of the sentences of 8+ words (sentences end at ``. ! ? ۔ ؟ ।`` followed by a
  space, or at a line end), for the anchor candidates of :mod:`dedup.candidates`;
- the distinct normalized lines, as hashes with their lengths, for :mod:`dedup.boilerplate`.

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
from .shingles import anchor_hashes, shingle_hashes, stable_hash, tokenize
from .signatures import signature

_SENTENCE_BREAK = re.compile(r"(?<=[.!?\u06d4\u061f\u0964])\s+|(?<=[\u06d4\u061f\u0964])")


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


def sketch(text: str, *, shingle_size: int, num_perm: int, seed: int) -> Sketch:
    """The :class:`Sketch` of one raw text."""
    # the lines of the alignment units, so that boilerplate lines are the lines alignment sees
    lines = normalize_lines("\n".join(split_paragraphs(text)))
    sentences = [tokenize(piece) for line in lines if line for piece in _SENTENCE_BREAK.split(line)]
    tokens = [token for words in sentences for token in words]
    distinct = sorted(set(filter(None, lines)))
    shingles = shingle_hashes(tokens, shingle_size)
    return Sketch(
        words=len(tokens),
        digest=hashlib.blake2b(" ".join(tokens).encode("utf-8"), digest_size=16).digest(),
        signature=signature(shingles, num_perm, seed),
        shingles=len(shingles),
        anchors=anchor_hashes(sentences),
        line_hashes=np.array([stable_hash(line) for line in distinct], dtype=np.uint64),
        line_chars=np.array([len(line) for line in distinct], dtype=np.uint32),
    )

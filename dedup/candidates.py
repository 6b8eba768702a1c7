"""Candidate pairs: articles worth aligning, from two sources.

1. **MinHash LSH bands.** The signature is cut into ``b`` bands of ``r`` rows, with ``(b, r)``
   chosen by datasketch's own optimiser for the Jaccard threshold (:func:`lsh_bands`); two
   articles are candidates when any band is equal. :func:`band_pairs` does this by sorting one
   band at a time over the whole corpus (numpy), which gives exactly the pairs that datasketch's
   ``MinHashLSH`` gives (:func:`lsh_pairs`, kept as the reference and tested against).
2. **Sentence anchors.** MinHash finds pairs by Jaccard, which is small when a short text sits
   inside a long one (an extractive summary, a wire story inside a longer page). Articles sharing
   one sentence of 8+ words verbatim are candidates whatever their Jaccard (:func:`anchor_pairs`)
   — unless more than ``anchor_alone_max_docs`` (4) articles hold that sentence: then it is a template
   (a dividend notice's formula, a question quoted in every reply), and only two consecutive
   sentences shared (a *passage*) pair articles.

Work is bounded: a band value shared by more than ``lsh_max_bucket`` articles (64), or a passage
shared by more than ``anchor_max_docs`` (50) — site furniture, a story copied a thousand times —
does not pair all of them: each carrier is paired with its next ``crowded_window`` (4)
neighbours by id instead (:func:`bucket_pairs`, the one rule for every engine), which keeps a group of real copies connected at linear cost (template
sentences are counted in the summary).

Both sources sit behind one interface, :class:`CandidateIndex`: ``insert`` a batch of sketch-table
rows, ``query`` a batch for its candidate pairs. :class:`BatchIndex` answers by sorting all rows at
once (the self-join of a whole collection); an archive (:mod:`dedup.archive`) looks the same keys up
among its stored ones and applies the same bucket rule (:func:`bucket_pairs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np
from datasketch import MinHashLSH

from .config import DedupConfig
from .shingles import fmix64, is_member, sorted_unique
from .signatures import to_lean_minhash
from .sketch import SketchTable

_U64 = np.uint64
_BAND_MULTIPLIERS = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
     0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9],
    dtype=_U64,
)  # fmt: skip


@lru_cache(maxsize=64)
def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """The ``(bands, rows per band)`` datasketch chooses for this threshold (its optimiser
    integrates numerically: worked out once per setting, then remembered)."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def lsh_pairs(signatures: np.ndarray, *, threshold: float, seed: int) -> list[tuple[int, int]]:
    """Reference implementation: sorted row pairs from datasketch's ``MinHashLSH``.

    Each query's answer is a set whose order depends on ``PYTHONHASHSEED``; the pairs are
    collected into a set and returned sorted.
    """
    lsh = MinHashLSH(threshold=threshold, num_perm=signatures.shape[1])
    minhashes = [to_lean_minhash(row, seed) for row in signatures]
    with lsh.insertion_session() as session:
        for row, minhash in enumerate(minhashes):
            session.insert(row, minhash, check_duplication=False)
    pairs = {(min(row, other), max(row, other)) for row, m in enumerate(minhashes) for other in lsh.query(m)}
    return sorted((a, b) for a, b in pairs if a != b)


SCANNED_CANDIDATE_THRESHOLD = 0.08
"""Scanned articles (:mod:`dedup.scans`) are also candidates of one another from LSH bands tuned
for this Jaccard over their second sketch of 8-character shingles (two scans of one story at a
3-6% character error rate: 0.1-0.4; unrelated articles: under 0.05), computed for the scanned
articles only: a collection with none costs nothing more."""
_SCANNED_SALT = np.uint64(0xD6E8FEB86659FD93)


def scanned_bands(config: DedupConfig) -> tuple[int, int] | None:
    """The ``(bands, rows per band)`` scanned articles are also joined by (over their second
    sketch), or None (scans not detected)."""
    if not config.detect_scans:
        return None
    return lsh_bands(SCANNED_CANDIDATE_THRESHOLD, config.num_perm)


def salted_bands(signatures: np.ndarray, bands: int, rows_per_band: int, scanned: bool = False) -> np.ndarray:
    """``(n, bands)`` keys of the bands of ``n`` signatures, each salted by its band's number (and
    for the scanned articles' bands by their kind): one key space for every band — the archive's
    stored keys and Spark's ``groupBy``."""
    block = signatures[:, : bands * rows_per_band].reshape(len(signatures), bands, rows_per_band)
    with np.errstate(over="ignore"):
        salt = np.arange(1, bands + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        if scanned:
            salt ^= _SCANNED_SALT
        return fmix64(band_keys(block) ^ salt)


def band_keys(block: np.ndarray) -> np.ndarray:
    """One 64-bit key per row of a ``(..., r)`` block of signature values (equal rows, equal keys):
    a ``(n, r)`` band gives ``n`` keys, a ``(n, bands, r)`` block ``(n, bands)``."""
    with np.errstate(over="ignore"):
        key = np.zeros(block.shape[:-1], dtype=_U64)
        for column in range(block.shape[-1]):
            key = (key ^ block[..., column].astype(_U64)) * _BAND_MULTIPLIERS[column % len(_BAND_MULTIPLIERS)]
            key ^= key >> _U64(29)
    return key


def bucket_pairs(size: int, *, max_bucket: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs one bucket gives, as positions ``(i, j)``, ``i < j``, of its ``size`` members in
    id order: all of them up to ``max_bucket`` members; beyond, each member with its next
    ``window`` only. A pure function of one bucket: the batch self-join, the archive's lookup and
    Spark's ``groupBy`` all apply it."""
    if size <= max_bucket:
        return np.triu_indices(size, k=1)
    i = np.repeat(np.arange(size), window)
    j = i + np.tile(np.arange(1, window + 1), size)
    keep = j < size
    return i[keep], j[keep]


def pairs_in_buckets(
    keys: np.ndarray, members: np.ndarray, order_key: np.ndarray, max_bucket: int, window: int
) -> np.ndarray:
    """Pairs ``(i, j)`` of ``members`` with equal ``keys`` (:func:`bucket_pairs` of each bucket),
    as an ``(n, 2)`` array with i < j.

    ``order_key`` orders members canonically (by id), so the crowded-run windows do not depend on
    the input order.
    """
    order = np.lexsort((order_key, keys))
    keys, members = keys[order], members[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    out = []
    # buckets of two, the common case, all at once
    two = starts[sizes == 2]
    if two.size:
        out.append(np.stack([members[two], members[two + 1]], axis=1))
    for start, size in zip(starts[sizes > 2], sizes[sizes > 2], strict=True):
        run = members[start : start + size]
        i, j = bucket_pairs(int(size), max_bucket=max_bucket, window=window)
        out.append(np.stack([run[i], run[j]], axis=1))
    if not out:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(out).astype(np.int64)
    return np.sort(pairs, axis=1)


def unique_pairs(chunks: list[np.ndarray], size: int) -> np.ndarray:
    if not chunks:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(chunks)
    codes = sorted_unique(pairs[:, 0] * size + pairs[:, 1])
    return np.stack([codes // size, codes % size], axis=1)


def band_pairs(
    signatures: np.ndarray, rows: np.ndarray, order_key: np.ndarray, *, bands: int, rows_per_band: int,
    max_bucket: int, window: int,
) -> np.ndarray:  # fmt: skip
    """Sorted distinct pairs of ``rows`` (row numbers into ``signatures``) sharing a band."""
    size = signatures.shape[0]
    chunks = []
    for band in range(bands):
        block = signatures[rows, band * rows_per_band : (band + 1) * rows_per_band]
        chunks.append(pairs_in_buckets(band_keys(block), rows, order_key[rows], max_bucket, window))
    return unique_pairs(chunks, size)


def scanned_among(table: SketchTable, rows: np.ndarray) -> np.ndarray:
    """Positions in ``table.scan_rows`` (the second sketch) of the scanned ones of ``rows``."""
    if not len(rows) or not len(table.scan_rows):
        return np.empty(0, np.int64)
    return np.flatnonzero(np.isin(table.scan_rows, rows, kind="table"))


def scan_pairs(
    table: SketchTable, rows: np.ndarray, order_key: np.ndarray, *, bands: int, rows_per_band: int,
    max_bucket: int, window: int,
) -> np.ndarray:  # fmt: skip
    """Sorted distinct pairs of the scanned ones of ``rows`` sharing a band of their second sketch
    (``scan_signatures``)."""
    at = scanned_among(table, rows)
    members = table.scan_rows[at].astype(np.int64)
    chunks = []
    for band in range(bands):
        block = table.scan_signatures[at, band * rows_per_band : (band + 1) * rows_per_band]
        chunks.append(pairs_in_buckets(band_keys(block), members, order_key[members], max_bucket, window))
    return unique_pairs(chunks, len(table))


def anchor_pairs(
    anchor_rows: np.ndarray, anchors: np.ndarray, order_key: np.ndarray, size: int, *, max_bucket: int,
    window: int, alone_max: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Sorted distinct row pairs sharing an anchor, and the anchors that were crowded (sorted).

    ``anchor_rows[k]`` holds anchor ``anchors[k]`` (each anchor once per row). Anchors held by
    more than ``alone_max`` rows pair nobody, those held by more than ``max_bucket`` pair
    neighbours only: both are crowded.
    """
    if anchors.size == 0:
        return np.empty((0, 2), dtype=np.int64), np.empty(0, dtype=np.uint64)
    # keep only anchors held by two rows or more (few), before the heavier pairing
    ordered = np.sort(anchors)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    del ordered
    keep = is_member(anchors, sorted_unique(repeated))
    values, rows = anchors[keep], anchor_rows[keep]
    ordered = np.sort(values)
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    counts = np.diff(np.r_[starts, ordered.size])
    crowded = ordered[starts[counts > min(max_bucket, alone_max or max_bucket)]]
    if alone_max is not None and alone_max < max_bucket:
        kept = ~is_member(values, crowded)
        values, rows = values[kept], rows[kept]
    pairs = pairs_in_buckets(values, rows, order_key[rows], max_bucket, window)
    return unique_pairs([pairs], size), crowded


@dataclass(frozen=True)
class Candidates:
    """Candidate pairs (rows of a sketch table, ``(n, 2)``, each ``i < j``, sorted) and where
    they came from."""

    pairs: np.ndarray
    from_bands: int
    from_anchors: int
    crowded_anchors: np.ndarray
    """Anchors shared by too many articles to pair them all (furniture, templates), sorted."""


class CandidateIndex(Protocol):
    """Where candidates come from: rows of one sketch table, inserted and queried in batches.

    ``query(table, rows)`` gives the pairs between ``rows`` and the inserted rows, and among
    ``rows`` themselves, that share a band value or an anchor.
    """

    def insert(self, table: SketchTable, rows: np.ndarray) -> None: ...

    def query(self, table: SketchTable, rows: np.ndarray) -> Candidates: ...


def self_join(index: CandidateIndex, table: SketchTable, rows: np.ndarray) -> Candidates:
    """Every candidate pair among ``rows``: inserted into ``index``, then asked for."""
    index.insert(table, rows)
    return index.query(table, rows)


class BatchIndex:
    """The self-join of a whole collection by sorting (numpy), with bounded crowded buckets.

    ``rank`` orders the table's rows by id: crowded buckets pair neighbours in id order, so the
    answer never depends on the input order.
    """

    def __init__(self, config: DedupConfig, rank: np.ndarray) -> None:
        self.bands, self.rows_per_band = lsh_bands(config.candidate_threshold, config.num_perm)
        self.scanned_bands = scanned_bands(config)
        self.config = config
        self.rank = rank
        self._inserted = np.empty(0, dtype=np.int64)

    def insert(self, table: SketchTable, rows: np.ndarray) -> None:
        self._inserted = np.union1d(self._inserted, rows)

    def query(self, table: SketchTable, rows: np.ndarray) -> Candidates:
        everyone = np.union1d(self._inserted, rows)
        config = self.config
        window = config.crowded_window
        lsh = band_pairs(
            table.signatures, everyone, self.rank, bands=self.bands, rows_per_band=self.rows_per_band,
            max_bucket=config.lsh_max_bucket, window=window,
        )  # fmt: skip
        if self.scanned_bands:  # scanned articles: also candidates of one another by looser bands
            bands, rows_per_band = self.scanned_bands
            loose = scan_pairs(table, everyone, self.rank, bands=bands, rows_per_band=rows_per_band,
                               max_bucket=config.lsh_max_bucket, window=window)  # fmt: skip
            lsh = unique_pairs([lsh, loose], len(table))
        member = np.zeros(len(table), dtype=bool)
        member[everyone] = True
        held = member[table.anchor_rows]
        single, crowded = anchor_pairs(
            table.anchor_rows[held], table.anchors[held], self.rank, len(table),
            max_bucket=config.anchor_max_docs, window=window, alone_max=config.anchor_alone_max_docs,
        )  # fmt: skip
        held = member[table.passage_rows]
        passage, _ = anchor_pairs(
            table.passage_rows[held],
            table.passages[held],
            self.rank,
            len(table),
            max_bucket=config.anchor_max_docs,
            window=window,
        )
        anchor = unique_pairs([single, passage], len(table))
        pairs = unique_pairs([lsh, anchor], len(table))
        if len(rows) < len(everyone):  # keep the pairs that touch the queried rows
            asked = np.zeros(len(table), dtype=bool)
            asked[rows] = True
            pairs = pairs[asked[pairs[:, 0]] | asked[pairs[:, 1]]]
        return Candidates(pairs, len(lsh), len(anchor), crowded)

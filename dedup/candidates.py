"""Candidate pairs: articles worth aligning, from two sources.

1. **MinHash LSH bands.** The signature is cut into ``b`` bands of ``r`` rows, with ``(b, r)``
   chosen by datasketch's own optimiser for the Jaccard threshold (:func:`lsh_bands`); two
   articles are candidates when any band is equal. :func:`band_pairs` does this by sorting one
   band at a time over the whole corpus (numpy), which gives exactly the pairs that datasketch's
   ``MinHashLSH`` gives (:func:`lsh_pairs`, kept as the reference and tested against).
2. **Sentence anchors.** MinHash finds pairs by Jaccard, which is small when a short text sits
   inside a long one (an extractive summary, a wire story inside a longer page). Articles sharing
   one sentence of 8+ words verbatim are candidates whatever their Jaccard (:func:`anchor_pairs`).

Work is bounded: a band value or anchor shared by more than ``max_bucket`` articles (a template,
site furniture) does not pair all of them; each is paired with its next few neighbours by id
instead (:data:`CROWDED_WINDOW`), which keeps the group connected at linear cost.
"""

from __future__ import annotations

import numpy as np
from datasketch import MinHashLSH

from .signatures import to_lean_minhash

CROWDED_WINDOW = 4
_U64 = np.uint64
_BAND_MULTIPLIERS = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
     0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9],
    dtype=_U64,
)  # fmt: skip


def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """The ``(bands, rows per band)`` datasketch chooses for this threshold."""
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


def _band_keys(block: np.ndarray) -> np.ndarray:
    """One 64-bit key per row of a ``(n, r)`` block of signature values (equal rows, equal keys)."""
    with np.errstate(over="ignore"):
        key = np.zeros(block.shape[0], dtype=_U64)
        for column in range(block.shape[1]):
            key = (key ^ block[:, column].astype(_U64)) * _BAND_MULTIPLIERS[column % len(_BAND_MULTIPLIERS)]
            key ^= key >> _U64(29)
    return key


def _pairs_in_runs(
    keys: np.ndarray, members: np.ndarray, order_key: np.ndarray, max_bucket: int
) -> np.ndarray:
    """Pairs ``(i, j)`` of ``members`` with equal ``keys``, as an ``(n, 2)`` array with i < j.

    ``order_key`` orders members canonically (by id), so the crowded-run windows do not depend on
    the input order.
    """
    order = np.lexsort((order_key, keys))
    keys, members = keys[order], members[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    out = []
    # runs of two, the common case, all at once
    two = starts[sizes == 2]
    if two.size:
        out.append(np.stack([members[two], members[two + 1]], axis=1))
    for start, size in zip(starts[sizes > 2], sizes[sizes > 2], strict=True):
        run = members[start : start + size]
        if size <= max_bucket:
            i, j = np.triu_indices(size, k=1)
        else:
            i = np.repeat(np.arange(size), CROWDED_WINDOW)
            j = i + np.tile(np.arange(1, CROWDED_WINDOW + 1), size)
            keep = j < size
            i, j = i[keep], j[keep]
        out.append(np.stack([run[i], run[j]], axis=1))
    if not out:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(out).astype(np.int64)
    return np.sort(pairs, axis=1)


def _unique_pairs(chunks: list[np.ndarray], size: int) -> np.ndarray:
    if not chunks:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(chunks)
    codes = np.unique(pairs[:, 0] * size + pairs[:, 1])
    return np.stack([codes // size, codes % size], axis=1)


def band_pairs(
    signatures: np.ndarray, rows: np.ndarray, order_key: np.ndarray, *, bands: int, rows_per_band: int,
    max_bucket: int,
) -> np.ndarray:  # fmt: skip
    """Sorted distinct pairs of ``rows`` (row numbers into ``signatures``) sharing a band."""
    size = signatures.shape[0]
    chunks = []
    for band in range(bands):
        block = signatures[rows, band * rows_per_band : (band + 1) * rows_per_band]
        chunks.append(_pairs_in_runs(_band_keys(block), rows, order_key[rows], max_bucket))
    return _unique_pairs(chunks, size)


def anchor_pairs(
    anchor_rows: np.ndarray, anchors: np.ndarray, order_key: np.ndarray, size: int, *, max_bucket: int
) -> tuple[np.ndarray, int]:
    """Sorted distinct row pairs sharing an anchor, and how many anchors were crowded.

    ``anchor_rows[k]`` holds anchor ``anchors[k]`` (each anchor once per row).
    """
    if anchors.size == 0:
        return np.empty((0, 2), dtype=np.int64), 0
    # keep only anchors held by two rows or more (few), before the heavier pairing
    order = np.argsort(anchors, kind="stable")
    ordered = anchors[order]
    shared = np.zeros(ordered.size, dtype=bool)
    same = ordered[1:] == ordered[:-1]
    shared[1:] |= same
    shared[:-1] |= same
    keep = order[shared]
    del order, ordered, shared, same
    values, rows = anchors[keep], anchor_rows[keep]
    _, counts = np.unique(values, return_counts=True)
    crowded = int(np.count_nonzero(counts > max_bucket))
    pairs = _pairs_in_runs(values, rows, order_key[rows], max_bucket)
    return _unique_pairs([pairs], size), crowded

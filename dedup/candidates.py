"""Candidate pairs from datasketch's ``MinHashLSH`` over the signature matrix.

Every article is inserted under its row number and queried once; each query's answer is a set
whose order depends on ``PYTHONHASHSEED``, so the pairs are collected into a set and returned
sorted. The band layout ``(b, r)`` is datasketch's own optimum for ``threshold`` and is recorded
in the result's parameters.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from datasketch import MinHashLSH

from .signatures import to_lean_minhash


def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """The ``(bands, rows per band)`` datasketch chooses for this threshold."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def candidate_pairs(
    signatures: np.ndarray, *, threshold: float, seed: int, rows: Iterator[int] | None = None
) -> list[tuple[int, int]]:
    """Sorted ``(i, j)`` row pairs, ``i < j``, that share at least one LSH band.

    ``rows`` restricts the index to those rows (e.g. one per group of exact copies).
    """
    num_perm = signatures.shape[1]
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    selected = list(range(signatures.shape[0]) if rows is None else rows)
    minhashes = {row: to_lean_minhash(signatures[row], seed) for row in selected}
    with lsh.insertion_session() as session:
        for row in selected:
            session.insert(row, minhashes[row], check_duplication=False)
    pairs: set[tuple[int, int]] = set()
    for row in selected:
        for other in lsh.query(minhashes[row]):
            if other != row:
                pairs.add((min(row, other), max(row, other)))
    return sorted(pairs)


def anchor_pairs(anchors: list[np.ndarray], *, max_bucket: int) -> tuple[list[tuple[int, int]], int]:
    """Row pairs that share an anchor (the hash of a long normalized sentence), and the number of
    anchors passed over because more than ``max_bucket`` rows share them.

    MinHash LSH finds pairs by Jaccard, which is small when a short text sits inside a long one
    (an extractive summary, a wire story inside a longer article). One shared sentence of
    :data:`dedup.shingles.ANCHOR_MIN_WORDS` words or more is direct evidence of reuse whatever
    the lengths; a sentence shared by very many articles is furniture, not evidence.
    """
    if not anchors:
        return [], 0
    rows = np.concatenate([np.full(len(a), row, dtype=np.int64) for row, a in enumerate(anchors)])
    values = np.concatenate(anchors)
    order = np.lexsort((rows, values))
    values, rows = values[order], rows[order]
    boundaries = np.flatnonzero(np.diff(values)) + 1
    pairs: set[tuple[int, int]] = set()
    crowded = 0
    for bucket in np.split(rows, boundaries):
        members = np.unique(bucket)
        if len(members) < 2:
            continue
        if len(members) > max_bucket:
            crowded += 1
            continue
        members_list = members.tolist()
        for x in range(len(members_list)):
            for y in range(x + 1, len(members_list)):
                pairs.add((members_list[x], members_list[y]))
    return sorted(pairs), crowded

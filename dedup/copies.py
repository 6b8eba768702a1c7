"""Exact copies: articles with the same words after normalization, found by their digests.

A group of copies is represented by its smallest id (its *leader*); only leaders go on to
boilerplate, candidates and alignment, so ten thousand copies of one article cost ten thousand
cheap pairs, not fifty million alignments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .sketch import SketchTable


@dataclass(frozen=True)
class ExactCopies:
    """``leaders``: sorted rows, one per distinct text; ``copies``: leader → its other rows (by id)."""

    leaders: np.ndarray
    copies: dict[int, list[int]]
    is_leader: np.ndarray


def group_exact_copies(table: SketchTable, rows: np.ndarray, rank: np.ndarray) -> ExactCopies:
    """Group ``rows`` of ``table`` by digest; ``rank`` orders rows by id."""
    is_leader = np.zeros(len(table), dtype=bool)
    if rows.size == 0:
        return ExactCopies(np.empty(0, dtype=np.int64), {}, is_leader)
    halves = table.digests[rows].view(np.uint64).reshape(-1, 2)
    by_digest = rows[np.lexsort((rank[rows], halves[:, 1], halves[:, 0]))]
    digests = table.digests[by_digest]
    new_group = np.r_[True, digests[1:] != digests[:-1]]
    group_leader = by_digest[new_group][np.cumsum(new_group) - 1]
    copies: dict[int, list[int]] = {}
    for row, leader in zip(by_digest[~new_group].tolist(), group_leader[~new_group].tolist(), strict=True):
        copies.setdefault(leader, []).append(row)
    leaders = np.sort(by_digest[new_group])
    is_leader[leaders] = True
    return ExactCopies(leaders, copies, is_leader)

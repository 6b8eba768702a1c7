"""Deciding what a candidate pair is, from exact shingle overlap and paragraph alignment.

The decision uses the aligned coverage both ways, not Jaccard: a short wire story inside a long
republication (the seeds 000/001: Jaccard 0.35, 84% of 000 aligned inside 001) is a duplicate,
and two articles on the same topic written independently (the seeds 002-004: under 1% shingle
overlap, no paragraph aligned) are not, however many names they share.
"""

from __future__ import annotations

import numpy as np

from .config import DedupConfig
from .results import Direction, Kind


def shingle_overlap(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Exact ``(jaccard, containment of a in b, containment of b in a)`` of two shingle sets."""
    if a.size == 0 or b.size == 0:
        return 0.0, 0.0, 0.0
    common = np.intersect1d(a, b, assume_unique=True).size
    union = a.size + b.size - common
    return common / union, common / a.size, common / b.size


def classify(
    coverage_a_by_b: float, coverage_b_by_a: float, config: DedupConfig
) -> tuple[Kind, Direction | None] | None:
    """The kind of a non-identical pair, or None when it is not reported.

    ``near_duplicate``: both coverages reach ``duplicate_threshold``; ``contained``: one does
    (``direction`` names the one inside the other); ``partial``: the larger coverage reaches
    ``partial_threshold``.
    """
    high = config.duplicate_threshold
    if coverage_a_by_b >= high and coverage_b_by_a >= high:
        return "near_duplicate", None
    if coverage_a_by_b >= high:
        return "contained", "a_in_b"
    if coverage_b_by_a >= high:
        return "contained", "b_in_a"
    if max(coverage_a_by_b, coverage_b_by_a) >= config.partial_threshold:
        return "partial", None
    return None

"""Boilerplate: lines that recur across many otherwise unrelated articles.

Page furniture ("Loading...", "Read more:", "Subscribe to our newsletter") and shared footers
("© 2019 Example Media. All rights reserved.") must not make two articles duplicates. But a
plain document-frequency cut would also remove the paragraphs of a wire story that ten outlets
republished — the very text we look for. The rule tells them apart by asking whether the
articles that share a line are otherwise alike:

1. Document frequency of every normalized line, counting each group of exact copies once.
2. A line in at least ``min_docs`` articles is a *suspect*.
3. A suspect is *boilerplate* unless most of the articles carrying it are similar as wholes:
   among the first :data:`SAMPLE` of them (by id), fewer than half of the pairs have a MinHash
   Jaccard of at least ``related_threshold``. Republications of one story are similar as wholes;
   articles that share only a footer are not.

Boilerplate lines are removed from paragraphs before alignment, so they neither match nor count
toward coverage; a paragraph made only of them is reported as ignored. Known limit: a footer
longer than the articles it is attached to makes those articles similar as wholes, and is then
kept as text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import combinations

import numpy as np

SAMPLE = 8


def find_boilerplate(
    line_sets: Sequence[frozenset[str]],
    signatures: np.ndarray,
    *,
    min_docs: int,
    related_threshold: float,
) -> frozenset[str]:
    """Normalized lines that are boilerplate in this collection.

    ``line_sets[i]`` holds the normalized lines of article ``i`` (one per group of exact copies)
    and ``signatures[i]`` its MinHash signature.
    """
    frequency = Counter(line for lines in line_sets for line in lines)
    suspects = {line for line, count in frequency.items() if count >= min_docs}
    if not suspects:
        return frozenset()
    carriers: dict[str, list[int]] = {line: [] for line in suspects}
    for row, lines in enumerate(line_sets):
        for line in lines & suspects:
            if len(carriers[line]) < SAMPLE:
                carriers[line].append(row)
    boilerplate = set()
    for line, rows in carriers.items():
        pairs = list(combinations(rows, 2))
        related = sum(
            1
            for i, j in pairs
            if np.count_nonzero(signatures[i] == signatures[j]) / signatures.shape[1]
            >= related_threshold
        )
        if 2 * related < len(pairs):
            boilerplate.add(line)
    return frozenset(boilerplate)

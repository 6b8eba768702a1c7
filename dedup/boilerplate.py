"""Boilerplate: lines that recur across many articles around otherwise different text.

Page furniture ("Loading...", "Read more:", "Subscribe to our newsletter") and shared footers
("© 2019 Example Media. All rights reserved.") must not make two articles duplicates. But a
plain document-frequency cut would also remove the paragraphs of a wire story that ten outlets
republished — the very text we look for. The rule tells them apart by what else the articles
carrying a line hold:

1. Document frequency of every normalized line, counting each group of exact copies once.
2. A line in at least ``min_docs`` articles is *frequent*.
3. A frequent line is *boilerplate* when, in the articles carrying it, frequent lines are the
   minority of the text: the median share of characters in frequent lines, over the first
   :data:`SAMPLE` carriers by id, is below one half. Furniture and footers surround different
   main texts; a republished story *is* the main text of its copies.

Boilerplate lines are removed from paragraphs before alignment, so they neither match nor count
toward coverage; a paragraph made only of them is reported as ignored. Known limit: a shared
footer longer than the articles it is attached to looks exactly like a story republished under
different headlines, and is kept as text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from statistics import median

SAMPLE = 16


def find_boilerplate(line_sets: Sequence[frozenset[str]], *, min_docs: int) -> frozenset[str]:
    """Normalized lines that are boilerplate in this collection.

    ``line_sets[i]`` holds the normalized lines of article ``i`` (one per group of exact copies).
    """
    frequency = Counter(line for lines in line_sets for line in lines)
    frequent = {line for line, count in frequency.items() if count >= min_docs}
    if not frequent:
        return frozenset()
    carriers: dict[str, list[float]] = {line: [] for line in frequent}
    for lines in line_sets:
        common = lines & frequent
        if not common:
            continue
        share = sum(map(len, common)) / max(1, sum(map(len, lines)))
        for line in common:
            if len(carriers[line]) < SAMPLE:
                carriers[line].append(share)
    return frozenset(line for line, shares in carriers.items() if median(shares) < 0.5)

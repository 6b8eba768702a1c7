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
   :data:`SAMPLE` carriers by id, is below one half. Furniture and footers surround different main
   texts; a republished story *is* the main text of its copies.

Lines are compared by the 64-bit hash of their words (:func:`dedup.shingles.sequence_hash`). Boilerplate lines are removed from paragraphs before alignment, so they neither match nor
count toward coverage; a paragraph made only of them is reported as ignored. Known limit: a shared
footer longer than the articles it is attached to looks exactly like a story republished under
different headlines, and is kept as text.
"""

from __future__ import annotations

import numpy as np

from .sketch import SketchTable

SAMPLE = 16


def table_boilerplate(
    table: SketchTable, is_leader: np.ndarray, rank: np.ndarray, *, min_docs: int
) -> frozenset[int]:
    """Boilerplate lines of the leader rows of a sketch table (see :func:`find_boilerplate`)."""
    if is_leader[table.line_rows].all():  # no exact copies: no need to copy the line arrays
        return find_boilerplate(table.line_rows, table.line_hashes, table.line_chars, rank, min_docs=min_docs)
    lines = is_leader[table.line_rows]
    return find_boilerplate(
        table.line_rows[lines], table.line_hashes[lines], table.line_chars[lines], rank, min_docs=min_docs
    )


def find_boilerplate(
    rows: np.ndarray, line_hashes: np.ndarray, line_chars: np.ndarray, rank: np.ndarray | None = None,
    *, min_docs: int,
) -> frozenset[int]:  # fmt: skip
    """Hashes of the boilerplate lines of a collection.

    One entry per distinct line of an article: ``rows[k]`` is the article (one per group of exact
    copies), ``line_hashes[k]`` the line's hash and ``line_chars[k]`` its length. ``rank`` orders
    rows by id (default: by row), so the carriers sampled never depend on the input order.
    """
    if line_hashes.size < min_docs:
        return frozenset()
    # frequent lines first, from one sort of the hashes (a value at positions i and
    # i + min_docs - 1 of the sorted hashes occurs min_docs times or more): usually few, and
    # the rest works on them only
    ordered = np.sort(line_hashes)
    step = min_docs - 1
    frequent_values = np.unique(ordered[step:][ordered[step:] == ordered[: ordered.size - step]])
    del ordered
    if frequent_values.size == 0:
        return frozenset()
    slot = np.minimum(np.searchsorted(frequent_values, line_hashes), frequent_values.size - 1)
    frequent = frequent_values[slot] == line_hashes
    del slot
    size = int(rows.max()) + 1
    total = np.bincount(rows, weights=line_chars, minlength=size)
    shared = np.bincount(rows[frequent], weights=line_chars[frequent], minlength=size)
    share = shared / np.maximum(total, 1.0)
    # for each frequent line, the shares of its first SAMPLE carriers (by id)
    entries = np.flatnonzero(frequent)
    carrier_rank = rows[entries] if rank is None else rank[rows[entries]]
    order = entries[np.lexsort((carrier_rank, line_hashes[entries]))]
    groups = np.split(order, np.flatnonzero(np.diff(line_hashes[order])) + 1)
    boilerplate = set()
    for group in groups:
        if np.median(share[rows[group[:SAMPLE]]]) < 0.5:
            boilerplate.add(int(line_hashes[group[0]]))
    return frozenset(boilerplate)

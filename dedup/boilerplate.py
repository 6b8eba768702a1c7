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
4. A line in ``boilerplate_many_docs`` (50) articles or more is also boilerplate when the rest of its carriers'
   text is mostly their own (median share of characters in lines that are not frequent, the line
   itself left out, at least one half): a footer as long as the short articles it is attached to
   (market reports, dividend notices) surrounds different texts too, and would otherwise pair
   thousands of unrelated articles.
5. Unless its carriers are one story: a line that rule 3 would call boilerplate is kept when the
   sampled carriers' MinHash signatures agree with the first carrier's in a median share of at
   least ``boilerplate_one_story`` (0.5; an estimated word-shingle Jaccard; unrelated articles sharing a
   footer are near 0). Twelve papers each printing a wire story with their own small edits hold
   its paragraphs in many slightly different copies, so each copy's frequent lines can be the
   minority of its text, like furniture's.

Lines are compared by the 64-bit hash of their words (:func:`dedup.shingles.sequence_hash`). Boilerplate lines are removed from paragraphs before alignment, so they neither match nor
count toward coverage; a paragraph made only of them is reported as ignored. Known limit: a footer
longer than the articles it is attached to, in fewer than ``boilerplate_many_docs`` of them, looks exactly
like a story republished under different headlines, and is kept as text.
"""

from __future__ import annotations

import numpy as np

from .config import DedupConfig
from .shingles import hash_array, is_member, sorted_unique

SAMPLE = 16
PASSES = 3
"""Rules 3 and 4 are applied again on what is left once the boilerplate found is taken out."""


def find_boilerplate(
    rows: np.ndarray, line_hashes: np.ndarray, line_chars: np.ndarray, rank: np.ndarray | None = None,
    *, min_docs: int, frequent: np.ndarray | None = None, signatures: np.ndarray | None = None,
    config: DedupConfig | None = None,
) -> frozenset[int]:  # fmt: skip
    """Hashes of the boilerplate lines of a collection.

    One entry per distinct line of an article: ``rows[k]`` is the article (one per group of exact
    copies), ``line_hashes[k]`` the line's hash and ``line_chars[k]`` its length. ``rank`` orders
    rows by id (default: by row), so the carriers sampled never depend on the input order.
    ``frequent`` (sorted) gives the frequent lines when they are counted elsewhere (an archive).
    ``signatures`` (MinHash, one row per row number) let rule 5 keep a story's lines.
    ``config`` gives rules 4 and 5 their bounds (``boilerplate_many_docs``,
    ``boilerplate_one_story``; default: the defaults).
    """
    rules = config or DedupConfig()
    if frequent is not None:
        frequent_values = frequent
    elif line_hashes.size < min_docs:
        return frozenset()
    else:  # frequent lines first, from one sort of the hashes (a value at positions i and
        # i + min_docs - 1 of the sorted hashes occurs min_docs times or more): usually few, and
        # the rest works on them only
        ordered = np.sort(line_hashes)
        step = min_docs - 1
        frequent_values = sorted_unique(ordered[step:][ordered[step:] == ordered[: ordered.size - step]])
        del ordered
    if frequent_values.size == 0:
        return frozenset()
    frequent = is_member(line_hashes, frequent_values)
    size = int(rows.max()) + 1
    total = np.bincount(rows, weights=line_chars, minlength=size)
    shared = np.bincount(rows[frequent], weights=line_chars[frequent], minlength=size)
    # for each frequent line, its carriers in id order (the first SAMPLE are looked at)
    entries = np.flatnonzero(frequent)
    carrier_rank = rows[entries] if rank is None else rank[rows[entries]]
    order = entries[np.lexsort((carrier_rank, line_hashes[entries]))]
    groups = np.split(order, np.flatnonzero(np.diff(line_hashes[order])) + 1)
    boilerplate: set[int] = set()
    for _ in range(PASSES):  # each pass looks at the text left once the boilerplate found is removed
        found = _judge(groups, rows, line_hashes, line_chars, total, shared, boilerplate, signatures, rules)
        if not found:
            break
        boilerplate |= found
        gone = entries[is_member(line_hashes[entries], hash_array(found))]
        removed = np.bincount(rows[gone], weights=line_chars[gone], minlength=size)
        total, shared = total - removed, shared - removed
    return frozenset(boilerplate)


def _judge(
    groups: list[np.ndarray], rows: np.ndarray, line_hashes: np.ndarray, line_chars: np.ndarray,
    total: np.ndarray, shared: np.ndarray, known: set[int], signatures: np.ndarray | None,
    rules: DedupConfig,
) -> set[int]:  # fmt: skip
    """The frequent lines (one group of entries each) that rules 3 and 4 call boilerplate, given
    the carriers' characters in all and in frequent lines (known boilerplate already taken out)."""
    found = set()
    for group in groups:
        value = int(line_hashes[group[0]])
        if value in known:
            continue
        carriers = rows[group[:SAMPLE]]
        if is_boilerplate(line_chars[group[:SAMPLE]], total[carriers], shared[carriers], group.size,
                          None if signatures is None else signatures[carriers], rules):  # fmt: skip
            found.add(value)
    return found


def is_boilerplate(
    chars: np.ndarray, total: np.ndarray, shared: np.ndarray, carriers: int, signatures: np.ndarray | None,
    rules: DedupConfig,
) -> bool:  # fmt: skip
    """Rules 3 to 5 for one frequent line, the one place they are written (the Spark engine asks
    it line by line on its executors): ``carriers`` articles hold it; ``chars`` is its length in the
    first :data:`SAMPLE` of them by id, ``total`` and ``shared`` their characters in all lines and
    in frequent lines (boilerplate found so far taken out of both), ``signatures`` theirs."""
    if np.median(shared / np.maximum(total, 1.0)) < 0.5:
        return signatures is None or not one_story(signatures, rules.boilerplate_one_story)
    if carriers >= rules.boilerplate_many_docs:
        rest = np.maximum(total - chars, 1.0)
        return bool(np.median((total - shared) / rest) >= 0.5)
    return False


def one_story(signatures: np.ndarray, threshold: float) -> bool:
    """Rule 5: do these carriers' signatures say they are copies of one story (a median agreement
    with the first of at least ``threshold``)?"""
    if len(signatures) < 2:  # (an archive's batch can hold one carrier of a frequent line)
        return False
    agree = (signatures[1:] == signatures[0]).mean(axis=1)
    return bool(np.median(agree) >= threshold)

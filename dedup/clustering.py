"""Story clusters from verified pairs, without chaining.

Connected components would let A~B and B~C put A and C in one story even when A and C share
nothing (a long article quoting two different wire stories; a story drifting through edits).
Instead:

1. Only strong links build clusters: ``exact``, ``near_duplicate`` and ``contained`` pairs,
   and ``partial`` pairs whose articles open with the same paragraph and share at least
   :data:`SHARED_LEAD_COVERAGE` of each (:func:`strong`: a copy cut short and updated, two cuts
   of one wire story). Other ``partial`` pairs are reported as pairs but join no cluster.
2. Articles are visited by most links first, then longest text, then smallest id. The first
   article not yet in a cluster becomes a cluster's *representative*: the best-connected and
   fullest copy of the story, the one to keep when deduplicating.
3. Its unclustered neighbours are considered, strongest link first (highest coverage, then id);
   one joins when it is linked to **more than half** of the cluster's current members. Then the
   members' other neighbours, most links to the cluster first, until none joins: a copy whose
   link to the representative is missing (a scan scored under the threshold against it) still
   joins the copies it is linked to. So with A~B, B~C and no A~C link, the representative B
   takes A, and C (linked to one of two members) starts a story of its own.

Exact copies are clustered as one article and then all join the same cluster.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .articles import ArticleId, id_key
from .results import Cluster, Pair

STRONG_KINDS = frozenset({"exact", "near_duplicate", "contained"})
SHARED_LEAD_COVERAGE = 0.3
"""A ``partial`` pair links as strongly as a copy when its two articles open with the same
paragraph and each has at least this share of its text in the other (:func:`strong`)."""


GROUPING_RULE = (
    "strong links: exact, near_duplicate, contained, and partial pairs matching each other's first paragraph "
    f"with >= {SHARED_LEAD_COVERAGE} of each covered; an article joins a group it is strongly linked to more "
    "than half of (the representative's neighbours first, then the members' until none joins)"
)
"""The rule as recorded in a result's ``params``."""


def strong(pair: Pair) -> bool:
    """Whether ``pair`` builds story groups: an ``exact``, ``near_duplicate`` or ``contained``
    pair, or a ``partial`` one that shares its articles' lead and a good part of each — a copy cut short
    and brought up to date, or two papers' cuts of one wire story (each dropped what the other
    kept), are still the story. The one place the rule is written: every engine asks it."""
    if pair.kind in STRONG_KINDS:
        return True
    if pair.kind != "partial" or pair.alignment is None:
        return False
    if min(pair.coverage_a_by_b, pair.coverage_b_by_a) < SHARED_LEAD_COVERAGE:
        return False
    al = pair.alignment
    lead_a = min((*(m.a for m in al.matches), *(m.a for m in al.a_inside_b), *al.only_a), default=None)
    lead_b = min((*(m.b for m in al.matches), *(m.b for m in al.b_inside_a), *al.only_b), default=None)
    return any(m.a == lead_a and m.b == lead_b for m in al.matches)


def joins(links: int, members: int) -> bool:
    """The majority rule, the one place it is written: an article joins a story group when it is
    strongly linked to **more than half** of the group's members. Batch clustering and an
    archive's incremental assignment both ask this."""
    return 2 * links > members


def _strength(pairs: Sequence[Pair]) -> dict[ArticleId, dict[ArticleId, tuple[float, float]]]:
    """The strong links of ``pairs``: article → neighbour → (larger, smaller coverage)."""
    strength: dict[ArticleId, dict[ArticleId, tuple[float, float]]] = defaultdict(dict)
    for pair in pairs:
        if pair.kind == "exact" or not strong(pair):
            continue
        value = (
            max(pair.coverage_a_by_b, pair.coverage_b_by_a),
            min(pair.coverage_a_by_b, pair.coverage_b_by_a),
        )
        strength[pair.a][pair.b] = value
        strength[pair.b][pair.a] = value
    return strength


@dataclass
class Grouping:
    """Story groups of one run: ``group_of`` each new article's group (a stored group number, or
    ``("new", k)`` for the k-th group started here), ``leaders`` the article that started each new
    group (its representative), ``merged`` stored groups joined into another (group → into)."""

    group_of: dict[ArticleId, GroupKey] = field(default_factory=dict)
    leaders: dict[GroupKey, ArticleId] = field(default_factory=dict)
    merged: dict[int, int] = field(default_factory=dict)


GroupKey = int | tuple[str, int]


def assign_groups(
    pairs: Sequence[Pair], text_length: Mapping[ArticleId, int], copies: Mapping[ArticleId, Sequence[ArticleId]],
    stored: Mapping[ArticleId, int] | None = None, sizes: Mapping[int, int] | None = None,
) -> Grouping:  # fmt: skip
    """Each new article's story group: the one rule of the batch run and of an archive.

    ``pairs`` between distinct texts (exact copies are given by ``copies``: leader → its copies);
    ``stored`` the group of each article already stored (an archive's), ``sizes`` those groups'
    member counts. New articles are visited by most links, longest text, smallest id; one not yet
    placed joins the stored group it reaches a majority of (:func:`joins`; best share first, other
    such groups merged into it), or starts a new group; then its unplaced neighbours, strongest
    link first, join its group when they reach a majority of it, and then the members' unplaced
    neighbours, most links first, pass after pass until none joins. Without ``stored`` this is
    the batch clustering.
    """
    stored = stored or {}
    strength = _strength(pairs)
    nodes = set(strength) | {node for node, dup in copies.items() if dup}
    new = sorted((n for n in nodes if n not in stored),
                 key=lambda n: (-len(strength[n]), -text_length[n], id_key(n)))  # fmt: skip
    out = Grouping()
    group_of: dict[ArticleId, GroupKey] = dict(stored)
    size: dict[GroupKey, int] = {g: k for g, k in (sizes or {}).items()}

    def root(group: GroupKey) -> GroupKey:
        while isinstance(group, int) and group in out.merged:
            group = out.merged[group]
        return group

    def links(node: ArticleId, group: GroupKey) -> int:
        return sum(1 for n in strength[node] if n in group_of and root(group_of[n]) == group)

    def place(node: ArticleId, group: GroupKey) -> bool:
        out.group_of[node] = group_of[node] = group
        size[group] += 1
        return True

    for leader in new:
        if leader in out.group_of:
            continue
        eligible = _stored_majorities([root(group_of[o]) for o in strength[leader] if o in group_of], size)
        group: GroupKey = eligible[0] if eligible else ("new", len(out.leaders))
        for other in eligible[1:]:
            out.merged[other] = eligible[0]
            size[group] = size.get(group, 1) + size.pop(other, 1)
        if not eligible:
            out.leaders[group] = leader
            size[group] = 0
        place(leader, group)
        frontier = {n for n in strength[leader] if n not in group_of}
        order = sorted(frontier, key=lambda n: (-strength[leader][n][0], -strength[leader][n][1], id_key(n)))
        while order:  # the leader's neighbours, then the members' other neighbours, until none joins
            joined = [n for n in order if joins(links(n, group), size[group]) and place(n, group)]
            frontier = {n for n in frontier.union(*(strength[m] for m in joined)) if n not in group_of}
            order = sorted(frontier, key=lambda n: (-links(n, group), id_key(n))) if joined else []
    out.group_of = {node: root(group) for node, group in out.group_of.items()}
    _copies_follow(out, copies, stored, root)
    return out


def _stored_majorities(groups: list[GroupKey], size: Mapping[GroupKey, int]) -> list[int]:
    """The stored groups an article linked to members of ``groups`` reaches a majority of, the
    largest share first."""
    share: dict[int, int] = defaultdict(int)
    for group in groups:
        if isinstance(group, int):
            share[group] += 1
    return sorted(
        (g for g, k in share.items() if joins(k, size.get(g, 1))),
        key=lambda g: (-share[g] / size.get(g, 1), g),
    )


def _copies_follow(out: Grouping, copies: Mapping[ArticleId, Sequence[ArticleId]],
                   stored: Mapping[ArticleId, int], root: Any) -> None:  # fmt: skip
    """Exact copies join their leader's group."""
    for leader, dup in copies.items():
        found = out.group_of.get(leader, stored.get(leader))
        if found is None:
            continue
        for copy in dup:
            if copy not in stored:
                out.group_of[copy] = root(found)


def cluster_pairs(
    pairs: Sequence[Pair],
    text_length: Mapping[ArticleId, int],
    copies: Mapping[ArticleId, Sequence[ArticleId]],
) -> list[Cluster]:
    """Clusters (two members or more) of the ``pairs`` between distinct texts (:func:`assign_groups`
    with nothing stored), largest first.

    ``copies`` maps an article to its exact copies (which are absent from ``pairs``);
    ``text_length`` gives every article's length for choosing representatives.
    """
    return clusters_of(assign_groups(pairs, text_length, copies))


def clusters_of(grouping: Grouping) -> list[Cluster]:
    """The groups a :class:`Grouping` started, with two members or more, largest first (each
    represented by the article that started it)."""
    members: dict[GroupKey, list[ArticleId]] = defaultdict(list)
    for article, group in grouping.group_of.items():
        members[group].append(article)
    found = [
        Cluster(tuple(sorted(m, key=id_key)), grouping.leaders[g]) for g, m in members.items() if len(m) > 1
    ]
    found.sort(key=lambda c: (-len(c.members), id_key(c.members[0])))
    return found

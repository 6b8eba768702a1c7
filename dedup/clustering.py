"""Story clusters from verified pairs, without chaining.

Connected components would let A~B and B~C put A and C in one story even when A and C share
nothing (a long article quoting two different wire stories; a story drifting through edits).
Instead:

1. Only strong links build clusters: ``exact``, ``near_duplicate`` and ``contained`` pairs.
   ``partial`` pairs are reported as pairs but join no cluster.
2. Articles are visited by most links first, then longest text, then smallest id. The first
   article not yet in a cluster becomes a cluster's *representative*: the best-connected and
   fullest copy of the story, the one to keep when deduplicating.
3. Its unclustered neighbours are considered, strongest link first (highest coverage, then id);
   one joins when it is linked to **more than half** of the cluster's current members. So with
   A~B, B~C and no A~C link, the representative B takes A, and C (linked to one of two members)
   starts a story of its own.

Exact copies are clustered as one article and then all join the same cluster.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from .articles import ArticleId, id_key
from .results import Cluster, Pair

STRONG_KINDS = frozenset({"exact", "near_duplicate", "contained"})


def cluster_pairs(
    pairs: Sequence[Pair],
    text_length: Mapping[ArticleId, int],
    copies: Mapping[ArticleId, Sequence[ArticleId]],
) -> list[Cluster]:
    """Clusters (two members or more) of the ``pairs`` between distinct texts.

    ``copies`` maps an article to its exact copies (which are absent from ``pairs``);
    ``text_length`` gives every article's length for choosing representatives.
    """
    strength: dict[ArticleId, dict[ArticleId, tuple[float, float]]] = defaultdict(dict)
    for pair in pairs:
        if pair.kind not in STRONG_KINDS:
            continue
        value = (
            max(pair.coverage_a_by_b, pair.coverage_b_by_a),
            min(pair.coverage_a_by_b, pair.coverage_b_by_a),
        )
        strength[pair.a][pair.b] = value
        strength[pair.b][pair.a] = value
    nodes = set(strength) | {node for node, dup in copies.items() if dup}
    order = sorted(nodes, key=lambda n: (-len(strength[n]), -text_length[n], id_key(n)))
    assigned: set[ArticleId] = set()
    clusters: list[Cluster] = []
    for leader in order:
        if leader in assigned:
            continue
        members = [leader]
        assigned.add(leader)
        neighbours = sorted(
            (n for n in strength[leader] if n not in assigned),
            key=lambda n: (-strength[leader][n][0], -strength[leader][n][1], id_key(n)),
        )
        for candidate in neighbours:
            links = sum(1 for member in members if member in strength[candidate])
            if 2 * links > len(members):
                members.append(candidate)
                assigned.add(candidate)
        everyone = [m for member in members for m in (member, *copies.get(member, ()))]
        if len(everyone) > 1:
            clusters.append(Cluster(tuple(sorted(everyone, key=id_key)), leader))
    clusters.sort(key=lambda c: (-len(c.members), id_key(c.members[0])))
    return clusters

import random

from hypothesis import given
from hypothesis import strategies as st

from dedup import Alignment, Pair, find_duplicates
from dedup.clustering import cluster_pairs, strong

EMPTY = Alignment((), (), (), (), (), 0.0, 0.0)


def pair(a, b, kind="near_duplicate", cov=0.9):
    return Pair(a, b, kind, None, cov, cov, cov, cov, cov, cov, EMPTY)


def test_a_chain_does_not_merge_its_ends():
    # A~B and B~C, but A and C share nothing: B is the best-connected, A joins, C does not.
    clusters = cluster_pairs([pair("A", "B", cov=0.95), pair("B", "C")], {"A": 10, "B": 10, "C": 10}, {})
    assert [c.members for c in clusters] == [("A", "B")]
    assert clusters[0].representative == "B"


def test_a_long_chain_splits_into_stories():
    links = [pair(x, y) for x, y in ["AB", "BC", "CD", "DE"]]
    clusters = cluster_pairs(links, dict.fromkeys("ABCDE", 10), {})
    # B (two links, smallest id among the best connected) takes A, but not C (linked to one of
    # two members); C then takes D, but not E: stories of two, never A with C or B with D
    assert [c.members for c in clusters] == [("A", "B"), ("C", "D")]
    assert not any({"A", "C"} <= set(c.members) or {"B", "D"} <= set(c.members) for c in clusters)


def test_a_triangle_is_one_story_and_the_longest_is_representative():
    links = [pair("A", "B"), pair("B", "C"), pair("A", "C")]
    clusters = cluster_pairs(links, {"A": 10, "B": 30, "C": 20}, {})
    assert [(c.members, c.representative) for c in clusters] == [(("A", "B", "C"), "B")]


def test_partial_pairs_do_not_cluster_and_exact_copies_join():
    clusters = cluster_pairs(
        [pair("A", "B", kind="partial", cov=0.6)], {"A": 1, "B": 1, "C": 1}, {"A": ["C"]}
    )
    assert [c.members for c in clusters] == [("A", "C")]


NODES = "ABCDEFGH"
LINKS = st.lists(
    st.tuples(st.sampled_from(NODES), st.sampled_from(NODES), st.sampled_from(["near_duplicate", "contained",
              "partial"]), st.floats(0.5, 1.0)).filter(lambda t: t[0] < t[1]),
    unique_by=lambda t: (t[0], t[1]),
)  # fmt: skip


@given(LINKS, st.dictionaries(st.sampled_from(NODES), st.integers(1, 100)))
def test_clusters_never_chain(links, lengths):
    pairs = [pair(a, b, kind, cov) for a, b, kind, cov in links]
    clusters = cluster_pairs(pairs, {n: lengths.get(n, 10) for n in NODES}, {})
    linked = {frozenset((p.a, p.b)) for p in pairs if strong(p)}
    seen = [m for c in clusters for m in c.members]
    assert len(seen) == len(set(seen))  # each article in one story at most
    for cluster in clusters:
        assert len(cluster.members) >= 2 and cluster.representative in cluster.members
        others = {m for m in cluster.members if m != cluster.representative}
        # the members can join one by one from the representative, each linked by strong pairs
        # to more than half of those before it
        assert _joinable([cluster.representative], others, linked)


def _joinable(placed, rest, linked):
    if not rest:
        return True
    return any(
        2 * sum(frozenset((m, x)) in linked for x in placed) > len(placed)
        and _joinable([*placed, m], rest - {m}, linked)
        for m in sorted(rest)
    )


def test_a_copy_missing_its_link_to_the_representative_joins_the_copies_it_is_linked_to():
    # R (most links) holds A, B and C, and shares a passage with E and F; D, a scan scored under
    # the threshold against R, is linked to A, B and C: three of the four members
    copies = [pair("R", x, cov=0.95) for x in "ABCEF"] + [pair(x, y) for x, y in ["AB", "AC", "BC"]]
    clusters = cluster_pairs([*copies, *(pair(x, "D") for x in "ABC")], dict.fromkeys("RABCDEF", 10), {})
    assert [(c.members, c.representative) for c in clusters] == [(("A", "B", "C", "D", "R"), "R")]
    # linked to two of the four, it would not join
    clusters = cluster_pairs([*copies, pair("A", "D"), pair("B", "D")], dict.fromkeys("RABCDEF", 10), {})
    assert [c.members for c in clusters] == [("A", "B", "C", "R")]


def _paragraphs(rng, count):
    words = [f"w{k}" for k in range(3000)]
    return [" ".join(rng.choice(words) for _ in range(40)) + "." for _ in range(count)]


def test_a_cut_and_updated_copy_stays_with_its_story_and_a_shared_passage_does_not_join():
    """A paper's cut of a wire story — its first half and an update of its own — shares only half
    of each (partial) but opens with the wire's lead: one story. A follow-up that reprints three
    paragraphs from the middle under a lead of its own is a partial pair too, and stays out."""
    rng = random.Random(5)
    wire = _paragraphs(rng, 8)
    texts = {
        "wire": "\n\n".join(wire),
        "cut": "\n\n".join([*wire[:4], *_paragraphs(rng, 2)]),
        "follow-up": "\n\n".join([*_paragraphs(rng, 2), *wire[3:6], *_paragraphs(rng, 1)]),
    }
    result = find_duplicates(texts)
    assert {(p.a, p.b): p.kind for p in result.pairs} == {
        ("cut", "wire"): "partial",
        ("follow-up", "wire"): "partial",
    }
    assert [c.members for c in result.clusters] == [("cut", "wire")]
    assert "first paragraph" in result.params["grouping_rule"]

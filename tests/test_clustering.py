from dedup import Alignment, Pair
from dedup.clustering import cluster_pairs

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
    members = [set(c.members) for c in clusters]
    assert all(not ({"A", "C"} <= m or {"A", "E"} <= m or {"B", "D"} <= m) for m in members)


def test_a_triangle_is_one_story_and_the_longest_is_representative():
    links = [pair("A", "B"), pair("B", "C"), pair("A", "C")]
    clusters = cluster_pairs(links, {"A": 10, "B": 30, "C": 20}, {})
    assert [(c.members, c.representative) for c in clusters] == [(("A", "B", "C"), "B")]


def test_partial_pairs_do_not_cluster_and_exact_copies_join():
    clusters = cluster_pairs(
        [pair("A", "B", kind="partial", cov=0.6)], {"A": 1, "B": 1, "C": 1}, {"A": ["C"]}
    )
    assert [c.members for c in clusters] == [("A", "C")]

import numpy as np

from conftest import SEED_A, SEED_B
from dedup.candidates import anchor_pairs, candidate_pairs
from dedup.shingles import sentence_anchors, text_shingles
from dedup.signatures import signature_matrix


def test_lsh_reaches_the_seed_pair_and_nothing_else(seeds):
    names = sorted(seeds)
    matrix = signature_matrix([text_shingles(seeds[n], 5) for n in names], 128, 1)
    pairs = candidate_pairs(matrix, threshold=0.1, seed=1)
    assert [(names[i], names[j]) for i, j in pairs] == [(SEED_A, SEED_B)]


def test_anchors_pair_articles_sharing_a_long_sentence_and_skip_crowded_ones():
    shared = "the minister said on saturday that talks would resume in moscow next week"
    furniture = "follow us on social media for the latest news and updates from our newsroom"
    anchors = [
        sentence_anchors([shared, furniture]),
        sentence_anchors(["An unrelated opening sentence with enough words in it to count.", shared]),
        sentence_anchors([furniture]),
        sentence_anchors([furniture, "too short"]),
    ]
    pairs, crowded = anchor_pairs(anchors, max_bucket=2)
    assert pairs == [(0, 1)]
    assert crowded == 1


def test_short_sentences_are_not_anchors():
    assert sentence_anchors(["only seven words in this one here"]).size == 0
    assert sentence_anchors(["Eight words: here is a sentence long enough."]).dtype == np.uint64

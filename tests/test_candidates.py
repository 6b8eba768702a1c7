import numpy as np

from conftest import SEED_A, SEED_B
from dedup.candidates import CROWDED_WINDOW, anchor_pairs, band_pairs, lsh_bands, lsh_pairs
from dedup.shingles import anchor_hashes, shingle_hashes, text_shingles, tokenize
from dedup.signatures import signature_matrix


def bands(matrix, threshold=0.1, order=None, max_bucket=64):
    b, r = lsh_bands(threshold, matrix.shape[1])
    rows = np.arange(matrix.shape[0])
    order = rows if order is None else order
    return [
        tuple(p)
        for p in band_pairs(matrix, rows, order, bands=b, rows_per_band=r, max_bucket=max_bucket).tolist()
    ]


def test_lsh_reaches_the_seed_pair_and_nothing_else(seeds):
    names = sorted(seeds)
    matrix = signature_matrix([text_shingles(seeds[n], 5) for n in names], 128, 1)
    assert [(names[i], names[j]) for i, j in bands(matrix)] == [(SEED_A, SEED_B)]


def test_sorted_banding_gives_exactly_datasketch_lsh_pairs():
    rng = np.random.default_rng(7)
    base = [rng.integers(0, 5000, size=300).astype(str).tolist() for _ in range(40)]
    # variants sharing more or less of a base text: many pairs around the threshold
    texts = base + [
        b[: rng.integers(30, 300)] + rng.integers(0, 5000, size=100).astype(str).tolist() for b in base
    ]
    matrix = signature_matrix([shingle_hashes(t, 3) for t in texts], 128, 3)
    for threshold in (0.1, 0.3, 0.5):
        reference = lsh_pairs(matrix, threshold=threshold, seed=3)
        assert bands(matrix, threshold) == reference
        assert len(reference) >= 20


def test_crowded_buckets_are_bounded_and_order_free():
    matrix = np.zeros((200, 16), dtype=np.uint32)  # 200 identical signatures: one crowded bucket
    pairs = bands(matrix, threshold=0.5, max_bucket=10)
    assert len(pairs) <= 200 * CROWDED_WINDOW
    shuffled = np.random.default_rng(1).permutation(200)
    # the same articles in another input order (ranks carry the id order) give the same pairs
    again = bands(matrix[shuffled], threshold=0.5, order=shuffled, max_bucket=10)
    assert sorted(tuple(sorted((int(shuffled[i]), int(shuffled[j])))) for i, j in again) == pairs


def anchors_of(*sentences):
    return anchor_hashes([tokenize(s) for s in sentences])


def test_anchors_pair_articles_sharing_a_long_sentence_and_skip_crowded_ones():
    shared = "the minister said on saturday that talks would resume in moscow next week"
    furniture = "follow us on social media for the latest news and updates from our newsroom"
    per_row = [
        anchors_of(shared, furniture),
        anchors_of("an unrelated opening sentence with enough words in it to count", shared),
        anchors_of(furniture),
        anchors_of(furniture, "too short"),
    ]
    rows = np.repeat(np.arange(4), [len(a) for a in per_row])
    pairs, crowded = anchor_pairs(rows, np.concatenate(per_row), np.arange(4), 4, max_bucket=2)
    assert crowded == 1
    assert (0, 1) in [tuple(p) for p in pairs.tolist()]


def test_short_sentences_are_not_anchors():
    assert anchors_of("only seven words in this one here").size == 0
    assert anchors_of("eight words here is a sentence long enough").dtype == np.uint64

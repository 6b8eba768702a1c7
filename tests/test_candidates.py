import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SEED_A, SEED_B
from dedup import DedupConfig
from dedup.candidates import (
    BatchIndex,
    anchor_pairs,
    band_pairs,
    lsh_bands,
    lsh_pairs,
    self_join,
)
from dedup.shingles import anchor_hashes, shingle_hashes, text_shingles, tokenize
from dedup.signatures import signature_matrix
from dedup.sketch import SketchSettings, SketchTable
from dedup.verification import shared_anchors

ALONE_MAX_DOCS = DedupConfig().anchor_alone_max_docs
CROWDED_WINDOW = DedupConfig().crowded_window


def bands(matrix, threshold=0.1, order=None, max_bucket=64):
    b, r = lsh_bands(threshold, matrix.shape[1])
    rows = np.arange(matrix.shape[0])
    order = rows if order is None else order
    return [
        tuple(p)
        for p in band_pairs(
            matrix, rows, order, bands=b, rows_per_band=r, max_bucket=max_bucket, window=CROWDED_WINDOW
        ).tolist()
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
    pairs, crowded = anchor_pairs(
        rows, np.concatenate(per_row), np.arange(4), 4, max_bucket=2, window=CROWDED_WINDOW
    )
    assert crowded.tolist() == anchors_of(furniture).tolist()
    assert (0, 1) in [tuple(p) for p in pairs.tolist()]


def test_short_sentences_are_not_anchors():
    assert anchors_of("only seven words in this one here").size == 0
    assert anchors_of("eight words here is a sentence long enough").dtype == np.uint64


def corpus_table(n=120, seed=5):
    """Articles from a shared vocabulary, every third a partial copy of the one before."""
    rng = np.random.default_rng(seed)
    words = [f"w{k}" for k in range(4000)]
    texts = []
    for i in range(n):
        if i % 3 == 2:
            base = texts[-1].split(". ")
            texts.append(
                ". ".join(
                    [
                        *base[: rng.integers(2, len(base))],
                        f"an added closing sentence number {i} of ten words",
                    ]
                )
            )
        else:
            texts.append(". ".join(" ".join(rng.choice(words, 12)) for _ in range(8)))
    return SketchTable.build(texts, SketchSettings(5, 128, 1), [f"d{i:03d}" for i in range(n)])


def as_set(candidates):
    return {tuple(p) for p in candidates.pairs.tolist()}


def test_a_template_sentence_pairs_nobody_but_a_shared_passage_does():
    rng = np.random.default_rng(7)
    words = [f"w{k}" for k in range(4000)]

    def sentence():
        return " ".join(rng.choice(words, 10))

    template = "the quarterly dividend is unchanged from the prior quarter"
    texts = [f"{sentence()}. {template}. {sentence()}. {sentence()}" for _ in range(ALONE_MAX_DOCS + 1)]
    passage = f"{sentence()}. {sentence()}"  # two consecutive sentences, in two articles
    texts += [f"{sentence()}. {passage}. {sentence()}", f"{sentence()}. {sentence()}. {passage}"]
    table = SketchTable.build(texts, SketchSettings(5, 128, 1), [f"t{i}" for i in range(len(texts))])
    rows = np.arange(len(table))
    assert as_set(self_join(BatchIndex(DedupConfig(), rows), table, rows)) == {
        (len(texts) - 2, len(texts) - 1)
    }
    # with one carrier fewer the template sentence is not one yet: its carriers pair
    few = np.arange(ALONE_MAX_DOCS)
    assert (
        len(as_set(self_join(BatchIndex(DedupConfig(), rows), table, few)))
        == ALONE_MAX_DOCS * (ALONE_MAX_DOCS - 1) // 2
    )


def test_a_batch_query_keeps_only_pairs_touching_the_queried_rows():
    table = corpus_table()
    rows = np.arange(len(table))
    index = BatchIndex(DedupConfig(), rows)
    index.insert(table, rows[:60])
    everything = as_set(index.query(table, rows))
    asked = rows[60:]
    assert as_set(index.query(table, asked)) == {(i, j) for i, j in everything if i >= 60 or j >= 60}


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 40), st.integers(0, 2**16), st.sampled_from([0.1, 0.3, 0.5, 0.8]))
def test_banding_equals_datasketch_lsh_on_random_signatures(rows, seed, threshold):
    # signatures drawn from a few values, so that many rows share bands by chance
    rng = np.random.default_rng(seed)
    matrix = rng.integers(0, 3, size=(rows, 32)).astype(np.uint32)
    assert bands(matrix, threshold, max_bucket=10**6) == lsh_pairs(matrix, threshold=threshold, seed=1)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sets(st.integers(0, 30), max_size=12), min_size=1, max_size=12), st.data())
def test_shared_anchors_counts_each_pairs_common_anchors(sets, data):
    rows = np.repeat(np.arange(len(sets)), [len(s) for s in sets])
    anchors = np.array([a for s in sets for a in sorted(s)], dtype=np.uint64)
    pairs = np.array(
        data.draw(
            st.lists(st.tuples(st.integers(0, len(sets) - 1), st.integers(0, len(sets) - 1)), max_size=20)
        ),
        dtype=np.int64,
    ).reshape(-1, 2)
    assert shared_anchors(rows, anchors, pairs, block=3).tolist() == [
        len(sets[a] & sets[b]) for a, b in pairs
    ]

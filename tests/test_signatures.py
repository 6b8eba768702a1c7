import numpy as np
from datasketch import LeanMinHash, MinHash

from conftest import SEED_A, SEED_B
from dedup.shingles import text_shingles
from dedup.signatures import estimated_jaccard, signature, signature_matrix, to_lean_minhash
from dedup.verification import shingle_overlap


def test_rows_equal_datasketch_minhash_on_the_same_hashes(seeds):
    for text in seeds.values():
        hashes = text_shingles(text, 5)
        reference = MinHash(num_perm=128, seed=7, hashfunc=int, scheme="affine32")
        reference.update_batch(hashes.tolist())
        assert np.array_equal(signature(hashes, 128, 7), reference.hashvalues)


def test_lean_minhash_round_trip_and_jaccard(seeds):
    a = signature(text_shingles(seeds[SEED_A], 5), 128, 1)
    b = signature(text_shingles(seeds[SEED_B], 5), 128, 1)
    lean_a, lean_b = to_lean_minhash(a, 1), to_lean_minhash(b, 1)
    assert isinstance(lean_a, LeanMinHash)
    assert lean_a.jaccard(lean_b) == estimated_jaccard(a, b)


def test_estimate_within_tolerance_of_exact(seeds):
    texts = list(seeds.values())
    shingles = [text_shingles(t, 5) for t in texts]
    matrix = signature_matrix(shingles, 256, 1)
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            exact, _, _ = shingle_overlap(shingles[i], shingles[j])
            assert abs(estimated_jaccard(matrix[i], matrix[j]) - exact) <= 0.1


def test_golden_signature():
    # A pinned input and seed: changing shingling or the scheme breaks every stored index.
    row = signature(
        text_shingles("Turkey and Russia have a joint will to clear all terrorist groups", 5), 16, 1
    )
    assert row[:8].tolist() == GOLDEN


GOLDEN = [
    180629817,
    308403448,
    173738563,
    106317614,
    50583084,
    217060954,
    63193224,
    732999698,
]  # dedup-sketch/3

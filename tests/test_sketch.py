import numpy as np

from dedup.normalize import normalize
from dedup.shingles import anchor_hashes, sequence_hash, text_shingles, tokenize
from dedup.signatures import signature
from dedup.sketch import sketch

TEXT = (
    "Turkey and Russia have a joint will to clear all terrorist groups. Talks went on in Moscow "
    "for most of Saturday!\nLoading...\n\nThe ministers said the next round would follow in "
    "January in Ankara, officials told reporters۔ Short one."
)


def test_sketch_agrees_with_the_single_purpose_functions():
    s = sketch(TEXT, shingle_size=5, num_perm=64, seed=2)
    words = tokenize(normalize(TEXT))
    assert s.words == len(words)
    shingles = text_shingles(TEXT, 5)
    assert s.shingles == len(shingles)
    assert np.array_equal(s.signature, signature(shingles, 64, 2))
    sentences = [
        "turkey and russia have a joint will to clear all terrorist groups",
        "talks went on in moscow for most of saturday",
        "the ministers said the next round would follow in january in ankara, officials told reporters",
    ]
    assert np.array_equal(s.anchors, anchor_hashes([tokenize(x) for x in sentences]))
    lines = [normalize(line) for paragraph in TEXT.split("\n\n") for line in paragraph.split("\n")]
    expected = sorted({sequence_hash(tokenize(line)): len(line) for line in lines}.items())
    assert list(zip(s.line_hashes.tolist(), s.line_chars.tolist(), strict=True)) == expected


def test_exact_copies_share_a_digest_and_edits_do_not():
    a = sketch(TEXT, shingle_size=5, num_perm=64, seed=2)
    b = sketch(TEXT.upper().replace("\n\n", "\n\n\n"), shingle_size=5, num_perm=64, seed=2)
    c = sketch(TEXT.replace("Moscow", "Ankara"), shingle_size=5, num_perm=64, seed=2)
    assert a.digest == b.digest != c.digest


def test_empty_text_has_no_words():
    assert sketch(" ... \n", shingle_size=5, num_perm=64, seed=2).words == 0

import numpy as np

from dedup.shingles import shingle_hashes, text_shingles, tokenize


def test_tokens_of_any_script():
    assert tokenize("заголовок открываемого материала") == ["заголовок", "открываемого", "материала"]
    # Urdu with an optional diacritic (zer, U+0650) stays one word
    assert tokenize("\u0627\u0650\u0633 \u0628\u0627\u062a") == ["\u0627\u0650\u0633", "\u0628\u0627\u062a"]
    assert tokenize("it's 30-year, u.s.") == ["it", "s", "30", "year", "u", "s"]


def test_shingles_are_sorted_distinct_uint32():
    hashes = text_shingles("a b c d e a b c d e a b c d e", 5)
    assert hashes.dtype == np.uint32
    assert list(hashes) == sorted(set(hashes.tolist()))
    assert len(hashes) == 5  # abcde, bcdea, cdeab, deabc, eabcd


def test_word_order_matters():
    assert not np.array_equal(shingle_hashes(list("abcde"), 5), shingle_hashes(list("edcba"), 5))


def test_short_text_is_one_shingle():
    assert len(shingle_hashes(["only", "three", "words"], 5)) == 1
    assert len(shingle_hashes([], 5)) == 0


def test_normalization_happens_before_shingling():
    assert np.array_equal(
        text_shingles("Turkey\u2019s FOREIGN minister said on Saturday", 3),
        text_shingles("turkey's foreign  minister said on saturday", 3),
    )


def test_golden_shingle_hash():
    # Pinned forever: stored signatures and indexes depend on these values.
    assert shingle_hashes("the quick brown fox jumps".split(), 5).tolist() == [GOLDEN_SHINGLE]


GOLDEN_SHINGLE = 1590047123

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedup import shingles
from dedup.shingles import fmix64, shingle_hashes, text_shingles, token_hashes, tokenize
from dedup.tokens import SENTENCE_MARK


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


GOLDEN_SHINGLE = 548665211  # dedup-sketch/3


def reference_token_hash(token):
    """The token hash by its definition: sum(c[k] * T**k) modulo 2**64, then the finalizer."""
    total = sum(ord(c) * pow(0xD6E8FEB86659FD93, k, 2**64) for k, c in enumerate(token)) % 2**64
    return int(fmix64(np.array([total], dtype=np.uint64))[0])


@given(st.lists(st.text(min_size=1, max_size=30), max_size=30), st.integers(1, 40))
def test_token_hashes_match_their_definition_in_blocks_of_any_size(tokens, block):
    tokens = [t for t in tokens if t not in ("\n", SENTENCE_MARK)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shingles, "MAX_RUN_BLOCK", block)  # tokens longer than a block, blocks of many
        assert token_hashes(tokens).tolist() == [reference_token_hash(t) for t in tokens]


def test_breaks_have_reserved_hashes():
    assert token_hashes(["a", "\n", SENTENCE_MARK]).tolist()[1:] == [shingles.LINE_END, shingles.SENTENCE_END]


def test_character_shingles_survive_what_ocr_does_to_words():
    from dedup.shingles import CHARACTER_GRAM, character_shingles

    text = "The harbour authority said on Monday that the new berth would open in the spring."
    split_and_joined = "The har bour authority said onMonday that the new berth would open in the spring."
    misread = "The harbour authority said on Monday that tbe new berth would open in the spring."
    rows, values = character_shingles([text, split_and_joined, misread, "Harbour!", ""])
    sets = [set(values[rows == r].tolist()) for r in range(5)]
    assert sets[0] == sets[1]  # words split, joined, respaced: the same letters, the same shingles
    assert 0 < len(sets[0] - sets[2]) <= CHARACTER_GRAM  # one misread letter breaks the shingles over it
    assert len(sets[3]) == 1 and sets[4] == set()  # shorter than a shingle: one; no letters: none
    assert list(rows) == sorted(rows)

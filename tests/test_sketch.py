from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import ConfigError, InputError
from dedup import sketch as sketch_module
from dedup.normalize import normalize
from dedup.paragraphs import split_paragraphs, split_sentences
from dedup.shingles import (
    anchor_hashes,
    fmix64,
    form_hashes,
    segment_hashes,
    sequence_hash,
    shingle_hashes,
    text_shingles,
    tokenize,
)
from dedup.signatures import signature
from dedup.sketch import SKETCH_SCHEME, SketchSettings, SketchTable, sketch
from dedup.store import Shingles, ShingleStore
from dedup.tokens import SENTENCE_MARK

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


def reference_sketch(text, shingle_size, num_perm, seed):
    """The sketch from the single-purpose functions, line by line and sentence by sentence."""
    units = split_paragraphs(text.replace(SENTENCE_MARK, ""))
    raw_lines = [line for unit in units for line in unit.split("\n")]
    lines = [normalize(line) for line in raw_lines]
    words = [w for line in lines for w in tokenize(line)]
    shingles = shingle_hashes(words, shingle_size)
    sentences = [tokenize(normalize(s)) for line in raw_lines for s in split_sentences(line)]
    line_hashes = {}  # lines with the same words: the first one's length
    for line in lines:
        if tokenize(line):
            line_hashes.setdefault(sequence_hash(tokenize(line)), (len(line), len(tokenize(line))))
    return {
        "words": len(words),
        "shingles": len(shingles),
        "signature": signature(shingles, num_perm, seed).tolist(),
        "anchors": anchor_hashes(sentences).tolist(),
        "passages": reference_passages(sentences),
        "lines": sorted((h, chars, words) for h, (chars, words) in line_hashes.items()),
    }


def reference_passages(sentences):
    """Hashes of two consecutive sentences of 8+ words (by their definition), sorted, distinct."""
    hashes = [sequence_hash(words) for words in sentences if len(words) >= 8]
    mixed = [(a ^ (b * 0x9E3779B97F4A7C15)) % 2**64 for a, b in pairwise(hashes)]
    return sorted({int(h) for h in fmix64(np.array(mixed, dtype=np.uint64))}) if mixed else []


def fast_sketch(text, shingle_size, num_perm, seed):
    s = sketch(text, shingle_size=shingle_size, num_perm=num_perm, seed=seed)
    return {
        "words": s.words,
        "shingles": s.shingles,
        "signature": s.signature.tolist(),
        "anchors": s.anchors.tolist(),
        "passages": s.passages.tolist(),
        "lines": list(zip(s.line_hashes.tolist(), s.line_chars.tolist(), s.line_words.tolist(), strict=True)),
    }


NEWSY = st.lists(
    st.sampled_from(
        [
            "The",
            "minister",
            "said",
            "talks",
            "in",
            "Moscow",
            "U.S.",
            "AOL.",
            "went",
            "on",
            "12",
            "five",
            "٣٤",
            "𝟙",
        ]
    )
    | st.sampled_from(
        [" ", " ", "\n", "\n\n", ". ", "! ", ".", "۔", "।", "。", "&amp;", "&#10;", "\u200b", "\u00ad"]
    )
    | st.sampled_from(["北京大学", "ภาษาไทย", "தமிழ்நாடு", "وزیر", "Straße", "\ufb01le", "’", "—"])
    | st.characters(codec="utf-8"),
    max_size=120,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(NEWSY, st.integers(1, 6))
def test_sketch_equals_the_reference_implementation(text, shingle_size):
    assert fast_sketch(text, shingle_size, 32, 3) == reference_sketch(text, shingle_size, 32, 3)


@given(st.lists(st.integers(0, 2**64 - 1), max_size=40), st.data())
def test_segment_hashes_equal_sequence_hashes(values, data):
    hashes = np.array(values, dtype=np.uint64)
    start = data.draw(st.integers(0, len(values)))
    end = data.draw(st.integers(start, len(values)))
    fast = segment_hashes(hashes, np.array([start]), np.array([end]))[0]
    # sequence_hash over the same word hashes, by the definition sum(h[k] * M**(k - start))
    expected = 0
    for k, value in enumerate(values[start:end]):
        expected = (expected + value * pow(0x9E3779B97F4A7C15, k, 2**64)) % 2**64
    assert int(fast) == int(fmix64(np.array([expected], dtype=np.uint64))[0])


SETTINGS = SketchSettings(shingle_size=5, num_perm=64, seed=2)


def table_of(texts, ids):
    return SketchTable.build(texts, SETTINGS, ids)


def test_a_sketch_table_round_trips_through_bytes():
    table = table_of([TEXT, TEXT.upper(), "Nothing alike here at all.", ""], ["a", 7, "ü-id", "empty"])
    again = SketchTable.from_bytes(table.to_bytes(), expect=SETTINGS)
    assert again.ids == ["a", 7, "ü-id", "empty"]
    assert again.settings == SETTINGS
    for name in ("words", "shingles", "digests", "signatures", "anchor_rows", "anchors", "line_rows",
                 "line_hashes", "line_chars", "line_words"):  # fmt: skip
        original, read = getattr(table, name), getattr(again, name)
        assert original.dtype == read.dtype and np.array_equal(original, read), name


def test_a_table_made_with_other_settings_is_refused_naming_both_values():
    data = table_of([TEXT], ["a"]).to_bytes()
    with pytest.raises(ConfigError, match="made with num_perm=64, this run uses num_perm=128"):
        SketchTable.from_bytes(data, expect=SketchSettings(shingle_size=5, num_perm=128, seed=2))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: b"NOTASKTC" + d[8:], "not a dedup sketch table"),
        (lambda d: d.replace(SKETCH_SCHEME.encode(), b"dedup-sketch/1"), "sketch_scheme is 'dedup-sketch/1'"),
        (lambda d: d[:-10], "truncated in column"),
        (lambda d: d[:20], "header is not valid JSON"),
    ],
    ids=["magic", "scheme", "truncated", "header"],
)
def test_a_damaged_or_foreign_table_is_an_input_error(damage, message):
    with pytest.raises(InputError, match=message):
        SketchTable.from_bytes(damage(table_of([TEXT], ["a"]).to_bytes()))


def table_row(table, row):
    anchors, lines = table.anchor_rows == row, table.line_rows == row
    return {
        "words": int(table.words[row]),
        "shingles": int(table.shingles[row]),
        "signature": table.signatures[row].tolist(),
        "anchors": table.anchors[anchors].tolist(),
        "passages": table.passages[table.passage_rows == row].tolist(),
        "lines": list(
            zip(
                table.line_hashes[lines].tolist(),
                table.line_chars[lines].tolist(),
                table.line_words[lines].tolist(),
                strict=True,
            )
        ),
    }


@settings(max_examples=150, deadline=None)
@given(st.lists(NEWSY, max_size=8), st.integers(1, 6), st.integers(1, 300))
def test_a_table_of_many_texts_has_each_texts_own_sketch(texts, shingle_size, block):
    # texts are scanned together in runs of at most MAX_RUN_BLOCK characters: try small runs too
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sketch_module, "MAX_RUN_BLOCK", block)
        table = SketchTable.build(texts, SketchSettings(shingle_size, 32, 3))
    assert [table_row(table, k) for k in range(len(texts))] == [
        reference_sketch(t, shingle_size, 32, 3) for t in texts
    ]


def test_golden_sketch():
    # Pinned for this SKETCH_SCHEME: a stored archive depends on these values.
    s = sketch(TEXT, shingle_size=5, num_perm=128, seed=1)
    assert (s.words, s.shingles) == GOLDEN_COUNTS
    assert s.signature[:4].tolist() == GOLDEN_SIGNATURE
    assert s.digest.hex() == GOLDEN_DIGEST


GOLDEN_COUNTS = (39, 35)
GOLDEN_SIGNATURE = [556757, 56452022, 7755516, 374384206]
GOLDEN_DIGEST = "5d9d7986ac7104e74ebe998d5a5aff0d"


def reference_shingles(text, shingle_size):
    """Each distinct shingle of ``text`` with the ordinals of the line and sentence of its first
    occurrence, and the text's line and sentence hashes in order (by their definitions)."""
    raw_lines = [
        line for unit in split_paragraphs(text.replace(SENTENCE_MARK, "")) for line in unit.split("\n")
    ]
    lines = [tokenize(normalize(line)) for line in raw_lines]
    sentences = [tokenize(normalize(s)) for line in raw_lines for s in split_sentences(line)]
    lines, sentences = [w for w in lines if w], [w for w in sentences if w]
    line_of = [k for k, words in enumerate(lines) for _ in words]
    sentence_of = [k for k, words in enumerate(sentences) for _ in words]
    words = [w for words in lines for w in words]
    first = {}
    for start in range(max(len(words) - shingle_size + 1, 1) if words else 0):
        (value,) = shingle_hashes(words[start : start + shingle_size], shingle_size).tolist()
        first.setdefault(value, (line_of[start], sentence_of[start]))
    return (
        sorted([value, line, sentence] for value, (line, sentence) in first.items()),
        [sequence_hash(w) for w in lines],
        [sequence_hash(w) for w in sentences],
        form_hashes(lines).tolist(),
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(NEWSY, max_size=6), st.integers(1, 6))
def test_stored_shingles_name_their_line_and_sentence(texts, shingle_size):
    _, shingles = SketchTable.build_with_shingles(texts, SketchSettings(shingle_size, 32, 3))
    with ShingleStore() as store:
        store.put(np.arange(len(texts)), shingles)
        for row, text in enumerate(texts):
            values, lines, sentences, forms = store.get(row)
            assert (
                values.tolist(),
                lines.tolist(),
                sentences.tolist(),
                forms.tolist(),
            ) == reference_shingles(text, shingle_size)


def test_a_shingle_store_keeps_rows_and_their_replacements():
    texts = ["one two three four five six. seven eight", "nine ten eleven", "twelve thirteen fourteen"]
    _, shingles = SketchTable.build_with_shingles(texts, SketchSettings(2, 32, 3))
    with ShingleStore() as store:
        store.put(np.arange(2), Shingles(shingles.counts[:2], shingles.values[: shingles.counts[:2].sum()],
                                         shingles.line_counts[:2], shingles.line_hashes[:2],
                                         shingles.sentence_counts[:2], shingles.sentence_hashes[:3],
                                         shingles.line_forms[:2]))  # fmt: skip
        store.put(np.array([2]), SketchTable.build_with_shingles(texts[2:], SketchSettings(2, 32, 3))[1])
        assert len(store) == 3
        before = [store.get(row)[0][:, 0].tolist() for row in range(3)]
        assert before == [shingle_hashes(tokenize(t.replace(".", "")), 2).tolist() for t in texts]
        store.put(np.array([0]), Shingles.untagged(np.array([2]), np.array([7, 9], dtype=np.uint32)))
        values, lines, sentences, forms = store.get(0)
        assert (
            values.tolist() == [[7, 0, 0], [9, 0, 0]] and lines.tolist() == [0] and sentences.tolist() == [0]
        )
        assert forms.tolist() == [0]
        assert [store.get(row)[0][:, 0].tolist() for row in (1, 2)] == before[1:]

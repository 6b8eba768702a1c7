import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedup import NormalizeConfig, normalize
from dedup.normalize import _PUNCTUATION, normalize_lines

GOLDEN = [
    ("Turkey\u2019s \u201cjoint will\u201d", 'turkey\'s "joint will"'),
    ("Russia \u2014 as guarantors \u2013 are", "russia - as guarantors - are"),
    ("AT&amp;T &#8220;quoted&#8221;", 'at&t "quoted"'),
    ("AT&amp;amp;T", "at&t"),  # double-escaped
    ("  many\t\nspaces\u00a0here ", "many spaces here"),
    ("\uff21\uff22\uff23 \ufb01le", "abc file"),  # full-width letters, ligature
    ("Stra\u00dfe", "strasse"),
    ("\u00abguillemets\u00bb", '"guillemets"'),
]


@pytest.mark.parametrize(("raw", "expected"), GOLDEN)
def test_golden_table(raw, expected):
    assert normalize(raw) == expected


def test_cyrillic_last_line_of_seed_003(seeds):
    last = seeds["003_0c1d63210c34be7a.txt"].strip().splitlines()[-1]
    assert normalize(last) == "заголовок открываемого материала"


def test_arabic_script_keeps_letters_and_folds_presentation_forms():
    urdu = "\u0648\u0632\u06cc\u0631\u0627\u0639\u0638\u0645  \u0646\u06d2 \u06a9\u06c1\u0627\u06d4"
    assert (
        normalize(urdu)
        == "\u0648\u0632\u06cc\u0631\u0627\u0639\u0638\u0645 \u0646\u06d2 \u06a9\u06c1\u0627\u06d4"
    )
    # Arabic presentation forms (isolated / final letter shapes) become the plain letters
    assert normalize("\ufe8d\ufedf\ufee0\ufeea") == "\u0627\u0644\u0644\u0647"


def test_switches_turn_steps_off():
    config = NormalizeConfig(casefold=False, fold_punctuation=False)
    assert normalize("A \u201cB\u201d", config) == "A \u201cB\u201d"


@given(st.text())
def test_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


# letters that never combine with their neighbours under NFKC (no combining marks, no Hangul jamo)
_STANDALONE = st.characters(
    codec="utf-8", categories=("Lu", "Ll", "Lo", "Nd", "Zs", "Po"),
    exclude_characters="".join(map(chr, [*range(0x1100, 0x1200), *range(0x3130, 0x3190), *range(0xA960, 0xA980),
                                         *range(0xD7B0, 0xD800), *_PUNCTUATION, ord("&")])),  # & would start an entity
)  # fmt: skip


@given(st.text(alphabet=_STANDALONE))
def test_every_letter_of_every_script_survives(text):
    # each letter's own normalized form is found in the normalized text
    normalized = normalize(text)
    for ch in text:
        if ch.isalpha():
            assert normalize(ch) in normalized


ENTITY_TEXT = st.lists(
    st.sampled_from(["a", "B", " ", "\n", "\r", "&#10;", "&NewLine;", "&amp;", "amp;", "&", "#10;", "\u00ad",
                     "\u200b", "\ufeff", "ß", "\ufb01", "’", "\u0301", "\uff06", "\u2028"])
    | st.characters(codec="utf-8"),
).map("".join)  # fmt: skip


@given(ENTITY_TEXT)
def test_normalize_lines_is_normalize_of_each_line(text):
    assert normalize_lines(text) == [normalize(line) for line in text.split("\n")]


def test_an_entity_decoded_to_a_line_break_is_a_space():
    assert normalize_lines("line one&#10;still one\nline two") == ["line one still one", "line two"]


@pytest.mark.parametrize("mark", ["\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\ufeff", "\u200e"])
def test_invisible_format_characters_are_removed(mark):
    laced = "".join(f"{w[:2]}{mark}{w[2:]} " for w in "wire copy laced with invisible marks".split())
    assert normalize(laced) == "wire copy laced with invisible marks"

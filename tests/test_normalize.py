import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedup import NormalizeConfig, normalize
from dedup.normalize import _PUNCTUATION

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


@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_no_script_is_erased(text):
    # Letters of any script survive: the normalized text is empty only if the input had no letters.
    # (modifier-letter apostrophes and primes are folded to "'" on purpose)
    if any(ch.isalpha() and ord(ch) not in _PUNCTUATION for ch in text):
        assert any(ch.isalpha() for ch in normalize(text))

"""Words in every script: real words stay whole, scripts without spaces become bigrams."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedup import find_duplicates
from dedup.normalize import normalize
from dedup.tokens import LINE_BREAK, SENTENCE_MARK, scan, tokenize

# real words, each with the vowel signs, viramas, diacritics or points its script writes inside it
WHOLE_WORDS = {
    "tamil": "தமிழ்நாடு",
    "kannada": "ಕನ್ನಡ",
    "malayalam": "മലയാളം",
    "gurmukhi": "ਪੰਜਾਬੀ",
    "gujarati": "ગુજરાતી",
    "devanagari": "हिन्दी",
    "bengali": "বাংলা",
    "arabic-harakat": "اَلْعَرَبِيَّةُ",
    "urdu": "پاکِستان",
    "hebrew-points": "שָׁלוֹם",
    "greek": "ελληνικά",
    "russian": "заголовок",
}


@pytest.mark.parametrize("word", WHOLE_WORDS.values(), ids=WHOLE_WORDS.keys())
def test_a_word_with_its_marks_is_one_token(word):
    assert tokenize(normalize(word)) == [normalize(word)]
    assert tokenize(normalize(f"{word} {word}.")) == [normalize(word)] * 2


def test_han_and_kana_become_overlapping_bigrams():
    assert tokenize("北京大学") == ["北京", "京大", "大学"]
    assert tokenize("コーヒーを飲む") == ["コー", "ーヒ", "ヒー", "ーを", "を飲", "飲む"]
    assert tokenize("中") == ["中"]
    # a Latin word glued to Chinese is a word of its own
    assert tokenize("iphone手机") == ["iphone", "手机"]


def test_thai_bigrams_never_split_a_mark_from_its_letter():
    thai = "ภาษาไทยน้ำใจ"  # "Thai language", "water", "heart": marks above and below letters
    units = tokenize(thai)
    assert units and all(unicodedata.category(u[0]) not in ("Mn", "Mc") for u in units)
    assert set("".join(units)) == set(thai)


def test_scan_gives_words_and_breaks_in_order():
    assert scan(f"one two.{SENTENCE_MARK} three\nfour 北京") == [
        "one", "two", SENTENCE_MARK, "three", LINE_BREAK, "four", "北京",
    ]  # fmt: skip


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters=[SENTENCE_MARK])))
def test_scan_is_tokenize_plus_breaks(text):
    assert [t for t in scan(text) if t not in (LINE_BREAK, SENTENCE_MARK)] == tokenize(text)


WIRE = [
    "土耳其外交部长恰武什奥卢星期六在莫斯科表示，土耳其和俄罗斯有共同意愿清除叙利亚境内的所有恐怖组织。",
    "恰武什奥卢在与俄罗斯外长拉夫罗夫会谈后对记者说，两国将继续在叙利亚问题上与伊朗保持密切合作，并共同维护叙利亚的领土完整和政治统一。",
    "土耳其国防部长阿卡尔、情报机构负责人菲丹以及总统顾问卡林也参加了此次会议。俄方出席会议的有国防部长绍伊古和总参谋长格拉西莫夫。",
    "会谈前，恰武什奥卢表示，此行的目的是就叙利亚局势的最新发展与俄方进行磋商，特别是美国宣布从叙利亚撤军之后的形势。",
    "他说，双方将协调在叙利亚北部的行动，确保撤军过程不会造成权力真空，也不会让恐怖组织趁机扩大势力。",
    "拉夫罗夫则表示，俄罗斯支持通过阿斯塔纳进程推动叙利亚问题的政治解决，并希望宪法委员会能够尽快开始工作。",
]
REPUBLISHED = [
    "本报讯 据外电报道",
    WIRE[0].replace("星期六", "周六"),
    *WIRE[1:],
    "分析人士认为，土俄两国近年来在叙利亚问题上的合作不断加深，但双方在库尔德武装问题上仍存在分歧。",
]
SAME_TOPIC = [
    "俄罗斯总统普京与土耳其总统埃尔多安在莫斯科举行会晤，双方讨论了叙利亚局势和两国经贸合作。",
    "普京在会后的新闻发布会上说，俄土两国在能源领域的合作进展顺利，土耳其溪天然气管道项目将按计划完工。",
    "埃尔多安表示，土耳其希望与俄罗斯一道，在伊德利卜问题上落实此前达成的协议，防止当地局势进一步恶化。",
    "两国元首还就美国从叙利亚撤军一事交换了意见，并同意加强两国军方和情报部门之间的沟通。",
    "据悉，双方签署了多项合作文件，涉及旅游、文化和核能等领域。",
]


def test_a_chinese_copy_is_found_and_a_chinese_article_on_the_same_topic_is_not():
    result = find_duplicates(
        {"wire": "\n\n".join(WIRE), "paper": "\n\n".join(REPUBLISHED), "other": "\n\n".join(SAME_TOPIC)}
    )
    assert [(p.a, p.b) for p in result.pairs] == [("paper", "wire")]
    pair = result.pairs[0]
    assert pair.kind == "near_duplicate"  # the paper added a dateline and one paragraph
    assert [(m.a, m.b) for m in pair.alignment.matches] == [(i + 1, i) for i in range(len(WIRE))]
    assert pair.alignment.only_a == (len(REPUBLISHED) - 1,)


def test_whole_numbers_read_thousands_and_decimals_as_written():
    from dedup.tokens import whole_numbers

    assert whole_numbers("Top 51.00 dlrs, 1,225,000 shares at 17.25 in 1987.") == {
        "51",
        "1225000",
        "17.25",
        "1987",
    }
    assert whole_numbers("۱۲.۵۰ and 0.50, 12,34, 210-250 lbs") == {"12.5", "0.5", "12", "34", "210", "250"}
    assert whole_numbers("no figures here") == set()


def test_whole_numbers_read_a_fraction_or_a_date_as_one_number():
    """Wire copy gives rates as fractions: read as tokens, 6-3/16 and 6-1/16 pct share 6 and 16 and
    agreed; a date in slashes is one number too."""
    from dedup.tokens import whole_numbers

    assert whole_numbers("trading at 6-3/16 pct, priced at 101-3/8, fees of 5/8 pct") == {
        "6-3/16",
        "101-3/8",
        "5/8",
    }
    assert whole_numbers("Weekly 02/24/2017 page 28, ۱/۲") == {"2/24/2017", "28", "1/2"}
    assert not whole_numbers("6-3/16 pct") & whole_numbers("6-1/16 pct")


def test_written_numbers_read_a_number_before_its_scale_or_unit():
    """Wire copy writes small figures out ("two billion dlrs", "six pct"): read as the digits
    would be, but only before a scale or a unit — "one of the two companies" gives no figure."""
    from dedup.tokens import whole_numbers, written_numbers

    assert written_numbers("to arrange two billion dlrs of") == whole_numbers("to arrange 2 billion dlrs of")
    assert written_numbers("trading at Six pct, Twenty-five percent, four cts a share, one mln") == {
        "6",
        "25",
        "4",
        "1",
    }
    assert written_numbers("one of the two companies said ten days ago") == set()


def test_names_are_capitalized_words_that_open_no_sentence():
    """A paragraph's names: capitalized words inside a sentence, lowercased; a word opening a
    sentence (or the text) may be capitalized for that alone; parts of a hyphenated name and a name
    without its possessive compare as written elsewhere; a headline in capitals or title case and a
    script without case give none."""
    from dedup.tokens import names

    assert names("Browning-Ferris Industries Inc said its board declared a split") == {"industries", "inc"}
    assert names("The Bank of England said. Money market help was 450 mln stg") == {"bank", "england"}
    assert names("<The Harris Trust and Savings Bank> said it raised its rate") == {
        "harris",
        "trust",
        "savings",
        "bank",
    }
    assert names("who was from Tralee, Co-Kerry, as France's AFP said") == {
        "tralee",
        "co",
        "kerry",
        "france",
        "afp",
    }
    assert names("Oil Prices Rise As Opec Meets") == names("ISRAEL INTRODUCES SUMMER TIME") == set()
    assert names("وزیر اعظم نے اسلام آباد میں کہا") == set()


def test_decimals_whole_joins_only_the_digits_it_was_given():
    from dedup.tokens import decimals_whole

    assert decimals_whole("up 0.50 to 1.50 dlr", ["0", "50", "1", "50"]) == ["0.5", "1.5"]
    assert decimals_whole("6-6/16 pct", ["6", "6", "16"]) == ["6-6/16"]
    # digits glued to letters are no token of their own: a decimal among them is left as it was
    assert decimals_whole("x1.5 and 2", ["2"]) == ["2"]
    assert decimals_whole("40,500 shares", ["40", "500"]) == ["40", "500"]

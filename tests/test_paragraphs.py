from hypothesis import given
from hypothesis import strategies as st

from dedup.paragraphs import paragraph_spans, split_paragraphs


def test_blank_lines_separate_paragraphs():
    assert split_paragraphs("One.\n\nTwo\nstill two.\n \nThree.") == ["One.", "Two\nstill two.", "Three."]


def test_lines_when_there_is_no_blank_line():
    assert split_paragraphs("First line.\nSecond line.\r\nThird.") == [
        "First line.",
        "Second line.",
        "Third.",
    ]


def test_single_block_falls_back_to_sentence_groups():
    text = (
        "The minister arrived in Moscow on Saturday for talks. He met his counterpart at noon "
        "in the ministry. Talks went on. Both sides said progress had been made on Syria."
    )
    groups = split_paragraphs(text)
    assert groups == [
        "The minister arrived in Moscow on Saturday for talks.",
        "He met his counterpart at noon in the ministry. Talks went on.",
        "Both sides said progress had been made on Syria.",
    ]


def test_urdu_full_stop_and_glued_sentences_split():
    urdu = (
        "\u0648\u0632\u06cc\u0631 \u0646\u06d2 \u06a9\u06c1\u0627 \u06a9\u06c1 \u0645\u0630\u0627\u06a9\u0631\u0627\u062a \u06a9\u0627\u0645\u06cc\u0627\u0628 \u0631\u06c1\u06d2 \u0627\u0648\u0631 \u0622\u06af\u06d2 \u0628\u0691\u06be\u06cc\u06ba \u06af\u06d2\u06d4 "
        * 2
    )
    assert len(split_paragraphs(urdu)) == 2
    glued = "Profits rose sharply in the third quarter of the year.The company said its sales in Asia had doubled."
    assert len(split_paragraphs(glued)) == 2


def test_empty_text_has_no_paragraphs():
    assert split_paragraphs(" \n\n \n") == []


PARAGRAPHISH = st.lists(
    st.sampled_from(["Word", "said.The", "U.S.", "۔", " ", "\t", "\n", "\r\n", "\r", "\n \n", ". ", "x" * 90])
    | st.characters(codec="utf-8"),
    max_size=60,
).map("".join)


@given(PARAGRAPHISH)
def test_split_paragraphs_gives_the_texts_of_the_spans(text):
    spans = paragraph_spans(text)
    expected = [text[s:e].replace("\r\n", "\n").replace("\r", "\n") for s, e in spans]
    assert split_paragraphs(text) == expected
    assert all(text[s:e] == text[s:e].strip() != "" for s, e in spans)


def test_printed_lines_are_the_units_of_a_text_without_a_blank_line():
    from dedup.paragraphs import printed_lines

    assert printed_lines("The Federal Reserve entered the\nmarket today.\n Reuter")
    assert printed_lines("a line\r\nanother line")
    assert not printed_lines("A headline\n\nA paragraph\nset on two lines.")
    assert not printed_lines("One paragraph on one line.")

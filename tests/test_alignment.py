from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SEED_A, SEED_B
from dedup import align
from dedup.alignment import align_if_covered, align_prepared, prepare, word_diff
from dedup.paragraphs import split_paragraphs


def test_seed_paragraph_map(seeds):
    result = align(seeds[SEED_A], seeds[SEED_B])
    assert [(m.a, m.b) for m in result.matches] == [
        (0, 6), (2, 7), (3, 8), (4, 9), (5, 10), (6, 11), (7, 22), (8, 23), (9, 24),
    ]  # fmt: skip
    assert result.only_a == (1,)
    missing = split_paragraphs(seeds[SEED_A])[1]
    assert missing.startswith("Mevlut Cavusoglu is in the Russian capital for talks on Syria")
    assert result.coverage_a_by_b >= 0.8
    assert 0.35 <= result.coverage_b_by_a <= 0.55
    assert all(0.8 <= m.score <= 1.0 for m in result.matches)


def test_furniture_paragraphs_are_ignored_not_matched(seeds):
    result = align(seeds[SEED_A], seeds[SEED_B])
    ignored = [split_paragraphs(seeds[SEED_B])[i] for i in result.ignored_b]
    assert "Loading..." in ignored
    assert "Route 6" in ignored


def test_reordered_paragraphs_still_match():
    paragraphs = [
        f"Paragraph number {n} of the story tells something different about event {n}." for n in range(5)
    ]
    result = align("\n\n".join(paragraphs), "\n\n".join(reversed(paragraphs)))
    assert [(m.a, m.b) for m in result.matches] == [(i, 4 - i) for i in range(5)]
    assert result.coverage_a_by_b == result.coverage_b_by_a == 1.0


def test_unrelated_texts_have_no_match(seeds):
    result = align(seeds["002_828ae448a2a84eb5.txt"], seeds["004_dde437028c99873a.txt"])
    assert result.matches == ()
    assert result.coverage_a_by_b == 0.0


def test_a_short_paragraph_cannot_match_inside_a_long_one():
    long = " ".join(f"word{n}" for n in range(60)) + " the minister said on saturday"
    result = align("the minister said on saturday in moscow", long, min_paragraph_chars=10)
    assert result.matches == ()


words = st.sampled_from("the minister said talks syria moscow ankara on saturday russia turkey".split())
paragraph = st.lists(words, min_size=3, max_size=12).map(" ".join)
article = st.lists(paragraph, min_size=1, max_size=6).map("\n\n".join)


@settings(max_examples=200, deadline=None)
@given(article, article)
def test_align_b_a_mirrors_align_a_b(a, b):
    assert align(b, a, min_paragraph_chars=1) == align(a, b, min_paragraph_chars=1).mirrored()


def test_word_diff_marks_changed_words_only():
    left, right = word_diff(
        "In the demilitarized zone, said Shoygu.", "in the demilitarisation zone, Shoygu said"
    )
    changed_left = [w for w, same in left if not same]
    changed_right = [w for w, same in right if not same]
    # "In"/"in" and "zone,"/"zone," are the same word; the swapped pair keeps one of its words
    assert changed_left[0] == "demilitarized" and len(changed_left) == 2
    assert changed_right[0] == "demilitarisation" and len(changed_right) == 2
    assert changed_left[1].rstrip(".") in {"said", "Shoygu"}


def test_sentences_of_a_summary_are_found_inside_longer_paragraphs():
    article = (
        "Profits at the carmaker rose by a fifth in the last quarter of the year. Sales in Asia doubled "
        "while European demand stayed flat, the company said in a statement on Monday. Its shares "
        "closed two percent higher in Frankfurt, and the board proposed a larger dividend for the year "
        "to be voted on by shareholders at the annual meeting in May.\n\n"
        "The chief executive said the new electric model would reach showrooms in the spring. Analysts "
        "had expected a smaller rise after a difficult summer for the whole industry. Trade unions "
        "welcomed the plan but asked for guarantees on jobs at the two older plants in the north, "
        "which build the combustion engines the company wants to phase out."
    )
    summary = (
        "Analysts had expected a smaller rise after a difficult summer for the whole industry. "
        "Sales in Asia doubled while European demand stayed flat, the company said in a statement on Monday."
    )
    result = align(article, summary)
    assert (1, 0) in [(m.a, m.b) for m in result.b_inside_a]  # summary sentence 0 inside paragraph 1
    assert {m.b for m in result.matches} | {m.b for m in result.b_inside_a} == {0, 1}
    assert result.only_b == ()
    assert result.coverage_b_by_a == 1.0
    assert align(summary, article) == result.mirrored()


PIECES = [
    "The minister said the talks in Moscow would resume next week after a pause of two months.",
    "Officials from both countries declined to comment on the details of the draft agreement.",
    "Markets rose on the news, with the main index closing up more than one percent on the day.",
    "A spokesman for the opposition called the plan a betrayal of voters and promised a fight.",
    "Short line.",
    "Analysts expect the central bank to hold interest rates steady at its meeting on Thursday.",
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(range(len(PIECES))), min_size=1, max_size=6),
    st.lists(st.sampled_from(range(len(PIECES))), min_size=1, max_size=6),
    st.sampled_from([0.2, 0.5, 0.8, 0.95]),
    st.booleans(),
    st.booleans(),
)
def test_the_early_stop_only_drops_pairs_that_could_not_reach_the_coverage(
    first, second, floor, merge, scans
):
    glue = " " if merge else "\n\n"  # merged paragraphs exercise the inside-search
    a = prepare("\n\n".join(PIECES[k] for k in first), ocr=scans)
    b = prepare(glue.join(PIECES[k] for k in second), ocr=scans)
    full = align_prepared(a, b, threshold=0.8, characters=scans)
    early = align_if_covered(a, b, threshold=0.8, min_coverage=floor, characters=scans)
    if early is None:
        assert max(full.coverage_a_by_b, full.coverage_b_by_a) < floor
    else:
        assert early == full


def test_a_sentence_a_misread_full_stop_glued_to_the_next_is_found_inside_it_in_scans():
    """Two scans of one column: in one, a full stop read without its space glues two sentences
    into one unit. Each sentence of the other scan is found inside that unit, though a third of
    their words are misread in one copy or the other; a born-digital pair is held to its words."""
    merged = (
        "but what was great about sundays perforance wa tht she was undeg pressure to produce the "
        "gojds when it counted.diane allahgreen has been our bes hurdler for sorne time now and i "
        "think she was surprised to be beaten by sarah."
    )
    apart = (
        "but what was great about sunday's performance was that she was u'nder pressure: to produce "
        "he goods when it counted.\n"
        "diane allah-green has been our best hurdler for some time now and i think she was surpised "
        "to bc beatenqby sarah."
    )
    scans = align_prepared(
        prepare(merged, ocr=True), prepare(apart, ocr=True), threshold=0.8, characters=True
    )
    assert [(m.a, m.b) for m in scans.b_inside_a] == [(0, 0), (0, 1)] and scans.coverage_b_by_a >= 0.85
    strict = align_prepared(prepare(merged), prepare(apart), threshold=0.8)
    assert strict.b_inside_a == () and strict.a_inside_b == ()

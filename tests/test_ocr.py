"""Scanned newspapers: copies OCR'd on their own are found and grouped (``--preset ocr``)."""

import json
import random
import textwrap
from pathlib import Path

import numpy as np

from dedup import DedupConfig, find_duplicates
from dedup.alignment import align_prepared, prepare, word_diff
from dedup.boilerplate import find_boilerplate
from dedup.cli import main
from dedup.paragraphs import compared_units, rejoin_hyphenation, split_paragraphs

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CONFUSIONS = {"m": "rn", "l": "1", "e": "c", "d": "cl", "o": "0", "h": "b", "n": "u", "i": "l"}
FOOTER = (
    "Published every morning except Sunday by the Riverton Gazette Printing Company, 12 Main Street. "
    "Subscriptions ten cents a week, five dollars a year, payable in advance."
)


def fixture(prefix: str) -> str:
    return next(FIXTURES.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


def scanned(text: str, width: int, error_rate: float, seed: int) -> str:
    """``text`` set in a column of ``width`` (long words broken with a hyphen at line ends) and
    OCR'd: glyphs confused, characters dropped, stray marks, at ``error_rate`` per character."""
    rng = random.Random(seed)
    blocks = []
    for paragraph in split_paragraphs(text):
        lines, line = [], ""
        for word in paragraph.split():
            if len(line) + len(word) + 1 <= width:
                line = f"{line} {word}".strip()
            elif len(word) >= 7 and word.isalpha() and width - len(line) >= 5:
                lines.append(f"{line} {word[:3]}-".strip())
                line = word[3:]
            else:
                lines.append(line)
                line = word
        blocks.append("\n".join([*lines, line]).strip())
    out = []
    for char in "\n\n".join(blocks):
        roll = rng.random()
        if char == "\n" or roll >= error_rate:
            out.append(char)
        elif roll < error_rate / 2:
            out.append(CONFUSIONS.get(char, char))
        elif roll < 0.8 * error_rate:
            continue
        else:
            out.append("." + char)
    return "".join(out)


def test_words_hyphenated_at_line_ends_are_rejoined_where_it_is_safe():
    assert rejoin_hyphenation("the infor-\nmation, it said\nmore") == "the information,\nit said\nmore"
    assert rejoin_hyphenation("a well-\nKnown name") == "a well-\nKnown name"  # a capital: a name
    assert rejoin_hyphenation("a 12-\nyear term") == "a 12-\nyear term"  # not after letters
    assert rejoin_hyphenation("the news -\nand more") == "the news -\nand more"  # a dash
    # two printings broken in different places compare as one text
    assert compared_units("Plans.\n\nGovern-\nment plans") == compared_units("Plans.\n\nGov-\nernment plans")


def test_character_scores_match_misread_paragraphs_and_not_unrelated_ones():
    story, other = fixture("000"), fixture("002")
    a, b = prepare(scanned(story, 40, 0.04, 1)), prepare(scanned(story, 36, 0.04, 2))
    words_only = align_prepared(a, b, threshold=0.8)
    both = align_prepared(a, b, threshold=0.8, characters=True)
    assert len(both.matches) > len(words_only.matches)
    assert (
        min(both.coverage_a_by_b, both.coverage_b_by_a)
        >= 0.8
        > max(words_only.coverage_a_by_b, words_only.coverage_b_by_a)
    )
    unrelated = align_prepared(a, prepare(scanned(other, 40, 0.04, 3)), threshold=0.8, characters=True)
    assert unrelated.matches == ()


def test_word_diff_passes_over_misreads_only_when_asked():
    left, right = word_diff("the govemment said on Monday", "the government sald on Tuesday", misreads=True)
    assert [same for _, same in left] == [True, True, True, True, False]  # Monday -> Tuesday: an edit
    assert [same for _, same in right] == [True, True, True, True, False]
    left, _ = word_diff("prices rose", "prices rise")
    assert left == [("prices", True), ("rose", False)]


def test_a_line_carried_by_copies_of_one_story_is_not_boilerplate():
    # six carriers of one line: each holds it as a minority of its text (rule 3 says boilerplate)
    rows = np.repeat(np.arange(6), 2)
    hashes = np.array([7, 100, 7, 101, 7, 102, 7, 103, 7, 104, 7, 105], dtype=np.uint64)
    chars = np.array([40, 100] * 6, dtype=np.uint32)
    assert find_boilerplate(rows, hashes, chars, min_docs=5) == {7}
    rng = np.random.default_rng(0)
    unrelated = rng.integers(0, 2**32, size=(6, 128), dtype=np.uint64)
    one_story = np.repeat(unrelated[:1], 6, axis=0)
    one_story[:, :40] = unrelated[:, :40]  # copies: about 70% of their MinHash values agree
    assert find_boilerplate(rows, hashes, chars, min_docs=5, signatures=unrelated) == {7}
    assert find_boilerplate(rows, hashes, chars, min_docs=5, signatures=one_story) == frozenset()


def scanned_collection() -> dict[str, str]:
    """Four papers' scans of one wire story and three unrelated stories printed by one paper,
    every copy with the paper's footer, every scan with its own misreads."""
    story = fixture("000")
    articles = {f"story/{n}": scanned(f"{story}\n\n{FOOTER}", 34 + 3 * n, 0.03, n) for n in range(4)}
    for n, prefix in enumerate(("002", "003", "004")):
        articles[f"other/{prefix}"] = scanned(f"{fixture(prefix)}\n\n{FOOTER}", 40, 0.03, 10 + n)
    return articles


def test_the_defaults_and_the_ocr_preset_group_the_scans_of_one_story_and_nothing_else():
    articles = scanned_collection()
    strict = find_duplicates(articles, detect_scans=False)
    for result in (find_duplicates(articles), find_duplicates(articles, config=DedupConfig.ocr())):
        assert [set(c.members) for c in result.clusters] == [{f"story/{n}" for n in range(4)}]
        assert all(p.a.startswith("story/") and p.b.startswith("story/") for p in result.pairs)
        assert len(result.pairs) == 6 and all(p.scanned for p in result.pairs)
        assert result.summary.articles_scanned == 7
    assert len([p for p in strict.pairs if p.kind != "partial"]) < 6  # strict scoring misses copies
    assert not any(p.scanned for p in strict.pairs) and strict.summary.articles_scanned == 0


def test_scans_are_told_from_born_digital_text_by_their_own_characters():
    from dedup.scans import looks_scanned, set_in_columns

    story = fixture("001")
    assert not any(looks_scanned(fixture(k)) for k in ("000", "001", "002", "003", "004"))
    assert looks_scanned(scanned(story, 38, 0.0, 1))  # print columns with broken words, no misread
    words = story.split(" ")  # one word in 40 with an "o" read as "0" (about 0.6% of the characters)
    misread = " ".join(w[0] + w[1:-1].replace("o", "0", 1) + w[-1] if k % 40 == 0 and len(w) > 2 else w
                       for k, w in enumerate(words))  # fmt: skip
    assert looks_scanned(misread) and not set_in_columns(misread)  # misread glyphs alone, long lines
    wrapped = "\n".join(textwrap.wrap(story.replace("\n", " "), 70))  # a hard-wrapped wire story
    assert not looks_scanned(wrapped) and not set_in_columns(wrapped)
    assert not looks_scanned("The iPod, 3G and MP3 sales of the 1990s: £10m, e.g. bbc.co.uk " * 20)
    assert looks_scanned("he1lo w0rld the sto;ry of a l1ne " * 20)


def test_one_run_scores_a_mixed_collection_each_half_as_it_needs():
    """Born-digital copies of a story scored strictly, scans tolerantly, in the same run — a
    born-digital original and its own scan too; the JSON marks the scans' pairs."""
    articles = scanned_collection()
    clean = fixture("002").split("\n\n")
    articles["digital/1"] = "\n\n".join(clean)
    articles["digital/2"] = "\n\n".join(
        [*clean[: len(clean) // 3], "A paragraph of its own, long enough to count."]
    )
    result = find_duplicates(articles)
    digital = [(p.a, p.b, p.kind, p.scanned) for p in result.pairs if "digital/1" in (p.a, p.b)]
    assert digital == [("digital/1", "digital/2", "contained", False),
                       ("digital/1", "other/002", "near_duplicate", True)]  # fmt: skip
    digital = [p for p in result.pairs if p.a.startswith("digital/") and p.b.startswith("digital/")]
    assert (
        digital[0].coverage_a_by_b
        == find_duplicates({k: articles[k] for k in ("digital/1", "digital/2")}).pairs[0].coverage_a_by_b
    )
    assert len([p for p in result.pairs if p.scanned and p.a.startswith("story/")]) == 6
    assert '"scanned": true' in result.to_json() and result.summary.articles_scanned == 7


def test_scans_without_blank_lines_are_read_as_prose_set_in_columns():
    flat = {k: "\n".join(x for x in v.split("\n") if x.strip()) for k, v in scanned_collection().items()}
    assert len(split_paragraphs(flat["story/0"], columns=True)) < len(split_paragraphs(flat["story/0"])) / 3
    result = find_duplicates(flat, config=DedupConfig.ocr())
    assert len(result.pairs) == 6 and all(
        p.a.startswith("story/") and p.b.startswith("story/") for p in result.pairs
    )
    assert len(result.clusters) == 1 and len(result.clusters[0].members) >= 3
    assert len(find_duplicates(flat).pairs) == 6  # read as scans by default
    assert len(find_duplicates(flat, detect_scans=False).pairs) < 6  # one unit per printed line


def test_the_command_takes_the_ocr_preset(tmp_path, capsys):
    folder = tmp_path / "scans"
    folder.mkdir()
    for name, text in scanned_collection().items():
        (folder / f"{name.replace('/', '-')}.txt").write_text(text, encoding="utf-8")
    assert main([str(folder), "--preset", "ocr", "--format", "json", "--explain"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["params"]["ocr_tolerant"] is True
    assert len(report["clusters"]) == 1 and len(report["clusters"][0]["members"]) == 4
    rows = [row for pair in report["pairs"] for row in pair["paragraphs"] if row["kind"] == "match"]
    differing = sum(not same for row in rows for _, same in row["a"]["words"])
    total = sum(len(row["a"]["words"]) for row in rows)
    assert differing < 0.05 * total  # misreads are not shown as edits

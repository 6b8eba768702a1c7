import json
import random

import numpy as np
import pytest
from datasketch import MinHashLSH

from conftest import SEED_A, SEED_B
from dedup import Article, ConfigError, DedupConfig, DedupResult, InputError, find_duplicates
from dedup.normalize import normalize
from dedup.shingles import anchor_hashes, sequence_hash, shingle_hashes, tokenize
from dedup.sketch import SketchSettings, SketchTable
from dedup.store import ShingleStore
from dedup.verification import classify, exact_containment, shingle_overlap


def test_seeds_give_exactly_one_contained_pair(seeds):
    result = find_duplicates(seeds)
    assert [(p.a, p.b) for p in result.pairs] == [(SEED_A, SEED_B)]
    pair = result.pairs[0]
    assert (pair.kind, pair.direction) == ("contained", "a_in_b")
    assert pair.coverage_a_by_b >= 0.8
    assert 0.35 <= pair.coverage_b_by_a < 0.8
    assert pair.jaccard == pytest.approx(0.35, abs=0.02)
    assert pair.containment_a_in_b == pytest.approx(0.71, abs=0.02)
    assert abs(pair.minhash_jaccard - pair.jaccard) <= 0.1
    assert [(m.a, m.b) for m in pair.alignment.matches] == [
        (0, 6), (2, 7), (3, 8), (4, 9), (5, 10), (6, 11), (7, 22), (8, 23), (9, 24),
    ]  # fmt: skip
    assert pair.alignment.only_a == (1,)
    assert [(c.members, c.representative) for c in result.clusters] == [((SEED_A, SEED_B), SEED_B)]


def test_same_topic_articles_are_never_paired(seeds):
    others = {k: v for k, v in seeds.items() if k not in (SEED_A, SEED_B)}
    assert find_duplicates(others).pairs == ()


@pytest.mark.parametrize(
    "shape",
    [
        lambda s: s,
        lambda s: list(s.items()),
        lambda s: [Article(k, v, {"outlet": "x"}) for k, v in s.items()],
        lambda s: reversed(list(s.items())),
    ],
    ids=["mapping", "tuples", "articles", "reversed-iterator"],
)
def test_every_input_shape_gives_the_same_json(seeds, shape):
    result, reference = find_duplicates(shape(seeds)).to_dict(), find_duplicates(seeds).to_dict()
    if result["articles"]:  # metadata given with Article objects is carried for the shown articles
        assert result.pop("articles") == [
            {"id": SEED_A, "meta": {"outlet": "x"}},
            {"id": SEED_B, "meta": {"outlet": "x"}},
        ]
        reference.pop("articles")
    assert result == reference


def test_plain_strings_get_positions_as_ids(seeds):
    texts = [seeds[SEED_A], "Something else entirely, unrelated to Syria or to talks.", seeds[SEED_B]]
    result = find_duplicates(texts)
    assert [(p.a, p.b) for p in result.pairs] == [(0, 2)]


def test_exact_copies_are_grouped_and_paired_with_the_smallest_id(seeds):
    text = seeds[SEED_A]
    result = find_duplicates({"c": text, "a": text.upper(), "b": text.replace("\n\n", "\n\n\n")})
    assert [(p.a, p.b, p.kind) for p in result.pairs] == [("a", "b", "exact"), ("a", "c", "exact")]
    assert [c.members for c in result.clusters] == [("a", "b", "c")]


def test_empty_articles_are_skipped_and_named(seeds):
    result = find_duplicates({**seeds, "blank": "  \n ", "dots": "... !!!"})
    assert [(s.id, s.reason) for s in result.skipped] == [
        ("blank", "empty: no words"),
        ("dots", "empty: no words"),
    ]
    assert result.summary["skipped"] == 2
    assert len(result.pairs) == 1


def test_empty_article_is_an_error_when_asked():
    with pytest.raises(InputError, match="article 'x' is empty"):
        find_duplicates({"x": ""}, on_empty="error")


@pytest.mark.parametrize(
    ("articles", "message"),
    [
        ([("a", "text"), ("a", "other")], "article 'a': duplicate id"),
        ([("a", None)], "article 'a': text must be a string, got None"),
        ([(1.5, "text")], "position 0: id must be a string or an integer"),
        ("just one string", "got a single string"),
    ],
)
def test_bad_articles_raise_input_error(articles, message):
    with pytest.raises(InputError, match=message):
        find_duplicates(articles)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"num_perm": 8}, r"num_perm must be in \[16, 4096\], got 8"),
        ({"candidate_threshold": 1.5}, r"candidate_threshold must be in \(0, 1\], got 1.5"),
        ({"partial_threshold": 0.9}, "must not exceed duplicate_threshold"),
        ({"shingle_size": "5"}, "shingle_size must be an integer"),
    ],
)
def test_bad_options_raise_config_error(options, message):
    with pytest.raises(ConfigError, match=message):
        find_duplicates(["text"], **options)


def test_params_record_every_setting_and_version(seeds):
    params = find_duplicates(seeds, seed=3, num_perm=64).params
    assert {**DedupConfig(seed=3, num_perm=64).to_dict()}.items() <= params.items()
    assert params["minhash_scheme"] == "affine32"
    assert params["datasketch_version"].startswith("2.")
    lsh = MinHashLSH(threshold=params["candidate_threshold"], num_perm=64)
    assert (params["lsh_bands"], params["lsh_rows_per_band"]) == (lsh.b, lsh.r)


def test_json_has_schema_and_documented_fields(seeds):
    data = json.loads(find_duplicates(seeds).to_json())
    assert data["schema"] == "dedup.result/1"
    pair = data["pairs"][0]
    assert {"a", "b", "kind", "direction", "minhash_jaccard", "jaccard", "containment_a_in_b",
            "containment_b_in_a", "coverage_a_by_b", "coverage_b_by_a", "alignment"} <= pair.keys()  # fmt: skip
    assert pair["alignment"]["matches"][0] == [0, 6, 0.92]
    assert data["clusters"] == [{"representative": SEED_B, "members": [SEED_A, SEED_B]}]


@pytest.mark.parametrize(
    ("coverages", "expected"),
    [
        ((0.9, 0.85), ("near_duplicate", None)),
        ((0.84, 0.45), ("contained", "a_in_b")),
        ((0.2, 0.95), ("contained", "b_in_a")),
        ((0.3, 0.6), ("partial", None)),
        ((0.4, 0.3), None),
    ],
)
def test_decision_rule(coverages, expected):
    assert classify(*coverages, DedupConfig()) == expected


def test_reuse_preset_keeps_overrides_and_the_seed_result(seeds):
    config = DedupConfig.reuse(seed=5)
    assert (config.shingle_size, config.paragraph_threshold, config.seed) == (3, 0.6, 5)
    result = find_duplicates(seeds, config=config)
    assert [(p.a, p.b) for p in result.pairs] == [(SEED_A, SEED_B)]


def corpus_with_copies(n=300):
    """Synthetic articles, every fifth an edited republication of the one before."""
    import random

    rng = random.Random(4)
    words = [f"w{k}" for k in range(3000)]
    texts = {}
    for i in range(n):
        if i % 5 == 4:
            paragraphs = [*texts[f"doc{i - 1:04d}"].split("\n\n")[1:], " ".join(rng.choices(words, k=30))]
        else:
            paragraphs = [" ".join(rng.choices(words, k=rng.randint(20, 40))) for _ in range(6)]
        texts[f"doc{i:04d}"] = "\n\n".join(paragraphs)
    return texts


def test_worker_processes_and_streaming_do_not_change_the_result():
    texts = corpus_with_copies()
    reference = find_duplicates(texts, workers=1).to_json()
    assert find_duplicates(texts, workers=2).to_json() == reference
    streamed = ((k, v) for k, v in reversed(list(texts.items())))  # a generator: spilled to disk
    assert find_duplicates(streamed, workers=2).to_json() == reference
    assert len(find_duplicates(texts).pairs) == 60


def test_timings_are_reported_outside_the_result(seeds):
    timings = {}
    result = find_duplicates(seeds, timings=timings)
    stages = ("read_and_sketch", "exact_copies", "boilerplate", "candidates", "precheck", "align", "cluster")
    assert all(timings[stage] >= 0 for stage in stages)
    assert result.to_json() == find_duplicates(seeds).to_json()  # the result does not carry them


def test_ten_thousand_copies_cost_linear_work():
    text = "A wire story paragraph that many outlets copied word for word.\n\nAnd its second paragraph, also copied."
    result = find_duplicates({f"c{i:05d}": text for i in range(10000)})
    assert result.summary["distinct_texts"] == 1
    assert len(result.pairs) == 9999  # each copy paired with the smallest id, not all 50 million pairs
    assert [len(c.members) for c in result.clusters] == [10000]


def test_the_precheck_drops_candidates_below_the_containment_floor(seeds):
    kept = find_duplicates(seeds)
    assert kept.summary["candidate_pairs"] >= 1 and kept.summary["aligned_pairs"] >= 1
    dropped = find_duplicates(seeds, min_candidate_containment=0.95)  # 000/001: about 0.7 estimated
    assert dropped.summary["candidate_pairs"] == kept.summary["candidate_pairs"]
    assert dropped.summary["aligned_pairs"] == 0 and dropped.pairs == ()


def test_a_pair_found_only_by_a_shared_sentence(seeds):
    # a two-sentence summary inside a long article: Jaccard far below the LSH threshold
    article = seeds[SEED_B]
    sentences = [s for p in article.split("\n\n") for s in p.split(". ") if len(s.split()) >= 12]
    summary = ". ".join(sentences[:2]) + "."
    result = find_duplicates({"article": article, "summary": summary}, candidate_threshold=0.9)
    assert result.summary["candidate_pairs_lsh"] == 0
    assert result.summary["candidate_pairs_anchor"] == 1
    assert [(p.a, p.b, p.kind, p.direction) for p in result.pairs] == [
        ("article", "summary", "contained", "b_in_a")
    ]


def test_crowded_band_buckets_stay_linear_in_the_full_pipeline():
    # 300 one-word variants of one text: every band value is shared by all 300 (crowded)
    base = corpus_with_copies(5)["doc0000"]
    texts = {f"v{i:03d}": f"{base} variant{i}" for i in range(300)}
    result = find_duplicates(texts)
    assert result.summary["distinct_texts"] == 300
    assert result.summary["candidate_pairs"] <= 300 * 2 * 4  # neighbours by id (bands, anchors), not 44,850
    assert {p.kind for p in result.pairs} == {"near_duplicate"}
    linked = {i for p in result.pairs for i in (p.a, p.b)}
    assert linked == set(texts)


def test_streamed_multibyte_texts_are_read_back_exactly():
    texts = {"ur": "وزیر اعظم نے کہا کہ مذاکرات کامیاب رہے۔ " * 8, "zh": "北京大学的学生们在图书馆里学习。" * 8,
             "emoji": "Breaking 🚨 news: the council 🏛️ voted on the budget today. " * 8}  # fmt: skip
    copies = {f"{k}-copy": v for k, v in texts.items()}
    streamed = iter(list({**texts, **copies}.items()))  # an iterator: spilled to a temporary file
    result = find_duplicates(streamed)
    assert [(p.a, p.b, p.kind) for p in result.pairs] == [(k, f"{k}-copy", "exact") for k in sorted(texts)]
    assert result.to_json() == find_duplicates({**texts, **copies}).to_json()


def test_integer_and_string_ids_sort_integers_first():
    text = "A shared paragraph of words that is long enough to be compared across the two articles."
    result = find_duplicates([("b", text), (10, text), (2, text), ("a", text)])
    assert [(p.a, p.b) for p in result.pairs] == [(2, 10), (2, "a"), (2, "b")]
    assert result.clusters[0].members == (2, 10, "a", "b")


def test_on_empty_must_be_skip_or_error():
    with pytest.raises(ConfigError, match="on_empty must be 'skip' or 'error', got 'bogus'"):
        find_duplicates(["text"], on_empty="bogus")


@pytest.mark.parametrize(
    "articles", [[], ["", " "], iter([]), {}], ids=["list", "blank", "iterator", "mapping"]
)
def test_no_articles_to_compare_is_an_empty_result(articles):
    result = find_duplicates(articles)
    assert (result.pairs, result.clusters, result.summary["compared"]) == ((), (), 0)


def test_the_json_result_round_trips(seeds):
    result = find_duplicates({**seeds, "copy": seeds[SEED_A], "blank": " "})
    assert DedupResult.from_json(result.to_json()) == result
    assert DedupResult.from_json(result.to_json()).to_json() == result.to_json()


def test_zero_width_characters_do_not_hide_a_copy(seeds):
    laced = " ".join(w if k % 3 else f"{w[:1]}\u200b{w[1:]}" for k, w in enumerate(seeds[SEED_A].split(" ")))
    result = find_duplicates({"original": seeds[SEED_A], "laced": laced.replace("e", "e\u00ad", 5)})
    assert [(p.a, p.b, p.kind) for p in result.pairs] == [("laced", "original", "exact")]


def templated_corpus(n=2000, seed=11):
    """News-like articles: a templated lead (market report, council vote...), text of their own,
    a shared footer; every tenth an edited republication of a recent one."""
    rng = random.Random(seed)
    vocabulary = [f"{stem}{k}" for stem in ("river", "vote", "trade", "storm", "court") for k in range(800)]
    templates = [
        "Shares of {c} rose {x} percent on {d} after the company reported quarterly results above forecasts.",
        "The council of {p} voted {x} to {y} on {d} to approve a new budget for roads and schools.",
        "Police in {p} said {x} people were detained on {d} after a protest near the central station.",
    ]
    footer = "Subscribe to our newsletter for the latest news from around the region every morning."
    texts: dict[str, str] = {}
    for i in range(n):
        if i % 10 == 9:
            source = texts[f"t{rng.randrange(max(0, i - 50), i):05d}"]
            texts[f"t{i:05d}"] = source.replace(" on ", " early on ", 1) + "\n\nReporting by staff."
            continue
        lead = rng.choice(templates).format(c=f"Company{rng.randrange(300)}", p=f"city{rng.randrange(40)}",
                                            x=rng.randrange(1, 90), y=rng.randrange(1, 90), d=f"day {rng.randrange(365)}")  # fmt: skip
        own = [
            " ".join(rng.choices(vocabulary, k=rng.randint(15, 30))) + "." for _ in range(rng.randint(3, 6))
        ]
        texts[f"t{i:05d}"] = "\n\n".join([lead, *own, footer])
    return texts


def test_thousands_of_templated_articles_give_the_same_bytes_in_any_order():
    texts = templated_corpus()
    items = list(texts.items())
    reference = find_duplicates(items).to_json()
    summary = json.loads(reference)["summary"]
    assert summary["pairs"] >= 200 and summary["boilerplate_lines"] >= 1
    shuffled = items[:]
    random.Random(1).shuffle(shuffled)
    assert find_duplicates(shuffled, workers=2).to_json() == reference
    assert find_duplicates(list(reversed(items))).to_json() == reference


@pytest.mark.slow
def test_the_command_gives_the_same_bytes_under_any_hash_seed(tmp_path):
    from conftest import run_cli

    items = list(templated_corpus(1500).items())
    path = tmp_path / "templated.jsonl"
    path.write_text(
        "".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in reversed(items)), encoding="utf-8"
    )
    outputs = {
        run_cli(str(path), "--format", "json", env={"PYTHONHASHSEED": seed}).stdout for seed in ("0", "7")
    }
    assert outputs == {find_duplicates(items).to_json() + "\n"}


def test_template_sentences_alone_do_not_reach_alignment_but_a_wire_story_printed_ten_times_does():
    rng = random.Random(5)
    words = [f"w{k}" for k in range(5000)]

    def sentence():
        return " ".join(rng.choice(words) for _ in range(12)) + "."

    templates = [sentence() for _ in range(30)]  # stock phrases, each in about 25 articles
    articles = {}
    for k in range(200):
        own = [sentence() for _ in range(16)]
        phrases = rng.sample(templates, 4)  # each article: 4 stock phrases among its own sentences
        for at, phrase in zip(sorted(rng.sample(range(0, 17, 2), 4)), phrases, strict=True):
            own.insert(at, phrase)
        articles[f"r{k:03d}"] = "\n\n".join(" ".join(own[at : at + 4]) for at in range(0, len(own), 4))
    story = "\n\n".join(sentence() for _ in range(20))
    articles |= {f"wire{k}": story + f"\n\nPrinted by outlet {k}." for k in range(10)}
    result = find_duplicates(articles)
    assert (
        result.summary["candidate_pairs"] > 100
    )  # stock phrases make candidates (bands, anchors of the rarer ones) ...
    assert result.summary["prechecked_pairs"] == 45  # ... but only the wire copies are aligned
    assert {(p.a, p.b) for p in result.pairs} == {
        (f"wire{i}", f"wire{j}") for i in range(10) for j in range(i + 1, 10)
    }


def test_exact_containment_counts_the_shared_shingles_less_boilerplate_lines(seeds):
    texts = [seeds[SEED_A], seeds[SEED_B], *seeds.values()]
    footer = "Copyright 2017 the news agency, all rights reserved, no reproduction"
    texts += [f"{texts[2]}\n\n{footer}", f"Another story entirely, about the weather in spring.\n\n{footer}"]
    _, shingles = SketchTable.build_with_shingles(texts, SketchSettings(5, 128, 1))
    pairs = np.array([(i, j) for i in range(len(texts)) for j in range(i + 1, len(texts))])
    with ShingleStore() as store:
        store.put(np.arange(len(texts)), shingles)
        whole, own = exact_containment(pairs, store)
        words = [tokenize(normalize(t)) for t in texts]
        expected = [
            max(shingle_overlap(shingle_hashes(words[i], 5), shingle_hashes(words[j], 5))[1:])
            for i, j in pairs
        ]
        assert whole.tolist() == pytest.approx(expected) and own.tolist() == whole.tolist()
        assert 0.5 < whole[0] < 1  # the seeds 000 / 001
        footer_pair = len(pairs) - 1  # the last two texts share only the footer
        assert whole[footer_pair] > 0.3
        boilerplate = frozenset({sequence_hash(tokenize(normalize(footer)))})
        assert exact_containment(pairs, store, boilerplate)[0][footer_pair] == 0
        held = np.array(sorted(int(h) for h in anchor_hashes([tokenize(normalize(footer))])), dtype=np.uint64)
        assert exact_containment(pairs, store, templates=held)[1][footer_pair] == 0


def test_the_reuse_preset_prechecks_its_3_word_shingles_and_loses_no_pair():
    """``--preset reuse`` pre-checks its 3-word shingles, the exact count at 10%: fewer candidates
    go to alignment, and the same pairs come out as with no pre-check."""
    from test_archive import news_corpus

    texts = news_corpus(3, n=300)
    checked = find_duplicates(texts, config=DedupConfig.reuse())
    everything = find_duplicates(
        texts, config=DedupConfig.reuse(min_candidate_containment=0.0, min_exact_containment=0.0)
    )
    assert checked.params["min_candidate_containment"] == 0.05
    assert checked.params["min_exact_containment"] == 0.1
    assert checked.pairs and checked.pairs == everything.pairs
    assert checked.summary.prechecked_pairs < everything.summary.prechecked_pairs


def test_the_exact_pre_check_has_its_own_floor():
    """``min_exact_containment`` is the floor of the exact count, ``min_candidate_containment``
    the estimate's: a pair at 7% passes the defaults' exact check, not the reuse preset's."""
    from dedup.verification import passes_check

    whole, own, scans = np.array([0.07, 0.12, 0.3]), np.array([0.07, 0.12, 0.0]), np.zeros(3, dtype=np.int64)
    assert passes_check(whole, own, DedupConfig(), scans).tolist() == [True, True, True]
    assert passes_check(whole, own, DedupConfig.reuse(), scans).tolist() == [False, True, True]
    assert passes_check(whole, own, DedupConfig(min_exact_containment=0.2), scans).tolist() == [
        False,
        False,
        True,
    ]
    with pytest.raises(ConfigError, match="min_exact_containment"):
        DedupConfig(min_exact_containment=1.5)


def test_a_process_prepares_a_text_once_for_the_chunks_it_aligns(seeds, monkeypatch):
    """Chunks that bring the same settings and an equal set of held lines (unpickled anew) share
    one cache of prepared texts; other held lines start another; the cache stays in its bound and
    changes no alignment."""
    import pickle

    from dedup import verification
    from dedup.verification import PreparedTexts, align_chunk

    held = frozenset({sequence_hash(["reuters"])})
    texts = list(seeds.values())
    chunk = [(False, texts[i], texts[j], 0) for i in range(len(texts)) for j in range(i + 1, len(texts))]
    fresh = []
    for pair in chunk:  # each prepared anew
        PreparedTexts.forget()
        fresh.append(align_chunk([pair], config=DedupConfig(), boilerplate=held))
    PreparedTexts.forget()
    shared = PreparedTexts.of(DedupConfig(), held)
    assert PreparedTexts.of(DedupConfig(), pickle.loads(pickle.dumps(held))) is shared
    assert PreparedTexts.of(DedupConfig(shingle_size=3), held) is not shared
    monkeypatch.setattr(verification, "PREPARED_CHARS", max(len(t) for t in texts) * 2)
    once = PreparedTexts.of(DedupConfig(), held)
    assert [align_chunk([c], config=DedupConfig(), boilerplate=held) for c in chunk] == fresh
    assert PreparedTexts.of(DedupConfig(), held) is once and 1 <= len(once._texts) <= 2
    PreparedTexts.forget()


def test_the_pre_check_reads_a_row_once_while_cached(seeds):
    from dedup.store import RowCache

    texts = list(seeds.values())
    _, shingles = SketchTable.build_with_shingles(texts, SketchSettings(5, 128, 1))
    with ShingleStore() as store:
        store.put(np.arange(len(texts)), shingles)
        biggest = max(sum(part.nbytes for part in store.get(r)) for r in range(len(texts)))
        rows = RowCache(store, max_bytes=2 * biggest)
        for row in [0, 1, 0, 2, 3, 4, 0, 4]:
            assert all(np.array_equal(x, y) for x, y in zip(rows.get(row), store.get(row), strict=True))
            assert rows._bytes <= 2 * biggest
        assert list(rows._rows) in ([3, 0, 4], [0, 4])  # the most recently used kept


def test_reworded_paragraphs_must_agree_on_their_figures_in_the_reuse_preset():
    """Two appeals written to one house template for other people match paragraph by paragraph at
    the reuse preset's 0.6, but every matched paragraph gives other figures: no pair. An update
    of one of them keeps its verbatim paragraphs and so its pair, though its lead's figures changed."""
    wexford = ("An appeal has been issued to trace a 27-year-old man who has been missing from Co Wexford since "
               "3 March.\n\nSebastian Michta was last seen in the Gorey town area of the county on Friday evening."
               "\n\nAnyone with information is asked to contact Gorey Garda Station on 053 9430690 or any garda "
               "station.")  # fmt: skip
    navan = ("An appeal has been issued to trace a 14-year-old girl who has been missing from the Navan area since "
             "10 March.\n\nYasmin Noble is described as being 1.60m tall with a slim build and long brown hair.\n\n"
             "Anyone with information is asked to contact Navan Garda Station on 046 9079930 or any garda station.")  # fmt: skip
    update = wexford.replace("27-year-old", "28-year-old").replace("3 March", "2 March")
    articles = {
        "navan": navan,
        "update": update + "\n\nHis family said they were worried.",
        "wexford": wexford,
    }

    def pairs(**overrides):
        result = find_duplicates(articles, config=DedupConfig.reuse(**overrides))
        return result, [(p.a, p.b) for p in result.pairs]

    _, found = pairs(reworded_figures_agree=False)
    assert found == [("navan", "update"), ("navan", "wexford"), ("update", "wexford")]
    result, found = pairs()
    assert found == [("update", "wexford")] and result.params["reworded_figures_agree"] is True
    assert not DedupConfig().reworded_figures_agree  # the defaults: unchanged


def test_a_short_verbatim_line_does_not_excuse_reworded_paragraphs_whose_figures_disagree():
    """Two days' rate notices share their opening words verbatim (a hard-wrapped first line of five
    words) and otherwise reword each other with other figures: no pair in the reuse preset. A
    verbatim line must have the words of a paragraph (8) to mark a story's update."""
    first = ("The Turkish Central Bank set a\nlira/dollar rate for April 2 of 780.00/783.90 to the dollar,\n"
             "down from the previous 777.00/780.89. The Bank also set a\nlira/mark rate of 429.15/431.30 to "
             "the mark, up from the\nprevious 430.50/432.65.")  # fmt: skip
    second = ("The Turkish Central Bank set a\nLira/Dollar rate for April 8 of 784.50/788.42 to the Dollar,\n"
              "down from the previous 784.35/788.27.\n    The Bank also set a Lira/Mark rate of 430.60/432.75 "
              "to the\nMark, down from the previous 429.35/431.50.")  # fmt: skip
    articles = {"april2": first, "april8": second}
    assert [
        (p.a, p.b)
        for p in find_duplicates(articles, config=DedupConfig.reuse(reworded_figures_agree=False)).pairs
    ] == [("april2", "april8")]
    assert not find_duplicates(articles, config=DedupConfig.reuse()).pairs


def test_reworded_paragraphs_compare_their_numbers_whole_in_the_reuse_preset():
    """Read as tokens, 51.00 and 51.50 share 51 and two share counts their 000, so two days' hog
    reports and two companies' share offerings agreed on their figures. Read whole, they do not:
    no pair, though each pair matches a reworded line at the reuse preset's 0.6."""
    articles = {
        "hogs-1": "Hog prices opened 0.50 dlr higher,\nprivate sources said. Top 51.00 dlrs per cwt.\n Reuter",
        "hogs-2": "Hog prices were up 1.00 dlr, private\nsources said. Top 51.50 dlrs per cwt.\n Reuter",
        "mnx": "MNX Inc said it completed an\noffering of 1,225,000 shares of common at 17.25 dlrs per share.\n Reuter",
        "sungard": (
            "SunGard Data Systems Inc said an\noffering of 1,200,000 common shares is underway at 18.25 dlrs\n"
            "each through underwriters led by Alex. Brown and Sons Inc.\n Reuter"
        ),
    }
    loose = find_duplicates(articles, config=DedupConfig.reuse(reworded_figures_agree=False))
    assert [(p.a, p.b) for p in loose.pairs] == [("hogs-1", "hogs-2"), ("mnx", "sungard")]
    assert not find_duplicates(articles, config=DedupConfig.reuse()).pairs


def test_reworded_paragraphs_must_agree_on_their_figures_whatever_the_coverage():
    """Two days' hog reports differ only in their figures and read as near-duplicates at the reuse
    preset's paragraph threshold of 0.6; no line is verbatim, so their figures must agree: no pair."""
    articles = {
        "monday": "Hog prices opened 0.50 dlr higher,\nprivate sources said. Top 51.00 dlrs per cwt.\n Reuter",
        "tuesday": "Hog prices opened 1.50 dlr higher,\nprivate sources said. Top 52.00 dlrs per cwt.\n Reuter",
    }
    loose = find_duplicates(articles, config=DedupConfig.reuse(reworded_figures_agree=False))
    assert [(p.a, p.b, p.kind) for p in loose.pairs] == [("monday", "tuesday", "near_duplicate")]
    assert not find_duplicates(articles, config=DedupConfig.reuse()).pairs


def test_a_pair_whose_numbered_paragraphs_disagree_half_the_time_is_a_filled_in_template():
    """Two refiners' crude postings on one house template. Two of their paragraphs give figures on
    both sides, and one of those disagrees (the date of the last change; the prices share 17.00):
    half, so the pair is a template filled in for another company, and its paragraphs without
    figures on both sides count for nothing either. No pair."""
    acme = ("Acme Petroleum Corp said it raised the contract price it will pay for all grades of crude oil by "
            "50 cts a barrel, effective today.\n\n"
            "It brings the posted price of West Texas Intermediate to 17.50 dlrs, up from 17.00 dlrs.\n\n"
            "The company said the move followed increases by other refiners in recent days.\n\n"
            "Acme last changed its crude oil postings on March 4.")  # fmt: skip
    borealis = ("Borealis Oil Co said it raised the contract price it will pay for crude oil by one dlr a barrel, "
                "effective today.\n\n"
                "It brings the posted price of West Texas Intermediate to 18.00 dlrs, up from 17.00 dlrs at the "
                "last change.\n\n"
                "The company said the move followed increases by other refiners this week.\n\n"
                "Borealis last changed its crude oil postings on February 25.")  # fmt: skip
    articles = {"acme": acme, "borealis": borealis}
    loose = find_duplicates(articles, config=DedupConfig.reuse(reworded_figures_agree=False))
    assert [(p.a, p.b, p.kind) for p in loose.pairs] == [("acme", "borealis", "near_duplicate")]
    assert not find_duplicates(articles, config=DedupConfig.reuse()).pairs


def test_a_figure_written_out_disagrees_with_another_in_digits():
    """Two companies' dividend notices on one house template: the first paragraph gives its
    dividend in words on one side ("four cts"), in digits on the other ("5 cts"), read as 4 against
    5; with the payment paragraph (one date of two shared, which agrees) that is half the numbered
    paragraphs: a template filled in for another company, no pair. The same company's notice giving
    "4 cts" agrees, and pairs (another company's is no pair for its name alone:
    ``test_two_companies_notices_on_one_formula_are_no_pair_but_a_rewrite_keeping_its_names_is``)."""
    template = ("{name} said its board declared an initial quarterly dividend of {amount} cts a share, its first "
                "payout since going public.\n\n"
                "The dividend is payable April {pay} to holders of record March 31, the company said.")  # fmt: skip
    brown = template.format(name="Brown Transport Co Inc", amount="four", pay=10)
    articles = {"brown": brown, "nfs": template.format(name="NFS Financial Corp", amount="5", pay=21)}
    loose = find_duplicates(articles, config=DedupConfig.reuse(reworded_figures_agree=False))
    assert [(p.a, p.b) for p in loose.pairs] == [("brown", "nfs")]
    assert not find_duplicates(articles, config=DedupConfig.reuse()).pairs
    same = {"brown": brown, "again": template.format(name="Brown Transport Co Inc", amount="4", pay=21)}
    assert [(p.a, p.b) for p in find_duplicates(same, config=DedupConfig.reuse()).pairs] == [
        ("again", "brown")
    ]


def test_two_companies_notices_on_one_formula_are_no_pair_but_a_rewrite_keeping_its_names_is():
    """Two companies announce a stock split in one house formula, with no figure either gives
    against the other: the matched paragraphs name other companies ("Industries Inc" against
    "Electronics Corp"), so under ``--preset reuse`` they are no pair; without the names they are
    one. A rewrite of one notice that keeps its names, and its figures, still pairs."""
    formula = ("{name} said its board of directors declared a {split} stock split of its common shares, the "
               "second split in {years} years.\n\n"
               "The company said the split is payable to holders of record at the close of business, its "
               "chairman {chair} told reporters at the annual meeting in {city}.")  # fmt: skip
    first = formula.format(name="Browning-Ferris Industries Inc", split="two-for-one", years="three",
                           chair="William Ruckelshaus", city="Houston")  # fmt: skip
    second = formula.format(name="VTX Electronics Corp", split="five-for-four", years="three",
                            chair="Stephen Tabor", city="Farmingdale")  # fmt: skip
    articles = {"bfi": first, "vtx": second}
    result = find_duplicates(articles, config=DedupConfig.reuse())
    assert [(p.a, p.b) for p in result.pairs] == []
    assert "figures and names" in result.params["reworded_rule"]
    assert find_duplicates(articles).params["reworded_rule"] == "off"
    lower = {key: text.lower() for key, text in articles.items()}  # no case: no names to tell them apart
    assert [(p.a, p.b) for p in find_duplicates(lower, config=DedupConfig.reuse()).pairs] == [("bfi", "vtx")]
    rewrite = ("Browning-Ferris Industries Inc's board of directors has declared a two-for-one stock split of "
               "the common shares, its second split in three years, the company said.\n\n"
               "The split is payable to holders of record at the close of business, chairman William "
               "Ruckelshaus told reporters at the annual meeting held in Houston.")  # fmt: skip
    pairs = find_duplicates({"bfi": first, "rewrite": rewrite}, config=DedupConfig.reuse()).pairs
    assert [(p.a, p.b) for p in pairs] == [("bfi", "rewrite")]


def test_one_printed_line_in_common_is_no_reuse_but_a_notice_filed_twice_is():
    """Hard-wrapped wire notices (no blank line: their units are their printed lines) of two
    companies, written in lower case (no names to tell them apart), share one formula line, "NOTE:
    full name of company is", which covers a third of each or more: under ``--preset reuse`` that is no
    pair, and the defaults do not report it either. One company's notice filed twice, its note
    worded otherwise, still pairs."""
    first = ("florida employers named a chief executive.\n"
             "NOTE: full name of company is florida employers insurance\n Reuter\n")  # fmt: skip
    second = ("home federal said deposits rose sharply.\n"
              "NOTE: full name of company is home federal savings and loan\n Reuter\n")  # fmt: skip
    notices = {"florida": first, "home": second}
    one_line = DedupConfig.reuse(reworded_figures_agree=False)  # (the rules of the preset off)
    assert [(p.a, p.b) for p in find_duplicates(notices, config=one_line).pairs] == [("florida", "home")]
    assert find_duplicates(notices, config=DedupConfig.reuse()).pairs == ()
    assert find_duplicates(notices).pairs == ()
    again = first.replace("NOTE: full name of company is", "NOTE: company's full name is")
    pairs = find_duplicates({"florida": first, "again": again}, config=DedupConfig.reuse()).pairs
    assert [(p.a, p.b) for p in pairs] == [("again", "florida")]


def test_a_rewrite_keeping_its_figures_loses_only_the_paragraph_whose_figures_disagree():
    """A story rewritten for a daily keeps its source's figures; only the byline's date and page
    differ. One numbered paragraph of three disagrees: that match alone is dropped."""
    weekly = ("The city's senior population stands at 1.48 million, or 17.3 percent of the total, including "
              "238,000 people above the age of 80.\n\n"
              "The elderly population is expected to pass 1.85 million by 2020, creating a large market for care "
              "services, the bureau says.\n\n"
              "Officials from both countries signed a memorandum on elderly care last month, after years of talks."
              "\n\nBy Li Wen (China Weekly 02/24/2017 page 28)")  # fmt: skip
    daily = ("The number of seniors in the city now stands at 1.48 million - or 17.3 percent of the total - with "
             "238,000 of them above the age of 80.\n\n"
             "The bureau says the senior population is expected to pass 1.85 million by 2020, creating growing "
             "demand for care services.\n\n"
             "Officials from the two countries signed a memorandum on elderly care last month.\n\n"
             "By Li Wen (China Weekly 03/10/2017 page 27)")  # fmt: skip
    articles = {"daily": daily, "weekly": weekly}
    loose = find_duplicates(articles, config=DedupConfig.reuse(reworded_figures_agree=False)).pairs
    (pair,) = find_duplicates(articles, config=DedupConfig.reuse()).pairs
    assert [(m.a, m.b) for m in loose[0].alignment.matches] == [(0, 0), (1, 1), (2, 2), (3, 3)]
    assert [(m.a, m.b) for m in pair.alignment.matches] == [(0, 0), (1, 1), (2, 2)]
    assert (pair.a, pair.b, pair.kind) == ("daily", "weekly", "near_duplicate")


def test_hard_wrapped_text_needs_two_verbatim_lines_to_mark_an_update():
    """Wire copy without blank lines is compared printed line by printed line. One verbatim line of
    12 words is a daily report's wording, kept every day: two days' reports whose rate disagrees
    are no pair. A story's update keeps several lines verbatim, and so all its matches, though
    each of its numbered lines changed."""

    def report(amount: str, who: str, rate: str) -> str:
        return (f"The Ruritanian central bank entered the\nmoney market to add {amount} crowns of\n"
                f"temporary reserves, a bank {who} said.\nDealers said overnight funds were trading at {rate} pct\n"
                "when the bank began its temporary and indirect supply of reserves to\nthe banking system.")  # fmt: skip

    def flood(dead: int, homeless: str, day: str) -> str:
        return (f"Flooding in the northern province has killed {dead} people\nand forced more than {homeless} from "
                f"their homes, officials said on {day}.\nRescue teams were searching villages along the river for "
                "people\nstill missing after two days of heavy rain, the officials said.\nThe regional governor "
                "asked the army for boats and helicopters.")  # fmt: skip

    articles = {
        "flood": flood(12, "3,000", "Monday"),
        "flood-update": flood(15, "4,000", "Tuesday"),
        "monday": report("1.5 billion", "spokesman", "6-3/16"),
        "tuesday": report("two billion", "spokeswoman", "6-1/16"),
    }
    loose = find_duplicates(articles, config=DedupConfig.reuse(reworded_figures_agree=False))
    assert [(p.a, p.b) for p in loose.pairs] == [("flood", "flood-update"), ("monday", "tuesday")]
    (update,) = find_duplicates(articles, config=DedupConfig.reuse()).pairs
    assert (update.a, update.b, update.kind) == ("flood", "flood-update", "near_duplicate")
    assert len(update.alignment.matches) == 5  # its changed lines too


def test_a_paragraph_that_differs_only_in_its_figures_marks_no_update():
    """Two days' market reports: the lead is word for word the same but for the index's close (a
    form's line filled in again), so it is no verbatim paragraph of an update, and the report's
    other figures disagree too: no pair."""

    def report(close: int, traded: int, fell: int, rose: int) -> str:
        return (f"The Karachi share index closed lower on Wednesday for the third day running, at {close} points.\n\n"
                f"Dealers said shares of {traded} companies changed hands, of which {fell} fell and {rose} rose.\n\n"
                "Brokers expect more selling soon.")  # fmt: skip

    articles = {"sept17": report(30136, 403, 188, 187), "sept24": report(30095, 429, 205, 201)}
    (loose,) = find_duplicates(articles, config=DedupConfig.reuse(reworded_figures_agree=False)).pairs
    assert loose.kind == "near_duplicate" and loose.alignment.matches[0].score >= 0.9
    assert not find_duplicates(articles, config=DedupConfig.reuse()).pairs

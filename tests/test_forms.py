"""Filled-in forms (:mod:`dedup.forms`): notices of different companies written on one form are no
pair, in every engine; a story republished with its figures keeps its pairs."""

import random

import numpy as np
import pytest

from dedup import DedupConfig, Index, find_duplicates
from dedup.alignment import PreparedText, align_prepared, prepare
from dedup.forms import fillings_key, find_forms
from dedup.shingles import form_hashes, sequence_hash, tokenize
from dedup.sketch import SketchSettings, SketchTable

MONTHS = "January February March April May June July August September October November December".split()


def dividend_notices(count: int = 30, seed: int = 1) -> dict[str, str]:
    """Reuters-style dividend notices: one form, amounts from a few usual ones (so that many
    notices of different companies carry the very same line), dates of their own."""
    rng = random.Random(seed)
    notices = {}
    for k in range(count):
        amount = rng.choice([5, 10, 15, 20])
        prior = amount if rng.random() < 0.7 else rng.choice([4, 8, 12])
        pay, record = rng.sample(MONTHS, 2)
        notices[f"div/{k:02d}"] = (
            f"Qtly div {amount} cts vs {prior} cts prior\n\n"
            f"Pay {pay} {rng.randint(1, 28)}\n\nRecord {record} {rng.randint(1, 28)}"
        )
    return notices


def earnings(rng: random.Random) -> str:
    def figures() -> str:
        return f"{rng.randint(1, 99)},{rng.randint(100, 999)},000 vs {rng.randint(1, 99)},{rng.randint(100, 999)},000"

    return "\n\n".join([
        f"Shr profit {rng.randint(1, 90)} cts vs profit {rng.randint(1, 90)} cts",
        f"Net profit {figures()}",
        f"Revenues {rng.randint(10, 99)}.{rng.randint(0, 9)} mln dlrs vs {rng.randint(10, 99)}.{rng.randint(0, 9)} mln dlrs",
    ])  # fmt: skip


def test_notices_of_different_companies_on_one_form_are_no_pair():
    notices = dividend_notices()
    result = find_duplicates(notices)
    assert [p.kind for p in result.pairs] == []
    assert result.summary.filled_in_forms >= 1 and result.params["form_min_docs"] == 5
    # the rule is what keeps them apart: without it, notices paying the same pair as near-duplicates
    without = find_duplicates(notices, config=DedupConfig(form_min_docs=0))
    assert sum(p.kind == "near_duplicate" for p in without.pairs) >= 20


def test_a_run_of_numbers_is_one_number_in_a_form():
    """ "12.5" is two words ("12" "5") and "1,017,000" three: a form masks each run as one number,
    so notices with whole and decimal amounts are one form, and no pair under either preset."""

    def form(line: str) -> int:
        return int(form_hashes([tokenize(line.lower())])[0])

    assert form("Qtly div 12.5 cts vs 12.5 cts prior") == form("Qtly div 17 cts vs 15 cts prior")
    assert form("Net 1,017,000 vs 877,000") == form("Net 4 vs 5") != form("Net 4 vs 5 mln")
    notices = dividend_notices()
    rng = random.Random(2)
    for key in sorted(notices)[::2]:  # half of them with decimal amounts
        cents = f"{rng.randint(1, 40)}.{rng.choice([25, 5, 75])}"
        notices[key] = notices[key].replace(notices[key].split()[2], cents, 2)
    for config in (DedupConfig(), DedupConfig.reuse()):
        assert find_duplicates(notices, config=config).pairs == ()


def test_an_exact_copy_of_a_notice_is_still_an_exact_copy():
    notices = dividend_notices()
    notices["div/copy"] = notices["div/07"]
    result = find_duplicates(notices)
    assert [(p.a, p.b, p.kind) for p in result.pairs] == [("div/07", "div/copy", "exact")]


def test_a_form_paragraph_counts_in_coverage_but_matches_nothing():
    rng = random.Random(4)
    note = "NOTE: Share adjusted for the stock split announced by the company in its annual report."
    a, b = f"{earnings(rng)}\n\n{note}", f"{earnings(rng)}\n\n{note}"
    lines = [tokenize(line) for text in (a, b) for line in text.lower().split("\n\n")[:3]]
    held = frozenset(form_hashes(lines).tolist())
    left, right = prepare(a, boilerplate=held), prepare(b, boilerplate=held)
    assert left.forms == frozenset({0, 1, 2}) and not left.ignored
    alignment = align_prepared(left, right, threshold=0.8)
    assert [(m.a, m.b) for m in alignment.matches] == [(3, 3)]  # the note only
    assert alignment.coverage_a_by_b < 0.5  # the forms' characters count: the note is a minority
    assert set(alignment.only_a) == {0, 1, 2}
    # a form paragraph matches nothing, not even the same filling
    same = prepare(a, boilerplate=held)
    assert [(m.a, m.b) for m in align_prepared(left, same, threshold=0.8).matches] == [(3, 3)]


def test_a_form_filled_in_by_each_article_with_other_figures_condemns_a_reworded_pair():
    """Two days' reports of one central bank: their rate line is a filled-in form (compared with
    nothing), their other paragraphs reworded or too short to be verbatim. Held to its figures
    (``--preset reuse``), the form is read for them: filled in with another rate (6-1/16 pct, not
    6-3/16: a fraction is one number), the pair is a template filled in for another day and
    nothing matches; with the same figures it keeps its matches."""

    def report(rate: str, verb: str, who: str) -> str:
        return (f"The Ruritanian central bank {verb} reserves in the money market this morning, a {who} said.\n\n"
                f"Dealers said overnight funds were trading at {rate} pct when the bank began.\n\n"
                "Most economists had expected the move.")  # fmt: skip

    monday, tuesday = report("6-3/16", "added", "spokesman"), report("6-1/16", "drained", "bank spokeswoman")
    held = frozenset(form_hashes([tokenize(t.lower().split("\n\n")[1]) for t in (monday, tuesday)]).tolist())
    a, b = prepare(monday, boilerplate=held), prepare(tuesday, boilerplate=held)
    assert a.forms == b.forms == frozenset({1})
    assert [(m.a, m.b) for m in align_prepared(a, b, threshold=0.6).matches] == [(0, 0), (2, 2)]
    assert align_prepared(a, b, threshold=0.6, figures_agree=True).matches == ()
    same = prepare(report("6-3/16", "drained", "bank spokeswoman"), boilerplate=held)
    kept = align_prepared(a, same, threshold=0.6, figures_agree=True)
    assert [(m.a, m.b) for m in kept.matches] == [(0, 0), (2, 2)]


def test_a_story_republished_with_its_table_of_figures_keeps_its_pairs():
    """Eight papers print one election story with its table of districts (a form filled in six
    ways): its carriers are one story, so the table is text and the copies pair whole."""
    rng = random.Random(7)
    table = [f"District {d} count: Lindqvist {rng.randint(900, 9999)} votes, Okafor {rng.randint(900, 9999)} votes"
             for d in range(1, 7)]  # fmt: skip
    prose = [
        "Counting finished overnight in the regional assembly election after a day of heavy turnout.",
        "Officials said the result would be certified on Friday once postal ballots had been checked.",
    ]
    copies = {}
    for k in range(8):
        lead = prose[0].replace("overnight", ["late", "early", "overnight", "at dawn"][k % 4])
        copies[f"paper{k}"] = "\n\n".join([f"{lead} (edition {k})", prose[1], *table])
    result = find_duplicates(copies)
    assert result.summary.filled_in_forms == 0
    assert len(result.pairs) == 28 and {p.kind for p in result.pairs} == {"near_duplicate"}


def fed_report(amount: str, rate: str) -> str:
    """A Reuters-style daily report of the Fed's repurchase agreements, hard-wrapped as wire copy."""
    return (
        "The Federal Reserve entered the U.S.\n"
        f"Government securities market to arrange {amount} billion dlrs of\n"
        "customer repurchase agreements, a Fed spokesman said.\n"
        f"    Dealers said Federal funds were trading at {rate} pct when\n"
        "the Fed began its temporary and indirect supply of reserves to\n"
        "the banking system.\n Reuter"
    )


def test_daily_reports_read_as_one_story_but_filled_in_with_other_figures_are_no_pair():
    """Twelve days' reports: one text with the day's amount and rate, so their carriers agree as one
    story (rule 3 keeps the rate line as text) — but the rate line is filled in seven ways, a
    recurring report: two days with other rates are no pair in any mode. Two days printing one rate
    are judged as before (the amount line, filled in two ways, is no recurring report)."""
    rng = random.Random(5)
    rates = ["6-1/16", "6-1/8", "6-3/16", "6-1/4", "6-5/16", "6-3/8", "6-7/16"]
    days = {f"fed{k:02d}": (rng.choice(["1.5", "two"]), rates[k % 7]) for k in range(12)}
    reports = {key: fed_report(*filled) for key, filled in days.items()}
    for config in (DedupConfig(), DedupConfig.reuse()):
        result = find_duplicates(reports, config=config)
        assert result.pairs and all(days[p.a][1] == days[p.b][1] for p in result.pairs)
        assert result.summary.recurring_reports == 1 and result.summary.filled_in_forms == 0
        assert "recurring report" in result.params["form_rule"]
        assert "held to its figures" in result.params["form_rule"]
    # the rule is what keeps them apart: without it, days with other rates are near-duplicates
    without = find_duplicates(reports, config=DedupConfig(form_min_docs=0))
    assert sum(p.kind == "near_duplicate" and days[p.a][1] != days[p.b][1] for p in without.pairs) >= 20


def test_days_reporting_one_rate_but_other_amounts_are_no_pair():
    """A recurring report's lines are verbatim every day, so they mark no update of one story: in
    any mode a text filling one in is held to its figures, and two days printing one rate but
    another amount ("1.5" against "two billion dlrs", read as 2) are two reports. Days printing
    both alike still pair."""
    rates = ["6-1/16", "6-1/8", "6-3/16", "6-1/4", "6-5/16", "6-3/8", "6-7/16"]
    amounts = ["1.5", "two", "2.5"]
    days = {f"fed{k:02d}": (amounts[k % 3], rates[k % 7]) for k in range(24)}
    reports = {key: fed_report(*filled) for key, filled in days.items()}
    for config in (DedupConfig(), DedupConfig.reuse()):
        result = find_duplicates(reports, config=config)
        assert result.summary.recurring_reports == 1
        assert result.pairs and all(days[p.a] == days[p.b] for p in result.pairs)


def system_report(term: str, rate: str) -> str:
    """The Fed's report of a System repurchase: the customer report's lines, worded otherwise."""
    return (
        "The Federal Reserve entered the U.S.\n"
        f"Government securities market to arrange {term} System\n"
        "repurchase agreements, a Fed spokesman said.\n"
        f"    Dealers said that Federal funds were trading at {rate} pct\n"
        "when the Fed began its temporary and direct supply of reserves\n"
        "to the banking system.\n Reuter"
    )


def test_a_customer_repurchase_and_a_system_one_at_one_rate_are_no_pair():
    """A recurring report's lines are the same every day but for its fillings, so a report's line
    matched only reworded ("1.5 billion dlrs of customer" against "three-day System", "indirect"
    against "direct") is another filling: a customer repurchase and a System one at the same rate
    are two operations in any mode, though every figure they both give agrees. Two System reports
    alike still pair (four System reports make no recurring report of their own: they are judged as
    before, among themselves)."""
    rates = ["6-1/16", "6-1/8", "6-3/16", "6-1/4", "6-5/16", "6-3/8", "6-7/16"]
    amounts = ["1.5", "two", "2.5"]
    customer = {f"fed{k:02d}": ("customer", amounts[k % 3], rates[k % 7]) for k in range(24)}
    system = {f"sys{k}": ("system", ["three-day", "overnight"][k % 2], rates[k // 2]) for k in range(4)}
    system["sys4"] = system["sys0"]
    days = {**customer, **system}
    reports = {
        key: (fed_report if kind == "customer" else system_report)(filling, rate)
        for key, (kind, filling, rate) in days.items()
    }
    reports["sys4"] += "\n"  # the same report filed twice: no exact copy, a near-duplicate
    for config in (DedupConfig(), DedupConfig.reuse()):
        result = find_duplicates(reports, config=config)
        assert result.summary.recurring_reports == 1
        assert all(days[p.a][0] == days[p.b][0] for p in result.pairs)  # no customer one with a System one
        assert all(days[p.a] == days[p.b] for p in result.pairs if days[p.a][0] == "customer")
        assert ("sys0", "sys4") in {(p.a, p.b) for p in result.pairs}


def test_a_story_updated_twice_keeps_its_pairs_and_a_line_filled_in_alike_condemns_nothing():
    """Ten papers print one wire story in three versions of its toll line (three fillings: an
    update, not a recurring report): the three versions pair with one another and the ten copies
    are one story group. (The election table above, filled in six ways, is filled in alike by every
    copy: it condemns nothing either.)"""
    rng = random.Random(8)
    body = [" ".join(f"w{rng.randint(0, 5000)}" for _ in range(40)) + "." for _ in range(4)]
    tolls = [12, 12, 12, 15, 15, 15, 15, 19, 19, 19]
    copies = {
        f"paper{k}": "\n\n".join(
            [body[0], f"The death toll rose to {toll} on Tuesday, the ministry said.", *body[1:]]
        )
        for k, toll in enumerate(tolls)
    }
    result = find_duplicates(copies)
    assert sum(p.kind == "near_duplicate" for p in result.pairs) == 3  # one pair per two versions
    assert [len(group.members) for group in result.clusters] == [10]


def test_a_closing_line_filled_in_two_ways_by_unrelated_reports_is_a_form(monkeypatch):
    """Two fillings are enough: six reports of different events, closing with one appeal line and
    one of two phone numbers, are no pair — rule 3 (not one story) is what makes it a form."""
    events = [
        "A cyclist in his sixties died after a collision with a van on the Tullamore road on Sunday.",
        "A woman was injured when a car left the road and struck a wall near Kilbeggan late on Friday.",
        "Two men were arrested after a shop was broken into on Main Street in Edenderry overnight.",
        "A teenager was taken to hospital after being assaulted outside a nightclub in Athlone.",
        "Cattle worth several thousand euro were stolen from a farm near Birr at the weekend.",
        "A pedestrian was hit by a lorry at a roundabout in Mullingar during the morning rush.",
    ]
    phones = ["1800 666 111", "057 932 7600"]
    reports = {
        f"r{k}": f"{event}\n\nAnyone with information is asked to contact gardai on {phones[k % 2]} or any station."
        for k, event in enumerate(events)
    }
    result = find_duplicates(reports, config=DedupConfig.reuse())
    assert not result.pairs and result.summary.filled_in_forms == 1
    assert "2 fillings" in result.params["form_rule"]
    monkeypatch.setattr("dedup.forms.MIN_FILLINGS", 5)  # the rule as it was: the appeal pairs them
    assert {(p.a, p.b) for p in find_duplicates(reports, config=DedupConfig.reuse()).pairs} >= {("r0", "r2")}


def test_forms_need_enough_texts_and_fillings():
    texts = dividend_notices(12)
    table = SketchTable.build(list(texts.values()), SketchSettings(5, 64, 1))
    rows = np.arange(len(texts))
    found, _ = find_forms(table.line_rows, table.line_hashes, table.line_forms, rows, config=DedupConfig())
    (dividend,) = form_hashes([tokenize("qtly div 10 cts vs 10 cts prior")]).tolist()
    assert dividend in found
    assert not find_forms(table.line_rows, table.line_hashes, table.line_forms, rows,
                          config=DedupConfig(form_min_docs=13))[0]  # fmt: skip
    assert find_forms(table.line_rows, table.line_hashes, table.line_forms, rows,
                      config=DedupConfig(form_min_docs=0)) == (frozenset(), frozenset())  # fmt: skip


@pytest.fixture(params=["sqlite", "redis"])
def place(request, tmp_path):
    """Where an archive is made: a fresh SQLite file, or an emptied database of a real redis-server."""
    if request.param == "sqlite":
        return str(tmp_path / "a.db")
    import redis

    url = f"{request.getfixturevalue('redis_url')}/13"
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.mark.parametrize("order", ["forward", "reversed"])
def test_an_archive_counts_forms_as_a_batch_run_does_and_takes_them_back_on_remove(tmp_path, place, order):
    notices = dividend_notices(20)
    items = sorted(notices.items(), reverse=order == "reversed")
    with Index(place) as index:
        # a batch at a time: the form emerges on the way ("so far", as boilerplate lines do)
        batches = [index.add(dict(items[lo : lo + 4])).pairs for lo in range(0, len(items), 4)]
        index.remove([k for k, _ in items[:10]])
        kept = dict(items[10:])
        with Index(tmp_path / "fresh.db") as fresh:
            fresh.add(kept)
            table = SketchTable.build(list(kept.values()), SketchSettings(5, 128, 1))
            forms = np.unique(table.line_forms[table.line_forms != 0])
            keys = [*forms.tolist(), *fillings_key(forms).tolist()]
            assert index.backend.line_counts(keys) == fresh.backend.line_counts(keys)
    assert batches[2:] == [(), (), ()]  # once the form is known, a notice pairs no other


def test_the_word_hashes_prepare_keeps_are_those_of_the_compared_words():
    rng = random.Random(2)
    text = (
        earnings(rng)
        + "\n\nYear\n\n"
        + earnings(rng)
        + "\n\nA note that carries no number at all, for once.\nAnd a second line."
    )
    lines = [tokenize(line) for line in text.lower().split("\n\n")[:3]]
    held = frozenset(form_hashes(lines).tolist()) | {sequence_hash(["year"])}
    prepared = prepare(text, boilerplate=held)
    assert prepared.word_hashes is not None and 3 in prepared.ignored  # ("year": held as boilerplate here)
    lazily = PreparedText(prepared.paragraphs, prepared.compared, prepared.words, prepared.ignored)
    assert [v.tolist() for v in prepared.vocabularies] == [v.tolist() for v in lazily.vocabularies]


def test_the_shingles_of_a_prepared_text_are_those_of_its_words():
    from dedup import DedupConfig as Config
    from dedup.shingles import shingle_hashes
    from dedup.verification import PreparedTexts

    rng = random.Random(3)
    text = earnings(rng) + "\n\nYear\n\nA note that carries no number at all, for once."
    for held in (frozenset(), frozenset({sequence_hash(["year"])})):
        prepared = PreparedTexts(Config(), held)
        expected = shingle_hashes(list(prepared.text(text).all_words), 5)
        assert prepared.shingles(text).tolist() == expected.tolist()
        assert (prepared.text(text).all_hashes is None) == (not held)

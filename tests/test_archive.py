"""The persistent archive (dedup.Index, dedup index ...) on SQLite and on a real Redis server."""

import json
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SEED_A, SEED_B, run_cli
from dedup import ConfigError, Index, InputError, find_duplicates


def news_corpus(seed, n=80):
    """Articles in arrival order (ids ascending): new stories, exact copies, edited republications
    and partial reuse of earlier ones."""
    rng = random.Random(seed)
    words = [f"w{k}" for k in range(2000)]

    def sentence():
        return " ".join(rng.choices(words, k=rng.randint(9, 16))) + "."

    texts = []
    for _ in range(n):
        r = rng.random()
        if texts and r < 0.15:
            texts.append(rng.choice(texts))
        elif texts and r < 0.35:
            paragraphs = rng.choice(texts).split("\n\n")
            if len(paragraphs) > 2:
                del paragraphs[rng.randrange(len(paragraphs))]
            paragraphs.insert(rng.randrange(len(paragraphs) + 1), " ".join(sentence() for _ in range(3)))
            texts.append("\n\n".join(paragraphs))
        elif texts and r < 0.45:
            paragraphs = rng.choice(texts).split("\n\n")
            new = [" ".join(sentence() for _ in range(3)) for _ in range(3)]
            texts.append("\n\n".join(paragraphs[: max(1, len(paragraphs) // 2)] + new))
        else:
            texts.append(
                "\n\n".join(
                    " ".join(sentence() for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(3, 7))
                )
            )
    return {f"a{i:03d}": t for i, t in enumerate(texts)}


def described(pairs):
    return {
        (p.a, p.b, p.kind, p.direction, round(p.coverage_a_by_b, 6), round(p.coverage_b_by_a, 6))
        for p in pairs
    }


NO_BOILERPLATE = {
    "boilerplate_min_docs": 1000
}  # the documented exception: line statistics grow between batches


@settings(max_examples=12, deadline=None)
@given(
    st.integers(0, 10**6),
    st.lists(st.integers(1, 79), min_size=1, max_size=6, unique=True),
    st.integers(3, 40),
)
@pytest.mark.slow
def test_adding_in_batches_reports_the_pairs_of_the_whole_collection(
    tmp_path_factory, seed, cuts, batch_size
):
    texts = news_corpus(seed)
    whole = described(find_duplicates(texts, **NO_BOILERPLATE).pairs)
    items = list(texts.items())
    found = set()
    with Index(tmp_path_factory.mktemp("a") / "archive.db", **NO_BOILERPLATE) as index:
        for lo, hi in zip([0, *sorted(cuts)], [*sorted(cuts), len(items)], strict=True):
            found |= described(index.add(dict(items[lo:hi]), batch_size=batch_size).pairs)
    assert found == whole


@pytest.mark.slow
def test_sketching_the_next_batch_ahead_changes_no_answer_and_keeps_errors_in_turn(tmp_path):
    """With workers, an add reads and sketches batch k+1 while batch k is compared and stored: the
    same result as one worker; an input error in a later batch is raised after the batches before
    it are stored, never before."""
    texts = news_corpus(7, n=2600)
    results = []
    for workers in (1, 2):
        with Index(tmp_path / f"w{workers}.db", workers=workers, **NO_BOILERPLATE) as index:
            results.append(index.add(list(texts.items()), batch_size=1100))  # three chunks a batch
    one, two = (json.loads(r.to_json()) for r in results)
    one["archive"].pop("location"), two["archive"].pop("location")
    assert one["pairs"] and one["archive"]["stored"] == len(texts) and one == two

    def stream():
        for k, (article_id, text) in enumerate(texts.items()):
            if k == 2300:
                raise InputError(f"news.jsonl:{k + 1}: not a JSON object")
            yield article_id, text

    with Index(tmp_path / "bad.db", workers=2, **NO_BOILERPLATE) as index:
        with pytest.raises(InputError, match=r"news\.jsonl:2301"):
            index.add(stream(), batch_size=1100)
        assert index.stats()["articles"] == 2200  # the two batches before the bad line


def test_an_add_that_fails_does_not_wait_for_input_that_never_comes(tmp_path, monkeypatch):
    """A feed goes quiet after a full batch, and that batch fails: the add raises at once, not
    when the next article arrives (the batch being read ahead is abandoned)."""
    import threading

    import dedup.local

    monkeypatch.setattr(dedup.local, "ABANDON_WAIT", 0.5)
    texts = list(news_corpus(4, n=1100).items())
    texts[5] = (texts[5][0], "...")  # no words
    quiet = threading.Event()

    def feed():
        yield from texts
        quiet.wait(60)  # nothing more arrives

    with Index(tmp_path / "feed.db", workers=2) as index:
        started = time.monotonic()
        with pytest.raises(InputError, match="is empty"):
            index.add(feed(), batch_size=1100, on_empty="error")
        assert time.monotonic() - started < 30
        assert index.stats()["articles"] == 0
    quiet.set()


@pytest.fixture(params=["sqlite", "redis"])
def archive(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "archive.db")
    url = request.getfixturevalue("redis_url")
    database = 2  # emptied below; the parity test uses 14
    import redis

    redis.Redis.from_url(f"{url}/{database}").flushdb()
    return f"{url}/{database}"


def test_an_archive_answers_add_query_remove_and_stats(archive, seeds):
    with Index(archive) as index:
        first = index.add({"000": seeds[SEED_A]})
        assert first.pairs == () and first.archive["stored"] == 1
        second = index.add({k: v for k, v in seeds.items() if k != SEED_A})
        assert [(p.a, p.b, p.kind) for p in second.pairs] == [("000", SEED_B, "contained")]
        group_of = {g["id"]: g["group"] for g in [*first.archive["groups"], *second.archive["groups"]]}
        assert group_of[SEED_B] == group_of["000"]  # the republication joined the wire story's group
        assert len(set(group_of.values())) == 4  # 002-004: a story each
        asked = index.query({"copy": seeds[SEED_B]})
        assert [(p.a, p.b, p.kind) for p in asked.pairs] == [(SEED_B, "copy", "exact")]
        assert asked.archive["stored"] == 0 and asked.archive["groups"] == [
            {"id": "copy", "group": group_of[SEED_B]}
        ]
        assert index.stats()["articles"] == 5 and index.stats()["groups"] == 1  # two articles or more
        again = index.add({"000": seeds[SEED_A]})  # the same id and text: nothing to do
        assert again.archive["already_stored"] == ["000"] and again.pairs == ()
        with pytest.raises(InputError, match="'000' is already in the archive with another text"):
            index.add({"000": seeds[SEED_B]})
        assert index.remove([SEED_B]) == 1
        after = index.query({"copy": seeds[SEED_B]})  # no exact copy left: still inside-of 000
        assert [(p.a, p.b, p.kind) for p in after.pairs] == [("000", "copy", "contained")]
        with pytest.raises(InputError, match="'nope' is not in the archive"):
            index.remove(["000", "nope"])
        assert index.stats()["articles"] == 4  # nothing removed by the refused call


def test_sqlite_and_redis_give_the_same_pairs_and_groups(tmp_path, redis_url):
    texts = news_corpus(3, n=120)
    items = list(texts.items())
    reports = []
    for location in (str(tmp_path / "a.db"), f"{redis_url}/14"):
        if location.startswith("redis"):
            import redis

            redis.Redis.from_url(location).flushdb()
        with Index(location) as index:
            results = [index.add(dict(items[lo : lo + 30])) for lo in range(0, len(items), 30)]
            reports.append([(r.to_json(), r.archive["groups"]) for r in results])
            for r in results:
                r.archive["location"] = None
            reports[-1] = [
                (json.dumps([p.to_dict() for p in r.pairs]), r.archive["groups"], r.archive["merged_groups"])
                for r in results
            ]
    assert reports[0] == reports[1]
    assert sum(len(json.loads(pairs)) for pairs, _, _ in reports[0]) > 20


def test_settings_are_fixed_when_the_archive_is_made(tmp_path):
    path = tmp_path / "a.db"
    Index(path, shingle_size=4).close()
    with Index(path) as index:
        assert index.config.shingle_size == 4
    with pytest.raises(ConfigError, match="made with shingle_size=4, not 5"):
        Index(path, shingle_size=5)


def test_a_groups_merge_is_reported(tmp_path):
    rng = random.Random(1)
    words = [f"w{k}" for k in range(3000)]
    one = "\n\n".join(" ".join(rng.choices(words, k=30)) for _ in range(4))
    two = "\n\n".join(" ".join(rng.choices(words, k=30)) for _ in range(4))
    with Index(tmp_path / "a.db") as index:
        first = index.add({"a1": one, "b1": two})
        assert first.archive["groups"] == [{"id": "a1", "group": 0}, {"id": "b1", "group": 1}]
        both = index.add({"joined": one + "\n\n" + two})  # holds each story whole: both groups' majority
        assert both.archive["merged_groups"] == [{"group": 1, "into": 0}]
        assert both.archive["groups"] == [{"id": "joined", "group": 0}]
        assert [c.members for c in both.clusters] == [("a1", "b1", "joined")]


def test_a_group_merged_by_another_writer_while_a_batch_is_compared_means_comparing_again(tmp_path):
    """A writer reads the stored articles its batch reaches, then their groups' sizes; another
    writer merging one of those groups in between must not break it (it compares again)."""
    rng = random.Random(1)
    words = [f"w{k}" for k in range(3000)]
    one = "\n\n".join(" ".join(rng.choices(words, k=30)) for _ in range(4))
    two = "\n\n".join(" ".join(rng.choices(words, k=30)) for _ in range(4))
    path = tmp_path / "a.db"
    with Index(path) as index:
        index.add({"a1": one, "b1": two})
    with Index(path) as writer, Index(path) as other:
        read_sizes = writer.backend.group_sizes
        meanwhile = []

        def merged_meanwhile(groups):
            if not meanwhile:  # the other writer commits between the two reads
                meanwhile.append(other.add({"joined": one + "\n\n" + two}))
            return read_sizes(groups)

        writer.backend.group_sizes = merged_meanwhile
        late = writer.add({"b2": two + "\n\nA line added by the second paper to the same report."})
    assert meanwhile[0].archive["merged_groups"] == [{"group": 1, "into": 0}]
    assert late.archive["groups"] == [{"id": "b2", "group": 0}]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is a directory, not an archive"),
        (lambda p: p.write_bytes(b"not sqlite at all, just bytes" * 10), "not a dedup archive"),
        (
            lambda p: sqlite3.connect(p).execute("CREATE TABLE other (x)").connection.commit(),
            "another program",
        ),
    ],
)
def test_a_path_that_is_not_an_archive_is_one_line_and_exit_2(tmp_path, make, message, seeds):
    path = tmp_path / "archive.db"
    make(path)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(InputError, match=message):
        Index(path)
    done = run_cli("index", "add", str(path), str(tmp_path / "missing.txt"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_an_unreachable_redis_is_one_line_and_exit_2(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = run_cli("index", "stats", f"redis://127.0.0.1:{port}/0")
    assert done.returncode == 2 and "Redis does not answer" in done.stderr and done.stderr.count("\n") == 1


@pytest.mark.slow
def test_the_index_commands_on_files(tmp_path):
    archive = tmp_path / "news.db"
    fixtures = str(Path(__file__).parent.parent / "fixtures")
    added = run_cli("index", "add", str(archive), fixtures, "--format", "json")
    assert added.returncode == 0, added.stderr
    report = json.loads(added.stdout)
    assert [(p["a"], p["b"], p["kind"]) for p in report["pairs"]] == [
        ("000_b0707d4a85524ca5.txt", "001_b371cbcbe07b8631.txt", "contained")
    ]
    assert report["archive"]["stored"] == 5
    stats = json.loads(run_cli("index", "stats", str(archive), "--format", "json").stdout)
    assert stats["articles"] == 5 and stats["groups"] == 1 and stats["settings"]["shingle_size"] == 5
    assert stats["size_bytes"] > 0
    query = tmp_path / "new.jsonl"
    text = (Path(fixtures) / "000_b0707d4a85524ca5.txt").read_text(encoding="utf-8")
    query.write_text(json.dumps({"id": "wire-again", "text": text}) + "\n")
    asked = run_cli("index", "query", str(archive), str(query), "--explain")
    assert asked.returncode == 0 and "exact" in asked.stdout and "wire-again: group 0" in asked.stdout
    assert json.loads(run_cli("index", "stats", str(archive), "--format", "json").stdout)["articles"] == 5
    removed = run_cli("index", "remove", str(archive), "000_b0707d4a85524ca5.txt")
    assert removed.returncode == 0
    missing = run_cli("index", "remove", str(archive), "no-such-id")
    assert missing.returncode == 2 and "'no-such-id' is not in the archive" in missing.stderr
    other = run_cli("index", "add", str(archive), str(query), "--shingle-size", "3")
    assert other.returncode == 2 and "shingle_size=5, not 3" in other.stderr
    lines = [
        json.loads(line)
        for line in run_cli(
            "index", "query", str(archive), str(query), "--format", "jsonl"
        ).stdout.splitlines()
    ]
    assert lines[-1]["record"] == "archive" and lines[-1]["groups"] == [{"id": "wire-again", "group": 0}]
    nothing = run_cli("index", "add", str(tmp_path / "new.db"), str(tmp_path / "missing.jsonl"))
    assert nothing.returncode == 2 and not (tmp_path / "new.db").exists()  # no archive made for a bad input


@pytest.mark.slow
def test_kill_9_during_an_add_leaves_whole_batches_and_a_rerun_completes(tmp_path):
    texts = news_corpus(11, n=3000)
    source = tmp_path / "news.jsonl"
    source.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in texts.items()))
    archive = tmp_path / "a.db"
    code = (
        "import sys, json; from dedup import Index\n"
        "rows = [json.loads(line) for line in open(sys.argv[2])]\n"
        "Index(sys.argv[1]).add([(r['id'], r['text']) for r in rows], batch_size=250)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code, str(archive), str(source)])
    deadline = time.time() + 60
    while time.time() < deadline:  # kill it once a batch or two are in
        time.sleep(0.2)
        if archive.exists() and _stored(archive) >= 500:
            break
    process.send_signal(signal.SIGKILL)
    process.wait()
    stored = _stored(archive)
    assert 0 < stored < len(texts) and stored % 250 == 0  # whole batches only
    with Index(archive) as index:
        rerun = index.add(list(texts.items()), batch_size=250)
        assert len(rerun.archive["already_stored"]) == stored
        assert index.stats()["articles"] == len(texts)
        assert index.backend.pending_reports() == {}  # reported, then forgotten
    # the rerun reports what one uninterrupted add would have: the killed run's batches included
    with Index(":memory:") as whole:
        expected = whole.add(list(texts.items()), batch_size=250)
    assert described(rerun.pairs) == described(expected.pairs)


def _stored(path):
    with sqlite3.connect(path, timeout=30) as db:
        try:
            return db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


@pytest.mark.slow
def test_a_query_runs_while_an_add_writes(tmp_path, seeds):
    archive = tmp_path / "a.db"
    with Index(archive) as index:
        index.add({"000": seeds[SEED_A]})
    texts = news_corpus(5, n=2000)
    writer = subprocess.Popen(
        [sys.executable, "-c", "import sys, json; from dedup import Index; Index(sys.argv[1]).add("
         "json.load(open(sys.argv[2])), batch_size=200)", str(archive), str(_dump(tmp_path, texts))]
    )  # fmt: skip
    try:
        answers = 0
        while writer.poll() is None and answers < 5:
            with Index(archive) as reader:
                assert [(p.a, p.kind) for p in reader.query({"copy": seeds[SEED_A]}).pairs] == [
                    ("000", "exact")
                ]
            answers += 1
        assert answers >= 1
    finally:
        writer.wait(120)
    assert writer.returncode == 0


def _dump(tmp_path, texts):
    path = tmp_path / "texts.json"
    path.write_text(json.dumps(texts))
    return path


def test_an_archive_keeps_the_line_counts_the_boilerplate_rule_reads(tmp_path):
    """One article a batch, each with the same footer: from the fifth on, the archive's counts make
    the footer boilerplate, and no article pairs another through it (the counts were once lost:
    the run freed the table's lines before the batch was written)."""
    from dedup.shingles import sequence_hash, tokenize

    footer = "Subscribe to the Harbour Gazette newsletter for the morning headlines delivered to you daily."
    rng = random.Random(5)
    words = [f"w{k}" for k in range(3000)]
    with Index(tmp_path / "a.db") as index:
        found = []
        for k in range(8):
            body = "\n\n".join(" ".join(rng.choices(words, k=14)) + "." for _ in range(2))
            found.append(index.add({f"a{k}": f"{body}\n\n{footer}"}).pairs)
        line = sequence_hash(tokenize(footer.lower()))
        assert index.backend.line_counts([line]) == {line: 8}
        index.remove(["a0", "a1"])
        assert index.backend.line_counts([line]) == {line: 6}
    assert found[5:] == [(), (), ()]

"""What an archive does when things go wrong: credentials, bad locations, empty input, a reader
that stops reading, a parent killed under its workers."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import FIXTURES, SEED_A, run_cli
from dedup import Index, InputError


@pytest.fixture(scope="module")
def locked_redis():
    from services import scratch_redis_server

    with scratch_redis_server(password="s3cret-pw") as url:
        yield url


def test_a_redis_password_is_never_printed(locked_redis, tmp_path):
    archive = f"{locked_redis}/4"
    added = run_cli("index", "add", archive, str(FIXTURES / SEED_A), "--format", "json")
    assert added.returncode == 0, added.stderr
    stats = run_cli("index", "stats", archive, "--format", "json")
    wrong = run_cli("index", "stats", archive.replace("s3cret-pw", "wrong-pw"))
    everything = added.stdout + added.stderr + stats.stdout + stats.stderr + wrong.stdout + wrong.stderr
    assert "s3cret-pw" not in everything and "wrong-pw" not in everything
    assert json.loads(added.stdout)["archive"]["location"].startswith("redis://***@127.0.0.1:")
    assert wrong.returncode == 2 and len(wrong.stderr.splitlines()) == 1


def test_a_redis_database_must_be_a_number(redis_url):
    with pytest.raises(InputError, match=r"the Redis database must be a number .* got 'abc'"):
        Index(f"{redis_url}/abc")


def test_reading_never_creates_an_archive(redis_url, tmp_path):
    import redis

    url = f"{redis_url}/6"
    redis.Redis.from_url(url).flushdb()
    for command in (["stats", url], ["query", url, str(FIXTURES / SEED_A)]):
        done = run_cli("index", *command)
        assert done.returncode == 2 and "no such archive" in done.stderr
    assert redis.Redis.from_url(url).dbsize() == 0
    done = run_cli("index", "stats", str(tmp_path / "none.db"))
    assert done.returncode == 2 and not (tmp_path / "none.db").exists()


def test_an_empty_input_is_an_empty_report(tmp_path):
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    done = run_cli("index", "add", str(tmp_path / "a.db"), str(tmp_path / "empty.jsonl"), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["archive"]["stored"] == 0
    assert done.stderr == f"dedup: note: no articles to compare in {tmp_path / 'empty.jsonl'}\n"


def test_a_reader_that_stops_reading_is_no_error(tmp_path):
    texts = {
        f"a{k}": f"story {k} " + " ".join(f"w{(k * 13 + j) % 5000}" for j in range(200)) for k in range(40)
    }
    texts.update({f"copy{k}": texts[f"a{k}"] for k in range(40)})
    path = tmp_path / "in.jsonl"
    path.write_text(
        "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in texts.items()), encoding="utf-8"
    )
    pipeline = f"{sys.executable} -m dedup {path} --format json --explain | head -c 100 > /dev/null; echo ${{PIPESTATUS[0]}}"
    done = subprocess.run(["bash", "-c", pipeline], capture_output=True, text=True, timeout=120, check=True)
    assert (done.stdout.strip(), done.stderr) == ("0", "")


def _children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_workers_die_with_a_parent_killed_by_sigkill(tmp_path):
    texts = {
        f"a{k}": f"article {k} " + " ".join(f"w{(k * 7 + j) % 997}" for j in range(400)) for k in range(20000)
    }
    path = tmp_path / "many.jsonl"
    path.write_text(
        "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in texts.items()), encoding="utf-8"
    )
    proc = subprocess.Popen([sys.executable, "-m", "dedup", str(path), "--workers", "2", "-o", str(tmp_path / "r.json")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while len(workers := _children(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(workers) >= 2, "the run started no worker processes"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 5
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)


WRITER = """
import json, sys
from dedup import Index
location, path = sys.argv[1], sys.argv[2]
rounds = json.load(open(path))
reports = []
with Index(location, boilerplate_min_docs=1000) as index:
    for batch in rounds:
        result = index.add(batch)
        reports.append([[p.a, p.b, p.kind] for p in result.pairs])
print(json.dumps(reports))
"""


_OPEN_AT = """
import sys, time
from dedup import Index, InputError
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
try:
    print(Index(sys.argv[1]).backend.location)
except InputError as error:
    print(error)
"""


def test_two_writers_creating_one_sqlite_archive_at_the_same_instant_both_open_it(tmp_path):
    """SQLite refuses the switch to WAL mode at once, without its busy wait, while another
    connection reads the new file: both writers must still open the archive they race to create."""
    for attempt in range(6):
        archive = str(tmp_path / f"race{attempt}.db")
        start = f"{time.time() + 1.5}"  # after both interpreters have imported dedup
        writers = [subprocess.Popen([sys.executable, "-c", _OPEN_AT, archive, start], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True) for _ in range(2)]  # fmt: skip
        said = [w.communicate(timeout=120) for w in writers]
        assert [out.strip() for out, _ in said] == [archive, archive], said


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_four_writers_at_once_report_what_one_writer_would(backend, tmp_path, request):
    """4 writers x 50 rounds of 2 articles at once: every article stored exactly once, and the
    pairs reported are those of writing the batches one after the other."""
    from test_archive import news_corpus
    from test_parity import by_text

    texts = news_corpus(21, n=400)
    items = sorted(texts.items())
    rounds = [[dict(items[k : k + 2]) for k in range(w * 100, (w + 1) * 100, 2)] for w in range(4)]
    if backend == "sqlite":
        location = str(tmp_path / "archive.db")
    else:
        import redis

        location = f"{request.getfixturevalue('redis_url')}/7"
        redis.Redis.from_url(location).flushdb()
    writers = []
    for w, mine in enumerate(rounds):
        (tmp_path / f"w{w}.json").write_text(json.dumps(mine), encoding="utf-8")
        writers.append(subprocess.Popen([sys.executable, "-c", WRITER, location, str(tmp_path / f"w{w}.json")],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))  # fmt: skip
    outcomes = [w.communicate(timeout=600) for w in writers]
    assert [w.returncode for w in writers] == [0] * 4, [err[-2000:] for _, err in outcomes]
    reported = [tuple(p) for out, _ in outcomes for report in json.loads(out) for p in report]
    with Index(location) as index:
        assert index.stats()["articles"] == 400
        assert all(index.text(i) == t for i, t in items)
    with Index(":memory:", boilerplate_min_docs=1000) as alone:
        one_by_one = [tuple((p.a, p.b, p.kind)) for batch in [b for mine in rounds for b in mine]
                      for p in alone.add(batch).pairs]  # fmt: skip
    assert by_text(reported) == by_text(one_by_one)


@pytest.mark.slow
def test_a_kill_while_the_archive_is_created_leaves_no_archive_or_a_usable_one(tmp_path):
    import random

    rng = random.Random(4)
    for attempt in range(8):
        archive = tmp_path / f"new{attempt}.db"
        proc = subprocess.Popen([sys.executable, "-m", "dedup", "index", "add", str(archive), str(FIXTURES)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(rng.uniform(0.05, 0.8))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        again = run_cli("index", "add", str(archive), str(FIXTURES))
        assert again.returncode == 0, f"attempt {attempt}: {again.stderr}"
        stats = run_cli("index", "stats", str(archive), "--format", "json")
        assert json.loads(stats.stdout)["articles"] == 5


def test_a_damaged_text_is_named_listed_and_can_be_dropped(tmp_path, seeds):
    import sqlite3

    archive = tmp_path / "a.db"
    with Index(archive) as index:
        index.add(seeds)
    db = sqlite3.connect(archive)
    (data,) = db.execute("SELECT text FROM articles WHERE id = ?", (json.dumps(SEED_A),)).fetchone()
    db.execute(
        "UPDATE articles SET text = ? WHERE id = ?",
        (data[:10] + bytes(b ^ 0xFF for b in data[10:20]) + data[20:], json.dumps(SEED_A)),
    )
    db.commit()
    db.close()
    copy = tmp_path / "copy.jsonl"
    copy.write_text(
        json.dumps({"id": "copy", "text": seeds[SEED_A] + " One more line."}) + "\n", encoding="utf-8"
    )
    query = run_cli("index", "query", str(archive), str(copy))
    assert query.returncode == 2 and f"article {SEED_A!r} is damaged" in query.stderr
    assert len(query.stderr.splitlines()) == 1
    check = run_cli("index", "check", str(archive), "--format", "json")
    assert check.returncode == 1 and [d["id"] for d in json.loads(check.stdout)["damaged"]] == [SEED_A]
    assert run_cli("index", "remove", str(archive), SEED_A).returncode == 0
    assert run_cli("index", "check", str(archive)).returncode == 0
    again = run_cli("index", "add", str(archive), str(FIXTURES / SEED_A), "--format", "json")
    assert again.returncode == 0, again.stderr
    assert [(p["a"], p["b"]) for p in json.loads(again.stdout)["pairs"]] == [
        (SEED_A, "001_b371cbcbe07b8631.txt")
    ]


def test_a_damaged_file_gives_one_line(tmp_path, seeds):
    archive = tmp_path / "a.db"
    with Index(archive) as index:
        index.add(seeds)
    data = bytearray(archive.read_bytes())
    for offset in range(4096, len(data), 4096):  # the header of every page but the first
        data[offset : offset + 12] = bytes(12)
    archive.write_bytes(bytes(data))
    for command in (
        ["stats", str(archive)],
        ["query", str(archive), str(FIXTURES / SEED_A)],
        ["check", str(archive)],
    ):
        done = run_cli("index", *command)
        assert done.returncode in (1, 2) and "Traceback" not in done.stderr, (command, done.stdout)
        assert len(done.stderr.splitlines()) <= 1, done.stderr


def test_a_full_disk_is_one_line_and_loses_nothing(tmp_path, seeds):
    """SQLite's own "database or disk is full" (its page limit reached, as a full disk does)."""
    items = sorted(seeds.items())
    with Index(tmp_path / "a.db") as index:
        index.add(dict(items[:2]))
        db = index.backend.db  # type: ignore[attr-defined]
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(InputError, match="the disk is full: nothing of this batch was stored"):
            index.add({f"big{k}": f"{text} {k}" for k, (_, text) in enumerate(items * 20)})
        assert index.stats()["articles"] == 2
        db.execute("PRAGMA max_page_count = 1073741823")
        assert index.add(dict(items[2:])).archive["stored"] == 3
        assert index.stats()["articles"] == 5


def test_a_key_merge_that_fails_in_its_thread_is_reported_and_loses_nothing(tmp_path, seeds, monkeypatch):
    """Key runs are merged in a thread beside the writer, each merge in its own transaction: one
    that fails (a full disk) is the next batch's one-line error, before that batch writes, and
    every committed article stays findable."""
    import sqlite3

    from dedup.backends import runs

    monkeypatch.setattr(runs, "BASE_KEYS", 16)
    real_merge = runs.KeyRuns.merge

    def full(self):
        if self.due():
            raise sqlite3.OperationalError("database or disk is full")
        return False

    items = sorted(seeds.items())
    with Index(tmp_path / "a.db") as index:
        monkeypatch.setattr(runs.KeyRuns, "merge", full)
        for article_id, text in items[:4]:  # four runs of one tier: a merge is due
            index.add({article_id: text})
        index.backend.merges.thread.join()  # type: ignore[attr-defined]
        with pytest.raises(InputError, match="the disk is full: nothing of this batch was stored"):
            index.add(dict(items[4:]))
        assert index.stats()["articles"] == 4
        monkeypatch.setattr(runs.KeyRuns, "merge", real_merge)
        assert index.add(dict(items[4:])).archive["stored"] == 1
    with sqlite3.connect(tmp_path / "a.db") as db:
        assert db.execute("SELECT COUNT(*) FROM key_runs").fetchone()[0] < 5  # merged since
    with Index(tmp_path / "a.db") as index:
        pairs = index.query({"again": dict(items)[SEED_A]}).pairs
        assert (SEED_A, "again", "exact") in {(p.a, p.b, p.kind) for p in pairs}


def test_ids_that_print_the_same_are_refused_and_removable_as_printed(tmp_path):
    archive = tmp_path / "a.db"
    (tmp_path / "int.jsonl").write_text(
        json.dumps({"id": 1, "text": "One story about the harbour and the ships."}) + "\n"
    )
    (tmp_path / "str.jsonl").write_text(
        json.dumps({"id": "1", "text": "Another story about the mayor and the budget."}) + "\n"
    )
    assert run_cli("index", "add", str(archive), str(tmp_path / "int.jsonl")).returncode == 0
    again = run_cli("index", "add", str(archive), str(tmp_path / "str.jsonl"))
    assert again.returncode == 2 and "the archive holds 1, which prints the same" in again.stderr
    removed = run_cli("index", "remove", str(archive), "1")  # the command gives ids as text
    assert removed.returncode == 0, removed.stderr
    assert json.loads(run_cli("index", "stats", str(archive), "--format", "json").stdout)["articles"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_writers_killed_at_random_beside_a_reader_lose_nothing(backend, tmp_path, request):
    """4 writers and a reader at once, writers killed with SIGKILL at random moments and started
    again: every article stored once, every text intact, nothing damaged."""
    import random

    from test_archive import news_corpus

    texts = news_corpus(33, n=240)
    items = sorted(texts.items())
    if backend == "sqlite":
        location = str(tmp_path / "archive.db")
    else:
        import redis

        location = f"{request.getfixturevalue('redis_url')}/8"
        redis.Redis.from_url(location).flushdb()
    # made once: the writers race over batches, not over creation
    Index(location, boilerplate_min_docs=1000).close()
    paths = []
    for w in range(4):
        mine = [dict(items[k : k + 3]) for k in range(w * 60, (w + 1) * 60, 3)]
        paths.append(tmp_path / f"w{w}.json")
        paths[-1].write_text(json.dumps(mine), encoding="utf-8")
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, location], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    rng = random.Random(9)
    for _ in range(3):  # three rounds: start the writers, kill two of them part way
        writers = [subprocess.Popen([sys.executable, "-c", WRITER, location, str(p)], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True) for p in paths]  # fmt: skip
        time.sleep(rng.uniform(1.0, 3.0))
        for victim in rng.sample(writers, 2):
            victim.send_signal(signal.SIGKILL)
        for writer in writers:
            _, err = writer.communicate(timeout=300)
            assert writer.returncode in (0, -signal.SIGKILL), err[-2000:]
    finishers = [subprocess.run([sys.executable, "-c", WRITER, location, str(p)], capture_output=True, text=True,
                                timeout=300, check=False) for p in paths]  # fmt: skip
    assert [f.returncode for f in finishers] == [0] * 4, [f.stderr[-2000:] for f in finishers]
    reader.send_signal(signal.SIGTERM)
    out, err = reader.communicate(timeout=60)
    assert reader.returncode in (0, -signal.SIGTERM) and "Traceback" not in err, err[-2000:]
    assert int(out.split()[0]) > 0  # the reader read all along
    with Index(location) as index:
        assert index.stats()["articles"] == 240
        assert all(index.text(i) == t for i, t in items)
        assert index.check()["damaged"] == [] and index.check()["problems"] == []


READER = """
import signal, sys, time
from dedup import Index
signal.signal(signal.SIGTERM, signal.default_int_handler)
reads = 0
with Index(sys.argv[1], create=False) as index:
    try:
        while True:
            index.stats()
            index.query({"probe": "A probe about the harbour and the ships that came in today, said the mayor."})
            reads += 1
            time.sleep(0.05)
    except KeyboardInterrupt:
        pass
    finally:
        print(reads, flush=True)
"""


def test_a_replace_that_fails_keeps_the_old_article(tmp_path, seeds):
    """--replace forgets the old text and stores the new one in one transaction: a batch that
    cannot be written leaves the old article in place, and a successful one swaps it."""
    with Index(tmp_path / "a.db") as index:
        index.add({"x": seeds[SEED_A]})
        db = index.backend.db  # type: ignore[attr-defined]
        db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
        big = {
            "x": seeds["001_b371cbcbe07b8631.txt"],
            **{f"more{k}": f"{seeds[SEED_A]} {k}" for k in range(60)},
        }
        with pytest.raises(InputError, match="the disk is full"):
            index.add(big, replace=True)
        assert index.text("x") == seeds[SEED_A] and index.stats()["articles"] == 1
        db.execute("PRAGMA max_page_count = 1073741823")
        index.add({"x": seeds["001_b371cbcbe07b8631.txt"]}, replace=True)
        assert index.text("x") == seeds["001_b371cbcbe07b8631.txt"] and index.stats()["articles"] == 1


HOLDER = """
import sys, time
import dedup.backends.redis as backend
from dedup import Index
backend.LEASE_SECONDS = 1
with Index(sys.argv[1]) as index, index.backend.exclusive():
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_redis_writer_killed_holding_the_lock_blocks_the_others_for_a_lease_only(redis_url, monkeypatch):
    """The writer lock is a lease its holder renews: held past the lease while its holder lives,
    free soon after the holder is killed (it was a 600 s lock: a writer killed holding it stalled
    every other writer for ten minutes)."""
    import threading

    import dedup.backends.redis as backend

    monkeypatch.setattr(backend, "LEASE_SECONDS", 1)
    location = f"{redis_url}/9"
    Index(location).close()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, location], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with Index(location) as index:
            time.sleep(2.5)  # past the lease: renewed, so still held
            assert not index.backend.r.set(index.backend.p + "writer", "x", nx=True, px=1000)
            holder.send_signal(signal.SIGKILL)
            holder.wait(30)
            taken = threading.Event()

            def take() -> None:
                with index.backend.exclusive():
                    taken.set()

            thread = threading.Thread(target=take, daemon=True)
            thread.start()
            thread.join(60)  # a lease of 1 s: free within a second or two
            assert taken.is_set()
    finally:
        holder.kill()
        holder.wait(30)

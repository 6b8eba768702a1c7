"""The Spark engine on a real local Spark session: the local engine's results, bad input alike.

Needs pyspark (the ``test`` extra) and a Java runtime. Without a JRE the tests skip with the
reason, except where ``DEDUP_REQUIRE_SERVICES`` is set (CI sets it, after installing one), where
a missing JRE fails them: they never skip silently in CI.
"""

import json
import os
from pathlib import Path

import pytest
from test_archive import news_corpus

from conftest import fixture_texts, run_cli
from dedup import InputError, find_duplicates

pytestmark = pytest.mark.slow  # a real Spark session: about 30 s to start on 2 cores

ROOT = Path(__file__).resolve().parent.parent


def same_but_engine(remote, local):
    """The two results' JSON, equal apart from the run's engine field."""
    remote, local = json.loads(remote.to_json()), json.loads(local.to_json())
    assert (remote["params"].pop("engine"), local["params"].pop("engine")) == ("spark", "local")
    return remote == local


def test_the_fixtures_give_the_local_engines_result(spark, seeds):
    from dedup import spark as engine

    frame = spark.createDataFrame(sorted(seeds.items()), ["id", "text"])
    assert same_but_engine(engine.find_duplicates(frame, spark=spark), find_duplicates(seeds))


def test_a_synthetic_corpus_gives_the_local_engines_pairs_and_groups(spark, tmp_path):
    from dedup import spark as engine

    texts = news_corpus(7, n=3000)
    local = find_duplicates(texts)
    path = tmp_path / "news.jsonl"
    path.write_text(
        "".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in reversed(list(texts.items())))
    )
    remote = engine.find_duplicates(str(path), spark=spark)
    assert same_but_engine(remote, local)
    assert len(local.pairs) > 1000 and len(local.clusters) > 100


@pytest.mark.skipif(
    not (ROOT.parent / "shared" / "data" / "bbc_news").is_dir(),
    reason="BBC News not found under ../shared/data",
)
def test_real_news_gives_the_local_engines_result(spark):
    from dedup import spark as engine

    texts = {
        str(p.relative_to(ROOT.parent / "shared" / "data")): p.read_bytes().decode("utf-8", errors="replace")
        for p in sorted((ROOT.parent / "shared" / "data" / "bbc_news").glob("*/*.txt"))
    }
    frame = spark.createDataFrame(sorted(texts.items()), ["id", "text"])
    assert same_but_engine(engine.find_duplicates(frame, spark=spark), find_duplicates(texts))


def test_bad_frames_are_one_line_errors(spark):
    from dedup import spark as engine

    with pytest.raises(InputError, match="no column 'text'"):
        engine.find_duplicates(spark.createDataFrame([("a", "x")], ["id", "body"]), spark=spark)
    with pytest.raises(InputError, match="duplicate id 'a'"):
        engine.find_duplicates(
            spark.createDataFrame([("a", "x y"), ("a", "z w")], ["id", "text"]), spark=spark
        )
    with pytest.raises(InputError, match="article 'e' is empty"):
        engine.find_duplicates(spark.createDataFrame([("e", " . "), ("f", "a b")], ["id", "text"]), spark=spark,
                               on_empty="error")  # fmt: skip


def test_the_command_runs_on_spark(spark, tmp_path, seeds):
    # the fixtures folder (read here, then handed to Spark) and a JSON Lines file (read by Spark)
    path = tmp_path / "seeds.jsonl"
    path.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in sorted(seeds.items())))
    for given in (str(ROOT / "fixtures"), str(path)):
        done = run_cli(given, "--engine", "spark", "--spark-master", "local[2]", "--format", "json")
        assert done.returncode == 0, done.stderr
        local = run_cli(given, "--format", "json")
        expected = local.stdout.replace('"engine": "local"', '"engine": "spark"')
        assert done.stdout == expected  # byte for byte, apart from the run's engine field
        assert json.loads(done.stdout)["pairs"][0]["kind"] == "contained"
    for flags in (["--explain", "--format", "json"], ["--format", "html"]):  # the shown texts are read back
        spark_run = run_cli(str(path), "--engine", "spark", "--spark-master", "local[2]", *flags)
        local = run_cli(str(path), *flags)
        assert spark_run.returncode == 0, spark_run.stderr
        assert spark_run.stdout == local.stdout.replace('"engine": "local"', '"engine": "spark"').replace(
            "engine=local", "engine=spark"
        )


def test_the_spark_benchmark_runs_quick_and_agrees(spark, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "spark.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "spark.py"), "--quick", "--cache", str(tmp_path / "cache"),
         "--json", str(out)], capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    (row,) = json.loads(out.read_text())
    assert row["same_pairs"] and row["same_groups"] and row["local"]["pairs"] > 0
    assert "| articles | local s |" in done.stdout


def test_the_command_writes_parquet_tables_for_big_corpora(spark, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "tables"
    done = run_cli(str(ROOT / "fixtures"), "--engine", "spark", "--spark-master", "local[2]", "-o", str(out))
    assert done.returncode == 0, done.stderr
    pairs = pq.read_table(out / "pairs").to_pylist()
    assert [(p["a"], p["b"], p["kind"]) for p in pairs] == [
        ("000_b0707d4a85524ca5.txt", "001_b371cbcbe07b8631.txt", "contained")
    ]
    assert json.loads(pairs[0]["alignment"])["matches"]
    groups = pq.read_table(out / "groups").to_pylist()
    assert sorted(g["member"] for g in groups) == ["000_b0707d4a85524ca5.txt", "001_b371cbcbe07b8631.txt"]
    assert json.loads((out / "run.json").read_text())["summary"]["pairs"] == 1
    assert (out / "pairs" / "_SUCCESS").exists()  # written by Spark's executors, not gathered here
    again = run_cli(str(ROOT / "fixtures"), "--engine", "spark", "-o", str(out))
    assert again.returncode == 2 and "already holds pairs/ or groups/ tables" in again.stderr


@pytest.mark.slow
def test_the_command_runs_on_a_standalone_cluster(spark, tmp_path):
    """A real cluster: a master and two workers, each its own JVM process on loopback, the job
    submitted to spark://127.0.0.1:PORT by the command; the local engine's JSON, apart from the
    engine field, and nothing of Spark's own logging on stderr."""
    from services import standalone_spark_cluster

    records = tmp_path / "news.jsonl"
    texts = sorted(fixture_texts().items())
    records.write_text("".join(json.dumps({"id": k, "text": v, "outlet": f"paper{n % 2}"}) + "\n"
                               for n, (k, v) in enumerate(texts)))  # fmt: skip
    with standalone_spark_cluster(workers=2, scratch=str(tmp_path / "cluster")) as url:
        for given in (str(ROOT / "fixtures"), str(records)):
            done = run_cli(given, "--engine", "spark", "--spark-master", url, "--format", "json",
                           env={"SPARK_LOCAL_IP": "127.0.0.1"})  # fmt: skip
            assert done.returncode == 0, done.stderr
            local = run_cli(given, "--format", "json")
            assert done.stdout == local.stdout.replace('"engine": "local"', '"engine": "spark"')
            assert "WARN" not in done.stderr and "log level" not in done.stderr, done.stderr


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code", "said"), [(2, 130, "interrupted"), (15, 143, "terminated")])
def test_a_signal_during_a_spark_run_is_one_line(spark, tmp_path, signum, code, said):
    """Once the JVM runs (a java child process), the signal ends the command with one line: no
    py4j or Java traceback (py4j logs every call the stopping JVM no longer answers)."""
    import os
    import subprocess
    import sys
    import time

    path = tmp_path / "news.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in news_corpus(5, 3000).items()))
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    proc = subprocess.Popen([sys.executable, "-m", "dedup", str(path), "--engine", "spark", "--spark-master",
                             "local[2]"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not _java_child(proc.pid):
        time.sleep(0.2)
    time.sleep(3)  # the session is up and a job under way
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert (proc.returncode, err) == (code, f"dedup: {said}\n")


def test_the_callers_own_interrupt_handler_outlives_the_session(spark):
    """pyspark replaces the SIGINT handler with one that cancels the jobs over the py4j connection
    the interrupted call is reading (a garbled answer, "internal error: KeyError", now and then):
    a handler of the caller's own is put back, Python's default is left to pyspark."""
    import subprocess
    import sys

    probe = (
        "import signal\n"
        "from dedup.spark import session\n"
        "def own(signum, frame): pass\n"
        "signal.signal(signal.SIGINT, own) if {own} else None\n"
        "spark = session('local[1]')\n"
        "handler = signal.getsignal(signal.SIGINT)\n"
        "print(handler is own, handler is signal.default_int_handler)\n"
        "spark.stop()\n"
    )
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    for own, said in ((True, "True False"), (False, "False False")):
        done = subprocess.run([sys.executable, "-c", probe.format(own=own)], capture_output=True, text=True,
                              env=env, timeout=300)  # fmt: skip
        assert done.stdout.strip() == said, done.stderr[-2000:]


def _java_child(pid):
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        with open(f"/proc/{entry}/cmdline", "rb") as cmd:
                            if b"java" in cmd.read():
                                return True
            except (OSError, ValueError):
                continue
    return False


def test_connected_components_on_the_executors_match_union_find(spark):
    """The story groups' components (large-star / small-star, on the executors) on long chains,
    stars and random graphs with shuffled node numbers: each node labelled with the smallest node
    of its component, as a union-find on the driver says."""
    import random

    from pyspark import StorageLevel

    from dedup.spark_stages import connected_components

    rng = random.Random(5)
    nodes = list(range(3000))
    rng.shuffle(nodes)
    edges = [(nodes[k], nodes[k + 1]) for k in range(399)]  # a chain of 400
    edges += [(nodes[400], nodes[k]) for k in range(401, 700)]  # a star
    edges += [(rng.choice(nodes[700:]), rng.choice(nodes[700:])) for _ in range(1500)]  # random
    parent = {n: n for e in edges for n in e}

    def find(n):
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for a, b in edges:
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    least = {}
    for n in parent:
        least[find(n)] = min(least.get(find(n), n), n)
    expected = {n: least[find(n)] for n in parent if any(n in e for e in edges if e[0] != e[1])}
    labels = connected_components(spark.sparkContext.parallelize(edges, 4), StorageLevel.MEMORY_ONLY, 4)
    assert dict(labels.collect()) == expected


def test_malformed_json_lines_and_texts_that_are_not_strings_are_named(spark, tmp_path):
    """As the local reader: a malformed record by file and line (it was "article None: the text
    is missing"), a text column of numbers refused (it was accepted)."""
    import re

    from dedup import spark as engine

    path = tmp_path / "news.jsonl"
    lines = [json.dumps({"id": f"a{k}", "text": f"story {k} about the harbour"}) for k in range(1200)]
    lines[1000] = '{"id": "a1000", "text": "cut short'
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}:1001: not valid JSON"):
        engine.find_duplicates(str(path), spark=spark)
    done = run_cli(str(path), "--engine", "spark", "--spark-master", "local[2]")
    (said,) = done.stderr.strip().splitlines()
    assert done.returncode == 2 and said.startswith(f"dedup: error: {path}:1001: not valid JSON ("), said
    numbers = tmp_path / "numbers.jsonl"
    numbers.write_text('{"id": "a", "text": 5}\n{"id": "b", "text": 6}\n')
    with pytest.raises(InputError, match="column 'text' must hold strings, it holds bigint values"):
        engine.find_duplicates(str(numbers), spark=spark)


def test_tables_written_by_the_executors_equal_the_local_engines(spark, tmp_path):
    """``-o DIR`` on a corpus with groups and exact copies: the executors' tables hold the local
    engine's rows, in its order, and run.json its summary."""
    import pyarrow.parquet as pq

    texts = news_corpus(11, n=1500)
    path = tmp_path / "news.jsonl"
    path.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in sorted(texts.items())))
    local, remote = tmp_path / "local", tmp_path / "remote"
    assert run_cli(str(path), "-o", str(local)).returncode == 0
    done = run_cli(str(path), "--engine", "spark", "--spark-master", "local[2]", "-o", str(remote))
    assert done.returncode == 0, done.stderr
    for name in ("pairs", "groups"):
        rows = pq.read_table(remote / name).to_pylist()
        assert rows == pq.read_table(local / name).to_pylist() and rows, name
    summaries = [json.loads((d / "run.json").read_text())["summary"] for d in (local, remote)]
    assert summaries[0] == summaries[1] and summaries[0]["clusters"] > 10


def _records(path):
    """The records of a local JSON Lines file, or of the part files of a directory Spark wrote."""
    import pyarrow.parquet as pq

    if path.suffix == ".parquet":
        return [{k: v for k, v in r.items() if v is not None} for r in pq.read_table(path).to_pylist()]
    files = sorted(path.glob("part-*")) if path.is_dir() else [path]
    rows = [json.loads(line) for f in files for line in f.read_text().splitlines()]
    return [{k: v for k, v in r.items() if v is not None} for r in rows]


def test_the_executors_write_the_local_engines_corpus(spark, tmp_path):
    """--keep-to / --removed-to / --annotate with --engine spark: directories of part files
    written by the executors holding the local engine's records, every field, in input order
    across two files (given out of id order), under two keep rules."""
    texts = sorted(news_corpus(13, n=1500).items(), reverse=True)
    records = [{"id": k, "text": v, "outlet": f"paper{n % 5}"} | ({"date": f"2024-01-{n % 28 + 1:02d}"} if n % 7 else {})
               for n, (k, v) in enumerate(texts)]  # fmt: skip
    files = [tmp_path / "b.jsonl", tmp_path / "a.jsonl"]
    for file, part in zip(files, (records[:700], records[700:]), strict=True):
        file.write_text("".join(json.dumps(r) + "\n" for r in part))
    given = [str(f) for f in files]
    spark_flags = ["--engine", "spark", "--spark-master", "local[2]"]
    for keep in ("representative", "earliest:date"):
        out = {side: (tmp_path / f"{side}-{keep[:4]}-kept.jsonl", tmp_path / f"{side}-{keep[:4]}-gone.jsonl")
               for side in ("local", "spark")}  # fmt: skip
        for side, flags in (("local", []), ("spark", spark_flags)):
            done = run_cli(*given, *flags, "--keep", keep, "--keep-to", str(out[side][0]),
                           "--removed-to", str(out[side][1]))  # fmt: skip
            assert done.returncode == 0, done.stderr
        assert out["spark"][0].is_dir() and (out["spark"][0] / "_SUCCESS").exists()  # the executors wrote it
        kept, gone = _records(out["local"][0]), _records(out["local"][1])
        assert _records(out["spark"][0]) == kept and _records(out["spark"][1]) == gone
        assert len(kept) + len(gone) == 1500 and len(gone) > 200
    annotated = {side: tmp_path / f"{side}-annotated.parquet" for side in ("local", "spark")}
    assert run_cli(*given, "--keep-to", str(annotated["local"]), "--annotate").returncode == 0
    assert run_cli(*given, *spark_flags, "--keep-to", str(annotated["spark"]), "--annotate").returncode == 0
    assert _records(annotated["spark"]) == _records(annotated["local"])


def test_a_spark_corpus_target_the_executors_cannot_write_is_refused_first(tmp_path, seeds):
    path = tmp_path / "seeds.jsonl"
    path.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in sorted(seeds.items())))
    (tmp_path / "taken.jsonl").mkdir()
    for target, said in ((tmp_path / "kept.csv", "name it NAME.jsonl or NAME.parquet"),
                         (tmp_path / "taken.jsonl", "exists; the Spark engine writes a new directory")):  # fmt: skip
        done = run_cli(str(path), "--engine", "spark", "--keep-to", str(target))
        assert done.returncode == 2 and said in done.stderr and done.stderr.count("\n") == 1, done.stderr


def test_a_single_report_of_more_pairs_than_the_driver_gathers_is_refused(spark, monkeypatch):
    from dedup import spark as engine
    from dedup import spark_stages

    monkeypatch.setattr(spark_stages, "GATHER_LIMIT", 20)
    frame = spark.createDataFrame(sorted(news_corpus(3, n=300).items()), ["id", "text"])
    with pytest.raises(InputError, match=r"found \d+ pairs, more than the 20 a single report gathers"):
        engine.find_duplicates(frame, spark=spark)


def test_tables_and_a_corpus_of_inputs_the_command_reads_are_both_written(spark, tmp_path):
    """-o DIR with --keep-to on a folder of .txt files (read by the command, not by Spark): the
    tables and the command's single-file corpus, neither dropped."""
    out, kept = tmp_path / "tables", tmp_path / "kept.jsonl"
    done = run_cli(str(ROOT / "fixtures"), "--engine", "spark", "--spark-master", "local[2]", "-o", str(out),
                   "--keep-to", str(kept))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (out / "pairs").is_dir() and len(kept.read_text().splitlines()) == 4

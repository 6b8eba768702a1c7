"""The dedup command, run as a user would: a subprocess, every input format, every bad input."""

import csv
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import dedup
from conftest import FIXTURES, SEED_A, SEED_B, fixture_texts, run_cli


def pairs_of(stdout: str) -> list[tuple[str, str, str]]:
    return [(p["a"], p["b"], p["kind"]) for p in json.loads(stdout)["pairs"]]


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_text_report_on_fixtures():
    proc = run_cli(str(FIXTURES))
    assert proc.returncode == 0, proc.stderr
    assert "5 articles compared, 1 story group, 1 pair, 0 skipped" in proc.stdout
    assert "contained (a inside b): a covered by b 84%, b covered by a 45%" in proc.stdout
    assert f"keep {SEED_B}" in proc.stdout
    assert proc.stderr == ""  # no progress bar when stderr is not a terminal


def test_explain_shows_paragraphs_side_by_side():
    proc = run_cli(str(FIXTURES), "--explain")
    assert "a[7] ~ b[22]" in proc.stdout
    assert "[-demilitarized-]" in proc.stdout and "{+demilitarisation+}" in proc.stdout
    assert "only in a (dropped by b): a[1] Mevlut Cavusoglu is in the Russian capital" in proc.stdout


def test_json_output_to_file(tmp_path):
    out = tmp_path / "result.json"
    proc = run_cli(str(FIXTURES), "--format", "json", "-o", str(out))
    assert proc.returncode == 0 and proc.stdout == ""
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [(p["a"], p["b"], p["kind"], p["direction"]) for p in data["pairs"]] == [
        (SEED_A, SEED_B, "contained", "a_in_b")
    ]


def test_jsonl_file_with_custom_fields(tmp_path):
    records = [{"doc": k, "body": v, "outlet": "x"} for k, v in fixture_texts().items()]
    path = write_jsonl(tmp_path / "in.jsonl", records)
    proc = run_cli(str(path), "--id-field", "doc", "--text-field", "body", "--format", "json")
    assert pairs_of(proc.stdout) == [(SEED_A, SEED_B, "contained")]


def test_csv_file(tmp_path):
    path = tmp_path / "in.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows(fixture_texts().items())
    proc = run_cli(str(path), "--format", "json")
    assert pairs_of(proc.stdout) == [(SEED_A, SEED_B, "contained")]


def test_stdin_jsonl():
    stdin = "".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in fixture_texts().items())
    proc = run_cli("-", "--format", "json", stdin=stdin)
    assert pairs_of(proc.stdout) == [(SEED_A, SEED_B, "contained")]


def test_jsonl_and_csv_output_formats():
    lines = run_cli(str(FIXTURES), "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["record"] for line in lines] == ["run", "cluster", "pair"]
    rows = list(csv.DictReader(run_cli(str(FIXTURES), "--format", "csv").stdout.splitlines()))
    assert [(r["a"], r["b"], r["kind"], r["direction"]) for r in rows] == [
        (SEED_A, SEED_B, "contained", "a_in_b")
    ]
    assert "params" not in rows[0] and rows[0]["group"] == "1"  # settings stay in JSON's params


def test_csv_has_a_column_per_metadata_field_and_side(tmp_path):
    texts = fixture_texts()
    records = [{"id": k, "text": v, "title": f"Title of {k}", "outlet": "=Wire" if k == SEED_A else "Daily",
                "tags": ["a", "b"]} for k, v in texts.items()]  # fmt: skip
    path = write_jsonl(tmp_path / "in.jsonl", records)
    rows = list(csv.DictReader(run_cli(str(path), "--format", "csv").stdout.splitlines()))
    assert [
        (r["a"], r["b"], r["a_title"], r["b_title"], r["a_outlet"], r["b_outlet"], r["a_tags"]) for r in rows
    ] == [
        (SEED_A, SEED_B, f"Title of {SEED_A}", f"Title of {SEED_B}", "'=Wire", "Daily", '["a", "b"]')
    ]  # (a leading = is quoted: no spreadsheet formula)


def test_directory_ids_are_relative_paths_and_other_files_are_named(tmp_path):
    (tmp_path / "nested").mkdir()
    shutil.copy(FIXTURES / SEED_A, tmp_path / "nested" / SEED_A)
    shutil.copy(FIXTURES / SEED_B, tmp_path / SEED_B)
    (tmp_path / "notes.md").write_text("not an article", encoding="utf-8")
    data = json.loads(run_cli(str(tmp_path), "--format", "json").stdout)
    assert [(p["a"], p["b"]) for p in data["pairs"]] == [(SEED_B, f"nested/{SEED_A}")]
    assert data["skipped"] == [{"id": str(tmp_path / "notes.md"), "reason": "not a .txt file"}]
    assert data["summary"]["skipped"] == 1


def test_options_reach_the_library():
    data = json.loads(run_cli(str(FIXTURES), "--format", "json", "--num-perm", "64", "--seed", "9").stdout)
    assert (data["params"]["num_perm"], data["params"]["seed"]) == (64, 9)


def test_fail_on_duplicates_exit_code():
    assert run_cli(str(FIXTURES), "--fail-on-duplicates").returncode == 1


def test_byte_identical_json_across_hash_seeds_and_input_order(tmp_path):
    items = list(fixture_texts().items())
    forward = write_jsonl(tmp_path / "forward.jsonl", [{"id": k, "text": v} for k, v in items])
    backward = write_jsonl(tmp_path / "backward.jsonl", [{"id": k, "text": v} for k, v in reversed(items)])
    outputs = {
        run_cli(str(path), "--format", "json", env={"PYTHONHASHSEED": seed}).stdout
        for path in (forward, backward)
        for seed in ("1", "2")
    }
    assert len(outputs) == 1


BAD_INPUTS = [
    ("missing", None, "missing.jsonl: no such file or directory"),
    ("binary.txt", b"abc\x00def", "binary.txt: binary file"),
    ("latin1.txt", "caf\xe9 au lait".encode("latin-1"), "latin1.txt: invalid UTF-8 at byte 3"),
    ("bad.jsonl", b'{"id": "a", "text": "fine words here"}\n{"id": "b", "text": \n', "bad.jsonl:2: not valid JSON"),
    ("array.jsonl", b'["a", "b"]\n', "array.jsonl:1: expected a JSON object, got array"),
    ("noid.jsonl", b'{"text": "words"}\n', "noid.jsonl:1: missing id field 'id'"),
    ("notext.jsonl", b'{"id": "a"}\n', "notext.jsonl:1: missing text field 'text'"),
    ("nulltext.jsonl", b'{"id": "a", "text": null}\n', "nulltext.jsonl:1: field 'text' must be a string, got null"),
    ("numtext.jsonl", b'{"id": "a", "text": 42}\n', "numtext.jsonl:1: field 'text' must be a string, got number"),
    ("dupid.jsonl", b'{"id": "a", "text": "one"}\n{"id": "a", "text": "two"}\n',
     "dupid.jsonl:2: duplicate id 'a' (first seen at"),
    ("empty.jsonl", b'{"id": "a", "text": "words here"}\n{"id": "e", "text": "  "}\n',
     "empty.jsonl:2: article 'e' is empty (no words)"),
    ("bad.csv", b"id,body\na,words\n", "bad.csv:1: no column 'text' in the header"),
    ("ragged.csv", b"id,text\na,words,extra\n", "ragged.csv:2: more fields than the header has columns"),
    ("data.xml", b"<a/>", "data.xml: unsupported input"),
    # found by the hostile-input trial
    ("nul.jsonl", b'{"id": "a", "text": "one\\u0000two"}\n', "nul.jsonl:1: field 'text' has a NUL character at character 3"),
    ("utf16.txt", "words".encode("utf-16"), "utf16.txt: looks like UTF-16 text"),
    ("cut.jsonl", b'{"id": "a", "text": "unterminated\n', "cut.jsonl:1: not valid JSON (Unterminated string starting at column 21)"),
    ("nullid.jsonl", b'{"id": null, "text": "words"}\n', "nullid.jsonl:1: missing id field 'id'"),
    ("dots.jsonl", b'{"id": "a", "text": "..."}\n', "article 'a' is empty (no words) (without --strict such articles are skipped)"),
    ("object.json", b'{"id": "a"}', "object.json: expected a JSON array of objects, got object"),
    # streamed CSV and Parquet
    ("latin1.csv", "id,text\na,words\nb,caf\xe9\n".encode("latin-1"), "latin1.csv:3: invalid UTF-8"),
    ("utf16.csv", "id,text\na,words\n".encode("utf-16"), "utf16.csv: looks like UTF-16 text"),
    ("quote.csv", b'id,text\na,"words\n', "quote.csv:2: malformed CSV"),
    ("junk.parquet", b"PAR1 not really", "junk.parquet: not a readable Parquet file"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "message"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_gives_one_line_and_exit_2(tmp_path, name, content, message):
    path = tmp_path / (name if content is not None else "missing.jsonl")
    if content is not None:
        path.write_bytes(content)
    proc = run_cli(str(path), "--strict")  # (empty articles are errors only with --strict)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("dedup: error: ")
    assert message in lines[0]


def test_unreadable_file_gives_one_line(tmp_path):
    link = tmp_path / "gone.txt"
    link.symlink_to(tmp_path / "nowhere.txt")  # a dangling link cannot be read, even by root
    directory = tmp_path / "dir"
    directory.mkdir()
    (directory / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    proc = run_cli(str(directory))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "gone.txt: cannot read" in proc.stderr


def test_empty_article_skipped_by_default(tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "words here"}, {"id": "e", "text": ""}])
    for flags in ([], ["--skip-empty"]):  # (the old flag is still accepted)
        proc = run_cli(str(path), *flags)
        assert proc.returncode == 0
        assert "Skipped (1)\n  e: empty: no words" in proc.stdout


def test_bad_option_gives_one_line_and_exit_2():
    proc = run_cli(str(FIXTURES), "--candidate-threshold", "2")
    assert proc.returncode == 2
    assert proc.stderr == "dedup: error: candidate_threshold must be in (0, 1], got 2.0\n"
    proc = run_cli(str(FIXTURES), "--num-perm", "many")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


def test_console_script_is_installed():
    exe = shutil.which("dedup", path=str(Path(sys.executable).parent)) or shutil.which("dedup")
    assert exe is not None, "the dedup console script is not installed"
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    assert proc.stdout.strip() == f"dedup {dedup.__version__}"


def test_a_single_txt_file_is_one_article(tmp_path):
    proc = run_cli(str(FIXTURES / SEED_A), str(FIXTURES / SEED_B), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert pairs_of(proc.stdout) == [(SEED_A, SEED_B, "contained")]
    alone = run_cli(str(FIXTURES / SEED_A), "--format", "json")
    assert json.loads(alone.stdout)["summary"]["compared"] == 1


def test_preset_reuse_reaches_the_library():
    proc = run_cli(str(FIXTURES), "--preset", "reuse", "--format", "json")
    params = json.loads(proc.stdout)["params"]
    settings = (params["shingle_size"], params["paragraph_threshold"], params["partial_threshold"])
    assert settings == (3, 0.6, 0.3)
    assert pairs_of(proc.stdout) == [(SEED_A, SEED_B, "contained")]


def test_an_unwritable_output_file_gives_one_line(tmp_path):
    proc = run_cli(str(FIXTURES), "-o", str(tmp_path / "no-such-dir" / "out.txt"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "out.txt: cannot write" in proc.stderr


def test_explain_puts_paragraph_texts_and_offsets_in_json():
    proc = run_cli(str(FIXTURES), "--format", "json", "--explain")
    pair = json.loads(proc.stdout)["pairs"][0]
    rows = pair["paragraphs"]
    texts = fixture_texts()
    first = next(r for r in rows if r["kind"] == "match")
    a = first["a"]
    assert texts[SEED_A][a["start"] : a["end"]] == a["text"]
    assert first["edited"] and ["demilitarized", False] not in first["a"]["words"]
    assert {r["kind"] for r in rows} >= {"match", "only_a", "only_b", "ignored_b"}
    assert sum(r["kind"] == "match" for r in rows) == len(pair["alignment"]["matches"])


def test_internal_errors_and_interrupts_give_one_line(monkeypatch, capsys):
    from dedup import cli, pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("something broke")

    monkeypatch.setattr(pipeline, "find_duplicates", broken)
    assert cli.main([str(FIXTURES)]) == 3
    err = capsys.readouterr().err
    assert err == "dedup: internal error: RuntimeError: something broke (DEDUP_DEBUG=1 shows more)\n"

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "find_duplicates", interrupted)
    assert cli.main([str(FIXTURES)]) == 130
    assert capsys.readouterr().err == "dedup: interrupted\n"


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_at_any_moment_start_up_included_gives_one_line(signum, tmp_path):
    import subprocess
    import sys
    import time

    texts = {
        f"a{k}": f"article {k} " + " ".join(f"w{(k * 7 + j) % 997}" for j in range(300)) for k in range(3000)
    }
    path = tmp_path / "many.jsonl"
    path.write_text(
        "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in texts.items()), encoding="utf-8"
    )
    expected = {signal.SIGINT: (130, "dedup: interrupted\n"), signal.SIGTERM: (143, "dedup: terminated\n")}
    for delay in (0.15, 0.3, 0.6, 1.0, 2.0):  # during start-up (imports), reading and the run
        proc = subprocess.Popen([sys.executable, "-m", "dedup", str(path), "-o", str(tmp_path / "r.json")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        time.sleep(delay)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
        if proc.returncode == 0:  # finished before the signal: its report goes, for the next try
            (tmp_path / "r.json").unlink()
            continue
        assert (proc.returncode, err) == expected[signum], f"after {delay} s"
        assert not (tmp_path / "r.json").exists() and len(list(tmp_path.iterdir())) == 1


def write_parquet(path, columns):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table(columns), path, row_group_size=2)
    return path


def test_parquet_file_streams_with_metadata(tmp_path):
    texts = fixture_texts()
    path = write_parquet(
        tmp_path / "in.parquet",
        {"id": list(texts), "text": list(texts.values()), "outlet": ["x"] * len(texts)},
    )
    proc = run_cli(str(path), "--format", "json")
    assert pairs_of(proc.stdout) == [(SEED_A, SEED_B, "contained")]
    assert json.loads(proc.stdout)["articles"][0] == {"id": SEED_A, "meta": {"outlet": "x"}}


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"id": ["a"], "body": ["words"]}, "no column 'text' (columns: id, body)"),
        ({"id": ["a", "b"], "text": ["words here", None]}, ":2: field 'text' must be a string, got null"),
    ],
)
def test_bad_parquet_gives_one_line(tmp_path, columns, message):
    proc = run_cli(str(write_parquet(tmp_path / "in.parquet", columns)))
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith("dedup: error: ") and message in proc.stderr
    assert len(proc.stderr.splitlines()) == 1


@pytest.mark.parametrize("suffix", [".jsonl", ".csv.gz"])
def test_a_bad_line_late_in_a_streamed_file_exits_2_and_leaves_no_report(tmp_path, suffix):
    rows = [(f"id{k}", f"article {k} says something about topic {k % 7}") for k in range(6000)]
    path = tmp_path / f"big{suffix}"
    if suffix == ".jsonl":
        lines = [json.dumps({"id": i, "text": t}) for i, t in rows]
        lines[5990] = '{"id": "broken", "text": '
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        expected = "big.jsonl:5991: not valid JSON"
    else:
        import gzip

        body = "id,text\n" + "".join(f"{i},{t}\n" for i, t in rows[:5990]) + "x,words,extra\n"
        path.write_bytes(gzip.compress(body.encode()))
        expected = "big.csv.gz:5992: more fields than the header has columns"
    out = tmp_path / "report.json"
    proc = run_cli(str(path), "-o", str(out))
    assert (proc.returncode, proc.stdout) == (2, "")
    assert expected in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no report, no temporary file


def test_explain_on_a_streamed_input_shows_the_same_paragraphs_as_on_files():
    stdin = "".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in fixture_texts().items())
    streamed = json.loads(run_cli("-", "--explain", "--format", "json", stdin=stdin).stdout)
    from_files = json.loads(run_cli(str(FIXTURES), "--explain", "--format", "json").stdout)
    assert [p["paragraphs"] for p in streamed["pairs"]] == [p["paragraphs"] for p in from_files["pairs"]]
    assert len(streamed["pairs"][0]["paragraphs"]) >= 9


def test_a_config_file_sets_options_and_flags_override_it(tmp_path):
    config = tmp_path / "dedup.toml"
    config.write_text('shingle_size = 3\nformat = "json"\nexplain = true\nnum-perm = 64\n', encoding="utf-8")
    data = json.loads(run_cli(str(FIXTURES), "--config", str(config), "--shingle-size", "4").stdout)
    assert (data["params"]["shingle_size"], data["params"]["num_perm"]) == (4, 64)  # the flag wins
    assert "paragraphs" in data["pairs"][0]
    for text, message in (("shingle = 3\n", "shingle = 3: no such option"),
                          ('format = "xml"\n', "format = 'xml': choose from text"),
                          ("explain = 1\n", "explain = 1: expected true or false"),
                          ("x = [\n", "not valid TOML")):  # fmt: skip
        config.write_text(text, encoding="utf-8")
        proc = run_cli(str(FIXTURES), "--config", str(config))
        assert (
            proc.returncode == 2
            and proc.stderr == f"dedup: error: {config}: {message}" + proc.stderr.split(message)[1]
        )
        assert proc.stderr.count("\n") == 1


def test_the_skipped_note_shows_an_id_that_is_not_printable_escaped(tmp_path):
    """Found by the fuzzer: an empty article whose id is a form feed broke the note into two
    stderr lines; ids are shown as the text report shows them (``\\u000c``)."""
    path = tmp_path / "odd.jsonl"
    path.write_text(
        json.dumps({"id": 0, "text": "minister"}) + "\n" + json.dumps({"id": "\x0c", "text": ""}) + "\n"
    )
    done = run_cli(str(path))
    assert done.returncode == 0
    assert done.stderr.splitlines() == ["dedup: note: skipped 1 (no words or not read): \\u000c"]

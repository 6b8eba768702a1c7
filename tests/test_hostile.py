"""The hostile-input trial, case by case: each failure it found, through the command or the library."""

import contextlib
import csv
import gzip
import io
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import FIXTURES, SEED_A, SEED_B, fixture_texts, run_cli
from dedup import InputError, find_duplicates

DATA = Path(os.environ.get("DEDUP_DATA", Path(__file__).resolve().parent.parent.parent / "shared" / "data"))


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def one_line_error(proc, fragment):
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("dedup: error: "), proc.stderr
    assert fragment in proc.stderr, proc.stderr


# 1. nothing to compare ------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["only-md", "empty-jsonl", "stdin", "empty-txt-skipped"])
def test_no_articles_to_compare_is_an_empty_report_and_a_note(tmp_path, case):
    stdin = None
    if case == "only-md":
        (tmp_path / "notes.md").write_text("not an article", encoding="utf-8")
        args = [str(tmp_path)]
    elif case == "empty-jsonl":
        (tmp_path / "in.jsonl").write_bytes(b"")
        args = [str(tmp_path / "in.jsonl")]
    elif case == "stdin":
        args, stdin = ["-"], ""
    else:
        (tmp_path / "empty.txt").write_bytes(b"")
        args = [str(tmp_path / "empty.txt"), "--skip-empty"]
    proc = run_cli(*args, "--format", "json", stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["pairs"] == []
    assert (
        proc.stderr
        == f"dedup: note: no articles to compare in {', '.join(a for a in args if a != '--skip-empty')}\n"
    )


# 2. Ctrl-C and SIGTERM -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory):
    rng = random.Random(3)
    words = [f"w{k}" for k in range(20000)]
    path = tmp_path_factory.mktemp("big") / "big.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(20000):
            text = "\n\n".join(" ".join(rng.choices(words, k=40)) + "." for _ in range(6))
            out.write(json.dumps({"id": f"a{i:05d}", "text": text}) + "\n")
    return path


@pytest.mark.parametrize(
    ("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")] * 2
)
@pytest.mark.slow
def test_a_signal_ends_the_run_at_once_with_one_line_and_no_partial_output(
    big_corpus, tmp_path, sig, code, word
):
    out = tmp_path / "report.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dedup", "-", "--workers", "2", "-o", str(out)], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    # the whole corpus on stdin, which then stays open: the run is surely under way when stopped
    feeder = threading.Thread(target=_feed, args=(proc.stdin, big_corpus.read_bytes()), daemon=True)
    feeder.start()
    time.sleep(2.5)  # the workers are sketching
    os.killpg(proc.pid, sig)  # as a terminal sends it: to the whole process group
    started = time.monotonic()
    proc.wait(timeout=30)
    assert time.monotonic() - started < 2
    assert proc.returncode == code
    assert proc.stderr.read().decode() == f"dedup: {word}\n"
    assert list(tmp_path.iterdir()) == []  # no report, no temporary file


def _feed(stream, data):
    with contextlib.suppress(BrokenPipeError):
        stream.write(data)
        stream.flush()


# 3. the same bytes in any order, at scale, on real articles --------------------------------------


def real_articles(limit):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from quality import bbc_docs, reuters_docs

    reuters, bbc = reuters_docs(DATA, False), bbc_docs(DATA, False)
    if not reuters or not bbc:
        pytest.skip(f"Reuters-21578 or BBC News not found under {DATA} (set DEDUP_DATA)")
    return (list(reuters.items()) + list(bbc.items()))[:limit]


@pytest.mark.slow
def test_twenty_thousand_real_articles_give_the_same_bytes_in_any_order():
    items = real_articles(20000)
    reference = find_duplicates(items, workers=2).to_json()
    shuffled = items[:]
    random.Random(5).shuffle(shuffled)
    assert find_duplicates(list(reversed(items)), workers=2).to_json() == reference
    assert find_duplicates(shuffled, workers=1).to_json() == reference


# 4. nothing silently dropped -----------------------------------------------------------------------


def test_a_symlinked_folder_is_followed_and_a_loop_is_named(tmp_path):
    real = tmp_path / "elsewhere"
    real.mkdir()
    (real / SEED_A).write_text(fixture_texts()[SEED_A], encoding="utf-8")
    root = tmp_path / "in"
    root.mkdir()
    (root / SEED_B).write_text(fixture_texts()[SEED_B], encoding="utf-8")
    (root / "linked").symlink_to(real, target_is_directory=True)
    (real / "back").symlink_to(root, target_is_directory=True)  # a loop
    data = json.loads(run_cli(str(root), "--format", "json").stdout)
    assert [(p["a"], p["b"]) for p in data["pairs"]] == [(SEED_B, f"linked/{SEED_A}")]
    assert [s["reason"] for s in data["skipped"]] == [
        "folder already read (a symbolic link loops back to it)"
    ]


def test_a_fifo_is_named_as_skipped_and_never_opened(tmp_path):
    (tmp_path / SEED_A).write_text(fixture_texts()[SEED_A], encoding="utf-8")
    os.mkfifo(tmp_path / "fifo.txt")
    proc = run_cli(str(tmp_path), "--format", "json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["skipped"] == [
        {"id": str(tmp_path / "fifo.txt"), "reason": "not a regular file (a FIFO)"}
    ]
    one_line_error(run_cli(str(tmp_path / "fifo.txt")), "fifo.txt: not a regular file (a FIFO)")


# 6. a short story inside a huge page -----------------------------------------------------------------


@pytest.mark.slow
def test_a_short_story_inside_a_ten_megabyte_page_is_found_as_contained():
    rng = random.Random(2)
    words = [f"word{k}" for k in range(20000)]
    filler = [" ".join(rng.choices(words, k=60)) + "." for _ in range(20000)]
    story = fixture_texts()[SEED_A]
    page = "\n\n".join([*filler[:10000], story, *filler[10000:]])
    assert len(page) > 9_000_000
    started = time.monotonic()
    result = find_duplicates({"page": page, "story": story})
    assert [(p.a, p.b, p.kind, p.direction) for p in result.pairs] == [
        ("page", "story", "contained", "b_in_a")
    ]
    assert time.monotonic() - started < 60


# 7. a long footer on short articles ------------------------------------------------------------------


FOOTER = (
    "Copyright Example Wire Limited. All rights reserved. Republication or redistribution of its content, "
    "including by framing or similar means, is prohibited without the prior written consent of Example Wire. "
    "Example Wire shall not be liable for any errors or delays in the content, or for any actions taken in "
    "reliance thereon. Example Wire and its logo are registered trademarks of the Example Wire group worldwide."
)


def short_notices(n, seed=8):
    rng = random.Random(seed)
    words = [f"{stem}{k}" for stem in ("div", "pay", "rec", "qtr") for k in range(500)]
    return {f"n{i:04d}": " ".join(rng.choices(words, k=rng.randint(40, 70))) + "." for i in range(n)}


def test_a_footer_as_long_as_short_articles_does_not_pair_them():
    notices = short_notices(300)
    plain = find_duplicates(notices)
    footed = find_duplicates({k: f"{v}\n\n{FOOTER}" for k, v in notices.items()})
    assert footed.summary["boilerplate_lines"] >= 1
    assert len(footed.pairs) == len(plain.pairs) == 0


def test_a_short_story_republished_with_a_long_footer_is_still_found():
    notices = short_notices(300)
    story = "The central bank of Example raised its main rate by half a point on Thursday, the third rise this year, citing stubborn inflation in services and wages."
    outlets = {
        f"copy{k}": f"{story}\n\nOutlet {k} local note number {k} about weather.\n\n{FOOTER}"
        for k in range(6)
    }
    result = find_duplicates({**{k: f"{v}\n\n{FOOTER}" for k, v in notices.items()}, **outlets})
    found = {frozenset((p.a, p.b)) for p in result.pairs}
    assert {frozenset(("copy0", f"copy{k}")) for k in range(1, 6)} <= found


# 8. lone surrogates -----------------------------------------------------------------------------------


def test_a_lone_surrogate_is_refused_with_its_place(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(
        '{"id": "a", "text": "fine words here"}\n{"id": "b", "text": "bad \\ud800 text"}\n', encoding="utf-8"
    )
    one_line_error(
        run_cli(str(path), "--explain"),
        "in.jsonl:2: field 'text' has a lone surrogate (\\ud800) at character 4",
    )
    path.write_text('{"id": "bad\\udc80id", "text": "words"}\n', encoding="utf-8")
    one_line_error(
        run_cli(str(path), "-o", str(tmp_path / "out.txt")), "in.jsonl:1: field 'id' has a lone surrogate"
    )
    with pytest.raises(InputError, match="its text has a lone surrogate"):
        find_duplicates({"x": "bad \ud800 text"})


# 9. ids -------------------------------------------------------------------------------------------------


def test_ids_cannot_forge_report_lines_colour_the_terminal_or_run_in_a_spreadsheet(tmp_path):
    text = fixture_texts()[SEED_A]
    records = [{"id": "=HYPERLINK(\"http://x\")", "text": text}, {"id": "forged\n  b = other", "text": text},
               {"id": "\x1b[31mred", "text": text}]  # fmt: skip
    path = write_jsonl(tmp_path / "in.jsonl", records)
    report = run_cli(str(path)).stdout
    assert "forged\\u000a  b = other" in report and "\\u001b[31mred" in report
    assert "\x1b" not in report and "\n  b = other" not in report
    rows = list(csv.reader(io.StringIO(run_cli(str(path), "--format", "csv").stdout)))
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows[1:] for cell in row[:2])
    assert '\'=HYPERLINK("http://x")' in [cell for row in rows for cell in row[:2]]


def test_an_integer_id_and_its_string_are_one_id(tmp_path):
    path = write_jsonl(
        tmp_path / "in.jsonl", [{"id": 1, "text": "some words"}, {"id": "1", "text": "other words"}]
    )
    one_line_error(run_cli(str(path)), "in.jsonl:2: duplicate id '1' (the same as 1 when printed)")


# 10. -o --------------------------------------------------------------------------------------------------


def test_the_output_file_is_checked_before_the_run_and_never_an_input(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text(fixture_texts()[SEED_A], encoding="utf-8")
    one_line_error(run_cli(str(article), "-o", str(article)), "would overwrite or join the input")
    assert article.read_text(encoding="utf-8") == fixture_texts()[SEED_A]
    started = time.monotonic()
    one_line_error(run_cli(str(FIXTURES), "-o", str(tmp_path / "missing" / "out.json")), "no directory")
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    ("name", "first"),
    [("out.csv", "a,b,kind"), ("out.json", "{"), ("out.jsonl", '{"record": "run"'), ("out.txt", "dedup ")],
)
def test_the_format_follows_the_output_suffix(tmp_path, name, first):
    assert run_cli(str(FIXTURES), "-o", str(tmp_path / name)).returncode == 0
    assert (tmp_path / name).read_text(encoding="utf-8").startswith(first)


def test_a_full_disk_on_stdout_is_one_line():
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "dedup", str(FIXTURES)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert proc.returncode == 2
    assert proc.stderr == "dedup: error: cannot write to standard output: No space left on device\n"


# 12. small ones ---------------------------------------------------------------------------------------------


def test_one_article_is_singular_and_explain_is_refused_for_csv():
    assert "1 article compared, 0 story groups, 0 pairs" in run_cli(str(FIXTURES / SEED_A)).stdout
    one_line_error(
        run_cli(str(FIXTURES), "--explain", "--format", "csv"), "--explain shows paragraphs in text, json"
    )


# 13. what an analyst looks for ------------------------------------------------------------------------------


def test_metadata_columns_reach_every_format(tmp_path):
    texts = fixture_texts()
    records = [{"id": k, "text": v, "title": f"Title of {k[:3]}", "outlet": "AA" if k == SEED_A else "Daily"}
               for k, v in texts.items()]  # fmt: skip
    path = write_jsonl(tmp_path / "in.jsonl", records)
    assert "a = 000_b0707d4a85524ca5.txt  (title: Title of 000, outlet: AA)" in run_cli(str(path)).stdout
    data = json.loads(run_cli(str(path), "--format", "json").stdout)
    assert data["articles"][0] == {"id": SEED_A, "meta": {"title": "Title of 000", "outlet": "AA"}}
    rows = list(csv.DictReader(io.StringIO(run_cli(str(path), "--format", "csv").stdout)))
    assert (rows[0]["b_title"], rows[0]["b_outlet"], rows[0]["a_outlet"]) == ("Title of 001", "Daily", "AA")
    records = [json.loads(x) for x in run_cli(str(path), "--format", "jsonl").stdout.splitlines()]
    assert [r["id"] for r in records if r["record"] == "article"] == [SEED_A, SEED_B]


def test_only_lists_one_articles_pairs(tmp_path):
    texts = {**fixture_texts(), "copy.txt": fixture_texts()["002_828ae448a2a84eb5.txt"]}
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    data = json.loads(run_cli(str(tmp_path), "--format", "json", "--only", SEED_B).stdout)
    assert [(p["a"], p["b"]) for p in data["pairs"]] == [(SEED_A, SEED_B)]
    assert data["summary"]["pairs"] == 2  # the whole run's counts


def test_json_arrays_and_gzip_files_are_read(tmp_path):
    records = [{"id": k, "text": v} for k, v in fixture_texts().items()]
    (tmp_path / "in.json").write_text(json.dumps(records), encoding="utf-8")
    (tmp_path / "in.jsonl.gz").write_bytes(
        gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode())
    )
    (tmp_path / "bad.jsonl.gz").write_bytes(b"not gzip at all")
    for name in ("in.json", "in.jsonl.gz"):
        proc = run_cli(str(tmp_path / name), "--format", "json")
        assert [(p["a"], p["b"]) for p in json.loads(proc.stdout)["pairs"]] == [(SEED_A, SEED_B)], name
    one_line_error(run_cli(str(tmp_path / "bad.jsonl.gz")), "bad.jsonl.gz: cannot read")


def test_explain_on_chinese_marks_one_character_and_keeps_its_columns(tmp_path):
    import wcwidth
    from test_tokens import REPUBLISHED, WIRE

    (tmp_path / "wire.txt").write_text("\n\n".join(WIRE), encoding="utf-8")
    (tmp_path / "paper.txt").write_text("\n\n".join(REPUBLISHED), encoding="utf-8")
    report = run_cli(str(tmp_path), "--explain").stdout
    # the paper (a) wrote 周六 where the wire (b) wrote 星期六: one character each side differs
    assert "[-周-]" in report and "{+星+} {+期+}" in report
    assert "[-土耳其" not in report  # the rest of the paragraph is not marked
    side_by_side = [line for line in report.splitlines() if " | " in line]
    assert side_by_side and {wcwidth.wcswidth(line.split(" | ")[0]) for line in side_by_side} == {8 + 52}


def test_a_huge_line_inside_a_huge_line_does_not_stall_alignment():
    # found by the fuzzer: partial_ratio of a 30 KB unit inside a 60 KB one took minutes
    from dedup import align

    rng = random.Random(3)
    vocabulary = [
        f"w{k}" for k in range(200)
    ]  # the same words, in other orders: the cheap filter lets them by
    a = "\n\n".join(" ".join(rng.choices(vocabulary, k=600)) for _ in range(4))
    b = "\n\n".join(" ".join(rng.choices(vocabulary, k=12000)) for _ in range(2))
    started = time.monotonic()
    result = align(a, b)
    assert time.monotonic() - started < 1  # 4.3 s before the limits; the fuzzer's case took minutes
    assert (result.matches, result.a_inside_b, result.only_a) == ((), (), (0, 1, 2, 3))

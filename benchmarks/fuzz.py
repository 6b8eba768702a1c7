"""Fuzzing harness: hostile article texts and input files against the library and the command.

Properties checked on every generated case:

- the library (``find_duplicates``) raises nothing but ``DedupError``; its JSON is valid UTF-8 and
  byte-identical when the same articles come in another order;
- the command (``dedup.cli.main``, in this process, its stdout a strict UTF-8 stream) exits 0 or 2,
  never 3 (an internal error) and never with a traceback; on 2 it prints exactly one line; on 0
  its report is valid UTF-8 (and valid JSON for ``--format json``).

Texts mix real words of many scripts with control and format characters, lone surrogates, HTML
entities, long lines and runs of punctuation; collections hold copies and edited copies so that
alignment runs. Files are JSONL, JSON arrays, CSV, ``.txt`` folders and gzip, then corrupted
(bytes flipped, cut short, invalid UTF-8, NUL, BOM, UTF-16, CR line ends).

``python benchmarks/fuzz.py --minutes 30`` runs until the time is up and reports what it tried;
the test suite runs a short profile of the same properties (``tests/test_fuzz.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup import DedupError, find_duplicates
from dedup.cli import main as cli_main

WORDS = [
    "minister", "talks", "Moscow", "Syria", "said", "U.S.", "AOL.For", "said.The", "Straße", "ﬁle", "ＡＢＣ",
    "Москва", "переговоры", "وزیرِ", "خارجہ", "اَلْعَرَبِيَّةُ", "हिन्दी", "தமிழ்நாடு", "ਪੰਜਾਬੀ", "ગુજરાતી", "বাংলা",
    "שָׁלוֹם", "北京大学", "コーヒー", "ภาษาไทย", "한국어", "ελληνικά", "🚨", "🏴\U000e0067\U000e0062\U000e007f",
]  # fmt: skip
NASTY = [
    "\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\ufeff", "\u202e", "\u061c", "\x00", "\x1a", "\x19",
    "\x1b[31m", "\r", "\r\n", "\n\n", "\t", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029", "\ud800",
    "\udfff", "&amp;", "&#10;", "&#x1a;", "&NewLine;", "&amp;amp;", "&", ";", "۔", "।", "。", "!", "?", ". ",
    "...", "—", "’", "\u0301", "\ue000", "\U0010ffff",
]  # fmt: skip

pieces = (
    st.sampled_from(WORDS)
    | st.sampled_from(NASTY)
    | st.sampled_from([" ", " ", " ", "\n"])
    | st.characters()  # anything, surrogates included
    | st.builds(lambda w, n: (w + " ") * n, st.sampled_from(WORDS), st.integers(50, 3000))  # long lines
)
texts = st.lists(pieces, max_size=120).map("".join)
ids = st.one_of(
    st.integers(-5, 10**6), st.text(max_size=12), st.sampled_from(["1", "=SUM(A1)", "a\nb", "x\udc80"])
)


@st.composite
def collections(draw: st.DrawFn) -> list[tuple[Any, str]]:
    """Articles, some of them copies or edited copies of others, with unique printed ids."""
    base = draw(st.lists(texts, min_size=1, max_size=6))
    articles = list(base)
    for _ in range(draw(st.integers(0, 4))):
        source = draw(st.sampled_from(base))
        cut = draw(st.integers(0, len(source)))
        articles.append(
            draw(st.sampled_from([source, source[:cut] + draw(texts) + source[cut:], source.upper()]))
        )
    chosen = draw(st.lists(ids, min_size=len(articles), max_size=len(articles), unique_by=str))
    return list(zip(chosen, articles, strict=True))


SLOW_SECONDS = 60
"""A case that takes longer than this is a finding too (a hostile input must not stall a run)."""


def check_library(items: list[tuple[Any, str]], order_seed: int) -> str:
    """The library's properties; returns what happened ("ok" or the error class)."""
    started = time.monotonic()
    try:
        reference = find_duplicates(items).to_json()
    except DedupError as error:
        return type(error).__name__
    reference.encode("utf-8")  # valid UTF-8, or UnicodeEncodeError fails the case
    shuffled = items[:]
    random.Random(order_seed).shuffle(shuffled)
    assert find_duplicates(shuffled, workers=1).to_json() == reference, "order changed the result"
    assert time.monotonic() - started < SLOW_SECONDS, f"slow: {time.monotonic() - started:.0f} s"
    return "ok"


def write_inputs(
    folder: Path, items: list[tuple[Any, str]], kind: str, damage: str, rng: random.Random
) -> Path:
    """The articles as one input of ``kind``, then damaged."""
    records = [{"id": i, "text": t, "title": f"t{n}"} for n, (i, t) in enumerate(items)]
    if kind == "txt-folder":
        root = folder / "in"
        root.mkdir()
        for n, (_, text) in enumerate(items):
            (root / f"{n:03d}.txt").write_bytes(text.encode("utf-8", "surrogatepass"))
        path = root / "000.txt"
    else:
        name = {"jsonl": "in.jsonl", "json": "in.json", "csv": "in.csv", "jsonl.gz": "in.jsonl.gz"}[kind]
        if kind == "csv":
            out = io.StringIO()
            import csv

            writer = csv.DictWriter(out, ["id", "text", "title"])
            writer.writeheader()
            writer.writerows(records)
            data = out.getvalue().encode("utf-8", "surrogatepass")
        elif kind == "json":
            data = json.dumps(records).encode("utf-8")
        else:
            data = "".join(json.dumps(r) + "\n" for r in records).encode("utf-8")
        path = folder / name
        path.write_bytes(gzip.compress(data) if kind.endswith(".gz") else data)
    _damage(path, damage, rng)
    return path.parent if kind == "txt-folder" else path


def _damage(path: Path, damage: str, rng: random.Random) -> None:
    data = path.read_bytes()
    if damage == "none" or not data:
        return
    at = rng.randrange(len(data))
    data = {
        "flip": data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1 :],
        "cut": data[:at],
        "invalid-utf8": data[:at] + b"\xff\xfe\xc3" + data[at:],
        "nul": data[:at] + b"\x00" + data[at:],
        "bom": b"\xef\xbb\xbf" + data,
        "utf16": data.decode("utf-8", "replace").encode("utf-16"),
        "cr": data.replace(b"\n", b"\r"),
    }[damage]
    path.write_bytes(data)


def check_command(args: list[str]) -> str:
    """The command's properties for one run; returns its exit code as text."""
    raw_out, raw_err = io.BytesIO(), io.StringIO()
    stdout = io.TextIOWrapper(raw_out, encoding="utf-8", errors="strict")
    started = time.monotonic()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(raw_err):
        code = cli_main(args)
        stdout.flush()
    assert time.monotonic() - started < SLOW_SECONDS, f"slow: {time.monotonic() - started:.0f} s"
    err = raw_err.getvalue()
    assert code in (0, 2), f"exit {code}: {err}"
    assert "Traceback" not in err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("dedup: error: "), err
        return "2"
    report = raw_out.getvalue().decode("utf-8")
    if "--format" in args and args[args.index("--format") + 1] == "json":
        json.loads(report)
    assert all(line.startswith("dedup: note: ") for line in err.splitlines()), err
    return "0"


KINDS = ["jsonl", "json", "csv", "txt-folder", "jsonl.gz"]
DAMAGES = ["none", "none", "flip", "cut", "invalid-utf8", "nul", "bom", "utf16", "cr"]
FORMATS = ["text", "json", "jsonl", "csv"]


def library_property(tally: Counter[str]) -> Any:
    @given(collections(), st.integers(0, 1000))
    def run(items: list[tuple[Any, str]], order_seed: int) -> None:
        tally[f"library:{check_library(items, order_seed)}"] += 1
        tally["texts"] += len(items)
        tally["characters"] += sum(len(t) for _, t in items)

    return run


def command_property(tally: Counter[str]) -> Any:
    @given(collections(), st.sampled_from(KINDS), st.sampled_from(DAMAGES), st.sampled_from(FORMATS),
           st.booleans(), st.booleans(), st.integers(0, 2**32))  # fmt: skip
    def run(items: list[tuple[Any, str]], kind: str, damage: str, fmt: str, explain: bool, skip_empty: bool,
            seed: int) -> None:  # fmt: skip
        with tempfile.TemporaryDirectory() as folder:
            path = write_inputs(Path(folder), items, kind, damage, random.Random(seed))
            args = [str(path), "--format", fmt, "--workers", "1"]
            args += ["--explain"] * (explain and fmt != "csv") + ["--skip-empty"] * skip_empty
            tally[f"command:{kind}:{damage}:exit {check_command(args)}"] += 1

    return run


def run_for(minutes: float, examples: int = 100) -> Counter[str]:
    """Both properties, in rounds of ``examples`` fresh cases each, until the time is up."""
    tally: Counter[str] = Counter()
    config = settings(max_examples=examples, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))  # fmt: skip
    library, command = config(library_property(tally)), config(command_property(tally))
    stop = time.monotonic() + minutes * 60
    while True:
        library()
        command()
        tally["rounds"] += 1
        if time.monotonic() >= stop:
            return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=1.0, help="how long to run (default 1)")
    parser.add_argument("--examples", type=int, default=100, help="cases per property per round")
    parser.add_argument("--json", type=Path, help="write what was tried as JSON here")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        tally = run_for(args.minutes, args.examples)
    except Exception as error:  # a property failed: Hypothesis has printed the shrunk case
        print(f"fuzz: FOUND a failure after {time.monotonic() - started:.0f} s: {type(error).__name__}: {error}",
              file=sys.stderr)  # fmt: skip
        return 1
    summary = {
        "minutes": round((time.monotonic() - started) / 60, 1),
        "found": 0,
        **dict(sorted(tally.items())),
    }
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The ``dedup`` command: a thin boundary that parses options, calls the library and prints.

Exit codes:
    0  the run completed (whether or not duplicates were found)
    1  duplicates were found and ``--fail-on-duplicates`` was given
    2  bad input or bad options: one line on stderr names the file, line or id and the problem
    3  an unexpected internal error (one line; set DEDUP_DEBUG=1 for the traceback)
  130  interrupted
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .config import DedupConfig
from .errors import DedupError
from .pipeline import find_duplicates
from .reading import read_inputs
from .report import render

EXIT_OK, EXIT_FOUND, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
_DEFAULTS = DedupConfig()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_INPUT, f"dedup: error: {message} (see dedup --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dedup",
        description="Find near-duplicate news articles and show, paragraph by paragraph, what they share.",
        epilog="Exit codes: 0 done, 1 duplicates found with --fail-on-duplicates, 2 bad input or "
        "options, 3 internal error, 130 interrupted.",
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH",
        help="a directory of .txt files (recursive; id = relative path), a .txt, .jsonl or .csv "
        "file, or - for JSON Lines on stdin",
    )  # fmt: skip
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=("text", "json", "jsonl", "csv"), default="text",
                     help="report format (default: text, a readable report)")  # fmt: skip
    out.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    out.add_argument("--explain", action="store_true",
                     help="text format: show each pair's paragraphs side by side, differing words marked")  # fmt: skip
    out.add_argument("--workers", type=int, default=None, metavar="N",
                     help="processes to use (default: all cores for large inputs; never changes the result)")  # fmt: skip
    out.add_argument("--fail-on-duplicates", action="store_true", help="exit with 1 when any pair is found")
    out.add_argument("--version", action="version", version=f"dedup {__version__}")
    inp = parser.add_argument_group("input")
    inp.add_argument("--id-field", default="id", help="JSONL/CSV field holding the id (default: id)")
    inp.add_argument("--text-field", default="text", help="JSONL/CSV field holding the text (default: text)")
    inp.add_argument("--skip-empty", action="store_true",
                     help="skip articles with no words (listed in the report) instead of failing")  # fmt: skip
    det = parser.add_argument_group("detection (defaults are the library's)")
    det.add_argument(
        "--preset", choices=("default", "reuse"), default="default",
        help="starting settings: default (copies, republications, containment) or reuse (rewritten "
        "stories; slower, for thousands of articles); the options below override it",
    )  # fmt: skip
    for name, kind, text in (
        ("shingle_size", int, "words per shingle"),
        ("num_perm", int, "MinHash permutations"),
        ("seed", int, "MinHash seed"),
        ("candidate_threshold", float, "Jaccard threshold the LSH bands are tuned for"),
        ("anchor_max_docs", int, "a sentence shared by more articles is not a candidate anchor"),
        ("min_candidate_containment", float, "candidates below this shingle containment are not aligned"),
        ("paragraph_threshold", float, "score at which two paragraphs match"),
        ("duplicate_threshold", float, "coverage for near_duplicate / contained"),
        ("partial_threshold", float, "coverage of one side for partial"),
        ("min_paragraph_chars", int, "shorter paragraphs are ignored"),
        ("boilerplate_min_docs", int, "articles a line must recur in to be boilerplate"),
    ):
        det.add_argument(
            "--" + name.replace("_", "-"), type=kind, default=None,
            metavar="N" if kind is int else "X", help=f"{text} (default: {getattr(_DEFAULTS, name)})",
        )  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="dedup: %(message)s")
    try:
        return _run(args)
    except DedupError as error:
        print(f"dedup: error: {error}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("dedup: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the one place that turns a bug into one line
        if os.environ.get("DEDUP_DEBUG"):
            raise
        print(f"dedup: internal error: {type(error).__name__}: {error} (DEDUP_DEBUG=1 shows more)",
              file=sys.stderr)  # fmt: skip
        return EXIT_INTERNAL


def _run(args: argparse.Namespace) -> int:
    given = {n: getattr(args, n) for n in DedupConfig.option_names() if getattr(args, n) is not None}
    config = DedupConfig.reuse(**given) if args.preset == "reuse" else DedupConfig(**given)
    collection = read_inputs(args.paths, id_field=args.id_field, text_field=args.text_field)
    result = find_duplicates(
        collection.articles,
        config=config,
        on_empty="skip" if args.skip_empty else "error",
        progress=sys.stderr.isatty(),
        workers=args.workers,
    )
    if collection.skipped:
        result = result.with_skipped(collection.skipped)
    texts = {a.id: a.text for a in collection.articles}
    report = render(result, args.format, texts=texts, explain=args.explain)
    if args.output:
        try:
            Path(args.output).write_text(report, encoding="utf-8")
        except OSError as error:
            print(f"dedup: error: {args.output}: cannot write: {error.strerror or error}", file=sys.stderr)
            return EXIT_INPUT
    else:
        sys.stdout.write(report)
    return EXIT_FOUND if args.fail_on_duplicates and result.pairs else EXIT_OK

"""The ``dedup`` command: a thin boundary that parses options, calls the library and prints.

Exit codes:
    0  the run completed (whether or not duplicates were found)
    1  duplicates were found and ``--fail-on-duplicates`` was given
    2  bad input or bad options: one line on stderr names the file, line or id and the problem
    3  an unexpected internal error (one line; set DEDUP_DEBUG=1 for the traceback)
  130  interrupted (SIGINT, Ctrl-C)
  143  terminated (SIGTERM)

On SIGINT or SIGTERM the command prints one line, stops its worker processes and exits at once;
the ``-o`` file is written to a temporary name and renamed when complete, so an interrupted run
never leaves a partial report.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any, Literal

from . import __version__
from .archive import ArchivedTexts, Index
from .config import PRESETS, DedupConfig
from .errors import DedupError
from .pipeline import find_duplicates
from .reading import Inputs
from .report import render
from .results import DedupResult
from .store import StoredTexts

EXIT_OK, EXIT_FOUND, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}
FORMATS = ("text", "json", "jsonl", "csv", "html")
FORMAT_OF_SUFFIX = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".html": "html"}
_DEFAULTS = DedupConfig()
_pending_output: list[Path] = []  # temporary files to remove if the run is stopped


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_INPUT, f"dedup: error: {message} (see dedup --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dedup",
        description="Find near-duplicate news articles and show, paragraph by paragraph, what they share. "
        "(dedup index --help: keep an archive and check new articles against it.)",
        epilog="Exit codes: 0 done, 1 duplicates found with --fail-on-duplicates, 2 bad input or "
        "options, 3 internal error, 130 interrupted, 143 terminated.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help=PATHS_HELP)
    _report_options(parser)
    parser.add_argument("--version", action="version", version=f"dedup {__version__}")
    _input_options(parser)
    engine = parser.add_argument_group("engine")
    engine.add_argument("--engine", choices=("local", "spark"), default="local",
                        help="local: this machine's cores; spark: Apache Spark (pip install 'newsdedup[spark]' and a "
                        "Java runtime; PATH: .jsonl, .json, .parquet or .csv files Spark can read)")  # fmt: skip
    engine.add_argument("--spark-master", default="local[*]", metavar="URL",
                        help="the Spark master for --engine spark (default: local[*]); with it, -o DIR (a path "
                        "without a suffix) writes Parquet tables DIR/pairs and DIR/groups and DIR/run.json")  # fmt: skip
    _detection_options(parser)
    return parser


PATHS_HELP = (
    "a directory of .txt files (recursive, links followed; id = relative path), a .txt, .jsonl, .json "
    "(an array), .csv or .parquet file, each but .parquet also gzip-compressed (.gz), or - for JSON Lines on stdin"
)


def _report_options(parser: argparse.ArgumentParser) -> None:
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=FORMATS, default=None,
                     help="report format (default: from the -o file's suffix .json/.jsonl/.csv, else text)")  # fmt: skip
    out.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    out.add_argument("--explain", action="store_true",
                     help="show each pair's paragraphs: side by side in text, with texts and offsets in json/jsonl")  # fmt: skip
    out.add_argument("--only", action="append", metavar="ID",
                     help="report only the pairs and story groups of this article (repeatable)")  # fmt: skip
    out.add_argument("--workers", type=int, default=None, metavar="N",
                     help="processes to use (default: all cores for large inputs; never changes the result)")  # fmt: skip
    out.add_argument("--fail-on-duplicates", action="store_true", help="exit with 1 when any pair is found")


def _input_options(parser: argparse.ArgumentParser) -> None:
    inp = parser.add_argument_group("input")
    inp.add_argument("--id-field", default="id", help="JSONL/CSV field holding the id (default: id)")
    inp.add_argument("--text-field", default="text", help="JSONL/CSV field holding the text (default: text)")
    inp.add_argument("--skip-empty", action="store_true",
                     help="skip articles with no words (listed in the report) instead of failing")  # fmt: skip


def _detection_options(parser: argparse.ArgumentParser) -> None:
    det = parser.add_argument_group("detection (defaults are the library's)")
    det.add_argument(
        "--preset", choices=PRESETS, default="default",
        help="starting settings: default (copies, republications, containment), reuse (rewritten "
        "stories; slower, for thousands of articles) or ocr (scanned newspapers, each copy OCR'd on "
        "its own); the options below override it",
    )  # fmt: skip
    det.add_argument(
        "--semantic", action="store_const", const=True, default=None,
        help="also find stories reworded from one another (sentence embeddings; needs "
        "pip install 'newsdedup[semantic]'; thousands of articles, not millions)",
    )  # fmt: skip
    for name, kind, text in (
        ("shingle_size", int, "words per shingle"),
        ("num_perm", int, "MinHash permutations"),
        ("seed", int, "MinHash seed"),
        ("candidate_threshold", float, "Jaccard threshold the LSH bands are tuned for"),
        ("anchor_max_docs", int, "a sentence shared by more articles pairs each only with its next 4 by id"),
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


def build_index_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dedup index",
        description="Keep an archive of articles (an SQLite file, or redis://host:port/db for a Redis "
        "server) and check new articles against everything in it.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name, text in (("add", "store articles; report their pairs with the archive and among themselves"),
                       ("query", "the same report; nothing is stored")):  # fmt: skip
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument(
            "archive", metavar="ARCHIVE", help="archive file (created by the first add) or redis:// URL"
        )
        command.add_argument("paths", nargs="+", metavar="PATH", help=PATHS_HELP)
        if name == "add":
            command.add_argument("--replace", action="store_true",
                                 help="an id already archived with another text replaces it (else an error)")  # fmt: skip
        _report_options(command)
        _input_options(command)
        _detection_options(command)
    remove = commands.add_parser("remove", help="forget articles by id")
    remove.add_argument("archive", metavar="ARCHIVE")
    remove.add_argument("ids", nargs="+", metavar="ID")
    stats = commands.add_parser("stats", help="counts, size and settings of an archive")
    stats.add_argument("archive", metavar="ARCHIVE")
    stats.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    index = bool(argv) and argv[0] == "index" and not Path("index").exists()
    args = build_index_parser().parse_args(argv[1:]) if index else build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="dedup: %(message)s")
    previous = {sig: signal.signal(sig, _stop) for sig in EXIT_SIGNAL}
    try:
        return _run_index(args) if index else _run(args)
    except DedupError as error:
        print(f"dedup: error: {error}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("dedup: interrupted", file=sys.stderr)
        return EXIT_SIGNAL[signal.SIGINT]
    except Exception as error:  # the one place that turns a bug into one line
        if os.environ.get("DEDUP_DEBUG"):
            raise
        print(f"dedup: internal error: {type(error).__name__}: {error} (DEDUP_DEBUG=1 shows more)",
              file=sys.stderr)  # fmt: skip
        return EXIT_INTERNAL
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop(signum: int, frame: FrameType | None) -> None:
    """SIGINT / SIGTERM: one line, no partial output, worker processes stopped, exit at once."""
    for path in _pending_output:
        path.unlink(missing_ok=True)
    for child in multiprocessing.active_children():
        child.kill()
    word = "interrupted" if signum == signal.SIGINT else "terminated"
    os.write(2, f"dedup: {word}\n".encode())
    os._exit(EXIT_SIGNAL[signal.Signals(signum)])


def _run(args: argparse.Namespace, index: Index | None = None) -> int:
    """The report of ``dedup PATH...``, or of ``dedup index add|query`` on ``index``."""
    fmt = args.format or FORMAT_OF_SUFFIX.get(Path(args.output or "").suffix.lower(), "text")
    if args.explain and fmt == "csv":
        raise DedupError("--explain shows paragraphs in text, json and jsonl reports, not in csv")
    tables = getattr(args, "engine", "local") == "spark" and args.output and not Path(args.output).suffix
    if args.output and not tables:
        _check_output(Path(args.output), args.paths)
    elif tables:
        from .spark import check_tables_target

        check_tables_target(args.output)
    inputs = Inputs(args.paths, id_field=args.id_field, text_field=args.text_field)
    texts = StoredTexts()  # the texts --explain shows, kept on disk as the input streams past
    try:
        articles = texts.tee(inputs) if args.explain or fmt == "html" else iter(inputs)
        on_empty: Literal["skip", "error"] = "skip" if args.skip_empty else "error"
        if index is None and getattr(args, "engine", "local") == "spark":
            result = _on_spark(args, on_empty)
        elif index is None:
            result = find_duplicates(articles, config=_config(args), progress=sys.stderr.isatty(),
                                     on_empty=on_empty, workers=args.workers)  # fmt: skip
        elif args.command == "add":
            result = index.add(articles, replace=args.replace, on_empty=on_empty)
        else:
            result = index.query(articles, on_empty=on_empty)
        result = result.with_skipped(inputs.skipped)
        if result.summary.compared == 0:
            print(f"dedup: note: no articles to compare in {', '.join(args.paths)}", file=sys.stderr)
        if args.only:
            result = result.only(args.only)
        shown = texts if index is None else ArchivedTexts(texts, index)
        if tables:  # --engine spark -o DIR: Parquet tables written by Spark
            from . import spark

            spark.write_tables(result, spark.session(args.spark_master), args.output)
            print(f"dedup: wrote {len(result.pairs)} pairs and {len(result.clusters)} story groups to "
                  f"{args.output}/pairs, {args.output}/groups (Parquet) and {args.output}/run.json", file=sys.stderr)  # fmt: skip
        else:
            _write(render(result, fmt, texts=shown, explain=args.explain or fmt == "html"), args.output)
    except DedupError as error:
        hint = " (--skip-empty skips such articles)" if "is empty (no words)" in str(error) else ""
        raise DedupError(f"{error}{hint}") from None
    finally:
        texts.close()
    return EXIT_FOUND if args.fail_on_duplicates and result.pairs else EXIT_OK


def _on_spark(args: argparse.Namespace, on_empty: Literal["skip", "error"]) -> DedupResult:
    """``dedup PATH... --engine spark``: the files read by Spark, the result the local engine's."""
    from . import spark

    if args.explain:
        raise DedupError("--explain is not available with --engine spark (the texts stay on the cluster)")
    session = spark.session(args.spark_master)
    session.sparkContext.setLogLevel("ERROR")
    if all(spark.readable(p) for p in args.paths):  # files Spark reads itself (any size)
        data: Any = [str(Path(p).resolve()) for p in args.paths]
        id_column, text_column = args.id_field, args.text_field
    else:  # directories of .txt files, stdin, gzip: read here, as the local engine reads them
        inputs = Inputs(args.paths, id_field=args.id_field, text_field=args.text_field)
        data = session.createDataFrame([(a.id, a.text) for a in inputs], "id string, text string")
        id_column, text_column = "id", "text"
    return spark.find_duplicates(data, spark=session, config=_config(args), id_column=id_column,
                                 text_column=text_column, on_empty=on_empty)  # fmt: skip


def _config(args: argparse.Namespace) -> DedupConfig:
    given = {n: getattr(args, n) for n in DedupConfig.option_names() if getattr(args, n, None) is not None}
    return DedupConfig.preset(args.preset, **given)


def _run_index(args: argparse.Namespace) -> int:
    """``dedup index add|query|remove|stats ARCHIVE ...``."""
    given = args.command in ("add", "query") and (
        args.preset != "default"
        or any(getattr(args, n, None) is not None for n in DedupConfig.option_names())
    )
    config = _config(args) if given else None
    if args.command in ("add", "query"):  # a missing input is an error before an archive is made
        Inputs(args.paths, id_field=args.id_field, text_field=args.text_field)
    workers = getattr(args, "workers", None) or os.cpu_count() or 1
    with Index(args.archive, config, create=args.command == "add", workers=workers) as index:
        if args.command == "stats":
            stats = index.stats()
            if args.format == "json":
                print(json.dumps(stats, indent=2, sort_keys=True))
            else:
                print(f"{stats['location']}: {stats['articles']} articles, {stats['distinct_texts']} distinct texts, "
                      f"{stats['groups']} story groups, {stats['size_bytes']} bytes ({stats['backend']})")  # fmt: skip
                print("settings: " + ", ".join(f"{k}={v}" for k, v in stats["settings"].items()))
            return EXIT_OK
        if args.command == "remove":
            removed = index.remove(args.ids)
            print(
                f"dedup: removed {removed} article{'s' * (removed != 1)} from {args.archive}", file=sys.stderr
            )
            return EXIT_OK
        return _run(args, index)


def _check_output(path: Path, inputs: list[str]) -> None:
    """Refuse, before the run, an output file that cannot be written or is one of the inputs."""
    if path.is_dir():
        raise DedupError(f"{path}: cannot write the report: it is a directory")
    if not path.parent.is_dir():
        raise DedupError(f"{path}: cannot write the report: no directory {str(path.parent)!r}")
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise DedupError(f"{path}: cannot write the report: permission denied")
    for name in inputs:
        if name == "-" or not Path(name).exists():
            continue
        source = Path(name).resolve()
        target = path.resolve()
        if target == source or (
            source.is_dir() and target.suffix.lower() == ".txt" and source in target.parents
        ):
            raise DedupError(f"{path}: the report would overwrite or join the input {name}")


def _write(report: str, output: str | None) -> None:
    """The report to ``output`` (written whole, then renamed into place) or to stdout."""
    if not output:
        try:
            sys.stdout.write(report)
            sys.stdout.flush()
        except OSError as error:
            raise DedupError(f"cannot write to standard output: {error.strerror or error}") from None
        return
    target = Path(output)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    _pending_output.append(Path(temporary))
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(report)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as a plain open() would have made it
        os.replace(temporary, target)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise DedupError(f"{output}: cannot write: {error.strerror or error}") from None
    finally:
        _pending_output.remove(Path(temporary))

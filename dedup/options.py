"""The command's options: its two parsers (``dedup PATH...`` and ``dedup index ...``) and the
settings they name. Only the standard library and :mod:`dedup.config` are imported here, so that
``dedup --help`` and ``dedup --version`` answer without loading the engines."""

from __future__ import annotations

import argparse
from typing import Any

from .config import PRESETS, DedupConfig
from .formats import FORMATS

EXIT_INPUT = 2
_DEFAULTS = DedupConfig()
PATHS_HELP = (
    "a directory of .txt files (recursive, links followed; id = relative path), a .txt, .jsonl, .json "
    "(an array), .csv or .parquet file, each but .parquet also gzip-compressed (.gz), or - for JSON Lines on stdin"
)
# the settings with a flag of their own (the rest are for the library and presets)
FLAGS = (
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
    ("form_min_docs", int, "texts and fillings a numbered line's form needs to be a filled-in form (0: off)"),
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_INPUT, f"dedup: error: {message} (see dedup --help)\n")


def _version() -> str:
    from importlib.metadata import version

    return f"dedup {version('newsdedup')}"


def read_config_file(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """``--config FILE`` (TOML): its keys, named as the options (``shingle_size = 3``,
    ``keep-to = "kept.jsonl"``), become ``parser``'s defaults, so that a flag given overrides
    them; an unknown key or a bad value is one line naming the file and key."""
    import tomllib

    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    known, _ = pre.parse_known_args(argv)
    if not known.config:
        return
    try:
        with open(known.config, "rb") as stream:
            data = tomllib.load(stream)
    except OSError as error:
        parser.exit(
            EXIT_INPUT, f"dedup: error: {known.config}: cannot read the config file ({error.strerror})\n"
        )
    except tomllib.TOMLDecodeError as error:
        parser.exit(EXIT_INPUT, f"dedup: error: {known.config}: not valid TOML ({error})\n")
    actions = {
        a.dest: a for a in parser._actions if a.option_strings and a.dest not in ("help", "version", "config")
    }
    defaults = {}
    for key, value in data.items():
        action = actions.get(key.replace("-", "_"))
        try:
            if action is None:
                raise ValueError("no such option")
            if isinstance(action, argparse._StoreTrueAction | argparse._StoreConstAction):
                if not isinstance(value, bool):
                    raise ValueError("expected true or false")
                value = action.const if value else action.default
            elif isinstance(action, argparse._AppendAction):
                value = [str(v) for v in (value if isinstance(value, list) else [value])]
            elif action.type is not None and not isinstance(value, bool):
                value = action.type(value)  # type: ignore[operator]
            elif not isinstance(value, str):
                raise ValueError("expected a string")
            if action.choices and value not in action.choices:
                raise ValueError(f"choose from {', '.join(map(str, action.choices))}")
        except (TypeError, ValueError) as problem:
            parser.exit(EXIT_INPUT, f"dedup: error: {known.config}: {key} = {value!r}: {problem}\n")
        defaults[action.dest] = value
    parser.set_defaults(**defaults)


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE",
                        help="a TOML file of options (shingle_size = 3, keep = \"longest\", ...); flags given override it")  # fmt: skip


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
    parser.add_argument("--version", action="version", version=_version())
    _config_option(parser)
    _input_options(parser)
    engine = parser.add_argument_group("engine")
    engine.add_argument("--engine", choices=("local", "spark"), default="local",
                        help="local: this machine's cores; spark: Apache Spark (pip install 'newsdedup[spark]' and a "
                        "Java runtime; PATH: .jsonl, .json, .parquet or .csv files Spark can read)")  # fmt: skip
    engine.add_argument("--spark-master", default="local[*]", metavar="URL",
                        help="the Spark master for --engine spark (default: local[*])")  # fmt: skip
    engine.add_argument("--spark-conf", action="append", type=_spark_setting, default=[], metavar="KEY=VALUE",
                        help="a Spark setting for --engine spark, as spark-submit's --conf "
                        "(e.g. spark.driver.memory=1g; repeatable)")  # fmt: skip
    engine.add_argument("--workers", type=int, default=None, metavar="N",
                        help="processes to use (default: all cores for large inputs; never changes the result)")  # fmt: skip
    _corpus_options(parser)
    _detection_options(parser)
    return parser


def _spark_setting(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` of ``--spark-conf``, as a pair; a key that is not Spark's is refused."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip().startswith("spark."):
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE with a Spark key (spark.*)")
    return key.strip(), value.strip()


def _corpus_options(parser: argparse.ArgumentParser) -> None:
    corpus = parser.add_argument_group(
        "deduplicated corpus (the input records re-read and written back, every field kept)"
    )
    corpus.add_argument("--keep-to", metavar="KEPT",
                        help="write the records that stay to KEPT: .jsonl, .csv, .parquet, or a Hugging Face "
                        "dataset directory (a name without a suffix); no report is printed unless -o or --format asks")  # fmt: skip
    corpus.add_argument("--removed-to", metavar="FILE",
                        help="write each removed record with dedup_copy_of (the kept id), dedup_kind and dedup_coverage")  # fmt: skip
    corpus.add_argument("--drop", default="exact,near_duplicate,contained", metavar="KINDS",
                        help="the kinds of pair that remove an article (default: exact,near_duplicate,contained; "
                        "partial never does; a contained pair removes the article inside the other)")  # fmt: skip
    corpus.add_argument("--keep", default="representative", metavar="RULE",
                        help="which article of a set of copies stays: representative (of its story group), "
                        "longest, first (input order) or earliest:FIELD, e.g. earliest:date (default: representative)")  # fmt: skip
    corpus.add_argument("--annotate", action="store_true",
                        help="with --keep-to: keep every record, adding dedup_group, dedup_duplicate_of and dedup_kind")  # fmt: skip


def _report_options(parser: argparse.ArgumentParser) -> None:
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=tuple(FORMATS), default=None,
                     help="report format (default: from the -o file's suffix .json/.jsonl/.csv/.html; -o DIR "
                     "without a suffix: parquet tables DIR/pairs, DIR/groups and DIR/run.json; else text)")  # fmt: skip
    out.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    out.add_argument("--explain", action="store_true",
                     help="show each pair's paragraphs: side by side in text, with texts and offsets in json/jsonl")  # fmt: skip
    out.add_argument("--only", action="append", metavar="ID",
                     help="report only the pairs and story groups of this article (repeatable)")  # fmt: skip
    status = parser.add_argument_group("exit status")
    status.add_argument(
        "--fail-on-duplicates", action="store_true", help="exit with 1 when any pair is found"
    )


def _input_options(parser: argparse.ArgumentParser) -> None:
    inp = parser.add_argument_group("input")
    inp.add_argument("--id-field", default="id", help="JSONL/CSV field holding the id (default: id)")
    inp.add_argument("--text-field", default="text", help="JSONL/CSV field holding the text (default: text)")
    inp.add_argument("--strict", action="store_true",
                     help="an article with no words is an error (by default it is skipped, counted, named under "
                     "Skipped and in one note on stderr)")  # fmt: skip
    inp.add_argument("--skip-empty", action="store_true", help=argparse.SUPPRESS)  # the default now


def _detection_options(parser: argparse.ArgumentParser) -> None:
    det = parser.add_argument_group("detection (defaults are the library's)")
    det.add_argument(
        "--preset", choices=tuple(PRESETS), default="default",
        help="starting settings: default (copies, republications, containment), reuse (rewritten "
        "stories; slower, for thousands of articles) or ocr (scanned newspapers, each copy OCR'd on "
        "its own); the options below override it",
    )  # fmt: skip
    det.add_argument(
        "--no-detect-scans", dest="detect_scans", action="store_const", const=False, default=None,
        help="score every pair strictly: do not read articles with misread glyphs or print columns as "
        "scans (read so by default, each such pair scored tolerantly; --preset ocr scores every pair so)",
    )  # fmt: skip
    det.add_argument(
        "--semantic", action="store_const", const=True, default=None,
        help="also find stories reworded from one another (sentence embeddings; needs "
        "pip install 'newsdedup[semantic]'; thousands of articles, not millions)",
    )  # fmt: skip
    for name, kind, text in FLAGS:
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
        _config_option(command)
        _input_options(command)
        command.add_argument_group("engine").add_argument(
            "--workers", type=int, default=None, metavar="N",
            help="processes to use (default: all cores; never changes the result)",
        )  # fmt: skip
        _detection_options(command)
    remove = commands.add_parser("remove", help="forget articles by id", description="forget articles by id")
    remove.add_argument("archive", metavar="ARCHIVE", help="the archive file or redis:// URL")
    remove.add_argument("ids", nargs="+", metavar="ID", help="the id of an archived article (as printed)")
    check = commands.add_parser("check", help="find damaged articles (exit 1 if any)",
                                description="read every stored text back and run the store's own check; "
                                "exit 1 when anything is damaged (dedup index remove ARCHIVE ID drops an article)")  # fmt: skip
    check.add_argument("archive", metavar="ARCHIVE", help="the archive file or redis:// URL")
    check.add_argument("--format", choices=("text", "json"), default="text")
    stats = commands.add_parser("stats", help="counts, size and settings of an archive",
                                description="counts, size and settings of an archive")  # fmt: skip
    stats.add_argument("archive", metavar="ARCHIVE", help="the archive file or redis:// URL")
    stats.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def config_of(args: Any) -> DedupConfig:
    """The settings the options name: the preset, with each option given overriding it."""
    given = {n: getattr(args, n) for n in DedupConfig.option_names() if getattr(args, n, None) is not None}
    return DedupConfig.preset(args.preset, **given)


def build_serve_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dedup serve",
        description="Serve an archive over HTTP (JSON): GET /health, GET /stats, POST /query, POST /add "
        '(body {"articles": [{"id": ..., "text": ...}]}), DELETE /articles/ID. Set DEDUP_SERVE_TOKEN to '
        "require 'Authorization: Bearer TOKEN'. Stops on SIGTERM or Ctrl-C. Needs pip install 'newsdedup[serve]'.",
    )
    parser.add_argument(
        "archive", metavar="ARCHIVE", help="archive file (created if missing) or redis:// URL"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)"
    )
    parser.add_argument("--port", type=int, default=8750, help="port (default: 8750)")
    parser.add_argument("--max-bytes", type=int, default=32 * 1024 * 1024, metavar="N",
                        help="the largest request body accepted (default: 32 MiB)")  # fmt: skip
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="server processes answering at once, each with the archive open (default: 1)")  # fmt: skip
    parser.add_argument("--semantic", action="store_true",
                        help="every check also finds stories reworded from the archive's (sentence embeddings; "
                        "needs pip install 'newsdedup[semantic]')")  # fmt: skip
    return parser

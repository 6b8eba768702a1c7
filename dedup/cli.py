"""The ``dedup`` command: it parses options, calls the library and prints; nothing else.

Exit codes:
    0  the run completed (whether or not duplicates were found)
    1  duplicates were found and ``--fail-on-duplicates`` was given
    2  bad input or bad options: one line on stderr names the file, line or id and the problem
    3  an unexpected internal error (one line; set DEDUP_DEBUG=1 for the traceback)
  130  interrupted (SIGINT, Ctrl-C)
  143  terminated (SIGTERM)

The signal handlers are installed before anything else is imported, and the library is imported
only once the options are parsed, so ``dedup --help`` answers at once and a signal at any moment,
start-up included, ends the command with one line. A signal stops the run by an exception: the
executor stops its worker processes on the way out, and a report being written is never left
partial (:func:`dedup.formats.write_report`). ``dedup index ...`` always names the archive
commands (a directory called ``index`` is ``./index``).
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import Any, Literal

EXIT_OK, EXIT_FOUND, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Stopped(BaseException):
    """A signal asked the command to stop (raised from the handler, caught in :func:`main`)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


def main(argv: Sequence[str] | None = None) -> int:
    previous = {sig: signal.signal(sig, _stop) for sig in EXIT_SIGNAL}
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except BrokenPipeError:  # the reader stopped reading (dedup ... | head): nothing went wrong
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return EXIT_OK
    except (Stopped, KeyboardInterrupt) as stop:
        signum = stop.signum if isinstance(stop, Stopped) else signal.SIGINT
        print(f"dedup: {'interrupted' if signum == signal.SIGINT else 'terminated'}", file=sys.stderr)
        return EXIT_SIGNAL[signal.Signals(signum)]
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _main(argv: list[str]) -> int:
    from .errors import DedupError, EmptyArticleError
    from .options import build_index_parser, build_parser, build_serve_parser, read_config_file

    try:
        if argv[:1] == ["index"]:
            parser = build_index_parser()
            command = _subcommand(parser, argv[1:2])
            if command is not None:
                read_config_file(command, argv[2:])
            args = parser.parse_args(argv[1:])
        elif argv[:1] == ["serve"]:
            args = build_serve_parser().parse_args(argv[1:])
        else:
            parser = build_parser()
            read_config_file(parser, argv)
            args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version, or a usage error (already printed)
        return int(done.code or 0) if not isinstance(done.code, str) else EXIT_INPUT
    import logging
    import os

    logging.basicConfig(level=logging.WARNING, format="dedup: %(message)s")
    for handler in logging.getLogger().handlers:  # py4j logs a stopping JVM's every unanswered call,
        handler.addFilter(_not_py4j)  # with a traceback, on the root logger: the command says one line
    try:
        if argv[:1] == ["serve"]:
            return _serve(args)
        return _run_index(args) if argv[:1] == ["index"] else _run(args)
    except EmptyArticleError as error:
        print(f"dedup: error: {error} (without --strict such articles are skipped)", file=sys.stderr)
        return EXIT_INPUT
    except DedupError as error:
        print(f"dedup: error: {error}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:
        raise
    except Exception as error:  # the one place that turns a bug into one line
        if os.environ.get("DEDUP_DEBUG"):
            raise
        print(f"dedup: internal error: {type(error).__name__}: {error} (DEDUP_DEBUG=1 shows more)",
              file=sys.stderr)  # fmt: skip
        return EXIT_INTERNAL


def _not_py4j(record: Any) -> bool:
    """Whether a log record is not py4j's (Spark's bridge to its JVM)."""
    return "py4j" not in str(record.pathname)


def _subcommand(parser: Any, name: list[str]) -> Any:
    """The parser of ``dedup index NAME`` (``None`` for no such command)."""
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices.get(name[0]) if name else None
    return None


def _load_engines() -> None:
    """Import the engines with SIGINT and SIGTERM held back, then let a pending one through.

    A signal handled while a compiled extension initialises (numpy, scipy under datasketch)
    surfaces as a ``SystemError`` from the import rather than as the signal: held back, it arrives
    the moment the modules are loaded and ends the command as any other signal does."""
    held = {signal.SIGINT, signal.SIGTERM}
    mask = getattr(signal, "pthread_sigmask", None)
    previous = mask(signal.SIG_BLOCK, held) if mask else None
    try:
        from . import archive, formats, pipeline, reading, report, store  # noqa: F401
    finally:
        if mask and previous is not None:
            mask(signal.SIG_SETMASK, previous)


def _run(args: Any, index: Any = None) -> int:
    """The report of ``dedup PATH...``, or of ``dedup index add|query`` on ``index``."""
    from pathlib import Path

    _load_engines()

    from .errors import DedupError
    from .formats import check_output, check_tables_target, choose, render, write_report, write_tables
    from .reading import Inputs
    from .store import StoredTexts

    fmt = choose(args.format, args.output)
    if args.explain and not fmt.explains:
        raise DedupError(
            f"--explain shows paragraphs in text, json, jsonl and html reports, not in {fmt.name}"
        )
    if fmt.directory and not args.output:
        raise DedupError("--format parquet writes tables into a directory: give it with -o DIR")
    if fmt.directory:
        check_tables_target(args.output)
    elif args.output:
        check_output(Path(args.output), args.paths)
    policy = _corpus_policy(args)
    on_spark = _spark_corpus(args, policy)
    written_there = policy is None or on_spark is not None  # (else the command writes the corpus)
    if fmt.directory and getattr(args, "engine", "local") == "spark" and not args.only and written_there:
        return _spark_tables(args, on_spark)
    inputs = Inputs(args.paths, id_field=args.id_field, text_field=args.text_field)
    with StoredTexts() as texts:  # the texts a report explains, kept on disk as the input streams past
        explained = args.explain or fmt.always_explains
        articles = texts.tee(inputs) if explained else iter(inputs)
        result = _result(args, index, articles, on_spark).with_skipped(inputs.skipped)
        if result.summary.compared == 0:
            print(f"dedup: note: no articles to compare in {', '.join(args.paths)}", file=sys.stderr)
        elif result.skipped:
            _note_skipped(result.skipped)
        if policy is not None:
            _write_corpus(args, result, policy, on_spark)
            if not (args.output or args.format):
                return _exit(args, result)
        if args.only:
            result = result.only(args.only)
        if fmt.directory:
            write_tables(result, args.output)
            print(f"dedup: wrote {len(result.pairs)} pairs and {len(result.clusters)} story groups to "
                  f"{args.output}/pairs, {args.output}/groups (Parquet) and {args.output}/run.json", file=sys.stderr)  # fmt: skip
            return _exit(args, result)
        shown = texts if index is None else index.texts(texts)
        if explained and getattr(args, "engine", "local") == "spark":  # the texts stayed on the cluster
            shown = _shown_texts(args, result)
        report = render(result, fmt.name, texts=shown, explain=explained)
    if args.output:
        write_report(report, args.output)
    else:
        _print(report)
    return _exit(args, result)


def _spark_tables(args: Any, corpus: Any) -> int:
    """``-o DIR`` with ``--engine spark``: the tables (and the corpus) written by the executors."""
    from .options import config_of
    from .spark import write_tables_in

    on_empty: Literal["skip", "error"] = "error" if args.strict else "skip"
    result = write_tables_in(args.paths, args.output, master=args.spark_master, conf=dict(args.spark_conf),
                             config=config_of(args), id_field=args.id_field, text_field=args.text_field,
                             on_empty=on_empty, corpus=corpus)  # fmt: skip
    if result.skipped:
        _note_skipped(result.skipped)
    if corpus is not None:
        _written_note(args, corpus.written, corpus.policy)
    summary = result.summary
    print(f"dedup: wrote {summary.pairs} pairs and {summary.clusters} story groups to {args.output}/pairs, "
          f"{args.output}/groups (Parquet, by the Spark executors) and {args.output}/run.json", file=sys.stderr)  # fmt: skip
    return EXIT_FOUND if args.fail_on_duplicates and summary.pairs else EXIT_OK


def _note_skipped(skipped: Any) -> None:
    """One stderr line counting the articles skipped and naming up to three."""
    from .report import show_id

    names = ", ".join(show_id(s.id) for s in skipped[:3]) + ", ..." * (len(skipped) > 3)
    print(f"dedup: note: skipped {len(skipped)} (no words or not read): {names}", file=sys.stderr)


def _corpus_policy(args: Any) -> Any:
    """The ``--keep-to`` / ``--removed-to`` policy, checked before the run (``None`` without them)."""
    from pathlib import Path

    from .corpus import Policy, check_record_target
    from .errors import DedupError
    from .formats import check_output

    if not (getattr(args, "keep_to", None) or getattr(args, "removed_to", None)):
        if getattr(args, "annotate", False):
            raise DedupError("--annotate marks the records written by --keep-to: give --keep-to KEPT")
        return None
    if "-" in args.paths:
        raise DedupError("--keep-to and --removed-to read the input again: give files, not - (stdin)")
    policy = Policy.of(args.drop, args.keep)
    if _spark_corpus(args, policy) is not None:  # (checked there: the executors write it)
        return policy
    for target in filter(None, (args.keep_to, args.removed_to)):
        if check_record_target(target) != "dataset":  # (a missing package named before the run)
            check_output(Path(target), args.paths)
    return policy


def _spark_corpus(args: Any, policy: Any) -> Any:
    """The corpus the Spark executors write (:class:`dedup.spark_corpus.CorpusTarget`), checked
    before the run; ``None`` without ``--keep-to``/``--removed-to``, on the local engine, or for
    inputs the command reads itself (then it writes their corpus, as locally)."""
    if policy is None or getattr(args, "engine", "local") != "spark":
        return None
    from .spark import readable
    from .spark_corpus import CorpusTarget

    if not all(readable(p) for p in args.paths):
        return None
    target = CorpusTarget(policy, args.keep_to, args.removed_to, args.annotate, args.id_field, args.text_field,
                          tuple(args.paths))  # fmt: skip
    target.check()
    return target


def _write_corpus(args: Any, result: Any, policy: Any, on_spark: Any) -> None:
    from .corpus import record_of, write_corpus
    from .reading import Inputs

    def read() -> Any:
        inputs = Inputs(args.paths, id_field=args.id_field, text_field=args.text_field)
        return (record_of(a, args.id_field, args.text_field) for a in inputs)

    if on_spark is not None:  # written by the executors during the run
        _written_note(args, on_spark.written, policy)
        return
    done = write_corpus(read, result, policy, keep_to=args.keep_to, removed_to=args.removed_to,
                        annotate=args.annotate, id_field=args.id_field, text_field=args.text_field)  # fmt: skip
    _written_note(args, done, policy)


def _written_note(args: Any, done: Any, policy: Any) -> None:
    where = f" to {args.keep_to}" if args.keep_to else ""
    gone = f" (to {args.removed_to})" if args.removed_to else ""
    verb = "annotated" if args.annotate else "kept"
    print(f"dedup: {verb} {done.kept if not args.annotate else done.records:,} of {done.records:,} records{where}; "
          f"{done.removed:,} removed as copies{gone} (drop {','.join(policy.drop)}; keep {policy.keep})",
          file=sys.stderr)  # fmt: skip


def _shown_texts(args: Any, result: Any) -> dict[Any, str]:
    """The texts of the articles a Spark run's report shows (its pairs' and groups'), read again
    from the inputs: the only texts an explained report needs."""
    from .reading import Inputs
    from .run import shown_ids

    wanted = shown_ids(result.pairs, result.clusters)
    return {a.id: a.text for a in Inputs(args.paths, id_field=args.id_field, text_field=args.text_field)
            if a.id in wanted}  # fmt: skip


def _result(args: Any, index: Any, articles: Any, corpus: Any = None) -> Any:
    """Run the engine the options name."""
    on_empty: Literal["skip", "error"] = "error" if args.strict else "skip"
    if index is not None:
        if args.command == "add":
            return index.add(articles, replace=args.replace, on_empty=on_empty)
        return index.query(articles, on_empty=on_empty)
    from .options import config_of

    if args.engine == "spark":
        from .spark import find_duplicates_in

        return find_duplicates_in(args.paths, master=args.spark_master, conf=dict(args.spark_conf),
                                  config=config_of(args), id_field=args.id_field, text_field=args.text_field,
                                  on_empty=on_empty, corpus=corpus)  # fmt: skip
    from .pipeline import find_duplicates

    return find_duplicates(articles, config=config_of(args), progress=sys.stderr.isatty(), on_empty=on_empty,
                           workers=args.workers)  # fmt: skip


def _exit(args: Any, result: Any) -> int:
    return EXIT_FOUND if args.fail_on_duplicates and result.pairs else EXIT_OK


def _print(report: str) -> None:
    from .errors import DedupError

    try:
        sys.stdout.write(report)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as error:
        raise DedupError(f"cannot write to standard output: {error.strerror or error}") from None


def _serve(args: Any) -> int:
    """``dedup serve ARCHIVE``: until SIGTERM or Ctrl-C (the server shuts down cleanly, then the
    signal ends the command as any other: one line, 143 or 130)."""
    import os

    from .backends.redis import redact
    from .serve import serve

    token = os.environ.get("DEDUP_SERVE_TOKEN") or None
    print(f"dedup: serving {redact(args.archive)} on http://{args.host}:{args.port} with {args.workers} "
          f"process{'es' * (args.workers != 1)} ({'a bearer token is required' if token else 'no token'}; "
          "SIGTERM or Ctrl-C stops)", file=sys.stderr)  # fmt: skip
    serve(
        args.archive,
        host=args.host,
        port=args.port,
        token=token,
        max_bytes=args.max_bytes,
        workers=args.workers,
        semantic=args.semantic,
    )
    return EXIT_OK


def _run_index(args: Any) -> int:
    """``dedup index add|query|remove|stats ARCHIVE ...``."""
    import json
    import os

    _load_engines()
    from .archive import Index
    from .config import DedupConfig
    from .options import config_of
    from .reading import Inputs

    given = args.command in ("add", "query") and (
        args.preset != "default"
        or any(getattr(args, n, None) is not None for n in DedupConfig.option_names() if n != "semantic")
    )  # (--semantic is a choice of each run, not a setting the archive fixes)
    if args.command in ("add", "query"):  # a missing input is an error before an archive is made
        Inputs(args.paths, id_field=args.id_field, text_field=args.text_field)
    workers = getattr(args, "workers", None) or os.cpu_count() or 1
    with Index(
        args.archive,
        config_of(args) if given else None,
        create=args.command == "add",
        workers=workers,
        semantic=bool(getattr(args, "semantic", None)),
    ) as index:
        if args.command == "stats":
            stats = index.stats()
            if args.format == "json":
                print(json.dumps(stats, indent=2, sort_keys=True))
            else:
                from .report import count_of

                print(f"{stats['location']}: {count_of(stats['articles'], 'article')}, "
                      f"{count_of(stats['distinct_texts'], 'distinct text')}, {count_of(stats['groups'], 'story group')} "
                      f"(two articles or more), {stats['size_bytes']} bytes ({stats['backend']})")  # fmt: skip
                print("settings: " + ", ".join(f"{k}={v}" for k, v in stats["settings"].items()))
            return EXIT_OK
        if args.command == "check":
            found = index.check()
            if args.format == "json":
                print(json.dumps(found, indent=2, sort_keys=True, ensure_ascii=False))
            else:
                print(f"{found['location']}: {found['articles']} articles, {len(found['damaged'])} damaged")
                for line in found["problems"]:
                    print(f"  store: {line}")
                for item in found["damaged"]:
                    print(f"  {item['id']!r}: {item['reason']}")
            return 1 if found["damaged"] or found["problems"] else EXIT_OK
        if args.command == "remove":
            removed = index.remove(args.ids)
            print(
                f"dedup: removed {removed} article{'s' * (removed != 1)} from {args.archive}", file=sys.stderr
            )
            return EXIT_OK
        return _run(args, index)

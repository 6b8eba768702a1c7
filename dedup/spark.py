"""The same pipeline on Apache Spark: ``dedup.spark.find_duplicates(df_or_paths)``.

Every stage runs on the executors (:mod:`dedup.spark_stages`): sketching, exact copies,
boilerplate, candidate buckets, the MinHash estimate, the exact check and alignment (joins with
the texts), and the story groups (connected components, then the majority rule per component).
The driver keeps settings, counts and bounded sets (boilerplate lines, template sentences), and
gets the reported pairs and story groups back at the end, with the metadata of the articles they
show. The result equals the local engine's (tested).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

from .articles import WHERE, ArticleId, id_key
from .config import DedupConfig
from .errors import ConfigError, InputError
from .results import DedupResult
from .run import StageClock, run_params, shown_ids
from .spark_corpus import CorpusTarget, write_corpus
from .spark_stages import ranked, run_stages, write_tables

CHUNK = 512
READERS = {".jsonl": "json", ".ndjson": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


def session(master: str = "local[*]", **conf: str) -> Any:
    """A Spark session whose Python workers run this interpreter (so they import this dedup).

    A SIGINT handler of the caller's own (the command's) stays in place: pyspark's, installed with
    the session, cancels the jobs through the very py4j connection that the interrupted call is
    reading, and the run then ends on a garbled answer rather than on the interrupt."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError("the Spark engine needs pyspark: pip install 'newsdedup[spark]'") from None
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")  # (no pandas used)
    builder = SparkSession.builder.master(master).appName("dedup").config("spark.ui.enabled", "false")
    builder = builder.config("spark.ui.showConsoleProgress", "false")  # no progress bars on stderr
    for key, value in conf.items():
        builder = builder.config(key, value)
    caller = signal.getsignal(signal.SIGINT)
    try:
        with _jvm_output():
            return builder.getOrCreate()
    except Exception as error:  # no JRE: pyspark raises a bare exception about JAVA_HOME / java
        if "JAVA" in str(error).upper():
            raise ConfigError(
                "the Spark engine needs a Java runtime: apt-get install openjdk-17-jre-headless"
            ) from None
        raise
    finally:
        if (
            caller not in (None, signal.default_int_handler)
            and threading.current_thread() is threading.main_thread()
        ):
            signal.signal(signal.SIGINT, caller)


@contextlib.contextmanager
def _jvm_output() -> Iterator[None]:
    """While the session starts: this process's standard error (file descriptor 2) pointed at a
    log file, so the JVM started now keeps writing its own lines (start-up notices, WARN and INFO
    logs, Java traces) there for its whole life, not on the user's terminal — unless
    ``DEDUP_SPARK_LOGS=1``. The file is ``$TMPDIR/dedup-spark-UID.log``."""
    if os.environ.get("DEDUP_SPARK_LOGS"):
        yield
        return
    log = os.open(Path(tempfile.gettempdir()) / f"dedup-spark-{os.getuid()}.log",
                  os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)  # fmt: skip
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(log, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(log)


def readable(path: str | Path) -> bool:
    """Whether Spark reads ``path`` itself (JSON Lines, JSON, Parquet, CSV files)."""
    return Path(path).suffix.lower() in READERS and not Path(path).is_dir()


def frame(spark: Any, data: Any, id_column: str = "id", text_column: str = "text") -> Any:
    """``data`` (a DataFrame, or Spark-readable paths: JSON Lines, Parquet, CSV with a header) as a
    DataFrame of ``id``, ``text`` and the metadata columns, checked: both columns there, ids unique."""
    if isinstance(data, str | Path) or (
        isinstance(data, Sequence) and data and isinstance(data[0], str | Path)
    ):
        paths = [str(p) for p in ([data] if isinstance(data, str | Path) else data)]
        kinds = {READERS.get(Path(p.removesuffix(".gz")).suffix.lower()) for p in paths}
        if None in kinds or len(kinds) != 1:
            raise InputError(
                f"{', '.join(paths)}: the Spark engine reads .jsonl, .json, .parquet or .csv, one kind at a time"
            )
        kind = str(kinds.pop())
        reader = (
            spark.read.option("header", "true").option("multiLine", "true") if kind == "csv" else spark.read
        )
        if kind == "json":  # a malformed record is kept aside (not a row of nulls), to be named
            reader = reader.option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", _CORRUPT)
        data = getattr(reader, kind)(paths)
        if _CORRUPT in data.columns:
            _refuse_malformed(data)
    where = "the DataFrame"
    for column in (id_column, text_column):
        if column not in data.columns:
            raise InputError(f"{where}: no column {column!r} (columns: {', '.join(data.columns)})")
    if data.schema[text_column].dataType.typeName() != "string":
        raise InputError(f"{where}: column {text_column!r} must hold strings, it holds "
                         f"{data.schema[text_column].dataType.simpleString()} values")  # fmt: skip
    meta = [data[c] for c in data.columns if c not in (id_column, text_column, "id", "text")]
    df = data.select(data[id_column].alias("id"), data[text_column].alias("text"), *meta)
    repeated = df.groupBy("id").count().filter("count > 1").orderBy("id").limit(1).collect()
    if repeated:
        raise InputError(f"{where}: duplicate id {repeated[0]['id']!r}")
    nulls = df.filter(df["text"].isNull()).orderBy("id").limit(1).collect()
    if nulls:
        raise InputError(f"{where}: article {nulls[0]['id']!r}: the text is missing (null)")
    return df


_CORRUPT = "_dedup_malformed"


def _refuse_malformed(data: Any) -> None:
    """The first malformed JSON record (by file, then line) as one line naming its file and line,
    as the local reader names it: the line is found by reading that file (a local path) up to it."""
    from pyspark.sql import functions as F

    found = (  # (every column: Spark refuses a query of the malformed-record column alone)
        data.where(F.col(_CORRUPT).isNotNull())
        .select(F.input_file_name().alias("_dedup_file"), *data.columns)
        .orderBy("_dedup_file")
        .limit(1)
        .collect()
    )
    if not found:
        return
    file, record = found[0]["_dedup_file"], found[0][_CORRUPT]
    path = unquote(file.removeprefix("file://"))
    try:
        json.loads(record)
        reason = "not a JSON object"
    except json.JSONDecodeError as error:
        reason = f"not valid JSON ({error.msg} at column {error.colno})"
    where = path
    if Path(path).is_file():
        with open(path, encoding="utf-8", errors="replace") as handle:
            line = next((k for k, text in enumerate(handle, 1) if text.rstrip("\r\n") == record), None)
        where = f"{path}:{line}" if line else path
    raise InputError(f"{where}: {reason}")


def find_duplicates(
    data: Any, *, spark: Any = None, config: DedupConfig | None = None, id_column: str = "id",
    text_column: str = "text", on_empty: Literal["skip", "error"] = "skip", timings: dict[str, float] | None = None,
    tables: Path | None = None, corpus: CorpusTarget | None = None, **options: Any,
) -> DedupResult:  # fmt: skip
    """:func:`dedup.find_duplicates` on Spark: the same result for the same articles.

    ``data``: a Spark DataFrame with ``id_column`` and ``text_column`` (its other columns are the
    articles' metadata), or Spark-readable paths (JSON Lines, Parquet, CSV; local, HDFS or s3a as
    the session is configured). ``spark``: a session (default: :func:`session` on ``local[*]``).
    ``timings`` receives seconds per stage. With ``tables`` (a directory), the pairs and story
    groups are written there as Parquet by the executors (:func:`dedup.spark_stages.write_tables`)
    and the result carries the counts only. With ``corpus``, the executors write the
    deduplicated records (:func:`dedup.spark_corpus.write_corpus`; its counts in ``corpus.written``).
    """
    from pyspark import StorageLevel

    if config is not None and options:
        raise TypeError("pass either config or keyword options, not both")
    config = config or DedupConfig(**options)
    if config.semantic:
        raise ConfigError("the semantic check runs on the local engine only: drop --engine spark")
    spark = spark or session()
    df = frame(spark, data, id_column, text_column)
    level = StorageLevel.MEMORY_AND_DISK
    clock = StageClock(timings if timings is not None else {})
    texts = ranked(df.rdd.map(lambda row: (row["id"], row["text"]))).persist(level)
    try:
        writers = [("write_tables", partial(write_tables, directory=tables))] if tables is not None else []
        if corpus is not None:
            writers.append(("write_corpus", partial(write_corpus, df=df, target=corpus, level=level)))
        pairs, clusters, skipped, summary = run_stages(
            texts, config, level, on_empty=on_empty, clock=clock, gather=tables is None, writers=writers
        )
    finally:
        texts.unpersist()
    meta = metadata(df, shown_ids(pairs, clusters))
    params = {**run_params(config), "engine": "spark"}
    return DedupResult(tuple(pairs), tuple(clusters), skipped, params, summary, meta, None)


def metadata(df: Any, ids: set[ArticleId]) -> dict[ArticleId, dict[str, Any]]:
    """The other columns of the shown articles (non-null values), brought back by a filter."""
    columns = [c for c in df.columns if c not in ("id", "text")]
    if not columns or not ids:
        return {}
    rows = df.where(df["id"].isin(sorted(ids, key=id_key))).select("id", *columns).collect()
    out = {}
    for row in rows:
        values = {k: v for k, v in row.asDict(recursive=True).items() if k != "id" and v is not None}
        if values:
            out[row["id"]] = values
    return out


def find_duplicates_in(
    paths: list[str], *, master: str, config: DedupConfig, id_field: str = "id", text_field: str = "text",
    on_empty: Literal["skip", "error"] = "skip", tables: Path | None = None, conf: dict[str, str] | None = None,
    corpus: CorpusTarget | None = None,
) -> DedupResult:  # fmt: skip
    """The command's Spark run: files Spark reads itself (JSON Lines, Parquet, CSV) are read on the
    cluster; directories of .txt files, stdin and gzip are read here, as the local engine reads them.
    ``conf``: Spark settings for the session (``--spark-conf``). ``tables``, ``corpus``: see
    :func:`find_duplicates` (``corpus`` for files Spark reads only: the command writes the
    corpus of the inputs it read itself, as locally)."""
    from .reading import Inputs

    spark = session(master, **(conf or {}))
    spark.sparkContext.setLogLevel("ERROR")
    if all(readable(p) for p in paths):
        data: Any = [str(Path(p).resolve()) for p in paths]
        return find_duplicates(data, spark=spark, config=config, id_column=id_field, text_column=text_field,
                               on_empty=on_empty, tables=tables, corpus=corpus)  # fmt: skip
    rows = [(a.id, a.text, json.dumps({k: v for k, v in a.meta.items() if k != WHERE}))
            for a in Inputs(paths, id_field=id_field, text_field=text_field)]  # fmt: skip
    frame = spark.createDataFrame(rows, "id string, text string, meta string")
    result = find_duplicates(frame, spark=spark, config=config, on_empty=on_empty, tables=tables)
    meta = {i: json.loads(m["meta"]) for i, m in result.meta.items()}
    return replace(result, meta={i: m for i, m in meta.items() if m})


def write_tables_in(paths: list[str], directory: str, **run: Any) -> DedupResult:
    """The command's ``-o DIR`` on Spark: the Parquet tables of :func:`dedup.formats.write_tables`
    (``pairs/``, ``groups/``, ``run.json``) with the pairs and groups written by the executors,
    never gathered on the driver; moved into place once whole. The result has the counts only."""
    from .formats import place_tables

    return place_tables(directory, lambda scratch: find_duplicates_in(paths, tables=scratch, **run))

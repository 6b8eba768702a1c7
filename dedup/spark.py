"""The same pipeline on Apache Spark: ``dedup.spark.find_duplicates(df_or_paths)``.

What runs where (this is the first Spark engine, a hybrid):

- **on the executors**, the work that grows with the text: reading, sketching each partition
  (512 articles at a time, :meth:`SketchTable.build` — the same code as the local engine), the
  signatures of boilerplate-heavy articles without their boilerplate, and for every candidate
  pair both texts joined in, the exact shingle containment and the paragraph alignment;
- **on the driver**, the work on sketches (a few hundred bytes an article): exact copies,
  boilerplate lines, LSH band and anchor buckets with their caps, the MinHash estimate of the
  pre-check, the decision and the story groups — the local engine's functions, so the results are
  the local engine's (tested); the metadata of the articles a result shows is brought back by a
  filter at the end.

Both run through the one stage sequence (:mod:`dedup.run`): this module only fills its plug points
with :class:`SparkTexts`. The driver holds the sketch table (about 2.8 GB per million articles, as the local engine), which
bounds this engine to tens of millions of articles; bucket joins and connected components on the
executors are the next step for larger corpora.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .articles import WHERE, ArticleId, id_key
from .config import DedupConfig
from .errors import ConfigError, InputError
from .results import DedupResult
from .run import BatchSource, run
from .sketch import SketchSettings, SketchTable, furniture_rows, signatures_without
from .store import Shingles, ShingleStore
from .verification import AlignTask, Outcome, align_chunk, exact_containment, passes_check

CHUNK = 512
READERS = {".jsonl": "json", ".ndjson": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


def session(master: str = "local[*]", **conf: str) -> Any:
    """A Spark session whose Python workers run this interpreter (so they import this dedup)."""
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
    try:
        with _jvm_output():
            return builder.getOrCreate()
    except Exception as error:  # no JRE: pyspark raises a bare exception about JAVA_HOME / java
        if "JAVA" in str(error).upper():
            raise ConfigError(
                "the Spark engine needs a Java runtime: apt-get install openjdk-17-jre-headless"
            ) from None
        raise


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
        data = getattr(reader, kind)(paths)
    where = "the DataFrame"
    for column in (id_column, text_column):
        if column not in data.columns:
            raise InputError(f"{where}: no column {column!r} (columns: {', '.join(data.columns)})")
    meta = [data[c] for c in data.columns if c not in (id_column, text_column, "id", "text")]
    df = data.select(data[id_column].alias("id"), data[text_column].alias("text"), *meta)
    repeated = df.groupBy("id").count().filter("count > 1").orderBy("id").limit(1).collect()
    if repeated:
        raise InputError(f"{where}: duplicate id {repeated[0]['id']!r}")
    nulls = df.filter(df["text"].isNull()).orderBy("id").limit(1).collect()
    if nulls:
        raise InputError(f"{where}: article {nulls[0]['id']!r}: the text is missing (null)")
    return df


def find_duplicates(
    data: Any, *, spark: Any = None, config: DedupConfig | None = None, id_column: str = "id",
    text_column: str = "text", on_empty: Literal["skip", "error"] = "skip", timings: dict[str, float] | None = None,
    **options: Any,
) -> DedupResult:  # fmt: skip
    """:func:`dedup.find_duplicates` on Spark: the same result for the same articles.

    ``data``: a Spark DataFrame with ``id_column`` and ``text_column`` (its other columns are the
    articles' metadata), or Spark-readable paths (JSON Lines, Parquet, CSV; local, HDFS or s3a as
    the session is configured). ``spark``: a session (default: :func:`session` on ``local[*]``).
    ``timings`` receives seconds per stage.
    """
    from pyspark import StorageLevel

    if config is not None and options:
        raise TypeError("pass either config or keyword options, not both")
    config = config or DedupConfig(**options)
    if config.semantic:
        raise ConfigError("the semantic check runs on the local engine only: drop --engine spark")
    spark = spark or session()
    df = frame(spark, data, id_column, text_column)
    texts = SparkTexts(df, config, StorageLevel.MEMORY_AND_DISK)
    try:
        return run(texts, BatchSource(config), config, on_empty=on_empty, engine="spark", timings=timings)
    finally:
        texts.close()


class SparkTexts:
    """The Spark plug of the stage sequence (:mod:`dedup.run`): the texts stay in a Spark dataset;
    sketching, resketching, the exact check and alignment run on the executors, next to them."""

    def __init__(self, df: Any, config: DedupConfig, level: Any) -> None:
        self.df = df
        self.meta_columns = [c for c in df.columns if c not in ("id", "text")]
        self.texts = df.rdd.map(lambda row: (row["id"], row["text"])).persist(level)
        self.config = config
        self.ids: list[ArticleId] = []
        self.furniture: set[ArticleId] = set()

    def close(self) -> None:
        self.texts.unpersist()

    def sketch(self, settings: SketchSettings) -> SketchTable:
        parts = self.texts.mapPartitions(partial(_sketch_partition, settings=settings)).collect()
        table = SketchTable.concat([SketchTable.from_bytes(p, expect=settings) for p in parts], settings)
        self.ids = table.ids
        return table

    def where(self, row: int) -> str:
        return ""

    def metadata(self, ids: set[ArticleId]) -> dict[ArticleId, dict[str, Any]]:
        """The other columns of the shown articles (non-null values), brought back by a filter."""
        if not self.meta_columns or not ids:
            return {}
        rows = (
            self.df.where(self.df["id"].isin(sorted(ids, key=id_key)))
            .select("id", *self.meta_columns)
            .collect()
        )
        out = {}
        for row in rows:
            values = {k: v for k, v in row.asDict(recursive=True).items() if k != "id" and v is not None}
            if values:
                out[row["id"]] = values
        return out

    def text(self, row: int) -> str:
        raise ConfigError("the texts of a Spark run stay on the cluster")

    def extend(self, articles: Any, settings: SketchSettings) -> SketchTable:
        raise ConfigError("the Spark engine compares one collection, not an archive")

    def resketch(self, table: SketchTable, rows: np.ndarray, boilerplate: frozenset[int]) -> None:
        redo = furniture_rows(table, rows, boilerplate, self.config.furniture_share)
        self.furniture |= {table.ids[r] for r in redo.tolist()}
        _resketch(self.texts, table, redo, boilerplate, table.settings)

    def check_and_align(
        self, tasks: list[AlignTask], boilerplate: frozenset[int], templates: np.ndarray, config: DedupConfig
    ) -> list[Outcome]:
        outcome = _align_on_spark(self.texts, tasks, self.ids, self.furniture, boilerplate, templates, config)
        keys = [t.candidate if t.candidate is not None else -1 - t.b for t in tasks]
        return [outcome[k] for k in keys]


def find_duplicates_in(
    paths: list[str], *, master: str, config: DedupConfig, id_field: str = "id", text_field: str = "text",
    on_empty: Literal["skip", "error"] = "skip",
) -> DedupResult:  # fmt: skip
    """The command's Spark run: files Spark reads itself (JSON Lines, Parquet, CSV) are read on the
    cluster; directories of .txt files, stdin and gzip are read here, as the local engine reads them."""
    from .reading import Inputs

    spark = session(master)
    spark.sparkContext.setLogLevel("ERROR")
    if all(readable(p) for p in paths):
        data: Any = [str(Path(p).resolve()) for p in paths]
        return find_duplicates(data, spark=spark, config=config, id_column=id_field, text_column=text_field,
                               on_empty=on_empty)  # fmt: skip
    rows = [(a.id, a.text, json.dumps({k: v for k, v in a.meta.items() if k != WHERE}))
            for a in Inputs(paths, id_field=id_field, text_field=text_field)]  # fmt: skip
    frame = spark.createDataFrame(rows, "id string, text string, meta string")
    result = find_duplicates(frame, spark=spark, config=config, on_empty=on_empty)
    meta = {i: json.loads(m["meta"]) for i, m in result.meta.items()}
    return replace(result, meta={i: m for i, m in meta.items() if m})


def _sketch_partition(rows: Iterable[tuple[ArticleId, str]], *, settings: SketchSettings) -> Iterator[bytes]:
    """A partition's sketch tables, :data:`CHUNK` articles each, as bytes."""
    batch: list[tuple[ArticleId, str]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield SketchTable.build([t for _, t in batch], settings, [i for i, _ in batch]).to_bytes()
            batch = []
    if batch:
        yield SketchTable.build([t for _, t in batch], settings, [i for i, _ in batch]).to_bytes()


def _resketch(
    texts: Any, table: SketchTable, redo: np.ndarray, boilerplate: frozenset[int], settings: SketchSettings
) -> None:
    """The signatures and shingle counts of the ``redo`` rows without boilerplate, on the executors."""
    if redo.size == 0:
        return
    row_of = {table.ids[r]: r for r in redo.tolist()}
    wanted = texts.context.broadcast(set(row_of))
    work = partial(signatures_without, boilerplate=boilerplate, settings=settings)

    def part(rows: Iterable[tuple[ArticleId, str]]) -> Iterator[tuple[ArticleId, np.ndarray, int]]:
        chosen = [(i, t) for i, t in rows if i in wanted.value]
        if chosen:
            signatures, counts, _ = work([t for _, t in chosen])
            yield from ((i, signatures[k], int(counts[k])) for k, (i, _) in enumerate(chosen))

    for article_id, signature, count in texts.mapPartitions(part).collect():
        table.signatures[row_of[article_id]] = signature
        table.shingles[row_of[article_id]] = count


def _align_on_spark(
    texts: Any, tasks: list[Any], ids: list[ArticleId], redone: set[ArticleId], boilerplate: frozenset[int],
    templates: np.ndarray, config: DedupConfig,
) -> dict[int, tuple[bool, Any, Any]]:  # fmt: skip
    """For each task (keyed by candidate index, or -1 - row for exact copies): whether it passed the
    exact containment check, its alignment (or None) and shingle overlap, computed next to the texts."""
    context = texts.context
    furniture = context.broadcast(redone)
    keyed = context.parallelize(
        [(ids[t.a], (t.candidate if t.candidate is not None else -1 - t.b, ids[t.b])) for t in tasks],
        max(1, min(len(tasks) // 256, 4 * context.defaultParallelism)),
    )
    by_a = keyed.join(texts).map(lambda kv: (kv[1][0][1], (kv[1][0][0], kv[0], kv[1][1])))
    both = by_a.join(texts).map(lambda kv: (kv[1][0][0], kv[1][0][1], kv[0], kv[1][0][2], kv[1][1]))
    work = partial(_check_and_align, boilerplate=boilerplate, templates=templates, config=config,
                   furniture=furniture)  # fmt: skip
    return dict(both.mapPartitions(work).collect())


def _check_and_align(
    tasks: Iterable[tuple[int, ArticleId, ArticleId, str, str]], *, boilerplate: frozenset[int],
    templates: np.ndarray, config: DedupConfig, furniture: Any,
) -> Iterator[tuple[int, tuple[bool, Any, Any]]]:  # fmt: skip
    """The exact pre-check (as the local engine's, from the two texts' shingles) and the alignment
    of a partition's tasks, :data:`CHUNK` at a time."""
    batch = list(tasks)
    settings = SketchSettings.of(config)
    for start in range(0, len(batch), CHUNK):
        chunk = batch[start : start + CHUNK]
        names = sorted({n for _, a, b, _, _ in chunk for n in (a, b)}, key=id_key)
        text_of = {a: ta for _, a, _, ta, _ in chunk} | {b: tb for _, _, b, _, tb in chunk}
        row = {n: k for k, n in enumerate(names)}
        with ShingleStore() as store:
            _, shingles = SketchTable.build_with_shingles([text_of[n] for n in names], settings)
            store.put(np.arange(len(names)), shingles)
            redone = [n for n in names if n in furniture.value]
            if redone:
                _, counts, values = signatures_without([text_of[n] for n in redone], boilerplate=boilerplate,
                                                        settings=settings)  # fmt: skip
                store.put(np.array([row[n] for n in redone]), Shingles.untagged(counts, values))
            candidates = [(k, a, b) for k, a, b, _, _ in chunk if k >= 0]
            passed = {k for k, _, _ in candidates}
            if candidates:
                pairs = np.array([(row[a], row[b]) for _, a, b in candidates], dtype=np.int64)
                whole, own = exact_containment(np.sort(pairs, axis=1), store, boilerplate, templates)
                keep = passes_check(whole, own, config)
                passed = {k for (k, _, _), ok in zip(candidates, keep.tolist(), strict=True) if ok}
        work = [(k, a, b, ta, tb) for k, a, b, ta, tb in chunk if k < 0 or k in passed]
        results = align_chunk(
            [(k < 0, ta, tb) for k, _, _, ta, tb in work], config=config, boilerplate=boilerplate
        )
        done = {
            k: (True, alignment, overlap) for (k, *_), (alignment, overlap) in zip(work, results, strict=True)
        }
        for k, *_ in chunk:
            yield k, done.get(k, (False, None, None))

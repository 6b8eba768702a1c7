"""The same pipeline on Apache Spark: ``dedup.spark.find_duplicates(df_or_paths)``.

What runs where (this is the first Spark engine, a hybrid):

- **on the executors**, the work that grows with the text: reading, sketching each partition
  (512 articles at a time, :meth:`SketchTable.build` — the same code as the local engine), the
  signatures of boilerplate-heavy articles without their boilerplate, and for every candidate
  pair both texts joined in, the exact shingle containment and the paragraph alignment;
- **on the driver**, the work on sketches (a few hundred bytes an article): exact copies,
  boilerplate lines, LSH band and anchor buckets with their caps, the MinHash estimate of the
  pre-check, the decision and the story groups — the local engine's functions, so the results are
  the local engine's (tested).

The driver holds the sketch table (about 2.8 GB per million articles, as the local engine), which
bounds this engine to tens of millions of articles; bucket joins and connected components on the
executors are the next step for larger corpora.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from .articles import ArticleId, id_key, id_ranks
from .boilerplate import table_boilerplate
from .candidates import BatchIndex, self_join
from .clustering import cluster_pairs
from .config import DedupConfig
from .copies import group_exact_copies
from .errors import ConfigError, InputError
from .pipeline import StageClock, run_params, summarize
from .results import DedupResult, Pair, Skipped
from .sketch import SketchSettings, SketchTable, _signatures_without, furniture_rows
from .store import Shingles, ShingleStore
from .verification import (
    TEMPLATE_ONLY_SHARE,
    AlignTask,
    _estimated,
    align_chunk,
    align_tasks,
    exact_containment,
    reported_pairs,
)

CHUNK = 512
READERS = {".jsonl": "json", ".ndjson": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


def session(master: str = "local[*]", **conf: str) -> Any:
    """A Spark session whose Python workers run this interpreter (so they import this dedup)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError("the Spark engine needs pyspark: pip install 'newsdedup[spark]'") from None
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName("dedup").config("spark.ui.enabled", "false")
    builder = builder.config("spark.ui.showConsoleProgress", "false")  # no progress bars on stderr
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as error:  # no JRE: pyspark raises a bare exception about JAVA_HOME / java
        if "JAVA" in str(error).upper():
            raise ConfigError(
                "the Spark engine needs a Java runtime: apt-get install openjdk-17-jre-headless"
            ) from None
        raise


def readable(path: str | Path) -> bool:
    """Whether Spark reads ``path`` itself (JSON Lines, JSON, Parquet, CSV files)."""
    return Path(path).suffix.lower() in READERS and not Path(path).is_dir()


def frame(spark: Any, data: Any, id_column: str = "id", text_column: str = "text") -> Any:
    """``data`` (a DataFrame, or Spark-readable paths: JSON Lines, Parquet, CSV with a header) as a
    DataFrame of ``id`` and ``text``, checked: both columns there, ids unique."""
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
    df = data.select(data[id_column].alias("id"), data[text_column].alias("text"))
    repeated = df.groupBy("id").count().filter("count > 1").orderBy("id").limit(1).collect()
    if repeated:
        raise InputError(f"{where}: duplicate id {repeated[0]['id']!r}")
    nulls = df.filter(df["text"].isNull()).orderBy("id").limit(1).collect()
    if nulls:
        raise InputError(f"{where}: article {nulls[0]['id']!r}: the text is missing (null)")
    return df


def find_duplicates(
    data: Any, *, spark: Any = None, config: DedupConfig | None = None, id_column: str = "id",
    text_column: str = "text", on_empty: str = "skip", timings: dict[str, float] | None = None, **options: Any,
) -> DedupResult:  # fmt: skip
    """:func:`dedup.find_duplicates` on Spark: the same result for the same articles.

    ``data``: a Spark DataFrame with ``id_column`` and ``text_column``, or Spark-readable paths
    (JSON Lines, Parquet, CSV; local, HDFS or s3a as the session is configured). ``spark``: a
    session (default: :func:`session` on ``local[*]``). ``timings`` receives seconds per stage.
    """
    from pyspark import StorageLevel

    config = config or DedupConfig(**options)
    if config.semantic:
        raise ConfigError("the semantic check runs on the local engine only: drop --engine spark")
    spark = spark or session()
    clock = StageClock(timings if timings is not None else {})
    df = frame(spark, data, id_column, text_column)
    texts = df.rdd.map(lambda row: (row["id"], row["text"])).persist(StorageLevel.MEMORY_AND_DISK)
    settings = SketchSettings.of(config)
    parts = texts.mapPartitions(partial(_sketch_partition, settings=settings)).collect()
    table = SketchTable.concat([SketchTable.from_bytes(p, expect=settings) for p in parts], settings)
    clock.lap("read_and_sketch (executors)")
    ids: list[ArticleId] = table.ids
    rank = id_ranks(ids)
    empty = np.flatnonzero(table.words == 0)
    if empty.size and on_empty == "error":
        raise InputError(f"article {ids[int(empty[np.argmin(rank[empty])])]!r} is empty (no words)")
    skipped = tuple(sorted((Skipped(str(ids[r]), "empty: no words") for r in empty), key=lambda s: s.id))
    kept = np.flatnonzero(table.words > 0)
    copies = group_exact_copies(table, kept, rank)
    boilerplate = table_boilerplate(table, copies.is_leader, rank, min_docs=config.boilerplate_min_docs)
    redo = furniture_rows(table, copies.leaders, boilerplate)
    _resketch(texts, table, redo, boilerplate, settings)
    clock.lap("copies_and_boilerplate (driver, resketch on executors)")
    candidates = self_join(BatchIndex(config, rank), table, copies.leaders)
    estimated, estimates = _estimated(candidates, table, config)
    tasks = align_tasks(copies, estimated, rank)
    clock.lap("candidates_and_estimate (driver)")
    outcome = _align_on_spark(texts, tasks, ids, redo, boilerplate, candidates.crowded_anchors, config)
    texts.unpersist()
    clock.lap("exact_check_and_align (executors)")
    pairs, aligned = _pairs(tasks, outcome, ids, estimates, config)
    id_copies = {ids[leader]: [ids[r] for r in rows] for leader, rows in copies.copies.items()}
    lengths = {ids[r]: int(table.words[r]) for r in kept.tolist()}
    clusters = cluster_pairs([p for p in pairs if p.kind != "exact"], lengths, id_copies)
    checked = sum(1 for k, (passed, _, _) in outcome.items() if passed and k >= 0)
    summary = summarize(table, kept, copies, boilerplate, candidates, (checked, aligned), pairs, clusters)
    params = {**run_params(config), "engine": "spark"}
    return DedupResult(tuple(pairs), tuple(clusters), skipped, params, summary, {})


def check_tables_target(directory: str | Path) -> Path:
    """``directory`` as a place for :func:`write_tables`; :class:`InputError` if it holds tables."""
    target = Path(directory)
    if (target / "pairs").exists() or (target / "groups").exists():
        raise InputError(f"{target}: already holds pairs/ or groups/ tables; choose an empty directory")
    if target.exists() and not target.is_dir():
        raise InputError(
            f"{target}: not a directory (without a suffix, -o names the directory for the tables)"
        )
    return target


def write_tables(result: DedupResult, spark: Any, directory: str | Path) -> None:
    """The result as Parquet tables under ``directory``: ``pairs`` (one row a pair, its alignment as
    JSON text), ``groups`` (one row a member: group number, representative, member) and
    ``run.json`` (params and summary). Refuses a directory that already holds them."""
    import json

    target = check_tables_target(directory)
    columns = ("a", "b", "kind", "direction", "coverage_a_by_b", "coverage_b_by_a", "jaccard",
               "containment_a_in_b", "containment_b_in_a", "minhash_jaccard")  # fmt: skip
    rows = [
        (
            *(str(getattr(p, c)) if c in ("a", "b") else getattr(p, c) for c in columns),
            json.dumps(p.to_dict()["alignment"]),
        )
        for p in result.pairs
    ]
    schema = ("a string, b string, kind string, direction string, coverage_a_by_b double, coverage_b_by_a double, "
              "jaccard double, containment_a_in_b double, containment_b_in_a double, minhash_jaccard double, alignment string")  # fmt: skip
    spark.createDataFrame(rows, schema).write.parquet(str(target / "pairs"))
    members = [
        (k, str(c.representative), str(m)) for k, c in enumerate(result.clusters, 1) for m in c.members
    ]
    spark.createDataFrame(members, "group int, representative string, member string").write.parquet(
        str(target / "groups")
    )
    run = {"schema": result.to_dict()["schema"], "params": result.params, "summary": result.summary.to_dict()}
    (target / "run.json").write_text(json.dumps(run, indent=2), encoding="utf-8")


def _pairs(
    tasks: list[AlignTask], outcome: dict[int, tuple[bool, Any, Any]], ids: list[ArticleId],
    estimates: np.ndarray, config: DedupConfig,
) -> tuple[list[Pair], int]:  # fmt: skip
    """The reported pairs (sorted by ids) and how many tasks were aligned to the end."""
    keys = [t.candidate if t.candidate is not None else -1 - t.b for t in tasks]
    outcomes = ((t, outcome[k][1:]) for t, k in zip(tasks, keys, strict=True))
    return reported_pairs(outcomes, ids=ids, estimates=estimates, config=config)


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
    work = partial(_signatures_without, boilerplate=boilerplate, settings=settings)

    def part(rows: Iterable[tuple[ArticleId, str]]) -> Iterator[tuple[ArticleId, np.ndarray, int]]:
        chosen = [(i, t) for i, t in rows if i in wanted.value]
        if chosen:
            signatures, counts, _ = work([t for _, t in chosen])
            yield from ((i, signatures[k], int(counts[k])) for k, (i, _) in enumerate(chosen))

    for article_id, signature, count in texts.mapPartitions(part).collect():
        table.signatures[row_of[article_id]] = signature
        table.shingles[row_of[article_id]] = count


def _align_on_spark(
    texts: Any, tasks: list[Any], ids: list[ArticleId], redo: np.ndarray, boilerplate: frozenset[int],
    templates: np.ndarray, config: DedupConfig,
) -> dict[int, tuple[bool, Any, Any]]:  # fmt: skip
    """For each task (keyed by candidate index, or -1 - row for exact copies): whether it passed the
    exact containment check, its alignment (or None) and shingle overlap, computed next to the texts."""
    context = texts.context
    furniture = context.broadcast({ids[r] for r in redo.tolist()})
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
                _, counts, values = _signatures_without([text_of[n] for n in redone], boilerplate=boilerplate,
                                                        settings=settings)  # fmt: skip
                store.put(np.array([row[n] for n in redone]), Shingles.untagged(counts, values))
            candidates = [(k, a, b) for k, a, b, _, _ in chunk if k >= 0]
            passed = {k for k, _, _ in candidates}
            if candidates:
                pairs = np.array([(row[a], row[b]) for _, a, b in candidates], dtype=np.int64)
                whole, own = exact_containment(np.sort(pairs, axis=1), store, boilerplate, templates)
                floor = config.min_candidate_containment
                keep = (whole >= floor) & ((own >= floor) | (whole >= max(floor, TEMPLATE_ONLY_SHARE)))
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

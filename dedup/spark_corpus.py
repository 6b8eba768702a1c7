"""The deduplicated corpus on Spark, written by the executors (``--keep-to`` / ``--removed-to``
with ``--engine spark``).

The rule is :func:`dedup.corpus.plan`'s, unchanged: it only ever looks along pairs of a dropping
kind, so it is applied to each connected component of those pairs on its own
(:func:`dedup.corpus.plan_links`), one component on one executor, with the facts the keep rules
look at (input position, length, the ``earliest`` field) joined in for the articles the
component holds. The records are then the input DataFrame less (or joined with) the removed ids,
sorted back into input order and written as a directory of JSON Lines or Parquet part files —
under a temporary name beside the target, moved into place once whole, never over an existing
path. Nothing per article or per pair is gathered on the driver: it keeps the policy, the
input's file names (to order records across files) and three counts.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .articles import ArticleId
from .corpus import ANNOTATIONS, REMOVAL_FIELDS, Facts, Policy, Written, plan_links
from .errors import InputError
from .results import Pair

FORMATS = {".jsonl": "json", ".ndjson": "json", ".parquet": "parquet"}
"""What the executors write, by the target's suffix: a directory of part files."""


@dataclass
class CorpusTarget:
    """Where the Spark run writes its corpus, and under which policy; ``written`` gets the counts."""

    policy: Policy
    keep_to: str | None = None
    removed_to: str | None = None
    annotate: bool = False
    id_field: str = "id"
    text_field: str = "text"
    paths: Sequence[str] = ()
    written: Written | None = field(default=None, init=False)

    def check(self) -> None:
        """One line before the run for a target the executors cannot write."""
        for target in filter(None, (self.keep_to, self.removed_to)):
            if Path(target).suffix.lower() not in FORMATS:
                raise InputError(f"{target}: with --engine spark the executors write the corpus as a directory of "
                                 "part files: name it NAME.jsonl or NAME.parquet")  # fmt: skip
            if os.path.lexists(target):
                raise InputError(f"{target}: exists; the Spark engine writes a new directory there (remove it "
                                 "or choose another name)")  # fmt: skip
            if not Path(target).resolve().parent.is_dir():
                raise InputError(f"{target}: no directory {str(Path(target).parent)!r}")


def write_corpus(reported: Any, groups: Any, rows: Any, *, df: Any, target: CorpusTarget, level: Any) -> None:
    """The kept (or annotated) and removed records of ``df`` (``id``, ``text``, metadata) under
    ``target.policy``, from the reported pairs and story groups of :func:`run_stages`."""
    spark = df.sparkSession
    placed = _in_input_order(df, target.paths)
    removed = _removed(reported, groups, rows, placed, target.policy, level)
    id_type = df.schema["id"].dataType
    verdicts = spark.createDataFrame(
        removed, f"id {id_type.simpleString()}, dedup_copy_of {id_type.simpleString()}, dedup_kind string, "
        "dedup_coverage double",
    ).persist(level)  # fmt: skip
    count, gone = df.count(), verdicts.count()
    removed.unpersist()
    order = ["_dedup_file", "_dedup_row"]
    if target.keep_to and target.annotate:
        members = spark.createDataFrame(
            groups.flatMap(lambda c: ((m, c.representative) for m in c.members)),
            f"id {id_type.simpleString()}, dedup_group {id_type.simpleString()}",
        )
        out = placed.join(members, "id", "left").join(verdicts.drop("dedup_coverage"), "id", "left")
        out = out.withColumnRenamed("dedup_copy_of", ANNOTATIONS[1])
        _write(out.orderBy(*order).drop(*order), target.keep_to, target)
    elif target.keep_to:
        _write(placed.join(verdicts, "id", "left_anti").orderBy(*order).drop(*order), target.keep_to, target)
    if target.removed_to:
        out = placed.join(verdicts, "id").orderBy(*order).drop(*order)
        _write(out.select(*[c for c in out.columns if c not in REMOVAL_FIELDS], *REMOVAL_FIELDS),
               target.removed_to, target)  # fmt: skip
    verdicts.unpersist()
    target.written = Written(count, count - gone, gone)


def _in_input_order(df: Any, paths: Sequence[str]) -> Any:
    """``df`` with its input position: the index of its file among ``paths`` (as given) and its
    place within the file (Spark reads a file's splits in order)."""
    from pyspark.sql import functions as F

    index = [x for k, p in enumerate(paths) for x in (F.lit(Path(p).resolve().as_uri()), F.lit(k))]
    name = F.regexp_replace(F.input_file_name(), "^file:/+", "file:///")
    file_index = F.coalesce(F.create_map(*index)[name], F.lit(len(paths))) if index else F.lit(0)
    return df.withColumn("_dedup_file", file_index).withColumn("_dedup_row", F.monotonically_increasing_id())


def _removed(reported: Any, groups: Any, rows: Any, placed: Any, policy: Policy, level: Any) -> Any:
    """``(id, copy_of, kind, coverage)`` of every removed article: :func:`plan_links` per
    connected component of the dropping pairs, on the executors."""
    from .spark_stages import connected_components

    spark, parts = rows.sparkSession, max(reported.getNumPartitions(), 1)
    drop, field_name = policy.drop, policy.field
    dropping = reported.filter(lambda r: r[0].kind in drop).persist(level)
    components = connected_components(dropping.map(lambda r: (r[1], r[2])), level, parts)
    labels = spark.createDataFrame(components, "rank long, label long")
    representatives = spark.createDataFrame(groups.map(lambda c: (json.dumps(c.representative), True)),
                                             "name string, representative boolean")  # fmt: skip
    facts = spark.createDataFrame(
        placed.rdd.map(lambda r: (json.dumps(r["id"]), r["_dedup_file"], r["_dedup_row"], len(r["text"]),
                                  json.dumps(_value(r, field_name), default=str))),
        "name string, file long, row long, length long, value string",
    )  # fmt: skip
    known = (
        labels.join(rows.select("rank", "name"), "rank")
        .join(facts, "name")
        .join(representatives, "name", "left")
        .rdd.map(lambda r: (r["label"], ("fact", (json.loads(r["name"]), r["file"] << 64 | r["row"], r["length"],
                                                  json.loads(r["value"]), bool(r["representative"])))))
    )  # fmt: skip
    links = dropping.map(lambda r: (r[1], r[0])).join(components, parts)
    items = links.map(lambda kv: (kv[1][1], ("pair", kv[1][0]))).union(known)
    removed = items.groupByKey(parts).flatMap(lambda kv: _component_plan(kv[1], policy)).persist(level)
    removed.count()  # computed once, while what it is made of is held
    dropping.unpersist()
    components.unpersist()
    return removed


def _value(row: Any, name: str | None) -> Any:
    if name is None or name not in row.__fields__:
        return None
    value = row[name]
    return None if value == "" else value


def _component_plan(items: Iterable[tuple[str, Any]], policy: Policy) -> Iterator[tuple[Any, ...]]:
    pairs: list[Pair] = []
    facts: dict[ArticleId, Facts] = {}
    representatives: set[ArticleId] = set()
    for kind, value in items:
        if kind == "pair":
            pairs.append(value)
        else:
            article, position, length, found, representative = value
            facts[article] = Facts(position, length, found)
            if representative:
                representatives.add(article)
    for removed in plan_links(pairs, representatives, facts, policy).values():
        yield removed.id, removed.copy_of, removed.kind, float(removed.coverage)


def _write(frame: Any, target: str, where: CorpusTarget) -> None:
    """``frame`` with the input's field names, as part files in a new directory ``target``."""
    out = frame.withColumnRenamed("id", "_dedup_id").withColumnRenamed("text", where.text_field)
    out = out.withColumnRenamed("_dedup_id", where.id_field)
    destination = Path(target)
    scratch = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.resolve().parent))
    try:
        writer = out.write.mode("overwrite")
        getattr(writer, FORMATS[destination.suffix.lower()])(str(scratch / "out"))
        os.replace(scratch / "out", destination)
    except OSError as error:
        raise InputError(f"{target}: cannot write ({error.strerror or error})") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

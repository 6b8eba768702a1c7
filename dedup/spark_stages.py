"""The stage sequence of :mod:`dedup.run`, distributed: every stage runs on the Spark executors.

The driver holds settings, counts and sets of bounded size (boilerplate lines, template
sentences, the ids of empty articles); never a table of articles or of pairs until the end, where
the reported pairs and story groups come back as the result. Article by article, the data is an
RDD keyed by each article's *rank* (its place in id order, which every tie-break of the local
engine uses), and each stage applies the local engine's own rule to the part it concerns:

    sketch (per partition) ─► exact copies (group by digest) ─► boilerplate (line counts, then
    rules 3-5 per frequent line, :func:`dedup.boilerplate.is_boilerplate`) ─► furniture resketch
    ─► candidates (group by band value, anchor, passage: :func:`dedup.candidates.bucket_pairs` per
    bucket) ─► estimate (pairs joined with both sketches: :func:`dedup.verification.estimate`)
    ─► exact check + align (pairs joined with both texts) ─► story groups (connected components by
    large-star/small-star, then :func:`dedup.clustering.assign_groups` per component)

So the result equals the local engine's (tested on the same corpora), at any number of articles
the cluster holds.
"""

from __future__ import annotations

import json
import pickle
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from itertools import islice
from operator import add
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .articles import ArticleId, id_key
from .boilerplate import PASSES, SAMPLE, is_boilerplate, one_story
from .candidates import Candidates, bucket_pairs, lsh_bands, salted_bands, scanned_bands
from .clustering import assign_groups, clusters_of, strong
from .config import DedupConfig
from .errors import EmptyArticleError, InputError
from .formats import PAIR_COLUMNS, pair_row
from .forms import frequent as forms_frequent
from .forms import recurring as forms_recurring
from .forms import report_key
from .results import Cluster, Pair, RunSummary, Skipped
from .run import StageClock
from .scans import looks_scanned
from .sketch import SketchSettings, SketchTable, furniture_rows, signatures_without
from .store import Shingles, ShingleStore
from .verification import AlignTask, align_chunk, estimate, exact_containment, make_pair, passes_check

CHUNK = 512
"""Articles sketched (or pairs checked) at a time on an executor."""

Row = tuple[int, SketchTable]  # (rank, the article's one-row sketch table)
GATHER_LIMIT = 1_000_000
"""The most pairs a result (a single-file report: text, JSON, CSV, HTML) brings to the driver;
``-o DIR`` tables and the corpus are written by the executors at any size."""


def ranked(rows: Any) -> Any:
    """``(id, text)`` records as ``(rank, (id, text))``, rank = place in id order."""
    ordered = rows.sortBy(lambda kv: id_key(kv[0]))
    return ordered.zipWithIndex().map(lambda item: (item[1], item[0]))


ARTICLES = "rank long, name string, words long, digest binary, sketch binary, scanned boolean"
"""The sketched articles' DataFrame (:func:`_sketch_partition` makes its rows)."""


def run_stages(
    texts: Any,
    config: DedupConfig,
    level: Any,
    *,
    on_empty: Literal["skip", "error"],
    clock: StageClock,
    gather: bool = True,
    writers: Sequence[tuple[str, Callable[[Any, Any, Any], None]]] = (),
) -> tuple[list[Pair], list[Cluster], tuple[Skipped, ...], RunSummary]:
    """Every stage on ``texts`` (``(rank, (id, text))``, persisted): the reported pairs, the story
    groups, the articles skipped and the counts. Each of ``writers`` is then called with the
    reported pairs (``(Pair, rank_a, rank_b)``), the story groups (:class:`Cluster`) and the
    articles (``rank``, ``name``: the id as JSON), all on the executors, to write what it writes
    (:func:`write_tables`, :func:`dedup.spark_corpus.write_corpus`); without ``gather`` the pairs
    and groups are not brought here (the lists returned are empty). Articles and pairs are
    DataFrames where joined or grouped, RDDs where Python works on them."""
    spark = _session()
    settings = SketchSettings.of(config)
    parts = max(texts.getNumPartitions(), texts.context.defaultParallelism)
    sketched = texts.mapPartitions(partial(_sketch_partition, settings=settings))
    rows = spark.createDataFrame(sketched, ARTICLES)
    rows = rows.persist(level)
    n = rows.count()
    clock.lap("read_and_sketch")
    skipped = _empty(rows, on_empty)
    exact, leaders = _copies(rows.where("words > 0"), level)
    clock.lap("exact_copies")
    boilerplate, held = _held_lines(_unpacked(leaders), config, parts)
    about = spark.createDataFrame(texts.map(lambda r: (r[0], r[1][1])), "rank long, text string")
    leaders = _resketched(
        leaders, about.join(rows.select("rank", "name"), "rank"), boilerplate, config, level
    )
    clock.lap("boilerplate")
    candidates, counts, crowded = _candidates(leaders, config, level)
    clock.lap("candidates")
    survivors = _estimated(candidates, leaders, crowded, config)
    clock.lap("precheck")
    outcomes = _aligned(exact, survivors, about, rows, leaders, boilerplate, crowded, config).persist(level)
    checked, aligned = outcomes.map(lambda o: (int(o[1] and not o[0]), int(o[2]))).fold(
        (0, 0), lambda x, y: (x[0] + y[0], x[1] + y[1])
    )
    reported = outcomes.filter(lambda o: o[3] is not None).map(lambda o: o[3:]).persist(level)
    pairs, kinds = _gathered(reported, gather)
    clock.lap("align")
    groups = _story_groups(reported, exact, rows, level, parts)
    clusters: list[Cluster] = sorted(groups.collect(), key=_group_order) if gather else []
    in_groups = groups.map(lambda c: (1, len(c.members))).fold(
        (0, 0), lambda x, y: (x[0] + y[0], x[1] + y[1])
    )
    clock.lap("cluster")
    summary = _summary(n, len(skipped), leaders.count(), held, counts, len(crowded), (checked, aligned),
                       kinds, in_groups, rows.where("words > 0 AND scanned").count() if config.detect_scans else 0)  # fmt: skip
    for stage, write in writers:
        write(reported, groups, rows)
        clock.lap(stage)
    groups.unpersist()
    for data in (rows, exact, leaders, candidates, outcomes, reported):
        data.unpersist()
    return pairs, clusters, skipped, summary


def _gathered(reported: Any, gather: bool) -> tuple[list[Pair], Counter[str]]:
    """The reported pairs brought back (sorted by ids) when ``gather``, and their kinds counted;
    more than :data:`GATHER_LIMIT` are refused in one line (write tables instead)."""
    if not gather:  # counted where they are
        return [], Counter(reported.map(lambda r: r[0].kind).countByValue())
    found = reported.count()
    if found > GATHER_LIMIT:
        raise InputError(f"the Spark run found {found:,} pairs, more than the {GATHER_LIMIT:,} a single report "
                         "gathers on the driver: write them as tables with -o DIR (tables= in Python), "
                         "which the executors write")  # fmt: skip
    pairs = sorted((p for p, *_ in reported.collect()), key=lambda p: (id_key(p.a), id_key(p.b)))
    return pairs, Counter(p.kind for p in pairs)


def _summary(
    n: int, skipped: int, distinct: int, held: tuple[int, int, int], counts: tuple[int, int, int], crowded: int,
    checked: tuple[int, int], kinds: Counter[str], groups: tuple[int, int], scanned: int,
) -> RunSummary:  # fmt: skip
    """The counts of a run, as :func:`dedup.run.summarize` gives them."""
    return RunSummary(
        articles=n, compared=n - skipped, skipped=skipped, distinct_texts=distinct, boilerplate_lines=held[0],
        filled_in_forms=held[1], recurring_reports=held[2],
        candidate_pairs=counts[0], candidate_pairs_lsh=counts[1], candidate_pairs_anchor=counts[2],
        anchors_shared_too_widely=crowded, prechecked_pairs=checked[0], aligned_pairs=checked[1],
        pairs=sum(kinds.values()), pairs_exact=kinds["exact"], pairs_near_duplicate=kinds["near_duplicate"],
        pairs_contained=kinds["contained"], pairs_partial=kinds["partial"], pairs_rewritten=0, clusters=groups[0],
        articles_in_clusters=groups[1], articles_scanned=scanned,
    )  # fmt: skip


def _unpacked(frame: Any) -> Any:
    """``(rank, one-row sketch table)`` of a DataFrame of articles."""
    return frame.rdd.map(lambda r: (r["rank"], pickle.loads(r["sketch"])))


def _sketch_partition(
    items: Iterable[tuple[int, tuple[ArticleId, str]]], *, settings: SketchSettings
) -> Iterator[tuple[int, str, int, bytes, bytes, bool]]:
    """Each article of a partition as ``(rank, id as JSON, words, digest, one-row sketch table,
    read as a scan)``,
    sketched :data:`CHUNK` at a time."""
    items = iter(items)
    while chunk := list(islice(items, CHUNK)):
        table = SketchTable.build([t for _, (_, t) in chunk], settings, [i for _, (i, _) in chunk])
        for (rank, (article, _)), row in zip(chunk, table.split(), strict=True):
            yield (
                rank,
                json.dumps(article),
                int(row.words[0]),
                bytes(row.digests[0]),
                pickle.dumps(row, protocol=5),
                bool(row.scanned[0]),
            )


def _empty(rows: Any, on_empty: str) -> tuple[Skipped, ...]:
    """The articles without words (their ids: one per empty article), or the error naming the first."""
    empty = [
        (r["rank"], json.loads(r["name"])) for r in rows.where("words = 0").select("rank", "name").collect()
    ]
    if empty and on_empty == "error":
        raise EmptyArticleError(f"article {min(empty)[1]!r} is empty (no words)")
    return tuple(sorted((Skipped(str(i), "empty: no words") for _, i in empty), key=lambda s: s.id))


def _copies(kept: Any, level: Any) -> tuple[Any, Any]:
    """Exact copies: ``(a, b)`` ranks of each copy ``b`` and its leader ``a`` (the first by id of
    its digest), and the leaders (the distinct texts)."""
    from pyspark.sql import functions as F

    first = kept.groupBy("digest").agg(F.min("rank").alias("leader"))
    exact = (
        kept.join(first, "digest")
        .where("rank != leader")
        .select(F.col("leader").alias("a"), F.col("rank").alias("b"))
    )
    leaders = kept.join(first.select(F.col("leader").alias("rank")), "rank")
    return exact.persist(level), leaders.select("rank", "sketch").persist(level)


# ---------------------------------------------------------------- boilerplate


def _boilerplate(leaders: Any, config: DedupConfig, parts: int) -> frozenset[int]:
    """:func:`dedup.boilerplate.find_boilerplate` over the distinct texts: frequent lines counted
    by a reduction, rules 3-5 judged per line on the executors from the first :data:`SAMPLE`
    carriers by id; each pass with the boilerplate found so far (a bounded set) broadcast."""
    min_docs = config.boilerplate_min_docs
    if leaders.map(lambda r: len(r[1].line_hashes)).sum() < min_docs:
        return frozenset()
    lines = leaders.flatMap(lambda r: ((int(h), 1) for h in r[1].line_hashes.tolist()))
    counts = lines.reduceByKey(add, parts).filter(lambda kv: kv[1] >= min_docs).collectAsMap()
    if not counts:
        return frozenset()
    context = leaders.context
    frequent = context.broadcast(counts)
    samples = (
        leaders.flatMap(lambda r: _carrier(r, frequent.value))
        .combineByKey(lambda v: [v], _sampled, lambda x, y: _sampled_all(x + y), parts)
        .persist()
    )
    found: set[int] = set()
    for _ in range(PASSES):
        known = context.broadcast(frozenset(found))
        new = samples.filter(partial(_judged, known=known, frequent=frequent, config=config)).keys().collect()
        if not new:
            break
        found |= set(new)
    samples.unpersist()
    return frozenset(found)


def _carrier(row: Row, frequent: dict[int, int]) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """For each frequent line of a text: the text as one of its carriers (rank, the line's
    characters, the text's characters, its frequent lines with theirs, its signature)."""
    rank, table = row
    held = [(int(h), int(c)) for h, c in zip(table.line_hashes.tolist(), table.line_chars.tolist(), strict=True)
            if h in frequent]  # fmt: skip
    if not held:
        return
    total = int(table.line_chars.sum())
    for line, chars in held:
        yield line, (rank, chars, total, held, table.signatures[0])


def _sampled(kept: list[Any], value: Any) -> list[Any]:
    return _sampled_all([*kept, value])


def _sampled_all(values: list[Any]) -> list[Any]:
    """The first :data:`SAMPLE` carriers by id."""
    return sorted(values, key=lambda v: v[0])[:SAMPLE]


def _judged(item: tuple[int, list[Any]], *, known: Any, frequent: Any, config: DedupConfig) -> bool:
    """Rules 3-5 for one frequent line, the boilerplate ``known`` (broadcast) taken out of its carriers."""
    line, carriers = item
    known, frequent = known.value, frequent.value
    if line in known:
        return False
    chars = np.array([c for _, c, _, _, _ in carriers], dtype=np.float64)
    gone = np.array([sum(n for h, n in held if h in known) for *_, held, _ in carriers], dtype=np.float64)
    shared = np.array([sum(n for _, n in held) for *_, held, _ in carriers], dtype=np.float64) - gone
    total = np.array([t for _, _, t, _, _ in carriers], dtype=np.float64) - gone
    signatures = np.stack([s for *_, s in carriers])
    return is_boilerplate(chars, total, shared, frequent[line], signatures, config)


def _held_lines(leaders: Any, config: DedupConfig, parts: int) -> tuple[frozenset[int], tuple[int, int, int]]:
    """The boilerplate lines, filled-in forms and recurring reports' keys, in one set (as
    :func:`dedup.run.boilerplate_lines` holds them), and how many of each."""
    boilerplate, (forms, reports) = _boilerplate(leaders, config, parts), _forms(leaders, config, parts)
    return boilerplate | forms | reports, (len(boilerplate), len(forms), len(reports))


def _forms(leaders: Any, config: DedupConfig, parts: int) -> tuple[frozenset[int], frozenset[int]]:
    """:func:`dedup.forms.find_forms` over the distinct texts: the texts and fillings of each form
    counted by reductions, rule 3 judged per frequent form (a bounded set, broadcast) on the
    executors from its first :data:`SAMPLE` carriers by id; and the recurring reports' keys."""
    if config.form_min_docs <= 0:
        return frozenset(), frozenset()
    entries = leaders.flatMap(_form_entries)  # (form, line, rank), one per distinct line of a text
    texts = (
        entries.map(lambda e: (e[0], e[2])).distinct(parts).map(lambda e: (e[0], 1)).reduceByKey(add, parts)
    )
    fillings = (
        entries.map(lambda e: (e[0], e[1])).distinct(parts).map(lambda e: (e[0], 1)).reduceByKey(add, parts)
    )
    counted = texts.join(fillings, parts).filter(lambda kv: bool(forms_frequent(kv[1][0], kv[1][1], config)))
    frequent = dict(
        counted.map(lambda kv: (kv[0], bool(forms_recurring(kv[1][0], kv[1][1], config)))).collect()
    )
    if not frequent:
        return frozenset(), frozenset()
    wanted = leaders.context.broadcast(frozenset(frequent))
    samples = leaders.flatMap(lambda r: _form_carrier(r, wanted.value)).combineByKey(
        lambda v: [v], _sampled, lambda x, y: _sampled_all(x + y), parts
    )
    threshold = config.boilerplate_one_story
    story = samples.map(lambda kv: (kv[0], one_story(np.stack([s for _, s in kv[1]]), threshold))).collect()
    reports = np.array(sorted(int(f) for f, one in story if one and frequent[f]), dtype=np.uint64)
    return frozenset(int(f) for f, one in story if not one), frozenset(report_key(reports).tolist())


def _form_entries(row: Row) -> Iterator[tuple[int, int, int]]:
    rank, table = row
    for form, line in zip(table.line_forms.tolist(), table.line_hashes.tolist(), strict=True):
        if form:
            yield form, line, rank


def _form_carrier(row: Row, wanted: frozenset[int]) -> Iterator[tuple[int, tuple[int, np.ndarray]]]:
    """For each frequent form of a text: the text as one of its carriers (rank, signature)."""
    rank, table = row
    for form in set(table.line_forms.tolist()) & wanted:
        yield form, (rank, table.signatures[0])


def _resketched(
    leaders: Any, texts: Any, boilerplate: frozenset[int], config: DedupConfig, level: Any
) -> Any:
    """The distinct texts (``rank, sketch, furniture``) with the signatures of those mostly
    boilerplate taken without it (:func:`dedup.sketch.furniture_rows`): their texts joined in
    and resketched (:func:`dedup.sketch.signatures_without`)."""
    from pyspark.sql import functions as F

    if not boilerplate:
        return leaders.withColumn("furniture", F.lit(False))
    share = config.furniture_share
    settings = SketchSettings.of(config)

    def flagged(part: Iterable[Row]) -> Iterator[tuple[int]]:
        part = list(part)
        if part:
            table = SketchTable.concat([t for _, t in part], part[0][1].settings)
            chosen = furniture_rows(table, np.arange(len(part)), boilerplate, share).tolist()
            yield from ((part[k][0],) for k in chosen)

    def redo(part: Iterable[Any]) -> Iterator[tuple[int, bytes, int]]:
        part = list(part)
        if part:
            signatures, counts, _ = signatures_without([r["text"] for r in part], boilerplate=boilerplate,
                                                       settings=settings)  # fmt: skip
            yield from ((r["rank"], signatures[k].tobytes(), int(counts[k])) for k, r in enumerate(part))

    spark = leaders.sparkSession
    chosen = spark.createDataFrame(_unpacked(leaders).mapPartitions(flagged), "rank long")
    new = spark.createDataFrame(chosen.join(texts, "rank").rdd.mapPartitions(redo),
                                "rank long, signature binary, shingles long")  # fmt: skip
    patched = leaders.join(new, "rank", "left").rdd.map(_with_signature)
    out = spark.createDataFrame(patched, "rank long, sketch binary, furniture boolean").persist(level)
    out.count()  # made while the leaders it is made from are held
    leaders.unpersist()
    return out


def _with_signature(row: Any) -> tuple[int, bytes, bool]:
    if row["signature"] is None:
        return row["rank"], row["sketch"], False
    table = pickle.loads(row["sketch"])
    table.signatures[0] = np.frombuffer(row["signature"], dtype=table.signatures.dtype)
    table.shingles[0] = row["shingles"]
    return row["rank"], pickle.dumps(table, protocol=5), True


# ---------------------------------------------------------------- candidates


def _candidates(
    leaders: Any, config: DedupConfig, level: Any
) -> tuple[Any, tuple[int, int, int], np.ndarray]:
    """Candidate pairs ``(a, b)`` (ranks, a < b, distinct, a DataFrame): articles sharing a band
    value, an anchor or a passage, each bucket paired by :func:`dedup.candidates.bucket_pairs` in
    id order; their counts (all, from bands, from anchors) and the crowded anchors (sorted)."""
    window = config.crowded_window

    def bucket(limit: int, alone: int | None) -> Any:
        def pairs(item: tuple[Any, Iterable[int]]) -> Iterator[tuple[int, int]]:
            ranks = sorted(item[1])
            if len(ranks) < 2 or (alone is not None and len(ranks) > alone):
                return iter(())
            i, j = bucket_pairs(len(ranks), max_bucket=limit, window=window)
            return zip(np.array(ranks)[i].tolist(), np.array(ranks)[j].tolist(), strict=True)

        return pairs

    def paired(buckets: Any) -> Any:
        return spark.createDataFrame(buckets, "a long, b long")

    spark = leaders.sparkSession
    band = paired(_shared(leaders, "band", config).flatMap(bucket(config.lsh_max_bucket, None))).distinct()
    if scanned_bands(config) is not None:  # scanned articles: also candidates of one another by looser bands
        loose = _shared(leaders, "scanned", config).flatMap(bucket(config.lsh_max_bucket, None))
        band = band.union(paired(loose)).distinct()
    band = band.persist(level)  # counted, then used: computed once
    anchors = _shared(leaders, "anchors", config).persist(level)
    alone = config.anchor_alone_max_docs
    crowded_over = min(config.anchor_max_docs, alone)
    crowded = anchors.filter(lambda kv: len(kv[1]) > crowded_over).keys().collect()
    single = anchors.flatMap(
        bucket(config.anchor_max_docs, alone if alone < config.anchor_max_docs else None)
    )
    passages = _shared(leaders, "passages", config).flatMap(bucket(config.anchor_max_docs, None))
    anchor = paired(single.union(passages)).distinct().persist(level)
    candidates = band.union(anchor).distinct().persist(level)
    counts = (candidates.count(), band.count(), anchor.count())
    for data in (anchors, band, anchor):
        data.unpersist()
    return candidates, counts, np.sort(np.array(crowded, dtype=np.int64).view(np.uint64))


def _shared(leaders: Any, kind: str, config: DedupConfig) -> Any:
    """``(key, ranks)`` of the keys of ``kind`` (``band``: a band's value salted by its number;
    ``scanned``: the looser bands of scanned articles; ``anchors``, ``passages``: a sentence's or
    passage's hash) that two articles or more hold.
    The keys are made a batch of articles at a time (Arrow, numpy) and grouped in Spark's own
    engine, so only the shared ones come back to Python, not every key."""
    from pyspark.sql import functions

    bands, rows_per_band = (
        scanned_bands(config) or (0, 0)
        if kind == "scanned"
        else lsh_bands(config.candidate_threshold, config.num_perm)
    )

    def keys(batches: Iterable[Any]) -> Iterator[Any]:
        import pyarrow as pa

        for batch in batches:
            if batch.num_rows == 0:
                continue
            ranks = batch.column("rank").to_numpy()
            tables = [pickle.loads(b) for b in batch.column("sketch").to_pylist()]
            if kind in ("band", "scanned"):
                if kind == "scanned":  # the scanned articles' second sketch
                    ranks = ranks[[len(t.scan_rows) > 0 for t in tables]]
                    tables = [t for t in tables if len(t.scan_rows)]
                    if not tables:
                        continue
                block = np.concatenate(
                    [t.scan_signatures if kind == "scanned" else t.signatures for t in tables]
                )
                values = salted_bands(block, bands, rows_per_band, scanned=kind == "scanned").ravel()
                held = np.repeat(ranks, bands)
            else:
                columns = [getattr(t, kind) for t in tables]
                values = np.concatenate(columns)
                held = np.repeat(ranks, [len(c) for c in columns])
            yield pa.RecordBatch.from_arrays([pa.array(values.view(np.int64)), pa.array(held.astype(np.int64))],
                                             names=["key", "rank"])  # fmt: skip

    with warnings.catch_warnings():  # (pyspark warns of pandas 3 on mapInArrow; no pandas is used)
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        frame = leaders.select("rank", "sketch").mapInArrow(keys, "key long, rank long")
    grouped = frame.groupBy("key").agg(functions.collect_list("rank").alias("ranks"))
    return grouped.where(functions.size("ranks") >= 2).rdd.map(lambda row: (row[0], row[1]))


def _estimated(candidates: Any, leaders: Any, crowded: np.ndarray, config: DedupConfig) -> Any:
    """The candidates that pass the MinHash estimate (or share enough anchors):
    :func:`dedup.verification.estimate` on each partition's pairs joined with both sketches, as
    a DataFrame of ``(a, b, est)``."""
    from pyspark.sql import functions as F

    templates = candidates.rdd.context.broadcast(crowded)
    both = candidates.join(leaders.select(F.col("rank").alias("a"), F.col("sketch").alias("sa")), "a").join(
        leaders.select(F.col("rank").alias("b"), F.col("sketch").alias("sb")), "b"
    )

    def judged(part: Iterable[Any]) -> Iterator[tuple[int, int, float]]:
        part = iter(part)
        while chunk := list(islice(part, 16 * CHUNK)):
            tables = {r["a"]: r["sa"] for r in chunk} | {r["b"]: r["sb"] for r in chunk}
            ranks = sorted(tables)
            local = {r: k for k, r in enumerate(ranks)}
            loaded = [pickle.loads(tables[r]) for r in ranks]
            table = SketchTable.concat(loaded, loaded[0].settings)
            pairs = np.array([(local[r["a"]], local[r["b"]]) for r in chunk], dtype=np.int64)
            kept, estimates = estimate(Candidates(pairs, 0, 0, templates.value), table, config)
            yield from zip((ranks[a] for a in kept[:, 0].tolist()), (ranks[b] for b in kept[:, 1].tolist()),
                           estimates.tolist(), strict=True)  # fmt: skip

    return _session().createDataFrame(both.rdd.mapPartitions(judged), "a long, b long, est double")


def _session() -> Any:
    from pyspark.sql import SparkSession

    return SparkSession.builder.getOrCreate()


# ---------------------------------------------------------------- alignment


def _aligned(
    exact: Any, survivors: Any, texts: Any, rows: Any, leaders: Any, boilerplate: frozenset[int],
    crowded: np.ndarray, config: DedupConfig,
) -> Any:  # fmt: skip
    """Every task — an exact copy with its leader, a surviving candidate — joined with both texts,
    checked and aligned next to them: ``(exact, passed, aligned, Pair or None, rank a, rank b)``."""
    from pyspark.sql import functions as F

    tasks = exact.withColumn("est", F.lit(None).cast("double")).unionByName(survivors)
    about = (
        texts.join(rows.select("rank", "name"), "rank")
        .join(leaders.select("rank", "furniture"), "rank", "left")
        .select("rank", "name", "text", F.coalesce("furniture", F.lit(False)).alias("furniture"))
    )
    side = {
        k: about.select(*(F.col(c).alias(c + k) for c in ("rank", "name", "text", "furniture"))) for k in "ab"
    }
    joined = tasks.join(side["a"], tasks["a"] == F.col("ranka")).join(side["b"], tasks["b"] == F.col("rankb"))

    def work(part: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        tasks = (
            (r["a"], r["b"], r["est"], (json.loads(r["namea"]), r["texta"], r["furniturea"]),
             (json.loads(r["nameb"]), r["textb"], r["furnitureb"]))
            for r in part
        )  # fmt: skip
        return _check_and_align(tasks, boilerplate=boilerplate, templates=crowded, config=config)

    return joined.rdd.mapPartitions(work)


def _check_and_align(
    tasks: Iterable[tuple[int, int, float | None, tuple[ArticleId, str, bool], tuple[ArticleId, str, bool]]], *,
    boilerplate: frozenset[int], templates: np.ndarray, config: DedupConfig,
) -> Iterator[tuple[Any, ...]]:  # fmt: skip
    """The exact pre-check (:func:`dedup.verification.passes_check`, from the two texts' shingles)
    and the alignment of a partition's tasks, :data:`CHUNK` at a time."""
    tasks = iter(tasks)
    while chunk := list(islice(tasks, CHUNK)):
        candidates = [k for k, (_, _, est, _, _) in enumerate(chunk) if est is not None]
        passed = set(range(len(chunk)))
        scanned = [int(looks_scanned(ia[1])) + int(looks_scanned(ib[1])) if config.detect_scans else 0
                   for _, _, _, ia, ib in chunk]  # fmt: skip
        if candidates:
            passed -= _failing(
                chunk, candidates, scanned, boilerplate=boilerplate, templates=templates, config=config
            )
        work = sorted(passed)
        results = align_chunk([(chunk[k][2] is None, chunk[k][3][1], chunk[k][4][1], scanned[k]) for k in work],
                              config=config, boilerplate=boilerplate)  # fmt: skip
        done = dict(zip(work, results, strict=True))
        for k, (a, b, est, ia, ib) in enumerate(chunk):
            exact = est is None
            alignment, overlap = done.get(k, (None, None))
            pair = None
            if alignment is not None:
                task = AlignTask(0, 1, None if exact else 0, scanned[k])
                pair = make_pair(task, alignment, overlap, ids=[ia[0], ib[0]], estimates=np.array([est or 1.0]),
                                 config=config)  # fmt: skip
            yield exact, k in passed, alignment is not None, pair, a, b


def _failing(
    chunk: list[Any], candidates: list[int], scanned: list[int], *, boilerplate: frozenset[int],
    templates: np.ndarray, config: DedupConfig,
) -> set[int]:  # fmt: skip
    """The candidates of ``chunk`` (positions) that fail the exact pre-check, from the two texts'
    shingles (two scans pass: their 3-word estimate decided)."""
    settings = SketchSettings.of(config)
    about = {rank: info for a, b, _, ia, ib in chunk for rank, info in ((a, ia), (b, ib))}
    ranks = sorted(about)
    row = {r: k for k, r in enumerate(ranks)}
    with ShingleStore() as store:
        _, shingles = SketchTable.build_with_shingles([about[r][1] for r in ranks], settings)
        store.put(np.arange(len(ranks)), shingles)
        redone = [r for r in ranks if about[r][2]]
        if redone:
            _, counts, values = signatures_without([about[r][1] for r in redone], boilerplate=boilerplate,
                                                    settings=settings)  # fmt: skip
            store.put(np.array([row[r] for r in redone]), Shingles.untagged(counts, values))
        pairs = np.array([(row[chunk[k][0]], row[chunk[k][1]]) for k in candidates], dtype=np.int64)
        whole, own = exact_containment(np.sort(pairs, axis=1), store, boilerplate, templates)
    keep = passes_check(whole, own, config, np.array([scanned[k] for k in candidates], dtype=np.int64))
    return {k for k, ok in zip(candidates, keep.tolist(), strict=True) if not ok}


# ---------------------------------------------------------------- story groups


def _story_groups(reported: Any, exact: Any, rows: Any, level: Any, parts: int) -> Any:
    """The story groups: connected components of the strong links and exact copies (computed on
    the executors), then :func:`dedup.clustering.assign_groups` on each component, on one
    executor — exactly the local engine's groups, as the rule never reaches across components.
    An RDD of :class:`~dedup.results.Cluster` (two members or more), persisted."""
    from pyspark.sql import functions as F

    links = reported.filter(lambda r: r[0].kind != "exact" and strong(r[0])).persist(level)
    edges = links.map(lambda r: (r[1], r[2])).union(exact.rdd.map(tuple))
    labels = connected_components(edges, level, parts)
    spark = rows.sparkSession
    labelled = spark.createDataFrame(labels, "rank long, label long").persist(level)
    names = rows.select("rank", "name", "words")
    nodes = labelled.join(names, "rank").rdd.map(
        lambda r: (r["label"], ("node", (json.loads(r["name"]), r["words"])))
    )
    copies = (
        exact.join(names.select(F.col("rank").alias("b"), F.col("name").alias("copy")), "b")
        .join(names.select(F.col("rank").alias("a"), F.col("name").alias("leader")), "a")
        .join(labelled.select(F.col("rank").alias("a"), "label"), "a")
        .rdd.map(lambda r: (r["label"], ("copy", (json.loads(r["leader"]), json.loads(r["copy"])))))
    )
    pairs = (
        links.map(lambda r: (r[1], r[0])).join(labels, parts).map(lambda kv: (kv[1][1], ("pair", kv[1][0])))
    )
    grouped = pairs.union(copies).union(nodes).groupByKey(parts).flatMap(lambda kv: _component_groups(kv[1]))
    grouped = grouped.persist(level)
    grouped.count()  # computed once, while what it is made of is held
    for data in (links, labels, labelled):
        data.unpersist()
    return grouped


def write_tables(reported: Any, groups: Any, rows: Any, *, directory: Path) -> None:
    """``directory/pairs`` and ``directory/groups``, the tables of :func:`dedup.formats.write_tables`
    (the same columns and rows), written by the executors."""
    spark = _session()
    numbers = ", ".join(f"{c} double" for c in PAIR_COLUMNS[4:])
    pairs = spark.createDataFrame(
        reported.map(lambda r: (r[1], r[2], *pair_row(r[0]))),
        f"rank_a long, rank_b long, a string, b string, kind string, direction string, {numbers}, alignment string",
    )
    pairs.orderBy("rank_a", "rank_b").drop("rank_a", "rank_b").write.parquet(str(directory / "pairs"))
    members = (
        groups.sortBy(_group_order)
        .zipWithIndex()
        .flatMap(lambda item: ((item[1] + 1, str(item[0].representative), str(m)) for m in item[0].members))
    )
    # (in the order sortBy left them: partitions in order, members in order within each)
    spark.createDataFrame(members, "group long, representative string, member string").write.parquet(
        str(directory / "groups")
    )


def _group_order(cluster: Cluster) -> tuple[int, tuple[int, int, str]]:
    """Story groups largest first, then by their first member's id (as every report orders them)."""
    return -len(cluster.members), id_key(cluster.members[0])


def _component_groups(items: Iterable[tuple[str, Any]]) -> list[Cluster]:
    pairs: list[Pair] = []
    length: dict[ArticleId, int] = {}
    copies: dict[ArticleId, list[ArticleId]] = {}
    for kind, value in items:
        if kind == "pair":
            pairs.append(value)
        elif kind == "node":
            length[value[0]] = value[1]
        else:
            copies.setdefault(value[0], []).append(value[1])
    ordered = {leader: sorted(dup, key=id_key) for leader, dup in copies.items()}
    return clusters_of(
        assign_groups(sorted(pairs, key=lambda p: (id_key(p.a), id_key(p.b))), length, ordered)
    )


def connected_components(edges: Any, level: Any, parts: int) -> Any:
    """``(node, component)`` for every node of the undirected ``edges`` (``(u, v)`` ints), a
    component named by its smallest node: the large-star / small-star algorithm (Kiveris et al.,
    "Connected Components in MapReduce and Beyond", 2014), a few shuffles a round, O(log n) rounds."""

    def large_star(item: tuple[int, Iterable[int]]) -> Iterator[tuple[int, int]]:
        node, neighbours = item[0], set(item[1])
        least = min(neighbours | {node})
        return ((v, least) for v in neighbours if v > node)

    def small_star(item: tuple[int, Iterable[int]]) -> Iterator[tuple[int, int]]:
        smaller = set(item[1]) | {item[0]}
        least = min(smaller)
        return ((v, least) for v in smaller if v != least)

    current = (
        edges.map(lambda e: (max(e), min(e))).filter(lambda e: e[0] != e[1]).distinct(parts).persist(level)
    )
    while True:
        both = current.flatMap(lambda e: (e, (e[1], e[0])))
        large = both.groupByKey(parts).flatMap(large_star)
        small = (
            large.map(lambda e: (max(e), min(e)))
            .groupByKey(parts)
            .flatMap(small_star)
            .distinct(parts)
            .persist(level)
        )
        same = small.count() == current.count() and small.subtract(current, parts).isEmpty()
        current.unpersist()
        current = small
        if same:
            break
    roots = current.map(lambda e: (e[1], e[1])).distinct(parts)
    return current.union(roots).persist(level)

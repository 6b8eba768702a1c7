"""``find_duplicates``: the whole pipeline, one stage call after another.

1. read and sketch every article (:mod:`dedup.sketch`) on the executor, streaming: texts go to a
   :class:`~dedup.store.TextStore`, only the small sketches stay in memory;
2. group exact copies by digest (:mod:`dedup.copies`);
3. boilerplate lines from the line hashes (:mod:`dedup.boilerplate`), and the signatures of
   articles that are mostly boilerplate computed again without it;
4. candidates from LSH bands and sentence anchors (:mod:`dedup.candidates`);
5. a cheap pre-check from the signatures, then paragraph alignment of the surviving pairs on the
   executor (:mod:`dedup.verification`, :mod:`dedup.alignment`);
6. story clusters (:mod:`dedup.clustering`).

Results do not depend on the input order, ``PYTHONHASHSEED`` or the number of workers.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import fields
from functools import partial
from importlib.metadata import version
from itertools import islice
from typing import Any, Literal

import numpy as np

try:
    import resource
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]

from .articles import Article, ArticlesInput, Ingest, id_ranks, iter_articles
from .boilerplate import MANY_DOCS, ONE_STORY, table_boilerplate
from .candidates import ALONE_MAX_DOCS, MAX_BUCKET, BatchIndex, Candidates, lsh_bands, self_join
from .clustering import cluster_pairs
from .config import DedupConfig
from .copies import ExactCopies, group_exact_copies
from .errors import ConfigError, InputError
from .executor import Executor, LocalExecutor
from .normalize import DEFAULT_NORMALIZE
from .results import Cluster, DedupResult, Pair, RunSummary, Skipped
from .semantic import add_rewritten, load_model, semantic_params
from .shingles import ANCHOR_MIN_WORDS
from .signatures import DATASKETCH_VERSION, SCHEME
from .sketch import SKETCH_SCHEME, SketchSettings, SketchTable, resketch_without_boilerplate
from .store import ShingleStore, TextStore
from .verification import align_tasks, precheck, verify

DISTRIBUTION = "newsdedup"
"""The name dedup is installed under (``pip install newsdedup``; the import name is ``dedup``)."""
CHUNK = 512
"""Articles per sketching task sent to the executor."""
PARALLEL_MIN_ARTICLES = 4000
"""Below this many articles (when the count is known) everything runs in this process."""


def find_duplicates(
    articles: ArticlesInput,
    *,
    config: DedupConfig | None = None,
    on_empty: Literal["skip", "error"] = "skip",
    progress: bool = False,
    workers: int | None = None,
    timings: dict[str, float] | None = None,
    **options: Any,
) -> DedupResult:
    """Find the articles of a collection that share text, and explain what they share.

    ``articles``: :class:`Article` objects, ``(id, text)`` pairs, a mapping id → text, or plain
    strings (ids 0..n-1); a list or mapping is used in place, any other iterable is streamed (its
    texts are spilled to a temporary file until alignment). Options are the fields of
    :class:`DedupConfig` (``shingle_size=5``, ``semantic=True``, ...), as keywords or as one
    ``config``. An article with no words is skipped and listed in ``result.skipped``, or raises
    :class:`InputError` with ``on_empty="error"``. ``progress`` shows progress bars on stderr. ``workers`` is the number of
    processes (default: all cores for large inputs); it never changes the result. A ``timings``
    dict, if given, receives the seconds each stage took (kept out of the result, which must not
    depend on the machine).

    >>> result = find_duplicates({"x": "one two three four five six", "y": "one two three four five six"})
    >>> [(p.a, p.b, p.kind) for p in result.pairs]
    [('x', 'y', 'exact')]
    """
    config = _settings(config, options, on_empty)
    embed = load_model() if config.semantic else None  # a missing extra fails before any work
    in_memory = isinstance(articles, Sequence | Mapping) and not isinstance(articles, str | bytes)
    workers = _workers(workers, len(articles) if in_memory else None)  # type: ignore[arg-type]
    clock = StageClock(timings if timings is not None else {})
    executor, store = LocalExecutor(workers, progress=progress), TextStore(spill=not in_memory)
    with executor, store, ShingleStore() as shingles:
        ingest = Ingest()
        table = sketch_articles(iter_articles(articles), ingest, store, config, executor, shingles)
        clock.lap("read_and_sketch")
        rank = id_ranks(ingest.ids)
        kept, skipped = _non_empty(table, ingest, rank, on_empty)
        copies = group_exact_copies(table, kept, rank)
        clock.lap("exact_copies")
        boilerplate = _boilerplate(table, copies, rank, config, (store, executor, shingles))
        clock.lap("boilerplate")
        candidates = self_join(BatchIndex(config, rank), table, copies.leaders)
        clock.lap("candidates")
        survivors, estimates = precheck(candidates, table, config, shingles, boilerplate)
        table.release()
        clock.lap("precheck")
        tasks = align_tasks(copies, survivors, rank)
        pairs, aligned = verify(tasks, store=store, ids=ingest.ids, estimates=estimates, boilerplate=boilerplate,
                                config=config, executor=executor)  # fmt: skip
        clock.lap("align")
        if embed is not None:  # the opt-in semantic check
            pairs = _rewritten(pairs, embed, candidates, copies, store, ingest, config, boilerplate)
            clock.lap("semantic")
        clusters = _clusters(pairs, table, kept, copies, ingest)
        clock.lap("cluster")
    checked = (len(survivors), aligned)
    summary = summarize(table, kept, copies, boilerplate, candidates, checked, pairs, clusters)
    meta = _shown_metadata(pairs, clusters, ingest)
    return DedupResult(tuple(pairs), tuple(clusters), skipped, run_params(config), summary, meta)


def _rewritten(
    pairs: list[Pair], embed: Any, candidates: Candidates, copies: ExactCopies, store: TextStore, ingest: Ingest,
    config: DedupConfig, boilerplate: frozenset[int],
) -> list[Pair]:  # fmt: skip
    """``pairs`` with the semantic check's ``rewritten`` pairs (:mod:`dedup.semantic`)."""
    return add_rewritten(pairs, candidates.pairs, copies.leaders.tolist(), texts=store.get, ids=ingest.ids,
                         config=config, embed=embed, boilerplate=boilerplate)  # fmt: skip


def _boilerplate(
    table: SketchTable, copies: ExactCopies, rank: np.ndarray, config: DedupConfig,
    resketching: tuple[TextStore, LocalExecutor, ShingleStore],
) -> frozenset[int]:  # fmt: skip
    """The boilerplate lines; articles that are a fifth boilerplate or more are sketched again."""
    boilerplate = table_boilerplate(table, copies.is_leader, rank, min_docs=config.boilerplate_min_docs)
    resketch_without_boilerplate(table, copies.leaders, boilerplate, *resketching)
    return boilerplate


def _workers(workers: int | None, count: int | None) -> int:
    """The given number of processes, or by default one for a small collection, else all cores."""
    if workers is not None:
        return workers
    return 1 if count is not None and count < PARALLEL_MIN_ARTICLES else (os.cpu_count() or 1)


def _settings(config: DedupConfig | None, options: dict[str, Any], on_empty: str) -> DedupConfig:
    if on_empty not in ("skip", "error"):
        raise ConfigError(f"on_empty must be 'skip' or 'error', got {on_empty!r}")
    if config is None:
        return DedupConfig(**options)
    if options:
        raise TypeError("pass either config or keyword options, not both")
    return config


class StageClock:
    """Seconds per stage, and the peak memory after each, into a ``timings`` dict."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round(now - self._last, 3)
        self._last = now
        if resource is not None:  # peak memory so far, to see which stage sets it
            self.timings[f"peak_rss_mb_after_{stage}"] = (
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
            )


def sketch_articles(
    articles: Iterator[Article], ingest: Ingest, store: TextStore, config: DedupConfig, executor: Executor,
    shingles: ShingleStore,
) -> SketchTable:  # fmt: skip
    """Sketch every article on the executor, chunk by chunk, keeping its text in ``store`` and its
    shingles in ``shingles``."""
    settings = SketchSettings.of(config)

    def chunks() -> Iterator[list[str]]:
        while batch := list(islice(articles, CHUNK)):
            for article in batch:
                row = ingest.add(article)
                try:
                    store.add(article.text)
                except UnicodeEncodeError as error:
                    raise InputError(
                        f"{ingest.where(row)}article {article.id!r}: its text has a lone surrogate "
                        f"(\\u{ord(article.text[error.start]):04x}) at character {error.start}, which no UTF-8 output can carry"
                    ) from None
            yield [article.text for article in batch]

    def tables() -> Iterator[SketchTable]:
        work = partial(SketchTable.build_with_shingles, settings=settings)
        for table, values in executor.map(work, chunks(), label="sketching", size=lambda out: len(out[0])):
            shingles.put(np.arange(len(shingles), len(shingles) + len(table)), values)
            yield table

    table = SketchTable.concat(list(tables()), settings)
    table.ids = ingest.ids
    return table


def _non_empty(
    table: SketchTable, ingest: Ingest, rank: np.ndarray, on_empty: str
) -> tuple[np.ndarray, tuple[Skipped, ...]]:
    """Rows with words, and the articles skipped for having none (or the error naming the first)."""
    empty = np.flatnonzero(table.words == 0)
    if empty.size and on_empty == "error":
        row = int(empty[np.argmin(rank[empty])])
        raise InputError(f"{ingest.where(row)}article {ingest.ids[row]!r} is empty (no words)")
    skipped = sorted((Skipped(str(ingest.ids[r]), "empty: no words") for r in empty), key=lambda s: s.id)
    return np.flatnonzero(table.words > 0), tuple(skipped)


def _clusters(
    pairs: list[Pair], table: SketchTable, kept: np.ndarray, copies: ExactCopies, ingest: Ingest
) -> list[Cluster]:
    ids = ingest.ids
    id_copies = {ids[leader]: [ids[r] for r in rows] for leader, rows in copies.copies.items()}
    lengths = {ids[r]: int(table.words[r]) for r in kept.tolist()}
    return cluster_pairs([p for p in pairs if p.kind != "exact"], lengths, id_copies)


def _shown_metadata(pairs: list[Pair], clusters: list[Cluster], ingest: Ingest) -> dict[Any, dict[str, Any]]:
    """The metadata given with the articles that the result shows."""
    shown = {i for p in pairs for i in (p.a, p.b)} | {m for c in clusters for m in c.members}
    return ingest.metadata(r for r, i in enumerate(ingest.ids) if i in shown)


def summarize(
    table: SketchTable, kept: np.ndarray, copies: ExactCopies, boilerplate: frozenset[int],
    candidates: Candidates, checked: tuple[int, int], pairs: list[Pair], clusters: list[Cluster],
) -> RunSummary:  # fmt: skip
    """The counts of a run; ``checked``: candidates past the pre-check, and pairs aligned (those
    past the exact containment check, exact copies included)."""
    kinds = Counter(p.kind for p in pairs)
    return RunSummary(
        articles=len(table), compared=len(kept), skipped=len(table) - len(kept),
        distinct_texts=len(copies.leaders), boilerplate_lines=len(boilerplate),
        candidate_pairs=len(candidates.pairs), candidate_pairs_lsh=candidates.from_bands,
        candidate_pairs_anchor=candidates.from_anchors, anchors_shared_too_widely=len(candidates.crowded_anchors),
        prechecked_pairs=checked[0], aligned_pairs=checked[1], pairs=len(pairs), pairs_exact=kinds["exact"],
        pairs_near_duplicate=kinds["near_duplicate"], pairs_contained=kinds["contained"],
        pairs_partial=kinds["partial"], pairs_rewritten=kinds["rewritten"], clusters=len(clusters),
        articles_in_clusters=sum(len(c.members) for c in clusters),
    )  # fmt: skip


def run_params(config: DedupConfig) -> dict[str, Any]:
    """Every setting of a run, with the versions and schemes that make its numbers reproducible."""
    bands, rows = lsh_bands(config.candidate_threshold, config.num_perm)
    return {
        **config.to_dict(),
        "engine": "local",
        "lsh_bands": bands,
        "lsh_rows_per_band": rows,
        "lsh_max_bucket": MAX_BUCKET,
        "minhash_scheme": SCHEME,
        "sketch_scheme": SKETCH_SCHEME,
        "anchor_min_words": ANCHOR_MIN_WORDS,
        "anchor_alone_max_docs": ALONE_MAX_DOCS,
        "shingle_hash": "polynomial hash of each word's code points, position-weighted sum, fmix64, folded to 32 bits",
        "normalization": [f.name for f in fields(DEFAULT_NORMALIZE) if getattr(DEFAULT_NORMALIZE, f.name)],
        "boilerplate_rule": (
            f"line in >= {config.boilerplate_min_docs} distinct texts, frequent lines under half of their text; "
            f"or in >= {MANY_DOCS} whose other text is mostly their own; "
            f"unless its carriers' signatures agree in a median >= {ONE_STORY} (one story)"
        ),
        **(semantic_params() if config.semantic else {}),
        "datasketch_version": DATASKETCH_VERSION,
        "rapidfuzz_version": version("rapidfuzz"),
        "dedup_version": version(DISTRIBUTION),
    }

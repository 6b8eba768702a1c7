"""The stage sequence: the one place where the stages of a run are ordered.

The engines of one machine run here — :func:`dedup.find_duplicates` (the batch run) and
:class:`dedup.Index` (an archive) — and differ only in what they plug in; the Spark engine runs the
same sequence distributed (:mod:`dedup.spark_stages`), each stage calling the same rule::

    read and sketch ─► drop empty ─► admit ─► exact copies ─► boilerplate ─► resketch furniture
      ─► candidates ─► read back context ─► estimate ─► exact check + align ─► (semantic)
      ─► story groups ─► settle ─► summarize

Three plug points:

- **where texts live, and who runs the per-chunk work next to them** — a :class:`Texts`:
  :class:`dedup.local.LocalTexts` (in memory or spilled to a temporary file, chunks run in this
  process or in worker processes by a :class:`~dedup.executor.LocalExecutor`);
- **where candidates come from** — a :class:`CandidateSource`: :class:`BatchSource` (the
  collection's self-join) or :class:`dedup.archive.ArchiveSource` (the archive's stored keys, and
  the stored articles they reach read back as context);
- **the executor**, held by the :class:`Texts` (sketching, resketching and alignment are chunked
  functions handed to it).

Every rule (non-empty, exact copies, boilerplate, bucket caps, the pre-check, the decision, the
majority rule of story groups) is a function of its own module that each plug point calls; none
is written twice. Results do not depend on the input order, ``PYTHONHASHSEED``, the number of
workers or the engine.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from importlib.metadata import version
from typing import Any, Literal, Protocol

import numpy as np

try:
    import resource
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]

from .alignment import REWORDED_RULE
from .articles import ArticleId, id_ranks
from .boilerplate import find_boilerplate
from .candidates import BatchIndex, Candidates, lsh_bands, scanned_bands, self_join
from .clustering import GROUPING_RULE, Grouping, assign_groups, clusters_of
from .config import DedupConfig
from .copies import ExactCopies, group_exact_copies
from .errors import EmptyArticleError
from .forms import find_forms
from .forms import rule as form_rule
from .normalize import DEFAULT_NORMALIZE
from .results import Cluster, DedupResult, Pair, RunSummary, Skipped
from .scans import RULE as SCAN_RULE
from .shingles import ANCHOR_MIN_WORDS
from .signatures import DATASKETCH_VERSION, SCHEME
from .sketch import SKETCH_SCHEME, SketchSettings, SketchTable
from .verification import SCANNED_THRESHOLD_DROP, AlignTask, Outcome, align_tasks, estimate, reported_pairs

DISTRIBUTION = "newsdedup"
"""The name dedup is installed under (``pip install newsdedup``; the import name is ``dedup``)."""


class Texts(Protocol):
    """Where a run's texts live, and the chunked work done next to them."""

    def sketch(self, settings: SketchSettings) -> SketchTable:
        """Read every article and sketch it (the table's ``ids`` in row order)."""

    def where(self, row: int) -> str:
        """``"file:line: "`` of a row, or ``""``."""

    def metadata(self, ids: set[ArticleId]) -> dict[ArticleId, dict[str, Any]]:
        """The metadata given with these articles, by id (those that have any)."""

    def text(self, row: int) -> str:
        """One row's text (the semantic check and the archive's store read it)."""

    def extend(
        self, articles: Sequence[tuple[ArticleId, str, dict[str, Any]]], settings: SketchSettings
    ) -> SketchTable:
        """Rows after the last for ``articles`` (id, text, metadata: an archive's stored articles
        read back), sketched."""

    def resketch(self, table: SketchTable, rows: np.ndarray, boilerplate: frozenset[int]) -> None:
        """The signatures of those ``rows`` that are mostly boilerplate, again without it."""

    def check_and_align(
        self, tasks: list[AlignTask], boilerplate: frozenset[int], templates: np.ndarray, config: DedupConfig
    ) -> list[Outcome]:
        """For each task: the exact containment check (:func:`dedup.verification.passes_check`;
        exact copies pass), then the alignment of those that passed."""


@dataclass
class Found:
    """What a :class:`CandidateSource` found for a run's rows ``0..n-1``.

    ``candidates`` number the stored articles it reached ``n + k`` for ``context[k]`` (id, text, metadata),
    which the run reads back and compares like its own; ``twins`` maps a leader row whose text is
    stored already to the index of that stored article in ``context``."""

    candidates: Candidates
    context: list[tuple[ArticleId, str, dict[str, Any]]] = field(default_factory=list)
    twins: dict[int, int] = field(default_factory=dict)


@dataclass
class Run:
    """The state of one run, as the stages leave it (what a source needs to settle)."""

    config: DedupConfig
    texts: Texts
    table: SketchTable
    ids: list[ArticleId]
    n: int
    """Rows ``0..n-1`` are the run's own articles, the rest stored context."""
    kept: np.ndarray
    copies: ExactCopies
    fresh: np.ndarray
    boilerplate: frozenset[int] = frozenset()
    pairs: list[Pair] = field(default_factory=list)


class CandidateSource(Protocol):
    """Where candidates come from, and what is already held besides the run's articles."""

    def admit(self, table: SketchTable, kept: np.ndarray, texts: Texts) -> np.ndarray:
        """The ``kept`` rows to compare (an archive passes over those it holds already)."""

    def fresh(self, table: SketchTable, leaders: np.ndarray) -> np.ndarray:
        """The leader rows whose text is not held yet."""

    def line_counts(self, hashes: np.ndarray) -> np.ndarray | None:
        """How many held texts carry each line (``None``: nothing is held besides the run)."""

    def candidates(self, table: SketchTable, rows: np.ndarray, rank: np.ndarray) -> Found:
        """Candidate pairs of ``rows`` among themselves and with what is held."""

    def stored_groups(self, ids: Sequence[ArticleId]) -> tuple[dict[ArticleId, int], dict[int, int]]:
        """The story group of each of these held articles, and those groups' sizes."""

    def settle(self, run: Run, grouping: Grouping) -> tuple[list[Cluster], dict[str, Any] | None]:
        """The story groups as clusters (an archive stores the run first), and what to report of it."""


class BatchSource:
    """The collection is everything: candidates from its self-join, nothing held before."""

    def __init__(self, config: DedupConfig) -> None:
        self.config = config

    def admit(self, table: SketchTable, kept: np.ndarray, texts: Texts) -> np.ndarray:
        return kept

    def fresh(self, table: SketchTable, leaders: np.ndarray) -> np.ndarray:
        return leaders

    def line_counts(self, hashes: np.ndarray) -> np.ndarray | None:
        return None

    def candidates(self, table: SketchTable, rows: np.ndarray, rank: np.ndarray) -> Found:
        return Found(self_join(BatchIndex(self.config, rank), table, rows))

    def stored_groups(self, ids: Sequence[ArticleId]) -> tuple[dict[ArticleId, int], dict[int, int]]:
        return {}, {}

    def settle(self, run: Run, grouping: Grouping) -> tuple[list[Cluster], dict[str, Any] | None]:
        return clusters_of(grouping), None


def run(
    texts: Texts, source: CandidateSource, config: DedupConfig, *, on_empty: Literal["skip", "error"] = "skip",
    engine: str = "local", timings: dict[str, float] | None = None, embed: Any = None,
) -> DedupResult:  # fmt: skip
    """Run every stage, in order, on ``texts`` with candidates from ``source``."""
    clock = StageClock(timings if timings is not None else {})
    table = texts.sketch(SketchSettings.of(config))
    clock.lap("read_and_sketch")
    n = len(table)
    rank = id_ranks(table.ids)
    kept, skipped = non_empty(table, rank, on_empty, texts.where)
    kept = source.admit(table, kept, texts)
    copies = group_exact_copies(table, kept, rank)
    fresh = source.fresh(table, copies.leaders)
    clock.lap("exact_copies")
    boilerplate, held = boilerplate_lines(table, fresh, rank, config, source.line_counts)
    texts.resketch(table, fresh, boilerplate)
    clock.lap("boilerplate")
    found = source.candidates(table, fresh, rank)
    clock.lap("candidates")
    table, ids, copies = _with_context(texts, table, copies, found, boilerplate)
    candidates = found.candidates
    estimated, estimates = estimate(candidates, table, config)
    tasks = align_tasks(
        copies, estimated, id_ranks(ids), table.scanned if config.detect_scans else np.empty(0, bool)
    )
    table.release()
    clock.lap("precheck")
    outcomes = texts.check_and_align(tasks, boilerplate, candidates.crowded_anchors, config)
    checked = sum(1 for t, (passed, _, _) in zip(tasks, outcomes, strict=True) if passed and not t.exact)
    pairs, aligned = reported_pairs(
        ((t, (alignment, overlap)) for t, (passed, alignment, overlap) in zip(tasks, outcomes, strict=True)),
        ids=ids, estimates=estimates, config=config,
    )  # fmt: skip
    clock.lap("align")
    if embed is not None:  # the opt-in semantic check (a batch run, an archive)
        pairs = _with_rewritten(pairs, texts, ids, n, copies, candidates, boilerplate, config, embed)
        clock.lap("semantic")
    state = Run(config, texts, table, ids, n, kept, copies, fresh, boilerplate, pairs)
    grouping = group(state, source)
    clusters, archive = source.settle(state, grouping)
    clock.lap("cluster")
    scanned = int(table.scanned[kept].sum()) if config.detect_scans else 0
    summary = summarize(
        table,
        n,
        kept,
        copies,
        held,
        candidates,
        (checked, aligned),
        pairs,
        clusters,
        scanned,
    )
    meta = texts.metadata(shown_ids(pairs, clusters))
    params = {**run_params(config), "engine": engine}
    return DedupResult(tuple(pairs), tuple(clusters), skipped, params, summary, meta, archive)


def _with_rewritten(
    pairs: list[Pair], texts: Texts, ids: list[ArticleId], n: int, copies: ExactCopies, candidates: Candidates,
    boilerplate: frozenset[int], config: DedupConfig, embed: Any,
) -> list[Pair]:  # fmt: skip
    """The pairs with the semantic check's rewritten pairs (:func:`dedup.semantic.add_rewritten`)
    among the distinct texts: the run's leaders, less those a stored article leads, and the stored
    articles read back (rows from ``n`` on; two of them are no pair of this run)."""
    from .semantic import add_rewritten

    stored_led = {r for leader, rows in copies.copies.items() if leader >= n for r in rows}
    leaders = [*(r for r in copies.leaders.tolist() if r not in stored_led), *range(n, len(ids))]
    return add_rewritten(pairs, candidates.pairs, leaders, texts=texts.text, ids=ids, config=config, embed=embed,
                         boilerplate=boilerplate, templates=candidates.crowded_anchors, stored_from=n)  # fmt: skip


def _with_context(
    texts: Texts, table: SketchTable, copies: ExactCopies, found: Found, boilerplate: frozenset[int]
) -> tuple[SketchTable, list[ArticleId], ExactCopies]:
    """The table with the stored articles ``found`` reached read back below it (sketched, their
    furniture resketched), all ids, and the exact copies with stored twins leading theirs."""
    n = len(table)
    ids = list(table.ids)
    if not found.context:
        return table, ids, copies
    extra = texts.extend(found.context, table.settings)
    table = SketchTable.concat([table, extra], table.settings)
    table.ids = ids = [*ids, *(c[0] for c in found.context)]
    texts.resketch(table, np.arange(n, len(table), dtype=np.int64), boilerplate)
    groups = {k: list(v) for k, v in copies.copies.items()}
    for leader, k in found.twins.items():
        groups[n + k] = [leader, *groups.pop(leader, [])]
    return table, ids, ExactCopies(copies.leaders, groups, copies.is_leader)


def group(run: Run, source: CandidateSource) -> Grouping:
    """Story groups: :func:`dedup.clustering.assign_groups` over the strong pairs, with the held
    articles' groups from ``source``."""
    ids, table = run.ids, run.table
    id_copies = {ids[leader]: [ids[r] for r in rows] for leader, rows in run.copies.copies.items()}
    lengths = {ids[r]: int(table.words[r]) for r in (*run.kept.tolist(), *range(run.n, len(table)))}
    stored, sizes = source.stored_groups(ids[run.n :])
    return assign_groups([p for p in run.pairs if p.kind != "exact"], lengths, id_copies, stored, sizes)


def non_empty(
    table: SketchTable, rank: np.ndarray, on_empty: str, where: Any
) -> tuple[np.ndarray, tuple[Skipped, ...]]:
    """Rows with words, and the articles skipped for having none (or the error naming the first)."""
    empty = np.flatnonzero(table.words == 0)
    if empty.size and on_empty == "error":
        row = int(empty[np.argmin(rank[empty])])
        raise EmptyArticleError(f"{where(row)}article {table.ids[row]!r} is empty (no words)")
    skipped = sorted((Skipped(str(table.ids[r]), "empty: no words") for r in empty), key=lambda s: s.id)
    return np.flatnonzero(table.words > 0), tuple(skipped)


def boilerplate_lines(
    table: SketchTable, rows: np.ndarray, rank: np.ndarray, config: DedupConfig, held: Any
) -> tuple[frozenset[int], tuple[int, int, int]]:
    """The lines held out of comparison among ``rows`` (one per distinct new text): the boilerplate
    lines' hashes, the filled-in forms' and the recurring reports' keys (:mod:`dedup.forms`), in
    one set, and how many of each.
    Frequencies count these rows and, where a source holds texts already, those too
    (``held(hashes)``)."""
    member = np.zeros(len(table), dtype=bool)
    member[rows] = True
    lines = member[table.line_rows]
    hashes = table.line_hashes[lines]
    frequent = None
    if hashes.size:
        distinct, counts = np.unique(hashes, return_counts=True)
        stored = held(distinct)
        if stored is not None:
            frequent = distinct[counts + stored >= config.boilerplate_min_docs]
    boilerplate = find_boilerplate(table.line_rows[lines], hashes, table.line_chars[lines], rank,
                                   min_docs=config.boilerplate_min_docs, frequent=frequent,
                                   signatures=table.signatures, config=config)  # fmt: skip
    forms, reports = find_forms(table.line_rows[lines], hashes, table.line_forms[lines], rank, config=config,
                                signatures=table.signatures, held=held)  # fmt: skip
    return boilerplate | forms | reports, (len(boilerplate), len(forms), len(reports))


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


def summarize(
    table: SketchTable, n: int, kept: np.ndarray, copies: ExactCopies, held: tuple[int, int, int],
    candidates: Candidates, checked: tuple[int, int], pairs: list[Pair], clusters: Sequence[Cluster],
    scanned: int = 0,
) -> RunSummary:  # fmt: skip
    """The counts of a run over its own ``n`` articles; ``checked``: candidates past the exact
    check, and pairs aligned (to the end, exact copies included); ``held``: boilerplate lines,
    filled-in forms and recurring reports."""
    kinds = Counter(p.kind for p in pairs)
    return RunSummary(
        articles=n, compared=len(kept), skipped=int((table.words[:n] == 0).sum()),
        distinct_texts=len(copies.leaders), boilerplate_lines=held[0], filled_in_forms=held[1], recurring_reports=held[2],
        candidate_pairs=len(candidates.pairs), candidate_pairs_lsh=candidates.from_bands,
        candidate_pairs_anchor=candidates.from_anchors, anchors_shared_too_widely=len(candidates.crowded_anchors),
        prechecked_pairs=checked[0], aligned_pairs=checked[1], pairs=len(pairs), pairs_exact=kinds["exact"],
        pairs_near_duplicate=kinds["near_duplicate"], pairs_contained=kinds["contained"],
        pairs_partial=kinds["partial"], pairs_rewritten=kinds["rewritten"], clusters=len(clusters),
        articles_in_clusters=sum(len(c.members) for c in clusters), articles_scanned=scanned,
    )  # fmt: skip


def run_params(config: DedupConfig) -> dict[str, Any]:
    """Every setting of a run, with the versions and schemes that make its numbers reproducible."""
    return copy.deepcopy(_run_params(config))


@lru_cache(maxsize=16)
def _run_params(config: DedupConfig) -> dict[str, Any]:
    from .semantic import semantic_params

    bands, rows = lsh_bands(config.candidate_threshold, config.num_perm)
    return {
        **config.to_dict(),
        "engine": "local",
        "lsh_bands": bands,
        "lsh_rows_per_band": rows,
        "minhash_scheme": SCHEME,
        "sketch_scheme": SKETCH_SCHEME,
        "anchor_min_words": ANCHOR_MIN_WORDS,
        "text_units": text_units(),
        "shingle_hash": "polynomial hash of each word's code points, position-weighted sum, fmix64, folded to 32 bits",
        "normalization": [f.name for f in fields(DEFAULT_NORMALIZE) if getattr(DEFAULT_NORMALIZE, f.name)],
        "boilerplate_rule": (
            f"line in >= {config.boilerplate_min_docs} distinct texts, frequent lines under half of their text; "
            f"or in >= {config.boilerplate_many_docs} whose other text is mostly their own; "
            f"unless its carriers' signatures agree in a median >= {config.boilerplate_one_story} (one story)"
        ),
        "form_rule": form_rule(config),
        "reworded_rule": REWORDED_RULE if config.reworded_figures_agree else "off",
        "grouping_rule": GROUPING_RULE,
        **_scan_params(config),
        **(semantic_params() if config.semantic else {}),
        "datasketch_version": DATASKETCH_VERSION,
        "rapidfuzz_version": version("rapidfuzz"),
        "dedup_version": version(DISTRIBUTION),
    }


def _scan_params(config: DedupConfig) -> dict[str, Any]:
    """How articles read as scans are treated (:mod:`dedup.scans`), when ``detect_scans`` is on."""
    if not config.detect_scans:
        return {}
    loose = scanned_bands(config)
    return {
        "scan_rule": SCAN_RULE,
        "scanned_pairs": (
            f"ocr_tolerant scoring, duplicate and partial thresholds {SCANNED_THRESHOLD_DROP} lower"
            + (f"; scanned articles also joined by {loose[0]} bands of {loose[1]} rows" if loose else "")
        ),
    }


def text_units() -> dict[str, Any]:
    """The fixed definitions of the units compared (not settings: changing one changes the sketch
    scheme), recorded with every result so that its numbers can be reproduced."""
    from . import alignment, boilerplate, paragraphs

    return {
        "min_sentence_chars": paragraphs.MIN_SENTENCE_CHARS,
        "max_paragraph_chars": paragraphs.MAX_PARAGRAPH_CHARS,
        "inside_min_words": alignment.MIN_INSIDE_WORDS,
        "inside_max_chars": alignment.MAX_INSIDE_CHARS,
        "inside_max_host_chars": alignment.MAX_HOST_CHARS,
        "paragraph_length_floor": round(alignment.LENGTH_FLOOR, 6),
        "boilerplate_sample": boilerplate.SAMPLE,
        "boilerplate_passes": boilerplate.PASSES,
    }


def shown_ids(pairs: Sequence[Pair], clusters: Sequence[Cluster]) -> set[ArticleId]:
    """The articles a result shows: those of its pairs and story groups."""
    return {i for p in pairs for i in (p.a, p.b)} | {m for c in clusters for m in c.members}

"""Verification: deciding what a candidate pair is, from exact shingle overlap and paragraph
alignment.

1. :func:`estimate` drops candidates whose shingle containment, estimated from the signatures, is
   too low to matter (cheap, vectorized);
2. :func:`align_tasks` lists the pairs to align — every exact copy with its group's leader, then the
   surviving candidates — each an :class:`AlignTask` ordered ``a < b`` by id;
3. next to the texts (:class:`dedup.local.LocalTexts`, :mod:`dedup.spark_stages`), the exact
   containment of each candidate is counted (:func:`exact_containment`) and judged
   (:func:`passes_check`), and the pairs that pass are aligned (:func:`align_chunk`);
4. :func:`reported_pairs` builds a :class:`~dedup.results.Pair` for each pair :func:`classify`
   reports.

The decision uses the aligned coverage both ways, not Jaccard: a short wire story inside a long
republication (the seeds 000/001: Jaccard 0.35, 84% of 000 aligned inside 001) is a duplicate,
and two articles on the same topic written independently (the seeds 002-004: under 1% shingle
overlap, no paragraph aligned) are not, however many names they share.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from .alignment import Alignment, PreparedText, align_if_covered, prepare
from .articles import ArticleId, id_key
from .candidates import Candidates
from .config import DedupConfig
from .copies import ExactCopies
from .results import Direction, Kind, Pair
from .shingles import hash_array, is_member, shingle_hashes, shingles_of_hashes
from .sketch import SketchTable
from .store import RowCache, ShingleStore

CHUNK = 512
"""Pairs per alignment task sent to the executor."""
Overlap = tuple[float, float, float]
Outcome = tuple[bool, Alignment | None, Overlap | None]
"""Of one task: whether it passed the exact check, its alignment (``None`` when not aligned to the
end) and, for candidates, their exact shingle overlap."""


class AlignTask(NamedTuple):
    """Rows ``a`` and ``b`` (``a`` first by id) to align; ``candidate`` indexes the surviving
    candidates (``None`` for exact copies)."""

    a: int
    b: int
    candidate: int | None
    scanned: int = 0
    """How many of the two read as scans (:mod:`dedup.scans`): one or two, scored with
    :func:`pair_config`; two pass the exact pre-check (:func:`passes_check` counts 5-word shingles,
    which misreads break: their 3-word estimate decided)."""

    @property
    def exact(self) -> bool:
        return self.candidate is None


SCANNED_THRESHOLD_DROP = 0.1
"""How much lower ``duplicate_threshold`` and ``partial_threshold`` are for a pair with a scanned
article (misread lines that match nothing lower the coverage of true copies: the ``ocr``
preset's 0.7 and 0.4 against the defaults' 0.8 and 0.5)."""


def pair_config(config: DedupConfig, scanned: int) -> DedupConfig:
    """The settings a pair is scored with: as given, or — a pair with a scanned article, when
    ``detect_scans`` is on — ``ocr_tolerant`` scoring with the thresholds
    :data:`SCANNED_THRESHOLD_DROP` lower. The ``ocr`` preset scores every pair tolerantly."""
    if not scanned or not config.detect_scans or config.ocr_tolerant:
        return config
    return _scanned_config(config)


@lru_cache(maxsize=8)
def _scanned_config(config: DedupConfig) -> DedupConfig:
    return replace(
        config,
        ocr_tolerant=True,
        duplicate_threshold=round(max(0.0, config.duplicate_threshold - SCANNED_THRESHOLD_DROP), 6),
        partial_threshold=round(max(0.0, config.partial_threshold - SCANNED_THRESHOLD_DROP), 6),
    )


def shingle_overlap(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Exact ``(jaccard, containment of a in b, containment of b in a)`` of two shingle sets."""
    if a.size == 0 or b.size == 0:
        return 0.0, 0.0, 0.0
    common = np.intersect1d(a, b, assume_unique=True).size
    union = a.size + b.size - common
    return common / union, common / a.size, common / b.size


def classify(
    coverage_a_by_b: float, coverage_b_by_a: float, config: DedupConfig
) -> tuple[Kind, Direction | None] | None:
    """The kind of a non-identical pair, or None when it is not reported.

    ``near_duplicate``: both coverages reach ``duplicate_threshold``; ``contained``: one does
    (``direction`` names the one inside the other); ``partial``: the larger coverage reaches
    ``partial_threshold``.
    """
    high = config.duplicate_threshold
    if coverage_a_by_b >= high and coverage_b_by_a >= high:
        return "near_duplicate", None
    if coverage_a_by_b >= high:
        return "contained", "a_in_b"
    if coverage_b_by_a >= high:
        return "contained", "b_in_a"
    if max(coverage_a_by_b, coverage_b_by_a) >= config.partial_threshold:
        return "partial", None
    return None


def passes_check(whole: np.ndarray, own: np.ndarray, config: DedupConfig, scans: np.ndarray) -> np.ndarray:
    """The exact pre-check's rule, one place for every engine: a pair is aligned when its exact
    shingle containment (boilerplate left out, ``whole``) reaches ``min_exact_containment``,
    and so does the containment outside template sentences (``own``) — or ``whole`` reaches
    ``template_only_share`` (ten outlets printing one wire story share more than its templates).
    A pair of two scans (``scans``: how many of each pair's two read as scans) passes: misreads
    break the 5-word shingles counted here, and their 3-word estimate decided."""
    floor = config.min_exact_containment
    two_scans = (np.asarray(scans) == 2) & config.detect_scans
    return two_scans | (
        (whole >= floor) & ((own >= floor) | (whole >= max(floor, config.template_only_share)))
    )


def exact_containment(
    pairs: np.ndarray, shingles: ShingleStore, boilerplate: frozenset[int] = frozenset(),
    templates: np.ndarray | None = None, block: int = 4096,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The larger exact shingle containment (``|A & B| / |A|`` or ``/ |B|``) of each pair of
    rows, from the stored shingles less those of ``boilerplate`` lines; and the same counted on
    the shingles outside the ``templates`` sentences (sorted 64-bit sentence hashes) and outside
    lines of filled-in forms (their form hashes are in ``boilerplate``) only."""
    boilerplate_lines = hash_array(boilerplate)
    templates = templates if templates is not None else np.empty(0, np.uint64)
    whole, own = np.zeros(len(pairs)), np.zeros(len(pairs))
    rows_read = RowCache(shingles)
    for start in range(0, len(pairs), block):
        part = pairs[start : start + block]
        rows, local = np.unique(part, return_inverse=True)
        read = [rows_read.get(row) for row in rows.tolist()]
        row_of = np.repeat(np.arange(rows.size), [len(r[0]) for r in read])
        values = np.concatenate([r[0] for r in read])
        # a shingle is left out with its line (sentence): look the rows' lines up once each
        left_out = []
        for part_at, column, hashes in (
            (1, 1, boilerplate_lines),
            (2, 2, templates),
            (3, 1, boilerplate_lines),
        ):
            sizes = np.array([r[part_at].size for r in read])
            flags = is_member(np.concatenate([r[part_at] for r in read]), hashes)
            left_out.append(flags[(np.cumsum(sizes) - sizes)[row_of] + values[:, column]])
        kept = ~left_out[0]
        local = local.reshape(part.shape)
        whole[start : start + len(part)] = _containment(values[kept, 0], row_of[kept], local, rows.size)
        kept &= ~(left_out[1] | left_out[2])  # (filled-in forms are templates here)
        own[start : start + len(part)] = _containment(values[kept, 0], row_of[kept], local, rows.size)
    return whole, own


def _containment(hashes: np.ndarray, row_of: np.ndarray, pairs: np.ndarray, rows: int) -> np.ndarray:
    """The larger containment of each pair of rows, ``hashes[k]`` held by row ``row_of[k]`` (rows
    in order, each row's hashes sorted and distinct), all pairs at once."""
    sizes = np.bincount(row_of, minlength=rows)
    first = np.cumsum(sizes) - sizes

    def keys(side: np.ndarray) -> np.ndarray:
        """(pair, hash) keys of one side's rows: sorted, as pairs are in order and hashes sorted."""
        count = sizes[side]
        pair_of = np.repeat(np.arange(side.size, dtype=np.uint64), count)
        positions = (
            np.arange(count.sum())
            - np.repeat(np.cumsum(count) - count, count)
            + np.repeat(first[side], count)
        )
        return (pair_of << np.uint64(32)) | hashes[positions].astype(np.uint64)

    # both sorted: a stable sort of the two merges them in linear time; a key twice is shared
    merged = np.sort(np.concatenate([keys(pairs[:, 0]), keys(pairs[:, 1])]), kind="stable")
    shared = merged[1:][merged[1:] == merged[:-1]]
    common = np.bincount((shared >> np.uint64(32)).astype(np.int64), minlength=len(pairs))
    with np.errstate(divide="ignore", invalid="ignore"):
        both = np.maximum(common / sizes[pairs[:, 0]], common / sizes[pairs[:, 1]])
    return np.nan_to_num(both)


def estimate(
    candidates: Candidates, table: SketchTable, config: DedupConfig
) -> tuple[np.ndarray, np.ndarray]:
    """The candidates the MinHash estimate or the shared anchors keep, and their estimates: the
    pre-check's first half (:func:`passes_check` is the second, run next to the texts).

    The shared shingles are estimated from the signatures and the shingle counts
    (``J (|A| + |B|) / (1 + J)``); a pair whose estimated containment is below
    ``min_candidate_containment`` both ways is dropped — unless the share of the smaller article's
    sentence anchors found in the other reaches ``anchor_share`` (template sentences left out):
    MinHash cannot see a short story inside a page a thousand times longer (Jaccard ~0.001), shared
    sentences can. (An estimate from 128 permutations lets through one in five pairs sharing a
    single sentence: the exact count of :func:`passes_check` drops them.)
    """
    pairs = candidates.pairs
    if len(pairs) == 0:
        return pairs, np.empty(0)
    estimates = np.empty(len(pairs))
    for start in range(0, len(pairs), 65536):
        block = pairs[start : start + 65536]
        equal = table.signatures[block[:, 0]] == table.signatures[block[:, 1]]
        estimates[start : start + 65536] = equal.mean(axis=1)
    size_a, size_b = table.shingles[pairs[:, 0]], table.shingles[pairs[:, 1]]
    if config.detect_scans and len(table.scan_rows):
        _scanned_estimates(pairs, table, estimates, size_a, size_b)
    common = estimates * (size_a + size_b) / (1 + estimates)
    containment = np.maximum(common / np.maximum(size_a, 1), common / np.maximum(size_b, 1))
    keep = containment >= config.min_candidate_containment
    failing = np.flatnonzero(~keep)
    if failing.size == 0:
        return pairs, estimates
    # the anchors of the rows in failing pairs, those shared too widely left out
    needed = np.zeros(len(table), dtype=bool)
    needed[pairs[failing].ravel()] = True
    held = needed[table.anchor_rows]
    anchor_rows, anchors = table.anchor_rows[held], table.anchors[held]
    rare = ~is_member(anchors, candidates.crowded_anchors)
    anchor_rows, anchors = anchor_rows[rare], anchors[rare]
    counts = np.bincount(anchor_rows, minlength=len(table))
    failing = failing[(counts[pairs[failing, 0]] > 0) & (counts[pairs[failing, 1]] > 0)]
    shared = shared_anchors(anchor_rows, anchors, pairs[failing])
    smaller = np.minimum(counts[pairs[failing, 0]], counts[pairs[failing, 1]])
    keep[failing] = shared >= max(config.min_candidate_containment, config.anchor_share) * smaller
    return pairs[keep], estimates[keep]


def _scanned_estimates(
    pairs: np.ndarray, table: SketchTable, estimates: np.ndarray, size_a: np.ndarray, size_b: np.ndarray
) -> None:
    """For the pairs of two scans: the estimate and shingle counts of their second sketch
    (8-character shingles, which survive misreads that break word shingles), in place."""
    slot = np.full(len(table), -1, dtype=np.int64)
    slot[table.scan_rows] = np.arange(len(table.scan_rows))
    at_a, at_b = slot[pairs[:, 0]], slot[pairs[:, 1]]
    both = np.flatnonzero((at_a >= 0) & (at_b >= 0))
    for start in range(0, len(both), 65536):
        part = both[start : start + 65536]
        equal = table.scan_signatures[at_a[part]] == table.scan_signatures[at_b[part]]
        estimates[part] = equal.mean(axis=1)
    size_a[both], size_b[both] = table.scan_shingles[at_a[both]], table.scan_shingles[at_b[both]]


def _row_keys(rows: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """One 64-bit key per (row, anchor)."""
    with np.errstate(over="ignore"):
        return anchors ^ (rows.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))


def shared_anchors(
    anchor_rows: np.ndarray, anchors: np.ndarray, pairs: np.ndarray, block: int = 65536
) -> np.ndarray:
    """How many anchors the two rows of each pair share (``anchors[k]`` held by
    ``anchor_rows[k]``, rows in order, each anchor once per row), all pairs at once."""
    keys = np.sort(_row_keys(anchor_rows, anchors))
    last = max(int(anchor_rows.max(initial=-1)), int(pairs.max(initial=-1)))
    first = np.searchsorted(anchor_rows, np.arange(last + 2))
    out = np.zeros(len(pairs), dtype=np.int64)
    for start in range(0, len(pairs), block):
        a, b = pairs[start : start + block, 0], pairs[start : start + block, 1]
        sizes = first[a + 1] - first[a]  # each of a's anchors, looked up as one of b's
        pair_of = np.repeat(np.arange(a.size), sizes)
        positions = (
            np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes) + np.repeat(first[a], sizes)
        )
        found = is_member(_row_keys(b[pair_of], anchors[positions]), keys)
        out[start : start + a.size] = np.bincount(pair_of[found], minlength=a.size)
    return out


def align_tasks(
    copies: ExactCopies, survivors: np.ndarray, rank: np.ndarray, scanned: np.ndarray
) -> list[AlignTask]:
    """Exact copies with their leader, then the surviving candidates; each ordered by id, and
    marked when one of the two rows is ``scanned``."""
    tasks = [AlignTask(leader, row, None) for leader, rows in copies.copies.items() for row in rows]
    tasks += [AlignTask(int(i), int(j), k) for k, (i, j) in enumerate(survivors.tolist())]
    tasks = [t._replace(scanned=int(scanned[t.a]) + int(scanned[t.b])) if scanned.size else t for t in tasks]
    return [t if rank[t.a] < rank[t.b] else t._replace(a=t.b, b=t.a) for t in tasks]


PREPARED_CHARS = 4_000_000
"""Characters of text whose prepared forms a process keeps from chunk to chunk (about 25 bytes
each once prepared: 100 MB). A text is a candidate of several others, and chunks of a large run
bring it back: prepared once while it stays among the most recently used."""


class PreparedTexts:
    """Prepared texts and shingles, each computed once: shared by the chunks a process aligns while
    the settings and held lines stay the same (:meth:`of`), the least recently used dropped past
    :data:`PREPARED_CHARS`."""

    _shared: PreparedTexts | None = None

    def __init__(self, config: DedupConfig, boilerplate: frozenset[int]) -> None:
        self.config, self.boilerplate = config, boilerplate
        self._texts: OrderedDict[tuple[str, bool], PreparedText] = OrderedDict()
        self._shingles: dict[tuple[str, bool], np.ndarray] = {}
        self._chars = 0

    @classmethod
    def of(cls, config: DedupConfig, boilerplate: frozenset[int]) -> PreparedTexts:
        """The process's shared instance for these settings and held lines (a new one for others)."""
        shared = cls._shared
        if (
            shared is None
            or (shared.config.min_paragraph_chars, shared.config.shingle_size)
            != (config.min_paragraph_chars, config.shingle_size)
            or shared.boilerplate != boilerplate  # (an equal set unpickled anew: compared once a chunk)
        ):
            shared = cls._shared = cls(config, boilerplate)
        return shared

    @classmethod
    def forget(cls) -> None:
        """Drop the shared instance (the end of a run in this process)."""
        cls._shared = None

    def text(self, text: str, ocr: bool = False) -> PreparedText:
        """``text`` prepared (``ocr``: as OCR output, see ``ocr_tolerant``)."""
        key = (text, ocr)
        found = self._texts.get(key)
        if found is not None:
            self._texts.move_to_end(key)
            return found
        found = self._texts[key] = prepare(
            text, boilerplate=self.boilerplate, min_paragraph_chars=self.config.min_paragraph_chars, ocr=ocr
        )  # fmt: skip
        self._chars += len(text)
        while self._chars > PREPARED_CHARS and len(self._texts) > 1:
            (old, old_ocr), _ = self._texts.popitem(last=False)
            self._shingles.pop((old, old_ocr), None)
            self._chars -= len(old)
        return found

    def shingles(self, text: str, ocr: bool = False) -> np.ndarray:
        prepared = self.text(text, ocr)
        if (text, ocr) not in self._shingles:
            self._shingles[text, ocr] = (
                shingle_hashes(list(prepared.all_words), self.config.shingle_size)
                if prepared.all_hashes is None  # (its words hashed already when lines were held)
                else shingles_of_hashes(prepared.all_hashes, self.config.shingle_size)
            )
        return self._shingles[text, ocr]


def align_chunk(
    chunk: list[tuple[bool, str, str, int]], *, config: DedupConfig, boilerplate: frozenset[int]
) -> list[tuple[Alignment | None, Overlap | None]]:
    """Align each ``(exact copies?, text a, text b, scans among the two)`` with the pair's settings
    (:func:`pair_config`); shingle overlap for all but exact copies.

    A candidate whose paragraph scores prove it cannot reach the coverage of a reported pair is
    not aligned to the end (``None``); its shingle overlap is not counted either (the pre-check
    counted its containment from the stored shingles)."""
    prepared = PreparedTexts.of(config, boilerplate)
    out: list[tuple[Alignment | None, Overlap | None]] = []
    for exact, text_a, text_b, scanned in chunk:
        pair = pair_config(config, scanned)
        ocr = pair.ocr_tolerant
        # a candidate that cannot reach partial_threshold is not reported: stop as soon as that is sure
        floor = 0.0 if exact else min(pair.partial_threshold, pair.duplicate_threshold)
        alignment = align_if_covered(
            prepared.text(text_a, ocr),
            prepared.text(text_b, ocr),
            threshold=pair.paragraph_threshold,
            min_coverage=floor,
            characters=ocr,
            figures_agree=pair.reworded_figures_agree,
        )
        if exact or alignment is None:
            out.append((alignment, None))
        else:
            out.append(
                (alignment, shingle_overlap(prepared.shingles(text_a, ocr), prepared.shingles(text_b, ocr)))
            )
    return out


def reported_pairs(
    outcomes: Iterable[tuple[AlignTask, tuple[Alignment | None, Overlap | None]]], *, ids: Sequence[ArticleId],
    estimates: np.ndarray, config: DedupConfig,
) -> tuple[list[Pair], int]:  # fmt: skip
    """The reported pairs of aligned tasks (sorted by ids), and how many were aligned to the end."""
    pairs: list[Pair] = []
    aligned = 0
    for task, (alignment, overlap) in outcomes:
        if alignment is None:
            continue
        aligned += 1
        pair = make_pair(task, alignment, overlap, ids=ids, estimates=estimates, config=config)
        if pair is not None:
            pairs.append(pair)
    pairs.sort(key=lambda p: (id_key(p.a), id_key(p.b)))
    return pairs, aligned


def make_pair(
    task: AlignTask, alignment: Alignment, overlap: Overlap | None, *, ids: Sequence[ArticleId],
    estimates: np.ndarray, config: DedupConfig,
) -> Pair | None:  # fmt: skip
    """The :class:`Pair` of one aligned task, or None when it is not reported."""
    coverages: dict[str, Any] = {
        "coverage_a_by_b": alignment.coverage_a_by_b,
        "coverage_b_by_a": alignment.coverage_b_by_a,
    }
    config = pair_config(config, task.scanned)
    marked = bool(task.scanned) and config.detect_scans
    if task.candidate is None or overlap is None:
        return Pair(a=ids[task.a], b=ids[task.b], kind="exact", direction=None, minhash_jaccard=1.0, jaccard=1.0,
                    containment_a_in_b=1.0, containment_b_in_a=1.0, alignment=alignment, **coverages,
                    scanned=marked)  # fmt: skip
    decision = classify(alignment.coverage_a_by_b, alignment.coverage_b_by_a, config)
    if decision is None:
        return None
    jaccard, a_in_b, b_in_a = overlap
    return Pair(
        a=ids[task.a], b=ids[task.b], kind=decision[0], direction=decision[1],
        minhash_jaccard=round(float(estimates[task.candidate]), 4), jaccard=round(jaccard, 4),
        containment_a_in_b=round(a_in_b, 4), containment_b_in_a=round(b_in_a, 4), alignment=alignment,
        **coverages, scanned=marked,
    )  # fmt: skip

"""``find_duplicates``: the whole pipeline, stage by stage.

1. read and sketch every article (:mod:`dedup.sketch`), on all cores, streaming: texts go to a
   :class:`~dedup.store.TextStore`, only the small sketches stay in memory;
2. group exact copies by digest (each group is represented by its smallest id);
3. boilerplate lines from the line hashes (:mod:`dedup.boilerplate`);
4. candidates from LSH bands and sentence anchors (:mod:`dedup.candidates`);
5. a cheap pre-check from the signatures (estimated containment), then paragraph alignment of
   the surviving pairs, on all cores (:mod:`dedup.alignment`, :mod:`dedup.verification`);
6. story clusters (:mod:`dedup.clustering`).

Results do not depend on the input order, ``PYTHONHASHSEED`` or the number of workers.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time

try:
    import resource
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import partial
from importlib.metadata import version
from itertools import islice
from typing import Any, Literal

import numpy as np
from tqdm import tqdm

from .alignment import align_prepared, prepare
from .articles import Article, ArticleId, ArticlesInput, id_key, iter_articles
from .boilerplate import find_boilerplate
from .candidates import anchor_pairs, band_pairs, lsh_bands
from .clustering import cluster_pairs
from .config import DedupConfig
from .errors import ConfigError, InputError
from .normalize import DEFAULT_NORMALIZE
from .results import DedupResult, Pair, Skipped
from .shingles import ANCHOR_MIN_WORDS, shingle_hashes
from .signatures import DATASKETCH_VERSION, SCHEME
from .sketch import sketch
from .store import TextStore
from .verification import classify, shingle_overlap

logger = logging.getLogger(__name__)

CHUNK = 512
"""Articles per task sent to a worker process (and candidate pairs per alignment task)."""
PARALLEL_MIN_ARTICLES = 4000
"""Below this many articles (when the count is known) everything runs in this process."""
MAX_BUCKET = 64
"""Articles sharing one band value or anchor beyond this are paired with neighbours only."""


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
    :class:`DedupConfig` (``shingle_size=5``, ``num_perm=128``, ``seed=1``,
    ``candidate_threshold=0.1``, ``paragraph_threshold=0.8``, ``duplicate_threshold=0.8``,
    ``partial_threshold=0.5``, ...), given as keywords or as one ``config``. An article with no
    words is skipped and listed in ``result.skipped``, or raises :class:`InputError` with
    ``on_empty="error"``. ``progress`` shows progress bars on stderr. ``workers`` is the number of
    processes (default: all cores for large inputs); it never changes the result. A ``timings``
    dict, if given, receives the seconds each stage took (kept out of the result, which must not
    depend on the machine).

    >>> result = find_duplicates({"x": "one two three four five six", "y": "one two three four five six"})
    >>> [(p.a, p.b, p.kind) for p in result.pairs]
    [('x', 'y', 'exact')]
    """
    if config is None:
        config = DedupConfig(**options)
    elif options:
        raise TypeError("pass either config or keyword options, not both")
    in_memory = isinstance(articles, Sequence | Mapping) and not isinstance(articles, str | bytes)
    if workers is None:
        small = in_memory and len(articles) < PARALLEL_MIN_ARTICLES  # type: ignore[arg-type]
        workers = 1 if small else (os.cpu_count() or 1)
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")
    run = _Run(config, on_empty, progress, workers, timings if timings is not None else {})
    store = TextStore(spill=not in_memory)
    try:
        return run.run(iter_articles(articles), store)
    finally:
        store.close()


@dataclass
class _Sketches:
    """The sketches of all articles, packed into flat arrays (row = article)."""

    words: np.ndarray
    shingles: np.ndarray
    digests: np.ndarray
    signatures: np.ndarray
    anchor_rows: np.ndarray
    anchors: np.ndarray
    line_rows: np.ndarray
    line_hashes: np.ndarray
    line_chars: np.ndarray


def _sketch_chunk(texts: list[str], *, shingle_size: int, num_perm: int, seed: int) -> _Sketches:
    sketches = [sketch(t, shingle_size=shingle_size, num_perm=num_perm, seed=seed) for t in texts]
    local = np.arange(len(sketches), dtype=np.int32)
    return _Sketches(
        words=np.array([s.words for s in sketches], dtype=np.int64),
        shingles=np.array([s.shingles for s in sketches], dtype=np.int64),
        digests=np.array([s.digest for s in sketches], dtype="V16"),
        signatures=np.stack([s.signature for s in sketches])
        if sketches
        else np.empty((0, num_perm), np.uint32),
        anchor_rows=np.repeat(local, [len(s.anchors) for s in sketches]),
        anchors=np.concatenate([s.anchors for s in sketches] or [np.empty(0, np.uint64)]),
        line_rows=np.repeat(local, [len(s.line_hashes) for s in sketches]),
        line_hashes=np.concatenate([s.line_hashes for s in sketches] or [np.empty(0, np.uint64)]),
        line_chars=np.concatenate([s.line_chars for s in sketches] or [np.empty(0, np.uint32)]),
    )


def _concat(batches: list[_Sketches], num_perm: int) -> _Sketches:
    """One :class:`_Sketches` from many, freeing each field of the batches once it is copied."""
    if not batches:
        return _sketch_chunk([], shingle_size=1, num_perm=num_perm, seed=1)
    offsets = np.cumsum([0] + [len(b.words) for b in batches]).astype(np.int32)
    merged = {}
    for name in _Sketches.__dataclass_fields__:
        parts = [getattr(b, name) for b in batches]
        if name in ("anchor_rows", "line_rows"):
            parts = [part + offset for part, offset in zip(parts, offsets, strict=False)]
        for batch in batches:
            setattr(batch, name, None)
        merged[name] = np.concatenate(parts)
        del parts
    return _Sketches(**merged)


def _align_chunk(
    tasks: list[tuple[int, bool, str, str]], *, config: DedupConfig, boilerplate: frozenset[int]
) -> list[tuple[int, Any]]:
    """Align pairs; each task is ``(index, exact copies?, text a, text b)``."""
    cache: dict[str, Any] = {}

    def prepared(text: str) -> Any:
        if text not in cache:
            cache[text] = prepare(
                text, boilerplate=boilerplate, min_paragraph_chars=config.min_paragraph_chars
            )
        return cache[text]

    shingle_cache: dict[str, np.ndarray] = {}

    def shingles(text: str) -> np.ndarray:
        if text not in shingle_cache:
            shingle_cache[text] = shingle_hashes(list(prepared(text).all_words), config.shingle_size)
        return shingle_cache[text]

    out: list[tuple[int, Any]] = []
    for index, exact, text_a, text_b in tasks:
        alignment = align_prepared(prepared(text_a), prepared(text_b), threshold=config.paragraph_threshold)
        if exact:
            out.append((index, (alignment, None)))
            continue
        overlap = shingle_overlap(shingles(text_a), shingles(text_b))
        out.append((index, (alignment, overlap)))
    return out


def _id_order(ids: list[ArticleId]) -> np.ndarray:
    """Row numbers in id order (:func:`~dedup.articles.id_key`), with numpy when ids are uniform."""
    if ids and all(isinstance(i, str) and "\x00" not in i for i in ids):
        return np.argsort(np.array(ids), kind="stable")
    if ids and all(isinstance(i, int) and -(2**62) < i < 2**62 for i in ids):
        return np.argsort(np.array(ids, dtype=np.int64), kind="stable")
    return np.array(sorted(range(len(ids)), key=lambda r: id_key(ids[r])), dtype=np.int64)


class _Run:
    """State of one run; each method is one stage."""

    def __init__(
        self, config: DedupConfig, on_empty: str, progress: bool, workers: int, timings: dict[str, float]
    ) -> None:
        self.config = config
        self.timings = timings
        self._clock = time.perf_counter()
        self.on_empty = on_empty
        self.progress = progress
        self.workers = workers
        self._pool: Any = None

    def _lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round(now - self._clock, 3)
        self._clock = now
        if resource is not None:  # peak memory so far, to see which stage sets it
            self.timings[f"peak_rss_mb_after_{stage}"] = (
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
            )

    def _bar(self, desc: str, total: int | None = None) -> Any:
        return tqdm(desc=desc, total=total, disable=not self.progress, unit="art", leave=False)

    def _map(self, fn: Any, chunks: Iterable[Any]) -> Iterator[Any]:
        """``fn`` over ``chunks`` in order, in worker processes when there are several.

        At most two chunks per worker are in flight, so a streamed input is read only as fast as
        it is processed (``Pool.imap`` would read all of it into its task queue first).
        """
        if self.workers == 1:
            yield from map(fn, chunks)
            return
        if self._pool is None:
            self._pool = multiprocessing.get_context("fork").Pool(self.workers)
        pending: deque[Any] = deque()
        for chunk in chunks:
            pending.append(self._pool.apply_async(fn, (chunk,)))
            if len(pending) >= 2 * self.workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()

    def run(self, items: Iterator[Article], store: TextStore) -> DedupResult:
        try:
            return self._run(items, store)
        finally:
            if self._pool is not None:
                self._pool.terminate()

    def _read(
        self, items: Iterator[Article], store: TextStore
    ) -> tuple[list[ArticleId], list[str], _Sketches]:
        cfg = self.config
        ids: list[ArticleId] = []
        sources: list[str] = []
        row_of: dict[ArticleId, int] = {}

        def chunks() -> Iterator[list[str]]:
            while True:
                batch = list(islice(items, CHUNK))
                if not batch:
                    return
                texts = []
                for article in batch:
                    source = str(article.meta.get("source", ""))
                    first = row_of.setdefault(article.id, len(ids))
                    if first != len(ids):
                        if source:
                            raise InputError(
                                f"{source}: duplicate id {article.id!r} (first seen at {sources[first]})"
                            )
                        raise InputError(f"article {article.id!r}: duplicate id")
                    ids.append(article.id)
                    sources.append(source)
                    store.add(article.text)
                    texts.append(article.text)
                yield texts

        work = partial(_sketch_chunk, shingle_size=cfg.shingle_size, num_perm=cfg.num_perm, seed=cfg.seed)
        batches = []
        with self._bar("sketching") as bar:
            for batch in self._map(work, chunks()):
                batches.append(batch)
                bar.update(len(batch.words))
        return ids, sources, _concat(batches, cfg.num_perm)

    def _run(self, items: Iterator[Article], store: TextStore) -> DedupResult:
        cfg = self.config
        ids, sources, sk = self._read(items, store)
        self._lap("read_and_sketch")
        count = len(ids)
        rank = np.empty(count, dtype=np.int64)
        rank[_id_order(ids)] = np.arange(count)

        empty = np.flatnonzero(sk.words == 0)
        if empty.size and self.on_empty == "error":
            row = int(empty[np.argmin(rank[empty])])
            prefix = f"{sources[row]}: " if sources[row] else ""
            raise InputError(f"{prefix}article {ids[row]!r} is empty (no words)")
        skipped = sorted((Skipped(str(ids[r]), "empty: no words") for r in empty), key=lambda s: s.id)
        kept = np.flatnonzero(sk.words > 0)

        # Exact copies (same words after normalization) collapse onto their smallest id.
        halves = sk.digests[kept].view(np.uint64).reshape(-1, 2)
        by_digest = kept[np.lexsort((rank[kept], halves[:, 1], halves[:, 0]))]
        del halves
        new_group = np.r_[True, sk.digests[by_digest][1:] != sk.digests[by_digest][:-1]]
        group_leader = by_digest[new_group][np.cumsum(new_group) - 1]
        leaders = np.sort(by_digest[new_group])
        copies: dict[int, list[int]] = defaultdict(list)
        for row, leader in zip(
            by_digest[~new_group].tolist(), group_leader[~new_group].tolist(), strict=True
        ):
            copies[leader].append(row)
        is_leader = np.zeros(count, dtype=bool)
        is_leader[leaders] = True

        self._lap("exact_copies")
        if len(leaders) == len(kept):  # no exact copies: no need to copy the line arrays
            line_rows, line_hashes, line_chars = sk.line_rows, sk.line_hashes, sk.line_chars
        else:
            lines = is_leader[sk.line_rows]
            line_rows, line_hashes, line_chars = (
                sk.line_rows[lines],
                sk.line_hashes[lines],
                sk.line_chars[lines],
            )
        boilerplate = find_boilerplate(line_rows, line_hashes, line_chars, min_docs=cfg.boilerplate_min_docs)
        del line_rows, line_hashes, line_chars
        logger.debug("%d boilerplate lines", len(boilerplate))

        self._lap("boilerplate")
        bands, rows_per_band = lsh_bands(cfg.candidate_threshold, cfg.num_perm)
        lsh = band_pairs(
            sk.signatures, leaders, rank, bands=bands, rows_per_band=rows_per_band, max_bucket=MAX_BUCKET
        )
        anchored = is_leader[sk.anchor_rows]
        anchor, crowded = anchor_pairs(
            sk.anchor_rows[anchored], sk.anchors[anchored], rank, count, max_bucket=cfg.anchor_max_docs
        )
        candidates = np.unique(np.concatenate([lsh, anchor]), axis=0) if len(lsh) + len(anchor) else lsh
        self._lap("candidates")
        survivors, estimates = self._precheck(candidates, sk)
        self._lap("precheck")

        # (leader, copy) pairs of exact copies, then the candidate pairs, each ordered a < b by id
        tasks: list[tuple[int, int, int, bool]] = []
        for leader, rows in copies.items():
            tasks += [(leader, row, -1, True) for row in rows]
        tasks += [(int(i), int(j), k, False) for k, (i, j) in enumerate(survivors)]
        tasks = [(a, b, k, e) if rank[a] < rank[b] else (b, a, k, e) for a, b, k, e in tasks]
        pairs = self._align(tasks, store, boilerplate, ids, estimates)
        pairs.sort(key=lambda p: (id_key(p.a), id_key(p.b)))
        self._lap("align")

        id_copies = {ids[leader]: [ids[r] for r in rows] for leader, rows in copies.items()}
        lengths = {ids[r]: int(sk.words[r]) for r in kept.tolist()}
        clusters = cluster_pairs([p for p in pairs if p.kind != "exact"], lengths, id_copies)
        self._lap("cluster")
        kinds: dict[str, int] = defaultdict(int)
        for pair in pairs:
            kinds[pair.kind] += 1
        summary = {
            "articles": count,
            "compared": len(kept),
            "skipped": len(skipped),
            "distinct_texts": len(leaders),
            "boilerplate_lines": len(boilerplate),
            "candidate_pairs": len(candidates),
            "candidate_pairs_lsh": len(lsh),
            "candidate_pairs_anchor": len(anchor),
            "anchors_shared_too_widely": crowded,
            "aligned_pairs": len(survivors),
            "pairs": len(pairs),
            **{f"pairs_{kind}": kinds[kind] for kind in ("exact", "near_duplicate", "contained", "partial")},
            "clusters": len(clusters),
            "articles_in_clusters": sum(len(c.members) for c in clusters),
        }
        return DedupResult(tuple(pairs), tuple(clusters), tuple(skipped), run_params(cfg), summary)

    def _precheck(self, candidates: np.ndarray, sk: _Sketches) -> tuple[np.ndarray, np.ndarray]:
        """Candidates worth aligning, and their MinHash Jaccard estimates.

        The shared shingles are estimated from the signatures and the shingle counts
        (``J (|A| + |B|) / (1 + J)``); a pair whose estimated containment is below
        ``min_candidate_containment`` both ways is dropped.
        """
        if len(candidates) == 0:
            return candidates, np.empty(0)
        estimates = np.empty(len(candidates))
        for start in range(0, len(candidates), 65536):
            block = candidates[start : start + 65536]
            equal = sk.signatures[block[:, 0]] == sk.signatures[block[:, 1]]
            estimates[start : start + 65536] = equal.mean(axis=1)
        size_a, size_b = sk.shingles[candidates[:, 0]], sk.shingles[candidates[:, 1]]
        common = estimates * (size_a + size_b) / (1 + estimates)
        containment = np.maximum(common / np.maximum(size_a, 1), common / np.maximum(size_b, 1))
        keep = containment >= self.config.min_candidate_containment
        return candidates[keep], estimates[keep]

    def _align(
        self, tasks: list[tuple[int, int, int, bool]], store: TextStore, boilerplate: frozenset[int],
        ids: list[ArticleId], estimates: np.ndarray,
    ) -> list[Pair]:  # fmt: skip
        cfg = self.config
        work = partial(_align_chunk, config=cfg, boilerplate=boilerplate)

        def chunks() -> Iterator[list[tuple[int, bool, str, str]]]:
            for start in range(0, len(tasks), CHUNK):
                yield [(start + n, e, store.get(a), store.get(b))
                       for n, (a, b, _, e) in enumerate(tasks[start : start + CHUNK])]  # fmt: skip

        pairs: list[Pair] = []
        with self._bar("aligning", total=len(tasks)) as bar:
            for results in self._map(work, chunks()):
                bar.update(len(results))
                for index, (alignment, overlap) in results:
                    a, b, k, exact = tasks[index]
                    if exact:
                        pairs.append(Pair(ids[a], ids[b], "exact", None, 1.0, 1.0, 1.0, 1.0,
                                          alignment.coverage_a_by_b, alignment.coverage_b_by_a, alignment))  # fmt: skip
                        continue
                    decision = classify(alignment.coverage_a_by_b, alignment.coverage_b_by_a, cfg)
                    if decision is None:
                        continue
                    jaccard, c_ab, c_ba = overlap
                    pairs.append(
                        Pair(ids[a], ids[b], decision[0], decision[1], round(float(estimates[k]), 4),
                             round(jaccard, 4), round(c_ab, 4), round(c_ba, 4),
                             alignment.coverage_a_by_b, alignment.coverage_b_by_a, alignment)
                    )  # fmt: skip
        return pairs


def run_params(config: DedupConfig) -> dict[str, Any]:
    """Every setting of a run, with the versions and schemes that make its numbers reproducible."""
    bands, rows = lsh_bands(config.candidate_threshold, config.num_perm)
    return {
        **config.to_dict(),
        "lsh_bands": bands,
        "lsh_rows_per_band": rows,
        "lsh_max_bucket": MAX_BUCKET,
        "minhash_scheme": SCHEME,
        "anchor_min_words": ANCHOR_MIN_WORDS,
        "shingle_hash": "blake2b-64 per word, position-weighted sum, fmix64, folded to 32 bits",
        "normalization": [f.name for f in fields(DEFAULT_NORMALIZE) if getattr(DEFAULT_NORMALIZE, f.name)],
        "boilerplate_rule": (
            f"line in >= {config.boilerplate_min_docs} distinct texts, frequent lines under half of their text"
        ),
        "datasketch_version": DATASKETCH_VERSION,
        "rapidfuzz_version": version("rapidfuzz"),
        "dedup_version": version("dedup"),
    }

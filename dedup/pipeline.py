"""``find_duplicates``: the whole pipeline, stage by stage.

articles → normalize and shingle → group exact copies → MinHash signatures → boilerplate lines
→ LSH candidates → shingle pre-check → paragraph alignment → decision → story clusters.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import fields
from importlib.metadata import version
from typing import Any, Literal

import numpy as np
from tqdm import tqdm

from .alignment import PreparedText, align_prepared, prepare
from .articles import Article, ArticlesInput, coerce_articles, id_key
from .boilerplate import find_boilerplate
from .candidates import anchor_pairs, candidate_pairs, lsh_bands
from .clustering import cluster_pairs
from .config import DedupConfig
from .errors import InputError
from .normalize import DEFAULT_NORMALIZE, normalize
from .paragraphs import paragraph_lines, split_paragraphs, split_sentences
from .results import DedupResult, Pair, Skipped
from .shingles import ANCHOR_MIN_WORDS, sentence_anchors, shingle_hashes, tokenize
from .signatures import DATASKETCH_VERSION, SCHEME, estimated_jaccard, signature_matrix
from .verification import classify, shingle_overlap

logger = logging.getLogger(__name__)


def find_duplicates(
    articles: ArticlesInput,
    *,
    config: DedupConfig | None = None,
    on_empty: Literal["skip", "error"] = "skip",
    progress: bool = False,
    **options: Any,
) -> DedupResult:
    """Find the articles of a collection that share text, and explain what they share.

    ``articles``: :class:`Article` objects, ``(id, text)`` pairs, a mapping id → text, or plain
    strings (ids 0..n-1). Options are the fields of :class:`DedupConfig` (``shingle_size=5``,
    ``num_perm=128``, ``seed=1``, ``candidate_threshold=0.1``, ``paragraph_threshold=0.8``,
    ``duplicate_threshold=0.8``, ``partial_threshold=0.5``, ...), given as keywords or as one
    ``config``. An article with no words is skipped and listed in ``result.skipped``, or raises
    :class:`InputError` with ``on_empty="error"``. ``progress`` shows progress bars on stderr.

    >>> result = find_duplicates({"x": "one two three four five six", "y": "one two three four five six"})
    >>> [(p.a, p.b, p.kind) for p in result.pairs]
    [('x', 'y', 'exact')]
    """
    if config is None:
        config = DedupConfig(**options)
    elif options:
        raise TypeError("pass either config or keyword options, not both")
    items = coerce_articles(articles)
    return _Run(config, on_empty, progress).run(items)


class _Run:
    """State of one run; each method is one stage."""

    def __init__(self, config: DedupConfig, on_empty: str, progress: bool) -> None:
        self.config = config
        self.on_empty = on_empty
        self.progress = progress

    def _bar(self, iterable: Any, desc: str, total: int | None = None) -> Any:
        return tqdm(iterable, desc=desc, total=total, disable=not self.progress, unit="art", leave=False)

    def run(self, items: list[Article]) -> DedupResult:
        cfg = self.config
        skipped: list[Skipped] = []
        kept: list[Article] = []
        shingles: list[np.ndarray] = []
        digests: list[bytes] = []
        for article in self._bar(items, "shingling"):
            normalized = normalize(article.text)
            tokens = tokenize(normalized)
            if not tokens:
                where = article.meta.get("source")
                prefix = f"{where}: " if where else ""
                if self.on_empty == "error":
                    raise InputError(f"{prefix}article {article.id!r} is empty (no words)")
                skipped.append(Skipped(str(article.id), "empty: no words"))
                continue
            kept.append(article)
            shingles.append(shingle_hashes(tokens, cfg.shingle_size))
            digests.append(hashlib.blake2b(" ".join(tokens).encode(), digest_size=16).digest())

        # Exact copies (same words after normalization) collapse onto their smallest id.
        leader_of: dict[bytes, int] = {}
        copies: dict[int, list[int]] = defaultdict(list)
        for row, digest in enumerate(digests):
            if digest in leader_of:
                copies[leader_of[digest]].append(row)
            else:
                leader_of[digest] = row
        leaders = sorted(leader_of.values())

        signatures = signature_matrix([shingles[row] for row in leaders], cfg.num_perm, cfg.seed)
        paragraphs = [split_paragraphs(kept[row].text) for row in leaders]
        line_sets = [
            frozenset(normalize(line) for paragraph in units for line in paragraph_lines(paragraph))
            for units in paragraphs
        ]
        anchors = [
            sentence_anchors([s for paragraph in units for s in split_sentences(paragraph)])
            for units in paragraphs
        ]
        boilerplate = find_boilerplate(line_sets, min_docs=cfg.boilerplate_min_docs)
        logger.debug("%d boilerplate lines", len(boilerplate))

        prepared: dict[int, PreparedText] = {}

        def prepared_text(row: int) -> PreparedText:
            if row not in prepared:
                prepared[row] = prepare(
                    kept[row].text,
                    boilerplate=boilerplate,
                    min_paragraph_chars=cfg.min_paragraph_chars,
                )
            return prepared[row]

        pairs: list[Pair] = []
        for leader, rows in copies.items():
            for row in rows:
                alignment = align_prepared(
                    prepared_text(leader), prepared_text(row), threshold=cfg.paragraph_threshold
                )
                pairs.append(
                    Pair(
                        kept[leader].id,
                        kept[row].id,
                        "exact",
                        None,
                        1.0,
                        1.0,
                        1.0,
                        1.0,
                        alignment.coverage_a_by_b,
                        alignment.coverage_b_by_a,
                        alignment,
                    )
                )

        lsh_candidates = candidate_pairs(signatures, threshold=cfg.candidate_threshold, seed=cfg.seed)
        anchor_candidates, crowded_anchors = anchor_pairs(anchors, max_bucket=cfg.anchor_max_docs)
        candidates = sorted(set(lsh_candidates) | set(anchor_candidates))
        aligned = 0
        for i, j in self._bar(candidates, "aligning", total=len(candidates)):
            row_a, row_b = leaders[i], leaders[j]
            if id_key(kept[row_b].id) < id_key(kept[row_a].id):
                row_a, row_b = row_b, row_a
                i, j = j, i
            jaccard, c_ab, c_ba = shingle_overlap(shingles[row_a], shingles[row_b])
            if max(c_ab, c_ba) < cfg.min_candidate_containment:
                continue
            aligned += 1
            alignment = align_prepared(
                prepared_text(row_a), prepared_text(row_b), threshold=cfg.paragraph_threshold
            )
            decision = classify(alignment.coverage_a_by_b, alignment.coverage_b_by_a, cfg)
            if decision is None:
                continue
            kind, direction = decision
            pairs.append(
                Pair(
                    kept[row_a].id,
                    kept[row_b].id,
                    kind,
                    direction,
                    round(estimated_jaccard(signatures[i], signatures[j]), 4),
                    round(jaccard, 4),
                    round(c_ab, 4),
                    round(c_ba, 4),
                    alignment.coverage_a_by_b,
                    alignment.coverage_b_by_a,
                    alignment,
                )
            )
        pairs.sort(key=lambda p: (id_key(p.a), id_key(p.b)))

        id_copies = {kept[leader].id: [kept[r].id for r in rows] for leader, rows in copies.items()}
        lengths = {a.id: len(a.text) for a in kept}
        clusters = cluster_pairs([p for p in pairs if p.kind != "exact"], lengths, id_copies)
        kinds: dict[str, int] = defaultdict(int)
        for pair in pairs:
            kinds[pair.kind] += 1
        summary = {
            "articles": len(items),
            "compared": len(kept),
            "skipped": len(skipped),
            "distinct_texts": len(leaders),
            "boilerplate_lines": len(boilerplate),
            "candidate_pairs": len(candidates),
            "candidate_pairs_lsh": len(lsh_candidates),
            "candidate_pairs_anchor": len(anchor_candidates),
            "anchors_shared_too_widely": crowded_anchors,
            "aligned_pairs": aligned,
            "pairs": len(pairs),
            **{f"pairs_{kind}": kinds[kind] for kind in ("exact", "near_duplicate", "contained", "partial")},
            "clusters": len(clusters),
            "articles_in_clusters": sum(len(c.members) for c in clusters),
        }
        skipped.sort(key=lambda s: s.id)
        return DedupResult(tuple(pairs), tuple(clusters), tuple(skipped), run_params(cfg), summary)


def run_params(config: DedupConfig) -> dict[str, Any]:
    """Every setting of a run, with the versions and schemes that make its numbers reproducible."""
    bands, rows = lsh_bands(config.candidate_threshold, config.num_perm)
    return {
        **config.to_dict(),
        "lsh_bands": bands,
        "lsh_rows_per_band": rows,
        "minhash_scheme": SCHEME,
        "anchor_min_words": ANCHOR_MIN_WORDS,
        "shingle_hash": "blake2b-64 per word, position-weighted sum, fmix64, folded to 32 bits",
        "normalization": [f.name for f in fields(DEFAULT_NORMALIZE) if getattr(DEFAULT_NORMALIZE, f.name)],
        "boilerplate_rule": (
            f"line in >= {config.boilerplate_min_docs} distinct texts, "
            "frequent lines under half of their text"
        ),
        "datasketch_version": DATASKETCH_VERSION,
        "rapidfuzz_version": version("rapidfuzz"),
        "dedup_version": version("dedup"),
    }

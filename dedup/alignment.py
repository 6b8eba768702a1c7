"""Paragraph-by-paragraph alignment of two articles with rapidfuzz.

Each article is split into paragraphs (:mod:`dedup.paragraphs`), each paragraph normalized with
boilerplate lines removed. Paragraphs shorter than ``min_paragraph_chars`` after that are
*ignored*: they are furniture or headings, too short to say anything about reuse.

All remaining paragraphs of ``a`` are scored against all of ``b`` with ``rapidfuzz.process.cdist``
over their words. The score of two paragraphs is the length of their longest common word
subsequence (from the Indel distance) divided by the length of the shorter one — so a paragraph
that was trimmed, extended or lightly edited still scores high — but never divided by less than a
third of the longer one, so that a few common words cannot match a long paragraph. Measured on
the seeds: the nine reused paragraphs of 000 score 0.875-1.0 against 001, while the best score
between paragraphs of unrelated articles is 0.62 (plain character ``fuzz.ratio`` puts one of the
reused paragraphs, trimmed and re-spelled, at 0.73). Paragraphs are matched one-to-one, greedily,
best score first; reordering is allowed.
Ties are broken by ``(i + j, |i - j|, i)``; the only cells that still tie are ``(i, j)`` and
``(j, i)``, which never compete for a row or column, so ``align(b, a)`` is exactly the mirror of
``align(a, b)``. A paragraph with no counterpart at ``threshold`` or above is *only in a* (dropped
by b) or *only in b* (added by b).

A second pass looks for each remaining unit of either article (of at least
:data:`MIN_INSIDE_WORDS` words) *inside* a longer unit of the other: a sentence of a summary
inside a paragraph of the full article, two short paragraphs merged into one. It is scored with
``fuzz.partial_ratio`` (the best-aligned substring, so a few shared words scattered through a long
paragraph do not count) and reported as ``a_inside_b`` / ``b_inside_a``. Its cost grows with the
product of the two lengths, so units longer than :data:`MAX_INSIDE_CHARS` and hosts longer than
:data:`MAX_HOST_CHARS` are not looked at (a hostile 30 KB line inside a 60 KB one took minutes).

With ``characters=True`` (the setting ``ocr_tolerant``), two paragraphs are also
scored on their characters: rapidfuzz's ``fuzz.ratio`` (twice their longest common character
subsequence over their summed lengths) of their compared texts, and the better of the two scores
counts; a matched paragraph then covers the larger of its shares of words and of characters
found in its counterpart. OCR misreads a glyph here and there (``rn`` for ``m``, ``1`` for ``l``):
at a 3% character error rate about one word in six differs between two scans of one paragraph,
so the word score falls under the threshold while the character score stays above 0.9. Measured
on unrelated paragraphs, the character score rarely passes 0.65. It is symmetric in the two
lengths, so a trimmed paragraph still needs its word score. The inside-search, which scores only
hosts holding most of a unit's distinct words, asks of scans :data:`SCANNED_WORD_SHARE` (0.6) of
that share: a full stop misread as a comma, or read without its space, glues two sentences of one
scan into one unit, and each sentence of the other scan must still be found inside it although a
third of their words are misread in one copy or the other (``fuzz.partial_ratio`` on the
characters decides, as for every unit).

Coverage of ``a`` by ``b`` is the share of ``a``'s compared characters that lie in matched
paragraphs, each matched paragraph counted by the share of its words found in its counterpart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property, partial

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Indel, Levenshtein

from .forms import report_key
from .normalize import normalize, normalize_lines
from .paragraphs import printed_lines, rejoin_hyphenation, split_paragraphs
from .shingles import hash_array, is_member, lines_and_forms, sequence_hashes, token_hashes
from .tokens import FIGURES_AGREE, display_units, names, names_agree, tokenize, whole_numbers, written_numbers

DEFAULT_THRESHOLD = 0.8
DEFAULT_MIN_PARAGRAPH_CHARS = 25
MIN_INSIDE_WORDS = 8
"""A unit needs this many words to be looked for inside a longer unit of the other article."""
VERBATIM = 0.9
"""A paragraph match at this score is near-verbatim (``reworded_figures_agree``)."""
MAX_INSIDE_CHARS = 1_000
"""Longer units are not looked for inside another unit (they are matched one-to-one or not at all)."""
MAX_HOST_CHARS = 20_000
"""Longer units are not searched for shorter ones (at most ~40 ms per search at both limits)."""
LENGTH_FLOOR = 1 / 3
SCANNED_WORD_SHARE = 0.6
"""A score is never divided by less than this share of the longer paragraph's length."""


@dataclass(frozen=True, slots=True)
class Match:
    """Paragraph ``a`` of the first article matches paragraph ``b`` of the second at ``score``."""

    a: int
    b: int
    score: float


@dataclass(frozen=True, slots=True)
class Alignment:
    """How two articles' paragraphs correspond. Indices are paragraph numbers (from 0)."""

    matches: tuple[Match, ...]
    only_a: tuple[int, ...]
    only_b: tuple[int, ...]
    ignored_a: tuple[int, ...]
    ignored_b: tuple[int, ...]
    coverage_a_by_b: float
    coverage_b_by_a: float
    a_inside_b: tuple[Match, ...] = ()
    b_inside_a: tuple[Match, ...] = ()

    def mirrored(self) -> Alignment:
        """The same alignment seen from the other article."""
        return Alignment(
            matches=tuple(sorted((Match(m.b, m.a, m.score) for m in self.matches), key=_by_a)),
            a_inside_b=tuple(Match(m.b, m.a, m.score) for m in self.b_inside_a),
            b_inside_a=tuple(Match(m.b, m.a, m.score) for m in self.a_inside_b),
            only_a=self.only_b,
            only_b=self.only_a,
            ignored_a=self.ignored_b,
            ignored_b=self.ignored_a,
            coverage_a_by_b=self.coverage_b_by_a,
            coverage_b_by_a=self.coverage_a_by_b,
        )


def _by_a(match: Match) -> int:
    return match.a


@dataclass(frozen=True)
class PreparedText:
    """An article ready to align: raw paragraphs, their compared forms, the ignored ones."""

    paragraphs: tuple[str, ...]
    compared: tuple[str, ...]
    words: tuple[tuple[str, ...], ...]
    ignored: frozenset[int]
    all_words: tuple[str, ...] = ()
    """Every word of the text, boilerplate included (what shingles are made of)."""
    forms: frozenset[int] = frozenset()
    """Paragraphs made of filled-in form lines (:mod:`dedup.forms`): compared with nothing, but
    counted in coverage."""
    word_hashes: np.ndarray | None = field(default=None, compare=False)
    """The hashes of ``words``, paragraph after paragraph, when :func:`prepare` had them."""
    all_hashes: np.ndarray | None = field(default=None, compare=False)
    """The hashes of ``all_words``, when :func:`prepare` had them."""
    printed_lines: bool = False
    """Its units are its printed lines (no blank line: :func:`dedup.paragraphs.printed_lines`)."""
    reports: tuple[tuple[int, int], ...] = ()
    """(form, line) of each of its lines that fills in a recurring report (:mod:`dedup.forms`)."""

    @cached_property
    def vocabularies(self) -> tuple[np.ndarray, ...]:
        """Per compared paragraph, the sorted distinct hashes of its words (one sort in all)."""
        sizes = [len(w) for w in self.words]
        paragraph = np.repeat(np.arange(len(sizes)), sizes)
        hashes = self.word_hashes
        if hashes is None:
            hashes = token_hashes([w for paragraph_words in self.words for w in paragraph_words])
        order = np.lexsort((hashes, paragraph))
        paragraph, hashes = paragraph[order], hashes[order]
        new = np.ones(hashes.size, dtype=bool)
        new[1:] = (hashes[1:] != hashes[:-1]) | (paragraph[1:] != paragraph[:-1])
        bounds = np.searchsorted(paragraph[new], np.arange(1, len(sizes)))
        return tuple(np.split(hashes[new], bounds))

    @cached_property
    def compared_chars(self) -> int:
        return sum(len(t) for i, t in enumerate(self.compared) if i not in self.ignored)

    @cached_property
    def report_fillings(self) -> dict[int, frozenset[int]]:
        """Each recurring report's form it fills in, and its fillings (lines) of it."""
        out: dict[int, set[int]] = {}
        for form, line in self.reports:
            out.setdefault(form, set()).add(line)
        return {form: frozenset(lines) for form, lines in out.items()}

    @cached_property
    def numbers(self) -> tuple[frozenset[str], ...]:
        """Each compared paragraph's numbers, read whole (:func:`~dedup.tokens.whole_numbers`)."""
        return tuple(frozenset(whole_numbers(t)) for t in self.compared)

    @cached_property
    def names(self) -> tuple[frozenset[str], ...]:
        """Each paragraph's names, as written (:func:`~dedup.tokens.names`)."""
        return tuple(frozenset(names(p)) for p in self.paragraphs)

    @cached_property
    def written_numbers(self) -> tuple[frozenset[str], ...]:
        """Each compared paragraph's numbers written out (:func:`~dedup.tokens.written_numbers`)."""
        return tuple(frozenset(written_numbers(t)) for t in self.compared)


def prepare(
    text: str,
    *,
    boilerplate: frozenset[int] = frozenset(),
    min_paragraph_chars: int = DEFAULT_MIN_PARAGRAPH_CHARS,
    ocr: bool = False,
) -> PreparedText:
    """Split ``text`` into paragraphs and compute what alignment compares for each.

    ``boilerplate`` holds the :func:`~dedup.shingles.sequence_hash` of boilerplate lines' words,
    and the :func:`~dedup.shingles.form_hashes` of filled-in forms: a paragraph whose lines are all
    filled-in forms is in ``forms``.
    With ``ocr``, a paragraph whose boilerplate lines hold at least a quarter of its characters
    is ignored whole: in OCR'd text the rest of a footer is its lines misread, which hash apart.
    """
    paragraphs = tuple(split_paragraphs(text, columns=ocr))
    units = [rejoin_hyphenation(p) for p in paragraphs]  # (compared_units, split once)
    all_lines = normalize_lines("\n".join(units))
    compared = []
    ignored = set()
    all_words: list[str] = []
    position = 0
    line_words = [tokenize(line) for line in all_lines]
    held, form, hashes, reports = _held_lines(line_words, boilerplate)
    words: list[tuple[str, ...]] = []
    forms = set()
    kept_line = np.zeros(len(all_lines), dtype=bool)
    for index, unit in enumerate(units):
        count = unit.count("\n") + 1
        kept, kept_words, removed, filled = [], [], 0, 0
        for k in range(position, position + count):
            all_words += line_words[k]
            if all_lines[k] and not (held is not None and held[k]):
                kept_line[k] = True
                kept.append(all_lines[k])
                kept_words += line_words[k]  # (the words of the kept lines joined by spaces)
                filled += form is not None and bool(form[k])
            else:
                removed += len(all_lines[k])
        position += count
        if kept and filled == len(kept):
            forms.add(index)
        text_kept = " ".join(kept)
        compared.append(text_kept)
        words.append(tuple(kept_words))
        mostly_boilerplate = ocr and 3 * removed >= len(text_kept)
        if len(text_kept) < min_paragraph_chars or not kept_words or mostly_boilerplate:
            ignored.add(index)
    return PreparedText(
        paragraphs,
        tuple(compared),
        tuple(words),
        frozenset(ignored),
        tuple(all_words),
        frozenset(forms - ignored),
        None if hashes is None else hashes[np.repeat(kept_line, [len(w) for w in line_words])],
        hashes,
        printed_lines=not ocr and printed_lines(text),
        reports=reports,
    )


def _held_lines(
    line_words: list[list[str]], boilerplate: frozenset[int]
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None, tuple[tuple[int, int], ...]]:
    """Per line: held as boilerplate? a filled-in form? The words' hashes (all None without held
    lines), and the (form, line) of the lines filling in a recurring report."""
    if not boilerplate:
        return None, None, None, ()
    hashes, lines, forms = lines_and_forms(line_words)
    held = _sorted(boilerplate)
    form = forms != 0
    report = form.copy()
    form[form] = is_member(forms[form], held)
    report[report] = is_member(report_key(forms[report]), held)
    return (
        is_member(lines, held),
        form,
        hashes,
        tuple(zip(forms[report].tolist(), lines[report].tolist(), strict=True)),
    )


def other_reports(a: PreparedText, b: PreparedText) -> bool:
    """Do the two texts fill in a recurring report each in other ways (:mod:`dedup.forms`: no
    filling of one of its forms in common)? Then they are two reports, not a pair."""
    if not a.reports or not b.reports:
        return False
    mine, theirs = a.report_fillings, b.report_fillings
    return any(mine[f].isdisjoint(theirs[f]) for f in mine.keys() & theirs.keys())


_SORTED: dict[int, tuple[frozenset[int], np.ndarray]] = {}


def _sorted(hashes: frozenset[int]) -> np.ndarray:
    """``hashes`` sorted, once per set object. (Not ``lru_cache``: each chunk a worker aligns brings
    an equal set unpickled anew, and a cache keyed by value compares it element by element with the
    cached one on every call — thousands of lines, every article.)"""
    cached = _SORTED.get(id(hashes))
    if cached is None or cached[0] is not hashes:
        if len(_SORTED) >= 4:
            _SORTED.pop(next(iter(_SORTED)))
        cached = _SORTED[id(hashes)] = (hashes, hash_array(hashes))
    return cached[1]


def align_prepared(
    a: PreparedText,
    b: PreparedText,
    *,
    threshold: float,
    characters: bool = False,
    figures_agree: bool = False,
) -> Alignment:
    """Align two prepared articles (see the module docstring for the rules)."""
    alignment = align_if_covered(
        a,
        b,
        threshold=threshold,
        min_coverage=0.0,
        characters=characters,
        figures_agree=figures_agree,
    )
    assert alignment is not None  # (nothing is below a coverage of 0)
    return alignment


def align_if_covered(
    a: PreparedText, b: PreparedText, *, threshold: float, min_coverage: float, characters: bool = False,
    figures_agree: bool = False,
) -> Alignment | None:  # fmt: skip
    """:func:`align_prepared`, or None — as soon as the paragraph scores prove that neither
    coverage can reach ``min_coverage`` (see :func:`_coverage_bounds`), before the costlier steps.
    ``figures_agree``: a pair with no near-verbatim match is held to its figures
    (:func:`_with_figures_agreeing`). Two texts filling in a recurring report each in other ways
    (:func:`other_reports`) match nowhere, and a pair with a text filling one in is held to its
    figures in any mode: a day's report is another day's wherever a figure differs."""
    if other_reports(a, b):
        return None if min_coverage > 0 else _assembled(a, b, [], [], [], characters)
    rows = [i for i in range(len(a.compared)) if i not in a.ignored and i not in a.forms]
    cols = [j for j in range(len(b.compared)) if j not in b.ignored and j not in b.forms]
    matches: list[Match] = []
    if rows and cols:
        scores = _scores(a, b, rows, cols, characters)
        if (
            min_coverage > 0
            and max(_coverage_bounds(a, b, rows, cols, scores, threshold, characters, min_coverage))
            < min_coverage
        ):
            return None
        matches = one_to_one(scores, rows, cols, threshold)
    matched_a = {m.a for m in matches}
    matched_b = {m.b for m in matches}
    a_inside_b = _inside(a, b, [i for i in rows if i not in matched_a], cols, threshold, characters)
    # mirrored: (b's unit, a's host) stored as Match(a=host, b=unit)
    b_inside_a = [
        Match(m.b, m.a, m.score)
        for m in _inside(b, a, [j for j in cols if j not in matched_b], rows, threshold, characters)
    ]
    alignment = _assembled(a, b, matches, a_inside_b, b_inside_a, characters)
    if not (figures_agree or a.reports or b.reports) or characters:
        return alignment
    kept = _with_figures_agreeing(a, b, threshold, matches, a_inside_b, b_inside_a, reworded=figures_agree)
    if sum(map(len, kept)) == len(matches) + len(a_inside_b) + len(b_inside_a):
        return alignment
    return _assembled(a, b, *kept, characters)


def _assembled(
    a: PreparedText, b: PreparedText, matches: list[Match], a_inside_b: list[Match], b_inside_a: list[Match],
    characters: bool,
) -> Alignment:  # fmt: skip
    """The :class:`Alignment` of these matches: the units left over and both coverages."""
    matched_a, matched_b = {m.a for m in matches}, {m.b for m in matches}
    inside_a = {m.a for m in a_inside_b}
    inside_b = {m.b for m in b_inside_a}
    return Alignment(
        matches=tuple(matches),
        a_inside_b=tuple(a_inside_b),
        b_inside_a=tuple(b_inside_a),
        only_a=tuple(
            i for i in range(len(a.compared)) if i not in a.ignored and i not in matched_a | inside_a
        ),
        only_b=tuple(
            j for j in range(len(b.compared)) if j not in b.ignored and j not in matched_b | inside_b
        ),
        ignored_a=tuple(sorted(a.ignored)),
        ignored_b=tuple(sorted(b.ignored)),
        coverage_a_by_b=_coverage(
            a,
            b,
            [(m.a, m.b) for m in matches],
            a_inside_b,
            [(m.a, m.b, m.score) for m in b_inside_a],
            characters,
        ),
        coverage_b_by_a=_coverage(
            b,
            a,
            [(m.b, m.a) for m in matches],
            [Match(m.b, m.a, m.score) for m in b_inside_a],
            [(m.b, m.a, m.score) for m in a_inside_b],
            characters,
        ),
    )


def one_to_one(scores: np.ndarray, rows: list[int], cols: list[int], threshold: float) -> list[Match]:
    """Units matched one-to-one, greedily, best score first (ties as the module says), sorted by
    ``a``: paragraphs here, sentences in :mod:`dedup.semantic`."""
    cells = []
    for r, c in zip(*np.nonzero(scores >= threshold), strict=True):
        i, j = rows[r], cols[c]
        cells.append((-float(scores[r, c]), i + j, abs(i - j), i, j))
    cells.sort()
    used_a: set[int] = set()
    used_b: set[int] = set()
    matches = []
    for negative_score, _, _, i, j in cells:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        matches.append(Match(i, j, -negative_score))
    return sorted(matches, key=_by_a)


def _coverage_bounds(
    a: PreparedText, b: PreparedText, rows: list[int], cols: list[int], scores: np.ndarray, threshold: float,
    characters: bool = False, enough: float = 1.0,
) -> tuple[float, float]:  # fmt: skip
    """Upper bounds of the two coverages: the share of each side's compared characters in units
    that could count at all — a unit with a one-to-one score at ``threshold``, or that passes the
    inside-search's word filter as a unit or as a host (each counts at most its length). The
    one-to-one part alone when one of its two already reaches ``enough``."""
    size_a = np.array([len(a.compared[i]) for i in rows], dtype=np.float64)
    size_b = np.array([len(b.compared[j]) for j in cols], dtype=np.float64)
    could_a, could_b = (scores >= threshold).any(axis=1), (scores >= threshold).any(axis=0)
    bounds = (
        float(size_a[could_a].sum()) / max(a.compared_chars, 1),
        float(size_b[could_b].sum()) / max(b.compared_chars, 1),
    )
    if max(bounds) < enough and not (could_a.all() and could_b.all()):
        shared = shared_words([a.vocabularies[i] for i in rows], [b.vocabularies[j] for j in cols])
        unit_a = _inside_units(a, rows) & (size_a <= MAX_INSIDE_CHARS)
        unit_b = _inside_units(b, cols) & (size_b <= MAX_INSIDE_CHARS)
        words_a = np.array([a.vocabularies[i].size for i in rows])[:, None]
        words_b = np.array([b.vocabularies[j].size for j in cols])[None, :]
        a_in_b = unit_a[:, None] & (size_b[None, :] <= MAX_HOST_CHARS) & (size_b[None, :] > size_a[:, None])
        a_in_b &= shared >= _word_share(threshold, characters) * words_a
        b_in_a = unit_b[None, :] & (size_a[:, None] <= MAX_HOST_CHARS) & (size_a[:, None] > size_b[None, :])
        b_in_a &= shared >= _word_share(threshold, characters) * words_b
        could_a |= a_in_b.any(axis=1) | b_in_a.any(axis=1)
        could_b |= a_in_b.any(axis=0) | b_in_a.any(axis=0)
        bounds = (
            float(size_a[could_a].sum()) / max(a.compared_chars, 1),
            float(size_b[could_b].sum()) / max(b.compared_chars, 1),
        )
    return bounds


REWORDED_RULE = (
    "a pair with no near-verbatim match of 8+ words (two in printed lines) is held to its figures and names: two "
    f"matched paragraphs disagree when under {FIGURES_AGREE} of the smaller one's numbers are in the other, or no "
    "more than half of its names (capitalized words inside a sentence); when half or more of the one-to-one matches "
    "giving either on both sides disagree, no pair; otherwise those matches do not count; in text compared by "
    "printed lines, a pair left with one matched line is no pair"
)
"""The rule ``reworded_figures_agree`` turns on, in words, for a result's ``params``."""


def _with_figures_agreeing(
    a: PreparedText, b: PreparedText, threshold: float, *found: list[Match], reworded: bool = False
) -> tuple[list[Match], list[Match], list[Match]]:
    """The matches (one to one, a inside b, b inside a) of a pair of reworded paragraphs that count
    once the pair is held to its figures (``reworded_figures_agree``).

    Two corresponding paragraphs *disagree* when both give numbers
    (:func:`~dedup.tokens.whole_numbers`) and fewer than :data:`~dedup.tokens.FIGURES_AGREE` of the
    smaller one's are in the other. A paragraph that gives none in digits is read for those it
    writes out, and so is its partner (:func:`~dedup.tokens.written_numbers`: "two billion dlrs"
    against "1.5 billion dlrs", "four cts a share" against "five cts a share" disagree). Where both
    give digits, only digits count: a template's written-out constant ("a five pct stock dividend")
    would make two companies' notices agree on it. When half or more of the one-to-one matches that
    give numbers on both sides disagree, the pair is a house template filled in for another event (a
    crude posting of another company, a Fed operation of another day): no match counts, though
    paragraphs without numbers ("The department said the action reduces the guarantee line") still
    match. Paragraphs of filled-in form lines (:mod:`dedup.forms`), compared with nothing otherwise,
    are matched here for their figures only (:func:`_form_matches`). When fewer disagree, only the
    matches that disagree are dropped: a reworded story's byline date ("Weekly 02/24/2017 page28")
    is no reason to lose the paragraphs whose figures it kept. A headline found inside a paragraph
    (``a_inside_b``, ``b_inside_a``) is dropped when its figures disagree but never condemns the
    pair: the paragraph gives figures of its own. With ``reworded`` (``reworded_figures_agree``)
    two paragraphs disagree too when both give names (:func:`~dedup.tokens.names`) and no more than
    half of the smaller one's are in the other: one formula written for two companies. Those giving
    names are counted apart (inside a paragraph too: a headline gives no names), as agreeing on a
    name says nothing of a figure. Nor does one printed line make a pair (:func:`_one_printed_line`).

    A pair that reads as a story's update keeps them all (:func:`_an_update`). Not a pair with a
    text filling in a recurring report (:attr:`PreparedText.reports`): its lines are verbatim every
    day, and two days' reports with one rate and other amounts are two reports. Such a pair is held
    to its words too: a report's line is the same every day but for its fillings, so a one-to-one
    match under :data:`VERBATIM` ("1.5 billion dlrs of customer" against "three-day System",
    "indirect" against "direct") is another filling and disagrees like a figure — a customer
    repurchase and a System one at one rate are two operations."""

    reports = bool(a.reports or b.reports)

    def figures_agree(m: Match) -> bool:
        if reports and m.score < VERBATIM:
            return False
        x, y = _figures(a, b, m)
        return not (x and y) or len(x & y) >= FIGURES_AGREE * min(len(x), len(y))

    def agree(m: Match) -> bool:
        return figures_agree(m) and (not reworded or _names_agree(a, b, m))

    if not reports and _an_update(a, b, found):
        return found[0], found[1], found[2]
    numbered = [
        m
        for m in (*found[0], *_form_matches(a, b, found[0], threshold))
        if all(_figures(a, b, m)) or (reports and m.score < VERBATIM)
    ]
    named = [m for matches in found for m in matches if reworded and a.names[m.a] and b.names[m.b]]
    if _most_disagree(numbered, figures_agree) or _most_disagree(named, partial(_names_agree, a, b)):
        return [], [], []
    one_to_one, a_inside_b, b_inside_a = ([m for m in matches if agree(m)] for matches in found)
    if reworded and _one_printed_line(a, b, one_to_one, a_inside_b, b_inside_a):
        return [], [], []
    return one_to_one, a_inside_b, b_inside_a


def _one_printed_line(a: PreparedText, b: PreparedText, *kept: list[Match]) -> bool:
    """Whether a pair compared by printed lines (either text's units are its lines) is left with one
    match, and is no exact copy: a printed line is a piece of a paragraph cut at the column's width,
    and one formula line ("NOTE: full name of company is", "said its board declared a two-for-one
    stock split") recurs in every notice. Not reuse (``reworded_figures_agree``)."""
    return (
        (a.printed_lines or b.printed_lines)
        and sum(map(len, kept)) < 2
        and a.all_words != b.all_words  # (an exact copy stays one, whatever its length)
    )


def _most_disagree(matches: list[Match], agree: Callable[[Match], bool]) -> bool:
    """Whether half or more of ``matches`` (and at least one) disagree."""
    disagreeing = sum(not agree(m) for m in matches)
    return disagreeing > 0 and 2 * disagreeing >= len(matches)


def _an_update(a: PreparedText, b: PreparedText, found: tuple[list[Match], ...]) -> bool:
    """Whether a pair's matches read as a story's update: a match at :data:`VERBATIM` of
    :data:`MIN_INSIDE_WORDS` words or more (two of them in printed lines). A story's update changes
    its figures, a filled-in house template its words and figures.

    A match whose words differ in their numbers only does not count: that is a template's line filled in
    twice (:func:`_filled_in_otherwise`; asking it to agree on its figures instead lost COUNTER's
    wholly derived pair whose agency paragraph alone gives a dateline).
    (A shorter verbatim match proves nothing: a notice's hard-wrapped first line, "The Turkish
    Central Bank set a", is verbatim in every day's notice.) When either text's units are its
    printed lines (:attr:`PreparedText.printed_lines`), it takes two such matches: a printed line
    is a piece of a paragraph cut at the column's width, and one line of a daily report ("the Fed
    began its temporary and indirect supply of reserves to") is verbatim in every day's report,
    while an update keeps paragraphs, several lines."""
    verbatim = sum(
        m.score >= VERBATIM
        and min(len(a.words[m.a]), len(b.words[m.b])) >= MIN_INSIDE_WORDS
        and not _filled_in_otherwise(a.words[m.a], b.words[m.b])
        for matches in found
        for m in matches
    )
    return verbatim >= (2 if a.printed_lines or b.printed_lines else 1)


def _names_agree(a: PreparedText, b: PreparedText, m: Match) -> bool:
    """Whether two matched paragraphs agree on their names: more than half of the smaller one's
    are in the other (or either gives none)."""
    x, y = a.names[m.a], b.names[m.b]
    return bool(names_agree(len(x & y), min(len(x), len(y))))


def _figures(a: PreparedText, b: PreparedText, m: Match) -> tuple[frozenset[str], frozenset[str]]:
    """The numbers two matched paragraphs give: in digits, or, where either gives none in digits,
    with those both write out."""
    x, y = a.numbers[m.a], b.numbers[m.b]
    if x and y:
        return x, y
    return x | a.written_numbers[m.a], y | b.written_numbers[m.b]


def _filled_in_otherwise(x: tuple[str, ...], y: tuple[str, ...]) -> bool:
    """Whether two paragraphs' words differ in their numbers only: one line of a form filled in twice."""
    return (
        x != y
        and len(x) == len(y)
        and all(v == w or (v.isdecimal() and w.isdecimal()) for v, w in zip(x, y, strict=True))
    )


def _form_matches(a: PreparedText, b: PreparedText, matches: list[Match], threshold: float) -> list[Match]:
    """One-to-one matches at ``threshold`` of the paragraphs ``matches`` left, at least one of
    each made of filled-in form lines: a form filled in by each article, read for its figures."""
    if not (a.forms or b.forms):
        return []
    matched_a, matched_b = {m.a for m in matches}, {m.b for m in matches}
    rows = [i for i in range(len(a.compared)) if i not in a.ignored and i not in matched_a]
    cols = [j for j in range(len(b.compared)) if j not in b.ignored and j not in matched_b]
    if not rows or not cols:
        return []
    found = one_to_one(_scores(a, b, rows, cols, characters=False), rows, cols, threshold)
    return [m for m in found if m.a in a.forms or m.b in b.forms]


def _inside_units(text: PreparedText, units: list[int]) -> np.ndarray:
    return np.array([len(text.words[i]) >= MIN_INSIDE_WORDS for i in units], dtype=bool)


def _inside(
    own: PreparedText, other: PreparedText, units: list[int], hosts: list[int], threshold: float,
    characters: bool = False,
) -> list[Match]:  # fmt: skip
    """Units of ``own`` (unmatched, long enough) found verbatim-ish inside a longer unit of ``other``.

    Score: ``fuzz.partial_ratio`` (best-aligned substring, 0..1) of the unit against the host; the
    best host at ``threshold`` or above wins, ties to the smaller index. Only hosts holding
    ``threshold`` of the unit's distinct words are scored (:func:`_word_share`: fewer for scans).
    """
    units = [
        i for i in units if len(own.words[i]) >= MIN_INSIDE_WORDS and len(own.compared[i]) <= MAX_INSIDE_CHARS
    ]
    hosts = [j for j in hosts if len(other.compared[j]) <= MAX_HOST_CHARS]
    if not units or not hosts:
        return []
    # cheap filter first: the host must be longer and hold most of the unit's distinct words
    shared = shared_words([own.vocabularies[i] for i in units], [other.vocabularies[j] for j in hosts])
    needed = _word_share(threshold, characters) * np.array([own.vocabularies[i].size for i in units])
    longer = (
        np.array([len(other.compared[j]) for j in hosts])
        > np.array([len(own.compared[i]) for i in units])[:, None]
    )
    worth = longer & (shared >= needed[:, None])
    found = []
    for r in np.flatnonzero(worth.any(axis=1)).tolist():
        i = units[r]
        best: tuple[float, int] | None = None
        for c in np.flatnonzero(worth[r]).tolist():
            j = hosts[c]
            score = round(fuzz.partial_ratio(own.compared[i], other.compared[j]) / 100, 4)
            if score >= threshold and (best is None or score > best[0]):
                best = (score, j)
        if best is not None:
            found.append(Match(i, best[1], best[0]))
    return found


def _word_share(threshold: float, characters: bool) -> float:
    """The share of a unit's distinct words a host must hold to be scored as holding it: the
    ``threshold``, or with ``characters`` (scans) :data:`SCANNED_WORD_SHARE` of it — at a 4%
    character error rate a fifth of each copy's words are misread, a third of the words of two
    copies differ, while their characters still agree at 0.9."""
    return threshold * SCANNED_WORD_SHARE if characters else threshold


def shared_words(units: list[np.ndarray], hosts: list[np.ndarray]) -> np.ndarray:
    """``out[u, h]``: how many of unit ``u``'s distinct words host ``h`` holds (sets of word hashes)."""
    hashes = np.concatenate(units + hosts)
    order = np.argsort(hashes)
    new = np.ones(hashes.size, dtype=bool)
    new[1:] = hashes[order[1:]] != hashes[order[:-1]]
    where = np.empty(hashes.size, dtype=np.int64)
    where[order] = np.cumsum(new) - 1  # each hash's number in the joint vocabulary
    incidence = np.zeros((len(units) + len(hosts), int(new.sum())), dtype=np.float32)
    owner = np.repeat(np.arange(len(units) + len(hosts)), [v.size for v in units + hosts])
    incidence[owner, where] = 1.0
    return incidence[: len(units)] @ incidence[len(units) :].T


def _scores(
    a: PreparedText, b: PreparedText, rows: list[int], cols: list[int], characters: bool
) -> np.ndarray:
    """Score matrix of paragraphs ``rows`` of ``a`` against ``cols`` of ``b`` (see the module
    docstring), rounded to 4 decimals so ties are exact."""
    scores = _word_scores([a.words[i] for i in rows], [b.words[j] for j in cols])
    if characters:
        texts_a, texts_b = [a.compared[i] for i in rows], [b.compared[j] for j in cols]
        ratios = process.cdist(texts_a, texts_b, scorer=fuzz.ratio, dtype=np.float64)
        scores = np.maximum(scores, np.round(ratios / 100, 4))
    return scores


def _word_scores(words_a: list[tuple[str, ...]], words_b: list[tuple[str, ...]]) -> np.ndarray:
    distances = process.cdist(words_a, words_b, scorer=Indel.distance, dtype=np.int32)
    len_a = np.array([len(w) for w in words_a], dtype=np.float64)[:, np.newaxis]
    len_b = np.array([len(w) for w in words_b], dtype=np.float64)[np.newaxis, :]
    common = (len_a + len_b - distances) / 2
    denominator = np.maximum(np.minimum(len_a, len_b), np.maximum(len_a, len_b) * LENGTH_FLOOR)
    return np.round(common / denominator, 4)


def _coverage(
    own: PreparedText,
    other: PreparedText,
    pairs: Iterable[tuple[int, int]],
    inside: Iterable[Match],
    hosted: Iterable[tuple[int, int, float]],
    characters: bool = False,
) -> float:
    """Share of ``own``'s compared characters found in ``other``.

    A unit counts by the best of: its one-to-one match (share of its words in the counterpart),
    its being inside a longer unit (its length times the score), or the units of ``other`` it
    hosts (their lengths times their scores, at most its own length).
    """
    total = own.compared_chars
    if total == 0:
        return 0.0
    covered: dict[int, float] = {}
    for i, j in pairs:
        mine, theirs = own.words[i], other.words[j]
        common = (len(mine) + len(theirs) - Indel.distance(mine, theirs)) / 2
        share = common / len(mine)
        if characters:
            mine_chars, theirs_chars = own.compared[i], other.compared[j]
            common_chars = (
                len(mine_chars) + len(theirs_chars) - Indel.distance(mine_chars, theirs_chars)
            ) / 2
            share = max(share, common_chars / len(mine_chars))
        covered[i] = len(own.compared[i]) * share
    for m in inside:
        covered[m.a] = max(covered.get(m.a, 0.0), len(own.compared[m.a]) * m.score)
    hosted_chars: dict[int, float] = {}
    for host, unit, score in hosted:
        hosted_chars[host] = hosted_chars.get(host, 0.0) + len(other.compared[unit]) * score
    for host, chars in hosted_chars.items():
        covered[host] = max(covered.get(host, 0.0), min(len(own.compared[host]), chars))
    return round(sum(covered.values()) / total, 4)


def align(
    text_a: str,
    text_b: str,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    min_paragraph_chars: int = DEFAULT_MIN_PARAGRAPH_CHARS,
    boilerplate: Iterable[str] = (),
) -> Alignment:
    """Align the paragraphs of two texts; see the module docstring.

    ``boilerplate`` lines (compared normalized) are left out of both texts.

    >>> result = align("The same opening paragraph.\\n\\nOnly here.", "The same opening paragraph!")
    >>> [(m.a, m.b) for m in result.matches]
    [(0, 0)]
    """
    hashes = frozenset(sequence_hashes([tokenize(normalize(line)) for line in boilerplate]).tolist())
    a = prepare(text_a, boilerplate=hashes, min_paragraph_chars=min_paragraph_chars)
    b = prepare(text_b, boilerplate=hashes, min_paragraph_chars=min_paragraph_chars)
    return align_prepared(a, b, threshold=threshold)


def word_diff(
    text_a: str, text_b: str, *, misreads: bool = False
) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """The words of two paragraphs, each flagged True where it is shared by the other side.

    Words are compared by their normalized word characters, so a changed quote, case or a
    trailing comma is not shown as a difference. In scripts written without spaces each character
    is a unit (:func:`dedup.tokens.display_units`).

    With ``misreads`` (OCR'd text), a replaced word facing a replacement at the same place that
    differs from it by one character (two from eight characters on), as ``rn`` read for ``m`` or
    ``1`` for ``l`` would make it, is flagged shared too: a misread, not an edit. Clean text is
    diffed without it, where "rose" → "rise" is an edit.
    """
    words_a, words_b = display_units(text_a), display_units(text_b)
    keys_a = [" ".join(tokenize(normalize(w))) for w in words_a]
    keys_b = [" ".join(tokenize(normalize(w))) for w in words_b]
    same_a = [False] * len(words_a)
    same_b = [False] * len(words_b)
    opcodes = Levenshtein.opcodes if misreads else Indel.opcodes  # (Indel has no "replace")
    for op in opcodes(keys_a, keys_b):
        if op.tag == "equal":
            same_a[op.src_start : op.src_end] = [True] * (op.src_end - op.src_start)
            same_b[op.dest_start : op.dest_end] = [True] * (op.dest_end - op.dest_start)
        elif misreads and op.tag == "replace":
            for i, j in zip(range(op.src_start, op.src_end), range(op.dest_start, op.dest_end), strict=False):
                if _misread(keys_a[i], keys_b[j]):
                    same_a[i] = same_b[j] = True
    return list(zip(words_a, same_a, strict=True)), list(zip(words_b, same_b, strict=True))


def _misread(a: str, b: str) -> bool:
    """Could ``a`` and ``b`` be one word, one of them misread by OCR?"""
    allowed = 2 if min(len(a), len(b)) >= 8 else 1
    return bool(a) and bool(b) and Levenshtein.distance(a, b, score_cutoff=allowed) <= allowed

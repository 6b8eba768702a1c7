"""Every setting of a run, frozen, with its default and the reason for it.

Nothing here computes or draws random numbers: the MinHash permutations are derived from ``seed``
by datasketch in :mod:`dedup.signatures`, so two runs with equal configs give equal signatures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .errors import ConfigError

PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    # rewritten reuse (DedupConfig.reuse explains the numbers)
    "reuse": {
        "shingle_size": 3, "candidate_threshold": 0.05, "min_exact_containment": 0.1,
        "paragraph_threshold": 0.6, "duplicate_threshold": 0.6, "partial_threshold": 0.3,
        "reworded_figures_agree": True,
    },
    # scanned newspapers (DedupConfig.ocr explains the numbers)
    "ocr": {
        "ocr_tolerant": True, "shingle_size": 3, "candidate_threshold": 0.05,
        "duplicate_threshold": 0.7, "partial_threshold": 0.4,
    },
}  # fmt: skip
"""The presets as data: name → the settings it changes from the defaults."""


@dataclass(frozen=True, slots=True)
class DedupConfig:
    """Settings of :func:`dedup.find_duplicates`.

    Shingling and signatures
        ``shingle_size`` (5): words per shingle. Five words are rare enough by chance that two
        independently written articles on one topic share almost none (the seeds 002-004 share
        under 1%), and short enough that a copy with a few words changed keeps most of them.
        ``num_perm`` (128): MinHash permutations; the estimate's standard error is about
        ``sqrt(J(1-J)/num_perm)``, i.e. about 0.04 at J = 0.35.
        ``seed`` (1): seed of datasketch's permutations; signatures are comparable only with
        equal ``num_perm`` and ``seed``.

    Candidates
        ``candidate_threshold`` (0.1): Jaccard threshold that datasketch's ``MinHashLSH``
        optimises its bands for. Deliberately low: an article contained in one ``r`` times its
        length has a Jaccard of only ``c / (r + 1 - c)`` (the seeds 000/001: 0.35), and every
        candidate is verified by alignment afterwards, so a low threshold costs alignments, not
        false reports.
        ``anchor_max_docs`` (50): articles that share a verbatim sentence of 8 words or more are
        candidates too, whatever their Jaccard (a summary inside its article, a wire story inside
        a long page) — if no more than 4 articles hold that sentence; a sentence in more is a
        template (a dividend notice's formula, a quoted question) and pairs only where two
        consecutive such sentences (a passage) are shared. A passage shared by more articles than
        ``anchor_max_docs`` (furniture) does not pair all of its carriers: each is paired with its
        next 4 by id only. Template sentences are counted in the summary's
        ``anchors_shared_too_widely`` and are no evidence in the pre-check either.
        ``min_candidate_containment`` (0.05): pre-check before alignment; a candidate pair whose
        shingle containment, estimated from the signatures and shingle counts, is below this both
        ways is dropped, and so is one whose exact containment (counted from the shingles spilled
        while sketching, boilerplate lines left out) is, or that reaches it only through template
        sentences without sharing a fifth of one article; alignment stops early for a pair whose
        paragraph scores prove it cannot be reported: the summary's ``prechecked_pairs`` and
        ``aligned_pairs`` (aligned to the end).
        ``min_exact_containment`` (0.05): the floor of that exact count, where
        ``min_candidate_containment`` is the estimate's. The same in the defaults; ``--preset
        reuse`` raises it alone, since the estimate is noisy for a short quote in a long article and
        3-word shingles are common by chance.

    Alignment and decision
        ``paragraph_threshold`` (0.8): score (0..1) at which two paragraphs count as the same
        paragraph, possibly edited: their longest common word subsequence over the shorter one's
        word count, never over less than a third of the longer one's (:mod:`dedup.alignment`).
        ``ocr_tolerant`` (False): the texts are OCR output. Paragraphs are also scored on their
        characters, the better score counting (:mod:`dedup.alignment`), so that scans whose words
        are broken by misread glyphs still match; a paragraph a quarter made of boilerplate lines is
        boilerplate whole (its other lines are misread copies of them); a text with no blank line
        is prose set in columns, compared by sentence groups rather than printed lines. On in the ``ocr`` preset.
        ``detect_scans`` (True): each article is read for signs of OCR — misread glyphs, print
        columns with hyphenated line ends (:mod:`dedup.scans`) — and a pair with a scanned article
        is scored as ``ocr_tolerant`` scores, with ``duplicate_threshold`` and
        ``partial_threshold`` 0.1 lower; scanned articles are also candidates of one another
        from LSH bands tuned for a Jaccard of 0.08 over a second sketch of their 8-character
        shingles (:func:`dedup.shingles.character_shingles`). So one run over a collection of born-digital
        and scanned articles scores each pair as it needs; the summary counts the scanned
        articles (``articles_scanned``) and the JSON report marks those it shows. Off, every pair
        is scored as ``ocr_tolerant`` says.
        ``reworded_figures_agree`` (False; on in ``--preset reuse``): a pair none of whose
        matched paragraphs is near-verbatim (all score under :data:`dedup.alignment.VERBATIM`,
        or have fewer than 8 words: a hard-wrapped line "The Federal Reserve entered the" marks
        no update, or differ in their numbers only: a form's line filled in twice; in text
        compared by printed lines, two such lines are needed) is held to its figures. Two
        matched paragraphs disagree when both give numbers (read whole as written:
        ``1,225,000``, ``51.50``, ``6-3/16``; where either gives none in digits, with those
        both write out before a scale or unit: "two billion dlrs", "six pct") and fewer than
        half of the smaller one's are in the other; or when both give names (capitalized words
        inside a sentence: "Industries Inc" against "Electronics Corp") and no more than half of
        the smaller one's are in the other — a formula ("said its board declared a two-for-one
        stock split") written for another company. When half or more of the one-to-one matches
        that give numbers on both sides disagree (paragraphs of filled-in form lines matched for
        this too), or half or more of those that give names, the pair is a house template filled
        in for another event — a road death in another county, another company's crude posting
        — and nothing matches (and in text compared by printed lines, a pair left with one line
        matched: one formula line, "NOTE: full name of company is", recurs in every notice);
        otherwise only the matches that disagree do not count (a rewrite's byline with another
        date). Reworded paragraphs keep their source's figures; a story's update keeps a
        verbatim paragraph and so all its matches — but not a text filling in a recurring report
        (:mod:`dedup.forms`), whose lines are verbatim every day; such a pair is held to its
        figures in any mode.
        Whatever the coverage: two days' one-line hog reports ("Hog prices opened 0.50 dlr
        higher", "1.00 dlr higher") read as near-duplicates at the preset's paragraph threshold
        of 0.6. Not for pairs with a scan (misread digits).
        ``min_paragraph_chars`` (25): shorter paragraphs ("AP", "Loading...", a two-word
        heading) are neither matched nor counted in coverage.
        ``duplicate_threshold`` (0.8): coverage at which an article counts as (nearly) wholly
        present in the other: both ways → ``near_duplicate``, one way → ``contained``.
        ``partial_threshold`` (0.5): coverage of at least one side at which a pair is reported
        as ``partial`` reuse.

    Rewritten stories
        ``semantic`` (False): also look for stories reworded from one another, with sentence
        embeddings (:mod:`dedup.semantic`; needs ``pip install 'newsdedup[semantic]'``), and
        report them as ``rewritten``. Local runs and archives (``dedup index add|query
        --semantic``, vectors stored), not Spark; for thousands to tens of thousands of articles.

    Boilerplate
        ``boilerplate_min_docs`` (5): a line that occurs in at least this many articles (exact
        copies counted once) *and* surrounds different main texts there is boilerplate; see
        :mod:`dedup.boilerplate`.
        ``boilerplate_many_docs`` (50): from this many carriers, a line next to texts of their own
        is boilerplate whatever its length (a footer as long as the dividend notices it closes).
        ``boilerplate_one_story`` (0.5): a frequent line is kept as text when its carriers'
        signatures agree in a median share of at least this (one story republished with small
        edits, not furniture). At 0.2 Reuters dividend notices paired again.
        ``furniture_share`` (0.2): an article with this share of its words in boilerplate lines or
        more gets a signature of the rest of its text.
        ``form_min_docs`` (5): a line's *form* (its words, numbers masked) carried by at least this
        many texts in two fillings or more, its carriers not one story, is a filled-in form
        (an earnings or dividend notice's line): a paragraph of such lines is compared with nothing
        but counts in coverage, so notices of different companies are no pair; see
        :mod:`dedup.forms`. 0 turns the rule off.

    Bounds and rules of thumb (each measured; they change results, so they are settings too)
        ``lsh_max_bucket`` (64): articles sharing one band value beyond this are paired with their
        next ``crowded_window`` (4) by id only, which keeps a group of real copies connected at
        linear cost. ``anchor_alone_max_docs`` (4): a sentence held by more articles is a template
        (it pairs nobody on its own; without this, 200,000 articles made of sentences each recurring
        in ten unrelated ones gave 25 million candidate pairs). ``anchor_share`` (0.2): the
        pre-check keeps a pair MinHash rules out when this share of the sentence anchors of the
        article with fewer is shared. ``template_only_share`` (0.2): a pair whose shared text is
        all in template sentences is aligned only when this share of one article is shared.
    """

    shingle_size: int = 5
    num_perm: int = 128
    seed: int = 1
    candidate_threshold: float = 0.1
    anchor_max_docs: int = 50
    min_candidate_containment: float = 0.05
    paragraph_threshold: float = 0.8
    ocr_tolerant: bool = False
    detect_scans: bool = True
    min_paragraph_chars: int = 25
    duplicate_threshold: float = 0.8
    partial_threshold: float = 0.5
    boilerplate_min_docs: int = 5
    semantic: bool = False
    boilerplate_many_docs: int = 50
    boilerplate_one_story: float = 0.5
    furniture_share: float = 0.2
    form_min_docs: int = 5
    lsh_max_bucket: int = 64
    crowded_window: int = 4
    anchor_alone_max_docs: int = 4
    anchor_share: float = 0.2
    template_only_share: float = 0.2
    min_exact_containment: float = 0.05
    reworded_figures_agree: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.semantic, bool):
            raise ConfigError(f"semantic must be true or false, got {self.semantic!r}")
        if not isinstance(self.detect_scans, bool):
            raise ConfigError(f"detect_scans must be true or false, got {self.detect_scans!r}")
        if not isinstance(self.ocr_tolerant, bool):
            raise ConfigError(f"ocr_tolerant must be true or false, got {self.ocr_tolerant!r}")
        if not isinstance(self.reworded_figures_agree, bool):
            raise ConfigError(
                f"reworded_figures_agree must be true or false, got {self.reworded_figures_agree!r}"
            )
        _check_int("shingle_size", self.shingle_size, 1, 64)
        _check_int("num_perm", self.num_perm, 16, 4096)
        _check_int("seed", self.seed, 0, 2**32 - 1)
        _check_int("min_paragraph_chars", self.min_paragraph_chars, 0, 10_000)
        _check_int("boilerplate_min_docs", self.boilerplate_min_docs, 2, 10**9)
        _check_int("anchor_max_docs", self.anchor_max_docs, 2, 10**6)
        _check_int("form_min_docs", self.form_min_docs, 0, 10**9)
        if self.form_min_docs == 1:
            raise ConfigError("form_min_docs must be 0 (off) or at least 2, got 1")
        _check_int("boilerplate_many_docs", self.boilerplate_many_docs, 2, 10**9)
        _check_int("lsh_max_bucket", self.lsh_max_bucket, 2, 10**6)
        _check_int("crowded_window", self.crowded_window, 1, 10**3)
        _check_int("anchor_alone_max_docs", self.anchor_alone_max_docs, 2, 10**6)
        for name in ("boilerplate_one_story", "furniture_share", "anchor_share", "template_only_share"):
            _check_unit(name, getattr(self, name))
        _check_unit("candidate_threshold", self.candidate_threshold)
        _check_unit("min_candidate_containment", self.min_candidate_containment, allow_zero=True)
        _check_unit("min_exact_containment", self.min_exact_containment, allow_zero=True)
        _check_unit("paragraph_threshold", self.paragraph_threshold)
        _check_unit("duplicate_threshold", self.duplicate_threshold)
        _check_unit("partial_threshold", self.partial_threshold)
        if self.partial_threshold > self.duplicate_threshold:
            raise ConfigError(
                f"partial_threshold ({self.partial_threshold}) must not exceed "
                f"duplicate_threshold ({self.duplicate_threshold})"
            )

    @classmethod
    def reuse(cls, **overrides: Any) -> DedupConfig:
        """Settings for *rewritten* reuse (a newspaper rewording an agency story), not copies.

        3-word shingles, every article sharing even one MinHash value a candidate (LSH bands of
        one row), the containment pre-check on those shingles (estimated 5%, then counted 10%:
        3-word phrases such as "said it would" are shared by chance; template sentences no
        evidence), paragraphs matching at 0.6, a pair reported from 30% coverage, and a pair of
        reworded paragraphs only agreeing on its figures and names (``reworded_figures_agree``).
        Measured on COUNTER (Urdu agency → newspaper, 1,200 texts): wholly derived pairs found
        0.72 (defaults: 0.46) with 5.1% of independently written pairs reported (defaults:
        1.7%); the pre-check changed no pair, and without it every candidate was aligned, 26x
        slower on dai2017's 3,784 articles (149 s against 5.7 s; the defaults 2.0 s).
        """
        return cls.preset("reuse", **overrides)

    @classmethod
    def ocr(cls, **overrides: Any) -> DedupConfig:
        """Settings for scanned newspapers: every copy OCR'd on its own (misread glyphs, dropped
        and stray characters, broken words).

        ``ocr_tolerant`` scoring (paragraphs also compared on their characters; a paragraph a quarter made of
        boilerplate lines is boilerplate whole), 3-word shingles with LSH bands tuned for a
        Jaccard of 0.05 (at a 3% character error rate one word in six is misread in each copy,
        and two copies keep a quarter of their 5-word shingles but half of their 3-word ones),
        and grouping from 70% coverage, partial reuse from 40% (misread lines that match nothing
        lower the coverage of true copies). Measured in ``benchmarks/ocr.py`` (3,656 copies of 500
        stories): at a 1-3% error rate pair F1 0.994 and ARI 0.978 (defaults: 0.513 and 0.090).
        """
        return cls.preset("ocr", **overrides)

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> DedupConfig:
        """The settings of ``--preset NAME``: ``default``, ``reuse`` or ``ocr``."""
        if name not in PRESETS:
            raise ConfigError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}")
        return cls(**{**PRESETS[name], **overrides})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"{name} must be in [{low}, {high}], got {value}")


def _check_unit(name: str, value: object, *, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    low_ok = value >= 0 if allow_zero else value > 0
    if not (low_ok and value <= 1):
        interval = "[0, 1]" if allow_zero else "(0, 1]"
        raise ConfigError(f"{name} must be in {interval}, got {value}")

"""What a run found: verified pairs, story clusters, skipped articles and the run's parameters.

Everything here is plain data and serializes to JSON with :data:`SCHEMA` as its version; the JSON
of one collection is byte-identical whatever the input order or ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

from .alignment import Alignment, Match
from .articles import ArticleId, id_key

SCHEMA = "dedup.result/1"

Kind = Literal["exact", "near_duplicate", "contained", "partial", "rewritten"]
Direction = Literal["a_in_b", "b_in_a"]


@dataclass(frozen=True, slots=True)
class SentenceMatch:
    """Sentence ``a_span`` of the first article corresponds to ``b_span`` of the second
    (character offsets in the raw texts) at cosine ``similarity``."""

    a_span: tuple[int, int]
    b_span: tuple[int, int]
    similarity: float


@dataclass(frozen=True, slots=True)
class SemanticMatch:
    """Why a pair is ``rewritten``: its evidence score, the share of each article's sentence
    characters in corresponding sentences, and those sentences (:mod:`dedup.semantic`)."""

    evidence: float
    coverage_a_by_b: float
    coverage_b_by_a: float
    sentences: tuple[SentenceMatch, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "evidence": self.evidence,
            "coverage_a_by_b": self.coverage_a_by_b,
            "coverage_b_by_a": self.coverage_b_by_a,
            "sentences": [[*m.a_span, *m.b_span, m.similarity] for m in self.sentences],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SemanticMatch:
        sentences = tuple(SentenceMatch((a, b), (c, d), s) for a, b, c, d, s in data["sentences"])
        return cls(data["evidence"], data["coverage_a_by_b"], data["coverage_b_by_a"], sentences)


@dataclass(frozen=True, slots=True)
class Pair:
    """Two articles that share text, ``a`` < ``b``.

    ``kind``: ``exact`` (identical after normalization), ``near_duplicate`` (each covers at least
    ``duplicate_threshold`` of the other), ``contained`` (one is covered that much, the other not:
    ``direction`` says which is inside which) or ``partial`` (at least ``partial_threshold`` of
    one is covered) or ``rewritten`` (reported through the opt-in semantic check: ``semantic``
    holds its corresponding sentences; for a pair that was no lexical candidate,
    ``minhash_jaccard`` is the exact Jaccard). Scores: ``minhash_jaccard`` is the signature estimate; ``jaccard`` and the
    ``containment_*`` values are exact over the word shingles; the ``coverage_*`` values are the
    share of characters covered by aligned paragraphs (:mod:`dedup.alignment`).
    """

    a: ArticleId
    b: ArticleId
    kind: Kind
    direction: Direction | None
    minhash_jaccard: float
    jaccard: float
    containment_a_in_b: float
    containment_b_in_a: float
    coverage_a_by_b: float
    coverage_b_by_a: float
    alignment: Alignment
    semantic: SemanticMatch | None = None
    scanned: bool = False
    """One of the two reads as a scan: the pair was scored tolerantly (``detect_scans``); in the
    JSON only when true."""

    def to_dict(self) -> dict[str, Any]:
        al = self.alignment
        extra: dict[str, Any] = {} if self.semantic is None else {"semantic": self.semantic.to_dict()}
        if self.scanned:
            extra["scanned"] = True
        return {
            "a": self.a,
            "b": self.b,
            "kind": self.kind,
            "direction": self.direction,
            "minhash_jaccard": self.minhash_jaccard,
            "jaccard": self.jaccard,
            "containment_a_in_b": self.containment_a_in_b,
            "containment_b_in_a": self.containment_b_in_a,
            "coverage_a_by_b": self.coverage_a_by_b,
            "coverage_b_by_a": self.coverage_b_by_a,
            "alignment": {
                "matches": [[m.a, m.b, m.score] for m in al.matches],
                "a_inside_b": [[m.a, m.b, m.score] for m in al.a_inside_b],
                "b_inside_a": [[m.a, m.b, m.score] for m in al.b_inside_a],
                "only_in_a": list(al.only_a),
                "only_in_b": list(al.only_b),
                "ignored_in_a": list(al.ignored_a),
                "ignored_in_b": list(al.ignored_b),
            },
            **extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Pair:
        al = data["alignment"]

        def matches(key: str) -> tuple[Match, ...]:
            return tuple(Match(a, b, score) for a, b, score in al[key])

        alignment = Alignment(
            matches=matches("matches"), a_inside_b=matches("a_inside_b"), b_inside_a=matches("b_inside_a"),
            only_a=tuple(al["only_in_a"]), only_b=tuple(al["only_in_b"]), ignored_a=tuple(al["ignored_in_a"]),
            ignored_b=tuple(al["ignored_in_b"]), coverage_a_by_b=data["coverage_a_by_b"],
            coverage_b_by_a=data["coverage_b_by_a"],
        )  # fmt: skip
        semantic = SemanticMatch.from_dict(data["semantic"]) if data.get("semantic") else None
        kept = {
            f.name: data[f.name] for f in fields(cls) if f.name not in ("alignment", "semantic", "scanned")
        }
        return cls(**kept, alignment=alignment, semantic=semantic, scanned=bool(data.get("scanned", False)))


@dataclass(frozen=True, slots=True)
class Cluster:
    """One story: its ``members`` (sorted) and the ``representative`` to keep (see clustering)."""

    members: tuple[ArticleId, ...]
    representative: ArticleId

    def to_dict(self) -> dict[str, Any]:
        return {"representative": self.representative, "members": list(self.members)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cluster:
        return cls(tuple(data["members"]), data["representative"])


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input item that was not compared, and why."""

    id: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class RunSummary:
    """The counts of a run, stage by stage."""

    articles: int = 0
    compared: int = 0
    skipped: int = 0
    distinct_texts: int = 0
    boilerplate_lines: int = 0
    filled_in_forms: int = 0
    recurring_reports: int = 0
    candidate_pairs: int = 0
    candidate_pairs_lsh: int = 0
    candidate_pairs_anchor: int = 0
    anchors_shared_too_widely: int = 0
    prechecked_pairs: int = 0
    aligned_pairs: int = 0
    pairs: int = 0
    pairs_exact: int = 0
    pairs_near_duplicate: int = 0
    pairs_contained: int = 0
    pairs_partial: int = 0
    pairs_rewritten: int = 0
    clusters: int = 0
    articles_in_clusters: int = 0
    articles_scanned: int = 0
    """Articles read as scans (``detect_scans``, :mod:`dedup.scans`)."""

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    def __getitem__(self, name: str) -> int:
        """``summary["pairs"]``, as in the JSON."""
        value: int = getattr(self, name)
        return value


@dataclass(frozen=True, slots=True)
class DedupResult:
    """The outcome of :func:`dedup.find_duplicates`."""

    pairs: tuple[Pair, ...]
    clusters: tuple[Cluster, ...]
    skipped: tuple[Skipped, ...]
    params: dict[str, Any]
    summary: RunSummary = field(default_factory=RunSummary)
    meta: dict[ArticleId, dict[str, Any]] = field(default_factory=dict)
    """Metadata given with the articles of the pairs and groups (title, url, outlet...), by id."""
    archive: dict[str, Any] | None = None
    """For an archive's ``add`` or ``query`` (:class:`dedup.Index`): where, how many articles were
    stored, which were already there, each given article's story group, and groups merged."""

    def to_dict(self) -> dict[str, Any]:
        extra = {} if self.archive is None else {"archive": self.archive}
        return {
            "schema": SCHEMA,
            "params": self.params,
            "summary": self.summary.to_dict(),
            "clusters": [c.to_dict() for c in self.clusters],
            "pairs": [p.to_dict() for p in self.pairs],
            "skipped": [s.to_dict() for s in self.skipped],
            "articles": [{"id": i, "meta": self.meta[i]} for i in sorted(self.meta, key=id_key)],
            **extra,
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """JSON text of :meth:`to_dict`, keys in a fixed order, UTF-8 characters kept."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DedupResult:
        """The result a :meth:`to_dict` describes (:class:`ValueError` for another schema)."""
        if data.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} result (schema {data.get('schema')!r})")
        return cls(
            pairs=tuple(Pair.from_dict(p) for p in data["pairs"]),
            clusters=tuple(Cluster.from_dict(c) for c in data["clusters"]),
            skipped=tuple(Skipped(**s) for s in data["skipped"]),
            params=data["params"],
            summary=RunSummary(**data["summary"]),
            meta={a["id"]: a["meta"] for a in data.get("articles", [])},
            archive=data.get("archive"),
        )

    @classmethod
    def from_json(cls, text: str) -> DedupResult:
        """The result whose :meth:`to_json` is ``text``."""
        return cls.from_dict(json.loads(text))

    def only(self, ids: list[str] | tuple[str, ...]) -> DedupResult:
        """The pairs and story groups of these articles only (ids compared as printed); the
        summary still counts the whole run."""
        wanted = {str(i) for i in ids}
        pairs = tuple(p for p in self.pairs if str(p.a) in wanted or str(p.b) in wanted)
        clusters = tuple(c for c in self.clusters if wanted & {str(m) for m in c.members})
        shown = {i for p in pairs for i in (p.a, p.b)} | {m for c in clusters for m in c.members}
        return replace(
            self, pairs=pairs, clusters=clusters, meta={k: v for k, v in self.meta.items() if k in shown}
        )

    def with_skipped(self, more: tuple[Skipped, ...] | list[Skipped]) -> DedupResult:
        """This result with ``more`` skipped inputs (files passed over before the run) listed."""
        skipped = tuple(sorted((*self.skipped, *more), key=lambda s: id_key(s.id)))
        return replace(self, skipped=skipped, summary=replace(self.summary, skipped=len(skipped)))

"""What a run found: verified pairs, story clusters, skipped articles and the run's parameters.

Everything here is plain data and serializes to JSON with :data:`SCHEMA` as its version; the JSON
of one collection is byte-identical whatever the input order or ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from .alignment import Alignment
from .articles import ArticleId

SCHEMA = "dedup.result/1"

Kind = Literal["exact", "near_duplicate", "contained", "partial"]
Direction = Literal["a_in_b", "b_in_a"]


@dataclass(frozen=True, slots=True)
class Pair:
    """Two articles that share text, ``a`` < ``b``.

    ``kind``: ``exact`` (identical after normalization), ``near_duplicate`` (each covers at least
    ``duplicate_threshold`` of the other), ``contained`` (one is covered that much, the other not:
    ``direction`` says which is inside which) or ``partial`` (at least ``partial_threshold`` of
    one is covered). Scores: ``minhash_jaccard`` is the signature estimate; ``jaccard`` and the
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

    def to_dict(self) -> dict[str, Any]:
        al = self.alignment
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
        }


@dataclass(frozen=True, slots=True)
class Cluster:
    """One story: its ``members`` (sorted) and the ``representative`` to keep (see clustering)."""

    members: tuple[ArticleId, ...]
    representative: ArticleId

    def to_dict(self) -> dict[str, Any]:
        return {"representative": self.representative, "members": list(self.members)}


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input item that was not compared, and why."""

    id: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class DedupResult:
    """The outcome of :func:`dedup.find_duplicates`."""

    pairs: tuple[Pair, ...]
    clusters: tuple[Cluster, ...]
    skipped: tuple[Skipped, ...]
    params: dict[str, Any]
    summary: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "params": self.params,
            "summary": self.summary,
            "clusters": [c.to_dict() for c in self.clusters],
            "pairs": [p.to_dict() for p in self.pairs],
            "skipped": [s.to_dict() for s in self.skipped],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """JSON text of :meth:`to_dict`, keys in a fixed order, UTF-8 characters kept."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

"""Rendering a :class:`DedupResult`: a readable report (optionally with the alignment side by
side), JSON, JSON Lines or CSV. Pure functions from a result to text; nothing here prints."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from collections.abc import Mapping
from itertools import zip_longest

from .alignment import word_diff
from .articles import ArticleId
from .paragraphs import split_paragraphs
from .results import SCHEMA, DedupResult, Pair

COLUMN = 52
CSV_COLUMNS = (
    "a", "b", "kind", "direction", "coverage_a_by_b", "coverage_b_by_a", "jaccard",
    "containment_a_in_b", "containment_b_in_a", "minhash_jaccard", "matched_paragraphs",
    "only_in_a", "only_in_b", "params",
)  # fmt: skip


def render(
    result: DedupResult, fmt: str, *, texts: Mapping[ArticleId, str] | None = None, explain: bool = False
) -> str:
    """The result in ``fmt`` (``text``, ``json``, ``jsonl`` or ``csv``)."""
    if fmt == "json":
        return result.to_json() + "\n"
    if fmt == "jsonl":
        return render_jsonl(result)
    if fmt == "csv":
        return render_csv(result)
    return render_text(result, texts=texts if explain else None)


def render_jsonl(result: DedupResult) -> str:
    records = [
        {"record": "run", "schema": SCHEMA, "params": result.params, "summary": result.summary.to_dict()}
    ]
    records += [{"record": "cluster", **c.to_dict()} for c in result.clusters]
    records += [{"record": "pair", **p.to_dict()} for p in result.pairs]
    records += [{"record": "skipped", **s.to_dict()} for s in result.skipped]
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def render_csv(result: DedupResult) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    params = json.dumps(result.params, sort_keys=True)
    for p in result.pairs:
        al = p.alignment
        writer.writerow([
            p.a, p.b, p.kind, p.direction or "", p.coverage_a_by_b, p.coverage_b_by_a, p.jaccard,
            p.containment_a_in_b, p.containment_b_in_a, p.minhash_jaccard, len(al.matches),
            len(al.only_a), len(al.only_b), params,
        ])  # fmt: skip
    return out.getvalue()


def _pct(value: float) -> str:
    return f"{round(value * 100)}%"


def render_text(result: DedupResult, *, texts: Mapping[ArticleId, str] | None = None) -> str:
    """The human-readable report; with ``texts``, each pair's alignment is shown side by side."""
    p, s = result.params, result.summary
    lines = [
        f"dedup {p['dedup_version']}: {s['compared']} articles compared, "
        f"{len(result.clusters)} story group{'s' * (len(result.clusters) != 1)}, "
        f"{len(result.pairs)} pair{'s' * (len(result.pairs) != 1)}, {len(result.skipped)} skipped",
        f"settings: {p['shingle_size']}-word shingles, MinHash {p['num_perm']} permutations "
        f"({p['minhash_scheme']}, seed {p['seed']}), LSH {p['lsh_bands']} bands x {p['lsh_rows_per_band']} "
        f"rows (threshold {p['candidate_threshold']}); paragraph match >= {p['paragraph_threshold']}, "
        f"duplicate >= {p['duplicate_threshold']}, partial >= {p['partial_threshold']}; "
        f"datasketch {p['datasketch_version']}",
        "",
        f"Story groups ({len(result.clusters)})",
    ]
    for number, cluster in enumerate(result.clusters, start=1):
        lines.append(f"  [{number}] {len(cluster.members)} articles, keep {cluster.representative}")
        for member in cluster.members:
            mark = "  (representative)" if member == cluster.representative else ""
            lines.append(f"      {member}{mark}")
    lines += ["", f"Pairs ({len(result.pairs)})"]
    for pair in result.pairs:
        lines += _pair_lines(pair)
        if texts is not None:
            lines += _explain_lines(pair, texts[pair.a], texts[pair.b])
    if result.skipped:
        lines += ["", f"Skipped ({len(result.skipped)})"]
        lines += [f"  {item.id}: {item.reason}" for item in result.skipped]
    return "\n".join(lines) + "\n"


def _pair_lines(pair: Pair) -> list[str]:
    relation = {"a_in_b": "a inside b", "b_in_a": "b inside a", None: ""}[pair.direction]
    al = pair.alignment
    return [
        f"  a = {pair.a}",
        f"  b = {pair.b}",
        f"      {pair.kind}{' (' + relation + ')' if relation else ''}: "
        f"a covered by b {_pct(pair.coverage_a_by_b)}, b covered by a {_pct(pair.coverage_b_by_a)}",
        f"      shingles: jaccard {pair.jaccard:.2f}, a in b {pair.containment_a_in_b:.2f}, "
        f"b in a {pair.containment_b_in_a:.2f} (MinHash estimate {pair.minhash_jaccard:.2f})",
        f"      paragraphs: {len(al.matches)} matched, "
        f"{len(al.a_inside_b) + len(al.b_inside_a)} inside a longer one, {len(al.only_a)} only in a, "
        f"{len(al.only_b)} only in b, {len(al.ignored_a) + len(al.ignored_b)} too short or boilerplate",
    ]


def _explain_lines(pair: Pair, text_a: str, text_b: str) -> list[str]:
    paragraphs_a, paragraphs_b = split_paragraphs(text_a), split_paragraphs(text_b)
    al = pair.alignment
    lines = ["      alignment ([-word-]: only in a, {+word+}: only in b):"]
    for match in al.matches:
        left, right = word_diff(paragraphs_a[match.a], paragraphs_b[match.b])
        marked_a = " ".join(w if same else f"[-{w}-]" for w, same in left)
        marked_b = " ".join(w if same else f"{{+{w}+}}" for w, same in right)
        state = "same" if match.score == 1.0 and marked_a == paragraphs_a[match.a] else "edited"
        lines.append(f"      a[{match.a}] ~ b[{match.b}]  score {match.score:.2f}  {state}")
        columns = zip_longest(textwrap.wrap(marked_a, COLUMN), textwrap.wrap(marked_b, COLUMN), fillvalue="")
        lines += [f"        {x:<{COLUMN}} | {y}" for x, y in columns]
    for m in al.a_inside_b:
        lines.append(
            f"      a[{m.a}] inside b[{m.b}]  score {m.score:.2f}: {textwrap.shorten(paragraphs_a[m.a], 70)}"
        )
    for m in al.b_inside_a:
        lines.append(
            f"      b[{m.b}] inside a[{m.a}]  score {m.score:.2f}: {textwrap.shorten(paragraphs_b[m.b], 70)}"
        )
    for label, indices, paragraphs in (
        ("only in a (dropped by b)", al.only_a, paragraphs_a),
        ("only in b (added by b)", al.only_b, paragraphs_b),
        ("ignored in a", al.ignored_a, paragraphs_a),
        ("ignored in b", al.ignored_b, paragraphs_b),
    ):
        side = label[-1] if label.startswith("ignored") else label.split()[2]
        for index in indices:
            lines.append(f"      {label}: {side}[{index}] {textwrap.shorten(paragraphs[index], 90)}")
    return lines

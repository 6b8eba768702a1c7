"""Rendering a :class:`DedupResult`: a readable report (optionally with the alignment side by
side), JSON, JSON Lines or CSV. Pure functions from a result to text; nothing here prints. The
registry that picks one by name or suffix is :mod:`dedup.formats`.

With the articles' texts and ``explain``, every format but CSV shows each pair's paragraphs as
:func:`dedup.explanation.explain` describes them: side by side in the text report, as a
``paragraphs`` list (numbers, offsets, texts, shared words) in each JSON / JSON Lines pair.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap
from collections.abc import Mapping
from itertools import zip_longest
from typing import Any

import wcwidth

from .articles import ArticleId
from .explanation import PairExplanation, Row, explain
from .results import SCHEMA, DedupResult, Pair
from .tokens import join_units

COLUMN = 52
CSV_COLUMNS = (
    "a", "b", "kind", "direction", "group", "coverage_a_by_b", "coverage_b_by_a", "jaccard",
    "containment_a_in_b", "containment_b_in_a", "minhash_jaccard", "matched_paragraphs",
    "only_in_a", "only_in_b",
)  # fmt: skip
"""The CSV report's first columns; then ``a_FIELD`` and ``b_FIELD`` for each metadata field (title,
outlet, date...). ``group`` is the pair's story group as numbered in the text report (empty when
its articles are in none, or in two). The settings are not repeated per row: they are in the JSON
and JSON Lines reports' ``params``."""
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def show_id(article_id: ArticleId) -> str:
    """An id as the text report prints it: characters that are not printable (a newline, an
    escape sequence, a bidirectional override) written as ``\\uXXXX``, so no id can forge or
    colour report lines."""
    text = str(article_id)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def _cell(value: object) -> object:
    """A CSV cell that a spreadsheet will not run as a formula (OWASP's advice: a leading quote)."""
    return f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def render_json(result: DedupResult, *, texts: Mapping[ArticleId, str] | None = None) -> str:
    """The result as one JSON document; with ``texts``, each pair's paragraphs."""
    data = result.to_dict()
    data["pairs"] = [_pair_dict(p, texts, misreads(result)) for p in result.pairs]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def misreads(result: DedupResult) -> bool:
    """Do word diffs pass over likely OCR misreads (a run with ``ocr_tolerant``)?"""
    return bool(result.params.get("ocr_tolerant", False))


def _pair_dict(pair: Pair, texts: Mapping[ArticleId, str] | None, misread: bool = False) -> dict[str, Any]:
    data = pair.to_dict()
    if texts is not None:
        rows = explain(pair, texts[pair.a], texts[pair.b], misreads=misread).to_dict()["rows"]
        data["paragraphs"] = rows
    return data


def render_jsonl(result: DedupResult, *, texts: Mapping[ArticleId, str] | None = None) -> str:
    records = [
        {"record": "run", "schema": SCHEMA, "params": result.params, "summary": result.summary.to_dict()}
    ]
    records += [{"record": "cluster", **c.to_dict()} for c in result.clusters]
    records += [{"record": "pair", **_pair_dict(p, texts, misreads(result))} for p in result.pairs]
    records += [{"record": "skipped", **s.to_dict()} for s in result.skipped]
    records += [{"record": "article", **a} for a in result.to_dict()["articles"]]
    if result.archive is not None:
        records.append({"record": "archive", **result.archive})
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def render_csv(result: DedupResult) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    fields = sorted({k for meta in result.meta.values() for k in meta})
    writer.writerow([*CSV_COLUMNS, *(f"a_{f}" for f in fields), *(f"b_{f}" for f in fields)])
    group = {m: number for number, c in enumerate(result.clusters, start=1) for m in c.members}
    for p in result.pairs:
        al = p.alignment
        meta_a, meta_b = (result.meta.get(i, {}) for i in (p.a, p.b))
        shared = group.get(p.a) if group.get(p.a) == group.get(p.b) else None
        writer.writerow([_cell(v) for v in (
            p.a, p.b, p.kind, p.direction or "", "" if shared is None else shared, p.coverage_a_by_b,
            p.coverage_b_by_a, p.jaccard, p.containment_a_in_b, p.containment_b_in_a, p.minhash_jaccard,
            len(al.matches), len(al.only_a), len(al.only_b),
            *(_field(meta_a.get(f)) for f in fields), *(_field(meta_b.get(f)) for f in fields),
        )])  # fmt: skip
    return out.getvalue()


def _field(value: Any) -> Any:
    """A metadata value in a cell: nested values as JSON, a missing one empty."""
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def _pct(value: float) -> str:
    return f"{round(value * 100)}%"


def render_text(result: DedupResult, *, texts: Mapping[ArticleId, str] | None = None) -> str:
    """The human-readable report; with ``texts``, each pair's alignment is shown side by side."""
    p, s = result.params, result.summary
    lines = [
        f"dedup {p['dedup_version']}: {count_of(s['compared'], 'article')} compared, "
        f"{count_of(len(result.clusters), 'story group')}, {count_of(len(result.pairs), 'pair')}, "
        f"{len(result.skipped)} skipped",
        f"settings: {p['shingle_size']}-word shingles, MinHash {p['num_perm']} permutations "
        f"({p['minhash_scheme']}, seed {p['seed']}), LSH {p['lsh_bands']} bands x {p['lsh_rows_per_band']} "
        f"rows (threshold {p['candidate_threshold']}); paragraph match >= {p['paragraph_threshold']}, "
        f"duplicate >= {p['duplicate_threshold']}, partial >= {p['partial_threshold']}; "
        f"datasketch {p['datasketch_version']}",
        "",
        f"Story groups ({len(result.clusters)})",
    ]
    for number, cluster in enumerate(result.clusters, start=1):
        lines.append(f"  [{number}] {len(cluster.members)} articles, keep {show_id(cluster.representative)}")
        for member in cluster.members:
            mark = "  (representative)" if member == cluster.representative else ""
            lines.append(f"      {show_id(member)}{mark}{_meta_text(result.meta.get(member))}")
    lines += _archive_lines(result.archive)
    lines += ["", f"Pairs ({len(result.pairs)})"]
    for pair in result.pairs:
        lines += _pair_lines(pair, result.meta)
        if texts is not None:
            lines += _explain_lines(explain(pair, texts[pair.a], texts[pair.b], misreads=misreads(result)))
    if result.skipped:
        lines += ["", f"Skipped ({len(result.skipped)})"]
        lines += [f"  {show_id(item.id)}: {item.reason}" for item in result.skipped]
    return "\n".join(lines) + "\n"


def _archive_lines(archive: Mapping[str, Any] | None) -> list[str]:
    """What an archive's add or query did: stored, already there, groups joined and merged."""
    if archive is None:
        return []
    lines = ["", f"Archive {archive['location']}: {count_of(archive['stored'], 'article')} stored"]
    if archive["already_stored"]:
        lines.append(f"  already stored, passed over ({len(archive['already_stored'])}): "
                     + ", ".join(show_id(i) for i in archive["already_stored"]))  # fmt: skip
    for item in archive["groups"]:
        group = "a new story" if item["group"] is None else f"group {item['group']}"
        lines.append(f"  {show_id(item['id'])}: {group}")
    lines += [f"  group {m['group']} merged into group {m['into']}" for m in archive["merged_groups"]]
    return lines


def count_of(number: int, noun: str) -> str:
    """``3 pairs``, ``1 pair``."""
    return f"{number} {noun}{'s' * (number != 1)}"


def _meta_text(meta: Mapping[str, object] | None) -> str:
    """``  (title: ..., outlet: ...)``: an article's metadata, shortened, on its line."""
    if not meta:
        return ""
    shown = ", ".join(f"{show_id(k)}: {show_id(textwrap.shorten(str(v), 60))}" for k, v in meta.items())
    return f"  ({shown})"


def _pair_lines(pair: Pair, meta: Mapping[ArticleId, Mapping[str, object]]) -> list[str]:
    relation = {"a_in_b": "a inside b", "b_in_a": "b inside a", None: ""}[pair.direction]
    al = pair.alignment
    return [
        f"  a = {show_id(pair.a)}{_meta_text(meta.get(pair.a))}",
        f"  b = {show_id(pair.b)}{_meta_text(meta.get(pair.b))}",
        f"      {pair.kind}{' (' + relation + ')' if relation else ''}: "
        f"a covered by b {_pct(pair.coverage_a_by_b)}, b covered by a {_pct(pair.coverage_b_by_a)}",
        f"      shingles: jaccard {pair.jaccard:.2f}, a in b {pair.containment_a_in_b:.2f}, "
        f"b in a {pair.containment_b_in_a:.2f} (MinHash estimate {pair.minhash_jaccard:.2f})",
        f"      paragraphs: {len(al.matches)} matched, "
        f"{len(al.a_inside_b) + len(al.b_inside_a)} inside a longer one, {len(al.only_a)} only in a, "
        f"{len(al.only_b)} only in b, {len(al.ignored_a) + len(al.ignored_b)} too short or boilerplate",
    ]


def _width(text: str) -> int:
    """Columns ``text`` takes on a terminal (two for a CJK character, none for a combining mark)."""
    width = wcwidth.wcswidth(text)
    return width if width >= 0 else len(text)


def _wrap(units: list[str], width: int) -> list[str]:
    """Display units in lines of at most ``width`` columns (a longer unit gets a line of its own)."""
    lines: list[list[str]] = [[]]
    for unit in units:
        if lines[-1] and _width(join_units([*lines[-1], unit])) > width:
            lines.append([])
        lines[-1].append(unit)
    return [join_units(line) for line in lines if line]


def _explain_lines(explanation: PairExplanation) -> list[str]:
    lines = ["      alignment ([-word-]: only in a, {+word+}: only in b):"]
    for row in explanation.rows:
        lines += _row_lines(row)
    return lines


_LABELS = {
    "only_a": "only in a (dropped by b)",
    "only_b": "only in b (added by b)",
    "ignored_a": "ignored in a",
    "ignored_b": "ignored in b",
}


def _row_lines(row: Row) -> list[str]:
    a, b = row.a, row.b
    if row.kind == "match" and a and b:
        marked_a = [w if same else f"[-{w}-]" for w, same in a.words]
        marked_b = [w if same else f"{{+{w}+}}" for w, same in b.words]
        head = (
            f"      a[{a.index}] ~ b[{b.index}]  score {row.score:.2f}  {'edited' if row.edited else 'same'}"
        )
        columns = zip_longest(_wrap(marked_a, COLUMN), _wrap(marked_b, COLUMN), fillvalue="")
        return [head] + [f"        {x}{' ' * (COLUMN - _width(x))} | {y}" for x, y in columns]
    if row.kind == "a_inside_b" and a and b:
        return [
            f"      a[{a.index}] inside b[{b.index}]  score {row.score:.2f}: {textwrap.shorten(a.text, 70)}"
        ]
    if row.kind == "b_inside_a" and a and b:
        return [
            f"      b[{b.index}] inside a[{a.index}]  score {row.score:.2f}: {textwrap.shorten(b.text, 70)}"
        ]
    if row.kind == "sentence" and a and b:
        return [
            f"      a[{a.index}] ~ b[{b.index}] reworded  cosine {row.score:.2f}:",
            f"        a: {textwrap.shorten(a.text, 90)}",
            f"        b: {textwrap.shorten(b.text, 90)}",
        ]
    side, name = (a, "a") if a else (b, "b")
    assert side is not None
    return [f"      {_LABELS[row.kind]}: {name}[{side.index}] {textwrap.shorten(side.text, 90)}"]

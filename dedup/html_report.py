"""The HTML report: one self-contained file (styles and script inline, nothing fetched), every id
and text escaped. An overview (counts, settings, a coverage histogram), the story groups, a pairs
table filterable by id and kind, and for each pair its side-by-side view drawn from
:mod:`dedup.explanation`: matched paragraphs in aligned rows (``data-match="i-j"``), words only on
one side marked, paragraphs inside a longer one, only in one article, or ignored (greyed).

Pairs beyond :data:`MAX_PAIRS` are listed in the table but not drawn side by side; the page says
how many were left out and how to see them (``--only ID``).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping

from .articles import ArticleId
from .explanation import Row, Side, explain
from .report import misreads
from .results import DedupResult, Pair

MAX_PAIRS = 2500
"""Pairs drawn side by side in one page; the rest are listed only."""

_STYLE = """
:root { color-scheme: light dark; --fg: #1b1b1b; --bg: #fff; --muted: #777; --line: #ddd;
  --del: #ffd7d5; --ins: #d6f5d6; --inside: #e8e3ff; }
@media (prefers-color-scheme: dark) { :root { --fg: #e8e8e8; --bg: #161616; --muted: #999; --line: #333;
  --del: #5c2b29; --ins: #21442a; --inside: #35305a; } }
body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 1.5em; }
table { border-collapse: collapse; width: 100%; } td, th { border-bottom: 1px solid var(--line);
  padding: .3em .5em; vertical-align: top; text-align: start; }
.side td { width: 50%; } .only td.empty { background: repeating-linear-gradient(45deg, transparent 0 6px,
  var(--line) 6px 7px); } .ignored { color: var(--muted); } .changed { background: var(--del); }
.b .changed { background: var(--ins); } .inside { background: var(--inside); }
.bar { display: inline-block; height: .7em; background: #4a7bd0; } .hist span { display: inline-block;
  width: 1.6em; background: #4a7bd0; vertical-align: bottom; margin-right: 2px; }
.muted { color: var(--muted); } th button { font: inherit; font-weight: bold; border: 0;
  background: none; color: inherit; cursor: pointer; padding: 0; } details { margin: .8em 0; } summary { cursor: pointer; }
"""

_SCRIPT = """
function filterPairs() {
  const id = document.getElementById('filter-id').value.trim();
  const kind = document.getElementById('filter-kind').value;
  for (const row of document.querySelectorAll('#pairs tbody tr')) {
    const ids = JSON.parse(row.dataset.ids);
    const show = (!id || ids.includes(id)) && (!kind || row.dataset.kind === kind);
    row.hidden = !show;
  }
}
window.addEventListener('DOMContentLoaded', () => {  // #id=X in the address filters by id at once
  const wanted = new URLSearchParams(location.hash.slice(1)).get('id');
  if (wanted) { document.getElementById('filter-id').value = wanted; filterPairs(); }
});
function sortPairs(column) {  // click a heading: sort by it, again for the other direction
  const body = document.querySelector('#pairs tbody');
  const rows = [...body.rows];
  const key = (row) => { const v = row.cells[column].dataset.value ?? row.cells[column].textContent;
    return isNaN(v) ? v : Number(v); };
  const up = body.dataset.sorted !== String(column);
  rows.sort((x, y) => (key(x) > key(y) ? 1 : key(x) < key(y) ? -1 : 0) * (up ? 1 : -1));
  body.dataset.sorted = up ? String(column) : '';
  body.append(...rows);
}
document.addEventListener('keydown', (event) => {
  if (event.target.tagName === 'INPUT' || !['j', 'k'].includes(event.key)) return;
  const views = [...document.querySelectorAll('details.pair')];
  const at = views.findIndex((v) => v.open);
  const next = views[Math.max(0, Math.min(views.length - 1, at + (event.key === 'j' ? 1 : -1)))];
  if (next) { views.forEach((v) => { v.open = v === next; }); next.scrollIntoView(); }
});
"""


def _e(value: object) -> str:
    """Text for HTML, NULs made visible."""
    return html.escape(str(value), quote=True).replace("\x00", "\\u0000")


def render_html(result: DedupResult, texts: Mapping[ArticleId, str] | None = None) -> str:
    """The result as one HTML page; ``texts`` (by id) draw each pair side by side."""
    s, p = result.summary, result.params
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>dedup report: {s['compared']} articles, {len(result.pairs)} pairs</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>dedup report</h1><p>{s['compared']} articles compared, {len(result.clusters)} story groups, "
        f"{len(result.pairs)} pairs, {s['skipped']} skipped.</p>",
        f"<p class='muted'>{_e(_settings(p))}</p>",
        _histogram(result.pairs),
        _groups(result),
        _pairs_table(result.pairs),
    ]
    drawn = result.pairs[:MAX_PAIRS] if texts is not None else ()
    for number, pair in enumerate(drawn, 1):
        parts.append(
            _pair_view(number, pair, texts[pair.a], texts[pair.b], misreads(result))
            if texts is not None
            else ""
        )
    if texts is not None and len(result.pairs) > MAX_PAIRS:
        parts.append(f"<p id='left-out'>{len(result.pairs) - MAX_PAIRS} more pairs are listed above but not drawn "
                     "side by side; report them with <code>--only ID</code> to see theirs.</p>")  # fmt: skip
    parts.append(f"<script>{_SCRIPT}</script></body></html>\n")
    return "\n".join(parts)


def _settings(p: Mapping[str, object]) -> str:
    keys = ("shingle_size", "num_perm", "seed", "candidate_threshold", "paragraph_threshold", "duplicate_threshold",
            "partial_threshold", "sketch_scheme", "datasketch_version", "dedup_version")  # fmt: skip
    return "settings: " + ", ".join(f"{k}={p.get(k)}" for k in keys)


def _histogram(pairs: tuple[Pair, ...]) -> str:
    counts = [0] * 10
    for pair in pairs:
        counts[min(9, int(10 * max(pair.coverage_a_by_b, pair.coverage_b_by_a)))] += 1
    top = max(counts) or 1
    bars = "".join(f"<span title='{10 * k}-{10 * k + 10}%: {n} pairs' style='height:{3 * n / top:.2f}em'></span>"
                   for k, n in enumerate(counts))  # fmt: skip
    return (
        f"<h2>Pair coverage</h2><p class='hist' aria-label='pairs by larger coverage, 0 to 100%'>{bars}</p>"
    )


def _groups(result: DedupResult) -> str:
    items = []
    for cluster in result.clusters:
        members = "".join(
            f"<li dir='auto'>{_e(m)}{' (representative)' if m == cluster.representative else ''}"
            f"{_meta(result.meta.get(m))}</li>"
            for m in sorted(
                cluster.members, key=lambda m: m != cluster.representative
            )  # representative first
        )
        items.append(f"<li>{len(cluster.members)} articles<ul>{members}</ul></li>")
    return f"<h2>Story groups ({len(result.clusters)})</h2><ol>{''.join(items)}</ol>"


def _meta(meta: Mapping[str, object] | None) -> str:
    if not meta:
        return ""
    return " <span class='muted'>" + _e(", ".join(f"{k}: {v}" for k, v in meta.items())) + "</span>"


def _pairs_table(pairs: tuple[Pair, ...]) -> str:
    rows = []
    for number, pair in enumerate(pairs, 1):
        ids = _e(json.dumps([str(pair.a), str(pair.b)]))
        rows.append(
            f"<tr data-ids='{ids}' data-kind='{pair.kind}'><td><a href='#pair-{number}'>{number}</a></td>"
            f"<td dir='auto'>{_e(pair.a)}</td><td dir='auto'>{_e(pair.b)}</td><td>{pair.kind}</td>"
            f"<td data-value='{pair.coverage_a_by_b}'>{_bar(pair.coverage_a_by_b)}</td>"
            f"<td data-value='{pair.coverage_b_by_a}'>{_bar(pair.coverage_b_by_a)}</td></tr>"
        )
    kinds = "".join(
        f"<option>{k}</option>" for k in ("exact", "near_duplicate", "contained", "partial", "rewritten")
    )
    names = ("#", "a", "b", "kind", "a covered by b", "b covered by a")
    headings = "".join(
        f"<th><button type='button' onclick='sortPairs({k})' title='sort'>{name}</button></th>"
        for k, name in enumerate(names)
    )
    return (
        f"<h2>Pairs ({len(pairs)})</h2><p><label>id <input id='filter-id' oninput='filterPairs()'></label> "
        f"<label>kind <select id='filter-kind' onchange='filterPairs()'><option value=''>any</option>{kinds}"
        "</select></label> <span class='muted'>j / k: next / previous pair</span></p>"
        f"<table id='pairs'><thead><tr>{headings}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _bar(value: float) -> str:
    return f"<span class='bar' style='width:{4 * value:.2f}em'></span> {round(100 * value)}%"


def _pair_view(number: int, pair: Pair, text_a: str, text_b: str, misread: bool) -> str:
    rows = "".join(_row(row) for row in explain(pair, text_a, text_b, misreads=misread).rows)
    return (
        f"<details class='pair' id='pair-{number}'{' open' if number == 1 else ''}><summary>{number}. <span dir='auto'>{_e(pair.a)}</span> ~ "
        f"<span dir='auto'>{_e(pair.b)}</span>: {pair.kind}, {_bar(pair.coverage_a_by_b)} / "
        f"{_bar(pair.coverage_b_by_a)}</summary><table class='side'>{rows}</table></details>"
    )


def _row(row: Row) -> str:
    label = {"match": "", "a_inside_b": "inside", "b_inside_a": "inside", "sentence": "inside"}.get(row.kind)
    cls = {"ignored_a": "ignored", "ignored_b": "ignored"}.get(row.kind, "inside" if label else "")
    attrs = f" data-match='{row.a.index}-{row.b.index}'" if row.kind == "match" and row.a and row.b else ""
    return f"<tr class='{row.kind} {cls}'{attrs}>{_cell(row.a, 'a')}{_cell(row.b, 'b')}</tr>"


def _cell(side: Side | None, which: str) -> str:
    if side is None:
        return "<td class='empty'></td>"
    if side.words:
        body = " ".join(
            _e(w) if shared else f"<span class='changed'>{_e(w)}</span>" for w, shared in side.words
        )
    else:
        body = _e(side.text)
    return f"<td class='{which}' dir='auto'><span class='muted'>¶{side.index + 1}</span> {body}</td>"

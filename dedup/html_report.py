"""The HTML report, for a media analyst: one self-contained file (styles, script and data inline,
nothing fetched).

- an overview: counts, settings, a coverage histogram with labelled axes and counts;
- one search box over ids, titles and outlets, filtering the story groups and the pairs;
- who reused whom: an outlet x outlet table (when the articles have an outlet), counting the pairs
  whose direction is known — the later of two dated articles took from the earlier; without dates,
  the article holding the other (``contained``) took it;
- the story groups as a compact list (size, the representative's title, outlets, first and last
  date), each opening to its members and its pairs, linked both ways;
- the pairs: both titles, outlets and dates, the kind, which article is inside which and which came
  first, the coverages; each opens to its side-by-side paragraphs, drawn by the script from data
  embedded in the page when first opened (so a report of thousands of pairs stays a few MB).
  Paragraphs are numbered ``a[0]``, ``b[3]`` as in the text report; a sentence found inside a
  longer paragraph is marked where it sits in it.

Every id and metadata value is escaped, with bidirectional controls and other invisible characters
shown as ``\\uXXXX`` (as the text report does; :func:`dedup.report.show_id`); long ids are cut with
the whole id on hover; only ``http``/``https`` urls become links. Pairs beyond :data:`MAX_PAIRS`
are listed but carry no side-by-side data; the page says how many and how to see them.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

from .articles import ArticleId
from .explanation import Row, Side, explain
from .report import count_of, misreads, show_id
from .results import DedupResult, Pair

MAX_PAIRS = 5000
"""Pairs whose paragraphs are embedded (the rest are listed only)."""
MAX_ID = 60
"""Characters of an id shown before it is cut (the whole id on hover)."""
TITLE_FIELDS = ("title", "headline")
OUTLET_FIELDS = ("outlet", "source", "publisher", "site", "domain", "media")
DATE_FIELDS = ("date", "published", "published_at", "pubdate", "datetime", "timestamp")
URL_FIELDS = ("url", "link")
MAX_OUTLETS = 15
"""Outlets in the who-reused-whom table (those in most pairs)."""

_STYLE = """
:root { color-scheme: light dark; --fg: #1b1b1b; --bg: #fff; --muted: #6b6b6b; --line: #ddd;
  --del: #ffd7d5; --ins: #d6f5d6; --inside: #e8e3ff; --bar: #4a7bd0; }
@media (prefers-color-scheme: dark) { :root { --fg: #e8e8e8; --bg: #161616; --muted: #a0a0a0; --line: #333;
  --del: #5c2b29; --ins: #21442a; --inside: #35305a; } }
body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 1.5em; }
table { border-collapse: collapse; width: 100%; } td, th { border-bottom: 1px solid var(--line);
  padding: .3em .5em; vertical-align: top; text-align: start; }
.id { display: inline-block; max-width: 28em; overflow-wrap: anywhere; font-family: ui-monospace, monospace;
  font-size: .9em; } .muted { color: var(--muted); } .small { font-size: .85em; }
.side td { width: 50%; } td.empty { background: repeating-linear-gradient(45deg, transparent 0 6px,
  var(--line) 6px 7px); } .ignored { color: var(--muted); } .changed { background: var(--del); }
.b .changed { background: var(--ins); } .inside { background: var(--inside); } mark { background: #ffe58a; }
.bar { display: inline-block; height: .7em; background: var(--bar); }
.hist { display: flex; align-items: flex-end; gap: 4px; height: 9em; border-left: 1px solid var(--muted);
  border-bottom: 1px solid var(--muted); padding: 0 .3em; width: max-content; }
.hist div { display: flex; flex-direction: column; align-items: center; justify-content: flex-end; width: 3.6em;
  height: 100%; } .hist span.v { background: var(--bar); width: 100%; } .axis { display: flex; gap: 4px;
  padding: 0 .3em; margin-left: 1px; } .axis span { width: 3.6em; text-align: center; font-size: .8em; white-space: nowrap; }
#groups { max-height: 32em; overflow: auto; border: 1px solid var(--line); padding: .3em .6em; }
details { margin: .3em 0; } summary { cursor: pointer; } th button { font: inherit; font-weight: bold; border: 0;
  background: none; color: inherit; cursor: pointer; padding: 0; }
"""

_SCRIPT = """
const DATA = JSON.parse(document.getElementById('pair-data').textContent);
function matches(el, words) { const t = el.dataset.search || ''; return words.every((w) => t.includes(w)); }
function search() {  // every word typed must appear in an id, title or outlet of the row
  const words = document.getElementById('search').value.toLowerCase().split(/\\s+/).filter(Boolean);
  const kind = document.getElementById('filter-kind').value;
  for (const row of document.querySelectorAll('#pairs tbody tr'))
    row.hidden = !(matches(row, words) && (!kind || row.dataset.kind === kind));
  for (const group of document.querySelectorAll('#groups details')) group.hidden = !matches(group, words);
}
window.addEventListener('DOMContentLoaded', () => {  // #id=X in the address searches for X at once
  const wanted = new URLSearchParams(location.hash.slice(1)).get('id');
  if (wanted) { document.getElementById('search').value = wanted; search(); }
  const first = document.querySelector('details.pair');
  if (first) { first.open = true; draw(first); }
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
function cell(side, which) {  // [index, text in DATA.s, changed word positions | null, marked [start, end] | null]
  const td = document.createElement('td');
  if (!side) { td.className = 'empty'; return td; }
  const text = DATA.s[side[1]];
  td.className = which; td.dir = 'auto';
  const label = document.createElement('span'); label.className = 'muted';
  label.textContent = which + '[' + side[0] + '] '; td.append(label);
  if (side[2]) {
    const changed = new Set(side[2]);
    text.split(' ').forEach((word, k) => {
      if (k) td.append(' ');
      if (changed.has(k)) { const s = document.createElement('span'); s.className = 'changed';
        s.textContent = word; td.append(s); } else td.append(word);
    });
  } else if (side[3]) {
    const mark = document.createElement('mark'); mark.textContent = text.slice(side[3][0], side[3][1]);
    td.append(text.slice(0, side[3][0]), mark, text.slice(side[3][1]));
  } else td.append(text);
  return td;
}
function draw(details) {
  if (details.dataset.drawn || !(details.id in DATA)) return;
  const table = document.createElement('table'); table.className = 'side';
  for (const [kind, a, b] of DATA[details.id]) {
    const tr = document.createElement('tr');
    tr.className = kind + (kind.startsWith('ignored') ? ' ignored' : kind === 'match' ? '' : ' inside');
    if (kind === 'match' && a && b) tr.dataset.match = a[0] + '-' + b[0];
    tr.append(cell(a, 'a'), cell(b, 'b')); table.append(tr);
  }
  details.append(table); details.dataset.drawn = '1';
}
document.addEventListener('toggle', (event) => {
  if (event.target.matches && event.target.matches('details.pair') && event.target.open) draw(event.target);
}, true);
document.addEventListener('keydown', (event) => {
  if (event.target.tagName === 'INPUT' || !['j', 'k'].includes(event.key)) return;
  const views = [...document.querySelectorAll('details.pair')];
  const at = views.findIndex((v) => v.open);
  const next = views[Math.max(0, Math.min(views.length - 1, at + (event.key === 'j' ? 1 : -1)))];
  if (next) { views.forEach((v) => { v.open = v === next; }); next.scrollIntoView(); }
});
"""


def _e(value: object) -> str:
    """Text for HTML: invisible and direction-changing characters shown as ``\\uXXXX``, escaped."""
    return html.escape(show_id(str(value)), quote=True)


def _first(meta: Mapping[str, Any] | None, fields: tuple[str, ...]) -> Any:
    for name in fields:
        if meta and meta.get(name) not in (None, ""):
            return meta[name]
    return None


class _Page:
    """What the parts of one report share: the result, each article's metadata and group."""

    def __init__(self, result: DedupResult) -> None:
        self.result = result
        self.group = {m: n for n, c in enumerate(result.clusters, start=1) for m in c.members}
        self.pairs_of: dict[int, list[int]] = {}
        for number, pair in enumerate(result.pairs, start=1):
            if self.group.get(pair.a) is not None and self.group.get(pair.a) == self.group.get(pair.b):
                self.pairs_of.setdefault(self.group[pair.a], []).append(number)

    def meta(self, article: ArticleId) -> Mapping[str, Any]:
        return self.result.meta.get(article, {})

    def field(self, article: ArticleId, fields: tuple[str, ...]) -> Any:
        return _first(self.meta(article), fields)

    def id(self, article: ArticleId) -> str:
        shown = show_id(article)
        cut = shown if len(shown) <= MAX_ID else shown[: MAX_ID - 1] + "…"
        return (
            f"<span class='id' dir='ltr' title='{html.escape(shown, quote=True)}'>{html.escape(cut)}</span>"
        )

    def search(self, articles: list[ArticleId]) -> str:
        """The lower-cased words a search looks in: ids, titles, outlets."""
        parts = [show_id(a) for a in articles]
        for a in articles:
            parts += [show_id(str(self.field(a, f) or "")) for f in (TITLE_FIELDS, OUTLET_FIELDS)]
        return html.escape(" ".join(parts).lower(), quote=True)

    def card(self, article: ArticleId) -> str:
        """An article in a table cell: its id, title (a link when it has an http(s) url), outlet, date."""
        title, outlet, date = (self.field(article, f) for f in (TITLE_FIELDS, OUTLET_FIELDS, DATE_FIELDS))
        url = self.field(article, URL_FIELDS)
        shown = _e(title) if title is not None else ""
        if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
            shown = (
                f"<a href='{html.escape(url, quote=True)}' rel='noopener noreferrer'>{shown or _e(url)}</a>"
            )
        details = " · ".join(_e(v) for v in (outlet, date) if v is not None)
        return (f"{self.id(article)}" + (f"<br><span dir='auto'>{shown}</span>" if shown else "")
                + (f"<br><span class='muted small' dir='auto'>{details}</span>" if details else ""))  # fmt: skip

    def direction(self, pair: Pair) -> str:
        """Which article is inside which, and which came first (where both have dates)."""
        said = []
        if pair.direction is not None:
            inner, outer = (pair.a, pair.b) if pair.direction == "a_in_b" else (pair.b, pair.a)
            said.append(f"{self.id(inner)} is inside {self.id(outer)}")
        first = self.earlier(pair)
        if first is not None:
            said.append(f"{self.id(first)} first ({_e(self.field(first, DATE_FIELDS))})")
        return "<br>".join(said) or "<span class='muted'>-</span>"

    def earlier(self, pair: Pair) -> ArticleId | None:
        dates = [self.field(a, DATE_FIELDS) for a in (pair.a, pair.b)]
        if None in dates or str(dates[0]) == str(dates[1]):
            return None
        return pair.a if str(dates[0]) < str(dates[1]) else pair.b

    def taker(self, pair: Pair) -> tuple[ArticleId, ArticleId] | None:
        """(the article that took text, the one it took from), where that is known."""
        first = self.earlier(pair)
        if first is not None:
            return (pair.b if first == pair.a else pair.a), first
        if pair.kind == "contained" and pair.direction is not None:
            return (pair.b, pair.a) if pair.direction == "a_in_b" else (pair.a, pair.b)
        return None


def render_html(result: DedupResult, texts: Mapping[ArticleId, str] | None = None) -> str:
    """The result as one HTML page; ``texts`` (by id) give each pair its side-by-side view."""
    s, p = result.summary, result.params
    page = _Page(result)
    data = _pair_data(result, texts) if texts is not None else {}
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>dedup report: {count_of(s['compared'], 'article')}, {count_of(len(result.pairs), 'pair')}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>dedup report</h1><p>{count_of(s['compared'], 'article')} compared, "
        f"{count_of(len(result.clusters), 'story group')}, {count_of(len(result.pairs), 'pair')}, {s['skipped']} skipped.</p>",
        f"<p class='muted small'>{_e(_settings(p))}</p>",
        "<p><label>search ids, titles, outlets <input id='search' oninput='search()' size='40'></label></p>",
        _histogram(result.pairs),
        _outlets(page),
        _groups(page),
        _pairs_table(page, data),
    ]
    if texts is not None and len(result.pairs) > MAX_PAIRS:
        parts.append(f"<p id='left-out'>{len(result.pairs) - MAX_PAIRS} more pairs are listed above without their "
                     "paragraphs; report them with <code>--only ID</code> to see theirs.</p>")  # fmt: skip
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    parts.append(f"<script type='application/json' id='pair-data'>{payload}</script>")
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
    bars = "".join(f"<div title='{10 * k}-{10 * k + 10}%: {count_of(n, 'pair')}'><span class='small'>{n}</span>"
                   f"<span class='v' style='height:{80 * n / top:.1f}%'></span></div>" for k, n in enumerate(counts))  # fmt: skip
    axis = "".join(f"<span>{10 * k}-{10 * k + 10}</span>" for k in range(10))
    return (
        "<h2>Pairs by coverage</h2><p class='muted small'>pairs (vertical) by the larger share of one article "
        "that the other covers, in % (horizontal)</p>"
        f"<div class='hist' role='img' aria-label='pairs by larger coverage'>{bars}</div><div class='axis'>{axis}</div>"
    )


def _outlets(page: _Page) -> str:
    """Who reused whom: pairs by (outlet that took, outlet taken from), for the busiest outlets."""
    flows: Counter[tuple[str, str]] = Counter()
    for pair in page.result.pairs:
        known = page.taker(pair)
        outlets = [page.field(a, OUTLET_FIELDS) for a in known] if known else [None]
        if known and None not in outlets:
            flows[(str(outlets[0]), str(outlets[1]))] += 1
    if not flows:
        return ""
    busy = Counter[str]()
    for (took, source), n in flows.items():
        busy[took] += n
        busy[source] += n
    names = sorted(busy, key=lambda o: (-busy[o], o))[:MAX_OUTLETS]
    head = "".join(f"<th dir='auto'>{_e(o)}</th>" for o in names)
    rows = "".join(
        f"<tr><th dir='auto'>{_e(took)}</th>"
        + "".join(f"<td>{flows[(took, source)] or ''}</td>" for source in names)
        + "</tr>"
        for took in names
    )
    return (
        "<h2>Who reused whom</h2><p class='muted small'>pairs in which the outlet of the row took text from the "
        "outlet of the column: the later of two dated articles, or the one holding the other; "
        f"{sum(flows.values())} of {len(page.result.pairs)} pairs have a known direction</p>"
        f"<table id='outlets'><thead><tr><th>took from →</th>{head}</tr></thead><tbody>{rows}</tbody></table>"
    )


def _groups(page: _Page) -> str:
    items = []
    for number, cluster in enumerate(page.result.clusters, start=1):
        rep = cluster.representative
        members = sorted(cluster.members, key=lambda m: m != rep)  # representative first
        outlets = sorted({str(o) for m in members if (o := page.field(m, OUTLET_FIELDS)) is not None})
        dates = sorted(str(d) for m in members if (d := page.field(m, DATE_FIELDS)) is not None)
        title = page.field(rep, TITLE_FIELDS)
        span = f" · {_e(dates[0])} – {_e(dates[-1])}" if dates else ""
        listed = "".join(
            f"<li>{page.card(m)}{' <em>(representative)</em>' if m == rep else ''}</li>" for m in members
        )
        links = " ".join(f"<a href='#pair-{n}'>{n}</a>" for n in page.pairs_of.get(number, []))
        items.append(
            f"<details id='group-{number}' data-search='{page.search(members)}'><summary>[{number}] "
            f"{count_of(len(members), 'article')}: <span dir='auto'>{_e(title) if title is not None else page.id(rep)}</span>"
            f"<span class='muted small'>{' · ' + _e(', '.join(outlets)) if outlets else ''}{span}</span></summary>"
            f"<ul>{listed}</ul><p class='small'>pairs: {links or '-'}</p></details>"
        )  # fmt: skip
    return f"<h2>Story groups ({len(page.result.clusters)})</h2><div id='groups'>{''.join(items)}</div>"


def _pairs_table(page: _Page, data: Mapping[str, Any]) -> str:
    rows, views = [], []
    for number, pair in enumerate(page.result.pairs, 1):
        group = page.group.get(pair.a) if page.group.get(pair.a) == page.group.get(pair.b) else None
        rows.append(
            f"<tr data-search='{page.search([pair.a, pair.b])}' data-kind='{pair.kind}'>"
            f"<td><a href='#pair-{number}'>{number}</a></td><td>{page.card(pair.a)}</td><td>{page.card(pair.b)}</td>"
            f"<td>{pair.kind}</td><td class='small'>{page.direction(pair)}</td>"
            f"<td data-value='{pair.coverage_a_by_b}'>{_bar(pair.coverage_a_by_b)}</td>"
            f"<td data-value='{pair.coverage_b_by_a}'>{_bar(pair.coverage_b_by_a)}</td>"
            f"<td data-value='{group or 0}'>{f'<a href=#group-{group}>{group}</a>' if group else ''}</td></tr>"
        )  # fmt: skip
        if f"pair-{number}" in data:
            views.append(f"<details class='pair' id='pair-{number}'><summary>{number}. {page.id(pair.a)} ~ "
                         f"{page.id(pair.b)}: {pair.kind}, a covered {round(100 * pair.coverage_a_by_b)}%, "
                         f"b covered {round(100 * pair.coverage_b_by_a)}%</summary></details>")  # fmt: skip
    kinds = "".join(
        f"<option>{k}</option>" for k in ("exact", "near_duplicate", "contained", "partial", "rewritten")
    )
    names = ("#", "a", "b", "kind", "direction", "a covered by b", "b covered by a", "group")
    headings = "".join(
        f"<th><button type='button' onclick='sortPairs({k})' title='sort'>{name}</button></th>"
        for k, name in enumerate(names)
    )
    return (
        f"<h2>Pairs ({len(page.result.pairs)})</h2><p><label>kind <select id='filter-kind' onchange='search()'>"
        f"<option value=''>any</option>{kinds}</select></label> <span class='muted'>j / k: next / previous pair</span></p>"
        f"<table id='pairs'><thead><tr>{headings}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<h2>Paragraphs of each pair</h2>{''.join(views)}"
    )  # fmt: skip


def _bar(value: float) -> str:
    return f"<span class='bar' style='width:{4 * value:.2f}em'></span> {round(100 * value)}%"


def _pair_data(result: DedupResult, texts: Mapping[ArticleId, str]) -> dict[str, Any]:
    """Each drawn pair's rows, compact: ``{"s": [every paragraph text once], "pair-N": rows}``, a
    row ``[kind, side a, side b]``, a side ``[index, its text's place in "s", changed word
    positions or null, the marked [start, end] of a sentence inside it or null]``. An article in
    many pairs carries its paragraphs once."""
    misread = misreads(result)
    strings: dict[str, int] = {}
    out: dict[str, Any] = {}
    for number, pair in enumerate(result.pairs[:MAX_PAIRS], 1):
        rows = explain(pair, texts[pair.a], texts[pair.b], misreads=misread).rows
        out[f"pair-{number}"] = [_row(row, strings) for row in rows]
    out["s"] = list(strings)
    return out


def _row(row: Row, strings: dict[str, int]) -> list[Any]:
    a, b = row.a, row.b
    inner = None
    if row.kind in ("sentence", "a_inside_b", "b_inside_a") and a is not None and b is not None:
        inner = a if len(a.text) <= len(b.text) else b  # the shorter sits inside the longer
    return [row.kind, _side(a, inner if inner is not a else None, strings),
            _side(b, inner if inner is not b else None, strings)]  # fmt: skip


def _side(side: Side | None, inner: Side | None, strings: dict[str, int]) -> list[Any] | None:
    if side is None:
        return None
    if side.words:
        text = " ".join(w for w, _ in side.words)
        changed = [k for k, (_, shared) in enumerate(side.words) if not shared]
        return [side.index, strings.setdefault(text, len(strings)), changed, None]
    text = side.text.replace("\x00", "\\u0000")
    at = text.find(inner.text) if inner is not None and inner.text else -1
    mark = [at, at + len(inner.text)] if inner is not None and at >= 0 else None
    return [side.index, strings.setdefault(text, len(strings)), None, mark]

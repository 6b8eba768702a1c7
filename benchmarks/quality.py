"""Quality of dedup's default settings on real, labelled news data, against plain MinHash-LSH.

Each dataset is read from the shared data folder (never copied into the repository). dedup runs
with its defaults; in the same run the baseline is plain datasketch ``MinHashLSH(threshold=0.5,
num_perm=128)`` over word 5-shingles (lower-cased, split on whitespace), with no verification, its
candidate pairs joined into groups by union-find: the baseline links two articles when they end up
in the same group. dedup links two articles when it reports a pair between them (a pair with one
of a group of exact copies counts for every copy).

    python benchmarks/quality.py                 # all datasets, about 2 minutes
    python benchmarks/quality.py --quick         # small slices, seconds (a test runs this)
    python benchmarks/quality.py --data DIR --json results.json

Datasets (see each folder's PROVENANCE.md): COUNTER (Urdu agency -> newspaper reuse, labelled
WD / PD / ND), BBC News summaries inside their articles, identical and near-identical stories in
BBC News and Reuters-21578, site furniture in the 2017 multi-outlet articles, the seeds, and
syndicated copies of BBC stories each OCR'd on its own (benchmarks/ocr.py: pair F1 and ARI by
band of character error rate, also for ``--preset ocr`` and plain LSH at 0.3).
"""

from __future__ import annotations

import argparse
import csv
import glob
import html
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from datasketch import MinHash, MinHashLSH

from dedup import DedupConfig, DedupResult, find_duplicates
from dedup.normalize import normalize
from dedup.paragraphs import split_paragraphs, split_sentences
from dedup.shingles import NUMBER_WORDS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"
Docs = dict[str, str]


# ----------------------------------------------------------------------------- linking


class DedupLinks:
    """Which articles dedup linked: reported pairs, expanded over groups of exact copies."""

    def __init__(self, result: DedupResult) -> None:
        self.result = result
        self.leader: dict[str, str] = {}
        for pair in result.pairs:
            if pair.kind == "exact":
                self.leader[str(pair.b)] = str(pair.a)
        self.links = {
            frozenset((self.lead(str(p.a)), self.lead(str(p.b)))) for p in result.pairs if p.kind != "exact"
        }
        self.strong = {
            frozenset((self.lead(str(p.a)), self.lead(str(p.b))))
            for p in result.pairs
            if p.kind in ("near_duplicate", "contained")
        }

    def contained(self, x: str, y: str) -> bool:
        """Linked by an exact, near_duplicate or contained pair (not only partial reuse)."""
        lx, ly = self.lead(x), self.lead(y)
        return lx == ly or frozenset((lx, ly)) in self.strong

    def lead(self, article: str) -> str:
        return self.leader.get(article, article)

    def linked(self, x: str, y: str) -> bool:
        lx, ly = self.lead(x), self.lead(y)
        return lx == ly or frozenset((lx, ly)) in self.links

    def pairs(self) -> Iterable[tuple[str, str]]:
        """Every linked pair of distinct articles (copies expanded)."""
        members: dict[str, list[str]] = defaultdict(list)
        for article, leader in self.leader.items():
            members[leader].append(article)
        for pair in self.result.pairs:
            a, b = str(pair.a), str(pair.b)
            if pair.kind == "exact":
                yield a, b
                continue
            for x in [a, *members.get(a, [])]:
                for y in [b, *members.get(b, [])]:
                    yield x, y


class BaselineLinks:
    """Plain MinHash-LSH (threshold 0.5, 128 permutations, word 5-shingles) + union-find."""

    def __init__(self, docs: Docs) -> None:
        ids = sorted(docs)
        shingle_sets = []
        for article in ids:
            words = docs[article].lower().split()
            shingles = {" ".join(words[i : i + 5]).encode() for i in range(max(1, len(words) - 4))}
            shingle_sets.append(shingles)
        minhashes = MinHash.bulk(shingle_sets, num_perm=128)
        lsh = MinHashLSH(threshold=0.5, num_perm=128)
        with lsh.insertion_session() as session:
            for article, minhash in zip(ids, minhashes, strict=True):
                session.insert(article, minhash, check_duplication=False)
        self.parent = {article: article for article in ids}
        for article, minhash in zip(ids, minhashes, strict=True):
            for other in lsh.query(minhash):
                self._union(article, other)
        self.groups: dict[str, list[str]] = defaultdict(list)
        for article in ids:
            self.groups[self.find(article)].append(article)

    def find(self, x: str) -> str:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def _union(self, x: str, y: str) -> None:
        rx, ry = self.find(x), self.find(y)
        if rx != ry:
            self.parent[max(rx, ry)] = min(rx, ry)

    def linked(self, x: str, y: str) -> bool:
        return self.find(x) == self.find(y)

    def pairs(self) -> Iterable[tuple[str, str]]:
        for members in self.groups.values():
            for i, x in enumerate(members):
                for y in members[i + 1 :]:
                    yield x, y


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, round(time.perf_counter() - start, 2)


def run_both(docs: Docs) -> tuple[DedupLinks, float, BaselineLinks, float]:
    result, dedup_seconds = timed(lambda: find_duplicates(docs))
    baseline, baseline_seconds = timed(lambda: BaselineLinks(docs))
    return DedupLinks(result), dedup_seconds, baseline, baseline_seconds


def read_text(path: str) -> str:
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def same_text_groups(docs: Docs) -> list[list[str]]:
    """Groups (two or more) of articles whose texts are identical up to whitespace."""
    by_text: dict[str, list[str]] = defaultdict(list)
    for article, text in docs.items():
        by_text[" ".join(text.split())].append(article)
    return sorted(sorted(g) for g in by_text.values() if len(g) > 1)


# ----------------------------------------------------------------------------- datasets


def counter(data: Path, quick: bool) -> dict[str, Any]:
    folder = data / "counter_urdu_news_reuse" / "COUNTER"
    files = sorted(glob.glob(str(folder / "*.xml")))
    if not files:
        return {"missing": str(folder)}
    docs: Docs = {}
    label: dict[str, str] = {}
    for path in files:
        raw = read_text(path)
        name = Path(path).stem.lower()
        head = re.search(r"<headline>(.*?)</headline>", raw, re.S)
        body = re.search(r"<body>(.*?)</body>", raw, re.S)
        docs[name] = html.unescape(
            f"{head.group(1).strip() if head else ''}\n\n{body.group(1).strip() if body else ''}"
        )
        label[name[:4]] = re.search(r'classification="(\w+)"', raw).group(1)  # type: ignore[union-attr]
    if quick:
        keep = sorted(label)[:100]
        label = {k: label[k] for k in keep}
        docs = {k: v for k, v in docs.items() if k[:4] in label}
    links, dedup_s, base, base_s = run_both(docs)
    reuse_result, reuse_s = timed(lambda: find_duplicates(docs, config=DedupConfig.reuse()))
    runs_semantic: list[tuple[str, DedupLinks, float]] = []
    if not quick:  # embedding every sentence takes minutes: full runs only
        result, seconds = timed(lambda: find_duplicates(docs, config=DedupConfig.reuse(semantic=True)))
        runs_semantic.append(("semantic", DedupLinks(result), seconds))
    out: dict[str, Any] = {"documents": len(docs), "pairs": dict(Counter(label.values()))}
    runs = (
        ("dedup", links, dedup_s),
        ("baseline", base, base_s),
        ("reuse", DedupLinks(reuse_result), reuse_s),
        *runs_semantic,
    )
    for name, linker, seconds in runs:
        found = Counter(cls for k, cls in label.items() if linker.linked(k, k + "p"))
        cross = sorted({tuple(sorted(p)) for p in linker.pairs() if p[0][:4] != p[1][:4]})
        out[name] = {
            "WD found": round(found["WD"] / out["pairs"]["WD"], 3),
            "PD found": round(found["PD"] / out["pairs"]["PD"], 3),
            "ND reported": round(found["ND"] / out["pairs"]["ND"], 3),
            "cross-pair links": len(cross),
            "cross-pair links (identical texts)": sum(
                " ".join(docs[a].split()) == " ".join(docs[b].split()) for a, b in cross
            ),
            "seconds": seconds,
            "cross_pairs": [list(p) for p in cross],
        }
        for half, parity in (("even", 0), ("odd", 1)):  # semantic thresholds were chosen on the even pairs
            part = Counter(
                cls for k, cls in label.items() if int(k) % 2 == parity and linker.linked(k, k + "p")
            )
            total = Counter(cls for k, cls in label.items() if int(k) % 2 == parity)
            out[name][f"WD / PD / ND, {half} pairs"] = " / ".join(
                f"{part[c] / max(total[c], 1):.3f}" for c in ("WD", "PD", "ND")
            )
    return out


def bbc_summaries(data: Path, quick: bool) -> dict[str, Any]:
    articles_dir, summaries_dir = data / "bbc_news", data / "bbc_news_summary" / "Summaries"
    if not articles_dir.is_dir() or not summaries_dir.is_dir():
        return {"missing": f"{articles_dir} or {summaries_dir}"}
    docs: Docs = {}
    for path in sorted(glob.glob(str(articles_dir / "*" / "*.txt"))):
        docs["art/" + Path(path).relative_to(articles_dir).with_suffix("").as_posix()] = read_text(path)
    for path in sorted(glob.glob(str(summaries_dir / "*" / "*.txt"))):
        docs["sum/" + Path(path).relative_to(summaries_dir).with_suffix("").as_posix()] = read_text(path)
    if quick:
        keep = sorted(k[4:] for k in docs if k.startswith("sum/"))[:200]
        docs = {k: v for k, v in docs.items() if k[4:] in set(keep)}
    # an article identical to a summary's own article is as good a link as its own
    own = defaultdict(set)
    text_of = {k[4:]: " ".join(v.split()) for k, v in docs.items() if k.startswith("art/")}
    by_text = defaultdict(set)
    for k, t in text_of.items():
        by_text[t].add("art/" + k)
    for k, t in text_of.items():
        own["sum/" + k] = by_text[t]
    summaries = sorted(k for k in docs if k.startswith("sum/"))
    normalized = {k: normalize(v) for k, v in docs.items() if k.startswith("art/")}
    sentences = {k: [normalize(x) for x in split_sentences(docs[k])] for k in summaries}

    def explained(summary: str, article: str) -> bool:
        # BBC re-ran stories: a link to another article that holds at least half of the
        # summary's sentences verbatim is true reuse, not a false link
        found = sum(sentence in normalized[article] for sentence in sentences[summary])
        return 2 * found >= len(sentences[summary])

    links, dedup_s, base, base_s = run_both(docs)
    out: dict[str, Any] = {"documents": len(docs), "summaries": len(summaries)}
    for name, linker, seconds in (("dedup", links, dedup_s), ("baseline", base, base_s)):
        linked = sum(any(linker.linked(s, a) for a in own[s]) for s in summaries)
        contained = (
            sum(any(links.contained(s, a) for a in own[s]) for s in summaries) if linker is links else None
        )
        other = sorted(
            {(x, y) if x.startswith("art/") else (y, x) for x, y in linker.pairs()
             if {x[:4], y[:4]} == {"art/", "sum/"}
             and (y if y.startswith("art/") else x) not in own[x if x.startswith("sum/") else y]}
        )  # fmt: skip
        false = [(a, s) for a, s in other if not explained(s, a)]
        out[name] = {
            "summaries linked": round(linked / len(summaries), 4),
            "summaries linked as contained": "-"
            if contained is None
            else round(contained / len(summaries), 4),
            "links to another article": len(other) - len(false),
            "false links": len(false),
            "false links per summary": round(len(false) / len(summaries), 4),
            "seconds": seconds,
            "false_links": [list(p) for p in false],
        }
    return out


def reuters_docs(data: Path, quick: bool) -> Docs | None:
    files = sorted(glob.glob(str(data / "reuters21578" / "reut2-*.sgm")))
    if not files:
        return None
    docs: Docs = {}
    for path in files[:3] if quick else files:
        raw = Path(path).read_text(encoding="latin-1")
        for match in re.finditer(r"<REUTERS(.*?)>(.*?)</REUTERS>", raw, re.S):
            body = re.search(r"<BODY>(.*?)</BODY>", match.group(2), re.S)
            new_id = re.search(r'NEWID="(\d+)"', match.group(1))
            if body and new_id:
                docs[f"reuters/{int(new_id.group(1)):05d}"] = html.unescape(body.group(1)).replace("\x03", "")
    return docs


def bbc_docs(data: Path, quick: bool) -> Docs | None:
    folder = data / "bbc_news"
    paths = sorted(glob.glob(str(folder / "*" / "*.txt")))
    if not paths:
        return None
    docs = {Path(p).relative_to(folder).with_suffix("").as_posix(): read_text(p) for p in paths}
    return dict(sorted(docs.items())[:400]) if quick else docs


def identical_groups(data: Path, quick: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for corpus, loader in (("bbc_news", bbc_docs), ("reuters21578", reuters_docs)):
        docs = loader(data, quick)
        if docs is None:
            out[corpus] = {"missing": str(data / corpus)}
            continue
        groups = same_text_groups(docs)
        links, dedup_s, base, base_s = run_both(docs)
        entry: dict[str, Any] = {"documents": len(docs), "identical groups": len(groups)}
        for name, linker, seconds in (("dedup", links, dedup_s), ("baseline", base, base_s)):
            whole = sum(all(linker.linked(g[0], m) for m in g[1:]) for g in groups)
            entry[name] = {"identical groups found": f"{whole}/{len(groups)}", "seconds": seconds}
        near = [p for p in links.result.pairs if p.kind == "near_duplicate"]
        entry["dedup"]["near-identical pairs"] = len(near)
        entry["dedup"]["pairs by kind"] = dict(Counter(p.kind for p in links.result.pairs))
        entry["dedup"]["near_identical_sample"] = [
            {"a": p.a, "b": p.b, "coverage": [p.coverage_a_by_b, p.coverage_b_by_a],
             "a_starts": docs[str(p.a)].strip()[:70], "b_starts": docs[str(p.b)].strip()[:70]}
            for p in near[:: max(1, len(near) // 5)][:5]
        ]  # fmt: skip
        out[corpus] = entry
    return out


def dai_docs(data: Path, quick: bool) -> tuple[Docs, dict[str, str]] | None:
    """The 2017 multi-outlet articles (no text or "-1" skipped), and each one's outlet."""
    path = data / "news_articles_dai2017" / "NewsArticles.csv"
    if not path.exists():
        return None
    csv.field_size_limit(sys.maxsize)
    docs: Docs = {}
    outlet: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text = (row["text"] or "").strip()
            if not text or text == "-1":
                continue
            key = f"dai/{int(row['article_id']):04d}"
            docs[key] = text
            outlet[key] = re.sub(r"^https?://(www\.)?", "", row["article_source_link"]).split("/")[0]
    if quick:
        docs = dict(sorted(docs.items())[:500])
    return docs, outlet


def furniture(data: Path, quick: bool) -> dict[str, Any]:
    loaded = dai_docs(data, quick)
    if loaded is None:
        return {"missing": str(data / "news_articles_dai2017" / "NewsArticles.csv")}
    docs, outlet = loaded
    links, dedup_s, base, base_s = run_both(docs)
    # document frequency of every normalized paragraph: a pair whose matched paragraphs are all
    # frequent (in 5+ articles) shares only furniture
    units = {k: [normalize(p) for p in split_paragraphs(v)] for k, v in docs.items()}
    frequency = Counter(u for us in units.values() for u in set(us))
    out: dict[str, Any] = {"documents": len(docs), "skipped (no text or -1)": "before the run"}
    furniture_only = []
    for pair in links.result.pairs:
        al = pair.alignment
        shared = [units[str(pair.a)][m.a] for m in (*al.matches, *al.a_inside_b)]
        shared += [units[str(pair.a)][m.a] for m in al.b_inside_a]
        if shared and all(frequency[u] >= 5 for u in shared):
            furniture_only.append([pair.a, pair.b])
    for name, linker, seconds in (("dedup", links, dedup_s), ("baseline", base, base_s)):
        pairs = sorted({tuple(sorted(p)) for p in linker.pairs()})
        cross = [p for p in pairs if outlet[p[0]] != outlet[p[1]]]
        out[name] = {"pairs": len(pairs), "cross-outlet pairs": len(cross), "seconds": seconds}
    out["dedup"]["furniture-only pairs"] = len(furniture_only)
    out["dedup"]["pairs by kind"] = dict(Counter(p.kind for p in links.result.pairs))
    out["dedup"]["sample"] = [
        {"a": p.a, "b": p.b, "kind": p.kind, "outlets": [outlet[str(p.a)], outlet[str(p.b)]],
         "coverage": [p.coverage_a_by_b, p.coverage_b_by_a],
         "a_starts": docs[str(p.a)][:70], "b_starts": docs[str(p.b)][:70]}
        for p in links.result.pairs[:: max(1, len(links.result.pairs) // 6)][:6]
    ]  # fmt: skip
    return out


_NUMBER = re.compile(r"(?<!\w)\d\w*|\b(?:" + "|".join(sorted(NUMBER_WORDS)) + r")\b")


def shared_only_templates(result: DedupResult, docs: Docs) -> dict[str, list[list[str]]]:
    """The pairs whose shared paragraphs are all recurring text, two ways: *furniture-only* — each
    paragraph, normalized, is in 5 or more articles; *template-only* — each is in 5 or more
    articles once its numbers are masked (a form filled in with other figures: "Qtly div # cts vs
    # cts prior"). For a ``rewritten`` pair the same is asked of its corresponding sentences,
    counted among the articles' sentences. Counted independently of dedup's own rules (its
    boilerplate and forms)."""
    counts = {
        level: _recurring({k: [normalize(t) for t in split(v)] for k, v in docs.items()})
        for level, split in (("paragraphs", split_paragraphs), ("sentences", _sentences))
    }
    out: dict[str, list[list[str]]] = {"furniture-only": [], "template-only": []}
    for pair in result.pairs:
        if pair.kind == "exact":
            continue
        text = docs[str(pair.a)]
        if pair.semantic is not None:
            exact, masked = counts["sentences"]
            shared = [normalize(text[slice(*m.a_span)]) for m in pair.semantic.sentences]
        else:
            exact, masked = counts["paragraphs"]
            al, units = pair.alignment, split_paragraphs(text)
            shared = [normalize(units[m.a]) for m in (*al.matches, *al.a_inside_b, *al.b_inside_a)]
        if shared and all(exact[u] >= 5 for u in shared):
            out["furniture-only"].append([str(pair.a), str(pair.b)])
        if shared and all(masked[_NUMBER.sub("#", u)] >= 5 for u in shared):
            out["template-only"].append([str(pair.a), str(pair.b)])
    return out


def _recurring(units: dict[str, list[str]]) -> tuple[Counter[str], Counter[str]]:
    """How many articles hold each unit, verbatim and with its numbers masked."""
    exact = Counter(u for us in units.values() for u in set(us))
    masked = Counter(m for us in units.values() for m in {_NUMBER.sub("#", u) for u in us})
    return exact, masked


def _sentences(text: str) -> list[str]:
    """The units the semantic check matches (its sentences)."""
    from dedup.semantic import sentence_spans

    return [text[start:end] for start, end in sentence_spans(text)]


def templates(data: Path, quick: bool) -> dict[str, Any]:
    """The looser modes on real archives full of templates (dai2017's house templates, Reuters'
    filled-in notices): pairs, seconds (against the defaults') and the pairs that share only
    recurring text (:func:`shared_only_templates`)."""
    out: dict[str, Any] = {}
    loaded = dai_docs(data, quick)
    corpora = {"dai2017": loaded[0] if loaded else None, "reuters21578": reuters_docs(data, quick)}
    runs = {"defaults": DedupConfig(), "--preset reuse": DedupConfig.reuse()}
    for corpus, docs in corpora.items():
        if docs is None:
            out[corpus] = {"missing": corpus}
            continue
        entry: dict[str, Any] = {"documents": len(docs)}
        semantic = {"--preset reuse --semantic": DedupConfig.reuse(semantic=True)}
        # (the semantic check takes minutes on dai2017 and half an hour on Reuters: dai2017 only)
        for name, config in {**runs, **(semantic if corpus == "dai2017" and not quick else {})}.items():
            result, seconds = timed(lambda config=config, docs=docs: find_duplicates(docs, config=config))
            only = shared_only_templates(result, docs)
            base = entry["defaults"]["seconds"] if "defaults" in entry else seconds
            entry[name] = {
                "pairs": len(result.pairs), "pairs by kind": dict(Counter(p.kind for p in result.pairs)),
                "seconds": seconds, "x defaults": round(seconds / max(base, 0.01), 1),
                "filled-in forms": result.summary.filled_in_forms,
                "furniture-only pairs": len(only["furniture-only"]), "template-only pairs": len(only["template-only"]),
                "template_only": only["template-only"][:20],
            }  # fmt: skip
        out[corpus] = entry
    return out


def seeds(data: Path, quick: bool) -> dict[str, Any]:
    docs = {Path(p).name: read_text(p) for p in sorted(glob.glob(str(ROOT / "fixtures" / "*.txt")))}
    links, dedup_s, base, base_s = run_both(docs)
    out: dict[str, Any] = {"documents": len(docs)}
    for name, linker, seconds in (("dedup", links, dedup_s), ("baseline", base, base_s)):
        out[name] = {"pairs": sorted([x[:3], y[:3]] for x, y in linker.pairs()), "seconds": seconds}
    return out


def scanned(data: Path, quick: bool) -> dict[str, Any]:
    """Syndicated copies of real stories, each OCR'd on its own (see benchmarks/ocr.py)."""
    import ocr  # benchmarks/ocr.py, next to this file

    if not (data / "bbc_news").is_dir():
        return {"missing": str(data / "bbc_news")}
    copies, _ = ocr.build_stories(data, 60 if quick else 500)
    configs = {"dedup": DedupConfig(), "ocr": DedupConfig.ocr()}
    bands = ["1-3"] if quick else ["0", "0-1", "1-3", "3-6"]
    return {"bands": [ocr.measure_band(copies, band, configs) for band in bands]}


DATASETS: dict[str, Callable[[Path, bool], dict[str, Any]]] = {
    "counter": counter,
    "bbc_summaries": bbc_summaries,
    "identical": identical_groups,
    "furniture": furniture,
    "seeds": seeds,
    "ocr": scanned,
    "templates": templates,
}


# ----------------------------------------------------------------------------- report


def table_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(dataset, metric, dedup, baseline, target) rows for the printed table."""
    rows = []

    def add(dataset: str, metric: str, entry: dict[str, Any], key: str, target: str = "") -> None:
        rows.append((dataset, metric, str(entry["dedup"][key]), str(entry["baseline"][key]), target))

    c = results.get("counter", {})
    if "dedup" in c:
        add("COUNTER", "WD pairs found", c, "WD found", ">= 0.90")
        add("COUNTER", "PD pairs found", c, "PD found", "report")
        add("COUNTER", "ND pairs reported", c, "ND reported", "<= 0.05")
        add("COUNTER", "cross-pair links", c, "cross-pair links", "list")
        add("COUNTER", "  of them identical texts", c, "cross-pair links (identical texts)")
        add("COUNTER", "seconds", c, "seconds")
        for key, target in (("WD found", ">= 0.90"), ("PD found", "report"), ("ND reported", "<= 0.05"),
                            ("cross-pair links", "list"), ("seconds", "")):  # fmt: skip
            rows.append(("COUNTER", f"{key} (--preset reuse)", str(c["reuse"][key]), "-", target))
        for preset in ("reuse", "semantic") if "semantic" in c else ("reuse",):
            name = "--preset reuse" + (" --semantic" if preset == "semantic" else "")
            for key in ("WD found", "PD found", "ND reported", "cross-pair links", "seconds",
                        "WD / PD / ND, even pairs", "WD / PD / ND, odd pairs"):  # fmt: skip
                if preset == "semantic" or key.startswith("WD /"):
                    rows.append(("COUNTER", f"{key} ({name})", str(c[preset][key]), "-", ""))
    b = results.get("bbc_summaries", {})
    if "dedup" in b:
        add("BBC summaries", "summaries linked", b, "summaries linked", ">= 0.99")
        add("BBC summaries", "  of them as contained (not partial)", b, "summaries linked as contained")
        add("BBC summaries", "links to another article holding it", b, "links to another article")
        add("BBC summaries", "false links per summary", b, "false links per summary", "<= 0.005")
        add("BBC summaries", "seconds", b, "seconds")
    for corpus in ("bbc_news", "reuters21578"):
        e = results.get("identical", {}).get(corpus, {})
        if "dedup" in e:
            add(corpus, "identical groups found", e, "identical groups found", "all")
            rows.append(
                (corpus, "near-identical pairs", str(e["dedup"]["near-identical pairs"]), "-", "sample")
            )
            add(corpus, "seconds", e, "seconds")
    f = results.get("furniture", {})
    if "dedup" in f:
        add("dai2017", "pairs reported", f, "pairs")
        add("dai2017", "cross-outlet pairs", f, "cross-outlet pairs")
        rows.append(("dai2017", "furniture-only pairs", str(f["dedup"]["furniture-only pairs"]), "-", "0"))
        add("dai2017", "seconds", f, "seconds")
    for band in results.get("ocr", {}).get("bands", []):
        name = f"OCR {band['band']}% (realised {band['realised CER']:.2%})"
        for metric, target in (("pair F1", ">= 0.99 at 1-3%"), ("ARI", ">= 0.95 at 1-3%, 0.90 at 3-6%"),
                               ("false pairs", "0")):  # fmt: skip
            rows.append((name, metric, str(band["dedup"][metric]), str(band["LSH 0.5"][metric]), ""))
            rows.append((name, f"{metric} (--preset ocr; LSH 0.3)", str(band["ocr"][metric]),
                         str(band["LSH 0.3"][metric]), target))  # fmt: skip
    for corpus, entry in results.get("templates", {}).items():
        for run in ("defaults", "--preset reuse", "--preset reuse --semantic"):
            if run in entry:
                e = entry[run]
                for metric, target in (("pairs", ""), ("template-only pairs", "0"), ("furniture-only pairs", "0"),
                                       ("seconds", ""), ("x defaults", "<= 3")):  # fmt: skip
                    rows.append(
                        (f"{corpus} {run}", metric, str(e[metric]), "-", target if run != "defaults" else "")
                    )
    s = results.get("seeds", {})
    if "dedup" in s:
        add("seeds", "pairs", s, "pairs", "[000, 001] only")
    return rows


def markdown_table(rows: list[tuple[str, str, str, str, str]]) -> str:
    lines = [
        "| dataset | metric | dedup (defaults) | baseline LSH 0.5 | target |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {' | '.join(r)} |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("DEDUP_DATA", DEFAULT_DATA)),
                        help=f"the shared data folder (default: $DEDUP_DATA or {DEFAULT_DATA})")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="small slices of each dataset")
    parser.add_argument("--only", choices=sorted(DATASETS), action="append", help="run only these datasets")
    parser.add_argument("--json", type=Path, help="write the full results (with lists) as JSON here")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"note: data folder {args.data} not found: only the seeds are measured", file=sys.stderr)
    results: dict[str, Any] = {
        "settings": {
            "dedup": DedupConfig().to_dict(),
            "baseline": "datasketch MinHashLSH(threshold=0.5, num_perm=128), word 5-shingles, union-find",
            "quick": args.quick,
        },
        "versions": {p: version(p) for p in ("newsdedup", "datasketch", "rapidfuzz", "numpy")},
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "commit": _commit(),
    }
    for name in args.only or list(DATASETS):
        entry, seconds = timed(lambda name=name: DATASETS[name](args.data, args.quick))
        if "missing" in entry:
            print(f"note: {name}: {entry['missing']} not found, skipped", file=sys.stderr)
        results[name] = entry
        print(f"{name}: done in {seconds:.1f} s", file=sys.stderr)
    rows = table_rows(results)
    print(f"dedup {results['versions']['newsdedup']} (commit {results['commit']}), datasketch "
          f"{results['versions']['datasketch']}, quick={args.quick}")  # fmt: skip
    print(markdown_table(rows))
    for corpus in ("bbc_news", "reuters21578"):
        sample = (
            results.get("identical", {}).get(corpus, {}).get("dedup", {}).get("near_identical_sample", [])
        )
        for item in sample:
            print(
                f"near-identical {corpus}: {item['a']} ~ {item['b']} {item['coverage']}: {item['a_starts']!r}"
            )
    for item in results.get("furniture", {}).get("dedup", {}).get("sample", []):
        print(f"dai2017 {item['kind']}: {item['a']} ({item['outlets'][0]}) ~ {item['b']} ({item['outlets'][1]}) "
              f"{item['coverage']}: {item['a_starts']!r}")  # fmt: skip
    cross = results.get("counter", {}).get("dedup", {}).get("cross_pairs", [])
    if cross:
        print(f"COUNTER cross-pair links by dedup ({len(cross)}): {', '.join('~'.join(p) for p in cross)}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


if __name__ == "__main__":
    raise SystemExit(main())

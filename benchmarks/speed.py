"""Speed and memory of dedup against datasketch's own paths, measured side by side in one run.

A reproducible corpus of N news-like articles (about 2.5 KB each) is written once as JSON Lines
and cached: sentences of real news under the shared data folder (BBC News, Reuters-21578, the
2017 multi-outlet articles), every fourth word replaced by a word drawn for that article so that
unrelated articles share no more phrases than real ones do, grouped into paragraphs; a known
share of articles (``--planted``, default 10%) are republications of an earlier article with one
paragraph dropped, one added and a few words changed. Without the data, words come from a fixed
Zipf-distributed vocabulary instead.

Three corpora (``--corpora``): ``news`` (above), ``template`` (the same sentences, but each one
recurring verbatim in about ten unrelated articles, as in market reports, press releases and
sports results; 10% republications as before) and ``real`` (every news-like article under the
data folder: BBC News, the 2017 outlets, Reuters-21578, 20 Newsgroups, about 44,000).

Each measurement runs in a fresh process (so its peak RSS is its own), on the same corpus file,
three times with the median taken when a run takes under a minute (``--repeat``):

- ``naive``: datasketch as most people write it: one ``MinHash`` per article fed shingle by
  shingle with ``update``, inserted into ``MinHashLSH`` (on the first ``--naive-sample`` articles);
- ``batch``: datasketch's batch path, ``MinHash.bulk`` + ``MinHashLSH`` insertion session (first
  ``--batch-sample`` articles);
- ``floor``: reading, splitting into words and hashing the shingles only (dedup's own vectorized
  scan, one process), the cost of touching the text;
- ``dedup``: ``find_duplicates`` end to end on all N (read → sketches → candidates → alignment →
  clusters), streaming from the file, on every core; its candidate stage (read, sketch, band)
  is timed on its own too;
- ``command``: the ``dedup`` command on the file, writing a JSON report (peak RSS: its largest
  process).

    python benchmarks/speed.py                      # 20k news-like articles
    python benchmarks/speed.py --sizes 200000 1000000 --corpora news template real
    python benchmarks/speed.py --quick              # 2k articles, seconds (a test runs this)
"""

from __future__ import annotations

import argparse
import csv
import glob
import gzip
import html
import json
import os
import platform
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib.metadata import version
from itertools import chain, pairwise
from pathlib import Path
from typing import Any

import numpy as np

from dedup.config import PRESETS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"
CORPUS_VERSION = 2
SENTENCES_PER_ARTICLE = 28
TEMPLATE_REUSE = 10
"""In the template-heavy corpus, the number of unrelated articles each sentence appears in."""


# ----------------------------------------------------------------------------- corpus


def sentence_pool(data: Path) -> list[str]:
    """Sentences (40-300 characters) of the real news under ``data``, in a fixed order."""
    from dedup.paragraphs import split_paragraphs, split_sentences

    texts: list[str] = []
    for path in sorted(glob.glob(str(data / "bbc_news" / "*" / "*.txt"))):
        texts.append(Path(path).read_bytes().decode("utf-8", errors="replace"))
    for path in sorted(glob.glob(str(data / "reuters21578" / "reut2-*.sgm"))):
        raw = Path(path).read_text(encoding="latin-1")
        texts += [html.unescape(m) for m in re.findall(r"<BODY>(.*?)</BODY>", raw, re.S)]
    pool = []
    for text in texts:
        for paragraph in split_paragraphs(text):
            pool += [s for s in split_sentences(" ".join(paragraph.split())) if 40 <= len(s) <= 300]
    return pool


def zipf_pool(seed: int = 0) -> list[str]:
    """Fallback: sentences of words from a fixed Zipf-distributed vocabulary."""
    rng = random.Random(seed)
    vocabulary = [f"w{n}" for n in range(20000)]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    return [
        " ".join(rng.choices(vocabulary, weights, k=rng.randint(12, 30))).capitalize() + "."
        for _ in range(50000)
    ]


def fresh_article(
    rng: random.Random, pool: list[str], words: list[str], sentences: int = SENTENCES_PER_ARTICLE
) -> list[str]:
    """Paragraphs of a new article: pool sentences with every fourth word replaced."""
    chosen = []
    for sentence in rng.sample(pool, sentences):
        tokens = sentence.split()
        for position in range(rng.randrange(4), len(tokens), 4):
            tokens[position] = rng.choice(words)
        chosen.append(" ".join(tokens))
    return in_paragraphs(rng, chosen)


def in_paragraphs(rng: random.Random, sentences: list[str]) -> list[str]:
    """Sentences grouped into paragraphs of one to three."""
    paragraphs, start = [], 0
    while start < len(sentences):
        size = rng.randint(1, 3)
        paragraphs.append(" ".join(sentences[start : start + size]))
        start += size
    return paragraphs


def republish(rng: random.Random, paragraphs: list[str], pool: list[str], words: list[str]) -> list[str]:
    """An edited copy: one paragraph dropped, one new paragraph added, three words changed."""
    copy = list(paragraphs)
    if len(copy) > 2:
        del copy[rng.randrange(len(copy))]
    copy.insert(rng.randrange(len(copy) + 1), " ".join(fresh_article(rng, pool, words)[:1]))
    for _ in range(3):
        index = rng.randrange(len(copy))
        tokens = copy[index].split()
        tokens[rng.randrange(len(tokens))] = rng.choice(words)
        copy[index] = " ".join(tokens)
    return copy


def template_article(rng: random.Random, templates: list[str], words: list[str]) -> list[str]:
    """Paragraphs of an article of the template-heavy corpus: every sentence drawn from a shared
    pool in which each one recurs in about :data:`TEMPLATE_REUSE` unrelated articles."""
    return in_paragraphs(rng, rng.sample(templates, SENTENCES_PER_ARTICLE))


def build_corpus(
    path: Path, n: int, seed: int, planted: float, data: Path, kind: str = "news"
) -> list[list[int]]:
    """Write ``n`` articles to ``path`` (JSON Lines) and return the planted (original, copy) pairs."""
    pool = sentence_pool(data) if data.is_dir() else []
    if len(pool) < 1000:
        pool = zipf_pool(seed)
    words = sorted({w for s in pool[:20000] for w in s.split()})
    rng = random.Random(seed)
    if kind == "template":  # distinct template sentences: pool sentences with words swapped once
        size = max(SENTENCES_PER_ARTICLE * 2, n * SENTENCES_PER_ARTICLE // TEMPLATE_REUSE)
        templates = [
            " ".join(fresh_article(rng, [sentence], words, sentences=1))
            for sentence in rng.choices(pool, k=size)
        ]
    recent: list[tuple[int, list[str]]] = []
    pairs = []
    with path.open("w", encoding="utf-8") as out:
        for index in range(n):
            if recent and rng.random() < planted:
                original, paragraphs = recent[rng.randrange(len(recent))]
                paragraphs = republish(rng, paragraphs, pool, words)
                pairs.append([original, index])
            elif kind == "template":
                paragraphs = template_article(rng, templates, words)
            else:
                paragraphs = fresh_article(rng, pool, words)
            recent.append((index, paragraphs))
            if len(recent) > 2000:
                recent.pop(0)
            out.write(json.dumps({"id": f"a{index:07d}", "text": "\n\n".join(paragraphs)}) + "\n")
    return pairs


def real_news(data: Path) -> Iterator[tuple[str, str]]:
    """Every article under the shared data folder that is news-like: BBC News, the 2017
    multi-outlet articles, Reuters-21578 bodies and 20 Newsgroups posts, in a fixed order."""
    for path in sorted(glob.glob(str(data / "bbc_news" / "*" / "*.txt"))):
        yield (
            "bbc/" + "/".join(Path(path).parts[-2:]),
            Path(path).read_bytes().decode("utf-8", errors="replace"),
        )
    csv.field_size_limit(sys.maxsize)
    with (data / "news_articles_dai2017" / "NewsArticles.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if (row["text"] or "").strip() not in ("", "-1"):
                yield f"dai/{row['article_id']}", row["text"]
    for path in sorted(glob.glob(str(data / "reuters21578" / "reut2-*.sgm"))):
        raw = Path(path).read_text(encoding="latin-1")
        for number, body in enumerate(re.findall(r"<BODY>(.*?)</BODY>", raw, re.S)):
            yield f"reuters/{Path(path).stem}/{number}", html.unescape(body)
    with gzip.open(data / "20newsgroups_bydate" / "20news-bydate.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            yield f"20ng/{record['split']}/{record['newsgroup']}/{record['id']}", record["text"]


def real_corpus(data: Path, cache: Path) -> Path:
    """The real-news corpus as one cached JSON Lines file (a cache outside the repository: the
    data is licensed for research and never copied into it)."""
    path = cache / "real-news.jsonl"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            for article_id, text in real_news(data):
                out.write(json.dumps({"id": article_id, "text": text}) + "\n")
    return path


def corpus(
    n: int, seed: int, planted: float, data: Path, cache: Path, kind: str = "news"
) -> tuple[Path, list[list[int]]]:
    """The cached corpus file for these settings, built if missing."""
    cache.mkdir(parents=True, exist_ok=True)
    stem = f"corpus-v{CORPUS_VERSION}-{n}-{seed}-{planted}-{'real' if data.is_dir() else 'zipf'}"
    stem = stem if kind == "news" else f"{stem}-{kind}"
    path, truth = cache / f"{stem}.jsonl", cache / f"{stem}.planted.json"
    if not path.exists() or not truth.exists():
        pairs = build_corpus(path, n, seed, planted, data, kind)
        truth.write_text(json.dumps(pairs))
    return path, json.loads(truth.read_text())


def read(path: Path, limit: int | None = None) -> Iterator[tuple[str, str]]:
    with path.open(encoding="utf-8") as lines:
        for count, line in enumerate(lines):
            if limit is not None and count >= limit:
                return
            record = json.loads(line)
            yield record["id"], record["text"]


# ----------------------------------------------------------------------------- measurements


def shingle_strings(text: str) -> list[bytes]:
    words = text.lower().split()
    return [" ".join(words[i : i + 5]).encode() for i in range(max(1, len(words) - 4))]


def measure_naive(path: Path, sample: int) -> dict[str, Any]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.1, num_perm=128)
    start = time.perf_counter()
    count = 0
    for article_id, text in read(path, sample):
        minhash = MinHash(num_perm=128)
        for shingle in shingle_strings(text):
            minhash.update(shingle)
        lsh.insert(article_id, minhash)
        count += 1
    return {"articles": count, "seconds": time.perf_counter() - start}


def measure_batch(path: Path, sample: int) -> dict[str, Any]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.1, num_perm=128)
    start = time.perf_counter()
    items = list(read(path, sample))
    minhashes = MinHash.bulk([shingle_strings(text) for _, text in items], num_perm=128)
    with lsh.insertion_session() as session:
        for (article_id, _), minhash in zip(items, minhashes, strict=True):
            session.insert(article_id, minhash, check_duplication=False)
    return {"articles": len(items), "seconds": time.perf_counter() - start}


def measure_floor(path: Path, sample: int | None) -> dict[str, Any]:
    """Read, lower-case, split into words and hash the word 5-shingles: nothing else (no
    normalization, signature, anchors or lines), 512 articles at a time as dedup does."""
    from dedup.shingles import LINE_END, SENTENCE_END, shingles_per_row
    from dedup.sketch import _scan_texts

    start = time.perf_counter()
    count = 0
    batch: list[str] = []
    for _, text in chain(read(path, sample), [("", None)]):
        if text is not None:
            batch.append(text.lower())
        if len(batch) == 512 or (text is None and batch):
            every, rows, _, _ = _scan_texts(batch).arrays()
            words = (every != LINE_END) & (every != SENTENCE_END)
            shingles_per_row(every[words], rows[words], np.bincount(rows[words], minlength=len(batch)), 5)
            count += len(batch)
            batch = []
    return {"articles": count, "seconds": time.perf_counter() - start}


def measure_dedup(path: Path, planted: list[list[int]], workers: int | None, preset: str) -> dict[str, Any]:
    from dedup import DedupConfig, find_duplicates

    timings: dict[str, float] = {}
    config = DedupConfig.preset(preset)
    start = time.perf_counter()
    result = find_duplicates(read(path), config=config, timings=timings, workers=workers or None)
    seconds = time.perf_counter() - start
    found = {(str(p.a), str(p.b)) for p in result.pairs}
    hits = sum((f"a{a:07d}", f"a{b:07d}") in found for a, b in planted)
    return {
        "articles": result.summary["articles"],
        "seconds": seconds,
        "candidate_stage_seconds": timings["read_and_sketch"]
        + timings["exact_copies"]
        + timings["candidates"],
        "timings": timings,
        "summary": result.summary.to_dict(),
        "planted_pairs": len(planted),
        "planted_found": hits,
    }


def measure_command(path: Path, planted: list[list[int]], workers: int | None, preset: str) -> dict[str, Any]:
    """The ``dedup`` command end to end, as a user runs it: a subprocess writing a JSON report."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        command = [
            sys.executable,
            "-m",
            "dedup",
            str(path),
            "-o",
            str(report),
            "--skip-empty",
        ]  # as the library
        if workers:
            command += ["--workers", str(workers)]
        if preset != "default":
            command += ["--preset", preset]
        start = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"speed: the dedup command failed: {proc.stderr.strip()}")
        result = json.loads(report.read_text(encoding="utf-8"))
    found = {(p["a"], p["b"]) for p in result["pairs"]}
    return {
        "articles": result["summary"]["articles"],
        "seconds": seconds,
        "planted_pairs": len(planted),
        "planted_found": sum((f"a{a:07d}", f"a{b:07d}") in found for a, b in planted),
    }


def child(args: argparse.Namespace) -> int:
    """Run one measurement in this (fresh) process and print it as JSON with the peak RSS (of
    this process or, for the command, of its largest process)."""
    path = Path(args.child_path)
    planted = json.loads(Path(args.child_truth).read_text()) if args.child_truth else []
    if args.child == "naive":
        out = measure_naive(path, args.naive_sample)
    elif args.child == "batch":
        out = measure_batch(path, args.batch_sample)
    elif args.child == "floor":
        out = measure_floor(path, args.floor_sample or None)
    elif args.child == "command":
        out = measure_command(path, planted, args.workers, args.child_preset)
    else:
        out = measure_dedup(path, planted, args.workers, args.child_preset)
    peak_kb = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    out["peak_rss_mb"] = round(peak_kb / 1024, 1)
    out["per_second"] = round(out["articles"] / out["seconds"], 1)
    print(json.dumps(out))
    return 0


def run_child(
    kind: str, path: Path, truth: Path | None, args: argparse.Namespace, preset: str = "default"
) -> dict[str, Any]:
    """One measurement in a fresh process; repeated (median seconds) while a run is under a minute."""
    command = [
        sys.executable, __file__, "--child", kind, "--child-path", str(path), "--child-preset", preset,
        "--naive-sample", str(args.naive_sample), "--batch-sample", str(args.batch_sample),
    ]  # fmt: skip
    if args.floor_sample:
        command += ["--floor-sample", str(args.floor_sample)]
    if truth is not None and truth.exists():
        command += ["--child-truth", str(truth)]
    if args.workers:
        command += ["--workers", str(args.workers)]
    runs = []
    while len(runs) < args.repeat:
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"speed: the {kind} measurement failed:\n{proc.stderr}")
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        if runs[-1]["seconds"] >= 60:
            break
    middle = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    return {**middle, "runs": len(runs), "peak_rss_mb": max(r["peak_rss_mb"] for r in runs)}


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model, "cores": os.cpu_count(), "python": platform.python_version(),
        "platform": platform.platform(),
        **{p: version(p) for p in ("newsdedup", "datasketch", "numpy", "rapidfuzz")},
    }  # fmt: skip


def measure_rows(corpus_name: str, path: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every measurement on one corpus file: a table row per preset (the baselines measured once)."""
    truth = path.with_suffix(".planted.json")
    baselines = {kind: run_child(kind, path, None, args) for kind in ("naive", "batch", "floor")}
    rows = []
    for preset in args.presets:
        measured = {
            **baselines,
            **{kind: run_child(kind, path, truth, args, preset) for kind in ("dedup", "command")},
        }
        name = corpus_name if preset == "default" else f"{corpus_name}, --preset {preset}"
        rows.append({**measure_row(name, path, measured), "preset": preset})
    return rows


def measure_row(corpus_name: str, path: Path, measured: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One table row from the measurements on one corpus file."""
    dedup, command, naive = measured["dedup"], measured["command"], measured["naive"]["per_second"]
    candidate_rate = dedup["articles"] / dedup["candidate_stage_seconds"]
    row = {
        "corpus": corpus_name,
        "articles": dedup["articles"],
        "mean_chars": round(path.stat().st_size / dedup["articles"]),
        **{f"{k}_per_s": measured[k]["per_second"] for k in measured},
        "dedup_candidate_stage_per_s": round(candidate_rate, 1),
        "dedup_seconds": round(dedup["seconds"], 1),
        "command_seconds": round(command["seconds"], 1),
        "dedup_peak_rss_mb": dedup["peak_rss_mb"],
        "command_peak_rss_mb": command["peak_rss_mb"],
        "naive_peak_rss_mb": measured["naive"]["peak_rss_mb"],
        "candidate_stage_vs_naive": round(candidate_rate / naive, 1),
        "end_to_end_vs_naive": round(dedup["per_second"] / naive, 1),
        "command_vs_naive": round(command["per_second"] / naive, 1),
        "end_to_end_vs_batch": round(dedup["per_second"] / measured["batch"]["per_second"], 1),
        "end_to_end_vs_floor": round(dedup["per_second"] / measured["floor"]["per_second"], 2),
        "planted_found": f"{dedup['planted_found']}/{dedup['planted_pairs']}",
        "runs": {k: measured[k]["runs"] for k in measured},
        "timings": dedup["timings"],
        "summary": dedup["summary"],
    }
    print(json.dumps({k: v for k, v in row.items() if k not in ("timings", "summary")}), file=sys.stderr)
    return row


def print_table(rows: list[dict[str, Any]]) -> None:
    header = ("corpus", "articles", "naive/s", "batch/s", "floor/s", "dedup candidates/s", "dedup end-to-end/s",
              "command/s", "library s", "command s", "peak RSS MB (library / command)", "candidates vs naive",
              "library vs naive", "command vs naive", "planted found", "aligned / reported pairs")  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for r in rows:
        s = r["summary"]
        cells = (r["corpus"], r["articles"], r["naive_per_s"], r["batch_per_s"], r["floor_per_s"],
                 r["dedup_candidate_stage_per_s"], r["dedup_per_s"], r["command_per_s"], r["dedup_seconds"],
                 r["command_seconds"], f"{r['dedup_peak_rss_mb']:.0f} / {r['command_peak_rss_mb']:.0f}",
                 f"{r['candidate_stage_vs_naive']}x", f"{r['end_to_end_vs_naive']}x", f"{r['command_vs_naive']}x",
                 r["planted_found"], f"{s['aligned_pairs']} / {s['pairs']}")  # fmt: skip
        print("| " + " | ".join(map(str, cells)) + " |")
    for r in rows:
        stages = ", ".join(f"{k} {v:.2f}s" for k, v in r["timings"].items() if not k.startswith("peak"))
        print(f"stages, {r['corpus']} {r['articles']}: {stages}")
    for base, r in pairwise(rows):  # a preset's row follows its corpus's defaults row
        if r.get("preset", "default") != "default" and base.get("preset") == "default":
            print(f"{r['corpus']}: library {r['dedup_seconds'] / base['dedup_seconds']:.1f}x, "
                  f"command {r['command_seconds'] / base['command_seconds']:.1f}x the defaults' seconds")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000], help="corpus sizes (default: 20000)")
    parser.add_argument("--corpora", nargs="+", choices=("news", "template", "real"), default=["news"],
                        help="news-like, template-heavy and/or the real news under --data (default: news)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="one corpus of 2,000 articles, small samples")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--presets",
        nargs="+",
        choices=sorted(PRESETS),
        default=["default"],
        help="dedup and the command with each preset, a row each (default: default)",
    )
    parser.add_argument("--planted", type=float, default=0.1, help="share of planted republications")
    parser.add_argument("--naive-sample", type=int, default=2000)
    parser.add_argument("--batch-sample", type=int, default=10000)
    parser.add_argument("--floor-sample", type=int, default=0, help="articles for the floor (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement under a minute (median)")
    parser.add_argument("--workers", type=int, default=0, help="dedup processes (default: all cores)")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("DEDUP_DATA", DEFAULT_DATA)))
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "dedup-speed")
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-path", help=argparse.SUPPRESS)
    parser.add_argument("--child-truth", help=argparse.SUPPRESS)
    parser.add_argument("--child-preset", default="default", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    if args.quick:
        args.sizes, args.naive_sample, args.batch_sample, args.repeat = [2000], 300, 1000, 1
    if not args.data.is_dir():
        print(
            f"note: {args.data} not found: corpora are built from a Zipf vocabulary, no real-news row",
            file=sys.stderr,
        )
    info = machine()
    print(f"machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}; dedup {info['newsdedup']}, "
          f"datasketch {info['datasketch']}, numpy {info['numpy']}, rapidfuzz {info['rapidfuzz']}")  # fmt: skip
    rows: list[dict[str, Any]] = []
    for kind in args.corpora:
        if kind == "real":
            if args.data.is_dir():
                rows += measure_rows("real news", real_corpus(args.data, args.cache), args)
        else:
            for size in args.sizes:
                path, _ = corpus(size, args.seed, args.planted, args.data, args.cache, kind)
                rows += measure_rows("news-like" if kind == "news" else "template-heavy", path, args)
        if args.json:  # after every corpus: a long run that fails later keeps what it measured
            args.json.write_text(
                json.dumps({"machine": info, "rows": rows}, indent=2) + "\n", encoding="utf-8"
            )
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Speed of the semantic check (``--semantic``) against the same run without it, on real news.

    python benchmarks/semantic.py --articles 1000      # BBC News articles from the shared data
    python benchmarks/semantic.py --quick              # 60 articles (a test runs this)

Prints articles/s and sentences/s of ``find_duplicates`` with ``DedupConfig.reuse()`` and with
``DedupConfig.reuse(semantic=True)`` in the same process, the stage times, and the embedding rate
alone (distinct sentences per second through the model).
"""

from __future__ import annotations

import argparse
import glob
import sys
import time
from pathlib import Path

from dedup import DedupConfig, find_duplicates
from dedup.semantic import embed_articles, load_model, sentence_spans

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"


def bbc(data: Path, count: int) -> dict[str, str]:
    paths = sorted(glob.glob(str(data / "bbc_news" / "*" / "*.txt")))[::3][:count]
    return {Path(p).relative_to(data / "bbc_news").as_posix(): Path(p).read_bytes().decode("utf-8", "replace")
            for p in paths}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if not (args.data / "bbc_news").is_dir():
        print(f"error: {args.data / 'bbc_news'} not found: this benchmark reads BBC News", file=sys.stderr)
        return 2
    docs = bbc(args.data, 60 if args.quick else args.articles)
    sentences = sum(len(sentence_spans(t)) for t in docs.values())
    rows = []
    for name, config in (("--preset reuse", DedupConfig.reuse()),
                         ("--preset reuse --semantic", DedupConfig.reuse(semantic=True))):  # fmt: skip
        timings: dict[str, float] = {}
        start = time.perf_counter()
        result = find_duplicates(docs, config=config, timings=timings)
        seconds = time.perf_counter() - start
        rows.append((name, seconds, result.summary.pairs, result.summary.pairs_rewritten, timings))
    embed = load_model()
    sample = dict(list(docs.items())[: min(len(docs), 200)])
    start = time.perf_counter()
    embedded = embed_articles(dict(enumerate(sample.values())), embed)
    embed_seconds = time.perf_counter() - start
    distinct = len({t[s:e] for t in sample.values() for s, e in sentence_spans(t)})
    print(f"{len(docs)} BBC News articles, {sentences} sentences")
    print("| run | seconds | articles/s | sentences/s | pairs | rewritten | vs without |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, seconds, pairs, rewritten, _ in rows:
        print(f"| {name} | {seconds:.1f} | {len(docs) / seconds:.1f} | {sentences / seconds:.1f} | {pairs} | "
              f"{rewritten} | {seconds / rows[0][1]:.1f}x |")  # fmt: skip
    stages = ", ".join(f"{k} {v:.2f}s" for k, v in rows[1][4].items() if not k.startswith("peak_rss"))
    print(f"stages with --semantic: {stages}")
    print(f"embedding alone: {distinct} distinct sentences of {len(embedded)} articles in {embed_seconds:.1f} s "
          f"= {distinct / embed_seconds:.1f} sentences/s")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

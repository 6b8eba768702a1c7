"""The deduplicated corpus through the ``dedup`` command, on the real news under the shared data
folder (BBC News, the 2017 multi-outlet articles with their title, outlet, date and url, Reuters-21578
and 20 Newsgroups: about 43,900 articles), against the same command writing only its JSON report,
in the same run: seconds and peak memory of each, and how many records were kept and removed.

Each command runs in its own process (peak RSS of that process tree, from ``getrusage``). The rows:

- ``report``: ``dedup real.jsonl --format json -o report.json`` (the baseline);
- ``kept.jsonl`` / ``kept.parquet`` / ``dataset``: the same run writing the deduplicated corpus
  (``--keep-to``) and the removed records (``--removed-to removed.jsonl``);
- ``html``: ``-o report.html`` (its size, and the seconds headless Chromium takes to load it,
  when Chromium is installed).

    python benchmarks/corpus.py                  # reads ../shared/data
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speed  # the real-news reader is shared


def real_records(data: Path, out: Path) -> int:
    """The real news as JSON Lines, the 2017 articles with their metadata."""
    csv.field_size_limit(sys.maxsize)
    meta = {}
    with (data / "news_articles_dai2017" / "NewsArticles.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            link = row["article_source_link"]
            outlet = link.split("/")[2] if link.count("/") >= 2 else ""
            meta[f"dai/{row['article_id']}"] = {"title": row["title"], "outlet": outlet,
                                                "date": row["publish_date"], "url": link}  # fmt: skip
    count = 0
    with out.open("w", encoding="utf-8") as stream:
        for article_id, text in speed.real_news(data):
            stream.write(json.dumps({"id": article_id, "text": text, **meta.get(article_id, {})}) + "\n")
            count += 1
    return count


_WRAPPER = (
    "import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(done.returncode)"
)


def run(args: list[str]) -> dict[str, Any]:
    """One ``dedup`` command in a fresh process (its peak RSS, the largest of its process tree, read
    by a wrapper that runs only it): seconds, peak RSS, its stderr's last line."""
    command = [sys.executable, "-c", _WRAPPER, sys.executable, "-m", "dedup", *args]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    lines = done.stderr.strip().splitlines()
    if done.returncode != 0:
        raise SystemExit(f"corpus: dedup {' '.join(args)} failed: {' '.join(lines[:-1])}")
    return {
        "seconds": seconds,
        "peak_rss_mb": int(lines[-1]) // 1024,
        "said": lines[-2] if len(lines) > 1 else "",
    }


def browser_seconds(page: Path) -> float | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        return None
    start = time.perf_counter()
    subprocess.run([found, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", f"file://{page}"],
                   capture_output=True, check=False, timeout=600)  # fmt: skip
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=speed.DEFAULT_DATA)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        raise SystemExit(f"corpus: {args.data} not found: this benchmark reads the real news there")
    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        source = work / "real.jsonl"
        articles = real_records(args.data, source)
        rows["report"] = run([str(source), "--format", "json", "-o", str(work / "report.json")])
        for name in ("kept.jsonl", "kept.parquet", "dataset"):
            rows[name] = run(
                [str(source), "--keep-to", str(work / name), "--removed-to", str(work / "removed.jsonl")]
            )
        kept = sum(1 for _ in (work / "kept.jsonl").open(encoding="utf-8"))
        removed = sum(1 for _ in (work / "removed.jsonl").open(encoding="utf-8"))
        rows["html"] = run([str(source), "-o", str(work / "report.html")])
        rows["html"]["bytes"] = (work / "report.html").stat().st_size
        rows["html"]["browser_seconds"] = browser_seconds(work / "report.html")
    out = {"machine": speed.machine(), "articles": articles, "kept": kept, "removed": removed, "rows": rows}
    base = rows["report"]
    print(f"{articles:,} real articles: {kept:,} kept, {removed:,} removed\n")
    print("| run | seconds | / report | peak RSS MB | / report |\n| --- | --- | --- | --- | --- |")
    for name, row in rows.items():
        ratio = row["seconds"] / base["seconds"]
        rss = row["peak_rss_mb"]
        print(f"| {name} | {row['seconds']:.1f} | {ratio:.2f}x | {rss} | {rss / base['peak_rss_mb']:.2f}x |")
    html_row = rows["html"]
    print(f"\nHTML report: {html_row['bytes'] / 1e6:.1f} MB; headless Chromium loads it in "
          f"{html_row['browser_seconds'] or float('nan'):.1f} s")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

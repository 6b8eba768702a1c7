"""The local engine against Spark ``local[2]`` on the same articles, in one run.

The corpus is ``speed.py``'s news-like one (cached JSON Lines). For each size: the local engine
(``find_duplicates`` on every core, streaming the file) and the Spark engine
(``dedup.spark.find_duplicates`` on the same file, a ``local[2]`` session started beforehand):
seconds, the ratio, the driver's peak memory (its Python process; in ``local[2]`` the JVM holds the executors
too), the split by stage (and the session's start-up, apart), whether
the two results are the same (pairs with their kinds, story groups), and how each engine's time
grows from the smallest size to the largest.

    python benchmarks/spark.py                     # 20,000 and 200,000 articles
    python benchmarks/spark.py --quick             # 2,000 (a test runs this)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speed  # the corpus builder is shared

DRIVER_MEMORY = "4g"
"""The JVM's heap. In ``local[2]`` the executors run inside the driver's JVM, so this is their
memory too (1 GB is too little for 200,000 articles' cached sketches there); the driver's own
share is what the driver's Python process peaks at, measured."""


def child(kind: str, path: str) -> None:
    """One measurement in this process (its peak memory is its own): prints JSON."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    if kind == "local":
        from dedup import find_duplicates

        result = find_duplicates(speed.read(Path(path)), timings=timings)
    else:
        from dedup import spark as engine

        session = engine.session(
            "local[2]", **{"spark.sql.shuffle.partitions": "8", "spark.driver.memory": DRIVER_MEMORY}
        )
        session.sparkContext.setLogLevel("ERROR")
        timings["session_start"] = time.perf_counter() - start
        start = time.perf_counter()  # the session's start-up is not the pipeline's
        result = engine.find_duplicates(path, spark=session, timings=timings)
    seconds = time.perf_counter() - start
    pairs = sorted([str(p.a), str(p.b), p.kind] for p in result.pairs)
    groups = sorted(sorted(str(m) for m in c.members) for c in result.clusters)
    print(json.dumps({"seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "stages": {k: v for k, v in timings.items() if "rss" not in k}, "pairs": pairs, "groups": groups}))  # fmt: skip


def measure(kind: str, path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"spark benchmark: the {kind} run failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data", type=Path, default=speed.DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "dedup-speed")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    sizes = [2000] if args.quick else args.sizes
    rows = []
    for size in sizes:
        path, _ = speed.corpus(size, 1, 0.1, args.data, args.cache)
        local, remote = measure("local", path), measure("spark", path)
        rows.append({"articles": size, "local": local, "spark": remote,
                     "same_pairs": local["pairs"] == remote["pairs"], "same_groups": local["groups"] == remote["groups"]})  # fmt: skip
    print(
        "| articles | local s | Spark local[2] s | Spark / local | driver peak RSS MB (local / Spark) | same pairs | same groups |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        local, remote = row["local"], row["spark"]
        print(f"| {row['articles']:,} | {local['seconds']:.1f} | {remote['seconds']:.1f} | {remote['seconds'] / local['seconds']:.1f}x | "
              f"{local['peak_rss_mb']:.0f} / {remote['peak_rss_mb']:.0f} | {row['same_pairs']} | {row['same_groups']} |")  # fmt: skip
    for row in rows:
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in row["spark"]["stages"].items())
        print(f"Spark stages at {row['articles']:,}: {stages}")
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        print(f"Scaling {first['articles']:,} -> {last['articles']:,} ({last['articles'] / first['articles']:.0f}x the articles): "
              f"local {last['local']['seconds'] / first['local']['seconds']:.1f}x the time, "
              f"Spark {last['spark']['seconds'] / first['spark']['seconds']:.1f}x")  # fmt: skip
    if args.json:
        for row in rows:
            for side in ("local", "spark"):
                row[side] = {k: v for k, v in row[side].items() if k not in ("pairs", "groups")} | {
                    "pairs": len(row[side]["pairs"])
                }
        args.json.write_text(json.dumps(rows, indent=2))
    return 0 if all(r["same_pairs"] and r["same_groups"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())

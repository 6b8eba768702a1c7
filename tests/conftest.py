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
    return subprocess.run(
        [sys.executable, "-m", "dedup", *args],
        input=stdin, capture_output=True, text=True, env=full_env, cwd=cwd, timeout=120, check=False,
    )  # fmt: skip

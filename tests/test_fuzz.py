"""A short profile of the fuzzing harness (``benchmarks/fuzz.py``): hostile texts and damaged
files, through the library and the command."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from fuzz import run_for

pytestmark = pytest.mark.slow  # a fuzzing round


def test_a_short_fuzzing_round_finds_nothing():
    tally = run_for(minutes=0, examples=40)
    assert tally["rounds"] == 1
    assert sum(v for k, v in tally.items() if k.startswith("library:")) == 40
    assert sum(v for k, v in tally.items() if k.startswith("command:")) == 40

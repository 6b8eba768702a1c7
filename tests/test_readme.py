"""The README's library example runs as pasted and prints what the README says."""

import contextlib
import io
import re
from pathlib import Path

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_the_library_example_runs_as_pasted():
    code = re.search(r"```python\n(from dedup import Article.*?)```", README, re.S).group(1)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {})
    said = re.search(r"It prints `([^`]+)`", README).group(1)
    assert printed.getvalue().splitlines()[0] == said


def test_the_readme_shows_the_report_the_first_command_prints():
    from conftest import FIXTURES, run_cli

    shown = README.split("The first command prints:\n\n```text\n", 1)[1].split("```", 1)[0]
    assert run_cli(str(FIXTURES)).stdout == shown

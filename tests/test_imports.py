"""The package's import graph: no cycles (a data model importing its presentation is one), and the
command's start-up loads neither the engines nor datasketch."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "dedup"


def import_graph() -> dict[str, set[str]]:
    """Module → the dedup modules it imports, lazy imports inside functions included."""
    modules = {}
    for path in ROOT.rglob("*.py"):
        parts = ("dedup", *path.relative_to(ROOT).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{base}.{node.module}" if node.module else base
                targets = [base, *(f"{base}.{a.name}" for a in node.names)]
                edges[module] |= {t for t in targets if t in modules and t != module}
            elif isinstance(node, ast.Import):
                edges[module] |= {a.name for a in node.names if a.name in modules}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return found


def test_the_package_has_no_import_cycle():
    edges = import_graph()
    edges["dedup"] = set()  # the façade loads its names lazily (PEP 562), from nowhere inside
    assert cycles(edges) == []


def test_the_cycle_finder_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_results_do_not_import_their_presentation():
    edges = import_graph()
    assert not edges["dedup.results"] & {"dedup.report", "dedup.html_report", "dedup.formats"}


def test_the_command_starts_without_loading_the_engines():
    code = "import sys; from dedup.cli import main; main(['--version']); print(sorted(m for m in sys.modules if m.startswith(('datasketch', 'scipy', 'rapidfuzz', 'dedup.pipeline', 'dedup.run'))))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"

"""Output formats: one registry that the command, the library and the Spark engine use.

Each :class:`Format` names its file suffixes and how a :class:`~dedup.results.DedupResult` becomes
output: a text renderer (text, JSON, JSON Lines, CSV, HTML; :mod:`dedup.report`,
:mod:`dedup.html_report`) or a directory writer (Parquet tables). Presentation depends on the
results, never the reverse: :mod:`dedup.results` imports nothing from here.

>>> from dedup import find_duplicates
>>> result = find_duplicates({"x": "one two three four five six", "y": "one two three four five six"})
>>> render(result, "csv").splitlines()[1].split(",")[:3]
['x', 'y', 'exact']
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from .errors import ConfigError, InputError

if TYPE_CHECKING:  # only the standard library at import: the command's --help reads FORMATS
    from .articles import ArticleId
    from .results import DedupResult, Pair

Texts = Optional[Mapping["ArticleId", str]]  # noqa: UP045 (evaluated at import, where ArticleId is a name)


@dataclass(frozen=True)
class Format:
    """One output format: its name, the suffixes that choose it, and how it is made."""

    name: str
    suffixes: tuple[str, ...]
    render: Callable[[DedupResult, Texts], str] | None
    """Text of the whole report (``texts``: the articles' texts, to show each pair's paragraphs)."""
    explains: bool = False
    """Shows each pair's paragraphs when given the texts."""
    always_explains: bool = False
    """Needs the texts whatever is asked (the HTML page draws every pair)."""
    directory: bool = False
    """Written as a directory of tables (:func:`write_tables`), not as text."""


def _text(result: DedupResult, texts: Texts) -> str:
    from .report import render_text

    return render_text(result, texts=texts)


def _json(result: DedupResult, texts: Texts) -> str:
    from .report import render_json

    return render_json(result, texts=texts)


def _jsonl(result: DedupResult, texts: Texts) -> str:
    from .report import render_jsonl

    return render_jsonl(result, texts=texts)


def _csv(result: DedupResult, texts: Texts) -> str:
    from .report import render_csv

    return render_csv(result)


def _html(result: DedupResult, texts: Texts) -> str:
    from .html_report import render_html

    return render_html(result, texts)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("text", (".txt",), _text, explains=True),
        Format("json", (".json",), _json, explains=True),
        Format("jsonl", (".jsonl", ".ndjson"), _jsonl, explains=True),
        Format("csv", (".csv",), _csv),
        Format("html", (".html", ".htm"), _html, explains=True, always_explains=True),
        Format("parquet", ("",), None, directory=True),
    )
}
"""Every output format, by name."""


def choose(name: str | None, output: str | None) -> Format:
    """The format asked for by ``name``, else the one ``output``'s suffix names (a path without a
    suffix: Parquet tables), else text."""
    if name is not None:
        if name not in FORMATS:
            raise ConfigError(f"unknown format {name!r}: choose one of {', '.join(FORMATS)}")
        return FORMATS[name]
    if output:
        suffix = Path(output).suffix.lower()
        for fmt in FORMATS.values():
            if suffix in fmt.suffixes and not (fmt.directory and Path(output).is_file()):
                return fmt
    return FORMATS["text"]


def render(result: DedupResult, fmt: str = "text", *, texts: Texts = None, explain: bool = False) -> str:
    """The result as text in ``fmt`` (``text``, ``json``, ``jsonl``, ``csv`` or ``html``); with
    ``texts`` (by id) and ``explain`` (always for ``html``) each pair's paragraphs are shown."""
    chosen = choose(fmt, None)
    if chosen.render is None:
        raise ConfigError(f"the {fmt} format is a directory of tables: use write_tables(result, directory)")
    shown = texts if (explain or chosen.always_explains) and chosen.explains else None
    return chosen.render(result, shown)


PAIR_COLUMNS = ("a", "b", "kind", "direction", "coverage_a_by_b", "coverage_b_by_a", "jaccard",
                "containment_a_in_b", "containment_b_in_a", "minhash_jaccard")  # fmt: skip


def pair_row(pair: Pair) -> tuple[Any, ...]:
    """One row of the ``pairs`` table: :data:`PAIR_COLUMNS` (ids as text), then the alignment as JSON."""
    values = [str(getattr(pair, c)) if c in ("a", "b") else getattr(pair, c) for c in PAIR_COLUMNS]
    return (*values, json.dumps(pair.to_dict()["alignment"]))


def check_tables_target(directory: str | Path) -> Path:
    """``directory`` as a place for :func:`write_tables`; :class:`InputError` if it holds tables."""
    target = Path(directory)
    if (target / "pairs").exists() or (target / "groups").exists():
        raise InputError(f"{target}: already holds pairs/ or groups/ tables; choose an empty directory")
    if target.exists() and not target.is_dir():
        raise InputError(
            f"{target}: not a directory (without a suffix, -o names the directory for the tables)"
        )
    if not target.parent.is_dir():
        raise InputError(f"{target}: cannot write the tables: no directory {str(target.parent)!r}")
    return target


def write_tables(result: DedupResult, directory: str | Path) -> None:
    """The result as Parquet tables under ``directory`` (needs ``pip install 'newsdedup[parquet]'``):
    ``pairs/`` (one row a pair, its alignment as JSON text), ``groups/`` (one row a member: group
    number, representative, member) and ``run.json`` (params and summary). Written to a temporary
    directory beside it and moved into place, so a run stopped part way leaves nothing behind;
    refuses a directory that already holds tables, and leaves a user's other files alone."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError("Parquet tables need pyarrow: pip install 'newsdedup[parquet]'") from None
    rows = [pair_row(p) for p in result.pairs]
    pairs = {c: [row[k] for row in rows] for k, c in enumerate((*PAIR_COLUMNS, "alignment"))}
    members = [
        (k, str(c.representative), str(m)) for k, c in enumerate(result.clusters, 1) for m in c.members
    ]
    groups = {
        name: [row[k] for row in members] for k, name in enumerate(("group", "representative", "member"))
    }

    def write(scratch: Path) -> DedupResult:
        for name, columns in (("pairs", pairs), ("groups", groups)):
            (scratch / name).mkdir()
            table = pa.table(columns, schema=_schema(name, pa))
            pq.write_table(table, scratch / name / "part-00000.parquet")
        return result

    place_tables(directory, write)


def place_tables(directory: str | Path, write: Callable[[Path], DedupResult]) -> DedupResult:
    """The tables ``write`` makes in a scratch directory (``pairs/``, ``groups/``; it returns the
    run's result), with ``run.json``, moved into ``directory`` once all are written."""
    target = check_tables_target(directory)
    if (target / "run.json").exists():
        raise InputError(f"{target}: already holds a run.json; choose an empty directory")
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        result = write(scratch)
        run = {
            "schema": result.to_dict()["schema"],
            "params": result.params,
            "summary": result.summary.to_dict(),
        }
        (scratch / "run.json").write_text(json.dumps(run, indent=2, ensure_ascii=False), encoding="utf-8")
        target.mkdir(exist_ok=True)
        for name in ("pairs", "groups", "run.json"):
            os.replace(scratch / name, target / name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return result


def _schema(name: str, pa: Any) -> Any:
    if name == "groups":
        return pa.schema([("group", pa.int64()), ("representative", pa.string()), ("member", pa.string())])
    numbers = [(c, pa.float64()) for c in PAIR_COLUMNS[4:]]
    return pa.schema([("a", pa.string()), ("b", pa.string()), ("kind", pa.string()), ("direction", pa.string()),
                      *numbers, ("alignment", pa.string())])  # fmt: skip


def check_output(path: Path, inputs: list[str]) -> None:
    """Refuse, before a run, a report file that cannot be written or is one of the ``inputs``."""
    if path.is_dir():
        raise InputError(f"{path}: cannot write the report: it is a directory")
    if not path.parent.is_dir():
        raise InputError(f"{path}: cannot write the report: no directory {str(path.parent)!r}")
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError(f"{path}: cannot write the report: permission denied")
    for name in inputs:
        if name == "-" or not Path(name).exists():
            continue
        source = Path(name).resolve()
        target = path.resolve()
        if target == source or (
            source.is_dir() and target.suffix.lower() == ".txt" and source in target.parents
        ):
            raise InputError(f"{path}: the report would overwrite or join the input {name}")


def write_report(report: str, output: str) -> None:
    """``report`` to the file ``output``, written whole to a temporary name beside it and renamed
    into place: a run stopped part way never leaves a partial report."""
    target = Path(output)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(report)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as a plain open() would have made it
        os.replace(temporary, target)
    except OSError as error:
        raise InputError(f"{output}: cannot write: {error.strerror or error}") from None
    finally:
        Path(temporary).unlink(missing_ok=True)

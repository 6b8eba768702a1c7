"""Reading articles from files: a directory of ``.txt`` files, JSONL, CSV, or JSONL on stdin.

Every problem is an :class:`InputError` whose message starts with the file (and line) it is
about. Files that are deliberately passed over (not ``.txt`` inside a directory) are returned as
:class:`Skipped` entries, never dropped silently. Each article's ``meta["source"]`` records where
it came from (``path`` or ``path:line``).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .articles import Article
from .errors import InputError
from .results import Skipped

JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})


@dataclass
class Collection:
    """Articles read from one or more inputs, plus what was passed over.

    Duplicate ids are caught by :func:`dedup.find_duplicates`, which names both locations from
    ``meta["source"]``.
    """

    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def add(self, article: Article) -> None:
        self.articles.append(article)


def read_inputs(
    paths: list[str], *, id_field: str = "id", text_field: str = "text", stdin: BinaryIO | None = None
) -> Collection:
    """Read every input in ``paths`` (``-`` is JSONL on stdin) into one collection."""
    collection = Collection()
    for name in paths:
        if name == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            for article in read_jsonl_stream(stream, "<stdin>", id_field, text_field):
                collection.add(article)
            continue
        path = Path(name)
        if not path.exists():
            raise InputError(f"{name}: no such file or directory")
        if path.is_dir():
            _read_directory(path, collection)
        elif path.suffix.lower() in JSONL_SUFFIXES:
            with _open_binary(path) as stream:
                for article in read_jsonl_stream(stream, name, id_field, text_field):
                    collection.add(article)
        elif path.suffix.lower() == ".csv":
            for article in read_csv(path, id_field, text_field):
                collection.add(article)
        elif path.suffix.lower() == ".txt":
            collection.add(Article(path.name, _read_text(path), {"source": name}))
        else:
            raise InputError(
                f"{name}: unsupported input (expected a directory, .txt, .jsonl, .ndjson, .csv or -)"
            )
    return collection


def _open_binary(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror or error}") from None


def _read_directory(root: Path, collection: Collection) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_dir():
            continue
        relative = path.relative_to(root).as_posix()
        if path.suffix.lower() != ".txt":
            collection.skipped.append(Skipped(str(root / relative), "not a .txt file"))
            continue
        collection.add(Article(relative, _read_text(path), {"source": str(path)}))


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror or error}") from None
    return _decode(data, str(path))


def _decode(data: bytes, where: str) -> str:
    if b"\x00" in data:
        raise InputError(f"{where}: binary file (contains NUL bytes), expected UTF-8 text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{where}: invalid UTF-8 at byte {error.start}") from None
    return text.removeprefix("\ufeff")


def read_jsonl_stream(stream: BinaryIO, name: str, id_field: str, text_field: str) -> Iterator[Article]:
    """Articles from JSON Lines: one object per line with an id and a text field."""
    for number, raw in enumerate(stream, start=1):
        where = f"{name}:{number}"
        line = _decode(raw, where).strip()
        if not line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{where}: not valid JSON ({error.msg} at column {error.colno})") from None
        if not isinstance(record, dict):
            raise InputError(f"{where}: expected a JSON object, got {type(record).__name__}")
        yield _record_article(record, where, id_field, text_field)


def read_csv(path: Path, id_field: str, text_field: str) -> Iterator[Article]:
    """Articles from a CSV file with a header row naming the id and text columns."""
    with _open_binary(path) as raw:
        text = _decode(raw.read(), str(path))
    csv.field_size_limit(sys.maxsize)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    for column in (id_field, text_field):
        if column not in header:
            raise InputError(f"{path}:1: no column {column!r} in the header (columns: {', '.join(header)})")
    try:
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if None in row:
                raise InputError(f"{where}: more fields than the header has columns")
            yield _record_article(row, where, id_field, text_field)
    except csv.Error as error:
        raise InputError(f"{path}:{reader.line_num}: malformed CSV ({error})") from None


def _record_article(record: dict[str, object], where: str, id_field: str, text_field: str) -> Article:
    if id_field not in record or record[id_field] in (None, ""):
        raise InputError(f"{where}: missing id field {id_field!r}")
    if text_field not in record:
        raise InputError(f"{where}: missing text field {text_field!r}")
    article_id = record[id_field]
    if isinstance(article_id, bool) or not isinstance(article_id, str | int):
        raise InputError(
            f"{where}: field {id_field!r} must be a string or an integer, got {_json_type(article_id)}"
        )
    text = record[text_field]
    if not isinstance(text, str):
        raise InputError(f"{where}: field {text_field!r} must be a string, got {_json_type(text)}")
    meta = {k: v for k, v in record.items() if k not in (id_field, text_field)}
    meta["source"] = where
    return Article(article_id, text, meta)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )

"""Reading articles from files: a directory of ``.txt`` files, JSONL, a JSON array, CSV (each
optionally gzip-compressed, ``.gz``), or JSONL on stdin.

Every problem is an :class:`InputError` whose message starts with the file (and line) it is
about. Files that are deliberately passed over — not ``.txt`` inside a directory, FIFOs, devices
and sockets (never opened), a folder reached again through a symbolic link — are returned as
:class:`Skipped` entries, never dropped silently. Symbolic links to folders are followed. Each
article's ``meta["source"]`` records where it came from (``path`` or ``path:line``; ``path:N``
is the N-th element of a JSON array). Texts must be valid Unicode text: UTF-8 without NUL
characters or lone surrogates (JSON's ``"\\ud800"`` escapes).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import stat
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .articles import LONE_SURROGATE, Article
from .errors import InputError
from .results import Skipped

JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
SUFFIXES = "a directory, .txt, .jsonl, .ndjson, .json, .csv (each also .gz) or -"


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
        else:
            for article in read_file(path, name, id_field, text_field):
                collection.add(article)
    return collection


def read_file(path: Path, name: str, id_field: str = "id", text_field: str = "text") -> Iterator[Article]:
    """The articles of one file, by its suffix (``.gz`` is decompressed first)."""
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    compressed = suffixes[-1:] == [".gz"]
    kind = suffixes[-2] if compressed and len(suffixes) == 2 else suffixes[-1] if suffixes else ""
    if kind == ".txt":
        return iter([Article(path.name.removesuffix(".gz") if compressed else path.name,
                             _decode(_read_bytes(path, compressed), name), {"source": name})])  # fmt: skip
    if kind in JSONL_SUFFIXES:
        return _read_jsonl_file(path, name, compressed, id_field, text_field)
    if kind == ".json":
        return read_json_array(_read_bytes(path, compressed), name, id_field, text_field)
    if kind == ".csv":
        return read_csv_text(_decode(_read_bytes(path, compressed), name), name, id_field, text_field)
    raise InputError(f"{name}: unsupported input (expected {SUFFIXES})")


def _read_jsonl_file(
    path: Path, name: str, compressed: bool, id_field: str, text_field: str
) -> Iterator[Article]:
    """JSON Lines streamed from a file (decompressed on the fly)."""
    _check_regular(path)
    try:
        with gzip.open(path, "rb") if compressed else path.open("rb") as stream:
            yield from read_jsonl_stream(stream, name, id_field, text_field)  # type: ignore[arg-type]
    except OSError as error:  # gzip.BadGzipFile is an OSError too
        raise InputError(f"{name}: cannot read: {error.strerror or error}") from None
    except (EOFError, zlib.error) as error:
        raise InputError(f"{name}: damaged gzip data ({error or 'the stream ends early'})") from None


def _read_bytes(path: Path, compressed: bool) -> bytes:
    _check_regular(path)
    try:
        data = path.read_bytes()
        return gzip.decompress(data) if compressed else data
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror or error}") from None
    except (EOFError, zlib.error) as error:
        raise InputError(f"{path}: damaged gzip data ({error or 'the stream ends early'})") from None


def _check_regular(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror or error}") from None
    if not stat.S_ISREG(mode):
        raise InputError(f"{path}: not a regular file ({_file_kind(mode)})")


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):  # fmt: skip
        if test(mode):
            return kind
    return "not a regular file"


def _read_directory(root: Path, collection: Collection) -> None:
    """Every ``.txt`` below ``root``, links to folders followed, each folder read once."""
    seen: set[tuple[int, int]] = set()
    for folder, subfolders, files in os.walk(root, followlinks=True):
        info = os.stat(folder)
        if (info.st_dev, info.st_ino) in seen:
            collection.skipped.append(
                Skipped(folder, "folder already read (a symbolic link loops back to it)")
            )
            subfolders.clear()
            continue
        seen.add((info.st_dev, info.st_ino))
        subfolders.sort()
        for name in sorted(files):
            _read_directory_file(root, Path(folder) / name, collection)


def _read_directory_file(root: Path, path: Path, collection: Collection) -> None:
    relative = path.relative_to(root).as_posix()
    if path.suffix.lower() != ".txt":
        collection.skipped.append(Skipped(str(path), "not a .txt file"))
        return
    try:
        mode = path.stat().st_mode
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror or error}") from None
    if not stat.S_ISREG(mode):
        collection.skipped.append(Skipped(str(path), f"not a regular file ({_file_kind(mode)})"))
        return
    collection.add(Article(relative, _decode(_read_bytes(path, False), str(path)), {"source": str(path)}))


def _decode(data: bytes, where: str) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(data) >= 4 and data[1:4:2] == b"\x00\x00"):
        raise InputError(f"{where}: looks like UTF-16 text; dedup reads UTF-8 (convert it, e.g. with iconv)")
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
            raise InputError(f"{where}: not valid JSON ({_json_problem(error)})") from None
        if not isinstance(record, dict):
            raise InputError(f"{where}: expected a JSON object, got {_json_type(record)}")
        yield _record_article(record, where, id_field, text_field)


def _json_problem(error: json.JSONDecodeError) -> str:
    message = error.msg.removesuffix(" at")  # "Unterminated string starting at" + our position
    return (
        f"{message} at line {error.lineno} column {error.colno}"
        if error.lineno > 1
        else f"{message} at column {error.colno}"
    )


def read_json_array(data: bytes, name: str, id_field: str, text_field: str) -> Iterator[Article]:
    """Articles from a JSON file holding one array of objects."""
    try:
        records = json.loads(_decode(data, name))
    except json.JSONDecodeError as error:
        raise InputError(f"{name}: not valid JSON ({_json_problem(error)})") from None
    if not isinstance(records, list):
        raise InputError(f"{name}: expected a JSON array of objects, got {_json_type(records)}")
    for number, record in enumerate(records, start=1):
        where = f"{name}:{number}"
        if not isinstance(record, dict):
            raise InputError(f"{where}: element {number} is not a JSON object, got {_json_type(record)}")
        yield _record_article(record, where, id_field, text_field)


def read_csv_text(text: str, name: str, id_field: str, text_field: str) -> Iterator[Article]:
    """Articles from CSV text with a header row naming the id and text columns."""
    path = name
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
    for field_name, value in ((id_field, article_id), (text_field, text)):
        if isinstance(value, str):
            _check_text(value, f"{where}: field {field_name!r}")
    meta = {k: v for k, v in record.items() if k not in (id_field, text_field)}
    meta["source"] = where
    return Article(article_id, text, meta)


def _check_text(text: str, where: str) -> None:
    """Refuse what no UTF-8 output can carry (lone surrogates) and NUL characters."""
    bad = LONE_SURROGATE.search(text)
    if bad:
        raise InputError(
            f"{where} has a lone surrogate (\\u{ord(bad.group()):04x}) at character {bad.start()}"
        )
    if "\x00" in text:
        raise InputError(f"{where} has a NUL character at character {text.index(chr(0))}")


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )

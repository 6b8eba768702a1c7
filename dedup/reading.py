"""Reading articles from files: a directory of ``.txt`` files, JSONL, a JSON array, CSV (each
optionally gzip-compressed, ``.gz``), or JSONL on stdin.

Every problem is an :class:`InputError` whose message starts with the file (and line) it is
about. Files that are deliberately passed over — not ``.txt`` inside a directory, FIFOs, devices
and sockets (never opened), a folder reached again through a symbolic link — are returned as
:class:`Skipped` entries, never dropped silently. Symbolic links to folders are followed. Each
article's ``meta[WHERE]`` (:data:`dedup.articles.WHERE`) records where it came from (``path`` or ``path:line``; ``path:N``
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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .articles import LONE_SURROGATE, WHERE, Article
from .errors import InputError
from .results import Skipped

JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
SUFFIXES = "a directory, .txt, .jsonl, .ndjson, .json, .csv (each also .gz), .parquet or -"


@dataclass
class Collection:
    """Articles read from one or more inputs, plus what was passed over.

    Duplicate ids are caught by :func:`dedup.find_duplicates`, which names both locations from
    ``meta[WHERE]``.
    """

    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def add(self, article: Article) -> None:
        self.articles.append(article)


class Inputs:
    """The articles of every input in ``paths`` (``-`` is JSONL on stdin), read as they are
    iterated — one article at a time for JSONL, CSV, Parquet and directories, so memory does not
    grow with the input. ``skipped`` fills up with what was passed over on the way. A path that
    does not exist is an :class:`InputError` at once, before anything is read."""

    def __init__(
        self,
        paths: list[str],
        *,
        id_field: str = "id",
        text_field: str = "text",
        stdin: BinaryIO | None = None,
    ) -> None:
        for name in paths:
            if name != "-" and not Path(name).exists():
                raise InputError(f"{name}: no such file or directory")
        self.paths, self.id_field, self.text_field, self.stdin = paths, id_field, text_field, stdin
        self.skipped: list[Skipped] = []

    def __iter__(self) -> Iterator[Article]:
        for name in self.paths:
            if name == "-":
                stream = self.stdin if self.stdin is not None else sys.stdin.buffer
                yield from read_jsonl_stream(stream, "<stdin>", self.id_field, self.text_field)
            elif Path(name).is_dir():
                yield from _read_directory(Path(name), self.skipped)
            else:
                yield from read_file(Path(name), name, self.id_field, self.text_field)


def read_inputs(
    paths: list[str], *, id_field: str = "id", text_field: str = "text", stdin: BinaryIO | None = None
) -> Collection:
    """Read every input in ``paths`` (``-`` is JSONL on stdin) into one collection in memory."""
    inputs = Inputs(paths, id_field=id_field, text_field=text_field, stdin=stdin)
    articles = list(inputs)
    return Collection(articles, inputs.skipped)


def read_file(path: Path, name: str, id_field: str = "id", text_field: str = "text") -> Iterator[Article]:
    """The articles of one file, by its suffix (``.gz`` is decompressed first)."""
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    compressed = suffixes[-1:] == [".gz"]
    kind = suffixes[-2] if compressed and len(suffixes) == 2 else suffixes[-1] if suffixes else ""
    if kind == ".txt":
        return iter([Article(path.name.removesuffix(".gz") if compressed else path.name,
                             _decode(_read_bytes(path, compressed), name), {WHERE: name})])  # fmt: skip
    if kind in JSONL_SUFFIXES:
        return _read_jsonl_file(path, name, compressed, id_field, text_field)
    if kind == ".json":
        return read_json_array(_read_bytes(path, compressed), name, id_field, text_field)
    if kind == ".csv":
        return _read_csv_file(path, name, compressed, id_field, text_field)
    if kind == ".parquet":
        return read_parquet(path, name, id_field, text_field)
    raise InputError(f"{name}: unsupported input (expected {SUFFIXES})")


def _read_jsonl_file(
    path: Path, name: str, compressed: bool, id_field: str, text_field: str
) -> Iterator[Article]:
    """JSON Lines streamed from a file (decompressed on the fly)."""
    return _streamed(path, name, compressed, lambda raw: read_jsonl_stream(raw, name, id_field, text_field))


def _streamed(
    path: Path, name: str, compressed: bool, read: Callable[[BinaryIO], Iterator[Article]]
) -> Iterator[Article]:
    """``read`` over the bytes of a file, decompressed on the fly; read errors named by file."""
    _check_regular(path)
    try:
        with gzip.open(path, "rb") if compressed else path.open("rb") as raw:
            yield from read(raw)  # type: ignore[arg-type]
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


def _read_directory(root: Path, skipped: list[Skipped]) -> Iterator[Article]:
    """Every ``.txt`` below ``root``, links to folders followed, each folder read once."""
    seen: set[tuple[int, int]] = set()
    for folder, subfolders, files in os.walk(root, followlinks=True):
        info = os.stat(folder)
        if (info.st_dev, info.st_ino) in seen:
            skipped.append(Skipped(folder, "folder already read (a symbolic link loops back to it)"))
            subfolders.clear()
            continue
        seen.add((info.st_dev, info.st_ino))
        subfolders.sort()
        for name in sorted(files):
            article = _read_directory_file(root, Path(folder) / name, skipped)
            if article is not None:
                yield article


def _read_directory_file(root: Path, path: Path, skipped: list[Skipped]) -> Article | None:
    relative = path.relative_to(root).as_posix()
    if path.suffix.lower() != ".txt":
        skipped.append(Skipped(str(path), "not a .txt file"))
        return None
    try:
        mode = path.stat().st_mode
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror or error}") from None
    if not stat.S_ISREG(mode):
        skipped.append(Skipped(str(path), f"not a regular file ({_file_kind(mode)})"))
        return None
    return Article(relative, _decode(_read_bytes(path, False), str(path)), {WHERE: str(path)})


def _looks_utf16(head: bytes) -> bool:
    return head[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(head) >= 4 and head[1:4:2] == b"\x00\x00")


def _decode(data: bytes, where: str) -> str:
    if _looks_utf16(data[:4]):
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
    return read_csv_stream(io.StringIO(text, newline=""), name, id_field, text_field)


def _read_csv_file(
    path: Path, name: str, compressed: bool, id_field: str, text_field: str
) -> Iterator[Article]:
    """CSV streamed from a file (decompressed and decoded on the fly)."""

    def read(raw: BinaryIO) -> Iterator[Article]:
        if _looks_utf16(raw.peek(4)[:4]):  # type: ignore[attr-defined]
            raise InputError(
                f"{name}: looks like UTF-16 text; dedup reads UTF-8 (convert it, e.g. with iconv)"
            )
        return read_csv_stream(_decoded_lines(raw, name), name, id_field, text_field)

    return _streamed(path, name, compressed, read)


def _decoded_lines(raw: Iterable[bytes], name: str) -> Iterator[str]:
    """The lines of a UTF-8 stream, each decoded on its own (an error names its line)."""
    for number, line in enumerate(raw, start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InputError(f"{name}:{number}: invalid UTF-8 at byte {error.start} of the line") from None
        yield text.removeprefix("\ufeff") if number == 1 else text


def read_csv_stream(stream: Iterable[str], name: str, id_field: str, text_field: str) -> Iterator[Article]:
    """Articles from a CSV text stream with a header row naming the id and text columns."""
    csv.field_size_limit(sys.maxsize)
    reader = csv.DictReader(stream, strict=True)  # a runaway quote is an error, not one huge field
    done = 1  # lines read up to the end of the last whole record
    try:
        header = reader.fieldnames or []
        for column in (id_field, text_field):
            if column not in header:
                raise InputError(
                    f"{name}:1: no column {column!r} in the header (columns: {', '.join(header)})"
                )
        for row in reader:
            where = f"{name}:{done + 1}"
            done = reader.line_num
            if None in row:
                raise InputError(f"{where}: more fields than the header has columns")
            yield _record_article(row, where, id_field, text_field)
    except csv.Error as error:
        raise InputError(f"{name}:{done + 1}: malformed CSV ({error})") from None


def read_parquet(path: Path, name: str, id_field: str, text_field: str) -> Iterator[Article]:
    """Articles from a Parquet file (needs ``pyarrow``), read a row group batch at a time."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(f"{name}: reading Parquet needs pyarrow: pip install 'newsdedup[parquet]'") from None
    _check_regular(path)
    try:
        parquet = pq.ParquetFile(path)
        header = parquet.schema_arrow.names
        for column in (id_field, text_field):
            if column not in header:
                raise InputError(f"{name}: no column {column!r} (columns: {', '.join(header)})")
        number = 0
        for batch in parquet.iter_batches(batch_size=1024):
            for record in batch.to_pylist():
                number += 1
                yield _record_article(record, f"{name}:{number}", id_field, text_field)
    except InputError:
        raise
    except (OSError, ValueError) as error:  # pyarrow's ArrowException derives from these
        raise InputError(f"{name}: not a readable Parquet file ({error})") from None


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
    meta[WHERE] = where
    return Article(article_id, text, meta)


def _check_text(text: str, where: str) -> None:
    """Refuse what no UTF-8 output can carry (lone surrogates) and NUL characters."""
    bad = None if text.isascii() else LONE_SURROGATE.search(text)
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

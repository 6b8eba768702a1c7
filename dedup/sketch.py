"""Sketching: everything the later stages need from an article, computed in one pass over it.

The text is split into the units alignment compares (:func:`dedup.paragraphs.compared_units`),
its sentence ends marked by the same rule alignment uses (:func:`dedup.paragraphs.mark_sentences`)
and its lines normalized in one pass (:func:`dedup.normalize.normalize_lines`). One scan
(:func:`dedup.tokens.scan`) then yields the words together with sentence and line ends, every word
is hashed once, and from those hashes, with numpy:

- a 128-bit digest of the words' hashes: articles with equal digests are exact copies;
- the MinHash signature of the word shingles (:mod:`dedup.signatures`) and the shingle count;
- anchors: hashes of the sentences of 8+ words, and passages: hashes of two consecutive such
  sentences, for the anchor candidates of :mod:`dedup.candidates`;
- the distinct lines, as hashes of their words with their lengths in characters and words, for
  :mod:`dedup.boilerplate` and the pre-check of :mod:`dedup.verification`.

A sketch is a few hundred bytes whatever the article's length, so a million of them fit in memory
when the texts do not. A :class:`SketchTable` holds many, column by column, and serializes with a
header naming the hash scheme and the settings, so that a stored table is never read by code or
settings that would misread it.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from .articles import ArticleId
from .config import DedupConfig
from .errors import ConfigError, InputError
from .normalize import normalize_lines
from .paragraphs import compared_units, mark_sentences
from .scans import scanned_rows
from .shingles import (
    ANCHOR_MIN_WORDS,
    LINE_END,
    MAX_RUN_BLOCK,
    SENTENCE_END,
    character_shingles,
    code_points,
    hash_array,
    is_member,
    is_number,
    masked_segment_hashes,
    number_word_hashes,
    passage_hashes,
    run_hashes,
    segment_hashes,
    sequence_hashes,
    shingle_hashes,
    shingles_per_row,
    token_hashes,
)
from .signatures import SCHEME as MINHASH_SCHEME
from .signatures import signature, signature_rows
from .store import Shingles
from .tokens import SENTENCE_MARK, digit_table, plain, scan, tokenize, word_table

SKETCH_SCHEME = "dedup-sketch/7"
"""Version of everything that defines a sketch's hashes (tokens, normalization, shingle and line
hashes). Version 2: words from Unicode tables (any script; bigrams where words are not spaced),
invisible format characters removed, sentence ends shared with alignment. Version 3: a word's hash
is a polynomial hash of its code points (computed with numpy over many articles at once) instead
of BLAKE2b. Version 4: words hyphenated at line ends rejoined. Version 5: a scanned article's
second sketch from 8-character shingles (was 3-word shingles). Version 6: each line's form (its
words with numbers masked, :func:`~dedup.shingles.form_hashes`) in the table. Version 7: a run of
numbers ("12.5": two words) masked as one number in a form."""
TABLE_FORMAT = "dedup.sketches/1"
_MAGIC = b"DEDUPSK\x00"


@dataclass(frozen=True, slots=True)
class SketchSettings:
    """The settings a sketch depends on; sketches are comparable only when these are equal."""

    shingle_size: int
    num_perm: int
    seed: int
    set_in_columns: bool = False
    """Texts with no blank line are prose set in columns (``ocr_tolerant``; see
    :func:`dedup.paragraphs.split_paragraphs`)."""

    @classmethod
    def of(cls, config: DedupConfig) -> SketchSettings:
        return cls(config.shingle_size, config.num_perm, config.seed, config.ocr_tolerant)

    def header(self) -> dict[str, Any]:
        return {
            "sketch_scheme": SKETCH_SCHEME,
            "minhash_scheme": MINHASH_SCHEME,
            "shingle_size": self.shingle_size,
            "num_perm": self.num_perm,
            "seed": self.seed,
            "set_in_columns": self.set_in_columns,
        }


@dataclass(frozen=True, slots=True)
class Sketch:
    """What the pipeline keeps of one article (its text is not kept)."""

    words: int
    digest: bytes
    signature: np.ndarray
    shingles: int
    anchors: np.ndarray
    passages: np.ndarray
    line_hashes: np.ndarray
    line_chars: np.ndarray
    line_words: np.ndarray


def _runs(segment_of_word: np.ndarray, min_words: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of equal (non-decreasing) segment ids with at least ``min_words`` words: their ids,
    first word and end."""
    if segment_of_word.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    starts = np.flatnonzero(np.diff(segment_of_word, prepend=-1))
    ends = np.append(starts[1:], segment_of_word.size)
    keep = ends - starts >= min_words
    return segment_of_word[starts[keep]], starts[keep], ends[keep]


def sketch(text: str, *, shingle_size: int, num_perm: int, seed: int) -> Sketch:
    """The :class:`Sketch` of one raw text (a one-row :meth:`SketchTable.build`)."""
    table = SketchTable.build([text], SketchSettings(shingle_size, num_perm, seed))
    return Sketch(
        words=int(table.words[0]),
        digest=bytes(table.digests[0]),
        signature=table.signatures[0],
        shingles=int(table.shingles[0]),
        anchors=table.anchors,
        passages=table.passages,
        line_hashes=table.line_hashes,
        line_chars=table.line_chars,
        line_words=table.line_words,
    )


def prepare(text: str, columns: bool = False) -> str:
    """The text a sketch is made of: units one per line, sentence ends marked, lines normalized."""
    if SENTENCE_MARK in text:
        text = text.replace(SENTENCE_MARK, "")
    return "\n".join(normalize_lines(mark_sentences("\n".join(compared_units(text, columns=columns)))))


class _Items:
    """The scan of prepared texts, each followed by a line end: one hash per item (word, sentence
    mark, line end), the row of each item, whether it is a number
    (:func:`~dedup.shingles.is_number`), and the length of every line in characters."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add_plain(self, texts: list[str], first_row: int) -> None:
        """Texts of :func:`~dedup.tokens.plain` characters, scanned together with numpy."""
        joined = "\n".join(texts) + "\n"
        points = code_points(joined)
        is_word = word_table()[points]
        edge = np.diff(is_word.view(np.int8), prepend=np.int8(0), append=np.int8(0))
        starts = np.flatnonzero((edge[:-1] == 1) | (points == _NEWLINE) | (points == _MARK))
        ends = starts + 1
        ends[is_word[starts]] = np.flatnonzero(edge == -1)
        hashes = run_hashes(points, starts, ends)
        hashes[points[starts] == _NEWLINE] = LINE_END
        hashes[points[starts] == _MARK] = SENTENCE_END
        numeric = (digit_table()[points[starts]] & is_word[starts]) | is_member(hashes, number_word_hashes())
        newlines = np.flatnonzero(points == _NEWLINE)
        marks = np.concatenate(([0], np.cumsum(points == _MARK)))
        line_starts = np.concatenate(([0], newlines[:-1] + 1))
        chars = newlines - line_starts - (marks[newlines] - marks[line_starts])
        ends_of_texts = np.cumsum([len(t) + 1 for t in texts]) - 1
        rows = first_row + np.searchsorted(ends_of_texts, starts).astype(np.int32)
        self.parts.append((hashes, rows, numeric, chars))

    def add_scanned(self, text: str, row: int) -> None:
        """Any text, scanned word by word (:func:`~dedup.tokens.scan`)."""
        tokens = scan(text + "\n")
        hashes = token_hashes(tokens)
        numeric = np.fromiter(map(is_number, tokens), dtype=bool, count=len(tokens))
        chars = [len(line) - line.count(SENTENCE_MARK) for line in text.split("\n")]
        self.parts.append((hashes, np.full(hashes.size, row, np.int32), numeric, np.array(chars, np.int64)))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if not self.parts:
            return np.empty(0, np.uint64), np.empty(0, np.int32), np.empty(0, bool), np.empty(0, np.int64)
        return tuple(np.concatenate(column) for column in zip(*self.parts, strict=True))  # type: ignore[return-value]


_NEWLINE, _MARK = ord("\n"), ord(SENTENCE_MARK)


def _scan_texts(texts: list[str]) -> _Items:
    """Scan prepared texts: runs of plain texts together (at most :data:`MAX_RUN_BLOCK`
    characters at once), any other text on its own."""
    items, run, size = _Items(), list[str](), 0
    for row, text in enumerate(texts):
        fits = plain(text) and len(text) < MAX_RUN_BLOCK
        if run and (not fits or size + len(text) >= MAX_RUN_BLOCK):
            items.add_plain(run, row - len(run))
            run, size = [], 0
        if fits:
            run.append(text)
            size += len(text) + 1
        else:
            items.add_scanned(text, row)
    if run:
        items.add_plain(run, len(texts) - len(run))
    return items


def _distinct_per_row(rows: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct ``(row, value)`` pairs sorted by row then value, with the index of each one's
    first occurrence."""
    order = np.lexsort((values, rows))
    rows, values = rows[order], values[order]
    new = np.ones(rows.size, dtype=bool)
    new[1:] = (rows[1:] != rows[:-1]) | (values[1:] != values[:-1])
    return rows[new], values[new], order[new]


def _columns(texts: Sequence[str], settings: SketchSettings) -> tuple[dict[str, Any], Shingles]:
    """The columns of :class:`SketchTable` for raw ``texts``, computed for all of them at once,
    and the rows' shingles (which the table does not keep)."""
    every, item_rows, item_numeric, line_chars = _scan_texts(
        [prepare(t, settings.set_in_columns) for t in texts]
    ).arrays()
    line_end = every == LINE_END
    is_break = line_end | (every == SENTENCE_END)
    hashes, rows, numeric = every[~is_break], item_rows[~is_break], item_numeric[~is_break]
    words = np.bincount(rows, minlength=len(texts))
    # for every word: how many sentence/line ends, and how many line ends, come before it
    breaks, line_of = np.cumsum(is_break)[~is_break], np.cumsum(line_end)[~is_break]
    sentence_runs = _runs(breaks, 1)
    every_sentence = segment_hashes(hashes, sentence_runs[1], sentence_runs[2])
    long = sentence_runs[2] - sentence_runs[1] >= ANCHOR_MIN_WORDS
    sentences, sentence_rows = every_sentence[long], rows[sentence_runs[1][long]]
    anchor_rows, anchors, _ = _distinct_per_row(sentence_rows, sentences)
    follows = np.flatnonzero(sentence_rows[1:] == sentence_rows[:-1])  # sentence k+1 is in k's row
    passage_rows, passages, _ = _distinct_per_row(sentence_rows[follows], passage_hashes(sentences, follows))
    line_runs = _runs(line_of, 1)
    line_ids, starts, ends = line_runs
    every_line = segment_hashes(hashes, starts, ends)
    every_form = masked_segment_hashes(hashes, numeric, starts, ends)
    line_rows, line_hashes, first = _distinct_per_row(rows[starts], every_line)
    shingle_rows, shingles, first_word = shingles_per_row(hashes, rows, words, settings.shingle_size)
    bounds = np.cumsum(words) - words
    columns = {
        "words": words.astype(np.int64),
        "shingles": np.bincount(shingle_rows, minlength=len(texts)).astype(np.int64),
        "digests": np.array(
            [
                hashlib.blake2b(hashes[b : b + n].tobytes(), digest_size=16).digest()
                for b, n in zip(bounds.tolist(), words.tolist(), strict=True)
            ],
            dtype="V16",
        ),
        "signatures": signature_rows(shingle_rows, shingles, len(texts), settings.num_perm, settings.seed),
        "anchor_rows": anchor_rows.astype(np.int32),
        "anchors": anchors,
        "passage_rows": passage_rows.astype(np.int32),
        "passages": passages,
        "line_rows": line_rows.astype(np.int32),
        "line_hashes": line_hashes,
        "line_chars": line_chars[line_ids[first]].astype(np.uint32),
        "line_words": (ends - starts)[first].astype(np.uint32),
        "line_forms": every_form[first],
        **_scan_columns(texts, scanned_rows(list(texts)), settings),
    }
    values = np.stack(
        [shingles, _ordinals(line_runs, rows, first_word), _ordinals(sentence_runs, rows, first_word)], axis=1
    ).astype(np.uint32)
    counts = columns["shingles"]
    line_counts = np.bincount(rows[starts], minlength=len(texts))
    sentence_counts = np.bincount(rows[sentence_runs[1]], minlength=len(texts))
    return columns, Shingles(
        counts, values, line_counts, every_line, sentence_counts, every_sentence, every_form
    )


def _scan_columns(
    texts: Sequence[str], scanned: np.ndarray, settings: SketchSettings
) -> dict[str, np.ndarray]:
    """The scanned rows and their second sketch (:func:`~dedup.shingles.character_shingles`: a
    signature and the shingle count), computed for those rows only. At a 4% character error rate
    two scans of one text keep about half of their 8-character shingles in common, but a sixth of
    their 3-word ones: a story's copies reach a Jaccard of 0.1-0.4 where unrelated articles stay
    under 0.05."""
    among = np.flatnonzero(scanned)
    shingle_rows, shingles = character_shingles([texts[r] for r in among.tolist()])
    return {
        "scanned": scanned,
        "scan_rows": among.astype(np.int32),
        "scan_signatures": signature_rows(
            shingle_rows, shingles, len(among), settings.num_perm, settings.seed
        ),
        "scan_shingles": np.bincount(shingle_rows, minlength=len(among)).astype(np.int64),
    }


def _ordinals(
    runs: tuple[np.ndarray, np.ndarray, np.ndarray], rows: np.ndarray, words: np.ndarray
) -> np.ndarray:
    """For each word of ``words`` (indexes), the ordinal within its row of the run (line or
    sentence, covering every word) it is in."""
    _, starts, ends = runs
    run_of_word = np.repeat(np.arange(starts.size), ends - starts)
    first_run = np.searchsorted(rows[starts], rows[words])  # the first run of the word's row
    return run_of_word[words] - first_run


@dataclass
class SketchTable:
    """The sketches of many articles, column by column (row = article).

    ``anchors[k]`` belongs to row ``anchor_rows[k]`` (so ``passages[k]`` to ``passage_rows[k]``); ``line_hashes[k]``, ``line_chars[k]`` and
    ``line_words[k]`` to row ``line_rows[k]``; ``ids`` are the articles' ids, in row order.
    """

    settings: SketchSettings
    words: np.ndarray
    shingles: np.ndarray
    digests: np.ndarray
    signatures: np.ndarray
    anchor_rows: np.ndarray
    anchors: np.ndarray
    passage_rows: np.ndarray
    passages: np.ndarray
    line_rows: np.ndarray
    line_hashes: np.ndarray
    line_chars: np.ndarray
    line_words: np.ndarray
    line_forms: np.ndarray
    """Per line entry: its form (:func:`~dedup.shingles.form_hashes`, 0 for a line without a number)."""
    scanned: np.ndarray
    """Per row: the text reads as OCR output (:func:`dedup.scans.looks_scanned`)."""
    scan_rows: np.ndarray
    scan_signatures: np.ndarray
    scan_shingles: np.ndarray
    """The scanned rows' second sketch (8-character shingles, :func:`~dedup.shingles.character_shingles`): ``scan_signatures[k]``
    and ``scan_shingles[k]`` (its shingle count) belong to row ``scan_rows[k]``."""
    ids: list[ArticleId]

    def __len__(self) -> int:
        return len(self.words)

    @classmethod
    def build(
        cls, texts: Sequence[str], settings: SketchSettings, ids: Sequence[ArticleId] = ()
    ) -> SketchTable:
        """Sketch ``texts`` (one row each, ids given or filled in later), all at once."""
        return cls.build_with_shingles(texts, settings, ids)[0]

    @classmethod
    def build_with_shingles(
        cls, texts: Sequence[str], settings: SketchSettings, ids: Sequence[ArticleId] = ()
    ) -> tuple[SketchTable, Shingles]:
        """:meth:`build`, and the rows' shingles, which the table does not keep (they go to a
        :class:`~dedup.store.ShingleStore` for the exact pre-check)."""
        columns, shingles = _columns(texts, settings)
        return cls(settings=settings, ids=list(ids), **columns), shingles

    @classmethod
    def concat(cls, tables: list[SketchTable], settings: SketchSettings) -> SketchTable:
        """One table from many, freeing each column of the parts once it is copied."""
        if not tables:
            return cls.build([], settings)
        offsets = np.cumsum([0] + [len(t) for t in tables]).astype(np.int32)
        merged: dict[str, Any] = {"settings": settings, "ids": [i for t in tables for i in t.ids]}
        for name in _ARRAYS:
            parts = [getattr(t, name) for t in tables]
            if name.endswith("_rows"):
                parts = [part + offset for part, offset in zip(parts, offsets, strict=False)]
            for table in tables:
                setattr(table, name, None)
            merged[name] = np.concatenate(parts)
            del parts
        return cls(**merged)

    def split(self) -> list[SketchTable]:
        """One table per row (in row order): what the Spark engine moves article by article."""
        entries = {
            name: np.searchsorted(getattr(self, name), np.arange(len(self) + 1))
            for name in ("anchor_rows", "passage_rows", "line_rows", "scan_rows")
        }
        out = []
        for row in range(len(self)):
            columns: dict[str, Any] = {}
            for name in _ARRAYS:
                group = _ENTRIES.get(name)
                if group is None:  # one value per row
                    columns[name] = getattr(self, name)[row : row + 1].copy()
                    continue
                start, stop = entries[group][row], entries[group][row + 1]
                column = getattr(self, name)[start:stop]
                columns[name] = np.zeros_like(column) if name == group else column.copy()
            out.append(SketchTable(settings=self.settings, ids=[self.ids[row]], **columns))
        return out

    def release(self) -> None:
        """Free the columns only candidates and the pre-check read (signatures, anchors, passages,
        lines), keeping the per-row counts: what a run holds while it aligns, at a million rows
        about a gigabyte less."""
        for name in _ARRAYS:
            if name not in ("words", "shingles", "digests", "scanned", "scan_rows", "scan_shingles"):
                column = getattr(self, name)
                setattr(self, name, np.empty((0, *column.shape[1:]), dtype=column.dtype))

    def to_bytes(self) -> bytes:
        """The table as bytes: a header (format, hash schemes, settings, ids, columns), then the
        columns' little-endian bytes."""
        arrays = [np.ascontiguousarray(getattr(self, name)) for name in _ARRAYS]
        arrays = [a.astype(a.dtype.newbyteorder("<")) if a.dtype.byteorder == ">" else a for a in arrays]
        header = {
            "format": TABLE_FORMAT,
            **self.settings.header(),
            "rows": len(self),
            "ids": self.ids,
            "columns": [[n, a.dtype.str, list(a.shape)] for n, a in zip(_ARRAYS, arrays, strict=True)],
        }
        head = json.dumps(header, ensure_ascii=False).encode("utf-8")
        return b"".join([_MAGIC, struct.pack("<Q", len(head)), head, *(a.tobytes() for a in arrays)])

    @classmethod
    def from_bytes(cls, data: bytes, *, expect: SketchSettings | None = None) -> SketchTable:
        """Read :meth:`to_bytes` output; :class:`InputError` when it is not a sketch table of this
        dedup's schemes, :class:`ConfigError` when its settings differ from ``expect``."""
        header, offset = _read_header(data)
        settings = SketchSettings(
            header["shingle_size"], header["num_perm"], header["seed"], header.get("set_in_columns", False)
        )
        if expect is not None and settings != expect:
            raise ConfigError(f"sketch table: {_difference(settings, expect)}")
        columns: dict[str, Any] = {}
        for name, dtype, shape in header["columns"]:
            size = int(np.prod(shape)) * np.dtype(dtype).itemsize
            if offset + size > len(data):
                raise InputError(f"sketch table: truncated in column {name!r}")
            columns[name] = np.frombuffer(data, dtype=dtype, count=int(np.prod(shape)), offset=offset)
            columns[name] = columns[name].reshape(shape).copy()
            offset += size
        if sorted(columns) != sorted(_ARRAYS):
            raise InputError(f"sketch table: columns {sorted(columns)} are not {sorted(_ARRAYS)}")
        return cls(settings=settings, ids=list(header["ids"]), **columns)


_ARRAYS = tuple(f.name for f in fields(SketchTable) if f.name not in ("settings", "ids"))
_ENTRIES = {
    name: f"{kind}_rows"
    for kind, names in (("anchor", ("anchors",)), ("passage", ("passages",)),
                        ("line", ("line_hashes", "line_chars", "line_words", "line_forms")),
                        ("scan", ("scan_signatures", "scan_shingles")))
    for name in (f"{kind}_rows", *names)
}  # fmt: skip
"""The columns with entries of rows (``*_rows`` says whose), by column."""


def _read_header(data: bytes) -> tuple[dict[str, Any], int]:
    if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + 8:
        raise InputError("sketch table: not a dedup sketch table (its first bytes are not the format mark)")
    (length,) = struct.unpack_from("<Q", data, len(_MAGIC))
    start = len(_MAGIC) + 8
    try:
        header = json.loads(data[start : start + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError("sketch table: its header is not valid JSON") from None
    for key, ours in (
        ("format", TABLE_FORMAT),
        ("sketch_scheme", SKETCH_SCHEME),
        ("minhash_scheme", MINHASH_SCHEME),
    ):
        if header.get(key) != ours:
            raise InputError(f"sketch table: {key} is {header.get(key)!r}, this dedup reads {ours!r}")
    return header, start + length


def _difference(stored: SketchSettings, wanted: SketchSettings) -> str:
    changed = [f.name for f in fields(SketchSettings) if getattr(stored, f.name) != getattr(wanted, f.name)]
    return ", ".join(
        f"made with {n}={getattr(stored, n)}, this run uses {n}={getattr(wanted, n)}" for n in changed
    )


def furniture_rows(
    table: SketchTable, rows: np.ndarray, boilerplate: frozenset[int], share: float
) -> np.ndarray:
    """The ``rows`` with ``share`` of their words or more in ``boilerplate`` lines (``furniture_share``):
    they get a signature of the rest of their text (:func:`signatures_without`), as a footer as long
    as the short articles it is attached to would otherwise make all of them look alike to MinHash."""
    if not boilerplate or rows.size == 0:
        return np.empty(0, dtype=np.int64)
    held = is_member(table.line_hashes, hash_array(boilerplate))
    furniture = np.bincount(table.line_rows[held], weights=table.line_words[held], minlength=len(table))
    return rows[furniture[rows] >= share * np.maximum(table.words[rows], 1)]


def signatures_without(
    texts: list[str], *, boilerplate: frozenset[int], settings: SketchSettings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signatures, shingle counts and shingles (sorted, text after text) of ``texts`` without
    their boilerplate lines."""
    signatures, every = np.empty((len(texts), settings.num_perm), dtype=np.uint32), []
    wanted = hash_array(boilerplate)
    for k, text in enumerate(texts):
        units = compared_units(text, columns=settings.set_in_columns)
        lines = [tokenize(line) for line in normalize_lines("\n".join(units))]
        held = is_member(sequence_hashes(lines), wanted) if lines else np.zeros(0, dtype=bool)
        words = [w for line, gone in zip(lines, held, strict=True) if line and not gone for w in line]
        shingles = shingle_hashes(words, settings.shingle_size)
        signatures[k] = signature(shingles, settings.num_perm, settings.seed)
        every.append(shingles)
    counts = np.array([len(s) for s in every], dtype=np.int64)
    values = np.concatenate(every) if every else np.empty(0, dtype=np.uint32)
    return signatures, counts, values

"""Sketching: everything the later stages need from an article, computed in one pass over it.

The text is split into the units alignment compares (:func:`dedup.paragraphs.split_paragraphs`),
its sentence ends marked by the same rule alignment uses (:func:`dedup.paragraphs.mark_sentences`)
and its lines normalized in one pass (:func:`dedup.normalize.normalize_lines`). One scan
(:func:`dedup.tokens.scan`) then yields the words together with sentence and line ends, every word
is hashed once, and from those hashes, with numpy:

- a 128-bit digest of the words' hashes: articles with equal digests are exact copies;
- the MinHash signature of the word shingles (:mod:`dedup.signatures`) and the shingle count;
- anchors: hashes of the sentences of 8+ words, for the anchor candidates of :mod:`dedup.candidates`;
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
from functools import partial
from typing import Any

import numpy as np

from .articles import ArticleId
from .config import DedupConfig
from .errors import ConfigError, InputError
from .executor import Executor
from .normalize import normalize_lines
from .paragraphs import mark_sentences, split_paragraphs
from .shingles import (
    ANCHOR_MIN_WORDS,
    LINE_END,
    SENTENCE_END,
    hash_array,
    is_member,
    segment_hashes,
    sequence_hash,
    shingle_hashes,
    shingles_of_hashes,
    sorted_unique,
    token_hashes,
)
from .signatures import SCHEME as MINHASH_SCHEME
from .signatures import signature
from .store import TextStore
from .tokens import SENTENCE_MARK, scan, tokenize

SKETCH_SCHEME = "dedup-sketch/2"
"""Version of everything that defines a sketch's hashes (tokens, normalization, shingle and line
hashes). Version 2: words from Unicode tables (any script; bigrams where words are not spaced),
invisible format characters removed, sentence ends shared with alignment."""
TABLE_FORMAT = "dedup.sketches/1"
_MAGIC = b"DEDUPSK\x00"


@dataclass(frozen=True, slots=True)
class SketchSettings:
    """The settings a sketch depends on; sketches are comparable only when these are equal."""

    shingle_size: int
    num_perm: int
    seed: int

    @classmethod
    def of(cls, config: DedupConfig) -> SketchSettings:
        return cls(config.shingle_size, config.num_perm, config.seed)

    def header(self) -> dict[str, Any]:
        return {
            "sketch_scheme": SKETCH_SCHEME,
            "minhash_scheme": MINHASH_SCHEME,
            "shingle_size": self.shingle_size,
            "num_perm": self.num_perm,
            "seed": self.seed,
        }


@dataclass(frozen=True, slots=True)
class Sketch:
    """What the pipeline keeps of one article (its text is not kept)."""

    words: int
    digest: bytes
    signature: np.ndarray
    shingles: int
    anchors: np.ndarray
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
    """The :class:`Sketch` of one raw text."""
    if SENTENCE_MARK in text:
        text = text.replace(SENTENCE_MARK, "")
    lines = normalize_lines(mark_sentences("\n".join(split_paragraphs(text))))
    # one hash per item; the two kinds of break have reserved hashes
    every = token_hashes(scan("\n".join(lines)))
    sentence_end, line_end = every == SENTENCE_END, every == LINE_END
    is_word = ~(sentence_end | line_end)
    hashes = every[is_word]
    # for every word: how many sentence/line ends, and how many line ends, come before it
    breaks = np.cumsum(~is_word)[is_word]
    line_of = np.cumsum(line_end)[is_word]
    _, starts, ends = _runs(breaks, ANCHOR_MIN_WORDS)
    anchors = sorted_unique(segment_hashes(hashes, starts, ends))
    line_ids, starts, ends = _runs(line_of, 1)
    line_hashes, first = sorted_unique(segment_hashes(hashes, starts, ends), return_index=True)
    shingles = shingles_of_hashes(hashes, shingle_size)
    line_chars = [len(lines[i]) - lines[i].count(SENTENCE_MARK) for i in line_ids[first]]
    return Sketch(
        words=int(hashes.size),
        digest=hashlib.blake2b(hashes.tobytes(), digest_size=16).digest(),
        signature=signature(shingles, num_perm, seed),
        shingles=len(shingles),
        anchors=anchors,
        line_hashes=line_hashes,
        line_chars=np.array(line_chars, dtype=np.uint32),
        line_words=(ends - starts)[first].astype(np.uint32),
    )


@dataclass
class SketchTable:
    """The sketches of many articles, column by column (row = article).

    ``anchors[k]`` belongs to row ``anchor_rows[k]``; ``line_hashes[k]``, ``line_chars[k]`` and
    ``line_words[k]`` to row ``line_rows[k]``; ``ids`` are the articles' ids, in row order.
    """

    settings: SketchSettings
    words: np.ndarray
    shingles: np.ndarray
    digests: np.ndarray
    signatures: np.ndarray
    anchor_rows: np.ndarray
    anchors: np.ndarray
    line_rows: np.ndarray
    line_hashes: np.ndarray
    line_chars: np.ndarray
    line_words: np.ndarray
    ids: list[ArticleId]

    def __len__(self) -> int:
        return len(self.words)

    @classmethod
    def build(
        cls, texts: Sequence[str], settings: SketchSettings, ids: Sequence[ArticleId] = ()
    ) -> SketchTable:
        """Sketch ``texts`` (one row each, ids given or filled in later)."""
        s = settings
        sketches = [sketch(t, shingle_size=s.shingle_size, num_perm=s.num_perm, seed=s.seed) for t in texts]
        local = np.arange(len(sketches), dtype=np.int32)
        return cls(
            settings=settings,
            words=np.array([k.words for k in sketches], dtype=np.int64),
            shingles=np.array([k.shingles for k in sketches], dtype=np.int64),
            digests=np.array([k.digest for k in sketches], dtype="V16"),
            signatures=np.stack([k.signature for k in sketches])
            if sketches
            else np.empty((0, s.num_perm), np.uint32),
            anchor_rows=np.repeat(local, [len(k.anchors) for k in sketches]),
            anchors=np.concatenate([k.anchors for k in sketches] or [np.empty(0, np.uint64)]),
            line_rows=np.repeat(local, [len(k.line_hashes) for k in sketches]),
            line_hashes=np.concatenate([k.line_hashes for k in sketches] or [np.empty(0, np.uint64)]),
            line_chars=np.concatenate([k.line_chars for k in sketches] or [np.empty(0, np.uint32)]),
            line_words=np.concatenate([k.line_words for k in sketches] or [np.empty(0, np.uint32)]),
            ids=list(ids),
        )

    @classmethod
    def concat(cls, tables: list[SketchTable], settings: SketchSettings) -> SketchTable:
        """One table from many, freeing each column of the parts once it is copied."""
        if not tables:
            return cls.build([], settings)
        offsets = np.cumsum([0] + [len(t) for t in tables]).astype(np.int32)
        merged: dict[str, Any] = {"settings": settings, "ids": [i for t in tables for i in t.ids]}
        for name in _ARRAYS:
            parts = [getattr(t, name) for t in tables]
            if name in ("anchor_rows", "line_rows"):
                parts = [part + offset for part, offset in zip(parts, offsets, strict=False)]
            for table in tables:
                setattr(table, name, None)
            merged[name] = np.concatenate(parts)
            del parts
        return cls(**merged)

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
        settings = SketchSettings(header["shingle_size"], header["num_perm"], header["seed"])
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


FURNITURE_SHARE = 0.2
"""An article with this share of its words in boilerplate lines or more gets a signature of the
rest of its text (:func:`resketch_without_boilerplate`)."""


def resketch_without_boilerplate(
    table: SketchTable, rows: np.ndarray, boilerplate: frozenset[int], store: TextStore, executor: Executor
) -> None:
    """Give the ``rows`` that are mostly boilerplate the signature and shingle count of their
    text without it, in place: a footer as long as the short articles it is attached to would
    otherwise make all of them look alike to MinHash, and crowd out the bands of their own text."""
    if not boilerplate or rows.size == 0:
        return
    held = is_member(table.line_hashes, hash_array(boilerplate))
    furniture = np.bincount(table.line_rows[held], weights=table.line_words[held], minlength=len(table))
    redo = rows[furniture[rows] >= FURNITURE_SHARE * np.maximum(table.words[rows], 1)]
    work = partial(_signatures_without, boilerplate=boilerplate, settings=table.settings)
    chunks = (
        [store.get(r) for r in redo[start : start + 512].tolist()] for start in range(0, redo.size, 512)
    )
    done = 0
    for signatures, counts in executor.map(work, chunks, label="furniture", size=lambda out: len(out[1])):
        table.signatures[redo[done : done + len(counts)]] = signatures
        table.shingles[redo[done : done + len(counts)]] = counts
        done += len(counts)


def _signatures_without(
    texts: list[str], *, boilerplate: frozenset[int], settings: SketchSettings
) -> tuple[np.ndarray, list[int]]:
    signatures, counts = np.empty((len(texts), settings.num_perm), dtype=np.uint32), []
    for k, text in enumerate(texts):
        lines = [tokenize(line) for line in normalize_lines("\n".join(split_paragraphs(text)))]
        words = [w for line in lines if line and sequence_hash(line) not in boilerplate for w in line]
        shingles = shingle_hashes(words, settings.shingle_size)
        signatures[k] = signature(shingles, settings.num_perm, settings.seed)
        counts.append(len(shingles))
    return signatures, counts

"""The deduplicated corpus: which records a result removes and which stay, and the records
written back out (JSON Lines, CSV, Parquet or a Hugging Face dataset directory).

One rule, :func:`plan`, for the command (``--keep-to`` / ``--removed-to``) and the library
(:func:`deduplicate`, :func:`keep`):

- only pairs of the kinds in ``drop`` remove anything (``exact``, ``near_duplicate`` and
  ``contained`` by default; never ``partial``: two articles sharing a few paragraphs are two
  stories);
- articles are visited in the order of the ``keep`` rule: ``representative`` (the story groups'
  representatives first), ``longest`` (most characters), ``first`` (input order) or
  ``earliest:FIELD`` (the smallest value of a field, such as a date; records without one last),
  ties in input order, and an article inside another (a ``contained`` pair) after all that are
  not. An article linked by such a pair to one already kept is removed as a copy of it (of the
  kept one covering most of it), else it is kept;
- a ``contained`` pair removes only the article inside the other: the one holding it is not a
  copy of it.

So every removed record names a record that stays, and a chain A~B~C where A and C share
nothing keeps both A and C. Records are read again from their files, never held: a million
records in the memory of a few numbers per duplicate.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .articles import WHERE, Article, ArticleId, id_key, iter_articles
from .errors import ConfigError, InputError
from .results import DedupResult, Pair

DROP = ("exact", "near_duplicate", "contained")
"""The kinds of pair that remove an article by default."""
DROPPABLE = ("exact", "near_duplicate", "contained", "rewritten")
KEEP_RULES = ("representative", "longest", "first", "earliest:FIELD")
RECORD_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", "": "dataset"}
ANNOTATIONS = ("dedup_group", "dedup_duplicate_of", "dedup_kind")
REMOVAL_FIELDS = ("dedup_copy_of", "dedup_kind", "dedup_coverage")


@dataclass(frozen=True)
class Policy:
    """Which kinds of pair remove an article, and which article of a duplicate set stays."""

    drop: tuple[str, ...] = DROP
    keep: str = "representative"

    @classmethod
    def of(cls, drop: Iterable[str] | str = DROP, keep: str = "representative") -> Policy:
        """A checked policy (``drop`` as kinds or one comma-separated string): :class:`ConfigError` names what is wrong."""
        kinds = tuple(k.strip() for k in (drop.split(",") if isinstance(drop, str) else drop) if k.strip())
        for kind in kinds:
            if kind == "partial":
                raise ConfigError(
                    "partial pairs never remove an article (they share some paragraphs, not the story)"
                )
            if kind not in DROPPABLE:
                raise ConfigError(f"unknown kind to drop {kind!r} (choose from {', '.join(DROPPABLE)})")
        rule, _, field = keep.partition(":")
        if rule not in ("representative", "longest", "first", "earliest") or (rule == "earliest") != bool(
            field
        ):
            raise ConfigError(f"unknown keep rule {keep!r} (choose from {', '.join(KEEP_RULES)})")
        return cls(tuple(sorted(set(kinds), key=DROPPABLE.index)), keep)

    @property
    def field(self) -> str | None:
        """The field of ``earliest:FIELD``."""
        return self.keep.partition(":")[2] or None

    def to_dict(self) -> dict[str, Any]:
        return {"drop": list(self.drop), "keep": self.keep}


@dataclass(frozen=True)
class Removed:
    """A removed record: its ``id``, the kept record it is a copy of, their pair's kind and the
    share of the removed article that the kept one covers."""

    id: ArticleId
    copy_of: ArticleId
    kind: str
    coverage: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "copy_of": self.copy_of, "kind": self.kind, "coverage": self.coverage}


@dataclass(frozen=True)
class Facts:
    """What the keep rules look at: input position, text length, the ``earliest`` field's value."""

    position: int
    length: int
    value: Any = None


def involved(result: DedupResult, policy: Policy) -> set[ArticleId]:
    """The articles a pair of a dropping kind links (only they can be removed, or keep others)."""
    return {i for p in result.pairs if p.kind in policy.drop for i in (p.a, p.b)}


def plan(result: DedupResult, facts: Mapping[ArticleId, Facts], policy: Policy) -> dict[ArticleId, Removed]:
    """The records ``result`` removes under ``policy``, by id (see the module's rule)."""
    return plan_links(result.pairs, {c.representative for c in result.clusters}, facts, policy)


def plan_links(
    pairs: Iterable[Pair], representatives: set[ArticleId], facts: Mapping[ArticleId, Facts], policy: Policy
) -> dict[ArticleId, Removed]:
    """:func:`plan` on ``pairs`` and the story groups' ``representatives``. Articles not linked
    by a dropping pair never meet, so this holds for any set of pairs closed under those links
    (a connected component of them: the Spark engine plans each component on its own)."""
    links: dict[ArticleId, list[Pair]] = defaultdict(list)
    for pair in pairs:
        if pair.kind in policy.drop:
            links[pair.a].append(pair)
            links[pair.b].append(pair)
    inner = {
        p.a if p.direction == "a_in_b" else p.b for ps in links.values() for p in ps if p.kind == "contained"
    }
    priority = _priority(policy, facts, representatives)
    order = sorted(links, key=lambda i: (i in inner, priority(i)))  # an article inside another after it
    kept: set[ArticleId] = set()
    removed: dict[ArticleId, Removed] = {}
    for article in order:
        copies = [
            Removed(article, other, p.kind, p.coverage_a_by_b if article == p.a else p.coverage_b_by_a)
            for p in links[article]
            if (other := p.b if article == p.a else p.a) in kept and _is_copy(p, article)
        ]
        if copies:
            # the kept article covering most of it; on a tie the first by id (not the pairs' order)
            removed[article] = min(copies, key=lambda r: (-r.coverage, id_key(r.copy_of)))
        else:
            kept.add(article)
    return removed


def _is_copy(pair: Pair, article: ArticleId) -> bool:
    """Whether ``pair`` makes ``article`` a copy of the other: a ``contained`` pair only the
    article inside the other."""
    if pair.kind != "contained":
        return True
    return pair.direction == ("a_in_b" if article == pair.a else "b_in_a")


def _priority(
    policy: Policy, facts: Mapping[ArticleId, Facts], representatives: set[ArticleId]
) -> Callable[[ArticleId], tuple[Any, ...]]:
    rule = policy.keep.partition(":")[0]

    def key(article: ArticleId) -> tuple[Any, ...]:
        fact = facts[article]
        if rule == "representative":
            return (article not in representatives, fact.position)
        if rule == "longest":
            return (-fact.length, fact.position)
        if rule == "earliest":
            value = fact.value
            return (value is None, type(value).__name__, "" if value is None else value, fact.position)
        return (fact.position,)

    return key


# ---------------------------------------------------------------- records


def record_of(article: Article, id_field: str = "id", text_field: str = "text") -> dict[str, Any]:
    """The record an article was read from: its id and text fields, then its metadata."""
    return {
        id_field: article.id,
        text_field: article.text,
        **{k: v for k, v in article.meta.items() if k != WHERE},
    }


def survey(
    records: Iterable[Mapping[str, Any]],
    wanted: set[ArticleId],
    policy: Policy,
    id_field: str,
    text_field: str,
) -> tuple[dict[ArticleId, Facts], list[str], int]:
    """One pass over the records: the facts of the ``wanted`` ones, every field name (in order of
    first appearance) and how many records there are."""
    facts: dict[ArticleId, Facts] = {}
    fields: dict[str, None] = {}
    count = 0
    for position, record in enumerate(records):
        count += 1
        fields.update(dict.fromkeys(record))
        article_id = record[id_field]
        if article_id in wanted:
            value = record.get(policy.field) if policy.field else None
            facts[article_id] = Facts(position, len(record[text_field]), None if value == "" else value)
    return facts, list(fields), count


def annotated(record: Mapping[str, Any], removed: Removed | None, group: ArticleId | None) -> dict[str, Any]:
    return {**record, "dedup_group": group, "dedup_duplicate_of": removed.copy_of if removed else None,
            "dedup_kind": removed.kind if removed else None}  # fmt: skip


def as_removed(record: Mapping[str, Any], removed: Removed) -> dict[str, Any]:
    return {
        **record,
        "dedup_copy_of": removed.copy_of,
        "dedup_kind": removed.kind,
        "dedup_coverage": removed.coverage,
    }


def groups_of(result: DedupResult) -> dict[ArticleId, ArticleId]:
    """Each grouped article's story group, named by its representative."""
    return {m: c.representative for c in result.clusters for m in c.members}


# ---------------------------------------------------------------- the library


@dataclass
class Deduplicated:
    """:func:`deduplicate`'s answer: the ``kept`` records (a list, or a ``datasets.Dataset`` when
    one was given), the ``removed`` ones (:class:`Removed`, in input order) and the ``result``."""

    kept: Any
    removed: list[Removed]
    result: DedupResult
    policy: Policy


def deduplicate(
    records: Any, *, result: DedupResult | None = None, drop: Iterable[str] | str = DROP,
    keep: str = "representative", annotate: bool = False, id_field: str = "id", text_field: str = "text",
    **options: Any,
) -> Deduplicated:  # fmt: skip
    """The corpus without its copies: ``records`` (dicts, or a ``datasets.Dataset``, read twice;
    or anything :func:`find_duplicates` takes) less those ``result`` (run now when not given, with
    ``options``) removes under ``drop`` and ``keep``; with ``annotate`` every record stays, with
    the fields ``dedup_group``, ``dedup_duplicate_of`` and ``dedup_kind``.

    >>> done = deduplicate([{"id": 1, "text": "the ships came in today " * 3, "outlet": "A"},
    ...                     {"id": 2, "text": "the ships came in today " * 3, "outlet": "B"}])
    >>> [r["outlet"] for r in done.kept], [(r.id, r.copy_of, r.kind) for r in done.removed]
    (['A'], [(2, 1, 'exact')])
    """
    policy = Policy.of(drop, keep)
    dataset = _is_dataset(records)
    if not dataset and iter(records) is records:
        raise TypeError("records are read twice: give a list or a datasets.Dataset, not an iterator")
    rows = records if dataset or _all_records(records) else _as_records(records, id_field, text_field)
    if result is None:
        from .pipeline import find_duplicates

        result = find_duplicates(rows if not dataset else iter(rows), id_field=id_field, text_field=text_field,
                                 **options)  # fmt: skip
    facts, _, _ = survey(iter(rows), involved(result, policy), policy, id_field, text_field)
    removed = plan(result, facts, policy)
    ordered = sorted(removed.values(), key=lambda r: facts[r.id].position)
    return Deduplicated(_kept(rows, removed, result, annotate, id_field, dataset), ordered, result, policy)


def keep(records: Any, **options: Any) -> Any:
    """The surviving records of :func:`deduplicate` (same options)."""
    return deduplicate(records, **options).kept


def _kept(rows: Any, removed: dict[ArticleId, Removed], result: DedupResult, annotate: bool, id_field: str,
          dataset: bool) -> Any:  # fmt: skip
    group = groups_of(result)
    if dataset:
        ids = rows[id_field]
        if annotate:
            return (
                rows.add_column("dedup_group", [group.get(i) for i in ids])
                .add_column("dedup_duplicate_of", [removed[i].copy_of if i in removed else None for i in ids])
                .add_column("dedup_kind", [removed[i].kind if i in removed else None for i in ids])
            )
        return rows.select([k for k, i in enumerate(ids) if i not in removed])
    if annotate:
        return [annotated(r, removed.get(r[id_field]), group.get(r[id_field])) for r in rows]
    return [r for r in rows if r[id_field] not in removed]


def _is_dataset(records: Any) -> bool:
    return type(records).__module__.startswith("datasets.") and hasattr(records, "select")


def _all_records(records: Any) -> bool:
    return isinstance(records, Sequence) and all(isinstance(r, Mapping) for r in records)


def _as_records(records: Any, id_field: str, text_field: str) -> list[dict[str, Any]]:
    return [
        record_of(a, id_field, text_field)
        for a in iter_articles(records, id_field=id_field, text_field=text_field)
    ]


# ---------------------------------------------------------------- files


def record_format(path: str | Path) -> str:
    """``jsonl``, ``csv``, ``parquet`` or ``dataset`` (a directory: no suffix), from the name."""
    suffix = Path(path).suffix.lower()
    if suffix not in RECORD_SUFFIXES:
        raise InputError(f"{path}: records are written as .jsonl, .ndjson, .csv, .parquet or a dataset "
                         "directory (a name without a suffix)")  # fmt: skip
    return RECORD_SUFFIXES[suffix]


def check_record_target(path: str | Path) -> str:
    """The format ``path`` will be written in, with the package it needs importable: one line
    naming the path and what to install, before any work."""
    kind = record_format(path)
    needs = {"parquet": ("pyarrow", "parquet", "writing Parquet needs pyarrow"),
             "dataset": ("datasets", "datasets", "a dataset directory needs datasets")}.get(kind)  # fmt: skip
    if needs is not None:
        try:
            __import__(needs[0])
        except ImportError:
            raise InputError(f"{path}: {needs[2]}: pip install 'newsdedup[{needs[1]}]'") from None
    return kind


def write_records(path: str | Path, records: Iterable[Mapping[str, Any]], fields: Sequence[str]) -> int:
    """Write ``records`` to ``path`` in the format its name gives, all or nothing (a temporary
    name, renamed when complete); how many were written."""
    target = Path(path)
    kind = check_record_target(target)
    if target.exists() and (kind == "dataset") != target.is_dir():
        raise InputError(f"{target}: exists and is {'not ' * (kind == 'dataset')}a directory")
    scratch = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent if str(target.parent) else ".")
    )
    try:
        written = _WRITERS[kind](scratch / "out", iter(records), list(fields), scratch)
        if kind == "dataset" and target.exists():
            shutil.rmtree(target)
        os.replace(scratch / "out", target)
    except OSError as error:
        raise InputError(f"{target}: cannot write ({error.strerror or error})") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return written


def _jsonl(out: Path, records: Iterator[Mapping[str, Any]], fields: list[str], scratch: Path) -> int:
    count = 0
    with open(out, "w", encoding="utf-8") as stream:
        for record in records:
            stream.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            count += 1
    return count


def _csv(out: Path, records: Iterator[Mapping[str, Any]], fields: list[str], scratch: Path) -> int:
    count = 0
    with open(out, "w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=fields)
        writer.writeheader()
        for record in records:
            writer.writerow({k: _cell(v) for k, v in record.items()})
            count += 1
    return count


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, dict | list) else value


def _parquet(out: Path, records: Iterator[Mapping[str, Any]], fields: list[str], scratch: Path) -> int:
    import pyarrow as pa  # (importable: check_record_target said so before the run)
    import pyarrow.parquet as pq

    count, writer, schema = 0, None, None
    try:
        while batch := [dict.fromkeys(fields) | dict(r) for r in _take(records, 4096)]:
            table = pa.Table.from_pylist(batch, schema=schema)  # the first batch's types for all
            if writer is None:
                schema = table.schema
                writer = pq.ParquetWriter(out, schema)
            writer.write_table(table)
            count += len(batch)
        if writer is None:
            pq.write_table(pa.table({f: pa.array([], pa.string()) for f in fields}), out)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise InputError(f"records {count + 1}-{count + 4096}: a field's type differs from the first records' "
                         f"({error}); write .jsonl instead") from None  # fmt: skip
    finally:
        if writer is not None:
            writer.close()
    return count


def _dataset(out: Path, records: Iterator[Mapping[str, Any]], fields: list[str], scratch: Path) -> int:
    """A Hugging Face dataset directory (``save_to_disk``), built from a Parquet file streamed first."""
    import datasets  # (importable: check_record_target said so before the run)

    staged = scratch / "records.parquet"
    count = _parquet(staged, records, fields, scratch)
    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):  # (its progress bars)
        built = datasets.Dataset.from_parquet(str(staged), cache_dir=str(scratch / "cache"))
        built.save_to_disk(str(out))
    return count


def _take(records: Iterator[Mapping[str, Any]], n: int) -> Iterator[Mapping[str, Any]]:
    for _, record in zip(range(n), records, strict=False):
        yield record


_WRITERS: dict[str, Callable[[Path, Iterator[Mapping[str, Any]], list[str], Path], int]] = {
    "jsonl": _jsonl, "csv": _csv, "parquet": _parquet, "dataset": _dataset,
}  # fmt: skip


# ---------------------------------------------------------------- the command's files


@dataclass
class Written:
    records: int
    kept: int
    removed: int


def write_corpus(
    read: Callable[[], Iterable[Mapping[str, Any]]], result: DedupResult, policy: Policy, *,
    keep_to: str | None, removed_to: str | None, annotate: bool, id_field: str, text_field: str,
) -> Written:  # fmt: skip
    """The command's ``--keep-to`` / ``--removed-to``: ``read()`` gives the records afresh each
    time (one pass to learn the facts and fields, one per file written)."""
    facts, fields, count = survey(read(), involved(result, policy), policy, id_field, text_field)
    removed = plan(result, facts, policy)
    group = groups_of(result)
    if keep_to:
        if annotate:
            write_records(keep_to, (annotated(r, removed.get(r[id_field]), group.get(r[id_field])) for r in read()),
                          [*fields, *ANNOTATIONS])  # fmt: skip
        else:
            write_records(keep_to, (r for r in read() if r[id_field] not in removed), fields)
    if removed_to:
        write_records(removed_to, (as_removed(r, removed[r[id_field]]) for r in read() if r[id_field] in removed),
                      [*fields, *REMOVAL_FIELDS])  # fmt: skip
    return Written(count, count - len(removed), len(removed))

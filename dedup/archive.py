"""A persistent archive: articles added as they arrive, new ones checked against everything seen.

:class:`Index` keeps articles in a :mod:`dedup.backends` store (an SQLite file, a Redis server, or
memory) and runs each batch through the one stage sequence (:func:`dedup.run.run`), with
:class:`ArchiveSource` as the candidate source:

- *admit*: ids already archived with the same text are passed over (counted), with another text
  refused (or, with ``replace=True``, the old article removed first);
- *fresh*: a batch text already archived (found by its digest) is an exact copy of the stored one;
- *line counts*: a line's frequency for the boilerplate rule counts the archive's texts too;
- *candidates*: each new distinct text's LSH band values, sentence anchors and passages
  (:func:`lookup_keys`) looked up among the archived holders and the batch, with the bucket rule of
  the batch self-join (:func:`dedup.candidates.bucket_pairs`); the archived articles they reach are
  read back (texts and metadata) and compared like the batch's own;
- *groups*: :func:`dedup.clustering.assign_groups` with the archived articles' groups — a new
  article joins a stored group when it is strongly linked to more than half of its distinct texts
  (the majority rule of the batch clustering), other groups it reaches a majority of are merged
  into it (reported), else it starts one;
- *settle*: the batch is written in one transaction, its rows and new groups numbered inside it.

**Batches versus the whole collection.** Added in one batch, a collection gives the batch run's
pairs, groups and metadata. Added in batches, it reports over all batches the pairs
:func:`dedup.find_duplicates` reports on the whole (an exact copy paired with the copy stored
first) — except where a document-frequency rule judged differently because the counts grew
between batches: boilerplate lines (judged on the batch's new texts, with the line frequencies
over the whole archive), template sentences (held by more than 4 articles *so far*) and crowded
band values (neighbours among the archived holders are the oldest ones, not the nearest ids).
"""

from __future__ import annotations

import contextlib
import json
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace as replaced
from typing import Any, Literal

import numpy as np

from .articles import ArticleId, ArticlesInput, id_key, id_ranks, iter_articles
from .backends import Backend, Batch, Changed, NewArticle, Removal, StoredArticle, open_backend
from .candidates import (
    Candidates,
    anchor_pairs,
    lsh_bands,
    pairs_in_buckets,
    salted_bands,
    scanned_among,
    scanned_bands,
    unique_pairs,
)
from .clustering import Grouping
from .config import DedupConfig
from .errors import ConfigError, InputError
from .executor import LocalExecutor
from .forms import archive_counts
from .local import LocalTexts, SketchAhead
from .results import Cluster, DedupResult, Pair, RunSummary
from .run import Found, Run, run, run_params
from .semantic import StoredVectors, load_model
from .shingles import fmix64, sorted_unique
from .sketch import SketchSettings, SketchTable

BATCH = 10_000
"""Articles per transaction of :meth:`Index.add`."""
OPTIMISTIC = 3
"""Times a batch is compared again when other writers commit meanwhile; after that it takes the
archive's writer lock for its whole compare-and-commit, so a large batch is never starved by a
stream of small ones."""
IN_MEMORY = 1000
"""A batch of at most this many articles keeps its shingles in memory, not in a temporary file."""
_KIND_SALT = {"anchor": np.uint64(0xA0761D6478BD642F), "passage": np.uint64(0xE7037ED1A0B428DB)}


def lookup_keys(
    table: SketchTable, rows: np.ndarray, bands: int, rows_per_band: int, loose: tuple[int, int] | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """What ``rows`` are looked up by: ``{kind: (rows, values, keys)}`` for the kinds ``band``,
    ``anchor`` and ``passage`` (and ``scanned``: the ``loose`` bands of the scanned rows, see
    :func:`dedup.candidates.scanned_bands`). ``values`` are what the candidate rules compare (a
    band's value salted with its band number; a sentence or passage hash); ``keys`` the 64-bit keys
    stored, each salted by its kind, so that one table of keys holds them all."""
    values = salted_bands(table.signatures[rows], bands, rows_per_band).T.ravel()  # band by band, as tiled
    out = {"band": (np.tile(rows, bands).astype(np.int64), values, values)}
    if loose is not None:  # the scanned rows' second sketch
        at = scanned_among(table, rows)
        values = salted_bands(table.scan_signatures[at], *loose, scanned=True).T.ravel()
        out["scanned"] = (np.tile(table.scan_rows[at], loose[0]).astype(np.int64), values, values)
    with np.errstate(over="ignore"):
        member = np.zeros(len(table), dtype=bool)
        member[rows] = True
        for kind, row_column, value_column in (
            ("anchor", table.anchor_rows, table.anchors), ("passage", table.passage_rows, table.passages)
        ):  # fmt: skip
            held = member[row_column]
            raw = value_column[held]
            out[kind] = (row_column[held].astype(np.int64), raw, fmix64(raw ^ _KIND_SALT[kind]))
    return out


class Index:
    """An archive of articles on an SQLite file (a path) or a Redis server (``redis://host:port/db``).

    ``config`` (or keyword options) fixes the settings when the archive is created; opening an
    existing archive with other settings is a :class:`ConfigError` naming both values, and with
    none it uses the archive's own. ``create=False`` refuses a path with no archive. ``semantic=True``
    runs the semantic check on every batch (a choice of each run, not a setting the archive fixes;
    the sentence vectors an ``add`` embeds are stored with its batch and read back by later ones).

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "news.db")
    >>> with Index(path) as index:
    ...     first = index.add({"a": "One story about the harbour and the ships that came in today."})
    ...     second = index.query({"b": "One story about the harbour and the ships that came in today."})
    >>> [(p.a, p.b, p.kind) for p in second.pairs]
    [('a', 'b', 'exact')]
    """

    def __init__(self, location: str | Any, config: DedupConfig | None = None, *, create: bool = True,
                 workers: int = 1, **options: Any) -> None:  # fmt: skip
        semantic = bool(options.pop("semantic", config.semantic if config else False))
        self.embed = load_model() if semantic else None  # a missing extra fails before any work
        self.backend: Backend = open_backend(str(location), create=create)
        try:
            stored = self.backend.settings()
            given = (
                DedupConfig(**{**(config.to_dict() if config else {}), **options, "semantic": False})
                if (config or options)
                else None
            )
            if stored is None and not create:  # reading never creates
                raise InputError(f"{self.backend.location}: no such archive (dedup index add creates one)")
            if stored is None:  # a new archive (or one another writer makes at this moment)
                stored = self.backend.create(archive_settings(given or DedupConfig()))
            self.config = replaced(_stored_config(stored, given, self.backend.location), semantic=semantic)
        except BaseException:
            self.backend.close()
            raise
        self.workers = workers
        self.bands, self.rows_per_band = lsh_bands(self.config.candidate_threshold, self.config.num_perm)
        self.loose = scanned_bands(self.config)

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.backend.close()

    def add(
        self, articles: ArticlesInput, *, replace: bool = False, on_empty: Literal["skip", "error"] = "skip",
        batch_size: int = BATCH,
    ) -> DedupResult:  # fmt: skip
        """Store ``articles``, ``batch_size`` at a time, each batch in one transaction; their pairs
        with the archive and among themselves, and their story groups. Stopped part way (a crash,
        ``kill -9``), the archive holds whole batches; adding the same articles again completes it."""
        results = []
        this_add = uuid.uuid4().hex
        keys: list[str] = []
        with SketchAhead(iter_articles(articles), batch_size, workers=self.workers, in_memory=IN_MEMORY,
                         settings=SketchSettings.of(self.config),
                         furniture_share=self.config.furniture_share) as batches:  # fmt: skip
            for batch, texts in batches:
                keys.append(f"{this_add}:{len(keys)}")
                results.append(self._run(batch, store=True, replace=replace, on_empty=on_empty,
                                         report_key=keys[-1], texts=texts))  # fmt: skip
        self.backend.forget_reports(keys)  # this add finished: its reports are in its result
        if not results:  # nothing given: an empty report
            return self._run([], store=True, replace=replace, on_empty=on_empty)
        resumed = self._resumed(
            [i for r in results if r.archive for i in r.archive["already_stored"]], results[0]
        )
        if len(results) == 1 and resumed is None:
            return results[0]
        return self._merged_results([*results, *([resumed] if resumed else [])])

    def _resumed(self, passed_over: list[ArticleId], like: DedupResult) -> DedupResult | None:
        """The pairs of batches an earlier add of the same articles committed before it was
        stopped (their reports were kept with them), as a result to merge into this add's."""
        wanted = {json.dumps(i) for i in passed_over}
        pending = {k: json.loads(v) for k, v in self.backend.pending_reports().items()} if wanted else {}
        ours = {k: v for k, v in pending.items() if wanted & set(v["ids"])}
        if not ours:
            return None
        pairs = tuple(Pair.from_dict(p) for report in ours.values() for p in report["pairs"])
        ids = sorted({i for report in ours.values() for i in report["ids"]})
        rows = self.backend.rows_of_ids(ids)
        stored = self.backend.articles(sorted(r for r, _ in rows.values()))
        groups = [{"id": json.loads(a.id), "group": a.group} for a in stored]
        kinds = {
            kind: sum(p.kind == kind for p in pairs)
            for kind in ("exact", "near_duplicate", "contained", "partial")
        }
        summary = RunSummary(pairs=len(pairs), pairs_exact=kinds["exact"], pairs_near_duplicate=kinds["near_duplicate"],
                             pairs_contained=kinds["contained"], pairs_partial=kinds["partial"])  # fmt: skip
        archive = {"location": self.backend.location, "stored": 0, "already_stored": [], "groups": groups,
                   "merged_groups": []}  # fmt: skip
        self.backend.forget_reports(sorted(ours))
        return DedupResult(pairs, (), (), like.params, summary, {}, archive)

    def _merged_results(self, results: list[DedupResult]) -> DedupResult:
        """One result for the batches of one add: pairs and counts together, each article's final
        story group, the groups as they stand after the last batch."""
        pairs = sorted((p for r in results for p in r.pairs), key=lambda p: (id_key(p.a), id_key(p.b)))
        merged = {m["group"]: m["into"] for r in results if r.archive for m in r.archive["merged_groups"]}
        groups = [
            {**g, "group": _root(merged, g["group"])}
            for r in results
            if r.archive
            for g in r.archive["groups"]
        ]
        final = sorted({g["group"] for g in groups})
        members = self.backend.group_members(final) if final else {}
        clusters = [Cluster(tuple(sorted((json.loads(i) for _, i in m), key=id_key)), json.loads(m[0][1]))
                    for _, m in sorted(members.items()) if len(m) > 1]  # fmt: skip
        counts = {k: sum(r.summary[k] for r in results) for k in results[0].summary.to_dict()}
        summary = replaced(results[0].summary, **counts)
        summary = replaced(
            summary, clusters=len(clusters), articles_in_clusters=sum(len(c.members) for c in clusters)
        )
        archive = {
            "location": self.backend.location, "stored": sum(r.archive["stored"] for r in results if r.archive),
            "already_stored": [i for r in results if r.archive for i in r.archive["already_stored"]],
            "groups": sorted(groups, key=lambda g: id_key(g["id"])),
            "merged_groups": [{"group": g, "into": _root(merged, g)} for g in sorted(merged)],
        }  # fmt: skip
        meta = {k: v for r in results for k, v in r.meta.items()}
        skipped = tuple(s for r in results for s in r.skipped)
        return DedupResult(tuple(pairs), tuple(clusters), skipped, results[0].params, summary, meta, archive)

    def query(self, articles: ArticlesInput, *, on_empty: Literal["skip", "error"] = "skip") -> DedupResult:
        """What :meth:`add` would report for ``articles``, storing nothing (the groups an article
        would join; ``None`` for a new story)."""
        return self._run(articles, store=False, replace=False, on_empty=on_empty)

    def warm(self) -> None:
        """Load now what lookups read (an SQLite archive's key runs: about 1.2 GB a million
        articles), for a process that checks article after article — ``dedup serve`` does this
        before it answers. Without it the first lookups read only the parts they need and the
        runs are loaded at the 21st (that call then takes the load's time)."""
        self.backend.warm()

    def stats(self) -> dict[str, Any]:
        """Counts (articles, distinct texts, story groups), size on disk (or Redis memory) and the
        settings."""
        return {
            **self.backend.stats(),
            "location": self.backend.location,
            "settings": archive_settings(self.config),
        }

    def remove(self, ids: Iterable[ArticleId]) -> int:
        """Forget articles (their keys, line counts and group memberships); :class:`InputError`
        naming the first id not in the archive, before anything is removed."""
        removal = self._removal(ids)
        self.backend.remove(removal)
        return len(removal.rows)

    def _removal(self, ids: Iterable[ArticleId]) -> Removal:
        """What forgetting these articles changes (worked out here, once, for every backend)."""
        given = [json.dumps(i) for i in ids]
        found = self.backend.rows_of_ids(given)
        # an id not stored as given may be stored in the other form that prints the same: the
        # command passes every id as text, and "1" finds the integer 1
        twins = {i: t for i in given if i not in found and (t := _printed_twin(i)) is not None}
        if twins:
            hits = self.backend.rows_of_ids(sorted(set(twins.values())))
            found.update({i: hits[t] for i, t in twins.items() if t in hits})
        missing = [i for i in given if i not in found]
        if missing:
            raise InputError(
                f"article {json.loads(missing[0])!r} is not in the archive {self.backend.location}"
            )
        stored = self.backend.articles(sorted({r for r, _ in found.values()}))
        gone = {a.row for a in stored}
        leaders = [a for a in stored if a.leader == a.row]
        table = SketchTable.build([a.text for a in leaders], SketchSettings.of(self.config))
        keys = lookup_keys(table, np.arange(len(leaders)), self.bands, self.rows_per_band, self.loose)
        held = [
            (local, key)
            for rows, _, salted in keys.values()
            for local, key in zip(rows.tolist(), salted.tolist(), strict=True)
        ]
        # a damaged text cannot be sketched again: its keys are found by a scan instead (its line
        # counts stay: the lines are unknown)
        held += [
            (local, key)
            for local, a in enumerate(leaders)
            if a.damaged
            for key in self.backend.keys_of(a.row)
        ]
        drop: list[tuple[int, int]] = []
        add: list[tuple[int, int]] = []
        promote: dict[int, int] = {}
        for local, key in held:
            heir = self._heir(leaders[local].row, gone, promote)
            drop.append((key, leaders[local].row))
            if heir is not None:
                add.append((key, heir))
        lines: dict[int, int] = defaultdict(int)
        leaving = []
        for local in range(len(leaders)):
            if self._heir(leaders[local].row, gone, promote) is None and not leaders[local].damaged:
                leaving.append(local)
                for line in set(table.line_hashes[table.line_rows == local].tolist()):
                    lines[line] += 1
        entries = np.isin(table.line_rows, leaving)
        lines.update(archive_counts(
            table.line_rows[entries], table.line_hashes[entries], table.line_forms[entries],
            self._held_lines, leaving=True,
        ))  # fmt: skip
        promote = {old: new for old, new in promote.items() if new >= 0}
        return Removal(sorted(gone), drop, add, dict(lines), promote)

    def _held_lines(self, hashes: np.ndarray) -> np.ndarray:
        counts = self.backend.line_counts(hashes.tolist())
        return np.array([counts.get(h, 0) for h in hashes.tolist()], dtype=np.int64)

    def _heir(self, leader: int, gone: set[int], promote: dict[int, int]) -> int | None:
        """The copy that leads a removed leader's copies, if any is left (-1 cached for none)."""
        if leader not in promote:
            heirs = [r for r in self.backend.copies_of(leader) if r not in gone]
            promote[leader] = heirs[0] if heirs else -1
        return promote[leader] if promote[leader] >= 0 else None

    def texts(self, given: Mapping[ArticleId, str]) -> ArchivedTexts:
        """Texts by id: those ``given``, else the archive's (what a report explains of a pair)."""
        return ArchivedTexts(given, self)

    def text(self, article_id: ArticleId) -> str:
        """The archived text of an article (:class:`KeyError` if it is not archived)."""
        found = self.backend.rows_of_ids([json.dumps(article_id)])
        if not found:
            raise KeyError(article_id)
        ((row, _),) = found.values()
        return _readable(self.backend.articles([row]), self.backend.location)[0].text

    def check(self) -> dict[str, Any]:
        """What is damaged: the store's own check (SQLite ``PRAGMA quick_check``) and every stored
        text read back; ``damaged`` lists the articles whose text cannot be read (by id), which
        :meth:`remove` drops."""
        problems = self.backend.integrity()
        rows = self.backend.rows()
        damaged = []
        for start in range(0, len(rows), 1000):
            damaged += [
                (json.loads(a.id), a.damaged)
                for a in self.backend.articles(rows[start : start + 1000])
                if a.damaged
            ]
        return {"location": self.backend.location, "articles": len(rows), "problems": problems,
                "damaged": [{"id": i, "reason": why} for i, why in damaged]}  # fmt: skip

    # ------------------------------------------------------------------ one batch

    def _run(
        self, articles: ArticlesInput, *, store: bool, replace: bool, on_empty: Literal["skip", "error"],
        report_key: str | None = None, texts: LocalTexts | None = None,
    ) -> DedupResult:  # fmt: skip
        """One batch through the stage sequence (:func:`dedup.run.run`), candidates from the archive
        (``texts``: the batch read and sketched already, for the first attempt)."""
        batch = list(iter_articles(articles))
        for attempt in range(OPTIMISTIC + 1):
            exclusive = attempt == OPTIMISTIC and store
            with self.backend.exclusive() if exclusive else contextlib.nullcontext():
                try:
                    return self._attempt(batch, store=store, replace=replace, on_empty=on_empty,
                                         report_key=report_key, texts=texts if attempt == 0 else None)  # fmt: skip
                except Changed:  # another writer committed while this batch was compared: again
                    time.sleep(random.uniform(0, 0.02 * 2**attempt))
        raise InputError(f"{self.backend.location}: the archive kept changing under this batch even with "
                         "the writer lock held; nothing of it was stored: add it again")  # fmt: skip

    def _attempt(self, batch: list[Any], *, store: bool, replace: bool, on_empty: Literal["skip", "error"],
                 report_key: str | None, texts: LocalTexts | None = None) -> DedupResult:  # fmt: skip
        vectors = StoredVectors(self.embed, self.backend.vectors) if self.embed is not None else None
        source = ArchiveSource(self, store=store, replace=replace, report_key=report_key, vectors=vectors)
        if texts is not None:
            return run(texts, source, self.config, on_empty=on_empty, embed=vectors)
        with (
            LocalExecutor(self.workers) as executor,
            LocalTexts(
                iter(batch),
                executor,
                spill=False,
                furniture_share=self.config.furniture_share,
                spill_shingles=len(batch) > IN_MEMORY,
            ) as texts,
        ):
            return run(texts, source, self.config, on_empty=on_empty, embed=vectors)

    def _twins(
        self, table: SketchTable, leaders: np.ndarray, leaving: frozenset[int] = frozenset()
    ) -> dict[int, int]:
        """Batch leader rows whose text is archived (and stays): the archived leader's row."""
        digests = [bytes(table.digests[r]) for r in leaders.tolist()]
        twins = {d: r for d, r in self.backend.leaders_of_digests(digests).items() if r not in leaving}
        return {r: twins[d] for r, d in zip(leaders.tolist(), digests, strict=True) if d in twins}

    def _known(
        self, table: SketchTable, where: Any, kept: np.ndarray, replace: bool
    ) -> tuple[np.ndarray, list[ArticleId], Removal | None]:
        """``kept`` less the articles archived with the same text (returned by id); an article
        archived with another text is an error, or with ``replace`` is removed from the archive."""
        ids = table.ids
        names = [json.dumps(ids[r]) for r in kept.tolist()]
        found = self.backend.rows_of_ids(names)
        twins = {name: twin for name in names if (twin := _printed_twin(name)) is not None}
        stored_twins = self.backend.rows_of_ids(sorted(set(twins.values()))) if twins else {}
        for row, name in zip(kept.tolist(), names, strict=True):
            if name not in found and twins.get(name) in stored_twins:
                raise InputError(f"{where(row)}article {ids[row]!r}: the archive holds {json.loads(twins[name])!r}, "
                                 "which prints the same: ids must differ as printed")  # fmt: skip
        same: list[int] = []
        other: list[int] = []
        for row, name in zip(kept.tolist(), names, strict=True):
            if name in found:
                (same if found[name][1] == bytes(table.digests[row]) else other).append(row)
        if other and not replace:
            row = min(other, key=lambda r: id_key(ids[r]))
            raise InputError(f"{where(row)}article {ids[row]!r} is already in the archive with "
                             "another text (--replace replaces it)")  # fmt: skip
        removal = self._removal([ids[r] for r in other]) if other else None  # stored with the batch
        drop = np.zeros(len(table), dtype=bool)
        drop[same] = True
        return kept[~drop[kept]], sorted((ids[r] for r in same), key=id_key), removal

    def _candidates(
        self, ids: list[ArticleId], keys: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], n: int,
        leaving: frozenset[int] = frozenset(),
    ) -> tuple[np.ndarray, tuple[int, int], np.ndarray, np.ndarray]:  # fmt: skip
        """Candidate pairs of the batch rows (``< n``) with archived holders (``n + k`` for the
        archived row ``archived[k]``) and among themselves, by the batch self-join's rules:
        pairs, (from bands, from anchors), crowded anchors, ``archived``."""
        holders = self.backend.holders(
            sorted_unique(np.concatenate([k for _, _, k in keys.values()])).tolist()
        )
        if leaving:  # articles this batch replaces are no candidates
            holders = {k: [r for r in rows if r not in leaving] for k, rows in holders.items()}
        config = self.config
        limits = {
            "band": config.lsh_max_bucket + 1,
            "scanned": config.lsh_max_bucket + 1,
            "anchor": config.anchor_alone_max_docs + 1,
            "passage": config.anchor_max_docs + 1,
        }
        held: dict[str, tuple[list[int], list[int]]] = {}  # kind: archived rows, their values
        known = np.sort(np.fromiter(holders, np.uint64, len(holders)))
        for kind, (_, raw, salted) in keys.items():
            found = [(r, v) for k, v in _held(salted, raw, known) for r in holders[k][-limits[kind] :]]
            held[kind] = ([r for r, _ in found], [v for _, v in found])
        archived = sorted_unique(np.array([r for rows, _ in held.values() for r in rows], dtype=np.int64))
        order_key = np.r_[len(archived) + id_ranks(ids), np.arange(len(archived))]
        size = n + len(archived)
        members: dict[str, np.ndarray] = {}
        values: dict[str, np.ndarray] = {}
        for kind, (rows, kind_values, _) in keys.items():
            old_rows = n + np.searchsorted(archived, np.array(held[kind][0], dtype=np.int64))
            members[kind] = np.r_[rows, old_rows].astype(np.int64)
            values[kind] = np.r_[kind_values, np.array(held[kind][1], dtype=np.uint64)].astype(np.uint64)
        window = config.crowded_window
        band = unique_pairs([pairs_in_buckets(values[kind], members[kind], order_key[members[kind]],
                                              config.lsh_max_bucket, window)
                             for kind in ("band", "scanned") if kind in keys], size)  # fmt: skip
        single, crowded = anchor_pairs(members["anchor"], values["anchor"], order_key, size,
                                       max_bucket=config.anchor_max_docs, window=window,
                                       alone_max=config.anchor_alone_max_docs)  # fmt: skip
        passage, _ = anchor_pairs(members["passage"], values["passage"], order_key, size,
                                  max_bucket=config.anchor_max_docs, window=window)  # fmt: skip
        anchor = unique_pairs([single, passage], size)
        new = [p[(p[:, 0] < n) | (p[:, 1] < n)] for p in (band, anchor, unique_pairs([band, anchor], size))]
        return new[2], (len(new[0]), len(new[1])), crowded, archived


class ArchiveSource:
    """The archive's plug of the stage sequence for one batch: the batch's ids and texts checked
    against the stored ones, candidates from the stored lookup keys (the stored articles they reach
    read back as context), line counts over the archive, and the batch stored when it settles."""

    def __init__(self, index: Index, *, store: bool, replace: bool, report_key: str | None = None,
                 vectors: StoredVectors | None = None) -> None:  # fmt: skip
        self.index, self.backend, self.config = index, index.backend, index.config
        self.report_key, self.vectors = report_key, vectors
        self.removal: Removal | None = None
        self.leaving: frozenset[int] = frozenset()
        self.store, self.replace = store, replace
        self.already: list[ArticleId] = []
        self.twin_of: dict[int, int] = {}
        self.stored: list[StoredArticle] = []
        self.keys: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._merged: dict[int, int] = {}
        self.lines: dict[int, int] = {}
        self.based_on = index.backend.version()

    def admit(self, table: SketchTable, kept: np.ndarray, texts: Any) -> np.ndarray:
        kept, self.already, self.removal = self.index._known(table, texts.where, kept, self.replace)
        self.leaving = frozenset(self.removal.rows) if self.removal else frozenset()
        return kept

    def fresh(self, table: SketchTable, leaders: np.ndarray) -> np.ndarray:
        self.twin_of = self.index._twins(table, leaders, self.leaving)
        fresh = np.array([r for r in leaders.tolist() if r not in self.twin_of], dtype=np.int64)
        # counted now: the run frees the table's lines before the batch is written
        self.lines = _line_texts(table, fresh, self.line_counts)
        return fresh

    def line_counts(self, hashes: np.ndarray) -> np.ndarray:
        counts = self.backend.line_counts(hashes.tolist())
        leaving = self.removal.lines if self.removal else {}
        return np.array([counts.get(h, 0) - leaving.get(h, 0) for h in hashes.tolist()], dtype=np.int64)

    def candidates(self, table: SketchTable, rows: np.ndarray, rank: np.ndarray) -> Found:
        n = len(table)
        index = self.index
        self.keys = keys = lookup_keys(table, rows, index.bands, index.rows_per_band, index.loose)
        pairs, found, crowded, archived = index._candidates(table.ids, keys, n, self.leaving)
        reached = set(archived[np.unique(pairs[pairs >= n] - n)].tolist())
        self.stored = _readable(self.backend.articles(sorted(reached | set(self.twin_of.values()))),
                                self.backend.location)  # fmt: skip
        position = {a.row: n + k for k, a in enumerate(self.stored)}
        context = [(json.loads(a.id), a.text, json.loads(a.meta)) for a in self.stored]
        twins = {leader: position[row] - n for leader, row in self.twin_of.items()}
        candidates = Candidates(_remap(pairs, n, archived, position), found[0], found[1], crowded)
        return Found(candidates, context, twins)

    def stored_groups(self, ids: Any) -> tuple[dict[ArticleId, int], dict[int, int]]:
        group_of = {json.loads(a.id): a.group for a in self.stored}
        sizes = self.backend.group_sizes(sorted(set(group_of.values()))) if group_of else {}
        if set(group_of.values()) - set(sizes) and self.backend.version() != self.based_on:
            raise Changed  # another writer merged a group since the articles were read: compare again
        return group_of, sizes

    def settle(self, state: Run, grouping: Grouping) -> tuple[list[Cluster], dict[str, Any]]:
        """Store the batch (when adding) in one transaction, rows and new group numbers allocated
        inside it; the story groups of the batch's articles as clusters."""
        ids = state.ids
        own = sorted(state.kept.tolist(), key=lambda r: id_key(ids[r]))
        local = _local_groups([ids[r] for r in own], grouping)
        self._merged = dict(grouping.merged)
        group_of: dict[int, int | None] = {}
        first_group = 0
        if self.store:
            _, first_group = self.backend.commit(
                self._batch(state, own, local, len({g for g, new in local.values() if new}))
            )
        for row in own:
            group, new = local[ids[row]]
            group_of[row] = (
                (first_group + group if new else group) if self.store else (None if new else group)
            )
        archive = {
            "location": self.backend.location, "stored": len(own) if self.store else 0,
            "already_stored": self.already,
            "groups": [{"id": ids[r], "group": group_of[r]} for r in own],
            "merged_groups": [{"group": g, "into": _root(grouping.merged, g)} for g in sorted(grouping.merged)],
        }  # fmt: skip
        return self._clusters(ids, own, group_of, grouping, local), archive

    def _clusters(self, ids: list[ArticleId], own: list[int], group_of: dict[int, int | None],
                  grouping: Grouping, local: dict[ArticleId, tuple[int, bool]]) -> list[Cluster]:  # fmt: skip
        """The groups the batch's articles are in, with two members or more, largest first; the
        representative of a group this batch started is its leader, of an older one its oldest."""
        numbered = sorted({g for g in group_of.values() if g is not None})
        stored = self.backend.group_members(numbered) if numbered else {}
        members: dict[Any, set[ArticleId]] = defaultdict(set)
        representative: dict[Any, ArticleId] = {}
        for number, rows in stored.items():
            members[number].update(json.loads(i) for _, i in rows)
            representative[number] = json.loads(rows[0][1])
        leaders = set(grouping.leaders.values())
        for row in own:
            article = ids[row]
            group: Any = group_of[row]
            if group is None and article in local:  # a query's new story, not numbered
                group = ("new", local[article][0])
            if group is None:
                continue
            members[group].add(article)
            if article in leaders:
                representative[group] = article
        clusters = [
            Cluster(tuple(sorted(m, key=id_key)), representative.get(g, min(m, key=id_key)))
            for g, m in members.items()
            if len(m) > 1
        ]
        clusters.sort(key=lambda c: (-len(c.members), id_key(c.members[0])))
        return clusters

    def _batch(
        self, state: Run, own: list[int], local: dict[ArticleId, tuple[int, bool]], new_groups: int
    ) -> Batch:
        """What the backend writes: rows and new groups numbered from 0 (the backend adds the
        archive's next numbers inside its transaction)."""
        ids, table, n = state.ids, state.table, state.n
        local_row = {r: k for k, r in enumerate(own)}
        stored_row = {n + k: a.row for k, a in enumerate(self.stored)}
        leader_of = {r: r for r in state.copies.leaders.tolist()}
        for leader, rows in state.copies.copies.items():  # a copy of a stored text is led by it
            leader_of.update(dict.fromkeys(rows, leader))
        batch = Batch(new_groups=new_groups, based_on=self.based_on, removal=self.removal,
                      vectors=self.vectors.new if self.vectors is not None else {})  # fmt: skip
        if self.report_key is not None:  # kept with the batch until its add finishes
            report = {"ids": [json.dumps(ids[r]) for r in own], "pairs": [p.to_dict() for p in state.pairs]}
            batch.report = (self.report_key, json.dumps(report))
        meta = state.texts.metadata({ids[r] for r in own})  # once: each call walks the batch
        for row in own:
            leader = leader_of[row]
            group, new_group = local[ids[row]]
            batch.articles.append(NewArticle(
                json.dumps(ids[row]), bytes(table.digests[row]),
                local_row[leader] if leader < n else stored_row[leader], leader < n, group, new_group,
                state.texts.text(row), json.dumps(meta.get(ids[row], {}), sort_keys=True),
            ))  # fmt: skip
        row_map = np.full(len(table), -1, dtype=np.int64)
        row_map[list(local_row)] = list(local_row.values())
        keys = self.keys.values()
        batch.keys = (
            np.concatenate([np.empty(0, np.uint64), *(salted for _, _, salted in keys)]).astype(np.uint64),
            np.concatenate([np.empty(0, np.int64), *(row_map[rows] for rows, _, _ in keys)]).astype(np.int64),
        )
        batch.lines = self.lines
        batch.merged = dict(grouping_merged) if (grouping_merged := self._merged) else {}
        return batch


def _local_groups(articles: list[ArticleId], grouping: Grouping) -> dict[ArticleId, tuple[int, bool]]:
    """Each article's group: ``(stored group, False)``, or ``(k, True)`` for the k-th new group of
    the batch (numbered from 0 in the order of the groups' first article by id; an article in no
    group has a new group of its own)."""
    out: dict[ArticleId, tuple[int, bool]] = {}
    number: dict[Any, int] = {}
    for article in sorted(articles, key=id_key):
        key: Any = grouping.group_of.get(article)
        if isinstance(key, int):
            out[article] = (key, False)
            continue
        key = key if key is not None else ("alone", article)
        out[article] = (number.setdefault(key, len(number)), True)
    return out


class ArchivedTexts(Mapping[ArticleId, str]):
    """Texts by id: those given, else the archive's (what ``--explain`` shows of a pair)."""

    def __init__(self, given: Mapping[ArticleId, str], index: Index) -> None:
        self.given, self.index = given, index

    def __getitem__(self, article_id: ArticleId) -> str:
        if article_id in self.given:
            return self.given[article_id]
        return self.index.text(article_id)

    def __iter__(self) -> Iterator[ArticleId]:
        return iter(self.given)

    def __len__(self) -> int:
        return len(self.given)


def _printed_twin(name: str) -> str | None:
    """The other id (as JSON) that prints as ``name``'s id does: ``1`` for ``"1"`` and back."""
    value = json.loads(name)
    if isinstance(value, int):
        return json.dumps(str(value))
    if isinstance(value, str) and value.lstrip("-").isdigit() and str(int(value)) == value:
        return json.dumps(int(value))
    return None


def _held(salted: np.ndarray, raw: np.ndarray, known: np.ndarray) -> list[tuple[int, int]]:
    """``(salted key, its value)`` of the batch's keys that archived articles hold (``known``,
    sorted), each key once, in the order of its first place in ``salted`` (a million keys a batch,
    most of them held by none: looked up in numpy, not one by one)."""
    if not len(known) or not len(salted):
        return []
    place = np.minimum(np.searchsorted(known, salted), len(known) - 1)
    hits = np.flatnonzero(known[place] == salted)
    _, first = sorted_unique(salted[hits], return_index=True)
    chosen = np.sort(hits[first])
    return list(zip(salted[chosen].tolist(), raw[chosen].tolist(), strict=True))


def _readable(articles: list[StoredArticle], where: str) -> list[StoredArticle]:
    """``articles``, or the error naming the first whose stored text is damaged."""
    for article in articles:
        if article.damaged:
            name = json.loads(article.id)
            raise InputError(f"{where}: article {name!r} is damaged: {article.damaged}; dedup index check lists "
                             f"the damaged articles, dedup index remove drops them")  # fmt: skip
    return articles


def _root(merged: dict[int, int], group: int) -> int:
    while group in merged:
        group = merged[group]
    return group


def _remap(pairs: np.ndarray, n: int, archived: np.ndarray, position: dict[int, int]) -> np.ndarray:
    """Pairs with archived rows numbered ``n + k`` in ``archived`` renumbered by ``position``
    (archived row → its row among the articles read back)."""
    if pairs.size == 0:
        return pairs
    lookup = np.array([position.get(r, -1) for r in archived.tolist()], dtype=np.int64)
    out = pairs.copy()
    old = out >= n
    out[old] = lookup[out[old] - n]
    return np.sort(out, axis=1)


def _line_texts(table: SketchTable, rows: np.ndarray, held: Any) -> dict[int, int]:
    """Line hash → how many of ``rows`` carry it, and the counts of their forms
    (:func:`dedup.forms.archive_counts`, ``held``: the texts the archive holds per line)."""
    member = np.zeros(len(table), dtype=bool)
    member[rows] = True
    lines = member[table.line_rows]
    values, counts = np.unique(table.line_hashes[lines], return_counts=True)
    out = dict(zip(values.tolist(), counts.tolist(), strict=True))
    out.update(
        archive_counts(table.line_rows[lines], table.line_hashes[lines], table.line_forms[lines], held)
    )
    return out


def archive_settings(config: DedupConfig) -> dict[str, Any]:
    """What an archive fixes at creation: every setting and the hash schemes."""
    params = run_params(config)
    return {
        k: params[k]
        for k in (
            *(name for name in config.to_dict() if name != "semantic"),  # a choice of each run
            "sketch_scheme",
            "minhash_scheme",
            "lsh_bands",
            "lsh_rows_per_band",
            "anchor_min_words",
            "text_units",
        )
    }


def _stored_config(stored: dict[str, Any], given: DedupConfig | None, where: str) -> DedupConfig:
    """The archive's settings, checked against ``given`` and this version's hash schemes."""
    config = DedupConfig(**{k: stored[k] for k in DedupConfig.option_names() if k in stored})
    wanted = archive_settings(given or config)
    for name, value in stored.items():
        if name != "semantic" and wanted.get(name) != value:  # (stored, False, by earlier versions)
            raise ConfigError(
                f"{where}: the archive was made with {name}={value!r}, not {wanted.get(name)!r}"
            )
    return config

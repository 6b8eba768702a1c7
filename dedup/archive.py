"""A persistent archive: articles added as they arrive, new ones checked against everything seen.

:class:`Index` keeps articles in a :mod:`dedup.backends` store (an SQLite file by default, or a
Redis server) and answers each batch with the same stages as :func:`dedup.find_duplicates`:

1. the batch is sketched; ids already archived with the same text are passed over (counted),
   with another text refused (or, with ``replace=True``, the old article removed first);
2. exact copies: within the batch by digest, and of archived texts by a digest lookup;
3. candidates: each new distinct text's LSH band values, sentence anchors and passages
   (:func:`lookup_keys`) looked up among the archived holders, and among the batch, with the
   batch self-join's rules (a band value held by more than 64 articles pairs neighbours only, a
   sentence held by more than 4 pairs nobody, a passage held by more than ``anchor_max_docs``
   pairs neighbours only) counted over the archive and the batch;
4. the archived candidates' texts are read back and sketched again (the sketch is a pure function
   of the text and the settings), and the pre-check, boilerplate removal and alignment run on the
   batch and those archived articles together;
5. story groups: a new article joins the group it is strongly linked to (``near_duplicate``,
   ``contained`` or an exact copy) with the largest share of that group's members, if the share is
   at least one half (the majority rule of :mod:`dedup.clustering`); other groups it reaches
   that share of are merged into it (reported); else it starts a group. An archived article
   keeps its group id unless its group is merged.

**Batches versus the whole collection.** Adding a collection in batches (ids in arrival order)
reports, over all batches, the pairs :func:`dedup.find_duplicates` reports on the whole — except
where a document-frequency rule judged differently because the counts grew between batches:
boilerplate lines (judged on the batch's articles and their archived candidates, with the line
frequencies over the whole archive, which the archive keeps and updates on every add), template
sentences (held by more than 4 articles *so far*) and crowded band values (neighbours among the
archived holders are the oldest ones, not the nearest ids).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace as replaced
from itertools import islice
from typing import Any, Literal

import numpy as np

from .articles import ArticleId, ArticlesInput, Ingest, id_key, id_ranks, iter_articles
from .backends import Backend, Batch, StoredArticle, open_backend
from .boilerplate import find_boilerplate
from .candidates import (
    ALONE_MAX_DOCS,
    MAX_BUCKET,
    Candidates,
    _band_keys,
    _pairs_in_runs,
    _unique_pairs,
    anchor_pairs,
    lsh_bands,
)
from .clustering import STRONG_KINDS
from .config import DedupConfig
from .copies import ExactCopies, group_exact_copies
from .errors import ConfigError, InputError
from .executor import LocalExecutor
from .pipeline import _non_empty, run_params, sketch_articles, summarize
from .results import Cluster, DedupResult, Pair
from .shingles import _fmix64, sorted_unique
from .sketch import SketchSettings, SketchTable, resketch_without_boilerplate
from .store import ShingleStore, TextStore
from .verification import align_tasks, precheck, verify

BATCH = 10_000
"""Articles per transaction of :meth:`Index.add`."""
_KIND_SALT = {"anchor": np.uint64(0xA0761D6478BD642F), "passage": np.uint64(0xE7037ED1A0B428DB)}


def lookup_keys(
    table: SketchTable, rows: np.ndarray, bands: int, rows_per_band: int
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """What ``rows`` are looked up by: ``{kind: (rows, values, keys)}`` for the kinds ``band``,
    ``anchor`` and ``passage``. ``values`` are what the candidate rules compare (a band's value
    salted with its band number; a sentence or passage hash); ``keys`` the 64-bit keys stored, each
    salted by its kind, so that one table of keys holds all three."""
    with np.errstate(over="ignore"):
        band_values = [
            _fmix64(_band_keys(table.signatures[rows, b * rows_per_band : (b + 1) * rows_per_band])
                    ^ (np.uint64(b + 1) * np.uint64(0x9E3779B97F4A7C15)))
            for b in range(bands)
        ]  # fmt: skip
        values = np.concatenate([*band_values, np.empty(0, np.uint64)])
        out = {"band": (np.tile(rows, bands).astype(np.int64), values, values)}
        member = np.zeros(len(table), dtype=bool)
        member[rows] = True
        for kind, row_column, value_column in (
            ("anchor", table.anchor_rows, table.anchors), ("passage", table.passage_rows, table.passages)
        ):  # fmt: skip
            held = member[row_column]
            raw = value_column[held]
            out[kind] = (row_column[held].astype(np.int64), raw, _fmix64(raw ^ _KIND_SALT[kind]))
    return out


class Index:
    """An archive of articles on an SQLite file (a path) or a Redis server (``redis://host:port/db``).

    ``config`` (or keyword options) fixes the settings when the archive is created; opening an
    existing archive with other settings is a :class:`ConfigError` naming both values, and with
    none it uses the archive's own. ``create=False`` refuses a path with no archive.

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
        self.backend: Backend = open_backend(str(location), create=create)
        try:
            stored = self.backend.settings()
            given = (
                DedupConfig(**{**(config.to_dict() if config else {}), **options})
                if (config or options)
                else None
            )
            if given is not None and given.semantic:
                raise ConfigError("the semantic check runs on one collection, not an archive: "
                                  "use find_duplicates(..., semantic=True) or dedup --semantic")  # fmt: skip
            if stored is None:
                self.config = given or DedupConfig()
                self.backend.create(archive_settings(self.config))
            else:
                self.config = _stored_config(stored, given, self.backend.location)
        except BaseException:
            self.backend.close()
            raise
        self.workers = workers
        self.bands, self.rows_per_band = lsh_bands(self.config.candidate_threshold, self.config.num_perm)

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
        stream = iter_articles(articles)
        while batch := list(islice(stream, batch_size)):
            results.append(self._run(batch, store=True, replace=replace, on_empty=on_empty))
        if len(results) == 1:
            return results[0]
        return self._merged_results(results)

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
        wanted = [json.dumps(i) for i in ids]
        found = self.backend.rows_of_ids(wanted)
        missing = [i for i in wanted if i not in found]
        if missing:
            raise InputError(
                f"article {json.loads(missing[0])!r} is not in the archive {self.backend.location}"
            )
        stored = self.backend.articles(sorted({r for r, _ in found.values()}))
        gone = {a.row for a in stored}
        leaders = [a for a in stored if a.leader == a.row]
        table = SketchTable.build([a.text for a in leaders], SketchSettings.of(self.config))
        keys = lookup_keys(table, np.arange(len(leaders)), self.bands, self.rows_per_band)
        drop: list[tuple[int, int]] = []
        add: list[tuple[int, int]] = []
        promote: dict[int, int] = {}
        for kind_rows, _, kind_keys in keys.values():
            for local, key in zip(kind_rows.tolist(), kind_keys.tolist(), strict=True):
                heir = self._heir(leaders[local].row, gone, promote)
                drop.append((key, leaders[local].row))
                if heir is not None:
                    add.append((key, heir))
        lines: dict[int, int] = defaultdict(int)
        for local in range(len(leaders)):
            if self._heir(leaders[local].row, gone, promote) is None:
                for line in set(table.line_hashes[table.line_rows == local].tolist()):
                    lines[line] += 1
        promote = {old: new for old, new in promote.items() if new >= 0}
        self.backend.remove(sorted(gone), drop, add, dict(lines), promote)
        return len(gone)

    def _heir(self, leader: int, gone: set[int], promote: dict[int, int]) -> int | None:
        """The copy that leads a removed leader's copies, if any is left (-1 cached for none)."""
        if leader not in promote:
            heirs = [r for r in self.backend.copies_of(leader) if r not in gone]
            promote[leader] = heirs[0] if heirs else -1
        return promote[leader] if promote[leader] >= 0 else None

    def text(self, article_id: ArticleId) -> str:
        """The archived text of an article (:class:`KeyError` if it is not archived)."""
        found = self.backend.rows_of_ids([json.dumps(article_id)])
        if not found:
            raise KeyError(article_id)
        ((row, _),) = found.values()
        return self.backend.articles([row])[0].text

    # ------------------------------------------------------------------ one batch

    def _run(
        self, articles: ArticlesInput, *, store: bool, replace: bool, on_empty: Literal["skip", "error"]
    ) -> DedupResult:
        config = self.config
        with (
            LocalExecutor(self.workers) as executor,
            TextStore(spill=False) as texts,
            ShingleStore() as shingles,
        ):
            ingest = Ingest()
            table = sketch_articles(iter_articles(articles), ingest, texts, config, executor, shingles)
            n = len(table)
            kept, skipped = _non_empty(table, ingest, id_ranks(ingest.ids), on_empty)
            kept, already = self._known(table, ingest, kept, replace)
            copies = group_exact_copies(table, kept, id_ranks(ingest.ids))
            twin_of = self._twins(table, copies.leaders)
            fresh = np.array([r for r in copies.leaders.tolist() if r not in twin_of], dtype=np.int64)
            keys = lookup_keys(table, fresh, self.bands, self.rows_per_band)
            pairs, found, crowded, archived = self._candidates(ingest, keys, n)
            wanted = sorted(set(archived[np.unique(pairs[pairs >= n] - n)].tolist()) | set(twin_of.values()))
            stored = self.backend.articles(wanted)
            position = {a.row: n + k for k, a in enumerate(stored)}
            pairs = _remap(pairs, n, archived, position)
            ids = [*ingest.ids, *(json.loads(a.id) for a in stored)]
            fresh_lines = _line_texts(table, fresh)
            table = _read_back(stored, table, texts, shingles)
            leaders = np.r_[fresh, np.arange(n, n + len(stored))].astype(np.int64)
            boilerplate = self._boilerplate(table, leaders, ids, fresh_lines)
            resketch_without_boilerplate(table, leaders, boilerplate, texts, executor, shingles)
            candidates = Candidates(pairs, found[0], found[1], crowded)
            survivors, estimates = precheck(candidates, table, config, shingles, boilerplate)
            everything = _with_twins(copies, twin_of, position)
            tasks = align_tasks(everything, survivors, id_ranks(ids))
            found_pairs, aligned = verify(tasks, store=texts, ids=ids, estimates=estimates, boilerplate=boilerplate,
                                          config=config, executor=executor)  # fmt: skip
            summary = summarize(
                table, kept, copies, boilerplate, candidates, (len(survivors), aligned), found_pairs, []
            )
        groups, clusters, merged = self._groups(found_pairs, ingest, kept, copies, stored, store=store)
        if store:
            self._commit(
                ingest, table, kept, copies, twin_of, fresh, keys, fresh_lines, groups, merged, texts
            )
        summary = replaced(summary, articles=n, skipped=n - len(kept) - len(already), clusters=len(clusters),
                           articles_in_clusters=sum(len(c.members) for c in clusters))  # fmt: skip
        archive = {
            "location": self.backend.location, "stored": len(kept) if store else 0, "already_stored": already,
            "groups": [{"id": ingest.ids[r], "group": groups[r]} for r in sorted(groups, key=lambda r: id_key(ingest.ids[r]))],
            "merged_groups": [{"group": g, "into": _root(merged, g)} for g in sorted(merged)],
        }  # fmt: skip
        shown = {i for p in found_pairs for i in (p.a, p.b)} | {m for c in clusters for m in c.members}
        meta = {k: v for k, v in ingest.metadata(kept.tolist()).items() if k in shown}
        return DedupResult(
            tuple(found_pairs), tuple(clusters), skipped, run_params(config), summary, meta, archive
        )

    def _twins(self, table: SketchTable, leaders: np.ndarray) -> dict[int, int]:
        """Batch leader rows whose text is archived: the archived leader's row."""
        digests = [bytes(table.digests[r]) for r in leaders.tolist()]
        twins = self.backend.leaders_of_digests(digests)
        return {r: twins[d] for r, d in zip(leaders.tolist(), digests, strict=True) if d in twins}

    def _known(
        self, table: SketchTable, ingest: Ingest, kept: np.ndarray, replace: bool
    ) -> tuple[np.ndarray, list[ArticleId]]:
        """``kept`` less the articles archived with the same text (returned by id); an article
        archived with another text is an error, or with ``replace`` is removed from the archive."""
        names = [json.dumps(ingest.ids[r]) for r in kept.tolist()]
        found = self.backend.rows_of_ids(names)
        same: list[int] = []
        other: list[int] = []
        for row, name in zip(kept.tolist(), names, strict=True):
            if name in found:
                (same if found[name][1] == bytes(table.digests[row]) else other).append(row)
        if other and not replace:
            row = min(other, key=lambda r: id_key(ingest.ids[r]))
            raise InputError(f"{ingest.where(row)}article {ingest.ids[row]!r} is already in the archive with "
                             "another text (--replace replaces it)")  # fmt: skip
        if other:
            self.remove([ingest.ids[r] for r in other])
        drop = np.zeros(len(table), dtype=bool)
        drop[same] = True
        return kept[~drop[kept]], sorted((ingest.ids[r] for r in same), key=id_key)

    def _candidates(
        self, ingest: Ingest, keys: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], n: int
    ) -> tuple[np.ndarray, tuple[int, int], np.ndarray, np.ndarray]:
        """Candidate pairs of the batch rows (``< n``) with archived holders (``n + k`` for the
        archived row ``archived[k]``) and among themselves, by the batch self-join's rules:
        pairs, (from bands, from anchors), crowded anchors, ``archived``."""
        holders = self.backend.holders(
            sorted_unique(np.concatenate([k for _, _, k in keys.values()])).tolist()
        )
        limits = {
            "band": MAX_BUCKET + 1,
            "anchor": ALONE_MAX_DOCS + 1,
            "passage": self.config.anchor_max_docs + 1,
        }
        held: dict[str, tuple[list[int], list[int]]] = {}  # kind: archived rows, their values
        for kind, (_, raw, salted) in keys.items():
            value_of = dict(zip(salted.tolist(), raw.tolist(), strict=True))
            found = [(r, value_of[k]) for k in value_of for r in holders.get(k, [])[-limits[kind] :]]
            held[kind] = ([r for r, _ in found], [v for _, v in found])
        archived = np.unique(np.array([r for rows, _ in held.values() for r in rows], dtype=np.int64))
        order_key = np.r_[len(archived) + id_ranks(ingest.ids), np.arange(len(archived))]
        size = n + len(archived)
        members: dict[str, np.ndarray] = {}
        values: dict[str, np.ndarray] = {}
        for kind, (rows, kind_values, _) in keys.items():
            old_rows = n + np.searchsorted(archived, np.array(held[kind][0], dtype=np.int64))
            members[kind] = np.r_[rows, old_rows].astype(np.int64)
            values[kind] = np.r_[kind_values, np.array(held[kind][1], dtype=np.uint64)].astype(np.uint64)
        band = _unique_pairs(
            [_pairs_in_runs(values["band"], members["band"], order_key[members["band"]], MAX_BUCKET)], size
        )
        single, crowded = anchor_pairs(members["anchor"], values["anchor"], order_key, size,
                                       max_bucket=self.config.anchor_max_docs, alone_max=ALONE_MAX_DOCS)  # fmt: skip
        passage, _ = anchor_pairs(
            members["passage"], values["passage"], order_key, size, max_bucket=self.config.anchor_max_docs
        )
        anchor = _unique_pairs([single, passage], size)
        new = [p[(p[:, 0] < n) | (p[:, 1] < n)] for p in (band, anchor, _unique_pairs([band, anchor], size))]
        return new[2], (len(new[0]), len(new[1])), crowded, archived

    def _boilerplate(self, table: SketchTable, leaders: np.ndarray, ids: list[ArticleId],
                     fresh_lines: dict[int, int]) -> frozenset[int]:  # fmt: skip
        """Boilerplate lines of ``leaders`` (new distinct texts and the archived candidates):
        frequent by the archive's line counts plus the new texts', judged on these articles."""
        member = np.zeros(len(table), dtype=bool)
        member[leaders] = True
        lines = member[table.line_rows]
        hashes = table.line_hashes[lines]
        distinct = np.unique(hashes)
        counts = self.backend.line_counts(distinct.tolist())
        total = np.array(
            [counts.get(h, 0) + fresh_lines.get(h, 0) for h in distinct.tolist()], dtype=np.int64
        )
        frequent = distinct[total >= self.config.boilerplate_min_docs]
        return find_boilerplate(table.line_rows[lines], hashes, table.line_chars[lines], id_ranks(ids),
                                min_docs=self.config.boilerplate_min_docs, frequent=frequent,
                                signatures=table.signatures)  # fmt: skip

    def _groups(self, pairs: list[Pair], ingest: Ingest, kept: np.ndarray, copies: ExactCopies,
                stored: list[StoredArticle], *, store: bool) -> tuple[dict[int, int | None], list[Cluster], dict[int, int]]:  # fmt: skip
        """Each new article's story group (by row), the groups as clusters, and merged groups."""
        group_of_id: dict[ArticleId, int | None] = {json.loads(a.id): a.group for a in stored}
        row_of = {ingest.ids[r]: r for r in kept.tolist()}
        links: dict[ArticleId, list[ArticleId]] = defaultdict(list)
        for pair in pairs:
            if pair.kind in STRONG_KINDS:
                links[pair.a].append(pair.b)
                links[pair.b].append(pair.a)
        _, next_group = self.backend.next_row_and_group()
        sizes = dict(self.backend.group_sizes(sorted({g for g in group_of_id.values() if g is not None})))
        merged: dict[int, int] = {}
        groups: dict[int, int | None] = {}
        for article in sorted(row_of, key=id_key):
            share: dict[int, int] = defaultdict(int)
            for other in links[article]:
                group = group_of_id.get(other)
                if group is not None:
                    share[_root(merged, group)] += 1
            eligible = sorted(
                (g for g, k in share.items() if 2 * k >= sizes.get(g, 1)),
                key=lambda g: (-share[g] / sizes.get(g, 1), g),
            )
            if eligible:
                group = eligible[0]
                for other in eligible[1:]:
                    merged[other] = group
                    sizes[group] = sizes.get(group, 1) + sizes.pop(other, 1)
            elif store:
                group, next_group = next_group, next_group + 1
            else:
                group = None
            if group is not None:
                sizes[group] = sizes.get(group, 0) + 1
            group_of_id[article] = group
            groups[row_of[article]] = group
        self._next_group = next_group
        return (
            {r: (_root(merged, g) if g is not None else None) for r, g in groups.items()},
            self._clusters(groups, merged, ingest),
            merged,
        )

    def _clusters(
        self, groups: dict[int, int | None], merged: dict[int, int], ingest: Ingest
    ) -> list[Cluster]:
        """The story groups of the batch's articles with two members or more, archived members
        first (the oldest is the representative)."""
        final = {r: _root(merged, g) for r, g in groups.items() if g is not None}
        wanted = sorted(set(final.values()) | set(merged))
        archived = self.backend.group_members(wanted) if wanted else {}
        members: dict[int, list[ArticleId]] = defaultdict(list)
        for group in wanted:
            members[_root(merged, group)] += [json.loads(i) for _, i in archived.get(group, [])]
        for row in sorted(final, key=lambda r: id_key(ingest.ids[r])):
            members[final[row]].append(ingest.ids[row])
        return [Cluster(tuple(sorted(m, key=id_key)), m[0]) for _, m in sorted(members.items()) if len(m) > 1]

    def _commit(self, ingest: Ingest, table: SketchTable, kept: np.ndarray, copies: ExactCopies,
                twin_of: dict[int, int], fresh: np.ndarray, keys: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
                fresh_lines: dict[int, int], groups: dict[int, int | None], merged: dict[int, int],
                texts: TextStore) -> None:  # fmt: skip
        """Write the batch in one transaction: articles, keys of the new distinct texts, line
        counts, group merges."""
        first_row, _ = self.backend.next_row_and_group()
        order = sorted(kept.tolist(), key=lambda r: id_key(ingest.ids[r]))
        archive_row = {r: first_row + k for k, r in enumerate(order)}
        leader_of = {r: r for r in copies.leaders.tolist()}
        for leader, rows in copies.copies.items():
            leader_of.update(dict.fromkeys(rows, leader))
        batch = Batch(next_group=self._next_group)
        for row in order:
            leader = leader_of[row]
            stored_leader = twin_of[leader] if leader in twin_of else archive_row[leader]
            group = groups[row]
            assert group is not None
            batch.articles.append(StoredArticle(archive_row[row], json.dumps(ingest.ids[row]), bytes(table.digests[row]),
                                                stored_leader, group, texts.get(row)))  # fmt: skip
        row_map = np.full(len(table), -1, dtype=np.int64)
        row_map[list(archive_row)] = list(archive_row.values())
        batch.keys = (
            np.concatenate([salted for _, _, salted in keys.values()]),
            np.concatenate([row_map[rows] for rows, _, _ in keys.values()]),
        )
        batch.lines = fresh_lines
        batch.merged = merged
        self.backend.commit(batch)


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


def _root(merged: dict[int, int], group: int) -> int:
    while group in merged:
        group = merged[group]
    return group


def _read_back(
    stored: list[StoredArticle], table: SketchTable, texts: TextStore, shingles: ShingleStore
) -> SketchTable:
    """The batch's table with the archived articles ``stored`` sketched again below it (their
    texts and shingles kept in ``texts`` and ``shingles`` under the same rows)."""
    n = len(table)
    for article in stored:
        texts.add(article.text)
    extra, more = SketchTable.build_with_shingles([a.text for a in stored], table.settings)
    shingles.put(np.arange(n, n + len(stored)), more)
    return SketchTable.concat([table, extra], table.settings)


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


def _line_texts(table: SketchTable, rows: np.ndarray) -> dict[int, int]:
    """Line hash → how many of ``rows`` carry it."""
    member = np.zeros(len(table), dtype=bool)
    member[rows] = True
    values, counts = np.unique(table.line_hashes[member[table.line_rows]], return_counts=True)
    return dict(zip(values.tolist(), counts.tolist(), strict=True))


def _with_twins(copies: ExactCopies, twin_of: dict[int, int], position: dict[int, int]) -> ExactCopies:
    """The batch's exact copies, a batch leader with an archived twin (and its copies) under the twin."""
    groups = {k: list(v) for k, v in copies.copies.items()}
    for leader, archived in twin_of.items():
        groups[position[archived]] = [leader, *groups.pop(leader, [])]
    return ExactCopies(copies.leaders, groups, copies.is_leader)


def archive_settings(config: DedupConfig) -> dict[str, Any]:
    """What an archive fixes at creation: every setting and the hash schemes."""
    params = run_params(config)
    return {
        k: params[k]
        for k in (
            *config.to_dict(),
            "sketch_scheme",
            "minhash_scheme",
            "lsh_bands",
            "lsh_rows_per_band",
            "anchor_min_words",
            "anchor_alone_max_docs",
        )
    }


def _stored_config(stored: dict[str, Any], given: DedupConfig | None, where: str) -> DedupConfig:
    """The archive's settings, checked against ``given`` and this version's hash schemes."""
    config = DedupConfig(**{k: stored[k] for k in DedupConfig.option_names() if k in stored})
    wanted = archive_settings(given or config)
    for name, value in stored.items():
        if wanted.get(name) != value:
            raise ConfigError(
                f"{where}: the archive was made with {name}={value!r}, not {wanted.get(name)!r}"
            )
    return config

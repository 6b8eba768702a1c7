"""The local plug of the stage sequence (:mod:`dedup.run`): texts on this machine, work on its cores.

:class:`LocalTexts` keeps each row's text in a :class:`~dedup.store.TextStore` (in memory for a
list or mapping, spilled to a temporary file for a stream) and its shingles in a
:class:`~dedup.store.ShingleStore` (for the exact check), and hands sketching, resketching and
alignment to a :class:`~dedup.executor.LocalExecutor` chunk by chunk. The batch run and the
archive both use it (the Spark engine runs the stages distributed: :mod:`dedup.spark_stages`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from itertools import islice
from typing import Any

import numpy as np

from .articles import Article, ArticleId, Ingest
from .config import DedupConfig
from .errors import InputError
from .executor import Executor
from .sketch import SketchSettings, SketchTable, furniture_rows, signatures_without
from .store import Shingles, ShingleStore, TextStore
from .verification import AlignTask, Outcome, align_chunk, exact_containment, passes_check

CHUNK = 512
"""Articles per sketching task, and pairs per alignment task, sent to the executor."""


class LocalTexts:
    """The articles of one run on this machine; a context manager that frees their stores."""

    def __init__(self, articles: Iterable[Article], executor: Executor, *, spill: bool,
                 furniture_share: float, spill_shingles: bool = True) -> None:  # fmt: skip
        self.articles = iter(articles)
        self.executor = executor
        self.ingest = Ingest()
        self.store = TextStore(spill=spill)
        self.shingles = ShingleStore(spill=spill_shingles)
        self.furniture_share = furniture_share
        self.context_meta: dict[ArticleId, dict[str, Any]] = {}

    def __enter__(self) -> LocalTexts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.store.close()
        self.shingles.close()

    def sketch(self, settings: SketchSettings) -> SketchTable:
        """Sketch every article on the executor, chunk by chunk, keeping its text and shingles."""

        def chunks() -> Iterator[list[str]]:
            while batch := list(islice(self.articles, CHUNK)):
                for article in batch:
                    self._keep(self.ingest.add(article), article)
                yield [article.text for article in batch]

        def tables() -> Iterator[SketchTable]:
            work = partial(SketchTable.build_with_shingles, settings=settings)
            for table, values in self.executor.map(
                work, chunks(), label="sketching", size=lambda out: len(out[0])
            ):
                self.shingles.put(np.arange(len(self.shingles), len(self.shingles) + len(table)), values)
                yield table

        table = SketchTable.concat(list(tables()), settings)
        table.ids = list(self.ingest.ids)
        return table

    def _keep(self, row: int, article: Article) -> None:
        try:
            self.store.add(article.text)
        except UnicodeEncodeError as error:
            raise InputError(
                f"{self.ingest.where(row)}article {article.id!r}: its text has a lone surrogate "
                f"(\\u{ord(article.text[error.start]):04x}) at character {error.start}, which no UTF-8 output can carry"
            ) from None

    def where(self, row: int) -> str:
        return self.ingest.where(row) if row < len(self.ingest.ids) else ""

    def metadata(self, ids: set[ArticleId]) -> dict[ArticleId, dict[str, Any]]:
        found = self.ingest.metadata(r for r, i in enumerate(self.ingest.ids) if i in ids)
        return {**{i: m for i, m in self.context_meta.items() if i in ids and m}, **found}

    def text(self, row: int) -> str:
        return self.store.get(row)

    def extend(
        self, articles: Sequence[tuple[ArticleId, str, dict[str, Any]]], settings: SketchSettings
    ) -> SketchTable:
        first = len(self.shingles)
        for article_id, text, meta in articles:
            self.store.add(text)
            self.context_meta[article_id] = meta
        table, values = SketchTable.build_with_shingles(
            [a[1] for a in articles], settings, [a[0] for a in articles]
        )
        self.shingles.put(np.arange(first, first + len(articles)), values)
        return table

    def resketch(self, table: SketchTable, rows: np.ndarray, boilerplate: frozenset[int]) -> None:
        """Give the ``rows`` that are mostly boilerplate the signature, shingle count and shingles
        of their text without it, in place."""
        redo = furniture_rows(table, rows, boilerplate, self.furniture_share)
        if redo.size == 0:
            return
        work = partial(signatures_without, boilerplate=boilerplate, settings=table.settings)
        chunks = ([self.store.get(r) for r in redo[start : start + CHUNK].tolist()]
                  for start in range(0, redo.size, CHUNK))  # fmt: skip
        done = 0
        for signatures, counts, values in self.executor.map(
            work, chunks, label="furniture", size=lambda out: len(out[1])
        ):
            rows_done = redo[done : done + len(counts)]
            table.signatures[rows_done] = signatures
            table.shingles[rows_done] = counts
            # the boilerplate is gone; template sentences are not told apart
            self.shingles.put(rows_done, Shingles.untagged(counts, values))
            done += len(counts)

    def check_and_align(
        self, tasks: list[AlignTask], boilerplate: frozenset[int], templates: np.ndarray, config: DedupConfig
    ) -> list[Outcome]:
        """The exact check from the stored shingles (all candidates at once), then the alignment of
        the tasks that pass on the executor, texts read from the store chunk by chunk."""
        passed = np.ones(len(tasks), dtype=bool)
        candidates = np.array([k for k, t in enumerate(tasks) if not t.exact], dtype=np.int64)
        if candidates.size:
            pairs = np.sort(np.array([(tasks[k].a, tasks[k].b) for k in candidates.tolist()]), axis=1)
            whole, own = exact_containment(pairs, self.shingles, boilerplate, templates)
            scans = np.array([tasks[k].scanned for k in candidates.tolist()], dtype=np.int64)
            passed[candidates] = passes_check(whole, own, config, scans)
        todo = [t for t, ok in zip(tasks, passed.tolist(), strict=True) if ok]

        def chunks() -> Iterator[list[tuple[bool, str, str, int]]]:
            for start in range(0, len(todo), CHUNK):
                yield [(t.exact, self.store.get(t.a), self.store.get(t.b), t.scanned)
                       for t in todo[start : start + CHUNK]]  # fmt: skip

        work = partial(align_chunk, config=config, boilerplate=boilerplate)
        results = (
            r for chunk in self.executor.map(work, chunks(), label="aligning", total=len(todo)) for r in chunk
        )
        return [(True, *next(results)) if ok else (False, None, None) for ok in passed.tolist()]

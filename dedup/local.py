"""The local plug of the stage sequence (:mod:`dedup.run`): texts on this machine, work on its cores.

:class:`LocalTexts` keeps each row's text in a :class:`~dedup.store.TextStore` (in memory for a
list or mapping, spilled to a temporary file for a stream) and its shingles in a
:class:`~dedup.store.ShingleStore` (for the exact check), and hands sketching, resketching and
alignment to a :class:`~dedup.executor.LocalExecutor` chunk by chunk. The batch run and the
archive both use it (the Spark engine runs the stages distributed: :mod:`dedup.spark_stages`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from itertools import count, islice
from typing import Any

import numpy as np

from .articles import Article, ArticleId, Ingest
from .config import DedupConfig
from .errors import InputError
from .executor import Executor, LocalExecutor
from .sketch import SketchSettings, SketchTable, furniture_rows, signatures_without
from .store import Shingles, ShingleStore, TextStore
from .verification import AlignTask, Outcome, PreparedTexts, align_chunk, exact_containment, passes_check

ABANDON_WAIT = 5.0
"""Seconds an add that stops early waits for the batch being read ahead (input may never come)."""
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
        self.sketched: SketchTable | None = None
        """The table :meth:`sketch` returns next without sketching (made ahead: :class:`SketchAhead`)."""

    def __enter__(self) -> LocalTexts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()
        self.shingles.close()

    def sketch(self, settings: SketchSettings) -> SketchTable:
        """Sketch every article on the executor, chunk by chunk, keeping its text and shingles."""
        if self.sketched is not None:  # (made with the run's settings: the articles are read once)
            ready, self.sketched = self.sketched, None
            return ready

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
        outcomes: list[Outcome] = [
            (True, *next(results)) if ok else (False, None, None) for ok in passed.tolist()
        ]
        PreparedTexts.forget()  # (what this process prepared, when it aligned in-process)
        return outcomes


class SketchAhead:
    """The batches of a stream, each read and sketched while the one before it is compared and
    stored: an archive's add keeps the worker processes busy while its own process looks up keys
    and commits (sketching depends on nothing stored, so doing it early changes no answer).

    Iterating gives ``(batch, texts)``, the texts sketched already (:attr:`LocalTexts.sketched`).
    With ``workers > 1``, after a full batch, the next is read and sketched in a thread on a second
    executor; an error reading or sketching it is raised at its turn, after the batches before it.
    Otherwise (one worker, one short batch: a feed's single article) each batch is read when its
    turn comes, and workers start only for work of more than one chunk, as in any run. A context
    manager that stops the workers."""

    def __init__(self, stream: Iterator[Article], batch_size: int, *, workers: int, settings: SketchSettings,
                 furniture_share: float, in_memory: int) -> None:  # fmt: skip
        self.stream, self.batch_size, self.settings = stream, batch_size, settings
        self.furniture_share, self.in_memory = furniture_share, in_memory
        self.executors = [LocalExecutor(workers), LocalExecutor(workers)]
        self.threaded = workers > 1
        self.pending: _Job | None = None

    def __enter__(self) -> SketchAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        # a batch being sketched ahead fails at once (no workers, none to start); a thread still
        # waiting for input is left behind after ABANDON_WAIT: a daemon, it holds nothing
        for executor in self.executors:
            executor.close()
        if self.pending is not None:
            self.pending.result(quiet=True, wait=ABANDON_WAIT)

    def __iter__(self) -> Iterator[tuple[list[Article], LocalTexts]]:
        job = self._job(0, threaded=False)
        for turn in count(1):
            batch, texts = job.result()
            self.pending = None
            if not batch:
                texts.close()
                return
            ahead = None
            if self.threaded and len(batch) == self.batch_size:  # more may follow: read it meanwhile
                for executor in self.executors:  # (forked from this thread, not from ours)
                    executor.start()
                ahead = self._job(turn, threaded=True)
            with texts:
                yield batch, texts
            job = ahead or self._job(turn, threaded=False)

    def _job(self, turn: int, *, threaded: bool) -> _Job:
        def read() -> tuple[list[Article], LocalTexts]:
            batch = list(islice(self.stream, self.batch_size))
            texts = LocalTexts(iter(batch), self.executors[turn % 2], spill=False,
                               furniture_share=self.furniture_share, spill_shingles=len(batch) > self.in_memory)  # fmt: skip
            try:
                texts.sketched = texts.sketch(self.settings)
            except BaseException:
                texts.close()
                raise
            return batch, texts

        self.pending = _Job(read, threaded=threaded)
        return self.pending


class _Job:
    """One call, in a daemon thread (so an interrupted add never waits on an input still being
    read) or at once; :meth:`result` returns its value or raises its error."""

    def __init__(self, call: Callable[[], Any], *, threaded: bool) -> None:
        self.call = call
        self.value: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="dedup-sketch-ahead", daemon=True)
        self.thread.start() if threaded else self._run()

    def _run(self) -> None:
        try:
            self.value = self.call()
        except BaseException as error:
            self.error = error

    def result(self, *, quiet: bool = False, wait: float | None = None) -> Any:
        if self.thread.ident is not None:
            self.thread.join(wait)
        if quiet:  # abandoned: free what it holds, if it is done
            if not self.thread.is_alive() and self.value is not None:
                self.value[1].close()
            return None
        if self.error is not None:
            raise self.error
        return self.value

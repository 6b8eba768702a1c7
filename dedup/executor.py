"""Executors: who runs a stage's work, chunk by chunk.

Stages hand an executor a function and an iterable of chunks (texts to sketch, pairs to align)
and get the results back in order; they never know whether the work ran in this process, in a
pool of local processes or elsewhere (the seam where a cluster engine plugs in). An executor also
shows a progress bar per stage when asked, so stages do not draw one themselves.

:class:`LocalExecutor` runs chunks in this process (``workers=1``) or in forked worker
processes (started only when a stage has more than one chunk). At most two chunks per worker are in flight, so a streamed input is read only as fast as
it is processed. Workers ignore SIGINT: Ctrl-C reaches the main process alone, which stops the
pool (no worker tracebacks, no pool left waiting on dead workers).
"""

from __future__ import annotations

import multiprocessing
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, islice
from typing import Any, Protocol, TypeVar

from tqdm import tqdm

from .errors import ConfigError

In = TypeVar("In")
Out = TypeVar("Out")


class Executor(Protocol):
    """Runs ``fn`` over chunks, results in chunk order."""

    def map(
        self, fn: Callable[[In], Out], chunks: Iterable[In], *, label: str, total: int | None = None,
        size: Callable[[Any], int] = len,
    ) -> Iterator[Out]: ...  # fmt: skip

    def close(self) -> None: ...


def _ignore_interrupts() -> None:
    """In a worker: Ctrl-C is the main process's to handle; SIGTERM ends the worker quietly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class LocalExecutor:
    """This process, or ``workers`` forked processes; a context manager that stops them."""

    def __init__(self, workers: int = 1, *, progress: bool = False) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"workers must be an integer of at least 1, got {workers!r}")
        self.workers = workers
        self.progress = progress
        self._pool: Any = None

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def map(
        self, fn: Callable[[In], Out], chunks: Iterable[In], *, label: str, total: int | None = None,
        size: Callable[[Any], int] = len,
    ) -> Iterator[Out]:  # fmt: skip
        """``fn`` over ``chunks``; ``total`` items in all (if known), ``size`` counts a result's."""
        with tqdm(desc=label, total=total, disable=not self.progress, unit="art", leave=False) as bar:
            for result in self._results(fn, chunks):
                bar.update(size(result))
                yield result

    def _results(self, fn: Callable[[In], Out], chunks: Iterable[In]) -> Iterator[Out]:
        chunks = iter(chunks)
        first = list(islice(chunks, 2))
        if self.workers == 1 or len(first) < 2:  # one chunk is not worth starting processes
            yield from map(fn, chain(first, chunks))
            return
        if self._pool is None:
            self._pool = multiprocessing.get_context("fork").Pool(self.workers, _ignore_interrupts)
        pending: deque[Any] = deque()
        for chunk in chain(first, chunks):
            pending.append(self._pool.apply_async(fn, (chunk,)))
            if len(pending) >= 2 * self.workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()

    def close(self) -> None:
        """Stop the worker processes (at once: pending work is abandoned)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.terminate()
            pool.join()

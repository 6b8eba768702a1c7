"""Executors: who runs a stage's work, chunk by chunk.

Stages hand an executor a function and an iterable of chunks (texts to sketch, pairs to align)
and get the results back in order; they never know whether the work ran in this process, in a
pool of local processes or elsewhere (the seam where a cluster engine plugs in). An executor also
shows a progress bar per stage when asked, so stages do not draw one themselves.

:class:`LocalExecutor` runs chunks in this process (``workers=1``) or in forked worker
processes (started only when a stage has more than one chunk), each fed through its own pipe. One
chunk per worker is in flight, so a streamed input is read only as fast as it is processed.
Workers ignore SIGINT: Ctrl-C reaches the main process alone, which stops the workers (no worker
tracebacks, no lock left held by a killed worker, nothing waiting on dead workers).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, islice
from typing import Any, Protocol, TypeVar

from tqdm import tqdm

from .errors import ConfigError

PR_SET_PDEATHSIG = 1
In = TypeVar("In")
Out = TypeVar("Out")


class Executor(Protocol):
    """Runs ``fn`` over chunks, results in chunk order."""

    def map(
        self, fn: Callable[[In], Out], chunks: Iterable[In], *, label: str, total: int | None = None,
        size: Callable[[Any], int] = len,
    ) -> Iterator[Out]: ...  # fmt: skip

    def close(self) -> None: ...


def _ignore_interrupts(parent: int) -> None:
    """In a worker: Ctrl-C is the main process's to handle; SIGTERM ends the worker quietly; and
    the worker dies with its parent, even a parent killed with SIGKILL (Linux)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(parent)


def die_with_parent(parent: int) -> None:
    """Ask the kernel to kill this process when its parent dies (``PR_SET_PDEATHSIG``); a parent
    gone before the request took effect is caught by looking at the parent's id once more."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: workers still end when their pipe closes
        return
    if os.getppid() != parent:
        os._exit(0)


class LocalExecutor:
    """This process, or ``workers`` forked processes; a context manager that stops them."""

    def __init__(self, workers: int = 1, *, progress: bool = False) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"workers must be an integer of at least 1, got {workers!r}")
        self.workers = workers
        self.progress = progress
        self._processes: list[_Worker] = []
        self._closed = False

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def map(
        self, fn: Callable[[In], Out], chunks: Iterable[In], *, label: str, total: int | None = None,
        size: Callable[[Any], int] = len,
    ) -> Iterator[Out]:  # fmt: skip
        """``fn`` over ``chunks``; ``total`` items in all (if known), ``size`` counts a result's."""
        if not self.progress:  # no bar at all: even a disabled tqdm makes a process-shared lock
            yield from self._results(fn, chunks)
            return
        with tqdm(desc=label, total=total, unit="art", leave=False) as bar:
            for result in self._results(fn, chunks):
                bar.update(size(result))
                yield result

    def _results(self, fn: Callable[[In], Out], chunks: Iterable[In]) -> Iterator[Out]:
        chunks = iter(chunks)
        first = list(islice(chunks, 2))
        if self.workers == 1 or len(first) < 2:  # one chunk is not worth starting processes
            yield from map(fn, chain(first, chunks))
            return
        self.start()
        idle = deque(self._processes)
        busy: deque[_Worker] = deque()  # in the order their chunks were sent
        for chunk in chain(first, chunks):
            if not idle:
                worker = busy.popleft()
                yield worker.result()
                idle.append(worker)
            worker = idle.popleft()
            worker.send(fn, chunk)
            busy.append(worker)
        while busy:
            yield busy.popleft().result()

    def start(self) -> None:
        """Start the worker processes now (a stage starts them when it first needs them); once
        closed, never again (a stage still running in another thread fails instead)."""
        if self._closed:
            raise RuntimeError("the executor is closed")
        while self.workers > 1 and len(self._processes) < self.workers:  # one by one: each stoppable
            self._processes.append(_Worker())

    def close(self) -> None:
        """Stop the worker processes (at once: pending work is abandoned), for good."""
        self._closed = True
        processes, self._processes = self._processes, []
        for worker in processes:
            worker.stop()


class _Worker:
    """One forked process with its own pipe: a chunk in, its result out, nothing shared with the
    other workers — so stopping them at any moment can never leave a lock held (as killing a
    ``multiprocessing.Pool`` mid-task can)."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=_serve, args=(theirs, os.getpid()), daemon=True)
        try:
            self.process.start()
        except BaseException:  # a signal while forking: the child, if any, dies with this process
            self.stop()
            raise
        finally:
            theirs.close()

    def send(self, fn: Callable[[Any], Any], chunk: Any) -> None:
        self.connection.send((fn, chunk))

    def result(self) -> Any:
        try:
            ok, value = self.connection.recv()
        except EOFError:
            raise RuntimeError(
                f"a worker process stopped unexpectedly (exit code {self.process.exitcode})"
            ) from None
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        if self.process.pid is not None:  # started (a signal can come between creating and starting)
            self.process.kill()
            self.process.join()
        self.connection.close()


def _serve(connection: Any, parent: int) -> None:
    """A worker's loop: run each ``(fn, chunk)`` received, send back the result or the error."""
    _ignore_interrupts(parent)
    while True:
        try:
            fn, chunk = connection.recv()
        except EOFError:
            return
        try:
            connection.send((True, fn(chunk)))
        except Exception as error:
            connection.send((False, error))

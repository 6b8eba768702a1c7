"""``dedup serve ARCHIVE``: an archive over HTTP, for feeds written in any language.

A JSON API on Starlette, served by uvicorn (``pip install 'newsdedup[serve]'``), bound to
127.0.0.1 unless told otherwise:

- ``GET /health`` → ``{"status": "ok"}``;
- ``GET /stats`` → what ``dedup index stats --format json`` prints;
- ``POST /query`` and ``POST /add`` with ``{"articles": [{"id": ..., "text": ..., other fields as
  metadata}]}`` → the JSON of ``dedup index query/add --format json`` (``"explain": true`` adds
  each pair's paragraphs);
- ``DELETE /articles/{id}`` → ``{"removed": 1}`` (the id as printed: ``1`` finds the integer id 1
  when no string id "1" is stored);
- errors: ``{"error": "one line"}`` with 400 (bad input), 401 (a bearer token was set and not
  given), 404, 413 (a body over ``max_bytes``) or 500.

Each server process (``workers``, default 1) holds the archive open for its life, in one thread
(SQLite connections belong to the thread that made them) and answers its requests one at a time
against it; the processes share one listening socket (uvicorn's supervisor), so checks run on as
many cores. Writes go through the archive's transactions, so the processes, and any other writer
(``dedup index add``, another server), stay safe. The server stops cleanly on SIGTERM or Ctrl-C;
worker processes end with their supervisor, even when it is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import json
import os
import signal
import socket
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from .articles import Article
from .errors import ConfigError, DedupError, InputError

MAX_BYTES = 32 * 1024 * 1024
"""The largest request body accepted (32 MiB)."""


class Archive:
    """An :class:`~dedup.archive.Index` owned by one thread: every call runs there, in turn."""

    def __init__(self, location: str, semantic: bool = False) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dedup-archive")
        self.index = self._thread.submit(_open, location, semantic).result()

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    def close(self) -> None:
        self._thread.submit(self.index.close).result()
        self._thread.shutdown()


def _open(location: str, semantic: bool = False) -> Any:
    from .archive import Index

    index = Index(location, create=True, workers=1, semantic=semantic)
    index.warm()  # (before the first request: no request waits for the archive's key runs)
    gc.collect()
    gc.freeze()  # what is loaded stays: no full collection walks it again while requests wait
    return index


def application(
    location: str, token: str | None, max_bytes: int, parent: int | None = None, semantic: bool = False
) -> Any:
    """The application one server process runs: the archive opened now, closed at shutdown.
    ``parent``: the supervisor's process id, when this is one of its workers (it ends with it)."""
    if parent is not None:
        from .executor import die_with_parent

        die_with_parent(parent)
    archive = Archive(location, semantic)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:
            archive.close()

    return make_app(archive, token=token, max_bytes=max_bytes, lifespan=lifespan)


def make_app(archive: Archive, *, token: str | None = None, max_bytes: int = MAX_BYTES,
             lifespan: Any = None) -> Any:  # fmt: skip
    """The Starlette application serving ``archive``."""
    try:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse, Response
        from starlette.routing import Route
    except ImportError:
        raise ConfigError("dedup serve needs Starlette and uvicorn: pip install 'newsdedup[serve]'") from None

    def guarded(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        return _guarded(handler, token)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def stats(request: Request) -> Response:
        return JSONResponse(await archive.call(archive.index.stats))

    def checking(store: bool) -> Callable[[Request], Any]:
        async def check(request: Request) -> Response:
            articles, explain = await _articles(request, max_bytes)
            result = await archive.call(_report, archive.index, articles, store, explain)
            return Response(result, media_type="application/json")

        return check

    async def remove(request: Request) -> Response:
        removed = await archive.call(_remove, archive.index, request.path_params["article_id"])
        return JSONResponse({"removed": removed})

    routes = [
        Route("/health", guarded(health), methods=["GET"]),
        Route("/stats", guarded(stats), methods=["GET"]),
        Route("/query", guarded(checking(False)), methods=["POST"]),
        Route("/add", guarded(checking(True)), methods=["POST"]),
        Route("/articles/{article_id:path}", guarded(remove), methods=["DELETE"]),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(404, f"no such endpoint: {request.method} {request.url.path}")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return _error(405, f"{request.method} is not allowed on {request.url.path}")

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed}, lifespan=lifespan)


def _error(status: int, message: str) -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=status)


def _guarded(handler: Callable[[Any], Any], token: str | None) -> Callable[[Any], Any]:
    """``handler`` behind the bearer token (when one is set), its errors as one-line JSON."""

    async def endpoint(request: Any) -> Any:
        if token is not None and not hmac.compare_digest(
            request.headers.get("authorization", ""), f"Bearer {token}"
        ):
            return _error(401, "a bearer token is required (Authorization: Bearer ...)")
        try:
            return await handler(request)
        except TooLarge as problem:
            return _error(413, str(problem))
        except InputError as problem:
            return _error(404 if "is not in the archive" in str(problem) else 400, str(problem))
        except DedupError as problem:
            return _error(400, str(problem))
        except Exception as problem:  # one line, never a traceback to the client
            return _error(500, f"internal error: {type(problem).__name__}: {problem}")

    return endpoint


class TooLarge(InputError):
    """A request body over the server's limit."""


async def _articles(request: Any, max_bytes: int) -> tuple[list[Article], bool]:
    """The request's articles, checked: one line naming what is wrong."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(f"the request body is over {max_bytes} bytes")
    body = b""
    async for part in request.stream():
        body += part
        if len(body) > max_bytes:
            raise TooLarge(f"the request body is over {max_bytes} bytes")
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as problem:
        raise InputError(f"the request body is not JSON: {problem}") from None
    if not isinstance(data, dict) or not isinstance(data.get("articles"), list):
        raise InputError('the request body must be {"articles": [{"id": ..., "text": ...}, ...]}')
    articles = []
    for position, item in enumerate(data["articles"]):
        if not isinstance(item, dict) or "id" not in item or "text" not in item:
            raise InputError(f"articles[{position}]: an object with an id and a text is needed")
        if not isinstance(item["text"], str):
            raise InputError(
                f"articles[{position}]: the text must be a string, got {type(item['text']).__name__}"
            )
        if not isinstance(item["id"], str | int) or isinstance(item["id"], bool):
            raise InputError(f"articles[{position}]: the id must be a string or an integer")
        meta = {k: v for k, v in item.items() if k not in ("id", "text")}
        articles.append(Article(item["id"], item["text"], meta))
    return articles, bool(data.get("explain", False))


def _report(index: Any, articles: list[Article], store: bool, explain: bool) -> str:
    from .formats import render

    result = index.add(articles) if store else index.query(articles)
    texts = index.texts({a.id: a.text for a in articles}) if explain else None
    return render(result, "json", texts=texts, explain=explain)


def _remove(index: Any, article_id: str) -> int:
    try:
        return int(index.remove([article_id]))
    except InputError:
        if article_id.lstrip("-").isdigit():
            return int(index.remove([int(article_id)]))
        raise


def serve(location: str, *, host: str = "127.0.0.1", port: int = 8750, token: str | None = None,
          max_bytes: int = MAX_BYTES, workers: int = 1, semantic: bool = False) -> None:  # fmt: skip
    """Serve the archive at ``location`` from ``workers`` processes until SIGTERM or Ctrl-C (then
    the signal is raised again, for the caller to end as it ends on that signal); ``semantic``:
    every check also runs the semantic check (each process loads the model)."""
    try:
        import uvicorn
    except ImportError:
        raise ConfigError("dedup serve needs Starlette and uvicorn: pip install 'newsdedup[serve]'") from None
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    _open(location, semantic).close()  # a bad archive is one line before anything listens (and made once)
    listening = _listen(host, port)
    factory = partial(application, location, token, max_bytes, os.getpid() if workers > 1 else None, semantic)
    config = uvicorn.Config(factory, factory=True, host=host, port=port, workers=workers, log_level="warning",
                            access_log=False, lifespan="on")  # fmt: skip
    with listening:
        if workers == 1:
            uvicorn.Server(config).run(sockets=[listening])
        else:
            _supervise(config, listening)


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, or one line saying why not."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        listening = socket.socket(family, socket.SOCK_STREAM)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
    except OSError as error:
        raise DedupError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    listening.set_inheritable(True)
    return listening


def _supervise(config: Any, listening: socket.socket) -> None:
    """uvicorn's supervisor over ``config.workers`` processes sharing ``listening``; the signal
    that stopped it raised again once it has, with this process's own handlers back."""
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors.multiprocess import SIGNALS, Multiprocess

    class Supervisor(Multiprocess):
        stopped_by: int | None = None

        def handle_int(self) -> None:
            self.stopped_by = signal.SIGINT
            super().handle_int()

        def handle_term(self) -> None:
            self.stopped_by = signal.SIGTERM
            super().handle_term()

    saved = {number: signal.getsignal(number) for number in SIGNALS}
    try:
        supervisor = Supervisor(config, sockets=[listening])
        supervisor.run()
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)
    if supervisor.stopped_by is not None:
        signal.raise_signal(supervisor.stopped_by)
    if any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes):
        raise DedupError("a server process failed to start (its error is above)")

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

One archive is held open for the server's life, in one thread (SQLite connections belong to the
thread that made them): requests are answered one at a time against it, and writes go through the
archive's transactions, so other writers (``dedup index add``, another server) stay safe. The
server stops cleanly on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .articles import Article
from .errors import ConfigError, DedupError, InputError

MAX_BYTES = 32 * 1024 * 1024
"""The largest request body accepted (32 MiB)."""


class Archive:
    """An :class:`~dedup.archive.Index` owned by one thread: every call runs there, in turn."""

    def __init__(self, location: str) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dedup-archive")
        self.index = self._thread.submit(_open, location).result()

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    def close(self) -> None:
        self._thread.submit(self.index.close).result()
        self._thread.shutdown()


def _open(location: str) -> Any:
    from .archive import Index

    return Index(location, create=True, workers=1)


def make_app(archive: Archive, *, token: str | None = None, max_bytes: int = MAX_BYTES) -> Any:
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

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed})


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
          max_bytes: int = MAX_BYTES) -> None:  # fmt: skip
    """Serve the archive at ``location`` until SIGTERM or Ctrl-C."""
    try:
        import uvicorn
    except ImportError:
        raise ConfigError("dedup serve needs Starlette and uvicorn: pip install 'newsdedup[serve]'") from None
    archive = Archive(location)
    try:
        config = uvicorn.Config(make_app(archive, token=token, max_bytes=max_bytes), host=host, port=port,
                                log_level="warning", access_log=False, lifespan="off")  # fmt: skip
        uvicorn.Server(config).run()
    finally:
        archive.close()

"""``find_duplicates``: a collection on this machine, through the one stage sequence.

The stages and their order live in :mod:`dedup.run`; this module only fills its plug points for a
local batch run: the texts in memory (a list or mapping) or spilled to a temporary file (a stream)
on a :class:`~dedup.executor.LocalExecutor` (:mod:`dedup.local`), and candidates from the
collection's self-join (:class:`~dedup.run.BatchSource`).

Results do not depend on the input order, ``PYTHONHASHSEED`` or the number of workers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from .articles import ArticlesInput, iter_articles
from .config import DedupConfig
from .errors import ConfigError
from .executor import LocalExecutor
from .local import LocalTexts
from .results import DedupResult
from .run import BatchSource, run

PARALLEL_MIN_ARTICLES = 4000
"""Below this many articles (when the count is known) everything runs in this process."""


def find_duplicates(
    articles: ArticlesInput,
    *,
    config: DedupConfig | None = None,
    on_empty: Literal["skip", "error"] = "skip",
    progress: bool = False,
    workers: int | None = None,
    timings: dict[str, float] | None = None,
    id_field: str = "id",
    text_field: str = "text",
    **options: Any,
) -> DedupResult:
    """Find the articles of a collection that share text, and explain what they share.

    ``articles``: :class:`Article` objects, ``(id, text)`` pairs, a mapping id → text, plain
    strings (ids 0..n-1), or records — dicts or a ``datasets.Dataset`` — with ``id_field`` and
    ``text_field`` (their other fields are metadata); a list or mapping is used in place, any other
    iterable is streamed (its texts are spilled to a temporary file until alignment). Options are the fields of
    :class:`DedupConfig` (``shingle_size=5``, ``semantic=True``, ...), as keywords or as one
    ``config``. An article with no words is skipped and listed in ``result.skipped``, or raises
    :class:`InputError` with ``on_empty="error"``. ``progress`` shows progress bars on stderr. ``workers`` is the number of
    processes (default: all cores for large inputs); it never changes the result. A ``timings``
    dict, if given, receives the seconds each stage took (kept out of the result, which must not
    depend on the machine).

    >>> result = find_duplicates({"x": "one two three four five six", "y": "one two three four five six"})
    >>> [(p.a, p.b, p.kind) for p in result.pairs]
    [('x', 'y', 'exact')]
    """
    config = _settings(config, options, on_empty)
    embed = None
    if config.semantic:  # a missing extra fails before any work
        from .semantic import load_model

        embed = load_model()
    in_memory = isinstance(articles, Sequence | Mapping) and not isinstance(articles, str | bytes)
    workers = _workers(workers, len(articles) if in_memory else None)  # type: ignore[arg-type]
    with (
        LocalExecutor(workers, progress=progress) as executor,
        LocalTexts(iter_articles(articles, id_field=id_field, text_field=text_field), executor, spill=not in_memory,
                   furniture_share=config.furniture_share) as texts,
    ):  # fmt: skip
        return run(texts, BatchSource(config), config, on_empty=on_empty, timings=timings, embed=embed)


def _workers(workers: int | None, count: int | None) -> int:
    """The given number of processes, or by default one for a small collection, else all cores."""
    if workers is not None:
        return workers
    return 1 if count is not None and count < PARALLEL_MIN_ARTICLES else (os.cpu_count() or 1)


def _settings(config: DedupConfig | None, options: dict[str, Any], on_empty: str) -> DedupConfig:
    if on_empty not in ("skip", "error"):
        raise ConfigError(f"on_empty must be 'skip' or 'error', got {on_empty!r}")
    if config is None:
        return DedupConfig(**options)
    if options:
        raise TypeError("pass either config or keyword options, not both")
    return config

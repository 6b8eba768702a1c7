"""dedup: find near-duplicate news articles and show, paragraph by paragraph, what they share.

>>> from dedup import find_duplicates
>>> result = find_duplicates({"a": "Some text here.", "b": "Some text here."})
>>> result.pairs[0].kind
'exact'

The names below are loaded when first used, so that ``dedup --help`` starts in a blink and a
program that needs only :class:`DedupConfig` does not pay for datasketch.
"""

from __future__ import annotations

import sys
import types
from importlib import import_module
from importlib.metadata import version as _version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .alignment import Alignment, Match, align
    from .archive import Index
    from .articles import Article
    from .config import DedupConfig
    from .corpus import Deduplicated, Removed, deduplicate, keep
    from .errors import ConfigError, DedupError, InputError
    from .explanation import PairExplanation, explain
    from .formats import render, write_tables
    from .normalize import NormalizeConfig, normalize
    from .pipeline import find_duplicates
    from .results import SCHEMA, Cluster, DedupResult, Pair, RunSummary, Skipped
    from .sketch import SketchTable

__version__ = _version("newsdedup")

_HOME = {
    "Alignment": "alignment", "Match": "alignment", "align": "alignment", "Index": "archive",
    "Article": "articles", "DedupConfig": "config", "Deduplicated": "corpus", "Removed": "corpus",
    "deduplicate": "corpus", "keep": "corpus", "ConfigError": "errors", "DedupError": "errors",
    "InputError": "errors", "PairExplanation": "explanation", "explain": "explanation",
    "render": "formats", "write_tables": "formats", "NormalizeConfig": "normalize", "normalize": "normalize", "find_duplicates": "pipeline", "SCHEMA": "results", "Cluster": "results",
    "DedupResult": "results", "Pair": "results", "RunSummary": "results", "Skipped": "results",
    "SketchTable": "sketch",
}  # fmt: skip

__all__ = [
    "Alignment",
    "Article",
    "Cluster",
    "ConfigError",
    "DedupConfig",
    "DedupError",
    "DedupResult",
    "Deduplicated",
    "Index",
    "InputError",
    "Match",
    "NormalizeConfig",
    "Pair",
    "PairExplanation",
    "Removed",
    "RunSummary",
    "SCHEMA",
    "SketchTable",
    "Skipped",
    "__version__",
    "align",
    "deduplicate",
    "explain",
    "find_duplicates",
    "keep",
    "normalize",
    "render",
    "write_tables",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'dedup' has no attribute {name!r}")
    value = getattr(import_module(f".{_HOME[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Facade(types.ModuleType):
    """The package module: the import system sets each loaded submodule as an attribute of its
    package, and the submodule ``normalize`` would hide the function of that name."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _HOME and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Facade

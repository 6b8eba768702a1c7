"""dedup: find near-duplicate news articles and show, paragraph by paragraph, what they share.

>>> from dedup import find_duplicates
>>> result = find_duplicates({"a": "Some text here.", "b": "Some text here."})
>>> result.pairs[0].kind
'exact'
"""

from importlib.metadata import version as _version

from .alignment import Alignment, Match, align
from .archive import Index
from .articles import Article
from .config import DedupConfig
from .errors import ConfigError, DedupError, InputError
from .explanation import PairExplanation, explain
from .normalize import NormalizeConfig, normalize
from .pipeline import find_duplicates
from .results import SCHEMA, Cluster, DedupResult, Pair, RunSummary, Skipped
from .sketch import SketchTable

__version__ = _version("newsdedup")

__all__ = [
    "Alignment",
    "Article",
    "Cluster",
    "ConfigError",
    "DedupConfig",
    "DedupError",
    "DedupResult",
    "Index",
    "InputError",
    "Match",
    "NormalizeConfig",
    "Pair",
    "PairExplanation",
    "RunSummary",
    "SCHEMA",
    "SketchTable",
    "Skipped",
    "__version__",
    "align",
    "explain",
    "find_duplicates",
    "normalize",
]

"""Errors raised by dedup.

The hierarchy::

    DedupError            anything dedup raises on purpose
    ├── InputError        an article or input file is unusable (names the file, line or id)
    │   └── EmptyArticleError   an article has no words (with ``on_empty="error"``)
    └── ConfigError       an option is out of range (names the option, its range and the value)

The command line catches :class:`DedupError`, prints its message on one line and exits with code 2.
"""

from __future__ import annotations


class DedupError(Exception):
    """Base class of every error dedup raises on purpose."""


class InputError(DedupError, ValueError):
    """An article or an input file cannot be used; the message says where and why."""


class EmptyArticleError(InputError):
    """An article has no words, and empty articles were not to be skipped."""


class ConfigError(DedupError, ValueError):
    """An option has a value outside its documented range."""

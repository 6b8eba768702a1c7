"""Text normalization: the same text written with different quotes, dashes, entities, case or
spacing becomes one string.

Steps, in this order (each can be switched off in :class:`NormalizeConfig`):

1. ``unescape_html`` — HTML entities decoded (``&amp;`` → ``&``, ``&#8217;`` → ``’``), repeated
   while any remain, so double-escaped text comes out the same;
2. ``nfkc`` — Unicode NFKC (full-width letters, ligatures, non-breaking spaces, ``…``);
3. ``fold_punctuation`` — curly quotes and apostrophes to ``"`` and ``'``, every dash and minus
   to ``-``, guillemets to ``"``;
4. ``casefold`` — :meth:`str.casefold` (Unicode-aware lower case, ``ß`` → ``ss``), then NFKC
   again because case folding can leave text that is not NFKC;
5. ``collapse_whitespace`` — runs of whitespace to one space, stripped at both ends.

Works on any script: nothing here is specific to Latin letters. :func:`normalize` is idempotent.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

_PUNCTUATION = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bc\u0060\u00b4", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\u2039\u203a", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
    }
)
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class NormalizeConfig:
    """On/off switches of the normalization steps; see the module docstring for their order."""

    unescape_html: bool = True
    nfkc: bool = True
    fold_punctuation: bool = True
    casefold: bool = True
    collapse_whitespace: bool = True


DEFAULT_NORMALIZE = NormalizeConfig()


def normalize(text: str, config: NormalizeConfig = DEFAULT_NORMALIZE) -> str:
    """Return the normalized form of ``text`` (idempotent: normalizing twice changes nothing)."""
    # One pass can expose new work for an earlier step (NFKC turns "＆amp;" into an entity,
    # case folding can un-NFKC a letter); a second pass settles every case we know of.
    for _ in range(3):
        result = _normalize_once(text, config)
        if result == text:
            break
        text = result
    return text


def _normalize_once(text: str, config: NormalizeConfig) -> str:
    if config.unescape_html:
        while "&" in text:
            unescaped = html.unescape(text)
            if unescaped == text:
                break
            text = unescaped
    if config.nfkc:
        text = unicodedata.normalize("NFKC", text)
    if config.fold_punctuation:
        text = text.translate(_PUNCTUATION)
    if config.casefold:
        text = text.casefold()
        if config.nfkc:
            text = unicodedata.normalize("NFKC", text)
    if config.collapse_whitespace:
        text = _WHITESPACE.sub(" ", text).strip()
    return text

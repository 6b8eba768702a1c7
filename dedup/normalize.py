"""Text normalization: the same text written with different quotes, dashes, entities, case or
spacing becomes one string.

Steps, in this order (each can be switched off in :class:`NormalizeConfig`):

1. ``unescape_html`` — HTML entities decoded (``&amp;`` → ``&``, ``&#8217;`` → ``’``), repeated
   while any remain, so double-escaped text comes out the same;
2. ``nfkc`` — Unicode NFKC (full-width letters, ligatures, non-breaking spaces, ``…``);
3. ``remove_invisible`` — format characters (Unicode category Cf: zero-width space, joiner and
   non-joiner, word joiner, soft hyphen, byte-order mark, direction marks) removed, so that text
   laced with them reads as the same words;
4. ``fold_punctuation`` — curly quotes and apostrophes to ``"`` and ``'``, every dash and minus
   to ``-``, guillemets to ``"``;
5. ``casefold`` — :meth:`str.casefold` (Unicode-aware lower case, ``ß`` → ``ss``), then NFKC
   again because case folding can leave text that is not NFKC;
6. ``collapse_whitespace`` — runs of whitespace to one space, stripped at both ends.

Works on any script: nothing here is specific to Latin letters. :func:`normalize` is idempotent,
and :func:`normalize_lines` gives exactly the per-line result for a whole text at once (a line
break decoded from an entity such as ``&#10;`` is a space, not a new line).
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache

from .tokens import unicode_class

_PUNCTUATION = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bc\u0060\u00b4", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\u2039\u203a", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
    }
)
_INVISIBLE = re.compile("[" + unicode_class(r"\p{Cf}", astral=True) + "]")

_LINE_SLOT = "\x19"  # stands for a line break while a whole text is normalized at once (ASCII, not
# whitespace, and no HTML entity decodes to it)
_FOLDED = re.compile("[" + re.escape("".join(chr(c) for c in _PUNCTUATION)) + "]")
_INVISIBLE_BMP = re.compile("[" + unicode_class(r"\p{Cf}") + "]")  # faster: a bitmap class


@dataclass(frozen=True, slots=True)
class NormalizeConfig:
    """On/off switches of the normalization steps; see the module docstring for their order."""

    unescape_html: bool = True
    nfkc: bool = True
    remove_invisible: bool = True
    fold_punctuation: bool = True
    casefold: bool = True
    collapse_whitespace: bool = True


DEFAULT_NORMALIZE = NormalizeConfig()


def normalize(text: str, config: NormalizeConfig = DEFAULT_NORMALIZE) -> str:
    """Return the normalized form of ``text`` (idempotent: normalizing twice changes nothing)."""
    # One pass can expose new work for an earlier step (NFKC turns "＆amp;" into an entity, case
    # folding can un-NFKC a letter); such text gets another pass, checked cheaply.
    for _ in range(3):
        text = _normalize_once(text, config)
        if _is_stable(text, config):
            break
    return text


def normalize_lines(text: str, config: NormalizeConfig = DEFAULT_NORMALIZE) -> list[str]:
    """``[normalize(line) for line in text.split("\\n")]``, computed over the whole text at once."""
    if _LINE_SLOT in text:  # the placeholder is taken: line by line
        return [normalize(line, config) for line in text.split("\n")]
    whole = normalize(text.replace("\n", _LINE_SLOT), _keep_newlines(config))
    if not config.collapse_whitespace:
        return whole.split(_LINE_SLOT)
    return [" ".join(line.split()) for line in whole.split(_LINE_SLOT)]


@lru_cache(maxsize=16)
def _keep_newlines(config: NormalizeConfig) -> NormalizeConfig:
    return replace(config, collapse_whitespace=False)


def _normalize_once(text: str, config: NormalizeConfig) -> str:
    if config.unescape_html:
        while "&" in text:
            unescaped = html.unescape(text)
            if unescaped == text:
                break
            text = unescaped
    if config.nfkc and not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    if config.remove_invisible and not text.isascii():
        invisible = _invisible(text)
        if invisible.search(text):
            text = invisible.sub("", text)
    if config.fold_punctuation:
        text = _FOLDED.sub(_fold, text)
    if config.casefold:
        text = text.casefold()
        if config.nfkc and not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
    if config.collapse_whitespace:
        text = " ".join(text.split())
    return text


def _invisible(text: str) -> re.Pattern[str]:
    """The format-character pattern for ``text``: the faster BMP one unless it has astral characters."""
    has_astral = len(text.encode("utf-16-le", "surrogatepass")) != 2 * len(text)
    return _INVISIBLE if has_astral else _INVISIBLE_BMP


def _fold(match: re.Match[str]) -> str:
    return _PUNCTUATION[ord(match.group())]


def _is_stable(text: str, config: NormalizeConfig) -> bool:
    """True when another pass would change nothing (each check is cheap)."""
    if config.unescape_html and "&" in text and html.unescape(text) != text:
        return False
    if text.isascii():  # NFKC already, no format characters, nothing to fold
        return not (config.casefold and text.lower() != text)
    if config.nfkc and not unicodedata.is_normalized("NFKC", text):
        return False
    if config.remove_invisible and _invisible(text).search(text):
        return False
    if config.fold_punctuation and _FOLDED.search(text):
        return False
    return not (config.casefold and text.casefold() != text)

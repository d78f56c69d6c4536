"""Inventory strings are hostile: make them safe for each place they are written to.

* :func:`encodable` / :func:`scrub` — any string (lone surrogates included) becomes one every
  writer and the store can encode as UTF-8: each surrogate is replaced by U+FFFD.
* :func:`term` — a string bound for a terminal: control characters (C0 including ESC and
  newlines, DEL, C1 including CSI/OSC) and the invisible formatting characters that reorder or
  hide text (bidi embeddings, overrides and isolates, zero-width characters) are shown as
  visible escapes (``\\x1b``, ``\\u202e``), so a string cannot clear the screen, set the
  title, print a clickable link or make text read backwards.
* :func:`term_lines` — the same for a block of text that may hold its own line breaks.
* :func:`csv_cell` — a spreadsheet cell that cannot start a formula, judged after Unicode
  NFKC normalisation (a fullwidth ``＝`` is read as ``=`` by spreadsheets).
* :func:`defang_urls` — URLs and ``www.`` names in Markdown text made non-clickable.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from enum import Enum
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")

# C0 and DEL and C1; bidi marks, embeddings, overrides and isolates; zero-width and other
# invisible format characters; line and paragraph separators.
_UNSAFE = (
    "\x00-\x1f\x7f-\x9f"
    "\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb"
)


# The patterns are compiled when first used (most runs print or escape nothing): re expands a
# character class reaching beyond Latin-1 into a bitmap of every code point, a fraction of a
# millisecond each at start-up.
@cache
def _surrogate() -> re.Pattern[str]:
    return re.compile("[\ud800-\udfff]")


@cache
def _term_unsafe(keep_lines: bool) -> re.Pattern[str]:
    if keep_lines:  # the same without TAB (0x09) and LF (0x0a)
        return re.compile(f"[{_UNSAFE.replace(chr(0) + '-' + chr(0x1f), chr(0) + '-' + chr(8) + chr(0x0b) + '-' + chr(0x1f))}\ud800-\udfff]")
    return re.compile(f"[{_UNSAFE}\ud800-\udfff]")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def encodable(s: str) -> str:
    """``s`` with every lone surrogate replaced by U+FFFD (fast when there is none)."""
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return _surrogate().sub("\ufffd", s)


def has_surrogates(s: str) -> bool:
    try:
        s.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def scrub(obj: T) -> T:
    """A copy of ``obj`` (str, dict, list, tuple, set, dataclass; anything else kept) whose strings
    are all encodable; ``obj`` itself when nothing needed replacing."""
    if _all_encodable(obj):
        return obj
    return _scrub(obj)  # type: ignore[no-any-return]


def all_encodable(obj: Any) -> bool:
    """True when every string in ``obj`` is encodable (False also when that cannot be told in one
    C-level pass: then :func:`scrub` tells)."""
    return _all_encodable(obj)


def _sequence(x: Any) -> list[Any] | None:
    if isinstance(x, set | frozenset):
        return list(x)
    if getattr(type(x), "scrub_opaque", False):
        return None  # the full walk keeps it as it is too
    raise TypeError  # a type orjson does not walk: decide by the full walk


def _all_encodable(obj: Any) -> bool:
    """True when every string in ``obj`` is encodable, found in one C-level pass (orjson refuses
    lone surrogates and visits every string of dicts, lists, tuples and dataclasses); False when
    that pass cannot tell (a type it does not know, a key that is not a string, a huge integer)."""
    try:
        import orjson
    except ImportError:
        return False
    try:
        orjson.dumps(obj, default=_sequence, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, ValueError):
        return False
    return True


def _scrub(obj: Any) -> Any:
    if isinstance(obj, str):
        if isinstance(obj, Enum):
            return obj
        return encodable(obj)
    if isinstance(obj, dict):
        changed = False
        out: dict[Any, Any] = {}
        for k, v in obj.items():
            k2, v2 = _scrub(k), _scrub(v)
            changed = changed or k2 is not k or v2 is not v
            out[k2] = v2
        return out if changed else obj
    if isinstance(obj, list | tuple | set | frozenset):
        items = [_scrub(x) for x in obj]
        if all(a is b for a, b in zip(items, obj, strict=False)) and not isinstance(obj, set | frozenset):
            return obj
        return type(obj)(items) if not isinstance(obj, tuple) or type(obj) is tuple else type(obj)(*items)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {}
        for f in dataclasses.fields(obj):
            if not f.init:
                continue
            v = getattr(obj, f.name)
            v2 = _scrub(v)
            if v2 is not v:
                changes[f.name] = v2
        return dataclasses.replace(obj, **changes) if changes else obj
    return obj


def _visible(m: re.Match[str]) -> str:
    c = m.group()
    o = ord(c)
    if o <= 0xFF:
        return f"\\x{o:02x}"
    return f"\\u{o:04x}"


def term(value: object) -> str:
    """One line of text that is safe to print on a terminal (see the module docstring)."""
    s = "" if value is None else str(value)
    return _term_unsafe(False).sub(_visible, s)


def term_lines(value: object) -> str:
    """Like :func:`term`, keeping line feeds and tabs (for text laid out in several lines)."""
    s = "" if value is None else str(value)
    return _term_unsafe(True).sub(_visible, s)


def rich_text(value: object, style: str = "") -> Any:
    """A Rich ``Text`` of the terminal-safe string: never read as markup, controls escaped."""
    from rich.text import Text

    return Text(term(value), style=style)


def csv_cell(value: object) -> str:
    """The cell text, encodable, with a leading apostrophe when a spreadsheet would read it as a
    formula — judged after NFKC, so fullwidth ``＝ ＋ － ＠`` count too (OWASP "CSV injection")."""
    s = encodable("" if value is None else str(value))
    probe = unicodedata.normalize("NFKC", s).lstrip(" ")
    if probe.startswith(_FORMULA_START) or s.startswith(_FORMULA_START):
        return "'" + s
    return s


def defang_urls(s: str) -> str:
    """``https://x.example`` -> ``https[:]//x.example``, ``www.x`` -> ``www[.]x``,
    ``a@b.example`` -> ``a[@]b.example``: readable, but no Markdown renderer makes it a link."""
    s = re.sub(r"(?i)\b([a-z][a-z0-9+.\-]{1,31}):(?=//|[^\s]*@)", r"\1[:]", s)  # (re caches the patterns)
    s = re.sub(r"(?i)\bwww\.", lambda m: m.group()[:3] + "[.]", s)
    return re.sub(r"(?<=[\w.+\-])@(?=[\w\-]+\.)", "[@]", s)

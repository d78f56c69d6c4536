"""Prefilter anchors: ``(literal, left, right)`` such that any raw ASCII text that a signature
matches holds one of its anchors' literals, case-insensitively, with a token boundary before it
when ``left`` and after it when ``right`` (see :mod:`banscan.fast.engine` for what a boundary is).

Why a single bounded token is enough:

* phrase kinds compare normalised text, whose tokens are the maximal alphanumeric runs of the
  raw text (normalisation splits on every other character and only drops whole tokens), so each
  token of a phrase is a whole run of any ASCII text that contains the phrase;
* identifier kinds that compare a value literally (paths, file names, bundle ids, host-name
  prefixes, purl prefixes) are anchored on the longest segment of the value that raw text can
  only spell one way: between ``/`` or ``\\`` (which JSON may escape) and without characters that
  JSON escapes;
* identifier kinds that compare canonical forms (package names, namespaces) compare values
  whose separators may be spelled or escaped otherwise
  (``volcengine_python_sdk`` is ``volcengine-python-sdk``, ``com.huawei.hms:base`` is
  ``pkg:maven/com.huawei.hms/base``), but whose alphanumeric runs are kept: a run inside the
  value is bounded by the value's own punctuation; a run at an end of the value is bounded only
  where the value itself is (a whole field, not a prefix).

Of the tokens, the rarest one is chosen: not a generic word, not a number, the longest.
Non-ASCII anchors are kept for the Unicode filter (lines with non-ASCII characters); the ASCII
engine drops them (no ASCII line can hold them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from banscan.match.normalize import anchor

__all__ = ["Anchor", "GENERIC", "best_token", "token_anchor", "id_anchor", "literal_anchor", "free", "dotted"]

Anchor = tuple[str, bool, bool]  # (lower-case literal, boundary before, boundary after)

# Words too common in inventories to pick out a line on their own (prefilter anchors only: a
# phrase made only of them is still anchored, on the least common of them).
GENERIC = frozenset("""
    server web mini login radio design tool tools suite spring camera device devices python new free
    share iphone android app apps client service services cloud mobile security network networks
    technology technologies tech video player system systems software group online home smart lite
    pro plus manager center centre agent update updates studio desktop browser http https
    www com net org cn io co uk de ru jp info edu gov api cdn static
    communications communication international information digital data telecom telecommunications
    the and for of a an by to in on at with
    core project release icon icons connect connection lab labs inc ltd limited corp corporation
    company gmbh llc plus edition version windows linux microsoft google apple open source library
    lib libs dev utils util common runtime sdk driver drivers plugin plugins module modules kit
    control panel monitor support setup install installer launcher helper base response provider
    ssh iso dll exe sys bin lib64 usr local opt program programs github gitlab bundle
    assistant express office viewer reader editor converter media audio sound display print printer
    scan scanner remote access file files link live view vision power phone pc cam ip hd
    electronics electronic global international holdings holding trading enterprise
""".split())

_RUN = re.compile(r"[a-z0-9]+")


def _rank(token: str) -> tuple[int, bool, int, str]:
    """Sort key: distinctive tokens first (a word that is not generic, then a generic word, then a
    number; 4+ characters; the longest)."""
    return (2 if token.isdigit() else 1 if token in GENERIC else 0, len(token) < 4, -len(token), token)


def best_token(tokens: Iterable[str]) -> str | None:
    """The rarest of ``tokens`` (None when there is none)."""
    ts = [t for t in tokens if t]
    return min(ts, key=_rank) if ts else None


def free(literal: str) -> Anchor:
    """An anchor with no boundary on either side."""
    return (literal, False, False)


def token_anchor(tokens: Iterable[str], bounded: bool = True) -> Anchor | None:
    """The rarest of ``tokens``, each a whole alphanumeric run of any text that matches
    (``bounded``: False for scripts written without spaces, where a token is any substring)."""
    t = best_token(tokens)
    if t is None:
        return None
    t = t.casefold()
    return (t, bounded, bounded)


def id_anchor(value: str, left: bool, right: bool) -> Anchor | None:
    """The rarest alphanumeric run of an identifier (compared case-insensitively).

    Inside ``value`` a run is bounded by the value's own punctuation; at the value's start only
    when ``left`` (the value starts a field or a separator-delimited part of one), at its end only
    when ``right`` (a whole value, not a prefix)."""
    v = value.strip().lower()
    if not v:
        return None
    if not v.isascii():
        return free(anchor(v))
    runs = [(m.start(), m.end()) for m in _RUN.finditer(v)]
    if not runs:
        return free(v)
    s, e = min(runs, key=lambda r: (*_rank(v[r[0]:r[1]]), r[0]))
    return (v[s:e], s > 0 or left, e < len(v) or right)


# characters a JSON writer may escape (and which a literal therefore must not hold)
_JSON_ESCAPED = re.compile(r'["\x00-\x1f\x7f]')


def literal_anchor(value: str, left: bool, right: bool) -> Anchor | None:
    """For identifiers compared as written (case aside): the segment of ``value`` between ``/``
    and ``\\`` holding the rarest run (the longest such segment), bounded by the separators
    inside ``value``, and at its ends as ``left``/``right`` say.  Falls back to
    :func:`id_anchor` when the segment holds a character JSON may escape."""
    v = value.strip().lower()
    if not v or not v.isascii():
        return id_anchor(value, left, right)
    segs = [(m.start(), m.end()) for m in re.finditer(r"[^/\\]+", v)]
    segs = [(a, b) for a, b in segs if _RUN.search(v, a, b)]
    if not segs:
        return id_anchor(value, left, right)

    def key(seg: tuple[int, int]) -> tuple[tuple[int, bool, int, str], int, int]:
        a, b = seg
        return (min(_rank(m.group(0)) for m in _RUN.finditer(v[a:b])), a - b, a)

    a, b = min(segs, key=key)
    lit = v[a:b]
    if _JSON_ESCAPED.search(lit):
        return id_anchor(value, left, right)
    return (lit, a > 0 or left, b < len(v) or right)


def dotted(token: str) -> Anchor | None:
    """``z.t.e.`` for ``zte``: organisation names join dotted abbreviations into one token
    ("Z.T.E. Corp." reads as ``zte corp``), so a letters-only token may be spelled that way."""
    if len(token) < 2 or not token.isascii() or not token.isalpha():
        return None
    return ("".join(c + "." for c in token), True, False)

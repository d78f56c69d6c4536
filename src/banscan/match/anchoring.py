"""Prefilter anchors: literal strings one of which any raw text that a signature matches contains."""

from __future__ import annotations

from banscan.match.normalize import anchor

__all__ = ["text_anchors", "key_anchor", "checked_anchor"]

# Words too common to pick out a line on their own (prefilter anchors only).
_GENERIC = frozenset("""
    server web mini login radio design tool tools suite spring camera device python new free share
    iphone android app apps client service services cloud mobile security network technology
    technologies video player system systems software group online home smart lite pro plus
    manager center centre agent update studio desktop browser cpe upnp http https www com net org
""".split())
_SEPARATORS = (" ", "-", "_", ".", "/", ":", "", " (", ", ")


def text_anchors(n: str) -> list[str]:
    """Literal strings, one of which any raw text containing the normalised phrase ``n`` contains."""
    tokens = n.split()
    distinctive = [t for t in tokens if len(t) >= 3 and t not in _GENERIC and not t.isdigit()]
    if distinctive:
        return [max(distinctive, key=len)]
    if len(tokens) >= 2:
        i = max(range(len(tokens) - 1), key=lambda j: len(tokens[j]) + len(tokens[j + 1]))
        return [tokens[i] + sep + tokens[i + 1] for sep in _SEPARATORS]
    return [max(tokens, key=len) if tokens else n]


def key_anchor(value: str) -> str:
    """For identifiers: the whole value (lower-case) when JSON cannot escape any of it."""
    v = value.lower().rstrip("*")
    if "/" in v or not v.isascii():
        return anchor(v)
    return v


def checked_anchor(candidates: list[str], raw: str) -> list[str]:
    """``candidates`` when each is a substring of the case-folded raw value; else its longest
    alphanumeric run (normalisation may build tokens that the raw text does not spell)."""
    folded = raw.casefold()
    if all(c and c in folded for c in candidates):
        return candidates
    return [anchor(raw)]

"""What a stored scan of a block-scanned input kept, and whether that is enough for a later registry.

A stored ``banscan scan`` runs the block scanner (and ``--jobs``) like ``--no-store``: only the
*candidate* lines of an osqueryd results log or a Zeek TSV log (those holding one of the
registry's anchors, a non-ASCII byte or an escape, and every record carrying a MAC address) are
parsed, matched and kept as evidence; the other lines are counted.  That evidence is complete
for every registry whose signatures can only match lines that were candidates, and the scan
records the filter it used (:func:`spec_of`: the anchors, as the engine reads them) for each
asset and evidence class it kept evidence for this way.

Re-matching stored evidence under another registry (``registry update``, ``reevaluate``) asks
:func:`uncovered`: the anchors of the new registry that no recorded anchor implies.  When there
are none, every line the new registry can match was a candidate then, so the stored evidence is
all it needs.  Otherwise the asset and class is reported as a coverage gap that needs a rescan
of its inputs; it is never silently treated as clean.

An anchor ``o`` implies an anchor ``n`` when ``o``'s literal occurs inside ``n``'s (both folded
as the engine folds them) such that wherever ``n`` matches, ``o`` matches at the same place with
its own boundary rules: at ``n``'s edges ``o`` needs no stricter boundary than ``n``; inside
``n`` the neighbouring character must be a boundary.  The test is conservative: it may report a
gap a rescan would show to be none, never the reverse.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

# the meaning of an anchor as banscan.fast.engine and UnicodeFilter apply it; a spec recorded
# under another meaning is never taken to cover anything
SEMANTICS = "anchors-1: literal, left/right boundary = not an ASCII letter or digit; NFKC+casefold for non-ASCII"

Spec = dict[str, Any]
Anchor = tuple[str, bool, bool]


def _norm(anchors: Iterable[Any]) -> list[Anchor]:
    out: set[Anchor] = set()
    for a in anchors:
        lit, left, right = (a, False, False) if isinstance(a, str) else (a[0], bool(a[1]), bool(a[2]))
        lit = lit.casefold()
        if not lit:
            continue
        left = left and _alnum(lit[0])
        right = right and _alnum(lit[-1])
        out.add((lit, left, right))
    return sorted(out)


def _alnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def spec_of(matcher: Any) -> tuple[str, Spec]:
    """(digest, spec) of the filter ``matcher``'s block scanner and prefilter apply."""
    spec: Spec = {"semantics": SEMANTICS, "anchors": [list(a) for a in _norm(matcher.anchors())]}
    body = json.dumps(spec, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(body).hexdigest(), spec


def _implies(o: Anchor, n: Anchor) -> bool:
    lo, ol, orr = o
    ln, nl, nr = n
    if not lo.isascii():  # folded differently by the two engines: only the same literal
        return lo == ln and (not ol or nl) and (not orr or nr)
    i = ln.find(lo)
    while i >= 0:
        j = i + len(lo)
        left_ok = (not ol) or (nl if i == 0 else not _alnum(ln[i - 1]))
        right_ok = (not orr) or (nr if j == len(ln) else not _alnum(ln[j]))
        if left_ok and right_ok:
            return True
        i = ln.find(lo, i + 1)
    return False


def uncovered(spec: Spec, matcher: Any) -> list[str]:
    """The anchors of ``matcher``'s registry that the recorded ``spec`` does not imply (sorted
    literals; empty: evidence kept under ``spec`` is complete for this registry)."""
    new = _norm(matcher.anchors())
    if spec.get("semantics") != SEMANTICS:
        return sorted({a[0] for a in new}) or ["(the recorded filter is of another kind)"]
    old = [(str(a[0]), bool(a[1]), bool(a[2])) for a in spec.get("anchors", [])]
    have = set(old)
    missing: set[str] = set()
    for n in new:
        if n in have:
            continue
        if not any(_implies(o, n) for o in old):
            missing.add(n[0])
    return sorted(missing)

"""DNS names: listed domains (and their subdomains, on label boundaries), and family marks as the
registrable label under any public suffix.

A value ``kaspersky.com`` matches ``kaspersky.com`` and ``*.kaspersky.com``.  A value
``kaspersky.*`` matches every name whose registrable domain, by the Public Suffix List's ICANN
section, is ``kaspersky.<suffix>`` (``kaspersky.com.br``, ``update.kaspersky.it``) and never
``notkaspersky.com``, ``kaspersky.com.example.net`` or a name under a private suffix
(``kaspersky.github.io`` is anyone's).  Work per name is linear in its length.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from publicsuffixlist import PublicSuffixList

from banscan.match.base import Hit, signatures_of
from banscan.match.normalize import anchor
from banscan.model import F, Observation
from banscan.registry import CompiledSignature, Registry

KINDS = ("domain",)
FIELDS = frozenset({F.DOMAIN})
MAX_NAME = 253  # RFC 1035: longer is not a DNS name; only its last labels could matter anyway


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    return PublicSuffixList(only_icann=True)


def clean(name: str) -> str:
    """Lower-case, without the root dot, cut to the last MAX_NAME characters on a label boundary."""
    d = name.strip().lower().rstrip(".")
    if len(d) > MAX_NAME:
        tail = d[-MAX_NAME:]
        d = tail.split(".", 1)[1] if "." in tail else tail
    return d


def registrable(name: str) -> str | None:
    """The registrable domain of ``name`` under the ICANN public suffixes, or None."""
    d = clean(name)
    if not d or "." not in d:
        return None
    try:
        return _psl().privatesuffix(d)
    except (ValueError, UnicodeError):
        return None


@dataclass
class Index:
    listed: dict[str, list[CompiledSignature]] = field(default_factory=lambda: defaultdict(list))
    marks: dict[str, list[CompiledSignature]] = field(default_factory=lambda: defaultdict(list))
    max_labels: int = 0
    anchors: set[str] = field(default_factory=set)


def compile(registry: Registry) -> Index:
    ix = Index()
    for sig in signatures_of(registry, KINDS):
        for raw in sig.values:
            v = raw.strip().lower().strip(".")
            if not v:
                continue
            if v.endswith(".*"):
                mark = v[:-2]
                ix.marks[mark].append(sig)
                if not sig.negative:
                    ix.anchors.add(mark if mark.isascii() else anchor(mark))
                continue
            ix.listed[v].append(sig)
            ix.max_labels = max(ix.max_labels, v.count(".") + 1)
            if not sig.negative:
                ix.anchors.add(v if len(v) <= 40 and v.isascii() else anchor(v))
    return ix


def _suffixes(d: str, most: int) -> Iterable[str]:
    """``d`` and its parent domains, at most ``most`` labels long, shortest last."""
    ends: list[int] = []
    i = len(d)
    for _ in range(most):
        j = d.rfind(".", 0, i)
        if j == -1:
            ends.append(0)
            break
        ends.append(j + 1)
        i = j
    return (d[k:] for k in reversed(ends))


def domain_hits(ix: Index, name: str, fld: str, out: list[Hit]) -> None:
    d = clean(name)
    if not d:
        return
    if ix.listed:
        for suffix in _suffixes(d, ix.max_labels):
            for s in ix.listed.get(suffix, ()):
                out.append(Hit(s, fld, name, s.strength, f"domain:{d}"))
    if ix.marks:
        reg = registrable(d)
        if reg:
            label = reg.split(".", 1)[0]
            for s in ix.marks.get(label, ()):
                out.append(Hit(s, fld, name, s.strength, f"domain:{d}"))


def lookup(ix: Index, obs: Observation) -> list[Hit]:
    out: list[Hit] = []
    for name in obs.values(F.DOMAIN):
        domain_hits(ix, name, F.DOMAIN, out)
    return out


def anchors(ix: Index) -> Iterable[str]:
    return ix.anchors

"""Package identifiers within one ecosystem: exact, or a prefix ending with '.', '/', ':' or '*'.

Checked against the ``package`` field and against the package named by a ``purl``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from banscan.match.anchoring import Anchor, id_anchor
from banscan.match.base import Hit, signatures_of
from banscan.match.normalize import pypi_name
from banscan.match.purls import purl_package
from banscan.model import F, Observation
from banscan.registry import CompiledSignature, Registry

KINDS = ("package",)
FIELDS = frozenset({F.PACKAGE, F.PURL})


@dataclass
class Index:
    exact: dict[tuple[str, str], list[CompiledSignature]] = field(default_factory=lambda: defaultdict(list))
    prefix: dict[str, list[tuple[str, CompiledSignature]]] = field(default_factory=lambda: defaultdict(list))
    anchors: set[Anchor] = field(default_factory=set)


def compile(registry: Registry) -> Index:
    ix = Index()
    for sig in signatures_of(registry, KINDS):
        eco = (sig.ecosystem or "").lower()
        for raw in sig.values:
            v = _name(eco, raw)
            if not v:
                continue
            if v.endswith("*"):
                ix.prefix[eco].append((v[:-1], sig))
            elif v.endswith((".", "/", ":")):
                ix.prefix[eco].append((v, sig))
            else:
                ix.exact[(eco, v)].append(sig)
            # separators may be spelled otherwise in the raw text, runs may not; an exact name is
            # a whole field (or the part of a purl or Maven id between separators)
            a = id_anchor(v.rstrip("*"), True, not v.endswith("*"))
            if not sig.negative and a is not None:
                ix.anchors.add(a)
    return ix


@lru_cache(maxsize=65536)
def _name(eco: str, name: str) -> str:
    """A package name as its ecosystem compares it: PEP 503 for PyPI, lower-case elsewhere."""
    n = name.strip().lower()
    return pypi_name(n) if eco == "pypi" else n


def package_hits(ix: Index, eco: str, pkg: str, fld: str, out: list[Hit]) -> None:
    p = _name(eco, pkg)
    for s in ix.exact.get((eco, p), ()):
        out.append(Hit(s, fld, pkg, s.strength))
    if eco == "maven" and ":" in p:  # a bare groupId value matches every artifact of the group
        for s in ix.exact.get((eco, p.split(":", 1)[0]), ()):
            out.append(Hit(s, fld, pkg, s.strength))
    for prefix, s in ix.prefix.get(eco, ()):
        if p.startswith(prefix) or (prefix.endswith(".") and p.split(":", 1)[0] == prefix[:-1]):
            out.append(Hit(s, fld, pkg, s.strength))


def lookup(ix: Index, obs: Observation) -> list[Hit]:
    out: list[Hit] = []
    eco = (obs.first(F.ECOSYSTEM) or "").lower()
    for pkg in obs.values(F.PACKAGE):
        package_hits(ix, eco, pkg, F.PACKAGE, out)
    for purl in obs.values(F.PURL):
        parsed = purl_package(purl)
        if parsed is not None:
            package_hits(ix, parsed[0], parsed[1], F.PURL, out)
    return out


def anchors(ix: Index) -> Iterable[Anchor]:
    return ix.anchors

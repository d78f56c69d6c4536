"""purl prefixes, e.g. ``pkg:maven/com.huawei.hms``: that namespace and below, on boundaries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from banscan.match.base import Hit, signatures_of
from banscan.match.normalize import anchor
from banscan.match.purls import purl_core
from banscan.model import F, Observation
from banscan.registry import CompiledSignature, Registry

KINDS = ("purl",)
FIELDS = frozenset({F.PURL})
_BOUNDARY = ("/", ".", "@", ":", "-", "?", "#")


@dataclass
class Index:
    prefixes: list[tuple[str, CompiledSignature]] = field(default_factory=list)
    anchors: set[str] = field(default_factory=set)


def compile(registry: Registry) -> Index:
    ix = Index()
    for sig in signatures_of(registry, KINDS):
        for raw in sig.values:
            v = raw.strip().lower().rstrip("*")
            if not v:
                continue
            ix.prefixes.append((v, sig))
            if not sig.negative:
                ix.anchors.add(anchor(v.split("/", 1)[-1]))
    return ix


def lookup(ix: Index, obs: Observation) -> list[Hit]:
    out: list[Hit] = []
    if not ix.prefixes:
        return out
    for purl in obs.values(F.PURL):
        core = purl_core(purl)
        if core is None:
            continue
        for prefix, s in ix.prefixes:
            if core.startswith(prefix) and (len(core) == len(prefix) or core[len(prefix)] in _BOUNDARY
                                            or prefix.endswith(_BOUNDARY)):
                out.append(Hit(s, F.PURL, purl, s.strength))
    return out


def anchors(ix: Index) -> Iterable[str]:
    return ix.anchors

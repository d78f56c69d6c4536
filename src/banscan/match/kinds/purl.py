"""purl prefixes, e.g. ``pkg:maven/com.huawei.hms``: that namespace and below, on boundaries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from banscan.match.anchoring import Anchor, literal_anchor
from banscan.match.base import Hit, signatures_of
from banscan.match.purls import purl_core
from banscan.model import F, Observation
from banscan.registry import CompiledSignature, Registry

KINDS = ("purl",)
FIELDS = frozenset({F.PURL})
_BOUNDARY = ("/", ".", "@", ":", "-", "?", "#")


@dataclass
class Index:
    prefixes: list[tuple[str, CompiledSignature]] = field(default_factory=list)
    anchors: set[Anchor] = field(default_factory=set)


def compile(registry: Registry) -> Index:
    ix = Index()
    for sig in signatures_of(registry, KINDS):
        for raw in sig.values:
            v = raw.strip().lower().rstrip("*")
            if not v:
                continue
            ix.prefixes.append((v, sig))
            # after the type; the prefix ends on a boundary of the purl (or is followed by one)
            a = literal_anchor(v.split("/", 1)[-1], True, True)
            if not sig.negative and a is not None:
                ix.anchors.add(a)
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


def anchors(ix: Index) -> Iterable[Anchor]:
    return ix.anchors

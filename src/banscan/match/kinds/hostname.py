"""Device hostname prefixes given by a vendor's firmware."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from banscan.match.anchoring import Anchor, literal_anchor
from banscan.match.base import Hit, signatures_of
from banscan.model import F, Observation
from banscan.registry import CompiledSignature, Registry

KINDS = ("hostname",)
FIELDS = frozenset({F.HOSTNAME})


@dataclass
class Index:
    prefixes: list[tuple[str, CompiledSignature]] = field(default_factory=list)
    anchors: set[Anchor] = field(default_factory=set)


def compile(registry: Registry) -> Index:
    ix = Index()
    for sig in signatures_of(registry, KINDS):
        for raw in sig.values:
            v = raw.strip().lower()
            if v:
                ix.prefixes.append((v, sig))
                a = literal_anchor(v, True, False)  # a prefix: the name starts with it
                if not sig.negative and a is not None:
                    ix.anchors.add(a)
    return ix


def lookup(ix: Index, obs: Observation) -> list[Hit]:
    out: list[Hit] = []
    if not ix.prefixes:
        return out
    for host in obs.values(F.HOSTNAME):
        h = host.lower()
        for prefix, s in ix.prefixes:
            if h.startswith(prefix):
                out.append(Hit(s, F.HOSTNAME, host, s.strength))
    return out


def anchors(ix: Index) -> Iterable[Anchor]:
    return ix.anchors

"""Install-path fragments, matched on path-segment boundaries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from banscan.match.anchoring import key_anchor
from banscan.match.base import Hit, signatures_of
from banscan.model import F, Observation
from banscan.registry import CompiledSignature, Registry

KINDS = ("path",)
FIELDS = frozenset({F.PATH})


def _segments(path: str) -> str:
    return "/" + path.lower().replace("\\", "/").strip("/") + "/"


@dataclass
class Index:
    fragments: list[tuple[str, CompiledSignature]] = field(default_factory=list)
    anchors: set[str] = field(default_factory=set)


def compile(registry: Registry) -> Index:
    ix = Index()
    for sig in signatures_of(registry, KINDS):
        for raw in sig.values:
            if not raw.strip():
                continue
            v = _segments(raw.strip())
            ix.fragments.append((v, sig))
            if not sig.negative:
                ix.anchors.add(key_anchor(v.strip("/").rsplit("/", 1)[-1]))
    return ix


def lookup(ix: Index, obs: Observation) -> list[Hit]:
    out: list[Hit] = []
    if not ix.fragments:
        return out
    for path in obs.values(F.PATH):
        p = _segments(path)
        for frag, s in ix.fragments:
            if frag in p:
                out.append(Hit(s, F.PATH, path, s.strength))
    return out


def anchors(ix: Index) -> Iterable[str]:
    return ix.anchors

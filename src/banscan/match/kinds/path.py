"""Install-path fragments, matched on path-segment boundaries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from banscan.match.anchoring import Anchor, literal_anchor
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
    anchors: set[Anchor] = field(default_factory=set)


def compile(registry: Registry) -> Index:
    ix = Index()
    for sig in signatures_of(registry, KINDS):
        for raw in sig.values:
            if not raw.strip():
                continue
            v = _segments(raw.strip())
            ix.fragments.append((v, sig))
            a = literal_anchor(v, True, True)  # whole segments: every run is bounded
            if not sig.negative and a is not None:
                ix.anchors.add(a)
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


def anchors(ix: Index) -> Iterable[Anchor]:
    return ix.anchors

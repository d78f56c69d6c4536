"""Apple / Android bundle and package ids: exact, or a prefix ending with '.'."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from banscan.match.anchoring import Anchor, literal_anchor
from banscan.match.base import Hit, signatures_of
from banscan.model import F, Observation
from banscan.registry import CompiledSignature, Registry

KINDS = ("bundle-id",)
FIELDS = frozenset({F.BUNDLE_ID})


@dataclass
class Index:
    exact: dict[str, list[CompiledSignature]] = field(default_factory=lambda: defaultdict(list))
    prefix: dict[str, list[CompiledSignature]] = field(default_factory=lambda: defaultdict(list))
    anchors: set[Anchor] = field(default_factory=set)


def compile(registry: Registry) -> Index:
    ix = Index()
    for sig in signatures_of(registry, KINDS):
        for raw in sig.values:
            v = raw.strip().lower().rstrip("*")
            if not v:
                continue
            (ix.prefix if v.endswith(".") else ix.exact)[v].append(sig)
            a = literal_anchor(v, True, not v.endswith("."))  # a whole id, or a prefix ending on a dot
            if not sig.negative and a is not None:
                ix.anchors.add(a)
    return ix


def lookup(ix: Index, obs: Observation) -> list[Hit]:
    out: list[Hit] = []
    for bid in obs.values(F.BUNDLE_ID):
        b = bid.lower().strip()
        for s in ix.exact.get(b, ()):
            out.append(Hit(s, F.BUNDLE_ID, bid, s.strength))
        if ix.prefix:
            i = b.find(".")
            while i != -1:  # one dictionary look-up per dot
                for s in ix.prefix.get(b[: i + 1], ()):
                    out.append(Hit(s, F.BUNDLE_ID, bid, s.strength))
                i = b.find(".", i + 1)
    return out


def anchors(ix: Index) -> Iterable[Anchor]:
    return ix.anchors

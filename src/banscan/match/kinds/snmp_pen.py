"""IANA Private Enterprise Numbers: the enterprise arc of an SNMP sysObjectID."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from banscan.match.anchoring import Anchor
from banscan.match.base import Hit, signatures_of
from banscan.model import F, Observation
from banscan.registry import CompiledSignature, Registry

KINDS = ("snmp-pen",)
FIELDS = frozenset({F.SYS_OBJECT_ID})
_ENTERPRISES = "1.3.6.1.4.1."


@dataclass
class Index:
    pens: dict[int, list[CompiledSignature]] = field(default_factory=lambda: defaultdict(list))


def compile(registry: Registry) -> Index:
    ix = Index()
    for sig in signatures_of(registry, KINDS):
        for raw in sig.values:
            if raw.strip().isdigit():
                ix.pens[int(raw.strip())].append(sig)
    return ix


def enterprise(oid: str) -> int | None:
    """The enterprise number of an OID under 1.3.6.1.4.1, or None."""
    o = oid.strip().lstrip(".")
    if o.startswith("iso."):
        o = "1." + o[4:]
    if not o.startswith(_ENTERPRISES):
        return None
    pen = o[len(_ENTERPRISES):].split(".", 1)[0]
    return int(pen) if pen.isdigit() and len(pen) <= 10 else None


def lookup(ix: Index, obs: Observation) -> list[Hit]:
    out: list[Hit] = []
    if not ix.pens:
        return out
    for oid in obs.values(F.SYS_OBJECT_ID):
        pen = enterprise(oid)
        if pen is not None:
            for s in ix.pens.get(pen, ()):
                out.append(Hit(s, F.SYS_OBJECT_ID, oid, s.strength))
    return out


def anchors(ix: Index) -> Iterable[Anchor]:
    # numeric (1.3.6.1.4.1.N, .iso.3.6.1.4.1.N) and MIB-named (enterprises.N) spellings; the
    # number ends its arc (a dot or the end follows it); an arc written with leading zeros
    # ("1.3.6.1.4.1.02011") is read as its number
    out: set[Anchor] = set()
    for pen, sigs in ix.pens.items():
        if any(not s.negative for s in sigs):
            out.update(((f"6.1.4.1.{pen}", False, True), (f"enterprises.{pen}", False, True),
                        ("6.1.4.1.0", False, False)))
    return out

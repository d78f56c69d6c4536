"""Names of runtime objects: processes, services, drivers, kernel modules, browser extensions.

Compared whole (case-insensitive), with or without the directory and the file extension.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from banscan.match.anchoring import Anchor, literal_anchor
from banscan.match.base import Hit, field_items, signatures_of
from banscan.model import F, Observation
from banscan.registry import CompiledSignature, Registry

FIELD = {
    "process": F.PROCESS,
    "service": F.SERVICE,
    "driver": F.DRIVER,
    "kernel-module": F.KERNEL_MODULE,
    "browser-extension": F.EXTENSION_ID,
}
KINDS = tuple(FIELD)
_KIND: dict[str, str] = {f: k for k, f in FIELD.items()}
_FIELDS = frozenset(_KIND)
FIELDS = _FIELDS
_EXTENSIONS = (".sys", ".exe", ".ko", ".service", ".dll", ".app")


def strip_ext(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    for ext in _EXTENSIONS:
        if base.endswith(ext):
            return base[: -len(ext)]
    return base


@dataclass
class Index:
    tables: dict[str, dict[str, list[CompiledSignature]]] = field(
        default_factory=lambda: {k: defaultdict(list) for k in KINDS})
    anchors: set[Anchor] = field(default_factory=set)


def compile(registry: Registry) -> Index:
    ix = Index()
    for sig in signatures_of(registry, KINDS):
        table = ix.tables[sig.kind]
        for raw in sig.values:
            value = raw.strip()
            if not value:
                continue
            table[value.lower()].append(sig)
            if strip_ext(value) != value.lower():
                table[strip_ext(value)].append(sig)
            # compared whole, or as the file name without directory and extension
            a = literal_anchor(strip_ext(value), True, True)
            if not sig.negative and a is not None:
                ix.anchors.add(a)
    return ix


def lookup(ix: Index, obs: Observation) -> list[Hit]:
    out: list[Hit] = []
    for fld, value in field_items(obs, _FIELDS):
        table = ix.tables[_KIND[fld]]
        if table:
            sigs = table.get(value.lower()) or table.get(strip_ext(value))
            for s in sigs or ():
                out.append(Hit(s, fld, value, s.strength))
    return out


def anchors(ix: Index) -> Iterable[Anchor]:
    return ix.anchors

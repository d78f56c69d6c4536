"""The registry: banscan's knowledge, kept as sourced and validated data.

``load()`` reads the bundled data under ``registry/data`` and any overlay files, checks every
cross-reference and returns a :class:`Registry`.  A new restriction is one new file in
``data/restrictions/``; a new vendor family one file in ``data/families/``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from banscan.errors import ProfileError, RegistryError
from banscan.registry.loader import (
    DATA_DIR,
    RawRegistry,
    check_references,
    digest,
    load_overlay,
    load_tree,
)
from banscan.registry.schema import (
    Entity,
    Family,
    NegativeSignature,
    OuiAssignment,
    Product,
    Profile,
    Restriction,
    Signature,
)

__all__ = ["Registry", "load", "DATA_DIR", "CompiledSignature"]


@dataclass(frozen=True, slots=True)
class CompiledSignature:
    """A signature with every default resolved, ready for the matcher."""

    id: str
    family: str
    kind: str
    values: tuple[str, ...]
    ecosystem: str | None
    fields: tuple[str, ...] | None
    product: str | None
    entity: str
    category: str
    relation: str
    service: str | None
    strength: str
    negative: bool
    sources: tuple[str, ...]
    note: str | None = None


_ROLE_RELATION = {
    "parent": "product",
    "subsidiary": "product",
    "affiliate": "product",
    "brand": "product",
    "oem": "oem",
    "former-member": "former-affiliate",
}


@dataclass
class Registry:
    version: str
    sha256: str
    families: dict[str, Family]
    restrictions: dict[str, Restriction]
    profiles: dict[str, Profile]
    oui: list[OuiAssignment]
    oui_source: str | None
    oui_date: str | None
    signatures: list[CompiledSignature] = field(default_factory=list)
    sources_by_file: dict[str, str] = field(default_factory=dict)

    # ---- look-ups
    def family(self, fid: str) -> Family:
        return self.families[fid]

    def parent(self, fid: str) -> Entity:
        return next(e for e in self.families[fid].entities if e.role == "parent")

    def entity(self, fid: str, eid: str | None) -> Entity:
        if eid:
            for e in self.families[fid].entities:
                if e.id == eid:
                    return e
        return self.parent(fid)

    def product(self, fid: str, pid: str | None) -> Product | None:
        if not pid:
            return None
        return next((p for p in self.families[fid].products if p.id == pid), None)

    def entity_by_name(self, fid: str, name: str) -> Entity | None:
        for e in self.families[fid].entities:
            if e.name == name:
                return e
        return None

    def profile(self, pid: str) -> Profile:
        try:
            return self.profiles[pid]
        except KeyError:
            known = ", ".join(sorted(self.profiles))
            raise ProfileError(f"unknown profile '{pid}' (known: {known})") from None

    def signature(self, sid: str) -> CompiledSignature | None:
        return next((s for s in self.signatures if s.id == sid), None)

    def restrictions_naming(self, fid: str) -> list[Restriction]:
        return sorted((r for r in self.restrictions.values() if fid in r.covers.families),
                      key=lambda r: (r.adopted, r.id))

    def meta(self) -> dict[str, str]:
        return {"version": self.version, "sha256": self.sha256}


def _compile(fam: Family, s: Signature | NegativeSignature, idx: int, negative: bool) -> CompiledSignature:
    if isinstance(s, NegativeSignature):
        sid = s.id or f"{fam.id}.not-{s.kind}.{idx}"
        return CompiledSignature(
            id=sid, family=fam.id, kind=s.kind, values=tuple(s.values), ecosystem=s.ecosystem,
            fields=tuple(s.fields) if s.fields else None, product=None, entity="", category="",
            relation="", service=None, strength="strong", negative=True, sources=tuple(s.sources),
            note=s.reason,
        )
    prod = next((p for p in fam.products if p.id == s.product), None) if s.product else None
    ent_id = s.entity or (prod.entity if prod else None)
    ent = next((e for e in fam.entities if e.id == ent_id), None) if ent_id else None
    ent = ent or next(e for e in fam.entities if e.role == "parent")
    category = (s.category or (prod.category if prod else None) or fam.default_category).value
    relation = s.relation or ("service-client" if s.kind == "domain" else _ROLE_RELATION[ent.role])
    return CompiledSignature(
        id=s.id or f"{fam.id}.{s.kind}.{idx}", family=fam.id, kind=s.kind, values=tuple(s.values),
        ecosystem=s.ecosystem, fields=tuple(s.fields) if s.fields else None, product=s.product,
        entity=ent.id, category=category, relation=relation, service=s.service, strength=s.strength,
        negative=False, sources=tuple(s.sources), note=s.note,
    )


def load(overlays: Iterable[str | Path] = (), data_dir: Path | None = None) -> Registry:
    """Load the bundled registry (or ``data_dir``) plus overlays; raise RegistryError listing every problem."""
    raw = RawRegistry()
    errors: list[str] = []
    if data_dir is None:
        from banscan.store.active import active_data_dir  # an installed newer bundle, if any

        data_dir = active_data_dir()
    load_tree(data_dir or DATA_DIR, raw, errors)
    for ov in overlays:
        p = Path(ov)
        if not p.exists():
            errors.append(f"{p}: no such registry file")
            continue
        load_overlay(p, raw, errors)
    check_references(raw, errors)
    if errors:
        raise RegistryError(errors)
    sigs: list[CompiledSignature] = []
    seen: set[str] = set()
    for fam in raw.families.values():
        for i, s in enumerate(fam.signatures):
            sigs.append(_compile(fam, s, i, False))
        for i, n in enumerate(fam.negatives):
            sigs.append(_compile(fam, n, i, True))
    for i, s in enumerate(raw.extra_signatures):
        sigs.append(_compile(raw.families[s.family], s, 1000 + i, False))
    for s in sigs:  # type: ignore[assignment]
        if s.id in seen:
            errors.append(f"{raw.origin.get(s.family, s.family)}: duplicate signature id '{s.id}'")  # type: ignore[attr-defined]
        seen.add(s.id)  # type: ignore[arg-type]
    if errors:
        raise RegistryError(errors)
    return Registry(
        version=raw.version,
        sha256=digest(raw.files),
        families=raw.families,
        restrictions=raw.restrictions,
        profiles=raw.profiles,
        oui=list(raw.oui.assignments) if raw.oui else [],
        oui_source=raw.oui.source if raw.oui else None,
        oui_date=raw.oui.data_date if raw.oui else None,
        signatures=sigs,
        sources_by_file=raw.origin,
    )


def validate_files(paths: Iterable[str | Path]) -> list[str]:
    """Validate overlay files on their own against the bundled registry; return the problems."""
    try:
        load(paths)
    except RegistryError as e:
        return e.problems
    return []

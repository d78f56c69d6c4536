"""The registry: banscan's knowledge, kept as sourced and validated data.

``load()`` reads the bundled data under ``registry/data`` and any overlay files, checks every
cross-reference and returns a :class:`Registry`.  A new restriction is one new file in
``data/restrictions/``; a new vendor family one file in ``data/families/``.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from banscan.errors import ProfileError, RegistryError
from banscan.registry.records import freeze

if TYPE_CHECKING:  # the loader and the pydantic schema are imported by load(): a warm start needs neither
    from banscan.registry.loader import RawRegistry
    from banscan.registry.schema import (
        DomainTable,
        Entity,
        Family,
        NegativeSignature,
        OuiAssignment,
        PenTable,
        Product,
        Profile,
        Restriction,
        Signature,
    )

DATA_DIR = Path(__file__).parent / "data"

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

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # unpickled through __init__: the compiled cache holds hundreds, and the frozen dataclass's
        # own __setstate__ (a loop over fields()) takes about twice as long
        return type(self), tuple(getattr(self, f.name) for f in dataclass_fields(self))


_ROLE_RELATION = {
    "parent": "product",
    "subsidiary": "product",
    "affiliate": "product",
    "brand": "product",
    "oem": "oem",
    "former-member": "former-affiliate",
}
ROLE_RELATION = _ROLE_RELATION  # an entity's role -> the relation of what it makes
_LAZY_FIELDS = ("oui", "domains")  # see Registry.__getstate__


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
    # generated/domains.json, as read (a factory, not a class-level default: see __getattr__)
    domains: DomainTable | None = field(default_factory=lambda: None)
    pen: PenTable | None = None  # generated/pen.json, as read
    # the signature kinds' indexes (banscan.match.compile_kinds), when made with the compiled cache
    # and pickled with it: (the signatures they were made from, {kind module: index}); not data
    kind_indexes: tuple[tuple[CompiledSignature, ...], dict[str, Any]] | None = field(
        default=None, compare=False, repr=False)

    # ---- pickling (the compiled cache, Spark's broadcast): the big tables a scan seldom reads (the
    # IEEE assignments: records with a MAC address; the domain list as read) are pickles of their
    # own inside, unpickled when first read, so that loading the compiled registry skips them
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        lazy = dict(state.pop("_lazy", {}))
        for name in _LAZY_FIELDS:
            if name in state:
                lazy[name] = pickle.dumps(state.pop(name), protocol=pickle.HIGHEST_PROTOCOL)
        state["_lazy"] = lazy
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    if not TYPE_CHECKING:  # (for mypy every field is a plain attribute)
        def __getattr__(self, name: str) -> Any:  # called only for names neither set nor class-level
            lazy = self.__dict__.get("_lazy")
            if not lazy or name not in lazy:
                raise AttributeError(f"'Registry' object has no attribute '{name}'")
            value = pickle.loads(lazy.pop(name))  # noqa: S301 - part of the pickle this one came from
            self.__dict__[name] = value
            return value

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
    from banscan.registry.schema import NegativeSignature

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


def generated_signatures(raw: RawRegistry) -> list[CompiledSignature]:
    """Signatures made from the generated tables: one ``domain`` signature per (family, list, entity,
    service, product) of ``domains.json``, one ``snmp-pen`` signature per (family, entity) of ``pen.json``.

    Their ids are stable (``<family>.domain.gen.<list>[.<entity>]``, ``<family>.snmp-pen.gen[.<entity>]``)
    and their sources name the data set, its version and the file each value came from."""
    out: list[CompiledSignature] = []
    if raw.domains:
        t = raw.domains
        groups: dict[tuple[str, str, str | None, str, str | None], list[str]] = {}
        for d in t.domains:
            groups.setdefault((d.family, d.list, d.entity, d.service, d.product), []).append(d.domain)
        for (fid, lst, eid, service, pid), values in groups.items():
            fam = raw.families[fid]
            ent = next((e for e in fam.entities if e.id == eid), None) or next(
                e for e in fam.entities if e.role == "parent")
            prod = next((p for p in fam.products if p.id == pid), None) if pid else None
            slug = "".join(c if c.isalnum() or c in "-." else "-" for c in lst.lower())
            out.append(CompiledSignature(
                id=f"{fid}.domain.gen.{slug}" + (f".{eid}" if eid else ""), family=fid, kind="domain",
                values=tuple(sorted(set(values))), ecosystem=None, fields=None, product=pid, entity=ent.id,
                category=(prod.category if prod else fam.default_category).value, relation="service-client",
                service=service, strength="medium", negative=False,
                sources=(f"v2fly/domain-list-community data/{lst} @{t.commit[:8]} ({t.data_date})",
                         f"{t.repository}/blob/{t.commit}/data/{lst}"),
                note=f"generated by {t.generated_by} from the community list '{lst}'",
            ))
    if raw.pen:
        p = raw.pen
        pens: dict[tuple[str, str | None], list[str]] = {}
        for a in p.assignments:
            pens.setdefault((a.family, a.entity), []).append(str(a.number))
        for (fid, eid), values in pens.items():
            fam = raw.families[fid]
            ent = next((e for e in fam.entities if e.id == eid), None) or next(
                e for e in fam.entities if e.role == "parent")
            out.append(CompiledSignature(
                id=f"{fid}.snmp-pen.gen" + (f".{eid}" if eid else ""), family=fid, kind="snmp-pen",
                values=tuple(values), ecosystem=None, fields=None, product=None, entity=ent.id,
                category=fam.default_category.value, relation=_ROLE_RELATION[ent.role], service=None,
                strength="strong", negative=False, sources=(p.source,),
                note=f"generated by {p.generated_by} ({p.data_date})",
            ))
    return out


def organisation_signatures(fam: Family) -> list[CompiledSignature]:
    """One ``organisation`` signature per entity: its legal name and its aliases in every script,
    with the entity's sources (and each alias's).  Id ``<family>.organisation.<entity>``."""
    out: list[CompiledSignature] = []
    for e in fam.entities:
        values = tuple(dict.fromkeys([e.name, *(a.name for a in e.aliases)]))
        sources = tuple(dict.fromkeys([*e.sources, *(src for a in e.aliases for src in a.sources)]))
        out.append(CompiledSignature(
            id=f"{fam.id}.organisation.{e.id}", family=fam.id, kind="organisation", values=values,
            ecosystem=None, fields=None, product=None, entity=e.id, category=fam.default_category.value,
            relation=_ROLE_RELATION[e.role], service=None, strength="strong", negative=False, sources=sources,
            note="generated from the entity's name and aliases",
        ))
    for i, mk in enumerate(fam.marks):
        if mk.ordinary_word:
            continue  # an ordinary word or another company's name never decides alone
        prod = next((p for p in fam.products if p.id == mk.product), None) if mk.product else None
        eid = mk.entity or (prod.entity if prod else None)
        ent = next((e for e in fam.entities if e.id == eid), None) or next(
            e for e in fam.entities if e.role == "parent")
        slug = "".join(c if c.isascii() and c.isalnum() else "-" for c in mk.name.lower()).strip("-") or str(i)
        out.append(CompiledSignature(
            id=f"{fam.id}.organisation.mark.{slug}", family=fam.id, kind="organisation", values=(mk.name,),
            ecosystem=None, fields=None, product=mk.product, entity=ent.id,
            category=(prod.category if prod else fam.default_category).value, relation=_ROLE_RELATION[ent.role],
            service=None, strength="strong", negative=False, sources=tuple(mk.sources),
            note=mk.note or "the family's brand mark",
        ))
    return out


def load(overlays: Iterable[str | Path] = (), data_dir: Path | None = None) -> Registry:
    """Load the bundled registry (or ``data_dir``) plus overlays; raise RegistryError listing every problem."""
    from banscan.registry.loader import (
        RawRegistry,
        check_references,
        digest,
        load_overlay,
        load_tree,
    )

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
    sigs += generated_signatures(raw)
    for fam in raw.families.values():
        sigs += organisation_signatures(fam)
    for cs in sigs:
        if cs.id in seen:
            errors.append(f"{raw.origin.get(cs.family, cs.family)}: duplicate signature id '{cs.id}'")
        seen.add(cs.id)
    if errors:
        raise RegistryError(errors)
    return Registry(
        version=raw.version,
        sha256=digest(raw.files),
        # as records (banscan.registry.records): what the compiled cache holds and a scan reads
        families=freeze(raw.families),
        restrictions=freeze(raw.restrictions),
        profiles=freeze(raw.profiles),
        oui=freeze(list(raw.oui.assignments)) if raw.oui else [],
        oui_source=raw.oui.source if raw.oui else None,
        oui_date=raw.oui.data_date if raw.oui else None,
        signatures=sigs,
        sources_by_file=raw.origin,
        domains=freeze(raw.domains),
        pen=freeze(raw.pen),
    )


def validate_files(paths: Iterable[str | Path]) -> list[str]:
    """Validate overlay files on their own against the bundled registry; return the problems."""
    try:
        load(paths)
    except RegistryError as e:
        return e.problems
    return []

"""The registry's data model: families, signatures, restrictions and profiles.

Every fact carries ``sources``: a list of URLs or, for identifiers taken from a data set,
a short description of that data set and its version.  Unknown keys are errors.

Files (YAML) under ``registry/data``:

* ``families/<id>.yaml``      one :class:`Family` (with its entities, products, signatures, negatives)
* ``restrictions/<id>.yaml``  one :class:`Restriction`
* ``profiles/<id>.yaml``      one :class:`Profile`
* ``generated/oui.json``      IEEE assignments, written by ``scripts/gen_oui.py`` (never by hand)
* ``generated/domains.json``  the families' domains, written by ``scripts/gen_domains.py`` from a community list
* ``generated/pen.json``      IANA enterprise numbers, written by ``scripts/gen_pen.py``

An overlay file given with ``--registry FILE`` is a YAML document with any of the top-level
keys ``families``, ``restrictions``, ``profiles``, ``signatures`` (signatures added to an
existing family, each naming its ``family``) and ``version``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from banscan.registry.records import (
    Category,
    EntityMethods,
    FactConfidence,
    LegalForce,
    PeriodMethods,
    ProductMethods,
    ProductOperatorMethods,
    ProfileMethods,
)

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", min_length=2, max_length=80)]
Sources = Annotated[list[Annotated[str, Field(min_length=3)]], Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


RelationName = Literal["product", "oem", "former-affiliate", "service-client"]
RequirementName = Literal["advisory", "report", "do-not-procure", "remove", "prohibited"]
Strength = Literal["strong", "medium", "weak"]


# --------------------------------------------------------------------------- families


class Alias(Strict):
    name: str = Field(min_length=1)
    script: str | None = None  # ISO 15924: Latn, Cyrl, Hans, Hant ...
    lang: str | None = None
    sources: Sources


class Period(PeriodMethods, Strict):
    """One stretch of time during which the family controlled an entity.

    ``from`` is the first day of control, ``to`` the day control ended (exclusive: on ``to`` the
    entity is no longer the family's).  Either may be open.
    """

    from_: dt.date | None = Field(default=None, alias="from")
    to: dt.date | None = None
    note: str | None = None
    sources: Sources

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _order(self) -> Period:
        if self.from_ and self.to and self.to <= self.from_:
            raise ValueError("'to' must be after 'from'")
        return self


class Entity(EntityMethods, Strict):
    """A legal entity or brand inside a family, with the dates it belonged to it.

    ``from``/``to`` give one period of control (``to`` exclusive).  An entity that left and came
    back (nubia: a ZTE subsidiary until 2017-08-17 and again from 2020-12-28) lists its periods
    under ``periods`` instead; the two forms are exclusive.  ``successor`` names to whom the
    entity was sold when it left.  :meth:`spans` gives the periods in either form, and
    :meth:`member_on` answers "was it the family's on that day?".
    """

    id: Id
    name: str  # legal name, e.g. "AO Kaspersky Lab"
    role: Literal["parent", "subsidiary", "affiliate", "brand", "oem", "former-member"]
    aliases: list[Alias] = []
    country: str | None = None
    from_: dt.date | None = Field(default=None, alias="from")
    to: dt.date | None = None
    periods: list[Period] = []
    successor: str | None = None  # to whom it was sold, e.g. "Sword Bidco Ltd (Epiris)"
    note: str | None = None
    sources: Sources

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _dates(self) -> Entity:
        if self.periods and (self.from_ is not None or self.to is not None):
            raise ValueError("give either 'from'/'to' or 'periods', not both")
        if self.from_ and self.to and self.to <= self.from_:
            raise ValueError("'to' must be after 'from'")
        spans = sorted(self.periods, key=lambda p: p.from_ or dt.date.min)
        for a, b in zip(spans, spans[1:], strict=False):
            if a.to is None or (b.from_ is not None and b.from_ < a.to):
                raise ValueError("periods overlap")
        return self


class ProductOperator(ProductOperatorMethods, Strict):
    """Who operates a product in some jurisdictions over a period, when that is not simply its family.

    A product can change hands while its vendor does not (the US TikTok app has been operated by the
    TikTok USDS joint venture since 2026-01-22).  ``family_control`` says whether the family controls
    the operator; ``share`` is the family's holding in percent, when known.  ``jurisdictions`` lists
    ISO 3166 codes (``US`` also covers ``US-NY`` ...); empty means everywhere.
    """

    name: str
    entity: Id | None = None  # the family's entity, when the family operates it
    family_control: bool
    share: float | None = Field(default=None, ge=0, le=100)
    from_: dt.date | None = Field(default=None, alias="from")
    to: dt.date | None = None
    jurisdictions: list[str] = []
    note: str | None = None
    sources: Sources

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Mark(Strict):
    """A brand mark: a name that identifies the family, or one of its entities or products, on its own
    (publisher "Hikvision", "TikTok"; npm scope ``@volcengine``; PyPI names that begin with it).

    ``ordinary_word`` marks that are also a common word or another company's name (Lark, Trae, HYT): never
    decisive alone.  Dates come from the entity (or the product's entity) the mark names."""

    name: str = Field(min_length=2)
    entity: Id | None = None
    product: Id | None = None
    ordinary_word: bool = False
    note: str | None = None
    sources: Sources


class Product(ProductMethods, Strict):
    id: Id
    name: str
    category: Category
    entity: Id | None = None  # defaults to the family's parent entity
    operators: list[ProductOperator] = []  # product-level control over time and by jurisdiction
    note: str | None = None
    sources: Sources



SignatureKind = Literal[
    "publisher",  # organisation name strings (publisher / vendor / supplier / manufacturer / TLS org / OUI vendor)
    "product-name",  # product or app names, matched on token boundaries in name fields
    "package",  # package id in an ecosystem (exact, or a prefix ending with '.', '/', ':' or '*')
    "purl",  # purl prefix, e.g. "pkg:maven/com.huawei.hms" (matches that namespace and below)
    "bundle-id",  # Apple / Android id, exact or prefix ending with '.'
    "process",
    "service",
    "driver",
    "kernel-module",
    "browser-extension",
    "path",  # install path fragment, matched on path-segment boundaries
    "snmp-pen",  # IANA Private Enterprise Number
    "banner",  # literal phrase in a banner field (http_server, www_authenticate, rtsp_server, banner, sys_descr, vendor_class, http_title)
    "domain",  # registered domain; matches it and its subdomains on label boundaries
    "hostname",  # device hostname prefix given by the vendor's firmware
    "organisation",  # organisation names (generated from every entity's name and aliases; see match/kinds/organisation.py)
    "namespace",  # a namespace the vendor owns in an ecosystem: Maven groupId, npm scope, NuGet prefix, Go path, image namespace, bundle-id prefix, PyPI mark
]


class Signature(Strict):
    """A group of values of one kind that identify a family (or one of its products)."""

    id: Id | None = None  # default: "<family>.<kind>.<n>"
    kind: SignatureKind
    values: list[str] = Field(min_length=1)
    ecosystem: str | None = None  # for kind package: npm, pypi, maven, nuget, deb, rpm, winget, homebrew, snap, flatpak, chocolatey, appx, go, cargo ...
    fields: list[str] | None = None  # for kind banner/publisher/product-name: restrict to these observation fields
    product: Id | None = None
    entity: Id | None = None
    category: Category | None = None  # defaults to the product's, then the family's
    relation: RelationName | None = None  # defaults from the entity's role
    service: str | None = None  # for domains: the service's name ("Kaspersky Security Network")
    strength: Strength = "medium"
    conf: Literal["V", "C"] = "V"  # V verified in the source, C corroborated
    note: str | None = None
    sources: Sources


class NegativeSignature(Strict):
    """A known trap: an observation matching this is *not* the family's product."""

    id: Id | None = None
    kind: SignatureKind
    values: list[str] = Field(min_length=1)
    ecosystem: str | None = None
    fields: list[str] | None = None
    reason: str
    sources: Sources


class Family(Strict):
    id: Id
    name: str
    country: str | None = None
    description: str | None = None
    default_category: Category
    entities: list[Entity] = Field(min_length=1)
    products: list[Product] = []
    signatures: list[Signature] = []
    negatives: list[NegativeSignature] = []
    marks: list[Mark] = []
    sources: Sources

    @model_validator(mode="after")
    def _one_parent(self) -> Family:
        if not any(e.role == "parent" for e in self.entities):
            raise ValueError("a family needs one entity with role 'parent'")
        return self


# --------------------------------------------------------------------------- restrictions


class ReportWindow(Strict):
    days: int = Field(ge=0)
    business: bool = True


class Obligation(Strict):
    """One thing a restriction asks, from a date, maybe by a deadline.

    Dates are absolute (``effective``, ``due``) or offsets in days from the restriction's
    ``adopted`` date (``effective_offset_days``, ``due_offset_days``).  A ``report`` obligation
    may have a ``window`` counted from the day the product is identified.  ``until`` ends a
    variant of the obligation (e.g. a 1-business-day window replaced by 3 days on a date).
    ``profiles`` limits the obligation to some of the restriction's profile tags, and
    ``relations`` / ``categories`` to some of what the restriction covers.
    """

    requirement: RequirementName
    action: str
    effective: dt.date | None = None
    effective_offset_days: int | None = None
    due: dt.date | None = None
    due_offset_days: int | None = None
    window: ReportWindow | None = None
    until: dt.date | None = None
    profiles: list[Id] | None = None
    relations: list[RelationName] | None = None
    categories: list[Category] | None = None
    citation: str | None = None  # the paragraph of the instrument, when it differs from the restriction's


class Coverage(Strict):
    families: list[Id] = Field(min_length=1)
    categories: list[Category] = []  # empty: every category
    relations: list[RelationName] = ["product"]
    products: list[Id] = []  # empty: every product of the families in the categories
    entities: list[Id] = []  # empty: every entity of the families
    exclude_products: list[Id] = []
    exclude_entities: list[Id] = []
    # How the instrument defines what it covers: "vendor-control" (applications or equipment of companies
    # the family controls: it stops covering a product in a jurisdiction where the family no longer
    # controls it) or "named-product" (it names the product or service itself: it keeps covering it
    # whoever operates it).
    basis: Literal["vendor-control", "named-product"] = "vendor-control"
    note: str | None = None  # the covered-products wording of the instrument


class Restriction(Strict):
    id: Id
    title: str
    jurisdiction: str  # ISO 3166 / "EU" / "US-NY"
    authority: str
    instrument: str
    citation: str  # human readable, e.g. "NDAA FY2018 §1634(a)"
    legal_force: LegalForce
    confidence: FactConfidence
    adopted: dt.date
    effective: dt.date | None = None  # when it starts to bind; default: adopted
    ends: dt.date | None = None  # lifted, expired or superseded
    superseded_by: Id | None = None
    binds: list[Id] = []  # profile tags (empty only for an instrument that binds no one)
    binds_text: str  # whom it binds, in the instrument's words
    covers: Coverage
    obligations: list[Obligation] = []  # empty only for an instrument that binds no one
    text: str  # what it says, short
    notes: list[str] = []
    sources: Sources

    @field_validator("sources")
    @classmethod
    def _urls(cls, v: list[str]) -> list[str]:
        for s in v:
            if not s.startswith(("http://", "https://")):
                raise ValueError(f"restriction sources must be URLs, got {s!r}")
        return v

    @model_validator(mode="after")
    def _dates(self) -> Restriction:
        if self.effective and self.effective < self.adopted:
            raise ValueError("effective date is before the adopted date")
        if self.ends and self.ends < self.adopted:
            raise ValueError("ends date is before the adopted date")
        if self.legal_force.binds_anyone and not self.binds:
            raise ValueError("binds: a restriction needs at least one profile tag "
                             "(only legal_force never-in-force or context may bind no one)")
        if self.legal_force.binds_anyone and not self.obligations:
            raise ValueError("obligations: a restriction needs at least one obligation "
                             "(only legal_force never-in-force or context may have none)")
        for o in self.obligations:
            if o.effective is not None and o.effective_offset_days is not None:
                raise ValueError("an obligation has both effective and effective_offset_days")
            if o.due is not None and o.due_offset_days is not None:
                raise ValueError("an obligation has both due and due_offset_days")
        return self


# --------------------------------------------------------------------------- profiles


class Profile(ProfileMethods, Strict):
    id: Id
    name: str
    description: str
    jurisdictions: list[str] = []
    tags: list[Id] = []  # restriction ``binds`` tags this profile answers to (its own id is implied)
    sources: list[str] = []


# --------------------------------------------------------------------------- IEEE assignments


class OuiAssignment(Strict):
    prefix: str = Field(pattern=r"^[0-9A-F]{6}([0-9A-F]|[0-9A-F]{3})?$")  # 6 (MA-L), 7 (MA-M) or 9 (MA-S) hex digits
    registry: Literal["MA-L", "MA-M", "MA-S", "IAB"]
    organization: str
    family: Id
    entity: Id | None = None


class OuiTable(Strict):
    source: str
    data_date: str
    generated_by: str
    assignments: list[OuiAssignment]


# --------------------------------------------------------------------------- generated domains


class DomainEntry(Strict):
    domain: str = Field(min_length=3)
    match: Literal["subdomains", "exact"]
    family: Id
    entity: Id | None = None
    service: str
    product: Id | None = None
    list: str  # the community list the entry was read from
    attributes: tuple[str, ...] = ()  # the list's attributes: cn, !cn, ads


class DomainTable(Strict):
    """The families' domains, written by ``scripts/gen_domains.py`` from v2fly/domain-list-community."""

    source: str
    repository: str
    commit: str = Field(pattern=r"^[0-9a-f]{40}$")
    data_date: str
    generated_by: str
    mapping: str
    psl: str
    domains: list[DomainEntry]
    excluded: list[dict[str, str]] = []
    not_followed: list[list[str]] = []
    traps: list[dict[str, str]] = []  # registrable domains that are never the families' (e.g. Honor after its sale)


# --------------------------------------------------------------------------- IANA enterprise numbers


class PenAssignment(Strict):
    number: int = Field(ge=0)
    organization: str
    family: Id
    entity: Id | None = None


class PenTable(Strict):
    """IANA Private Enterprise Numbers of the families, written by ``scripts/gen_pen.py``."""

    source: str
    data_date: str
    generated_by: str
    assignments: list[PenAssignment]


# --------------------------------------------------------------------------- overlay


class Overlay(Strict):
    version: str | None = None
    families: list[Family] = []
    restrictions: list[Restriction] = []
    profiles: list[Profile] = []
    signatures: list[FamilySignature] = []


class FamilySignature(Signature):
    family: Id


# Overlay refers to FamilySignature, defined after it: pydantic completes it on first use

"""Data shared by every stage of the pipeline.

    sources  ->  Observation   (what an inventory says, with a Locator back into it)
    match    ->  Detection     (which registry family the observation belongs to, and why)
    policy   ->  Finding       (which restriction binds the organisation, what to do, by when)

Everything here is plain data: no I/O, no registry look-ups.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from enum import Enum, StrEnum
from typing import Any


class Confidence(str, Enum):
    POSSIBLE = "possible"
    LIKELY = "likely"
    CERTAIN = "certain"

    @property
    def rank(self) -> int:
        return _CONF_RANK[self]


_CONF_RANK = {Confidence.POSSIBLE: 0, Confidence.LIKELY: 1, Confidence.CERTAIN: 2}


class Relation(str, Enum):
    PRODUCT = "product"  # made by the family
    OEM = "oem"  # a rebrand, white-label or embedded component
    FORMER_AFFILIATE = "former-affiliate"  # made by an entity that has left the family
    SERVICE_CLIENT = "service-client"  # third-party code or a machine using the family's service


class Requirement(str, Enum):
    """What a finding asks of the organisation, weakest first."""

    ADVISORY = "advisory"
    REPORT = "report"
    DO_NOT_PROCURE = "do-not-procure"
    REMOVE = "remove"
    PROHIBITED = "prohibited"

    @property
    def rank(self) -> int:
        return _REQUIREMENT_RANK[self]


_REQUIREMENT_RANK = {r: i for i, r in enumerate(Requirement)}  # weakest first


class EvidenceClass(str, Enum):
    """The kind of inventory an observation comes from.

    A later scan resolves a finding only when it covers the same kind of evidence
    for the same asset (an SBOM never resolves a network finding).
    """

    INSTALLED = "installed"  # installed programs / packages / apps of a machine or device
    RUNTIME = "runtime"  # processes, services, drivers, kernel modules
    SBOM = "sbom"  # components of a bill of materials
    MOBILE = "mobile"  # MDM app inventories
    NETWORK_DEVICE = "network-device"  # nmap, ARP, DHCP, SNMP: what a device on the network is
    NETWORK_TRAFFIC = "network-traffic"  # DNS, TLS, HTTP logs: which services machines talk to


# Field names an Observation may carry.  Sources use these names; signatures say which
# fields they apply to.  A field not listed here is kept for display but never matched.
# Members are strings ("name" == F.NAME), so readers and signatures may use either.
class F(StrEnum):
    NAME = "name"  # product / package / app display name
    PUBLISHER = "publisher"  # publisher, vendor, supplier, manufacturer, author
    VERSION = "version"
    PURL = "purl"
    ECOSYSTEM = "ecosystem"  # npm, pypi, maven, nuget, deb, rpm, snap, flatpak, homebrew, winget, chocolatey, appx ...
    PACKAGE = "package"  # package / identifier within the ecosystem (winget id, deb name, npm name)
    BUNDLE_ID = "bundle_id"  # macOS / iOS / Android bundle or package id
    PROCESS = "process"  # executable name of a running process
    SERVICE = "service"  # Windows service / systemd unit name
    DRIVER = "driver"  # driver file or name
    KERNEL_MODULE = "kernel_module"
    EXTENSION_ID = "extension_id"  # browser extension id
    PATH = "path"  # install location / executable path
    MAC = "mac"
    OUI_VENDOR = "oui_vendor"  # vendor name a scanner printed for a MAC
    HOSTNAME = "hostname"
    IP = "ip"
    DOMAIN = "domain"  # DNS query name, TLS SNI, HTTP Host
    HTTP_SERVER = "http_server"
    HTTP_TITLE = "http_title"
    WWW_AUTH = "www_authenticate"
    RTSP_SERVER = "rtsp_server"
    BANNER = "banner"  # any other service banner (telnet, ssh, ftp, nmap product/version)
    TLS_SUBJECT_ORG = "tls_subject_org"
    TLS_ISSUER_ORG = "tls_issuer_org"
    TLS_SUBJECT_CN = "tls_subject_cn"
    SYS_OBJECT_ID = "sys_object_id"
    SYS_DESCR = "sys_descr"
    VENDOR_CLASS = "vendor_class"  # DHCP option 60
    MODEL = "model"
    SERIAL = "serial"
    # package metadata: who publishes the package (read for the domains they are on)
    HOMEPAGE = "homepage"  # the project's home page (PyPI Home-page / Project-URL Homepage, npm homepage)
    REPOSITORY = "repository"  # its source repository (VCS) URL
    DOWNLOAD_URL = "download_url"  # where its distributions are published
    AUTHOR_EMAIL = "author_email"  # author / supplier / originator e-mail ("Name <a@b.org>" or "a@b.org")
    MAINTAINER_EMAIL = "maintainer_email"


def _pickled_by_fields(cls: type[Any]) -> type[Any]:
    """``cls`` pickled as its constructor's arguments, read by one C-level call: a slotted
    dataclass is otherwise pickled through dataclasses' Python-level state functions, twice as
    slow (``banscan scan --jobs`` sends every detection from a worker to the parent)."""
    get = operator.attrgetter(*(f.name for f in fields(cls)))  # (several names: a tuple)

    def __reduce__(self: Any) -> tuple[type[Any], tuple[Any, ...]]:
        return type(self), get(self)

    setattr(cls, "__reduce__", __reduce__)  # noqa: B010 - (a method put on the class made by dataclass)
    return cls


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Locator:
    """Where in an input an observation was read.

    ``locator`` is an RFC 6901 JSON Pointer for JSON documents (``/components/12``),
    ``line N`` (1-based) for line-oriented files, or an XPath-like path for XML.
    """

    path: str
    locator: str

    def __str__(self) -> str:
        return f"{self.path}:{self.locator}" if self.locator else self.path


# A field holds one value, or several (every SAN of a certificate, every hostname of a host).
FieldValue = str | tuple[str, ...]


def field_values(value: FieldValue | None) -> tuple[str, ...]:
    """Every value of a field: () when absent, one value or several."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(v for v in value if v)


def field_text(value: FieldValue | None, sep: str = ", ") -> str:
    """A field's values as one string, for display only (matching reads every value apart)."""
    return sep.join(field_values(value))


def _field_from_json(v: Any) -> FieldValue:
    if isinstance(v, list):
        return tuple(str(x) for x in v)
    return "" if v is None else str(v)


@_pickled_by_fields
@dataclass(slots=True)
class Observation:
    """One normalised record of an inventory: a package, an app, a device, a DNS query.

    ``fields`` maps field names (:class:`F` members, or other names kept for display) to one
    value or a tuple of values; a reader never joins several values into one string.
    """

    kind: str  # software | package | component | app | process | service | driver | kernel-module | browser-extension | device | dns | tls | http | snmp | dhcp
    asset: str
    fields: Mapping[str, FieldValue]
    source: Locator
    evidence_class: EvidenceClass = EvidenceClass.INSTALLED
    observed_at: str | None = None  # ISO timestamp the input gives for the record, if any

    def values(self, name: str) -> tuple[str, ...]:
        """Every value of field ``name`` (empty when the observation lacks it)."""
        return field_values(self.fields.get(name))

    def first(self, name: str) -> str | None:
        """The first value of field ``name``, or None."""
        vs = field_values(self.fields.get(name))
        return vs[0] if vs else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "asset": self.asset,
            # one value: a string (as before); several: a JSON array
            "fields": {str(k): (v if isinstance(v, str) else list(v)) for k, v in self.fields.items()},
            "evidence_class": self.evidence_class.value,
            "observed_at": self.observed_at,
        }

    @classmethod
    def from_dict(cls, o: Mapping[str, Any], source: Locator) -> Observation:
        return cls(
            kind=o["kind"], asset=o["asset"],
            fields={str(k): _field_from_json(v) for k, v in dict(o.get("fields") or {}).items()},
            source=source, evidence_class=EvidenceClass(o.get("evidence_class", "installed")),
            observed_at=o.get("observed_at"),
        )


@dataclass(frozen=True, slots=True)
class Problem:
    """A record or a whole input that could not be read.  Problems are data, not exceptions."""

    source: Locator
    message: str
    fatal: bool = False  # True when the whole input could not be read

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Evidence:
    field: str
    value: str
    signature: str  # signature id in the registry
    strength: str  # strong | medium | weak
    negative: bool = False

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"field": str(self.field), "value": self.value, "signature": self.signature,
                             "strength": self.strength}
        if self.negative:
            d["negative"] = True
        return d


@_pickled_by_fields
@dataclass(slots=True)
class Detection:
    id: str
    asset: str
    family: str
    entity: str  # legal entity name, e.g. "AO Kaspersky Lab"
    product: str | None
    category: str
    relation: Relation
    confidence: Confidence
    evidence: list[Evidence]
    observation: Observation
    service: str | None = None  # for service-client detections: the service's name
    notes: list[str] = field(default_factory=list)
    product_id: str | None = None  # registry ids, for policy scope rules
    entity_id: str | None = None

    @property
    def source(self) -> Locator:
        return self.observation.source

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Detection:
        """Rebuild a detection from its JSON form (a report or the store)."""
        obs = Observation.from_dict(d["observation"], Locator(d["source"]["path"], d["source"]["locator"]))
        return cls(
            id=d["id"], asset=d["asset"], family=d["family"], entity=d["entity"], product=d.get("product"),
            category=d["category"], relation=Relation(d["relation"]), confidence=Confidence(d["confidence"]),
            evidence=[Evidence(e["field"], e["value"], e["signature"], e.get("strength", "medium"),
                               e.get("negative", False)) for e in d.get("evidence", [])],
            observation=obs, service=d.get("service"), notes=list(d.get("notes", [])),
            product_id=d.get("product_id"), entity_id=d.get("entity_id"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "asset": self.asset,
            "family": self.family,
            "entity": self.entity,
            "product": self.product,
            "product_id": self.product_id,
            "entity_id": self.entity_id,
            "category": self.category,
            "relation": self.relation.value,
            "confidence": self.confidence.value,
            "service": self.service,
            "evidence": [e.to_dict() for e in self.evidence],
            "observation": self.observation.to_dict(),
            "source": {"path": self.source.path, "locator": self.source.locator},
            "notes": list(self.notes),
        }


@dataclass(slots=True)
class Finding:
    id: str
    detection: str  # detection id
    restriction: str  # restriction id
    instrument: str
    citation: str
    sources: list[str]
    requirement: Requirement
    deadline: str | None  # ISO date
    profile: str
    legal_force: str
    action: str  # what to do, in words
    reasons: list[str] = field(default_factory=list)  # why this binds the profile
    steps: list[dict[str, Any]] = field(default_factory=list)  # every obligation with its dates
    report_window: dict[str, Any] | None = None  # {"days": 1, "business": true}
    status: str = "open"  # lifecycle status from the store: open, planned, resolved, waived, false-positive
    asset: str = ""
    family: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["requirement"] = self.requirement.value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        kw = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        kw["requirement"] = Requirement(d["requirement"])
        return cls(**kw)


def stable_id(prefix: str, *parts: object) -> str:
    """A short id that is the same for the same inputs on every run."""
    # surrogatepass: a lone surrogate from an input must not crash (it is replaced on output)
    h = hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode("utf-8", "surrogatepass"))
    return f"{prefix}-{h.hexdigest()[:12]}"

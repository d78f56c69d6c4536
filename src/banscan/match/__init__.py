"""Observations x signatures -> detections.

All text signatures compile once into one Aho-Corasick automaton over normalised text, padded
with spaces so that hits fall on token boundaries ("zte" never matches inside "Aztech").
Identifier signatures (packages, purls, bundle ids, processes, domains, MAC prefixes, SNMP
enterprise numbers) become dictionary and prefix look-ups.  Nothing loops over regular
expressions per record.

``Matcher.prefilter(raw)`` is a cheap superset test on a raw input line: when it is False no
signature can match anything in the line, so line-oriented sources may skip parsing it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ahocorasick

from banscan.match.normalize import (
    anchor,
    locally_administered,
    normalize,
    normalize_mac,
    spaceless,
)
from banscan.match.rules import (
    DEFAULT_FIELDS,
    POINTS,
    TEXT_FIELDS,
    WEAKER,
    confidence_of,
    strength_in,
)
from banscan.model import (
    Confidence,
    Detection,
    Evidence,
    F,
    Observation,
    Relation,
    stable_id,
)
from banscan.registry import CompiledSignature, Registry

if TYPE_CHECKING:
    from banscan.fast.engine import Engine, UnicodeFilter

__all__ = ["Matcher", "Hit"]

_KEY_KINDS = ("process", "service", "driver", "kernel-module", "browser-extension")
_KEY_FIELD = {
    "process": F.PROCESS,
    "service": F.SERVICE,
    "driver": F.DRIVER,
    "kernel-module": F.KERNEL_MODULE,
    "browser-extension": F.EXTENSION_ID,
}
_BOUNDARY = ("/", ".", "@", ":", "-", "?", "#")
# Package names in library ecosystems are identifiers chosen by whoever published the package:
# a vendor's name inside one ("hikvision-isapi-client") is weak evidence of the vendor's product.
LIBRARY_ECOSYSTEMS = frozenset({
    "npm", "pypi", "maven", "nuget", "go", "golang", "cargo", "rubygems", "gem", "composer",
    "cocoapods", "swift", "pub", "hex", "conda", "hackage", "cran", "github",
})


@dataclass(frozen=True, slots=True)
class Hit:
    sig: CompiledSignature
    field: str
    value: str
    strength: str
    key: str = ""  # what matched: the same text matched by two signatures counts once


# Words too common to pick out a line on their own (prefilter anchors only).
_GENERIC = frozenset("""
    server web mini login radio design tool tools suite spring camera device python new free share
    iphone android app apps client service services cloud mobile security network technology
    technologies video player system systems software group online home smart lite pro plus
    manager center centre agent update studio desktop browser cpe upnp http https www com net org
    communications communication international information digital data telecom the and for of
""".split())

Anchor = tuple[str, bool, bool]  # (lower-case literal, token boundary before, token boundary after)


def text_anchors(n: str, df: dict[str, int] | None = None) -> list[Anchor]:
    """Anchors one of which any ASCII raw text containing the normalised phrase ``n`` contains.

    Every token of ``n`` appears, whole and case-insensitively, in any ASCII text that normalises
    to contain ``n`` (normalisation only splits on punctuation and drops whole tokens), so one
    token bounded on both sides is enough: the rarest one (not a generic word, used by the fewest
    phrases, longest).  A phrase with a non-ASCII character needs no anchor: no ASCII line can
    hold it, and non-ASCII lines always take the full path.
    """
    tokens = n.split()
    if not tokens:
        return []
    if not n.isascii():  # for the Unicode path: a token in the non-spaced script, as a substring
        return [(max((t for t in tokens if not t.isascii()), key=len), False, False)]
    counts = df or {}
    # vendor names recur across the registry's phrases but are rare in inventories
    best = min(tokens, key=lambda t: (t in _GENERIC or t.isdigit(), len(t) < 3, -min(counts.get(t, 0), 3),
                                      -len(t), t))
    return [(best, True, True)]


def _free(lit: str) -> Anchor:
    return (lit, False, False)


_RUN = re.compile(r"[a-z0-9]+")


def id_anchor(v: str, left: bool, right: bool) -> Anchor:
    """The rarest alphanumeric run of an identifier that raw text holds literally (``v`` lower
    case).  Inside ``v`` a run is bounded by ``v``'s own punctuation; at ``v``'s ends only where
    the identifier is bounded there (``left``/``right``: a whole field, not a prefix)."""
    if not v.isascii():
        return _free(anchor(v))
    runs = [(m.start(), m.end()) for m in _RUN.finditer(v)]
    if not runs:
        return _free(v)
    s, e = min(runs, key=lambda r: (v[r[0]:r[1]] in _GENERIC, r[1] - r[0] < 4, r[0] - r[1], r[0]))
    return (v[s:e], s > 0 or left, e < len(v) or right)


def key_anchor(value: str) -> str:
    """For identifiers: the whole value (lower-case) when JSON cannot escape any of it."""
    v = value.lower().rstrip("*")
    if "/" in v or not v.isascii():
        return anchor(v)
    return v


def _strip_ext(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    for ext in (".sys", ".exe", ".ko", ".service", ".dll", ".app"):
        if base.endswith(ext):
            return base[: -len(ext)]
    return base


class Matcher:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.unidentifiable_macs = 0
        self._text = ahocorasick.Automaton()
        self._text_entries: dict[str, list[CompiledSignature]] = defaultdict(list)
        self._pkg_exact: dict[tuple[str, str], list[CompiledSignature]] = defaultdict(list)
        self._pkg_prefix: dict[str, list[tuple[str, CompiledSignature]]] = defaultdict(list)
        self._purl_prefix: list[tuple[str, CompiledSignature]] = []
        self._bundle_exact: dict[str, list[CompiledSignature]] = defaultdict(list)
        self._bundle_prefix: dict[str, list[CompiledSignature]] = defaultdict(list)
        self._keys: dict[str, dict[str, list[CompiledSignature]]] = {k: defaultdict(list) for k in _KEY_KINDS}
        self._paths: list[tuple[str, CompiledSignature]] = []
        self._pen: dict[int, list[CompiledSignature]] = defaultdict(list)
        self._domains: dict[str, list[CompiledSignature]] = defaultdict(list)
        self._hostnames: list[tuple[str, CompiledSignature]] = []
        self._oui: dict[str, tuple[str, str | None, str, str]] = {}
        anchors: set[Anchor] = set()
        self._phrases: list[str] = []
        for sig in registry.signatures:
            self._add(sig, anchors)
        df: dict[str, int] = defaultdict(int)
        for n in set(self._phrases):
            for t in set(n.split()):
                df[t] += 1
        for n in self._phrases:
            anchors.update(text_anchors(n, df))
        for a in registry.oui:
            self._oui[a.prefix] = (a.family, a.entity, a.organization, a.registry)
        for k in self._text_entries:
            self._text.add_word(k, k)
        if self._text_entries:
            self._text.make_automaton()
        self._anchors = sorted(a for a in anchors if a[0])
        self._engine: Engine | None = None
        self._unicode: UnicodeFilter | None = None

    # ------------------------------------------------------------------ compile
    def _add(self, sig: CompiledSignature, all_anchors: set[Anchor]) -> None:
        kind = sig.kind
        # negatives only ever suppress: a line without a positive anchor needs no reading
        anchors: set[Anchor] = set() if sig.negative else all_anchors
        for raw in sig.values:
            value = raw.strip()
            if not value:
                continue
            if kind in ("publisher", "product-name", "banner"):
                n = normalize(value)
                if not n:
                    continue
                key = n if spaceless(n) else f" {n} "
                self._text_entries[key].append(sig)
                if not sig.negative:
                    self._phrases.append(n)
            elif kind == "package":
                eco = (sig.ecosystem or "").lower()
                v = value.lower()
                if v.endswith("*"):
                    self._pkg_prefix[eco].append((v[:-1], sig))
                elif v.endswith((".", "/", ":")):
                    self._pkg_prefix[eco].append((v, sig))
                else:
                    self._pkg_exact[(eco, v)].append(sig)
                # an exact name is a whole field (or the part of a purl/Maven id between
                # separators); a prefix only starts one
                anchors.add(id_anchor(v.rstrip("*"), True, not v.endswith(("*", ".", "/", ":"))))
            elif kind == "purl":
                v = value.lower().rstrip("*")
                self._purl_prefix.append((v, sig))
                anchors.add(id_anchor(v.split("/", 1)[-1], True, False))
            elif kind == "bundle-id":
                v = value.lower().rstrip("*")
                if v.endswith("."):
                    self._bundle_prefix[v].append(sig)
                else:
                    self._bundle_exact[v].append(sig)
                anchors.add(id_anchor(v, True, not v.endswith(".")))
            elif kind in _KEY_KINDS:
                self._keys[kind][value.lower()].append(sig)
                self._keys[kind][_strip_ext(value)].append(sig)
                anchors.add(id_anchor(_strip_ext(value), True, True))
            elif kind == "path":
                v = "/" + value.lower().replace("\\", "/").strip("/") + "/"
                self._paths.append((v, sig))
                anchors.add(id_anchor(v, True, True))
            elif kind == "snmp-pen":
                self._pen[int(value)].append(sig)
            elif kind == "domain":
                v = value.lower().strip(".")
                self._domains[v].append(sig)
                # matched on whole labels: bounded on both sides
                anchors.add((v, True, True) if len(v) <= 40 else _free(anchor(v)))
            elif kind == "hostname":
                self._hostnames.append((value.lower(), sig))
                anchors.add(id_anchor(value.lower(), True, False))  # a prefix

    # ------------------------------------------------------------------ prefilter
    def anchors(self) -> list[Anchor]:
        """(literal, left boundary, right boundary): one of them is in any ASCII raw text that a
        signature could match (lines with non-ASCII bytes or escapes take the full path)."""
        return list(self._anchors)

    @property
    def engine(self) -> Engine:
        """The compiled multi-literal engine over :meth:`anchors` (built on first use)."""
        if self._engine is None:
            from banscan.fast.engine import compile_engine

            self._engine = compile_engine(self._anchors)
        return self._engine

    @property
    def unicode_filter(self) -> UnicodeFilter:
        """The anchors over NFKC-folded text, for lines with non-ASCII characters."""
        if self._unicode is None:
            from banscan.fast.engine import UnicodeFilter

            self._unicode = UnicodeFilter(self._anchors)
        return self._unicode

    def prefilter(self, raw: str) -> bool:
        """False only when no text or identifier signature can match anything in ``raw``."""
        if not raw.isascii():
            return self.unicode_filter.needs(raw)  # folded (NFKC, case) as the matcher folds it
        return self.engine.search(raw.encode("ascii"))

    # ------------------------------------------------------------------ hits
    def hits(self, obs: Observation) -> list[Hit]:
        f = obs.fields
        out: list[Hit] = []
        eco = (f.get(F.ECOSYSTEM) or "").lower()
        for field in TEXT_FIELDS:
            value = f.get(field)
            if value:
                self._text_hits(field, value, out)
        if eco in LIBRARY_ECOSYSTEMS or (not eco and f.get(F.PURL)):
            out[:] = [Hit(h.sig, h.field, h.value, WEAKER[h.strength], h.key) if h.field == F.NAME else h
                      for h in out]
        pkg = f.get(F.PACKAGE)
        if pkg:
            self._package_hits(eco, pkg, F.PACKAGE, out)
        purl = f.get(F.PURL)
        if purl:
            self._purl_hits(purl, out)
        bid = f.get(F.BUNDLE_ID)
        if bid:
            self._bundle_hits(bid, out)
        for kind, field in _KEY_FIELD.items():
            value = f.get(field)
            if value:
                table = self._keys[kind]
                sigs = table.get(value.lower()) or table.get(_strip_ext(value))
                for s in sigs or ():
                    out.append(Hit(s, field, value, s.strength))
        path = f.get(F.PATH)
        if path and self._paths:
            p = "/" + path.lower().replace("\\", "/").strip("/") + "/"
            for frag, s in self._paths:
                if frag in p:
                    out.append(Hit(s, F.PATH, path, s.strength))
        oid = f.get(F.SYS_OBJECT_ID)
        if oid:
            o = oid.strip().lstrip(".")
            if o.startswith("1.3.6.1.4.1."):
                pen = o[12:].split(".", 1)[0]
                if pen.isdigit():
                    for s in self._pen.get(int(pen), ()):
                        out.append(Hit(s, F.SYS_OBJECT_ID, oid, s.strength))
        dom = f.get(F.DOMAIN)
        if dom:
            self._domain_hits(dom, out)
        host = f.get(F.HOSTNAME)
        if host and self._hostnames:
            h = host.lower()
            for prefix, s in self._hostnames:
                if h.startswith(prefix):
                    out.append(Hit(s, F.HOSTNAME, host, s.strength))
        return out

    def _text_hits(self, field: str, value: str, out: list[Hit]) -> None:
        n = normalize(value)
        if not n:
            return
        for _, key in self._text.iter(f" {n} "):
            for s in self._text_entries[key]:
                allowed = s.fields or DEFAULT_FIELDS.get(s.kind, ())
                if field in allowed:
                    out.append(Hit(s, field, value, strength_in(s.kind, field, s.strength), key))

    def _package_hits(self, eco: str, pkg: str, field: str, out: list[Hit]) -> None:
        p = pkg.lower()
        for s in self._pkg_exact.get((eco, p), ()):
            out.append(Hit(s, field, pkg, s.strength))
        if eco == "maven" and ":" in p:  # a bare groupId value matches every artifact of the group
            for s in self._pkg_exact.get((eco, p.split(":", 1)[0]), ()):
                out.append(Hit(s, field, pkg, s.strength))
        for prefix, s in self._pkg_prefix.get(eco, ()):
            if p.startswith(prefix) or (prefix.endswith(".") and p.split(":", 1)[0] == prefix[:-1]):
                out.append(Hit(s, field, pkg, s.strength))

    def _purl_hits(self, purl: str, out: list[Hit]) -> None:
        core = purl.lower().split("?", 1)[0].split("#", 1)[0]
        if core.startswith("pkg:") and "/" in core:
            for prefix, s in self._purl_prefix:
                if core.startswith(prefix) and (len(core) == len(prefix) or core[len(prefix)] in _BOUNDARY
                                                or prefix.endswith(_BOUNDARY)):
                    out.append(Hit(s, F.PURL, purl, s.strength))
            typ, _, rest = core[4:].partition("/")
            name = rest.split("@", 1)[0]
            if typ == "maven" and "/" in name:
                name = name.replace("/", ":", 1)
            if typ in ("npm",) and name.startswith("%40"):
                name = "@" + name[3:]
            self._package_hits({"gem": "rubygems", "golang": "go"}.get(typ, typ), name, F.PURL, out)

    def _bundle_hits(self, bid: str, out: list[Hit]) -> None:
        b = bid.lower().strip()
        for s in self._bundle_exact.get(b, ()):
            out.append(Hit(s, F.BUNDLE_ID, bid, s.strength))
        if self._bundle_prefix:
            i = b.find(".")
            while i != -1:
                for s in self._bundle_prefix.get(b[: i + 1], ()):
                    out.append(Hit(s, F.BUNDLE_ID, bid, s.strength))
                i = b.find(".", i + 1)

    def _domain_hits(self, dom: str, out: list[Hit]) -> None:
        d = dom.lower().strip().rstrip(".")
        labels = d.split(".")
        for i in range(len(labels) - 1):
            for s in self._domains.get(".".join(labels[i:]), ()):
                out.append(Hit(s, F.DOMAIN, dom, s.strength))

    # ------------------------------------------------------------------ MAC
    def oui(self, mac: str) -> tuple[str, str | None, str, str, str] | None:
        """(family, entity, organisation, registry, prefix) for a MAC, by longest prefix; None otherwise."""
        m = normalize_mac(mac)
        if m is None:
            return None
        if locally_administered(m):
            self.unidentifiable_macs += 1
            return None
        for n in (9, 7, 6):
            hit = self._oui.get(m[:n])
            if hit:
                return (*hit, m[:n])
        return None

    # ------------------------------------------------------------------ detections
    def match(self, obs: Observation) -> list[Detection]:
        hits = self.hits(obs)
        mac = obs.fields.get(F.MAC)
        oui = self.oui(mac) if mac else None
        if not hits and oui is None:
            return []
        by_family: dict[str, list[Hit]] = defaultdict(list)
        negated: set[str] = set()
        for h in hits:
            if h.sig.negative:
                negated.add(h.sig.family)
            else:
                by_family[h.sig.family].append(h)
        oui_family = None
        if oui is not None:
            oui_family = oui[0]
            by_family.setdefault(oui_family, [])
        dets = []
        for fam, fhits in by_family.items():
            if fam in negated:
                continue
            dets.append(self._detection(obs, fam, fhits, oui if fam == oui_family else None))
        return dets

    def _detection(self, obs: Observation, fam: str, hits: list[Hit],
                   oui: tuple[str, str | None, str, str, str] | None) -> Detection:
        reg = self.registry
        # distinct evidence adds up; one text matched by two signatures, or one signature, counts once
        best: dict[tuple[str, str], Hit] = {}
        for h in hits:
            k = (h.field, h.key) if h.key else ("", h.sig.id)
            if k not in best or POINTS[h.strength] > POINTS[best[k].strength]:
                best[k] = h
        per_sig: dict[str, Hit] = {}
        for h in best.values():
            if h.sig.id not in per_sig or POINTS[h.strength] > POINTS[per_sig[h.sig.id].strength]:
                per_sig[h.sig.id] = h
        ranked = sorted(per_sig.values(), key=lambda h: (-POINTS[h.strength], h.sig.product is None, h.sig.id))
        points = sum(POINTS[h.strength] for h in ranked)
        evidence = [Evidence(h.field, h.value, h.sig.id, h.strength) for h in ranked]
        if oui is not None:
            family, ent, org, registry_name, prefix = oui
            points += POINTS["medium"]  # an OUI alone is likely, never certain
            evidence.append(Evidence(F.MAC, obs.fields[F.MAC], f"ieee.{registry_name.lower()}.{prefix}", "medium"))
        lead = ranked[0] if ranked else None
        product_id = next((h.sig.product for h in ranked if h.sig.product), None)
        product = reg.product(fam, product_id)
        if lead is not None:
            entity = reg.entity(fam, lead.sig.entity)
            category = product.category.value if product else lead.sig.category
            relation = Relation(lead.sig.relation)
            service = next((h.sig.service for h in ranked if h.sig.service), None)
        else:
            entity = reg.entity(fam, oui[1] if oui else None)
            category = reg.family(fam).default_category.value
            relation = Relation.FORMER_AFFILIATE if entity.role == "former-member" else Relation.PRODUCT
            service = None
        # a product-level relation from any signature wins over a service-client hit
        if relation == Relation.SERVICE_CLIENT and any(h.sig.relation == "product" for h in ranked):
            relation = Relation.PRODUCT
        confidence = Confidence(confidence_of(points))
        notes = []
        if oui is not None and lead is None:
            notes.append(f"identified by the MAC address prefix registered to {oui[2]} ({oui[3]} {oui[4]}); "
                         "OEM devices carry their maker's prefix")
        det_id = stable_id("D", obs.asset, fam, product_id, obs.source.path, obs.source.locator)
        return Detection(
            id=det_id, asset=obs.asset, family=fam, entity=entity.name,
            product=product.name if product else None, category=category, relation=relation,
            confidence=confidence, evidence=evidence, observation=obs, service=service, notes=notes,
            product_id=product_id, entity_id=entity.id,
        )

    def match_all(self, observations: Iterable[Observation]) -> list[Detection]:
        out: list[Detection] = []
        for o in observations:
            out.extend(self.match(o))
        return out

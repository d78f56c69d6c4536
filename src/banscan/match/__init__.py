"""Observations x signatures -> detections.

Each signature kind is a plug-in (``banscan.match.kinds``): it compiles the registry's
signatures of its kinds once into its own index (an Aho-Corasick automaton over normalised
text, dictionaries, prefix tables) and looks observations up in it.  Nothing loops over
regular expressions per record.  The matcher collects the hits, applies negatives and the
registry's dated ownership (as of a date), and turns the hits of each family into a detection
with a confidence.

``Matcher.anchors()`` lists anchors ``(literal, left, right)`` (``banscan.match.anchoring``) such
that any ASCII raw text that any signature matches holds at least one of them, with a token
boundary before it when ``left`` and after it when ``right``; ``Matcher.prefilter(raw)`` is that
test on a raw input line: when it is False no signature can match anything in the line, so
line-oriented sources may skip parsing it.  Lines of ``long_line`` characters or more always pass
(a field value cut to a length limit may end inside a word).  MAC prefixes (IEEE assignments)
are not anchored: a record that carries a MAC address must never be skipped.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from banscan.keys import detection_id
from banscan.match import kinds
from banscan.match.anchoring import Anchor
from banscan.match.base import EXTRA_KEY, Hit, KindPlugin
from banscan.match.normalize import locally_administered, normalize_mac
from banscan.match.rules import POINTS, WEAKER, confidence_of
from banscan.model import (
    Confidence,
    Detection,
    Evidence,
    F,
    Observation,
    Relation,
)
from banscan.registry import ROLE_RELATION, Registry

if TYPE_CHECKING:
    from banscan.registry.schema import Entity

__all__ = ["Matcher", "Hit", "LIBRARY_ECOSYSTEMS", "compile_kinds"]

# Package names in library ecosystems are identifiers chosen by whoever published the package:
# a vendor's name inside one ("hikvision-isapi-client") is weak evidence of the vendor's product.
LIBRARY_ECOSYSTEMS = frozenset({
    "npm", "pypi", "maven", "nuget", "go", "golang", "cargo", "rubygems", "gem", "composer",
    "cocoapods", "swift", "pub", "hex", "conda", "hackage", "cran", "github",
})
# Lines at least this long always pass the prefilter: a value longer than a length limit is cut
# (organisation names at orgnames.MAX_CHARS, any field at Limits.max_field_chars), and the cut may
# end inside a word, whose head then reads as a whole token.
LONG_LINE = 1024
# kinds whose hits in a name field are weakened for library packages
_NAME_TEXT_KINDS = frozenset({"publisher", "product-name", "banner", "organisation"})


def compile_kinds(registry: Registry) -> Registry:
    """``registry`` with every kind's index made and kept on it (``Registry.kind_indexes``), so that
    a pickle of it (the compiled cache) holds them: a Matcher of the unpickled registry uses them
    instead of compiling the signatures again."""
    registry.kind_indexes = (tuple(registry.signatures), {p.__name__: p.compile(registry) for p in kinds.PLUGINS})
    return registry


def _kind_indexes(registry: Registry) -> dict[str, Any]:
    """The indexes kept on ``registry`` when its signatures are still those they were made from."""
    made = registry.kind_indexes
    if made is None or made[0] != tuple(registry.signatures):  # compared by identity first: quick
        return {}
    return made[1]


class Matcher:
    """Matches observations against a registry, as of a date (default: today).

    Entities carry the periods they belonged to their family (``Entity.spans``; ``to`` is the
    first day outside): before the first period an entity's signatures do not match; after it left
    its products are ``former-affiliate`` and at most ``possible``, with a note saying when it
    left and to whom (``Entity.successor``).
    """

    def __init__(self, registry: Registry, as_of: dt.date | None = None,
                 plugins: Iterable[KindPlugin] | None = None) -> None:
        self.registry = registry
        self.as_of = as_of or dt.date.today()
        self.unidentifiable_macs = 0
        made = _kind_indexes(registry) if plugins is None else {}
        self._plugins: list[tuple[KindPlugin, Any, frozenset[str] | None]] = [
            (p, made[p.__name__] if p.__name__ in made else p.compile(registry), getattr(p, "FIELDS", None))
            for p in (plugins or kinds.PLUGINS)]
        self._membership: dict[tuple[str, str | None], str] = {}
        self._oui_table: dict[str, tuple[str, str | None, str, str]] | None = None  # see _oui
        self._entities: dict[tuple[str, str], Entity] = {
            (f.id, e.id): e for f in registry.families.values() for e in f.entities}
        # each kind's anchors, with the fields it reads (None: any)
        self._kind_anchors: list[tuple[frozenset[str] | None, frozenset[Anchor]]] = []
        for p, ix, fields in self._plugins:
            own: set[Anchor] = set()
            for a in p.anchors(ix):
                lit, left, right = (a, False, False) if isinstance(a, str) else a  # a bare string: no bounds
                if lit:
                    own.add((lit.lower(), bool(left), bool(right)))
            self._kind_anchors.append((fields, frozenset(own)))
        self._anchors = frozenset().union(*(a for _, a in self._kind_anchors))
        self._engines: dict[frozenset[str], Any] = {}
        self.long_line = LONG_LINE
        self._engine: Any = None  # banscan.fast.engine: compiled on first use
        self._unicode: Any = None

    # ------------------------------------------------------------------ prefilter
    def anchors(self) -> frozenset[Anchor]:
        """(lower-case literal, boundary before, boundary after): any ASCII raw text that a
        signature matches holds one of them."""
        return self._anchors

    @property
    def engine(self) -> Any:
        """The compiled multi-literal engine over :meth:`anchors` (banscan.fast.engine)."""
        if self._engine is None:
            from banscan.fast.engine import compile_engine

            self._engine = compile_engine(self._anchors)
        return self._engine

    def anchors_for(self, fields: frozenset[str]) -> frozenset[Anchor]:
        """The anchors of the kinds that read any of ``fields``: enough for records that can carry
        no other field (a kind never looks at an observation without one of its fields)."""
        return frozenset().union(*(a for f, a in self._kind_anchors if f is None or not f.isdisjoint(fields)))

    def engine_for(self, fields: frozenset[str] | None) -> Any:
        """The compiled engine over :meth:`anchors_for` ``fields`` (None: over every anchor)."""
        if fields is None:
            return self.engine
        got = self._engines.get(fields)
        if got is None:
            from banscan.fast.engine import compile_engine

            got = self._engines[fields] = compile_engine(self.anchors_for(fields))
        return got

    @property
    def unicode_filter(self) -> Any:
        """The anchors over NFKC-folded text, for lines with non-ASCII characters."""
        if self._unicode is None:
            from banscan.fast.engine import UnicodeFilter

            self._unicode = UnicodeFilter(self._anchors)
        return self._unicode

    def prefilter(self, raw: str) -> bool:
        """False only when no text or identifier signature can match anything in ``raw``."""
        if not self._anchors:
            return False
        if len(raw) >= self.long_line:
            return True
        if not raw.isascii():
            return self.unicode_filter.needs(raw)  # folded (NFKC, case) as the matcher folds it
        return bool(self.engine.search(raw.encode("ascii")))

    # ------------------------------------------------------------------ hits
    def hits(self, obs: Observation) -> list[Hit]:
        """Every hit of every kind (negative ones included), before ownership dates apply."""
        out: list[Hit] = []
        present = obs.fields.keys()
        for p, ix, fields in self._plugins:
            if fields is None or not fields.isdisjoint(present):
                out.extend(p.lookup(ix, obs))
        if not out:
            return out
        eco = (obs.first(F.ECOSYSTEM) or "").lower()
        if eco in LIBRARY_ECOSYSTEMS or (not eco and obs.first(F.PURL)):
            out = [Hit(h.sig, h.field, h.value, WEAKER[h.strength], h.key, h.entity, h.publisher)
                   if h.field == F.NAME and h.sig.kind in _NAME_TEXT_KINDS else h for h in out]
        return out

    # ------------------------------------------------------------------ ownership over time
    def entity_of(self, family: str, entity_id: str | None) -> Entity:
        if entity_id:
            e = self._entities.get((family, entity_id))
            if e is not None:
                return e
        return self.registry.parent(family)

    def membership(self, family: str, entity_id: str | None) -> str:
        """``before`` (not yet in the family on the as-of date), ``member`` or ``former``."""
        got = self._membership.get((family, entity_id))
        if got is None:
            got = self._membership[(family, entity_id)] = self._membership_of(family, entity_id)
        return got

    def _membership_of(self, family: str, entity_id: str | None) -> str:
        e = self.entity_of(family, entity_id)
        if e.role == "former-member" and all(t is None for _, t in e.spans()):
            return "former"  # left at a date the registry does not give
        if e.member_on(self.as_of):
            return "member"
        return "former" if e.left_on(self.as_of) is not None else "before"

    # ------------------------------------------------------------------ MAC
    @property
    def _oui(self) -> dict[str, tuple[str, str | None, str, str]]:
        """IEEE prefix -> (family, entity, organisation, registry), made when a MAC is first
        looked up (most inputs carry none)."""
        table = self._oui_table
        if table is None:
            table = self._oui_table = {
                a.prefix: (a.family, a.entity, a.organization, a.registry) for a in self.registry.oui}
        return table

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
        mac = obs.first(F.MAC)
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
        if oui is not None and self.membership(oui[0], oui[1]) != "before":
            oui_family = oui[0]
            by_family.setdefault(oui_family, [])
        dets = []
        for fam, fhits in by_family.items():
            if fam in negated:
                continue
            det = self._detection(obs, fam, fhits, oui if fam == oui_family else None)
            if det is not None:
                dets.append(det)
        return dets

    def _detection(self, obs: Observation, fam: str, hits: list[Hit],
                   oui: tuple[str, str | None, str, str, str] | None) -> Detection | None:
        reg = self.registry
        # ownership on the as-of date: hits of entities not yet in the family are dropped; hits of
        # entities that have left it count only when no current member's hit is there
        state = {h: self.membership(fam, h.entity or h.sig.entity) for h in hits}
        oui_state = self.membership(fam, oui[1]) if oui is not None else None
        current = [h for h in hits if state[h] == "member"]
        former = [h for h in hits if state[h] == "former"]
        if current or oui_state == "member":
            hits = current
            if oui_state == "former":
                oui = None
            is_former = False
        else:
            hits = former
            is_former = True
        if not hits and oui is None:
            return None
        covered = {h.value.casefold() for h in hits if not h.key.startswith(EXTRA_KEY)}
        hits = [h for h in hits if not (h.key.startswith(EXTRA_KEY) and h.value.casefold() in covered)]
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
        # a hit naming the publisher leads only when nothing as strong names a product
        ranked = sorted(per_sig.values(),
                        key=lambda h: (-POINTS[h.strength], bool(h.publisher), h.sig.product is None, h.sig.id))
        # an author's e-mail on the family's domain is possible on its own and adds nothing to other
        # evidence (an employee's private project is not the company's)
        alone = all(h.publisher == "mail" for h in ranked) and oui is None
        points = sum(POINTS[h.strength] for h in ranked if h.publisher != "mail" or alone)
        # the publisher's site and a vendor word in the package's own name are both what the uploader
        # wrote (a third-party client names itself after the API and links to its documentation):
        # together likely, never certain, unless some other evidence is at least medium on its own
        if any(h.publisher == "site" for h in ranked) and not any(
                not h.publisher and POINTS[h.strength] >= POINTS["medium"] for h in ranked):
            points = min(points, POINTS["medium"])
        evidence = [Evidence(h.field, h.value, h.sig.id, h.strength) for h in ranked]
        mac_value = obs.first(F.MAC) or ""
        if oui is not None:
            family, ent, org, registry_name, prefix = oui
            points += POINTS["medium"]  # an OUI alone is likely, never certain
            evidence.append(Evidence(F.MAC, mac_value, f"ieee.{registry_name.lower()}.{prefix}", "medium"))
        lead = ranked[0] if ranked else None
        # a package published on the family's site is the family's, but none of its listed products
        product_id = next((h.sig.product for h in ranked if h.sig.product and not h.publisher), None)
        product = reg.product(fam, product_id)
        if lead is not None:
            entity = self.entity_of(fam, lead.entity or lead.sig.entity)
            if lead.publisher:
                eco = (obs.first(F.ECOSYSTEM) or "").lower()
                library = eco in LIBRARY_ECOSYSTEMS or (not eco and bool(obs.first(F.PURL)))
                category = product.category.value if product else (
                    "sdk" if library else reg.family(fam).default_category.value)
                relation = Relation(ROLE_RELATION[entity.role])
            else:
                category = product.category.value if product else lead.sig.category
                relation = Relation(lead.sig.relation)
            service = next((h.sig.service for h in ranked if h.sig.service and not h.publisher), None)
        else:
            entity = self.entity_of(fam, oui[1] if oui else None)
            category = reg.family(fam).default_category.value
            relation = Relation.FORMER_AFFILIATE if entity.role == "former-member" else Relation.PRODUCT
            service = None
        # a product-level relation from any signature wins over a service-client hit
        if relation == Relation.SERVICE_CLIENT and any(
                h.sig.relation == "product" or h.publisher == "site" for h in ranked):
            relation = Relation.PRODUCT
        confidence = Confidence(confidence_of(points))
        notes = []
        if is_former:
            relation = Relation.FORMER_AFFILIATE
            confidence = Confidence.POSSIBLE
            notes.append(ownership_note(reg.family(fam).name, entity, entity.left_on(self.as_of)))
        elif relation == Relation.FORMER_AFFILIATE:
            # a former member matched on a date when it still belonged to the family
            relation = Relation.PRODUCT
        if oui is not None and lead is None:
            notes.append(f"identified by the MAC address prefix registered to {oui[2]} ({oui[3]} {oui[4]}); "
                         "OEM devices carry their maker's prefix")
        det_id = detection_id(obs.asset, fam, product_id, obs.source.path, obs.source.locator)
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


def ownership_note(family_name: str, entity: Entity, left: dt.date | None) -> str:
    """Why an entity's product no longer counts as the family's: when it left, and to whom."""
    if left is None:
        return f"{entity.name} is a former member of the {family_name} family"
    text = f"{entity.name} left the {family_name} family on {left.isoformat()}"
    if entity.successor:
        text += f" (sold to {entity.successor})"
    return text + "; its products are no longer the family's"

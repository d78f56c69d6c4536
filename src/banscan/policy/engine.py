"""The policy engine: detections x restrictions x profiles x a date -> findings and upcoming law.

Pure functions: the as-of date (and, optionally, the day each product was identified) is passed in.

Design: **one finding per obligation.**  A restriction that asks several things (DHS BOD 17-01:
report within 30 days, plan removal within 60, begin removal within 90) gives one finding per
thing that applies on the as-of date, each with its own requirement, deadline, action and
citation (the obligation's paragraph when the data gives one).  Every finding also carries
``steps``: all obligations of the same restriction that apply to this profile and product, with
their computed dates and whether each is active, upcoming or ended, so one finding shows the
whole sequence.

Finding ids are :func:`banscan.keys.finding_id` (detection, restriction, requirement, profile,
action).  Two variants of one obligation that replace each other on a date (FAR 52.204-23's
1-business-day report window, 3 business days from 2023-12-04) share their action text and so
keep one id.

Rules:

* A restriction binds a profile when one of its ``binds`` tags is among the profile's tags.
* It covers a detection when the family, relation, category, product and entity scope rules of
  ``covers`` all admit it.  A detection of a former member of the family (relation
  ``former-affiliate``) counts as a product of the family when it was identified (first seen;
  default: the as-of date) while the entity still belonged to it (its ``from``/``to`` or ``periods``).
* As of date D: not adopted yet -> nothing; adopted, not yet effective -> ``upcoming`` notes (one per start date);
  ended (``ends`` <= D) or superseded (the superseding restriction is in force on D) -> nothing.
* Product-level control: a product's ``operators`` (registry data) say who operates it in which
  jurisdictions over which dates.  When, in the restriction's jurisdiction on date D, the product is
  operated by someone the family does not control, a restriction whose coverage rests on vendor
  control (``covers.basis: vendor-control``, the default) no longer covers it; one that names the
  product or service itself (``covers.basis: named-product``) still does, and its findings say so.
* An instrument that binds no one (legal force ``never-in-force``, e.g. a law enjoined before it took
  effect, or ``context``) gives no finding and no upcoming note; ``information`` still lists it with
  the reason.
* An obligation applies from its start (``effective``, adopted + ``effective_offset_days``, or the
  restriction's effective date) until the day before ``until``; an obligation of a restriction in
  force that starts later gives an ``upcoming`` note.
* Deadlines: ``due`` or adopted + ``due_offset_days``; for a report ``window``, the identified day
  (or the obligation's start, if later) + N days, business days Mon-Fri without holidays.
* A restriction whose legal force is not binding (advisory, non-binding resolution, export
  control, bill) only ever gives ``advisory`` findings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from banscan.keys import finding_id
from banscan.model import Detection, Finding, Relation, Requirement
from banscan.policy.dates import (
    obligation_active,
    obligation_due,
    obligation_start,
    restriction_effective,
    window_deadline,
)
from banscan.registry import Registry

if TYPE_CHECKING:
    from banscan.registry.schema import Entity, Obligation, ProductOperator, Profile, Restriction

__all__ = [
    "PolicyResult",
    "evaluate",
    "information",
    "restriction_status",
    "binding_tags",
    "covers",
    "effective_relation",
    "outside_operator",
]

_RELATION_WORDS = {
    "product": "products made by the family",
    "oem": "rebranded or embedded products (relation oem)",
    "former-affiliate": "products of former members of the family",
    "service-client": "software or machines using the family's online services",
}


@dataclass
class PolicyResult:
    findings: list[Finding] = field(default_factory=list)
    upcoming: list[dict[str, Any]] = field(default_factory=list)


# --------------------------------------------------------------------------- status


def restriction_status(r: Restriction, as_of: dt.date, registry: Registry | None = None) -> str:
    """``not-adopted``, ``adopted`` (not yet effective), ``in-force``, ``ended`` or ``superseded`` on ``as_of``;
    ``never-in-force`` or ``context`` (from its adoption) for an instrument that binds no one."""
    if as_of < r.adopted:
        return "not-adopted"
    if not r.legal_force.binds_anyone:
        return r.legal_force.value
    if r.ends is not None and as_of >= r.ends:
        return "ended"
    if r.superseded_by:
        other = registry.restrictions.get(r.superseded_by) if registry is not None else None
        if other is None or restriction_effective(other) <= as_of:
            return "superseded"
    if as_of < restriction_effective(r):
        return "adopted"
    return "in-force"


def binding_tags(r: Restriction, profile: Profile) -> list[str]:
    """The restriction's ``binds`` tags the profile answers to (empty: it does not bind the profile)."""
    tags = profile.all_tags
    return [t for t in r.binds if t in tags]


def _entity(registry: Registry, d: Detection) -> Entity | None:
    fam = registry.families.get(d.family)
    if fam is None:
        return None
    if d.entity_id:
        for e in fam.entities:
            if e.id == d.entity_id:
                return e
    return registry.entity_by_name(d.family, d.entity)


def effective_relation(d: Detection, entity: Entity | None, on: dt.date) -> str:
    """The detection's relation to its family for a product identified on ``on``.

    A former member's products count as the family's own products when the product was identified
    (first seen; by default the evaluation day) while the entity belonged to the family: a Sepura
    radio first seen in 2021 is Hytera's, one first seen after the 2022 sale is not.  Entities with
    several periods of control (``periods``) are checked against each.
    """
    rel = d.relation.value
    if rel == Relation.FORMER_AFFILIATE.value and entity is not None:
        spans = entity.spans()
        dated = any(t is not None for _, t in spans)
        if dated and entity.member_on(on):
            return Relation.PRODUCT.value
    return rel


def covers(r: Restriction, d: Detection, relation: str, registry: Registry | None = None) -> bool:
    """Whether ``r`` covers ``d``.  A product list narrows only the families that own the listed
    products: a restriction on "TikTok and DeepSeek" covers every DeepSeek product when it lists
    only ByteDance's app."""
    c = r.covers
    if d.family not in c.families:
        return False
    if relation not in c.relations:
        return False
    if c.categories and d.category not in {x.value for x in c.categories}:
        return False
    if c.products and d.product_id not in c.products:
        own = {p.id for p in registry.families[d.family].products} if registry and d.family in registry.families \
            else set(c.products)
        if own & set(c.products):
            return False
    if d.product_id and d.product_id in c.exclude_products:
        return False
    if c.entities and d.entity_id not in c.entities:
        return False
    if d.entity_id and d.entity_id in c.exclude_entities:
        return False
    return True


def outside_operator(r: Restriction, d: Detection, as_of: dt.date,
                     registry: Registry | None) -> ProductOperator | None:
    """The operator of ``d``'s product in ``r``'s jurisdiction on ``as_of`` when the family does not control it."""
    if registry is None or not d.product_id:
        return None
    prod = registry.product(d.family, d.product_id) if d.family in registry.families else None
    if prod is None:
        return None
    op = prod.operator(r.jurisdiction, as_of)
    return op if op is not None and not op.family_control else None


def _operator_reason(r: Restriction, d: Detection, op: ProductOperator) -> str:
    share = f"; the {d.family} family holds {op.share:g} %" if op.share is not None else ""
    since = f" since {op.from_.isoformat()}" if op.from_ else ""
    where = ", ".join(op.jurisdictions) or "everywhere"
    text = (f"{d.product or d.product_id} has been operated in {where}{since} by {op.name}, which the "
            f"{d.family} family does not control{share}. {r.id} names the product or service itself, so it "
            f"still covers it")
    if op.note:
        text += f". {op.note.strip()}"
    return text


def _obligation_applies(o: Obligation, profile: Profile, d: Detection, relation: str) -> bool:
    if o.profiles is not None and not (set(o.profiles) & profile.all_tags):
        return False
    if o.relations is not None and relation not in o.relations:
        return False
    if o.categories is not None and d.category not in {c.value for c in o.categories}:
        return False
    return True


def _requirement(r: Restriction, o: Obligation) -> Requirement:
    req = Requirement(o.requirement)
    if not r.legal_force.binding:
        return Requirement.ADVISORY
    return req


# --------------------------------------------------------------------------- steps and reasons


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d is not None else None


def _deadline(r: Restriction, o: Obligation, identified: dt.date) -> dt.date | None:
    if o.window is not None:
        return window_deadline(r, o, identified)
    return obligation_due(r, o)


def _step(r: Restriction, o: Obligation, as_of: dt.date, identified: dt.date, current: Obligation | None) -> dict[str, Any]:
    start = obligation_start(r, o)
    if obligation_active(r, o, as_of):
        status = "active"
    elif as_of < start:
        status = "upcoming"
    else:
        status = "ended"
    step: dict[str, Any] = {
        "requirement": _requirement(r, o).value,
        "action": o.action,
        "citation": o.citation or r.citation,
        "effective": start.isoformat(),
        "until": _iso(o.until),
        "due": _iso(obligation_due(r, o)),
        "window": o.window.model_dump() if o.window else None,
        "deadline": _iso(_deadline(r, o, identified)),
        "status": status,
    }
    if current is not None:
        step["current"] = o is current
    return step


def _reasons(r: Restriction, profile: Profile, tags: list[str], d: Detection, relation: str,
             entity: Entity | None, o: Obligation, operator: ProductOperator | None = None,
             identified: dt.date | None = None) -> list[str]:
    out = []
    tag_text = ", ".join(t for t in tags)
    if tags == [profile.id]:
        out.append(f"binds profile {profile.id} directly ({r.binds_text})")
    else:
        out.append(f"profile {profile.id} answers to tag {tag_text}, which {r.id} binds ({r.binds_text})")
    cats = ", ".join(c.value for c in r.covers.categories) if r.covers.categories else "all"
    out.append(f"covers {d.family} {d.category} products (restriction categories: {cats}); "
               f"relation {relation}: {_RELATION_WORDS.get(relation, relation)}")
    if relation != d.relation.value and entity is not None:
        periods = "; ".join(f"from {_iso(f) or 'its start'} to {_iso(t) or 'now'}" for f, t in entity.spans())
        out.append(f"{entity.name} belonged to the {d.family} family when this product was identified "
                   f"({_iso(identified) or 'on the evaluation day'}; {periods}), so its products count as the family's own")
    if r.covers.products:
        out.append(f"the restriction names product {d.product_id}")
    if r.covers.exclude_products:
        out.append(f"{d.product_id or 'this product'} is not among the excluded products "
                   f"({', '.join(r.covers.exclude_products)})")
    if r.covers.note:
        out.append(f"scope in the instrument's words: {r.covers.note.strip()}")
    out.append(f"adopted {r.adopted.isoformat()}; in force since {restriction_effective(r).isoformat()}"
               + (f"; this obligation applies since {obligation_start(r, o).isoformat()}"
                  if obligation_start(r, o) != restriction_effective(r) else ""))
    if not r.legal_force.binding:
        out.append(f"legal force {r.legal_force.value} is not binding: advisory only")
    if operator is not None:
        out.append(_operator_reason(r, d, operator))
    return out


# --------------------------------------------------------------------------- evaluate


def _identified(d: Detection, as_of: dt.date, identified_on: dt.date | Mapping[str, dt.date] | None) -> dt.date:
    if isinstance(identified_on, dt.date):
        return identified_on
    if identified_on is not None:
        found = identified_on.get(d.id)
        if found is not None:
            return found
    return as_of


def evaluate(
    detections: Iterable[Detection],
    registry: Registry,
    profiles: Sequence[Profile],
    as_of: dt.date,
    identified_on: dt.date | Mapping[str, dt.date] | None = None,
) -> PolicyResult:
    """The findings and upcoming restrictions for ``detections`` under the law as of ``as_of``.

    ``identified_on`` is the day a product was identified (one date for all, or a mapping from
    detection id to date); it starts report windows.  Default: ``as_of``.
    """
    result = PolicyResult()
    restrictions = sorted(registry.restrictions.values(), key=lambda r: (r.adopted, r.id))
    dets = list(detections)
    for profile in profiles:
        binding = [(r, binding_tags(r, profile)) for r in restrictions]
        binding = [(r, t) for r, t in binding if t]
        for d in dets:
            entity = _entity(registry, d)
            identified = _identified(d, as_of, identified_on)
            relation = effective_relation(d, entity, identified)
            for r, tags in binding:
                status = restriction_status(r, as_of, registry)
                if status not in ("adopted", "in-force"):
                    continue
                if not covers(r, d, relation, registry):
                    continue
                operator = outside_operator(r, d, as_of, registry)
                if operator is not None and r.covers.basis == "vendor-control":
                    continue  # the family no longer controls this product in the restriction's jurisdiction
                applicable = [o for o in r.obligations if _obligation_applies(o, profile, d, relation)]
                if not applicable:
                    continue
                # upcoming: one note per later start date (before the restriction takes effect, every obligation
                # is later; each stage is announced with its own date)
                later = applicable if status == "adopted" else [o for o in applicable if as_of < obligation_start(r, o)]
                for start in sorted({max(obligation_start(r, o), restriction_effective(r)) for o in later}):
                    result.upcoming.append(_upcoming(
                        r, start, [o for o in later if max(obligation_start(r, o), restriction_effective(r)) == start],
                        d, profile))
                if status == "adopted":
                    continue
                seen: set[str] = set()
                for o in applicable:
                    if not obligation_active(r, o, as_of):
                        continue
                    req = _requirement(r, o)
                    fid = finding_id(d.id, r.id, req.value, profile.id, o.action)
                    if fid in seen:  # two active variants with the same action: keep them apart
                        fid = finding_id(d.id, r.id, req.value, profile.id, o.action, r.obligations.index(o))
                    seen.add(fid)
                    deadline = _deadline(r, o, identified)
                    result.findings.append(Finding(
                        id=fid, detection=d.id, restriction=r.id, instrument=r.instrument,
                        citation=o.citation or r.citation, sources=list(r.sources), requirement=req,
                        deadline=_iso(deadline), profile=profile.id, legal_force=r.legal_force.value,
                        action=o.action, reasons=_reasons(r, profile, tags, d, relation, entity, o, operator, identified),
                        steps=[_step(r, x, as_of, identified, o) for x in applicable],
                        report_window=o.window.model_dump() if o.window else None,
                        asset=d.asset, family=d.family,
                    ))
    result.findings.sort(key=lambda f: (f.profile, f.asset, f.family, f.detection, -f.requirement.rank,
                                        f.deadline or "9999", f.restriction, f.id))
    result.upcoming.sort(key=lambda u: (u["profile"], u["effective"], u["asset"], u["restriction"], u["detection"]))
    return result


def _upcoming(r: Restriction, effective: dt.date, obligations: list[Obligation], d: Detection,
              profile: Profile) -> dict[str, Any]:
    req = max((_requirement(r, o) for o in obligations), key=lambda q: q.rank)
    return {
        "restriction": r.id,
        "citation": r.citation,
        "instrument": r.instrument,
        "legal_force": r.legal_force.value,
        "adopted": r.adopted.isoformat(),
        "effective": effective.isoformat(),
        "asset": d.asset,
        "family": d.family,
        "detection": d.id,
        "profile": profile.id,
        "requirement": req.value,
        "actions": [o.action for o in obligations],
    }


# --------------------------------------------------------------------------- information


def restriction_summary(r: Restriction) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r.id,
        "jurisdiction": r.jurisdiction,
        "instrument": r.instrument,
        "legal_force": r.legal_force.value,
        "adopted": r.adopted.isoformat(),
        "effective": restriction_effective(r).isoformat(),
        "ends": _iso(r.ends),
        "citation": r.citation,
        "binds": list(r.binds),
        "sources": list(r.sources),
    }
    if not r.legal_force.binds_anyone:
        out["binds_no_one"] = r.legal_force.why_nothing_binds
        out["text"] = r.text
    return out


def information(families: Iterable[str], registry: Registry) -> dict[str, list[dict[str, Any]]]:
    """For each family: every restriction worldwide that names it (no profile needed)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for fam in families:
        if fam not in out:
            out[fam] = [restriction_summary(r) for r in registry.restrictions_naming(fam)]
    return out

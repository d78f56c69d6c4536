"""Helpers for the policy tests: the real bundled registry, the real matcher."""

from __future__ import annotations

import datetime as dt

import pytest

from banscan import registry as registry_mod
from banscan.match import Matcher
from banscan.model import Confidence, Detection, EvidenceClass, Locator, Observation, Relation
from banscan.policy import PolicyResult, evaluate
from banscan.registry import Registry


def load_registry() -> Registry:
    """The bundled registry, exactly as 'banscan' loads it."""
    return registry_mod.load()


# Fixtures live here (imported by each test module) rather than in a conftest.py, so that no
# second module named 'conftest' competes with the top-level tests/conftest.py helpers.
@pytest.fixture(scope="session")
def reg() -> Registry:
    return load_registry()


@pytest.fixture(scope="session")
def matcher(reg: Registry) -> Matcher:  # noqa: F811 - pytest fixture chaining
    return Matcher(reg)


def need(reg: Registry, restrictions: tuple[str, ...] = (), profiles: tuple[str, ...] = ()) -> None:
    """Fail (not skip) with a clear message when the bundled data lacks what a golden scenario needs."""
    missing = [f"restriction {r}" for r in restrictions if r not in reg.restrictions]
    missing += [f"profile {p}" for p in profiles if p not in reg.profiles]
    if missing:
        pytest.fail("registry data missing for this scenario: " + ", ".join(missing))


def observe(matcher: Matcher, kind: str, fields: dict[str, str], asset: str = "pc-001",
            evidence: EvidenceClass = EvidenceClass.INSTALLED) -> Detection:
    dets = matcher.match(Observation(kind, asset, fields, Locator("inventory.json", "/0"), evidence))
    assert len(dets) == 1, f"expected one detection for {fields}, got {[d.family for d in dets]}"
    return dets[0]


def detection(family: str, *, product_id: str | None, category: str, relation: Relation, entity_id: str,
              entity: str, asset: str = "pc-001", name: str = "") -> Detection:
    """A detection the matcher cannot (yet) produce, e.g. a component embedded in another vendor's product."""
    obs = Observation("component", asset, {"name": name or f"{family} component"}, Locator("sbom.json", "/components/0"),
                      EvidenceClass.SBOM)
    return Detection(id=f"D-test-{family}-{relation.value}-{product_id}", asset=asset, family=family, entity=entity,
                     product=None, category=category, relation=relation, confidence=Confidence.CERTAIN, evidence=[],
                     observation=obs, product_id=product_id, entity_id=entity_id)


def run(reg: Registry, dets: list[Detection] | Detection, profile: str, day: str,
        identified: str | None = None) -> PolicyResult:
    if isinstance(dets, Detection):
        dets = [dets]
    return evaluate(dets, reg, [reg.profile(profile)], dt.date.fromisoformat(day),
                    dt.date.fromisoformat(identified) if identified else None)


def by_restriction(result: PolicyResult, rid: str):
    return [f for f in result.findings if f.restriction == rid]


KES = {"name": "Kaspersky Endpoint Security for Windows", "publisher": "AO Kaspersky Lab"}

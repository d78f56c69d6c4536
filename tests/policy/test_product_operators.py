"""Product-level control as data: a general rule, checked on a made-up family in an overlay."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from banscan import registry as registry_mod
from banscan.errors import RegistryError
from banscan.model import Confidence, Detection, EvidenceClass, Locator, Observation, Relation
from banscan.policy import evaluate

OVERLAY = """
version: test-operators
families:
  - id: acme
    name: Acme
    default_category: app
    sources: [test]
    entities:
      - {id: acme-ltd, name: Acme Ltd, role: parent, sources: [test]}
    products:
      - id: widget
        name: Widget
        category: app
        operators:
          - name: Widget Newco
            family_control: false
            share: 10
            from: 2030-01-01
            jurisdictions: [XX]
            note: The reading of named-product rules after the sale is unconfirmed.
            sources: [test]
        sources: [test]
      - {id: gadget, name: Gadget, category: app, sources: [test]}
profiles:
  - {id: xx-org, name: XX org, description: test, jurisdictions: [XX]}
restrictions:
  - id: xx-control
    title: t
    jurisdiction: XX
    authority: a
    instrument: i
    citation: control rule
    legal_force: binding-law
    confidence: confirmed
    adopted: 2020-01-01
    binds: [xx-org]
    binds_text: x
    covers: {families: [acme]}
    obligations: [{requirement: prohibited, action: no acme apps}]
    text: t
    sources: [https://example.org/a]
  - id: xx-named
    title: t
    jurisdiction: XX-YY
    authority: a
    instrument: i
    citation: named rule
    legal_force: binding-law
    confidence: confirmed
    adopted: 2020-01-01
    binds: [xx-org]
    binds_text: x
    covers: {families: [acme], products: [widget], basis: named-product}
    obligations: [{requirement: remove, action: remove the widget}]
    text: t
    sources: [https://example.org/b]
  - id: zz-control
    title: t
    jurisdiction: ZZ
    authority: a
    instrument: i
    citation: other country
    legal_force: binding-law
    confidence: confirmed
    adopted: 2020-01-01
    binds: [xx-org]
    binds_text: x
    covers: {families: [acme]}
    obligations: [{requirement: report, action: report acme apps}]
    text: t
    sources: [https://example.org/c]
"""


def _det(product: str) -> Detection:
    obs = Observation("app", "pc-1", {"name": product}, Locator("apps.json", "/0"), EvidenceClass.INSTALLED)
    return Detection(id=f"D-{product}", asset="pc-1", family="acme", entity="Acme Ltd", product=product.title(),
                     category="app", relation=Relation.PRODUCT, confidence=Confidence.CERTAIN, evidence=[],
                     observation=obs, product_id=product, entity_id="acme-ltd")


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    p = Path(tmp_path_factory.mktemp("ov")) / "overlay.yaml"
    p.write_text(OVERLAY, encoding="utf-8")
    return registry_mod.load([p])


def _found(reg, product: str, day: str) -> dict[str, str]:
    r = evaluate([_det(product)], reg, [reg.profile("xx-org")], dt.date.fromisoformat(day))
    return {f.restriction: f.requirement.value for f in r.findings}


def test_vendor_control_rule_stops_where_the_family_lost_control(reg):
    assert _found(reg, "widget", "2029-12-31") == {"xx-control": "prohibited", "xx-named": "remove", "zz-control": "report"}
    after = _found(reg, "widget", "2030-01-01")
    assert "xx-control" not in after  # XX: operated outside the family
    assert after["zz-control"] == "report"  # ZZ: the operator entry does not reach it
    assert after["xx-named"] == "remove"  # XX-YY is inside XX, but the rule names the product
    # another product of the family is unaffected
    assert _found(reg, "gadget", "2030-01-01") == {"xx-control": "prohibited", "zz-control": "report"}


def test_named_product_finding_says_who_operates_it(reg):
    r = evaluate([_det("widget")], reg, [reg.profile("xx-org")], dt.date(2030, 6, 1))
    named = next(f for f in r.findings if f.restriction == "xx-named")
    note = next(x for x in named.reasons if "Widget Newco" in x)
    assert "since 2030-01-01" in note and "10 %" in note and "unconfirmed" in note


def test_operator_entity_must_exist(tmp_path):
    bad = OVERLAY.replace("family_control: false", "family_control: true\n            entity: nobody")
    p = tmp_path / "bad.yaml"
    p.write_text(bad, encoding="utf-8")
    with pytest.raises(RegistryError, match=r"operators\[0\].entity: unknown entity 'nobody'"):
        registry_mod.load([p])

"""OSCAL assessment results: round-trips through compliance-trestle's model, deterministic UUIDs."""

from __future__ import annotations

import io
import json

import pytest

from banscan.report import by_name
from banscan.report.oscal import uid

ar = pytest.importorskip("trestle.oscal.assessment_results")


def render(result, reg) -> dict:
    buf = io.StringIO()
    by_name("oscal").write(result, reg, buf, {})
    return json.loads(buf.getvalue())


def roundtrip(doc: dict):
    model = ar.AssessmentResults.model_validate(doc["assessment-results"])
    again = json.loads(model.model_dump_json(by_alias=True, exclude_none=True))
    assert again == doc["assessment-results"]
    return model


def test_estate_roundtrips(estate, reg):
    model = roundtrip(render(estate, reg))
    res = model.results[0]
    assert len(res.observations) == len(estate.detections)
    assert len(res.findings) == len(estate.findings)
    assert model.import_ap.href.startswith("#")


def test_pipeline_roundtrips(pipeline_result, reg):
    model = roundtrip(render(pipeline_result, reg))
    assert len(model.results[0].observations) == len(pipeline_result.detections)
    assert not model.results[0].findings


def test_observations_and_findings(estate, reg):
    doc = render(estate, reg)["assessment-results"]
    res = doc["results"][0]
    obs = {o["uuid"]: o for o in res["observations"]}
    kes = obs[uid("observation", "det-kes0000001")]
    assert kes["subjects"][0]["subject-uuid"] == uid("asset", "ws-finance-01")
    assert kes["relevant-evidence"][0]["description"] == "inventories/ws-finance-01.cdx.json at /components/1"
    assert kes["collected"].startswith("2024-01-12T09:30:00")
    comps = {c["uuid"]: c["title"] for c in res["local-definitions"]["components"]}
    assert comps[uid("asset", "ws-finance-01")] == "ws-finance-01"
    fnd = {f["uuid"]: f for f in res["findings"]}
    f = fnd[uid("finding", "fnd-kes-prohib")]
    assert f["target"]["type"] == "objective-id" and f["target"]["target-id"] == "us-far-52-204-23"
    assert f["target"]["status"]["state"] == "not-satisfied"
    assert f["related-observations"] == [{"observation-uuid": kes["uuid"]}]
    assert f["links"][0]["href"].startswith("https://")
    assert fnd[uid("finding", "fnd-rtr-procure")]["target"]["status"]["state"] == "satisfied"


def test_hostile_strings_kept_as_data(estate, reg, hostile):
    text = json.dumps(render(estate, reg))
    assert json.dumps(hostile["xss"])[1:-1] in text  # kept verbatim in descriptions, JSON-escaped


def test_deterministic(estate, reg):
    a = render(estate, reg)
    estate.detections.reverse()
    estate.findings.reverse()
    b = render(estate, reg)
    assert a["assessment-results"]["uuid"] == b["assessment-results"]["uuid"]
    assert a == render(estate, reg)

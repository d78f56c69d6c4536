"""SARIF 2.1.0: schema-valid, one rule per restriction, levels, locations, fingerprints."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest

from banscan.report import by_name
from banscan.report.sarif import artifact_uri, fingerprint

SCHEMA = Path("/work/shared/schemas/sarif-schema-2.1.0.json")


def render(result, reg) -> dict:
    buf = io.StringIO()
    by_name("sarif").write(result, reg, buf, {})
    return json.loads(buf.getvalue())


def validate(doc: dict) -> None:
    if not SCHEMA.exists():
        pytest.skip(f"SARIF schema not available at {SCHEMA}")
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(doc)


def test_estate_validates_against_schema(estate, reg):
    validate(render(estate, reg))


def test_pipeline_scan_validates_against_schema(pipeline_result, reg):
    doc = render(pipeline_result, reg)
    validate(doc)
    run = doc["runs"][0]
    # no profile: one rule per family, one result per detection
    assert sorted(r["id"] for r in run["tool"]["driver"]["rules"]) == sorted({d.family for d in pipeline_result.detections})
    assert len(run["results"]) == len(pipeline_result.detections)
    for r in run["results"]:
        assert r["level"] in ("note", "warning")
        assert run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
    # absolute paths become file URIs
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert all(u.startswith("file:///") for u in uris)


def test_rules_and_levels(estate, reg):
    run = render(estate, reg)["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(rules) == {f.restriction for f in estate.findings}
    far23 = rules["us-far-52-204-23"]
    assert far23["helpUri"] == reg.restrictions["us-far-52-204-23"].sources[0]
    assert reg.restrictions["us-far-52-204-23"].text in far23["help"]["text"]
    assert "procurement-rule" in far23["help"]["text"] and "FAR 52.204-23" in far23["help"]["text"]
    levels = {r["properties"]["id"]: r["level"] for r in run["results"]}
    assert levels["fnd-kes-prohib"] == "error"
    assert levels["fnd-img-bod"] == "error"  # remove
    assert levels["fnd-kes-report"] == "warning"
    assert levels["fnd-rtr-procure"] == "warning"  # do-not-procure
    assert levels["fnd-ksn-adv"] == "note"
    assert len(run["results"]) == len(estate.findings)
    # the input error is a tool notification, and the run is flagged
    inv = run["invocations"][0]
    assert inv["executionSuccessful"] is False
    assert "unterminated record" in inv["toolExecutionNotifications"][0]["message"]["text"]


def test_message_names_product_entity_asset_requirement_deadline(estate, reg):
    run = render(estate, reg)["runs"][0]
    msg = next(r for r in run["results"] if r["properties"]["id"] == "fnd-kes-report")["message"]["text"]
    for part in ("Kaspersky Endpoint Security", "AO Kaspersky Lab", "ws-finance-01", "report", "2024-01-18"):
        assert part in msg
    props = next(r for r in run["results"] if r["properties"]["id"] == "fnd-kes-report")["properties"]
    assert props["family"] == "kaspersky" and props["asset"] == "ws-finance-01"
    assert props["deadline"] == "2024-01-18" and props["confidence"] == "certain"


def test_locations(estate, reg):
    run = render(estate, reg)["runs"][0]
    res = {r["properties"]["id"]: r for r in run["results"]}
    # line-oriented input: startLine; absolute path: file URI
    loc = res["fnd-img-bod"]["locations"][0]
    assert loc["physicalLocation"]["artifactLocation"]["uri"] == "file:///srv/exports/arp-inventory.csv"
    assert loc["physicalLocation"]["region"]["startLine"] == 7
    # relative paths as given (percent-encoded); a JSON Pointer as a logical location
    loc = res["fnd-kes-prohib"]["locations"][0]
    assert loc["physicalLocation"]["artifactLocation"]["uri"] == "inventories/ws-finance-01.cdx.json"
    assert "region" not in loc["physicalLocation"]
    assert loc["logicalLocations"] == [{"fullyQualifiedName": "/components/1", "kind": "object"}]
    # XPath into an XML document
    loc = res["fnd-cam-prohib"]["locations"][0]
    assert loc["physicalLocation"]["artifactLocation"]["uri"] == "scans/lobby%20nmap.xml"
    assert loc["logicalLocations"][0] == {"fullyQualifiedName": "/nmaprun/host[3]", "kind": "element"}
    # the artifact index points at the input, with its hash
    art = run["artifacts"][loc["physicalLocation"]["artifactLocation"]["index"]]
    assert art["location"]["uri"] == "scans/lobby%20nmap.xml" and art["hashes"]["sha-256"] == "c" * 64


def test_fingerprints_and_determinism(estate, reg):
    a = io.StringIO()
    b = io.StringIO()
    by_name("sarif").write(estate, reg, a, {})
    estate.findings.reverse()
    estate.detections.reverse()
    by_name("sarif").write(estate, reg, b, {})
    assert a.getvalue() == b.getvalue()
    run = json.loads(a.getvalue())["runs"][0]
    r = next(r for r in run["results"] if r["properties"]["id"] == "fnd-kes-prohib")
    kes = next(d for d in estate.detections if d.id == r["properties"]["detection"])
    f = next(f for f in estate.findings if f.id == "fnd-kes-prohib")
    assert r["partialFingerprints"]["banscan/v2"] == fingerprint("us-far-52-204-23", kes, f)
    keys = [(r["ruleId"], r["properties"]["asset"]) for r in run["results"]]
    assert keys == sorted(keys)


def test_closed_findings_are_suppressed(estate, reg):
    run = render(estate, reg)["runs"][0]
    r = next(r for r in run["results"] if r["properties"]["id"] == "fnd-rtr-procure")
    assert r["suppressions"][0]["status"] == "accepted" and r["properties"]["status"] == "resolved"


@pytest.mark.parametrize(("path", "uri"), [
    ("a/b c.json", "a/b%20c.json"),
    ("/tmp/x#1.json", "file:///tmp/x%231.json"),
    ("C:\\Users\\x\\inv.csv", "file:///C:/Users/x/inv.csv"),
    ("-", "stdin"),
    ("host:ws-1", None),
])
def test_artifact_uri(path, uri):
    assert artifact_uri(path) == uri


def test_fingerprints_unique_per_asset_product_restriction_and_obligation(reg, tmp_path):
    """One inventory copied to two assets: every result keeps its own fingerprint."""
    import shutil

    from banscan.scan import ScanRequest, run

    fixtures = Path(__file__).parent.parent / "fixtures" / "report"
    as_of = dt.date(2024, 1, 15)
    if "us-federal-contractor" not in reg.profiles:
        pytest.skip("profile us-federal-contractor not in the registry")
    # the SBOM names its asset: the copy names another one
    doc = json.loads((fixtures / "ws-finance-01.cdx.json").read_text(encoding="utf-8"))
    doc["metadata"]["component"]["name"] = "ws-finance-02"
    copy = tmp_path / "ws-finance-02.cdx.json"
    copy.write_text(json.dumps(doc), encoding="utf-8")
    inputs = (str(fixtures / "ws-finance-01.cdx.json"), str(copy))

    def scan(profiles: tuple[str, ...]):
        return run(ScanRequest(inputs=inputs, profiles=profiles, as_of=as_of), reg)

    result = scan(("us-federal-contractor",))
    assert len({d.asset for d in result.detections}) == 2
    results = render(result, reg)["runs"][0]["results"]
    assert len(results) == len(result.findings) >= 4
    fps = [r["partialFingerprints"]["banscan/v2"] for r in results]
    assert len(set(fps)) == len(fps)
    # several obligations of one restriction on one product stay apart
    per = {}
    for r in results:
        p = r["properties"]
        per.setdefault((p["asset"], p["product"], r["ruleId"]), set()).add((p["requirement"], r["partialFingerprints"]["banscan/v2"]))
    assert any(len(v) > 1 for v in per.values())
    # the same scan rendered again gives the same fingerprints
    assert [r["partialFingerprints"]["banscan/v2"] for r in render(result, reg)["runs"][0]["results"]] == fps
    # without a profile (one result per detection) too
    bare = scan(())
    dres = render(bare, reg)["runs"][0]["results"]
    dfps = [r["partialFingerprints"]["banscan/v2"] for r in dres]
    assert len(dres) == len(bare.detections) and len(set(dfps)) == len(dfps)

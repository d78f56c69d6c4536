"""The JSON report matches its documented schema (docs/report.schema.json) on a real pipeline run."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema

from banscan.registry import load
from banscan.scan import ScanRequest, ScanResult, run

ROOT = Path(__file__).resolve().parents[1]
FLEET = ROOT / "tests" / "fixtures" / "inventories" / "fleet-uninstall.csv"


def test_report_validates_against_its_schema_and_round_trips() -> None:
    schema = json.loads((ROOT / "docs" / "report.schema.json").read_text())
    reg = load()
    result = run(ScanRequest(inputs=(str(FLEET),), profiles=("us-federal-agency",), as_of=dt.date(2019, 1, 15)), reg)
    doc = result.to_dict()
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert doc["registry"] == {"version": reg.version, "sha256": reg.sha256}
    assert doc["inputs"][0]["format"] and doc["inputs"][0]["observations"] == 5
    assert {d["asset"] for d in doc["detections"]} == {"FIN-LT-0042", "HR-PC-0007"}
    kes = next(d for d in doc["detections"] if d["family"] == "kaspersky")
    assert kes["source"] == {"path": str(FLEET), "locator": "line 2"}
    assert kes["confidence"] == "certain" and kes["entity"] == "AO Kaspersky Lab"
    # the Aztech row is not ZTE
    assert not any(d["family"] == "zte" for d in doc["detections"])
    # s.1634 applies to a federal agency on 2019-01-15: a prohibited finding for the Kaspersky detection
    assert any(f["detection"] == kes["id"] and f["requirement"] == "prohibited" for f in doc["findings"])
    again = ScanResult.from_dict(json.loads(json.dumps(doc)))
    assert again.to_dict()["detections"] == doc["detections"]
    assert again.to_dict()["findings"] == doc["findings"]

"""Every format on a real scan: fixture inventories -> sources -> matcher -> policy -> report."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from banscan.report import REPORTERS, by_name

SCHEMA = Path("/work/shared/schemas/sarif-schema-2.1.0.json")


def render(name, result, reg, far=None) -> str:
    buf = io.StringIO(newline="")
    by_name(name).write(result, reg, buf, {"far": far or {}})
    return buf.getvalue()


@pytest.mark.parametrize("reporter", REPORTERS, ids=lambda r: r.name)
def test_every_format_renders(reporter, profiled_result, reg):
    assert render(reporter.name, profiled_result, reg)


def test_sarif(profiled_result, reg):
    doc = json.loads(render("sarif", profiled_result, reg))
    if SCHEMA.exists():
        import jsonschema

        schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
        jsonschema.validators.validator_for(schema)(schema).validate(doc)
    results = doc["runs"][0]["results"]
    assert len(results) == len(profiled_result.findings)
    far23 = [r for r in results if r["ruleId"] == "us-far-52-204-23"]
    assert far23 and "error" in {r["level"] for r in far23}  # prohibited; its report obligation is a warning


def test_csv(profiled_result, reg, hostile):
    rows = list(csv.DictReader(io.StringIO(render("csv", profiled_result, reg), newline="")))
    assert {f.id for f in profiled_result.findings} <= {r["finding_id"] for r in rows}
    xss = [r for r in rows if r["product"] == hostile["xss"]]
    assert xss and all(r["evidence"].startswith("'=") for r in xss)


def test_far(profiled_result, reg):
    text = render("far", profiled_result, reg, {"contract_number": "GS-35F-0001X"})
    assert "FAR 52.204-23 report: Kaspersky Endpoint Security on ws-finance-01" in text
    # identified on the scan date, Monday 2024-01-15: 3 business days (after FAC 2023-06), then 10
    assert "| Report due | 2024-01-18 (3 business days after 2024-01-15" in text
    assert "| Follow-up report due | 2024-01-29 (10 business days after 2024-01-15" in text
    assert "| Contract number | GS-35F-0001X |" in text


def test_oscal(profiled_result, reg):
    ar = pytest.importorskip("trestle.oscal.assessment_results")
    doc = json.loads(render("oscal", profiled_result, reg))
    model = ar.AssessmentResults.model_validate(doc["assessment-results"])
    assert len(model.results[0].findings) == len(profiled_result.findings)


def test_html(profiled_result, reg, hostile):
    html = render("html", profiled_result, reg)
    assert hostile["xss"] not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("<svg") == 2

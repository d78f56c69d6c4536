"""``banscan explain`` and ``banscan timeline`` through the real command line entry point."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from _policy_helpers import KES, matcher, observe, reg  # noqa: F401 - fixtures

from banscan import policy
from banscan.cli import main
from banscan.scan import InputReport, ScanResult


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(argv)
    out = capsys.readouterr()
    return int(e.value.code or 0), out.out, out.err


@pytest.fixture()
def report_file(tmp_path: Path, reg, matcher) -> tuple[Path, ScanResult]:
    kes = observe(matcher, "software", KES, asset="ws-042")
    result = ScanResult(registry=reg.meta(), profiles=["us-federal-agency"], as_of=dt.date(2017, 10, 1),
                        started_at="2017-10-01T09:00:00+00:00", finished_at="2017-10-01T09:00:01+00:00",
                        inputs=[InputReport(path="inventory.json", format="test", observations=1)], detections=[kes])
    policy.apply(result, reg, [reg.profile("us-federal-agency")])
    p = tmp_path / "report.json"
    p.write_text(json.dumps(result.to_dict()), encoding="utf-8")
    return p, result


def test_explain_finding_prints_the_chain(report_file, capsys):
    path, result = report_file
    f = next(x for x in result.findings if x.restriction == "us-dhs-bod-17-01" and x.deadline == "2017-12-12")
    code, out, err = _run(["explain", f.id, "--report", str(path)], capsys)
    assert code == 0, err
    text = " ".join(out.split())  # undo wrapping
    # what was seen, and where
    assert "Observed in inventory.json at /0" in text
    assert "name = 'Kaspersky Endpoint Security for Windows'" in text
    # the signature that matched, with its source
    assert "Signature kaspersky.publisher.0 (publisher, strong)" in text
    assert "source: " in text
    # the entity and its relation
    assert "Entity: AO Kaspersky Lab (kaspersky-lab), role parent" in text
    assert "Relation: product" in text
    # the restriction: text, force, why it binds, dates, sources
    assert "Restriction us-dhs-bod-17-01" in text
    assert "Legal force: binding-directive" in text
    assert "Why it binds profile us-federal-agency" in text
    assert "adopted 2017-09-13" in text
    assert "by 2017-10-13" in text and "by 2017-11-12" in text and "by 2017-12-12" in text
    assert "https://govinfo.gov/content/pkg/FR-2017-09-19/html/2017-19838.htm" in text
    # what to do
    assert "REMOVE by 2017-12-12" in text


def test_explain_detection_json_names_the_registry(report_file, reg, capsys):
    path, result = report_file
    det = result.detections[0]
    code, out, _ = _run(["explain", det.id, "--report", str(path), "--format", "json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["registry"] == reg.meta()
    assert data["detection"]["id"] == det.id
    assert {f["restriction"] for f in data["findings"]} >= {"us-dhs-bod-17-01"}
    assert data["entity"]["id"] == "kaspersky-lab"
    assert any(s["id"] == "kaspersky.publisher.0" and s["sources"] for s in data["signatures"])


def test_explain_unknown_id_is_one_line_exit_2(report_file, capsys):
    path, _ = report_file
    code, out, err = _run(["explain", "F-000000000000", "--report", str(path)], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "F-000000000000" in err


def test_explain_without_profile_lists_information(tmp_path, reg, matcher, capsys):
    kes = observe(matcher, "software", KES)
    result = ScanResult(registry=reg.meta(), profiles=[], as_of=dt.date(2025, 1, 1), started_at="", finished_at="",
                        inputs=[], detections=[kes])
    policy.apply(result, reg, [])
    p = tmp_path / "r.json"
    p.write_text(json.dumps(result.to_dict()), encoding="utf-8")
    code, out, _ = _run(["explain", kes.id, "--report", str(p)], capsys)
    assert code == 0
    assert "No profile was given" in out
    assert "us-ndaa18-s1634" in out


def test_timeline_svg_and_png(tmp_path, capsys):
    svg = tmp_path / "x.svg"
    code, out, err = _run(["timeline", "kaspersky", "--out", str(svg)], capsys)
    assert code == 0, err
    assert str(svg) in err
    assert "NDAA FY2018" in out and "2018-10-01" in out  # the table is printed too
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    texts = " ".join("".join(t.itertext()) for t in root.iter() if t.tag.endswith("text"))
    assert "DHS BOD 17-01" in texts
    assert "NDAA FY2018 §1634" in texts
    assert "Restrictions on Kaspersky" in texts
    assert "binding-law" in texts and "deadline" in texts  # legend
    png = tmp_path / "x.png"
    code, _, _ = _run(["timeline", "kaspersky", "--out", str(png), "--profile", "us-federal-agency"], capsys)
    assert code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_timeline_json_marks_profile(capsys, reg):
    code, out, _ = _run(["timeline", "kaspersky", "--profile", "us-federal-agency", "--format", "json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["registry"] == reg.meta()
    rows = {r["id"]: r for r in data["restrictions"]}
    assert rows["us-dhs-bod-17-01"]["binds_profile"] is True
    assert rows["us-dhs-bod-17-01"]["deadlines"] == ["2017-10-13", "2017-11-12", "2017-12-12"]
    assert rows["us-bis-kaspersky-final-determination-2024"]["binds_profile"] is False


def test_timeline_unknown_family_exit_2(capsys):
    code, _, err = _run(["timeline", "no-such-vendor"], capsys)
    assert code == 2 and "unknown family" in err

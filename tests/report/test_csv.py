"""CSV: parses cleanly, one row per finding, formula injection neutralised, LibreOffice converts it."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import zipfile

import pytest

from banscan.report import by_name
from banscan.report.csv_report import COLUMNS, neutralise


def render(result, reg) -> str:
    buf = io.StringIO(newline="")
    by_name("csv").write(result, reg, buf, {})
    return buf.getvalue()


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_one_row_per_finding(estate, reg):
    text = render(estate, reg)
    rows = parse(text)
    assert tuple(csv.reader(io.StringIO(text)).__next__()) == COLUMNS
    assert sorted(r["finding_id"] for r in rows) == sorted(f.id for f in estate.findings)
    kes = next(r for r in rows if r["finding_id"] == "fnd-kes-report")
    assert kes["asset"] == "ws-finance-01" and kes["family"] == "kaspersky"
    assert kes["product"] == "Kaspersky Endpoint Security" and kes["entity"] == "AO Kaspersky Lab"
    assert kes["requirement"] == "report" and kes["deadline"] == "2024-01-18" and kes["status"] == "open"
    assert kes["restriction"] == "us-far-52-204-23" and kes["citation"] == "FAR 52.204-23(c)(2)(i)"
    assert kes["source_file"] == "inventories/ws-finance-01.cdx.json" and kes["locator"] == "/components/1"
    assert kes["detection_id"] == "det-kes0000001"
    assert kes["sources"].startswith("https://")
    assert "AO Kaspersky Lab [publisher; kaspersky.publisher.0]" in kes["evidence"]
    cam = next(r for r in rows if r["finding_id"] == "fnd-cam-prohib")
    assert cam["entity"] == "Hangzhou Hikvision Digital Technology Co., Ltd."  # commas quoted correctly
    assert cam["source_file"] == "scans/lobby nmap.xml"


def test_detections_without_profile(pipeline_result, reg, hostile):
    rows = parse(render(pipeline_result, reg))
    assert len(rows) == len(pipeline_result.detections)
    assert all(r["finding_id"] == "" and r["requirement"] == "" for r in rows)
    xss = next(r for r in rows if r["product"] == hostile["xss"])
    assert xss["evidence"].startswith("'" + hostile["formula"])


def test_formula_injection_neutralised(estate, reg, hostile):
    rows = parse(render(estate, reg))
    row = next(r for r in rows if r["finding_id"] == "fnd-img-bod")
    assert row["asset"] == "'" + hostile["asset"]
    xss = next(r for r in rows if r["finding_id"] == "fnd-xss-prohib")
    assert xss["product"] == hostile["xss"]
    assert xss["evidence"] == "'" + hostile["formula"] + " Kaspersky Lab [publisher; kaspersky.publisher.1]"
    for r in rows:
        for v in r.values():
            assert not v.startswith(("=", "+", "-", "@", "\t", "\r")), v


@pytest.mark.parametrize(("raw", "cell"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("a=b", "a=b"), ("", ""), (None, ""),
])
def test_neutralise(raw, cell):
    assert neutralise(raw) == cell


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_converts_without_formulas(estate, reg, tmp_path):
    src = tmp_path / "findings.csv"
    src.write_text(render(estate, reg), encoding="utf-8", newline="")
    profile = tmp_path / "lo-profile"
    cmd = ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
           "--convert-to", "xlsx", "--infilter=CSV:44,34,76,1", "--outdir", str(tmp_path), str(src)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    out = tmp_path / "findings.xlsx"
    assert out.exists() and out.stat().st_size > 0, proc.stdout + proc.stderr
    with zipfile.ZipFile(out) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
        shared = z.read("xl/sharedStrings.xml").decode("utf-8") if "xl/sharedStrings.xml" in z.namelist() else ""
    assert "<f>" not in sheet and "<f " not in sheet  # nothing became a formula
    assert re.search(r"HYPERLINK", shared)  # the hostile text is there, as text
    assert "Kaspersky Endpoint Security" in shared
    rows = sheet.count("<row ")
    assert rows == len(estate.findings) + 1

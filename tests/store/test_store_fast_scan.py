"""The default (stored) ``banscan scan`` takes the block scanner and ``--jobs`` and finds what
``--no-store`` finds; what it keeps of a block-scanned log is enough to match again under a
registry its filter covers, and a registry it does not cover is reported as a coverage gap to
rescan (never as a clean asset)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from storekit import cli, cli_json

import banscan.registry
from banscan.store import open_store

PROGRAMS = [("Kaspersky Endpoint Security for Windows", "AO Kaspersky Lab"),
            ("Mozilla Firefox", "Mozilla"), ("7-Zip 23.01", "Igor Pavlov"), ("ztest", "Ztest Project"),
            ("Zoom Workplace", "Zoom Video Communications, Inc."), ("Zorblax Widget Manager", "Zorblax Labs")]


def _log(path: Path, rows: int = 600) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(rows):
            name, pub = PROGRAMS[i % len(PROGRAMS)]
            host = "host-z" if name.startswith("Zorblax") else f"host-{i % 5}"
            doc = {"name": "pack_inventory_programs", "hostIdentifier": host,
                   "calendarTime": "Mon Nov 23 10:00:00 2026 UTC", "unixTime": 1795000000 + i, "epoch": 0,
                   "counter": 0, "numerics": False,
                   "columns": {"name": name, "version": f"1.{i % 7}", "install_location": "C:\\Program Files\\x\\",
                               "publisher": pub, "identifying_number": ""}, "action": "added"}
            fh.write(json.dumps(doc, separators=(",", ":")) + "\n")
    return path


def _overlay(tmp_path: Path) -> Path:
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(yaml.safe_dump({"signatures": [
        {"family": "kaspersky", "kind": "product-name", "values": ["Zorblax Widget Manager"], "strength": "strong",
         "sources": ["https://example.org/test-only-signature"]}]}))
    try:
        banscan.registry.load([str(overlay)])
    except Exception as e:  # noqa: BLE001 - overlays may not take signatures
        pytest.skip(f"overlay registries do not take signatures here: {e}")
    return overlay


def _ids(report: dict[str, Any]) -> list[str]:
    return sorted(d["id"] for d in report["detections"])


def test_stored_scan_finds_what_no_store_finds(store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _log(tmp_path / "osqueryd.results.log")
    code, out, err = cli(capsys, "scan", str(log), "--db", store_url, "-f", "json")
    assert code == 1, err
    stored = json.loads(out)
    code, out, err = cli(capsys, "scan", str(log), "--no-store", "-f", "json")
    plain = json.loads(out)
    code, out, err = cli(capsys, "scan", str(log), "--db", store_url, "-f", "json", "--jobs", "2")
    jobs = json.loads(out)
    assert _ids(stored) and _ids(stored) == _ids(plain) == _ids(jobs)
    assert stored["inputs"][0]["observations"] == plain["inputs"][0]["observations"] == 600
    assert stored["assets"] == plain["assets"]
    with open_store(store_url) as store:
        filters = store.latest_filters()
        assert set(filters) == {(a["asset"], "installed") for a in stored["assets"]}
        assert store.evidence_filter(next(iter(filters.values())))["anchors"]
    # the same registry: the kept evidence is enough, nothing changes, no gap
    out = cli_json(capsys, "reevaluate", "--dry-run", "--db", store_url)
    assert out["coverage_gaps"] == []
    for a in out["assets"]:
        assert a["new_detections"] == a["dropped_detections"] == [], a


def test_an_uncovered_registry_is_a_coverage_gap_not_a_clean_asset(store_url: str, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    log = _log(tmp_path / "osqueryd.results.log")
    inv = tmp_path / "pc-02.csv"
    inv.write_text("DisplayName,Publisher,DisplayVersion\nZorblax Widget Manager,Zorblax Labs,2.0\n"
                   "Mozilla Firefox (x64 en-US),Mozilla,128.0\n")
    assert cli(capsys, "scan", str(log), "--db", store_url, "-f", "json")[0] == 1
    assert cli(capsys, "scan", str(inv), "--asset", "pc-02", "--db", store_url, "-f", "json")[0] == 0
    overlay = _overlay(tmp_path)
    out = cli_json(capsys, "reevaluate", "--dry-run", "--registry", str(overlay), "--db", store_url)
    gaps = {(g["asset"], g["evidence_class"]) for g in out["coverage_gaps"]}
    assert ("host-z", "installed") in gaps and all(g["action"] == "rescan" for g in out["coverage_gaps"])
    assert any("host-z" in w and "rescan" in w for w in out["warnings"])
    # an inventory read in full is matched again: the new signature finds the product there
    assets = {a["asset"]: a for a in out["assets"]}
    assert [d["family"] for d in assets["pc-02"]["new_detections"]] == ["kaspersky"]
    assert ("pc-02", "installed") not in gaps
    code, text, _ = cli(capsys, "reevaluate", "--dry-run", "--registry", str(overlay), "--db", store_url)
    assert code == 0 and "coverage gap" in text and "host-z" in text
    # after a rescan under the new registry, the log's product is found
    code, out_s, err = cli(capsys, "scan", str(log), "--registry", str(overlay), "--db", store_url, "-f", "json")
    assert any(d["asset"] == "host-z" for d in json.loads(out_s)["detections"]), err


def test_stored_scan_makes_its_report_once_and_it_is_the_results(store_url: str, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The stored scan's JSON report (standard output), the copy kept for ``banscan explain`` and
    the store's are the one dict the store made: equal to ``result.to_dict()`` as the reporter
    gets the result, findings' lifecycle statuses included, first scan and second; with
    ``--no-store`` the command's own, equal to it too."""
    import banscan.cli.scan_cmd as scan_cmd
    from banscan.report.json_report import JsonReporter

    last = tmp_path / "cache" / "last-report.json"
    last.parent.mkdir()
    monkeypatch.setattr(scan_cmd, "LAST_REPORT", last)
    given: list[tuple[Any, dict[str, Any]]] = []
    write = JsonReporter.write

    def checked(self: JsonReporter, result: Any, registry: Any, out: Any, options: dict[str, Any]) -> None:
        given.append((options.get("report"), result.to_dict()))
        write(self, result, registry, out, options)

    monkeypatch.setattr(JsonReporter, "write", checked)
    log = _log(tmp_path / "osqueryd.results.log")
    for round_ in (1, 2):
        code, out, err = cli(capsys, "scan", str(log), "--db", store_url, "-f", "json", "--profile", "us-federal-agency")
        assert code == 1, err
        report, fresh = given[-1]
        assert report is not None and report == fresh and "scan_id" not in report
        assert report["findings"] and all(f["status"] for f in report["findings"]), round_
        assert json.loads(out) == fresh
        assert json.loads(last.read_text()) == fresh
        with open_store(store_url) as store:
            kept = store.latest_result()
        assert kept is not None and kept.to_dict()["detections"] == fresh["detections"]
    code, out, err = cli(capsys, "scan", str(log), "--no-store", "-f", "json")
    report, fresh = given[-1]
    assert code == 1 and report == fresh and json.loads(out) == fresh  # (made by the command, not the store)

"""End to end through the real command line: exit codes, one-line errors, JSON contracts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from banscan.registry import load

ROOT = Path(__file__).resolve().parents[1]


def banscan(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("BANSCAN_")}
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "banscan", *args], input=stdin.decode() if stdin else None,
                          capture_output=True, text=True, env=e, cwd=cwd or ROOT, timeout=120)


@pytest.fixture
def cache(tmp_path: Path) -> dict[str, str]:
    return {"XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(tmp_path / "data"),
            "BANSCAN_DB": str(tmp_path / "db.sqlite")}


def test_help_reads_well() -> None:
    r = banscan("--help")
    assert r.returncode == 0
    for cmd in ("scan", "registry", "sources"):
        assert cmd in r.stdout
    assert "restricted vendors" in r.stdout or "restricted ICT vendors" in r.stdout
    r = banscan("scan", "--help")
    assert r.returncode == 0 and "--profile" in r.stdout and "Exit codes" in r.stdout


def test_registry_validates_and_json_names_version_and_digest() -> None:
    r = banscan("registry", "validate")
    assert r.returncode == 0, r.stderr
    reg = load()
    assert reg.sha256 in r.stdout
    r = banscan("registry", "list", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["registry"]["sha256"] == reg.sha256 and data["registry"]["version"] == reg.version
    assert {f["id"] for f in data["families"]} >= {"kaspersky", "huawei", "zte", "hikvision", "dahua", "hytera"}
    r0 = data["restrictions"][0]
    for key in ("id", "jurisdiction", "instrument", "legal_force", "families", "adopted", "sources"):
        assert key in r0
    assert len(r0["adopted"]) == 10 and r0["adopted"][4] == "-"


BROKEN_OVERLAY = """\
restrictions:
  - id: my-ban
    title: Our own ban
    jurisdiction: XX
    authority: Board
    instrument: Board decision
    citation: Board decision 1
    legal_force: government-decision
    confidence: confirmed
    adopted: 2024-13-40
    binds: [us-federal-agency]
    binds_text: us
    covers: {families: [no-such-family]}
    obligations: [{requirement: remove, action: remove it}]
    text: no source given
    colour: red
signatures:
  - family: not-a-family
    kind: publisher
    values: [Evil Corp]
    sources: [our list]
"""


def test_broken_overlay_gives_one_line_per_problem_and_exit_2(tmp_path: Path) -> None:
    f = tmp_path / "overlay.yaml"
    f.write_text(BROKEN_OVERLAY)
    r = banscan("registry", "validate", str(f))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = [x for x in r.stderr.splitlines() if x.startswith("banscan: error:")]
    text = "\n".join(lines)
    assert f"{f}:10: restrictions[0].adopted" in text  # bad date, with its line
    assert "restrictions[0].sources: required key is missing" in text
    assert "restrictions[0].colour: unknown key" in text
    # the same overlay on another command: same errors, exit 2, no traceback
    r2 = banscan("registry", "list", "--registry", str(f))
    assert r2.returncode == 2 and "Traceback" not in r2.stderr and "unknown key" in r2.stderr


def test_overlay_with_dangling_references(tmp_path: Path) -> None:
    f = tmp_path / "overlay.yaml"
    f.write_text(BROKEN_OVERLAY.replace("2024-13-40", "2024-01-05").replace("    colour: red\n", "")
                 .replace("    text: no source given\n", "    text: t\n    sources: [https://example.org/x]\n"))
    r = banscan("registry", "validate", str(f))
    assert r.returncode == 2
    assert "covers.families[0]: unknown family 'no-such-family'" in r.stderr
    assert "signatures: unknown family 'not-a-family'" in r.stderr


def test_overlay_adds_a_deny_list_entry(tmp_path: Path, cache: dict[str, str]) -> None:
    overlay = tmp_path / "own.yaml"
    overlay.write_text("""\
version: acme-1
signatures:
  - family: kaspersky
    kind: product-name
    values: [Acme Rebadged Antivirus]
    relation: oem
    strength: strong
    sources: [Acme procurement review 2024]
""")
    inv = tmp_path / "inventory.csv"
    inv.write_text("DisplayName,Publisher,DisplayVersion\nAcme Rebadged Antivirus,Acme Inc,1.0\n")
    r = banscan("scan", "--no-store", "--registry", str(overlay), "-f", "json", str(inv), env=cache)
    assert r.returncode == 1, r.stderr
    rep = json.loads(r.stdout)
    assert rep["registry"]["version"].endswith("+acme-1")
    [d] = rep["detections"]
    assert (d["family"], d["relation"], d["source"]["locator"]) == ("kaspersky", "oem", "line 2")


def test_bad_inputs_exit_2_and_other_inputs_still_scanned(tmp_path: Path, cache: dict[str, str]) -> None:
    good = tmp_path / "good.csv"
    good.write_text("DisplayName,Publisher,DisplayVersion\nKaspersky Endpoint Security for Windows,AO Kaspersky Lab,12.3\n")
    truncated = tmp_path / "truncated.json"
    truncated.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"name": "x"')
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 40)
    empty = tmp_path / "empty.json"
    empty.write_text("")
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
                    + "".join(f'<!ENTITY lol{i} "{"&lol%s;" % ("" if i == 1 else i - 1) * 10}">' for i in range(1, 10))
                    + ']>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components><component type="library">'
                      "<name>&lol9;</name></component></components></bom>\n")
    r = banscan("scan", "--no-store", "-f", "json", str(good), str(truncated), str(garbage), str(empty), str(bomb),
                env=cache)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    rep = json.loads(r.stdout)
    by_path = {i["path"]: i for i in rep["inputs"]}
    assert by_path[str(good)]["errors"] == [] and by_path[str(good)]["observations"] == 1
    for bad in (truncated, garbage, empty, bomb):
        assert by_path[str(bad)]["errors"], bad
        assert str(bad) in r.stderr
    assert [d["family"] for d in rep["detections"]] == ["kaspersky"]
    # each problem is one line naming the file
    err_lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert all(x.startswith("banscan:") for x in err_lines)


def test_stdin_and_exit_0_when_clean(tmp_path: Path, cache: dict[str, str]) -> None:
    clean = b"DisplayName,Publisher,DisplayVersion\nMozilla Firefox,Mozilla,120.0\n"
    r = banscan("scan", "--no-store", "-f", "json", "-", stdin=clean, env=cache)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["inputs"][0]["path"] == "-" and rep["detections"] == []


def test_unknown_profile_is_a_one_line_error(cache: dict[str, str], tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("DisplayName,Publisher\nA,B\n")
    r = banscan("scan", "--no-store", "--profile", "no-such-profile", str(f), env=cache)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "unknown profile 'no-such-profile'" in r.stderr


def test_banscan_toml_and_environment(tmp_path: Path, cache: dict[str, str]) -> None:
    (tmp_path / "banscan.toml").write_text('fail_on = "prohibited"\nprofile = "no-such-profile-from-toml"\n')
    f = tmp_path / "x.csv"
    f.write_text("DisplayName,Publisher\nA,B\n")
    r = banscan("scan", "--no-store", str(f), env=cache, cwd=tmp_path)
    assert r.returncode == 2 and "no-such-profile-from-toml" in r.stderr  # the file is read
    r = banscan("scan", "--no-store", str(f), env={**cache, "BANSCAN_PROFILE": "env-profile"}, cwd=tmp_path)
    assert r.returncode == 2 and "unknown profile 'env-profile'" in r.stderr  # environment beats the file
    # flags win over both
    r = banscan("scan", "--no-store", "--profile", "us-federal-agency", "-f", "json", str(f), env=cache, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["profiles"] == ["us-federal-agency"]


def test_report_renders_the_stored_latest_scans(tmp_path: Path, cache: dict[str, str]) -> None:
    fleet = ROOT / "tests" / "fixtures" / "inventories" / "fleet-uninstall.csv"
    r = banscan("scan", "--profile", "us-federal-agency", "--as-of", "2019-01-15", "-f", "json", str(fleet), env=cache)
    assert r.returncode == 1, r.stderr
    r = banscan("report", "--format", "csv", env=cache)
    assert r.returncode == 0, r.stderr
    import csv as _csv
    rows = list(_csv.DictReader(r.stdout.splitlines()))
    assert {row["asset"] for row in rows} == {"FIN-LT-0042", "HR-PC-0007"}
    assert any(row["restriction"] == "us-ndaa18-s1634" and row["requirement"] == "prohibited"
               and row["status"] == "open" and row["locator"] == "line 2" for row in rows)


def test_jobs_on_a_stored_scan_finds_what_no_store_finds(cache: dict[str, str]) -> None:
    from sharedsamples import shared_sample

    log = shared_sample("osquery/elastic-osqueryd-results-deb_packages.excerpt.log")
    stored = banscan("scan", str(log), "--jobs", "2", "-f", "json", env=cache)
    assert stored.returncode in (0, 1), stored.stderr
    assert "--jobs applies" not in stored.stderr
    plain = banscan("scan", str(log), "--jobs", "2", "--no-store", "-f", "json", env=cache)
    assert plain.returncode == stored.returncode
    ids = lambda r: sorted(d["id"] for d in json.loads(r.stdout)["detections"])  # noqa: E731
    assert ids(plain) == ids(stored)


def test_output_dash_is_standard_output(tmp_path: Path, cache: dict[str, str]) -> None:
    """``-o -`` writes to stdout (a scan's report, an export), as most commands read it, not to a
    file named "-"."""
    log = tmp_path / "osqueryd.results.log"
    log.write_text('{"name":"pack_inventory_programs","hostIdentifier":"h","unixTime":1,"columns":{"name":'
                   '"Kaspersky Endpoint Security for Windows","publisher":"AO Kaspersky Lab",'
                   '"install_location":"","identifying_number":""},"action":"added"}\n')
    p = banscan("scan", "--no-store", "-f", "json", "-o", "-", str(log), env=cache, cwd=tmp_path)
    assert p.returncode == 1, p.stderr
    assert json.loads(p.stdout)["detections"] and not (tmp_path / "-").exists()
    p = banscan("export", "osquery-pack", "-o", "-", env=cache, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["queries"] and not (tmp_path / "-").exists()

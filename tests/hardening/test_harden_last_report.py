"""Issue 15 class 11: nothing is written outside -o when the user asked for --no-store; the last
report kept for 'banscan explain' is private to the user (mode 0600)."""

from __future__ import annotations

import json
import stat

from hardkit import cli, env_for, run_limited
from sharedsamples import shared_sample

SAMPLE = "windows/uninstall-keys-export-csv.csv"


def _inventory(tmp_path):
    inv = tmp_path / "inv.csv"
    inv.write_text(shared_sample(SAMPLE).read_text(encoding="utf-8")
                   + '"Kaspersky Endpoint Security for Windows","AO Kaspersky Lab","12.3",,\n', encoding="utf-8")
    return inv


def test_no_store_writes_only_the_output(tmp_path):
    inv = _inventory(tmp_path)
    out = tmp_path / "out" / "report.json"
    env = env_for(tmp_path)
    p = run_limited(["scan", str(inv), "--no-store", "-o", str(out)], env)
    assert p.returncode == 1, p.stderr
    assert json.loads(out.read_text())["detections"]
    # (the compiled-registry cache, which holds no scan data, may be written)
    written = sorted(str(x.relative_to(tmp_path)) for x in tmp_path.rglob("*")
                     if x.is_file() and "compiled" not in x.relative_to(tmp_path).parts)
    assert written == ["inv.csv", "out/report.json"], written


def test_last_report_is_private_and_explain_uses_it(capsys, tmp_path, monkeypatch):
    import banscan.cli.scan_cmd as scan_cmd

    last = tmp_path / "cache" / "last-report.json"
    last.parent.mkdir()
    last.write_text("{}")
    last.chmod(0o644)
    monkeypatch.setattr(scan_cmd, "LAST_REPORT", last)
    inv = _inventory(tmp_path)
    code, out, err = cli(capsys, "scan", str(inv), "--db", str(tmp_path / "db.sqlite"), "-f", "json")
    assert code == 1, err
    det = json.loads(out)["detections"][0]["id"]
    assert stat.S_IMODE(last.stat().st_mode) == 0o600
    assert json.loads(last.read_text())["detections"][0]["id"] == det
    code, out, err = cli(capsys, "explain", det)
    assert code == 0 and "Kaspersky" in out, err
    last.unlink()
    code, _, err = cli(capsys, "scan", str(inv), "--no-store", "-f", "json")
    assert code == 1 and not last.exists()

"""``banscan report``: renders the stored latest scans through ``Store.latest_result``."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

import banscan.store
from banscan.cli import app


class FakeStore:
    def __init__(self, result):
        self.result = result
        self.asked: list = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def latest_result(self, asset=None):
        self.asked.append(asset)
        if asset is None:
            return self.result
        self.result.detections = [d for d in self.result.detections if d.asset == asset]
        keep = {d.id for d in self.result.detections}
        self.result.findings = [f for f in self.result.findings if f.detection in keep]
        return self.result


class OldStore:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


@pytest.fixture
def cli(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no banscan.toml around
    for var in ("BANSCAN_DB", "BANSCAN_PROFILE", "BANSCAN_REGISTRY", "BANSCAN_CONFIG", "BANSCAN_FAIL_ON"):
        monkeypatch.delenv(var, raising=False)
    return CliRunner()


def test_report_csv_for_one_asset(cli, monkeypatch, estate, tmp_path):
    store = FakeStore(estate)
    monkeypatch.setattr(banscan.store, "open_store", lambda url, **kw: store)
    out = tmp_path / "out" / "findings.csv"
    res = cli.invoke(app, ["report", "--format", "csv", "--asset", "cctv-lobby", "--db", str(tmp_path / "x.db"),
                           "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert store.asked == ["cctv-lobby"]
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert {r["asset"] for r in rows} == {"cctv-lobby"}
    assert len(rows) == 2


@pytest.mark.parametrize("fmt", ["sarif", "html", "far", "oscal", "json"])
def test_report_every_format(cli, monkeypatch, estate, tmp_path, fmt):
    monkeypatch.setattr(banscan.store, "open_store", lambda url, **kw: FakeStore(estate))
    (tmp_path / "banscan.toml").write_text('[far]\ncontract_number = "GS-35F-0001X"\n', encoding="utf-8")
    res = cli.invoke(app, ["report", "-f", fmt, "--db", str(tmp_path / "x.db")])
    assert res.exit_code == 0, res.output
    if fmt in ("sarif", "oscal", "json"):
        json.loads(res.stdout)
    if fmt == "far":
        assert "| Contract number | GS-35F-0001X |" in res.stdout


def test_unknown_format(cli, monkeypatch, estate, tmp_path):
    monkeypatch.setattr(banscan.store, "open_store", lambda url, **kw: FakeStore(estate))
    res = cli.invoke(app, ["report", "-f", "docx", "--db", str(tmp_path / "x.db")])
    assert res.exit_code != 0


def test_store_without_latest_result(monkeypatch, estate, tmp_path, capsys):
    from banscan.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(banscan.store, "open_store", lambda url, **kw: OldStore())
    with pytest.raises(SystemExit) as e:
        main(["report", "-f", "csv", "--db", str(tmp_path / "x.db")])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "latest_result" in err[0]

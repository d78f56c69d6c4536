"""The findings, assets and history commands."""

from __future__ import annotations

import csv
import io

from storekit import cli, cli_json, detection, result

from banscan.model import EvidenceClass
from banscan.store import open_store

I = EvidenceClass.INSTALLED
FIELDS = {"id", "status", "asset", "family", "restriction", "requirement", "deadline", "first_seen", "last_seen"}


def _db(store_url, clock):
    with open_store(store_url, clock=clock) as store:
        store.record(result({"pc1": [I], "pc2": [I]}, [detection("pc1"), detection("pc2")]))
    return store_url


def test_findings_json_and_decisions(store_url, clock, capsys):
    db = _db(store_url, clock)
    out = cli_json(capsys, "findings", "--db", db)
    assert set(out["registry"]) >= {"version", "sha256"}
    assert len(out["findings"]) == 2 and all(FIELDS <= set(f) for f in out["findings"])
    a, b = (f["id"] for f in out["findings"])

    code, text, err = cli(capsys, "findings", "set", a, "--status", "planned", "--owner", "desk", "--due",
                          "2026-03-01", "--note", "ticket 7", "--db", db)
    assert code == 0, err
    assert "planned" in text
    code, _, err = cli(capsys, "findings", "waive", b, "--reason", "lab", "--approver", "CISO", "--expires",
                       "2099-12-31", "--db", db)
    assert code == 0, err
    rows = cli_json(capsys, "findings", "--db", db)["findings"]
    assert [(r["id"], r["status"], r["owner"], r["due"]) for r in rows] == [(a, "planned", "desk", "2026-03-01")]
    rows = cli_json(capsys, "findings", "--status", "waived", "--db", db)["findings"]
    assert [(r["id"], r["waiver_expires"], r["approver"]) for r in rows] == [(b, "2099-12-31", "CISO")]
    assert cli(capsys, "findings", "false-positive", a, "--reason", "not it", "--db", db)[0] == 0
    assert cli_json(capsys, "findings", "--db", db)["findings"] == []
    assert len(cli_json(capsys, "findings", "--all", "--db", db)["findings"]) == 2
    assert cli(capsys, "findings", "set", a, "--status", "open", "--db", db)[0] == 0
    assert [r["id"] for r in cli_json(capsys, "findings", "--asset", "pc1", "--db", db)["findings"]] == [a]

    code, text, _ = cli(capsys, "findings", "--format", "csv", "--all", "--db", db)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["id"] for r in rows} == {a, b} and "restriction" in rows[0]
    code, text, _ = cli(capsys, "findings", "show", a, "--db", db)
    assert code == 0 and "planned" in text and "false-positive" in text


def test_errors_are_one_line_exit_2(store_url, clock, capsys):
    db = _db(store_url, clock)
    fid = cli_json(capsys, "findings", "--db", db)["findings"][0]["id"]
    for argv in (("findings", "set", "F-unknown", "--status", "planned", "--owner", "x", "--due", "2026-01-01"),
                 ("findings", "set", fid, "--status", "planned", "--owner", "x", "--due", "2026-02-30"),
                 ("findings", "waive", fid, "--reason", "r", "--approver", "a", "--expires", "soon"),
                 ("findings", "false-positive", "F-unknown", "--reason", "r"),
                 ("findings", "set", fid, "--status", "resolved"),
                 ("findings", "--status", "gone")):
        code, _, err = cli(capsys, *argv, "--db", db)
        assert code == 2, argv
        assert len(err.strip().splitlines()) == 1, err


def test_assets_and_history(store_url, clock, capsys):
    db = _db(store_url, clock)
    with open_store(db, clock=clock) as store:
        clock.advance(days=1)
        store.record(result({"pc1": [I]}, [], path="inv2.csv"))
    out = cli_json(capsys, "assets", "--db", db)
    by = {a["asset"]: a for a in out["assets"]}
    assert by["pc1"]["open_findings"] == 0 and by["pc2"]["open_findings"] == 1
    assert by["pc1"]["last_scan"] == 2 and by["pc2"]["last_scan"] == 1
    h = cli_json(capsys, "history", "pc1", "--db", db)
    assert [s["id"] for s in h["scans"]] == [1, 2]
    assert [e["event"] for e in h["scans"][0]["changes"]] == ["opened"]
    assert [e["event"] for e in h["scans"][1]["changes"]] == ["resolved"]
    assert h["scans"][1]["inputs_changed"] == {"added": ["inv2.csv"], "removed": ["inv.csv"]}
    code, text, _ = cli(capsys, "history", "pc1", "--db", db)
    assert code == 0 and "resolved" in text
    assert cli(capsys, "history", "nope", "--db", db)[0] == 2


def test_migrations_match_the_tables(store_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from banscan.store.tables import metadata

    with open_store(store_url) as store, store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []

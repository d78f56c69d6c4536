"""Coverage per asset and what an attestation could not see: an estate with one asset known only
from a DHCP lease, beside a PC inventory and a phone's MDM app list (real sample files)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from sharedsamples import shared_sample
from storekit import Clock, cli, cli_json, detection, result

import banscan.registry
from banscan.attest import build_statement
from banscan.errors import BanscanError
from banscan.model import EvidenceClass
from banscan.scan import ScanRequest, run
from banscan.store import open_store

FIXTURES = Path(__file__).parent.parent / "fixtures" / "store"
PROFILE = "us-federal-agency"
LEASE = "dhcp/isc-dhcpd-options-relay-agent.leases"  # one device, known from its DHCP lease only
MDM = "mdm/apple-mdm-InstalledApplicationList-response.plist"


@pytest.fixture
def estate(store_url):
    reg = banscan.registry.load()
    lease, mdm = shared_sample(LEASE), shared_sample(MDM)
    res = run(ScanRequest(inputs=(str(FIXTURES / "pc-01-clean.csv"),), asset="pc-01", profiles=(PROFILE,),
                          keep_evidence=True), reg)
    net = run(ScanRequest(inputs=(str(lease), str(mdm)), profiles=(PROFILE,), keep_evidence=True), reg)
    with open_store(store_url) as store:
        store.record(res, reg)
        store.record(net, reg)
    assets = net.assets()
    (device,) = [a for a, cs in assets.items() if cs == {"network-device"}]
    (phone,) = [a for a, cs in assets.items() if cs == {"mobile"}]
    return store_url, device, phone, str(lease)


@pytest.fixture
def keys(tmp_path, capsys):
    assert cli(capsys, "keygen", "--out", str(tmp_path / "k"))[0] == 0
    return tmp_path / "k", tmp_path / "k.pub"


def test_coverage_lists_blind_spots_first_in_every_format(estate, capsys):
    db, device, phone, lease = estate
    today = dt.date.today().isoformat()
    code, out, err = cli(capsys, "coverage", "--format", "json", "--db", db)
    assert code == 0, err
    doc = json.loads(out)
    assert doc == {"assets": [
        {"asset": device, "evidence": {"network-device": today}, "blind_spot": True},
        *sorted([{"asset": phone, "evidence": {"mobile": today}, "blind_spot": False},
                 {"asset": "pc-01", "evidence": {"installed": today}, "blind_spot": False}],
                key=lambda a: a["asset"])]}
    code, out, _ = cli(capsys, "coverage", "--format", "csv", "--db", db)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["asset"] == device and rows[0]["blind_spot"] == "true" and lease in rows[0]["inputs"]
    assert {r["evidence_class"] for r in rows} == {"network-device", "mobile", "installed"}
    code, out, _ = cli(capsys, "coverage", "--db", db)
    assert code == 0 and device in out and "1 blind spot" in out
    assert cli(capsys, "coverage", "--format", "xml", "--db", db)[0] == 2


def test_attest_refuses_gaps_unless_accepted_and_verify_shows_them(estate, keys, tmp_path, capsys):
    db, device, _, _ = estate
    priv, pub = keys
    out = tmp_path / "statement.json"
    code, _, err = cli(capsys, "attest", "-p", PROFILE, "--key", str(priv), "--out", str(out), "--db", db)
    assert code == 1 and not out.exists()
    assert device in err and "--accept-gaps" in err and "pc-01" not in err

    code, _, err = cli(capsys, "attest", "-p", PROFILE, "--key", str(priv), "--out", str(out), "--db", db,
                       "--accept-gaps")
    assert code == 0, err
    assert device in err  # named on stderr as an accepted gap
    statement = json.loads(out.read_text())["statement"]
    cov = statement["coverage"]
    assert [g["asset"] for g in cov["gaps"]] == [device]
    assert cov["gaps"][0]["lacks"] == ["installed", "mobile", "sbom"]
    assert cov["gaps_accepted"] is True and cov["max_age_days"] == 30
    assert [a["asset"] for a in cov["assets"] if a["blind_spot"]] == [device]
    assert statement["clean"] is True and "coverage.gaps" in statement["claim"]

    v = cli_json(capsys, "verify", str(out), "--key", str(pub))
    assert v["valid"] and v["statement"]["coverage"]["gaps"][0]["asset"] == device
    code, text, _ = cli(capsys, "verify", str(out), "--key", str(pub))
    assert code == 0 and "Coverage gaps (1)" in text and device in text.split("Coverage gaps (1)")[1]

    # one changed byte fails, wherever it is (inside the gap's asset name too)
    original = out.read_bytes()
    for pos in (original.index(device.encode()) + 1, len(original) // 2, len(original) - 2):
        b = bytearray(original)
        b[pos] ^= 0x01
        out.write_bytes(bytes(b))
        assert cli(capsys, "verify", str(out), "--key", str(pub))[0] in (1, 2), pos
    # dropping the gap from the statement breaks the signature
    env = json.loads(original)
    env["statement"]["coverage"]["gaps"] = []
    from banscan.attest import canonical

    out.write_bytes(canonical(env) + b"\n")
    assert cli(capsys, "verify", str(out), "--key", str(pub))[0] == 1


def test_stale_software_inventory_is_a_gap(estate, keys, tmp_path, capsys):
    db, device, phone, _ = estate
    later = (dt.date.today() + dt.timedelta(days=31)).isoformat()
    out = tmp_path / "s.json"
    code, _, err = cli(capsys, "attest", "-p", PROFILE, "--key", str(keys[0]), "--out", str(out), "--db", db,
                       "--as-of", later, "--accept-gaps")
    assert code == 0, err
    gaps = {g["asset"]: g for g in json.loads(out.read_text())["statement"]["coverage"]["gaps"]}
    assert set(gaps) == {device, phone, "pc-01"}
    assert gaps["pc-01"]["stale"] == {"installed": dt.date.today().isoformat()}
    code, _, err = cli(capsys, "attest", "-p", PROFILE, "--key", str(keys[0]), "--out", str(out), "--db", db,
                       "--as-of", later, "--max-age", "40", "--accept-gaps")
    assert code == 0
    assert [g["asset"] for g in json.loads(out.read_text())["statement"]["coverage"]["gaps"]] == [device]


def test_attest_as_of_states_the_estate_from_history(store_url):
    """Day 1: pc1 scanned with Kaspersky.  Day 5: a clean scan of pc1 resolves it; pc2 first scanned.
    Statements as of day 3 and day 6 each say what was true then."""
    reg = banscan.registry.load()
    I = EvidenceClass.INSTALLED
    clock = Clock("2026-03-02T10:00:00+00:00")
    with open_store(store_url, clock=clock) as store:
        store.record(result({"pc1": [I]}, [detection("pc1")]))
        clock.advance(days=4)
        store.record(result({"pc1": [I], "pc2": [I]}, []))
        clock.advance(days=2)
        day3 = build_statement(store, reg, PROFILE, dt.date(2026, 3, 4), include_open=True)
        assert [a["asset"] for a in day3["assets"]] == ["pc1"]
        assert [f["asset"] for f in day3["open_findings"]] == ["pc1"] and day3["clean"] is False
        with pytest.raises(BanscanError, match="open"):
            build_statement(store, reg, PROFILE, dt.date(2026, 3, 4))
        day6 = build_statement(store, reg, PROFILE, dt.date(2026, 3, 7))
        assert [a["asset"] for a in day6["assets"]] == ["pc1", "pc2"]
        assert day6["clean"] is True and day6["summary"]["resolved"] == 1
        with pytest.raises(BanscanError, match="no scans"):
            build_statement(store, reg, PROFILE, dt.date(2026, 3, 1))

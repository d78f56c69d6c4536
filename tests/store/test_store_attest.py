"""Attestations: sign, verify, any changed byte fails, no clean claim while findings are open."""

from __future__ import annotations

import json
import os
import stat

import pytest
from storekit import cli, cli_json, detection, result

from banscan.model import EvidenceClass
from banscan.store import open_store

I = EvidenceClass.INSTALLED
PROFILE = "us-federal-agency"


@pytest.fixture
def clock():
    """The store's clock at the real time: 'banscan attest' judges the age of the evidence on today."""
    import datetime as dt

    from storekit import Clock

    return Clock(dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))


@pytest.fixture
def keys(tmp_path, capsys):
    code, out, err = cli(capsys, "keygen", "--out", str(tmp_path / "signer.key"))
    assert code == 0, err
    return tmp_path / "signer.key", tmp_path / "signer.key.pub"


def _db_with(store_url, clock, dets):
    with open_store(store_url, clock=clock) as store:
        store.record(result({"pc1": [I], "pc2": [I]}, dets))
    return store_url


def test_keygen_private_key_is_private(keys):
    priv, pub = keys
    assert stat.S_IMODE(os.stat(priv).st_mode) == 0o600
    assert b"PUBLIC KEY" in pub.read_bytes()


def test_attestation_round_trip_and_any_changed_byte_fails(store_url, clock, keys, tmp_path, capsys):
    db = _db_with(store_url, clock, [])
    priv, pub = keys
    out = tmp_path / "statement.json"
    code, _, err = cli(capsys, "attest", "--profile", PROFILE, "--key", str(priv), "--out", str(out), "--db", db)
    assert code == 0, err
    v = cli_json(capsys, "verify", str(out), "--key", str(pub))
    assert v["valid"] and v["key_checked_against_trusted_copy"]
    st = v["statement"]
    assert st["clean"] is True and st["open_findings"] == [] and st["profile"]["id"] == PROFILE
    assert {a["asset"] for a in st["assets"]} == {"pc1", "pc2"}
    assert st["assets"][0]["inputs"][0]["sha256"]
    code, text, _ = cli(capsys, "verify", str(out), "--format", "text")
    assert code == 0 and "NOT checked against a trusted copy" in text and "pc1" in text

    original = out.read_bytes()
    positions = sorted({0, 1, 10, len(original) // 3, len(original) // 2, (2 * len(original)) // 3,
                        len(original) - 3, len(original) - 2, len(original) - 1})
    for pos in positions:
        b = bytearray(original)
        b[pos] ^= 0x01
        out.write_bytes(bytes(b))
        code, _, _ = cli(capsys, "verify", str(out), "--key", str(pub))
        assert code in (1, 2), f"byte {pos} changed but verify passed"
    # a change inside a string value keeps the JSON readable: that is 'invalid' (1)
    i = original.index(b'"pc1"') + 2
    b = bytearray(original)
    b[i] = ord("X")
    out.write_bytes(bytes(b))
    assert cli(capsys, "verify", str(out))[0] == 1
    # whitespace outside the signed statement
    for changed in (original[:-1], original + b"\n", original.replace(b'{"signature"', b'{ "signature"', 1),
                    json.dumps(json.loads(original), indent=2).encode() + b"\n"):
        out.write_bytes(changed)
        assert cli(capsys, "verify", str(out), "--key", str(pub))[0] == 1
    out.write_bytes(original)
    assert cli(capsys, "verify", str(out), "--key", str(pub))[0] == 0


def test_wrong_trusted_key_fails_and_unreadable_is_2(store_url, clock, keys, tmp_path, capsys):
    db = _db_with(store_url, clock, [])
    priv, _ = keys
    cli(capsys, "keygen", "--out", str(tmp_path / "other.key"))
    out = tmp_path / "s.json"
    assert cli(capsys, "attest", "-p", PROFILE, "--key", str(priv), "--out", str(out), "--db", db)[0] == 0
    code, text, _ = cli(capsys, "verify", str(out), "--key", str(tmp_path / "other.key.pub"))
    assert code == 1 and "not with the trusted key" in text
    assert cli(capsys, "verify", str(tmp_path / "missing.json"))[0] == 2
    (tmp_path / "junk.json").write_text("not json")
    assert cli(capsys, "verify", str(tmp_path / "junk.json"))[0] == 2


def test_refuses_clean_claim_while_findings_open(store_url, clock, keys, tmp_path, capsys):
    db = _db_with(store_url, clock, [detection("pc1")])
    priv, pub = keys
    out = tmp_path / "s.json"
    code, _, err = cli(capsys, "attest", "-p", PROFILE, "--key", str(priv), "--out", str(out), "--db", db)
    assert code == 1 and not out.exists()
    assert len(err.strip().splitlines()) == 1 and "open" in err
    code, _, err = cli(capsys, "attest", "-p", PROFILE, "--key", str(priv), "--out", str(out), "--db", db,
                       "--include-open")
    assert code == 0, err
    v = cli_json(capsys, "verify", str(out), "--key", str(pub))
    assert v["valid"] and v["statement"]["clean"] is False
    assert [f["asset"] for f in v["statement"]["open_findings"]] == ["pc1"]


def test_statement_claiming_clean_with_open_list_is_inconsistent(store_url, clock, keys, tmp_path):
    from banscan import attest, registry
    from banscan.attest import build_statement, load_private_key, sign, verify

    db = _db_with(store_url, clock, [detection("pc1")])
    with open_store(db, clock=clock) as store:
        st = build_statement(store, registry.load(), PROFILE, include_open=True)
    st["clean"] = True  # a forged claim, correctly signed
    v = verify(sign(st, load_private_key(keys[0])), attest.load_public_key(keys[1]))
    assert not v.valid and any("claims clean" in p for p in v.problems)


def test_waived_finding_allows_clean_claim_until_expiry(store_url, clock, keys, tmp_path, capsys):
    import datetime as dt

    db = _db_with(store_url, clock, [detection("pc1")])
    with open_store(db, clock=clock) as store:
        fid = store.findings()[0]["id"]
        store.set_status(fid, "waived", reason="isolated lab", approver="CISO", expires=dt.date(2099, 1, 1))
    out = tmp_path / "s.json"
    assert cli(capsys, "attest", "-p", PROFILE, "--key", str(keys[0]), "--out", str(out), "--db", db)[0] == 0
    st = json.loads(out.read_text())["statement"]
    assert st["clean"] and [f["id"] for f in st["waived_findings"]] == [fid]
    assert cli(capsys, "attest", "-p", PROFILE, "--key", str(keys[0]), "--out", str(out), "--db", db,
               "--as-of", "2098-12-31", "--max-age", "40000")[0] == 0
    code, _, err = cli(capsys, "attest", "-p", PROFILE, "--key", str(keys[0]), "--out", str(out), "--db", db,
                       "--as-of", "2099-01-02", "--max-age", "40000")
    assert code == 1 and "open" in err

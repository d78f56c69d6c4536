"""Issue 15 class 9: 'verify' checks a statement against its JSON Schema before the signature, so
a wrong-typed statement (objects replaced by lists, strings or numbers) is "invalid" (exit 1) with
a reason naming the place, never a crash."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hardkit import cli
from sharedsamples import shared_sample

from banscan.attest import canonical

PROFILE = "us-federal-contractor"


@pytest.fixture(scope="module")
def statement(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("st")
    inv = tmp / "inv.csv"
    inv.write_text(shared_sample("windows/uninstall-keys-export-csv.csv").read_text(encoding="utf-8")
                   + '"Kaspersky Endpoint Security for Windows","AO Kaspersky Lab","12.3",,\n', encoding="utf-8")
    db = str(tmp / "db.sqlite")
    from banscan.attest import build_statement, keygen, load_private_key, sign
    from banscan.registry import load
    from banscan.scan import ScanRequest, run
    from banscan.store import open_store

    reg = load()
    res = run(ScanRequest(inputs=(str(inv),), profiles=(PROFILE,), asset="pc1"), reg)
    with open_store(db) as store:
        store.record(res, reg)
        st = build_statement(store, reg, PROFILE, include_open=True)
    key, _, _ = keygen(tmp / "k")
    return json.loads(sign(st, load_private_key(key)))


PLACES = [
    ("statement",), ("signature",), ("statement", "profile"), ("statement", "registry"),
    ("statement", "tool"), ("statement", "summary"), ("statement", "assets"), ("statement", "assets", 0),
    ("statement", "assets", 0, "last_scan"), ("statement", "assets", 0, "evidence"),
    ("statement", "assets", 0, "inputs"), ("statement", "assets", 0, "inputs", 0),
    ("statement", "open_findings"), ("statement", "open_findings", 0), ("statement", "waived_findings"),
    ("signature", "value"), ("statement", "clean"),
]


def _wrong_for(value: object) -> list[object]:
    """Values of every other JSON type than ``value``'s (objects, lists, strings, numbers)."""
    return [w for w in ({"a": 1}, ["x"], "x", 5) if type(w) is not type(value)]


def _variants(env: dict) -> list[tuple[str, bytes]]:
    out = []
    for place in PLACES:
        original = env
        for p in place:
            original = original[p]
        for wrong in _wrong_for(original):
            doc = copy.deepcopy(env)
            if not place:
                doc = wrong
            else:
                target = doc
                for p in place[:-1]:
                    target = target[p]
                target[place[-1]] = wrong
            out.append((".".join(map(str, place)) + f"={json.dumps(wrong)}", canonical(doc) + b"\n"))
    return out


def test_wrong_typed_statements_are_invalid_not_crashes(capsys, tmp_path, statement):
    assert statement["statement"]["open_findings"], "the fixture statement should list an open finding"
    variants = _variants(statement) + [("document=" + json.dumps(w), canonical(w) + b"\n")
                                       for w in (["x"], "x", 5)]
    assert len(variants) >= 13
    f = tmp_path / "s.json"
    for name, data in variants:
        f.write_bytes(data)
        code, out, err = cli(capsys, "verify", str(f))
        assert code == 1, (name, out, err)
        assert "INVALID" in out and "problem:" in out, (name, out)
        assert "Traceback" not in err and not err.strip(), (name, err)
        code, out, err = cli(capsys, "verify", str(f), "-f", "json")
        v = json.loads(out)
        assert code == 1 and v["valid"] is False and v["problems"], name


def test_schema_reason_names_the_place(capsys, tmp_path, statement):
    doc = copy.deepcopy(statement)
    doc["statement"]["profile"] = ["us-federal-contractor"]
    f = tmp_path / "s.json"
    f.write_bytes(canonical(doc) + b"\n")
    code, out, _ = cli(capsys, "verify", str(f))
    assert code == 1 and "statement.profile" in out and "object" in out


def test_the_schema_accepts_a_real_statement(capsys, tmp_path, statement):
    from banscan.attest import schema_problems

    assert schema_problems(statement) == []
    f = tmp_path / "s.json"
    f.write_bytes(canonical(statement) + b"\n")
    code, out, err = cli(capsys, "verify", str(f))
    assert code == 0, out + err


def test_schema_ships_in_the_package():
    from importlib import resources

    data = json.loads((resources.files("banscan") / "schema" / "attestation.schema.json").read_text("utf-8"))
    assert data["$schema"].endswith("2020-12/schema")
    assert Path(__file__).resolve().parents[2].joinpath("pyproject.toml").read_text().count('"schema/*.json"') == 1

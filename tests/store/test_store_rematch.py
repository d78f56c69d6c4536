"""Re-matching the stored evidence: a registry update that adds one signature surfaces a detection
no scan made, in the dry run (nothing installed or recorded) and when applied (the finding opens)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from sharedsamples import shared_sample
from storekit import cli, cli_json

import banscan.registry
from banscan.attest import keygen
from banscan.registry.loader import DATA_DIR
from banscan.scan import ScanRequest, run
from banscan.store import active_data_dir, open_store
from banscan.store.bundle import build_bundle
from banscan.store.tables import evidence_sets

FIXTURES = Path(__file__).parent.parent / "fixtures" / "store"
MDM = "mdm/apple-mdm-InstalledApplicationList-response.plist"
# A test-only signature: the bundle claims an app of the real MDM inventory for the Kaspersky family.
TEST_BUNDLE_ID = "com.apple.dt.Xcode"
PROFILE = "us-federal-agency"


def _bundle_with_signature(tmp_path: Path, version: str = "2099.01.01") -> tuple[Path, Path]:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    reg = yaml.safe_load((data / "registry.yaml").read_text())
    reg["version"] = version
    (data / "registry.yaml").write_text(yaml.safe_dump(reg))
    fam_path = data / "families" / "kaspersky.yaml"
    fam = yaml.safe_load(fam_path.read_text())
    fam["signatures"].append({"kind": "bundle-id", "values": [TEST_BUNDLE_ID], "strength": "strong",
                              "sources": ["https://example.org/test-only-signature"]})
    fam_path.write_text(yaml.safe_dump(fam, sort_keys=False, allow_unicode=True))
    key, pub, _ = keygen(tmp_path / "publisher.key")
    bundle = tmp_path / "registry.tar.gz"
    build_bundle(data, bundle, key)
    return bundle, pub


def _scan(reg, *inputs: str, asset: str | None = None):
    return run(ScanRequest(inputs=inputs, asset=asset, profiles=(PROFILE,), keep_evidence=True), reg)


@pytest.fixture
def estate(store_url):
    reg = banscan.registry.load()
    mdm = shared_sample(MDM)
    phone = _scan(reg, str(mdm))
    assert phone.detections == [], "the bundled registry must not match the MDM sample yet"
    pc = _scan(reg, str(FIXTURES / "pc-01-with-kaspersky.csv"), asset="pc-01")
    assert pc.findings
    with open_store(store_url) as store:
        store.record(phone, reg)
        store.record(pc, reg)
    (udid,) = phone.assets()
    return store_url, udid


def test_dry_run_names_the_new_detection_and_applying_opens_the_finding(estate, tmp_path, capsys):
    db, udid = estate
    bundle, pub = _bundle_with_signature(tmp_path)
    out = cli_json(capsys, "registry", "update", str(bundle), "--key", str(pub), "--dry-run", "--db", db)
    assert out["dry_run"] is True and out["bundle"]["version"] == "2099.01.01"
    assets = {a["asset"]: a for a in out["impact"]["assets"]}
    (new,) = assets[udid]["new_detections"]
    assert new["family"] == "kaspersky" and new["evidence_class"] == "mobile"
    assert any(s.startswith("kaspersky.") for s in new["signatures"])
    assert assets[udid]["gained"] and all(g["family"] == "kaspersky" for g in assets[udid]["gained"])
    # the Kaspersky PC matches as before: nothing new, nothing dropped, no finding changes
    assert assets["pc-01"]["new_detections"] == assets["pc-01"]["dropped_detections"] == []
    assert assets["pc-01"]["gained"] == assets["pc-01"]["lost"] == assets["pc-01"]["changed"] == []
    # nothing was installed or recorded
    assert active_data_dir() is None
    with open_store(db) as store:
        assert [s["kind"] for s in store.scans(kind=None)] == ["scan", "scan"]
        assert store.findings(asset=udid, all=True) == []
    code, text, _ = cli(capsys, "registry", "update", str(bundle), "--key", str(pub), "--dry-run", "--db", db)
    assert code == 0 and "dry run" in text and "+ detection" in text and udid in text

    out = cli_json(capsys, "registry", "update", str(bundle), "--key", str(pub), "--db", db)
    assert out["impact"]["dry_run"] is False and out["impact"]["recorded_scans"]
    (new_after,) = {a["asset"]: a for a in out["impact"]["assets"]}[udid]["new_detections"]
    assert new_after["id"] == new["id"]
    assert active_data_dir() is not None
    with open_store(db) as store:
        rows = store.findings(asset=udid)
        assert rows and {r["status"] for r in rows} == {"open"} and {r["family"] for r in rows} == {"kaspersky"}
        assert {g["restriction"] for g in assets[udid]["gained"]} == {r["restriction"] for r in rows}
        # the PC's findings are untouched by the re-evaluation
        assert {r["status"] for r in store.findings(asset="pc-01", all=True)} == {"open"}


def test_reevaluate_matches_again_with_an_overlay_signature(estate, tmp_path, capsys):
    db, udid = estate
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(yaml.safe_dump({"signatures": [
        {"family": "kaspersky", "kind": "bundle-id", "values": [TEST_BUNDLE_ID], "strength": "strong",
         "sources": ["https://example.org/test-only-signature"]}]}))
    try:
        banscan.registry.load([str(overlay)])
    except Exception as e:  # noqa: BLE001 - overlays may not take signatures
        pytest.skip(f"overlay registries do not take signatures here: {e}")
    out = cli_json(capsys, "reevaluate", "--dry-run", "--registry", str(overlay), "--db", db)
    assets = {a["asset"]: a for a in out["assets"]}
    assert [d["family"] for d in assets[udid]["new_detections"]] == ["kaspersky"]
    with open_store(db) as store:
        assert [s["kind"] for s in store.scans(kind=None)] == ["scan", "scan"]


def test_unchanged_evidence_is_stored_once(store_url):
    from sqlalchemy import func, select

    reg = banscan.registry.load()
    inv = str(FIXTURES / "pc-01-with-kaspersky.csv")
    with open_store(store_url) as store:
        store.record(_scan(reg, inv, asset="pc-01"), reg)
        store.record(_scan(reg, inv, asset="pc-01"), reg)
        store.record(_scan(reg, str(FIXTURES / "pc-01-clean.csv"), asset="pc-01"), reg)
        with store.engine.connect() as c:
            rows = c.execute(select(evidence_sets.c.records)).scalars().all()
            assert c.execute(select(func.count()).select_from(evidence_sets)).scalar() == 2
        assert sorted(rows) == [2, 3]  # one record per distinct inventory row
        latest = store.latest_evidence()
        es = store.evidence_set(latest[("pc-01", "installed")][1])
        assert {r[2]["name"] for r in es.records} == {"Mozilla Firefox (x64 en-US)", "7-Zip 23.01 (x64)"}
        assert all(set(r[2]) <= {"name", "publisher", "version"} for r in es.records)


def test_scans_without_stored_evidence_are_reevaluated_with_a_warning(store_url, capsys):
    reg = banscan.registry.load()
    res = run(ScanRequest(inputs=(str(FIXTURES / "pc-01-with-kaspersky.csv"),), asset="pc-01",
                          profiles=(PROFILE,)), reg)  # keep_evidence off: like a scan recorded earlier
    with open_store(store_url) as store:
        store.record(res, reg)
    out = cli_json(capsys, "reevaluate", "--dry-run", "--db", store_url)
    assert any("pc-01" in w and "not matched again" in w for w in out["warnings"])
    pc = {a["asset"]: a for a in out["assets"]}["pc-01"]
    assert pc["new_detections"] == pc["dropped_detections"] == [] and pc["findings"] > 0

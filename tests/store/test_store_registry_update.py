"""Registry bundles: build, verify, install, and the impact report of 'banscan registry update'."""

from __future__ import annotations

import datetime as dt
import shutil
import tarfile
from pathlib import Path

import pytest
import yaml
from storekit import cli, cli_json

import banscan.registry
from banscan.attest import keygen
from banscan.registry.loader import DATA_DIR
from banscan.scan import ScanRequest, run
from banscan.store import active_data_dir, open_store
from banscan.store.bundle import BundleError, build_bundle, install_bundle

FIXTURES = Path(__file__).parent.parent / "fixtures" / "store"
NEW_ID = "us-test-extra-kaspersky-rule"


def _tree_with_extra_restriction(tmp_path: Path, version: str = "2099.01.01") -> Path:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    reg = yaml.safe_load((data / "registry.yaml").read_text())
    reg["version"] = version
    (data / "registry.yaml").write_text(yaml.safe_dump(reg))
    r = yaml.safe_load((data / "restrictions" / "us-dhs-bod-17-01.yaml").read_text())
    r.update(id=NEW_ID, title="Test: an extra Kaspersky removal rule", adopted=dt.date(2020, 1, 1),
             effective=None, superseded_by=None, ends=None)
    r = {k: v for k, v in r.items() if v is not None}
    (data / "restrictions" / f"{NEW_ID}.yaml").write_text(yaml.safe_dump(r, sort_keys=False))
    return data


@pytest.fixture
def scanned_db(store_url, tmp_path):
    reg = banscan.registry.load()
    res = run(ScanRequest(inputs=(str(FIXTURES / "pc-01-with-kaspersky.csv"),), asset="pc-01",
                          profiles=("us-federal-agency",)), reg)
    if not res.findings:
        pytest.skip("the pipeline produced no findings for the Kaspersky fixture")
    res2 = run(ScanRequest(inputs=(str(FIXTURES / "pc-01-clean.csv"),), asset="pc-02",
                           profiles=("us-federal-agency",)), reg)
    with open_store(store_url) as store:
        store.record(res, reg)
        store.record(res2, reg)
    return store_url


def test_update_reports_newly_affected_assets(scanned_db, tmp_path, capsys):
    data = _tree_with_extra_restriction(tmp_path)
    key, pub, _ = keygen(tmp_path / "publisher.key")
    bundle = tmp_path / "registry.tar.gz"
    m = build_bundle(data, bundle, key)
    assert active_data_dir() is None
    out = cli_json(capsys, "registry", "update", str(bundle), "--key", str(pub), "--sha256",
                   str(m["bundle_sha256"]), "--db", scanned_db)
    assert out["installed"]["version"] == "2099.01.01" and out["installed"]["signature_checked"]
    assets = {a["asset"]: a for a in out["impact"]["assets"]}
    assert [g["restriction"] for g in assets["pc-01"]["gained"]] == [NEW_ID]
    assert assets["pc-01"]["gained"][0]["family"] == "kaspersky"
    assert assets["pc-01"]["lost"] == []
    assert not assets.get("pc-02", {}).get("gained")
    assert active_data_dir() is not None
    assert (active_data_dir() / "restrictions" / f"{NEW_ID}.yaml").is_file()
    assert banscan.registry.load(data_dir=active_data_dir()).version == "2099.01.01"
    # the new finding is tracked (re-evaluation for today updates the lifecycle)
    with open_store(scanned_db) as store:
        assert NEW_ID in {f["restriction"] for f in store.findings(asset="pc-01")}
    # the table rendering names the asset and the restriction
    code, text, _ = cli(capsys, "registry", "update", str(bundle), "--key", str(pub), "--db", scanned_db)
    assert code == 0 and "installed registry 2099.01.01" in text


def test_tampered_or_unsigned_bundle_is_refused(tmp_path):
    data = _tree_with_extra_restriction(tmp_path)
    key, pub, _ = keygen(tmp_path / "k")
    other, other_pub, _ = keygen(tmp_path / "other")
    bundle = tmp_path / "b.tar.gz"
    build_bundle(data, bundle, key)
    with pytest.raises(BundleError, match="signature does not match"):
        install_bundle(bundle, other_pub)
    with pytest.raises(BundleError, match="does not match --sha256"):
        install_bundle(bundle, None, "0" * 64)
    raw = bytearray(bundle.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(bytes(raw))
    shutil.copy(str(bundle) + ".sig", str(bad) + ".sig")
    with pytest.raises(BundleError):
        install_bundle(bad, pub)
    unsigned = tmp_path / "unsigned.tar.gz"
    build_bundle(data, unsigned)
    with pytest.raises(BundleError, match="no signature file"):
        install_bundle(unsigned, pub)
    # a member changed after the manifest was written
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(bundle) as src, tarfile.open(evil, "w:gz") as dst:
        for mem in src.getmembers():
            f = src.extractfile(mem)
            content = f.read() if f else b""
            if mem.name == "data/registry.yaml":
                content += b"# changed\n"
                mem.size = len(content)
            import io
            dst.addfile(mem, io.BytesIO(content))
    with pytest.raises(BundleError, match="sha256 does not match the manifest"):
        install_bundle(evil)
    assert active_data_dir() is None


def test_unsafe_member_names_are_refused(tmp_path):
    import io
    import json

    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as t:
        for name, content in (("manifest.json", json.dumps({"format": "banscan-registry-bundle"}).encode()),
                              ("../escape.yaml", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            t.addfile(info, io.BytesIO(content))
    with pytest.raises(BundleError, match="unsafe member"):
        install_bundle(evil)
    assert not (tmp_path.parent / "escape.yaml").exists()


def test_installed_bundle_older_than_the_bundled_registry_is_ignored(tmp_path):
    data = _tree_with_extra_restriction(tmp_path, version="2000.01.01")
    bundle = tmp_path / "old.tar.gz"
    build_bundle(data, bundle)
    inst = install_bundle(bundle)
    assert inst.version == "2000.01.01"
    assert active_data_dir() is None
    assert active_data_dir(prefer_newer_bundled=False) == inst.path


def test_reevaluate_as_of_reports_what_a_date_changed(scanned_db, capsys):
    out = cli_json(capsys, "reevaluate", "--as-of", "2017-09-13", "--db", scanned_db)
    gained = {g["restriction"] for a in out["assets"] if a["asset"] == "pc-01" for g in a["gained"]}
    assert "us-dhs-bod-17-01" in gained  # BOD 17-01 was adopted on 2017-09-13
    assert out["baseline"]["as_of"] == "2017-09-12"
    with open_store(scanned_db) as store:
        kinds = [s["kind"] for s in store.scans(kind=None)]
        assert kinds.count("reevaluation") == 1
        # a past date is recorded but leaves today's lifecycle alone
        assert {f["status"] for f in store.findings(asset="pc-01", all=True)} == {"open"}

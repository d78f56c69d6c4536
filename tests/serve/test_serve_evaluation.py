"""Continuous evaluation: deadlines become overdue on their own (at startup and on each
evaluation, recorded once), expired waivers reopen, and a registry update re-evaluates the estate
and records what changed."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import servekit
import yaml
from test_serve_api import sbom_with_kaspersky_library

from banscan.registry.loader import DATA_DIR

NEW_ID = "us-test-extra-kaspersky-rule"


def test_startup_evaluation_records_passed_deadlines_once(tmp_path) -> None:
    from banscan.registry import load
    from banscan.serve.service import ServeConfig, Service
    from banscan.store import open_store

    url = f"sqlite:///{tmp_path / 'pre.db'}"
    with open_store(url) as st:  # a scan recorded before the service starts
        svc = Service(ServeConfig(db=url, profiles=["us-federal-agency"]), st, load([]))
        st.record(svc.scan_bytes(sbom_with_kaspersky_library("app-1"), "bom.json", None, None), svc.registry)
        overdue = {f["id"] for f in st.findings(overdue=True)}
    assert overdue  # BOD 17-01's deadlines passed long ago
    for live in servekit.start(url, ["us-federal-agency"]):
        _check_startup(live, overdue)


def _check_startup(live: servekit.Live, overdue: set[str]) -> None:
    entries = live.wait_for(lambda: [e for e in live.get("/api/v1/audit").json()["entries"]
                                         if e["action"] == "deadline-passed"])
    assert {e["target"] for e in entries} == overdue
    assert all(e["actor"] == "banscan-serve" and e["new"] == {"overdue": True} for e in entries)
    again = live.post("/api/v1/evaluate", scope="admin").json()
    assert again["newly_overdue"] == [] and again["overdue"] == len(overdue)
    audit = live.get("/api/v1/audit", params={"action": "deadline-passed"}).json()["entries"]
    assert len(audit) == len(overdue)


def test_expired_waiver_reopens_at_evaluation(live_sqlite: servekit.Live) -> None:
    live = live_sqlite
    live.client.post("/api/v1/inputs", content=sbom_with_kaspersky_library("app-2"), headers=live.h("ingest"))
    fid = live.get("/api/v1/findings").json()["findings"][0]["id"]
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    r = live.post(f"/api/v1/findings/{fid}/decision", scope="decide",
                  json={"status": "waived", "reason": "exception until yesterday", "expires": yesterday})
    assert r.status_code == 200, r.text
    out = live.post("/api/v1/evaluate", scope="admin").json()
    assert out["waivers_expired"] == 1
    assert live.get(f"/api/v1/findings/{fid}").json()["finding"]["status"] == "open"
    events = [e["event"] for e in live.get(f"/api/v1/findings/{fid}").json()["events"]]
    assert events[-1] == "waiver-expired"


def _bundle_with_extra_restriction(tmp_path: Path) -> tuple[Path, str]:
    from banscan.store.bundle import build_bundle

    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    reg = yaml.safe_load((data / "registry.yaml").read_text())
    reg["version"] = "2099.01.01"
    (data / "registry.yaml").write_text(yaml.safe_dump(reg))
    r = yaml.safe_load((data / "restrictions" / "us-dhs-bod-17-01.yaml").read_text())
    r.update(id=NEW_ID, title="Test: an extra Kaspersky removal rule", adopted=dt.date(2020, 1, 1),
             effective=None, superseded_by=None, ends=None)
    r = {k: v for k, v in r.items() if v is not None}
    (data / "restrictions" / f"{NEW_ID}.yaml").write_text(yaml.safe_dump(r, sort_keys=False))
    bundle = tmp_path / "registry.tar.gz"
    build_bundle(data, bundle, None)
    return bundle, hashlib.sha256(bundle.read_bytes()).hexdigest()


def test_registry_update_reevaluates_and_is_audited(live_sqlite: servekit.Live, tmp_path) -> None:
    live = live_sqlite
    live.client.post("/api/v1/inputs", content=sbom_with_kaspersky_library("app-3"), headers=live.h("ingest"))
    assert not [f for f in live.get("/api/v1/findings").json()["findings"] if f["restriction"] == NEW_ID]
    bundle, digest = _bundle_with_extra_restriction(tmp_path)
    body = bundle.read_bytes()
    assert live.client.post("/api/v1/registry/update", params={"sha256": "0" * 64}, content=body,
                            headers=live.h("admin")).status_code == 400  # wrong digest: refused
    assert live.client.post("/api/v1/registry/update", params={"sha256": digest}, content=body,
                            headers=live.h("decide")).status_code == 403
    r = live.client.post("/api/v1/registry/update", params={"sha256": digest}, content=body, headers=live.h("admin"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["installed"]["version"] == "2099.01.01"
    assert "app-3" in out["summary"]["assets_gaining"]
    new = [f for f in live.get("/api/v1/findings").json()["findings"] if f["restriction"] == NEW_ID]
    assert new and new[0]["asset"] == "app-3" and new[0]["status"] == "open"
    assert live.get("/api/v1/findings").json()["registry"]["version"] == "2099.01.01"
    audit = live.get("/api/v1/audit", params={"action": "registry-update"}).json()["entries"]
    assert len(audit) == 1 and audit[0]["actor"] == "tester-admin"
    assert audit[0]["new"]["version"] == "2099.01.01" and audit[0]["old"]["version"] != "2099.01.01"
    assert audit[0]["detail"]["assets_gaining"] == ["app-3"]
    # later uploads are scanned under the new registry
    rep = live.client.post("/api/v1/inputs", content=sbom_with_kaspersky_library("app-4"),
                           headers=live.h("ingest")).json()
    assert rep["registry"]["version"] == "2099.01.01"
    assert any(f["restriction"] == NEW_ID for f in rep["findings"])

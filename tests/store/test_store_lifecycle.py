"""The findings lifecycle: open, resolve, evidence classes, waivers, false positives, reopening."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from storekit import detection, result

from banscan.model import EvidenceClass
from banscan.store import open_store

I, SBOM, NET = EvidenceClass.INSTALLED, EvidenceClass.SBOM, EvidenceClass.NETWORK_DEVICE
FIXTURES = Path(__file__).parent.parent / "fixtures" / "store"


def only(store, **kw):
    rows = store.findings(all=True, **kw)
    assert len(rows) == 1, rows
    return rows[0]


def test_opens_then_resolves_on_next_complete_scan(store_url, clock):
    with open_store(store_url, clock=clock) as store:
        r1 = result({"pc1": [I], "pc2": [I]}, [detection("pc1"), detection("pc2")])
        s1 = store.record(r1)
        assert [f.status for f in r1.findings] == ["open", "open"]
        assert {f["asset"] for f in store.findings()} == {"pc1", "pc2"}
        clock.advance(days=1)
        r2 = result({"pc1": [I]}, [])  # pc1 rescanned without it; pc2 not scanned
        s2 = store.record(r2)
        pc1 = only(store, asset="pc1")
        assert pc1["status"] == "resolved"
        assert pc1["resolved_scan"] == s2 and pc1["first_scan"] == s1
        assert only(store, asset="pc2")["status"] == "open"
        assert [f["asset"] for f in store.findings()] == ["pc2"]  # default: open + planned
        events = [e["event"] for e in store.events(key=pc1["id"])]
        assert events == ["opened", "resolved"]


def test_resolved_finding_seen_again_reopens(store_url, clock):
    with open_store(store_url, clock=clock) as store:
        store.record(result({"pc1": [I]}, [detection("pc1")]))
        store.record(result({"pc1": [I]}, []))
        r3 = result({"pc1": [I]}, [detection("pc1")])
        s3 = store.record(r3)
        f = only(store)
        assert f["status"] == "open" and f["last_scan"] == s3 and f["resolved_scan"] is None
        assert r3.findings[0].status == "open"
        assert [e["event"] for e in store.events(key=f["id"])] == ["opened", "resolved", "reopened"]


def test_sbom_scan_does_not_resolve_network_finding(store_url, clock):
    with open_store(store_url, clock=clock) as store:
        store.record(result({"cam1": [NET]}, [detection("cam1", "hikvision", "ds-2cd", ec=NET)],
                            restrictions=("us-ndaa19-s889",)))
        store.record(result({"cam1": [SBOM]}, [], restrictions=("us-ndaa19-s889",)))
        assert only(store)["status"] == "open"
        store.record(result({"cam1": [NET]}, [], restrictions=("us-ndaa19-s889",)))
        assert only(store)["status"] == "resolved"


def test_finding_seen_through_two_classes_resolves_when_both_stop_seeing_it(store_url, clock):
    with open_store(store_url, clock=clock) as store:
        store.record(result({"pc1": [I, NET]}, [detection("pc1", ec=I), detection("pc1", ec=NET, path="n.xml")]))
        assert only(store)["evidence_classes"] == ["installed", "network-device"]
        store.record(result({"pc1": [I]}, []))
        f = only(store)
        assert f["status"] == "open" and f["evidence_classes"] == ["network-device"]
        store.record(result({"pc1": [NET]}, []))
        assert only(store)["status"] == "resolved"


def test_scan_without_profile_resolves_nothing(store_url, clock):
    with open_store(store_url, clock=clock) as store:
        store.record(result({"pc1": [I]}, [detection("pc1")]))
        store.record(result({"pc1": [I]}, [], profiles=()))
        assert only(store)["status"] == "open"


def test_waiver_expires_and_reopens(store_url, clock):
    with open_store(store_url, clock=clock) as store:
        store.record(result({"pc1": [I]}, [detection("pc1")]))
        fid = only(store)["id"]
        store.set_status(fid, "waived", reason="vendor contract until March", approver="CISO",
                         expires=dt.date(2026, 1, 20))
        assert store.findings() == []
        clock.advance(days=10)  # 2026-01-20: last valid day
        r = result({"pc1": [I]}, [detection("pc1")])
        store.record(r)
        assert r.findings[0].status == "waived"
        assert only(store)["status"] == "waived"
        clock.advance(days=1)  # 2026-01-21: expired, read time
        assert only(store)["status"] == "open"
        assert [f["id"] for f in store.findings()] == [fid]
        r = result({"pc1": [I]}, [detection("pc1")])
        store.record(r)  # and recorded on the next scan
        assert r.findings[0].status == "open"
        events = [e["event"] for e in store.events(key=fid)]
        assert events == ["opened", "waived", "waiver-expired"]


def test_false_positive_stays_suppressed(store_url, clock):
    with open_store(store_url, clock=clock) as store:
        store.record(result({"pc1": [I]}, [detection("pc1")]))
        fid = only(store)["id"]
        store.set_status(fid, "false-positive", reason="a Kaspersky-named test fixture, not the product")
        for _ in range(2):
            clock.advance(days=1)
            r = result({"pc1": [I]}, [detection("pc1")])
            store.record(r)
            assert [f.status for f in r.findings] == ["false-positive"]
        assert store.findings() == []
        assert only(store, statuses=["false-positive"])["reason"].startswith("a Kaspersky")
        # a scan without it does not turn a false positive into a resolved finding
        store.record(result({"pc1": [I]}, []))
        assert only(store)["status"] == "false-positive"


def test_planned_keeps_owner_and_shows_overdue(store_url, clock):
    with open_store(store_url, clock=clock) as store:
        store.record(result({"pc1": [I]}, [detection("pc1")]))
        fid = only(store)["id"]
        store.set_status(fid, "planned", owner="desktop team", due=dt.date(2026, 2, 1), note="ticket 42")
        f = only(store)
        assert (f["status"], f["owner"], f["due"], f["note"]) == ("planned", "desktop team", "2026-02-01", "ticket 42")
        assert store.findings(overdue=True)  # the restriction deadline (2017) has passed
        store.record(result({"pc1": [I]}, [detection("pc1")]))
        assert only(store)["status"] == "planned"


def test_unknown_finding_and_missing_options(store_url, clock):
    from banscan.errors import StoreError

    with open_store(store_url, clock=clock) as store:
        with pytest.raises(StoreError, match="unknown finding"):
            store.set_status("F-000000000000", "false-positive", reason="x")
        store.record(result({"pc1": [I]}, [detection("pc1")]))
        with pytest.raises(StoreError, match="needs --owner, --due"):
            store.set_status(only(store)["id"], "planned")


def test_scan_is_recorded_in_full_and_rebuilds(store_url, clock):
    with open_store(store_url, clock=clock) as store:
        r = result({"pc1": [I]}, [detection("pc1")])
        sid = store.record(r)
        back = store.scan_result(sid)
        assert back.to_dict()["findings"] == r.to_dict()["findings"]
        assert [d.id for d in back.detections] == [d.id for d in r.detections]
        sc = store.scan(sid)
        assert sc["inputs"][0]["sha256"] == r.inputs[0].sha256 and sc["profiles"] == ["us-federal-agency"]
        a = store.assets()
        assert a[0]["asset"] == "pc1" and a[0]["open_findings"] == 1 and a[0]["last_scan"] == sid


def test_real_pipeline_csv_opens_and_resolves(store_url, clock):
    import banscan.registry
    from banscan.scan import ScanRequest, run

    reg = banscan.registry.load()
    if "us-federal-agency" not in reg.profiles:
        pytest.skip("registry has no us-federal-agency profile")

    def scan(name):
        return run(ScanRequest(inputs=(str(FIXTURES / name),), asset="pc-01", profiles=("us-federal-agency",),
                               as_of=dt.date(2026, 1, 10)), reg)

    r1 = scan("pc-01-with-kaspersky.csv")
    if not r1.findings:
        pytest.skip("the pipeline produced no findings for the Kaspersky fixture")
    with open_store(store_url, clock=clock) as store:
        store.record(r1, reg)
        opened = store.findings()
        assert opened and {f["family"] for f in opened} == {"kaspersky"}
        assert "us-dhs-bod-17-01" in {f["restriction"] for f in opened}
        store.record(scan("pc-01-clean.csv"), reg)
        assert store.findings() == []
        assert {f["status"] for f in store.findings(all=True)} == {"resolved"}

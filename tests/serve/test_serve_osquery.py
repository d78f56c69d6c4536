"""osquery's remote API against a live server: enroll, config, result logs (snapshot, then a
differential that removes a product), the finding opening then resolving; invalid node keys."""

from __future__ import annotations

import json

import servekit
from sharedsamples import shared_sample

KESL = {"name": "kesl", "version": "12.0.0.6672", "arch": "amd64", "source": "", "revision": "",
        "maintainer": "AO Kaspersky Lab"}
BASH = {"name": "bash", "version": "5.2.15", "arch": "amd64", "source": "", "revision": "3",
        "maintainer": "Matthias Klose"}
CURL = {"name": "curl", "version": "7.88.1", "arch": "amd64", "source": "", "revision": "10",
        "maintainer": "Alessandro Ghedini"}


def enroll(live: servekit.Live, host: str) -> str:
    r = live.osquery("enroll", {"enroll_secret": servekit.ENROLL_SECRET, "host_identifier": host,
                                "host_details": {"os_version": {"platform": "ubuntu"},
                                                 "system_info": {"hostname": host}}})
    assert r["node_invalid"] is False
    return str(r["node_key"])


def kaspersky_findings(live: servekit.Live, host: str, all_: bool = True) -> list[dict]:
    r = live.get("/api/v1/findings", params={"asset": host, "all": all_})
    assert r.status_code == 200, r.text
    return [f for f in r.json()["findings"] if f["family"] == "kaspersky"]


def test_enroll_config_snapshot_then_differential_removal(live: servekit.Live) -> None:
    key = enroll(live, "ws-0042")
    cfg = live.osquery("config", {"node_key": key})
    assert cfg["node_invalid"] is False
    assert cfg["schedule"]["banscan_deb_packages"]["query"] == "SELECT * FROM deb_packages;"
    assert {"banscan_programs", "banscan_apps", "banscan_chrome_extensions", "banscan_arp_cache"} <= set(cfg["schedule"])

    snapshot = {"name": "banscan_deb_packages", "hostIdentifier": "ws-0042", "calendarTime": "Mon Nov 30 10:00:00 2026 UTC",
                "unixTime": 1796032800, "epoch": 0, "counter": 0, "numerics": False, "action": "snapshot",
                "snapshot": [BASH, KESL, CURL]}
    assert live.osquery("log", {"node_key": key, "log_type": "result", "data": [snapshot]}, gz=True) == {"node_invalid": False}
    opened = live.wait_for(lambda: [f for f in kaspersky_findings(live, "ws-0042") if f["status"] == "open"])
    assert {f["restriction"] for f in opened} >= {"us-dhs-bod-17-01"}
    for f in opened:
        assert {"id", "status", "family", "asset", "restriction", "requirement", "deadline"} <= set(f)

    diff = {"name": "banscan_deb_packages", "hostIdentifier": "ws-0042", "calendarTime": "Mon Nov 30 11:00:00 2026 UTC",
            "unixTime": 1796036400, "epoch": 0, "counter": 1, "numerics": False,
            "diffResults": {"added": [], "removed": [KESL]}}
    assert live.osquery("log", {"node_key": key, "log_type": "result", "data": [diff]}) == {"node_invalid": False}
    resolved = live.wait_for(lambda: (fs := kaspersky_findings(live, "ws-0042"))
                             and all(f["status"] == "resolved" for f in fs) and fs)
    assert {f["id"] for f in resolved} == {f["id"] for f in opened}
    hist = live.get("/api/v1/history", params={"asset": "ws-0042"}).json()
    events = [c["event"] for s in hist["scans"] for c in s["changes"]]
    assert "opened" in events and "resolved" in events


def test_event_form_differential_adds_and_removes(live_sqlite: servekit.Live) -> None:
    live = live_sqlite
    key = enroll(live, "ws-7")
    base = {"name": "banscan_deb_packages", "hostIdentifier": "ws-7", "unixTime": "1796032800", "epoch": "0"}
    added = [dict(base, counter="1", action="added", columns=r) for r in (BASH, KESL)]
    live.osquery("log", {"node_key": key, "log_type": "result", "data": added})
    live.wait_for(lambda: [f for f in kaspersky_findings(live, "ws-7") if f["status"] == "open"])
    live.osquery("log", {"node_key": key, "log_type": "result",
                         "data": [dict(base, counter="2", action="removed", columns=KESL)]})
    live.wait_for(lambda: (fs := kaspersky_findings(live, "ws-7")) and all(f["status"] == "resolved" for f in fs))


def test_recorded_osqueryd_results_log_is_ingested(live_sqlite: servekit.Live) -> None:
    """A real osqueryd results log (event form, deb_packages) posted as osquery's tls logger would."""
    live = live_sqlite
    path = shared_sample("osquery/elastic-osqueryd-results-deb_packages.excerpt.log")
    entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    key = enroll(live, entries[0]["hostIdentifier"])
    assert live.osquery("log", {"node_key": key, "log_type": "result", "data": entries}, gz=True)["node_invalid"] is False
    status = {"hostIdentifier": entries[0]["hostIdentifier"], "calendarTime": "Thu Dec  7 17:57:33 2017 UTC",
              "unixTime": "1512669453", "severity": "0", "filename": "scheduler.cpp", "line": "83",
              "message": "Executing scheduled query pack_it-compliance_deb_packages", "version": "2.10.2"}
    assert live.osquery("log", {"node_key": key, "log_type": "status", "data": [status]})["node_invalid"] is False
    names = {e["columns"]["name"] for e in entries if e.get("action") == "added"}
    assets = live.wait_for(lambda: [a for a in live.get("/api/v1/assets").json()["assets"]
                                    if a["asset"] == entries[0]["hostIdentifier"]])
    assert assets[0]["evidence"].get("installed")
    from sqlalchemy import func, select

    from banscan.serve.osquery import nodes_of  # noqa: F401 - the module under test
    from banscan.store.service_tables import osquery_rows

    with live.app.state.service.store.engine.connect() as c:
        n = c.execute(select(func.count()).select_from(osquery_rows)).scalar()
    assert n == len(names)


def test_invalid_node_keys(live_sqlite: servekit.Live) -> None:
    live = live_sqlite
    for path in ("config", "log", "distributed/read", "distributed/write"):
        assert live.osquery(path, {"node_key": "not-a-key", "log_type": "result", "data": []}) == {"node_invalid": True}
        assert live.osquery(path, {}) == {"node_invalid": True}
    assert live.osquery("enroll", {"enroll_secret": "wrong", "host_identifier": "x"}) == {"node_invalid": True}
    assert live.osquery("enroll", {"host_identifier": "x"}) == {"node_invalid": True}


def test_scan_now_through_distributed_queries(live_sqlite: servekit.Live) -> None:
    live = live_sqlite
    key = enroll(live, "ws-9")
    assert live.osquery("distributed/read", {"node_key": key})["queries"] == {}
    r = live.post("/api/v1/nodes/ws-9/scan", scope="decide")
    assert r.status_code == 200, r.text
    q = live.osquery("distributed/read", {"node_key": key})["queries"]
    assert q["banscan_scan_deb_packages"] == "SELECT * FROM deb_packages;"
    assert "banscan_scan_programs" not in q  # a Linux node is not asked for Windows tables
    live.osquery("distributed/write", {"node_key": key, "queries": {"banscan_scan_deb_packages": [BASH, KESL],
                                                                      "banscan_scan_rpm_packages": []},
                                       "statuses": {"banscan_scan_deb_packages": 0, "banscan_scan_rpm_packages": 0}})
    live.wait_for(lambda: [f for f in kaspersky_findings(live, "ws-9") if f["status"] == "open"])
    assert live.osquery("distributed/read", {"node_key": key})["queries"] == {}
    nodes = live.get("/api/v1/nodes").json()["nodes"]
    assert [n["asset"] for n in nodes] == ["ws-9"]


def test_changes_no_signature_can_match_are_evaluated_later(live_deferred: servekit.Live) -> None:
    """Rows the matcher's prefilter rules out cannot change findings: their evaluation waits; a
    row that may hold a signature is evaluated at once (and the deferred rows with it)."""
    live = live_deferred
    key = enroll(live, "ws-5")
    snap = {"name": "banscan_deb_packages", "hostIdentifier": "ws-5", "unixTime": 1796032800, "counter": 0,
            "action": "snapshot", "snapshot": [BASH, CURL]}
    live.osquery("log", {"node_key": key, "log_type": "result", "data": [snap]})
    live.wait_for(lambda: live.get("/api/v1/osquery/status").json()["inbox_pending"] == 0)  # applied
    node = live.get("/api/v1/nodes").json()["nodes"][0]
    assert node["evaluation_pending"] is True
    assert live.get("/api/v1/assets").json()["assets"] == []
    diff = {"name": "banscan_deb_packages", "hostIdentifier": "ws-5", "unixTime": 1796036400, "counter": 1,
            "diffResults": {"added": [KESL], "removed": []}}
    live.osquery("log", {"node_key": key, "log_type": "result", "data": [diff]})
    live.wait_for(lambda: [f for f in kaspersky_findings(live, "ws-5") if f["status"] == "open"])
    assert live.get("/api/v1/nodes").json()["nodes"][0]["evaluation_pending"] is False


def test_event_form_evaluation_equals_snapshot_form(tmp_path) -> None:
    """Nodes are evaluated from event-form lines (the reader's prefilter skips rows no signature can
    match); the result must be the snapshot form's, on real deb_packages rows plus a restricted one."""
    from banscan.registry import load
    from banscan.serve.nodeeval import node_result_bytes
    from banscan.serve.service import ServeConfig, Service
    from banscan.store import open_store

    path = shared_sample("osquery/elastic-osqueryd-results-deb_packages.excerpt.log")
    rows = [json.loads(line)["columns"] for line in path.read_text().splitlines() if line.strip()]
    rows += [KESL, {"name": "<img src=x onerror=alert(1)>", "version": "1", "arch": "all", "source": "",
                    "revision": "", "maintainer": "Kaspersky \u0022quoted\u0022"}]
    stored = [(q, json.dumps(r, ensure_ascii=False)) for q in ("banscan_deb_packages", "pack_x_deb") for r in rows]
    url = f"sqlite:///{tmp_path / 'f.db'}"
    with open_store(url) as st:
        svc = Service(ServeConfig(db=url, profiles=["us-federal-agency"]), st, load([]))
        a = svc.scan_bytes(node_result_bytes("h-1", stored, "event"), "n", "h-1", "osquery")
        b = svc.scan_bytes(node_result_bytes("h-1", stored, "snapshot"), "n", "h-1", "osquery")
    assert a.detections and a.findings

    def dets(r):  # everything but the place in the generated log (line vs. snapshot pointer)
        return sorted((d.asset, d.family, d.product or "", d.confidence.value, d.relation.value,
                       json.dumps(d.observation.fields, sort_keys=True, default=str),
                       tuple((e.field, e.value, e.signature) for e in d.evidence)) for d in r.detections)

    def finds(r):
        return sorted((f.asset or "", f.family or "", f.restriction, f.requirement.value, f.deadline or "", f.profile)
                      for f in r.findings)

    assert dets(a) == dets(b) and finds(a) == finds(b)
    assert a.assets() == b.assets() and a.inputs[0].observations == b.inputs[0].observations


def flush(live: servekit.Live) -> dict:
    # returns as soon as everything is applied and evaluated; the bound only stops a hang
    r = live.post("/api/v1/osquery/flush", scope="read", params={"timeout": 240}, timeout=300)
    assert r.status_code == 200, r.text
    assert r.json()["complete"] is True, r.json()
    assert r.json()["inbox_pending"] == 0
    return dict(r.json())


def test_removing_the_last_row_of_a_table_resolves_the_finding(live: servekit.Live) -> None:
    """A differential that removes the node's only deb_packages row leaves no row to scan; the
    query still reports that table, so the finding seen there resolves."""
    key = enroll(live, "ws-last")
    snap = {"name": "banscan_deb_packages", "hostIdentifier": "ws-last", "unixTime": 1796032800, "counter": 0,
            "action": "snapshot", "snapshot": [KESL]}
    live.osquery("log", {"node_key": key, "log_type": "result", "data": [snap]}, gz=True)
    flush(live)
    opened = [f for f in kaspersky_findings(live, "ws-last") if f["status"] == "open"]
    assert opened
    diff = {"name": "banscan_deb_packages", "hostIdentifier": "ws-last", "unixTime": 1796036400, "counter": 1,
            "diffResults": {"added": [], "removed": [KESL]}}
    live.osquery("log", {"node_key": key, "log_type": "result", "data": [diff]})
    flush(live)
    r = live.get("/api/v1/findings", params={"asset": "ws-last", "all": True})
    assert r.headers["X-Banscan-Pending"] == "inbox=0, evaluation=0"
    fs = [f for f in r.json()["findings"] if f["family"] == "kaspersky"]
    assert {f["id"] for f in fs} == {f["id"] for f in opened}
    assert all(f["status"] == "resolved" for f in fs)


def test_batches_acknowledged_before_a_kill_are_applied_after_the_restart(tmp_path) -> None:
    """A batch in the inbox (acknowledged, then the server was killed before applying it) is
    applied when the server starts again, once, in the order received."""
    import gzip
    import hashlib

    from sqlalchemy import func, select

    from banscan.serve.inbox import open_inbox
    from banscan.serve.tokens import new_node_key
    from banscan.store import db, open_store
    from banscan.store.service_tables import osquery_batches, osquery_nodes, osquery_rows

    url = f"sqlite:///{tmp_path / 'k.db'}"
    bodies = [
        {"node_key": "k", "log_type": "result", "data": [
            {"name": "banscan_deb_packages", "hostIdentifier": "ws-k", "unixTime": 1796032800, "counter": 0,
             "action": "snapshot", "snapshot": [BASH, CURL]}]},
        {"node_key": "k", "log_type": "result", "data": [
            {"name": "banscan_deb_packages", "hostIdentifier": "ws-k", "unixTime": 1796036400, "counter": 1,
             "diffResults": {"added": [KESL], "removed": [CURL]}}]},
    ]
    with open_store(url) as st:
        _key, digest = new_node_key()
        nid = db.write(st.engine, lambda c: c.execute(osquery_nodes.insert().values(
            node_key_hash=digest, asset="ws-k", host_identifier="ws-k", platform="debian", host_details="{}",
            enrolled_at="2026-12-01T00:00:00+00:00", dirty=0, scan_requested=0)).inserted_primary_key[0])
        engine, inbox = open_inbox(st.engine)

        def _tx(c):
            for i, b in enumerate(bodies):
                raw = json.dumps(b).encode()
                c.execute(inbox.insert().values(
                    node_id=nid, received_at=f"2026-12-01T00:00:0{i}+00:00", log_type="result",
                    encoding="gzip" if i else "identity", sha256=hashlib.sha256(raw).hexdigest(),
                    body=gzip.compress(raw) if i else raw))
        db.write(engine, _tx)
        engine.dispose()
    for live in servekit.start(url, ["us-federal-agency"]):
        flush(live)
        assert {f["status"] for f in kaspersky_findings(live, "ws-k")} == {"open"}
        with db.reading(live.app.state.service.store.engine) as c:
            rows = sorted(json.loads(r.row)["name"] for r in c.execute(select(osquery_rows.c.row)))
            batches = c.execute(select(osquery_batches.c.rows_added, osquery_batches.c.rows_removed)
                                .order_by(osquery_batches.c.id)).all()
            batches_n = c.execute(select(func.count()).select_from(osquery_batches)).scalar()
        from banscan.serve.inbox import inbox_of

        ib = inbox_of(live.app.state.service)
        with db.reading(ib.engine) as c:
            left = c.execute(select(func.count()).select_from(ib.table)).scalar()
        assert rows == ["bash", "kesl"]
        assert [tuple(b) for b in batches] == [(2, 0), (1, 1)]
        assert left == 0 and batches_n == 2
        # killed after applying a batch but before deleting it from the inbox file: not applied twice
        with db.reading(live.app.state.service.store.engine) as c:
            last = c.execute(select(osquery_batches).order_by(osquery_batches.c.id.desc())).first()
        again = {"id": last.inbox_id, "node_id": nid, "received_at": last.received_at, "log_type": "result",
                 "encoding": "identity", "sha256": last.sha256, "body": json.dumps(bodies[1]).encode()}
        with ib.engine.begin() as c:
            c.execute(ib.table.insert().values(**again))
        flush(live)
        with db.reading(live.app.state.service.store.engine) as c:
            assert c.execute(select(func.count()).select_from(osquery_batches)).scalar() == 2
            assert sorted(json.loads(r.row)["name"] for r in c.execute(select(osquery_rows.c.row))) == ["bash", "kesl"]


def test_huge_integers_in_a_log_are_kept_as_the_cli_reads_them(live_sqlite: servekit.Live) -> None:
    """A row holding an integer beyond 64 bits (orjson would read it as a float) is stored with the
    integer the json module reads, as ``banscan scan`` reads an osqueryd log, and the batch is applied."""
    from sqlalchemy import select

    from banscan.serve.osquery import jloads
    from banscan.store.service_tables import osquery_rows

    huge = 123456789012345678901234567890
    raw = json.dumps({"size": huge, "neg": -huge, "edge": 2**64}).encode()
    assert jloads(raw) == json.loads(raw) and isinstance(jloads(raw)["size"], int)
    live = live_sqlite
    key = enroll(live, "ws-big")
    row = dict(KESL, size=huge)
    # NaN and infinities as the json module reads them (orjson would write them back as null)
    odd = dict(CURL, weight=float("inf"))
    snap = {"name": "banscan_deb_packages", "hostIdentifier": "ws-big", "unixTime": 1796032800, "counter": 0,
            "action": "snapshot", "snapshot": [BASH, row, odd]}
    assert live.osquery("log", {"node_key": key, "log_type": "result", "data": [snap]}, gz=True) == {"node_invalid": False}
    flush(live)
    with live.app.state.service.store.engine.connect() as c:
        stored = [json.loads(r.row) for r in c.execute(select(osquery_rows.c.row))]
    assert row in stored and str(huge) in json.dumps(stored)
    assert odd in stored
    assert [f for f in kaspersky_findings(live, "ws-big") if f["status"] == "open"]


def test_node_endpoints_answer_errors_and_other_methods_as_before(live_sqlite: servekit.Live) -> None:
    """The node endpoints are called without FastAPI's routing: errors keep FastAPI's shape, the
    service's headers are there, and other methods on their paths are still refused."""
    live = live_sqlite
    r = live.client.post("/api/osquery/log", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json() == {"detail": "the body is not JSON"}
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
    r = live.client.post("/api/osquery/log", content=b"\x1f\x8b not gzip")
    assert r.status_code == 400 and r.json() == {"detail": "the body is not valid gzip"}
    key = enroll(live, "ws-e")
    r = live.client.post("/api/osquery/log", json={"node_key": key, "log_type": "nope", "data": []})
    assert r.status_code == 400 and "log_type" in r.json()["detail"]
    ok = live.client.post("/api/osquery/config", json={"node_key": key})
    assert ok.status_code == 200 and ok.headers["content-type"] == "application/json"
    assert ok.json()["node_invalid"] is False
    for path in ("enroll", "config", "log", "distributed/read", "distributed/write"):
        assert live.client.get(f"/api/osquery/{path}").status_code == 405
    assert live.client.post("/api/osquery/nope", json={}).status_code == 404

"""The HTTP API against a live server: every route refuses missing, wrong and wrong-scope tokens;
uploads are scanned as the CLI scans files; decisions land in the append-only audit log; bodies
over the limit are refused while streaming; hostile inventory strings come back escaped."""

from __future__ import annotations

import json
import re
import socket
from typing import Any

import pytest
import servekit
from sharedsamples import shared_sample

HOSTILE = "<img src=x onerror=alert(1)>"


def sbom_with_kaspersky_library(name: str | None = None) -> bytes:
    """A real CycloneDX SBOM (trivy, npm) with one restricted library added by a build."""
    d = json.loads(shared_sample("cyclonedx/cdx-1.7-trivy-npm.json").read_text())
    if name is not None:
        d["metadata"]["component"]["name"] = name
    ref = "pkg:npm/%40kaspersky/scan-engine-client@1.0.0"
    d.setdefault("components", []).append({"type": "library", "name": "@kaspersky/scan-engine-client",
                                           "version": "1.0.0", "purl": ref, "bom-ref": ref})
    return json.dumps(d).encode()


def _routes(app: Any) -> list[tuple[str, str, str | None]]:
    from banscan.serve.app import api_routes

    return [(m, p, extra.get("x-required-scope")) for m, p, extra in api_routes(app)]


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_route_refuses_missing_wrong_and_wrong_scope_tokens(live_sqlite: servekit.Live) -> None:
    live = live_sqlite
    routes = _routes(live.app)
    assert len(routes) >= 20
    checked = 0
    for method, path, scope in routes:
        url = _fill(path)
        if scope == "osquery-node":
            r = live.client.request(method, url, json={"node_key": "forged", "enroll_secret": "forged",
                                                       "host_identifier": "h", "log_type": "result", "data": []})
            assert r.status_code == 200 and r.json() == {"node_invalid": True}, (method, path)
            checked += 1
            continue
        # every other route under /api names its scope (a new route without one fails here)
        assert path == "/api/openapi.json" or scope in ("ingest", "read", "decide", "admin"), (method, path)
        for headers in ({}, {"Authorization": "Bearer bsn_0000000000000000_forged"},
                        {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
            r = live.client.request(method, url, headers=headers)
            assert r.status_code == 401, (method, path, headers, r.status_code)
        if scope is not None and scope != "admin":
            wrong = next(s for s in ("read", "ingest", "decide") if s != scope)
            r = live.client.request(method, url, headers=live.h(wrong))
            assert r.status_code == 403, (method, path, wrong, r.status_code)
        if scope == "admin":
            for wrong in ("read", "ingest", "decide"):
                assert live.client.request(method, url, headers=live.h(wrong)).status_code == 403
        checked += 1
    assert checked == len(routes)
    # the OpenAPI description needs a token too, and documents each route's scope
    assert live.client.get("/api/openapi.json").status_code == 401
    spec = live.get("/api/openapi.json").json()
    assert spec["paths"]["/api/v1/findings"]["get"]["x-required-scope"] == "read"


def test_sbom_upload_returns_the_report_and_status_findings(live: servekit.Live) -> None:
    r = live.client.post("/api/v1/inputs", params={"asset": "payments-api"}, content=sbom_with_kaspersky_library(),
                         headers=live.h("ingest"))
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["status"] == "findings"
    assert rep["inputs"][0]["format"] == "cyclonedx-json"
    assert rep["profiles"] == ["us-federal-agency"]
    assert any(d["family"] == "kaspersky" for d in rep["detections"])
    assert any(f["restriction"] == "us-dhs-bod-17-01" for f in rep["findings"])
    # recorded like a CLI scan: the findings API now lists it
    fs = live.get("/api/v1/findings").json()["findings"]
    assert any(f["family"] == "kaspersky" and f["status"] == "open" for f in fs)
    # a clean SBOM and an unreadable input
    clean = shared_sample("cyclonedx/cdx-1.7-trivy-npm.json").read_bytes()
    assert live.client.post("/api/v1/inputs", params={"asset": "web"}, content=clean,
                            headers=live.h("ingest")).json()["status"] == "clean"
    bad = live.client.post("/api/v1/inputs", params={"asset": "web"}, content=b"\x00\x01 not an inventory",
                           headers=live.h("ingest")).json()
    assert bad["status"] == "input-error" and bad["inputs"][0]["errors"]


def test_multipart_upload(live_sqlite: servekit.Live) -> None:
    live = live_sqlite
    r = live.client.post("/api/v1/inputs", params={"asset": "build-17"}, headers=live.h("ingest"),
                         files={"file": ("bom.json", sbom_with_kaspersky_library(), "application/json")})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "findings"
    assert r.json()["inputs"][0]["path"] == "upload:bom.json"


def test_decisions_are_audited_and_the_audit_log_cannot_be_edited(live: servekit.Live) -> None:
    live.client.post("/api/v1/inputs", params={"asset": "app"}, content=sbom_with_kaspersky_library(),
                     headers=live.h("ingest"))
    fid = next(f["id"] for f in live.get("/api/v1/findings").json()["findings"] if f["family"] == "kaspersky")
    r = live.post(f"/api/v1/findings/{fid}/decision", scope="decide",
                  json={"status": "planned", "owner": "IT ops", "due": "2027-01-31", "note": "ticket 42"})
    assert r.status_code == 200, r.text
    assert r.json()["finding"]["owner"] == "IT ops"
    r = live.post(f"/api/v1/findings/{fid}/decision", scope="decide",
                  json={"status": "waived", "reason": "replacement on order", "expires": "2027-03-31"})
    assert r.status_code == 200, r.text
    assert live.post(f"/api/v1/findings/{fid}/decision", scope="decide", json={"status": "waived"}).status_code == 400
    assert live.post("/api/v1/findings/F-000000000000/decision", scope="decide",
                     json={"status": "open"}).status_code == 404
    entries = [e for e in live.get("/api/v1/audit", params={"target": fid}).json()["entries"]]
    assert [(e["action"], e["old"]["status"], e["new"]["status"]) for e in entries] == [
        ("finding-decision", "open", "planned"), ("finding-decision", "planned", "waived")]
    assert entries[0]["actor"] == "tester-decide" and entries[0]["new"]["owner"] == "IT ops"
    assert entries[1]["reason"] == "replacement on order" and entries[1]["new"]["waiver_expires"] == "2027-03-31"
    # no route edits the log, and the database refuses it
    for m in ("PUT", "PATCH", "DELETE"):
        assert live.client.request(m, "/api/v1/audit", headers=live.h("admin")).status_code == 405
    from sqlalchemy import text

    engine = live.app.state.service.store.engine
    for sql in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            with engine.begin() as c:
                c.execute(text(sql))
    assert len(live.get("/api/v1/audit", params={"target": fid}).json()["entries"]) == 2


def _raw(port: int, head: bytes, body_chunks: int, chunk: bytes) -> tuple[int, int]:
    """Send a request by hand; return (status, bytes of body sent before the server answered)."""
    import select

    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    sent = 0
    try:
        s.sendall(head)
        for _ in range(body_chunks):
            if select.select([s], [], [], 0)[0]:
                break  # the server has answered (or closed)
            try:
                s.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
            sent += len(chunk)
        data = b""
        while b"\r\n" not in data:
            part = s.recv(4096)
            if not part:
                break
            data += part
        return int(data.split(b" ", 2)[1]), sent
    finally:
        s.close()


def test_a_100_mb_body_is_refused_with_413_without_being_read(live_sqlite: servekit.Live) -> None:
    live = live_sqlite
    tok = live.tokens["ingest"].encode()
    mb = 1 << 20
    # declared length over the limit: refused before any body byte is read
    head = (b"POST /api/v1/inputs?asset=a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok +
            b"\r\nContent-Length: " + str(100 * mb).encode() + b"\r\n\r\n")
    status, sent = _raw(live.port, head, 100, b"\0" * mb)
    assert status == 413
    # chunked, no length: counted while streaming, refused once past the limit (64 MiB)
    head = (b"POST /api/v1/inputs?asset=a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok +
            b"\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = hex(mb)[2:].encode() + b"\r\n" + b"\0" * mb + b"\r\n"
    status, sent = _raw(live.port, head, 100, chunk)
    assert status == 413
    assert sent < 100 * mb
    # the osquery logger endpoint as well (the node key is checked after the body is read)
    head = (b"POST /api/osquery/log HTTP/1.1\r\nHost: x\r\nContent-Length: " + str(100 * mb).encode() + b"\r\n\r\n")
    assert _raw(live.port, head, 1, b"{")[0] == 413


def test_hostile_strings_round_trip_escaped(live_sqlite: servekit.Live) -> None:
    live = live_sqlite
    asset = f"{HOSTILE}\u202e'\"; DROP TABLE findings;--=cmd|' /C calc'!A0"
    r = live.client.post("/api/v1/inputs", params={"asset": asset}, content=sbom_with_kaspersky_library(asset),
                         headers=live.h("ingest"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["x-content-type-options"] == "nosniff"
    fs = live.get("/api/v1/findings", params={"asset": asset}).json()["findings"]
    assert fs and all(f["asset"] == asset for f in fs)
    html = live.get("/api/v1/report", params={"format": "html"})
    assert html.status_code == 200
    assert HOSTILE not in html.text and "&lt;img src=x onerror=alert(1)&gt;" in html.text
    csv = live.get("/api/v1/report", params={"format": "csv"}).text
    assert "\n=cmd" not in csv and ",=cmd" not in csv
    sarif = live.get("/api/v1/report", params={"format": "sarif"}).json()
    assert sarif["runs"]
    # the explain chain of the finding names the asset verbatim (JSON-escaped by the encoder)
    x = live.get(f"/api/v1/explain/{fs[0]['id']}").json()
    assert x["explanation"]["detection"]["asset"] == asset


def test_report_formats_and_reads(live_sqlite: servekit.Live) -> None:
    live = live_sqlite
    live.client.post("/api/v1/inputs", params={"asset": "app"}, content=sbom_with_kaspersky_library(),
                     headers=live.h("ingest"))
    for fmt in ("sarif", "csv", "html", "json", "oscal"):
        r = live.get("/api/v1/report", params={"format": fmt})
        assert r.status_code == 200, (fmt, r.text[:300])
    assert live.get("/api/v1/report", params={"format": "nope"}).status_code == 400
    assets = live.get("/api/v1/assets").json()["assets"]
    assert [a["asset"] for a in assets] == ["testdata/fixtures/repo/npm"]  # the SBOM names its application
    cov = live.get("/api/v1/coverage").json()
    assert cov["assets"][0]["asset"] == "testdata/fixtures/repo/npm"
    fid = live.get("/api/v1/findings").json()["findings"][0]["id"]
    one = live.get(f"/api/v1/findings/{fid}").json()
    assert one["finding"]["id"] == fid and one["events"][0]["event"] == "opened"
    assert live.get("/api/v1/findings/F-nope").status_code == 404


def test_rate_limits_per_token_and_per_node(live_limited: servekit.Live) -> None:
    live = live_limited
    codes = [live.get("/api/v1/findings").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    r = live.get("/api/v1/findings")
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert live.get("/api/v1/findings", scope="all").status_code == 200  # another token has its own budget
    key = live.osquery("enroll", {"enroll_secret": servekit.ENROLL_SECRET, "host_identifier": "n1"})["node_key"]
    codes = [live.client.post("/api/osquery/config", json={"node_key": key}).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]


def test_max_body_setting(live_limited: servekit.Live) -> None:
    live = live_limited
    big = b"x" * ((1 << 20) + 1)
    assert live.client.post("/api/v1/inputs", content=big, headers=live.h("ingest")).status_code == 413
    ok = live.client.post("/api/v1/inputs", params={"asset": "a"}, content=b"name,version\nbash,5\n",
                          headers=live.h("ingest"))
    assert ok.status_code == 200

"""The dashboard without a browser: login, sessions and cookies, CSRF on every form, roles (a viewer
sees no decision buttons and its POST is refused), decisions through the store and the audit log,
hostile inventory strings escaped, a strict CSP."""

from __future__ import annotations

from typing import Any

import pytest
from webkit import HOSTILE, PASSWORDS, csrf_of, make_app

pytest.importorskip("fastapi")
pytest.importorskip("argon2")


@pytest.fixture
def app(tmp_path) -> Any:
    return make_app(f"sqlite:///{tmp_path / 'web.db'}")


def client(app: Any) -> Any:
    from fastapi.testclient import TestClient

    return TestClient(app, base_url="http://127.0.0.1")


def login(app: Any, role: str) -> Any:
    c = client(app)
    page = c.get("/login")
    r = c.post("/login", data={"username": role, "password": PASSWORDS[role], "csrf_token": csrf_of(page.text)},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    return c


def test_pages_need_a_login(app: Any) -> None:
    c = client(app)
    for path in ("/", "/findings", "/findings.csv"):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"


def test_login_sets_a_strict_httponly_session_cookie_and_a_strict_csp(app: Any) -> None:
    c = client(app)
    page = c.get("/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
    r = c.post("/login", data={"username": "viewer", "password": PASSWORDS["viewer"],
                               "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    cookie = r.headers["set-cookie"]
    assert "banscan_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie.replace(
        "SameSite=Strict", "SameSite=strict")
    assert "Secure" not in cookie  # plain HTTP on loopback; over TLS the cookie is Secure
    assert c.get("/").status_code == 200


def test_login_over_tls_marks_the_cookie_secure(app: Any) -> None:
    from fastapi.testclient import TestClient

    c = TestClient(app, base_url="https://127.0.0.1")
    page = c.get("/login")
    r = c.post("/login", data={"username": "viewer", "password": PASSWORDS["viewer"],
                               "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert "Secure" in r.headers["set-cookie"]


def test_wrong_password_unknown_user_and_missing_csrf_are_refused(app: Any) -> None:
    c = client(app)
    token = csrf_of(c.get("/login").text)
    assert c.post("/login", data={"username": "viewer", "password": "nope", "csrf_token": token}).status_code == 401
    token = csrf_of(c.get("/login").text)
    assert c.post("/login", data={"username": "ghost", "password": "nope", "csrf_token": token}).status_code == 401
    assert c.post("/login", data={"username": "viewer", "password": PASSWORDS["viewer"]}).status_code == 403
    assert client(app).get("/", follow_redirects=False).status_code == 303


def _ids(app: Any) -> list[str]:
    return [f["id"] for f in app.state.service.store.findings()]


def test_viewer_sees_no_decision_controls_and_its_post_is_refused(app: Any) -> None:
    c = login(app, "viewer")
    page = c.get("/findings")
    assert page.status_code == 200
    assert 'name="ids"' not in page.text and 'action="/findings/decide"' in page.text  # the form, not its controls
    assert "Apply" not in page.text
    key = _ids(app)[0]
    r = c.post("/findings/decide", data={"csrf_token": csrf_of(page.text), "ids": key, "action": "waive",
                                         "reason": "test", "expires": "2099-01-01"})
    assert r.status_code == 403
    assert app.state.service.store.finding(key)["status"] == "open"


def test_decider_waives_through_the_store_and_the_audit_log(app: Any) -> None:
    from banscan.serve import audit

    c = login(app, "decider")
    page = c.get("/findings")
    key = _ids(app)[0]
    assert f'value="{key}"' in page.text
    # without the CSRF token: refused, nothing changes
    r = c.post("/findings/decide", data={"ids": key, "action": "waive", "reason": "r", "expires": "2099-01-01"})
    assert r.status_code == 403
    assert app.state.service.store.finding(key)["status"] == "open"
    r = c.post("/findings/decide", data={"csrf_token": csrf_of(page.text), "ids": key, "action": "waive",
                                         "reason": "replacement ordered", "expires": "2099-01-01",
                                         "back": "/findings?status=all"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/findings?status=all")
    row = app.state.service.store.finding(key)
    assert row["status"] == "waived" and row["reason"] == "replacement ordered" and row["approver"] == "decider"
    trail = audit.entries(app.state.service.store.engine, target=key)
    assert trail[-1]["actor"] == "web:decider" and trail[-1]["reason"] == "replacement ordered"
    detail = c.get(f"/findings/{key}").text
    assert "replacement ordered" in detail and "web:decider" in detail


def test_assign_owner_needs_an_owner_and_plans_the_finding(app: Any) -> None:
    c = login(app, "decider")
    token = csrf_of(c.get("/findings").text)
    key = _ids(app)[0]
    assert c.post("/findings/decide", data={"csrf_token": token, "ids": key, "action": "assign"}).status_code == 400
    r = c.post("/findings/decide", data={"csrf_token": token, "ids": key, "action": "assign", "owner": "it-team",
                                         "due": "2027-01-31"}, follow_redirects=False)
    assert r.status_code == 303
    row = app.state.service.store.finding(key)
    assert (row["status"], row["owner"], row["due"]) == ("planned", "it-team", "2027-01-31")


def test_open_redirect_is_not_followed(app: Any) -> None:
    c = login(app, "decider")
    token = csrf_of(c.get("/findings").text)
    key = _ids(app)[0]
    r = c.post("/findings/decide", data={"csrf_token": token, "ids": key, "action": "assign", "owner": "x",
                                         "due": "2027-01-31", "back": "//evil.example/"}, follow_redirects=False)
    assert r.headers["location"].startswith("/findings?")


def test_hostile_inventory_strings_are_escaped_everywhere(app: Any) -> None:
    c = login(app, "viewer")
    store = app.state.service.store
    hostile = [f for f in store.findings() if f["asset"] == HOSTILE]
    assert hostile, "the seeded hostile asset has a finding"
    for path in ("/", "/findings", f"/findings/{hostile[0]['id']}"):
        html = c.get(path).text
        assert HOSTILE not in html, path
    assert "&lt;img src=x onerror=alert(1)&gt;" in c.get("/findings").text


def test_findings_filter_sort_pages_and_csv(app: Any) -> None:
    c = login(app, "viewer")
    all_rows = c.get("/findings").text
    per_asset = c.get("/findings", params={"asset": "WS-0042"}).text.count('class="fid"')
    assert per_asset >= 1
    assert all_rows.count('class="fid"') == 3 * per_asset  # three workstations run Kaspersky, Firefox is clean
    assert "WS-0043" not in all_rows
    assert c.get("/findings", params={"family": "huawei"}).text.count('class="fid"') == 0
    assert "No finding matches" in c.get("/findings", params={"q": "firefox"}).text
    csv_text = c.get("/findings.csv", params={"asset": "WS-0044"}).text
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("id,status,asset") and len(lines) == 1 + per_asset
    assert all(",WS-0044," in line for line in lines[1:])
    hostile_csv = c.get("/findings.csv", params={"q": "onerror"}).text.strip().splitlines()
    assert len(hostile_csv) == 1 + per_asset


def test_finding_page_shows_the_explain_chain(app: Any) -> None:
    c = login(app, "viewer")
    key = next(f["id"] for f in app.state.service.store.findings() if f["asset"] == "WS-0042")
    html = c.get(f"/findings/{key}").text
    assert "Kaspersky Endpoint Security for Windows" in html  # observed value
    assert "sccm-installed-software.csv" in html  # where it was seen
    for heading in ("What was seen", "Signature", "Entity and family", "Restriction", "Requirement and deadline"):
        assert heading in html
    assert c.get("/findings/no-such-finding").status_code == 404


def test_overview_counts_open_findings_by_requirement(app: Any) -> None:
    c = login(app, "viewer")
    html = c.get("/").text
    assert f"{len(app.state.service.store.findings())} open finding(s) across 4 asset(s)" in html
    assert "<svg" in html and "<polyline" in html


def test_logout_needs_csrf_and_ends_the_session(app: Any) -> None:
    c = login(app, "viewer")
    page = c.get("/")
    assert c.post("/logout").status_code == 403
    r = c.post("/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/", follow_redirects=False).status_code == 303


def test_proof_shows_coverage_signs_and_verifies(app: Any, tmp_path, monkeypatch) -> None:
    from banscan.attest import keygen

    priv, _pub, _kid = keygen(tmp_path / "key")
    monkeypatch.setenv("BANSCAN_ATTEST_KEY", str(priv))
    viewer = login(app, "viewer")
    vpage = viewer.get("/proof", params={"profile": "us-federal-agency"})
    assert "Coverage and gaps for us-federal-agency" in vpage.text and "Sign and download" not in vpage.text
    assert viewer.post("/proof/attest", data={"csrf_token": csrf_of(vpage.text), "profile": "us-federal-agency",
                                              "include_open": "yes"}).status_code == 403
    c = login(app, "decider")
    page = c.get("/proof", params={"profile": "us-federal-agency"})
    token = csrf_of(page.text)
    refused = c.post("/proof/attest", data={"csrf_token": token, "profile": "us-federal-agency"})
    assert refused.status_code == 409 and "are open" in refused.text  # a clean claim while findings are open
    signed = c.post("/proof/attest", data={"csrf_token": token, "profile": "us-federal-agency", "include_open": "yes"})
    assert signed.status_code == 200 and signed.headers["content-type"].startswith("application/json")
    ok = c.post("/proof/verify", data={"csrf_token": token}, files={"statement": ("a.json", signed.content)})
    assert ok.status_code == 200 and "VALID: the signature" in ok.text and "matches the trusted key" in ok.text
    tampered = signed.content.replace(b'"clean":false', b'"clean":true')
    assert tampered != signed.content
    bad = c.post("/proof/verify", data={"csrf_token": token}, files={"statement": ("a.json", tampered)})
    assert "NOT VALID" in bad.text
    assert c.post("/proof/verify", files={"statement": ("a.json", signed.content)}).status_code == 403


def test_asset_page_shows_evidence_findings_and_history(app: Any) -> None:
    c = login(app, "viewer")
    html = c.get("/assets/WS-0042").text
    assert "Kaspersky Endpoint Security" in html and "Scan #1" in html and "sccm-installed-software.csv" in html
    assert "opened" in html
    hostile = c.get("/assets/" + HOSTILE.replace(" ", "%20")).text
    assert HOSTILE not in hostile and "&lt;img src=x onerror=alert(1)&gt;" in hostile
    assert c.get("/assets/no-such-asset").status_code == 404


def test_law_page_searches_and_draws_a_family_timeline(app: Any) -> None:
    c = login(app, "viewer")
    html = c.get("/law", params={"family": "kaspersky", "profile": "us-federal-agency"}).text
    assert "<rect" in html and "us-far-52-204-23" in html
    found = c.get("/law", params={"q": "52.204-23"}).text
    assert "us-far-52-204-23" in found and "uk-parliament-tiktok-2023" not in found


def test_admin_page_is_for_admins_only(app: Any) -> None:
    assert login(app, "decider").get("/admin").status_code == 403
    html = login(app, "admin").get("/admin").text
    assert "decider" in html and "viewer" in html and "Enroll secret" in html
    assert "Admin</a>" not in login(app, "viewer").get("/").text

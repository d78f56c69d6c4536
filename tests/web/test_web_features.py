"""The dashboard's role dependency on every route, what changed since the last visit, asset groups,
administration (users, tokens, enroll secrets), registry-update preview, accept-gaps on /proof,
single sign-on through a trusted proxy and the user's time zone: HTTP tests against the seeded estate."""

from __future__ import annotations

from typing import Any

import pytest
from webkit import PASSWORDS, csrf_of, make_app

pytest.importorskip("fastapi")
pytest.importorskip("argon2")


@pytest.fixture
def app(tmp_path) -> Any:
    return make_app(f"sqlite:///{tmp_path / 'web.db'}")


def client(app: Any, base: str = "http://127.0.0.1") -> Any:
    from fastapi.testclient import TestClient

    return TestClient(app, base_url=base)


def login(app: Any, role: str) -> Any:
    c = client(app)
    page = c.get("/login")
    r = c.post("/login", data={"username": role, "password": PASSWORDS[role], "csrf_token": csrf_of(page.text)},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    return c


def _web_routes(app: Any) -> list[tuple[str, str]]:
    from banscan.web import admin, pages

    out = []
    for r in [*pages.router.routes, *admin.router.routes]:
        for m in sorted(getattr(r, "methods", ()) or ()):
            if m in ("GET", "POST") and r.path != "/login":
                out.append((m, r.path.replace("{ident}", "x").replace("{name:path}", "WS-0042")))
    return out


def test_every_dashboard_route_needs_a_session_and_every_form_its_csrf_token(app: Any) -> None:
    routes = _web_routes(app)
    assert ("POST", "/findings/decide") in routes and ("GET", "/admin") in routes
    anon = client(app)
    for method, path in routes:
        r = anon.request(method, path, follow_redirects=False)
        if method == "GET":
            assert r.status_code == 303 and r.headers["location"] == "/login", path
        else:
            assert r.status_code == 403, path
    admin = login(app, "admin")
    for method, path in routes:
        if method == "POST":  # a logged-in admin without the token: refused before anything happens
            r = admin.post(path, data={"ids": "x"}, follow_redirects=False)
            assert r.status_code == 403 and "CSRF" in r.text, path


def test_proof_shows_the_statements_own_gaps_and_signs_with_them_only_when_accepted(app: Any, tmp_path,
                                                                                     monkeypatch) -> None:
    import datetime as dt
    import json

    from banscan.attest import keygen

    priv, _pub, _kid = keygen(tmp_path / "key")
    monkeypatch.setenv("BANSCAN_ATTEST_KEY", str(priv))
    later = (app.state.service.today() + dt.timedelta(days=400)).isoformat()  # the inventory is then stale
    c = login(app, "decider")
    page = c.get("/proof", params={"profile": "us-federal-agency", "as_of": later})
    assert "Gaps (4)" in page.text and "older than" in page.text and 'name="accept_gaps"' in page.text
    form = {"csrf_token": csrf_of(page.text), "profile": "us-federal-agency", "as_of": later, "include_open": "yes"}
    refused = c.post("/proof/attest", data=form)
    assert refused.status_code == 409 and "cannot attest absence: 4 asset(s)" in refused.text
    signed = c.post("/proof/attest", data={**form, "accept_gaps": "yes"})
    assert signed.status_code == 200
    st = json.loads(signed.content)
    statement = st.get("statement", st)
    assert len(statement["coverage"]["gaps"]) == 4 and statement["coverage"]["gaps_accepted"] is True
    today = c.get("/proof", params={"profile": "us-federal-agency"}).text
    assert "No gap" in today and 'name="accept_gaps" value="yes" disabled' in today


def _token(page_text: str) -> str:
    import re

    m = re.search(r'<code class="secret">([^<]+)</code>', page_text)
    assert m, "no secret shown"
    return m.group(1)


def test_admin_manages_users_roles_and_disabling_audited(app: Any) -> None:
    from banscan.serve import audit

    engine = app.state.service.store.engine
    a = login(app, "admin")
    token = csrf_of(a.get("/admin").text)
    r = a.post("/admin/users", data={"csrf_token": token, "name": "auditor", "role": "viewer",
                                     "password": "auditor-password-1"}, follow_redirects=False)
    assert r.status_code == 303
    c = client(app)
    assert c.post("/login", data={"username": "auditor", "password": "auditor-password-1",
                                  "csrf_token": csrf_of(c.get("/login").text)}, follow_redirects=False).status_code == 303
    assert c.get("/findings").status_code == 200 and 'name="ids"' not in c.get("/findings").text
    assert a.post("/admin/users/role", data={"csrf_token": token, "name": "auditor", "role": "decider"},
                  follow_redirects=False).status_code == 303
    # a role change ends the user's sessions
    assert c.get("/", follow_redirects=False).status_code == 303
    assert a.post("/admin/users/disabled", data={"csrf_token": token, "name": "auditor", "disabled": "yes"},
                  follow_redirects=False).status_code == 303
    c2 = client(app)
    assert c2.post("/login", data={"username": "auditor", "password": "auditor-password-1",
                                   "csrf_token": csrf_of(c2.get("/login").text)}).status_code == 401
    assert "DISABLED" in a.get("/admin").text
    # an admin cannot lock itself out
    assert a.post("/admin/users/disabled", data={"csrf_token": token, "name": "admin", "disabled": "yes"}
                  ).status_code == 400
    assert a.post("/admin/users", data={"csrf_token": token, "name": "x y", "role": "viewer",
                                        "password": "long-enough-1"}).status_code == 400
    actions = [(e["action"], e["actor"]) for e in audit.entries(engine, target="user:auditor")]
    assert actions == [("user-added", "web:admin"), ("user-role-changed", "web:admin"),
                       ("user-disabled", "web:admin")]


def test_admin_creates_a_token_shown_once_and_revokes_it(app: Any) -> None:
    a = login(app, "admin")
    token = csrf_of(a.get("/admin").text)
    page = a.post("/admin/tokens", data={"csrf_token": token, "name": "pipeline", "scopes": ["read", "ingest"]})
    assert page.status_code == 200 and "shown this once" in page.text
    secret = _token(page.text)
    assert secret not in a.get("/admin").text  # never again
    api = client(app)
    auth = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/v1/findings", headers=auth).status_code == 200
    tid = secret.split("_")[1]
    assert a.post("/admin/tokens/revoke", data={"csrf_token": token, "id": tid},
                  follow_redirects=False).status_code == 303
    assert "REVOKED" in a.get("/admin").text
    from banscan.serve.tokens import TokenVerifier

    assert TokenVerifier(app.state.service.store.engine).verify(secret) is None  # the API's check, uncached
    assert a.post("/admin/tokens", data={"csrf_token": token, "name": "none"}).status_code == 400


def test_enroll_secret_rotation_replaces_the_configured_one(app: Any) -> None:
    app.state.service.config.enroll_secret = "configured-enroll-secret"
    api = client(app)

    def enroll(secret: str) -> Any:
        return api.post("/api/osquery/enroll", json={"enroll_secret": secret, "host_identifier": "node-1"}).json()

    assert "node_key" in enroll("configured-enroll-secret")
    a = login(app, "admin")
    page = a.post("/admin/enroll-secret", data={"csrf_token": csrf_of(a.get("/admin").text)})
    fresh = _token(page.text)
    assert enroll("configured-enroll-secret").get("node_invalid") is True
    assert "node_key" in enroll(fresh)
    html = a.get("/admin").text
    assert fresh not in html and "node-1" in html and "rotated" in html


def test_only_admins_administer(app: Any) -> None:
    for role in ("viewer", "decider"):
        c = login(app, role)
        assert c.get("/admin").status_code == 403
        token = csrf_of(c.get("/").text)
        for path, data in (("/admin/users", {"name": "evil", "role": "admin", "password": "evil-password"}),
                           ("/admin/users/role", {"name": role, "role": "admin"}),
                           ("/admin/tokens", {"name": "t", "scopes": "admin"}),
                           ("/admin/enroll-secret", {}),
                           ("/admin/groups", {"name": "g", "patterns": "*"})):
            assert c.post(path, data={"csrf_token": token, **data}).status_code == 403, (role, path)
    from banscan.web.accounts import list_users

    assert {u["name"]: u["role"] for u in list_users(app.state.service.store.engine)} == {
        "admin": "admin", "decider": "decider", "viewer": "viewer"}

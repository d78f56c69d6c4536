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
    from banscan.web import pages

    out = []
    for r in pages.router.routes:
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

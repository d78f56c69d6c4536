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
    lower = a.post("/admin/users/role", data={"csrf_token": token, "name": "admin", "role": "viewer"})
    assert lower.status_code == 400 and "you cannot lower your own role" in lower.text
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
    no_scope = a.post("/admin/tokens", data={"csrf_token": token, "name": "none"})
    assert no_scope.status_code == 400 and "scopes: choose at least one" in no_scope.text
    unknown = a.post("/admin/tokens/revoke", data={"csrf_token": token, "id": "nosuch"})
    assert unknown.status_code == 404 and "no active token" in unknown.text


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


# --------------------------------------------------------------------------- single sign-on


def _sso_app(tmp_path: Any, proxies: list[str]) -> Any:
    app = make_app(f"sqlite:///{tmp_path / 'sso.db'}")
    app.state.service.config.sso_header = "X-Remote-User"
    app.state.service.config.trusted_proxies = proxies
    return app


def test_sso_header_is_believed_only_from_a_trusted_proxy(tmp_path) -> None:
    from fastapi.testclient import TestClient

    from banscan.serve import audit
    from banscan.web.accounts import list_users

    app = _sso_app(tmp_path, ["10.0.0.5/32"])
    proxy = TestClient(app, base_url="http://127.0.0.1", client=("10.0.0.5", 40000))
    other = TestClient(app, base_url="http://127.0.0.1", client=("10.0.0.6", 40000))
    # from any other address the header is ignored: no session, to the login page
    for c in (other, client(app)):
        r = c.get("/findings", headers={"X-Remote-User": "admin"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"
    assert other.post("/findings/decide", headers={"X-Remote-User": "decider"}, data={"ids": "x"}).status_code == 403
    # from the proxy: an existing user with its role
    page = proxy.get("/findings", headers={"X-Remote-User": "decider"})
    assert page.status_code == 200 and "decider (decider)" in page.text and 'name="ids"' in page.text
    key = app.state.service.store.findings()[0]["id"]
    r = proxy.post("/findings/decide", headers={"X-Remote-User": "decider"}, follow_redirects=False,
                   data={"csrf_token": csrf_of(page.text), "ids": key, "action": "assign", "owner": "it",
                         "due": "2027-01-31"})
    assert r.status_code == 303 and app.state.service.store.finding(key)["owner"] == "it"
    # the CSRF token of one user is not another's
    assert proxy.post("/findings/decide", headers={"X-Remote-User": "viewer"},
                      data={"csrf_token": csrf_of(page.text), "ids": key, "action": "assign",
                            "owner": "x", "due": "2027-01-31"}).status_code == 403
    # an unknown user is created as a viewer (audited) and can read, not decide
    page = proxy.get("/findings", headers={"X-Remote-User": "new.person@example.org"})
    assert page.status_code == 200 and 'name="ids"' not in page.text
    assert {u["name"]: u["role"] for u in list_users(app.state.service.store.engine)}["new.person@example.org"] == "viewer"
    assert audit.entries(app.state.service.store.engine, target="user:new.person@example.org")[0]["actor"] == "sso"
    # hostile or empty names are refused, not created
    for bad in ("", "a b", "x" * 300):
        r = proxy.get("/", headers={"X-Remote-User": bad}, follow_redirects=False)
        assert r.status_code == 303


def test_sso_off_without_configuration(tmp_path) -> None:
    from fastapi.testclient import TestClient

    app = make_app(f"sqlite:///{tmp_path / 'plain.db'}")
    c = TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 40000))
    r = c.get("/", headers={"X-Remote-User": "admin"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_serve_cli_checks_the_sso_options(tmp_path) -> None:
    import os
    import subprocess
    import sys

    db = f"sqlite:///{tmp_path / 'x.db'}"
    for args, msg in ((["--sso-header", "X-Remote-User"], "go together"),
                      (["--sso-header", "X-Remote-User", "--trusted-proxy", "not-an-ip"], "not an IP address"),
                      (["--sso-header", "X Bad", "--trusted-proxy", "127.0.0.1/32"], "not an HTTP header name")):
        r = subprocess.run([sys.executable, "-m", "banscan", "serve", "--db", db, "--port", "0", *args],
                           capture_output=True, text=True, timeout=120, env=os.environ)
        assert r.returncode == 2, (args, r.stderr)
        assert msg in r.stderr and "Traceback" not in r.stderr


# --------------------------------------------------------------------------- what changed since the last visit


def test_overview_shows_what_changed_since_the_last_visit(app: Any) -> None:
    import datetime as dt
    import time

    from sqlalchemy import update
    from webkit import INVENTORY

    from banscan.serve import audit
    from banscan.store import db
    from banscan.store.web_tables import web_users

    svc = app.state.service
    store, engine = svc.store, svc.store.engine
    opened = sum(1 for e in store.events() if e["event"] == "opened")
    c = login(app, "viewer")
    first = c.get("/").text.replace("\n", "")
    assert "your first visit" in first and f"<strong>{opened}</strong> finding(s) opened" in first
    # the viewer's previous visit ended now; then a decider plans a finding and WS-0044 is cleaned up
    mark = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    db.write(engine, lambda conn: conn.execute(update(web_users).where(web_users.c.name == "viewer")
                                               .values(visit_since=mark)))
    time.sleep(1.1)  # times have one-second resolution
    key = store.findings(asset="WS-0042")[0]["id"]
    audit.decide(svc.store_as("web:decider"), key, "planned", actor="web:decider", owner="it-team",
                 due=dt.date(2027, 1, 31))
    cleaned = INVENTORY.replace(b'"WS-0044","Kaspersky Endpoint Security for Windows","AO Kaspersky Lab"',
                                b'"WS-0044","Notepad++ (64-bit x64)","Notepad++ Team"')
    assert cleaned != INVENTORY
    svc.store_as("seed").record(svc.scan_bytes(cleaned, "sccm-installed-software.csv", None, None), svc.registry)
    resolved = sum(1 for f in store.findings(asset="WS-0044", all=True) if f["status"] == "resolved")
    assert resolved >= 1
    html = c.get("/").text.replace("\n", "")
    assert "since your last visit" in html
    assert "<strong>0</strong> finding(s) opened" in html and f"<strong>{resolved}</strong> resolved" in html
    assert "<strong>1</strong> decision(s)" in html and "owner - → it-team" in html
    assert "<strong>0</strong> registry update(s)" in html


# --------------------------------------------------------------------------- asset groups


def test_asset_groups_filter_and_bulk_decide(app: Any) -> None:
    from webkit import HOSTILE

    from banscan.serve import audit

    store = app.state.service.store
    a = login(app, "admin")
    token = csrf_of(a.get("/admin").text)
    assert a.post("/admin/groups", data={"csrf_token": token, "name": "branch-ws", "patterns": "ws-004[24]\n",
                                         "members": ""}, follow_redirects=False).status_code == 303
    assert a.post("/admin/groups", data={"csrf_token": token, "name": "odd", "patterns": "",
                                         "members": HOSTILE}, follow_redirects=False).status_code == 303
    assert a.post("/admin/groups", data={"csrf_token": token, "name": "empty"}).status_code == 400
    assert a.post("/admin/groups/delete", data={"csrf_token": token, "name": "nosuch"}).status_code == 404
    admin_html = a.get("/admin").text
    assert HOSTILE not in admin_html and "&lt;img src=x onerror=alert(1)&gt;" in admin_html
    v = login(app, "viewer")
    in_group = [f for f in store.findings() if f["asset"] in ("WS-0042", "WS-0044")]
    page = v.get("/findings", params={"group": "branch-ws"}).text
    assert page.count('class="fid"') == len(in_group) and HOSTILE.replace("<", "&lt;")[:8] not in page
    assert "<td>branch-ws</td>" in page
    assert v.get("/findings", params={"group": "odd"}).text.count('class="fid"') == len(
        [f for f in store.findings() if f["asset"] == HOSTILE])
    csv_lines = v.get("/findings.csv", params={"group": "branch-ws"}).text.strip().splitlines()
    assert csv_lines[0].endswith(",groups") and len(csv_lines) == 1 + len(in_group)
    assert all(line.endswith(",branch-ws") for line in csv_lines[1:])
    # a viewer may not decide, even for a whole filter
    assert v.post("/findings/decide", data={"csrf_token": csrf_of(page), "scope": "filter", "action": "waive",
                                            "reason": "r", "expires": "2099-01-01",
                                            "back": "/findings?group=branch-ws"}).status_code == 403
    d = login(app, "decider")
    dpage = d.get("/findings", params={"group": "branch-ws"}).text
    assert 'value="filter"' in dpage
    r = d.post("/findings/decide", data={"csrf_token": csrf_of(dpage), "scope": "filter", "action": "waive",
                                         "reason": "branch closes in March", "expires": "2027-03-31",
                                         "back": "/findings?group=branch-ws"}, follow_redirects=False)
    assert r.status_code == 303 and f"waive: {len(in_group)} finding(s)" in __import__("urllib.parse").parse.unquote_plus(
        r.headers["location"])
    after = {f["id"]: f["status"] for f in store.findings(all=True)}
    assert all(after[f["id"]] == "waived" for f in in_group)
    assert all(s == "open" for k, s in after.items() if k not in {f["id"] for f in in_group})
    assert audit.entries(store.engine, target="group:branch-ws")[0]["actor"] == "web:admin"


# --------------------------------------------------------------------------- registry update preview


def _bundle(tmp_path: Any) -> tuple[Any, str]:
    import datetime as dt
    import hashlib
    import shutil

    import yaml

    from banscan.registry.loader import DATA_DIR
    from banscan.store.bundle import build_bundle

    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    reg = yaml.safe_load((data / "registry.yaml").read_text())
    reg["version"] = "2099.01.01"
    (data / "registry.yaml").write_text(yaml.safe_dump(reg))
    r = yaml.safe_load((data / "restrictions" / "us-dhs-bod-17-01.yaml").read_text())
    r.update(id="us-test-extra-kaspersky-rule", title="Test: an extra Kaspersky removal rule",
             adopted=dt.date(2020, 1, 1), effective=None, superseded_by=None, ends=None)
    r = {k: v for k, v in r.items() if v is not None}
    (data / "restrictions" / "us-test-extra-kaspersky-rule.yaml").write_text(yaml.safe_dump(r, sort_keys=False))
    bundle = tmp_path / "registry.tar.gz"
    build_bundle(data, bundle, None)
    return bundle, hashlib.sha256(bundle.read_bytes()).hexdigest()


def test_law_previews_a_registry_update_and_an_admin_applies_it(app: Any, tmp_path) -> None:
    from banscan.serve import audit

    svc = app.state.service
    bundle, digest = _bundle(tmp_path)
    before_version = svc.registry.version
    before = {f["id"] for f in svc.store.findings(all=True)}
    d = login(app, "decider")
    assert "What a registry update would change" not in d.get("/law").text
    dtoken = csrf_of(d.get("/law").text)
    assert d.post("/law/preview", data={"csrf_token": dtoken},
                  files={"bundle": ("registry.tar.gz", bundle.read_bytes())}).status_code == 403
    a = login(app, "admin")
    law = a.get("/law").text
    assert "What a registry update would change" in law
    token = csrf_of(law)
    wrong = a.post("/law/preview", data={"csrf_token": token, "sha256": "0" * 64},
                   files={"bundle": ("registry.tar.gz", bundle.read_bytes())})
    assert wrong.status_code == 400 and "Refused" in wrong.text
    page = a.post("/law/preview", data={"csrf_token": token, "sha256": digest},
                  files={"bundle": ("registry.tar.gz", bundle.read_bytes())})
    assert page.status_code == 200, page.text
    html = page.text
    assert "Dry run: registry 2099.01.01 (not installed)" in html
    assert "+ finding gained" in html and "us-test-extra-kaspersky-rule" in html and "WS-0042" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html
    # nothing installed or recorded by the preview
    assert svc.registry.version == before_version and {f["id"] for f in svc.store.findings(all=True)} == before
    assert not audit.entries(svc.store.engine, action="registry-update")
    # the same preview from a path on the server
    by_path = a.post("/law/preview", data={"csrf_token": token, "path": str(bundle)})
    assert "Dry run: registry 2099.01.01" in by_path.text
    assert a.post("/law/apply", data={"csrf_token": token, "bundle_sha256": "f" * 64}).status_code == 404
    assert d.post("/law/apply", data={"csrf_token": dtoken, "bundle_sha256": digest}).status_code == 403
    applied = a.post("/law/apply", data={"csrf_token": token, "bundle_sha256": digest})
    assert applied.status_code == 200 and "Applied: registry 2099.01.01" in applied.text
    assert svc.registry.version == "2099.01.01"
    assert any(f["restriction"] == "us-test-extra-kaspersky-rule" for f in svc.store.findings())
    entry = audit.entries(svc.store.engine, action="registry-update")
    assert len(entry) == 1 and entry[0]["actor"] == "web:admin" and entry[0]["new"]["version"] == "2099.01.01"
    assert "<strong>1</strong> registry update(s)" in a.get("/").text.replace("\n", "")


# --------------------------------------------------------------------------- time zones


def test_times_in_the_users_zone_dates_as_the_law_gives_them(app: Any) -> None:
    import re

    a = login(app, "admin")
    utc = a.get("/admin").text
    stamp = re.search(r'<time datetime="([0-9T:-]+Z)" title="[^"]+">([^<]+)</time>', utc)
    assert stamp and stamp.group(2).endswith(" UTC")
    a.cookies.set("banscan_tz", "Asia/Tokyo")
    tokyo = a.get("/admin").text
    assert f'<time datetime="{stamp.group(1)}"' in tokyo and " JST</time>" in tokyo
    a.cookies.set("banscan_tz", "Not/AZone<script>")
    assert " UTC</time>" in a.get("/admin").text
    # the account's own setting wins over the browser's
    page = a.get("/account")
    assert a.post("/account/time-zone", data={"csrf_token": csrf_of(page.text), "time_zone": "America/New_York"},
                  follow_redirects=False).status_code == 303
    a.cookies.set("banscan_tz", "Asia/Tokyo")
    ny = a.get("/admin").text
    assert re.search(r" E[SD]T</time>", ny) and " JST</time>" not in ny
    assert a.post("/account/time-zone", data={"csrf_token": csrf_of(page.text), "time_zone": "Mars/Olympus"}
                  ).status_code == 400
    assert a.post("/account/time-zone", data={"time_zone": "UTC"}).status_code == 403  # no CSRF token
    # a deadline (a date the law gives) is not converted
    key = next(f for f in app.state.service.store.findings() if f["deadline"])
    finding = a.get(f"/findings/{key['id']}").text
    assert key["deadline"] in finding

"""The dashboard in Debian's Chromium (Playwright) against a live server on loopback with a seeded
estate: log in, filter findings, waive one with a reason and see it in the audit trail, open the
explain chain, produce and verify an attestation; hostile inventory strings render as text."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from webkit import HOSTILE, PASSWORDS, make_app

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    import uvicorn

    from banscan.attest import keygen

    priv, _pub, _kid = keygen(tmp_path / "key")
    monkeypatch.setenv("BANSCAN_ATTEST_KEY", str(priv))
    app = make_app(f"sqlite:///{tmp_path / 'web.db'}")
    port = _port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    end = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > end or not t.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        t.join(30)


@pytest.fixture
def page(server: str) -> Iterator[Any]:
    pw = pytest.importorskip("playwright.sync_api")
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ctx = browser.new_context(base_url=server, accept_downloads=True)
            pg = ctx.new_page()
            pg.set_default_timeout(30_000)
            pg.dialogs = []  # type: ignore[attr-defined]
            pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
            yield pg
        finally:
            browser.close()


def _login(page: Any, role: str) -> None:
    page.goto("/login")
    page.fill("#username", role)
    page.fill("#password", PASSWORDS[role])
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_decider_filters_waives_explains_and_attests(page: Any, tmp_path: Path) -> None:
    _login(page, "decider")
    assert page.locator("h1").first.inner_text().startswith("Overview")
    assert page.locator("svg.chart polyline").count() == 1

    # the hostile asset name is text, never markup; no script ran
    page.goto("/findings")
    assert page.get_by_text(HOSTILE, exact=True).count() >= 1
    assert page.locator("img[src=x]").count() == 0
    assert page.dialogs == []

    # filter
    page.fill("input[name=asset]", "WS-0042")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**asset=WS-0042**")
    rows = page.locator("table.findings tbody tr")
    assert rows.count() >= 1 and all("WS-0042" in rows.nth(i).inner_text() for i in range(rows.count()))

    # waive the first one with a reason
    first = page.locator("a.fid").first.get_attribute("href")
    page.locator("input[name=ids]").first.check()
    page.check("input[name=action][value=waive]")
    page.fill("#bulk input[name=expires]", "2099-12-31")
    page.fill("#bulk input[name=reason]", "isolated lab machine, replacement ordered")
    page.click("#bulk button[type=submit]")
    page.wait_for_url("**done=**")
    assert "waive: 1 finding(s)" in page.locator("[role=status]").inner_text()

    # the explain chain and the audit trail
    page.goto(first)
    body = page.locator("main").inner_text()
    for heading in ("What was seen", "Signature", "Entity and family", "Restriction", "Requirement and deadline"):
        assert heading in body
    assert "Kaspersky Endpoint Security for Windows" in body
    trail = page.locator("table.trail").inner_text()
    assert "isolated lab machine, replacement ordered" in trail and "web:decider" in trail

    # produce and verify an attestation
    page.goto("/proof?profile=us-federal-agency")
    assert "Coverage and gaps for us-federal-agency" in page.locator("main").inner_text()
    page.check("input[name=include_open]")
    with page.expect_download() as dl:
        page.click("form[action='/proof/attest'] button[type=submit]")
    path = tmp_path / "statement.json"
    dl.value.save_as(path)
    page.set_input_files("input[name=statement]", str(path))
    page.click("form[action='/proof/verify'] button[type=submit]")
    assert page.locator("[role=status]").inner_text() == "VALID"
    assert "matches the trusted key" in page.locator("pre.verification").inner_text()
    assert page.dialogs == []


def test_viewer_has_no_decision_controls(page: Any) -> None:
    _login(page, "viewer")
    page.goto("/findings")
    assert page.locator("input[name=ids]").count() == 0
    assert page.locator("text=Apply").count() == 0
    page.goto("/proof")
    assert page.locator("text=Sign and download").count() == 0


def test_admin_in_the_browsers_time_zone_by_keyboard(server: str) -> None:
    """The browser's zone reaches the server (app.js under the strict CSP) and times are shown in it;
    the skip link comes first in the tab order; an admin creates a token, shown once."""
    pw = pytest.importorskip("playwright.sync_api")
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ctx = browser.new_context(base_url=server, timezone_id="Asia/Tokyo")
            pg = ctx.new_page()
            pg.set_default_timeout(30_000)
            console: list[str] = []
            pg.on("console", lambda m: console.append(m.text))
            _login(pg, "admin")
            pg.keyboard.press("Tab")
            assert pg.evaluate("document.activeElement.className") == "skip"
            pg.goto("/admin")
            assert "JST" in pg.locator("section[aria-labelledby=us] table").inner_text()
            pg.fill("form[action='/admin/tokens'] input[name=name]", "pipeline")
            pg.check("form[action='/admin/tokens'] input[value=ingest]")
            pg.locator("form[action='/admin/tokens'] button[type=submit]").focus()
            pg.keyboard.press("Enter")
            pg.wait_for_selector("code.secret")
            assert pg.locator("code.secret").inner_text().startswith("bsn_")
            assert not [m for m in console if "Content Security Policy" in m]
        finally:
            browser.close()

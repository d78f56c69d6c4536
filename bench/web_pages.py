"""Render time of every dashboard page over a large estate (issue 14: under 1 s each).

Seeds a fresh store (SQLite, and PostgreSQL when a URL is given) with one SCCM software inventory
of N assets (default 5,000), two in three of them running a Kaspersky product (about 10,000
findings under the profile's restrictions), plus a few waivers, then times each page's GET through
the ASGI app (Starlette's TestClient, logged in as an admin): the median and p95 of --repeat runs,
both the round trip through the test client and the time spent inside the application (from the
request entering the ASGI app to the last byte of its response), and the process CPU time.  The
machine is shared: the load average is printed before and after each backend's run.  With
Debian's Chromium present, writes screenshots of the overview and of a finding page to bench/out/
(not committed).

    PYTHONPATH=src python bench/web_pages.py [--assets 5000] [--repeat 9] [--no-screenshots]
        [--pg postgresql://postgres:banscan@127.0.0.1:5432/banscan_test | --no-pg]
        [--keep DIR]   # seed once into DIR and reuse it on later runs (SQLite file, PG schema name)
        [--profile PATH]  # cProfile one page and print the top entries
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

OUT = Path(__file__).resolve().parent / "out"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-password-1"
PROFILE = "us-federal-agency"
DEFAULT_PG = os.environ.get("BANSCAN_TEST_PG_URL", "postgresql://postgres:banscan@127.0.0.1:5432/banscan_test")


def inventory(n: int) -> bytes:
    rows = ['"Netbios_Name0","ARPDisplayName0","Publisher0","ProductVersion0","InstallDate0"']
    for i in range(n):
        host = f"WS-{i:05d}"
        if i % 3 != 2:
            rows.append(f'"{host}","Kaspersky Endpoint Security for Windows","AO Kaspersky Lab","12.3.0.493","20240108"')
        rows.append(f'"{host}","Mozilla Firefox (x64 en-US)","Mozilla","121.0",""')
    return ("\n".join(rows) + "\n").encode()


class Timed:
    """ASGI middleware: the time each request spends inside the application."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def timed_send(msg: Any) -> None:
            await send(msg)
            if msg["type"] == "http.response.body" and not msg.get("more_body"):
                self.last = time.perf_counter() - start

        await self.app(scope, receive, timed_send)

    def __getattr__(self, name: str) -> Any:  # app.state and the like
        return getattr(self.app, name)


def _pg_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


def _pg_admin(base: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as c:
        c.execute(sql)


def _pg_has_schema(base: str, schema: str) -> bool:
    import psycopg

    with psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as c:
        return c.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = 'findings'",
                         (schema,)).fetchone() is not None


def make_app(url: str) -> Any:
    from banscan.serve.app import create_app, default_extensions
    from banscan.serve.service import ServeConfig

    return create_app(ServeConfig(db=url, profiles=[PROFILE], evaluate_at_startup=False, evaluate_every=0),
                      extensions=default_extensions())


def seed(url: str, assets: int) -> None:
    from banscan.serve import audit
    from banscan.store import open_store
    from banscan.web.accounts import add_user

    with open_store(url) as st:
        add_user(st.engine, "bench-admin", "admin", PASSWORD)
    app = make_app(url)
    svc = app.state.service
    t0 = time.perf_counter()
    result = svc.scan_bytes(inventory(assets), "sccm-installed-software.csv", None, None)
    t1 = time.perf_counter()
    svc.store_as("bench").record(result, svc.registry)
    t2 = time.perf_counter()
    rows = svc.store.findings()
    for f in rows[:50]:
        audit.decide(svc.store_as("bench"), f["id"], "waived", actor="bench", reason="bench waiver",
                     approver="bench", expires=dt.date(2099, 1, 1))
    for f in rows[50:80]:
        audit.decide(svc.store_as("bench"), f["id"], "planned", actor="bench", owner="it-team",
                     due=dt.date(2027, 3, 1))
    svc.store.close()
    print(f"  seeded {len(rows)} findings on {assets} assets (scan {t1 - t0:.1f} s, record {t2 - t1:.1f} s)")


def pages_of(svc: Any) -> list[tuple[str, str]]:
    rows = svc.store.findings(all=True)
    one = rows[-1]
    return [("/", "overview"),
            ("/findings", "findings"),
            ("/findings?family=kaspersky&sort=asset&dir=desc&page=40", "findings family, sort asset desc, p40"),
            ("/findings?status=all&sort=requirement&page=150", "findings all, sort requirement, p150"),
            ("/findings?q=ws-0499&sort=due", "findings text search"),
            ("/findings?overdue=30d&owner=it-team&sort=owner&dir=desc", "findings due in 30 d, owner"),
            ("/findings.csv", "findings CSV (all)"),
            (f"/findings/{one['id']}", "finding (explain + audit)"),
            (f"/assets/{one['asset']}", "asset"),
            (f"/law?family=kaspersky&profile={PROFILE}", "law"),
            (f"/proof?profile={PROFILE}", "proof (coverage preview)"),
            (f"/proof?profile={PROFILE}&as_of={svc.today() + dt.timedelta(days=60)}", "proof as of +60 d (every asset a gap)"),
            ("/admin", "admin")]


def login(c: Any) -> None:
    tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
    assert tok
    r = c.post("/login", data={"username": "bench-admin", "password": PASSWORD, "csrf_token": tok.group(1)},
               follow_redirects=False)
    assert r.status_code == 303, r.text


def p95(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(0.95 * len(s) + 0.5) - 1))]


def run(label: str, url: str, repeat: int, profile: str | None) -> dict[str, tuple[float, float, float, float]]:
    from fastapi.testclient import TestClient

    app = make_app(url)
    timed = Timed(app)
    c = TestClient(timed, base_url="http://127.0.0.1")  # type: ignore[arg-type]
    login(c)
    pages = pages_of(app.state.service)
    if profile:
        import cProfile
        import pstats

        import fastapi.routing

        pr = cProfile.Profile()

        async def profiled(func: Any, *args: Any, **kwargs: Any) -> Any:  # the endpoint, in this thread
            pr.enable()
            try:
                return func(*args, **kwargs)
            finally:
                pr.disable()

        c.get(profile)
        fastapi.routing.run_in_threadpool = profiled  # type: ignore[assignment]
        c.get(profile)
        pstats.Stats(pr).sort_stats("cumulative").print_stats(40)
        return {}
    load = os.getloadavg()
    print(f"{label}: load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min, {os.cpu_count()} CPUs)")
    print(f"  {'page':40} {'server med':>10} {'p95':>6} {'round med':>9} {'p95':>6} {'cpu med':>7} {'KiB':>6}"
          "  target < 1 s")
    figures = {}
    for path, name in pages:
        c.get(path)  # warm: templates compiled, connections pooled
        server, rtt, cpu = [], [], []
        size = 0
        for _ in range(repeat):
            s, sc = time.perf_counter(), time.process_time()
            resp = c.get(path)
            rtt.append(time.perf_counter() - s)
            cpu.append(time.process_time() - sc)
            server.append(timed.last)
            size = len(resp.content)
            if resp.status_code != 200:
                print(f"  {name}: HTTP {resp.status_code}", file=sys.stderr)
        fig = (statistics.median(server), p95(server), statistics.median(rtt), p95(rtt))
        figures[name] = fig
        verdict = "met" if fig[3] < 1 else ("median met, p95 not" if fig[2] < 1 else "NOT met")
        print(f"  {name:40} {fig[0]:10.3f} {fig[1]:6.3f} {fig[2]:9.3f} {fig[3]:6.3f} "
              f"{statistics.median(cpu):7.3f} {size / 1024:6.0f}  {verdict}")
    load = os.getloadavg()
    print(f"  load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    app.state.service.store.close()
    return figures


def screenshots(url: str) -> None:
    import socket

    import uvicorn
    from playwright.sync_api import sync_playwright

    app = make_app(url)
    one = app.state.service.store.findings(all=True)[-1]["id"]
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    while not srv.started:
        time.sleep(0.05)
    OUT.mkdir(exist_ok=True)
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            pg = b.new_page(base_url=f"http://127.0.0.1:{port}", viewport={"width": 1280, "height": 900})
            pg.goto("/login")
            pg.fill("#username", "bench-admin")
            pg.fill("#password", PASSWORD)
            pg.click("button[type=submit]")
            pg.wait_for_url("**/")
            pg.screenshot(path=str(OUT / "web-overview.png"), full_page=True)
            pg.goto(f"/findings/{one}")
            pg.screenshot(path=str(OUT / "web-finding.png"), full_page=True)
            pg.set_viewport_size({"width": 390, "height": 844})
            pg.goto("/findings")
            pg.screenshot(path=str(OUT / "web-findings-phone.png"), full_page=False)
            b.close()
    finally:
        srv.should_exit = True
        th.join(30)
    print(f"screenshots: {OUT}/web-overview.png, web-finding.png, web-findings-phone.png")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--assets", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--no-screenshots", action="store_true")
    ap.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL database to seed a schema in")
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--keep", help="seed once into this directory (and a PG schema named after it), reuse later")
    ap.add_argument("--profile", help="cProfile this page path instead of timing")
    a = ap.parse_args()

    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    keep = Path(a.keep) if a.keep else None
    tmp = keep or Path(tempfile.mkdtemp(prefix="banscan-web-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    schema = f"webbench_{re.sub(r'[^a-z0-9]', '_', tmp.name.lower())}_{a.assets}"
    backends: list[tuple[str, str]] = []
    if not a.no_sqlite:
        backends.append(("SQLite", f"sqlite:///{tmp / f'web-{a.assets}.db'}"))
    if not a.no_pg:
        backends.append(("PostgreSQL", _pg_url(a.pg, schema)))
    print(f"{a.assets} assets, {a.repeat} runs per page after one warm-up; times in seconds")
    for label, url in backends:
        try:
            if label == "SQLite":
                fresh = not (keep and (tmp / f"web-{a.assets}.db").exists())
            else:
                fresh = not (keep and _pg_has_schema(a.pg, schema))
                if fresh:
                    _pg_admin(a.pg, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                    _pg_admin(a.pg, f'CREATE SCHEMA "{schema}"')
        except Exception as e:  # noqa: BLE001 - no server: say so and go on
            print(f"{label}: skipped ({e.__class__.__name__}: {str(e).splitlines()[0]})")
            continue
        try:
            if fresh:
                seed(url, a.assets)
            run(label, url, a.repeat, a.profile)
        finally:
            if label == "PostgreSQL" and not keep:
                _pg_admin(a.pg, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    if a.profile or a.no_screenshots or not os.path.exists(CHROMIUM) or a.no_sqlite:
        print("screenshots: skipped")
        return 0
    screenshots(backends[0][1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

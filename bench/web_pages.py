"""Render time of every dashboard page over a large estate (issue 14: under 1 s each).

Seeds a fresh SQLite store with one SCCM software inventory of N assets (default 5,000), two in
three of them running a Kaspersky product (about 10,000 findings under the profile's restrictions),
plus a few waivers, then times each page's GET through the ASGI app (Starlette's TestClient, logged
in as a decider; median of --repeat runs).  With Debian's Chromium present, writes screenshots of
the overview and of a finding page to bench/out/ (not committed).

    PYTHONPATH=src python bench/web_pages.py [--assets 5000] [--repeat 3] [--no-screenshots]
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

OUT = Path(__file__).resolve().parent / "out"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-password-1"


def inventory(n: int) -> bytes:
    rows = ['"Netbios_Name0","ARPDisplayName0","Publisher0","ProductVersion0","InstallDate0"']
    for i in range(n):
        host = f"WS-{i:05d}"
        if i % 3 != 2:
            rows.append(f'"{host}","Kaspersky Endpoint Security for Windows","AO Kaspersky Lab","12.3.0.493","20240108"')
        rows.append(f'"{host}","Mozilla Firefox (x64 en-US)","Mozilla","121.0",""')
    return ("\n".join(rows) + "\n").encode()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--assets", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-screenshots", action="store_true")
    a = ap.parse_args()

    from fastapi.testclient import TestClient

    from banscan.serve import audit
    from banscan.serve.app import create_app, default_extensions
    from banscan.serve.service import ServeConfig
    from banscan.store import open_store
    from banscan.web.accounts import add_user

    tmp = Path(tempfile.mkdtemp(prefix="banscan-web-bench-"))
    url = f"sqlite:///{tmp / 'web.db'}"
    with open_store(url) as st:
        add_user(st.engine, "decider", "decider", PASSWORD)
    app = create_app(ServeConfig(db=url, profiles=["us-federal-agency"], evaluate_at_startup=False, evaluate_every=0),
                     extensions=default_extensions())
    svc = app.state.service
    t0 = time.perf_counter()
    result = svc.scan_bytes(inventory(a.assets), "sccm-installed-software.csv", None, None)
    t1 = time.perf_counter()
    svc.store_as("bench").record(result, svc.registry)
    t2 = time.perf_counter()
    rows = svc.store.findings()
    for f in rows[:50]:
        audit.decide(svc.store_as("bench"), f["id"], "waived", actor="bench", reason="bench waiver",
                     approver="bench", expires=dt.date(2099, 1, 1))
    n_assets = len(svc.store.assets())
    print(f"seeded {len(rows)} findings on {n_assets} assets (scan {t1 - t0:.1f} s, record {t2 - t1:.1f} s)")

    c = TestClient(app, base_url="http://127.0.0.1")
    tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
    assert tok
    r = c.post("/login", data={"username": "decider", "password": PASSWORD, "csrf_token": tok.group(1)},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    one = rows[-1]["id"]
    pages = [("/", "overview"), ("/findings", "findings"), ("/findings?family=kaspersky&sort=asset&dir=desc&page=40",
                                                            "findings filtered, sorted, page 40"),
             ("/findings.csv", "findings CSV (all)"), (f"/findings/{one}", "finding (explain + audit)"),
             (f"/assets/{rows[-1]['asset']}", "asset"), ("/law?family=kaspersky&profile=us-federal-agency", "law"),
             ("/proof?profile=us-federal-agency", "proof (coverage preview)")]
    print(f"{'page':42} {'median s':>9} {'max s':>7} {'KiB':>7}  target < 1 s")
    for path, label in pages:
        times = []
        size = 0
        for _ in range(a.repeat):
            s = time.perf_counter()
            resp = c.get(path)
            times.append(time.perf_counter() - s)
            size = len(resp.content)
            if resp.status_code != 200:
                print(f"{label}: HTTP {resp.status_code}", file=sys.stderr)
        med = statistics.median(times)
        print(f"{label:42} {med:9.3f} {max(times):7.3f} {size / 1024:7.0f}  {'met' if med < 1 else 'NOT met'}")

    if a.no_screenshots or not os.path.exists(CHROMIUM):
        print("screenshots: skipped" + ("" if a.no_screenshots else f" ({CHROMIUM} is absent)"))
        return 0
    import socket

    import uvicorn
    from playwright.sync_api import sync_playwright

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
            pg.fill("#username", "decider")
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

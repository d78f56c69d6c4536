"""A seeded estate for the dashboard tests: an SCCM software inventory (real export layout) with a
Kaspersky product on three workstations, one of them named with hostile markup, recorded in a fresh
store; users of every role."""

from __future__ import annotations

import re
from typing import Any

HOSTILE = "<img src=x onerror=alert(1)>"
PASSWORDS = {"viewer": "viewer-password-1", "decider": "decider-password-1", "admin": "admin-password-1"}

INVENTORY = (
    '"Netbios_Name0","ARPDisplayName0","Publisher0","ProductVersion0","InstallDate0"\n'
    '"WS-0042","Kaspersky Endpoint Security for Windows","AO Kaspersky Lab","12.3.0.493","20240108"\n'
    '"WS-0043","Mozilla Firefox (x64 en-US)","Mozilla","121.0",""\n'
    '"WS-0044","Kaspersky Endpoint Security for Windows","AO Kaspersky Lab","12.3.0.493","20240108"\n'
    f'"{HOSTILE}","Kaspersky Endpoint Security for Windows","AO Kaspersky Lab","12.3.0.493","20240108"\n'
).encode()


def make_app(url: str) -> Any:
    """The service app over ``url`` (migrated), seeded, with one user per role."""
    from banscan.serve.app import create_app, default_extensions
    from banscan.serve.service import ServeConfig
    from banscan.store import open_store
    from banscan.web.accounts import add_user

    with open_store(url) as st:
        for role, pw in PASSWORDS.items():
            add_user(st.engine, role, role, pw)
    app = create_app(ServeConfig(db=url, profiles=["us-federal-agency"], evaluate_at_startup=False,
                                 evaluate_every=0), extensions=default_extensions())
    svc = app.state.service
    result = svc.scan_bytes(INVENTORY, "sccm-installed-software.csv", None, None)
    svc.store_as("seed").record(result, svc.registry)
    return app


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "the page has no CSRF token"
    return m.group(1)

"""An embedded PostgreSQL server for the tests when ``BANSCAN_TEST_PG_URL`` is unset.

The ``pgserver`` package (PyPI; it ships PostgreSQL binaries) starts a private server on a Unix
socket in a temporary directory, so the PostgreSQL tests run on a fresh machine too.  It works
as root (pgserver runs the server as an unprivileged user itself).  Set ``BANSCAN_TEST_PG=off``
to skip the PostgreSQL tests instead.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from typing import Any

_server: Any = None
_dir: str | None = None


def start() -> str | None:
    """Start the server and set ``BANSCAN_TEST_PG_URL``; None when it cannot run here."""
    global _server, _dir
    if os.environ.get("BANSCAN_TEST_PG_URL") or os.environ.get("BANSCAN_TEST_PG", "").lower() == "off":
        return None
    try:
        import pgserver
    except ImportError:
        return None
    _dir = tempfile.mkdtemp(prefix="banscan-pg-")
    os.chmod(_dir, 0o755)  # the server runs as an unprivileged user when we are root
    try:
        _server = pgserver.get_server(_dir, cleanup_mode="stop")
        _server.psql("CREATE DATABASE banscan_test;")
    except Exception as e:  # noqa: BLE001 - fall back to skipping, and say why
        print(f"embedded PostgreSQL could not start ({type(e).__name__}: {e}); PostgreSQL tests skip",
              file=sys.stderr)
        stop()
        return None
    uri = str(_server.get_uri()).replace("/postgres?", "/banscan_test?", 1)
    os.environ["BANSCAN_TEST_PG_URL"] = uri
    return uri


def stop() -> None:
    global _server, _dir
    if _server is not None:
        try:
            _server.cleanup()
        except Exception:  # noqa: BLE001, S110 - best effort at exit
            pass
        _server = None
    if _dir is not None:
        shutil.rmtree(_dir, ignore_errors=True)
        _dir = None

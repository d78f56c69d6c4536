"""Single sign-on against a live `banscan serve` (the real command, its real socket): the proxy's
header is believed from a --trusted-proxy address and ignored from any other, even when the request
claims the proxy's address in X-Forwarded-For or Forwarded."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("argon2")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(tmp_path: Path, proxy: str) -> Iterator[str]:
    db = f"sqlite:///{tmp_path / 'live.db'}"
    pw = tmp_path / "pw"
    pw.write_text("decider-password-1\n")
    add = subprocess.run([sys.executable, "-m", "banscan", "user", "add", "decider", "--role", "decider",
                          "--password-file", str(pw), "--db", db], capture_output=True, text=True, timeout=120,
                         env=os.environ)
    assert add.returncode == 0, add.stderr
    port = _port()
    proc = subprocess.Popen([sys.executable, "-m", "banscan", "serve", "--db", db, "--port", str(port),
                             "--profile", "us-federal-agency", "--sso-header", "X-Remote-User",
                             "--trusted-proxy", proxy], env=os.environ, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 90
        while True:
            try:
                httpx.get(base + "/login", timeout=2)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > end:
                    raise RuntimeError("banscan serve did not start: " + (proc.stderr.read().decode()
                                                                          if proc.stderr else "")) from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.fixture
def trusted_loopback(tmp_path: Path) -> Iterator[str]:
    yield from _serve(tmp_path, "127.0.0.1/32")


@pytest.fixture
def trusted_elsewhere(tmp_path: Path) -> Iterator[str]:
    yield from _serve(tmp_path, "10.9.9.9/32")


def test_header_from_the_trusted_proxy_signs_in(trusted_loopback: str) -> None:
    r = httpx.get(trusted_loopback + "/findings", headers={"X-Remote-User": "decider"})
    assert r.status_code == 200 and "decider (decider)" in r.text and "Log out" not in r.text
    r = httpx.get(trusted_loopback + "/", headers={"X-Remote-User": "someone-new"})
    assert r.status_code == 200 and "someone-new (viewer)" in r.text
    assert httpx.get(trusted_loopback + "/findings").status_code == 303  # no header: the login form


def test_header_from_another_address_is_ignored_even_with_forwarding_headers(trusted_elsewhere: str) -> None:
    for extra in ({}, {"X-Forwarded-For": "10.9.9.9"}, {"Forwarded": "for=10.9.9.9"},
                  {"X-Real-IP": "10.9.9.9"}):
        r = httpx.get(trusted_elsewhere + "/findings", headers={"X-Remote-User": "decider", **extra})
        assert r.status_code == 303 and r.headers["location"] == "/login", extra
        assert httpx.post(trusted_elsewhere + "/findings/decide", headers={"X-Remote-User": "decider", **extra},
                          data={"ids": "x"}).status_code == 403

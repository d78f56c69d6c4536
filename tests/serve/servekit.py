"""A live ``banscan serve`` on loopback for the service tests: uvicorn in a thread on a free port,
over a fresh SQLite file or a fresh PostgreSQL schema, with tokens of every scope."""

from __future__ import annotations

import gzip
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

PG_URL = os.environ.get("BANSCAN_TEST_PG_URL")
ENROLL_SECRET = "this-is-a-deployment-secret-0123"

BACKENDS = [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgresql", id="postgresql", marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not PG_URL, reason="BANSCAN_TEST_PG_URL is not set")])]


def _pg_admin(sql: str) -> None:
    import psycopg

    assert PG_URL
    with psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as c:
        c.execute(sql)


def db_url(backend: str, tmp_path: Any) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'serve.db'}"
        return
    assert PG_URL
    schema = f"s_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        _pg_admin(f'DROP SCHEMA "{schema}" CASCADE')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Live:
    """A running server and tokens: ``tokens[scope]`` holds only that scope; ``tokens['all']`` every one."""

    def __init__(self, app: Any, port: int, tokens: dict[str, str]) -> None:
        self.app = app
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.tokens = tokens
        self.client = httpx.Client(base_url=self.base, timeout=30)

    def h(self, scope: str = "all") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[scope]}"}

    def get(self, path: str, scope: str = "read", **kw: Any) -> httpx.Response:
        return self.client.get(path, headers=self.h(scope), **kw)

    def post(self, path: str, scope: str = "all", **kw: Any) -> httpx.Response:
        return self.client.post(path, headers={**self.h(scope), **kw.pop("headers", {})}, **kw)

    def osquery(self, path: str, body: dict[str, Any], gz: bool = False) -> dict[str, Any]:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "osquery/5.12.1"}
        if gz:
            data = gzip.compress(data)
            headers["Content-Encoding"] = "gzip"
        r = self.client.post(f"/api/osquery/{path}", content=data, headers=headers)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def wait_for(self, pred: Callable[[], Any], timeout: float = 120.0) -> Any:
        """Poll ``pred`` until it holds (returns at once when it does; the bound only stops a test
        that would otherwise hang: the worker process runs at a lower CPU priority)."""
        end = time.monotonic() + timeout
        while True:
            v = pred()
            if v:
                return v
            if time.monotonic() > end:
                raise AssertionError("condition not reached in time")
            time.sleep(0.1)


def start(url: str, profiles: list[str], **cfg: Any) -> Iterator[Live]:
    import uvicorn

    from banscan.serve.app import create_app
    from banscan.serve.service import ServeConfig
    from banscan.serve.tokens import SCOPES, create_token
    from banscan.store import open_store

    with open_store(url) as st:
        tokens = {s: create_token(st.engine, f"tester-{s}", [s], created_by="test") for s in SCOPES}
        tokens["all"] = create_token(st.engine, "tester-all", ["ingest", "read", "decide"], created_by="test")
    cfg.setdefault("osquery_eval_delay", 0.0)
    cfg.setdefault("evaluator", "thread")
    config = ServeConfig(db=url, profiles=profiles, enroll_secret=ENROLL_SECRET, **cfg)
    app = create_app(config)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    end = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > end or not t.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    live = Live(app, port, tokens)
    if config.evaluate_at_startup:  # let the start-up evaluation finish before the test acts
        from banscan.serve import audit

        live.wait_for(lambda: audit.entries(app.state.service.store.engine, action="evaluation"))
    try:
        yield live
    finally:
        live.client.close()
        server.should_exit = True
        t.join(30)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``banscan ARGV`` in-process; return (exit code, stdout, stderr)."""
    from banscan.cli import main

    capsys.readouterr()
    try:
        main(list(argv))
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err

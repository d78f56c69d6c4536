"""Fixtures for the service tests: a live server per backend (SQLite; PostgreSQL when available)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import servekit


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("BANSCAN_REGISTRY_HOME", raising=False)
    monkeypatch.delenv("BANSCAN_DB", raising=False)
    monkeypatch.delenv("BANSCAN_PROFILE", raising=False)


@pytest.fixture(params=servekit.BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path) -> Iterator[servekit.Live]:
    """A live server per backend; osquery nodes are evaluated in the worker process, as in production."""
    for url in servekit.db_url(request.param, tmp_path):
        yield from servekit.start(url, ["us-federal-agency"], evaluator="process" if request.param == "sqlite"
                                  else "auto")


@pytest.fixture
def live_sqlite(tmp_path) -> Iterator[servekit.Live]:
    for url in servekit.db_url("sqlite", tmp_path):
        yield from servekit.start(url, ["us-federal-agency"])


@pytest.fixture
def live_deferred(tmp_path) -> Iterator[servekit.Live]:
    """A server that defers evaluating changes no signature can match (by an hour)."""
    for url in servekit.db_url("sqlite", tmp_path):
        yield from servekit.start(url, ["us-federal-agency"], osquery_eval_delay=3600.0)


@pytest.fixture
def live_limited(tmp_path) -> Iterator[servekit.Live]:
    """A server with tight rate limits (3 requests in a burst, then 1 per 10 s) and a 1 MiB body limit."""
    for url in servekit.db_url("sqlite", tmp_path):
        yield from servekit.start(url, ["us-federal-agency"], token_rate=0.1, token_burst=3, node_rate=0.1,
                                  node_burst=3, max_body_bytes=1 << 20)

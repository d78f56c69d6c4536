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
    for url in servekit.db_url(request.param, tmp_path):
        yield from servekit.start(url, ["us-federal-agency"])


@pytest.fixture
def live_sqlite(tmp_path) -> Iterator[servekit.Live]:
    for url in servekit.db_url("sqlite", tmp_path):
        yield from servekit.start(url, ["us-federal-agency"])

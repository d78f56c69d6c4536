"""Fixtures for the dashboard tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("BANSCAN_REGISTRY_HOME", raising=False)
    monkeypatch.delenv("BANSCAN_DB", raising=False)
    monkeypatch.delenv("BANSCAN_PROFILE", raising=False)

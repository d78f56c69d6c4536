"""Fixtures for the store tests: a database URL per backend, an isolated data dir and a clock.

``store_url`` is a fresh SQLite file, and, when ``BANSCAN_TEST_PG_URL`` names a PostgreSQL
database, a fresh schema in it (dropped afterwards) selected through ``search_path``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from storekit import Clock

PG_URL = os.environ.get("BANSCAN_TEST_PG_URL")

BACKENDS = [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgresql", id="postgresql", marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not PG_URL, reason="BANSCAN_TEST_PG_URL is not set")])]


def _pg_schema_url(schema: str) -> str:
    assert PG_URL
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"


def _pg_admin(sql: str) -> None:
    import psycopg

    assert PG_URL
    with psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as c:
        c.execute(sql)


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'banscan.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE SCHEMA "{schema}"')
    try:
        yield _pg_schema_url(schema)
    finally:
        _pg_admin(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch) -> None:
    """Never touch the user's real data dir (installed registries, default database)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("BANSCAN_REGISTRY_HOME", raising=False)
    monkeypatch.delenv("BANSCAN_DB", raising=False)
    monkeypatch.setenv("BANSCAN_ACTOR", "tester")


@pytest.fixture
def clock() -> Clock:
    return Clock()

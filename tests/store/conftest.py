"""Fixtures for the store tests: a database URL per backend, and scan results built to order.

``store_url`` is a fresh SQLite file, and, when ``BANSCAN_TEST_PG_URL`` names a PostgreSQL
database, a fresh schema in it (dropped afterwards) selected through ``search_path``.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from banscan.model import (
    Confidence,
    Detection,
    Evidence,
    EvidenceClass,
    Finding,
    Locator,
    Observation,
    Relation,
    Requirement,
    stable_id,
)
from banscan.scan import InputReport, ScanResult

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


class Clock:
    """A settable clock for the store."""

    def __init__(self, when: str = "2026-01-10T09:00:00+00:00") -> None:
        self.t = dt.datetime.fromisoformat(when)

    def __call__(self) -> dt.datetime:
        return self.t

    def advance(self, **kw: float) -> None:
        self.t += dt.timedelta(**kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def detection(asset: str, family: str = "kaspersky", product: str | None = "kaspersky-endpoint-security",
              ec: EvidenceClass = EvidenceClass.INSTALLED, path: str = "inv.csv") -> Detection:
    name = {"kaspersky-endpoint-security": "Kaspersky Endpoint Security"}.get(product or "", product)
    obs = Observation(kind="software", asset=asset, fields={"name": name or family}, source=Locator(path, "line 2"),
                      evidence_class=ec)
    return Detection(id=stable_id("D", asset, family, product, ec.value, path), asset=asset, family=family,
                     entity="AO Kaspersky Lab", product=name, category="security-software",
                     relation=Relation.PRODUCT, confidence=Confidence.CERTAIN,
                     evidence=[Evidence("name", name or family, f"{family}.name.0", "strong")],
                     observation=obs, product_id=product, entity_id=f"{family}-parent")


def finding(d: Detection, restriction: str = "us-dhs-bod-17-01", profile: str = "us-federal-agency",
            requirement: Requirement = Requirement.REMOVE, deadline: str | None = "2017-12-12") -> Finding:
    return Finding(id=stable_id("X", d.id, restriction, profile), detection=d.id, restriction=restriction,
                   instrument="BOD 17-01", citation="DHS BOD 17-01", sources=["https://example.org/bod"],
                   requirement=requirement, deadline=deadline, profile=profile, legal_force="binding-directive",
                   action="Remove it.", asset=d.asset, family=d.family)


def result(coverage: dict[str, list[EvidenceClass]], dets: list[Detection], restrictions: tuple[str, ...] = (
        "us-dhs-bod-17-01",), profiles: tuple[str, ...] = ("us-federal-agency",),
        path: str = "inv.csv", as_of: str = "2026-01-10", with_findings: bool = True) -> ScanResult:
    """A ScanResult covering ``coverage`` with ``dets``; one finding per detection and restriction."""
    fs = [finding(d, r, profiles[0]) for d in dets for r in restrictions] if (with_findings and profiles) else []
    ir = InputReport(path=path, format="csv-inventory", observations=10 + len(dets),
                     sha256=stable_id("h", path, tuple(sorted(coverage)))[2:].ljust(64, "0"),
                     assets={a: [c.value for c in cs] for a, cs in coverage.items()})
    return ScanResult(registry={"version": "test", "sha256": "0" * 64}, profiles=list(profiles),
                      as_of=dt.date.fromisoformat(as_of), started_at="2026-01-10T09:00:00+00:00",
                      finished_at="2026-01-10T09:00:05+00:00", inputs=[ir], detections=dets, findings=fs)

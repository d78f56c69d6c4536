"""A decision and its audit row are one transaction: both are recorded, or neither is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import servekit
from test_serve_api import sbom_with_kaspersky_library


@pytest.fixture(params=servekit.BACKENDS)
def service(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Any]:
    from banscan.registry import load
    from banscan.serve.service import ServeConfig, Service
    from banscan.store import open_store

    for url in servekit.db_url(request.param, tmp_path):
        st = open_store(url, actor="test")
        try:
            yield Service(ServeConfig(db=url, profiles=["us-federal-agency"]), st, load([]))
        finally:
            st.close()


def _finding(svc: Any) -> str:
    result = svc.scan_bytes(sbom_with_kaspersky_library(), "upload:bom.json", "app", None)
    svc.store.record(result, svc.registry)
    return next(f["id"] for f in svc.store.findings() if f["family"] == "kaspersky")


def test_a_decision_and_its_audit_row_are_recorded_together(service: Any) -> None:
    from banscan.serve import audit

    fid = _finding(service)
    after = audit.decide(service.store_as("alice"), fid, "planned", actor="alice", owner="IT ops",
                         due=service.today().replace(year=service.today().year + 1))
    assert after["status"] == "planned"
    rows = audit.entries(service.store.engine, target=fid)
    assert [(r["actor"], r["old"]["status"], r["new"]["status"]) for r in rows] == [("alice", "open", "planned")]


def test_a_failed_audit_write_rolls_the_decision_back(service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from banscan.serve import audit

    fid = _finding(service)
    events_before = service.store.events(fid)
    real_append = audit.append

    def failing_append(conn: Any, **kw: Any) -> None:
        real_append(conn, **kw)  # the row is written, then the transaction fails
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(audit, "append", failing_append)
    with pytest.raises(RuntimeError, match="audit log is unavailable"):
        audit.decide(service.store_as("mallory"), fid, "false-positive", actor="mallory", reason="not ours")
    monkeypatch.undo()
    assert service.store.finding(fid)["status"] == "open"
    assert service.store.events(fid) == events_before
    assert audit.entries(service.store.engine, target=fid) == []

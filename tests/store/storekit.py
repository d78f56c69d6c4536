"""Scan results built to order for the store tests, a settable clock, and an in-process CLI runner."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

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


class Clock:
    """A settable clock for the store."""

    def __init__(self, when: str = "2026-01-10T09:00:00+00:00") -> None:
        self.t = dt.datetime.fromisoformat(when)

    def __call__(self) -> dt.datetime:
        return self.t

    def advance(self, **kw: float) -> None:
        self.t += dt.timedelta(**kw)


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


from banscan.cli import main  # noqa: E402


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``banscan ARGV`` in-process; return (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        main(list(argv))
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = cli(capsys, *argv, "--format", "json")
    assert code == 0, err
    return json.loads(out)

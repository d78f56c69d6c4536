"""Report windows count from the day a product was first seen (the stored history), in business
days that skip US federal holidays.  Golden dates: a Kaspersky product first seen on Friday
2025-01-17, the Friday before Martin Luther King Jr. Day (Monday 2025-01-20), under FAR 52.204-23
(report within 3 business days since 2023-12-04; follow-up within 10 business days)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from storekit import Clock

import banscan.registry
from banscan.scan import ScanRequest, run
from banscan.store import open_store

FIXTURES = Path(__file__).parent.parent / "fixtures" / "store"
PROFILE = "us-federal-contractor"
FAR_23 = "us-far-52-204-23"


def _scan(reg, day: str):
    return run(ScanRequest(inputs=(str(FIXTURES / "pc-01-with-kaspersky.csv"),), asset="pc-01",
                           profiles=(PROFILE,), as_of=dt.date.fromisoformat(day), keep_evidence=True), reg)


def _report_deadlines(res) -> dict[str, str | None]:
    return {f.action[:9]: f.deadline for f in res.findings if f.restriction == FAR_23 and f.requirement.value == "report"}


@pytest.fixture
def reg():
    r = banscan.registry.load()
    if FAR_23 not in r.restrictions or PROFILE not in r.profiles:
        pytest.skip("FAR 52.204-23 or the contractor profile is not in the registry")
    return r


def test_windows_count_from_first_seen_friday_before_a_federal_holiday(store_url, reg):
    clock = Clock("2025-01-17T15:00:00+00:00")  # Friday
    with open_store(store_url, clock=clock) as store:
        first = _scan(reg, "2025-01-17")
        store.record(first, reg)
        deadlines = _report_deadlines(first)
        assert sorted(deadlines.values()) == ["2025-01-23", "2025-02-03"], deadlines
        # evaluated again on Wednesday 2025-01-22: the windows still run from Friday
        clock.t = dt.datetime.fromisoformat("2025-01-22T09:00:00+00:00")
        again = _scan(reg, "2025-01-22")
        assert sorted(_report_deadlines(again).values()) == ["2025-01-27", "2025-02-05"]  # from the evaluation day
        store.record(again, reg)
        assert _report_deadlines(again) == deadlines
        assert store.first_seen(again.detections) == {d.id: dt.date(2025, 1, 17) for d in again.detections}
        # the lifecycle row keeps its first-seen day
        rows = [f for f in store.findings(asset="pc-01") if f["restriction"] == FAR_23]
        assert rows and all(f["first_seen"].startswith("2025-01-17") for f in rows)


def test_reevaluation_keeps_first_seen_windows(store_url, reg):
    from banscan.store.reeval import reevaluate

    clock = Clock("2025-01-17T15:00:00+00:00")
    with open_store(store_url, clock=clock) as store:
        store.record(_scan(reg, "2025-01-17"), reg)
        clock.t = dt.datetime.fromisoformat("2025-01-22T09:00:00+00:00")
        impact = reevaluate(store, reg, dt.date(2025, 1, 22), baseline_as_of=dt.date(2025, 1, 17), record=False)
    pc = {a["asset"]: a for a in impact.assets}["pc-01"]
    assert pc["changed"] == [] and pc["gained"] == [] and pc["lost"] == []


def test_a_product_first_seen_after_the_as_of_date_counts_from_the_as_of_date(store_url, reg):
    clock = Clock("2025-01-17T15:00:00+00:00")
    with open_store(store_url, clock=clock) as store:
        past = _scan(reg, "2024-12-02")  # a Monday, evaluated today for the first time
        store.record(past, reg)
        assert sorted(_report_deadlines(past).values()) == ["2024-12-05", "2024-12-16"]

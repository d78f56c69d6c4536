"""FAR 52.204-23 / 52.204-25 report drafts: the clause's fields and the business-day deadlines."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from banscan.report import by_name
from banscan.report.far import add_business_days, md, windows

FAR = {"contract_number": "GS-35F-0001X", "order_number": "47QTCA24F0042", "contractor_name": "Acme Federal LLC",
       "cage_code": "1A2B3", "point_of_contact": "J. Smith, compliance@acme.example"}


def render(result, reg, far=None) -> str:
    buf = io.StringIO()
    by_name("far").write(result, reg, buf, {"far": far or {}})
    return buf.getvalue()


def section(text: str, heading_part: str) -> str:
    parts = text.split("\n---\n")
    return next(p for p in parts if heading_part in p.strip().splitlines()[0])


def test_one_draft_per_detection_and_clause(estate, reg):
    text = render(estate, reg, FAR)
    assert text.count("\n## ") == 3  # KES, the hostile Kaspersky entry (52.204-23), the camera (52.204-25)
    assert "BOD 17-01" not in text
    assert "rtr-branch-02" not in text.split("---")[1]  # resolved: no draft, only counted
    assert "1 finding(s) under these clauses are resolved" in text


def test_clause_fields_filled_from_config(estate, reg):
    kes = section(render(estate, reg, FAR), "Kaspersky Endpoint Security")
    for row in ("| Contract number | GS-35F-0001X |", "| Order number | 47QTCA24F0042 |",
                "| Contractor | Acme Federal LLC |", "| CAGE code | 1A2B3 |", "| Supplier | AO Kaspersky Lab |",
                "| Brand | Kaspersky |", "| Model or product | Kaspersky Endpoint Security |",
                "| Asset | ws-finance-01 |", "| Date identified | 2024-01-15 |"):
        assert row in kes
    assert "| Unique Entity ID (UEI) | `<UEI>` |" in kes
    assert "Item description | security-software" in kes and "version: 12.3.0.493" in kes
    assert "### Mitigation actions" in kes and "<MITIGATION ACTIONS" in kes


def test_placeholders_without_config(estate, reg):
    text = render(estate, reg)
    assert "| Contract number | `<CONTRACT NUMBER>` |" in text
    assert "| Order number | `<ORDER NUMBER>` |" in text


def test_deadlines_from_the_policy_steps(estate, reg):
    kes = section(render(estate, reg), "Kaspersky Endpoint Security")
    # the ended 1-business-day variant is ignored; the policy engine's dates are used
    assert "| Report due | 2024-01-18 (3 business days after 2024-01-15" in kes
    assert "FAR 52.204-23\\(c\\)\\(2\\)\\(i\\) as amended by FAC 2023-06" in kes
    assert "| Follow-up report due | 2024-01-29 (10 business days after 2024-01-15" in kes


def test_deadlines_computed_when_the_finding_has_none(estate, reg):
    text = render(estate, reg)
    # camera: identified on the scan date, Monday 2024-01-15: 1 business day, then 10 business days
    cam = section(text, "on cctv-lobby")
    assert "| Report due | 2024-01-16 (1 business day after 2024-01-15" in cam
    assert "| Follow-up report due | 2024-01-29 (10 business days after 2024-01-15" in cam
    assert "| Supplier | Hangzhou Hikvision Digital Technology Co., Ltd. |" in cam
    # the hostile entry: no date in the inventory, so the scan date (Monday 2024-01-15); 3 days after FAC 2023-06
    xss = section(text, "alert")
    assert "| Report due | 2024-01-18 (3 business days after 2024-01-15" in xss
    assert "| Follow-up report due | 2024-01-29 (10 business days after 2024-01-15" in xss


def test_identified_date_from_config_recomputes_deadlines(estate, reg):
    text = render(estate, reg, {"identified": "2024-01-10"})  # a Wednesday
    cam = section(text, "on cctv-lobby")
    assert "| Date identified | 2024-01-10 |" in cam
    assert "| Report due | 2024-01-11 (1 business day after 2024-01-10" in cam
    # 10 business days skip Martin Luther King Jr. Day (2024-01-15)
    assert "| Follow-up report due | 2024-01-25 (10 business days after 2024-01-10" in cam
    kes = section(text, "Kaspersky Endpoint Security")
    assert "| Report due | 2024-01-16 (3 business days after 2024-01-10" in kes


def test_inventory_strings_are_markdown_escaped(estate, reg, hostile):
    text = render(estate, reg)
    assert hostile["xss"] not in text
    assert r"\<script\>alert\(1\)\</script\>" in text
    assert "|" not in md("a | b").replace(r"\|", "")


def test_windows_before_the_2023_amendment(reg):
    # identified Thursday 2023-11-30: the 1-business-day window still applied
    first, follow = windows("us-far-52-204-23", [], reg, dt.date(2023, 11, 30))
    assert (first.days, first.due) == (1, dt.date(2023, 12, 1))
    assert (follow.days, follow.due) == (10, dt.date(2023, 12, 14))
    first, _ = windows("us-far-52-204-23", [], reg, dt.date(2023, 12, 4))
    assert (first.days, first.due) == (3, dt.date(2023, 12, 7))


@pytest.mark.parametrize(("start", "days", "due"), [
    ("2024-01-12", 1, "2024-01-16"),  # Friday -> Tuesday: Monday is Martin Luther King Jr. Day
    ("2024-01-13", 1, "2024-01-16"),  # Saturday -> Tuesday
    ("2024-01-19", 1, "2024-01-22"),  # Friday -> Monday
    ("2024-01-15", 3, "2024-01-18"),
    ("2024-01-15", 10, "2024-01-29"),
    ("2024-01-15", 0, "2024-01-15"),
])
def test_add_business_days(start, days, due):
    assert add_business_days(dt.date.fromisoformat(start), days) == dt.date.fromisoformat(due)


def test_nothing_to_report(pipeline_result, reg):
    assert "nothing to report" in render(pipeline_result, reg)

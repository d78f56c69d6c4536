"""Engine rules on their own: dates, business days, status of a restriction, scope, apply()."""

from __future__ import annotations

import datetime as dt

from _policy_helpers import KES, by_restriction, matcher, observe, reg, run  # noqa: F401 - fixtures

from banscan import policy
from banscan.model import Requirement
from banscan.policy import add_business_days, evaluate, information, restriction_status
from banscan.registry.schema import Restriction
from banscan.scan import InputReport, ScanResult

D = dt.date


def test_business_days_skip_weekends_and_us_federal_holidays():
    assert add_business_days(D(2020, 8, 14), 1) == D(2020, 8, 17)  # Fri -> Mon
    assert add_business_days(D(2020, 8, 15), 1) == D(2020, 8, 17)  # Sat -> Mon
    assert add_business_days(D(2020, 8, 13), 1) == D(2020, 8, 14)  # Thu -> Fri
    assert add_business_days(D(2023, 12, 8), 3) == D(2023, 12, 13)
    assert add_business_days(D(2023, 12, 1), 10) == D(2023, 12, 15)
    assert add_business_days(D(2023, 12, 1), 0) == D(2023, 12, 1)
    # Christmas Day 2023 (a Monday) is a federal holiday
    assert add_business_days(D(2023, 12, 22), 1) == D(2023, 12, 26)
    # weekends only, when asked
    assert add_business_days(D(2023, 12, 22), 1, None) == D(2023, 12, 25)


def _restriction(**over) -> Restriction:
    base = {
        "id": "test-r", "title": "t", "jurisdiction": "US", "authority": "a", "instrument": "i", "citation": "c",
        "legal_force": "binding-law", "confidence": "confirmed", "adopted": "2020-01-01", "binds": ["test-tag"],
        "binds_text": "x", "covers": {"families": ["kaspersky"]},
        "obligations": [{"requirement": "remove", "action": "do it"}], "text": "t",
        "sources": ["https://example.org/r"],
    }
    base.update(over)
    return Restriction.model_validate(base)


def test_restriction_status_dates():
    r = _restriction(effective="2020-06-01", ends="2021-01-01")
    assert restriction_status(r, D(2019, 12, 31)) == "not-adopted"
    assert restriction_status(r, D(2020, 1, 1)) == "adopted"
    assert restriction_status(r, D(2020, 5, 31)) == "adopted"
    assert restriction_status(r, D(2020, 6, 1)) == "in-force"
    assert restriction_status(r, D(2020, 12, 31)) == "in-force"
    assert restriction_status(r, D(2021, 1, 1)) == "ended"


def test_superseded_restriction_gives_nothing_once_successor_is_in_force(reg):
    old = _restriction(id="test-old", superseded_by="test-new")
    new = _restriction(id="test-new", adopted="2021-01-01", effective="2021-03-01")
    reg2 = type(reg)(**{**reg.__dict__, "restrictions": {**reg.restrictions, old.id: old, new.id: new}})
    assert restriction_status(old, D(2021, 2, 1), reg2) == "in-force"
    assert restriction_status(old, D(2021, 3, 1), reg2) == "superseded"


def test_non_binding_force_caps_at_advisory(reg, matcher):
    # the EP resolution is a non-binding resolution; even a 'remove' in the data would give advisory
    kes = observe(matcher, "software", KES)
    r = run(reg, kes, "eu-institution", "2019-01-01")
    ep = by_restriction(r, "eu-ep-2018-cyber-defence-res")
    assert ep and all(f.requirement == Requirement.ADVISORY for f in ep)
    assert any("not binding" in reason for reason in ep[0].reasons)


def test_no_profile_no_findings_but_information(reg, matcher):
    kes = observe(matcher, "software", KES)
    result = ScanResult(registry=reg.meta(), profiles=[], as_of=D(2025, 1, 1), started_at="", finished_at="",
                        inputs=[InputReport(path="inventory.json", format="test")], detections=[kes])
    policy.apply(result, reg, [])
    assert result.findings == [] and result.upcoming == []
    info = result.information["kaspersky"]
    ids = [i["id"] for i in info]
    assert "us-dhs-bod-17-01" in ids and "nl-kaspersky-phaseout-2018" in ids
    jurisdictions = {i["jurisdiction"] for i in info}
    assert {"US", "NL", "EU"} <= jurisdictions
    first = info[0]
    assert set(first) >= {"id", "jurisdiction", "instrument", "legal_force", "adopted", "effective", "citation",
                          "sources"}
    assert information(["kaspersky"], reg)["kaspersky"] == info


def test_apply_with_several_profiles_gives_findings_per_profile(reg, matcher):
    kes = observe(matcher, "software", KES)
    profiles = [reg.profile("us-federal-agency"), reg.profile("us-federal-contractor")]
    result = ScanResult(registry=reg.meta(), profiles=[p.id for p in profiles], as_of=D(2019, 1, 1),
                        started_at="", finished_at="", inputs=[], detections=[kes])
    policy.apply(result, reg, profiles)
    assert {f.profile for f in result.findings} == {"us-federal-agency", "us-federal-contractor"}
    # a JSON round trip keeps everything
    back = ScanResult.from_dict(result.to_dict())
    assert [f.to_dict() for f in back.findings] == [f.to_dict() for f in result.findings]


def test_identified_dates_per_detection(reg, matcher):
    cam = observe(matcher, "device", {"http_server": "Hikvision-Webs"}, asset="cam-1")
    prof = [reg.profile("us-federal-contractor")]
    r = evaluate([cam], reg, prof, D(2021, 3, 1), {cam.id: D(2021, 2, 26)})  # Friday
    one_day = [f for f in r.findings if f.report_window == {"days": 1, "business": True}]
    assert [f.deadline for f in one_day] == ["2021-03-01"]


def test_findings_are_deterministic(reg, matcher):
    kes = observe(matcher, "software", KES)
    a = run(reg, kes, "us-federal-agency", "2018-10-01")
    b = run(reg, kes, "us-federal-agency", "2018-10-01")
    assert [f.to_dict() for f in a.findings] == [f.to_dict() for f in b.findings]
    assert a.upcoming == b.upcoming

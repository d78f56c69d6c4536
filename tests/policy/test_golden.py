"""Golden scenarios from the sourced fact sheet, through the bundled registry and the real matcher."""

from __future__ import annotations

from _policy_helpers import KES, by_restriction, detection, matcher, need, observe, reg, run  # noqa: F401 - fixtures

from banscan.model import EvidenceClass, Relation, Requirement

AGENCY = "us-federal-agency"
CONTRACTOR = "us-federal-contractor"


# --------------------------------------------------------------------------- Kaspersky, US federal agency


def test_kaspersky_agency_nothing_binding_before_bod_17_01(reg, matcher):
    need(reg, ("us-dhs-bod-17-01", "us-ndaa18-s1634"), (AGENCY,))
    kes = observe(matcher, "software", KES)
    r = run(reg, kes, AGENCY, "2017-09-01")
    assert not by_restriction(r, "us-dhs-bod-17-01")
    assert not by_restriction(r, "us-ndaa18-s1634")
    assert not any(f.requirement.rank >= Requirement.REMOVE.rank for f in r.findings)
    assert not [u for u in r.upcoming if u["restriction"] == "us-ndaa18-s1634"]  # not enacted yet


def test_kaspersky_agency_bod_17_01_deadlines(reg, matcher):
    need(reg, ("us-dhs-bod-17-01",), (AGENCY,))
    kes = observe(matcher, "software", KES)
    assert kes.product_id == "kaspersky-endpoint-security"
    r = run(reg, kes, AGENCY, "2017-10-01")
    bod = by_restriction(r, "us-dhs-bod-17-01")
    deadlines = sorted((f.deadline, f.requirement.value) for f in bod)
    assert deadlines == [("2017-10-13", "report"), ("2017-11-12", "remove"), ("2017-12-12", "remove")]
    f = bod[0]
    assert f.legal_force == "binding-directive"
    assert f.profile == AGENCY and f.asset == "pc-001" and f.family == "kaspersky"
    assert f.sources and all(s.startswith("http") for s in f.sources)
    # every finding shows the whole sequence of steps with computed dates
    assert sorted(s["deadline"] for s in f.steps) == ["2017-10-13", "2017-11-12", "2017-12-12"]
    assert sum(1 for s in f.steps if s.get("current")) == 1
    assert any("us-federal-agency" in reason for reason in f.reasons)
    assert any("2017-09-13" in reason for reason in f.reasons)
    # ids are stable and distinct
    assert len({x.id for x in bod}) == 3
    assert {x.id for x in run(reg, kes, AGENCY, "2017-10-01").findings} == {x.id for x in r.findings}
    # s.1634 not enacted yet on 2017-10-01
    assert not [u for u in r.upcoming if u["restriction"] == "us-ndaa18-s1634"]


def test_kaspersky_agency_s1634_upcoming_once_enacted(reg, matcher):
    need(reg, ("us-ndaa18-s1634",), (AGENCY,))
    kes = observe(matcher, "software", KES)
    r = run(reg, kes, AGENCY, "2017-12-12")
    assert not by_restriction(r, "us-ndaa18-s1634")
    up = [u for u in r.upcoming if u["restriction"] == "us-ndaa18-s1634"]
    assert len(up) == 1
    assert up[0]["effective"] == "2018-10-01"
    assert up[0]["requirement"] == "prohibited"
    assert up[0]["detection"] == kes.id and up[0]["asset"] == "pc-001" and up[0]["family"] == "kaspersky"
    assert up[0]["citation"]


def test_kaspersky_agency_prohibited_from_2018_10_01(reg, matcher):
    need(reg, ("us-ndaa18-s1634",), (AGENCY,))
    kes = observe(matcher, "software", KES)
    assert not [f for f in run(reg, kes, AGENCY, "2018-09-30").findings if f.restriction == "us-ndaa18-s1634"]
    s1634 = by_restriction(run(reg, kes, AGENCY, "2018-10-01"), "us-ndaa18-s1634")
    assert [f.requirement for f in s1634] == [Requirement.PROHIBITED]
    assert s1634[0].legal_force == "binding-law"
    assert "1634" in s1634[0].citation


# --------------------------------------------------------------------------- Hikvision, US federal contractor


def test_hikvision_camera_contractor_not_prohibited_before_part_b(reg, matcher):
    need(reg, ("us-ndaa19-s889", "us-far-52-204-24-25-26"), (CONTRACTOR,))
    cam = observe(matcher, "device", {"http_server": "Hikvision-Webs"}, asset="cam-lobby",
                  evidence=EvidenceClass.NETWORK_DEVICE)
    assert cam.category == "video-surveillance"
    r = run(reg, cam, CONTRACTOR, "2019-06-01")
    assert not any(f.requirement == Requirement.PROHIBITED for f in r.findings)
    assert not by_restriction(r, "us-far-52-204-24-25-26")  # not adopted yet


def test_hikvision_camera_contractor_prohibited_with_one_business_day_report(reg, matcher):
    need(reg, ("us-ndaa19-s889", "us-far-52-204-24-25-26"), (CONTRACTOR,))
    cam = observe(matcher, "device", {"http_server": "Hikvision-Webs"}, asset="cam-lobby",
                  evidence=EvidenceClass.NETWORK_DEVICE)
    # 2020-08-14 is a Friday: 1 business day later is Monday 2020-08-17
    r = run(reg, cam, CONTRACTOR, "2020-08-14", identified="2020-08-14")
    s889 = by_restriction(r, "us-ndaa19-s889")
    far = by_restriction(r, "us-far-52-204-24-25-26")
    assert Requirement.PROHIBITED in {f.requirement for f in s889}
    prohibited = [f for f in far if f.requirement == Requirement.PROHIBITED]
    assert prohibited and "52.204-25" in prohibited[0].citation
    one_day = [f for f in far if f.report_window == {"days": 1, "business": True}]
    assert len(one_day) == 1
    assert one_day[0].requirement == Requirement.REPORT
    assert one_day[0].deadline == "2020-08-17"
    # identified on a Wednesday: the next day
    r2 = run(reg, cam, CONTRACTOR, "2020-08-19", identified="2020-08-19")
    assert [f.deadline for f in by_restriction(r2, "us-far-52-204-24-25-26")
            if f.report_window == {"days": 1, "business": True}] == ["2020-08-20"]


# --------------------------------------------------------------------------- Kaspersky elsewhere


def test_kaspersky_eu_institution_advisory_only(reg, matcher):
    need(reg, ("eu-ep-2018-cyber-defence-res",), ("eu-institution",))
    kes = observe(matcher, "software", KES)
    r = run(reg, kes, "eu-institution", "2018-06-14")
    assert r.findings, "the EP resolution names Kaspersky for the EU institutions"
    assert {f.requirement for f in r.findings} == {Requirement.ADVISORY}
    assert "eu-ep-2018-cyber-defence-res" in {f.restriction for f in r.findings}


def test_kaspersky_nl_central_government_phase_out(reg, matcher):
    need(reg, ("nl-kaspersky-phaseout-2018",), ("nl-central-government",))
    av = observe(matcher, "software", {"name": "Kaspersky Anti-Virus", "publisher": "AO Kaspersky Lab"})
    assert av.product_id == "kaspersky-anti-virus"
    r = run(reg, av, "nl-central-government", "2018-06-01")
    nl = by_restriction(r, "nl-kaspersky-phaseout-2018")
    assert [f.requirement for f in nl] == [Requirement.REMOVE]
    assert nl[0].deadline is None  # no deadline was published
    # Kaspersky Safe Kids is an app, not anti-virus: not covered
    kids = observe(matcher, "software", {"name": "Kaspersky Safe Kids", "publisher": "AO Kaspersky Lab"})
    assert kids.category == "app"
    assert not by_restriction(run(reg, kids, "nl-central-government", "2018-06-01"), "nl-kaspersky-phaseout-2018")


def test_kaspersky_au_government_pspf_direction(reg, matcher):
    need(reg, ("au-pspf-002-2025-kaspersky",), ("au-government",))
    kes = observe(matcher, "software", KES)
    before = run(reg, kes, "au-government", "2025-01-15")
    assert not by_restriction(before, "au-pspf-002-2025-kaspersky")
    assert not [u for u in before.upcoming if u["restriction"] == "au-pspf-002-2025-kaspersky"]
    # nothing binding yet
    assert [f for f in before.findings if f.requirement != Requirement.ADVISORY] == []
    au = by_restriction(run(reg, kes, "au-government", "2025-03-01"), "au-pspf-002-2025-kaspersky")
    removes = [f for f in au if f.requirement == Requirement.REMOVE]
    assert removes and {f.deadline for f in removes} == {"2025-04-01"}


# --------------------------------------------------------------------------- TikTok, US federal agency


def test_tiktok_agency_after_act_and_m_23_13_deadlines(reg, matcher):
    need(reg, ("us-no-tiktok-gov-devices-act-2022", "us-omb-m-23-13"), (AGENCY,))
    app = observe(matcher, "app", {"bundle_id": "com.zhiliaoapp.musically", "name": "TikTok"}, asset="phone-17",
                  evidence=EvidenceClass.MOBILE)
    assert app.family == "bytedance" and app.product_id == "tiktok"
    r = run(reg, app, AGENCY, "2023-06-01")
    act = by_restriction(r, "us-no-tiktok-gov-devices-act-2022")
    assert Requirement.REMOVE in {f.requirement for f in act}
    omb = by_restriction(r, "us-omb-m-23-13")
    assert ("remove", "2023-03-29") in {(f.requirement.value, f.deadline) for f in omb}
    assert Requirement.PROHIBITED in {f.requirement for f in omb}  # block traffic from 2023-03-29
    assert ("do-not-procure", "2023-05-28") in {(f.requirement.value, f.deadline) for f in omb}
    # before M-23-13 was issued, nothing from it
    assert not by_restriction(run(reg, app, AGENCY, "2023-02-01"), "us-omb-m-23-13")


# --------------------------------------------------------------------------- embedded Kaspersky (oem)


def test_embedded_kaspersky_not_bod_17_01_but_s1634_and_far(reg):
    need(reg, ("us-dhs-bod-17-01", "us-ndaa18-s1634", "us-far-52-204-23"), (AGENCY, CONTRACTOR))
    oem = detection("kaspersky", product_id=None, category="security-software", relation=Relation.OEM,
                    entity_id="kaspersky-lab", entity="AO Kaspersky Lab", name="Kaspersky anti-virus engine SDK")
    assert not by_restriction(run(reg, oem, AGENCY, "2017-10-01"), "us-dhs-bod-17-01")
    s1634 = by_restriction(run(reg, oem, AGENCY, "2018-10-01"), "us-ndaa18-s1634")
    assert [f.requirement for f in s1634] == [Requirement.PROHIBITED]
    assert any("oem" in reason for reason in s1634[0].reasons)
    far = by_restriction(run(reg, oem, CONTRACTOR, "2018-10-01"), "us-far-52-204-23")
    assert Requirement.PROHIBITED in {f.requirement for f in far}


# --------------------------------------------------------------------------- BIS, FAR 52.204-23 windows


def test_bis_final_determination_us_person_advisory_only(reg, matcher):
    need(reg, ("us-bis-kaspersky-final-determination-2024", "us-bis-entity-list-kaspersky-2024"), ("us-person",))
    kes = observe(matcher, "software", KES)
    r = run(reg, kes, "us-person", "2024-10-01")
    bis = by_restriction(r, "us-bis-kaspersky-final-determination-2024")
    assert bis, "the final determination names U.S. persons"
    assert {f.requirement for f in r.findings} == {Requirement.ADVISORY}
    # before it takes effect: an upcoming note, no finding
    r0 = run(reg, kes, "us-person", "2024-07-01")
    assert not by_restriction(r0, "us-bis-kaspersky-final-determination-2024")
    # one upcoming note per stage, each with its own date
    assert [u["effective"] for u in r0.upcoming if u["restriction"] == "us-bis-kaspersky-final-determination-2024"] \
        == ["2024-07-20", "2024-09-29"]


def test_far_52_204_23_report_window_one_then_three_business_days(reg, matcher):
    need(reg, ("us-far-52-204-23",), (CONTRACTOR,))
    kes = observe(matcher, "software", KES)

    def first_report(day: str):
        r = run(reg, kes, CONTRACTOR, day, identified=day)
        return [(f.report_window["days"], f.deadline) for f in by_restriction(r, "us-far-52-204-23")
                if f.report_window and f.report_window["days"] in (1, 3)]

    # Friday 2023-12-01, before FAC 2023-06: 1 business day -> Monday 2023-12-04
    assert first_report("2023-12-01") == [(1, "2023-12-04")]
    # Monday 2023-12-04: the 3-day variant replaced it -> Thursday 2023-12-07
    assert first_report("2023-12-04") == [(3, "2023-12-07")]
    # Friday 2023-12-08 -> Wednesday 2023-12-13
    assert first_report("2023-12-08") == [(3, "2023-12-13")]
    # the two variants share one finding id (same action): the store keeps tracking one finding
    a = [f.id for f in by_restriction(run(reg, kes, CONTRACTOR, "2023-12-01"), "us-far-52-204-23")
         if f.report_window and f.report_window["days"] == 1]
    b = [f.id for f in by_restriction(run(reg, kes, CONTRACTOR, "2023-12-08"), "us-far-52-204-23")
         if f.report_window and f.report_window["days"] == 3]
    assert a == b


# --------------------------------------------------------------------------- Honor (former affiliate of Huawei)


def test_honor_after_sale_not_covered_before_sale_covered(reg):
    need(reg, ("us-ndaa19-s889",), (AGENCY,))
    honor = detection("huawei", product_id=None, category="mobile-device", relation=Relation.FORMER_AFFILIATE,
                      entity_id="honor", entity="Honor (Huawei sub-brand before the 2020 sale)", name="Honor 10")
    assert not by_restriction(run(reg, honor, AGENCY, "2021-06-01"), "us-ndaa19-s889")
    before = by_restriction(run(reg, honor, AGENCY, "2020-01-15"), "us-ndaa19-s889")
    assert before, "an Honor product while Honor belonged to Huawei counts as Huawei's"
    assert any("belonged to the huawei family" in reason for reason in before[0].reasons)

"""Golden scenarios for the November 2026 fact-sheet update (corrections and new instruments).

Each instrument is checked through the bundled registry and the real matcher on dates before, at and
after each change: requirement, deadline and citation.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from _policy_helpers import KES, by_restriction, detection, matcher, need, observe, reg, run  # noqa: F401

from banscan import policy
from banscan.cli import main
from banscan.model import EvidenceClass, Relation, Requirement
from banscan.scan import InputReport, ScanResult

TIKTOK = {"bundle_id": "com.zhiliaoapp.musically", "name": "TikTok"}
DEEPSEEK = {"bundle_id": "com.deepseek.chat", "name": "DeepSeek"}


def _app(matcher, fields, asset="phone-17"):
    return observe(matcher, "app", fields, asset=asset, evidence=EvidenceClass.MOBILE)


def _hikvision(matcher):
    return observe(matcher, "device", {"http_server": "Hikvision-Webs"}, asset="cam-lobby",
                   evidence=EvidenceClass.NETWORK_DEVICE)


def _dahua():
    return detection("dahua", product_id=None, category="video-surveillance", relation=Relation.PRODUCT,
                     entity_id="dahua-technology", entity="Zhejiang Dahua Technology Co., Ltd.", asset="cam-yard",
                     name="Dahua IPC")


def _huawei_phone():
    return detection("huawei", product_id="huawei-phones", category="mobile-device", relation=Relation.PRODUCT,
                     entity_id="huawei-technologies", entity="Huawei Technologies Co., Ltd.", asset="phone-3",
                     name="HUAWEI P60")


def reqs(result, rid):
    return sorted((f.requirement.value, f.deadline) for f in by_restriction(result, rid))


# --------------------------------------------------------------------------- TikTok: product-level ownership


def test_pafaca_covers_the_us_tiktok_app_until_the_joint_venture_closes(reg, matcher):
    need(reg, ("us-pafaca-2024",), ("us-app-distributor",))
    app = _app(matcher, TIKTOK)
    before = by_restriction(run(reg, app, "us-app-distributor", "2026-01-21"), "us-pafaca-2024")
    assert [f.requirement for f in before] == [Requirement.PROHIBITED]
    assert before[0].citation == "Pub. L. 118-50, div. H, §2(a)"
    assert before[0].deadline is None
    for day in ("2026-01-22", "2026-01-23", "2026-11-30"):
        r = run(reg, app, "us-app-distributor", day)
        assert not by_restriction(r, "us-pafaca-2024"), day
        assert not [u for u in r.upcoming if u["restriction"] == "us-pafaca-2024"], day


def test_pafaca_still_covers_other_bytedance_apps_after_the_joint_venture(reg, matcher):
    capcut = _app(matcher, {"bundle_id": "com.lemon.lvoverseas", "name": "CapCut"})
    assert capcut.product_id == "capcut"
    after = by_restriction(run(reg, capcut, "us-app-distributor", "2026-01-23"), "us-pafaca-2024")
    assert [f.requirement for f in after] == [Requirement.PROHIBITED]


def test_no_tiktok_act_names_the_service_and_keeps_covering_it_with_a_note(reg, matcher):
    need(reg, ("us-no-tiktok-gov-devices-act-2022", "us-omb-m-23-13"), ("us-federal-agency",))
    app = _app(matcher, TIKTOK)
    before = by_restriction(run(reg, app, "us-federal-agency", "2026-01-21"), "us-no-tiktok-gov-devices-act-2022")
    after = by_restriction(run(reg, app, "us-federal-agency", "2026-01-23"), "us-no-tiktok-gov-devices-act-2022")
    assert [f.requirement for f in before] == [f.requirement for f in after] == [Requirement.REMOVE]
    assert after[0].citation == "Pub. L. 117-328, div. R, §102"
    assert before[0].id == after[0].id  # the same finding stays open
    assert not any("USDS" in x for x in before[0].reasons)
    note = next(x for x in after[0].reasons if "TikTok USDS Joint Venture LLC" in x)
    assert "since 2026-01-22" in note and "19.9 %" in note
    assert "names the product or service itself" in note
    assert "unconfirmed" in note  # how the government reads it now is not confirmed
    # the FAR clause for contractors names the covered application too
    far = by_restriction(run(reg, app, "us-federal-contractor", "2026-01-23"), "us-far-52-204-27")
    assert [f.requirement for f in far] == [Requirement.PROHIBITED]
    assert any("TikTok USDS Joint Venture LLC" in x for x in far[0].reasons)


def test_tiktok_outside_the_us_is_still_bytedance_s(reg, matcher):
    need(reg, ("uk-tiktok-gov-devices-2023", "uk-parliament-tiktok-2023"), ("uk-government", "uk-parliament"))
    app = _app(matcher, TIKTOK)
    uk = by_restriction(run(reg, app, "uk-government", "2026-01-23"), "uk-tiktok-gov-devices-2023")
    assert uk and not any("USDS" in x for f in uk for x in f.reasons)


# --------------------------------------------------------------------------- FAR 52.204-24/-25/-26


def _far(reg, det, day):
    return {f.citation: f for f in by_restriction(run(reg, det, "us-federal-contractor", day, identified=day),
                                                  "us-far-52-204-24-25-26")}


def test_far_representation_duties_start_on_their_own_rules_dates(reg, matcher):
    need(reg, ("us-far-52-204-24-25-26",), ("us-federal-contractor",))
    cam = _hikvision(matcher)
    assert _far(reg, cam, "2019-08-12") == {}
    part_a = _far(reg, cam, "2019-08-13")
    assert "FAR 52.204-24(d)(1) (Part A, 84 FR 40216)" in part_a
    assert part_a["FAR 52.204-25(b)(1)"].requirement == Requirement.DO_NOT_PROCURE
    assert not [c for c in part_a if c.startswith("FAR 52.204-26")]
    assert "FAR 52.204-25(b)(2)" not in part_a
    # 52.204-26 annual representation (provides) from 2019-12-13
    assert not [c for c in _far(reg, cam, "2019-12-12") if c.startswith("FAR 52.204-26")]
    dec = _far(reg, cam, "2019-12-13")
    assert dec["FAR 52.204-26(c)(1) (84 FR 68314)"].requirement == Requirement.REPORT
    assert "FAR 52.204-26(c)(2) (85 FR 53126)" not in dec
    # Part B: use prohibited and per-offer "use" representation from 2020-08-13
    assert "FAR 52.204-24(d)(2) (Part B, 85 FR 42665)" not in _far(reg, cam, "2020-08-12")
    aug = _far(reg, cam, "2020-08-13")
    assert aug["FAR 52.204-25(b)(2)"].requirement == Requirement.PROHIBITED
    assert aug["FAR 52.204-24(d)(2) (Part B, 85 FR 42665)"].requirement == Requirement.REPORT
    # the annual "does / does not use" representation only from 2020-10-26
    assert "FAR 52.204-26(c)(2) (85 FR 53126)" not in _far(reg, cam, "2020-10-25")
    assert _far(reg, cam, "2020-10-26")["FAR 52.204-26(c)(2) (85 FR 53126)"].requirement == Requirement.REPORT
    # upcoming notes name the later duties with their dates
    up = run(reg, cam, "us-federal-contractor", "2019-08-13").upcoming
    assert {u["effective"] for u in up if u["restriction"] == "us-far-52-204-24-25-26"} == \
        {"2019-12-13", "2020-08-13", "2020-10-26"}


def test_far_instrument_cites_the_corrected_federal_register_pages(reg):
    r = reg.restrictions["us-far-52-204-24-25-26"]
    for cite in ("84 FR 40216", "FAR Case 2018-017", "84 FR 68314", "85 FR 42665", "85 FR 53126", "FAR Case 2019-009"):
        assert cite in r.instrument
    assert "84 FR 40220" not in r.instrument


# --------------------------------------------------------------------------- OMB M-23-13, 120 days


def test_omb_m_23_13_120_day_solicitation_duty(reg, matcher):
    app = _app(matcher, TIKTOK)
    omb = reqs(run(reg, app, "us-federal-agency", "2023-03-01"), "us-omb-m-23-13")
    assert ("do-not-procure", "2023-06-27") in omb
    assert ("do-not-procure", "2023-05-28") in omb
    assert not by_restriction(run(reg, app, "us-federal-agency", "2023-02-26"), "us-omb-m-23-13")


# --------------------------------------------------------------------------- South Korea: a pause with an end


def test_korean_deepseek_pause_is_regulator_coordinated_and_ends(reg, matcher):
    need(reg, ("kr-pipc-deepseek-2025",), ("kr-nationwide",))
    app = _app(matcher, DEEPSEEK)
    assert not by_restriction(run(reg, app, "kr-nationwide", "2025-02-14"), "kr-pipc-deepseek-2025")
    during = by_restriction(run(reg, app, "kr-nationwide", "2025-02-15"), "kr-pipc-deepseek-2025")
    assert [f.requirement for f in during] == [Requirement.ADVISORY]
    assert during[0].legal_force == "regulator-coordinated-suspension"
    assert during[0].citation == "PIPC-coordinated suspension of DeepSeek app downloads, 2025-02-15"
    assert by_restriction(run(reg, app, "kr-nationwide", "2025-04-27"), "kr-pipc-deepseek-2025")
    assert not by_restriction(run(reg, app, "kr-nationwide", "2025-04-28"), "kr-pipc-deepseek-2025")


# --------------------------------------------------------------------------- Kaspersky corrections


def test_bsi_warning_advisory_with_the_court_decisions(reg, matcher):
    kes = observe(matcher, "software", KES)
    assert not by_restriction(run(reg, kes, "de-nationwide", "2022-03-14"), "de-bsi-kaspersky-2022")
    bsi = by_restriction(run(reg, kes, "de-nationwide", "2022-04-28"), "de-bsi-kaspersky-2022")
    assert [f.requirement for f in bsi] == [Requirement.ADVISORY]
    notes = " ".join(reg.restrictions["de-bsi-kaspersky-2022"].notes)
    assert "2022-04-01 (Az. 1 L 466/22)" in notes and "2022-04-28 (Az. 4 B 473/22)" in notes


def test_dutch_phase_out_cites_the_kamerstuk(reg, matcher):
    av = observe(matcher, "software", {"name": "Kaspersky Anti-Virus", "publisher": "AO Kaspersky Lab"})
    assert not by_restriction(run(reg, av, "nl-central-government", "2018-05-13"), "nl-kaspersky-phaseout-2018")
    nl = by_restriction(run(reg, av, "nl-central-government", "2018-05-14"), "nl-kaspersky-phaseout-2018")
    assert [(f.requirement, f.deadline) for f in nl] == [(Requirement.REMOVE, None)]
    assert nl[0].citation.startswith("Kamerstukken 30 821 / 26 643, nr. 46")


def test_lithuania_replacement_duty_agreed_with_the_ncsc(reg, matcher):
    kes = observe(matcher, "software", KES)
    assert not by_restriction(run(reg, kes, "lt-state-institution", "2017-12-19"), "lt-kaspersky-2017")
    state = by_restriction(run(reg, kes, "lt-state-institution", "2017-12-20"), "lt-kaspersky-2017")
    assert [(f.requirement, f.deadline) for f in state] == [(Requirement.REMOVE, None)]
    assert "National Cyber Security Centre" in state[0].action
    cii = by_restriction(run(reg, kes, "lt-critical-infrastructure", "2018-01-10"), "lt-kaspersky-2017")
    assert [f.requirement for f in cii] == [Requirement.REMOVE]
    assert "National Cyber Security Centre" not in cii[0].action


# --------------------------------------------------------------------------- NDAA FY2024 §805 (1260H)


def test_ndaa24_s805_two_dated_stages(reg, matcher):
    need(reg, ("us-ndaa24-s805-1260h",), ("us-dod-contractor", "us-navy"))
    phone = _huawei_phone()
    r0 = run(reg, phone, "us-dod-contractor", "2026-06-29")
    assert not by_restriction(r0, "us-ndaa24-s805-1260h")
    assert [(u["effective"], u["requirement"]) for u in r0.upcoming if u["restriction"] == "us-ndaa24-s805-1260h"] \
        == [("2026-06-30", "do-not-procure"), ("2027-06-30", "prohibited")]
    r1 = run(reg, phone, "us-dod-contractor", "2026-06-30")
    s1 = by_restriction(r1, "us-ndaa24-s805-1260h")
    assert [(f.requirement, f.citation) for f in s1] == [(Requirement.DO_NOT_PROCURE, "NDAA FY2024 §805 (from 2026-06-30)")]
    assert [(u["effective"], u["requirement"]) for u in r1.upcoming if u["restriction"] == "us-ndaa24-s805-1260h"] \
        == [("2027-06-30", "prohibited")]
    assert "us-ndaa24-s805-1260h" not in {f.restriction for f in run(reg, phone, "us-dod-contractor", "2027-06-29").findings
                                          if f.requirement == Requirement.PROHIBITED}
    s2 = by_restriction(run(reg, phone, "us-dod-contractor", "2027-06-30"), "us-ndaa24-s805-1260h")
    assert {(f.requirement, f.citation) for f in s2} == {(Requirement.DO_NOT_PROCURE, "NDAA FY2024 §805 (from 2026-06-30)"),
                                                        (Requirement.PROHIBITED, "NDAA FY2024 §805 (from 2027-06-30)")}
    # Tencent is on the list (added 2025-01-06); the DoD itself (Navy) is bound too; a contractor profile
    # is still a federal contractor
    wechat = _app(matcher, {"bundle_id": "com.tencent.mm", "name": "WeChat"})
    assert by_restriction(run(reg, wechat, "us-navy", "2026-07-01"), "us-ndaa24-s805-1260h")
    assert "us-federal-contractor" in reg.profile("us-dod-contractor").all_tags
    # Dahua is not on the list as encoded; a plain federal contractor is not bound
    assert not by_restriction(run(reg, _dahua(), "us-dod-contractor", "2027-07-01"), "us-ndaa24-s805-1260h")
    assert not by_restriction(run(reg, phone, "us-federal-contractor", "2027-07-01"), "us-ndaa24-s805-1260h")


# --------------------------------------------------------------------------- Canada, Québec


def test_canada_hikvision_order(reg, matcher):
    need(reg, ("ca-hikvision-ica-2025",), ("ca-government",))
    cam = _hikvision(matcher)
    assert not by_restriction(run(reg, cam, "ca-government", "2025-06-26"), "ca-hikvision-ica-2025")
    ca = by_restriction(run(reg, cam, "ca-government", "2025-06-27"), "ca-hikvision-ica-2025")
    assert reqs(run(reg, cam, "ca-government", "2025-06-27"), "ca-hikvision-ica-2025") == \
        [("do-not-procure", None), ("remove", None)]
    assert {f.citation for f in ca} == {"Investment Canada Act s. 25.4 order of 2025-06-27"}
    assert not by_restriction(run(reg, _dahua(), "ca-government", "2025-07-01"), "ca-hikvision-ica-2025")


def test_quebec_order_on_hikvision_and_dahua(reg, matcher):
    need(reg, ("ca-qc-surveillance-2023",), ("ca-qc-public-body",))
    for det in (_hikvision(matcher), _dahua()):
        assert not by_restriction(run(reg, det, "ca-qc-public-body", "2023-12-20"), "ca-qc-surveillance-2023")
        r = run(reg, det, "ca-qc-public-body", "2023-12-21")
        assert reqs(r, "ca-qc-surveillance-2023") == [("do-not-procure", None), ("report", None)]
        assert {f.citation for f in by_restriction(r, "ca-qc-surveillance-2023")} == \
            {"Québec ministerial order of 2023-12-21 on video-surveillance equipment"}
    # the federal government is not a Québec public body
    assert not by_restriction(run(reg, _dahua(), "ca-government", "2024-01-10"), "ca-qc-surveillance-2023")


# --------------------------------------------------------------------------- DeepSeek


@pytest.mark.parametrize(("rid", "profile", "day", "requirement", "citation"), [
    ("be-deepseek-federal-2025", "be-federal-government", "2025-12-01", Requirement.PROHIBITED,
     "Belgian federal circular on DeepSeek, in force 2025-12-01"),
    ("de-berlin-dsa-deepseek-2025", "de-nationwide", "2025-06-27", Requirement.ADVISORY,
     "DSA Art. 16 notice of the Berlin data protection commissioner, 2025-06-27"),
    ("in-mof-ai-tools-2025", "in-ministry-of-finance", "2025-01-29", Requirement.PROHIBITED,
     "Ministry of Finance (Department of Expenditure) office memorandum of 2025-01-29"),
    ("us-va-eo46-2025", "us-state-va", "2025-02-11", Requirement.PROHIBITED, "Virginia Executive Order 46 (2025)"),
])
def test_deepseek_instruments_before_at_after(reg, matcher, rid, profile, day, requirement, citation):
    need(reg, (rid,), (profile,))
    app = _app(matcher, DEEPSEEK)
    start = dt.date.fromisoformat(day)
    assert not by_restriction(run(reg, app, profile, (start - dt.timedelta(days=1)).isoformat()), rid)
    for d in (start, start + dt.timedelta(days=200)):
        fs = by_restriction(run(reg, app, profile, d.isoformat()), rid)
        assert [(f.requirement, f.citation, f.deadline) for f in fs] == [(requirement, citation, None)], d


def test_belgian_federal_ban_also_covers_use_of_the_deepseek_service(reg):
    svc = detection("deepseek", product_id="deepseek-chat", category="ai-service", relation=Relation.SERVICE_CLIENT,
                    entity_id="deepseek", entity="Hangzhou DeepSeek Artificial Intelligence", name="chat.deepseek.com")
    assert [f.requirement for f in by_restriction(run(reg, svc, "be-federal-government", "2025-12-02"),
                                                  "be-deepseek-federal-2025")] == [Requirement.PROHIBITED]


# --------------------------------------------------------------------------- TikTok elsewhere


def test_uk_parliament_blocks_tiktok(reg, matcher):
    app = _app(matcher, TIKTOK)
    assert not by_restriction(run(reg, app, "uk-parliament", "2023-03-22"), "uk-parliament-tiktok-2023")
    for day in ("2023-03-23", "2026-01-23"):  # the US joint venture does not change the UK app
        fs = by_restriction(run(reg, app, "uk-parliament", day), "uk-parliament-tiktok-2023")
        assert [(f.requirement, f.citation) for f in fs] == [(Requirement.PROHIBITED,
                                                              "UK Parliament decision of 2023-03-23 (TikTok)")]
    # Parliament is not a government department, and the reverse
    assert not by_restriction(run(reg, app, "uk-parliament", "2023-06-01"), "uk-tiktok-gov-devices-2023")
    assert not by_restriction(run(reg, app, "uk-government", "2023-06-01"), "uk-parliament-tiktok-2023")


def test_taiwan_nsb_advisory(reg, matcher):
    need(reg, ("tw-nsb-apps-2025",), ("tw-public-sector",))
    for fields in (TIKTOK, {"bundle_id": "com.tencent.mm", "name": "WeChat"},
                   {"bundle_id": "com.ss.android.ugc.aweme", "name": "抖音"}):
        app = _app(matcher, fields)
        assert not by_restriction(run(reg, app, "tw-public-sector", "2025-07-01"), "tw-nsb-apps-2025")
        fs = by_restriction(run(reg, app, "tw-public-sector", "2025-07-02"), "tw-nsb-apps-2025")
        assert [(f.requirement, f.legal_force) for f in fs] == [(Requirement.ADVISORY, "advisory")]
    capcut = _app(matcher, {"bundle_id": "com.lemon.lvoverseas", "name": "CapCut"})
    assert not by_restriction(run(reg, capcut, "tw-public-sector", "2025-07-02"), "tw-nsb-apps-2025")


@pytest.mark.parametrize(("rid", "force"), [("us-mt-sb419-2023", "never-in-force"),
                                            ("ca-tiktok-canada-windup-2024", "context")])
def test_instruments_that_bind_no_one_never_give_a_finding(reg, matcher, rid, force):
    need(reg, (rid,))
    r = reg.restrictions[rid]
    assert r.legal_force.value == force and r.binds == [] and r.obligations == []
    app = _app(matcher, TIKTOK)
    for profile in reg.profiles:
        for day in ("2023-06-01", "2024-01-02", "2024-11-07", "2026-02-01"):
            res = run(reg, app, profile, day)
            assert not by_restriction(res, rid) and not [u for u in res.upcoming if u["restriction"] == rid]
    info = {i["id"]: i for i in policy.information(["bytedance"], reg)["bytedance"]}
    assert info[rid]["legal_force"] == force
    assert info[rid]["binds_no_one"]


def _run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(argv)
    out = capsys.readouterr()
    return int(e.value.code or 0), out.out, out.err


def test_explain_says_why_montana_binds_no_one(tmp_path: Path, reg, matcher, capsys):
    need(reg, ("us-mt-sb419-2023", "us-pafaca-2024"), ("us-app-distributor",))
    app = _app(matcher, TIKTOK)
    result = ScanResult(registry=reg.meta(), profiles=["us-app-distributor"], as_of=dt.date(2026, 2, 1),
                        started_at="2026-02-01T09:00:00+00:00", finished_at="2026-02-01T09:00:01+00:00",
                        inputs=[InputReport(path="apps.json", format="test", observations=1)], detections=[app])
    policy.apply(result, reg, [reg.profile("us-app-distributor")])
    assert result.findings == []  # PAFACA no longer covers the US app; SB 419 never bound anyone
    p = tmp_path / "report.json"
    p.write_text(json.dumps(result.to_dict()), encoding="utf-8")
    code, out, err = _run_cli(["explain", app.id, "--report", str(p)], capsys)
    assert code == 0, err
    text = " ".join(out.split())
    assert "No restriction binds profile(s) us-app-distributor" in text
    assert "- us-mt-sb419-2023: US-MT, Montana SB 419 (2023) [never-in-force]" in text
    assert "Binds no one — never in force: it was blocked before it took effect" in text
    assert "blocked by a federal court on 30 November 2023 and never took effect" in text
    assert "Binds no one — recorded as context" in text  # the Canadian wind-up order
    code, out, err = _run_cli(["explain", app.id, "--report", str(p), "--format", "json"], capsys)
    assert code == 0, err
    info = {i["id"]: i for i in json.loads(out)["information"]}
    assert info["us-mt-sb419-2023"]["binds_no_one"].startswith("never in force")


def test_timeline_shows_when_pafaca_stops_covering_the_us_app(reg):
    from banscan.policy.timeline import timeline_rows

    rows = {r["id"]: r for r in timeline_rows("bytedance", reg)}
    pafaca = [e for e in rows["us-pafaca-2024"]["events"] if e["kind"] == "change"]
    assert [(e["date"], e["what"].split(":")[0]) for e in pafaca] == [("2026-01-22", "no longer covers TikTok here")]
    act = [e for e in rows["us-no-tiktok-gov-devices-act-2022"]["events"] if e["kind"] == "change"]
    assert [e["date"] for e in act] == ["2026-01-22"] and act[0]["what"].startswith("still covers TikTok")
    assert not [e for e in rows["uk-tiktok-gov-devices-2023"]["events"] if e["kind"] == "change"]  # GB: unaffected
    assert not [e for e in rows["us-mt-sb419-2023"]["events"] if e["kind"] == "change"]  # never in force


# --------------------------------------------------------------------------- dated ownership: Sepura


def _sepura_radio():
    return detection("hytera", product_id="sepura-radios", category="radio", relation=Relation.FORMER_AFFILIATE,
                     entity_id="sepura", entity="Sepura Limited", asset="radio-9", name="Sepura SC20")


def test_sepura_radio_first_seen_while_hytera_owned_sepura_vs_after_the_sale(reg):
    need(reg, ("us-far-52-204-24-25-26", "us-ndaa19-s889"), ("us-federal-contractor",))
    radio = _sepura_radio()
    # first seen in 2021 (Hytera's subsidiary then): still covered when evaluated in 2023
    bought = by_restriction(run(reg, radio, "us-federal-contractor", "2023-06-01", identified="2021-03-01"),
                            "us-far-52-204-24-25-26")
    assert Requirement.PROHIBITED in {f.requirement for f in bought}
    note = next(x for x in bought[0].reasons if "Sepura Limited belonged to the hytera family" in x)
    assert "2021-03-01" in note and "2017-05-24 to 2022-07-14" in note
    # first seen in 2023, after the sale on 2022-07-14: not Hytera's product
    assert not by_restriction(run(reg, radio, "us-federal-contractor", "2023-06-01", identified="2023-03-01"),
                              "us-far-52-204-24-25-26")
    # the day before and the day of the sale
    assert by_restriction(run(reg, radio, "us-federal-contractor", "2023-06-01", identified="2022-07-13"),
                          "us-far-52-204-24-25-26")
    assert not by_restriction(run(reg, radio, "us-federal-contractor", "2023-06-01", identified="2022-07-14"),
                              "us-far-52-204-24-25-26")
    # no first-seen date known: the evaluation day decides
    assert by_restriction(run(reg, radio, "us-federal-contractor", "2021-06-01"), "us-far-52-204-24-25-26")
    assert not by_restriction(run(reg, radio, "us-federal-contractor", "2023-06-01"), "us-far-52-204-24-25-26")

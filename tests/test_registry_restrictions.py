"""Facts of the bundled restrictions and profiles, checked against the sourced fact sheet."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from banscan import registry as registry_mod
from banscan.registry import Registry
from banscan.registry.schema import LegalForce, Restriction

D = dt.date.fromisoformat
DOCS = Path(__file__).resolve().parents[1] / "docs" / "profiles.md"


@pytest.fixture(scope="module")
def reg() -> Registry:
    return registry_mod.load()


def r_(reg: Registry, rid: str) -> Restriction:
    assert rid in reg.restrictions, f"restriction {rid} is missing"
    return reg.restrictions[rid]


def due(r: Restriction, o) -> dt.date | None:
    if o.due is not None:
        return o.due
    if o.due_offset_days is not None:
        return r.adopted + dt.timedelta(days=o.due_offset_days)
    return None


def start(r: Restriction, o) -> dt.date:
    if o.effective is not None:
        return o.effective
    if o.effective_offset_days is not None:
        return r.adopted + dt.timedelta(days=o.effective_offset_days)
    return r.effective or r.adopted


# --------------------------------------------------------------------------- whole registry


def test_restriction_count(reg):
    assert len(reg.restrictions) >= 40


def test_every_restriction_has_url_sources(reg):
    for r in reg.restrictions.values():
        assert r.sources, r.id
        for s in r.sources:
            assert re.match(r"^https?://\S+$", s), (r.id, s)


def test_every_binds_tag_is_answered_by_a_profile(reg):
    answered = set().union(*(p.all_tags for p in reg.profiles.values()))
    for r in reg.restrictions.values():
        for tag in r.binds:
            assert tag in answered, f"{r.id} binds '{tag}', which no profile answers to"


def test_obligation_profiles_are_binds_tags(reg):
    for r in reg.restrictions.values():
        for o in r.obligations:
            assert set(o.profiles or ()) <= set(r.binds), r.id


def test_non_binding_instruments_are_advisory_only(reg):
    for r in reg.restrictions.values():
        if not r.legal_force.binds_anyone:  # never in force, or context: nothing to do at all
            assert r.obligations == [] and r.binds == [], r.id
        elif not r.legal_force.binding:
            assert {o.requirement for o in r.obligations} == {"advisory"}, r.id


def test_report_variants_do_not_overlap(reg):
    """An obligation variant that ends on a date is replaced by one that starts on that date."""
    for r in reg.restrictions.values():
        for o in r.obligations:
            if o.until is not None:
                assert start(r, o) < o.until, r.id
                assert any(x.effective == o.until and x.requirement == o.requirement for x in r.obligations), r.id


def test_unconfirmed_robotic_devices_entry_is_left_out(reg):
    assert "fcc-cl-robotic-devices" not in reg.restrictions


def test_profiles_have_descriptions_and_jurisdictions(reg):
    for p in reg.profiles.values():
        assert len(p.description) > 40, p.id
        assert p.jurisdictions, p.id


# --------------------------------------------------------------------------- Kaspersky, U.S.


def test_bod_17_01_dates_and_offsets(reg):
    r = r_(reg, "us-dhs-bod-17-01")
    assert r.adopted == D("2017-09-13")
    assert r.legal_force == LegalForce.BINDING_DIRECTIVE
    assert r.binds == ["us-federal-agency"]
    steps = [(o.requirement, o.due_offset_days, due(r, o)) for o in r.obligations]
    assert steps == [
        ("report", 30, D("2017-10-13")),
        ("remove", 60, D("2017-11-12")),
        ("remove", 90, D("2017-12-12")),
    ]
    assert "plan" in r.obligations[1].action.lower()
    assert "begin" in r.obligations[2].action.lower()


def test_bod_17_01_scope_excludes_embedded_code_and_services(reg):
    r = r_(reg, "us-dhs-bod-17-01")
    assert r.covers.families == ["kaspersky"]
    assert r.covers.relations == ["product"]
    assert set(r.covers.exclude_products) == {"kaspersky-threat-intelligence", "kaspersky-security-training"}


def test_ndaa18_s1634_effective_2018_10_01(reg):
    r = r_(reg, "us-ndaa18-s1634")
    assert r.adopted == D("2017-12-12")
    assert r.effective == D("2018-10-01")
    assert r.legal_force == LegalForce.BINDING_LAW
    assert [o.requirement for o in r.obligations] == ["prohibited"]
    assert "oem" in r.covers.relations  # "in whole or in part"
    assert reg.profile("us-federal-agency").all_tags & set(r.binds)


def test_far_52_204_23_report_windows(reg):
    r = r_(reg, "us-far-52-204-23")
    assert r.adopted == D("2018-06-15")
    assert r.effective == D("2018-07-16")
    prohibited = [o for o in r.obligations if o.requirement == "prohibited"]
    assert [o.effective for o in prohibited] == [D("2018-10-01")]
    windows = {(o.window.days, o.until, o.effective) for o in r.obligations if o.window}
    assert windows == {
        (1, D("2023-12-04"), None),
        (3, None, D("2023-12-04")),
        (10, None, None),
    }
    assert all(o.window.business for o in r.obligations if o.window)


def test_bis_final_determination_advisory_for_end_users(reg):
    r = r_(reg, "us-bis-kaspersky-final-determination-2024")
    assert r.adopted == D("2024-06-20")
    assert r.effective == D("2024-07-20")
    for o in r.obligations:
        if o.profiles == ["us-person"]:
            assert o.requirement == "advisory"
    resale = [o for o in r.obligations if o.profiles == ["us-ict-reseller"]]
    assert [(o.requirement, o.effective) for o in resale] == [("prohibited", D("2024-09-29"))]
    assert "kaspersky-threat-intelligence" in r.covers.exclude_products


def test_fcc_covered_list_added_kaspersky_2022_03_25(reg):
    r = r_(reg, "fcc-cl-kaspersky")
    assert r.adopted == D("2022-03-25")
    assert r.covers.families == ["kaspersky"]
    assert "us-telecom-carrier" in r.binds


def test_fcc_covered_list_entries(reg):
    for fam in ("huawei", "zte", "hytera", "hikvision", "dahua"):
        assert r_(reg, f"fcc-cl-{fam}").adopted == D("2021-03-12")
    pacnet = r_(reg, "fcc-cl-pacnet-comnet")
    assert pacnet.adopted == D("2022-09-20")
    bar = [o for o in pacnet.obligations if o.profiles == ["us-telecom-carrier"]][0]
    assert start(pacnet, bar) == D("2022-11-19")
    assert r_(reg, "us-fcc-22-84").effective == D("2023-02-06")
    assert r_(reg, "fcc-cl-dji-autel").adopted == D("2025-12-22")


# --------------------------------------------------------------------------- NDAA s.889


def test_s889_part_a_and_part_b(reg):
    r = r_(reg, "us-ndaa19-s889")
    assert r.effective == D("2019-08-13")  # Part A
    part_b = [o for o in r.obligations if o.citation and "(a)(1)(B)" in o.citation]
    assert len(part_b) == 1
    assert part_b[0].effective == D("2020-08-13")
    assert part_b[0].requirement == "prohibited"
    grants = [o for o in r.obligations if o.citation and o.citation.endswith("§889(b)")]
    assert [o.effective for o in grants] == [D("2020-08-13")]
    assert set(r.covers.families) == {"huawei", "zte", "hytera", "hikvision", "dahua"}
    assert "video-surveillance" in {c.value for c in r.covers.categories}
    assert "security-software" not in {c.value for c in r.covers.categories}


def test_far_52_204_25_part_b_and_report_windows(reg):
    r = r_(reg, "us-far-52-204-24-25-26")
    assert r.adopted == D("2019-08-13")
    prohibited = [o for o in r.obligations if o.requirement == "prohibited"]
    assert [o.effective for o in prohibited] == [D("2020-08-13")]
    assert sorted(o.window.days for o in r.obligations if o.window) == [1, 10]


def test_2cfr_200_216(reg):
    r = r_(reg, "us-2cfr-200-216")
    assert r.adopted == D("2020-08-13")
    assert r.binds == ["us-federal-grantee"]


# --------------------------------------------------------------------------- TikTok, U.S.


def test_tiktok_act_and_omb_m_23_13(reg):
    act = r_(reg, "us-no-tiktok-gov-devices-act-2022")
    assert act.adopted == D("2022-12-29")
    assert act.covers.products == ["tiktok"]
    omb = r_(reg, "us-omb-m-23-13")
    assert omb.adopted == D("2023-02-27")
    removal = [o for o in omb.obligations if o.requirement == "remove"]
    assert [due(omb, o) for o in removal] == [D("2023-03-29")]
    assert omb.covers.products == ["tiktok"]
    far = r_(reg, "us-far-52-204-27")
    assert far.adopted == D("2023-06-02")
    assert far.binds == ["us-federal-contractor"]


# --------------------------------------------------------------------------- elsewhere


def test_ep_resolution_2018_is_non_binding(reg):
    r = r_(reg, "eu-ep-2018-cyber-defence-res")
    assert r.adopted == D("2018-06-13")
    assert r.legal_force == LegalForce.NON_BINDING_RESOLUTION
    assert not r.legal_force.binding
    assert r.binds == ["eu-institution"]
    assert {o.requirement for o in r.obligations} == {"advisory"}
    assert "eu-institution" in reg.profile("eu-parliament").all_tags


def test_nl_kaspersky_phase_out_anti_virus_only(reg):
    r = r_(reg, "nl-kaspersky-phaseout-2018")
    assert r.adopted == D("2018-05-14")
    assert [c.value for c in r.covers.categories] == ["security-software"]
    gov = [o for o in r.obligations if o.profiles == ["nl-central-government"]]
    assert [(o.requirement, due(r, o)) for o in gov] == [("remove", None)]


def test_lithuania_decision_date(reg):
    assert r_(reg, "lt-kaspersky-2017").adopted == D("2017-12-20")


def test_au_pspf_002_2025_kaspersky_due_2025_04_01(reg):
    r = r_(reg, "au-pspf-002-2025-kaspersky")
    assert r.adopted == D("2025-02-21")
    assert r.binds == ["au-government"]
    dues = {o.requirement: due(r, o) for o in r.obligations}
    assert dues["remove"] == D("2025-04-01")
    assert dues["report"] == D("2025-04-01")
    assert r.adopted > D("2025-01-15")


def test_au_pspf_001_2025_deepseek_effective_next_day(reg):
    r = r_(reg, "au-pspf-001-2025-deepseek")
    assert (r.adopted, r.effective) == (D("2025-02-04"), D("2025-02-05"))


def test_uk_huawei_5g_deadlines(reg):
    r = r_(reg, "uk-huawei-5g")
    assert {due(r, o) for o in r.obligations if o.requirement == "remove"} == {D("2023-12-31"), D("2027-12-31")}


def test_canada_5g_deadlines(reg):
    r = r_(reg, "ca-5g-huawei-zte-2022")
    assert {due(r, o) for o in r.obligations if o.requirement == "remove"} == {D("2024-06-28"), D("2027-12-31")}


def test_sweden_phase_out_by_2025(reg):
    r = r_(reg, "se-pts-5g-2020")
    assert r.legal_force == LegalForce.BINDING_LICENCE_CONDITION
    assert [due(r, o) for o in r.obligations if o.requirement == "remove"] == [D("2025-01-01")]


def test_month_only_dates_are_first_of_month_and_noted(reg):
    for rid in ("us-gsa-kaspersky-schedules-2017", "dk-defence-tiktok-2023", "nz-parliament-tiktok-2023",
                "us-house-cao-deepseek-2025"):
        r = r_(reg, rid)
        assert r.adopted.day == 1, rid
        assert any("first of the month" in n for n in r.notes), rid


# --------------------------------------------------------------------------- profiles doc


def test_profiles_doc_example_overlay_validates(tmp_path):
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(# acme-profiles.yaml\n.*?)```", text, re.S)
    assert block, "docs/profiles.md lost its example overlay"
    f = tmp_path / "acme-profiles.yaml"
    f.write_text(block.group(1), encoding="utf-8")
    reg = registry_mod.load([f])
    p = reg.profile("acme-corp")
    assert {"us-federal-contractor", "us-federal-grantee", "us-ict-reseller", "us-person"} <= p.all_tags

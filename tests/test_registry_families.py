"""Facts the bundled family data and the generated IEEE table must keep."""

from __future__ import annotations

import datetime as dt
import re

import pytest

import banscan.registry as registry

REQUIRED = [
    "kaspersky", "huawei", "zte", "hikvision", "dahua", "hytera", "bytedance", "deepseek",
    "china-mobile", "china-telecom", "china-unicom", "pacific-networks", "dji", "autel",
    "group-ib", "positive-technologies", "tencent",
]

# native-script names the research sheets give (family -> (name, ISO 15924 script))
NATIVE = {
    "kaspersky": ("Лаборатория Касперского", "Cyrl"),
    "zte": ("中兴通讯", "Hans"),
    "hikvision": ("海康威视", "Hans"),
    "dahua": ("大华", "Hans"),
}

PRODUCTS = {
    "kaspersky": ["kaspersky-endpoint-security", "kaspersky-anti-virus", "kaspersky-threat-intelligence",
                  "kaspersky-security-training", "kaspersky-security-network"],
    "bytedance": ["tiktok", "lark", "capcut", "lemon8"],
    "tencent": ["wechat"],
    "deepseek": ["deepseek-app"],
}


@pytest.fixture(scope="module")
def reg() -> registry.Registry:
    return registry.load()


def _entity(reg, fid, name_part):
    return next(e for e in reg.families[fid].entities if name_part.lower() in e.name.lower())


@pytest.mark.parametrize("fid", REQUIRED)
def test_family_exists_with_parent(reg, fid):
    fam = reg.families[fid]
    parent = reg.parent(fid)
    assert parent.role == "parent" and parent.sources
    assert fam.sources


@pytest.mark.parametrize("fid", sorted(NATIVE))
def test_native_script_alias(reg, fid):
    name, script = NATIVE[fid]
    aliases = [a for e in reg.families[fid].entities for a in e.aliases]
    assert any(a.name == name and a.script == script and a.sources for a in aliases)


def test_chinese_names_of_bytedance_entities(reg):
    names = {a.name for e in reg.families["bytedance"].entities for a in e.aliases}
    assert {"北京火山引擎科技有限公司", "北京春田知韵科技有限公司"} <= names


@pytest.mark.parametrize("fid", sorted(PRODUCTS))
def test_products_referenced_by_restrictions_exist(reg, fid):
    ids = {p.id for p in reg.families[fid].products}
    assert set(PRODUCTS[fid]) <= ids


def test_honor_left_huawei_on_2020_11_17(reg):
    honor = _entity(reg, "huawei", "honor")
    assert honor.role == "former-member"
    assert honor.to == dt.date(2020, 11, 17)


def test_honor_device_has_no_positive_signature(reg):
    for s in reg.signatures:
        if s.negative or s.id == "huawei.organisation.honor":  # the former member's own (descriptive) name
            continue
        assert not any("honor" in v.lower() or "hihonor" in v.lower() for v in s.values), s.id
    # and the generated organisation signature of the former member does not make Honor's names Huawei
    from banscan.match import Matcher
    from banscan.model import Locator, Observation

    m = Matcher(reg, as_of=dt.date(2026, 11, 30))
    for pub in ("Honor Device Co., Ltd.", "HONOR", "Honor"):
        assert m.match(Observation("software", "a", {"publisher": pub}, Locator("x", "1"))) == [], pub


def test_lorex_belonged_to_dahua_2018_to_2022(reg):
    lorex = _entity(reg, "dahua", "lorex")
    assert lorex.role == "former-member"
    assert lorex.from_ == dt.date(2018, 2, 6)
    assert lorex.to == dt.date(2022, 11, 24)
    sigs = [s for s in reg.signatures if s.entity == lorex.id and not s.negative]
    assert sigs and all(s.relation == "former-affiliate" for s in sigs)


def test_subsidiaries_and_brands():
    reg = registry.load()
    assert _entity(reg, "hikvision", "ezviz").role == "subsidiary"
    assert _entity(reg, "dahua", "huacheng").role == "subsidiary"  # Imou
    assert _entity(reg, "hytera", "norsat").role == "subsidiary"
    assert _entity(reg, "hytera", "hytera mobilfunk").role == "subsidiary"
    assert _entity(reg, "huawei", "hisilicon").role == "subsidiary"


def test_every_signature_has_sources_and_valid_strength(reg):
    assert reg.signatures
    for s in reg.signatures:
        assert s.sources and all(len(x) >= 3 for x in s.sources), s.id
        assert s.strength in {"strong", "medium", "weak"}
    for fam in reg.families.values():
        for s in fam.signatures:
            assert s.conf in {"V", "C"}


def test_banner_values_are_literal_phrases(reg):
    for s in reg.signatures:
        if s.kind == "banner":
            for v in s.values:
                assert not re.search(r"\\[dswb]|\[\^|\.\+|\.\*|^\^|\$$", v), (s.id, v)


def test_domains_name_their_service(reg):
    for s in reg.signatures:
        if s.kind == "domain" and not s.negative:
            assert s.service, s.id
            assert all("/" not in v and not v.startswith(".") for v in s.values)


def test_snmp_pens(reg):
    pens = {(s.family, v) for s in reg.signatures if s.kind == "snmp-pen" and not s.negative for v in s.values}
    assert ("kaspersky", "23668") in pens
    assert ("huawei", "2011") in pens
    assert ("zte", "3902") in pens
    assert ("hikvision", "39165") in pens
    assert ("dahua", "37496") in pens
    assert ("hytera", "40297") in pens
    assert ("bytedance", "46045") in pens
    assert not any(v == "25506" for _, v in pens)  # H3C is not Huawei


def _negative_values(reg, fid, kind, ecosystem=None):
    return {v for s in reg.signatures if s.negative and s.family == fid and s.kind == kind
            and (ecosystem is None or s.ecosystem == ecosystem) for v in s.values}


def test_known_traps_are_negatives(reg):
    assert "lark" in _negative_values(reg, "bytedance", "package", "pypi")
    assert "tiktoken" in _negative_values(reg, "bytedance", "package", "pypi")
    assert "UltraEdit" in _negative_values(reg, "bytedance", "product-name")
    assert "Olark" in _negative_values(reg, "bytedance", "publisher")
    assert "opentip" in _negative_values(reg, "kaspersky", "package", "pypi")
    assert "hikvisionapi" in _negative_values(reg, "hikvision", "package", "pypi")
    assert "AZTECH SYSTEMS" in _negative_values(reg, "zte", "publisher")
    assert "com.hihonor." in _negative_values(reg, "huawei", "bundle-id")
    assert any(v.startswith("deepseek") for v in _negative_values(reg, "deepseek", "package", "pypi"))
    for s in reg.signatures:
        if s.negative:
            assert s.note and s.sources, s.id  # the reason


def test_oui_table_covers_the_hardware_families(reg):
    fams = {a.family for a in reg.oui}
    for fid in ("kaspersky", "huawei", "zte", "hikvision", "dahua", "hytera", "bytedance"):
        assert fid in fams, fid
    assert "deepseek" not in fams


def test_oui_table_has_no_look_alikes(reg):
    for a in reg.oui:
        org = a.organization.lower()
        assert not any(w in org for w in ("honor", "h3c", "uniview", "hikari", "aztech", "oztech")), a
        if a.family == "hikvision":
            assert org.startswith("hangzhou")
        if a.family == "zte":
            assert "zte" in org.split() or org.startswith(("zhongxing telecom", "shanghai zte")) \
                or (org.startswith("nubia") and a.entity == "nubia")


def test_oui_table_entities_and_prefixes(reg):
    widths = {"MA-L": 6, "MA-M": 7, "MA-S": 9, "IAB": 9}
    for a in reg.oui:
        assert len(a.prefix) == widths[a.registry], a
        if a.entity:
            assert a.entity in {e.id for e in reg.families[a.family].entities}, a
    by_prefix = {a.prefix: a for a in reg.oui}
    assert by_prefix["2CC44F9"].family == "kaspersky"
    assert by_prefix["001F54"].entity == "lorex"


def test_oui_table_records_its_data_date(reg):
    assert reg.oui_date and re.fullmatch(r"\d{4}-\d{2}-\d{2}", reg.oui_date)
    assert reg.oui_source and "ieee-data" in reg.oui_source

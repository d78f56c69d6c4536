"""Organisation, namespace and registrable-domain kinds and dated ownership, on real strings with
their look-alike traps (bundled registry; strings from signatures.md, updates-2026-11.md and the
IEEE / IANA registries)."""

from __future__ import annotations

import datetime as dt

import pytest

from banscan.match import Matcher
from banscan.match.kinds.domain import registrable
from banscan.match.kinds.namespace import canonical, canonical_image
from banscan.match.orgnames import compatible, parse
from banscan.model import EvidenceClass, Locator, Observation
from banscan.registry import load

TODAY = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def reg():  # noqa: ANN201
    return load()


@pytest.fixture(scope="module")
def m(reg) -> Matcher:  # noqa: ANN001
    return Matcher(reg, as_of=TODAY)


def obs(kind: str = "software", **fields: str | tuple[str, ...]) -> Observation:
    return Observation(kind, "pc-1", fields, Locator("inv.csv", "line 2"), EvidenceClass.INSTALLED)


def fams(m: Matcher, o: Observation) -> dict[str, str]:
    return {d.family: d.confidence.value for d in m.match(o)}


# --------------------------------------------------------------------------- organisation names


def test_normaliser_legal_forms_business_words_and_scripts() -> None:
    assert parse("Huawei Software Technologies Co., Ltd.").core == ("huawei",)
    assert parse("Huawei Device (Dongguan)").bare == ("huawei", "device")
    assert parse("杭州海康威视数字技术股份有限公司").core == ("海康威视",)
    assert parse("中兴通讯股份有限公司").core == parse("中兴通讯").core
    assert parse("АО «Лаборатория Касперского»").core == ("касперского",)
    assert parse("Teltronic S.A.U.").legal == frozenset({"sau"})
    assert compatible(parse("Kaspersky Lab ZAO").legal, parse("AO Kaspersky Lab").legal)
    assert compatible(parse("Huawei Technologies Company").legal, parse("HUAWEI TECHNOLOGIES CO.,LTD").legal)
    assert not compatible(parse("LARK Technologies, Inc").legal, parse("Lark Technologies Pte. Ltd.").legal)


@pytest.mark.parametrize(("publisher", "family", "entity"), [
    ("Huawei", "huawei", "huawei-technologies"),
    ("Huawei Software Technologies Co., Ltd.", "huawei", "huawei-technologies"),
    ("Huawei Device (Dongguan)", "huawei", "huawei-device"),
    ("HiSilicon", "huawei", "hisilicon"),
    ("DeepSeek", "deepseek", "deepseek"),
    ("Hikvision", "hikvision", "hikvision-digital"),
    ("杭州海康威视数字技术股份有限公司", "hikvision", "hikvision-digital"),
    ("海康威视", "hikvision", "hikvision-digital"),
    ("EZVIZ", "hikvision", "ezviz"),
    ("Лаборатория Касперского", "kaspersky", "kaspersky-lab"),
    ("中兴通讯", "zte", "zte-corporation"),
    ("ZTE", "zte", "zte-corporation"),
    ("Norsat International Inc.", "hytera", "norsat"),
])
def test_a_family_mark_with_or_without_business_words_is_the_family(
        m: Matcher, publisher: str, family: str, entity: str) -> None:
    d = m.match(obs(publisher=publisher))
    assert [(x.family, x.entity_id, x.confidence.value) for x in d] == [(family, entity, "certain")]


@pytest.mark.parametrize("publisher", [
    "H3C", "New H3C Technologies Co., Ltd.", "Huawei-3Com", "Honor Device Co., Ltd.", "Hikari Alphax Inc.",
    "AZTECH SYSTEMS LTD", "ZTEC Instruments, Inc.", "Skylark Wireless", "Shanghai Dahua Scale Factory",
    "Teltronic AG", "Teltronics, Inc.", "LARK Technologies, Inc", "Lorex Industries, Inc.",
    "Zhejiang Uniview Technologies", "InfoWatch", "Spring", "Sinclair Broadcast Group", "大华银行",
    "Wuxi Zhongxing Optoelectronics Technology Co., Ltd.",
])
def test_look_alike_organisations_are_refused(m: Matcher, publisher: str) -> None:
    assert m.match(obs(publisher=publisher)) == [], publisher


def test_a_mark_inside_a_longer_name_is_only_possible(m: Matcher) -> None:
    assert fams(m, obs(publisher="Prama Hikvision India Private Limited")) == {"hikvision": "possible"}
    # a library named after the vendor: information, not the vendor's product
    assert fams(m, obs("package", ecosystem="pypi", package="hikvision-isapi-client",
                       name="Hikvision ISAPI client")) == {"hikvision": "possible"}
    # a known third-party client is refused outright
    assert fams(m, obs("package", ecosystem="pypi", package="hik-isapi", name="hik-isapi")) == {}


def test_exact_name_of_an_ordinary_word_needs_the_whole_name(m: Matcher) -> None:
    assert fams(m, obs(publisher="SPRING (SG) PTE. LTD.")) == {"bytedance": "certain"}
    assert fams(m, obs(publisher="Spring")) == {}


def test_organisation_names_in_ieee_tls_and_banner_fields(m: Matcher) -> None:
    assert fams(m, obs("device", oui_vendor="Hangzhou Ezviz Software Co.,Ltd.")) == {"hikvision": "certain"}
    assert fams(m, obs("tls", tls_subject_org="HIKVISION")) == {"hikvision": "certain"}
    # a name inside a banner is corroboration: medium on its own
    assert fams(m, obs("device", banner="Welcome. Copyright by Huawei Technologies Co., Ltd.")) == {"huawei": "likely"}


# --------------------------------------------------------------------------- dated ownership


def test_sepura_is_hytera_only_while_hytera_owned_it(reg) -> None:  # noqa: ANN001
    o = obs("device", publisher="Sepura plc")
    assert Matcher(reg, as_of=dt.date(2016, 6, 1)).match(o) == []  # before 2017-05-24: not the family
    during = Matcher(reg, as_of=dt.date(2020, 1, 1)).match(o)
    assert [(x.family, x.relation.value, x.confidence.value) for x in during] == [("hytera", "product", "certain")]
    after = Matcher(reg, as_of=dt.date(2023, 1, 1)).match(o)
    assert [(x.family, x.relation.value, x.confidence.value) for x in after] == [
        ("hytera", "former-affiliate", "possible")]
    assert "2022-07-14" in after[0].notes[0] and "Sword Bidco" in after[0].notes[0]


def test_teltronic_norsat_and_honor_dates(reg) -> None:  # noqa: ANN001
    teltronic = obs(publisher="Teltronic S.A.U.")
    assert [x.relation.value for x in Matcher(reg, as_of=dt.date(2024, 6, 1)).match(teltronic)] == ["product"]
    late = Matcher(reg, as_of=dt.date(2025, 8, 1)).match(teltronic)
    assert [(x.relation.value, x.confidence.value) for x in late] == [("former-affiliate", "possible")]
    norsat = obs("device", publisher="Norsat International Inc.")
    assert Matcher(reg, as_of=dt.date(2017, 7, 19)).match(norsat) == []
    assert [x.family for x in Matcher(reg, as_of=dt.date(2017, 7, 20)).match(norsat)] == ["hytera"]
    # the word "Honor" is no longer Huawei after the sale; Honor Device was never Huawei
    honor = Matcher(reg, as_of=TODAY).match(obs(publisher="Honor"))
    assert all(x.confidence.value == "possible" for x in honor)


# --------------------------------------------------------------------------- namespaces


def test_canonical_names_per_ecosystem() -> None:
    assert canonical("pypi", "Volcengine_Python.SDK") == "volcengine-python-sdk"
    assert canonical("maven", "com.bytedance.ies.ugc.aweme:opensdk-oversea-external") == "com.bytedance.ies.ugc.aweme"
    assert canonical_image("bytedance/sonic:1.2") == "docker.io/bytedance/sonic"
    assert canonical_image("ubuntu") == "docker.io/library/ubuntu"
    assert canonical_image("ghcr.io/volcengine/x@sha256:00") == "ghcr.io/volcengine/x"


@pytest.mark.parametrize(("fields", "family", "confidence"), [
    ({"ecosystem": "maven", "package": "com.bytedance.ies.ugc.aweme:opensdk-oversea-external"}, "bytedance", "certain"),
    ({"purl": "pkg:maven/com.larksuite.oapi/oapi-sdk@2.0.0"}, "bytedance", "certain"),
    ({"purl": "pkg:maven/com.kaspersky.kaspresso/kaspresso@1.5.0"}, "kaspersky", "certain"),
    ({"purl": "pkg:maven/com.hikvision.sdk/hcnetsdk@6"}, "hikvision", "certain"),
    ({"purl": "pkg:maven/com.huawei.hms/push@6.11.0.300"}, "huawei", "certain"),
    ({"ecosystem": "npm", "package": "@larksuiteoapi/node-sdk"}, "bytedance", "certain"),
    ({"purl": "pkg:npm/%40douyinfe/semi-ui@2.50.0"}, "bytedance", "possible"),
    ({"purl": "pkg:golang/github.com/bytedance/sonic@v1.11.6"}, "bytedance", "certain"),
    ({"ecosystem": "nuget", "package": "Huawei.Agconnect.AgconnectCore"}, "huawei", "certain"),
    ({"ecosystem": "pypi", "package": "bytedance_ad_query_dsl"}, "bytedance", "likely"),
    ({"ecosystem": "pypi", "package": "Byted.Action-Hub-CLI"}, "bytedance", "likely"),
    ({"ecosystem": "pypi", "package": "volcengine_python_sdk"}, "bytedance", "certain"),
    ({"ecosystem": "pypi", "package": "volcenginesdkcore"}, "bytedance", "certain"),
    ({"ecosystem": "winget", "package": "Tencent.COSBrowser"}, "tencent", "likely"),
    ({"ecosystem": "winget", "package": "DJI.DJIAssistant2.ForMatrice"}, "dji", "likely"),
])
def test_namespaces_the_vendor_owns(m: Matcher, fields: dict[str, str], family: str, confidence: str) -> None:
    assert fams(m, obs("package", **fields)) == {family: confidence}


@pytest.mark.parametrize("fields", [
    {"purl": "pkg:maven/com.bytedancex/lib@1"},  # not on a '.' boundary
    {"purl": "pkg:maven/org.example/bytedance-client@1"},  # the word elsewhere is not the namespace
    {"ecosystem": "npm", "package": "@douyinfe-fake/x"},
    {"purl": "pkg:golang/github.com/bytedancex/lib@v1"},
    {"ecosystem": "pypi", "package": "bytedocs-django"},  # "byted" inside a word
    {"ecosystem": "pypi", "package": "bytedigger"},
    {"ecosystem": "pypi", "package": "tiktoken"},
    {"ecosystem": "maven", "package": "com.affise:module-tiktok"},
    {"ecosystem": "winget", "package": "TencentCloudX.Tool"},  # not on a '.' boundary
    {"ecosystem": "winget", "package": "Honor.HonorSuite"},
])
def test_namespace_look_alikes(m: Matcher, fields: dict[str, str]) -> None:
    assert fams(m, obs("package", **fields)) == {}


def test_pypi_mark_later_in_a_name_is_possible(m: Matcher) -> None:
    assert fams(m, obs("package", ecosystem="pypi", package="livekit-plugins-bytedance",
                       name="livekit-plugins-bytedance")) == {"bytedance": "possible"}


# --------------------------------------------------------------------------- registrable domains


def test_registrable_domain_by_the_public_suffix_list() -> None:
    assert registrable("update.kaspersky.it") == "kaspersky.it"
    assert registrable("kaspersky.com.br") == "kaspersky.com.br"
    assert registrable("kaspersky.com.example.net") == "example.net"
    assert registrable("kaspersky.github.io") == "github.io"  # private suffixes are not the vendor's
    assert registrable("com") is None
    # a hostile name with very many labels is cut to a DNS name's length, never scanned quadratically
    assert registrable("a." * 100_000 + "kaspersky.de") == "kaspersky.de"


@pytest.mark.parametrize("name", ["kaspersky.com.br", "kaspersky.com.mx", "update.kaspersky.it", "dnl-01.geo.kaspersky.com",
                                  "KASPERSKY.DE.", "ksn-a.kaspersky-labs.com"])
def test_kaspersky_domains(m: Matcher, name: str) -> None:
    assert list(fams(m, obs("dns", domain=name))) == ["kaspersky"]


@pytest.mark.parametrize("name", ["notkaspersky.com", "kaspersky.com.example.net", "kaspersky.github.io", "kaspersky.ru.com",
                                  "kasperskyfake.com", "example.com"])
def test_kaspersky_domain_look_alikes(m: Matcher, name: str) -> None:
    assert fams(m, obs("dns", domain=name)) == {}


def test_scan_and_explain_say_when_and_to_whom_a_company_was_sold(tmp_path, capsys) -> None:  # noqa: ANN001
    import json

    from banscan.cli import main

    inv = tmp_path / "inv.csv"
    inv.write_text("DisplayName,Publisher,DisplayVersion\nSepura Radio Manager,Sepura plc,2.1\n", encoding="utf-8")
    out = tmp_path / "r.json"
    with pytest.raises(SystemExit) as e:
        main(["scan", str(inv), "--as-of", "2023-01-01", "--no-store", "-f", "json", "-o", str(out)])
    assert e.value.code in (0, None, 1)
    det = json.loads(out.read_text(encoding="utf-8"))["detections"][0]
    assert (det["family"], det["relation"], det["confidence"]) == ("hytera", "former-affiliate", "possible")
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["explain", det["id"], "--report", str(out)])
    text = " ".join(capsys.readouterr().out.split())
    assert "left the Hytera family on 2022-07-14" in text
    assert "from 2017-05-24 to 2022-07-14; sold to Sword Bidco Ltd" in text

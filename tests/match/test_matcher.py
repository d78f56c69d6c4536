"""The matcher on a tiny hand-written registry (tests/fixtures/registry): field-aware, token-bounded,
native-script, identifier and MAC matching, negatives and confidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from banscan.match import Matcher
from banscan.match.normalize import normalize
from banscan.model import EvidenceClass, Locator, Observation

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "registry"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    from banscan.registry import load

    return Matcher(load(data_dir=FIXTURE))


def obs(kind: str = "software", **fields: str) -> Observation:
    return Observation(kind=kind, asset="pc-1", fields=fields, source=Locator("inv.csv", "line 2"),
                       evidence_class=EvidenceClass.INSTALLED)


def families(m: Matcher, o: Observation) -> dict[str, str]:
    return {d.family: d.confidence.value for d in m.match(o)}


def test_normalize_drops_legal_forms_case_and_punctuation() -> None:
    assert normalize("AO Kaspersky Lab") == normalize("KASPERSKY LAB ZAO") == "kaspersky lab"
    assert normalize("Huawei Technologies Co.,Ltd.") == "huawei technologies"
    assert normalize("ＺＴＥ　Corporation") == "zte"  # full-width forms fold under NFKC


def test_publisher_in_publisher_field_is_certain(matcher: Matcher) -> None:
    dets = matcher.match(obs(name="Kaspersky Endpoint Security for Windows", publisher="AO Kaspersky Lab"))
    assert len(dets) == 1
    d = dets[0]
    assert (d.family, d.confidence.value, d.relation.value) == ("kaspersky", "certain", "product")
    assert d.entity == "AO Kaspersky Lab"
    assert d.product == "Kaspersky Endpoint Security"
    assert d.category == "security-software"
    assert {e.signature for e in d.evidence} == {"kaspersky.publisher.0", "kaspersky.product-name.1"}
    assert d.source == Locator("inv.csv", "line 2")


def test_vendor_name_inside_a_product_name_counts_less(matcher: Matcher) -> None:
    # a publisher string found only in the name field is one step weaker than in the publisher field
    assert families(matcher, obs(name="Kaspersky Lab uninstaller helper")) == {"kaspersky": "likely"}
    assert families(matcher, obs(publisher="Kaspersky Lab")) == {"kaspersky": "certain"}


def test_token_boundaries_no_zte_inside_aztech(matcher: Matcher) -> None:
    assert matcher.match(obs(name="Aztech Wireless Driver", publisher="Aztech Systems Ltd")) == []
    assert matcher.match(obs(publisher="GOMOZTEAM")) == []
    assert families(matcher, obs(publisher="ZTE Corporation")) == {"zte": "certain"}


def test_native_script_names(matcher: Matcher) -> None:
    assert families(matcher, obs(publisher="Лаборатория Касперского")) == {"kaspersky": "certain"}
    # Chinese is written without spaces: the name matches inside a longer legal name
    assert families(matcher, obs(publisher="中兴通讯股份有限公司")) == {"zte": "certain"}


def test_package_scope_prefix_and_negative(matcher: Matcher) -> None:
    d = matcher.match(obs("package", ecosystem="npm", package="@kaspersky/hexa-ui", name="@kaspersky/hexa-ui"))
    assert [(x.family, x.category, x.confidence.value) for x in d] == [("kaspersky", "sdk", "certain")]
    # the same scope in another ecosystem is not a hit
    assert matcher.match(obs("package", ecosystem="pypi", package="@kaspersky/hexa-ui")) == []
    # a known third-party client of the vendor's service is suppressed by a negative signature
    assert matcher.match(obs("package", ecosystem="pypi", package="opentip", name="opentip",
                             publisher="Kaspersky Lab")) == []


def test_library_package_named_after_a_vendor_is_only_possible(matcher: Matcher) -> None:
    d = matcher.match(obs("package", ecosystem="pypi", package="kaspersky-lab-tools", name="kaspersky-lab-tools"))
    assert [(x.family, x.confidence.value) for x in d] == [("kaspersky", "possible")]


def test_purl_prefix_on_boundaries(matcher: Matcher) -> None:
    hit = matcher.match(obs("component", purl="pkg:maven/com.huawei.hms/push@6.1.0?type=aar"))
    assert [(d.family, d.relation.value, d.category) for d in hit] == [("huawei", "oem", "sdk")]
    assert matcher.match(obs("component", purl="pkg:maven/com.huawei.hmsx/other@1")) == []


def test_bundle_id_prefix(matcher: Matcher) -> None:
    assert families(matcher, obs("app", bundle_id="com.huawei.appmarket")) == {"huawei": "certain"}
    assert matcher.match(obs("app", bundle_id="com.huaweicloud.app")) == []


def test_driver_with_or_without_extension(matcher: Matcher) -> None:
    assert families(matcher, obs("driver", driver="KLIF")) == {"kaspersky": "certain"}
    assert families(matcher, obs("driver", driver=r"C:\Windows\System32\drivers\klif.sys")) == {"kaspersky": "certain"}


def test_domain_suffix_on_label_boundaries(matcher: Matcher) -> None:
    d = matcher.match(obs("dns", domain="ksn-a.kaspersky-labs.com."))
    assert [(x.family, x.relation.value, x.service) for x in d] == [
        ("kaspersky", "service-client", "Kaspersky Security Network")]
    assert matcher.match(obs("dns", domain="kaspersky-labs.com.example.net")) == []
    assert matcher.match(obs("dns", domain="notkaspersky-labs.com")) == []


def test_mac_prefix_longest_match_and_randomised_macs(matcher: Matcher) -> None:
    d = matcher.match(obs("device", mac="2c:c4:4f:90:00:01"))
    assert [(x.family, x.confidence.value) for x in d] == [("kaspersky", "likely")]
    # 2C:C4:4F:A... is outside the MA-M block
    assert matcher.match(obs("device", mac="2c:c4:4f:a0:00:01")) == []
    # a locally administered (randomised) address is never matched
    before = matcher.unidentifiable_macs
    assert matcher.match(obs("device", mac="02:1e:10:00:00:01")) == []
    assert matcher.unidentifiable_macs == before + 1


def test_oui_plus_banner_is_certain(matcher: Matcher) -> None:
    alone = matcher.match(obs("device", mac="0c:12:34:00:00:01"))
    assert [(x.family, x.confidence.value) for x in alone] == [("zte", "likely")]
    both = matcher.match(obs("device", mac="0c:12:34:00:00:01", sys_descr="ZTE Ethernet Switch ZXR10 5250"))
    assert [(x.family, x.confidence.value) for x in both] == [("zte", "certain")]


def test_snmp_enterprise_number(matcher: Matcher) -> None:
    assert families(matcher, obs("device", sys_object_id=".1.3.6.1.4.1.23668.1.2")) == {"kaspersky": "certain"}
    assert matcher.match(obs("device", sys_object_id="1.3.6.1.4.1.236680.1")) == []


def test_former_member_relation(matcher: Matcher) -> None:
    d = matcher.match(obs("device", name="Honor Magic 6"))
    assert [(x.family, x.relation.value, x.entity) for x in d] == [
        ("huawei", "former-affiliate", "Honor Device Co. Ltd.")]


def test_prefilter_is_a_superset(matcher: Matcher) -> None:
    assert matcher.prefilter('{"name":"Kaspersky Endpoint Security","publisher":"AO Kaspersky Lab"}')
    assert matcher.prefilter("1 dns ksn-a.kaspersky-labs.com A")
    assert matcher.prefilter('{"name":"\\u0417\\u0422\\u0415"}')  # escaped non-ASCII is never skipped
    assert matcher.prefilter("publisher: 中兴通讯股份有限公司")
    assert not matcher.prefilter('{"name":"Mozilla Firefox","publisher":"Mozilla"}')


def test_detection_ids_are_stable(matcher: Matcher) -> None:
    a = matcher.match(obs(publisher="AO Kaspersky Lab"))[0].id
    b = matcher.match(obs(publisher="AO Kaspersky Lab"))[0].id
    assert a == b and a.startswith("D-")

"""The generated registry tables (scripts/gen_*.py): they load, carry their source and version, and
keep look-alikes and third parties out."""

from __future__ import annotations

import pytest
from publicsuffixlist import PublicSuffixList

from banscan import registry
from banscan.match import Matcher
from banscan.model import F, Locator, Observation


@pytest.fixture(scope="module")
def reg() -> registry.Registry:
    return registry.load()


@pytest.fixture(scope="module")
def matcher(reg: registry.Registry) -> Matcher:
    return Matcher(reg)


def _families(matcher: Matcher, domain: str) -> set[str]:
    obs = Observation("dns", "t", {F.DOMAIN: domain}, Locator("t", "1"))
    return {d.family for d in matcher.match(obs)}


def test_domain_table_records_its_source(reg: registry.Registry) -> None:
    t = reg.domains
    assert t is not None
    assert t.repository == "https://github.com/v2fly/domain-list-community"
    assert len(t.commit) == 40 and t.commit in t.source
    assert t.generated_by == "scripts/gen_domains.py"
    fams = {d.family for d in t.domains}
    assert {"kaspersky", "huawei", "zte", "hikvision", "bytedance", "deepseek"} <= fams
    assert all(d.list and d.service for d in t.domains)


def test_generated_domain_signatures_carry_list_and_commit(reg: registry.Registry) -> None:
    t = reg.domains
    assert t is not None
    gen = [s for s in reg.signatures if s.kind == "domain" and ".domain.gen." in s.id]
    assert gen
    for s in gen:
        assert any(t.commit[:8] in src for src in s.sources), s.id
        assert any(src.startswith("https://github.com/v2fly/domain-list-community/blob/") for src in s.sources)
        assert s.service and s.relation == "service-client"
    by_entity = {(s.family, s.entity) for s in gen}
    assert ("hikvision", "ezviz") in by_entity
    assert ("zte", "nubia") in by_entity
    assert ("bytedance", "volcano-engine") in by_entity


def test_every_kept_domain_is_under_a_registrable_domain_of_its_family(reg: registry.Registry) -> None:
    t = reg.domains
    assert t is not None
    psl = PublicSuffixList()
    claimed: dict[str, set[str]] = {}
    for d in t.domains:
        if d.match == "subdomains":
            claimed.setdefault(d.domain, set()).add(d.family)
    for d in t.domains:
        rd = psl.privatesuffix(d.domain)
        assert rd is not None, d
        assert d.family in claimed.get(rd, set()) or rd == d.domain, d
    excluded = {e["entry"] for e in t.excluded}
    assert "full:bytedance.map.fastly.net" in excluded or "full:roovza.launches.appsflyersdk.com" in excluded


@pytest.mark.parametrize(("domain", "family"), [
    ("kaspersky.com.br", "kaspersky"),
    ("update.kaspersky.it", "kaspersky"),
    ("ap-southeast-1.myhuaweicloud.com", "huawei"),
    ("api.volcengineapi.com", "bytedance"),
    ("www.tiktokv.eu", "bytedance"),
    ("open.feishu.cn", "bytedance"),
    ("ys7.com", "hikvision"),
    ("www.ztedevices.com", "zte"),
])
def test_generated_domains_are_detected(matcher: Matcher, domain: str, family: str) -> None:
    assert family in _families(matcher, domain)


@pytest.mark.parametrize("domain", [
    "hihonor.com",  # Honor after its 2020 sale: not Huawei
    "www.honor.com",
    "notkaspersky.com",
    "kaspersky.com.example.net",
    "tiktokcdn.com.akamaized.net",  # a CDN's host named after the customer
    "roovza.launches.appsflyersdk.com",
    "fastly.net",
])
def test_look_alikes_and_third_parties_stay_negative(matcher: Matcher, domain: str) -> None:
    assert _families(matcher, domain) == set()

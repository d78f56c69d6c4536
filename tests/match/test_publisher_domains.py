"""Package metadata as identity evidence: the registrable domain of a package's homepage,
repository or download URL, and of its authors' e-mail addresses (bundled registry).

The strings are the published metadata of real PyPI / npm projects (read from
https://pypi.org/pypi/<name>/json and https://registry.npmjs.org/<name>/latest on 2026-12-01,
kept in bench/accuracy/metadata.tsv), and the traps a hostile or careless package can carry.
"""

from __future__ import annotations

import datetime as dt

import pytest

from banscan.match import Matcher
from banscan.match.kinds.domain import mail_domains, url_host
from banscan.model import Detection, EvidenceClass, F, Locator, Observation, Relation
from banscan.registry import load
from banscan.sources._common import project_url, project_url_field

TODAY = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def m() -> Matcher:
    return Matcher(load(), as_of=TODAY)


def pkg(eco: str, name: str, **meta: str | tuple[str, ...]) -> Observation:
    fields: dict[str, str | tuple[str, ...]] = {F.ECOSYSTEM: eco, F.PACKAGE: name, F.NAME: name}
    fields.update(meta)
    return Observation("package", "host-1", fields, Locator("bom.json", "/components/0"), EvidenceClass.SBOM)


def found(m: Matcher, o: Observation) -> dict[str, Detection]:
    return {d.family: d for d in m.match(o)}


# --------------------------------------------------------------------------- URL hosts and e-mail domains


@pytest.mark.parametrize(("url", "host"), [
    ("https://code.byted.org/infra/bytedbolt", "code.byted.org"),
    ("https://developer.huawei.com/consumer/en/service/josp/agc/index.html,,AppGalleryConnect#/",
     "developer.huawei.com"),
    ("git+https://github.com/GoogleChrome/puppeteer.git", "github.com"),
    ("git@github.com:bytedance/sonic.git", "github.com"),  # scp-like git: the host is github.com
    ("https://huawei.com@evil.net/", "evil.net"),  # userinfo is not the host
    ("https://user:pw@www.kaspersky.com:8443/x", "www.kaspersky.com"),
    ("www.huawei.com/en/", "www.huawei.com"),  # no scheme: host/path
    ("HTTPS://Developer.HUAWEI.com./", "developer.huawei.com"),
    ("github:bytedance/sonic", None),  # npm shorthand: no host
    ("mailto:someone@huawei.com", None),
    ("https://[::1", None),  # unbalanced bracket
    ("UNKNOWN", "unknown"),  # old setuptools placeholder: a host without a registrable domain
    ("", None),
])
def test_url_host(url: str, host: str | None) -> None:
    assert url_host(url) == host


def test_mail_domains() -> None:
    assert mail_domains("rentianhang.ryan@bytedance.com") == ("bytedance.com",)
    assert mail_domains("Your Name <your.email@example.com>") == ("example.com",)
    assert mail_domains("A <a@huawei.com>, b@github.com") == ("huawei.com", "github.com")
    assert mail_domains("AppGallery Connect") == ()
    # an address with two @ is not huawei.com's (refused, or read with the domain after the last @)
    assert "huawei.com" not in mail_domains("x@huawei.com@evil.net")


def test_project_url_labels_are_normalised_as_pep_753_says() -> None:
    assert project_url_field("Homepage") == F.HOMEPAGE
    assert project_url_field("Home-page") == F.HOMEPAGE
    assert project_url_field("Source Code") == F.REPOSITORY
    assert project_url_field("Repository") == F.REPOSITORY
    assert project_url_field("Download") == F.DOWNLOAD_URL
    # someone else's site may well be linked from these (a client links to the API it calls)
    for label in ("Documentation", "Bug Tracker", "Issues", "Changelog", "Funding", "Pricing"):
        assert project_url_field(label) is None
    assert project_url("Homepage, https://code.byted.org/infra/bytedbolt") == (
        F.HOMEPAGE, "https://code.byted.org/infra/bytedbolt")
    assert project_url("Documentation, https://support.huaweicloud.com/") is None


# --------------------------------------------------------------------------- the family's own site


def test_a_dependency_confusion_reservation_is_found_by_its_homepage(m: Matcher) -> None:
    # PyPI bytedbolt: no separator after "byted" (the name rule says possible), homepage on byted.org
    o = pkg("pypi", "bytedbolt", homepage="https://code.byted.org/infra/bytedbolt",
            author_email="your.email@example.com")
    d = found(m, o)["bytedance"]
    assert d.confidence.value == "likely"
    assert d.relation == Relation.PRODUCT  # the family publishes it; not a client of its service
    assert d.product is None and d.service is None  # byted.org names no product of the registry
    assert d.category == "sdk"
    assert [(e.field, e.strength) for e in d.evidence] == [(F.HOMEPAGE, "medium")]


def test_the_homepage_is_never_certain_on_its_own_even_with_several_urls_and_an_email(m: Matcher) -> None:
    # bytededt: homepage on code.byted.org and an author address at bytedance.com
    o = pkg("pypi", "bytededt", homepage=("https://code.byted.org/data_edc/bytededt",),
            repository="https://code.byted.org/data_edc/bytededt.git",
            author_email="rentianhang.ryan@bytedance.com")
    d = found(m, o)["bytedance"]
    assert d.confidence.value == "likely"  # metadata is written by the uploader; nobody checks it


def test_huawei_appgallery_connect_server_sdk_by_its_homepage(m: Matcher) -> None:
    o = pkg("pypi", "agconnect",
            homepage="https://developer.huawei.com/consumer/en/service/josp/agc/index.html,,AppGalleryConnect#/",
            repository="https://pypi.org/project/agconnect")
    assert found(m, o)["huawei"].confidence.value == "likely"
    o = pkg("npm", "@agconnect/core",
            homepage="https://developer.huawei.com/consumer/cn/service/josp/agc/index.html#/")
    assert found(m, o)["huawei"].confidence.value == "likely"


def test_a_homepage_adds_to_a_name_mark(m: Matcher) -> None:
    # a mark as the first word of a PyPI name is likely; the publisher's own site agrees
    o = pkg("pypi", "bytedance-foo", homepage="https://code.byted.org/x/bytedance-foo")
    assert found(m, o)["bytedance"].confidence.value == "certain"


def test_a_homepage_and_a_weak_vendor_word_in_the_name_stay_likely(m: Matcher) -> None:
    # langchain-deepseek-v4 (third-party): Project-URL Homepage is DeepSeek's API documentation and
    # the name carries the vendor word; both are what the uploader wrote, so never certain
    o = pkg("pypi", "langchain-deepseek-v4", homepage="https://api-docs.deepseek.com",
            repository="https://github.com/hlcm/langchain_deepseek_v4")
    assert found(m, o)["deepseek"].confidence.value == "likely"


# --------------------------------------------------------------------------- e-mail addresses


def test_an_author_address_alone_is_possible(m: Matcher) -> None:
    # aslmutation: only the author's address is on bytedance.com (its homepage is not read here)
    o = pkg("pypi", "aslmutation", author_email="zhangyunhao.wangjie@bytedance.com")
    d = found(m, o)["bytedance"]
    assert d.confidence.value == "possible"
    assert [e.field for e in d.evidence] == [F.AUTHOR_EMAIL]


def test_an_author_address_adds_nothing_to_other_weak_evidence(m: Matcher) -> None:
    # a vendor mark later in a PyPI name is possible; an employee's address does not make it the company's
    name = "pytest-bytedance-tools"
    base = {d.family: d.confidence.value for d in m.match(pkg("pypi", name))}
    assert base.get("bytedance") == "possible"
    o = pkg("pypi", name, author_email="Dev <dev@bytedance.com>", maintainer_email="ops@bytedance.com")
    assert found(m, o)["bytedance"].confidence.value == "possible"


# --------------------------------------------------------------------------- traps


@pytest.mark.parametrize("meta", [
    # look-alike names whose homepages are on github.com (bytedocs-flask, bytedigger, bytedarklock-bdl)
    {F.HOMEPAGE: "https://github.com/aibnuhibban/bytedocs-flask"},
    {F.REPOSITORY: "https://github.com/guy-lifshitz/bytedigger"},
    {F.HOMEPAGE: "https://github.com/FakeFountain548/ByteDarkLock-BDL",
     F.AUTHOR_EMAIL: "gaelsolanoespinosa@gmail.com"},
    # the vendor's organisation on a shared host is anyone's site as far as the domain says
    {F.REPOSITORY: "git@github.com:bytedance/sonic.git"},
    {F.HOMEPAGE: "https://bytedance.github.io/x"},
    # userinfo, look-alike and inside-another-domain hosts
    {F.HOMEPAGE: "https://huawei.com@evil.net/"},
    {F.HOMEPAGE: "https://www.huawei.com.example.net/"},
    {F.HOMEPAGE: "https://kaspersky.com.example.net/"},
    {F.DOWNLOAD_URL: "http://notkaspersky.com/dl"},
    # placeholders
    {F.HOMEPAGE: "https://example.com", F.AUTHOR_EMAIL: "Your Name <your.email@example.com>"},
    {F.AUTHOR_EMAIL: "Organization: ExampleCodeInspect (contact@example.com)"},
    {F.HOMEPAGE: "UNKNOWN", F.DOWNLOAD_URL: "NOASSERTION"},
])
def test_traps_give_nothing(m: Matcher, meta: dict[str, str]) -> None:
    assert m.match(pkg("pypi", "somepkg", **meta)) == []


def test_a_look_alike_name_with_its_own_homepage_stays_below_likely(m: Matcher) -> None:
    o = pkg("pypi", "bytedocs-flask", homepage="https://github.com/aibnuhibban/bytedocs-flask")
    assert all(d.confidence.value == "possible" for d in m.match(o))


def test_a_trap_domain_in_metadata_counts_for_nothing_and_vetoes_nothing(m: Matcher) -> None:
    # Honor's own site after its sale by Huawei is a registry trap: it is not Huawei's site ...
    assert "huawei" not in found(m, pkg("pypi", "somepkg", homepage="https://www.hihonor.com/global/"))
    # ... but a URL anyone can write into metadata must not hide a package the name already identifies
    o = pkg("pypi", "huaweicloudsdkcore", homepage="https://www.hihonor.com/global/")
    assert found(m, o)["huawei"].confidence == found(m, pkg("pypi", "huaweicloudsdkcore"))["huawei"].confidence


def test_dns_names_keep_their_service_client_relation(m: Matcher) -> None:
    o = Observation("dns", "host-1", {F.DOMAIN: "code.byted.org"}, Locator("dns.log", "line 1"),
                    EvidenceClass.NETWORK_TRAFFIC)
    d = found(m, o)["bytedance"]
    assert d.relation == Relation.SERVICE_CLIENT

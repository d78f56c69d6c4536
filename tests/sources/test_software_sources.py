"""Software-inventory sources on the real shared samples and on small hand-made trap inputs."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from sharedsamples import SHARED_SAMPLES, shared_sample

from banscan.model import EvidenceClass, Observation, Problem
from banscan.sources import (
    SOURCES,
    cyclonedx_json,
    cyclonedx_xml,
    detect,
    mdm_plist,
    osquery,
    software_csv,
    spdx3_jsonld,
    spdx_json,
    spdx_tagvalue,
    winget,
)
from banscan.sources.base import HEAD_BYTES, ReadContext

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "software"


def run(source, path: Path, prefilter=None) -> tuple[list[Observation], list[Problem], ReadContext]:
    ctx = ReadContext(path=str(path), asset="default-asset", prefilter=prefilter)
    with path.open("rb") as fh:
        items = list(source.read(io.BufferedReader(fh), ctx))
    obs = [i for i in items if isinstance(i, Observation)]
    probs = [i for i in items if isinstance(i, Problem)]
    return obs, probs, ctx


def at(obs: list[Observation], locator: str) -> Observation:
    hits = [o for o in obs if o.source.locator == locator]
    assert len(hits) == 1, (locator, [o.source.locator for o in obs][:20])
    return hits[0]


# ------------------------------------------------------------------------------- sniffing

EXPECTED_FORMAT = {
    "cyclonedx/cdx-1.2-gomod-proton-bridge.json": "cyclonedx-json",
    "cyclonedx/cdx-1.2-npm-cern-lhc-vdm-editor.json": "cyclonedx-json",
    "cyclonedx/cdx-1.2-npm-cern-lhc-vdm-editor.xml": "cyclonedx-xml",
    "cyclonedx/cdx-1.4-composer-laravel.xml": "cyclonedx-xml",
    "cyclonedx/cdx-1.5-cdxgen-maven-vuln-spring.json": "cyclonedx-json",
    "cyclonedx/cdx-1.5-trivy-centos7-image.json": "cyclonedx-json",
    "cyclonedx/cdx-1.5-trivy-kbom.json": "cyclonedx-json",
    "cyclonedx/cdx-1.6-cdxgen-swift-hakit.json": "cyclonedx-json",
    "cyclonedx/cdx-1.6-syft-gomod.json": "cyclonedx-json",
    "cyclonedx/cdx-1.6-syft-gomod.xml": "cyclonedx-xml",
    "cyclonedx/cdx-1.7-trivy-npm.json": "cyclonedx-json",
    "spdx/spdx-2.2-json-syft-alpine310.spdx.json": "spdx-json",
    "spdx/spdx-2.2-tagvalue-example1-hello.spdx": "spdx-tagvalue",
    "spdx/spdx-2.3-json-bitnami-postgresql.spdx.json": "spdx-json",
    "spdx/spdx-2.3-json-canonical-example.spdx.json": "spdx-json",
    "spdx/spdx-2.3-json-maven-enriched.spdx.json": "spdx-json",
    "spdx/spdx-2.3-json-rust-hello-server.spdx.json": "spdx-json",
    "spdx/spdx-2.3-tagvalue-canonical-example.spdx": "spdx-tagvalue",
    "spdx/spdx-2.3-tagvalue-syft-image.spdx": "spdx-tagvalue",
    "spdx/spdx-3.0-jsonld-python-hello-source.spdx3.json": "spdx3-jsonld",
    "osquery/elastic-osqueryd-results-deb_packages.excerpt.log": "osquery",
    "osquery/elastic-osqueryd-results-schedule-pack.log": "osquery",
    "osquery/osquery-docs-batch-format-example.json": "osquery",
    "osquery/osquery-docs-snapshot-format-example.json": "osquery",
    "mdm/apple-mdm-InstalledApplicationList-response.plist": "mdm-installed-apps",
    "windows/uninstall-and-appx-inventory.csv": "software-csv",
    "windows/uninstall-keys-export-csv.csv": "software-csv",
    "windows/winget-export-1.29.280.json": "winget-export",
    "windows/winget-export-1.4.10173.json": "winget-export",
}
MINE = {
    "cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tagvalue", "spdx3-jsonld",
    "osquery", "mdm-installed-apps", "software-csv", "winget-export",
}


@pytest.mark.parametrize("rel", sorted(EXPECTED_FORMAT))
def test_detect_picks_the_right_source(rel: str) -> None:
    p = shared_sample(rel)
    head = p.read_bytes()[:HEAD_BYTES]
    src = detect(head, str(p))
    assert src is not None and src.name == EXPECTED_FORMAT[rel]
    others = [s.name for s in SOURCES if s.name in MINE and s.name != src.name and s.sniff(head, str(p))]
    assert others == []


def test_software_sources_reject_other_samples() -> None:
    if not SHARED_SAMPLES.exists():
        pytest.skip("shared samples not available")
    mine = [s for s in SOURCES if s.name in MINE]
    for p in sorted(SHARED_SAMPLES.rglob("*")):
        rel = p.relative_to(SHARED_SAMPLES).as_posix()
        if not p.is_file() or rel in EXPECTED_FORMAT or rel == "README.md":
            continue
        head = p.read_bytes()[:HEAD_BYTES]
        claimed = [s.name for s in mine if s.sniff(head, str(p))]
        assert claimed == [], rel


def test_every_source_is_registered_with_documentation() -> None:
    for mod in (cyclonedx_json, cyclonedx_xml, spdx_json, spdx_tagvalue, spdx3_jsonld, osquery, mdm_plist,
                software_csv, winget):
        assert mod.SOURCE in SOURCES
        assert mod.SOURCE.documentation_url.startswith("https://")
        assert "https://" in (mod.__doc__ or "")
    names = [s.name for s in SOURCES]
    assert names.index("software-csv") > names.index("osquery")


def test_binary_garbage_is_not_sniffed() -> None:
    head = (FIX / "garbage.bin").read_bytes()
    assert detect(head, "garbage.bin") is None
    assert detect(b"\x00" * 1000 + b'"bomFormat":"CycloneDX"', "x.json") is None


# ------------------------------------------------------------------------------- CycloneDX


@pytest.mark.parametrize(
    ("rel", "count"),
    [
        ("cyclonedx/cdx-1.2-gomod-proton-bridge.json", 202),
        ("cyclonedx/cdx-1.2-npm-cern-lhc-vdm-editor.json", 44),
        ("cyclonedx/cdx-1.5-cdxgen-maven-vuln-spring.json", 89),
        ("cyclonedx/cdx-1.5-trivy-centos7-image.json", 4),
        ("cyclonedx/cdx-1.5-trivy-kbom.json", 18),
        ("cyclonedx/cdx-1.6-cdxgen-swift-hakit.json", 3),
        ("cyclonedx/cdx-1.6-syft-gomod.json", 2),
        ("cyclonedx/cdx-1.7-trivy-npm.json", 14),
    ],
)
def test_cyclonedx_json_counts(rel: str, count: int) -> None:
    obs, probs, ctx = run(cyclonedx_json.SOURCE, shared_sample(rel))
    assert probs == []
    assert len(obs) == count  # components plus metadata.component
    assert all(o.evidence_class is EvidenceClass.SBOM for o in obs)
    assert ctx.deviations == []


def test_cyclonedx_json_known_components() -> None:
    obs, _, _ = run(cyclonedx_json.SOURCE, shared_sample("cyclonedx/cdx-1.5-cdxgen-maven-vuln-spring.json"))
    o = at(obs, "/components/12")
    assert o.fields["purl"] == "pkg:maven/org.springframework/spring-beans@5.2.5.RELEASE?type=jar"
    assert o.fields["package"] == "org.springframework:spring-beans"
    assert o.fields["ecosystem"] == "maven"
    assert o.fields["publisher"] == "Spring IO"
    assert o.asset == "vuln-spring@0.0.1-SNAPSHOT"
    meta = at(obs, "/metadata/component")
    assert meta.fields["name"] == "vuln-spring"

    obs, _, _ = run(cyclonedx_json.SOURCE, shared_sample("cyclonedx/cdx-1.2-npm-cern-lhc-vdm-editor.json"))
    o = at(obs, "/components/0")
    assert (o.fields["name"], o.fields["version"], o.fields["package"]) == ("puppeteer", "1.19.0", "puppeteer")
    assert o.observed_at == "2020-08-03T01:28:52.765Z"
    assert all(o.asset == "lhc-vdm-editor@0.0.1" for o in obs)


def test_cyclonedx_json_nested_and_late_metadata() -> None:
    obs, probs, _ = run(cyclonedx_json.SOURCE, FIX / "nested-cyclonedx.json")
    assert probs == []
    assert [o.source.locator for o in obs] == [
        "/components/0", "/components/0/components/0", "/components/0/components/1", "/metadata/component",
    ]
    assert at(obs, "/components/0").fields["publisher"] == "Hangzhou Hikvision Digital Technology Co., Ltd."
    assert at(obs, "/components/0/components/0").fields["package"] == "com.hikvision:sadp"
    assert at(obs, "/components/0/components/1").fields["package"] == "@bytedance/login"
    # the file is seekable here: metadata that follows the components still names the asset
    assert {o.asset for o in obs} == {"vms-gateway@5.0"}


def test_cyclonedx_json_truncated_is_fatal_with_offset() -> None:
    obs, probs, _ = run(cyclonedx_json.SOURCE, FIX / "truncated-cyclonedx.json")
    assert len(probs) == 1 and probs[0].fatal
    assert "byte offset 700" in probs[0].message


@pytest.mark.parametrize(
    ("rel", "count"),
    [
        ("cyclonedx/cdx-1.2-npm-cern-lhc-vdm-editor.xml", 44),
        ("cyclonedx/cdx-1.4-composer-laravel.xml", 63),
        ("cyclonedx/cdx-1.6-syft-gomod.xml", 2),
    ],
)
def test_cyclonedx_xml_counts(rel: str, count: int) -> None:
    obs, probs, _ = run(cyclonedx_xml.SOURCE, shared_sample(rel))
    assert probs == [] and len(obs) == count


def test_cyclonedx_xml_known_components_and_cdata() -> None:
    obs, _, _ = run(cyclonedx_xml.SOURCE, shared_sample("cyclonedx/cdx-1.4-composer-laravel.xml"))
    o = at(obs, "/bom/components/component[1]")
    assert o.fields["name"] == "stack-cors"  # from a CDATA section
    assert o.fields["purl"] == "pkg:composer/asm89/stack-cors@1.3.0"
    assert o.fields["package"] == "asm89/stack-cors"
    assert o.fields["publisher"] == "Alexander"
    assert o.asset == "cyclonedx-php-composer-demo@dev-master"
    obs, _, _ = run(cyclonedx_xml.SOURCE, shared_sample("cyclonedx/cdx-1.2-npm-cern-lhc-vdm-editor.xml"))
    assert at(obs, "/bom/components/component[43]").fields["name"] == "async-limiter"


def test_cyclonedx_xml_nested_ignores_tool_components() -> None:
    obs, probs, _ = run(cyclonedx_xml.SOURCE, FIX / "nested-cyclonedx.xml")
    assert probs == []
    assert sorted(o.source.locator for o in obs) == [
        "/bom/components/component[1]",
        "/bom/components/component[2]",
        "/bom/components/component[2]/components/component[1]",
        "/bom/metadata/component",
    ]
    o = at(obs, "/bom/components/component[2]")
    assert o.fields["publisher"] == "Zhejiang Dahua Technology Co., Ltd." and o.fields["version"] == "8.2"
    assert at(obs, "/bom/components/component[2]/components/component[1]").fields["purl"].startswith("pkg:generic/dahua")
    assert {o.asset for o in obs} == {"vms-gateway@5.0"}


@pytest.mark.parametrize("name", ["billion-laughs-cyclonedx.xml", "xxe-cyclonedx.xml"])
def test_cyclonedx_xml_refuses_entities(name: str) -> None:
    t = time.perf_counter()
    obs, probs, _ = run(cyclonedx_xml.SOURCE, FIX / name)
    assert time.perf_counter() - t < 1.0
    assert obs == [] and len(probs) == 1 and probs[0].fatal
    assert "refused" in probs[0].message


def test_cyclonedx_xml_truncated_names_line() -> None:
    data = shared_sample("cyclonedx/cdx-1.6-syft-gomod.xml").read_bytes()[:900]
    ctx = ReadContext(path="t.xml", asset="a")
    items = list(cyclonedx_xml.SOURCE.read(io.BytesIO(data), ctx))
    assert isinstance(items[-1], Problem) and items[-1].fatal
    assert items[-1].source.locator.startswith("line ")


# ------------------------------------------------------------------------------- SPDX


@pytest.mark.parametrize(
    ("rel", "count", "deviations"),
    [
        ("spdx/spdx-2.2-json-syft-alpine310.spdx.json", 3,
         ["created timestamp has fractional seconds", "2 file(s) have no checksums"]),
        ("spdx/spdx-2.3-json-bitnami-postgresql.spdx.json", 19, ["created timestamp has fractional seconds"]),
        ("spdx/spdx-2.3-json-canonical-example.spdx.json", 4, []),
        ("spdx/spdx-2.3-json-maven-enriched.spdx.json", 6, []),
        ("spdx/spdx-2.3-json-rust-hello-server.spdx.json", 4, []),
    ],
)
def test_spdx_json(rel: str, count: int, deviations: list[str]) -> None:
    obs, probs, ctx = run(spdx_json.SOURCE, shared_sample(rel))
    assert probs == [] and len(obs) == count
    assert ctx.deviations == deviations
    assert [o.source.locator for o in obs] == [f"/packages/{i}" for i in range(count)]


def test_spdx_json_known_packages() -> None:
    obs, _, _ = run(spdx_json.SOURCE, shared_sample("spdx/spdx-2.2-json-syft-alpine310.spdx.json"))
    o = at(obs, "/packages/0")
    assert o.fields["name"] == "busybox" and o.fields["publisher"] == "Natanael Copa"
    assert o.fields["ecosystem"] == "apk" and o.fields["package"] == "busybox"
    assert o.fields["cpe"].startswith("cpe:2.3:a:busybox:busybox")
    obs, _, _ = run(spdx_json.SOURCE, shared_sample("spdx/spdx-2.3-json-canonical-example.spdx.json"))
    # supplier "Person: Jane Doe (jane.doe@example.com)" first, then the originator: every party, one value each
    pubs = at(obs, "/packages/0").values("publisher")
    assert pubs[0] == "Jane Doe" and len(pubs) == len(set(pubs)) >= 1


def test_spdx_tagvalue() -> None:
    obs, probs, ctx = run(spdx_tagvalue.SOURCE, shared_sample("spdx/spdx-2.3-tagvalue-syft-image.spdx"))
    assert probs == [] and len(obs) == 4
    assert ctx.deviations == ["document has no DocumentName"]
    o = at(obs, "line 12")
    assert o.fields["name"] == "busybox" and o.fields["publisher"] == "Natanael Copa"
    assert o.fields["purl"].startswith("pkg:apk/alpine/busybox@1.31.1-r19")
    assert at(obs, "line 28").fields["package"] == "com.mycompany.app:my-app"

    obs, probs, ctx = run(spdx_tagvalue.SOURCE, shared_sample("spdx/spdx-2.3-tagvalue-canonical-example.spdx"))
    assert probs == [] and len(obs) == 4 and ctx.deviations == []
    glibc = at(obs, "line 71")
    assert glibc.fields["name"] == "glibc" and glibc.fields["version"] == "2.11.1"

    obs, probs, _ = run(spdx_tagvalue.SOURCE, shared_sample("spdx/spdx-2.2-tagvalue-example1-hello.spdx"))
    assert probs == [] and [o.fields["name"] for o in obs] == ["hello"]


def test_spdx3_jsonld() -> None:
    obs, probs, ctx = run(spdx3_jsonld.SOURCE, shared_sample("spdx/spdx-3.0-jsonld-python-hello-source.spdx3.json"))
    assert probs == [] and len(obs) == 1
    o = at(obs, "/@graph/32")
    assert o.fields["name"] == "hello" and o.fields["publisher"] == "Nisha Kumar"
    assert o.evidence_class is EvidenceClass.SBOM


# ------------------------------------------------------------------------------- osquery


def test_osquery_deb_packages_excerpt() -> None:
    obs, probs, ctx = run(osquery.SOURCE, shared_sample("osquery/elastic-osqueryd-results-deb_packages.excerpt.log"))
    assert probs == [] and len(obs) == 37
    assert {o.asset for o in obs} == {"ubuntu-xenial"}
    assert {o.fields["osquery_table"] for o in obs} == {"deb_packages"}
    o = at(obs, "line 2")
    assert o.fields["name"] == "libxcb1" and o.fields["ecosystem"] == "deb" and o.fields["version"] == "1.11.1-1ubuntu1"
    assert o.evidence_class is EvidenceClass.INSTALLED and o.observed_at == "2017-12-07T17:57:33Z"


def test_osquery_prefilter_skips_without_parsing() -> None:
    path = shared_sample("osquery/elastic-osqueryd-results-deb_packages.excerpt.log")
    obs, probs, ctx = run(osquery.SOURCE, path, prefilter=lambda line: '"libxcb1"' in line)
    assert [o.fields["name"] for o in obs] == ["libxcb1"]
    assert ctx.observations == 36  # the skipped rows are counted; the scanner counts emitted ones
    assert ctx.assets == {"ubuntu-xenial": {"installed"}}


def test_osquery_schedule_pack_is_not_software() -> None:
    obs, probs, ctx = run(osquery.SOURCE, shared_sample("osquery/elastic-osqueryd-results-schedule-pack.log"))
    assert obs == [] and probs == []
    assert ctx.assets == {}  # no software evidence for the host
    assert ctx.observations == 10


def test_osquery_documentation_examples() -> None:
    obs, probs, ctx = run(osquery.SOURCE, shared_sample("osquery/osquery-docs-snapshot-format-example.json"))
    assert probs == [] and len(obs) == 4
    assert at(obs, "/snapshot/3").fields["process"] == "kextd"
    assert {o.asset for o in obs} == {"hostname.local"}
    assert all(o.evidence_class is EvidenceClass.RUNTIME for o in obs)
    obs, probs, ctx = run(osquery.SOURCE, shared_sample("osquery/osquery-docs-batch-format-example.json"))
    assert probs == [] and len(obs) == 1
    o = at(obs, "/diffResults/added/0")
    assert o.asset == "hostname.local" and o.fields["path"] == "/opt/osquery/bin/osqueryd"
    assert any("removed" in d for d in ctx.deviations)


def test_osquery_tables_and_forms() -> None:
    obs, probs, ctx = run(osquery.SOURCE, FIX / "osquery-mixed-results.log")
    assert probs == []
    by = {o.source.locator: o for o in obs}
    assert set(by) == {"line 1", "line 3 /snapshot/0", "line 3 /snapshot/1", "line 4", "line 5", "line 6", "line 7"}
    assert by["line 1"].fields["publisher"] == "AO Kaspersky Lab" and by["line 1"].asset == "WS-0042"
    assert by["line 3 /snapshot/0"].fields["kernel_module"] == "klif" and by["line 3 /snapshot/0"].asset == "nas-7"
    assert by["line 4"].fields["bundle_id"] == "com.tencent.xinWeChat"
    assert by["line 5"].fields["extension_id"] == "aapbdbdomjkkjkaonfhkkikfgjllcleb"
    assert by["line 6"].fields["service"] == "AVP.KES" and by["line 6"].evidence_class is EvidenceClass.RUNTIME
    assert by["line 7"].fields["driver"] == "klif.sys" and by["line 7"].fields["publisher"] == "AO Kaspersky Lab"
    assert ctx.observations == 1 and any("removed" in d for d in ctx.deviations)


def test_osqueryi_json_array() -> None:
    p = FIX / "osqueryi-programs.json"
    assert detect(p.read_bytes(), str(p)) is osquery.SOURCE
    obs, probs, _ = run(osquery.SOURCE, p)
    assert probs == [] and [o.source.locator for o in obs] == ["/0", "/1"]
    assert obs[0].fields["name"] == "Kaspersky Endpoint Security for Windows"
    assert obs[0].asset == "default-asset"


def test_osquery_truncated_is_fatal_with_line() -> None:
    obs, probs, _ = run(osquery.SOURCE, FIX / "truncated-osquery.log")
    assert len(obs) == 1 and len(probs) == 1 and probs[0].fatal
    assert probs[0].source.locator == "line 2" and "line 2" in probs[0].message


def test_osquery_truncated_document_is_fatal() -> None:
    data = shared_sample("osquery/osquery-docs-snapshot-format-example.json").read_bytes()[:200]
    ctx = ReadContext(path="t.json", asset="a")
    items = list(osquery.SOURCE.read(io.BytesIO(data), ctx))
    assert isinstance(items[-1], Problem) and items[-1].fatal and "byte offset" in items[-1].message


# ------------------------------------------------------------------------------- winget


@pytest.mark.parametrize(
    ("rel", "count", "first", "last"),
    [
        ("windows/winget-export-1.4.10173.json", 70, "Bitwarden.Bitwarden", "Python.Python.3.11"),
        ("windows/winget-export-1.29.280.json", 83, "7zip.7zip", "Microsoft.WindowsTerminal"),
    ],
)
def test_winget_export(rel: str, count: int, first: str, last: str) -> None:
    obs, probs, _ = run(winget.SOURCE, shared_sample(rel))
    assert probs == [] and len(obs) == count
    assert at(obs, "/Sources/0/Packages/0").fields == {"ecosystem": "winget", "package": first}
    assert at(obs, f"/Sources/0/Packages/{count - 1}").fields["package"] == last


def test_winget_export_lists_eset() -> None:
    obs, _, _ = run(winget.SOURCE, shared_sample("windows/winget-export-1.29.280.json"))
    assert "ESET.Nod32" in {o.fields["package"] for o in obs}


# ------------------------------------------------------------------------------- MDM plist


def test_mdm_installed_application_list() -> None:
    obs, probs, _ = run(mdm_plist.SOURCE, shared_sample("mdm/apple-mdm-InstalledApplicationList-response.plist"))
    assert probs == []
    assert [o.fields.get("bundle_id") for o in obs] == ["com.apple.mail", "com.apple.dt.Xcode", None]
    x = at(obs, "/plist/dict/array/dict[2]")
    assert x.fields == {"name": "Xcode", "bundle_id": "com.apple.dt.Xcode", "version": "14.0"}
    assert x.asset == "9353BC9A-5CF9-4C9E-9AD4-8D1E41D5FE3E"
    assert all(o.evidence_class is EvidenceClass.MOBILE for o in obs)


def test_mdm_plist_bomb_is_refused_quickly() -> None:
    p = FIX / "billion-laughs-mdm.plist"
    assert detect(p.read_bytes(), str(p)) is mdm_plist.SOURCE
    t = time.perf_counter()
    obs, probs, _ = run(mdm_plist.SOURCE, p)
    assert time.perf_counter() - t < 1.0
    assert obs == [] and len(probs) == 1 and probs[0].fatal and "refused" in probs[0].message


# ------------------------------------------------------------------------------- CSV


def test_uninstall_keys_csv() -> None:
    obs, probs, ctx = run(software_csv.SOURCE, shared_sample("windows/uninstall-keys-export-csv.csv"))
    assert probs == [] and len(obs) == 144 and ctx.deviations == []
    git = at(obs, "line 3")
    assert git.fields == {"name": "Git", "version": "2.38.1", "publisher": "The Git Development Community"}
    assert at(obs, "line 2").fields["publisher"] == "Cisco Systems, Inc."
    assert "version" not in at(obs, "line 2").fields  # empty cell: field not set
    assert sum(1 for o in obs if o.fields.get("publisher") == "ASUS") >= 1


def test_uninstall_and_appx_csv_with_bom() -> None:
    obs, probs, _ = run(software_csv.SOURCE, shared_sample("windows/uninstall-and-appx-inventory.csv"))
    assert probs == [] and len(obs) == 395
    assert at(obs, "line 2").fields["name"] == "µTorrent"  # first name after the UTF-8 BOM header
    appx = at(obs, "line 3")
    assert appx.fields["publisher"] == "Microsoft Corporation" and appx.fields["ecosystem"] == "appx"
    store = at(obs, "line 6")  # CN=<GUID>: no organisation to name
    assert store.fields["name"] == "5319275A.WhatsAppDesktop" and "publisher" not in store.fields


def test_other_csv_layouts() -> None:
    obs, probs, _ = run(software_csv.SOURCE, FIX / "sccm-installed-software.csv")
    assert probs == [] and [o.asset for o in obs] == ["WS-0042", "WS-0043"]
    assert obs[0].fields["publisher"] == "AO Kaspersky Lab"
    obs, _, _ = run(software_csv.SOURCE, FIX / "lansweeper-software.csv")
    assert obs[0].asset == "LT-17" and obs[0].fields["publisher"] == "Hikvision Digital Technology Co., Ltd."
    obs, _, _ = run(software_csv.SOURCE, FIX / "intune-discovered-apps.csv")
    assert [o.evidence_class for o in obs] == [EvidenceClass.MOBILE, EvidenceClass.MOBILE, EvidenceClass.INSTALLED]
    assert obs[0].fields["bundle_id"] == "com.zhiliaoapp.musically"
    obs, _, _ = run(software_csv.SOURCE, FIX / "jamf-mobile-device-apps.csv")
    assert obs[0].asset == "iPad-Reception" and obs[0].fields["bundle_id"] == "com.mm.dmss"
    assert obs[0].evidence_class is EvidenceClass.MOBILE


def test_csv_cp1252_and_multiline_records() -> None:
    obs, probs, ctx = run(software_csv.SOURCE, FIX / "cp1252-name-vendor-version.csv")
    assert probs == []
    assert [(o.source.locator, o.fields["name"]) for o in obs] == [
        ("line 2", "Café Manager"), ("line 3", "Multi\r\nline note app"), ("line 5", "ZTE NetNumen"),
    ]
    assert ctx.deviations == ["line 2 is not UTF-8; decoded as Windows-1252"]


def test_csv_line_numbers_count_lines_skipped_for_their_length(tmp_path: Path) -> None:
    """A line longer than max_line_bytes is skipped (and noted) but still counted: the records
    after it are located at their lines in the file.  A record it falls in (a quoted cell holding
    newlines) is cut there and noted as skipped; the next line starts a record."""
    from banscan.sources.limits import Limits

    p = tmp_path / "software.csv"
    p.write_bytes(b"ComputerName,DisplayName,Publisher\npc-1,ZTE NetNumen,ZTE\n" + b"x" * 300 + b"\n"
                  + b'pc-2,"Multi\n' + b"y" * 300 + b'\nline",Acme\npc-3,Kaspersky Free,Kaspersky\n')
    ctx = ReadContext(path=str(p), asset="a", limits=Limits(max_line_bytes=200))
    with p.open("rb") as fh:
        items = list(software_csv.SOURCE.read(io.BufferedReader(fh), ctx))
    assert [(o.source.locator, o.asset, o.fields["name"]) for o in items if isinstance(o, Observation)] == [
        ("line 2", "pc-1", "ZTE NetNumen"), ("line 6", 'line"', "Acme"), ("line 7", "pc-3", "Kaspersky Free")]
    notes = [d for d in ctx.deviations if "max_line_bytes" in d]
    assert [n.split(":")[0] for n in notes] == ["line 3", "line 5", "line 4"]
    assert "quoted cell goes on past a line longer than max_line_bytes" in notes[2]


def test_csv_claims_only_recognised_headers() -> None:
    p = shared_sample("windows/pnp-devices-history.csv")
    assert not software_csv.SOURCE.sniff(p.read_bytes()[:HEAD_BYTES], str(p))
    assert not software_csv.SOURCE.sniff(b"ip,mac,hostname\n10.0.0.1,aa:bb,x\n", "x.csv")

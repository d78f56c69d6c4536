"""Readers carry the package metadata that says who publishes a package: homepage, repository and
download URLs and authors' e-mail addresses, as each format really holds them (shared samples)."""

from __future__ import annotations

import importlib.metadata as md
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sharedsamples import shared_sample

from banscan.match import Matcher
from banscan.model import F, Observation
from banscan.registry import load
from banscan.sources import (
    cyclonedx_json,
    cyclonedx_xml,
    detect,
    osquery,
    pip_inspect,
    spdx3_jsonld,
    spdx_json,
    spdx_tagvalue,
)
from banscan.sources.base import ReadContext
from banscan.sources.host.linux import collect_python

META = (F.HOMEPAGE, F.REPOSITORY, F.DOWNLOAD_URL, F.AUTHOR_EMAIL, F.MAINTAINER_EMAIL)


def read(source, path: Path) -> list[Observation]:  # noqa: ANN001
    ctx = ReadContext(path=str(path), asset="host-1")
    with path.open("rb") as fh:
        return [o for o in source.read(io.BufferedReader(fh), ctx) if isinstance(o, Observation)]


def meta(o: Observation) -> dict[str, tuple[str, ...]]:
    return {str(k): o.values(k) for k in META if o.values(k)}


def by_loc(obs: list[Observation], loc: str) -> Observation:
    return next(o for o in obs if o.source.locator == loc)


def test_cyclonedx_json_external_references() -> None:
    obs = read(cyclonedx_json.SOURCE, shared_sample("cyclonedx/cdx-1.2-npm-cern-lhc-vdm-editor.json"))
    puppeteer = by_loc(obs, "/components/0")
    assert puppeteer.first(F.NAME) == "puppeteer"
    # website and vcs references; the issue-tracker reference is someone's site, not an identity
    assert meta(puppeteer) == {"homepage": ("https://github.com/GoogleChrome/puppeteer#readme",),
                               "repository": ("git+https://github.com/GoogleChrome/puppeteer.git",)}
    assert all(F.HOMEPAGE in o.fields for o in obs)  # every component of this npm SBOM has one


def test_cyclonedx_xml_reads_the_same_metadata_as_json() -> None:
    j = read(cyclonedx_json.SOURCE, shared_sample("cyclonedx/cdx-1.2-npm-cern-lhc-vdm-editor.json"))
    x = read(cyclonedx_xml.SOURCE, shared_sample("cyclonedx/cdx-1.2-npm-cern-lhc-vdm-editor.xml"))
    assert len(j) == len(x) == 44
    assert {(o.first(F.NAME), tuple(sorted(meta(o).items()))) for o in j} == \
        {(o.first(F.NAME), tuple(sorted(meta(o).items()))) for o in x}


def test_cyclonedx_xml_distribution_and_several_vcs() -> None:
    obs = read(cyclonedx_xml.SOURCE, shared_sample("cyclonedx/cdx-1.4-composer-laravel.xml"))
    cors = by_loc(obs, "/bom/components/component[1]")
    assert cors.first(F.NAME) == "stack-cors"
    assert cors.values(F.DOWNLOAD_URL) == (
        "https://api.github.com/repos/asm89/stack-cors/zipball/b9c31def6a83f84b4d4a40d35996d375755f0e08",)
    assert cors.values(F.REPOSITORY) == ("https://github.com/asm89/stack-cors.git",
                                         "https://github.com/asm89/stack-cors/tree/1.3.0")
    # the tool's own references under metadata/tools are not a component's
    assert meta(by_loc(obs, "/bom/metadata/component")) == {}


def test_spdx_json_homepage_download_and_party_emails() -> None:
    obs = read(spdx_json.SOURCE, shared_sample("spdx/spdx-2.3-json-canonical-example.spdx.json"))
    glibc = by_loc(obs, "/packages/0")
    assert meta(glibc) == {"homepage": ("http://ftp.gnu.org/gnu/glibc",),
                           "download_url": ("http://ftp.gnu.org/gnu/glibc/glibc-ports-2.15.tar.gz",),
                           "author_email": ("jane.doe@example.com", "contact@example.com")}
    assert F.DOWNLOAD_URL not in by_loc(obs, "/packages/1").fields  # NOASSERTION is no URL
    alpine = read(spdx_json.SOURCE, shared_sample("spdx/spdx-2.2-json-syft-alpine310.spdx.json"))
    assert meta(by_loc(alpine, "/packages/0")) == {"download_url": ("https://busybox.net/",),
                                                   "author_email": ("ncopa@alpinelinux.org",)}


def test_spdx_tagvalue_reads_the_same_metadata_as_json() -> None:
    j = read(spdx_json.SOURCE, shared_sample("spdx/spdx-2.3-json-canonical-example.spdx.json"))
    t = read(spdx_tagvalue.SOURCE, shared_sample("spdx/spdx-2.3-tagvalue-canonical-example.spdx"))
    assert [meta(o) for o in j] == [meta(o) for o in t]
    hello = read(spdx_tagvalue.SOURCE, shared_sample("spdx/spdx-2.2-tagvalue-example1-hello.spdx"))
    assert hello[0].values(F.DOWNLOAD_URL) == ("git+https://github.com/swinslow/spdx-examples.git#example1/content",)


def test_spdx3_homepage() -> None:
    obs = read(spdx3_jsonld.SOURCE, shared_sample("spdx/spdx-3.0-jsonld-python-hello-source.spdx3.json"))
    assert [meta(o) for o in obs] == [{"homepage": ("https://github.com/spdx/spdx-examples",)}]


def test_sample_metadata_names_no_family() -> None:
    """Real SBOMs full of github.com, example.com and project sites: nothing is a family's."""
    m = Matcher(load())
    for source, rel in ((cyclonedx_json.SOURCE, "cyclonedx/cdx-1.2-npm-cern-lhc-vdm-editor.json"),
                        (cyclonedx_xml.SOURCE, "cyclonedx/cdx-1.4-composer-laravel.xml"),
                        (cyclonedx_json.SOURCE, "cyclonedx/cdx-1.2-gomod-proton-bridge.json"),
                        (spdx_json.SOURCE, "spdx/spdx-2.3-json-canonical-example.spdx.json"),
                        (spdx_tagvalue.SOURCE, "spdx/spdx-2.3-tagvalue-canonical-example.spdx")):
        obs = read(source, shared_sample(rel))
        assert any(meta(o) for o in obs)
        assert [d for o in obs for d in m.match(o) if d.evidence[0].field in META] == []


def test_osqueryi_npm_and_python_packages(tmp_path: Path) -> None:
    # rows as osqueryi --json prints them for npm_packages (homepage column) and python_packages
    # (author column), with the published metadata of @agconnect/core and bytededt
    rows = [
        {"name": "@agconnect/core", "version": "1.9.1.300", "description": "AppGallery Connect Core",
         "author": "AppGallery Connect", "license": "Apache-2.0",
         "homepage": "https://developer.huawei.com/consumer/cn/service/josp/agc/index.html#/",
         "path": "/srv/app/node_modules/@agconnect/core/package.json", "directory": "/srv/app"},
        {"name": "bytededt", "version": "0.1.0", "summary": "ecom debug trace python sdk",
         "author": "rentianhang <rentianhang.ryan@bytedance.com>", "license": "",
         "path": "/usr/lib/python3/dist-packages/bytededt-0.1.0.dist-info/", "directory": "/usr/lib/python3"},
    ]
    npm_file = tmp_path / "npm_packages.json"
    npm_file.write_text(json.dumps(rows[:1]))
    py_file = tmp_path / "python_packages.json"
    py_file.write_text(json.dumps(rows[1:]))
    npm = read(osquery.SOURCE, npm_file)
    py = read(osquery.SOURCE, py_file)
    assert npm[0].values(F.HOMEPAGE) == (rows[0]["homepage"],)
    assert F.AUTHOR_EMAIL not in npm[0].fields  # "AppGallery Connect" holds no address
    # the author's name is publisher text; the address is read for its domain only, so the vendor
    # word inside it is not taken for the vendor's name (which would be certain)
    assert py[0].values(F.AUTHOR_EMAIL) == ("rentianhang.ryan@bytedance.com",)
    assert py[0].values(F.PUBLISHER) == ("rentianhang",)
    m = Matcher(load())
    assert {(d.family, d.confidence.value) for d in m.match(npm[0])} == {("huawei", "likely")}
    assert {(d.family, d.confidence.value) for d in m.match(py[0])} == {("bytedance", "possible")}


# --------------------------------------------------------------------------- pip inspect


def _pip_inspect(tmp_path: Path) -> Path:
    out = tmp_path / "pip-inspect.json"
    run = subprocess.run([sys.executable, "-m", "pip", "inspect", "--local"], capture_output=True, timeout=120)
    if run.returncode != 0 or not run.stdout.strip().startswith(b"{"):
        pytest.skip("pip inspect is not available (pip >= 22.2)")
    out.write_bytes(run.stdout)
    return out


def test_pip_inspect_report_of_this_environment(tmp_path: Path) -> None:
    """The real report of the running environment: sniffed, one observation per distribution, and
    the same metadata fields as the host collector reads from the same distributions."""
    path = _pip_inspect(tmp_path)
    assert detect(path.read_bytes()[:4096], str(path)) is pip_inspect.SOURCE
    obs = read(pip_inspect.SOURCE, path)
    report = json.loads(path.read_text())
    assert len(obs) == len(report["installed"]) > 10
    assert all(o.first(F.ECOSYSTEM) == "pypi" for o in obs)
    assert [o.source.locator for o in obs[:2]] == ["/installed/0", "/installed/1"]
    assert sum(1 for o in obs if meta(o)) > len(obs) // 2  # most distributions name a site or an address
    host = {(o.first(F.NAME), o.first(F.VERSION)): meta(o) for o in collect_python("host-1", "python")}
    for o in obs:
        key = (o.first(F.NAME), o.first(F.VERSION))
        if key in host:
            assert meta(o) == host[key], key
    pip_meta = md.metadata("pip")
    pip_obs = next(o for o in obs if o.first(F.NAME) == "pip")
    if pip_meta.get("Home-page"):
        assert pip_obs.values(F.HOMEPAGE) == (pip_meta["Home-page"],)


def test_pip_inspect_item_with_published_metadata(tmp_path: Path) -> None:
    # one installed item as pip inspect writes it, holding the metadata PyPI publishes for bytedbolt
    # (a ByteDance dependency-confusion reservation) and bytedocs-flask (a look-alike name)
    report = {"version": "1", "pip_version": "23.2.1", "installed": [
        {"metadata": {"metadata_version": "2.1", "name": "bytedbolt", "version": "0.0.1", "author": "Your Name",
                      "author_email": "your.email@example.com",
                      "home_page": "https://code.byted.org/infra/bytedbolt",
                      "project_url": ["Homepage, https://code.byted.org/infra/bytedbolt"]},
         "metadata_location": "/usr/lib/python3/site-packages/bytedbolt-0.0.1.dist-info", "requested": True},
        {"metadata": {"metadata_version": "2.1", "name": "bytedocs-flask", "version": "0.1.0",
                      "home_page": "https://github.com/aibnuhibban/bytedocs-flask",
                      "project_url": ["Bug Reports, https://github.com/aibnuhibban/bytedocs-flask/issues",
                                      "Homepage, https://github.com/aibnuhibban/bytedocs-flask",
                                      "Source, https://github.com/aibnuhibban/bytedocs-flask"]},
         "metadata_location": "/usr/lib/python3/site-packages/bytedocs_flask-0.1.0.dist-info", "requested": True},
    ], "environment": {}}
    path = tmp_path / "inspect.json"
    path.write_text(json.dumps(report))
    bolt, docs = read(pip_inspect.SOURCE, path)
    assert meta(bolt) == {"homepage": ("https://code.byted.org/infra/bytedbolt",),
                          "author_email": ("your.email@example.com",)}
    assert meta(docs) == {"homepage": ("https://github.com/aibnuhibban/bytedocs-flask",),
                          "repository": ("https://github.com/aibnuhibban/bytedocs-flask",)}
    m = Matcher(load())
    assert {(d.family, d.confidence.value) for d in m.match(bolt)} == {("bytedance", "likely")}
    assert m.match(docs) == []

"""Prefilter anchors are complete: every observation built from a bundled signature that matches
is let through by ``Matcher.prefilter`` on its raw JSON and text forms (differential test)."""

from __future__ import annotations

import json

import pytest

from banscan.match import Matcher
from banscan.model import EvidenceClass, F, Locator, Observation
from banscan.registry import CompiledSignature, load


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load())


def _example(sig: CompiledSignature, v: str) -> dict[str, str] | None:
    """Fields of an observation that the signature value ``v`` should match."""
    k = sig.kind
    bare = v.rstrip("*")
    if k == "publisher" or k == "organisation":
        return {F.PUBLISHER: v}
    if k == "product-name":
        return {F.NAME: v}
    if k == "banner":
        return {(sig.fields or ("banner",))[0]: f"x {v} 1.0"}
    if k == "package":
        pkg = bare + ("x" if bare != v or bare.endswith((".", "/", ":")) else "")
        return {F.ECOSYSTEM: sig.ecosystem or "", F.PACKAGE: pkg}
    if k == "purl":
        return {F.PURL: bare + ("x@1" if bare.endswith("/") else "/x@1")}
    if k == "bundle-id":
        return {F.BUNDLE_ID: bare + ("x" if bare.endswith(".") else "")}
    if k in ("process", "service", "driver", "kernel-module", "browser-extension"):
        return {{"process": F.PROCESS, "service": F.SERVICE, "driver": F.DRIVER, "kernel-module": F.KERNEL_MODULE,
                 "browser-extension": F.EXTENSION_ID}[k]: v}
    if k == "path":
        return {F.PATH: "C:\\Program Files\\" + v + "\\x.exe"}
    if k == "snmp-pen":
        return {F.SYS_OBJECT_ID: f".1.3.6.1.4.1.{v}.1.2"}
    if k == "domain":
        return {F.DOMAIN: "a." + (v[:-2] + ".com.br" if v.endswith(".*") else v)}
    if k == "hostname":
        return {F.HOSTNAME: v + "01"}
    if k == "namespace":
        eco = (sig.ecosystem or "").lower()
        sep = {"maven": ".", "nuget": ".", "npm": "/", "go": "/", "docker": "/", "pypi": "-", "bundle": ".",
               "winget": "."}[eco]
        if eco == "bundle":
            return {F.BUNDLE_ID: v + ".app"}
        pkg = v + sep + "x" + (":artifact" if eco == "maven" else "")
        return {F.ECOSYSTEM: eco, F.PACKAGE: pkg.replace("-", "_").upper() if eco == "pypi" else pkg}
    return None


def test_every_matching_signature_example_passes_the_prefilter(matcher: Matcher) -> None:
    checked = 0
    for sig in matcher.registry.signatures:
        if sig.negative:
            continue
        for v in sig.values:
            fields = _example(sig, v)
            if fields is None:
                continue
            o = Observation("software", "a", fields, Locator("x", "line 1"), EvidenceClass.INSTALLED)
            if not matcher.match(o):
                continue
            checked += 1
            raw_forms = [json.dumps(fields), json.dumps(fields, ensure_ascii=False),
                         " ".join(fields.values()), " ".join(fields.values()).upper()]
            for raw in raw_forms:
                assert matcher.prefilter(raw), (sig.id, v, raw)
    assert checked > 500

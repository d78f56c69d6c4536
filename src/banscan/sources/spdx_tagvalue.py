"""SPDX 2.2 / 2.3 tag-value documents.

Specification: https://spdx.github.io/spdx-spec/v2.3/ (tag-value format: annex
https://spdx.github.io/spdx-spec/v2.3/conformance/ and each field's "Tag" in chapters 6-7).

Read line by line; a package starts at its ``PackageName`` line, which is its locator
(``line N``).  Multi-line ``<text>...</text>`` values are skipped over correctly.  spdx-tools'
tag-value parser is not used: it parses the whole document at once and refuses documents whose
meaning is clear (Syft writes no ``DocumentName``; Syft and Bitnami write fractional seconds).
Such departures are recorded as deviations.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import re2

from banscan.model import EvidenceClass, F, Observation, Problem
from banscan.sources._common import add_values, purl_fields, put, spdx_party, spdx_party_email
from banscan.sources.base import ReadContext, read_lines, text_head
from banscan.sources.spdx_json import check_created

_SNIFF = re2.compile(r"(?m)^[ \t]*SPDXVersion:\s*SPDX-2\.")
_SECTION_STARTS = ("PackageName", "FileName", "SnippetSPDXID", "LicenseID")


class _Pkg:
    __slots__ = ("line", "tags", "refs")

    def __init__(self, line: int) -> None:
        self.line = line
        self.tags: dict[str, str] = {}
        self.refs: list[str] = []


class SpdxTagValueSource:
    name = "spdx-tagvalue"
    description = "SPDX 2.2/2.3 tag-value document: packages with suppliers, purls and CPEs"
    documentation_url = "https://spdx.github.io/spdx-spec/v2.3/"

    def sniff(self, head: bytes, path: str) -> bool:
        t = text_head(head)
        return bool(_SNIFF.search(t[:4096])) and "SPDXID:" in t

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Observation | Problem]:
        doc: dict[str, str] = {}
        pkg: _Pkg | None = None
        created: str | None = None
        in_text = False
        lineno = 0
        bad_bytes = False
        for lineno, raw in read_lines(stream, ctx):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                line = raw.decode("utf-8", errors="replace")
                bad_bytes = True
            if lineno == 1 and line.startswith("\ufeff"):
                line = line[1:]
            if in_text:
                if "</text>" in line:
                    in_text = False
                continue
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            tag, sep, value = stripped.partition(":")
            if not sep:
                yield Problem(ctx.loc(f"line {lineno}"), "line is not 'Tag: value'")
                continue
            tag, value = tag.strip(), value.strip()
            if value.startswith("<text>") and "</text>" not in value:
                in_text = True
                value = ""
            elif value.startswith("<text>"):
                value = value[6 : value.index("</text>")]
            if tag in _SECTION_STARTS:
                if pkg is not None:
                    yield from self._emit(pkg, created, ctx)
                    pkg = None
                if tag == "PackageName":
                    pkg = _Pkg(lineno)
                    pkg.tags["PackageName"] = value
                continue
            if pkg is not None:
                if tag == "ExternalRef":
                    pkg.refs.append(value)
                else:
                    pkg.tags.setdefault(tag, value)
            elif tag not in doc:
                doc[tag] = value
                if tag == "Created":
                    created = value or None
                    if created:
                        check_created(created, ctx)
        if in_text:
            yield Problem(ctx.loc(f"line {lineno}"), "input ends inside a <text> value (truncated?)")
        if pkg is not None:
            yield from self._emit(pkg, created, ctx)
        if bad_bytes:
            ctx.deviation("input is not valid UTF-8; undecodable bytes replaced")
        if lineno and "SPDXVersion" not in doc:
            yield Problem(ctx.loc("line 1"), "no SPDXVersion line: not an SPDX tag-value document", fatal=True)
            return
        for required in ("DocumentName", "DocumentNamespace", "DataLicense", "Created"):
            if required not in doc:
                ctx.deviation(f"document has no {required}")

    def _emit(self, pkg: _Pkg, created: str | None, ctx: ReadContext) -> Iterator[Observation | Problem]:
        t = pkg.tags
        where = f"line {pkg.line}"
        fields: dict[str, str | tuple[str, ...]] = {}
        put(fields, F.NAME, t.get("PackageName"))
        put(fields, F.VERSION, t.get("PackageVersion"))
        put(fields, F.PUBLISHER, spdx_party(t.get("PackageSupplier")) or spdx_party(t.get("PackageOriginator")))
        for ref in pkg.refs:
            parts = ref.split(None, 2)
            if len(parts) != 3:
                yield Problem(ctx.loc(where), f"malformed ExternalRef {ref!r}")
                continue
            rtype, loc = parts[1].lower(), parts[2]
            if rtype == "purl":
                purl_fields(fields, loc)
            elif rtype in ("cpe23type", "cpe22type"):
                put(fields, "cpe", loc)
        put(fields, "spdx_id", t.get("SPDXID"))
        add_values(fields, F.HOMEPAGE, [t.get("PackageHomePage")])
        add_values(fields, F.DOWNLOAD_URL, [t.get("PackageDownloadLocation")])
        add_values(fields, F.AUTHOR_EMAIL, [spdx_party_email(t.get("PackageSupplier")),
                                            spdx_party_email(t.get("PackageOriginator"))])
        ref_name = t.get("SPDXID") or where
        if "SPDXID" not in t:
            ctx.deviation(f"package at {where} has no SPDXID")
        if "PackageDownloadLocation" not in t:
            ctx.deviation(f"package {ref_name} has no downloadLocation")
        if not fields.get(F.NAME) and not fields.get(F.PURL):
            yield Problem(ctx.loc(where), "package has neither name nor purl")
            return
        obs = Observation("package", ctx.asset, fields, ctx.loc(where), EvidenceClass.SBOM, created)
        yield obs


SOURCE = SpdxTagValueSource()

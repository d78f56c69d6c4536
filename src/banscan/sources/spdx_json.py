"""SPDX 2.2 / 2.3 JSON documents.

Specification: https://spdx.github.io/spdx-spec/v2.3/ (JSON schema:
https://github.com/spdx/spdx-spec/blob/development/v2.3.1/schemas/spdx-schema.json).

Packages are streamed with ijson (locator ``/packages/4``).  spdx-tools' parser is not used: it
loads the whole document and rejects files whose meaning is clear, e.g. Syft's and Bitnami's
``created`` timestamps with fractional seconds or files without checksums.  This reader is
lenient and records each departure from the specification as a deviation instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from banscan.model import EvidenceClass, F, Observation, Problem
from banscan.sources._common import (
    CountingReader,
    add_values,
    build,
    ijson,
    json_error_message,
    ptr,
    purl_fields,
    put,
    put_all,
    s,
    spdx_party,
    spdx_party_email,
)
from banscan.sources.base import ReadContext, text_head

_STRICT_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_FRACTION_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z$")


def check_created(value: str, ctx: ReadContext) -> None:
    if _STRICT_TS.match(value):
        return
    if _FRACTION_TS.match(value):
        ctx.deviation("created timestamp has fractional seconds")
    else:
        ctx.deviation(f"created timestamp {value!r} is not YYYY-MM-DDThh:mm:ssZ")


def package_fields(pkg: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    put(fields, F.NAME, pkg.get("name"))
    put(fields, F.VERSION, pkg.get("versionInfo"))
    put_all(fields, F.PUBLISHER, [spdx_party(pkg.get("supplier")), spdx_party(pkg.get("originator"))])
    refs = pkg.get("externalRefs")
    if isinstance(refs, list):
        for ref in refs:
            if not isinstance(ref, dict):
                continue
            rtype = s(ref.get("referenceType")).lower()
            loc = s(ref.get("referenceLocator"))
            if rtype == "purl":
                purl_fields(fields, loc)
            elif rtype in ("cpe23type", "cpe22type"):
                put(fields, "cpe", loc)
    put(fields, "spdx_id", pkg.get("SPDXID"))
    # who publishes it: its home page and download location, its supplier's and originator's e-mails
    add_values(fields, F.HOMEPAGE, [pkg.get("homepage")])
    add_values(fields, F.DOWNLOAD_URL, [pkg.get("downloadLocation")])
    add_values(fields, F.AUTHOR_EMAIL, [spdx_party_email(pkg.get("supplier")),
                                        spdx_party_email(pkg.get("originator"))])
    return fields


def package_deviations(pkg: dict[str, Any], where: str, ctx: ReadContext) -> None:
    ref = s(pkg.get("SPDXID")) or where
    if "SPDXID" not in pkg:
        ctx.deviation(f"package {where} has no SPDXID")
    if "downloadLocation" not in pkg:
        ctx.deviation(f"package {ref} has no downloadLocation")


class SpdxJsonSource:
    name = "spdx-json"
    description = "SPDX 2.2/2.3 JSON document: packages with suppliers, purls and CPEs"
    documentation_url = "https://spdx.github.io/spdx-spec/v2.3/"

    def sniff(self, head: bytes, path: str) -> bool:
        t = text_head(head).lstrip()
        return t.startswith("{") and '"spdxVersion"' in t and '"SPDX-2.' in t

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Observation | Problem]:
        reader = CountingReader(stream, ctx.limits)
        events = ijson.parse(reader)
        index = 0
        created: str | None = None
        top: set[str] = set()
        file_has_checksums = True
        files_without_checksums = 0
        try:
            for prefix, event, value in events:
                if prefix == "packages.item" and event == "start_map":
                    pkg = build(events, event, value)
                    where = ptr("packages", index)
                    index += 1
                    fields = package_fields(pkg)
                    package_deviations(pkg, where, ctx)
                    if F.NAME not in fields and F.PURL not in fields:
                        yield Problem(ctx.loc(where), "package has neither name nor purl")
                        continue
                    if F.NAME not in fields:
                        ctx.deviation(f"package {where} has no name")
                    obs = Observation("package", ctx.asset, fields, ctx.loc(where), EvidenceClass.SBOM, created)
                    yield obs
                elif event == "map_key" and prefix == "":
                    top.add(value)
                elif prefix == "files.item":
                    if event == "start_map":
                        file_has_checksums = False
                    elif event == "map_key" and value == "checksums":
                        file_has_checksums = True
                    elif event == "end_map" and not file_has_checksums:
                        files_without_checksums += 1
                elif prefix == "creationInfo.created":
                    created = s(value) or None
                    if created:
                        check_created(created, ctx)
                elif prefix == "spdxVersion" and s(value) not in ("SPDX-2.2", "SPDX-2.3"):
                    ctx.deviation(f"spdxVersion is {value!r}; read as SPDX 2.3")
        except (ijson.JSONError, ijson.IncompleteJSONError, ValueError) as exc:
            yield Problem(ctx.loc(""), json_error_message(exc, reader), fatal=True)
            return
        if files_without_checksums:
            ctx.deviation(f"{files_without_checksums} file(s) have no checksums")
        for required in ("SPDXID", "name", "documentNamespace", "creationInfo", "dataLicense"):
            if required not in top:
                ctx.deviation(f"document has no {required}")


SOURCE = SpdxJsonSource()

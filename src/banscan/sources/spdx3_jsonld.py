"""SPDX 3.0 JSON-LD documents (serialised with the SPDX 3 JSON-LD context).

Specification: https://spdx.github.io/spdx-spec/v3.0.1/ (serialisation:
https://spdx.github.io/spdx-spec/v3.0.1/serializations/).

The ``@graph`` array is streamed with ijson.  ``software_Package`` elements become observations
(locator: the JSON Pointer of the element, ``/@graph/32``).  Supplier and originator are
references to Agent elements (Organization, Person, SoftwareAgent) that may appear anywhere in
the graph: a package whose agent has not been read yet is held until the end of the graph, the
only elements kept in memory.
"""

from __future__ import annotations

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
    s,
)
from banscan.sources.base import ReadContext, text_head
from banscan.sources.spdx_json import check_created

_PACKAGE_TYPES = {"software_Package", "Package", "software:Package", "spdx:Software/Package"}
_AGENT_TYPES = {"Organization", "Person", "SoftwareAgent", "Agent", "Tool"}


def _type(el: dict[str, Any]) -> str:
    t = el.get("type", el.get("@type", ""))
    if isinstance(t, list):
        t = t[0] if t else ""
    return str(t)


def _refs(v: Any) -> list[str]:
    if isinstance(v, str):
        return [v]
    if isinstance(v, list):
        return [x for x in v if isinstance(x, str)]
    return []


class Spdx3JsonLdSource:
    name = "spdx3-jsonld"
    description = "SPDX 3.0 JSON-LD document: software packages with suppliers and purls"
    documentation_url = "https://spdx.github.io/spdx-spec/v3.0.1/"

    def sniff(self, head: bytes, path: str) -> bool:
        t = text_head(head).lstrip()
        if not t.startswith("{"):
            return False
        return ('"@context"' in t and "spdx.org/rdf/3." in t) or (
            '"@graph"' in t and '"CreationInfo"' in t and '"spdxId"' in t
        )

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Observation | Problem]:
        reader = CountingReader(stream, ctx.limits)
        events = ijson.parse(reader)
        agents: dict[str, str] = {}
        pending: list[tuple[int, dict[str, Any]]] = []
        created: str | None = None
        index = 0
        try:
            for prefix, event, value in events:
                if prefix == "@graph.item" and event == "start_map":
                    el = build(events, event, value)
                    i = index
                    index += 1
                    if not isinstance(el, dict):
                        continue
                    t = _type(el)
                    if t == "CreationInfo":
                        c = s(el.get("created"))
                        if c:
                            check_created(c, ctx)
                            created = created or c
                    elif t in _AGENT_TYPES:
                        if s(el.get("spdxId")) and s(el.get("name")):
                            agents[s(el["spdxId"])] = s(el["name"])
                    elif t in _PACKAGE_TYPES:
                        needed = _refs(el.get("suppliedBy")) + _refs(el.get("originatedBy"))
                        if all(r in agents for r in needed):
                            yield from self._emit(i, el, agents, created, ctx)
                        else:
                            pending.append((i, el))
        except (ijson.JSONError, ijson.IncompleteJSONError, ValueError) as exc:
            yield Problem(ctx.loc(""), json_error_message(exc, reader), fatal=True)
            return
        for i, el in pending:
            yield from self._emit(i, el, agents, created, ctx)

    def _emit(
        self, i: int, el: dict[str, Any], agents: dict[str, str], created: str | None, ctx: ReadContext
    ) -> Iterator[Observation | Problem]:
        where = ptr("@graph", i)
        fields: dict[str, str | tuple[str, ...]] = {}
        put(fields, F.NAME, el.get("name"))
        put(fields, F.VERSION, el.get("software_packageVersion", el.get("packageVersion")))
        for ref in _refs(el.get("suppliedBy")) + _refs(el.get("originatedBy")):
            put(fields, F.PUBLISHER, agents.get(ref))
        purl_fields(fields, s(el.get("software_packageUrl", el.get("packageUrl"))))
        ids = el.get("externalIdentifier")
        if isinstance(ids, list):
            for x in ids:
                if not isinstance(x, dict):
                    continue
                kind = s(x.get("externalIdentifierType")).lower()
                if kind == "packageurl":
                    purl_fields(fields, s(x.get("identifier")))
                elif kind in ("cpe23", "cpe22"):
                    put(fields, "cpe", x.get("identifier"))
        put(fields, "spdx_id", el.get("spdxId"))
        add_values(fields, F.HOMEPAGE, [el.get("software_homePage", el.get("homePage"))])
        add_values(fields, F.DOWNLOAD_URL, [el.get("software_downloadLocation", el.get("downloadLocation"))])
        if not fields.get(F.NAME) and not fields.get(F.PURL):
            yield Problem(ctx.loc(where), "package has neither name nor purl")
            return
        obs = Observation("package", ctx.asset, fields, ctx.loc(where), EvidenceClass.SBOM, created)
        yield obs


SOURCE = Spdx3JsonLdSource()

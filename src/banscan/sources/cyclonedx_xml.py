"""CycloneDX XML bills of materials, specification 1.2 to 1.6.

Specification: https://cyclonedx.org/specification/overview/ (XML schemas:
https://github.com/CycloneDX/specification/tree/master/schema, ``bom-1.x.xsd``).

Read incrementally with ``defusedxml.ElementTree.iterparse`` (a DTD, entity declaration or
external reference makes the input unreadable: CycloneDX has no use for them), matching
element names without their namespace so every schema version reads the same.  Each finished
component is emitted and cleared.  Locators are XPath-like and 1-based:
``/bom/components/component[3]``, ``/bom/components/component[3]/components/component[1]``,
``/bom/metadata/component``.  CDATA sections read as ordinary text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO
from xml.etree.ElementTree import Element, ParseError

import re2
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from banscan.model import EvidenceClass, F, Observation, Problem
from banscan.sources._common import (
    CDX_REF_FIELDS,
    CountingReader,
    add_values,
    purl_fields,
    put,
    s,
    split_contact,
)
from banscan.sources.base import ReadContext, text_head
from banscan.sources.limits import LimitExceeded

_BOM_NS = re2.compile(r"(?s)<bom\b[^>]*cyclonedx\.org/schema/bom")


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if tag[:1] == "{" else tag


def _child_text(el: Element, name: str) -> str:
    for c in el:
        if local(c.tag) == name:
            return s(c.text)
    return ""


def _child(el: Element, name: str) -> Element | None:
    for c in el:
        if local(c.tag) == name:
            return c
    return None


def _children(el: Element | None, name: str) -> list[Element]:
    return [c for c in el if local(c.tag) == name] if el is not None else []


def xml_metadata_fields(el: Element, fields: dict[str, Any]) -> None:
    """The component's own sites and its people's e-mail addresses, as in the JSON reader
    (``cyclonedx_json.metadata_fields``): ``externalReferences/reference`` of type website, vcs
    and distribution; ``supplier``/``manufacturer`` ``url``; e-mails of ``authors/author``,
    supplier and manufacturer ``contact`` and an ``author`` text that holds one."""
    for ref in _children(_child(el, "externalReferences"), "reference"):
        fld = CDX_REF_FIELDS.get((ref.get("type") or "").strip().lower())
        if fld:
            add_values(fields, fld, [_child_text(ref, "url")])
    mails = [split_contact(_child_text(el, "author"))[1]]
    mails += [_child_text(a, "email") for a in _children(_child(el, "authors"), "author")]
    for org in (_child(el, "supplier"), _child(el, "manufacturer")):
        if org is not None:
            add_values(fields, F.HOMEPAGE, [s(u.text) for u in _children(org, "url")])
            mails += [_child_text(p, "email") for p in _children(org, "contact")]
    add_values(fields, F.AUTHOR_EMAIL, [m for m in mails if "@" in m])


def xml_component_fields(el: Element) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    put(fields, F.NAME, _child_text(el, "name"))
    put(fields, F.VERSION, _child_text(el, "version"))
    pub = _child_text(el, "publisher")
    if not pub:
        sup = _child(el, "supplier")
        pub = _child_text(sup, "name") if sup is not None else ""
    if not pub:
        pub = split_contact(_child_text(el, "author"))[0]
    if not pub:
        man = _child(el, "manufacturer")
        pub = _child_text(man, "name") if man is not None else ""
    if not pub:
        authors = _child(el, "authors")
        if authors is not None:
            for a in authors:
                pub = _child_text(a, "name")
                if pub:
                    break
    put(fields, F.PUBLISHER, pub)
    purl_fields(fields, _child_text(el, "purl"))
    xml_metadata_fields(el, fields)
    put(fields, "group", _child_text(el, "group"))
    put(fields, "cpe", _child_text(el, "cpe"))
    put(fields, "type", el.get("type"))
    return fields


class CycloneDxXmlSource:
    name = "cyclonedx-xml"
    description = "CycloneDX XML SBOM (spec 1.2-1.6): components with purls"
    documentation_url = "https://cyclonedx.org/specification/overview/"

    def sniff(self, head: bytes, path: str) -> bool:
        t = text_head(head).lstrip()
        return t.startswith("<") and bool(_BOM_NS.search(t))

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Observation | Problem]:
        reader = CountingReader(stream)
        # stack of (local name, path, {child name: count}, element)
        stack: list[tuple[str, str, dict[str, int], Element]] = []
        asset = ctx.asset
        ts: str | None = None
        try:
            for event, el in iterparse(
                reader,
                events=("start", "end"),
                forbid_dtd=True,
                forbid_entities=True,
                forbid_external=True,
            ):
                name = local(el.tag)
                if event == "start":
                    if stack:
                        parent_name, parent_path, counts, _ = stack[-1]
                        n = counts[name] = counts.get(name, 0) + 1
                        if name == "component" and parent_name == "components":
                            path = f"{parent_path}/{name}[{n}]"
                        else:
                            path = f"{parent_path}/{name}"
                    else:
                        path = f"/{name}"
                        if name != "bom":
                            yield Problem(ctx.loc(path), f"root element is <{name}>, not <bom>", fatal=True)
                            return
                    stack.append((name, path, {}, el))
                    if len(stack) > ctx.limits.max_depth:
                        raise LimitExceeded("max_depth", ctx.limits.max_depth, f"XML nesting at {path[:120]}...")
                    continue
                _, path, _, _ = stack.pop()
                depth = len(stack)
                if name == "timestamp" and path == "/bom/metadata/timestamp":
                    ts = s(el.text) or None
                elif name == "component" and (
                    path.startswith("/bom/components/") or path == "/bom/metadata/component"
                ):
                    fields = xml_component_fields(el)
                    if path == "/bom/metadata/component":
                        nm, v = fields.get(F.NAME, ""), fields.get(F.VERSION, "")
                        if nm:
                            asset = f"{nm}@{v}" if v else nm
                    if F.NAME in fields or F.PURL in fields:
                        obs = Observation("component", asset, fields, ctx.loc(path), EvidenceClass.SBOM, ts)
                        yield obs
                    else:
                        yield Problem(ctx.loc(path), "component has neither name nor purl")
                    if stack and stack[-1][0] == "components":
                        stack[-1][3].remove(el)  # emitted: free it
                elif depth == 1:
                    el.clear()  # a finished top-level section (dependencies, services, ...)
        except DefusedXmlException as exc:
            yield Problem(ctx.loc(""), f"refused unsafe XML ({type(exc).__name__}): {exc}", fatal=True)
        except ParseError as exc:
            line, col = getattr(exc, "position", (0, 0))
            yield Problem(
                ctx.loc(f"line {line}"),
                f"invalid or truncated XML at line {line}, column {col}: {exc}",
                fatal=True,
            )


SOURCE = CycloneDxXmlSource()

"""CycloneDX JSON bills of materials, specification 1.2 to 1.7.

Specification: https://cyclonedx.org/specification/overview/ (JSON schemas:
https://github.com/CycloneDX/specification/tree/master/schema).

Components, nested ``components`` included, are streamed with ijson: only one top-level
component (with its children) is held in memory at a time.  Each observation's locator is the
component's RFC 6901 JSON Pointer (``/components/12``, ``/components/3/components/0``,
``/metadata/component``).

cyclonedx-python-lib's deserializer is not used: it builds the whole document in memory and
validates it strictly against one schema version, so a large SBOM would be loaded at once and a
real-world file with a small departure (an unknown property, a 1.7 field, tools as an object in
1.5+) would be refused although its components are perfectly clear.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from banscan.model import EvidenceClass, F, Observation, Problem
from banscan.sources._common import (
    CDX_REF_FIELDS,
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
    split_contact,
)
from banscan.sources.base import ReadContext, text_head


def _publishers(c: dict[str, Any]) -> list[str]:
    """Publisher, supplier, author, manufacturer and authors: every organisation named."""
    out = [
        s(c.get("publisher")),
        s((c.get("supplier") or {}).get("name")) if isinstance(c.get("supplier"), dict) else "",
        split_contact(c.get("author"))[0],
        s((c.get("manufacturer") or {}).get("name")) if isinstance(c.get("manufacturer"), dict) else "",
    ]
    authors = c.get("authors")
    if isinstance(authors, list):
        out += [s(a.get("name")) for a in authors if isinstance(a, dict)]
    return [v for v in out if v]


def _dicts(v: Any) -> list[dict[str, Any]]:
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


def _strings(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def metadata_fields(c: dict[str, Any], fields: dict[str, Any]) -> None:
    """The component's own sites and its people's e-mail addresses (who publishes it).

    ``externalReferences`` of type website / vcs / distribution (other types, such as
    documentation or issue-tracker, may point at someone else's site), the ``url`` list of
    ``supplier`` and ``manufacturer`` (the organisation's site, read as a homepage), and the
    e-mails of ``authors``, of ``supplier`` / ``manufacturer`` contacts and of an ``author``
    text that holds one.
    """
    for ref in _dicts(c.get("externalReferences")):
        fld = CDX_REF_FIELDS.get(s(ref.get("type")).lower())
        if fld:
            add_values(fields, fld, [ref.get("url")])
    mails: list[Any] = [split_contact(c.get("author"))[1]]
    mails += [a.get("email") for a in _dicts(c.get("authors"))]
    for org in (c.get("supplier"), c.get("manufacturer")):
        if isinstance(org, dict):
            add_values(fields, F.HOMEPAGE, _strings(org.get("url")))
            mails += [p.get("email") for p in _dicts(org.get("contact"))]
    add_values(fields, F.AUTHOR_EMAIL, [m for m in mails if isinstance(m, str) and "@" in m])


def component_fields(c: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    put(fields, F.NAME, c.get("name"))
    put(fields, F.VERSION, c.get("version"))
    put_all(fields, F.PUBLISHER, _publishers(c))
    purl_fields(fields, c.get("purl"))  # type: ignore[arg-type]
    metadata_fields(c, fields)
    put(fields, "group", c.get("group"))
    put(fields, "cpe", c.get("cpe"))
    put(fields, "type", c.get("type"))
    return fields


def asset_of(meta_component: dict[str, Any] | None) -> str:
    if not isinstance(meta_component, dict):
        return ""
    name, version = s(meta_component.get("name")), s(meta_component.get("version"))
    if not name:
        return ""
    return f"{name}@{version}" if version else name


class CycloneDxJsonSource:
    name = "cyclonedx-json"
    description = "CycloneDX JSON SBOM (spec 1.2-1.7): components with purls"
    documentation_url = "https://cyclonedx.org/specification/overview/"

    def sniff(self, head: bytes, path: str) -> bool:
        t = text_head(head).lstrip()
        return t.startswith("{") and '"bomFormat"' in t and '"CycloneDX"' in t

    def _prescan(self, stream: BinaryIO, ctx: ReadContext) -> tuple[dict[str, Any] | None, str | None]:
        """metadata.component and metadata.timestamp, read before the components."""
        meta: dict[str, Any] | None = None
        ts: str | None = None
        events = ijson.parse(CountingReader(stream, ctx.limits))
        try:
            for prefix, event, value in events:
                if prefix == "metadata.component" and event == "start_map":
                    meta = build(events, event, value)
                elif prefix == "metadata.timestamp":
                    ts = s(value) or None
                elif prefix == "metadata" and event == "end_map":
                    break
        except Exception:  # noqa: BLE001 - the main pass reports the error with its place
            pass
        return meta, ts

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Observation | Problem]:
        meta: dict[str, Any] | None = None
        ts: str | None = None
        prescanned = False
        try:
            if stream.seekable():
                start = stream.tell()
                meta, ts = self._prescan(stream, ctx)
                stream.seek(start)
                prescanned = True
        except (OSError, ValueError):
            prescanned = False
        asset = asset_of(meta) or ctx.asset
        reader = CountingReader(stream, ctx.limits)
        events = ijson.parse(reader)
        index = 0
        seen_components = False
        try:
            for prefix, event, value in events:
                if prefix == "components.item" and event == "start_map":
                    seen_components = True
                    comp = build(events, event, value)
                    yield from self._emit(comp, ("components", index), asset, ts, ctx)
                    index += 1
                elif prefix == "metadata.component" and event == "start_map":
                    comp = build(events, event, value)
                    if not prescanned and seen_components and asset_of(comp):
                        ctx.deviation(
                            "metadata follows components; components before it are attributed "
                            f"to {ctx.asset}"
                        )
                    if not prescanned and not seen_components:
                        asset = asset_of(comp) or ctx.asset
                    yield from self._emit(comp, ("metadata", "component"), asset, ts, ctx, nested=False)
                elif prefix == "metadata.timestamp" and not prescanned:
                    ts = s(value) or None
                elif prefix == "bomFormat" and s(value) != "CycloneDX":
                    yield Problem(ctx.loc(""), f"bomFormat is {value!r}, not CycloneDX", fatal=True)
                    return
        except (ijson.JSONError, ijson.IncompleteJSONError, ValueError) as exc:
            yield Problem(ctx.loc(""), json_error_message(exc, reader), fatal=True)

    def _emit(
        self,
        comp: Any,
        path: tuple[Any, ...],
        asset: str,
        ts: str | None,
        ctx: ReadContext,
        nested: bool = True,
    ) -> Iterator[Observation | Problem]:
        if not isinstance(comp, dict):
            yield Problem(ctx.loc(ptr(*path)), "component is not a JSON object")
            return
        fields = component_fields(comp)
        if F.NAME in fields or F.PURL in fields:
            obs = Observation("component", asset, fields, ctx.loc(ptr(*path)), EvidenceClass.SBOM, ts)
            yield obs
        else:
            yield Problem(ctx.loc(ptr(*path)), "component has neither name nor purl")
        children = comp.get("components")
        if isinstance(children, list):
            for i, child in enumerate(children):
                yield from self._emit(child, (*path, "components", i), asset, ts, ctx)


SOURCE = CycloneDxJsonSource()

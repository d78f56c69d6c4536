"""Apple MDM ``InstalledApplicationList`` command responses (XML property lists).

Specification: https://developer.apple.com/documentation/devicemanagement/installedapplicationlistresponse
(property list format: https://www.apple.com/DTDs/PropertyList-1.0.dtd).

The plist is parsed with ``defusedxml.ElementTree`` (the standard plist DOCTYPE is allowed;
entity declarations and external references are refused, so no entity is ever expanded) and
walked directly, without plistlib.  Each entry's ``Identifier`` becomes ``bundle_id``, ``Name``
the name and ``ShortVersion`` (else ``Version``) the version; evidence class MOBILE.  The
asset is the response's ``UDID`` when present.  Locators are XPath-like and 1-based:
``/plist/dict/array/dict[2]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from banscan.model import EvidenceClass, F, Observation, Problem
from banscan.sources._common import CountingReader, put
from banscan.sources.base import ReadContext, text_head
from banscan.sources.limits import LimitExceeded


class _Capped(CountingReader):
    """The plist is parsed whole: refuse one larger than ``max_document_bytes``."""

    def __init__(self, raw: BinaryIO, cap: int) -> None:
        super().__init__(raw)
        self.cap = cap

    def read(self, n: int = -1) -> bytes:
        b = super().read(n if n >= 0 else self.cap + 1)
        if self.pos > self.cap:
            raise LimitExceeded("max_document_bytes", self.cap, "an MDM property list is read whole")
        return b


def _scalar(el: Element) -> str:
    if el.tag in ("string", "integer", "real", "date"):
        return (el.text or "").strip()
    if el.tag in ("true", "false"):
        return el.tag
    return ""


def plist_dict(el: Element) -> dict[str, Element]:
    """A plist <dict> as key -> value element."""
    out: dict[str, Element] = {}
    children = list(el)
    for i in range(0, len(children) - 1, 2):
        k, v = children[i], children[i + 1]
        if k.tag == "key":
            out[(k.text or "").strip()] = v
    return out


class MdmInstalledApplicationListSource:
    name = "mdm-installed-apps"
    description = "Apple MDM InstalledApplicationList response (XML plist): apps with bundle ids"
    documentation_url = "https://developer.apple.com/documentation/devicemanagement/installedapplicationlistresponse"

    def sniff(self, head: bytes, path: str) -> bool:
        t = text_head(head)
        return "<plist" in t and "<key>InstalledApplicationList</key>" in t

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Observation | Problem]:
        reader = _Capped(stream, ctx.limits.max_document_bytes)
        try:
            root = DET.parse(reader, forbid_dtd=False, forbid_entities=True, forbid_external=True).getroot()
        except DefusedXmlException as exc:
            yield Problem(ctx.loc(""), f"refused unsafe XML ({type(exc).__name__}): {exc}", fatal=True)
            return
        except ParseError as exc:
            line, col = getattr(exc, "position", (0, 0))
            yield Problem(
                ctx.loc(f"line {line}"), f"invalid or truncated XML at line {line}, column {col}: {exc}", fatal=True
            )
            return
        if root.tag != "plist" or len(root) == 0 or root[0].tag != "dict":
            yield Problem(ctx.loc("/"), "not a property list with a top-level <dict>", fatal=True)
            return
        top = plist_dict(root[0])
        apps = top.get("InstalledApplicationList")
        if apps is None or apps.tag != "array":
            yield Problem(ctx.loc("/plist/dict"), "no InstalledApplicationList array", fatal=True)
            return
        udid = top.get("UDID")
        asset = _scalar(udid) if udid is not None else ""
        asset = asset or ctx.asset
        n = 0
        for app in apps:
            if app.tag != "dict":
                continue
            n += 1
            where = f"/plist/dict/array/dict[{n}]"
            d = {k: _scalar(v) for k, v in plist_dict(app).items()}
            fields: dict[str, str] = {}
            put(fields, F.NAME, d.get("Name"))
            put(fields, F.BUNDLE_ID, d.get("Identifier"))
            put(fields, F.VERSION, d.get("ShortVersion") or d.get("Version"))
            if not fields:
                yield Problem(ctx.loc(where), "application entry has no Identifier, Name or version")
                continue
            yield Observation("app", asset, fields, ctx.loc(where), EvidenceClass.MOBILE)


SOURCE = MdmInstalledApplicationListSource()

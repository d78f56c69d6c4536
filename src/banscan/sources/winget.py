"""``winget export`` JSON package lists.

Specification: https://learn.microsoft.com/en-us/windows/package-manager/winget/export (schema:
https://aka.ms/winget-packages.schema.2.0.json).

``Sources[].Packages[].PackageIdentifier`` becomes an observation with ecosystem ``winget``
(or the source's name when it is not the winget community repository, e.g. ``msstore``) and the
identifier as package; locator ``/Sources/0/Packages/12``.  Streamed with ijson.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from banscan.model import EvidenceClass, F, Observation, Problem
from banscan.sources._common import CountingReader, ijson, json_error_message, ptr, put, s
from banscan.sources.base import ReadContext, text_head


class WingetExportSource:
    name = "winget-export"
    description = "winget export JSON: installed package identifiers of a Windows machine"
    documentation_url = "https://learn.microsoft.com/en-us/windows/package-manager/winget/export"

    def sniff(self, head: bytes, path: str) -> bool:
        t = text_head(head).lstrip()
        if not t.startswith("{"):
            return False
        return "winget-packages.schema" in t or ('"Sources"' in t and '"PackageIdentifier"' in t)

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Observation | Problem]:
        reader = CountingReader(stream, ctx.limits)
        src_i = -1
        pkg_i = -1
        source_name = ""
        created: str | None = None
        pkg: dict[str, str] = {}
        held: list[tuple[int, dict[str, str]]] = []
        try:
            for prefix, event, value in ijson.parse(reader):
                if prefix == "CreationDate":
                    created = s(value) or None
                elif prefix == "Sources.item":
                    if event == "start_map":
                        src_i += 1
                        pkg_i = -1
                        source_name = ""
                        held = []
                    elif event == "end_map":
                        # SourceDetails may follow the packages: a source's list is held until its end
                        for i, p in held:
                            yield from self._emit(p, source_name, created, src_i, i, ctx)
                        held = []
                elif prefix == "Sources.item.SourceDetails.Name":
                    source_name = s(value)
                elif prefix == "Sources.item.Packages.item":
                    if event == "start_map":
                        pkg_i += 1
                        pkg = {}
                    elif event == "end_map":
                        held.append((pkg_i, pkg))
                elif prefix.startswith("Sources.item.Packages.item.") and event in ("string", "number"):
                    pkg[prefix.rsplit(".", 1)[-1]] = s(value)
        except (ijson.JSONError, ijson.IncompleteJSONError, ValueError) as exc:
            # the packages read before the error are still reported
            for i, p in held:
                yield from self._emit(p, source_name, created, src_i, i, ctx)
            yield Problem(ctx.loc(""), json_error_message(exc, reader), fatal=True)

    def _emit(
        self, pkg: dict[str, str], source_name: str, created: str | None, si: int, pi: int, ctx: ReadContext
    ) -> Iterator[Observation | Problem]:
        where = ptr("Sources", si, "Packages", pi)
        ident = pkg.get("PackageIdentifier", "")
        if not ident:
            yield Problem(ctx.loc(where), "package has no PackageIdentifier")
            return
        fields: dict[str, str] = {}
        src = source_name.lower()
        put(fields, F.ECOSYSTEM, "winget" if src in ("", "winget") else src)
        put(fields, F.PACKAGE, ident)
        put(fields, F.VERSION, pkg.get("Version"))
        if src and src != "winget":
            ctx.deviation(f"packages from winget source {source_name!r} read as ecosystem {src!r}")
        yield Observation("package", ctx.asset, fields, ctx.loc(where), EvidenceClass.INSTALLED, created)


SOURCE = WingetExportSource()

"""``pip inspect`` JSON reports: the Python distributions installed in an environment.

Specification: https://pip.pypa.io/en/stable/reference/inspect-report/ (format ``version`` "1").

Each ``installed[]`` item becomes a ``package`` observation (ecosystem ``pypi``) from its
``metadata``, the JSON form of the distribution's core metadata: ``name``, ``version``, the
author or maintainer as publisher (the name part of ``author_email`` when there is no
``author``), ``metadata_location`` as path, and what says who publishes it: ``home_page``,
``download_url``, the ``project_url`` values with a well-known label (PEP 753: homepage, source,
download), ``author_email`` and ``maintainer_email``.  Locator ``/installed/12``.  Streamed with
ijson: one item at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from banscan.model import EvidenceClass, F, Observation, Problem
from banscan.sources._common import (
    CountingReader,
    build,
    ijson,
    json_error_message,
    ptr,
    put,
    python_metadata_fields,
    s,
    split_contact,
)
from banscan.sources.base import ReadContext, text_head


def item_fields(item: dict[str, Any]) -> dict[str, Any]:
    meta = item.get("metadata")
    md: dict[str, Any] = meta if isinstance(meta, dict) else {}
    fields: dict[str, Any] = {}
    name = s(md.get("name"))
    put(fields, F.NAME, name)
    put(fields, F.VERSION, md.get("version"))
    put(fields, F.PUBLISHER, s(md.get("author")) or s(md.get("maintainer"))
        or split_contact(md.get("author_email"))[0])
    if name:
        put(fields, F.ECOSYSTEM, "pypi")
        put(fields, F.PACKAGE, name)
    put(fields, F.PATH, item.get("metadata_location"))
    fields.update(python_metadata_fields(md.get("home_page"), md.get("download_url"), md.get("project_url"),
                                         md.get("author_email"), md.get("maintainer_email")))
    return fields


class PipInspectSource:
    name = "pip-inspect"
    description = "pip inspect JSON report: installed Python distributions with their metadata"
    documentation_url = "https://pip.pypa.io/en/stable/reference/inspect-report/"

    def sniff(self, head: bytes, path: str) -> bool:
        t = text_head(head).lstrip()
        return t.startswith("{") and '"pip_version"' in t and '"installed"' in t

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Observation | Problem]:
        reader = CountingReader(stream, ctx.limits)
        events = ijson.parse(reader)
        index = 0
        try:
            for prefix, event, value in events:
                if prefix == "installed.item" and event == "start_map":
                    item = build(events, event, value)
                    where = ptr("installed", index)
                    index += 1
                    fields = item_fields(item) if isinstance(item, dict) else {}
                    if F.NAME not in fields:
                        yield Problem(ctx.loc(where), "installed item has no metadata name")
                        continue
                    yield Observation("package", ctx.asset, fields, ctx.loc(where), EvidenceClass.INSTALLED)
                elif prefix == "version" and s(value) != "1":
                    ctx.deviation(f"report version is {value!r}; read as version 1")
        except (ijson.JSONError, ijson.IncompleteJSONError, ValueError) as exc:
            yield Problem(ctx.loc(""), json_error_message(exc, reader), fatal=True)


SOURCE = PipInspectSource()

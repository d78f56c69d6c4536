"""The JSON report: the whole scan result, documented by ``docs/report.schema.json``."""

from __future__ import annotations

from typing import Any, TextIO

from banscan.registry import Registry
from banscan.scan import ScanResult


class JsonReporter:
    name = "json"
    description = "the full report as JSON (schema in docs/report.schema.json)"
    media_type = "application/json"
    suffix = ".json"

    def write(self, result: ScanResult, registry: Registry, out: TextIO, options: dict[str, Any]) -> None:
        from banscan.fast.jsonout import dumps_encodable

        # options["report"]: result.to_dict(), when the caller made it already (a stored scan)
        report = options.get("report")
        out.write(dumps_encodable(report if report is not None else result.to_dict()) + "\n")  # one call, one write

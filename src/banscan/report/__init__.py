"""Report formats, one module each.  ``FORMATS`` is the only registration point.

Reporters are imported when used (``by_name``), not when the command line starts: the HTML and
terminal reporters bring jinja2 and rich, which a JSON report never needs.  ``FORMATS`` carries
each reporter's name and description for help texts (tests check they match the classes).
"""

from __future__ import annotations

import importlib
from typing import Any

from banscan.report.base import Reporter

# name -> (module, class, description), in the order help texts list them
FORMATS: dict[str, tuple[str, str, str]] = {
    "table": ("banscan.report.terminal", "TableReporter",
              "tables for people, grouped by asset and family (default on a terminal)"),
    "json": ("banscan.report.json_report", "JsonReporter",
             "the full report as JSON (schema in docs/report.schema.json)"),
    "sarif": ("banscan.report.sarif", "SarifReporter",
              "SARIF 2.1.0 for code-scanning dashboards (one rule per restriction)"),
    "csv": ("banscan.report.csv_report", "CsvReporter", "one row per finding for spreadsheets (formula-safe)"),
    "html": ("banscan.report.html", "HtmlReporter",
             "a self-contained HTML report for people (summary, charts, findings per asset)"),
    "far": ("banscan.report.far", "FarReporter",
            "Markdown drafts of the FAR 52.204-23 / 52.204-25 reports to the Contracting Officer"),
    "oscal": ("banscan.report.oscal", "OscalReporter",
              "OSCAL assessment results (JSON) for GRC tools, validated with compliance-trestle"),
}
_LOADED: dict[str, Reporter] = {}


def by_name(name: str) -> Reporter:
    got = _LOADED.get(name)
    if got is None:
        module, cls, _ = FORMATS[name]  # KeyError: unknown format
        got = _LOADED[name] = getattr(importlib.import_module(module), cls)()
    return got


def names() -> list[str]:
    return list(FORMATS)


def descriptions() -> list[tuple[str, str]]:
    """(name, description) of every format, without importing the reporters."""
    return [(n, d) for n, (_, _, d) in FORMATS.items()]


def __getattr__(name: str) -> Any:
    if name == "REPORTERS":  # every reporter, imported
        return tuple(by_name(n) for n in FORMATS)
    raise AttributeError(name)


__all__ = ["FORMATS", "REPORTERS", "Reporter", "by_name", "descriptions", "names"]

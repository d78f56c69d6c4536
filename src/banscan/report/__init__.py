"""Report formats, one module each.  ``REPORTERS`` is the only registration point."""

from __future__ import annotations

from banscan.report.base import Reporter
from banscan.report.csv_report import CsvReporter
from banscan.report.far import FarReporter
from banscan.report.html import HtmlReporter
from banscan.report.json_report import JsonReporter
from banscan.report.oscal import OscalReporter
from banscan.report.sarif import SarifReporter
from banscan.report.terminal import TableReporter

REPORTERS: tuple[Reporter, ...] = (
    TableReporter(),
    JsonReporter(),
    SarifReporter(),
    CsvReporter(),
    HtmlReporter(),
    FarReporter(),
    OscalReporter(),
)


def by_name(name: str) -> Reporter:
    for r in REPORTERS:
        if r.name == name:
            return r
    raise KeyError(name)


def names() -> list[str]:
    return [r.name for r in REPORTERS]


__all__ = ["REPORTERS", "Reporter", "by_name", "names"]

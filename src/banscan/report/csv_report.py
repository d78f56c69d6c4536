"""CSV for spreadsheets: one row per finding (one per detection when no profile is given).

With a profile, a detection no restriction binds still gets one row (restriction columns empty), so
the sheet lists everything that was found.  Inventory strings are hostile: a cell starting with
``=``, ``+``, ``-``, ``@``, tab, carriage return or line feed (also in their fullwidth forms) gets a leading apostrophe so that a spreadsheet
shows it as text instead of evaluating it (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
from collections import defaultdict
from typing import Any, TextIO

from banscan.model import Detection, Finding
from banscan.registry import Registry
from banscan.scan import ScanResult
from banscan.textsafe import csv_cell

COLUMNS = (
    "asset", "family", "entity", "product", "category", "relation", "confidence", "evidence",
    "restriction", "instrument", "citation", "requirement", "deadline", "status", "source_file",
    "locator", "detection_id", "finding_id", "sources",
)


def neutralise(value: object) -> str:
    """The cell text, with a leading apostrophe when a spreadsheet would read it as a formula
    (judged after NFKC normalisation: a fullwidth ``＝`` counts), lone surrogates replaced."""
    return csv_cell(value)


def observed_name(d: Detection) -> str:
    return d.product or d.observation.first("name") or d.service or d.entity


def evidence_text(d: Detection) -> str:
    return "; ".join(f"{e.value} [{e.field}; {e.signature}]" for e in d.evidence)


def rows(result: ScanResult) -> list[dict[str, str]]:
    """The rows, raw (not neutralised), sorted by asset, family, product, deadline."""
    by_det: dict[str, list[Finding]] = defaultdict(list)
    for f in result.findings:
        by_det[f.detection].append(f)
    out: list[dict[str, str]] = []
    for d in result.detections:
        base = {
            "asset": d.asset, "family": d.family, "entity": d.entity, "product": observed_name(d),
            "category": d.category, "relation": d.relation.value, "confidence": d.confidence.value,
            "evidence": evidence_text(d), "source_file": d.source.path, "locator": d.source.locator,
            "detection_id": d.id,
        }
        fs = by_det.get(d.id, []) if result.profiles else []
        if not fs:
            out.append({**{c: "" for c in COLUMNS}, **base})
            continue
        for f in sorted(fs, key=lambda f: (-f.requirement.rank, f.deadline or "9999", f.restriction, f.id)):
            out.append({**base, "restriction": f.restriction, "instrument": f.instrument,
                        "citation": f.citation, "requirement": f.requirement.value,
                        "deadline": f.deadline or "", "status": f.status, "finding_id": f.id,
                        "sources": " ".join(f.sources)})
    out.sort(key=lambda r: (r["asset"], r["family"], r["product"], r["source_file"], r["locator"],
                            r["restriction"], r["finding_id"], r["detection_id"]))
    return out


class CsvReporter:
    name = "csv"
    description = "one row per finding for spreadsheets (formula-safe)"
    media_type = "text/csv"
    suffix = ".csv"

    def write(self, result: ScanResult, registry: Registry, out: TextIO, options: dict[str, Any]) -> None:
        w = csv.writer(out, dialect="excel", lineterminator="\r\n")
        w.writerow(COLUMNS)
        for r in rows(result):
            w.writerow([neutralise(r[c]) for c in COLUMNS])

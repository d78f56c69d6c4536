"""Drafts of the reports FAR 52.204-23 (Kaspersky) and 52.204-25 (section 889) ask a contractor to send.

One Markdown draft per detection under each clause, with the fields the clause lists: contract and
order number, supplier, brand, model or product, item description, mitigation actions, and the
two deadlines (the first report within 1 business day -- 3 for 52.204-23 when identified on or
after 2023-12-04 -- and the follow-up within 10 business days).

The contract details come from the ``[far]`` table of ``banscan.toml`` (keys ``contract_number``,
``order_number``, ``contractor_name``, ``cage_code``, ``uei``, ``point_of_contact``,
``contracting_officer``, ``identified``); what is missing stays a ``<PLACEHOLDER>`` to fill in.
Windows are taken from the finding (``steps``/``report_window`` from the policy engine), else
from the restriction's obligations in the registry, else from the clause text; business days skip
Saturdays, Sundays and US federal holidays (:mod:`banscan.policy.dates`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, TextIO

from banscan.model import Detection, Finding, field_text
from banscan.policy import dates
from banscan.registry import Registry
from banscan.scan import ScanResult
from banscan.textsafe import defang_urls, encodable, scrub, term

FAR_23 = "us-far-52-204-23"
FAR_25 = "us-far-52-204-24-25-26"
CLAUSES = {
    FAR_23: "FAR 52.204-23",
    FAR_25: "FAR 52.204-25",
}
FAR_23_AMENDED = dt.date(2023, 12, 4)
_CLOSED = ("resolved", "waived", "false-positive")  # FAC 2023-06: 1 business day became 3
_FIELDS = (  # (banscan.toml [far] key, label, placeholder)
    ("contract_number", "Contract number", "CONTRACT NUMBER"),
    ("order_number", "Order number", "ORDER NUMBER"),
    ("contractor_name", "Contractor", "CONTRACTOR NAME"),
    ("cage_code", "CAGE code", "CAGE CODE"),
    ("uei", "Unique Entity ID (UEI)", "UEI"),
    ("point_of_contact", "Point of contact", "POINT OF CONTACT"),
    ("contracting_officer", "Contracting Officer", "CONTRACTING OFFICER"),
)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#!|<>~&])")


def md(value: object) -> str:
    """Inventory text made inert in Markdown (emphasis, links, autolinks and bare URLs, HTML,
    tables, entities), on one line, control characters shown as escapes."""
    s = "" if value is None else str(value)
    s = term(defang_urls(" ".join(encodable(s).split())))
    return _MD_SPECIAL.sub(r"\\\1", s)


def add_business_days(start: dt.date, days: int) -> dt.date:
    """``days`` business days after ``start`` (weekends and US federal holidays skipped; 0: ``start``)."""
    return dates.add_business_days(start, days, dates.US_FEDERAL)


def add_days(start: dt.date, days: int, business: bool) -> dt.date:
    return dates.add_days(start, days, business, dates.US_FEDERAL)


@dataclass
class Window:
    kind: str  # "report" | "follow-up"
    days: int
    business: bool
    due: dt.date
    citation: str


def _date(v: object) -> dt.date | None:
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str) and v:
        try:
            return dt.date.fromisoformat(v[:10])
        except ValueError:
            return None
    return None


def identified_on(d: Detection, fs: list[Finding], result: ScanResult, options: dict[str, Any]) -> dt.date:
    """When the covered article was identified: the finding's own date, the ``identified`` date of
    the ``[far]`` table, else the scan's as-of date (the day the scan found it, from which the
    policy engine counts the windows)."""
    for f in fs:
        for s in f.steps:
            for key in ("identified", "identified_on", "first_seen"):
                got = _date(s.get(key))
                if got:
                    return got
    far = options.get("far") or {}
    got = _date(far.get("identified"))
    if got:
        return got
    return result.as_of


def _is_follow_up(days: int, action: str) -> bool:
    return "follow-up" in action.lower() or days >= 10


def windows(restriction_id: str, fs: list[Finding], registry: Registry, identified: dt.date,
            as_of: dt.date | None = None) -> list[Window]:
    """The reporting windows for one detection under one clause, with their due dates.

    The policy engine's deadlines count from the scan's as-of date; they are used as they are when
    the article was identified on that date, and recomputed from the window otherwise.
    """
    found: dict[str, Window] = {}
    trust_dates = as_of is not None and identified == as_of
    # 1. what the policy engine computed
    for f in fs:
        for s in f.steps:
            if s.get("requirement") not in (None, "report"):
                continue
            w = s.get("window") or {}
            days = w.get("days") if isinstance(w, dict) else None
            if days is None:
                continue
            eff, until = _date(s.get("effective")), _date(s.get("until"))
            if (eff and identified < eff) or (until and identified >= until):
                continue  # a variant not in force on the day of identification
            business = bool(w.get("business", True))
            kind = "follow-up" if _is_follow_up(int(days), str(s.get("action", ""))) else "report"
            due = (_date(s.get("due")) or _date(s.get("deadline"))) if trust_dates else None
            due = due or add_days(identified, int(days), business)
            found.setdefault(kind, Window(kind, int(days), business, due, str(s.get("citation") or f.citation)))
        if f.report_window and "report" not in found and f.report_window.get("days") is not None:
            days, business = int(f.report_window["days"]), bool(f.report_window.get("business", True))
            due = _date(f.deadline) if trust_dates and f.requirement.value == "report" and f.deadline else None
            found["report"] = Window("report", days, business, due or add_days(identified, days, business),
                                     f.citation)
    # 2. the restriction's obligations, the variant in force on the day of identification
    r = registry.restrictions.get(restriction_id)
    if r is not None:
        for o in r.obligations:
            if o.requirement != "report" or o.window is None:
                continue
            if o.effective and identified < o.effective:
                continue
            if o.until and identified >= o.until:
                continue
            kind = "follow-up" if _is_follow_up(o.window.days, o.action) else "report"
            if kind not in found:
                found[kind] = Window(kind, o.window.days, o.window.business,
                                     add_days(identified, o.window.days, o.window.business),
                                     o.citation or r.citation)
    # 3. the clause text
    if "report" not in found:
        days = 3 if restriction_id == FAR_23 and identified >= FAR_23_AMENDED else 1
        para = "(c)(2)(i)" if restriction_id == FAR_23 else "(d)(2)(i)"
        found["report"] = Window("report", days, True, add_business_days(identified, days),
                                 f"{CLAUSES[restriction_id]}{para}")
    if "follow-up" not in found:
        para = "(c)(2)(ii)" if restriction_id == FAR_23 else "(d)(2)(ii)"
        found["follow-up"] = Window("follow-up", 10, True, add_business_days(identified, 10),
                                    f"{CLAUSES[restriction_id]}{para}")
    return [found["report"], found["follow-up"]]


def _window_text(w: Window, identified: dt.date) -> str:
    unit = "business day" if w.business else "day"
    return (f"{w.due.isoformat()} ({w.days} {unit}{'s' if w.days != 1 else ''} after "
            f"{identified.isoformat()}; {md(w.citation)})")


class FarReporter:
    name = "far"
    description = "Markdown drafts of the FAR 52.204-23 / 52.204-25 reports to the Contracting Officer"
    media_type = "text/markdown"
    suffix = ".md"

    def write(self, result: ScanResult, registry: Registry, out: TextIO, options: dict[str, Any]) -> None:
        out.write(self.render(scrub(result), registry, options))

    def render(self, result: ScanResult, registry: Registry, options: dict[str, Any] | None = None) -> str:
        options = options or {}
        far = options.get("far") or {}
        dets = {d.id: d for d in result.detections}
        groups: dict[tuple[str, str], list[Finding]] = defaultdict(list)
        closed = 0
        for f in result.findings:
            if f.restriction in CLAUSES and f.detection in dets:
                if f.status in _CLOSED:
                    closed += 1
                    continue
                groups[(f.restriction, f.detection)].append(f)
        lines = [
            "# Draft reports under FAR 52.204-23 and FAR 52.204-25",
            "",
            f"Prepared from a banscan scan with the law as it stood on {result.as_of.isoformat()} "
            f"(profile: {md(', '.join(result.profiles) or 'none')}). These are drafts: check every field, "
            "fill in each `<PLACEHOLDER>` and send the report to the Contracting Officer "
            "(for Department of Defense contracts, through https://dibnet.dod.mil).",
            "",
            "Business-day deadlines skip Saturdays and Sundays only; move them if a federal holiday falls "
            "in the window.",
            "",
        ]
        if closed:
            lines += [f"{closed} finding(s) under these clauses are resolved, waived or marked as false "
                      "positives in the banscan store: no draft is written for them.", ""]
        if not groups:
            lines += ["No finding under FAR 52.204-23 or FAR 52.204-25 in this scan: there is nothing to report.", ""]
            return "\n".join(lines)
        order = sorted(groups, key=lambda k: (k[0], dets[k[1]].asset, dets[k[1]].product or "", k[1]))
        for n, key in enumerate(order, 1):
            rid, did = key
            lines += self._draft(n, rid, dets[did], groups[key], result, registry, options, far)
        return "\n".join(lines)

    def _draft(self, n: int, rid: str, d: Detection, fs: list[Finding], result: ScanResult,
               registry: Registry, options: dict[str, Any], far: dict[str, Any]) -> list[str]:
        clause = CLAUSES[rid]
        ident = identified_on(d, fs, result, options)
        report, follow = windows(rid, fs, registry, ident, result.as_of)
        fam = registry.families.get(d.family)
        brand = fam.name if fam else d.family
        o = d.observation
        model = d.product or o.first("model") or o.first("name") or ""
        desc_bits = [f"{k}: {field_text(v)}" for k, v in sorted(o.fields.items()) if v and k in (
            "name", "version", "publisher", "model", "serial", "package", "purl", "domain", "mac", "hostname",
            "ip", "sys_descr", "banner", "http_server")]
        description = f"{d.category} ({d.observation.kind}); " + "; ".join(desc_bits)
        worst = max(fs, key=lambda f: f.requirement.rank)
        article = "Kaspersky Lab covered article" if rid == FAR_23 else "covered telecommunications equipment or services"

        def val(key: str, placeholder: str) -> str:
            v = far.get(key)
            return md(v) if v not in (None, "") else f"`<{placeholder}>`"

        rows = [(label, val(key, placeholder)) for key, label, placeholder in _FIELDS]
        rows += [
            ("Supplier", md(d.entity)),
            ("Brand", md(brand)),
            ("Model or product", md(model)),
            ("Item description", md(description)),
            ("Asset", md(d.asset)),
            ("Where identified", f"{md(d.source.path)} at {md(d.source.locator)}"),
            ("Date identified", ident.isoformat()),
            ("Report due", _window_text(report, ident)),
            ("Follow-up report due", _window_text(follow, ident)),
            ("Requirement", f"{worst.requirement.value} ({md(worst.citation)}); status {md(worst.status)}"),
            ("banscan finding", ", ".join(f"`{f.id}`" for f in sorted(fs, key=lambda f: f.id)) + f"; detection `{d.id}`"),
        ]
        out = [
            "---",
            "",
            f"## {n}. {clause} report: {md(model)} on {md(d.asset)}",
            "",
            f"A {article} was identified during contract performance. "
            f"First report due **{report.due.isoformat()}**; follow-up due **{follow.due.isoformat()}**.",
            "",
            "| Field | Value |",
            "| --- | --- |",
        ]
        out += [f"| {k} | {v} |" for k, v in rows]
        out += [
            "",
            "### Mitigation actions",
            "",
            "`<MITIGATION ACTIONS: what was done or is planned to remove or isolate the item, and when>`",
            "",
            f"### Follow-up (due {follow.due.isoformat()})",
            "",
            "`<FURTHER MITIGATION ACTIONS, AND EFFORTS TO PREVENT FUTURE USE OR SUBMISSION OF COVERED ITEMS>`",
            "",
            "### Evidence",
            "",
        ]
        out += [f"- {md(e.field)} = {md(e.value)} (signature {md(e.signature)}, {e.strength})" for e in d.evidence]
        out.append("")
        return out

"""The terminal report: Rich tables grouped by asset and family, written for a compliance officer."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from banscan.model import Detection, Finding
from banscan.registry import Registry
from banscan.scan import ScanResult
from banscan.textsafe import term

_REQ_STYLE = {"prohibited": "bold red", "remove": "red", "do-not-procure": "yellow",
              "report": "yellow", "advisory": "cyan"}


def _t(value: object, style: str = "") -> Text:
    """Inventory strings become Text: never interpreted as markup, control characters escaped."""
    return Text(term(value), style=style)


class TableReporter:
    name = "table"
    description = "tables for people, grouped by asset and family (default on a terminal)"
    media_type = "text/plain"
    suffix = ".txt"

    def write(self, result: ScanResult, registry: Registry, out: TextIO, options: dict[str, Any]) -> None:
        console = Console(file=out, width=options.get("width") or (None if out.isatty() else 140),
                          force_terminal=out.isatty(), no_color=not out.isatty(), highlight=False)
        profile = ", ".join(result.profiles) or "none (information only: which restrictions name each family)"
        console.print(_t(f"banscan report — as of {result.as_of.isoformat()} — profile: {profile}", "bold"))
        console.print(_t(f"registry {result.registry.get('version')} (sha256 {result.registry.get('sha256', '')[:16]}…)"))
        self._inputs(console, result)
        if not result.detections:
            console.print(_t("No product of a restricted vendor family was found in these inputs.", "green"))
        else:
            self._detections(console, result, registry)
        for u in result.upcoming:
            console.print(_t(f"Upcoming: {u.get('restriction')} ({u.get('citation', '')}) takes effect on "
                             f"{u.get('effective')} for {u.get('asset', '')} {u.get('family', '')}", "magenta"))

    def _inputs(self, console: Console, result: ScanResult) -> None:
        t = Table(title="Inputs", show_lines=False, expand=False)
        for c in ("input", "format", "records", "assets", "problems"):
            t.add_column(c)
        for i in result.inputs:
            problems = "; ".join(i.errors[:3]) + (f" (+{len(i.errors) - 3} more)" if len(i.errors) > 3 else "")
            if i.skipped:
                problems = f"skipped: {i.skipped}"
            if i.deviations and not problems:
                problems = "notes: " + "; ".join(i.deviations[:2])
            t.add_row(_t(i.path), _t(i.format or "-"), _t(i.observations), _t(len(i.assets)),
                      _t(problems, "red" if i.errors else ""))
        console.print(t)

    def _detections(self, console: Console, result: ScanResult, registry: Registry) -> None:
        by_det: dict[str, list[Finding]] = defaultdict(list)
        for f in result.findings:
            by_det[f.detection].append(f)
        groups: dict[tuple[str, str], list[Detection]] = defaultdict(list)
        for d in result.detections:
            groups[(d.asset, d.family)].append(d)
        for (asset, fam), dets in sorted(groups.items()):
            name = registry.families[fam].name if fam in registry.families else fam
            t = Table(title=Text(term(f"{asset} — {name}"), style="bold"), show_lines=True, expand=False)
            for c in ("id", "what", "confidence", "seen in", "what must be done"):
                t.add_column(c, overflow="fold")
            for d in dets:
                what = Text()
                what.append(term(d.product or d.entity))
                what.append(f"\n{term(d.category)}, {d.relation.value}", style="dim")
                if d.service:
                    what.append(f"\nservice: {term(d.service)}", style="dim")
                ev = d.evidence[0] if d.evidence else None
                seen = Text(term(f"{d.source.path} {d.source.locator}"))
                if ev:
                    seen.append(f"\n{term(ev.field)} = {term(repr(ev.value))}", style="dim")
                todo = Text()
                fs = sorted(by_det.get(d.id, []), key=lambda f: -f.requirement.rank)
                for f in fs:
                    todo.append(f"{f.requirement.value}", style=_REQ_STYLE.get(f.requirement.value, ""))
                    todo.append(f" by {f.deadline}" if f.deadline else "")
                    todo.append(f" — {term(f.citation)}\n")
                if not fs:
                    info = result.information.get(d.family) if result.profiles == [] else None
                    if info:
                        todo.append(f"{len(info)} restriction(s) name this family; "
                                    "give --profile to see which bind you", style="dim")
                    else:
                        todo.append("no restriction binds this profile", style="dim")
                t.add_row(_t(d.id), what, _t(d.confidence.value), seen, todo)
            console.print(t)

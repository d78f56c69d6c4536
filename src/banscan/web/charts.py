"""Charts drawn on the server as inline SVG (no script, no inline style: the page's CSP holds)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

ACTIVE = ("open", "planned")


@dataclass
class Chart:
    width: int
    height: int
    points: str  # the polyline's points
    marks: list[dict[str, Any]]  # deadlines: x, label
    ticks: list[dict[str, Any]]  # y-axis: y, label
    xlabels: list[dict[str, Any]]
    series: list[tuple[str, int]]  # (date, open findings), the data behind the line, for a table
    peak: int


def open_counts(events: list[dict[str, Any]], today: dt.date) -> list[tuple[dt.date, int]]:
    """Open (or planned) findings at the end of each day, from the findings' recorded events."""
    status: dict[str, str] = {}
    active = 0
    per_day: dict[dt.date, int] = {}
    for e in sorted(events, key=lambda e: (str(e["at"]), e["id"])):
        to = e.get("to")
        if not to:
            continue
        try:
            day = dt.date.fromisoformat(str(e["at"])[:10])
        except ValueError:
            continue
        was = status.get(e["finding"])
        status[e["finding"]] = to
        active += (to in ACTIVE) - (was in ACTIVE)
        per_day[day] = active
    if not per_day:
        return []
    out = []
    day, last = min(per_day), 0
    end = max(today, max(per_day))
    while day <= end:
        last = per_day.get(day, last)
        out.append((day, last))
        day += dt.timedelta(days=1)
    return out


def burndown(events: list[dict[str, Any]], today: dt.date, deadlines: list[dt.date],
             width: int = 720, height: int = 240) -> Chart | None:
    series = open_counts(events, today)
    if not series:
        return None
    start = series[0][0]
    horizon = max(today, *(d for d in deadlines if d <= today + dt.timedelta(days=365)), series[-1][0]) \
        if deadlines else max(today, series[-1][0])
    span = max(1, (horizon - start).days)
    peak = max(1, max(n for _, n in series))
    left, right, top, bottom = 48, 12, 12, 28
    pw, ph = width - left - right, height - top - bottom

    def x(d: dt.date) -> float:
        return left + pw * (d - start).days / span

    def y(n: int) -> float:
        return top + ph * (1 - n / peak)

    step = max(1, len(series) // 400)  # at most ~400 points
    pts = series[::step]
    if pts[-1] != series[-1]:
        pts.append(series[-1])
    points = " ".join(f"{x(d):.1f},{y(n):.1f}" for d, n in pts)
    marks = [{"x": round(x(d), 1), "label": d.isoformat()} for d in deadlines if start <= d <= horizon]
    ticks = [{"y": round(y(v), 1), "label": str(v)} for v in sorted({0, peak // 2, peak})]
    xlabels = [{"x": round(x(d), 1), "label": d.isoformat()} for d in sorted({start, today})]
    table = [(d.isoformat(), n) for d, n in series[:: max(1, len(series) // 12)]]
    if table[-1][0] != series[-1][0].isoformat():
        table.append((series[-1][0].isoformat(), series[-1][1]))
    return Chart(width, height, points, marks[:40], ticks, xlabels, table, peak)

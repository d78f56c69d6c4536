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
    return fill_days(open_per_day(events), today)


def open_per_day(events: list[dict[str, Any]]) -> dict[dt.date, int]:
    """Open (or planned) findings at the end of each day that has events
    (:func:`banscan.store.dashboard.open_per_day` counts the same in the database)."""
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
    return per_day


def fill_days(per_day: dict[dt.date, int], today: dt.date) -> list[tuple[dt.date, int]]:
    """Every day from the first with a count to today (or the last with one), each with the
    count of the last day that has one."""
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


def burndown(events: list[dict[str, Any]] | None, today: dt.date, deadlines: list[dt.date],
             width: int = 720, height: int = 240, *, per_day: dict[dt.date, int] | None = None) -> Chart | None:
    """The chart from the events, or from their counts per day (``per_day``) when given."""
    series = fill_days(per_day, today) if per_day is not None else open_counts(events or [], today)
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


@dataclass
class Timeline:
    width: int
    height: int
    bars: list[dict[str, Any]]
    today_x: float
    xlabels: list[dict[str, Any]]


def timeline(rows: list[dict[str, Any]], today: dt.date, width: int = 720) -> Timeline | None:
    """One bar per restriction from its effective date to its end (or today), deadlines as ticks."""
    if not rows:
        return None
    days = [dt.date.fromisoformat(r["effective"]) for r in rows]
    days += [dt.date.fromisoformat(d) for r in rows for d in r["deadlines"]]
    days += [dt.date.fromisoformat(r["ends"]) for r in rows if r.get("ends")]
    start, end = min(days), max([today, *days])
    span = max(1, (end - start).days)
    left, right, row_h = 8, 8, 22
    pw = width - left - right

    def x(d: dt.date) -> float:
        return round(left + pw * (d - start).days / span, 1)

    bars = []
    for i, r in enumerate(rows):
        a = dt.date.fromisoformat(r["effective"])
        b = dt.date.fromisoformat(r["ends"]) if r.get("ends") else end
        bars.append({"x": x(a), "w": max(2.0, round(x(b) - x(a), 1)), "y": 4 + i * row_h, "label": r["label"],
                     "id": r["id"], "binding": r["binding"], "binds_profile": r.get("binds_profile"),
                     "deadlines": [{"x": x(dt.date.fromisoformat(d)), "label": d} for d in r["deadlines"]]})
    height = 4 + len(rows) * row_h + 20
    years = sorted({dt.date(y, 1, 1) for y in range(start.year + 1, end.year + 1)})
    step = max(1, len(years) // 8)
    return Timeline(width, height, bars, x(today), [{"x": x(d), "label": str(d.year)} for d in years[::step]])

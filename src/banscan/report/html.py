"""A self-contained HTML report for people: one file, no external scripts, styles, fonts or images.

Summary first (assets scanned, open findings by requirement and by deadline, the next deadline),
then two charts (inline SVG drawn with matplotlib), then the findings of each asset with their
evidence and the citations linked to their sources, then the inputs read.  Rendered with Jinja2
with autoescaping on: every inventory string is shown as text.  A Content-Security-Policy meta tag
forbids scripts and any network fetch even if something slipped through.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, TextIO

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from banscan import __version__
from banscan.model import Detection, Finding, Requirement, field_text
from banscan.registry import Registry
from banscan.scan import ScanResult
from banscan.textsafe import scrub

OPEN = ("open", "planned")
_REQ_WORDS = {
    "prohibited": "Prohibited: must not be used",
    "remove": "Must be removed",
    "do-not-procure": "Must not be bought",
    "report": "Must be reported",
    "advisory": "Advice only",
}


@dataclass
class FindingView:
    finding: Finding
    links: list[tuple[str, str]]  # (label, url)
    title: str
    overdue: bool


@dataclass
class DetectionView:
    detection: Detection
    name: str
    observed: list[tuple[str, str]]
    family_name: str
    findings: list[FindingView] = field(default_factory=list)
    information: list[dict[str, Any]] = field(default_factory=list)


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("banscan.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["req_words"] = lambda r: _REQ_WORDS.get(r, r)
    return env


def _safe_url(u: str) -> bool:
    return u.startswith(("https://", "http://"))


def _svg(fig: Any, label: str) -> Markup:
    """The figure as an inline <svg> element (text kept as text, no ids that change between runs)."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": f"banscan-{label}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    # two charts in one page: keep their element ids apart
    prefix = "c" + hashlib.sha256(label.encode("utf-8")).hexdigest()[:6] + "-"
    svg = svg.replace(' id="', f' id="{prefix}').replace('href="#', f'href="#{prefix}').replace("url(#", f"url(#{prefix}")
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(label)}" class="chart" ', 1)
    return Markup(svg)  # noqa: S704 - produced by matplotlib from registry names and dates, which it escapes


def _attr(s: str) -> str:
    return s.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def _bar_chart(labels: list[str], values: list[int], title: str, xlabel: str, colours: list[str]) -> Markup:
    from matplotlib.figure import Figure

    height = max(1.6, 0.42 * len(labels) + 0.9)
    fig = Figure(figsize=(6.4, height))
    ax = fig.add_subplot()
    y = list(range(len(labels)))
    ax.barh(y, values, color=colours)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left", fontsize=11)
    ax.xaxis.get_major_locator().set_params(integer=True)  # type: ignore[call-arg]
    for yi, v in zip(y, values):
        ax.text(v, yi, f" {v}", va="center", fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, title)


class HtmlReporter:
    name = "html"
    description = "a self-contained HTML report for people (summary, charts, findings per asset)"
    media_type = "text/html"
    suffix = ".html"

    def write(self, result: ScanResult, registry: Registry, out: TextIO, options: dict[str, Any]) -> None:
        out.write(self.render(scrub(result), registry, options))

    def render(self, result: ScanResult, registry: Registry, options: dict[str, Any] | None = None) -> str:
        ctx = self.context(result, registry)
        return _env().get_template("report.html.j2").render(**ctx)

    # ------------------------------------------------------------------ data for the template
    def context(self, result: ScanResult, registry: Registry) -> dict[str, Any]:
        as_of = result.as_of
        by_det: dict[str, list[Finding]] = defaultdict(list)
        for f in result.findings:
            by_det[f.detection].append(f)
        assets: dict[str, list[DetectionView]] = defaultdict(list)
        for name in result.assets():
            assets.setdefault(name, [])
        for d in result.detections:
            fam = registry.families.get(d.family)
            observed = [(k, field_text(v)) for k, v in sorted(d.observation.fields.items()) if v]
            view = DetectionView(detection=d, name=d.product or d.observation.first("name") or d.entity,
                                 observed=observed, family_name=fam.name if fam else d.family)
            for f in sorted(by_det.get(d.id, []), key=lambda f: (-f.requirement.rank, f.deadline or "9999")):
                r = registry.restrictions.get(f.restriction)
                urls = [u for u in (f.sources or (list(r.sources) if r else [])) if _safe_url(u)]
                view.findings.append(FindingView(
                    finding=f, links=[(f"source {i + 1}", u) for i, u in enumerate(urls)],
                    title=r.title if r else f.instrument,
                    overdue=bool(f.deadline and f.status in OPEN and f.deadline < as_of.isoformat())))
            if not result.profiles:
                view.information = list(result.information.get(d.family, []))
            assets[d.asset].append(view)

        open_f = [f for f in result.findings if f.status in OPEN]
        by_req = Counter(f.requirement.value for f in open_f)
        req_rows = [(r.value, by_req[r.value]) for r in sorted(Requirement, key=lambda r: -r.rank) if by_req[r.value]]
        soon = (as_of + dt.timedelta(days=30) if as_of < dt.date.max - dt.timedelta(days=30)
                else dt.date.max).isoformat()
        iso = as_of.isoformat()
        deadline_rows = [
            ("Overdue (deadline before " + iso + ")", sum(1 for f in open_f if f.deadline and f.deadline < iso)),
            ("Due in the next 30 days", sum(1 for f in open_f if f.deadline and iso <= f.deadline <= soon)),
            ("Due later", sum(1 for f in open_f if f.deadline and f.deadline > soon)),
            ("No deadline", sum(1 for f in open_f if not f.deadline)),
        ]
        upcoming = sorted((f for f in open_f if f.deadline and f.deadline >= iso), key=lambda f: f.deadline or "")
        next_deadline = None
        if upcoming:
            date = upcoming[0].deadline
            same = [f for f in upcoming if f.deadline == date]
            next_deadline = {"date": date, "count": len(same),
                             "assets": sorted({f.asset for f in same}),
                             "what": sorted({f"{f.requirement.value} ({f.citation})" for f in same})}

        charts = self._charts(result, registry, open_f)
        return {
            "result": result,
            "version": __version__,
            "profiles": ", ".join(result.profiles),
            "assets": sorted(assets.items()),
            "asset_count": len(assets),
            "detection_count": len(result.detections),
            "open_count": len(open_f),
            "closed_count": len(result.findings) - len(open_f),
            "req_rows": req_rows,
            "deadline_rows": deadline_rows,
            "next_deadline": next_deadline,
            "charts": charts,
            "inputs": sorted(result.inputs, key=lambda i: i.path),
        }

    def _charts(self, result: ScanResult, registry: Registry, open_f: list[Finding]) -> list[Markup]:
        def fam_name(fid: str) -> str:
            fam = registry.families.get(fid)
            return fam.name if fam else fid

        charts: list[Markup] = []
        if result.profiles:
            if not open_f:
                return charts
            fams = Counter(fam_name(f.family or _family_of(result, f)) for f in open_f)
            labels = sorted(fams, key=lambda k: (-fams[k], k))
            charts.append(_bar_chart(labels, [fams[k] for k in labels], "Open findings by vendor family",
                                     "open findings", ["#1f4e79"] * len(labels)))
            months = Counter((f.deadline or "")[:7] or "no deadline" for f in open_f)
            mlabels = sorted(months, key=lambda m: (m == "no deadline", m))
            now = result.as_of.isoformat()[:7]
            colours = ["#999999" if m == "no deadline" else ("#b22222" if m < now else "#d98c1f")
                       for m in mlabels]
            charts.append(_bar_chart(mlabels, [months[m] for m in mlabels],
                                     "Open findings by deadline month (red: overdue)", "open findings", colours))
        elif result.detections:
            fams = Counter(fam_name(d.family) for d in result.detections)
            labels = sorted(fams, key=lambda k: (-fams[k], k))
            charts.append(_bar_chart(labels, [fams[k] for k in labels], "Detections by vendor family",
                                     "detections", ["#1f4e79"] * len(labels)))
        return charts


def _family_of(result: ScanResult, f: Finding) -> str:
    return next((d.family for d in result.detections if d.id == f.detection), "unknown")


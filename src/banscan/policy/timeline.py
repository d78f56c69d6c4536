"""The dated history of the restrictions on one family, as rows and as a chart.

``timeline_rows()`` is pure data; ``render_chart()`` draws it with matplotlib (Agg backend, no
display needed) to SVG or PNG.  SVG text is kept as text, so the labels stay searchable.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from banscan.policy.dates import obligation_due, obligation_start, restriction_effective
from banscan.policy.engine import binding_tags
from banscan.registry import Registry
from banscan.registry.records import LegalForce

if TYPE_CHECKING:
    from banscan.registry.schema import Profile, Restriction

FORCE_COLOURS = {
    LegalForce.BINDING_LAW.value: "#b2182b",
    LegalForce.BINDING_REGULATION.value: "#d6604d",
    LegalForce.BINDING_DIRECTIVE.value: "#e08214",
    LegalForce.PROCUREMENT_RULE.value: "#8073ac",
    LegalForce.BINDING_LICENCE_CONDITION.value: "#542788",
    LegalForce.GOVERNMENT_DECISION.value: "#1b7837",
    LegalForce.ADVISORY.value: "#4393c3",
    LegalForce.NON_BINDING_RESOLUTION.value: "#92c5de",
    LegalForce.EXPORT_CONTROL.value: "#878787",
    LegalForce.BILL.value: "#bababa",
    LegalForce.REGULATOR_COORDINATED_SUSPENSION.value: "#9ecae1",
    LegalForce.NEVER_IN_FORCE.value: "#d9d9d9",
    LegalForce.CONTEXT.value: "#e7e1ef",
}


def short_label(r: Restriction, width: int = 46) -> str:
    """``US · DHS BOD 17-01``: jurisdiction and a short form of the citation."""
    # drop a trailing document reference such as "(82 FR 43782)", keep words such as "(Entity List)"
    cite = re.sub(r"\s*\([^)]*\d[^)]*\)\s*$", "", r.citation).strip() or r.citation
    if len(cite) > width:
        cite = cite[: width - 1].rstrip() + "…"
    return f"{r.jurisdiction} · {cite}"


def _operator_events(r: Restriction, registry: Registry | None) -> list[dict[str, Any]]:
    """Dates on which a covered product passed out of its family's control in the restriction's jurisdiction."""
    if registry is None or not r.legal_force.binds_anyone:
        return []
    out: list[dict[str, Any]] = []
    for fid in r.covers.families:
        fam = registry.families.get(fid)
        if fam is None:
            continue
        own = {p.id for p in fam.products}
        named = set(r.covers.products) & own
        for p in fam.products:
            if named and p.id not in named:
                continue
            for op in p.operators:
                if op.family_control or op.from_ is None or not op.applies(r.jurisdiction, op.from_):
                    continue
                if r.covers.basis == "vendor-control":
                    what = f"no longer covers {p.name} here: operated by {op.name}, outside the family"
                else:
                    what = f"still covers {p.name} (it names the product), now operated by {op.name}"
                out.append({"date": op.from_, "kind": "change", "what": what})
    return out


def _events(r: Restriction, registry: Registry | None = None) -> list[dict[str, Any]]:
    ev: list[dict[str, Any]] = [{"date": r.adopted, "kind": "adopted", "what": "adopted"}]
    ev += _operator_events(r, registry)
    eff = restriction_effective(r)
    if eff != r.adopted:
        ev.append({"date": eff, "kind": "effective", "what": "takes effect"})
    seen: set[tuple[dt.date, str]] = set()
    for o in r.obligations:
        start = obligation_start(r, o)
        if start != eff and (start, "effective") not in seen:
            seen.add((start, "effective"))
            ev.append({"date": start, "kind": "effective", "what": f"{o.requirement} applies: {o.action}"})
        due = obligation_due(r, o)
        if due is not None:
            ev.append({"date": due, "kind": "deadline", "what": f"{o.requirement} due: {o.action}"})
        if o.until is not None and (o.until, "until") not in seen:
            seen.add((o.until, "until"))
            ev.append({"date": o.until, "kind": "change", "what": f"variant ends: {o.action}"})
    if r.ends is not None:
        ev.append({"date": r.ends, "kind": "ends", "what": "ends" + (f" (superseded by {r.superseded_by})"
                                                                     if r.superseded_by else "")})
    ev.sort(key=lambda e: (e["date"], e["kind"]))
    return ev


def timeline_rows(family: str, registry: Registry, profile: Profile | None = None) -> list[dict[str, Any]]:
    rows = []
    for r in registry.restrictions_naming(family):
        row: dict[str, Any] = {
            "id": r.id,
            "label": short_label(r),
            "jurisdiction": r.jurisdiction,
            "citation": r.citation,
            "instrument": r.instrument,
            "legal_force": r.legal_force.value,
            "binding": r.legal_force.binding,
            "binds_anyone": r.legal_force.binds_anyone,
            "adopted": r.adopted.isoformat(),
            "effective": restriction_effective(r).isoformat(),
            "deadlines": sorted({d.isoformat() for o in r.obligations if (d := obligation_due(r, o))}),
            "obligation_dates": sorted({obligation_start(r, o).isoformat() for o in r.obligations}
                                       - {restriction_effective(r).isoformat()}),
            "ends": r.ends.isoformat() if r.ends else None,
            "superseded_by": r.superseded_by,
            "binds": list(r.binds),
            "events": [{**e, "date": e["date"].isoformat()} for e in _events(r, registry)],
            "sources": list(r.sources),
        }
        if profile is not None:
            row["binds_profile"] = bool(binding_tags(r, profile))
        rows.append(row)
    return rows


def render_chart(rows: list[dict[str, Any]], family_name: str, out: Path,
                 profile: str | None = None) -> Path:
    """Draw one row per restriction; write SVG or PNG according to ``out``'s suffix."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    plt.rcParams["svg.fonttype"] = "none"  # keep text as <text>, not paths
    n = max(len(rows), 1)
    fig, ax = plt.subplots(figsize=(13, 1.6 + 0.55 * n), dpi=110)
    all_dates = [dt.date.fromisoformat(e["date"]) for r in rows for e in r["events"]]
    if not all_dates:
        raise ValueError("no restriction to draw")
    lo, hi = min(all_dates), max(all_dates)
    pad = dt.timedelta(days=max(60, (hi - lo).days // 15))
    right = hi + pad
    labels = []
    for i, r in enumerate(reversed(rows)):
        y = i
        colour = FORCE_COLOURS.get(r["legal_force"], "#444444")
        faded = profile is not None and not r.get("binds_profile")
        alpha = 0.35 if faded else 1.0
        eff = dt.date.fromisoformat(r["effective"])
        end = dt.date.fromisoformat(r["ends"]) if r["ends"] else right
        adopted = dt.date.fromisoformat(r["adopted"])
        if adopted < eff:
            ax.plot([adopted, eff], [y, y], color=colour, lw=2, ls=":", alpha=alpha)  # type: ignore[arg-type]
        if r.get("binds_anyone", True) and eff < end:  # no in-force bar for what never bound anyone
            ax.plot([eff, end], [y, y], color=colour, lw=6, alpha=0.55 * alpha, solid_capstyle="butt")  # type: ignore[arg-type]
        for e in r["events"]:
            d = dt.date.fromisoformat(e["date"])
            style = {"adopted": ("o", "white"), "effective": ("^", colour), "deadline": ("D", "black"),
                     "change": ("s", "white"), "ends": ("X", "black")}[e["kind"]]
            ax.plot([d], [y], marker=style[0], markersize=8, markerfacecolor=style[1], markeredgecolor=colour  # type: ignore[arg-type]
                    if e["kind"] in ("adopted", "change") else "black", ls="none", alpha=alpha, zorder=3)
        mark = ""
        if profile is not None:
            mark = "★ " if r.get("binds_profile") else "   "
        labels.append(mark + r["label"])
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(labels, fontsize=9)
    ax.set_ylim(-0.8, n - 0.2)
    ax.set_xlim(lo - pad, right)  # type: ignore[arg-type]
    if (right - lo).days > 5 * 366:  # long spans: one tick a year
        ax.xaxis.set_major_locator(mdates.YearLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    else:
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=10))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.grid(axis="x", color="#dddddd", lw=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    title = f"Restrictions on {family_name}"
    if profile is not None:
        title += f" — ★ binds profile {profile}"
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    forces = sorted({r["legal_force"] for r in rows})
    handles: list[Any] = [Patch(color=FORCE_COLOURS.get(f, "#444444"), alpha=0.7, label=f) for f in forces]
    handles += [
        Line2D([], [], marker="o", ls="none", markerfacecolor="white", markeredgecolor="black", label="adopted"),
        Line2D([], [], marker="^", ls="none", color="black", label="takes effect"),
        Line2D([], [], marker="D", ls="none", color="black", label="deadline"),
        Line2D([], [], marker="s", ls="none", markerfacecolor="white", markeredgecolor="black",
               label="obligation changes"),
        Line2D([], [], marker="X", ls="none", color="black", label="ends"),
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
              title="legal force / events", title_fontsize=8)
    fig.autofmt_xdate(rotation=0, ha="center")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fmt = out.suffix.lower().lstrip(".")
    fig.savefig(out, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    plt.close(fig)
    return out

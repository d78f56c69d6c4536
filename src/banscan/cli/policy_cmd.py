"""``banscan explain`` and ``banscan timeline``: why a finding exists, and the dated history of the law."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Annotated, Any

import typer

from banscan.cli.common import ConfigOpt, RegistryOpt, dump_json, registry_from, settings
from banscan.errors import BanscanError, ConfigError, InputError
from banscan.model import Detection, Finding
from banscan.registry import Registry
from banscan.scan import ScanResult
from banscan.textsafe import term, term_lines

MAX_REPORT_BYTES = 512 << 20
_RELATION_TEXT = {
    "product": "a product of the family",
    "oem": "a rebranded or embedded product (OEM) of the family",
    "former-affiliate": "a product of a former member of the family",
    "service-client": "software or a machine that uses the family's online service",
}


# --------------------------------------------------------------------------- loading


def load_report(path: Path | None) -> tuple[ScanResult, str]:
    from banscan.cli.scan_cmd import LAST_REPORT

    p = path or LAST_REPORT
    if not p.exists():
        if path is None:
            raise ConfigError("no previous scan report: run 'banscan scan' first, or give --report FILE")
        raise InputError(f"{p}: no such report file")
    from banscan.safeio import read_limited

    raw = read_limited(p, MAX_REPORT_BYTES, "banscan JSON report")
    try:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("as_of"), str) \
                or not isinstance(data.get("detections", []), list):
            raise ValueError("no as_of date and detections list at the top")
        return ScanResult.from_dict(data), str(p)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
        raise InputError(f"{term(p)}: not a banscan JSON report ({type(e).__name__}: "
                         f"{term(' '.join(str(e).split())[:200])})") from None


def _d(v: Any) -> str | None:
    return v.isoformat() if v is not None else None


# --------------------------------------------------------------------------- explain: data


def explanation(ident: str, result: ScanResult, reg: Registry) -> dict[str, Any]:
    """Everything ``explain`` prints, as data.  Raises BanscanError for an unknown id."""
    from banscan.cli.registry_cmd import restriction_json
    from banscan.policy import restriction_summary

    finding: Finding | None = next((f for f in result.findings if f.id == ident), None)
    det_id = finding.detection if finding else ident
    det: Detection | None = next((d for d in result.detections if d.id == det_id), None)
    if det is None:
        what = "finding" if ident.startswith("F-") else "detection" if ident.startswith("D-") else "detection or finding"
        raise BanscanError(f"unknown {what} id '{ident}' in the report (ids look like D-… or F-…; "
                           "see 'banscan scan --format json')")
    findings = [finding] if finding else [f for f in result.findings if f.detection == det.id]
    others = [f.id for f in result.findings if f.detection == det.id and f not in findings]

    sigs = []
    for ev in det.evidence:
        s = reg.signature(ev.signature)
        entry: dict[str, Any] = {"id": ev.signature, "field": ev.field, "observed": ev.value, "strength": ev.strength}
        if s is not None:
            entry.update({"kind": s.kind, "values": list(s.values), "product": s.product, "entity": s.entity,
                          "relation": s.relation, "note": s.note, "sources": list(s.sources)})
        elif ev.signature.startswith("ieee."):
            entry.update({"kind": "mac-prefix", "values": [ev.signature.rsplit(".", 1)[-1]],
                          "sources": [f"IEEE registration authority ({reg.oui_source or 'bundled table'}, "
                                      f"{reg.oui_date or 'date unknown'})"]})
        else:
            entry["missing"] = "signature not in this registry (the report was made with another registry version)"
        sigs.append(entry)

    entity: dict[str, Any] | None = None
    family: dict[str, Any] | None = None
    if det.family in reg.families:
        fam = reg.family(det.family)
        family = {"id": fam.id, "name": fam.name, "country": fam.country, "sources": list(fam.sources)}
        e = reg.entity(det.family, det.entity_id) if det.entity_id else reg.entity_by_name(det.family, det.entity)
        if e is not None:
            entity = {"id": e.id, "name": e.name, "role": e.role, "country": e.country, "from": _d(e.from_),
                      "to": _d(e.to), "note": e.note, "sources": list(e.sources),
                      "periods": [{"from": _d(f), "to": _d(t)} for f, t in e.spans()], "successor": e.successor}

    restrictions = []
    for rid in dict.fromkeys(f.restriction for f in findings):
        r = reg.restrictions.get(rid)
        restrictions.append(restriction_json(r) if r is not None else {"id": rid, "missing": True})
    info = result.information.get(det.family) or (
        [restriction_summary(r) for r in reg.restrictions_naming(det.family)] if det.family in reg.families else [])
    # why an instrument binds no one comes from the current registry, also for a report made before it was known
    info = [{**i, **{k: v for k, v in restriction_summary(reg.restrictions[i["id"]]).items() if k in ("binds_no_one", "text")}}
            if i.get("id") in reg.restrictions else i for i in info]

    return {
        "registry": reg.meta(),
        "report": {"registry": dict(result.registry), "as_of": result.as_of.isoformat(),
                   "profiles": list(result.profiles)},
        "id": ident,
        "kind": "finding" if finding else "detection",
        "detection": det.to_dict(),
        "signatures": sigs,
        "family": family,
        "entity": entity,
        "findings": [f.to_dict() for f in findings],
        "other_findings": others,
        "restrictions": restrictions,
        "information": info if not findings else [],
    }


# --------------------------------------------------------------------------- explain: text


class _Out:
    def __init__(self, width: int = 100) -> None:
        self.lines: list[str] = []
        self.width = width

    def __call__(self, text: str = "", indent: int = 0, hang: int = 2) -> None:
        if not text:
            self.lines.append("")
            return
        pad = " " * indent
        self.lines.extend(textwrap.wrap(text, self.width, initial_indent=pad, subsequent_indent=pad + " " * hang,
                                        break_long_words=False, break_on_hyphens=False) or [pad])


def explanation_text(x: dict[str, Any]) -> str:
    out = _Out()
    d = x["detection"]
    rep = x["report"]
    what = d.get("product") or d.get("entity")
    out(f"{x['kind'].capitalize()} {x['id']}: {what} ({d['family']}) on asset {d['asset']}")
    out(f"Report: law as of {rep['as_of']}, profile(s) {', '.join(rep['profiles']) or 'none'}; "
        f"registry {x['registry']['version']} (sha256 {x['registry']['sha256'][:16]}…)", 2)
    if rep["registry"].get("sha256") and rep["registry"].get("sha256") != x["registry"]["sha256"]:
        out(f"Note: the report was made with registry {rep['registry'].get('version')} "
            f"(sha256 {rep['registry']['sha256'][:16]}…); details below come from the current registry.", 2)
    out()
    o = d["observation"]
    out("1. What was seen")
    out(f"Observed in {d['source']['path']} at {d['source']['locator'] or '(whole file)'} "
        f"({o['kind']} record, {o['evidence_class']} evidence"
        + (f", dated {o['observed_at']}" if o.get("observed_at") else "") + ")", 3)
    for k, v in o["fields"].items():
        out(f"{k} = {v!r}", 5)
    out()
    out(f"2. Why it is {d['family']}: signatures that matched (confidence {d['confidence']})")
    for s in x["signatures"]:
        out(f"Signature {s['id']} ({s.get('kind', '?')}, {s['strength']}): field {s['field']} = {s['observed']!r}", 3)
        if s.get("values"):
            out("values: " + ", ".join(s["values"][:12]) + (" …" if len(s["values"]) > 12 else ""), 7)
        if s.get("note"):
            out(f"note: {s['note']}", 7)
        if s.get("sources"):
            out("source: " + "; ".join(s["sources"]), 7)
        if s.get("missing"):
            out(s["missing"], 7)
    for n in d.get("notes", []):
        out(f"Note: {n}", 3)
    out()
    out("3. Who makes it")
    e, fam = x["entity"], x["family"]
    fam_name = fam["name"] if fam else d["family"]
    if e:
        dates = ""
        spans = [p for p in e.get("periods") or [] if p.get("from") or p.get("to")]
        if spans:
            dates = ", in the family " + " and ".join(
                f"from {p.get('from') or 'the start'} to {p.get('to') or 'now'}" for p in spans)
        elif e.get("from") or e.get("to"):
            dates = f", in the family from {e.get('from') or 'the start'} to {e.get('to') or 'now'}"
        if e.get("successor"):
            dates += f"; sold to {e['successor']}"
        out(f"Entity: {e['name']} ({e['id']}), role {e['role']} in the {fam_name} family"
            + (f", {e['country']}" if e.get("country") else "") + dates, 3)
        if e.get("note"):
            out(f"note: {e['note']}", 7)
        out("source: " + "; ".join(e["sources"]), 7)
    else:
        out(f"Entity: {d['entity']} ({fam_name} family)", 3)
    out(f"Relation: {d['relation']}: {_RELATION_TEXT.get(d['relation'], d['relation'])}; category {d['category']}"
        + (f"; service {d['service']}" if d.get("service") else ""), 3)
    out()
    if not x["findings"]:
        out("4. Restrictions")
        if rep["profiles"]:
            out(f"No restriction binds profile(s) {', '.join(rep['profiles'])} for this product on {rep['as_of']} "
                "(its category, relation or date is outside their scope). Restrictions worldwide that name "
                "this family:", 3)
        else:
            out("No profile was given, so nothing is evaluated as binding. Restrictions worldwide that name "
                "this family (give --profile to 'banscan scan' to see which bind you):", 3)
        for i in x["information"]:
            out(f"- {i['id']}: {i['jurisdiction']}, {i['citation']} [{i['legal_force']}], adopted {i['adopted']}"
                + (f", effective {i['effective']}" if i.get("effective") else ""), 3, 4)
            if i.get("binds_no_one"):
                out(f"Binds no one — {i['binds_no_one']}. {i.get('text') or ''}".rstrip(), 5, 2)
        return "\n".join(out.lines) + "\n"

    out("4. The law")
    rmap = {r["id"]: r for r in x["restrictions"]}
    for rid in dict.fromkeys(f["restriction"] for f in x["findings"]):
        r = rmap.get(rid, {})
        fs = [f for f in x["findings"] if f["restriction"] == rid]
        f0 = fs[0]
        out(f"Restriction {rid}: {r.get('title', f0['instrument'])}", 3)
        out(f"Instrument: {f0['instrument']}", 5)
        out(f"Legal force: {f0['legal_force']}" + ("" if r.get("binding", True) else " (not binding)")
            + (f"; confidence {r['confidence']}" if r.get("confidence") else ""), 5)
        if r.get("text"):
            out(f"What it says: {r['text']}", 5)
        out(f"Dates: adopted {r.get('adopted')}, effective {r.get('effective')}"
            + (f", ends {r['ends']}" if r.get("ends") else ""), 5)
        out(f"Why it binds profile {f0['profile']}:", 5)
        for reason in f0["reasons"]:
            out(f"- {reason}", 7)
        out("Steps it asks (dates computed for this product):", 5)
        for s in f0["steps"]:
            when = f"from {s['effective']}" + (f" until {s['until']}" if s.get("until") else "")
            by = ""
            if s.get("window"):
                w = s["window"]
                by = f", within {w['days']} {'business ' if w.get('business') else ''}day(s) of identification"
            if s.get("deadline"):
                by += f", by {s['deadline']}"
            mark = "→" if s.get("current") and len(fs) == 1 else "-"
            out(f"{mark} [{s['status']}] {s['requirement']} {when}{by}: {s['action']} ({s['citation']})", 7, 4)
        out("Sources: " + "; ".join(f0["sources"]), 5)
        if r.get("notes"):
            for n in r["notes"]:
                out(f"Note: {n}", 5)
    out()
    out("5. What to do")
    rank = {"prohibited": 0, "remove": 1, "do-not-procure": 2, "report": 3, "advisory": 4}
    for f in sorted(x["findings"], key=lambda f: (f["profile"], rank.get(f["requirement"], 9),
                                                  f["deadline"] or "9999")):
        out(f"{f['requirement'].upper()}" + (f" by {f['deadline']}" if f.get("deadline") else "")
            + f" ({f['citation']}; finding {f['id']}, profile {f['profile']}, status {f.get('status', 'open')}):", 3)
        out(f["action"], 5)
        if f.get("report_window"):
            w = f["report_window"]
            out(f"Report window: {w['days']} {'business ' if w.get('business') else ''}day(s) from the day the "
                "product was identified (Mon-Fri; public holidays are not counted out)", 5)
    if x["other_findings"]:
        out()
        out("Other findings for this detection: " + ", ".join(x["other_findings"]), 0)
    return "\n".join(out.lines) + "\n"


# --------------------------------------------------------------------------- timeline

_KIND_WORDS = {"adopted": "adopted", "effective": "obligation applies", "deadline": "deadline",
               "change": "obligation changes", "ends": "ends"}


def _timeline_table(rows: list[dict[str, Any]], family_name: str, profile: str | None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    t = Table(title=Text(f"Restrictions on {family_name}" + (f" — profile {profile}" if profile else ""),
                         style="bold"), show_lines=True)
    cols = ["jurisdiction", "restriction", "legal force", "adopted", "effective", "later dates", "ends"]
    if profile:
        cols.append("binds you")
    for c in cols:
        t.add_column(c, overflow="fold")
    for r in rows:
        later = [f"{e['date']} {_KIND_WORDS[e['kind']]}" for e in r["events"] if e["kind"] in ("effective", "deadline", "change")
                 and e["date"] != r["effective"]]
        cells = [Text(r["jurisdiction"]), Text(f"{r['citation']}\n{r['id']}"), Text(r["legal_force"]),
                 Text(r["adopted"]), Text(r["effective"]), Text("\n".join(dict.fromkeys(later)) or "-"),
                 Text(r["ends"] or "-")]
        if profile:
            cells.append(Text("yes" if r.get("binds_profile") else "no",
                              style="bold red" if r.get("binds_profile") else "dim"))
        t.add_row(*cells)
    import sys

    tty = sys.stdout.isatty()
    Console(highlight=False, width=None if tty else 150, no_color=not tty).print(t)


def register(app: typer.Typer) -> None:
    @app.command(
        "explain",
        help=(
            "Explain a detection (D-…) or finding (F-…) from the last scan report, or from --report FILE: "
            "what was seen and where, which signature matched and its source, who makes the product, "
            "which restriction binds you, why, by when, and what to do."
        ),
    )
    def explain(
        ident: Annotated[str, typer.Argument(metavar="ID", help="A detection id (D-…) or finding id (F-…).")],
        report: Annotated[Path | None, typer.Option("--report", metavar="FILE",
                                                       help="A 'banscan scan --format json' report (default: the last scan).")] = None,
        fmt: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
        registry: RegistryOpt = None,
        config: ConfigOpt = None,
    ) -> None:
        if fmt not in ("text", "json"):
            raise ConfigError(f"--format: unknown format '{fmt}' (choose from text, json)")
        result, _ = load_report(report)
        reg = registry_from(settings(registry=registry, config=config))
        x = explanation(ident.strip(), result, reg)
        if fmt == "json":
            dump_json(x, reg)
        else:
            typer.echo(term_lines(explanation_text(x)), nl=False)

    @app.command(
        "timeline",
        help=(
            "The dated history of the restrictions on a vendor family (adopted, effective, deadlines, ends), "
            "as a table, and as a chart (SVG or PNG) with --out. With --profile, marks those that bind it."
        ),
    )
    def timeline(
        family: Annotated[str, typer.Argument(metavar="FAMILY", help="A family id, e.g. kaspersky (see 'banscan registry families').")],
        profile: Annotated[str | None, typer.Option("--profile", "-p", metavar="NAME", help="Mark the restrictions that bind this profile.")] = None,
        out: Annotated[Path | None, typer.Option("--out", metavar="FILE", help="Write a timeline chart: FILE.svg or FILE.png.")] = None,
        fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
        registry: RegistryOpt = None,
        config: ConfigOpt = None,
    ) -> None:
        from banscan.policy.timeline import render_chart, timeline_rows

        if fmt not in ("table", "json"):
            raise ConfigError(f"--format: unknown format '{fmt}' (choose from table, json)")
        if out is not None and out.suffix.lower() not in (".svg", ".png"):
            raise ConfigError(f"--out: '{out}' must end in .svg or .png")
        reg = registry_from(settings(registry=registry, config=config))
        fam = family.strip().lower()
        if fam not in reg.families:
            raise BanscanError(f"unknown family '{family}' (known: {', '.join(sorted(reg.families))})")
        prof = reg.profile(profile) if profile else None
        rows = timeline_rows(fam, reg, prof)
        name = reg.family(fam).name
        written = None
        if out is not None and rows:
            written = render_chart(rows, name, out, prof.id if prof else None)
        if fmt == "json":
            dump_json({"family": fam, "profile": prof.id if prof else None, "chart": str(written) if written else None,
                       "restrictions": rows}, reg)
        else:
            if rows:
                _timeline_table(rows, name, prof.id if prof else None)
            else:
                typer.echo(f"No restriction in the registry names {name}.")
        if written is not None:
            typer.echo(term(f"banscan: timeline chart written to {written}"), err=True)
        elif out is not None:
            typer.echo(f"banscan: no restriction names {name}; no chart written", err=True)

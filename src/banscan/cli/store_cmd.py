"""Commands on the scan database and the findings lifecycle: ``findings``, ``assets``, ``history``,
``reevaluate``, ``registry update``, and signed statements: ``keygen``, ``attest``, ``verify``."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from banscan.cli.common import (
    ConfigOpt,
    DbOpt,
    ProfileOpt,
    RegistryOpt,
    dump_json,
    registry_from,
    settings,
)
from banscan.cli.registry_cmd import registry_app
from banscan.errors import ConfigError
from banscan.textsafe import csv_cell, term, term_lines


def Console(*args: Any, **kw: Any) -> Any:  # noqa: N802 - rich's class, imported when used
    from rich.console import Console as cls

    return cls(*args, **kw)


def Table(*args: Any, **kw: Any) -> Any:  # noqa: N802 - rich's class, imported when used
    from rich.table import Table as cls

    return cls(*args, **kw)


def _RichText(*args: Any, **kw: Any) -> Any:  # noqa: N802 - rich's class, imported when used
    from rich.text import Text as cls

    return cls(*args, **kw)


def Text(value: object, style: str = "") -> Any:  # noqa: N802 - stands in for rich.text.Text
    """Terminal text from stored (inventory) strings: control characters escaped, never markup."""
    return _RichText(term(value), style=style)


MAX_STATEMENT_BYTES = 64 << 20
_STATUSES = ("open", "planned", "resolved", "waived", "false-positive")


def _date(value: str | None, what: str) -> dt.date | None:
    from banscan.cli.scan_cmd import parse_date

    return parse_date(value, what)


def _fmt(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"--format: unknown format '{value}' (choose from {', '.join(allowed)})")
    return value


def _store(db: str | None, config: str | None = None):  # type: ignore[no-untyped-def]
    from banscan.store import open_store

    return open_store(settings(db=db, config=config).db)


def _csv_cell(v: Any) -> str:
    return csv_cell(v)


FINDING_COLUMNS = ("id", "status", "asset", "family", "product", "restriction", "requirement", "deadline",
                   "first_seen", "last_seen", "owner", "due", "waiver_expires", "overdue")


def _print_findings(rows: list[dict[str, Any]], fmt: str, reg_meta: dict[str, str]) -> None:
    if fmt == "json":
        dump_json({"registry": reg_meta, "findings": rows}, None)
        return
    if fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(FINDING_COLUMNS)
        for r in rows:
            w.writerow([_csv_cell(r.get(c)) for c in FINDING_COLUMNS])
        return
    console = Console()
    if not rows:
        console.print(Text("No findings match."))
        return
    t = Table("id", "status", "asset", "family / product", "restriction", "requirement", "deadline",
              "owner / due", "last seen")
    for r in rows:
        status = r["status"] + (" (overdue)" if r["overdue"] else "")
        if r["status"] == "waived" and r["waiver_expires"]:
            status += f" until {r['waiver_expires']}"
        who = " ".join(x for x in (r["owner"] or "", r["due"] or "") if x)
        t.add_row(Text(r["id"]), Text(status), Text(r["asset"]), Text(f"{r['family']} / {r['product'] or '-'}"),
                  Text(r["restriction"]), Text(r["requirement"]), Text(r["deadline"] or "-"), Text(who or "-"),
                  Text(str(r["last_seen"])[:10]))
    console.print(t)


findings_app = typer.Typer(
    name="findings",
    help="List the findings the database tracks, and record decisions on them (plan, waive, false positive).\n\n"
         "Without options: the open and planned findings.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@findings_app.callback()
def findings_list(
    ctx: typer.Context,
    status: Annotated[list[str] | None, typer.Option("--status", help="open|planned|resolved|waived|false-positive; repeatable.")] = None,
    asset: Annotated[str | None, typer.Option("--asset", help="Only this asset.")] = None,
    family: Annotated[str | None, typer.Option("--family", help="Only this vendor family.")] = None,
    profile: Annotated[str | None, typer.Option("--profile", "-p", help="Only findings under this profile.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open/planned findings past their deadline or due date.")] = False,
    all_: Annotated[bool, typer.Option("--all", help="Every status, including resolved, waived and false positives.")] = False,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv")] = "table",
    db: DbOpt = None,
    registry: RegistryOpt = None,
    config: ConfigOpt = None,
) -> None:
    if ctx.invoked_subcommand is not None:
        ctx.obj = {"db": db, "config": config}
        return
    _fmt(fmt, ("table", "json", "csv"))
    for s_ in status or []:
        if s_ not in _STATUSES:
            raise ConfigError(f"--status: unknown status '{s_}' (choose from {', '.join(_STATUSES)})")
    s = settings(db=db, registry=registry, config=config)
    from banscan.store import open_store

    with open_store(s.db) as store:
        store.expire_waivers()
        rows = store.findings(statuses=status, asset=asset, family=family, overdue=overdue, all=all_,
                              profile=profile)
    reg_meta = registry_from(s).meta() if fmt == "json" else {}
    _print_findings(rows, fmt, reg_meta)


def _apply(ctx: typer.Context, ident: str, status: str, db: str | None, **kw: Any) -> None:
    db = db or (ctx.obj or {}).get("db")
    config = (ctx.obj or {}).get("config")
    with _store(db, config) as store:
        row = store.set_status(ident, status, **kw)
    extra = ""
    if status == "planned":
        extra = f" (owner {row['owner']}, due {row['due']})"
    elif status == "waived":
        extra = f" (approved by {row['approver']}, until {row['waiver_expires']})"
    typer.echo(term(f"{row['id']}: {row['asset']} {row['family']}/{row['product'] or '-'} under {row['restriction']} "
               f"is now {row['status']}{extra}"))


@findings_app.command("set", help="Set a finding's status: planned (--owner, --due), waived (--reason, --approver, "
                                  "--expires), false-positive (--reason) or open.")
def findings_set(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(metavar="ID")],
    status: Annotated[str, typer.Option("--status", help="planned, waived, false-positive or open")],
    owner: Annotated[str | None, typer.Option("--owner", help="Who removes it (planned).")] = None,
    due: Annotated[str | None, typer.Option("--due", metavar="YYYY-MM-DD", help="Planned removal date.")] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (waived, false-positive).")] = None,
    approver: Annotated[str | None, typer.Option("--approver", help="Who approved the waiver.")] = None,
    expires: Annotated[str | None, typer.Option("--expires", metavar="YYYY-MM-DD", help="Last day the waiver holds.")] = None,
    db: DbOpt = None,
) -> None:
    _apply(ctx, ident, status, db, owner=owner, due=_date(due, "--due"), note=note, reason=reason,
           approver=approver, expires=_date(expires, "--expires"))


@findings_app.command("waive", help="Accept a finding for now: it reads as open again the day after --expires.")
def findings_waive(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option("--reason")],
    approver: Annotated[str, typer.Option("--approver")],
    expires: Annotated[str, typer.Option("--expires", metavar="YYYY-MM-DD")],
    note: Annotated[str | None, typer.Option("--note")] = None,
    db: DbOpt = None,
) -> None:
    _apply(ctx, ident, "waived", db, reason=reason, approver=approver, expires=_date(expires, "--expires"), note=note)


@findings_app.command("false-positive", help="Mark a finding as a false positive; later scans keep it suppressed.")
def findings_fp(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option("--reason")],
    db: DbOpt = None,
) -> None:
    _apply(ctx, ident, "false-positive", db, reason=reason)


@findings_app.command("show", help="One finding with its full history.")
def findings_show(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(metavar="ID")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
    db: DbOpt = None,
) -> None:
    _fmt(fmt, ("text", "json"))
    with _store(db or (ctx.obj or {}).get("db"), (ctx.obj or {}).get("config")) as store:
        row = store.finding(ident)
        events = store.events(key=ident)
    if fmt == "json":
        dump_json({"finding": row, "events": events}, None)
        return
    for k, v in row.items():
        if v not in (None, [], ""):
            typer.echo(term(f"{k}: {v}"))
    typer.echo("history:")
    for e in events:
        typer.echo(term(f"  {e['at']} {e['actor']}: {e['event']} {e['from'] or '-'} -> {e['to'] or '-'}"
                        f"{' (scan ' + str(e['scan']) + ')' if e['scan'] else ''} "
                        f"{json.dumps(e['detail'], ensure_ascii=False) if e['detail'] else ''}"))


def _print_impact(impact: Any, fmt: str, header: str) -> None:
    if fmt == "json":
        dump_json(impact.to_dict(), None)
        return
    console = Console()
    console.print(Text(header, style="bold"))
    for w in impact.warnings:
        console.print(Text(f"warning: {w}"))
    changed = [a for a in impact.assets if a["gained"] or a["lost"] or a["changed"]
               or a.get("new_detections") or a.get("dropped_detections")]
    if not changed:
        console.print(Text(f"No change for the {impact.evaluated_assets} asset(s) re-evaluated."))
    for a in changed:
        console.print(Text(a["asset"], style="bold"))
        for d in a.get("new_detections", []):
            console.print(Text(f"  + detection {d['id']}: {d['family']}/{d['product'] or '-'} "
                               f"({d['confidence']}, {d['evidence_class']}) at {d['source']}"))
        for d in a.get("dropped_detections", []):
            console.print(Text(f"  - detection {d['id']}: {d['family']}/{d['product'] or '-'} at {d['source']}"))
        for g in a["gained"]:
            console.print(Text(f"  + {g['restriction']}: {g['family']}/{g['product'] or '-'} "
                               f"({g['requirement']}, deadline {g['deadline'] or '-'})"))
        for g in a["lost"]:
            console.print(Text(f"  - {g['restriction']}: {g['family']}/{g['product'] or '-'} (was {g['requirement']})"))
        for g in a["changed"]:
            console.print(Text(f"  ~ {g['restriction']}: {g['family']}/{g['product'] or '-'} "
                               f"{g['was']} -> {g['requirement']} (deadline {g['deadline'] or '-'})"))
    gaining = sum(1 for a in impact.assets if a["gained"])
    losing = sum(1 for a in impact.assets if a["lost"])
    new_d = sum(len(a.get("new_detections", [])) for a in impact.assets)
    dropped_d = sum(len(a.get("dropped_detections", [])) for a in impact.assets)
    console.print(Text(f"{new_d} new and {dropped_d} dropped detection(s); "
                       f"{gaining} asset(s) gain findings, {losing} lose findings; "
                       f"{impact.evaluated_assets} asset(s) re-evaluated"
                       + (f"; recorded as scan(s) {', '.join(map(str, impact.recorded))}" if impact.recorded else "")
                       + ("; dry run: nothing was installed or recorded" if impact.dry_run else "")))


@registry_app.command("update", help=(
    "Install a newer registry bundle (.tar.gz or .zip with manifest.json and data/) and make it the active "
    "registry, then match every stored asset's newest evidence again under it and show, per asset, the new and "
    "dropped detections and the findings gained, lost or changed per restriction. --dry-run shows the same "
    "without installing or recording anything.\n\n"
    "With --key, FILE.sig (base64 Ed25519 signature of FILE) must verify; with --sha256, FILE must have that "
    "digest. Build bundles with scripts/make_registry_bundle.py."))
def registry_update(
    file: Annotated[Path, typer.Argument(metavar="FILE")],
    key: Annotated[Path | None, typer.Option("--key", metavar="PUB", help="Publisher's Ed25519 public key.")] = None,
    sha256: Annotated[str | None, typer.Option("--sha256", metavar="HEX", help="Expected SHA-256 of FILE.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
    no_reevaluate: Annotated[bool, typer.Option("--no-reevaluate", help="Only install.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Verify the bundle and show its impact on the stored "
                                                            "evidence; install and record nothing.")] = False,
    db: DbOpt = None,
    registry: RegistryOpt = None,
    config: ConfigOpt = None,
) -> None:
    from banscan.registry import load
    from banscan.store import open_store
    from banscan.store.bundle import install_bundle, preview_bundle
    from banscan.store.reeval import reevaluate

    _fmt(fmt, ("table", "json"))
    s = settings(db=db, registry=registry, config=config)
    old = registry_from(s)
    if dry_run:
        with preview_bundle(file, key, sha256) as (_preview, inst), open_store(s.db) as store:
            for n in inst.notes:
                typer.echo(f"banscan: warning: {n}", err=True)
            new = load(s.registry, data_dir=inst.path)
            impact = reevaluate(store, new, store.today(), baseline_registry=old, record=False)
        if fmt == "json":
            dump_json({"dry_run": True, "bundle": {"version": inst.version, "sha256": inst.sha256,
                                                   "bundle_sha256": inst.bundle_sha256,
                                                   "signature_checked": inst.signature_checked,
                                                   "active": inst.previous},
                       "impact": impact.to_dict()}, None)
            return
        typer.echo(f"dry run: registry {inst.version} (sha256 {inst.sha256}) verified"
                   + (" (signature verified)" if inst.signature_checked else "") + "; not installed")
        _print_impact(impact, fmt, f"Impact of registry {old.version} -> {new.version} as of {impact.as_of}:")
        return
    inst = install_bundle(file, key, sha256)
    for n in inst.notes:
        typer.echo(term(f"banscan: warning: {n}"), err=True)
    msg = (f"installed registry {inst.version} (sha256 {inst.sha256}) at {inst.path}; it is now the active registry"
           + (" (signature verified)" if inst.signature_checked else ""))
    new = load(s.registry, data_dir=inst.path)
    if no_reevaluate:
        typer.echo(msg)
        return
    with open_store(s.db) as store:
        impact = reevaluate(store, new, store.today(), baseline_registry=old,
                            note=f"registry update {old.version} -> {new.version}")
    if fmt == "json":
        dump_json({"installed": {"version": inst.version, "sha256": inst.sha256, "path": str(inst.path),
                                 "bundle_sha256": inst.bundle_sha256, "signature_checked": inst.signature_checked,
                                 "previous": inst.previous}, "impact": impact.to_dict()}, None)
        return
    typer.echo(msg)
    _print_impact(impact, fmt, f"Impact of registry {old.version} -> {new.version} as of {impact.as_of}:")


def register(app: typer.Typer) -> None:
    app.add_typer(findings_app)

    @app.command("assets", help="Assets the database has scans of: last scan, evidence classes, open findings.")
    def assets(
        fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
        db: DbOpt = None,
        config: ConfigOpt = None,
    ) -> None:
        _fmt(fmt, ("table", "json"))
        with _store(db, config) as store:
            rows = store.assets()
        if fmt == "json":
            dump_json({"assets": rows}, None)
            return
        console = Console()
        if not rows:
            console.print(Text("No scans recorded yet."))
            return
        t = Table("asset", "last scan", "at", "evidence", "open findings")
        for r in rows:
            t.add_row(Text(r["asset"]), Text(r["last_scan"]), Text(r["last_scan_at"]),
                      Text(", ".join(r["evidence"])), Text(r["open_findings"]))
        console.print(t)

    @app.command("history", help="What changed for ASSET from scan to scan: findings opened, resolved, reopened; inputs.")
    def history(
        asset: Annotated[str, typer.Argument(metavar="ASSET")],
        fmt: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
        db: DbOpt = None,
        config: ConfigOpt = None,
    ) -> None:
        _fmt(fmt, ("text", "json"))
        with _store(db, config) as store:
            h = store.history(asset)
        if fmt == "json":
            dump_json(h, None)
            return
        console = Console(highlight=False)
        console.print(Text(f"History of {asset}", style="bold"))
        for sc in h["scans"]:
            console.print(Text(f"scan {sc['id']} ({sc['kind']}) {sc['finished_at']} registry "
                               f"{sc['registry']['version']} profiles {', '.join(sc['profiles']) or '-'} "
                               f"evidence {', '.join(sc['evidence'])}"))
            for i in sc["inputs"]:
                console.print(Text(f"    input {i['path']} [{i['format']}] sha256 {i['sha256'] or '-'}"))
            ch = sc.get("inputs_changed") or {}
            for p in ch.get("added", []):
                console.print(Text(f"    input added since the previous scan: {p}"))
            for p in ch.get("removed", []):
                console.print(Text(f"    input not in this scan: {p}"))
            for e in sc["changes"]:
                console.print(Text(f"    {e['event']}: {e['finding']} {e['family']}/{e['product'] or '-'} under "
                                   f"{e['restriction']}"))
        for e in h["other_events"]:
            console.print(Text(f"{e['at']} {e['actor']}: {e['event']} {e['finding']} ({e['from']} -> {e['to']}) "
                               f"{json.dumps(e['detail'], ensure_ascii=False) if e['detail'] else ''}"))

    @app.command("reevaluate", help=(
        "Match every stored asset's newest evidence again with the current registry, evaluate it for a date and "
        "show what changes compared with the stored detections on the day before (or --since): new and dropped "
        "detections per asset, findings gained, lost or changed per restriction. The re-evaluated findings are "
        "recorded (not with --dry-run); they update the findings lifecycle only for today's date."))
    def reevaluate_cmd(
        as_of: Annotated[str | None, typer.Option("--as-of", metavar="YYYY-MM-DD", help="The date to evaluate (default: today).")] = None,
        profile: ProfileOpt = None,
        since: Annotated[str | None, typer.Option("--since", metavar="YYYY-MM-DD", help="Compare with this date (default: the day before --as-of).")] = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the impact; record nothing.")] = False,
        fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
        db: DbOpt = None,
        registry: RegistryOpt = None,
        config: ConfigOpt = None,
    ) -> None:
        from banscan.store.reeval import reevaluate

        _fmt(fmt, ("table", "json"))
        s = settings(db=db, registry=registry, config=config)
        when = _date(as_of, "--as-of")
        if when is None:
            with _store(s.db) as st:
                when = st.today()
        base = _date(since, "--since") or (when - dt.timedelta(days=1))
        reg = registry_from(s)
        profs = [x for p in (profile or []) for x in p.split(",") if x.strip()] or None
        for p in profs or []:
            reg.profile(p)
        with _store(s.db) as store:
            impact = reevaluate(store, reg, when, profiles=profs, baseline_as_of=base,
                                note=f"reevaluate --as-of {when}", record=not dry_run)
        _print_impact(impact, fmt, f"What {when} changes compared with {base} (registry {reg.version}):")

    @app.command("coverage", help=(
        "What the stored evidence can see of each asset: per evidence class (installed, runtime, sbom, mobile, "
        "network-device, network-traffic) the day of the newest scan and its inputs. Assets with no software "
        "inventory (installed, sbom or mobile evidence) are blind spots, listed first."))
    def coverage_cmd(
        fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv")] = "table",
        as_of: Annotated[str | None, typer.Option("--as-of", metavar="YYYY-MM-DD", help="Only scans recorded by this date.")] = None,
        db: DbOpt = None,
        config: ConfigOpt = None,
    ) -> None:
        from banscan.coverage import public

        _fmt(fmt, ("table", "json", "csv"))
        with _store(db, config) as store:
            rows = store.coverage(as_of=_date(as_of, "--as-of"))
        if fmt == "json":
            json.dump(public(rows), sys.stdout, indent=2, ensure_ascii=False)
            sys.stdout.write("\n")
            return
        if fmt == "csv":
            w = csv.writer(sys.stdout, lineterminator="\n")
            w.writerow(("asset", "blind_spot", "evidence_class", "last_seen", "inputs"))
            for r in rows:
                for c, d in r["evidence"].items():
                    ins = "; ".join(f"{i['path']} [{i['format']}]" for i in r["inputs"].get(c, []))
                    w.writerow([_csv_cell(r["asset"]), "true" if r["blind_spot"] else "false", c, d, _csv_cell(ins)])
            return
        console = Console()
        if not rows:
            console.print(Text("No scans recorded yet."))
            return
        t = Table("asset", "blind spot", "evidence (last seen)", "inputs")
        for r in rows:
            ev = "\n".join(f"{c} {d}" for c, d in r["evidence"].items())
            ins = "\n".join(f"{i['path']} [{i['format']}]" for c in r["evidence"] for i in r["inputs"].get(c, []))
            t.add_row(Text(r["asset"]), "yes" if r["blind_spot"] else "no", ev, Text(ins or "-"))
        console.print(t)
        blind = sum(1 for r in rows if r["blind_spot"])
        console.print(Text(f"{len(rows)} asset(s), {blind} blind spot(s) (no software inventory)"))

    @app.command("keygen", help="Make an Ed25519 key pair for signing attestations: private key (PEM, mode 0600) "
                                "at KEY, public key at KEY.pub.")
    def keygen_cmd(
        out: Annotated[Path, typer.Option("--out", metavar="KEY", help="Where to write the private key.")],
        force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
    ) -> None:
        from banscan.attest import keygen
        from banscan.cli.common import OutputError

        for p in (out, Path(str(out) + ".pub")):
            if p.is_dir():
                raise OutputError(f"--out: {term(p)}: is a directory (give the key file to write)")
        try:
            priv, pub, kid = keygen(out, force=force)
        except OSError as e:
            raise OutputError(f"--out: {term(e.filename or out)}: cannot write the key: {e.strerror or e}") from None
        typer.echo(f"private key {priv} (keep it secret), public key {pub}, key id {kid}")

    @app.command("attest", help=(
        "Write a signed statement: as of a date, under PROFILE and the registry version, which assets were "
        "scanned and that no finding at or above 'remove' is open (or, with --include-open, exactly which are). "
        "Refuses (exit 1) to attest a clean estate while such findings are open. The statement carries the coverage "
        "(key 'coverage'); an asset with no software-inventory evidence, or none newer than --max-age days, is a "
        "gap: banscan then writes nothing, names the gaps and exits 1, unless --accept-gaps (the gaps are listed "
        "in the statement). Check it with 'banscan verify'."))
    def attest_cmd(
        profile: Annotated[str, typer.Option("--profile", "-p", metavar="NAME", help="Organisation profile.")],
        key: Annotated[Path, typer.Option("--key", metavar="KEY", help="Ed25519 private key (banscan keygen).")],
        out: Annotated[Path, typer.Option("--out", metavar="FILE", help="Where to write the statement.")],
        include_open: Annotated[bool, typer.Option("--include-open", help="List the open findings instead of refusing.")] = False,
        as_of: Annotated[str | None, typer.Option("--as-of", metavar="YYYY-MM-DD", help="State the estate as it stood on this date, from the stored history (default: today).")] = None,
        max_age: Annotated[int, typer.Option("--max-age", metavar="DAYS", help="Software-inventory evidence older than this is a coverage gap.")] = 30,
        accept_gaps: Annotated[bool, typer.Option("--accept-gaps", help="Write the statement despite coverage gaps, listing them in it.")] = False,
        db: DbOpt = None,
        registry: RegistryOpt = None,
        config: ConfigOpt = None,
    ) -> None:
        from banscan.attest import build_statement, load_private_key, sign

        s = settings(db=db, registry=registry, config=config)
        reg = registry_from(s)
        priv = load_private_key(key)
        with _store(s.db) as store:
            store.expire_waivers()
            st = build_statement(store, reg, profile, _date(as_of, "--as-of"), include_open, max_age=max_age,
                                 accept_gaps=accept_gaps)
        data = sign(st, priv)
        from banscan.cli.common import output_to

        with output_to(out, "--out") as fh:
            fh.write(data.decode("ascii"))
        typer.echo(f"{out}: {st['claim']} ({st['summary']['assets']} asset(s), profile {st['profile']['id']}, "
                   f"registry {st['registry']['version']})")
        from banscan.coverage import describe

        for g in st["coverage"]["gaps"]:
            typer.echo(f"banscan: warning: coverage gap accepted: {describe(g)}", err=True)

    @app.command("verify", help=(
        "Check a statement written by 'banscan attest': signature, canonical form and consistency, and (with "
        "--key) that it was signed with the trusted key. Prints the statement in words. Exit 0 valid, 1 invalid, "
        "2 unreadable."))
    def verify_cmd(
        file: Annotated[Path, typer.Argument(metavar="FILE")],
        key: Annotated[Path | None, typer.Option("--key", metavar="PUB", help="Trusted public key of the signer.")] = None,
        fmt: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
    ) -> None:
        from banscan.attest import Verification, load_public_key, render, verify

        _fmt(fmt, ("text", "json"))
        from banscan.errors import BanscanError
        from banscan.safeio import read_limited

        trusted = load_public_key(key) if key is not None else None
        try:
            data = read_limited(file, MAX_STATEMENT_BYTES, "statement")
        except BanscanError as e:
            v = Verification(False, list(e.problems))
        else:
            v = verify(data, trusted)
        if fmt == "json":
            dump_json(v.to_dict(), None)
        else:
            typer.echo(term_lines(render(v)))
        raise typer.Exit(v.exit_code)

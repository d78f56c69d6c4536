"""``banscan scan``: the main job.

No ``from __future__ import annotations`` here: typer reads the command's parameters from their
annotations, which it would otherwise compile and evaluate from strings on every run.
"""

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import platformdirs
import typer

from banscan import report as reports
from banscan.cli.collector import start_up_done
from banscan.cli.common import (
    ConfigOpt,
    DbOpt,
    OutOpt,
    ProfileOpt,
    RegistryOpt,
    check_output,
    echo_err,
    output_to,
    registry_from,
    reporter_for,
    settings,
)
from banscan.errors import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, BanscanError, ConfigError
from banscan.model import Confidence, Requirement
from banscan.scan import ScanRequest, ScanResult, run
from banscan.sources import names as source_names
from banscan.sources.limits import Limits
from banscan.textsafe import all_encodable, scrub, term

LAST_REPORT = Path(platformdirs.user_cache_dir("banscan", appauthor=False)) / "last-report.json"
_OPEN = ("open", "planned")


MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(9000, 12, 31)  # deadlines and windows are computed from the date: keep room


def parse_date(value: str | None, what: str = "--as-of") -> dt.date | None:
    if value is None:
        return None
    try:
        d = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(f"{what}: '{term(value)}' is not a date in the form YYYY-MM-DD") from None
    if not MIN_DATE <= d <= MAX_DATE:
        raise ConfigError(f"{what}: {d.isoformat()} is out of range ({MIN_DATE.isoformat()} to "
                          f"{MAX_DATE.isoformat()})")
    return d


def exit_code(result: ScanResult, fail_on: str) -> int:
    """2 when an input could not be read (wins over 1); 1 when something is at or above ``fail_on``."""
    if result.input_errors:
        return EXIT_INPUT
    if result.profiles:
        level = Requirement(fail_on).rank
        if any(f.requirement.rank >= level and f.status in _OPEN for f in result.findings):
            return EXIT_FINDINGS
    elif any(d.confidence.rank >= Confidence.LIKELY.rank for d in result.detections):
        return EXIT_FINDINGS
    return EXIT_OK


def save_last_report(report: dict[str, Any]) -> None:
    """Keep the report (``ScanResult.to_dict()``) for 'banscan explain': private to the user
    (mode 0600), written atomically.  Only called when the user let the scan be stored (not with
    --no-store)."""
    from banscan.cli.common import output_to

    try:
        with output_to(LAST_REPORT, "last report", mode=0o600) as fh:
            from banscan.fast.jsonout import dumps_encodable

            fh.write(dumps_encodable(report, indent=False))
    except BanscanError:
        pass  # the cache is a convenience for 'banscan explain'


def register(app: typer.Typer) -> None:
    @app.command(
        "scan",
        help=(
            "Scan this machine, or the given inventories, for products of restricted vendors.\n\n"
            "INPUT may be an SBOM (CycloneDX, SPDX), an osquery result, an MDM or software-inventory "
            "export, a winget export, an nmap XML file, ARP/DHCP/DNS/Zeek/SNMP data, a directory "
            "(walked) or '-' for standard input. Formats are recognised by content; 'banscan sources' "
            "lists them. With a --profile, each detection is checked against the restrictions that "
            "bind that kind of organisation on the --as-of date.\n\n"
            "Exit codes: 0 nothing at or above --fail-on; 1 something is; 2 an input could not be "
            "read (the report is still written in full)."
        ),
    )
    def scan(
        inputs: Annotated[list[str] | None, typer.Argument(metavar="[INPUT]...", show_default=False)] = None,
        host: Annotated[bool, typer.Option("--host", help="Scan this machine too (the default when no INPUT is given).")] = False,
        asset: Annotated[str | None, typer.Option("--asset", metavar="NAME", help="Asset name for single-asset inputs.")] = None,
        profile: ProfileOpt = None,
        as_of: Annotated[str | None, typer.Option("--as-of", metavar="YYYY-MM-DD", help="Apply the law as it stood on this date (default: today).")] = None,
        fmt: Annotated[str | None, typer.Option("--format", "-f", help="Report format: " + ", ".join(reports.names()) + " (default: table on a terminal, json otherwise).")] = None,
        output: OutOpt = None,
        fail_on: Annotated[str | None, typer.Option("--fail-on", metavar="LEVEL", help="advisory|report|do-not-procure|remove|prohibited: exit 1 when a finding is at or above LEVEL (default: remove).")] = None,
        input_format: Annotated[str | None, typer.Option("--input-format", metavar="NAME", help="Read every INPUT as this format instead of recognising it.")] = None,
        no_store: Annotated[bool, typer.Option("--no-store", help="Do not record this scan in the database.")] = False,
        jobs: Annotated[int, typer.Option("--jobs", "-j", metavar="N", help="Worker processes for large line-oriented inputs (results do not depend on N).")] = 1,
        registry: RegistryOpt = None,
        db: DbOpt = None,
        config: ConfigOpt = None,
    ) -> int:
        if jobs < 1:
            raise ConfigError(f"--jobs: {jobs} is not a number of processes (1 or more)")
        s = settings(db=db, profiles=profile, registry=registry, fail_on=fail_on, config=config)
        reg = registry_from(s)
        # the registry lives as long as this process: kept out of the cyclic collector's passes
        # (with everything else start-up made; the collector, paused by main() meanwhile, resumes),
        # and the scan's many short-lived containers collected in larger batches (a bounded
        # number of objects between passes: memory stays flat in the input's size)
        start_up_done(threshold=(50_000, 20, 20))
        reporter = reporter_for(fmt, output)
        check_output(output)
        if input_format and input_format not in source_names():
            raise ConfigError(f"--input-format: unknown format '{input_format}' (see 'banscan sources')")
        try:
            limits = Limits.load(s.limits)
        except ValueError as bad:
            raise ConfigError(f"{s.config_file or 'banscan.toml'}: {bad}") from None
        request = ScanRequest(inputs=tuple(inputs or ()), host=host, asset=asset, profiles=tuple(s.profiles),
                              as_of=parse_date(as_of), format=input_format, limits=limits,
                              keep_evidence=not no_store)
        progress = None
        if sys.stderr.isatty():
            from banscan.progress import RichProgress
            progress = RichProgress()
        from banscan.fast.malloc import keep_for

        keep_for(request.inputs)  # a large input's block buffers reused, not faulted in afresh
        try:
            result = run(request, reg, progress, jobs=jobs)
        finally:
            if progress is not None:
                progress.close()
        report: dict[str, Any] | None = None  # result.to_dict(), made once for the cache and the reporter
        if no_store and reporter.name == "json":
            # the JSON report alone: its dict is checked (one pass over plain dicts), and the
            # result scrubbed only where a string in it is not encodable, the report then made
            # from the scrubbed result (as every other way does)
            report = result.to_dict()
            if not all_encodable(report):
                result = scrub(result)
                report = result.to_dict()
        else:
            result = scrub(result)  # one encodable result for the store and the report
        if not no_store:
            from banscan.store import open_store

            with open_store(s.db) as store:
                # sets the findings' lifecycle statuses the report shows, and stores the report
                _scan_id, stored = store.record_report(result, reg)
            report = {k: v for k, v in stored.items() if k != "scan_id"}
            report["registry"] = dict(result.registry)
            save_last_report(report)
        for i in result.inputs:
            for e in i.errors:
                echo_err(f"banscan: {e}")
        with output_to(output) as out:
            reporter.write(result, reg, out, {"settings": s, "far": s.far, "report": report})
        code = exit_code(result, s.fail_on)
        raise typer.Exit(code)

    @app.command("sources", help="List the input formats banscan reads, and how each is recognised.")
    def sources(fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table") -> None:
        from banscan.sources import SOURCES

        rows: list[dict[str, Any]] = []
        for src in SOURCES:
            row: dict[str, Any] = {"name": src.name, "description": src.description,
                                   "documentation_url": src.documentation_url}
            tables = getattr(src, "tables", None)
            if tables:
                row["tables"] = list(tables)
            rows.append(row)
        if fmt == "json":
            json.dump({"sources": rows}, sys.stdout, indent=2)
            sys.stdout.write("\n")
            return
        from rich.console import Console
        from rich.table import Table

        t = Table("format", "what it reads", "specification")
        for r in rows:
            what = r["description"]
            if r.get("tables"):
                what += "\ntables: " + ", ".join(r["tables"])
            t.add_row(r["name"], what, r["documentation_url"])
        Console().print(t)

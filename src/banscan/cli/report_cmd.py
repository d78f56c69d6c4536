"""``banscan report``: render the stored latest scans in any report format."""

from __future__ import annotations

from typing import Annotated

import typer

from banscan import report as reports
from banscan.cli.common import (
    ConfigOpt,
    DbOpt,
    OutOpt,
    RegistryOpt,
    check_output,
    output_to,
    registry_from,
    reporter_for,
    settings,
)
from banscan.errors import StoreError
from banscan.textsafe import term


def register(app: typer.Typer) -> None:
    @app.command(
        "report",
        help=(
            "Write a report of the latest stored scan of each asset, with each finding's current "
            "status (open, planned, resolved, waived, false-positive).\n\n"
            "Formats: " + ", ".join(f"{n} ({d})" for n, d in reports.descriptions()) + "."
        ),
    )
    def report(
        fmt: Annotated[str | None, typer.Option("--format", "-f", help="Report format: " + ", ".join(reports.names()) + " (default: table on a terminal, json otherwise).")] = None,
        asset: Annotated[str | None, typer.Option("--asset", metavar="NAME", help="Only this asset.")] = None,
        output: OutOpt = None,
        registry: RegistryOpt = None,
        db: DbOpt = None,
        config: ConfigOpt = None,
    ) -> None:
        s = settings(db=db, registry=registry, config=config)
        reporter = reporter_for(fmt, output)
        check_output(output)
        reg = registry_from(s)
        from banscan.store import open_store

        with open_store(s.db) as store:
            latest = getattr(store, "latest_result", None)
            if latest is None:
                raise StoreError("this database version cannot assemble the latest scans yet "
                                 "(Store.latest_result is missing); use 'banscan scan' to write a report")
            result = latest(asset)
        if result is None or (not result.inputs and not result.detections):
            where = f" for asset '{term(asset)}'" if asset else ""
            raise StoreError(f"no scan recorded{where} in {s.db}; run 'banscan scan' first")
        with output_to(output) as out:
            reporter.write(result, reg, out, {"settings": s, "far": s.far})

"""``banscan spark-scan``: the scan on Apache Spark (needs the ``spark`` extra and Java 17)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from banscan.cli.common import ConfigOpt, ProfileOpt, RegistryOpt, registry_from, settings
from banscan.errors import ConfigError


def register(app: typer.Typer) -> None:
    @app.command(
        "spark-scan",
        help=(
            "Scan inventories and logs on Apache Spark and write DIR/detections.parquet, "
            "DIR/findings.parquet and DIR/report.json (the JSON report of 'banscan scan', with the "
            "same results). Inputs are files or directories the Spark executors can read; "
            "line-oriented logs are split into blocks across the cluster.\n\n"
            "Needs pyspark and pyarrow (pip install 'banscan[spark]') and a Java 17 runtime. "
            "Exit codes as 'banscan scan'."
        ),
    )
    def spark_scan_cmd(
        inputs: Annotated[list[str], typer.Argument(metavar="INPUT...", show_default=False)],
        output: Annotated[Path, typer.Option("--output", "-o", metavar="DIR", help="Directory for detections.parquet, findings.parquet and report.json.")],
        master: Annotated[str, typer.Option("--master", metavar="URL", help="Spark master URL.")] = "local[*]",
        profile: ProfileOpt = None,
        as_of: Annotated[str | None, typer.Option("--as-of", metavar="YYYY-MM-DD", help="Apply the law as it stood on this date (default: today).")] = None,
        asset: Annotated[str | None, typer.Option("--asset", metavar="NAME", help="Asset name for single-asset inputs.")] = None,
        fail_on: Annotated[str | None, typer.Option("--fail-on", metavar="LEVEL", help="advisory|report|do-not-procure|remove|prohibited: exit 1 when a finding is at or above LEVEL (default: remove).")] = None,
        registry: RegistryOpt = None,
        config: ConfigOpt = None,
    ) -> None:
        from banscan.cli.scan_cmd import exit_code, parse_date

        try:
            import pyarrow  # noqa: F401
            import pyspark  # noqa: F401
        except ImportError:
            raise ConfigError("spark-scan needs pyspark and pyarrow: pip install 'banscan[spark]'") from None
        s = settings(profiles=profile, registry=registry, fail_on=fail_on, config=config)
        reg = registry_from(s)
        day = parse_date(as_of)
        from banscan.fast.spark import spark_scan

        result = spark_scan(inputs, output, reg, master=master, profiles=tuple(s.profiles), as_of=day, asset=asset)
        for i in result.inputs:
            for e in i.errors:
                typer.echo(f"banscan: {e}", err=True)
        print(f"wrote {output / 'report.json'}, {output / 'detections.parquet'}, {output / 'findings.parquet'}",
              file=sys.stderr)
        raise typer.Exit(exit_code(result, s.fail_on))

"""The ``banscan`` command line.

Each command group lives in its own module and registers itself in ``COMMAND_MODULES``: the
only place to touch when adding one.  Errors are printed as one line per problem (exit 2);
``--debug`` shows tracebacks.
"""

from __future__ import annotations

import importlib
import sys

import click
import typer

from banscan.errors import BanscanError

app = typer.Typer(
    name="banscan",
    help=(
        "Find products of banned or restricted ICT vendors (Kaspersky, Huawei, ZTE, Hikvision, "
        "Dahua, Hytera, ByteDance/TikTok, DeepSeek, …) in your estate, see which government "
        "restrictions bind your organisation and by when, track their removal, and attest that "
        "they are gone.\n\nStart with 'banscan scan' (this machine) or 'banscan scan FILE…' "
        "(SBOMs, inventories, network logs)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

COMMAND_MODULES = (
    "banscan.cli.scan_cmd",
    "banscan.cli.registry_cmd",
    "banscan.cli.policy_cmd",
    "banscan.cli.store_cmd",
    "banscan.cli.report_cmd",
    "banscan.cli.serve_cmd",
)

_DEBUG = "--debug" in sys.argv


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors.")) -> None:
    """Root options."""


for _mod in COMMAND_MODULES:
    try:
        importlib.import_module(_mod).register(app)
    except ModuleNotFoundError as _e:  # a command group not written yet
        if _e.name != _mod:
            raise


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning errors into one-line messages and exit codes."""
    try:
        code = app(args=argv, standalone_mode=False)
    except BanscanError as e:
        for p in e.problems:
            typer.echo(f"banscan: error: {p}", err=True)
        if _DEBUG:
            raise
        sys.exit(e.exit_code)
    except click.exceptions.UsageError as e:
        e.show()
        sys.exit(2)
    except click.exceptions.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        typer.echo("banscan: aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo("banscan: interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)

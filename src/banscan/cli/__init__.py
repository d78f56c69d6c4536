"""The ``banscan`` command line.

Each command group lives in its own module and registers itself in ``COMMAND_MODULES``: the
only place to touch when adding one.  Errors are printed as one line per problem (exit 2);
``--debug`` shows tracebacks.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import sys
import traceback
from typing import Any

import typer

from banscan.errors import EXIT_INPUT, BanscanError
from banscan.textsafe import term, term_lines

_SETTINGS: dict[str, Any] = dict(
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
    "banscan.cli.user_cmd",
    "banscan.cli.spark_cmd",
)

app: typer.Typer  # every command: made when first used (see __getattr__), not at import


def _root(debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors.")) -> None:
    """Root options."""


@functools.cache
def _full_app() -> typer.Typer:
    full = typer.Typer(**_SETTINGS)
    full.callback()(_root)
    for mod in COMMAND_MODULES:
        try:
            importlib.import_module(mod).register(full)
        except ModuleNotFoundError as e:  # a command group not written yet
            if e.name != mod:
                raise
    return full


def __getattr__(name: str) -> typer.Typer:
    if name == "app":
        return _full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# commands run through an app holding only their module: typer inspects the parameters of every
# command it is given, which costs more than a small scan (same root options, help and errors),
# and the other commands' modules are not even imported
_ONE_COMMAND = {"scan": "banscan.cli.scan_cmd"}


def _app_for(args: list[str]) -> typer.Typer:
    module = _ONE_COMMAND.get(args[0]) if args else None
    if module is None:
        return _full_app()
    one = typer.Typer(**_SETTINGS)
    one.callback()(_root)
    importlib.import_module(module).register(one)
    return one


def _is(e: BaseException, name: str) -> bool:
    """``e`` is click's (or typer's vendored click's) exception class ``name``."""
    return any(c.__name__ in (name, name + "Error") and "click" in c.__module__ for c in type(e).__mro__)


def _usage_line(e: BaseException) -> str:
    msg = e.format_message() if hasattr(e, "format_message") else str(e)
    ctx = getattr(e, "ctx", None)
    path = getattr(ctx, "command_path", None) or "banscan"
    return f"banscan: error: {' '.join(msg.split())} (see '{path} --help')"


def _error_lines(e: BaseException) -> tuple[list[str], int]:
    """The one-line message(s) and exit code for an exception that ended a command."""
    if isinstance(e, BanscanError):
        return [f"banscan: error: {p}" for p in e.problems], e.exit_code
    if _is(e, "NoArgsIsHelp"):  # 'banscan' or a command group alone: the help, as click shows it
        return [e.format_message() if hasattr(e, "format_message") else str(e)], EXIT_INPUT
    if _is(e, "UsageError"):
        return [_usage_line(e)], EXIT_INPUT
    if _is(e, "Abort") or isinstance(e, KeyboardInterrupt):
        return ["banscan: interrupted"], 130
    if _is(e, "ClickException"):
        msg = e.format_message() if hasattr(e, "format_message") else str(e)
        return [f"banscan: error: {' '.join(msg.split())}"], EXIT_INPUT
    if isinstance(e, BrokenPipeError):
        return [], EXIT_INPUT
    if isinstance(e, MemoryError):
        return ["banscan: error: out of memory (an input, registry or bundle is too large)"], EXIT_INPUT
    if isinstance(e, RecursionError):
        return ["banscan: error: data nested too deeply to process"], EXIT_INPUT
    if isinstance(e, OSError):
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        return [f"banscan: error: {where}{e.strerror or e}"], EXIT_INPUT
    if type(e).__module__.split(".")[0] == "sqlalchemy":
        orig = getattr(e, "orig", None)
        detail = str(orig) if orig is not None else str(e).split("\n")[0]
        return [f"banscan: error: database: {' '.join(detail.split())} (check --db or BANSCAN_DB)"], EXIT_INPUT
    first = " ".join(str(e).split())[:500]
    return [f"banscan: error: internal error: {type(e).__name__}: {first} "
            "(run with --debug for the traceback)"], EXIT_INPUT


def _replace_unencodable() -> None:
    """Standard streams write U+FFFD-or-'?' instead of failing on a character they cannot encode."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(Exception):
                reconfigure(errors="replace")


def main(argv: list[str] | None = None) -> None:
    """Entry point: the one error boundary of the command line.

    Every usage, configuration, database, input and output error becomes one line on standard
    error and exit 2 (never a traceback, never exit 1: that means "restricted products found");
    ``--debug`` prints the traceback as well.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    _replace_unencodable()
    try:
        from banscan.cli.collector import paused_collector

        # scan calls start_up_done() once its registry is loaded: the collector resumes there
        with paused_collector(pause=args[:1] == ["scan"]):
            code = _app_for(args)(args=args, prog_name="banscan", standalone_mode=False)
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - the boundary: everything becomes one line
        if debug:
            traceback.print_exc()
        lines, code = _error_lines(e)
        if isinstance(e, BrokenPipeError):
            with contextlib.suppress(OSError):  # stdout is gone: do not fail again at exit
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        for line in lines:
            with contextlib.suppress(Exception):
                typer.echo(term_lines(line) if _is(e, "NoArgsIsHelp") else term(line), err=True)
    sys.exit(code if isinstance(code, int) else 0)


def entry() -> None:
    """The ``banscan`` command (and ``python -m banscan``): :func:`main`, then, after a scan, the
    process ends without the interpreter's teardown.  Tearing it down frees every object one by
    one (the compiled registry, the detections): about 0.03 s of a one-line scan and 0.05 s of a
    300,000-row one (bench/throughput.py's (b) log; medians of 12 alternated runs).  Only once the
    scan is over and nothing else runs: its outputs written and closed (the report, the store,
    whose connections are closed when it is), the exit handlers run, the standard streams
    flushed, no other thread and no child process alive; else the usual exit."""
    try:
        main()
        code: str | int | None = 0
    except SystemExit as e:
        code = e.code
    if sys.argv[1:2] == ["scan"] and isinstance(code, int) and _alone():
        import atexit

        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)
    sys.exit(code)


def _alone() -> bool:
    import threading

    if threading.active_count() > 1:
        return False
    mp = sys.modules.get("multiprocessing")
    return mp is None or not mp.active_children()

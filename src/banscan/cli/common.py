"""Options shared by every command, and helpers to load the registry and print JSON."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from banscan.config import Settings, load_settings
from banscan.errors import BanscanError
from banscan.registry import Registry, load
from banscan.textsafe import term, term_lines

RegistryOpt = Annotated[
    list[str] | None,
    typer.Option("--registry", metavar="FILE",
                 help="Overlay registry file (your own deny list, extra profiles); repeatable. "
                      "Also BANSCAN_REGISTRY."),
]
DbOpt = Annotated[str | None, typer.Option("--db", metavar="URL",
                                           help="Database: a SQLite file or postgresql://… URL. Also BANSCAN_DB.")]
ProfileOpt = Annotated[
    list[str] | None,
    typer.Option("--profile", "-p", metavar="NAME",
                 help="Organisation profile, e.g. us-federal-agency; repeatable. Also BANSCAN_PROFILE."),
]
ConfigOpt = Annotated[str | None, typer.Option("--config", metavar="FILE",
                                               help="Configuration file (default: ./banscan.toml).")]
FormatOpt = Annotated[str | None, typer.Option("--format", "-f", help="Output format.")]
OutOpt = Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write to FILE instead of stdout ('-': stdout).")]


def settings(db: str | None = None, profiles: list[str] | None = None, registry: list[str] | None = None,
             fail_on: str | None = None, config: str | None = None) -> Settings:
    return load_settings(db=db, profiles=profiles, registry=registry, fail_on=fail_on, config=config)


def registry_from(s: Settings) -> Registry:
    from banscan.fast.regcache import load_registry  # compiled once, cached by the inputs' sha256

    reg: Registry = load_registry(s.registry, loader=load)
    return reg


class OutputError(BanscanError):
    """The report or another output file cannot be written."""


def is_stdout(path: Path | None) -> bool:
    """No output file, or ``-``: standard output, as for most commands (not a file named "-")."""
    return path is None or str(path) == "-"


def check_output(path: Path | None, what: str = "-o") -> None:
    """Refuse an output path that can never be written, before any work is done."""
    if path is None or is_stdout(path):
        return
    if path.is_dir():
        raise OutputError(f"{what}: {term(path)}: is a directory (give the name of the file to write)")
    if path.exists() and path.is_file() and not os.access(path, os.W_OK):
        raise OutputError(f"{what}: {term(path)}: not writable")


@contextlib.contextmanager
def output_to(path: Path | None, what: str = "-o", mode: int | None = None) -> Iterator[TextIO]:
    """A text stream for ``path`` (stdout when None), written atomically: a temporary file beside
    the target, renamed over it only once everything is written, so a failed write never
    truncates or half-writes an existing file.  Devices and pipes (``/dev/null``, ``/dev/stdout``,
    a FIFO) are written directly.  Unencodable characters (lone surrogates) become U+FFFD/'?'.
    ``-`` is stdout too (:func:`is_stdout`)."""
    if path is None or is_stdout(path):
        yield sys.stdout
        try:
            sys.stdout.flush()
        except OSError as e:
            raise OutputError(f"standard output: cannot write: {e.strerror or e}") from None
        return
    check_output(path, what)
    target = Path(os.path.realpath(path))
    try:
        st = target.stat()
    except OSError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        try:
            with open(target, "w", encoding="utf-8", errors="replace", newline="") as fh:
                yield fh
        except OSError as e:
            raise OutputError(f"{what}: {term(path)}: cannot write: {e.strerror or e}") from None
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as e:
        raise OutputError(f"{what}: {term(path)}: cannot write: {e.strerror or e}") from None
    done = False
    try:
        try:
            with os.fdopen(fd, "w", encoding="utf-8", errors="replace", newline="") as fh:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
            if mode is None:
                umask = os.umask(0)
                os.umask(umask)
                mode = stat.S_IMODE(st.st_mode) if st is not None else (0o666 & ~umask)
            os.chmod(tmp, mode)
            os.replace(tmp, target)
            done = True
        except OSError as e:
            raise OutputError(f"{what}: {term(path)}: cannot write: {e.strerror or e}") from None
    finally:
        if not done:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def reporter_for(fmt: str | None, output: Path | None) -> Any:
    """The reporter for ``--format`` (default: table on a terminal, json otherwise), checked to be
    usable (its optional dependencies installed) before anything is scanned or written."""
    from banscan import report as reports

    fmt = fmt or ("table" if sys.stdout.isatty() and is_stdout(output) else "json")
    try:
        reporter = reports.by_name(fmt)
    except KeyError:
        raise BanscanError(f"--format: unknown format '{term(fmt)}' (choose from "
                           f"{', '.join(reports.names())})") from None
    check = getattr(reporter, "check_available", None)
    if check is not None:
        check()
    return reporter


def echo_err(message: object) -> None:
    """One line to standard error, control characters escaped."""
    typer.echo(term(message), err=True)


def echo(text: object) -> None:
    """Text for the terminal, control characters escaped (line breaks kept)."""
    typer.echo(term_lines(text))


def dump_json(obj: Any, registry: Registry | None, out: TextIO | None = None) -> None:
    """Every command's JSON names the registry version and sha256 it used."""
    if registry is not None and isinstance(obj, dict) and "registry" not in obj:
        obj = {"registry": registry.meta(), **obj}
    out = out or sys.stdout
    json.dump(obj, out, indent=2, ensure_ascii=False, default=str)
    out.write("\n")

"""Options shared by every command, and helpers to load the registry and print JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from banscan.config import Settings, load_settings
from banscan.registry import Registry, load

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
OutOpt = Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write to FILE instead of stdout.")]


def settings(db: str | None = None, profiles: list[str] | None = None, registry: list[str] | None = None,
             fail_on: str | None = None, config: str | None = None) -> Settings:
    return load_settings(db=db, profiles=profiles, registry=registry, fail_on=fail_on, config=config)


def registry_from(s: Settings) -> Registry:
    return load(s.registry)


def open_out(path: Path | None) -> TextIO:
    if path is None:
        return sys.stdout
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("w", encoding="utf-8", newline="")


def dump_json(obj: Any, registry: Registry | None, out: TextIO | None = None) -> None:
    """Every command's JSON names the registry version and sha256 it used."""
    if registry is not None and isinstance(obj, dict) and "registry" not in obj:
        obj = {"registry": registry.meta(), **obj}
    out = out or sys.stdout
    json.dump(obj, out, indent=2, ensure_ascii=False, default=str)
    out.write("\n")

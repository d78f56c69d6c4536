"""``banscan user``: local accounts of the web dashboard (``banscan serve``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from banscan.cli.common import ConfigOpt, DbOpt, settings
from banscan.errors import ConfigError

user_app = typer.Typer(name="user", help="Local accounts of the web dashboard (roles: viewer, decider, admin).",
                       no_args_is_help=True)


@user_app.command("add", help="Add a user (or change one with --replace); the password is read from a file.")
def user_add(
    name: Annotated[str, typer.Argument(metavar="NAME")],
    role: Annotated[str, typer.Option("--role", help="viewer, decider or admin.")],
    password_file: Annotated[Path, typer.Option("--password-file", help="File holding the password (first line).")],
    replace: Annotated[bool, typer.Option("--replace", help="Change an existing user's role and password.")] = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    from banscan.store import open_store
    from banscan.web.accounts import add_user

    try:
        lines = password_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"--password-file: {password_file}: cannot read: {getattr(e, 'strerror', None) or e}") \
            from None
    password = lines[0] if lines else ""
    with open_store(settings(db=db, config=config).db) as store:
        add_user(store.engine, name, role, password, replace=replace)
    typer.echo(f"user {name} ({role})")


@user_app.command("list", help="List users and their roles (never their passwords).")
def user_list(db: DbOpt = None, config: ConfigOpt = None) -> None:
    from banscan.store import open_store
    from banscan.web.accounts import list_users

    with open_store(settings(db=db, config=config).db) as store:
        typer.echo(json.dumps({"users": list_users(store.engine)}, indent=2))


def register(app: typer.Typer) -> None:
    app.add_typer(user_app)

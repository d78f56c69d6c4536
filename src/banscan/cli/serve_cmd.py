"""``banscan serve`` (the estate service) and ``banscan token create`` (its API tokens)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

import typer

from banscan.cli.common import (
    ConfigOpt,
    DbOpt,
    OutOpt,
    ProfileOpt,
    RegistryOpt,
    output_to,
    registry_from,
    settings,
)
from banscan.errors import ConfigError

token_app = typer.Typer(name="token", help="API tokens for 'banscan serve' (scopes: ingest, read, decide, admin).",
                        no_args_is_help=True)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_secret(path: Path) -> str:
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"--enroll-secret-file: {path}: cannot read: {getattr(e, 'strerror', None) or e}") from None
    if len(secret) < 16:
        raise ConfigError(f"--enroll-secret-file: {path}: the secret is shorter than 16 characters")
    return secret


@token_app.command("create", help="Create an API token and print it (only the token, on stdout; it is shown once).")
def token_create(
    name: Annotated[str, typer.Option("--name", help="Who or what uses the token (shown in the audit log).")],
    scopes: Annotated[str, typer.Option("--scopes", help="Comma-separated: ingest, read, decide, admin.")],
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    from banscan.serve.tokens import create_token, parse_scopes
    from banscan.store import open_store
    from banscan.store.core import default_actor

    sc = parse_scopes(scopes)
    with open_store(settings(db=db, config=config).db) as store:
        token = create_token(store.engine, name, sc, created_by=f"cli:{default_actor()}")
    typer.echo(token)


@token_app.command("list", help="List API tokens (names, scopes, dates; never the tokens).")
def token_list(db: DbOpt = None, config: ConfigOpt = None) -> None:
    import json

    from banscan.serve.tokens import list_tokens
    from banscan.store import open_store

    with open_store(settings(db=db, config=config).db) as store:
        rows = list_tokens(store.engine)
    typer.echo(json.dumps({"tokens": rows}, indent=2))


@token_app.command("revoke", help="Revoke an API token by its id (the part after 'bsn_' up to the next '_').")
def token_revoke(ident: Annotated[str, typer.Argument(metavar="ID")], db: DbOpt = None,
                 config: ConfigOpt = None) -> None:
    from banscan.serve.tokens import revoke_token
    from banscan.store import open_store
    from banscan.store.core import default_actor

    with open_store(settings(db=db, config=config).db) as store:
        if not revoke_token(store.engine, ident, f"cli:{default_actor()}"):
            raise ConfigError(f"no active token '{ident}' (see 'banscan token list')")
    typer.echo(f"revoked {ident}")


export_app = typer.Typer(name="export", help="Export the registry's product signatures for osquery packs and Fleet.",
                         no_args_is_help=True)


def _write(text: str, output: Path | None) -> None:
    with output_to(output) as out:
        out.write(text)


@export_app.command("osquery-pack", help=(
    "An osquery query pack (JSON) with one query per vendor family, platform and table, returning the "
    "installed software, extensions, processes, services, drivers and kernel modules that carry a product "
    "signature of the family. Generated from the registry (bundled plus --registry overlays)."))
def export_pack(
    interval: Annotated[int, typer.Option("--interval", min=10, help="Seconds between runs of each query.")] = 3600,
    output: OutOpt = None,
    registry: RegistryOpt = None,
    config: ConfigOpt = None,
) -> None:
    from banscan.serve.exports import osquery_pack_json

    _write(osquery_pack_json(registry_from(settings(registry=registry, config=config)), interval), output)


@export_app.command("fleet-policies", help=(
    "Fleet policies (YAML, Fleet's GitOps policies format): one per vendor family and platform, passing "
    "when no product of the family is installed. Generated from the registry."))
def export_fleet(
    output: OutOpt = None,
    registry: RegistryOpt = None,
    config: ConfigOpt = None,
) -> None:
    from banscan.serve.exports import fleet_policies_yaml

    _write(fleet_policies_yaml(registry_from(settings(registry=registry, config=config))), output)


def register(app: typer.Typer) -> None:
    app.add_typer(token_app)
    app.add_typer(export_app)

    @app.command("serve", help=(
        "Run the estate service: osquery nodes enroll and report their inventory, pipelines upload "
        "SBOMs and other inputs, findings are read and decided over an HTTP API (OpenAPI at "
        "/api/openapi.json), every decision goes into an append-only audit log.\n\n"
        "Binds 127.0.0.1:8000 by default. A non-loopback address needs --certfile and --keyfile "
        "(TLS) unless --insecure-http is given. Create API tokens with 'banscan token create'."))
    def serve(
        host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to bind.")] = 8000,
        certfile: Annotated[Path | None, typer.Option("--certfile", metavar="FILE", help="TLS certificate (PEM).")] = None,
        keyfile: Annotated[Path | None, typer.Option("--keyfile", metavar="FILE", help="TLS private key (PEM).")] = None,
        insecure_http: Annotated[bool, typer.Option("--insecure-http", help="Allow plain HTTP on a non-loopback address.")] = False,
        enroll_secret_file: Annotated[Path | None, typer.Option("--enroll-secret-file", metavar="FILE", help="osquery enroll secret (osquery's --enroll_secret_path); without it enrollment is off.")] = None,
        sso_header: Annotated[str | None, typer.Option("--sso-header", metavar="HEADER", help="Web single sign-on: the header in which a trusted reverse proxy names the logged-in user (e.g. X-Remote-User); believed only from --trusted-proxy addresses. An unknown user is created as a viewer.")] = None,
        trusted_proxy: Annotated[list[str] | None, typer.Option("--trusted-proxy", metavar="CIDR", help="Address or network (e.g. 127.0.0.1/32) of a reverse proxy whose --sso-header is believed; repeatable.")] = None,
        max_body_mb: Annotated[float, typer.Option("--max-body-mb", min=0.001, help="Largest request body accepted, in MiB.")] = 64.0,
        osquery_interval: Annotated[int, typer.Option("--osquery-interval", min=10, help="Seconds between runs of each scheduled osquery inventory query.")] = 3600,
        profile: ProfileOpt = None,
        registry: RegistryOpt = None,
        db: DbOpt = None,
        config: ConfigOpt = None,
    ) -> None:
        if (certfile is None) != (keyfile is None):
            raise ConfigError("--certfile and --keyfile go together")
        if certfile is None and not is_loopback(host) and not insecure_http:
            raise ConfigError(f"--host {host} is not a loopback address: give --certfile and --keyfile "
                              "(TLS), or --insecure-http to serve plain HTTP anyway")
        for f, flag in ((certfile, "--certfile"), (keyfile, "--keyfile")):
            if f is not None and not f.is_file():
                raise ConfigError(f"{flag}: {f}: no such file")
        proxies = _proxies(sso_header, trusted_proxy or [])
        s = settings(db=db, profiles=profile, registry=registry, config=config)
        reg = registry_from(s)
        import uvicorn

        from banscan.serve.app import create_app, default_extensions
        from banscan.serve.service import MIB, ServeConfig

        cfg = ServeConfig(db=s.db, profiles=list(s.profiles), registry=list(s.registry),
                          enroll_secret=read_secret(enroll_secret_file) if enroll_secret_file else None,
                          max_body_bytes=int(max_body_mb * MIB), fail_on=s.fail_on, far=dict(s.far),
                          osquery_interval=osquery_interval, sso_header=sso_header, trusted_proxies=proxies,
                          background_delay=5.0)
        app = create_app(cfg, registry=reg, extensions=default_extensions())
        scheme = "https" if certfile else "http"
        typer.echo(f"banscan serve: {scheme}://{host}:{port}/ (database {_redact(s.db)})", err=True)
        uvicorn.run(app, host=host, port=port, ssl_certfile=str(certfile) if certfile else None,
                    ssl_keyfile=str(keyfile) if keyfile else None, log_level="warning",
                    proxy_headers=False, server_header=False, timeout_graceful_shutdown=10, access_log=False)


def _proxies(header: str | None, proxies: list[str]) -> list[str]:
    """The --trusted-proxy networks, checked; --sso-header and --trusted-proxy go together."""
    import ipaddress
    import re

    if header is not None and not re.fullmatch(r"[A-Za-z0-9-]{1,100}", header):
        raise ConfigError(f"--sso-header: '{header}' is not an HTTP header name")
    if bool(header) != bool(proxies):
        raise ConfigError("--sso-header and --trusted-proxy go together (the header is believed only from the proxy)")
    out = []
    for p in proxies:
        try:
            out.append(str(ipaddress.ip_network(p.strip(), strict=False)))
        except ValueError:
            raise ConfigError(f"--trusted-proxy: '{p}' is not an IP address or network") from None
    return out


def _redact(url: str) -> str:
    from banscan.store.db import redact

    return redact(url)

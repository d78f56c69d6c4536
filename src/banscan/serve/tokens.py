"""API tokens with scopes, and osquery node keys.

A token reads ``bsn_<id>_<secret>``: ``id`` finds the row, ``secret`` (256 random bits) is
checked against ``sha256(salt + secret)`` with a per-token salt.  Tokens are high-entropy, so a
fast keyed hash is enough (a password hash would only slow every request).  A token is shown once,
when it is created; the database keeps only the salt and the digest.

osquery node keys are 256 random bits too; the database keeps their sha256 (looked up by digest).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from banscan.errors import ConfigError
from banscan.store import db
from banscan.store.service_tables import api_tokens

SCOPES = ("ingest", "read", "decide", "admin")
PREFIX = "bsn_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token (by name) with its scopes, or an osquery node."""

    name: str
    scopes: frozenset[str]
    token_id: str

    def has(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def parse_scopes(value: str) -> list[str]:
    scopes = [s.strip() for s in value.split(",") if s.strip()]
    if not scopes:
        raise ConfigError("--scopes: give at least one of " + ", ".join(SCOPES))
    bad = [s for s in scopes if s not in SCOPES]
    if bad:
        raise ConfigError(f"--scopes: unknown scope '{bad[0]}' (choose from {', '.join(SCOPES)})")
    return sorted(set(scopes), key=SCOPES.index)


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode("utf-8")).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def create_token(engine: Engine, name: str, scopes: list[str], created_by: str) -> str:
    """Create a token and return it (the only time it is seen)."""
    from banscan.serve.audit import append

    if not name.strip():
        raise ConfigError("--name: give the token a name")
    tid = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)

    def _tx(conn: Connection) -> None:
        conn.execute(api_tokens.insert().values(id=tid, name=name, salt=salt, hash=_digest(salt, secret),
                                                scopes=",".join(scopes), created_at=_now(), created_by=created_by))
        append(conn, actor=created_by, action="token-created", target=f"token:{tid}",
               new={"name": name, "scopes": scopes})

    db.write(engine, _tx)
    return f"{PREFIX}{tid}_{secret}"


def revoke_token(engine: Engine, tid: str, actor: str) -> bool:
    from banscan.serve.audit import append

    def _tx(conn: Connection) -> bool:
        r = conn.execute(select(api_tokens).where(api_tokens.c.id == tid)).first()
        if r is None or r.revoked_at:
            return False
        conn.execute(update(api_tokens).where(api_tokens.c.id == tid).values(revoked_at=_now()))
        append(conn, actor=actor, action="token-revoked", target=f"token:{tid}", old={"name": r.name})
        return True

    return db.write(engine, _tx)


def list_tokens(engine: Engine) -> list[dict[str, object]]:
    with db.reading(engine) as conn:
        rows = conn.execute(select(api_tokens).order_by(api_tokens.c.created_at)).all()
    return [{"id": r.id, "name": r.name, "scopes": r.scopes.split(","), "created_at": r.created_at,
             "created_by": r.created_by, "revoked_at": r.revoked_at} for r in rows]


class TokenVerifier:
    """Checks bearer tokens, caching the (small) token table for a few seconds."""

    TTL = 5.0

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cache: dict[str, tuple[float, tuple[str, str, str, str] | None]] = {}

    def _row(self, tid: str) -> tuple[str, str, str, str] | None:
        import time

        hit = self._cache.get(tid)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self.TTL:
            return hit[1]
        with db.reading(self.engine) as conn:
            r = conn.execute(select(api_tokens.c.name, api_tokens.c.salt, api_tokens.c.hash, api_tokens.c.scopes)
                             .where(api_tokens.c.id == tid, api_tokens.c.revoked_at.is_(None))).first()
        row = (r.name, r.salt, r.hash, r.scopes) if r is not None else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[tid] = (now, row)
        return row

    def verify(self, token: str) -> Principal | None:
        if not token.startswith(PREFIX) or len(token) > 200:
            return None
        tid, sep, secret = token[len(PREFIX):].partition("_")
        if not sep or not tid or not secret or not all(c in "0123456789abcdef" for c in tid):
            return None
        row = self._row(tid)
        if row is None:
            return None
        name, salt, digest, scopes = row
        if not hmac.compare_digest(_digest(salt, secret), digest):
            return None
        return Principal(name=name, scopes=frozenset(scopes.split(",")), token_id=tid)


def new_node_key() -> tuple[str, str]:
    """A fresh osquery node key and the digest the database keeps."""
    key = secrets.token_urlsafe(32)
    return key, node_key_digest(key)


def node_key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

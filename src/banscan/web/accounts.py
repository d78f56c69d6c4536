"""Local accounts of the web dashboard (argon2id password hashes) and server-side sessions.

A session is a random token in an HttpOnly cookie; the database keeps only its SHA-256, the user
and the session's CSRF token.  Roles: ``viewer`` reads, ``decider`` also records decisions on
findings, ``admin`` also manages users, tokens and attestations.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection, Engine

from banscan.errors import ConfigError
from banscan.store import db
from banscan.store.web_tables import web_sessions, web_users

ROLES = ("viewer", "decider", "admin")
SESSION_HOURS = 12
_hasher = PasswordHasher()
# verified when the user is unknown, so that a wrong name costs as much time as a wrong password
_DUMMY = _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class User:
    name: str
    role: str

    def can(self, action: str) -> bool:
        """``read``, ``decide`` or ``admin``."""
        need = {"read": 0, "decide": 1, "admin": 2}[action]
        return ROLES.index(self.role) >= need


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    token_hash: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


def _h(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(engine: Engine, name: str, role: str, password: str, *, replace: bool = False) -> None:
    if role not in ROLES:
        raise ConfigError(f"--role: unknown role '{role}' (choose from {', '.join(ROLES)})")
    if not name or len(name) > 200 or any(c.isspace() or not c.isprintable() for c in name):
        raise ConfigError("NAME: a user name is 1 to 200 printable characters without spaces")
    if len(password) < 8:
        raise ConfigError("--password-file: the password is shorter than 8 characters")
    hashed = _hasher.hash(password)

    def _tx(conn: Connection) -> None:
        exists = conn.execute(select(web_users.c.name).where(web_users.c.name == name)).first()
        if exists and not replace:
            raise ConfigError(f"user '{name}' exists (use --replace to change its role or password)")
        if exists:
            conn.execute(update(web_users).where(web_users.c.name == name)
                         .values(role=role, password_hash=hashed, disabled=0))
            conn.execute(delete(web_sessions).where(web_sessions.c.username == name))
        else:
            conn.execute(web_users.insert().values(name=name, role=role, password_hash=hashed,
                                                   created_at=_iso(_now()), disabled=0))
        from banscan.serve import audit

        audit.append(conn, actor="cli", action="user-replaced" if exists else "user-added", target=f"user:{name}",
                     new={"role": role})

    db.write(engine, _tx)


def list_users(engine: Engine) -> list[dict[str, Any]]:
    with db.reading(engine) as conn:
        rows = conn.execute(select(web_users.c.name, web_users.c.role, web_users.c.created_at,
                                   web_users.c.disabled).order_by(web_users.c.name)).all()
    return [{"name": r.name, "role": r.role, "created_at": r.created_at, "disabled": bool(r.disabled)} for r in rows]


def authenticate(engine: Engine, name: str, password: str) -> User | None:
    with db.reading(engine) as conn:
        r = conn.execute(select(web_users).where(web_users.c.name == name)).first()
    try:
        if r is None or r.disabled:
            _hasher.verify(_DUMMY, password)
            return None
        _hasher.verify(r.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return User(r.name, r.role)


def open_session(engine: Engine, user: User) -> str:
    """A new session for ``user``; returns the cookie's token."""
    token = secrets.token_urlsafe(32)
    now = _now()

    def _tx(conn: Connection) -> None:
        conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < _iso(now)))
        conn.execute(web_sessions.insert().values(
            id=_h(token), username=user.name, csrf=secrets.token_urlsafe(32), created_at=_iso(now),
            expires_at=_iso(now + dt.timedelta(hours=SESSION_HOURS))))

    db.write(engine, _tx)
    return token


def session(engine: Engine, token: str | None) -> Session | None:
    if not token or len(token) > 200:
        return None
    with db.reading(engine) as conn:
        r = conn.execute(select(web_sessions.c.id, web_sessions.c.csrf, web_sessions.c.expires_at,
                                web_users.c.name, web_users.c.role, web_users.c.disabled)
                         .join(web_users, web_users.c.name == web_sessions.c.username)
                         .where(web_sessions.c.id == _h(token))).first()
    if r is None or r.disabled or r.expires_at < _iso(_now()):
        return None
    return Session(User(r.name, r.role), r.csrf, r.id)


def close_session(engine: Engine, token_hash: str) -> None:
    db.write(engine, lambda conn: conn.execute(delete(web_sessions).where(web_sessions.c.id == token_hash)))

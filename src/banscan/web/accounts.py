"""Local accounts of the web dashboard (argon2id password hashes) and server-side sessions.

A session is a random token in an HttpOnly cookie; the database keeps only its SHA-256, the user
and the session's CSRF token.  Roles: ``viewer`` reads, ``decider`` also records decisions on
findings, ``admin`` also manages users, tokens and attestations.
"""

from __future__ import annotations

import datetime as dt
import functools
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


@functools.cache
def _dummy() -> str:
    """Verified when the user is unknown, so that a wrong name costs as much time as a wrong
    password; made at the first such login, not at import (an argon2 hash takes a good part of
    a second, which the service's start-up would otherwise spend)."""
    return _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class User:
    name: str
    role: str
    time_zone: str | None = None

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
    _check_name(name)
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
            _hasher.verify(_dummy(), password)
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
                                web_users.c.name, web_users.c.role, web_users.c.disabled, web_users.c.time_zone)
                         .join(web_users, web_users.c.name == web_sessions.c.username)
                         .where(web_sessions.c.id == _h(token))).first()
    if r is None or r.disabled or r.expires_at < _iso(_now()):
        return None
    return Session(User(r.name, r.role, r.time_zone), r.csrf, r.id)


def close_session(engine: Engine, token_hash: str) -> None:
    db.write(engine, lambda conn: conn.execute(delete(web_sessions).where(web_sessions.c.id == token_hash)))


# --------------------------------------------------------------------------- administration


def _check_name(name: str) -> None:
    if not name or len(name) > 200 or any(c.isspace() or not c.isprintable() for c in name):
        raise ConfigError("NAME: a user name is 1 to 200 printable characters without spaces")


def set_role(engine: Engine, name: str, role: str, actor: str) -> None:
    """Change a user's role (audited); the user's sessions end."""
    if role not in ROLES:
        raise ConfigError(f"role: unknown role '{role}' (choose from {', '.join(ROLES)})")

    def _tx(conn: Connection) -> None:
        r = conn.execute(select(web_users.c.role).where(web_users.c.name == name)).first()
        if r is None:
            raise ConfigError(f"no user '{name}'")
        if r.role == role:
            return
        conn.execute(update(web_users).where(web_users.c.name == name).values(role=role))
        conn.execute(delete(web_sessions).where(web_sessions.c.username == name))
        from banscan.serve import audit

        audit.append(conn, actor=actor, action="user-role-changed", target=f"user:{name}", old={"role": r.role},
                     new={"role": role})

    db.write(engine, _tx)


def set_disabled(engine: Engine, name: str, disabled: bool, actor: str) -> None:
    """Disable (its sessions end, it cannot log in) or enable a user (audited)."""

    def _tx(conn: Connection) -> None:
        r = conn.execute(select(web_users.c.disabled).where(web_users.c.name == name)).first()
        if r is None:
            raise ConfigError(f"no user '{name}'")
        if bool(r.disabled) == disabled:
            return
        conn.execute(update(web_users).where(web_users.c.name == name).values(disabled=int(disabled)))
        if disabled:
            conn.execute(delete(web_sessions).where(web_sessions.c.username == name))
        from banscan.serve import audit

        audit.append(conn, actor=actor, action="user-disabled" if disabled else "user-enabled",
                     target=f"user:{name}")

    db.write(engine, _tx)


def create_user(engine: Engine, name: str, role: str, password: str, actor: str) -> None:
    """A new local account made on the administration page (audited with the admin as actor)."""
    _check_name(name)
    if role not in ROLES:
        raise ConfigError(f"role: unknown role '{role}' (choose from {', '.join(ROLES)})")
    if len(password) < 8:
        raise ConfigError("password: shorter than 8 characters")
    hashed = _hasher.hash(password)

    def _tx(conn: Connection) -> None:
        if conn.execute(select(web_users.c.name).where(web_users.c.name == name)).first():
            raise ConfigError(f"user '{name}' exists")
        conn.execute(web_users.insert().values(name=name, role=role, password_hash=hashed,
                                               created_at=_iso(_now()), disabled=0))
        from banscan.serve import audit

        audit.append(conn, actor=actor, action="user-added", target=f"user:{name}", new={"role": role})

    db.write(engine, _tx)


def sso_user(engine: Engine, name: str) -> User | None:
    """The user a trusted proxy names: created as a viewer on first sight (with a password nobody
    knows, so only the proxy logs it in); None when disabled."""
    _check_name(name)
    with db.reading(engine) as conn:
        r = conn.execute(select(web_users.c.role, web_users.c.disabled, web_users.c.time_zone)
                         .where(web_users.c.name == name)).first()
    if r is not None:
        return None if r.disabled else User(name, r.role, r.time_zone)
    hashed = _hasher.hash(secrets.token_urlsafe(32))

    def _tx(conn: Connection) -> None:
        if conn.execute(select(web_users.c.name).where(web_users.c.name == name)).first():
            return
        conn.execute(web_users.insert().values(name=name, role="viewer", password_hash=hashed,
                                               created_at=_iso(_now()), disabled=0))
        from banscan.serve import audit

        audit.append(conn, actor="sso", action="user-added", target=f"user:{name}", new={"role": "viewer"})

    db.write(engine, _tx)
    return User(name, "viewer")


# --------------------------------------------------------------------------- visits and time zone

VISIT_GAP = dt.timedelta(minutes=30)  # a request after this long without one starts a new visit
_TOUCH_EVERY = 60.0  # seconds between writes of a user's last-visit time
_touched: dict[tuple[str, str], float] = {}


def touch_visit(engine: Engine, name: str) -> None:
    """Note that ``name`` read a page now.  When the previous request is older than VISIT_GAP, a new
    visit starts and what changed is counted from the end of the previous one."""
    import time

    mono = time.monotonic()
    key = (str(engine.url), name)
    if mono - _touched.get(key, -1e9) < _TOUCH_EVERY:
        return
    _touched[key] = mono
    now = _now()

    def _tx(conn: Connection) -> None:
        r = conn.execute(select(web_users.c.last_visit_at, web_users.c.visit_since)
                         .where(web_users.c.name == name)).first()
        if r is None:
            return
        values: dict[str, Any] = {"last_visit_at": _iso(now)}
        if r.last_visit_at is None or r.last_visit_at < _iso(now - VISIT_GAP):
            values["visit_since"] = r.last_visit_at or r.visit_since
        conn.execute(update(web_users).where(web_users.c.name == name).values(**values))

    db.write(engine, _tx)


def visit_since(engine: Engine, name: str) -> str | None:
    """When the user's previous visit ended (ISO UTC), or None before a second visit."""
    with db.reading(engine) as conn:
        r = conn.execute(select(web_users.c.visit_since).where(web_users.c.name == name)).first()
    return r.visit_since if r is not None else None


def set_time_zone(engine: Engine, name: str, zone: str | None) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"time zone: unknown zone '{zone}' (an IANA name such as Europe/Berlin)") from None
    db.write(engine, lambda conn: conn.execute(update(web_users).where(web_users.c.name == name)
                                               .values(time_zone=zone or None)))

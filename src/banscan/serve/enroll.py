"""osquery enroll secrets: the one given with ``--enroll-secret-file``, replaced by a secret rotated
on the dashboard's administration page.

A rotated secret is shown once; the database keeps its SHA-256 only.  The newest secret not retired
is the one nodes must present; once one exists, the file's secret is no longer accepted (rotating is
how an administrator revokes a leaked secret).  Rotations are audited, never the secret itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from banscan.store import db
from banscan.store.web_tables import enroll_secrets


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.strip().encode("utf-8", "surrogatepass")).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def current(engine: Engine) -> dict[str, Any] | None:
    """The rotated secret in force (its digest, when and by whom), or None."""
    with db.reading(engine) as conn:
        r = conn.execute(select(enroll_secrets).where(enroll_secrets.c.retired_at.is_(None))
                         .order_by(enroll_secrets.c.id.desc()).limit(1)).first()
    return None if r is None else {"id": r.id, "digest": r.digest, "created_at": r.created_at,
                                   "created_by": r.created_by}


def accepts(engine: Engine, configured: str | None, given: Any) -> bool:
    """Whether ``given`` is the enroll secret in force."""
    if not isinstance(given, str) or not given.strip():
        return False
    rotated = current(engine)
    if rotated is not None:
        return hmac.compare_digest(_digest(given), rotated["digest"])
    return bool(configured) and hmac.compare_digest(
        given.strip().encode("utf-8", "surrogatepass"), str(configured).encode("utf-8"))


def rotate(engine: Engine, actor: str) -> str:
    """A new enroll secret (returned: the only time it is seen); every earlier one is retired."""
    from banscan.serve.audit import append

    secret = secrets.token_urlsafe(32)
    now = _now()

    def _tx(conn: Connection) -> None:
        conn.execute(update(enroll_secrets).where(enroll_secrets.c.retired_at.is_(None)).values(retired_at=now))
        pk = conn.execute(enroll_secrets.insert().values(digest=_digest(secret), created_at=now,
                                                         created_by=actor)).inserted_primary_key
        append(conn, actor=actor, action="enroll-secret-rotated", target="osquery:enroll-secret",
               new={"id": int(pk[0]) if pk else None})

    db.write(engine, _tx)
    return secret

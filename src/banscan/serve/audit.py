"""The append-only audit log: who decided what, when, from what to what, and why.

Every decision taken through the service (a finding's status, owner, due date or waiver, a token
created or revoked, an evaluation that found deadlines passed, a registry update) appends one row.
Nothing updates or deletes rows: the database refuses it (triggers installed by the migration).
Decisions on findings go through :func:`decide`, which wraps the store's transition function.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from banscan.store import db
from banscan.store.service_tables import audit_log


def _j(v: Any) -> str | None:
    return None if v is None else json.dumps(v, sort_keys=True, ensure_ascii=False, default=str)


def append(conn: Connection, *, actor: str, action: str, target: str | None = None, old: Any = None,
           new: Any = None, reason: str | None = None, at: str | None = None, **detail: Any) -> None:
    """Append one audit row inside the caller's transaction."""
    conn.execute(audit_log.insert().values(
        at=at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), actor=actor, action=action,
        target=target, old=_j(old), new=_j(new), reason=reason,
        detail=_j({k: v for k, v in detail.items() if v is not None}) or "{}"))


def record(engine: Engine, **kw: Any) -> None:
    """Append one audit row in its own transaction."""
    db.write(engine, lambda conn: append(conn, **kw))


def entries(engine: Engine, *, target: str | None = None, action: str | None = None,
            after: int | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    q = select(audit_log).order_by(audit_log.c.id)
    if target:
        q = q.where(audit_log.c.target == target)
    if action:
        q = q.where(audit_log.c.action == action)
    if after is not None:
        q = q.where(audit_log.c.id > after)
    with db.reading(engine) as conn:
        rows = conn.execute(q.limit(limit)).all()
    return [{"id": r.id, "at": r.at, "actor": r.actor, "action": r.action, "target": r.target,
             "old": json.loads(r.old) if r.old else None, "new": json.loads(r.new) if r.new else None,
             "reason": r.reason, "detail": json.loads(r.detail) if r.detail else {}} for r in rows]


_DECISION_FIELDS = ("status", "owner", "due", "note", "reason", "approver", "waiver_expires")


def decide(store: Any, key: str, status: str, *, actor: str, reason: str | None = None,
           owner: str | None = None, due: dt.date | None = None, note: str | None = None,
           approver: str | None = None, expires: dt.date | None = None) -> dict[str, Any]:
    """Record a decision on a finding through the store's transition function, and audit it in
    the same transaction (either both are recorded or neither is).

    ``store`` is a :class:`~banscan.store.core.Store` acting as ``actor`` (its own finding event
    names the actor too).  Returns the finding after the decision.
    """
    def _audit(conn: Connection, before: dict[str, Any], after: dict[str, Any]) -> None:
        old = {k: before.get(k) for k in _DECISION_FIELDS}
        new = {k: after.get(k) for k in _DECISION_FIELDS}
        append(conn, actor=actor, action="finding-decision", target=key,
               old={k: v for k, v in old.items() if v is not None or new.get(k) is not None},
               new={k: v for k, v in new.items() if v is not None or old.get(k) is not None},
               reason=reason or note, asset=after.get("asset"), family=after.get("family"),
               restriction=after.get("restriction"))

    return dict(store.set_status(key, status, owner=owner, due=due, note=note, reason=reason,
                                 approver=approver, expires=expires, also=_audit))

"""Continuous evaluation: at startup and then daily, waivers past their expiry reopen and
findings whose deadline (or due date) has passed are recorded as overdue in the audit log, once
per finding and date.  The findings themselves read as overdue from the day after their deadline
(the store computes it on every read); the evaluation leaves the dated record of when it happened.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from banscan.serve import audit
from banscan.store import db
from banscan.store.service_tables import audit_log

SYSTEM_ACTOR = "banscan-serve"


def evaluate(svc: Any, actor: str = SYSTEM_ACTOR, check_registry: bool = True) -> dict[str, Any]:
    from banscan.serve.registry_update import reload_if_changed

    registry_update = reload_if_changed(svc, actor) if check_registry else None
    store = svc.store_as(actor)
    reopened = store.expire_waivers()
    today = svc.today()
    overdue = store.findings(overdue=True)
    with db.reading(store.engine) as conn:
        done = {(r.target, json.loads(r.detail or "{}").get("date"))
                for r in conn.execute(select(audit_log.c.target, audit_log.c.detail)
                                      .where(audit_log.c.action == "deadline-passed"))}
    new = []
    for f in overdue:
        when = min(d for d in (f["deadline"], f["due"]) if d and d < today.isoformat())
        if (f["id"], when) in done:
            continue
        new.append((f, when))

    def _tx(conn: Any) -> None:
        for f, when in new:
            audit.append(conn, actor=actor, action="deadline-passed", target=f["id"],
                         old={"overdue": False}, new={"overdue": True}, date=when, asset=f["asset"],
                         family=f["family"], restriction=f["restriction"], requirement=f["requirement"])
        audit.append(conn, actor=actor, action="evaluation", target=None, as_of=today.isoformat(),
                     waivers_expired=reopened, newly_overdue=len(new), overdue=len(overdue))

    db.write(store.engine, _tx)
    return {"as_of": today.isoformat(), "waivers_expired": reopened, "newly_overdue": [f["id"] for f, _ in new],
            "overdue": len(overdue), "registry_update": registry_update["summary"] if registry_update else None}

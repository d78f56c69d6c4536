"""What changed since the user's last visit: findings opened, resolved and reappeared (the store's
finding events), decisions on findings' status and owner (the audit log), registry updates (the
audit log of the service and the re-evaluation scans ``banscan registry update`` records)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from banscan.store import db
from banscan.store.service_tables import audit_log
from banscan.store.tables import finding_events, findings, scans

EVENTS = {"opened": "opened", "resolved": "resolved", "reopened": "reappeared"}
SHOWN = 10


def _j(v: Any) -> Any:
    try:
        return json.loads(v) if v else None
    except ValueError:
        return None


def since(engine: Any, when: str) -> dict[str, Any]:
    """Counts and the latest few of each kind of change after ``when`` (ISO UTC)."""
    with db.reading(engine) as conn:
        counts: dict[str, int] = dict(conn.execute(
            select(finding_events.c.event, func.count())
            .where(finding_events.c.at > when, finding_events.c.event.in_(list(EVENTS)))
            .group_by(finding_events.c.event)).all())
        latest: dict[str, list[dict[str, Any]]] = {}
        for event in EVENTS:
            rows = conn.execute(
                select(finding_events.c.finding_key, finding_events.c.at, findings.c.asset, findings.c.family,
                       findings.c.product, findings.c.restriction)
                .join(findings, findings.c.id == finding_events.c.finding_key)
                .where(finding_events.c.at > when, finding_events.c.event == event)
                .order_by(finding_events.c.id.desc()).limit(SHOWN)).all()
            latest[EVENTS[event]] = [{"id": r.finding_key, "at": r.at, "asset": r.asset, "family": r.family,
                                      "product": r.product or None, "restriction": r.restriction} for r in rows]
        n_decisions = conn.execute(select(func.count()).select_from(audit_log).where(
            audit_log.c.at > when, audit_log.c.action == "finding-decision")).scalar() or 0
        decisions = [{"at": r.at, "actor": r.actor, "target": r.target, "old": _j(r.old) or {},
                      "new": _j(r.new) or {}, "reason": r.reason}
                     for r in conn.execute(select(audit_log).where(
                         audit_log.c.at > when, audit_log.c.action == "finding-decision")
                         .order_by(audit_log.c.id.desc()).limit(SHOWN)).all()]
        updates = [{"at": r.at, "actor": r.actor, "from": (_j(r.old) or {}).get("version"),
                    "to": (_j(r.new) or {}).get("version"), "how": "service"}
                   for r in conn.execute(select(audit_log).where(
                       audit_log.c.at > when, audit_log.c.action == "registry-update")
                       .order_by(audit_log.c.id.desc())).all()]
        seen = {u["to"] for u in updates}
        for r in conn.execute(select(scans.c.recorded_at, scans.c.note, scans.c.registry_version).where(
                scans.c.recorded_at > when, scans.c.kind == "reevaluation",
                scans.c.note.like("registry update %")).order_by(scans.c.id.desc())).all():
            # 'banscan registry update' beside the service records re-evaluation scans, no audit row
            if r.registry_version not in seen:
                seen.add(r.registry_version)
                updates.append({"at": r.recorded_at, "actor": "cli", "from": None, "to": r.registry_version,
                                "how": r.note})
    for d in decisions:
        d["changes"] = {k: (d["old"].get(k), d["new"].get(k)) for k in ("status", "owner", "due", "waiver_expires")
                        if d["old"].get(k) != d["new"].get(k)}
    return {"since": when, "counts": {EVENTS[e]: int(counts.get(e, 0)) for e in EVENTS},
            "latest": latest, "decisions": {"count": int(n_decisions), "latest": decisions},
            "registry_updates": updates}

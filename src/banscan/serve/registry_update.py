"""Registry updates while serving: install a bundle (admin API) or notice that the active
registry changed (``banscan registry update`` run beside the service); either way the estate is
re-evaluated under the new registry, the scanner switches to it, and the audit log records what
changed (assets gaining and losing findings)."""

from __future__ import annotations

import logging
from typing import Any

from banscan.registry import Registry
from banscan.serve import audit

log = logging.getLogger("banscan.serve")


def apply_registry(svc: Any, new: Registry, actor: str, installed: dict[str, Any] | None = None) -> dict[str, Any]:
    from banscan.store.reeval import reevaluate

    old = svc.registry
    store = svc.store_as(actor)
    impact = reevaluate(store, new, store.today(), baseline_registry=old,
                        note=f"registry update {old.version} -> {new.version}")
    svc.set_registry(new)
    summary = {
        "assets_gaining": sorted(a["asset"] for a in impact.assets if a["gained"]),
        "assets_losing": sorted(a["asset"] for a in impact.assets if a["lost"]),
        "assets_changed": sorted(a["asset"] for a in impact.assets if a["changed"]),
        "evaluated_assets": impact.evaluated_assets,
        "recorded_scans": list(impact.recorded),
    }
    audit.record(store.engine, actor=actor, action="registry-update", target="registry",
                 old=old.meta(), new=new.meta(), **summary, installed=installed)
    return {"installed": installed, "impact": impact.to_dict(), "summary": summary}


def reload_if_changed(svc: Any, actor: str) -> dict[str, Any] | None:
    """Load the active registry; when it differs from the one in use, apply it."""
    from banscan.registry import load

    new = load(svc.config.registry)
    if new.meta()["sha256"] == svc.registry.meta()["sha256"]:
        return None
    log.warning("the active registry changed (%s -> %s): re-evaluating", svc.registry.version, new.version)
    return apply_registry(svc, new, actor)

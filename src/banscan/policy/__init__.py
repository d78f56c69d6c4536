"""Policy: detections x restrictions x profiles x as-of date -> findings.

(Placeholder: only the 'information' part is implemented until the policy engine lands.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from banscan.registry import Registry
    from banscan.registry.schema import Profile
    from banscan.scan import ScanResult


def apply(result: ScanResult, registry: Registry, profiles: list[Profile]) -> None:
    info = {}
    for d in result.detections:
        if d.family not in info:
            info[d.family] = [{"id": r.id, "jurisdiction": r.jurisdiction, "instrument": r.instrument,
                               "legal_force": r.legal_force.value, "adopted": r.adopted.isoformat(),
                               "citation": r.citation}
                              for r in registry.restrictions_naming(d.family)]
    result.information = info

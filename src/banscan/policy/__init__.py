"""Policy: detections x restrictions x profiles x as-of date -> findings.

``evaluate()`` is the pure engine (see :mod:`banscan.policy.engine` for the rules and the design:
one finding per obligation).  ``apply()`` is what :func:`banscan.scan.run` calls: it fills a
scan result's ``findings``, ``upcoming`` and ``information``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from banscan.policy.dates import (
    add_business_days,
    obligation_due,
    obligation_start,
    restriction_effective,
)
from banscan.policy.engine import (
    PolicyResult,
    binding_tags,
    covers,
    effective_relation,
    evaluate,
    information,
    restriction_status,
    restriction_summary,
)

if TYPE_CHECKING:
    from banscan.registry import Registry
    from banscan.registry.schema import Profile
    from banscan.scan import ScanResult

__all__ = [
    "apply",
    "evaluate",
    "information",
    "PolicyResult",
    "restriction_status",
    "restriction_summary",
    "binding_tags",
    "covers",
    "effective_relation",
    "add_business_days",
    "obligation_due",
    "obligation_start",
    "restriction_effective",
]


def apply(result: ScanResult, registry: Registry, profiles: Sequence[Profile],
          identified_on: dt.date | Mapping[str, dt.date] | None = None) -> None:
    """Fill ``result.findings``, ``result.upcoming`` and ``result.information`` for ``result.as_of``.

    Without a profile there are no findings; ``information`` always lists, for each detected family,
    the restrictions worldwide that name it.
    """
    if profiles:
        pr = evaluate(result.detections, registry, profiles, result.as_of, identified_on)
        result.findings = pr.findings
        result.upcoming = pr.upcoming
    else:
        result.findings = []
        result.upcoming = []
    result.information = information((d.family for d in result.detections), registry)

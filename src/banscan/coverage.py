"""Coverage: what the stored evidence can see of each asset, and what an attestation cannot claim.

For every asset the store knows (from any scan), coverage lists each evidence class it has
evidence of (:class:`banscan.model.EvidenceClass`: ``installed``, ``runtime``, ``sbom``,
``mobile``, ``network-device``, ``network-traffic``), the day of the newest scan that saw it, and
the inputs that scan read it from.

An asset with no *software inventory* (``installed``, ``sbom`` or ``mobile`` evidence) is a
**blind spot**: it is known only from the network (an ARP, DHCP or nmap record, DNS or TLS
traffic) or from running processes, so nothing can be said about the software on it.

An attestation of absence has a **gap** at an asset that is a blind spot, or whose newest
software inventory is older than the maximum age (``--max-age DAYS``, default 30) on the
statement's date.  A gap names the software-inventory classes the asset lacks (absent or stale)
and, for stale ones, the day they were last seen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

SOFTWARE_INVENTORY = ("installed", "mobile", "sbom")
DEFAULT_MAX_AGE = 30


def build(rows: Iterable[tuple[str, str, dt.date, int, list[list[str | None]]]]) -> list[dict[str, Any]]:
    """Coverage from (asset, evidence class, day of the scan, scan id, inputs [[path, format,
    sha256]]) rows.

    Returns ``[{"asset", "evidence": {class: "YYYY-MM-DD"}, "blind_spot", "inputs": {class:
    [{"scan", "path", "format", "sha256"}]}}]``, blind spots first, then by asset name.
    """
    newest: dict[str, dict[str, tuple[dt.date, int, list[list[str | None]]]]] = {}
    for asset, ec, day, scan_id, ins in rows:
        cur = newest.setdefault(asset, {}).get(ec)
        if cur is None or (day, scan_id) > (cur[0], cur[1]):
            newest[asset][ec] = (day, scan_id, ins)
    out = []
    for asset, classes in newest.items():
        out.append({
            "asset": asset,
            "evidence": {c: v[0].isoformat() for c, v in sorted(classes.items())},
            "blind_spot": not any(c in classes for c in SOFTWARE_INVENTORY),
            "inputs": {c: [{"scan": v[1], "path": i[0], "format": i[1], "sha256": i[2] if len(i) > 2 else None}
                           for i in v[2]]
                       for c, v in sorted(classes.items())},
        })
    out.sort(key=lambda a: (not a["blind_spot"], a["asset"]))
    return out


def public(coverage: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``banscan coverage --format json`` document: ``{"assets": [{"asset", "evidence",
    "blind_spot"}]}``."""
    return {"assets": [{"asset": a["asset"], "evidence": dict(a["evidence"]), "blind_spot": a["blind_spot"]}
                       for a in coverage]}


def gaps(coverage: list[dict[str, Any]], as_of: dt.date, max_age: int = DEFAULT_MAX_AGE) -> list[dict[str, Any]]:
    """The assets an attestation of absence on ``as_of`` cannot vouch for (see the module text)."""
    oldest_ok = as_of - dt.timedelta(days=max_age)
    out = []
    for a in coverage:
        soft = {c: dt.date.fromisoformat(d) for c, d in a["evidence"].items() if c in SOFTWARE_INVENTORY}
        if any(d >= oldest_ok for d in soft.values()):
            continue
        stale = {c: d.isoformat() for c, d in sorted(soft.items())}
        if not soft:
            reason = ("known only from " + ", ".join(sorted(a["evidence"])) + " evidence: no software inventory")
        else:
            reason = (f"newest software inventory {max(soft.values()).isoformat()} is older than {max_age} days "
                      f"on {as_of.isoformat()}")
        out.append({"asset": a["asset"], "lacks": list(SOFTWARE_INVENTORY), "stale": stale,
                    "evidence": dict(a["evidence"]), "reason": reason})
    return out


def describe(gap: dict[str, Any]) -> str:
    """One line naming a gap."""
    return f"{gap['asset']}: {gap['reason']} (lacks {', '.join(gap['lacks'])})"

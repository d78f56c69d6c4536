"""The signature-kind plug-ins, registered in one table.

Adding a kind: write its module here (``KINDS``, ``compile``, ``lookup``, ``anchors``; see
``banscan.match.base``), add its name to ``SignatureKind`` in ``registry/schema.py``, and add
the module to ``PLUGINS`` below.  Nothing else changes.
"""

from __future__ import annotations

from banscan.match.base import KindPlugin
from banscan.match.kinds import (
    bundle_id,
    domain,
    hostname,
    keys,
    namespace,
    organisation,
    package,
    path,
    purl,
    snmp_pen,
    text,
)

PLUGINS: list[KindPlugin] = [
    text,
    package,
    purl,
    bundle_id,
    keys,
    path,
    snmp_pen,
    domain,
    hostname,
    organisation,
    namespace,
]


def plugin_for(kind: str) -> KindPlugin | None:
    """The plug-in that handles signature kind ``kind``."""
    return next((p for p in PLUGINS if kind in p.KINDS), None)

"""Network tables of osquery results: ``arp_cache`` and ``interface_details``.

Format: https://osquery.io/schema/ (tables ``arp_cache``: address, mac, interface, permanent;
``interface_details``: interface, mac, type, ... and on Windows friendly_name, description,
manufacturer).  Not a source: the osquery reader (``banscan.sources.osquery``) calls
:func:`network_row` / :func:`network_observation` for rows of these two tables.

* ``arp_cache`` row -> one neighbour device: asset = its ``address``, fields ip, mac, interface;
  rows with an incomplete, broadcast or multicast MAC give None.
* ``interface_details`` row -> an interface of the osquery host itself: asset = the host the
  result belongs to, fields mac, name (interface), ``publisher`` (Windows ``manufacturer``),
  ``model`` (Windows ``description``, the adapter model); rows without a unicast MAC give None.

Both are kind ``device``, evidence class network-device.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from banscan.model import EvidenceClass, F
from banscan.sources.arp import is_unicast_mac, norm_mac

ARP_CACHE = "arp_cache"
INTERFACE_DETAILS = "interface_details"
NETWORK_TABLES = (ARP_CACHE, INTERFACE_DETAILS)


def table_of(table_columns: Collection[str]) -> str | None:
    """``arp_cache`` or ``interface_details`` when a row's columns are those of that table."""
    cols = set(table_columns)
    if {"address", "mac", "permanent"} <= cols or {"address", "mac", "interface"} <= cols and "type" not in cols:
        return ARP_CACHE
    if {"interface", "mac"} <= cols and ("type" in cols or "mtu" in cols or "flags" in cols
                                          or "friendly_name" in cols or "manufacturer" in cols):
        return INTERFACE_DETAILS
    return None


def _str(v: Any) -> str:
    return "" if v is None else str(v).strip()


def network_row(table_columns: Collection[str], row: Mapping[str, Any]) -> dict[str, str] | None:
    """Observation fields for an arp_cache / interface_details row, None for other tables or rows
    that carry no device evidence."""
    table = table_of(table_columns)
    if table is None:
        return None
    mac = norm_mac(_str(row.get("mac")))
    if not mac or not is_unicast_mac(mac):
        return None
    f: dict[str, str]
    if table == ARP_CACHE:
        f = {F.MAC: mac}
        ip = _str(row.get("address"))
        if ip:
            f[F.IP] = ip
        iface = _str(row.get("interface"))
        if iface:
            f["interface"] = iface
        return f
    f = {F.MAC: mac}
    name = _str(row.get("friendly_name")) or _str(row.get("interface"))
    if name:
        f[F.NAME] = name
    manu = _str(row.get("manufacturer"))
    if manu:
        f[F.PUBLISHER] = manu
    desc = _str(row.get("description"))
    if desc:
        f[F.MODEL] = desc
    return f


def network_observation(table_columns: Collection[str], row: Mapping[str, Any],
                        host_asset: str) -> tuple[str, str, dict[str, str], EvidenceClass] | None:
    """(kind, asset, fields, evidence class) for a network-table row, or None.

    ``host_asset`` is the asset the osquery reader uses for the host that produced the result;
    arp_cache neighbours are assets of their own (their IP address).
    """
    f = network_row(table_columns, row)
    if f is None:
        return None
    if table_of(table_columns) == ARP_CACHE:
        asset = f.get(F.IP) or f[F.MAC]
    else:
        asset = host_asset
    return "device", asset, f, EvidenceClass.NETWORK_DEVICE

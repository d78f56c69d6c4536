"""Input readers, one module per format.

``SOURCES`` is the only registration point: to add a format, write one module with a class
following :class:`banscan.sources.base.Source` and add one line here.  Order matters for
sniffing: more specific formats come first.
"""

from __future__ import annotations

from banscan.sources import (  # network evidence  # software inventories
    arp,
    cyclonedx_json,
    cyclonedx_xml,
    dhcp,
    dnslog,
    mdm_plist,
    nmap,
    osquery,
    pip_inspect,
    snmp,
    software_csv,
    spdx3_jsonld,
    spdx_json,
    spdx_tagvalue,
    winget,
    zeek,
)
from banscan.sources.base import HEAD_BYTES, ReadContext, Source, text_head

SOURCES: tuple[Source, ...] = (
    # software inventories (specific formats)
    cyclonedx_json.SOURCE,
    cyclonedx_xml.SOURCE,
    spdx_json.SOURCE,
    spdx3_jsonld.SOURCE,
    spdx_tagvalue.SOURCE,
    winget.SOURCE,
    pip_inspect.SOURCE,
    osquery.SOURCE,
    mdm_plist.SOURCE,
    # network evidence
    nmap.SOURCE,
    zeek.SOURCE,
    snmp.SNMPREC,
    snmp.SNMPWALK,
    dhcp.DHCPD,
    dhcp.DNSMASQ,
    dnslog.SOURCE,
    arp.SOURCE,
    # software inventories (generic: CSV with a recognised header)
    software_csv.SOURCE,
)


def by_name(name: str) -> Source:
    for s in SOURCES:
        if s.name == name:
            return s
    raise KeyError(name)


def detect(head: bytes, path: str) -> Source | None:
    """The first source whose ``sniff`` recognises ``head``."""
    for s in SOURCES:
        try:
            if s.sniff(head, path):
                return s
        except Exception:  # noqa: BLE001 - a sniffer that fails simply does not recognise the input
            continue
    return None


__all__ = ["SOURCES", "by_name", "detect", "ReadContext", "Source", "HEAD_BYTES", "text_head"]

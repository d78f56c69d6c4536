"""Input readers, one module per format.

``READERS`` is the only registration point: to add a format, write one module with a class
following :class:`banscan.sources.base.Source` and add one line there.  Order matters for
sniffing: more specific formats come first.

A reader's module is imported when it is first needed (``detect`` sniffs with it, ``by_name``
names it, or ``SOURCES`` is read), not when banscan starts: a short scan imports only the
readers it sniffs with.  A registration line may carry a cheap test that the input's head must
pass for the reader's ``sniff`` to accept it (e.g. a JSON document starts with ``{``); when the
test fails, ``detect`` goes on without importing the module.  Each such test is only a necessary
condition of the reader's own ``sniff``: it may skip a reader, never change which one is picked.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import NamedTuple

from banscan.sources.base import HEAD_BYTES, ReadContext, Source, text_head


def _json_object(t: str) -> bool:
    return t.lstrip().startswith("{")


def _json_object_or_array(t: str) -> bool:
    return t.lstrip().startswith(("{", "["))


def _xml(t: str) -> bool:
    return t.lstrip().startswith("<")


def _plist(t: str) -> bool:
    return "<plist" in t


def _spdx_tagvalue(t: str) -> bool:
    return "SPDXID:" in t


def _zeek(t: str) -> bool:
    return t.startswith("#separator ") or t.lstrip().startswith("{")


class Reader(NamedTuple):
    """One registration line: the source's ``name``, the module under ``banscan.sources`` that
    defines it and the module attribute holding it, and the cheap necessary test on the input's
    decoded head (:func:`text_head`) its ``sniff`` implies (None: always sniff)."""

    name: str
    module: str
    attribute: str = "SOURCE"
    head_test: Callable[[str], bool] | None = None

    def load(self) -> Source:
        source: Source = getattr(importlib.import_module(f"banscan.sources.{self.module}"), self.attribute)
        if source.name != self.name:
            raise RuntimeError(f"banscan.sources.{self.module}.{self.attribute} is '{source.name}', "
                               f"registered as '{self.name}'")
        return source


READERS: tuple[Reader, ...] = (
    # software inventories (specific formats)
    Reader("cyclonedx-json", "cyclonedx_json", head_test=_json_object),
    Reader("cyclonedx-xml", "cyclonedx_xml", head_test=_xml),
    Reader("spdx-json", "spdx_json", head_test=_json_object),
    Reader("spdx3-jsonld", "spdx3_jsonld", head_test=_json_object),
    Reader("spdx-tagvalue", "spdx_tagvalue", head_test=_spdx_tagvalue),
    Reader("winget-export", "winget", head_test=_json_object),
    Reader("pip-inspect", "pip_inspect", head_test=_json_object),
    Reader("osquery", "osquery", head_test=_json_object_or_array),
    Reader("mdm-installed-apps", "mdm_plist", head_test=_plist),
    # network evidence
    Reader("nmap", "nmap", head_test=_xml),
    Reader("zeek", "zeek", head_test=_zeek),
    Reader("snmprec", "snmp", "SNMPREC"),
    Reader("snmpwalk", "snmp", "SNMPWALK"),
    Reader("dhcpd-leases", "dhcp", "DHCPD"),
    Reader("dnsmasq-leases", "dhcp", "DNSMASQ"),
    Reader("dns-query-log", "dnslog"),
    Reader("arp", "arp"),
    # software inventories (generic: CSV with a recognised header)
    Reader("software-csv", "software_csv"),
)

SOURCES: tuple[Source, ...]  # every reader, in sniffing order (imports them all: see __getattr__)


def __getattr__(attr: str) -> tuple[Source, ...]:
    if attr == "SOURCES":
        sources = tuple(r.load() for r in READERS)
        globals()["SOURCES"] = sources
        return sources
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


def names() -> list[str]:
    """The names of every source, in sniffing order (imports no reader)."""
    return [r.name for r in READERS]


def by_name(name: str) -> Source:
    for r in READERS:
        if r.name == name:
            return r.load()
    raise KeyError(name)


def detect(head: bytes, path: str) -> Source | None:
    """The first source whose ``sniff`` recognises ``head``."""
    text = text_head(head)
    for r in READERS:
        if r.head_test is not None and not r.head_test(text):
            continue  # its sniff would say no: not imported for nothing
        s = r.load()
        try:
            if s.sniff(head, path):
                return s
        except Exception:  # noqa: BLE001 - a sniffer that fails simply does not recognise the input
            continue
    return None


__all__ = ["READERS", "SOURCES", "Reader", "by_name", "detect", "names", "ReadContext", "Source", "HEAD_BYTES", "text_head"]

"""ARP / neighbour tables as printed by ``ip neigh``, ``arp -a`` (Linux, BSD/macOS, Windows),
``arp -n`` and ``/proc/net/arp``.

Formats: ``ip neigh``: https://man7.org/linux/man-pages/man8/ip-neighbour.8.html;
``arp``: https://man7.org/linux/man-pages/man8/arp.8.html and
https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/arp

Each neighbour with a hardware address is one Observation (kind ``device``, evidence class
network-device) whose asset is the neighbour's IP address, with fields ip, mac (normalised to
lower-case ``aa:bb:cc:dd:ee:ff``), hostname (when ``arp -a`` resolved one) and ``interface``
(display only).  Incomplete entries and broadcast/multicast addresses are counted but carry no
evidence.  Locator ``line N``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import BinaryIO

import re2

from banscan.model import EvidenceClass, F, Observation, Problem
from banscan.sources.base import ReadContext, read_lines, text_head

_HEX = re.compile(r"[0-9a-fA-F]+")


def norm_mac(s: str) -> str | None:
    """``aa:bb:cc:dd:ee:ff`` from the usual spellings, or None if ``s`` is not a MAC address.

    Accepts ``:``/``-`` separated octets (also with leading zeros dropped, as macOS prints them),
    Cisco ``aabb.ccdd.eeff`` and bare 12-digit hex.
    """
    s = s.strip().strip('"')
    if not s:
        return None
    if "." in s and s.count(".") == 2 and ":" not in s:
        s = s.replace(".", "")
    if ":" in s or "-" in s:
        parts = re.split(r"[:-]", s)
        if len(parts) != 6 or not all(1 <= len(p) <= 2 and _HEX.fullmatch(p) for p in parts):
            return None
        return ":".join(p.lower().zfill(2) for p in parts)
    if len(s) == 12 and _HEX.fullmatch(s):
        s = s.lower()
        return ":".join(s[i:i + 2] for i in range(0, 12, 2))
    return None


def is_unicast_mac(mac: str) -> bool:
    """False for the all-zero, broadcast and multicast (group bit set) addresses."""
    if mac in ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"):
        return False
    return not (int(mac[:2], 16) & 1)


_IP = r"(?P<ip>[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+(?:%\w+)?)"
_MACRE = r"(?P<mac>[0-9A-Fa-f]{1,2}(?:[:-][0-9A-Fa-f]{1,2}){5}|[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4})"


class _Patterns:
    """The neighbour-table line patterns, compiled when an ARP table is first sniffed or read: an
    osquery scan imports this module for norm_mac and is_unicast_mac alone."""

    def __init__(self) -> None:
        # ip neigh: "192.168.1.1 dev eth0 lladdr aa:bb:cc:dd:ee:ff REACHABLE", "fe80::1 dev eth0 lladdr .. router STALE",
        #           "192.168.1.9 dev eth0  FAILED"
        self.IP_NEIGH = re2.compile(rf"^{_IP}\s+dev\s+(?P<iface>\S+)(?:\s+lladdr\s+{_MACRE})?(?:\s+\S+)*\s*$")
        # arp -a (Linux/BSD/macOS): "? (192.168.1.1) at aa:bb:cc:dd:ee:ff [ether] on eth0",
        #                           "host.lan (10.0.0.1) at <incomplete> on eth0"
        self.ARP_A = re2.compile(rf"^(?P<host>\S+)\s+\({_IP}\)\s+at\s+(?:{_MACRE}|<incomplete>|\(incomplete\))(?:\s+\[\w+\])?(?:\s+\S+)*?(?:\s+on\s+(?P<iface>\S+))?.*$")
        # Windows arp -a: "  192.168.1.1           aa-bb-cc-dd-ee-ff     dynamic"
        self.WIN_ROW = re2.compile(rf"^\s+{_IP}\s+{_MACRE}\s+(?P<type>dynamic|static|dynamique|statique|dynamisch|statisch|\w+)\s*$")
        self.WIN_IFACE = re2.compile(r"^\s*(?:Interface|Schnittstelle)\s*:\s*(?P<addr>\S+)\s+-+\s+(?P<idx>0x[0-9a-fA-F]+)")
        self.WIN_HEADER = re2.compile(r"^\s+(?:Internet Address|Internetadresse|Adresse Internet)\s+")
        # arp -n / /proc/net/arp: "192.168.1.1  ether  aa:bb:cc:dd:ee:ff  C  eth0",
        #                         "192.168.1.1  0x1  0x2  aa:bb:cc:dd:ee:ff  *  eth0"
        self.ARP_N = re2.compile(rf"^{_IP}\s+(?:ether|0x[0-9a-fA-F]+\s+0x[0-9a-fA-F]+|\(incomplete\))\s+(?:{_MACRE}\s+)?(?:\S+\s+)*?(?P<iface>\S+)\s*$")
        self.HEADERS = re2.compile(r"^(?:Address\s+HWtype|IP address\s+HW type)")

        self.lines = (self.IP_NEIGH, self.ARP_A, self.WIN_ROW, self.ARP_N)  # a neighbour line is one of these


@cache
def _rx() -> _Patterns:
    return _Patterns()


def _parse(line: str) -> tuple[str, str | None, str | None, str | None] | None:
    """(ip, mac, hostname, interface) of a neighbour line, or None when the line is not one."""
    for rx in _rx().lines:
        m = rx.match(line)
        if m:
            d = m.groupdict()
            host = d.get("host")
            if host in (None, "?"):
                host = None
            return d["ip"], d.get("mac"), host, d.get("iface")
    return None


class ArpSource:
    name = "arp"
    description = "ARP / neighbour tables: ip neigh, arp -a (Linux, BSD/macOS, Windows), arp -n, /proc/net/arp"
    documentation_url = "https://man7.org/linux/man-pages/man8/ip-neighbour.8.html"

    def sniff(self, head: bytes, path: str) -> bool:
        if b"\x00" in head[:4096]:
            return False
        lines = [ln for ln in text_head(head).splitlines()[:40] if ln.strip()]
        if not lines:
            return False
        if len(head) >= 65536 and len(lines) > 1:
            lines = lines[:-1]  # possibly cut
        hits = 0
        other = 0
        rx = _rx()
        for ln in lines:
            if _parse(ln):
                hits += 1
            elif rx.WIN_IFACE.match(ln) or rx.WIN_HEADER.match(ln) or rx.HEADERS.match(ln):
                continue
            else:
                other += 1
        return hits >= 1 and hits >= 2 * other

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Observation | Problem]:
        iface_ctx: str | None = None
        rx = _rx()
        for lineno, raw in read_lines(stream, ctx):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if lineno == 1 and line.startswith("\ufeff"):
                line = line[1:]
            if not line.strip():
                continue
            m = rx.WIN_IFACE.match(line)
            if m:
                iface_ctx = m.group("addr")
                continue
            if rx.WIN_HEADER.match(line) or rx.HEADERS.match(line):
                continue
            p = _parse(line)
            if p is None:
                yield Problem(ctx.loc(f"line {lineno}"), "not a neighbour-table line")
                continue
            ip, mac_s, host, iface = p
            mac = norm_mac(mac_s) if mac_s else None
            if not mac or not is_unicast_mac(mac):
                ctx.observations += 1
                continue
            f: dict[str, str] = {F.IP: ip, F.MAC: mac}
            if host:
                f[F.HOSTNAME] = host
            if iface or iface_ctx:
                f["interface"] = iface or iface_ctx or ""
            obs = Observation(kind="device", asset=ip, fields=f, source=ctx.loc(f"line {lineno}"),
                              evidence_class=EvidenceClass.NETWORK_DEVICE)
            ctx.seen(obs)
            yield obs


SOURCE = ArpSource()

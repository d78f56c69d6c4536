"""DHCP lease databases: ISC dhcpd ``dhcpd.leases`` (DHCPv4 and DHCPv6) and dnsmasq lease files.

Formats: https://kb.isc.org/docs/en/isc-dhcp-44-manual-pages-dhcpdleases (dhcpd.leases(5)) and
https://thekelleys.org.uk/dnsmasq/docs/dnsmasq-man.html (``--dhcp-leasefile``: one lease per
line, ``expiry MAC IP hostname client-id``, ``*`` for unknown; DHCPv6 lines after a
``duid`` line are ``expiry IAID IPv6 hostname client-duid``).

One Observation per lease (kind ``dhcp``, evidence class network-device), fields ip, mac,
hostname (``client-hostname`` / dnsmasq hostname), vendor_class (``vendor-class-identifier``,
either as a statement or as ``set vendor-class-identifier = "..."``) and, for DHCPv6, ``duid``
(display: the client DUID, from ``set clientduid`` or the IA's identifier).  The asset is the
host name, else the MAC, else the IP.  v6 ``ia-na``/``ia-ta``/``ia-pd`` blocks have no MAC and
yield one observation per ``iaaddr``/``iaprefix``.  dhcpd appends a new block each time a lease
changes: every block is reported (the store and reports deduplicate by asset).
Locator ``line N`` of the block's first line (of the line, for dnsmasq).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

import re2

from banscan.model import EvidenceClass, F, Observation, Problem
from banscan.sources.arp import norm_mac
from banscan.sources.base import ReadContext, read_lines, text_head

_V4_START = re2.compile(r"^\s*lease\s+(?P<ip>[0-9.]+)\s*\{")
_V6_START = re2.compile(r'^\s*(?P<kind>ia-na|ia-ta|ia-pd)\s+(?P<id>"(?:[^"\\]|\\.)*"|\S+)\s*\{')
_V6_ADDR = re2.compile(r"^\s*(?P<kind>iaaddr|iaprefix)\s+(?P<addr>[0-9A-Fa-f:./]+)\s*\{")
_HW = re2.compile(r"^\s*hardware\s+\S+\s+(?P<mac>[0-9A-Fa-f:]+)\s*;")
_HOST = re2.compile(r'^\s*client-hostname\s+"(?P<v>(?:[^"\\]|\\.)*)"\s*;')
_VCI = re2.compile(r'^\s*(?:set\s+vendor-class-identifier\s*=|vendor-class-identifier|option\s+vendor-class-identifier)\s*"(?P<v>(?:[^"\\]|\\.)*)"\s*;')
_DUID = re2.compile(r'^\s*set\s+clientduid\s*=\s*"(?P<v>[^"]*)"\s*;')
_DNSMASQ = re2.compile(
    r"^(?P<exp>\d+)\s+(?P<mac>[0-9A-Fa-f]{1,2}(?::[0-9A-Fa-f]{1,2}){5}|[0-9A-Fa-f:-]+|\d+)\s+"
    r"(?P<ip>[0-9.]+|[0-9A-Fa-f:]+)\s+(?P<host>\S+)\s+(?P<cid>\S+)\s*$"
)
_DNSMASQ_DUID = re2.compile(r"^duid\s+\S+\s*$")


def _unq(s: str) -> str:
    """dhcpd's quoted-string escapes (\\" and octal \\NNN) undone."""
    if "\\" not in s:
        return s
    return re.sub(r"\\([0-7]{3}|.)", lambda m: chr(int(m.group(1), 8)) if len(m.group(1)) == 3 else m.group(1), s)


class DhcpdLeasesSource:
    name = "dhcpd-leases"
    description = "ISC dhcpd lease database (dhcpd.leases, v4 and v6)"
    documentation_url = "https://kb.isc.org/docs/en/isc-dhcp-44-manual-pages-dhcpdleases"

    def sniff(self, head: bytes, path: str) -> bool:
        t = text_head(head)
        if "dhcpd.leases(5)" in t[:400] or "This lease file was written by isc-dhcp" in t[:400]:
            return True
        for ln in t.splitlines()[:50]:
            s = ln.strip()
            if not s or s.startswith("#"):
                continue
            if _V4_START.match(s) or _V6_START.match(s) or s.startswith(("server-duid ", "authoring-byte-order ")):
                return True
            return False
        return False

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Observation | Problem]:
        depth = 0
        block: dict | None = None  # v4 lease or v6 ia
        sub: dict | None = None  # v6 iaaddr
        v6_items: list[dict] = []
        for lineno, raw in read_lines(stream, ctx):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            # a block may close on the same line as content ("}lease ..."); one pass over the
            # leading braces (a line of many '}' must not cost a copy of the line per brace)
            i, n, unbalanced = 0, len(s), False
            while i < n and s[i] == "}":
                depth -= 1
                if depth == 0 and block is not None:
                    yield from self._emit(block, v6_items, ctx)
                    block, sub, v6_items = None, None, []
                elif depth == 1 and sub is not None:
                    v6_items.append(sub)
                    sub = None
                i += 1
                while i < n and s[i] in " \t":
                    i += 1
                if depth < 0:
                    unbalanced = True
                    depth = 0
            if unbalanced:
                yield Problem(ctx.loc(f"line {lineno}"), "unbalanced '}'")
            if i:
                s = s[i:]
            if not s:
                continue
            if depth == 0:
                m = _V4_START.match(s)
                if m:
                    block = {"v": 4, "ip": m.group("ip"), "line": lineno}
                    depth = 1
                    continue
                m = _V6_START.match(s)
                if m:
                    block = {"v": 6, "iaid": m.group("id").strip('"'), "line": lineno, "ia": m.group("kind")}
                    depth = 1
                    continue
                if s.endswith("{"):  # host / group / failover blocks: skip
                    depth = 1
                    block = None
                continue
            if depth == 1 and block is not None and block["v"] == 6:
                m = _V6_ADDR.match(s)
                if m:
                    sub = {"ip": m.group("addr"), "line": lineno}
                    depth = 2
                    continue
            tgt = sub if sub is not None else block
            if tgt is not None:
                m = _HW.match(s)
                if m:
                    tgt["mac"] = norm_mac(m.group("mac")) or m.group("mac").lower()
                m = _HOST.match(s)
                if m:
                    tgt["host"] = _unq(m.group("v"))
                m = _VCI.match(s)
                if m:
                    tgt["vci"] = _unq(m.group("v"))
                m = _DUID.match(s)
                if m:
                    tgt["duid"] = m.group("v")
            if s.endswith("{"):
                depth += 1
            elif s.endswith("}") and "{" in s:
                pass  # one-line block
            if s.endswith("}") and "{" not in s:
                depth -= 1
                if depth == 0 and block is not None:
                    yield from self._emit(block, v6_items, ctx)
                    block, sub, v6_items = None, None, []
                elif depth == 1 and sub is not None:
                    v6_items.append(sub)
                    sub = None
        if depth > 0 and block is not None:
            yield Problem(ctx.loc(f"line {block['line']}"), "lease block not closed at end of file (truncated?)")

    def _emit(self, block: dict, v6_items: list[dict], ctx: ReadContext) -> Iterator[Observation]:
        items = [block] if block["v"] == 4 else [dict(block, **it) for it in v6_items]
        for it in items:
            f: dict[str, str] = {}
            if it.get("ip"):
                f[F.IP] = it["ip"]
            if it.get("mac"):
                f[F.MAC] = it["mac"]
            if it.get("host"):
                f[F.HOSTNAME] = it["host"]
            if it.get("vci"):
                f[F.VENDOR_CLASS] = it["vci"]
            if block["v"] == 6:
                f["duid"] = it.get("duid") or it.get("iaid", "")
                f["ia"] = block["ia"]
            asset = f.get(F.HOSTNAME) or f.get(F.MAC) or f.get(F.IP) or ctx.asset
            obs = Observation(kind="dhcp", asset=asset, fields=f, source=ctx.loc(f"line {it['line']}"),
                              evidence_class=EvidenceClass.NETWORK_DEVICE)
            ctx.seen(obs)
            yield obs


class DnsmasqLeasesSource:
    name = "dnsmasq-leases"
    description = "dnsmasq DHCP lease file (expiry MAC IP hostname client-id)"
    documentation_url = "https://thekelleys.org.uk/dnsmasq/docs/dnsmasq-man.html"

    def sniff(self, head: bytes, path: str) -> bool:
        if b"\x00" in head[:4096]:
            return False
        lines = [ln for ln in text_head(head).splitlines()[:40] if ln.strip()]
        if len(head) >= 65536 and len(lines) > 1:
            lines = lines[:-1]
        if not lines:
            return False
        ok = 0
        for ln in lines:
            m = _DNSMASQ.match(ln.strip())
            if m and (norm_mac(m.group("mac")) or ":" in m.group("ip")):
                ok += 1
            elif not _DNSMASQ_DUID.match(ln.strip()):
                return False
        return ok >= 1

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Observation | Problem]:
        for lineno, raw in read_lines(stream, ctx):
            s = raw.decode("utf-8", "replace").strip()
            if lineno == 1:
                s = s.lstrip("\ufeff")
            if not s or _DNSMASQ_DUID.match(s):
                continue
            m = _DNSMASQ.match(s)
            if not m:
                yield Problem(ctx.loc(f"line {lineno}"), "not a dnsmasq lease line")
                continue
            f: dict[str, str] = {F.IP: m.group("ip")}
            mac = norm_mac(m.group("mac"))
            if mac:
                f[F.MAC] = mac
            elif ":" in m.group("ip"):
                f["iaid"] = m.group("mac")
            host = m.group("host")
            if host != "*":
                f[F.HOSTNAME] = host
            cid = m.group("cid")
            if cid != "*":
                f["client_id"] = cid
            asset = f.get(F.HOSTNAME) or f.get(F.MAC) or f[F.IP]
            obs = Observation(kind="dhcp", asset=asset, fields=f, source=ctx.loc(f"line {lineno}"),
                              evidence_class=EvidenceClass.NETWORK_DEVICE)
            ctx.seen(obs)
            yield obs


DHCPD = DhcpdLeasesSource()
DNSMASQ = DnsmasqLeasesSource()

"""DNS server query logs: BIND 9 query logging and dnsmasq ``log-queries``.

Formats: https://bind9.readthedocs.io/en/latest/reference.html#logging-categories (category
``queries``: ``client @0x7f.. 192.168.1.10#53012 (www.example.com): query: www.example.com IN A
+E(0)K (192.168.1.1)``, optionally preceded by a timestamp and ``queries: info:``; older
releases omit the ``@0x..`` and the parenthesised name) and
https://thekelleys.org.uk/dnsmasq/docs/dnsmasq-man.html (``--log-queries``: syslog lines
``dnsmasq[1234]: query[A] www.example.com from 192.168.1.10``).

One Observation per query (kind ``dns``, evidence class network-traffic): asset = the client IP,
field domain (trailing dot removed), ``qtype`` (display).  Other lines (dnsmasq ``forwarded``,
``reply``, ``cached``, BIND's other categories) are counted and ignored.  A query line that
``ctx.prefilter`` rules out is counted for its client with ``ctx.skipped``: the same count and
the same clients as with no prefilter.  Locator ``line N``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import re2

from banscan.model import EvidenceClass, F, Observation, Problem
from banscan.sources.base import ReadContext, read_lines, text_head

NT = EvidenceClass.NETWORK_TRAFFIC

BIND = re2.compile(
    r"client\s+(?:@0x[0-9a-fA-F]+\s+)?(?P<ip>[0-9A-Fa-f:.]+)#\d+(?:\s+\([^)]*\))?:\s+"
    r"(?:view\s+\S+:\s+)?query:\s+(?P<name>\S+)\s+(?P<class>\S+)\s+(?P<type>\S+)"
)
BIND_CLIENT = re2.compile(r"client\s+(?:@0x[0-9a-fA-F]+\s+)?(?P<ip>[0-9A-Fa-f:.]+)#")
DNSMASQ = re2.compile(r"dnsmasq(?:\[\d+\])?:\s+(?:\d+\s+)?(?:[0-9A-Fa-f:.]+/\d+\s+)?query\[(?P<type>[^\]]+)\]\s+(?P<name>\S+)\s+from\s+(?P<ip>[0-9A-Fa-f:.]+)")
DNSMASQ_ANY = re2.compile(r"dnsmasq(?:\[\d+\])?:\s")
# the patterns read() matches, for text and (the same patterns) for the bytes of an ASCII line;
# _query takes their groups by number
_TEXT = (BIND, DNSMASQ)
_ASCII = tuple(re2.compile(p.pattern.encode("ascii")) for p in _TEXT)


class DnsQueryLogSource:
    name = "dns-query-log"
    description = "BIND query log and dnsmasq log-queries lines"
    documentation_url = "https://bind9.readthedocs.io/en/latest/reference.html#logging-categories"

    def sniff(self, head: bytes, path: str) -> bool:
        if b"\x00" in head[:4096]:
            return False
        lines = [ln for ln in text_head(head).splitlines()[:60] if ln.strip()]
        if len(head) >= 65536 and len(lines) > 1:
            lines = lines[:-1]
        hits = sum(1 for ln in lines if BIND.search(ln) or DNSMASQ.search(ln))
        if hits == 0:
            return False
        ours = sum(1 for ln in lines if BIND_CLIENT.search(ln) or DNSMASQ_ANY.search(ln))
        return ours >= len(lines) * 0.5

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Observation | Problem]:
        prefilter = ctx.prefilter
        for lineno, raw in read_lines(stream, ctx):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line.strip():
                continue
            # an ASCII line is matched as bytes: the same patterns, and re2 matches bytes several
            # times faster than text (it measures text's offsets in characters)
            q = _query(raw.rstrip(b"\r\n"), _ASCII) if raw.isascii() else _query(line, _TEXT)
            if q is None:
                ctx.observations += 1
                continue
            ip, name, qtype = q
            name = name.rstrip(".")
            if not name or (prefilter is not None and not prefilter(line)):
                ctx.skipped(ip, NT)  # (what the prefilter rules out cannot match: only its client counts)
                continue
            obs = Observation(kind="dns", asset=ip, fields={F.DOMAIN: name, "qtype": qtype},
                              source=ctx.loc(f"line {lineno}"), evidence_class=NT)
            ctx.seen(obs)
            yield obs


def _query(text: str | bytes, patterns: tuple[Any, Any]) -> tuple[str, str, str] | None:
    """(client, name, type) of a query line, as text; None for any other line."""
    m = patterns[0].search(text)
    if m is not None:
        got = m.group(1, 2, 4)  # (ip, name, class, type)
    else:
        m = patterns[1].search(text)
        if m is None:
            return None
        qtype, name, ip = m.group(1, 2, 3)  # (type, name, ip)
        got = ip, name, qtype
    if isinstance(text, bytes):
        return got[0].decode("ascii"), got[1].decode("ascii"), got[2].decode("ascii")
    return got[0], got[1], got[2]


SOURCE = DnsQueryLogSource()

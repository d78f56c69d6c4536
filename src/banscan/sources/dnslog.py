"""DNS server query logs: BIND 9 query logging and dnsmasq ``log-queries``.

Formats: https://bind9.readthedocs.io/en/latest/reference.html#logging-categories (category
``queries``: ``client @0x7f.. 192.168.1.10#53012 (www.example.com): query: www.example.com IN A
+E(0)K (192.168.1.1)``, optionally preceded by a timestamp and ``queries: info:``; older
releases omit the ``@0x..`` and the parenthesised name) and
https://thekelleys.org.uk/dnsmasq/docs/dnsmasq-man.html (``--log-queries``: syslog lines
``dnsmasq[1234]: query[A] www.example.com from 192.168.1.10``).

One Observation per query (kind ``dns``, evidence class network-traffic): asset = the client IP,
field domain (trailing dot removed), ``qtype`` (display).  Other lines (dnsmasq ``forwarded``,
``reply``, ``cached``, BIND's other categories) are counted and ignored.  Every line is passed
through ``ctx.prefilter`` first; lines it rules out are counted for the client with
``ctx.skipped``.  Locator ``line N``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

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
DNSMASQ_FROM = re2.compile(r"\sfrom\s+(?P<ip>[0-9A-Fa-f:.]+)\s*$")


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
            if prefilter is not None and not prefilter(line):
                m = BIND_CLIENT.search(line) or DNSMASQ_FROM.search(line)
                if m and "query" in line:
                    ctx.skipped(m.group("ip"), NT)
                else:
                    ctx.observations += 1
                continue
            m = BIND.search(line)
            if m is None:
                m = DNSMASQ.search(line)
            if m is None:
                ctx.observations += 1
                continue
            name = m.group("name").rstrip(".")
            if not name:
                ctx.skipped(m.group("ip"), NT)
                continue
            obs = Observation(kind="dns", asset=m.group("ip"), fields={F.DOMAIN: name, "qtype": m.group("type")},
                              source=ctx.loc(f"line {lineno}"), evidence_class=NT)
            ctx.seen(obs)
            yield obs


SOURCE = DnsQueryLogSource()

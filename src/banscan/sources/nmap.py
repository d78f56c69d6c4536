"""nmap XML output (``-oX``), nmap 3.75 to 7.x (xmloutputversion 1.01-1.05).

Format: https://nmap.org/book/output-formats-xml-output.html (DTD: https://svn.nmap.org/nmap/docs/nmap.dtd)

Parsed with ``defusedxml.ElementTree.iterparse`` (DTD allowed, as nmap 7 writes
``<!DOCTYPE nmaprun>``; entity declarations and external references refused), one ``<host>`` at
a time; each host is cleared once read.

One Observation per host whose status is up (kind ``device``, evidence class network-device).
Hosts reported down are counted as read and give nothing.  The asset is the host's IP address
(IPv4, else IPv6), falling back to its MAC address and then its first host name: a scan names
the hosts it reached by address, and the host name (often a PTR record) is kept in ``hostname``.

Fields:

* ``ip``, ``mac`` (normalised ``aa:bb:cc:dd:ee:ff``), ``oui_vendor`` (the ``vendor`` attribute
  nmap prints for the MAC), ``hostname`` (first ``<hostname>``);
* ``banner``: ``<service product version extrainfo>`` of every open port, the ``banner``
  script, and the best ``<osmatch>`` name;
* ``http_server``: ``http-server-header`` script, ``Server:`` lines of ``http-headers``;
* ``http_title``: ``http-title`` script;
* ``www_authenticate``: ``WWW-Authenticate:`` lines of ``http-headers``, ``http-auth`` output;
* ``tls_subject_org`` / ``tls_subject_cn`` / ``tls_issuer_org``: ``ssl-cert`` (the ``subject`` /
  ``issuer`` tables when present, else the text output);
* ``sys_descr``: ``snmp-sysdescr`` (without the "System uptime" line);
* ``rtsp_server``: the product of RTSP services and ``Server:`` lines of ``rtsp-methods``;
* ``model`` / ``publisher``: ``upnp-info`` "Model Name" / "Manufacturer" (its "Server" goes to
  ``banner``).

When a host has several values for one field (several ports), the distinct values are joined
with `` | `` in the order met; each value stays intact as text.

Locator: ``/nmaprun/host[N]`` (N counts every ``<host>`` child of ``<nmaprun>``, 1-based).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC
from typing import Any, BinaryIO
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as DET
import re2

from banscan.model import EvidenceClass, F, FieldValue, Observation, Problem, field_values
from banscan.sources.arp import norm_mac
from banscan.sources.base import ReadContext, text_head
from banscan.sources.limits import LimitExceeded

_PROLOG = re2.compile(r"(?s)<\?.*?\?>|<!--.*?-->|<!DOCTYPE\s+[^\[>]*(?:\[.*?\]\s*)?>")
_SSL_TEXT = {
    "Subject": {"organizationName": F.TLS_SUBJECT_ORG, "commonName": F.TLS_SUBJECT_CN},
    "Issuer": {"organizationName": F.TLS_ISSUER_ORG},
}


class _Fields:
    def __init__(self) -> None:
        self.values: dict[str, list[str]] = {}

    def add(self, field: str, value: Any) -> None:
        if value is None:
            return
        v = str(value).strip()
        if not v:
            return
        lst = self.values.setdefault(field, [])
        if v not in lst:
            lst.append(v)

    def set_first(self, field: str, value: Any) -> None:
        if field not in self.values:
            self.add(field, value)

    def result(self) -> dict[str, FieldValue]:
        """One value as a string; several (every hostname, every Server header) as a tuple."""
        return {k: v[0] if len(v) == 1 else tuple(v) for k, v in self.values.items() if v}


def _elems(script: Element) -> dict[str, str]:
    """Top-level ``<elem key=..>`` values of a script (first of each key)."""
    out: dict[str, str] = {}
    for e in script.findall("elem"):
        k = e.get("key")
        if k and k not in out and e.text:
            out[k] = e.text
    return out


def _header_lines(text: str, name: str) -> list[str]:
    out = []
    pfx = name.lower() + ":"
    for ln in text.splitlines():
        s = ln.strip()
        if s.lower().startswith(pfx):
            out.append(s[len(pfx):].strip())
    return out


def _ssl_cert(script: Element, f: _Fields) -> None:
    got = False
    for t in script.findall("table"):
        key = t.get("key")
        if key not in ("subject", "issuer"):
            continue
        vals = _elems(t)
        if key == "subject":
            f.add(F.TLS_SUBJECT_ORG, vals.get("organizationName"))
            f.add(F.TLS_SUBJECT_CN, vals.get("commonName"))
        else:
            f.add(F.TLS_ISSUER_ORG, vals.get("organizationName"))
        got = True
    if got:
        return
    out = script.get("output") or ""
    for ln in out.splitlines():
        head, _, rest = ln.strip().partition(":")
        wanted = _SSL_TEXT.get(head)
        if not wanted:
            continue
        for part in rest.strip().split("/"):
            k, _, v = part.partition("=")
            fld = wanted.get(k.strip())
            if fld:
                f.add(fld, v)


def _script(script: Element, f: _Fields) -> None:
    sid = script.get("id") or ""
    out = script.get("output") or ""
    if sid == "http-server-header":
        vals = [e.text for e in script.iter("elem") if e.text]
        if not vals:
            vals = [ln.strip() for ln in out.splitlines() if ln.strip()]
        for v in vals:
            f.add(F.HTTP_SERVER, v[7:].strip() if v.lower().startswith("server:") else v)
    elif sid == "http-title":
        t = _elems(script).get("title")
        if t is None:
            first = out.strip().splitlines()[0] if out.strip() else ""
            if not first.startswith(("Site doesn't have a title", "Did not follow redirect")):
                t = first
        f.add(F.HTTP_TITLE, t)
    elif sid == "http-headers":
        for v in _header_lines(out, "Server"):
            f.add(F.HTTP_SERVER, v)
        for v in _header_lines(out, "WWW-Authenticate"):
            f.add(F.WWW_AUTH, v)
    elif sid == "http-auth":
        lines = [ln.strip() for ln in out.splitlines() if ln.strip()]
        for ln in lines:
            if not ln.upper().startswith("HTTP/"):
                f.add(F.WWW_AUTH, ln)
    elif sid == "ssl-cert":
        _ssl_cert(script, f)
    elif sid == "snmp-sysdescr":
        lines = [ln.strip() for ln in out.strip("\n").splitlines()
                 if ln.strip() and not ln.strip().startswith("System uptime:")]
        f.add(F.SYS_DESCR, "\n".join(lines))
    elif sid == "rtsp-methods":
        for v in _header_lines(out, "Server"):
            f.add(F.RTSP_SERVER, v)
    elif sid == "upnp-info":
        for ln in out.splitlines():
            k, sep, v = ln.strip().partition(":")
            if not sep:
                continue
            k = k.strip().lower()
            if k == "manufacturer":
                f.add(F.PUBLISHER, v)
            elif k in ("model name", "model descr", "model number"):
                f.add(F.MODEL, v)
            elif k == "server":
                f.add(F.BANNER, v)
    elif sid == "banner":
        f.add(F.BANNER, out.strip())


def _service(svc: Element, f: _Fields) -> None:
    parts = [svc.get("product"), svc.get("version")]
    extra = svc.get("extrainfo")
    text = " ".join(p.strip() for p in parts if p and p.strip())
    if extra and extra.strip():
        text = f"{text} ({extra.strip()})" if text else extra.strip()
    if not text:
        return
    f.add(F.BANNER, text)
    if (svc.get("name") or "").startswith("rtsp") and svc.get("product"):
        f.add(F.RTSP_SERVER, svc.get("product"))


def host_fields(host: Element) -> dict[str, FieldValue]:
    """The observation fields of one ``<host>`` element."""
    f = _Fields()
    for a in host.findall("address"):
        t = (a.get("addrtype") or "").lower()
        addr = a.get("addr")
        if t == "mac":
            f.set_first(F.MAC, norm_mac(addr or "") or addr)
            f.set_first(F.OUI_VENDOR, a.get("vendor"))
        elif t in ("ipv4", "ipv6"):
            if F.IP not in f.values or (t == "ipv4" and ":" in f.values[F.IP][0]):
                f.values[F.IP] = [addr] if addr else []
    hn = host.find("hostnames/hostname")
    if hn is not None:
        f.add(F.HOSTNAME, hn.get("name"))
    for port in host.findall("ports/port"):
        st = port.find("state")
        state = st.get("state") if st is not None else "open"
        if state not in ("open", "open|filtered"):
            continue
        svc = port.find("service")
        if svc is not None:
            _service(svc, f)
        for s in port.findall("script"):
            _script(s, f)
    for s in host.findall("hostscript/script"):
        _script(s, f)
    om = host.find("os/osmatch")
    if om is not None:
        f.add(F.BANNER, om.get("name"))
    return f.result()


class NmapSource:
    name = "nmap"
    description = "nmap XML output (-oX), nmap 3.75 to 7.x"
    documentation_url = "https://nmap.org/book/output-formats-xml-output.html"

    def sniff(self, head: bytes, path: str) -> bool:
        t = text_head(head).lstrip()
        if not t.startswith("<"):
            return False
        i = t.find("<nmaprun")
        if i < 0:
            return False
        # nothing but prolog (declaration, comments, PIs, doctype) before the root
        prolog = _PROLOG.sub("", t[:i])
        return not prolog.strip()

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Observation | Problem]:
        n = 0
        depth = 0
        root: Element | None = None
        try:
            for event, elem in DET.iterparse(stream, events=("start", "end"), forbid_dtd=False,
                                             forbid_entities=True, forbid_external=True):
                if event == "start":
                    depth += 1
                    if depth > ctx.limits.max_depth:
                        raise LimitExceeded("max_depth", ctx.limits.max_depth,
                                            f"XML nesting in /nmaprun/host[{n}]" if n else "XML nesting")
                    if depth == 1:
                        root = elem
                        if elem.tag != "nmaprun":
                            yield Problem(ctx.loc("/"), f"not nmap XML: root element <{elem.tag}>", fatal=True)
                            return
                        ver = elem.get("version") or ""
                        if ver and not re.match(r"^[3-7]\.", ver):
                            ctx.deviation(f"nmap version {ver} is outside 3.75-7.x; read as -oX")
                    elif depth == 2 and elem.tag == "host":
                        n += 1
                    continue
                depth -= 1
                if depth != 1 or elem.tag != "host":
                    continue
                loc = ctx.loc(f"/nmaprun/host[{n}]")
                status = elem.find("status")
                if status is not None and status.get("state") not in (None, "up"):
                    ctx.observations += 1
                else:
                    try:
                        fields = host_fields(elem)
                        when = _ts(elem.get("endtime") or elem.get("starttime"), ctx)
                    except Exception as exc:  # noqa: BLE001 - one bad host is skipped, the rest is read
                        ctx.record_error(loc.locator, f"{type(exc).__name__}: {exc}")
                        fields = None
                    ids = () if fields is None else (
                        field_values(fields.get(F.IP)) or field_values(fields.get(F.MAC))
                        or field_values(fields.get(F.HOSTNAME)))
                    if fields is None:
                        pass
                    elif not ids:
                        yield Problem(loc, "host without an address")
                    else:
                        asset = ids[0]
                        obs = Observation(kind="device", asset=asset, fields=fields, source=loc,
                                          evidence_class=EvidenceClass.NETWORK_DEVICE, observed_at=when)
                        ctx.seen(obs)
                        yield obs
                elem.clear()
                if root is not None:
                    root.clear()
        except ParseError as e:
            line, col = getattr(e, "position", (0, 0))
            yield Problem(ctx.loc(f"line {line}, column {col}"),
                          f"nmap XML is not well-formed or is truncated (line {line}, column {col}): {e}",
                          fatal=True)
        except defusedxml.DefusedXmlException as e:
            yield Problem(ctx.loc(f"/nmaprun/host[{n}]" if n else "/"),
                          f"refused: {type(e).__name__} ({e}); entity declarations and external references are not read",
                          fatal=True)


def _ts(v: str | None, ctx: ReadContext | None = None) -> str | None:
    if not v or not v.isascii() or not v.isdigit():
        return None
    from datetime import datetime

    try:
        return datetime.fromtimestamp(int(v[:20]), tz=UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        if ctx is not None:
            ctx.deviation(f"host time {v[:40]!r} is not a valid Unix time; the host is read without it")
        return None


SOURCE = NmapSource()

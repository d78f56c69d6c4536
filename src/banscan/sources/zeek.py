"""Zeek (formerly Bro) logs, TSV and JSON lines.

Format: https://docs.zeek.org/en/master/logs/index.html (log files and their fields) and
https://docs.zeek.org/en/master/scripts/base/frameworks/logging/writers/ascii.zeek.html
(the ASCII writer: ``#separator``/``#set_separator``/``#empty_field``/``#unset_field``/``#path``/
``#fields``/``#types`` header, ``\\xHH`` escapes, ``-`` for unset and ``(empty)`` for empty
containers; with ``LogAscii::use_json`` one JSON object per line, dotted field names).

Logs read and what they give (the asset is the host the evidence is about):

* ``dns``: ``query`` -> domain.  Asset ``id.orig_h`` (the client asking).  kind ``dns``.
* ``ssl``: ``server_name`` -> domain; the old (Bro 2.x) ``subject``/``issuer``/``issuer_subject``
  distinguished names -> tls_subject_org / tls_subject_cn / tls_issuer_org.  Asset ``id.orig_h``;
  the server address is kept as ``server_ip`` (display only).  kind ``tls``.
* ``http``: ``host`` (port removed) -> domain, a ``server`` column if a site script logs one ->
  http_server, ``user_agent`` -> banner.  The user agent describes the client software, and the
  asset is the client (``id.orig_h``), so it is evidence about that asset; it is kept as the
  literal string it is, whatever it contains.  kind ``http``.
* ``x509``: ``certificate.subject`` / ``certificate.issuer`` -> tls_subject_org, tls_subject_cn,
  tls_issuer_org; ``san.dns`` -> domain.  x509 records name no host, so the asset is
  ``ctx.asset`` (the sensor / log the certificate was seen by); the fingerprint (or the file id
  of older versions) is kept as ``fingerprint``.  Every distinct SAN name is one value of the
  observation's multi-valued ``domain`` field, each matchable on its own.
* ``software``: ``name`` -> name, ``unparsed_version`` -> banner (and http_server for
  ``HTTP::SERVER``), the version parts -> version.  Asset ``host``.  kind ``software``,
  evidence class network-traffic (it is inferred from traffic).  Values such as hostile
  shellshock user agents are kept as plain text.
* ``known_hosts``: ip-only device observations (asset = ``host``).
* ``known_devices``: ``mac``, ``dhcp_host_name``, ``vendor`` -> mac, hostname, oui_vendor.
* ``dhcp``: ``mac``, ``host_name``, ``client_fqdn``, ``assigned_addr``/``assigned_ip``,
  ``client_software`` (option 60 where the software policy script logs it) -> mac, hostname, ip,
  vendor_class.  Asset = host name, else MAC, else IP.  kind ``dhcp``.
* ``snmp``: ``display_string`` -> sys_descr, asset ``id.resp_h`` (the agent).  Records without a
  display string are counted as read for the agent.  kind ``snmp``.
* ``conn``: recognised and counted, but it carries nothing a signature can match and does not
  cover any asset's evidence (a conn.log scan cannot show that a host stopped resolving a
  domain), so it yields no observations.

DNS, SSL, HTTP, x509 and software records are passed through ``ctx.prefilter`` as raw lines
before they are parsed; records the prefilter rules out are counted with ``ctx.skipped`` and
are not validated any further.  Device records (MAC/OID evidence) are never prefiltered.

Locators are ``line N`` (1-based physical line).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, BinaryIO

from banscan.model import EvidenceClass, F, FieldValue, Observation, Problem
from banscan.sources.base import ReadContext, text_head
from banscan.sources.jsonline import loads
from banscan.sources.limits import bounded_lines

NT = EvidenceClass.NETWORK_TRAFFIC
ND = EvidenceClass.NETWORK_DEVICE

_KNOWN_PATHS = ("dns", "ssl", "http", "x509", "software", "known_hosts", "known_devices",
                "dhcp", "snmp", "conn")
_PREFILTERED = frozenset({"dns", "ssl", "http", "x509", "software"})
# the column holding the asset when a record is skipped without being parsed
_ASSET_COLUMN = {"dns": "id.orig_h", "ssl": "id.orig_h", "http": "id.orig_h", "software": "host"}

# the columns each handler reads (records are built from these only)
_NEEDED = {
    "dns": {"ts", "id.orig_h", "query", "answers"},
    "ssl": {"ts", "id.orig_h", "id.resp_h", "server_name", "subject", "issuer", "issuer_subject"},
    "http": {"ts", "id.orig_h", "id.resp_h", "host", "server", "user_agent"},
    "conn": set(),
}

_ESC = re.compile(rb"\\(x[0-9a-fA-F]{2}|\\)")


def _unescape_bytes(b: bytes) -> bytes:
    if b"\\" not in b:
        return b
    return _ESC.sub(lambda m: b"\\" if m.group(1) == b"\\" else bytes([int(m.group(1)[1:], 16)]), b)


def _unescape(s: str) -> str:
    """Undo the ASCII writer's escapes (``\\xHH`` for a byte, ``\\\\`` for a backslash)."""
    if "\\" not in s:
        return s
    raw = _unescape_bytes(s.encode("utf-8", "surrogateescape"))
    return raw.decode("utf-8", "replace")


def _iso(ts: Any) -> str | None:
    if ts is None or ts == "":
        return None
    if isinstance(ts, str):
        if "T" in ts:
            return ts
        try:
            ts = float(ts)
        except ValueError:
            return None
    try:
        return datetime.fromtimestamp(float(ts), tz=UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError, TypeError):
        return None


# ---------------------------------------------------------------------------------------------
# distinguished names ("CN=x,O=Acme\, Inc.,C=US")


def dn_parts(dn: str) -> dict[str, str]:
    """Attributes of an RFC 2253-style DN string (first value of each attribute)."""
    out: dict[str, str] = {}
    key = ""
    buf: list[str] = []
    in_key = True
    i = 0
    n = len(dn)
    while i < n:
        c = dn[i]
        if c == "\\" and i + 1 < n:
            (buf if not in_key else buf).append(dn[i + 1])
            i += 2
            continue
        if in_key and c == "=":
            key = "".join(buf).strip()
            buf = []
            in_key = False
        elif not in_key and c in ",+":
            out.setdefault(key.upper(), "".join(buf).strip())
            buf = []
            in_key = True
        else:
            buf.append(c)
        i += 1
    if not in_key and key:
        out.setdefault(key.upper(), "".join(buf).strip())
    return out


def _tls_from_dn(fields: dict[str, FieldValue], subject: str | None, issuer: str | None) -> None:
    if subject:
        p = dn_parts(subject)
        if p.get("O"):
            fields[F.TLS_SUBJECT_ORG] = p["O"]
        if p.get("CN"):
            fields[F.TLS_SUBJECT_CN] = p["CN"]
    if issuer:
        p = dn_parts(issuer)
        if p.get("O"):
            fields[F.TLS_ISSUER_ORG] = p["O"]


# ---------------------------------------------------------------------------------------------
# record handlers: (record, ctx) -> list of (kind, asset, fields, evidence class)

Rec = dict[str, Any]
Out = list[tuple[str, str, Mapping[str, FieldValue], EvidenceClass]]


def _s(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, list):
        return ",".join(str(x) for x in v) if v else None
    if isinstance(v, bool):
        return "T" if v else "F"
    s = str(v)
    return s if s else None


def _first(v: Any) -> str | None:
    if isinstance(v, list):
        return str(v[0]) if v else None
    return _s(v)


def _list(v: Any) -> list[str]:
    if v is None:
        return []
    if isinstance(v, list):
        return [str(x) for x in v if x not in (None, "")]
    return [str(v)] if v != "" else []


def _dns(r: Rec, ctx: ReadContext) -> Out:
    q = _s(r.get("query"))
    asset = _s(r.get("id.orig_h")) or ctx.asset
    if not q:
        return []
    f: dict[str, FieldValue] = {F.DOMAIN: q.rstrip(".")}
    ans = _list(r.get("answers"))
    if ans:
        f["answers"] = tuple(ans)
    return [("dns", asset, f, NT)]


def _ssl(r: Rec, ctx: ReadContext) -> Out:
    asset = _s(r.get("id.orig_h")) or ctx.asset
    f: dict[str, FieldValue] = {}
    sn = _s(r.get("server_name"))
    if sn:
        f[F.DOMAIN] = sn.rstrip(".")
    _tls_from_dn(f, _s(r.get("subject")), _s(r.get("issuer")) or _s(r.get("issuer_subject")))
    if not f:
        return []
    srv = _s(r.get("id.resp_h"))
    if srv:
        f["server_ip"] = srv
    return [("tls", asset, f, NT)]


def _http(r: Rec, ctx: ReadContext) -> Out:
    asset = _s(r.get("id.orig_h")) or ctx.asset
    f: dict[str, FieldValue] = {}
    host = _s(r.get("host"))
    if host:
        h = host.strip()
        if h.startswith("["):  # [v6]:port
            h = h[1:h.find("]")] if "]" in h else h
        elif h.count(":") == 1:
            h = h.split(":", 1)[0]
        f[F.DOMAIN] = h.rstrip(".")
    srv = _s(r.get("server"))
    if srv:
        f[F.HTTP_SERVER] = srv
    ua = _s(r.get("user_agent"))
    if ua:
        f[F.BANNER] = ua
    if not f:
        return []
    rh = _s(r.get("id.resp_h"))
    if rh:
        f["server_ip"] = rh
    return [("http", asset, f, NT)]


def _x509(r: Rec, ctx: ReadContext) -> Out:
    f: dict[str, FieldValue] = {}
    _tls_from_dn(f, _s(r.get("certificate.subject")), _s(r.get("certificate.issuer")))
    sans: list[str] = []
    for d in _list(r.get("san.dns")):
        d = d.rstrip(".")
        if d not in sans:
            sans.append(d)
    fp = _s(r.get("fingerprint")) or _s(r.get("id"))
    if sans:
        f[F.DOMAIN] = sans[0] if len(sans) == 1 else tuple(sans)
    if fp:
        f["fingerprint"] = fp
    return [("tls", ctx.asset, f, NT)] if f else []


def _software(r: Rec, ctx: ReadContext) -> Out:
    asset = _s(r.get("host")) or ctx.asset
    f: dict[str, str] = {}
    name = _s(r.get("name"))
    if name:
        f[F.NAME] = name
    unparsed = _s(r.get("unparsed_version"))
    if unparsed:
        f[F.BANNER] = unparsed
    parts = [_s(r.get(k)) for k in ("version.major", "version.minor", "version.minor2",
                                      "version.minor3")]
    ver = ".".join(p for p in _leading(parts))
    addl = _s(r.get("version.addl"))
    if ver:
        f[F.VERSION] = ver + ("-" + addl if addl else "")
    st = _s(r.get("software_type"))
    if st:
        f["software_type"] = st
        if st.endswith("::SERVER") and st.startswith("HTTP") and unparsed:
            f[F.HTTP_SERVER] = unparsed
    if not (name or unparsed):
        return []
    return [("software", asset, f, NT)]


def _leading(parts: list[str | None]) -> list[str]:
    out = []
    for p in parts:
        if p is None:
            break
        out.append(p)
    return out


def _known_hosts(r: Rec, ctx: ReadContext) -> Out:
    h = _s(r.get("host"))
    if not h:
        return []
    return [("device", h, {F.IP: h}, ND)]


def _known_devices(r: Rec, ctx: ReadContext) -> Out:
    from banscan.sources.arp import norm_mac

    f: dict[str, str] = {}
    mac = norm_mac(_s(r.get("mac")) or "")
    if mac:
        f[F.MAC] = mac
    hn = _s(r.get("dhcp_host_name")) or _s(r.get("host_name"))
    if hn:
        f[F.HOSTNAME] = hn
    v = _s(r.get("vendor")) or _s(r.get("oui_vendor"))
    if v:
        f[F.OUI_VENDOR] = v
    if not f:
        return []
    return [("device", hn or mac or ctx.asset, f, ND)]


def _dhcp(r: Rec, ctx: ReadContext) -> Out:
    from banscan.sources.arp import norm_mac

    f: dict[str, str] = {}
    mac = norm_mac(_s(r.get("mac")) or "")
    if mac:
        f[F.MAC] = mac
    hn = _s(r.get("host_name")) or _s(r.get("client_fqdn"))
    if hn:
        f[F.HOSTNAME] = hn
    fq = _s(r.get("client_fqdn"))
    if fq and fq != hn:
        f["client_fqdn"] = fq
    ip = (_s(r.get("assigned_addr")) or _s(r.get("assigned_ip")) or _s(r.get("client_addr"))
          or _s(r.get("requested_addr")))
    if ip:
        f[F.IP] = ip
    vc = _s(r.get("client_software")) or _s(r.get("vendor_class"))
    if vc:
        f[F.VENDOR_CLASS] = vc
    if not f:
        return []
    return [("dhcp", hn or mac or ip or ctx.asset, f, ND)]


def _snmp(r: Rec, ctx: ReadContext) -> Out:
    asset = _s(r.get("id.resp_h")) or ctx.asset
    d = _s(r.get("display_string"))
    if not d:
        ctx.skipped(asset, ND)
        return []
    return [("snmp", asset, {F.SYS_DESCR: d, F.IP: asset}, ND)]


def _conn(r: Rec, ctx: ReadContext) -> Out:
    ctx.observations += 1
    return []


HANDLERS: dict[str, Callable[[Rec, ReadContext], Out]] = {
    "dns": _dns, "ssl": _ssl, "http": _http, "x509": _x509, "software": _software,
    "known_hosts": _known_hosts, "known_devices": _known_devices, "dhcp": _dhcp,
    "snmp": _snmp, "conn": _conn,
}
_EVIDENCE = {"dns": NT, "ssl": NT, "http": NT, "x509": NT, "software": NT}


def log_kind(keys: set[str] | list[str], path: str | None = None) -> str | None:
    """Which Zeek log a record with these field names belongs to."""
    if path:
        p = path.strip()
        if p in _KNOWN_PATHS:
            return p
        if not keys:
            return None
    k = set(keys)
    conn_id = "id.orig_h" in k or "id" in k
    if "software_type" in k and "host" in k:
        return "software"
    if "certificate.subject" in k or ("certificate.version" in k and "certificate.serial" in k):
        return "x509"
    if conn_id and "query" in k and ("qtype" in k or "qtype_name" in k or "trans_id" in k):
        return "dns"
    if conn_id and ("server_name" in k or ("cipher" in k and "version" in k)):
        return "ssl"
    if conn_id and "method" in k and "uri" in k:
        return "http"
    if conn_id and "community" in k and ("display_string" in k or "get_requests" in k):
        return "snmp"
    if "mac" in k and ("assigned_ip" in k or "assigned_addr" in k or "msg_types" in k
                       or "lease_time" in k):
        return "dhcp"
    if "mac" in k and ("dhcp_host_name" in k or "vendor" in k) and not conn_id:
        return "known_devices"
    if conn_id and "conn_state" in k and "history" in k:
        return "conn"
    return None


# ---------------------------------------------------------------------------------------------


class ZeekSource:
    name = "zeek"
    description = "Zeek/Bro logs (TSV or JSON lines): dns, ssl, http, x509, software, known_hosts, known_devices, dhcp, snmp, conn"
    documentation_url = "https://docs.zeek.org/en/master/logs/index.html"

    def sniff(self, head: bytes, path: str) -> bool:
        t = text_head(head)
        if t.startswith("#separator "):
            return True
        line = t.lstrip().split("\n", 1)[0].strip()
        if not (line.startswith("{") and line.endswith("}")):
            return False
        try:
            rec = json.loads(line)
        except ValueError:
            return False
        if not isinstance(rec, dict):
            return False
        p = rec.get("_path")
        if isinstance(p, str) and "ts" in rec:
            return True
        return "ts" in rec and log_kind(_flat_keys(rec)) is not None

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Observation | Problem]:
        lines = bounded_lines(stream, ctx.limits)
        for lineno, raw in lines:
            if raw is None:
                ctx.long_line(lineno)
                continue
            if raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if raw.startswith(b"#"):
                yield from self._read_tsv(_chain(lineno, raw, lines), ctx)
            else:
                yield from self._read_json(_chain(lineno, raw, lines), ctx)
            return

    # -- TSV ----------------------------------------------------------------------------------

    def _read_tsv(self, lines: Iterator[tuple[int, bytes | None]],
                  ctx: ReadContext) -> Iterator[Observation | Problem]:
        sep = "\t"
        set_sep = ","
        empty = "(empty)"
        unset = "-"
        path: str | None = None
        fields: list[str] | None = None
        kind: str | None = None
        handler = None
        nf = 0
        asset_idx = -1
        prefilter = ctx.prefilter
        skipped = ctx.skipped
        vector_cols: set[int] = set()
        cols: list[tuple[int, str, bool]] | None = None
        warned_unknown = False

        for lineno, raw in lines:
            if raw is None:
                ctx.long_line(lineno)
                continue
            if raw.startswith(b"#"):
                h = raw.rstrip(b"\r\n").decode("utf-8", "replace")
                if "\x00" in h:
                    ctx.deviation(f"line {lineno}: NUL bytes in a header line were replaced with U+FFFD")
                    h = h.replace("\x00", "\ufffd")
                if h.startswith("#separator"):
                    v = h[len("#separator"):].strip() or "\\x09"
                    sep = _unescape(v) if v.startswith("\\x") else v
                    if not sep or sep in ("\r", "\n"):
                        ctx.deviation(f"#separator {v!r} cannot separate fields; a tab is used")
                        sep = "\t"
                    continue
                name, _, val = h[1:].partition(sep)
                cols = None
                if name == "set_separator":
                    set_sep = _unescape(val)
                    if not set_sep:
                        ctx.deviation("#set_separator is empty; each set is read as one value")
                elif name == "empty_field":
                    empty = val
                elif name == "unset_field":
                    unset = val
                elif name == "path":
                    path = val
                elif name == "fields":
                    fields = val.split(sep)
                    nf = len(fields)
                    kind = log_kind(fields, path) if path else log_kind(fields)
                    if kind is None and path is not None:
                        kind = log_kind(fields)
                    handler = HANDLERS.get(kind) if kind else None
                    col = _ASSET_COLUMN.get(kind or "")
                    asset_idx = fields.index(col) if col and col in fields else -1
                    if kind is None and not warned_unknown:
                        warned_unknown = True
                        ctx.deviation(f"Zeek log '{path or '?'}' carries no evidence banscan reads; records counted only")
                elif name == "types":
                    types = val.split(sep)
                    vector_cols = {i for i, t in enumerate(types)
                                   if t.startswith(("vector[", "set[", "table["))}
                continue
            if fields is None:
                if raw.strip():
                    ctx.record_error(f"line {lineno}", "Zeek TSV data line before the #fields header")
                continue
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                continue
            if handler is None:
                ctx.observations += 1
                continue
            # (a line of another width than the header's is read: its error is reported)
            if prefilter is not None and kind in _PREFILTERED and line.count(sep) == nf - 1 and not prefilter(line):
                if asset_idx >= 0:
                    parts = line.split(sep, asset_idx + 1)
                    a = parts[asset_idx] if len(parts) > asset_idx else ""
                    skipped(a if a and a != unset else ctx.asset, _EVIDENCE[kind])
                else:
                    skipped(ctx.asset, _EVIDENCE[kind])
                continue
            vals = line.split(sep)
            if len(vals) != nf:
                yield Problem(ctx.loc(f"line {lineno}"),
                              f"Zeek {kind} record has {len(vals)} fields, the header declares {nf}")
                continue
            rec: Rec = {}
            if cols is None:
                needed = _NEEDED.get(kind or "")
                cols = [(i, fields[i], i in vector_cols) for i in range(nf)
                        if needed is None or fields[i] in needed]
            for i, name_, is_vec in cols:
                v = vals[i]
                if v == unset:
                    continue
                if is_vec:
                    if v == empty:
                        rec[name_] = []
                    elif set_sep:
                        rec[name_] = [_unescape(x) for x in v.split(set_sep)]
                    else:
                        rec[name_] = [_unescape(v)]
                else:
                    if v == empty:
                        v = ""
                    rec[name_] = _unescape(v) if "\\" in v else v
            yield from self._emit_safe(kind or "", handler, rec, lineno, ctx)

    # -- JSON lines ---------------------------------------------------------------------------

    def _read_json(self, lines: Iterator[tuple[int, bytes | None]],
                   ctx: ReadContext) -> Iterator[Observation | Problem]:
        from banscan.fast.lines import zeek_json_line

        prefilter = ctx.prefilter
        kind_by_path: dict[str, str | None] = {}
        last_kind: str | None = (ctx.resume or {}).get(JSON_KIND)

        for lineno, raw in lines:
            if raw is None:
                ctx.long_line(lineno)
                continue
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            kind = _line_kind(line, last_kind, kind_by_path)
            if (prefilter is not None and kind in _PREFILTERED and last_kind == kind
                    and not prefilter(line)):
                # a record the prefilter rules out is counted for its asset without being parsed
                # when it is a compact flat object (banscan.fast.lines.zeek_json_line: the block
                # scanner counts the same lines); any other is read in full below
                col = _ASSET_COLUMN.get(kind)
                a = zeek_json_line(_line_bytes(raw), col.encode("ascii") if col else None)
                if a is not None:
                    ctx.skipped(a.decode("ascii") or ctx.asset, _EVIDENCE[kind])
                    continue
            rec = _json_record(line, lineno, ctx)
            if rec is None:
                continue
            if isinstance(rec, Problem):
                yield rec
                continue
            if kind is None:
                kind = _record_kind(rec)
            if kind is None:
                ctx.deviation("Zeek JSON records of an unread log type; counted only")
                ctx.observations += 1
                continue
            last_kind = kind
            yield from self._emit_safe(kind, HANDLERS[kind], rec, lineno, ctx)

    def _emit_safe(self, kind: str, handler: Callable[[Rec, ReadContext], Out], rec: Rec, lineno: int,
                   ctx: ReadContext) -> Iterator[Observation]:
        """One record's observations; a record that cannot be read is skipped and noted."""
        try:
            out = list(self._emit(kind, handler, rec, lineno, ctx))
        except Exception as exc:  # noqa: BLE001 - one bad record must not end the file
            ctx.record_error(f"line {lineno}", f"{type(exc).__name__}: {exc}")
            return
        yield from out

    def _emit(self, kind: str, handler: Callable[[Rec, ReadContext], Out], rec: Rec, lineno: int,
              ctx: ReadContext) -> Iterator[Observation]:
        out = handler(rec, ctx)
        if not out:
            if kind in _EVIDENCE:
                a = _s(rec.get(_ASSET_COLUMN.get(kind, ""))) or ctx.asset
                ctx.skipped(a, _EVIDENCE[kind])
            return
        at = _iso(rec.get("ts"))
        loc = ctx.loc(f"line {lineno}")
        for okind, asset, f, ec in out:
            obs = Observation(kind=okind, asset=asset, fields=f, source=loc, evidence_class=ec, observed_at=at)
            ctx.seen(obs)
            yield obs


def _chain(lineno: int, first: bytes,
           rest: Iterator[tuple[int, bytes | None]]) -> Iterator[tuple[int, bytes | None]]:
    yield lineno, first
    yield from rest  # a line generator: closing it leaves the stream open


# the key of ReadContext.resume holding the kind of the last Zeek JSON record read
JSON_KIND = "zeek-json-kind"


def _line_bytes(raw: bytes) -> bytes:
    """A line as the block scanner sees it: without its newline and trailing carriage returns."""
    return (raw[:-1] if raw.endswith(b"\n") else raw).rstrip(b"\r")


def _line_kind(line: str, last_kind: str | None, kind_by_path: dict[str, str | None]) -> str | None:
    """The kind a JSON line is taken for before it is parsed: its ``_path``'s, else the last
    record's."""
    pi = line.find('"_path":"')
    if pi < 0:
        return last_kind
    pe = line.find('"', pi + 9)
    p = line[pi + 9:pe]
    if p not in kind_by_path:
        kind_by_path[p] = log_kind([], p)
    return kind_by_path[p]


def _json_record(line: str, lineno: int, ctx: ReadContext) -> dict[str, Any] | Problem | None:
    """A JSON line's record, flattened; a Problem, or None (noted) when it is not one."""
    try:
        rec = loads(line)
    except (ValueError, RecursionError) as e:
        return Problem(ctx.loc(f"line {lineno}"), f"invalid JSON: {e}")
    if not isinstance(rec, dict):
        return Problem(ctx.loc(f"line {lineno}"), "JSON line is not an object")
    try:
        return _flatten(rec)
    except RecursionError:
        ctx.record_error(f"line {lineno}", "JSON record nested too deeply")
        return None


def _record_kind(rec: dict[str, Any]) -> str | None:
    pv = rec.get("_path")
    return log_kind([], pv) if isinstance(pv, str) else log_kind(set(rec))


def json_kind_after(raw: bytes, last_kind: str | None, kind_by_path: dict[str, str | None]) -> str | None:
    """The kind of the last record the JSON reader has read after line ``raw`` (without its
    newline, not longer than the max_line_bytes limit), given ``last_kind`` before it: what it
    would be with any prefilter or none (a line taken for the last record's kind leaves it as it
    is, parsed or not)."""
    line = raw.decode("utf-8", "replace").strip()
    if not line:
        return last_kind
    kind = _line_kind(line, last_kind, kind_by_path)
    if kind is not None and kind == last_kind:
        return last_kind
    scratch = ReadContext(path="", asset="")
    rec = _json_record(line, 0, scratch)
    if rec is None or isinstance(rec, Problem):
        return last_kind
    if kind is None:
        kind = _record_kind(rec)
    return kind if kind is not None else last_kind


def _flat_keys(rec: dict[str, Any]) -> set[str]:
    return set(_flatten(rec))


def _flatten(rec: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested JSON (``{"id": {"orig_h": ..}}``) to Zeek's dotted names; flat records pass through."""
    if not any(isinstance(v, dict) for v in rec.values()):
        return rec if not prefix else {prefix + k: v for k, v in rec.items()}
    out: dict[str, Any] = {}
    for k, v in rec.items():
        if isinstance(v, dict):
            out.update(_flatten(v, prefix + k + "."))
        else:
            out[prefix + k] = v
    return out


SOURCE = ZeekSource()

"""SNMP walks: Net-SNMP ``snmpwalk`` text output and snmpsim ``.snmprec`` recordings.

Formats: https://net-snmp.sourceforge.io/docs/man/snmpcmd.html (output options ``-On``,
``-ObentU``, symbolic ``MODULE::name.index = TYPE: value``) and
https://docs.lextudio.com/snmpsim/documentation/managing-simulation-data.html (``.snmprec``:
``OID|tag|value``, an ``x`` after the tag means the value is hex-encoded; tag 4 = OCTET STRING,
6 = OBJECT IDENTIFIER, 2 = INTEGER, 64 = IpAddress, 65/66/67/70 = counters, gauges, ticks).

One file is one agent.  Observations (asset = sysName, else ``ctx.asset``):

* one ``device`` observation (network-device) with sys_descr (1.3.6.1.2.1.1.1.0),
  sys_object_id (1.3.6.1.2.1.1.2.0, dotted numeric; ``SNMPv2-SMI::enterprises.N`` and ``iso.``
  forms are normalised to ``1.3.6.1.4.1.N``), hostname (sysName), the UPS-MIB identity
  (upsIdentManufacturer -> publisher, upsIdentModel -> model, upsIdentUPSSoftwareVersion ->
  version) and, for Hikvision's private MIB (1.3.6.1.4.1.39165.1: deviceType, softwVersion,
  macAddr, manufacturer), model / version / mac / publisher.  When the walk has no sysObjectID
  but answers under exactly one enterprise subtree ``1.3.6.1.4.1.N``, sys_object_id is that
  subtree (``sys_object_id_from`` = ``private-mib`` says so);
* one ``device`` observation per ENTITY-MIB entPhysicalTable row with a description,
  manufacturer, model or serial: name (entPhysicalDescr), publisher (entPhysicalMfgName), model
  (entPhysicalModelName), serial (entPhysicalSerialNum), version (entPhysicalSoftwareRev, else
  FirmwareRev), ``entity_name`` (display);
* one ``software`` observation (installed) per HOST-RESOURCES hrSWInstalledName;
* one ``process`` observation (runtime) per hrSWRunName, with hrSWRunPath as path.

ifDescr and the other tables are not evidence and are skipped.  Strings that are not UTF-8 are
read as Windows-1252 (a deviation is noted).  Multi-line string values continue on the lines
that follow until the next ``OID = `` line.  Locator ``line N`` (of the value's first line).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

import re2

from banscan.model import EvidenceClass, F, Observation, Problem
from banscan.sources.arp import norm_mac
from banscan.sources.base import ReadContext, read_lines, text_head

SYS = "1.3.6.1.2.1.1."
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
ENT = "1.3.6.1.2.1.47.1.1.1.1."
ENT_COLS = {"2": F.NAME, "7": "entity_name", "9": "firmware", "10": F.VERSION, "11": F.SERIAL,
            "12": F.PUBLISHER, "13": F.MODEL}
HR_SW_INSTALLED = "1.3.6.1.2.1.25.6.3.1.2."
HR_SW_RUN_NAME = "1.3.6.1.2.1.25.4.2.1.2."
HR_SW_RUN_PATH = "1.3.6.1.2.1.25.4.2.1.4."
ENTERPRISES = "1.3.6.1.4.1."
DEVICE_SCALARS = {
    "1.3.6.1.2.1.33.1.1.1.0": F.PUBLISHER,  # UPS-MIB upsIdentManufacturer
    "1.3.6.1.2.1.33.1.1.2.0": F.MODEL,  # upsIdentModel
    "1.3.6.1.2.1.33.1.1.3.0": F.VERSION,  # upsIdentUPSSoftwareVersion
    "1.3.6.1.4.1.39165.1.1.0": F.MODEL,  # HIK-DEVICE-MIB deviceType
    "1.3.6.1.4.1.39165.1.3.0": F.VERSION,  # softwVersion
    "1.3.6.1.4.1.39165.1.4.0": F.MAC,  # macAddr
    "1.3.6.1.4.1.39165.1.6.0": F.PUBLISHER,  # manufacturer
}

# symbolic names (any module) -> numeric OID prefix
SYMBOLS = {
    "sysDescr": "1.3.6.1.2.1.1.1", "sysObjectID": "1.3.6.1.2.1.1.2", "sysUpTime": "1.3.6.1.2.1.1.3",
    "sysUpTimeInstance": "1.3.6.1.2.1.1.3.0",
    "sysContact": "1.3.6.1.2.1.1.4", "sysName": "1.3.6.1.2.1.1.5", "sysLocation": "1.3.6.1.2.1.1.6",
    "entPhysicalDescr": ENT + "2", "entPhysicalName": ENT + "7", "entPhysicalHardwareRev": ENT + "8",
    "entPhysicalFirmwareRev": ENT + "9", "entPhysicalSoftwareRev": ENT + "10",
    "entPhysicalSerialNum": ENT + "11", "entPhysicalMfgName": ENT + "12", "entPhysicalModelName": ENT + "13",
    "hrSWInstalledName": HR_SW_INSTALLED[:-1], "hrSWRunName": HR_SW_RUN_NAME[:-1],
    "hrSWRunPath": HR_SW_RUN_PATH[:-1],
    "upsIdentManufacturer": "1.3.6.1.2.1.33.1.1.1", "upsIdentModel": "1.3.6.1.2.1.33.1.1.2",
    "upsIdentUPSSoftwareVersion": "1.3.6.1.2.1.33.1.1.3",
    "enterprises": "1.3.6.1.4.1", "mib-2": "1.3.6.1.2.1", "internet": "1.3.6.1", "iso": "1",
    "netSnmpAgentOIDs": "1.3.6.1.4.1.8072.3.2", "linux": "1.3.6.1.4.1.8072.3.2.10",
}

WALK_LINE = re2.compile(
    r"^(?P<oid>\.?[0-9]+(?:\.[0-9]+)+|iso(?:\.[0-9]+)+|[A-Za-z][\w-]*::[A-Za-z][\w-]*(?:\.[\w.\"-]*)?(?:\[[^\]]*\])*)"
    r"\s+=\s*(?P<rest>.*)$"
)
REC_LINE = re2.compile(r"^(?P<oid>\.?[0-9]+(?:\.[0-9]+)+)\|(?P<tag>[0-9]+[a-z]*(?::\w+)?)\|(?P<val>.*)$")
TYPED = re2.compile(r"^(?P<type>[A-Za-z][A-Za-z0-9 -]*?):\s?(?P<val>.*)$")


def norm_oid(s: str) -> str:
    """Dotted numeric form of an OID in numeric, ``iso.``, or ``MODULE::name.N`` spelling."""
    s = s.strip().strip('"')
    if s.startswith("."):
        s = s[1:]
    if "::" in s:
        s = s.split("::", 1)[1]
    head, dot, tail = s.partition(".")
    if head and not head.isdigit():
        base = SYMBOLS.get(head)
        if base is not None:
            s = base + (dot + tail if tail else "")
    return s


def _text(b: bytes, ctx: ReadContext) -> str:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        ctx.deviation("SNMP strings that are not UTF-8 were read as Windows-1252")
        return b.decode("cp1252", "replace")


def _hex_bytes(s: str) -> bytes | None:
    h = re.sub(r"[\s:]", "", s)
    if len(h) % 2 or not re.fullmatch(r"[0-9A-Fa-f]*", h):
        return None
    return bytes.fromhex(h)


def _walk_value(rest: str, ctx: ReadContext) -> tuple[str, str]:
    """(type, value) of the right-hand side of an snmpwalk line."""
    rest = rest.strip()
    if rest == '""':
        return "STRING", ""
    m = TYPED.match(rest)
    if not m:
        return "", rest
    t = m.group("type").strip()
    v = m.group("val")
    if t in ("STRING", "Opaque") and len(v) >= 2 and v.startswith('"') and v.endswith('"'):
        v = v[1:-1].replace('\\"', '"')
    elif t == "Hex-STRING":
        b = _hex_bytes(v)
        if b is not None:
            t, v = "Hex-STRING", _text(b.rstrip(b"\x00"), ctx)
    return t, v


class _Agent:
    def __init__(self) -> None:
        self.sys: dict[str, tuple[str, int]] = {}
        self.scalars: dict[str, tuple[str, int]] = {}
        self.ent: dict[str, dict[str, str]] = {}
        self.ent_line: dict[str, int] = {}
        self.sw: list[tuple[str, int]] = []
        self.run: dict[str, list] = {}
        self.enterprises: dict[str, int] = {}
        self.first_line = 0

    def put(self, oid: str, value: str, line: int) -> None:
        if "\r" in value:
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        if not self.first_line:
            self.first_line = line
        if oid.startswith(SYS):
            self.sys.setdefault(oid, (value, line))
        elif oid.startswith(ENT):
            rest = oid[len(ENT):]
            col, _, idx = rest.partition(".")
            fld = ENT_COLS.get(col)
            if fld and idx:
                row = self.ent.setdefault(idx, {})
                self.ent_line.setdefault(idx, line)
                if value.strip():
                    row[fld] = value.strip()
        elif oid.startswith(HR_SW_INSTALLED):
            if value.strip():
                self.sw.append((value.strip(), line))
        elif oid.startswith(HR_SW_RUN_NAME):
            self.run.setdefault(oid[len(HR_SW_RUN_NAME):], [None, None, line])[0] = value
        elif oid.startswith(HR_SW_RUN_PATH):
            self.run.setdefault(oid[len(HR_SW_RUN_PATH):], [None, None, line])[1] = value
        if oid in DEVICE_SCALARS:
            self.scalars.setdefault(oid, (value, line))
        if oid.startswith(ENTERPRISES):
            n = oid[len(ENTERPRISES):].split(".", 1)[0]
            if n.isdigit():
                self.enterprises[n] = self.enterprises.get(n, 0) + 1

    def observations(self, ctx: ReadContext) -> Iterator[Observation | Problem]:
        sysname = self.sys.get(SYS_NAME, ("", 0))[0].strip()
        asset = sysname or ctx.asset
        f: dict[str, str] = {}
        loc_line = 0
        descr = self.sys.get(SYS_DESCR)
        if descr and descr[0].strip():
            f[F.SYS_DESCR] = descr[0].strip()
            loc_line = descr[1]
        oid = self.sys.get(SYS_OBJECT_ID)
        if oid and oid[0].strip():
            v = norm_oid(oid[0])
            if not re.fullmatch(r"[0-9]+(\.[0-9]+)*", v):
                ctx.deviation(f"sysObjectID '{oid[0].strip()}' could not be made numeric; kept as printed")
            f[F.SYS_OBJECT_ID] = v
            loc_line = loc_line or oid[1]
        elif len(self.enterprises) == 1:
            f[F.SYS_OBJECT_ID] = ENTERPRISES + next(iter(self.enterprises))
            f["sys_object_id_from"] = "private-mib"
        if sysname:
            f[F.HOSTNAME] = sysname
            loc_line = loc_line or self.sys[SYS_NAME][1]
        for o, (v, line) in sorted(self.scalars.items(), key=lambda kv: kv[1][1]):
            fld = DEVICE_SCALARS[o]
            v = v.strip()
            if fld == F.MAC:
                v = norm_mac(v) or v
            if v and v.lower() not in ("none", "unknow", "unknown") and fld not in f:
                f[fld] = v
                loc_line = loc_line or line
        if f:
            obs = Observation(kind="device", asset=asset, fields=f,
                              source=ctx.loc(f"line {loc_line or self.first_line or 1}"),
                              evidence_class=EvidenceClass.NETWORK_DEVICE)
            ctx.seen(obs)
            yield obs
        for idx, row in self.ent.items():
            if not any(row.get(k) for k in (F.NAME, F.PUBLISHER, F.MODEL, F.SERIAL)):
                continue
            g = dict(row)
            if F.VERSION not in g and "firmware" in g:
                g[F.VERSION] = g["firmware"]
            g["entity_index"] = idx
            obs = Observation(kind="device", asset=asset, fields=g, source=ctx.loc(f"line {self.ent_line[idx]}"),
                              evidence_class=EvidenceClass.NETWORK_DEVICE)
            ctx.seen(obs)
            yield obs
        for name, line in self.sw:
            obs = Observation(kind="software", asset=asset, fields={F.NAME: name},
                              source=ctx.loc(f"line {line}"), evidence_class=EvidenceClass.INSTALLED)
            ctx.seen(obs)
            yield obs
        for _idx, (name, path, line) in self.run.items():
            if not (name or path):
                continue
            g = {}
            if name:
                g[F.PROCESS] = name
            if path:
                g[F.PATH] = path
            obs = Observation(kind="process", asset=asset, fields=g, source=ctx.loc(f"line {line}"),
                              evidence_class=EvidenceClass.RUNTIME)
            ctx.seen(obs)
            yield obs


def _data_lines(head: bytes) -> list[str]:
    out = []
    for ln in text_head(head).splitlines():
        s = ln.strip()
        if s and not s.startswith("#"):
            out.append(s)
        if len(out) >= 30:
            break
    if len(head) >= 65536 and len(out) > 1:
        out = out[:-1]
    return out


class SnmpWalkSource:
    name = "snmpwalk"
    description = "Net-SNMP snmpwalk output (numeric -On/-ObentU or symbolic OIDs)"
    documentation_url = "https://net-snmp.sourceforge.io/docs/man/snmpcmd.html"

    def sniff(self, head: bytes, path: str) -> bool:
        if b"\x00" in head[:4096]:
            return False
        lines = _data_lines(head)
        if not lines or not WALK_LINE.match(lines[0]):
            return False
        hits = sum(1 for ln in lines if WALK_LINE.match(ln))
        return hits >= max(1, int(len(lines) * 0.6))

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Observation | Problem]:
        agent = _Agent()
        cur: list | None = None  # [oid, type, value parts, line, quoted string still open, size]
        cap = ctx.limits.max_field_bytes

        def flush() -> None:
            if cur is not None:
                t, v = cur[1], "\n".join(cur[2])
                if t == "OID":
                    v = norm_oid(v)
                agent.put(cur[0], v, cur[3])

        def more(part: str) -> None:
            # continuation lines are collected, then joined once (no copy of the value per line)
            assert cur is not None
            if cur[5] + len(part) > cap:
                ctx.deviation(f"a value longer than the max_field_bytes limit ({cap}) was cut")
                return
            cur[2].append(part)
            cur[5] += len(part) + 1

        for lineno, raw in read_lines(stream, ctx):
            text = _text(raw.rstrip(b"\r\n"), ctx)
            if lineno == 1 and text.startswith("\ufeff"):
                text = text[1:]
            m = WALK_LINE.match(text)
            if m:
                flush()
                t, v = _walk_value(m.group("rest"), ctx)
                oid = norm_oid(m.group("oid"))
                if not re.fullmatch(r"[0-9]+(\.[0-9]+)*", oid):
                    ctx.deviation("some symbolic OIDs could not be resolved without MIBs and were skipped")
                    cur = None
                    continue
                quoted_open = t in ("STRING", "Opaque") and m.group("rest").split(":", 1)[-1].strip().startswith('"') \
                    and not (len(v) < len(m.group("rest")) and m.group("rest").rstrip().endswith('"'))
                if quoted_open:
                    v = m.group("rest").split(":", 1)[1].strip()[1:]
                cur = [oid, t, [v], lineno, quoted_open, len(v)]
                continue
            if cur is not None:
                # continuation of a multi-line value
                if cur[4]:
                    if text.rstrip().endswith('"') and not text.rstrip().endswith('\\"'):
                        more(text.rstrip()[:-1])
                        cur[4] = False
                    else:
                        more(text)
                elif text.strip():
                    more(text)
                continue
            if text.strip() and not text.lstrip().startswith("#"):
                yield Problem(ctx.loc(f"line {lineno}"), "not an snmpwalk line")
        flush()
        yield from agent.observations(ctx)


class SnmprecSource:
    name = "snmprec"
    description = "snmpsim .snmprec recordings (OID|tag|value)"
    documentation_url = "https://docs.lextudio.com/snmpsim/documentation/managing-simulation-data.html"

    def sniff(self, head: bytes, path: str) -> bool:
        if b"\x00" in head[:4096]:
            return False
        lines = _data_lines(head)
        if not lines:
            return False
        hits = sum(1 for ln in lines if REC_LINE.match(ln))
        return hits >= 1 and hits == len(lines)

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Observation | Problem]:
        agent = _Agent()
        for lineno, raw in read_lines(stream, ctx):
            line = raw.rstrip(b"\r\n")
            if lineno == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            if not line.strip() or line.lstrip().startswith(b"#"):
                continue
            m = REC_LINE.match(line.decode("latin-1"))
            if not m:
                yield Problem(ctx.loc(f"line {lineno}"), "not an OID|tag|value line")
                continue
            oid = m.group("oid").lstrip(".")
            tag = m.group("tag").split(":", 1)[0]
            val_b = line[len(line) - len(m.group("val").encode("latin-1")):]
            num = tag.rstrip("abcdefghijklmnopqrstuvwxyz")
            if tag.endswith("x"):
                b = _hex_bytes(val_b.decode("ascii", "replace"))
                if b is None:
                    yield Problem(ctx.loc(f"line {lineno}"), f"tag {tag} value is not hex")
                    continue
                val_b = b
            if num == "4":
                val = _text(val_b.rstrip(b"\x00"), ctx)
            elif num == "6":
                val = norm_oid(val_b.decode("ascii", "replace"))
            else:
                val = val_b.decode("latin-1")
            agent.put(oid, val, lineno)
        yield from agent.observations(ctx)


SNMPWALK = SnmpWalkSource()
SNMPREC = SnmprecSource()

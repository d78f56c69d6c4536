"""Real banners from Rapid7 Recog fingerprint examples, fed through the network readers."""

from __future__ import annotations

import base64
import io
from xml.sax.saxutils import quoteattr

import defusedxml.ElementTree as DET
import pytest
from sharedsamples import shared_sample

from banscan.model import Observation
from banscan.sources import ReadContext, dhcp, nmap, snmp, zeek

VENDORS = {"Hikvision": "hikvision", "Dahua": "dahua", "Huawei": "huawei", "ZTE": "zte"}


def examples(fname: str) -> list[tuple[str, str]]:
    """(vendor, example text) for fingerprints whose vendor parameter is one of VENDORS."""
    root = DET.parse(str(shared_sample(f"recog/{fname}"))).getroot()
    out = []
    for fp in root.iter("fingerprint"):
        vendors = {p.get("value") for p in fp.iter("param")
                   if p.get("name") in ("hw.vendor", "os.vendor", "service.vendor")}
        for v in sorted(vendors & set(VENDORS)):
            for e in fp.iter("example"):
                text = e.text or ""
                if e.get("_encoding") == "base64":
                    text = base64.b64decode("".join(text.split())).decode("utf-8", "replace")
                out.append((v, text))
    return out


def _xml_ok(s: str) -> bool:
    return all(c in "\t\n\r" or ord(c) >= 0x20 for c in s)


def _read(src, data: bytes) -> list[Observation]:
    ctx = ReadContext("recog", "sensor")
    return [o for o in src.read(io.BytesIO(data), ctx) if isinstance(o, Observation)]


def nmap_doc(hosts: list[str]) -> bytes:
    body = "".join(
        f'<host><status state="up"/><address addr="10.0.{i // 250}.{i % 250 + 1}" addrtype="ipv4"/>'
        f"<ports>{ports}</ports></host>\n" for i, ports in enumerate(hosts))
    return f'<?xml version="1.0"?>\n<nmaprun scanner="nmap" version="7.94">\n{body}</nmaprun>\n'.encode()


def port(script: str, output: str, service: str = "http") -> str:
    return (f'<port protocol="tcp" portid="80"><state state="open"/><service name="{service}"/>'
            f"<script id={quoteattr(script)} output={quoteattr(output)}/></port>")


def built_observations():
    """(vendor, field, expected value, observation) for every usable example."""
    cases = []
    http = [(v, t) for v, t in examples("http_servers.xml") if _xml_ok(t) and t.strip() == t]
    auth = [(v, t) for v, t in examples("http_wwwauth.xml") if _xml_ok(t) and t.strip() == t]
    rtsp = [(v, t) for v, t in examples("rtsp_servers.xml") if _xml_ok(t) and t.strip() == t]
    telnet = [(v, t.strip()) for v, t in examples("telnet_banners.xml") if _xml_ok(t) and t.strip()]
    hosts, expect = [], []
    for v, t in http:
        hosts.append(port("http-server-header", t))
        expect.append((v, "http_server", t))
    for v, t in auth:
        hosts.append(port("http-headers", f"\n  WWW-Authenticate: {t}\n"))
        expect.append((v, "www_authenticate", t))
    for v, t in rtsp:
        hosts.append(port("rtsp-methods", f"Server: {t}", "rtsp"))
        expect.append((v, "rtsp_server", t))
    for v, t in telnet:
        hosts.append(port("banner", t, "telnet"))
        expect.append((v, "banner", t))
    obs = _read(nmap.SOURCE, nmap_doc(hosts))
    assert len(obs) == len(hosts)
    cases += [(v, f, t, o) for (v, f, t), o in zip(expect, obs)]

    # Zeek software.log (HTTP::SERVER) with the same server banners
    hdr = ("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tsoftware\n"
           "#fields\tts\thost\thost_p\tsoftware_type\tname\tversion.major\tversion.minor\tversion.minor2"
           "\tversion.minor3\tversion.addl\tunparsed_version\n")
    rows = "".join(f"1521911720.6\t10.9.0.{i + 1}\t80\tHTTP::SERVER\t{t.split('/')[0]}\t-\t-\t-\t-\t-\t{t}\n"
                   for i, (v, t) in enumerate(http))
    zobs = _read(zeek.SOURCE, (hdr + rows).encode())
    assert len(zobs) == len(http)
    cases += [(v, "http_server", t, o) for (v, t), o in zip(http, zobs)]

    # snmprec sysDescr (hex-encoded, as snmpsim records them)
    for v, t in examples("snmp_sysdescr.xml"):
        rec = f"1.3.6.1.2.1.1.1.0|4x|{t.encode().hex()}\n1.3.6.1.2.1.1.5.0|4|dev\n".encode()
        o = _read(snmp.SNMPREC, rec)[0]
        cases.append((v, "sys_descr", t.replace("\r\n", "\n").strip(), o))

    # dhcpd.leases vendor-class-identifier
    for v, t in examples("dhcp_vendor_class.xml"):
        esc = t.replace("\\", "\\\\").replace('"', '\\"')
        lease = f'lease 10.0.0.9 {{\n  hardware ethernet 00:11:22:33:44:55;\n  set vendor-class-identifier = "{esc}";\n}}\n'
        o = _read(dhcp.DHCPD, lease.encode())[0]
        cases.append((v, "vendor_class", t, o))
    return cases


def test_recog_examples_round_trip_as_text():
    cases = built_observations()
    vendors = {v for v, *_ in cases}
    assert vendors == set(VENDORS)
    assert len(cases) >= 30
    for v, field, text, o in cases:
        assert o.fields[field] == text, (v, field, text)


def test_recog_examples_detected_by_matcher():
    match = pytest.importorskip("banscan.match")
    if not hasattr(match, "Matcher"):
        pytest.skip("banscan.match has no Matcher yet")
    from banscan import registry

    m = match.Matcher(registry.load())
    found: dict[str, int] = {}
    wrong = []
    for v, field, text, o in built_observations():
        fams = {d.family for d in m.match(o)}
        if VENDORS[v] in fams:
            found[v] = found.get(v, 0) + 1
        wrong += [(v, field, text, f) for f in fams if f in VENDORS.values() and f != VENDORS[v]]
    assert wrong == []
    assert set(found) == set(VENDORS), found

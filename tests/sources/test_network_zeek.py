"""Zeek log reader: TSV and JSON, real logs from zat and brimdata samples."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import pytest
from sharedsamples import shared_sample

from banscan.model import EvidenceClass, Observation, Problem
from banscan.sources import ReadContext, detect
from banscan.sources.zeek import SOURCE as ZEEK
from banscan.sources.zeek import dn_parts

ROOT = Path(__file__).resolve().parents[2]
SHELLSHOCK = ('() { _; } >_[$($())] { echo Content-Type: text/plain ; echo ; '
              'echo "bash_cve_2014_6278 Output : $((54+54))"; }')


def read(data: bytes, name: str = "log", asset: str = "sensor", prefilter=None):
    ctx = ReadContext(name, asset, prefilter=prefilter)
    items = list(ZEEK.read(io.BytesIO(data), ctx))
    return ([i for i in items if isinstance(i, Observation)], [i for i in items if isinstance(i, Problem)], ctx)


def sample(rel: str):
    p = shared_sample(rel)
    return p.read_bytes()


@pytest.mark.parametrize("rel,count,records", [
    ("zeek/zat-tsv-dns.log", 51, 54),
    ("zeek/zat-json-dns.log", 50, 50),
    ("zeek/brim-zeek6.2-json-dns.excerpt.log", 150, 150),
    ("zeek/zat-tsv-http.log", 150, 150),
    ("zeek/zat-json-http.log", 27, 28),
    ("zeek/zat-tsv-ssl.log", 36, 37),
    ("zeek/zat-json-ssl.log", 50, 50),
    ("zeek/brim-zeek6.2-tsv-ssl.excerpt.log", 83, 392),
    ("zeek/brim-zeek6.2-tsv-software.log", 376, 376),
    ("zeek/brim-zeek6.2-json-software.log", 376, 376),
    ("zeek/brim-zeek6.2-tsv-known_hosts.log", 253, 253),
    ("zeek/zat-tsv-dhcp.log", 2, 2),
    ("zeek/brim-zeek6.2-tsv-snmp.log", 0, 65),
    ("zeek/zat-tsv-conn.log", 0, 360),
    ("zeek/zat-json-conn.log", 0, 50),
])
def test_counts(rel, count, records):
    data = sample(rel)
    assert detect(data[:65536], rel) is ZEEK
    obs, probs, ctx = read(data, rel)
    assert probs == []
    assert len(obs) == count
    assert ctx.observations == records


def test_dns_fields_and_locator():
    obs, _, _ = read(sample("zeek/zat-tsv-dns.log"))
    o = obs[0]
    assert (o.kind, o.asset, o.fields["domain"]) == ("dns", "192.168.33.10", "guyspy.com")
    assert o.evidence_class is EvidenceClass.NETWORK_TRAFFIC
    assert o.source.locator == "line 9"  # 8 header lines
    assert o.observed_at == "2013-09-15T23:44:27.631940Z"
    obs, _, _ = read(sample("zeek/brim-zeek6.2-json-dns.excerpt.log"))
    assert obs[0].fields["domain"] == "ise.wrccdc.org" and obs[0].source.locator == "line 1"
    assert obs[0].observed_at == "2018-03-24T17:15:20.865716Z"


def test_ssl_old_subject_with_escaped_comma():
    obs, _, _ = read(sample("zeek/zat-tsv-ssl.log"))
    f = obs[0].fields
    assert f["tls_subject_org"] == "Amazon.com, Inc."
    assert f["tls_subject_cn"] == "*.cloudfront.net"
    assert f["tls_issuer_org"] == "DigiCert Inc"
    assert obs[0].asset == "192.168.33.10"


def test_x509_tsv_and_json_agree():
    t, _, _ = read(sample("zeek/brim-zeek6.2-tsv-x509.log"))
    j, _, _ = read(sample("zeek/brim-zeek6.2-json-x509.log"))
    key = lambda o: tuple(sorted((k, repr(v)) for k, v in o.fields.items()))  # noqa: E731
    assert len(t) == len(j) > 300  # one observation per certificate
    # every SAN name is one value of the certificate's domain field, never a joined string
    assert sum(len(o.values("domain")) for o in t) > 1000
    assert any(len(o.values("domain")) > 1 for o in t)
    assert not any("," in d for o in t for d in o.values("domain"))
    assert sorted(map(key, t)) == sorted(map(key, j))
    assert {o.fields.get("domain") for o in t} == {o.fields.get("domain") for o in j}
    first = t[0].fields
    assert first["tls_subject_org"] == "VMware, Inc"  # "O=VMware\\, Inc" in the log
    assert first["tls_issuer_org"] == "VMware Installer"
    assert all(o.asset == "sensor" for o in t)  # x509 records name no host


def test_software_tsv_and_json_agree_and_keep_hostile_text():
    t, _, _ = read(sample("zeek/brim-zeek6.2-tsv-software.log"))
    j, _, _ = read(sample("zeek/brim-zeek6.2-json-software.log"))
    pick = lambda obs: [(o.asset, o.fields.get("name"), o.fields.get("banner")) for o in obs]  # noqa: E731
    assert pick(t) == pick(j)
    hostile = t[1]
    assert hostile.fields["name"] == ") {"
    assert hostile.fields["banner"] == SHELLSHOCK
    assert j[1].fields["banner"] == SHELLSHOCK
    assert hostile.source.locator == "line 10"
    iis = t[2]
    assert iis.fields["http_server"] == "Microsoft-IIS/7.5" and iis.fields["version"] == "7.5"
    assert iis.asset == "10.47.27.80"
    assert sum("bash_cve" in (o.fields.get("banner") or "") for o in t) >= 2


def test_http_host_and_user_agent():
    obs, _, _ = read(sample("zeek/zat-json-http.log"))
    o = obs[0]
    assert o.fields["domain"] == "mail.aol.com"
    assert o.fields["banner"].startswith("Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0")
    assert o.asset == "10.18.20.97" and o.kind == "http"


def test_dhcp_known_hosts_snmp_conn_assets():
    obs, _, _ = read(sample("zeek/zat-tsv-dhcp.log"))
    assert obs[0].fields == {"mac": "00:20:18:eb:ca:21", "ip": "192.168.33.10"}
    assert obs[0].evidence_class is EvidenceClass.NETWORK_DEVICE
    _, _, ctx = read(sample("zeek/brim-zeek6.2-tsv-snmp.log"))
    assert ctx.assets == {"10.0.0.85": {"network-device"}}
    _, _, ctx = read(sample("zeek/zat-tsv-conn.log"))
    assert ctx.assets == {}  # conn.log covers no evidence


def test_wrong_field_count_is_non_fatal():
    data = sample("zeek/zat-tsv-dns.log")
    lines = data.split(b"\n")
    bad = b"\t".join(lines[8].split(b"\t")[:-3])
    patched = b"\n".join(lines[:8] + [bad] + lines[9:])
    obs, probs, _ = read(patched)
    assert len(probs) == 1 and not probs[0].fatal
    assert probs[0].source.locator == "line 9"
    assert "fields" in probs[0].message
    assert len(obs) == 50  # the rest is read


def test_prefilter_skips_but_counts():
    spec = importlib.util.spec_from_file_location("gen_dns_log", ROOT / "bench" / "gen_dns_log.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    buf = io.StringIO()
    n_restricted = gen.generate(20000, 7, buf)
    data = buf.getvalue().encode()
    words = ("kaspersky", "hik-connect", "hikvision", "tiktok", "hicloud", "huawei", "zte.com",
             "deepseek", "bytedance", "ezviz", "ys7.com", "dahua", "ttwstatic")
    calls = []

    def pf(line: str) -> bool:
        calls.append(1)
        return any(w in line for w in words)

    obs, probs, ctx = read(data, prefilter=pf)
    assert probs == []
    assert len(calls) == 20000
    assert ctx.observations == 20000
    assert len(obs) == n_restricted > 0
    assert all(any(w in o.fields["domain"] for w in words) for o in obs)
    full, _, ctx_full = read(data)
    assert set(ctx.assets) == set(ctx_full.assets)
    assert {o.fields["domain"] for o in obs} <= {o.fields["domain"] for o in full}
    # same determinism: same seed, same text
    buf2 = io.StringIO()
    gen.generate(20000, 7, buf2)
    assert buf2.getvalue() == buf.getvalue()


def test_prefilter_not_used_for_device_logs():
    def boom(line: str) -> bool:
        raise AssertionError("prefilter called for a MAC/OID record")

    for rel in ("zeek/zat-tsv-dhcp.log", "zeek/brim-zeek6.2-tsv-known_hosts.log", "zeek/brim-zeek6.2-tsv-snmp.log"):
        read(sample(rel), prefilter=boom)


def test_dn_parts():
    assert dn_parts("CN=a\\,b,O=Acme\\, Inc.,C=US") == {"CN": "a,b", "O": "Acme, Inc.", "C": "US"}

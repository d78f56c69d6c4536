"""DHCP leases, ARP tables, DNS query logs and the osquery network-table helper."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sharedsamples import shared_sample

from banscan.model import EvidenceClass, Observation, Problem
from banscan.sources import ReadContext, detect
from banscan.sources.arp import SOURCE as ARP
from banscan.sources.arp import norm_mac
from banscan.sources.dhcp import DHCPD, DNSMASQ
from banscan.sources.dnslog import SOURCE as DNSLOG
from banscan.sources.osquery_net import network_observation, network_row

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "network"


def read(src, data: bytes, prefilter=None):
    ctx = ReadContext("in", "host", prefilter=prefilter)
    items = list(src.read(io.BytesIO(data), ctx))
    return ([i for i in items if isinstance(i, Observation)], [i for i in items if isinstance(i, Problem)], ctx)


@pytest.mark.parametrize("rel,src,count", [
    ("dhcp/dnsmasq-home-network.leases", DNSMASQ, 43),
    ("dhcp/dnsmasq-small-lan.leases", DNSMASQ, 9),
    ("dhcp/isc-dhcpd-4.2.2-debian7.leases", DHCPD, 6),
    ("dhcp/isc-dhcpd-4.2.8-pfsense.leases", DHCPD, 2),
    ("dhcp/isc-dhcpd-options-relay-agent.leases", DHCPD, 1),
    ("dhcp/isc-dhcpd6-4.3.3.leases", DHCPD, 4),
])
def test_dhcp_counts(rel, src, count):
    data = shared_sample(rel).read_bytes()
    assert detect(data[:65536], rel) is src
    obs, probs, _ = read(src, data)
    assert probs == []
    assert len(obs) == count
    assert all(o.kind == "dhcp" and o.evidence_class is EvidenceClass.NETWORK_DEVICE for o in obs)


def test_dhcpd_values():
    obs, _, _ = read(DHCPD, shared_sample("dhcp/isc-dhcpd-4.2.2-debian7.leases").read_bytes())
    assert obs[0].fields == {"ip": "10.0.0.10", "mac": "60:a4:4c:b5:6a:dd", "vendor_class": "Some Vendor Identifier"}
    assert obs[0].asset == "60:a4:4c:b5:6a:dd" and obs[0].source.locator == "line 4"
    assert obs[-1].fields == {"ip": "10.0.0.17"} and obs[-1].asset == "10.0.0.17"
    obs, _, _ = read(DHCPD, shared_sample("dhcp/isc-dhcpd-4.2.8-pfsense.leases").read_bytes())
    assert [(o.asset, o.fields["mac"]) for o in obs] == [("Satellite-C700", "64:5a:04:6a:07:a2"),
                                                         ("Gebruiker-PC", "14:da:e9:04:c8:a3")]
    obs, _, _ = read(DHCPD, shared_sample("dhcp/isc-dhcpd-options-relay-agent.leases").read_bytes())
    assert obs[0].fields["hostname"] == "KRONOS" and obs[0].source.locator == "line 1"


def test_dhcpd6_has_no_mac():
    obs, _, _ = read(DHCPD, shared_sample("dhcp/isc-dhcpd6-4.3.3.leases").read_bytes())
    assert [o.fields["ip"] for o in obs] == ["2001:10:10::106", "2001:10:30:ff00::/56", "2001:10:30::1fe",
                                             "2001:10:10:ff00::/56"]
    assert all("mac" not in o.fields for o in obs)
    assert obs[0].fields["duid"] == "0100011cf710a5002722332b34"


def test_dhcpd_vendor_class_statement_and_escapes():
    data = (b'lease 10.9.9.9 {\n  hardware ethernet 00:E0:FC:01:02:03;\n'
            b'  vendor-class-identifier "HUAWEI:android:ABC";\n  client-hostname "HUAWEI_P30-\\"x\\"";\n}\n'
            b'lease 10.9.9.10 {\n  hardware ethernet 00:e0:fc:01:02:04;\n')
    obs, probs, _ = read(DHCPD, data)
    assert obs[0].fields["vendor_class"] == "HUAWEI:android:ABC"
    assert obs[0].fields["hostname"] == 'HUAWEI_P30-"x"'
    assert obs[0].fields["mac"] == "00:e0:fc:01:02:03"
    assert len(probs) == 1 and probs[0].source.locator == "line 6"  # unclosed block at EOF


def test_dnsmasq_values():
    obs, _, _ = read(DNSMASQ, shared_sample("dhcp/dnsmasq-home-network.leases").read_bytes())
    assert obs[0].asset == "08:02:8e:47:dd:cf" and "hostname" not in obs[0].fields
    tizen = obs[1]
    assert tizen.asset == "TIZEN"
    assert tizen.fields == {"ip": "172.17.4.250", "mac": "b8:bc:5b:c3:36:c5", "hostname": "TIZEN",
                            "client_id": "01:b8:bc:5b:c3:36:c5"}
    assert tizen.source.locator == "line 2"


@pytest.mark.parametrize("name,expected", [
    ("arp-linux-a.txt", [("192.168.1.1", "28:6e:d4:01:02:03", None, 1), ("192.168.1.7", "00:1a:2b:3c:4d:5e", "printer.lan", 2),
                         ("192.168.1.64", "bc:ad:28:aa:bb:cc", "camera-2.lan", 4)]),
    ("arp-windows-a.txt", [("192.168.1.1", "28:6e:d4:01:02:03", None, 3), ("192.168.1.64", "bc:ad:28:aa:bb:cc", None, 4),
                           ("10.8.0.1", "00:e0:fc:12:34:56", None, 10)]),
    ("ip-neigh.txt", [("192.168.1.1", "28:6e:d4:01:02:03", None, 1), ("fe80::1", "28:6e:d4:01:02:03", None, 2),
                      ("192.168.1.64", "bc:ad:28:aa:bb:cc", None, 4)]),
])
def test_arp_tables(name, expected):
    data = (FIXTURES / name).read_bytes()
    assert detect(data, name) is ARP
    obs, probs, ctx = read(ARP, data)
    assert probs == []
    got = [(o.asset, o.fields["mac"], o.fields.get("hostname"), int(o.source.locator.split()[1])) for o in obs]
    assert got == expected
    assert all(o.kind == "device" and o.evidence_class is EvidenceClass.NETWORK_DEVICE for o in obs)
    assert all(o.fields["ip"] == o.asset for o in obs)


def test_arp_windows_interface_and_non_unicast():
    obs, _, ctx = read(ARP, (FIXTURES / "arp-windows-a.txt").read_bytes())
    assert obs[0].fields["interface"] == "192.168.1.5" and obs[2].fields["interface"] == "10.8.0.2"
    assert ctx.observations == 5  # broadcast and multicast rows are counted, not reported


def test_norm_mac():
    assert norm_mac("AA-BB-CC-DD-EE-FF") == "aa:bb:cc:dd:ee:ff"
    assert norm_mac("0:1a:2b:3:4d:5e") == "00:1a:2b:03:4d:5e"
    assert norm_mac("aabb.ccdd.eeff") == "aa:bb:cc:dd:ee:ff"
    assert norm_mac("aabbccddeeff") == "aa:bb:cc:dd:ee:ff"
    assert norm_mac("not a mac") is None and norm_mac("aa:bb:cc") is None


def test_osquery_network_rows():
    arp_cols = ["address", "mac", "interface", "permanent"]
    assert network_row(arp_cols, {"address": "192.168.1.64", "mac": "BC:AD:28:AA:BB:CC", "interface": "en0",
                                  "permanent": "0"}) == {"mac": "bc:ad:28:aa:bb:cc", "ip": "192.168.1.64", "interface": "en0"}
    assert network_row(arp_cols, {"address": "192.168.1.255", "mac": "ff:ff:ff:ff:ff:ff", "interface": "en0",
                                  "permanent": "1"}) is None
    assert network_row(arp_cols, {"address": "192.168.1.9", "mac": "incomplete", "interface": "en0",
                                  "permanent": "0"}) is None
    kind, asset, fields, ec = network_observation(arp_cols, {"address": "10.0.0.1", "mac": "00:e0:fc:01:02:03",
                                                             "interface": "eth0", "permanent": "0"}, "laptop-7")
    assert (kind, asset, ec) == ("device", "10.0.0.1", EvidenceClass.NETWORK_DEVICE)
    if_cols = ["interface", "mac", "type", "mtu", "friendly_name", "description", "manufacturer"]
    row = {"interface": "18", "mac": "0c:5b:8f:27:9a:64", "type": "6", "mtu": "1500", "friendly_name": "Mobile Broadband",
           "description": "HUAWEI Mobile Connect - Network Adapter", "manufacturer": "HUAWEI Technologies Co., Ltd."}
    kind, asset, fields, ec = network_observation(if_cols, row, "laptop-7")
    assert asset == "laptop-7"
    assert fields == {"mac": "0c:5b:8f:27:9a:64", "name": "Mobile Broadband",
                      "publisher": "HUAWEI Technologies Co., Ltd.", "model": "HUAWEI Mobile Connect - Network Adapter"}
    assert network_row(["name", "version", "publisher"], {"name": "x"}) is None


def test_dns_query_logs():
    obs, probs, ctx = read(DNSLOG, (FIXTURES / "bind-query.log").read_bytes())
    assert probs == []
    assert [(o.asset, o.fields["domain"], o.source.locator) for o in obs] == [
        ("192.168.1.10", "www.example.com", "line 1"),
        ("10.0.0.5", "update.hicloud.com", "line 2"),
        ("2001:db8::5", "api16-normal-c-useast1a.tiktokv.com", "line 3"),
        ("192.168.1.10", "dc1.ksn.kaspersky-labs.com", "line 4"),
    ]
    assert all(o.kind == "dns" and o.evidence_class is EvidenceClass.NETWORK_TRAFFIC for o in obs)
    obs, _, ctx = read(DNSLOG, (FIXTURES / "dnsmasq-query.log").read_bytes())
    assert [(o.asset, o.fields["domain"], o.fields["qtype"]) for o in obs] == [
        ("192.168.1.20", "dc1.ksn.kaspersky-labs.com", "A"), ("192.168.1.21", "www.example.org", "AAAA"),
        ("192.168.1.64", "api.hik-connect.com", "A")]
    assert ctx.observations == 5


def test_dns_query_log_prefilter():
    data = (FIXTURES / "dnsmasq-query.log").read_bytes()
    obs, _, ctx = read(DNSLOG, data, prefilter=lambda s: "kaspersky" in s)
    assert [o.fields["domain"] for o in obs] == ["dc1.ksn.kaspersky-labs.com"]
    assert ctx.observations == 5
    assert set(ctx.assets) == {"192.168.1.20", "192.168.1.21", "192.168.1.64"}
    for name in ("bind-query.log", "dnsmasq-query.log"):
        d = (FIXTURES / name).read_bytes()
        assert detect(d, name) is DNSLOG

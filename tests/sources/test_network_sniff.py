"""Each real network sample is recognised by its own reader and by no other network reader;
software inventories and garbage are not taken for network evidence."""

from __future__ import annotations

import random

import pytest
from sharedsamples import SHARED_SAMPLES, shared_sample

from banscan.sources import SOURCES, arp, detect, dhcp, dnslog, nmap, snmp, zeek

NETWORK = [nmap.SOURCE, zeek.SOURCE, snmp.SNMPREC, snmp.SNMPWALK, dhcp.DHCPD, dhcp.DNSMASQ, dnslog.SOURCE, arp.SOURCE]


def expected(rel: str):
    if rel.startswith("nmap/"):
        return nmap.SOURCE
    if rel.startswith("zeek/"):
        return zeek.SOURCE
    if rel.endswith(".snmprec"):
        return snmp.SNMPREC
    if rel.endswith(".snmpwalk"):
        return snmp.SNMPWALK
    if rel.startswith("dhcp/isc"):
        return dhcp.DHCPD
    if rel.startswith("dhcp/dnsmasq"):
        return dhcp.DNSMASQ
    raise AssertionError(rel)


def _files(folders):
    if not SHARED_SAMPLES.is_dir():
        return []
    return sorted(str(p.relative_to(SHARED_SAMPLES)) for f in folders for p in (SHARED_SAMPLES / f).glob("*") if p.is_file())


NET_FILES = _files(["nmap", "zeek", "snmp", "dhcp"]) or ["nmap/absent"]
OTHER_FILES = _files(["cyclonedx", "spdx", "osquery", "windows", "mdm", "recog"]) or ["recog/absent"]


@pytest.mark.parametrize("rel", NET_FILES)
def test_network_sample_sniffs_as_its_reader_only(rel):
    p = shared_sample(rel)
    head = p.read_bytes()[:65536]
    want = expected(rel)
    assert detect(head, str(p)) is want
    assert [s.name for s in NETWORK if s.sniff(head, str(p))] == [want.name]


@pytest.mark.parametrize("rel", OTHER_FILES)
def test_other_samples_not_network(rel):
    p = shared_sample(rel)
    head = p.read_bytes()[:65536]
    assert [s.name for s in NETWORK if s.sniff(head, str(p))] == []


def test_binary_garbage_not_sniffed():
    rnd = random.Random(1234)
    for n in (16, 4096, 65536):
        blob = rnd.randbytes(n)
        assert detect(blob, "blob.bin") is None
        assert [s.name for s in SOURCES if s.sniff(blob, "blob.bin")] == []
    for blob in (b"", b"\x00" * 1024, b"\xff\xfe" + rnd.randbytes(2000), b"MZ\x90\x00" + rnd.randbytes(4000)):
        assert [s.name for s in NETWORK if s.sniff(blob, "x")] == []

"""snmpwalk and snmprec readers against real device recordings."""

from __future__ import annotations

import io
from pathlib import Path

from sharedsamples import shared_sample

from banscan.model import EvidenceClass, Observation, Problem
from banscan.sources import ReadContext, detect
from banscan.sources.snmp import SNMPREC, SNMPWALK, norm_oid

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "network"


def read(src, path: Path, asset: str = "agent"):
    data = path.read_bytes()
    ctx = ReadContext(path.name, asset)
    items = list(src.read(io.BytesIO(data), ctx))
    obs = [i for i in items if isinstance(i, Observation)]
    probs = [i for i in items if isinstance(i, Problem)]
    return obs, probs, ctx


def test_hikvision_camera_private_mib():
    p = shared_sample("snmp/hikvision-ipcam-DS-2CD4C36FWD.snmprec")
    assert detect(p.read_bytes()[:65536], str(p)) is SNMPREC
    assert not SNMPWALK.sniff(p.read_bytes(), str(p))
    obs, probs, ctx = read(SNMPREC, p, asset="cam-1")
    assert probs == []
    assert len(obs) == 1
    o = obs[0]
    assert o.asset == "cam-1"  # no sysName in the recording
    assert o.kind == "device" and o.evidence_class is EvidenceClass.NETWORK_DEVICE
    assert o.fields["sys_object_id"] == "1.3.6.1.4.1.39165"
    assert o.fields["sys_object_id_from"] == "private-mib"
    assert o.fields["model"] == "DS-2CD4C36FWD-AP"
    assert o.fields["publisher"] == "Hikvision"
    assert o.fields["version"] == "V5.5.80 build 190131"
    assert o.fields["mac"] == "94:e1:ac:e4:6e:c7"
    assert o.source.locator == "line 1"


def test_hikvision_nvr():
    obs, probs, _ = read(SNMPREC, shared_sample("snmp/hikvision-nvr.snmprec"))
    assert probs == [] and len(obs) == 1
    assert obs[0].fields["sys_descr"] == "Hikvision company products"
    assert obs[0].fields["sys_object_id"] == "1.3.6.1.4.1.50001"
    assert "sys_object_id_from" not in obs[0].fields


def test_huawei_s5720_sysdescr_and_entities():
    obs, probs, ctx = read(SNMPREC, shared_sample("snmp/huawei-s5720-system-entphysical.excerpt.snmprec"))
    assert probs == []
    dev = obs[0]
    assert dev.asset == "DUMSYS-05"
    assert dev.fields["hostname"] == "DUMSYS-05"
    assert dev.fields["sys_object_id"] == "1.3.6.1.4.1.2011.2.23.276"
    sd = dev.fields["sys_descr"]
    assert sd.startswith("S5720-36C-EI-AC \nHuawei Versatile Routing Platform Software")
    assert "VRP (R) software,Version 5.160 (S5720 V200R007C00SPC500)" in sd
    assert "\r" not in sd
    assert dev.source.locator == "line 1"
    ents = [o for o in obs[1:]]
    assert len(ents) == 63
    assert all(o.asset == "DUMSYS-05" and o.kind == "device" for o in ents)
    chassis = next(o for o in ents if o.fields["entity_index"] == "67108867")
    assert chassis.fields["name"] == "HUAWEI S5720 Routing Switch"
    assert chassis.fields["publisher"] == "Huawei"
    assert chassis.fields["serial"] == "210235956210F7000410"
    assert chassis.fields["version"] == "Version 5.160 V200R007C00SPC500"
    assert chassis.source.locator == "line 8"
    assert ctx.observations == 64


def test_zte_zxr10_sysdescr_ifdescr_not_evidence():
    p = shared_sample("snmp/zte-zxr10-5250-system-ifdescr.excerpt.snmprec")
    obs, probs, _ = read(SNMPREC, p)
    assert probs == []
    assert len(obs) == 1  # the 52 ifDescr rows are not evidence
    f = obs[0].fields
    assert f["sys_descr"] == "ZTE Ethernet Switch  ZXR10 5250-52TM-H, Version: V2.05.11B19"
    assert f["sys_object_id"] == "1.3.6.1.4.1.3902.3.100.614"
    assert obs[0].asset == "DUMSYS-86"


def test_huawei_ups_ident():
    obs, probs, _ = read(SNMPREC, shared_sample("snmp/huawei-gse200m-ups.snmprec"))
    assert probs == [] and len(obs) == 1
    f = obs[0].fields
    assert f["publisher"] == "HUAWEI" and f["model"] == "UPS5000"
    assert f["sys_object_id"] == "1.3.6.1.4.1.8072.3.2.10"
    assert obs[0].source.locator == "line 2"  # line 1 is a comment


def test_winxp_walk_installed_software():
    p = shared_sample("snmp/netsnmp-snmpwalk-ObentU-winxp.snmpwalk")
    assert detect(p.read_bytes()[:65536], str(p)) is SNMPWALK
    assert not SNMPREC.sniff(p.read_bytes()[:65536], str(p))
    obs, probs, _ = read(SNMPWALK, p)
    assert probs == []
    dev = obs[0]
    assert dev.asset == "CRAY"
    assert dev.fields["sys_object_id"] == "1.3.6.1.4.1.311.1.1.3.1.1"
    assert dev.fields["sys_descr"].startswith("Hardware: x86 Family 6 Model 9")
    sw = [o for o in obs if o.kind == "software"]
    assert len(sw) == 156
    assert all(o.evidence_class is EvidenceClass.INSTALLED for o in sw)
    zip_ = next(o for o in sw if o.fields["name"] == "7-Zip 9.20")
    assert zip_.source.locator == "line 1126"
    assert len([o for o in obs if o.kind == "process"]) == 34


def test_linux_walk():
    obs, probs, _ = read(SNMPWALK, shared_sample("snmp/netsnmp-snmpwalk-ObentU-linux.snmpwalk"))
    assert probs == []
    assert obs[0].fields["sys_object_id"] == "1.3.6.1.4.1.8072.3.2.10"
    assert obs[0].fields["sys_descr"].startswith("Linux cray 2.6.37.6-smp")
    procs = [o for o in obs if o.kind == "process"]
    assert len(procs) == 118
    assert procs[0].fields["process"] == "init" and procs[0].evidence_class is EvidenceClass.RUNTIME


def test_symbolic_walk_multiline_and_cp1252():
    p = FIXTURES / "snmpwalk-symbolic.txt"
    assert detect(p.read_bytes(), str(p)) is SNMPWALK
    obs, probs, ctx = read(SNMPWALK, p)
    assert probs == []
    dev = obs[0]
    assert dev.asset == "core-sw-01"
    assert dev.fields["sys_object_id"] == "1.3.6.1.4.1.2011.2.23.500"
    assert dev.fields["sys_descr"] == (
        "Huawei Versatile Routing Platform Software\nVRP (R) software, Version 5.170 "
        "(S5735 V200R019C00SPC500)\nCopyright (C) 2000-2019 HUAWEI TECH Co., Ltd"
    )
    assert any("Windows-1252" in d for d in ctx.deviations)
    ent = [o for o in obs if "entity_index" in o.fields]
    assert len(ent) == 1 and ent[0].fields["model"] == "S5735-L48T4X-A1"
    assert ent[0].fields["serial"] == "2102351234ABCD000001"
    assert ent[0].source.locator == "line 10"
    sw = sorted(o.fields["name"] for o in obs if o.kind == "software")
    assert sw == ["7-Zip 9.20", "Kaspersky Endpoint Security for Windows"]


def test_norm_oid():
    assert norm_oid("SNMPv2-SMI::enterprises.39165.1.1") == "1.3.6.1.4.1.39165.1.1"
    assert norm_oid(".1.3.6.1.4.1.2011") == "1.3.6.1.4.1.2011"
    assert norm_oid("iso.3.6.1.4.1.3902") == "1.3.6.1.4.1.3902"
    assert norm_oid("NET-SNMP-MIB::netSnmpAgentOIDs.10") == "1.3.6.1.4.1.8072.3.2.10"


def test_snmprec_bad_hex_is_a_problem_and_reading_goes_on():
    data = b"1.3.6.1.2.1.1.1.0|4x|zz\n1.3.6.1.2.1.1.5.0|4|sw1\n"
    ctx = ReadContext("bad.snmprec", "x")
    items = list(SNMPREC.read(io.BytesIO(data), ctx))
    assert [type(i).__name__ for i in items] == ["Problem", "Observation"]
    assert items[0].source.locator == "line 1" and not items[0].fatal
    assert items[1].asset == "sw1"

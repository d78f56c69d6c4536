"""nmap XML reader: real scans from nmap 3.75 to 6.40, hostile XML."""

from __future__ import annotations

import io
import time

import pytest
from sharedsamples import shared_sample

from banscan.model import EvidenceClass, Observation, Problem
from banscan.sources import ReadContext, detect
from banscan.sources.nmap import SOURCE as NMAP


def read(data: bytes, name: str = "scan.xml"):
    ctx = ReadContext(name, "scanner")
    items = list(NMAP.read(io.BytesIO(data), ctx))
    return ([i for i in items if isinstance(i, Observation)], [i for i in items if isinstance(i, Problem)], ctx)


@pytest.mark.parametrize("rel,up,hosts", [
    ("nmap/nmap-3.75-zenmap-test11-mac.xml", 4, 4),
    ("nmap/nmap-4.90RC2-ndiff-complex.xml", 1, 1),
    ("nmap/nmap-5.21-A-lan-mac-novendor.xml", 4, 256),
    ("nmap/nmap-5.51-sV-O-scripts.xml", 1, 1),
    ("nmap/nmap-6.40-A-lan-mac-vendors.xml", 4, 256),
])
def test_counts(rel, up, hosts):
    data = shared_sample(rel).read_bytes()
    assert detect(data[:65536], rel) is NMAP
    obs, probs, ctx = read(data)
    assert probs == []
    assert len(obs) == up
    assert ctx.observations == hosts
    assert all(o.kind == "device" and o.evidence_class is EvidenceClass.NETWORK_DEVICE for o in obs)


def test_mac_vendors_and_locators():
    obs, _, _ = read(shared_sample("nmap/nmap-6.40-A-lan-mac-vendors.xml").read_bytes())
    by_ip = {o.asset: o for o in obs}
    gw = by_ip["192.168.1.1"]
    assert gw.source.locator == "/nmaprun/host[253]"
    assert gw.fields["mac"] == "6c:2e:85:19:af:00"
    assert gw.fields["oui_vendor"] == "Sagemcom"
    assert gw.fields["http_title"] == "Belgacom"
    assert gw.fields["tls_subject_cn"] == "ORname_Jungo: OpenRG Products Group"
    assert "Sagem router telnetd" in gw.values("banner")  # several banners: one value each
    assert by_ip["192.168.1.2"].fields["oui_vendor"] == "Apple"
    assert by_ip["192.168.1.5"].fields["oui_vendor"] == "Intel Corporate"
    assert "mac" not in by_ip["192.168.1.3"].fields

    old, _, _ = read(shared_sample("nmap/nmap-3.75-zenmap-test11-mac.xml").read_bytes())
    assert [o.fields.get("oui_vendor") for o in old] == ["Netronix", "Thomson Belgium", "Netronix", None]
    assert old[1].fields["hostname"] == "SpeedTouch.canopo"
    assert old[1].source.locator == "/nmaprun/host[2]"
    assert old[1].fields["banner"] == "Alcatel Speed Touch *DSL modem/router"


def test_mac_without_vendor():
    obs, _, _ = read(shared_sample("nmap/nmap-5.21-A-lan-mac-novendor.xml").read_bytes())
    gw = next(o for o in obs if o.asset == "192.168.1.1")
    assert gw.fields["mac"] == "6c:2e:85:19:af:00" and "oui_vendor" not in gw.fields


def test_http_headers_script():
    obs, _, _ = read(shared_sample("nmap/nmap-5.51-sV-O-scripts.xml").read_bytes())
    servers = list(obs[0].values("http_server"))
    assert "Apache/2.2.15 (CentOS) PHP/5.3.3" in servers and "CUPS/1.4" in servers


SCRIPTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<nmaprun scanner="nmap" version="7.94" xmloutputversion="1.05">
<host><status state="up"/><address addr="10.1.1.64" addrtype="ipv4"/>
<address addr="BC:AD:28:AA:BB:CC" addrtype="mac" vendor="Hangzhou Hikvision Digital Technology"/>
<hostnames><hostname name="cam-64.lan" type="PTR"/></hostnames>
<ports>
<port protocol="tcp" portid="80"><state state="open"/><service name="http" product="Hikvision IP camera httpd"/>
<script id="http-server-header" output="App-webs/"><elem>App-webs/</elem></script>
<script id="http-title" output="Did not follow redirect to /doc/page/login.asp"/>
<script id="http-headers" output="&#xa;  Server: App-webs/&#xa;  WWW-Authenticate: Digest realm=&quot;IP Camera(C1234)&quot;&#xa;"/>
</port>
<port protocol="tcp" portid="443"><state state="open"/><service name="https"/>
<script id="ssl-cert" output="Subject: commonName=10.1.1.64/organizationName=Hikvision/countryName=CN&#xa;Issuer: commonName=10.1.1.64/organizationName=Hikvision"/>
</port>
<port protocol="tcp" portid="554"><state state="open"/><service name="rtsp" product="Hikvision 7513 POE IP camera rtspd"/>
<script id="rtsp-methods" output="Server: Dahua Rtsp Server"/>
</port>
<port protocol="tcp" portid="23"><state state="closed"/><service name="telnet" product="should not appear"/></port>
</ports>
</host>
<host><status state="up"/><address addr="10.1.1.2" addrtype="ipv4"/>
<ports><port protocol="udp" portid="161"><state state="open"/><service name="snmp"/>
<script id="snmp-sysdescr" output="Huawei Versatile Routing Platform Software&#xa;VRP (R) software, Version 5.170&#xa;  System uptime: 10 days"/></port>
<port protocol="tcp" portid="443"><state state="open"/><service name="https"/>
<script id="ssl-cert" output="Subject: commonName=x"><table key="subject"><elem key="commonName">router.example</elem><elem key="organizationName">Huawei Technologies Co., Ltd.</elem></table><table key="issuer"><elem key="organizationName">Huawei</elem></table></script></port>
<port protocol="tcp" portid="1900"><state state="open"/>
<script id="upnp-info" output="&#xa;  Server: Linux UPnP/1.0 Huawei-ATP-IGD&#xa;  Location: http://10.1.1.2:37215/desc&#xa;    Manufacturer: Huawei Technologies Co., Ltd&#xa;    Model Name: HG8245H&#xa;"/></port>
</ports></host>
</nmaprun>
"""


def test_scripts_and_services():
    obs, probs, _ = read(SCRIPTED)
    assert probs == [] and len(obs) == 2
    cam, sw = obs
    assert cam.asset == "10.1.1.64" and cam.fields["hostname"] == "cam-64.lan"
    assert cam.fields["oui_vendor"] == "Hangzhou Hikvision Digital Technology"
    assert cam.fields["mac"] == "bc:ad:28:aa:bb:cc"
    assert cam.fields["http_server"] == "App-webs/"
    assert "http_title" not in cam.fields
    assert cam.fields["www_authenticate"] == 'Digest realm="IP Camera(C1234)"'
    assert cam.fields["tls_subject_org"] == "Hikvision" and cam.fields["tls_issuer_org"] == "Hikvision"
    assert cam.fields["rtsp_server"] == ("Hikvision 7513 POE IP camera rtspd", "Dahua Rtsp Server")
    assert "should not appear" not in cam.fields["banner"]
    assert sw.fields["sys_descr"] == "Huawei Versatile Routing Platform Software\nVRP (R) software, Version 5.170"
    assert sw.fields["tls_subject_org"] == "Huawei Technologies Co., Ltd."
    assert sw.fields["tls_subject_cn"] == "router.example"
    assert sw.fields["tls_issuer_org"] == "Huawei"
    assert sw.fields["publisher"] == "Huawei Technologies Co., Ltd" and sw.fields["model"] == "HG8245H"
    assert sw.source.locator == "/nmaprun/host[2]"


def test_truncated_is_fatal_with_position():
    data = shared_sample("nmap/nmap-6.40-A-lan-mac-vendors.xml").read_bytes()
    obs, probs, _ = read(data[: len(data) * 2 // 3])
    assert len(probs) == 1 and probs[0].fatal
    assert probs[0].source.locator.startswith("line ")
    assert "column" in probs[0].source.locator


BOMB = (b'<?xml version="1.0"?>\n<!DOCTYPE nmaprun [\n<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">\n'
        + b"".join(b'<!ENTITY %s "%s">\n' % (bytes([98 + i]), (b"&" + bytes([97 + i]) + b";") * 10) for i in range(9))
        + b"]>\n<nmaprun><host><hostnames><hostname name=\"&j;\"/></hostnames></host></nmaprun>\n")
XXE = (b'<?xml version="1.0"?>\n<!DOCTYPE nmaprun [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
       b'<nmaprun><host><status state="up"/><address addr="1.2.3.4" addrtype="ipv4"/>'
       b'<hostnames><hostname name="&x;"/></hostnames></host></nmaprun>\n')
XXE_PARAM = (b'<?xml version="1.0"?>\n<!DOCTYPE nmaprun [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>\n'
             b"<nmaprun></nmaprun>\n")


@pytest.mark.parametrize("data", [BOMB, XXE, XXE_PARAM], ids=["billion-laughs", "external-entity", "parameter-entity"])
def test_hostile_xml_refused_fast(data):
    assert NMAP.sniff(data, "x.xml")
    t = time.perf_counter()
    obs, probs, _ = read(data)
    assert time.perf_counter() - t < 1.0
    assert obs == []
    assert len(probs) == 1 and probs[0].fatal
    assert "etc/passwd" not in str(probs[0]) or "refused" in probs[0].message


def test_other_root_is_fatal():
    obs, probs, _ = read(b'<?xml version="1.0"?><bom><host/></bom>')
    assert obs == [] and probs[0].fatal
    assert not NMAP.sniff(b'<?xml version="1.0"?><bom><host/></bom>', "x.xml")

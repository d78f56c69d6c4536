"""Hostile and broken inputs: readers never crash the process, never read without bound, skip a
bad record instead of ending the file, and produce only strings every writer can encode.

Each case mutates a real sample under ../shared/samples in the test (nothing is copied into the
repository).  Cases that used to crash the interpreter or blow up memory or time run in a
subprocess under resource limits (address space and CPU seconds), so a regression fails the test
instead of hanging or killing the suite.
"""

from __future__ import annotations

import io
import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sharedsamples import shared_sample

from banscan import report as reports
from banscan.registry import Registry, load
from banscan.scan import Scanner, ScanRequest, ScanResult, run
from banscan.sources import detect, osquery
from banscan.sources.base import ReadContext
from banscan.sources.encoding import clean_text, detect_encoding
from banscan.sources.limits import JsonGuard, LimitExceeded, Limits

ROOT = Path(__file__).resolve().parents[2]
MEM = 1 << 30  # address-space cap of a bounded run (a normal scan needs well under 512 MB)


@pytest.fixture(scope="module")
def reg() -> Registry:
    return load()


def scan(reg: Registry, *paths: Path | str, fmt: str | None = None, asset: str | None = None,
         limits: Limits | None = None) -> ScanResult:
    import datetime as dt

    req = ScanRequest(inputs=tuple(str(p) for p in paths), format=fmt, asset=asset,
                      as_of=dt.date(2026, 11, 1), limits=limits or Limits())
    return run(req, reg)


def bounded(*args: str, stdin: Any = None, env: dict[str, str] | None = None, cpu: int = 60,
            mem: int = MEM) -> subprocess.CompletedProcess[bytes]:
    """``banscan scan --no-store -f json ARGS`` in a subprocess capped at ``mem`` bytes of
    address space and ``cpu`` CPU seconds (the kernel stops it past either)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))

    e = {k: v for k, v in os.environ.items() if not k.startswith("BANSCAN_")}
    e["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + e.get("PYTHONPATH", "")
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "banscan", "scan", "--no-store", "-f", "json", *args],
                          stdin=stdin if stdin is not None else subprocess.DEVNULL, capture_output=True,
                          preexec_fn=limit, env=e, timeout=cpu * 4, cwd=ROOT)


def report_of(p: subprocess.CompletedProcess[bytes]) -> dict[str, Any]:
    assert p.returncode in (0, 1, 2), (p.returncode, p.stderr[-2000:])
    assert b"Traceback" not in p.stderr, p.stderr[-2000:]
    return json.loads(p.stdout)


def by_path(rep: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["path"]: i for i in rep["inputs"]}


def obs_count(result: ScanResult, path: Path) -> int:
    return next(i.observations for i in result.inputs if i.path == str(path))


def inp(result: ScanResult, path: Path) -> Any:
    return next(i for i in result.inputs if i.path == str(path))


def osqueryi_rows(log: Path) -> list[dict[str, str]]:
    """The rows of a real osqueryd results log, as ``osqueryi --json`` prints them."""
    return [json.loads(ln)["columns"] for ln in log.read_text().splitlines() if ln.strip()]


DEB_LOG = "osquery/elastic-osqueryd-results-deb_packages.excerpt.log"


# --------------------------------------------------------------------------- 1. no segfault


def _insert_number(data: bytes, anchor: bytes, digits: int = 5000) -> bytes:
    i = data.index(anchor)
    return data[:i] + b'"x": ' + b"7" * digits + b", " + data[i:]


def test_huge_json_numbers_never_crash_the_process(tmp_path: Path) -> None:
    """ijson's C backend segfaults on an integer of 4,301+ digits: the guard refuses the number
    first, names the limit, and every other input of the scan is still read."""
    cases = {
        "cdx.json": _insert_number(shared_sample("cyclonedx/cdx-1.6-syft-gomod.json").read_bytes(), b'"components"'),
        "spdx.json": _insert_number(shared_sample("spdx/spdx-2.3-json-canonical-example.spdx.json").read_bytes(), b'"packages"'),
        "spdx3.json": _insert_number(shared_sample("spdx/spdx-3.0-jsonld-python-hello-source.spdx3.json").read_bytes(), b'"@graph"'),
        "winget.json": _insert_number(shared_sample("windows/winget-export-1.29.280.json").read_bytes(), b'"Sources"'),
    }
    rows = osqueryi_rows(shared_sample(DEB_LOG))
    arr = json.dumps(rows, indent=2).encode()
    i = arr.index(b'"arch"', len(arr) // 2)  # a row after the ones the format is recognised from
    cases["osqueryi.json"] = arr[:i] + b'"size": ' + b"1" * 5000 + b", " + arr[i:]
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    clean = shared_sample("cyclonedx/cdx-1.5-trivy-kbom.json")
    p = bounded(*[str(tmp_path / n) for n in cases], str(clean))
    assert p.returncode == 2, p.stderr[-2000:]
    rep = by_path(report_of(p))
    for n in cases:
        errs = rep[str(tmp_path / n)]["errors"]
        assert errs and "max_number_digits" in errs[0], (n, errs)
    assert rep[str(clean)]["observations"] > 0 and not rep[str(clean)]["errors"]


def test_numbers_below_the_limit_are_read(reg: Registry, tmp_path: Path) -> None:
    src = shared_sample("cyclonedx/cdx-1.6-syft-gomod.json")
    f = tmp_path / "cdx.json"
    f.write_bytes(_insert_number(src.read_bytes(), b'"components"', digits=900))
    r = scan(reg, src, f)
    assert not inp(r, f).errors and obs_count(r, f) == obs_count(r, src) > 0


def test_json_guard_checks_across_chunk_boundaries() -> None:
    lim = Limits(max_depth=10, max_number_digits=20, max_field_bytes=50)

    def feed(data: bytes, size: int) -> None:
        g = JsonGuard(io.BytesIO(data), lim)
        while g.read(size):
            pass

    ok = b'{"a": "' + b"[" * 40 + b'", "n": ' + b"1" * 20 + b', "b": [[["\\"]]"]]]}'
    for size in (1, 2, 3, 7, 64):
        feed(ok, size)  # brackets inside strings, escaped quotes: nothing to refuse
        with pytest.raises(LimitExceeded, match="max_number_digits"):
            feed(b'{"n": ' + b"1" * 21 + b"}", size)
        with pytest.raises(LimitExceeded, match="max_depth"):
            feed(b"[" * 11 + b"]" * 11, size)
        with pytest.raises(LimitExceeded, match="max_field_bytes"):
            feed(b'{"s": "' + b"x" * 60 + b'"}', size)


def _reference_limit(data: bytes, lim: Limits) -> str | None:
    """Byte-by-byte reference for the guard: the first limit passed, or None.  (A backslash
    outside a string is invalid JSON, where a parser stops; it is taken to escape the next byte
    there too.)"""
    depth = run = slen = 0
    in_str = esc = False
    for c in data:
        ch = bytes([c])
        if esc and not in_str:
            esc = False
            run = 0
            continue
        if not in_str and ch == b"\\":
            esc = True
            continue
        if in_str:
            if esc:
                esc = False
            elif ch == b"\\":
                esc = True
                slen += 1
                continue
            elif ch == b'"':
                in_str = False
                continue
            slen += 1
            if slen > lim.max_field_bytes:
                return "max_field_bytes"
            continue
        if ch == b'"':
            in_str, slen, run = True, 0, 0
        elif ch.isdigit():
            run += 1
            if run > lim.max_number_digits:
                return "max_number_digits"
            continue
        elif ch in b"[{":
            depth += 1
            if depth > lim.max_depth:
                return "max_depth"
        elif ch in b"]}":
            depth = max(0, depth - 1)
        run = 0
    return None


def test_json_guard_agrees_with_a_byte_by_byte_reference() -> None:
    """Random mutations of a real SBOM, fed in random chunk sizes: the guard refuses exactly the
    inputs the reference refuses, for the same limit."""
    import random

    base = shared_sample("cyclonedx/cdx-1.2-npm-cern-lhc-vdm-editor.json").read_bytes()[:3000]
    lim = Limits(max_depth=8, max_number_digits=12, max_field_bytes=60)
    rnd = random.Random(15)
    inserts = [b"[", b"]", b"{", b"}", b'"', b"\\", b'\\"', b"1" * 7, b"x" * 30, b"[[[[", b"]]]]"]
    for _ in range(400):
        data = bytearray(base)
        for _ in range(rnd.randint(1, 12)):
            at = rnd.randrange(len(data))
            data[at:at] = rnd.choice(inserts)
        data = bytes(data)
        want = _reference_limit(data, lim)
        g = JsonGuard(io.BytesIO(data), lim)
        got = None
        try:
            while g.read(rnd.choice((1, 5, 64, 700, 4096))):
                pass
        except LimitExceeded as e:
            got = e.limit
        assert got == want, (want, got, data)


# --------------------------------------------------------------------------- 4. memory bounds


def test_deeply_nested_json_and_xml_are_refused_within_bounded_memory(tmp_path: Path) -> None:
    """Nested JSON arrays (60 KB took 2.2 GB) and CycloneDX XML with 60,000 nested elements
    (3.6 GB) stop at max_depth, under a 1 GB address-space cap."""
    cdx = shared_sample("cyclonedx/cdx-1.6-syft-gomod.json").read_bytes()
    i = cdx.index(b'"components"')
    (tmp_path / "deep.json").write_bytes(cdx[:i] + b'"x": ' + b"[" * 30000 + b"]" * 30000 + b", " + cdx[i:])
    xml = shared_sample("cyclonedx/cdx-1.4-composer-laravel.xml").read_bytes()
    j = xml.index(b"<components>")
    (tmp_path / "deep.xml").write_bytes(xml[:j] + b"<x>" * 60000 + b"</x>" * 60000 + xml[j:])
    rows = json.dumps(osqueryi_rows(shared_sample(DEB_LOG))).encode()
    (tmp_path / "deep-osqueryi.json").write_bytes(rows[:-1] + b"," + b"[" * 30000 + b"]" * 30000 + b"]")
    p = bounded(str(tmp_path / "deep.json"), str(tmp_path / "deep.xml"), str(tmp_path / "deep-osqueryi.json"))
    rep = by_path(report_of(p))
    for n in ("deep.json", "deep.xml", "deep-osqueryi.json"):
        errs = rep[str(tmp_path / n)]["errors"]
        assert errs and "max_depth" in errs[0], (n, errs)
    # the rows before the nesting were read
    assert rep[str(tmp_path / "deep-osqueryi.json")]["observations"] == len(osqueryi_rows(shared_sample(DEB_LOG)))


def test_devices_and_endless_streams_are_bounded(tmp_path: Path) -> None:
    # a device is refused by type, before it is opened
    p = bounded("--input-format", "osquery", "/dev/zero", cpu=30)
    rep = report_of(p)
    assert p.returncode == 2 and "character device" in rep["inputs"][0]["errors"][0]
    # an endless unrecognised stream stops at its head: nothing is spooled
    with open("/dev/zero", "rb") as zero:
        p = bounded("-", stdin=zero, cpu=30)
    rep = report_of(p)
    assert p.returncode == 2 and "not a recognised inventory format" in rep["inputs"][0]["errors"][0]
    # forced onto a line reader, an endless line ends at a named limit
    with open("/dev/zero", "rb") as zero:
        p = bounded("--input-format", "osquery", "-", stdin=zero, cpu=30,
                    env={"BANSCAN_LIMIT_MAX_DOCUMENT_BYTES": str(16 << 20)})
    rep = report_of(p)
    assert p.returncode == 2 and "max_document_bytes" in rep["inputs"][0]["errors"][0]


def test_long_lines_are_skipped_not_held(reg: Registry, tmp_path: Path) -> None:
    src = shared_sample("zeek/zat-json-dns.log")
    lines = src.read_bytes().splitlines(keepends=True)
    f = tmp_path / "dns.log"
    f.write_bytes(b"".join(lines[:3]) + b'{"ts": 1, "query": "' + b"a" * 5000 + b'"}\n' + b"".join(lines[3:]))
    r = scan(reg, src, f, limits=Limits(max_line_bytes=4096))
    i = inp(r, f)
    assert not i.errors
    assert any("line 4" in d and "max_line_bytes" in d for d in i.deviations)
    assert obs_count(r, f) == obs_count(r, src)


# --------------------------------------------------------------------------- 5. hangs


def _hostile(tmp_path: Path, name: str, data: bytes) -> Path:
    f = tmp_path / name
    f.write_bytes(data)
    return f


HOSTILE: dict[str, Any] = {
    # ARP sniffer on a line of colons (20 KB took 31 s): the file sits in a directory walk
    # (no ARP table sample exists under ../shared/samples: an `ip neigh` line and the colons)
    "arp-colons": lambda: b"192.168.1.1 dev eth0 lladdr 00:e0:fc:01:02:03 REACHABLE\n" + b":" * 60000 + b"\n",
    # SPDX supplier pattern on internal spaces (50 KB took 30 s)
    "spdx-spaces": lambda: shared_sample("spdx/spdx-2.2-tagvalue-example1-hello.spdx").read_bytes().replace(
        b"PackageName:", b"PackageSupplier: Organization: a" + b" " * 100000 + b"b (\nPackageName:", 1),
    # a dhcpd line of '}'
    "dhcpd-braces": lambda: shared_sample("dhcp/isc-dhcpd-4.2.2-debian7.leases").read_bytes() + b"}" * 400000 + b"\n",
    # snmpwalk continuation lines
    "snmpwalk-continuations": lambda: shared_sample("snmp/netsnmp-snmpwalk-ObentU-linux.snmpwalk").read_bytes()
    + b'.1.3.6.1.2.1.1.1.0 = STRING: "open\n' + b"more text\n" * 200000,
    # a DNS name of many labels, a bundle id of many dots
    "zeek-labels": lambda: b"".join((lambda ls: [ls[0], re.sub(rb'"query":"[^"]*"', b'"query":"' + b"a." * 200000 + b'kaspersky.com"', ls[1], count=1),
                                                 *ls[2:]])(shared_sample("zeek/zat-json-dns.log").read_bytes().splitlines(keepends=True))),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_lines_finish_in_bounded_cpu(tmp_path: Path, case: str) -> None:
    d = tmp_path / "walk"
    d.mkdir()
    f = _hostile(d, case, HOSTILE[case]())
    p = bounded(str(d), cpu=30)
    rep = by_path(report_of(p))
    assert str(f) in rep


def test_mdm_bundle_id_with_many_dots_is_matched_in_bounded_cpu(tmp_path: Path) -> None:
    src = shared_sample("mdm/apple-mdm-InstalledApplicationList-response.plist").read_bytes()
    f = _hostile(tmp_path, "apps.plist", re.sub(rb"<key>Identifier</key>\s*<string>[^<]*</string>",
                                                 b"<key>Identifier</key><string>" + b"a." * 30000 + b"a</string>",
                                                 src, count=1))
    orig = tmp_path / "orig.plist"
    orig.write_bytes(src)
    p = bounded(str(f), str(orig), cpu=30)
    rep = by_path(report_of(p))
    assert rep[str(f)]["observations"] == rep[str(orig)]["observations"] > 0


def test_fifo_in_a_scanned_directory_is_refused_by_type(tmp_path: Path) -> None:
    d = tmp_path / "walk"
    d.mkdir()
    os.mkfifo(d / "a-fifo")
    (d / "leases").write_bytes(shared_sample("dhcp/dnsmasq-small-lan.leases").read_bytes())
    p = bounded(str(d), cpu=30)
    rep = by_path(report_of(p))
    assert "FIFO" in rep[str(d / "a-fifo")].get("skipped", "")
    assert rep[str(d / "leases")]["observations"] > 0


# --------------------------------------------------------------------------- 7. record-level errors


def test_nmap_bad_endtime_keeps_the_other_hosts(reg: Registry, tmp_path: Path) -> None:
    src = shared_sample("nmap/nmap-6.40-A-lan-mac-vendors.xml")
    data = src.read_bytes()
    f = tmp_path / "nmap.xml"
    f.write_bytes(re.sub(rb'endtime="\d+"', b'endtime="99999999999999"', data, count=1))
    r = scan(reg, src, f)
    assert not inp(r, f).errors
    assert obs_count(r, f) == obs_count(r, src) > 1
    assert any("99999999999999" in d for d in inp(r, f).deviations)


def test_osquery_unixtime_list_or_object_keeps_the_rest(reg: Registry, tmp_path: Path) -> None:
    src = shared_sample(DEB_LOG)
    lines = src.read_text().splitlines()
    a, b = json.loads(lines[2]), json.loads(lines[3])
    a["unixTime"], b["unixTime"] = [1, 2], {"x": 1}
    f = tmp_path / "osq.log"
    f.write_text("\n".join([*lines[:2], json.dumps(a), json.dumps(b), *lines[4:]]) + "\n")
    r = scan(reg, src, f)
    assert not inp(r, f).errors
    assert obs_count(r, f) == obs_count(r, src) == len(lines)


def test_cut_osqueryd_log_then_more_inputs(reg: Registry, tmp_path: Path) -> None:
    """The last line cut: that line is the error; every row before it and every input after
    it are read (this used to end the whole scan with 'read of closed file')."""
    src = shared_sample(DEB_LOG)
    data = src.read_bytes().rstrip(b"\n")
    f = tmp_path / "cut.log"
    f.write_bytes(data[:-40])
    n = len(data.splitlines())
    after = shared_sample("zeek/zat-json-dns.log")
    r = scan(reg, f, after)
    assert obs_count(r, f) == n - 1
    assert len(inp(r, f).errors) == 1 and f"line {n}" in inp(r, f).errors[0]
    assert obs_count(r, after) > 0 and not inp(r, after).errors


ZEEK_TSV = "zeek/zat-tsv-dns.log"


def _zeek_variant(kind: str) -> bytes:
    data = shared_sample(ZEEK_TSV).read_bytes()
    lines = data.splitlines(keepends=True)
    fields = next(i for i, ln in enumerate(lines) if ln.startswith(b"#fields"))
    data_line = next(ln for ln in lines if not ln.startswith(b"#"))
    if kind == "data-before-fields":
        return b"".join(lines[:fields]) + data_line + b"".join(lines[fields:])
    if kind == "empty-set-separator":
        return re.sub(rb"#set_separator\t[^\n]*", b"#set_separator\t", data, count=1)
    if kind == "nul-in-header":
        return data.replace(b"#path\t", b"#path\t\x00", 1)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["data-before-fields", "empty-set-separator", "nul-in-header"])
def test_zeek_tsv_header_problems_keep_the_lines(reg: Registry, tmp_path: Path, kind: str) -> None:
    src = shared_sample(ZEEK_TSV)
    f = tmp_path / "z.log"
    f.write_bytes(_zeek_variant(kind))
    after = shared_sample("zeek/zat-json-dns.log")
    r = scan(reg, src, f, after)
    assert not inp(r, f).errors, inp(r, f).errors
    assert obs_count(r, f) == obs_count(r, src) > 0
    assert inp(r, f).deviations
    assert obs_count(r, after) > 0


def test_reader_exception_is_that_inputs_error(reg: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from banscan.sources import cyclonedx_json

    calls = {"n": 0}
    real = cyclonedx_json.component_fields

    def flaky(c: dict[str, Any]) -> dict[str, str]:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("reader bug")
        return real(c)

    monkeypatch.setattr(cyclonedx_json, "component_fields", flaky)
    bad = shared_sample("cyclonedx/cdx-1.5-cdxgen-maven-vuln-spring.json")
    after = shared_sample("zeek/zat-json-dns.log")
    r = scan(reg, bad, after)
    err = inp(r, bad).errors
    assert len(err) == 1 and str(bad) in err[0] and "RuntimeError: reader bug" in err[0] and "after /" in err[0]
    assert obs_count(r, after) > 0


def test_unreadable_directory_is_an_error(reg: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = tmp_path / "walk"
    (d / "locked").mkdir(parents=True)
    (d / "leases").write_bytes(shared_sample("dhcp/dnsmasq-small-lan.leases").read_bytes())
    real = os.scandir

    def scandir(path: Any = ".") -> Any:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    r = scan(reg, d)
    locked = inp(r, d / "locked")
    assert locked.errors and "Permission denied" in locked.errors[0]
    assert obs_count(r, d / "leases") > 0


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("sample", [
    "cyclonedx/cdx-1.6-syft-gomod.json", "spdx/spdx-2.3-json-canonical-example.spdx.json",
    "windows/winget-export-1.29.280.json", "dhcp/dnsmasq-small-lan.leases",
    "snmp/huawei-gse200m-ups.snmprec", DEB_LOG, "zeek/zat-tsv-dns.log",
])
@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_bom_and_utf16_32_read_like_utf8(reg: Registry, tmp_path: Path, sample: str, encoding: str) -> None:
    src = shared_sample(sample)
    f = tmp_path / Path(sample).name
    f.write_bytes(src.read_text(encoding="utf-8").encode(encoding))
    r = scan(reg, src, f)
    a, b = inp(r, src), inp(r, f)
    assert b.format == a.format and not b.errors
    assert b.observations == a.observations > 0
    da = sorted((d.source.locator, d.family) for d in r.detections if d.source.path == str(src))
    db = sorted((d.source.locator, d.family) for d in r.detections if d.source.path == str(f))
    assert da == db
    assert b.deviations


def test_encoding_detection_without_bom() -> None:
    assert detect_encoding('{"a": 1}'.encode("utf-16-le")) == ("utf-16-le", 0)
    assert detect_encoding('{"a": 1}'.encode("utf-32-be")) == ("utf-32-be", 0)
    assert detect_encoding(b'{"a": 1}') is None


def test_surrogates_reach_no_writer_or_store(reg: Registry, tmp_path: Path) -> None:
    """A lone surrogate in an osquery host name and a Zeek JSON field is replaced and noted; every
    report format and the store then encode the result."""
    lines = shared_sample(DEB_LOG).read_text().splitlines()
    d = json.loads(lines[0])
    d["hostIdentifier"] = "host-\udc80"
    d["columns"]["name"] = "kesl"
    f = tmp_path / "osq.log"
    f.write_text(json.dumps(d) + "\n" + "\n".join(lines[1:]) + "\n")
    zl = shared_sample("zeek/zat-json-dns.log").read_text().splitlines()
    z = json.loads(zl[0])
    z["query"] = "ksn.kaspersky-labs.com\udc80"
    z["id.orig_h"] = "10.0.0.\udc80"
    g = tmp_path / "dns.log"
    g.write_text(json.dumps(z) + "\n" + "\n".join(zl[1:]) + "\n")
    r = scan(reg, f, g)
    assert any(x.asset == "host-\ufffd" for x in r.detections)
    for i in (inp(r, f), inp(r, g)):
        assert not i.errors and any("U+FFFD" in x for x in i.deviations)
    for name in reports.names():
        if name == "oscal":
            pytest.importorskip("trestle")
        buf = io.BytesIO()
        out = io.TextIOWrapper(buf, encoding="utf-8", errors="strict")
        reports.by_name(name).write(r, reg, out, {"far": {}})
        out.flush()
    from banscan.store import open_store

    with open_store(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        store.record(r, reg)


def test_clean_text() -> None:
    assert clean_text("a\udc80b") == ("a\ufffdb", True)
    assert clean_text("a\x00b") == ("a\ufffdb", True)
    assert clean_text("Лаборатория") == ("Лаборатория", False)


# --------------------------------------------------------------------------- limits


def test_limits_from_config_and_environment() -> None:
    assert Limits.load({"max_depth": 10}, {}).max_depth == 10
    assert Limits.load({"max_depth": 10}, {"BANSCAN_LIMIT_MAX_DEPTH": "20"}).max_depth == 20
    with pytest.raises(ValueError, match="unknown limit"):
        Limits.load({"max_dept": 10}, {})
    with pytest.raises(ValueError, match="max_number_digits"):
        Limits.load({"max_number_digits": 5000}, {})
    with pytest.raises(ValueError, match="BANSCAN_LIMIT_MAX_LINE_BYTES"):
        Limits.load({}, {"BANSCAN_LIMIT_MAX_LINE_BYTES": "lots"})


def test_limit_from_banscan_toml_is_named_in_the_error(tmp_path: Path) -> None:
    (tmp_path / "banscan.toml").write_text("[limits]\nmax_depth = 4\n")
    src = shared_sample("cyclonedx/cdx-1.6-syft-gomod.json")
    p = bounded(str(src), "--config", str(tmp_path / "banscan.toml"), cpu=60)
    rep = report_of(p)
    assert p.returncode == 2 and "max_depth limit (4" in rep["inputs"][0]["errors"][0]


# --------------------------------------------------------------------------- osquery, both shapes

ARP_ROWS = [  # osquery arp_cache columns (https://osquery.io/schema/): address, mac, interface, permanent
    {"address": "192.168.1.20", "mac": "00:e0:fc:12:34:56", "interface": "eth0", "permanent": "0"},
    {"address": "192.168.1.21", "mac": "ff:ff:ff:ff:ff:ff", "interface": "eth0", "permanent": "0"},
    {"address": "192.168.1.22", "mac": "incomplete", "interface": "eth0", "permanent": "0"},
]
IFACE_ROWS = [  # interface_details: interface, mac, type, mtu, flags, ...
    {"interface": "eth0", "mac": "00:e0:fc:aa:bb:cc", "type": "6", "mtu": "1500", "flags": "4163"},
    {"interface": "lo", "mac": "00:00:00:00:00:00", "type": "24", "mtu": "65536", "flags": "73"},
]


def _both_shapes(tmp_path: Path) -> tuple[list[Path], list[Path], str]:
    """The same rows as osqueryi --json arrays (one per table) and as one osqueryd results log in
    the envelope of the real log (host, query name, times): the real deb_packages rows, one of
    them renamed to a Kaspersky package, plus arp_cache and interface_details rows."""
    log = shared_sample(DEB_LOG)
    envelope = [json.loads(ln) for ln in log.read_text().splitlines()]
    host = envelope[0]["hostIdentifier"]
    deb = [dict(e["columns"]) for e in envelope]
    deb[5]["name"] = "kesl"
    tables = {"pack_it-compliance_deb_packages": deb, "pack_net_arp_cache": ARP_ROWS,
              "pack_net_interface_details": IFACE_ROWS}
    arrays = []
    out = []
    for qname, rows in tables.items():
        a = tmp_path / f"{qname}.json"
        a.write_text(json.dumps(rows, indent=2))
        arrays.append(a)
        for r in rows:
            e = dict(envelope[0])
            e["name"], e["columns"], e["action"] = qname, r, "added"
            out.append(json.dumps(e))
    lg = tmp_path / "osqueryd.log"
    lg.write_text("\n".join(out) + "\n")
    return arrays, [lg], host


def _detections(r: ScanResult) -> list[tuple[str, str, str | None, str]]:
    return sorted((d.asset, d.family, d.product, d.confidence.value) for d in r.detections)


def test_osqueryi_arrays_and_osqueryd_logs_give_the_same_detections(reg: Registry, tmp_path: Path) -> None:
    arrays, logs, host = _both_shapes(tmp_path)
    a = scan(reg, *arrays, asset=host)
    b = scan(reg, *logs)
    for i in a.inputs + b.inputs:
        assert i.format == "osquery" and not i.errors, (i.path, i.errors)
    da, db = _detections(a), _detections(b)
    assert da == db
    families = {(x[0], x[1]) for x in da}
    assert (host, "kaspersky") in families  # deb_packages
    assert ("192.168.1.20", "huawei") in families  # arp_cache neighbour
    assert sum(1 for x in da if x[0] == host and x[1] == "huawei") >= 1  # interface_details
    assert sum(i.observations for i in a.inputs) == sum(i.observations for i in b.inputs)


def test_every_table_is_read_in_both_shapes() -> None:
    """Each table's columns are recognised from an osqueryi array row and an osqueryd row alike."""
    for table in osquery.SOURCE.tables:
        assert table in osquery.TABLES
    assert osquery.classify(ARP_ROWS[0].keys()) == "arp_cache"
    assert osquery.classify(IFACE_ROWS[0].keys()) == "interface_details"
    head = json.dumps(ARP_ROWS, indent=2).encode()
    assert detect(head, "arp.json") is osquery.SOURCE


def test_sources_lists_the_osquery_tables() -> None:
    e = {k: v for k, v in os.environ.items() if not k.startswith("BANSCAN_")}
    e["PYTHONPATH"] = str(ROOT / "src")
    p = subprocess.run([sys.executable, "-m", "banscan", "sources", "-f", "json"], capture_output=True,
                       text=True, env=e, timeout=120)
    rows = {s["name"]: s for s in json.loads(p.stdout)["sources"]}
    assert {"arp_cache", "interface_details", "deb_packages", "programs"} <= set(rows["osquery"]["tables"])


def test_scanner_reads_a_fifo_named_explicitly(reg: Registry, tmp_path: Path) -> None:
    """A FIFO named on the command line is how a shell passes a command's output: it is read."""
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    data = shared_sample("dhcp/dnsmasq-small-lan.leases").read_bytes()

    def writer() -> None:
        with open(fifo, "wb") as w:
            w.write(data)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    results = list(Scanner(reg).scan_inputs([str(fifo)], None, None))
    t.join(10)
    assert results[0][0].observations > 0 and not results[0][0].errors


def test_read_context_notes_record_errors_then_counts() -> None:
    ctx = ReadContext(path="x", asset="a")
    for i in range(25):
        ctx.record_error(f"line {i}", "bad")
    ctx.finish_notes()
    assert len(ctx.deviations) == 21 and "5 more" in ctx.deviations[-1]


def test_csv_cell_past_the_field_limit_skips_that_row(reg: Registry, tmp_path: Path) -> None:
    src = shared_sample("windows/uninstall-keys-export-csv.csv")
    lines = src.read_bytes().splitlines(keepends=True)
    f = tmp_path / "inv.csv"
    f.write_bytes(lines[0] + lines[1] + b'"' + b"x" * 200000 + b'",a,b\r\n' + b"".join(lines[2:]))
    r = scan(reg, src, f)
    assert not inp(r, f).errors
    assert obs_count(r, f) == obs_count(r, src) > 1
    assert any("line 3" in d and "field" in d for d in inp(r, f).deviations)


def test_clean_observation_handles_one_value_or_several() -> None:
    from banscan.model import Locator, Observation
    from banscan.sources.encoding import clean_observation

    ctx = ReadContext(path="p", asset="a")
    long_name = "a." * 300 + "kaspersky.com"
    obs = Observation("tls", "host\udc80", {"domain": ("ok.example", long_name), "name": "x\udc80"},  # type: ignore[dict-item]
                      Locator("p", "line 1"))
    out = clean_observation(obs, ctx)
    assert out.asset == "host\ufffd" and out.fields["name"] == "x\ufffd"
    doms = out.fields["domain"]
    assert isinstance(doms, tuple) and doms[0] == "ok.example"
    assert len(doms[1]) <= 253 and doms[1].endswith("kaspersky.com")
    assert len(ctx.deviations) == 2
    same = Observation("software", "h", {"name": "plain"}, Locator("p", "line 2"))
    assert clean_observation(same, ctx) is same

"""Time, peak memory and outcome of `banscan scan` on the hostile inputs of issue 15 (reader side).

Each case mutates a real sample under ../shared/samples (or, where no sample of the format
exists, writes the one hostile line the issue names), runs `banscan scan --no-store -f json` on
it in a subprocess capped at --mem bytes of address space and --cpu CPU seconds, and prints
CPU seconds, peak RSS, exit code and the input's first error or deviation.  Nothing is asserted;
the tests (tests/sources/test_hardening.py) hold the contract.

    python bench/hostile_inputs.py            # every case
    python bench/hostile_inputs.py --scale 4  # hostile parts 4x larger (linear cost expected)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples"


def sample(rel: str) -> bytes:
    return (SAMPLES / rel).read_bytes()


def cases(k: int) -> dict[str, tuple[str, Callable[[], bytes], list[str]]]:
    """name -> (what the issue reported, builder, extra scan arguments)."""
    def insert(data: bytes, anchor: bytes, what: bytes) -> bytes:
        i = data.index(anchor)
        return data[:i] + what + data[i:]

    deb = SAMPLES / "osquery/elastic-osqueryd-results-deb_packages.excerpt.log"

    def osqueryi_bignum() -> bytes:
        rows = [json.loads(ln)["columns"] for ln in deb.read_text().splitlines()]
        arr = json.dumps(rows, indent=2).encode()
        i = arr.index(b'"arch"', len(arr) // 2)
        return arr[:i] + b'"size": ' + b"1" * 5000 + b", " + arr[i:]

    return {
        "cdx-json 5000-digit integer": ("segfault (exit 139)", lambda: insert(
            sample("cyclonedx/cdx-1.6-syft-gomod.json"), b'"components"', b'"x": ' + b"7" * 5000 + b", "), []),
        "osqueryi array 5000-digit integer": ("segfault (exit 139)", osqueryi_bignum, []),
        f"cdx-json nested arrays {60 * k} KB": ("2.2 GB at 60 KB", lambda: insert(
            sample("cyclonedx/cdx-1.6-syft-gomod.json"), b'"components"',
            b'"x": ' + b"[" * (30000 * k) + b"]" * (30000 * k) + b", "), []),
        f"cdx-xml {60000 * k} nested elements": ("3.6 GB at 60,000", lambda: insert(
            sample("cyclonedx/cdx-1.4-composer-laravel.xml"), b"<components>",
            b"<x>" * (60000 * k) + b"</x>" * (60000 * k)), []),
        f"arp line of {20 * k} KB colons": ("31 s at 20 KB", lambda:
            b"192.168.1.1 dev eth0 lladdr 00:e0:fc:01:02:03 REACHABLE\n" + b":" * (20000 * k) + b"\n", []),
        f"spdx supplier, {50 * k} KB spaces": ("30 s at 50 KB", lambda: sample(
            "spdx/spdx-2.2-tagvalue-example1-hello.spdx").replace(
            b"PackageName:", b"PackageSupplier: Organization: a" + b" " * (50000 * k) + b"b (\nPackageName:", 1), []),
        f"dhcpd line of {400 * k}k '}}'": ("quadratic", lambda: sample(
            "dhcp/isc-dhcpd-4.2.2-debian7.leases") + b"}" * (400000 * k) + b"\n", []),
        f"snmpwalk {200 * k}k continuation lines": ("quadratic", lambda: sample(
            "snmp/netsnmp-snmpwalk-ObentU-linux.snmpwalk") + b'.1.3.6.1.2.1.1.1.0 = STRING: "open\n'
            + b"more text\n" * (200000 * k), []),
        f"zeek dns query of {200 * k}k labels": ("quadratic", lambda: b"".join(
            (lambda ls: [ls[0], re.sub(rb'"query":"[^"]*"', b'"query":"' + b"a." * (200000 * k) + b'kaspersky.com"', ls[1], count=1), *ls[2:]])(
                sample("zeek/zat-json-dns.log").splitlines(keepends=True))), []),
        f"arp line of {20 * k} KB colons, read as arp": ("31 s at 20 KB", lambda:
            b"192.168.1.1 dev eth0 lladdr 00:e0:fc:01:02:03 REACHABLE\n" + b":" * (20000 * k) + b"\n",
            ["--input-format", "arp"]),
        "osqueryd log, last line cut": ("read of closed file", lambda: sample(
            "osquery/elastic-osqueryd-results-deb_packages.excerpt.log").rstrip(b"\n")[:-40], []),
        "nmap endtime=99999999999999": ("hosts after it dropped", lambda: re.sub(
            rb'endtime="\d+"', b'endtime="99999999999999"', sample("nmap/nmap-6.40-A-lan-mac-vendors.xml"), count=1), []),
        "zeek tsv empty #set_separator": ("lines after it dropped", lambda: re.sub(
            rb"#set_separator\t[^\n]*", b"#set_separator\t", sample("zeek/zat-tsv-dns.log"), count=1), []),
        "cdx-json with UTF-8 BOM": ("0 records", lambda: b"\xef\xbb\xbf" + sample(
            "cyclonedx/cdx-1.6-syft-gomod.json"), []),
        "osqueryd log in UTF-16": ("read of closed file", lambda: sample(
            "osquery/elastic-osqueryd-results-deb_packages.excerpt.log").decode().encode("utf-16"), []),
    }


def run(args: list[str], stdin: object, mem: int, cpu: int) -> tuple[int, dict[str, object] | None, float, int]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANSCAN_")}
    p = subprocess.run([sys.executable, "-m", "banscan", "scan", "--no-store", "-f", "json", *args],
                       stdin=stdin, capture_output=True, preexec_fn=limit, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    try:
        rep = json.loads(p.stdout)
    except ValueError:
        rep = None
    return p.returncode, rep, cpu_s, after.ru_maxrss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=1, help="multiply the hostile part's size")
    ap.add_argument("--mem", type=int, default=2 << 30, help="address-space cap in bytes (default 2 GiB)")
    ap.add_argument("--cpu", type=int, default=120, help="CPU-seconds cap (default 120)")
    a = ap.parse_args()
    if not SAMPLES.exists():
        sys.exit(f"{SAMPLES} not found")
    print(f"{'case':42} {'before (issue 15)':24} {'cpu s':>6} {'exit':>4}  outcome")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (before, build, extra) in cases(a.scale).items():
            f = Path(tmp) / re.sub(r"\W+", "-", name)
            f.write_bytes(build())
            code, rep, cpu_s, _ = run([*extra, str(f)], subprocess.DEVNULL, a.mem, a.cpu)
            outcome = "no report"
            if rep:
                i = rep["inputs"][0]
                note = (i["errors"] or i["deviations"] or [""])[0].replace(str(f), "FILE")
                outcome = f"{i['observations']} records; {note[:90]}"
            print(f"{name:42} {before:24} {cpu_s:6.2f} {code:4}  {outcome}")
        for name, args in (("--input-format osquery /dev/zero", ["--input-format", "osquery", "/dev/zero"]),):
            code, rep, cpu_s, _ = run(args, subprocess.DEVNULL, a.mem, a.cpu)
            err = rep["inputs"][0]["errors"][0] if rep else "no report"
            print(f"{name:42} {'6-9 GB in 20 s':24} {cpu_s:6.2f} {code:4}  {err[:90]}")
        with open("/dev/zero", "rb") as zero:
            code, rep, cpu_s, _ = run(["-"], zero, a.mem, a.cpu)
        err = rep["inputs"][0]["errors"][0] if rep else "no report"
        print(f"{'cat /dev/zero | banscan scan -':42} {'spools gigabytes':24} {cpu_s:6.2f} {code:4}  {err[:90]}")
    print(f"peak RSS of the largest run: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024} MB")


if __name__ == "__main__":
    main()

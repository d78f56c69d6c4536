"""Throughput and memory of ``banscan scan``: prints figures, asserts nothing.

1. Generates osqueryd results logs (JSON lines, event form, ``programs`` and ``deb_packages``
   tables, many hosts) of N rows with real software names (taken from the installed-software
   samples in ../shared/samples and this machine's dpkg database) and ~0.5 % rows of
   restricted vendors' products.
2. Runs ``banscan scan --no-store -f json`` on each file in a fresh process and prints rows/s,
   wall time and that process's peak RSS (from wait4).
3. Times ``grep -i -F -f vendor-names`` over the same file as a reference.
4. Optionally (``--dns``) does the same for a Zeek dns.log made by bench/gen_dns_log.py.
5. Times a scan of this machine.

    python bench/throughput.py                    # 300k and 1M rows
    python bench/throughput.py --rows 200000 --dns 1000000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
SAMPLES = ROOT.parent / "shared" / "samples"

POSITIVES = [
    ("programs", {"name": "Kaspersky Endpoint Security for Windows", "publisher": "AO Kaspersky Lab",
                  "version": "12.3.0.493"}),
    ("programs", {"name": "Kaspersky Security Center Network Agent", "publisher": "AO Kaspersky Lab",
                  "version": "14.2.0.26967"}),
    ("programs", {"name": "HiSuite", "publisher": "Huawei Technologies Co., Ltd.", "version": "13.0.0.310"}),
    ("programs", {"name": "CapCut", "publisher": "Bytedance Pte. Ltd.", "version": "4.6.0.1"}),
    ("programs", {"name": "iVMS-4200", "publisher": "Hikvision", "version": "3.9.1.4"}),
    ("deb_packages", {"name": "kesl", "version": "12.0.0-6672", "arch": "amd64"}),
]
VENDOR_NAMES = ["kaspersky", "huawei", "zte", "hikvision", "dahua", "hytera", "bytedance", "tiktok",
                "deepseek", "ezviz", "hisilicon", "capcut", "feishu", "lark"]


def real_names() -> list[tuple[str, str]]:
    names: list[tuple[str, str]] = []
    for f in ("windows/uninstall-and-appx-inventory.csv", "windows/uninstall-keys-export-csv.csv"):
        p = SAMPLES / f
        if p.exists():
            with p.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
                for row in csv.DictReader(fh):
                    n, pub = (row.get("DisplayName") or "").strip(), (row.get("Publisher") or "").strip()
                    if n:
                        names.append((n, pub))
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Maintainer}\n"], capture_output=True,
                             text=True, timeout=30).stdout
        names += [tuple(line.split("\t", 1)) for line in out.splitlines() if "\t" in line]  # type: ignore[misc]
    except (OSError, subprocess.TimeoutExpired):
        pass
    if not names:
        names = [("Mozilla Firefox", "Mozilla"), ("7-Zip 23.01", "Igor Pavlov"), ("Git", "The Git Development Community")]
    # no restricted vendor's name in the negatives
    return [(n, p) for n, p in names if not any(v in (n + " " + p).lower() for v in VENDOR_NAMES)]


def generate(path: Path, rows: int, seed: int = 7) -> int:
    rnd = random.Random(seed)
    names = real_names()
    hosts = [f"host-{i:05d}.corp.example.net" for i in range(2000)]
    positives = 0
    with path.open("w", encoding="utf-8") as fh:
        for i in range(rows):
            host = hosts[i % len(hosts)]
            if rnd.random() < 0.005:
                table, cols = rnd.choice(POSITIVES)
                positives += 1
            elif rnd.random() < 0.5:
                n, p = rnd.choice(names)
                table, cols = "programs", {"name": n, "publisher": p, "version": f"{rnd.randint(1, 30)}.{rnd.randint(0, 9)}"}
            else:
                n, _ = rnd.choice(names)
                table, cols = "deb_packages", {"name": n.split()[0].lower(), "version": f"{rnd.randint(1, 9)}.{rnd.randint(0, 99)}-1",
                                               "arch": "amd64", "source": "", "revision": "1"}
            line = {"name": f"pack_inventory_{table}", "hostIdentifier": host, "calendarTime": "Mon Nov 23 10:00:00 2026 UTC",
                    "unixTime": 1795000000 + i, "epoch": 0, "counter": 0, "numerics": False,
                    "columns": cols, "action": "added"}
            fh.write(json.dumps(line, separators=(",", ":")) + "\n")
    return positives


def run_measured(cmd: list[str]) -> tuple[float, int, int]:
    """(seconds, peak RSS in MiB, exit code) of one fresh process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    return dt, ru.ru_maxrss // 1024, os.waitstatus_to_exitcode(status)


def scan_cmd(path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "banscan", "scan", "--no-store", "-f", "json", "-o", os.devnull, *extra, str(path)]


def baseline() -> tuple[float, int]:
    return run_measured([sys.executable, "-c", "import banscan.cli"])[:2]


def grep_time(path: Path) -> float:
    pat = OUT / "vendor-names.txt"
    pat.write_text("\n".join(VENDOR_NAMES) + "\n")
    t0 = time.perf_counter()
    subprocess.run(["grep", "-i", "-F", "-c", "-f", str(pat), str(path)], stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="*", default=[300_000, 1_000_000])
    ap.add_argument("--dns", type=int, default=0, help="also benchmark a Zeek dns.log of this many lines")
    ap.add_argument("--no-host", action="store_true")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    start_s, start_mb = baseline()
    print(f"start-up (import, no scan): {start_s:.2f} s, {start_mb} MiB")
    print(f"{'input':<32}{'rows':>10}{'positives':>10}{'scan s':>9}{'rows/s':>11}{'rows/s*':>11}{'peak MiB':>10}{'grep s':>8}")
    for n in args.rows:
        path = OUT / f"osqueryd-{n}.log"
        pos = generate(path, n)
        secs, mb, code = run_measured(scan_cmd(path))
        g = grep_time(path)
        net = max(secs - start_s, 1e-9)
        print(f"{'osqueryd results (programs/deb)':<32}{n:>10}{pos:>10}{secs:>9.2f}{n / secs:>11,.0f}{n / net:>11,.0f}{mb:>10}{g:>8.2f}"
              f"   exit {code}")
    if args.dns:
        path = OUT / f"dns-{args.dns}.log"
        subprocess.run([sys.executable, str(ROOT / "bench" / "gen_dns_log.py"), "--lines", str(args.dns), "-o", str(path)],
                       check=True)
        secs, mb, code = run_measured(scan_cmd(path, "--asset", "resolver"))
        g = grep_time(path)
        net = max(secs - start_s, 1e-9)
        print(f"{'zeek dns.log':<32}{args.dns:>10}{'':>10}{secs:>9.2f}{args.dns / secs:>11,.0f}{args.dns / net:>11,.0f}{mb:>10}{g:>8.2f}"
              f"   exit {code}")
    print("rows/s* excludes the interpreter start-up; exit 1 means detections were found (expected).")
    if not args.no_host:
        secs, mb, code = run_measured([sys.executable, "-m", "banscan", "scan", "--no-store", "-f", "json", "-o", os.devnull])
        print(f"scan of this machine: {secs:.2f} s, peak {mb} MiB, exit {code}")


if __name__ == "__main__":
    main()

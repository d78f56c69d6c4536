"""Throughput, memory and start-up of ``banscan scan``: prints figures, asserts nothing.

1. Generates osqueryd results logs (JSON lines, event form as osqueryd writes it, ``programs``
   and ``deb_packages`` rows with their real columns, 2,000 hosts) of N rows with real software
   names (from the installed-software samples in ../shared/samples and this machine's dpkg
   database) and ~0.5 % rows of restricted vendors' products, in two variants:
   (a) with realistic near-misses (~5 % of rows: ztest, tiktoken, Clark, Aztec, the PyPI "lark"
   parser, Zoom Video Communications …) and (b) without them.
2. Runs ``banscan scan --no-store -f json`` on each file in a fresh process and prints rows/s,
   MB/s, wall time and that process's peak RSS (from wait4), and the ratio of its time to
   ``grep -i -F -f vendor-names`` over the same file, timed in the same run; then the same for
   the default ``banscan scan`` (stored in a fresh SQLite database; the row below it).
3. The same for a Zeek dns.log made by bench/gen_dns_log.py (``--dns``, default 1,000,000 queries),
   and for the same queries as a Zeek JSON log, a BIND query log and dnsmasq log-queries lines
   (``--dns-formats``; the issue's target is for the Zeek dns.log, the others are shown beside it).
   The smallest (b) log's rows are also written as an installed-software CSV export and scanned
   (``--no-csv`` skips it; the issue sets no target for it).
4. ``--jobs 2`` on the largest (a) log: the speed-up over ``--jobs 1``.
5. Start-up: ``banscan scan`` of a one-line input with a warm registry cache (``--no-store``, then
   the default stored scan into an existing SQLite database), and the import alone.

    python bench/throughput.py                        # 300k and 3M rows, 1M-line dns.log
    python bench/throughput.py --rows 300000 --dns 0  # quicker
    python bench/throughput.py --keep; python bench/throughput.py --reuse --keep --repeat 5  # medians

Targets (issue 11, one core): within 3x of grep on (b), 5x on (a) and on the dns.log; peak RSS
under 300 MB at 3M rows; --jobs 2 close to 2x when two cores are free; start-up under 0.5 s warm.
The machine's load is printed: on a shared machine the figures move with it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
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
NEAR_MISSES = [
    ("programs", {"name": "ztest", "publisher": "Ztest Project"}),
    ("deb_packages", {"name": "python3-tiktoken"}),
    ("deb_packages", {"name": "python3-lark", "maintainer": "Debian Python Team"}),
    ("programs", {"name": "Clark Desktop", "publisher": "Clark Labs"}),
    ("programs", {"name": "Aztec Diagnostics", "publisher": "Aztec Software @aztec"}),
    ("programs", {"name": "Zoom Workplace", "publisher": "Zoom Video Communications, Inc."}),
    ("programs", {"name": "Group Policy Management Console", "publisher": "Microsoft Corporation"}),
    ("programs", {"name": "Lenovo Vantage Service", "publisher": "Lenovo Group Ltd."}),
    ("deb_packages", {"name": "node-aztec", "maintainer": "Clark Kent <ck@example.org>"}),
    ("programs", {"name": "TikTokenizer Tools", "publisher": "Example Labs"}),
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


def _cols(table: str, cols: dict[str, str], rnd: random.Random) -> dict[str, str]:
    """The row with the columns osquery's table really has."""
    if table == "programs":
        name = cols.get("name", "")
        return {"name": name, "version": cols.get("version") or f"{rnd.randint(1, 30)}.{rnd.randint(0, 9)}",
                "install_location": f"C:\\Program Files\\{name.split(' ')[0]}\\", "install_source": "",
                "language": "1033", "publisher": cols.get("publisher", ""), "uninstall_string": "",
                "install_date": "20261101", "identifying_number": f"{{{rnd.getrandbits(32):08X}-0000-0000-0000-000000000000}}"}
    return {"name": cols.get("name", ""), "version": cols.get("version") or f"{rnd.randint(1, 9)}.{rnd.randint(0, 99)}-1",
            "source": "", "size": str(rnd.randint(10, 9999)), "arch": "amd64", "revision": "1",
            "status": "install ok installed", "maintainer": cols.get("maintainer", ""), "section": "misc",
            "priority": "optional"}


def generate(path: Path, rows: int, near_misses: bool, seed: int = 7) -> int:
    rnd = random.Random(seed)
    names = real_names()
    hosts = [f"host-{i:05d}.corp.example.net" for i in range(2000)]
    positives = 0
    with path.open("w", encoding="utf-8") as fh:
        for i in range(rows):
            host = hosts[i % len(hosts)]
            r = rnd.random()
            if r < 0.005:
                table, cols = rnd.choice(POSITIVES)
                positives += 1
            elif near_misses and r < 0.055:
                table, cols = rnd.choice(NEAR_MISSES)
            elif rnd.random() < 0.5:
                n, p = rnd.choice(names)
                table, cols = "programs", {"name": n, "publisher": p}
            else:
                n, p = rnd.choice(names)
                table, cols = "deb_packages", {"name": n.split()[0].lower(), "maintainer": p}
            line = {"name": f"pack_inventory_{table}", "hostIdentifier": host, "calendarTime": "Mon Nov 23 10:00:00 2026 UTC",
                    "unixTime": 1795000000 + i, "epoch": 0, "counter": 0, "numerics": False,
                    "columns": _cols(table, cols, rnd), "action": "added"}
            fh.write(json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n")
    return positives


def csv_export(log: Path, path: Path) -> int:
    """The software rows of an osqueryd log written as an installed-software CSV export
    (ComputerName, DisplayName, Publisher, DisplayVersion; quoted where the csv module quotes):
    the same products on the same hosts.  Returns the rows."""
    n = 0
    with log.open(encoding="utf-8") as src, path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(["ComputerName", "DisplayName", "Publisher", "DisplayVersion"])
        for line in src:
            doc = json.loads(line)
            cols = doc["columns"]
            w.writerow([doc["hostIdentifier"], cols.get("name", ""), cols.get("publisher") or cols.get("maintainer", ""),
                        cols.get("version", "")])
            n += 1
    return n


CPU: dict[str, float] = {}


def run_measured(cmd: list[str], pipe: bool = False) -> tuple[float, int, int]:
    """(seconds, peak RSS in MiB, exit code) of one fresh process; its CPU seconds (user +
    system) in CPU["last"].  ``pipe``: its output goes to a pipe (GNU grep stops at the first
    match when its output is /dev/null)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE if pipe else subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if pipe:
        assert p.stdout is not None
        p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    CPU["last"] = ru.ru_utime + ru.ru_stime
    return dt, ru.ru_maxrss // 1024, os.waitstatus_to_exitcode(status)


def scan_cmd(path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "banscan", "scan", "--no-store", "-f", "json", "-o", os.devnull, *extra, str(path)]


def stored_cmd(path: Path, *extra: str) -> list[str]:
    """The default ``banscan scan``, recorded in a SQLite database that exists already (created,
    migrated and holding one small scan, untimed: the steady state of a user's database)."""
    db = OUT / "bench-store.db"
    for p in OUT.glob("bench-store.db*"):
        p.unlink()
    one = OUT / "one-line.log"
    subprocess.run([sys.executable, "-m", "banscan", "scan", "--db", f"sqlite:///{db}", "-f", "json", "-o",
                    os.devnull, str(one)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return [sys.executable, "-m", "banscan", "scan", "--db", f"sqlite:///{db}", "-f", "json", "-o", os.devnull,
            *extra, str(path)]


DNS_LABELS = {"zeek": "zeek dns.log", "zeek-json": "zeek dns.log, JSON", "bind": "BIND query log",
              "dnsmasq": "dnsmasq query log"}


def grep_time(path: Path) -> float:
    pat = OUT / "vendor-names.txt"
    pat.write_text("\n".join(VENDOR_NAMES) + "\n")
    best = float("inf")
    cpu = float("inf")
    for _ in range(2):
        secs, _mb, _code = run_measured(["grep", "-a", "-i", "-F", "-c", "-f", str(pat), str(path)], pipe=True)
        best = min(best, secs)
        cpu = min(cpu, CPU["last"])
    CPU["grep"] = cpu
    return best


def startup() -> tuple[float, float]:
    """(warm ``banscan scan`` of a one-line input, import of the CLI alone), best of 3 each."""
    one = OUT / "one-line.log"
    one.write_text('{"name":"pack_inventory_programs","hostIdentifier":"h","calendarTime":"x","unixTime":1,'
                   '"columns":{"name":"Firefox","publisher":"Mozilla","install_location":"","identifying_number":""},'
                   '"action":"added"}\n')
    run_measured(scan_cmd(one))  # warms the registry cache
    scan_s, imp = float("inf"), float("inf")
    for _ in range(3):
        scan_s = min(scan_s, run_measured(scan_cmd(one))[0])
        CPU["start"] = min(CPU.get("start", float("inf")), CPU["last"])
        imp = min(imp, run_measured([sys.executable, "-c", "import banscan.cli"])[0])
        CPU["import"] = min(CPU.get("import", float("inf")), CPU["last"])
    return scan_s, imp


def stored_startup() -> float:
    """Warm start-up of the default (stored) ``banscan scan`` of the one-line input, into an existing
    SQLite database: best of 3 (CPU in ``CPU["stored_start"]``)."""
    cmd = stored_cmd(OUT / "one-line.log")
    best = float("inf")
    for _ in range(3):
        best = min(best, run_measured(cmd)[0])
        CPU["stored_start"] = min(CPU.get("stored_start", float("inf")), CPU["last"])
    return best


def row(label: str, n: int, path: Path, secs: float, mb: int, g: float, code: int, target: float | None) -> None:
    size = path.stat().st_size / 1e6
    cpu, gcpu = CPU["last"], CPU["grep"]
    ratio = secs / g if g > 0 else float("inf")
    cratio = cpu / gcpu if gcpu > 0 else float("inf")
    verdict = "" if target is None else ("  met" if min(ratio, cratio) <= target else "  NOT met")
    print(f"{label:<34}{n:>10,}{size:>7.0f}{secs:>8.2f}{cpu:>7.2f}{n / secs:>10,.0f}{size / secs:>7.1f}{mb:>9}"
          f"{g:>7.2f}{gcpu:>7.2f}{ratio:>7.1f}x{cratio:>6.1f}x{'' if target is None else f' (<= {target:.0f}x)'}"
          f"{verdict}   exit {code}")


def repeat(n: int, path: Path, cmd: list[str], target: float) -> None:
    """``n`` more pairs, each a grep of ``path`` then ``cmd``: the CPU ratios' range and median
    (with the first run's, which row() printed)."""
    if n <= 1:
        return
    ratios = [CPU["last"] / CPU["grep"]]
    for _ in range(n - 1):
        run_measured(["grep", "-a", "-i", "-F", "-c", "-f", str(OUT / "vendor-names.txt"), str(path)], pipe=True)
        g = CPU["last"]
        run_measured(cmd)
        ratios.append(CPU["last"] / g)
    med = statistics.median(ratios)
    print(f"  {len(ratios)} pairs (grep, then banscan): CPU ratio {min(ratios):.2f}-{max(ratios):.2f}x, median "
          f"{med:.2f}x (<= {target:.0f}x: {'met' if med <= target else 'NOT met'}), load {os.getloadavg()[0]:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="*", default=[300_000, 3_000_000])
    ap.add_argument("--dns", type=int, default=1_000_000, help="queries of the DNS logs (0: skip)")
    ap.add_argument("--dns-formats", nargs="*", default=list(DNS_LABELS), choices=list(DNS_LABELS),
                    help="the DNS logs to scan: the Zeek dns.log (TSV) and the same queries as a Zeek JSON log, a BIND "
                         "query log and dnsmasq log-queries lines (default: all four)")
    ap.add_argument("--no-jobs", action="store_true", help="skip the --jobs 2 run")
    ap.add_argument("--no-csv", dest="csv", action="store_false",
                    help="skip the software CSV export made of the smallest (b) log's rows (no target: shown beside)")
    ap.add_argument("--keep", action="store_true", help="keep the generated files in bench/out")
    ap.add_argument("--reuse", action="store_true",
                    help="scan the logs bench/out holds already (from a run with --keep) instead of generating them")
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="time each --no-store scan N times, each time right after a grep of the same file, and print "
                         "the CPU ratios' range and median (one run on a shared machine moves by 15 %%)")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    warm, imp = startup()
    print(f"start-up, warm registry cache: scan of a one-line input {warm:.2f} s wall, {CPU['start']:.2f} s CPU "
          f"(target < 0.5 s: {'met' if min(warm, CPU['start']) < 0.5 else 'NOT met'}); import of the CLI alone "
          f"{imp:.2f} s wall, {CPU['import']:.2f} s CPU")
    st = stored_startup()
    print(f"  the same, stored (default scan, an existing SQLite database): {st:.2f} s wall, "
          f"{CPU['stored_start']:.2f} s CPU (importing SQLAlchemy is most of the difference)")
    print(f"{'input':<34}{'rows':>10}{'MB':>7}{'wall s':>8}{'cpu s':>7}{'rows/s':>10}{'MB/s':>7}{'peak MiB':>9}"
          f"{'grep s':>7}{'cpu s':>7}{'wall':>8}{'cpu':>7}   (ratios to grep)")
    largest: Path | None = None
    for n in args.rows:
        for near in (True, False):
            path = OUT / f"osqueryd-{n}-{'a' if near else 'b'}.log"
            if not (args.reuse and path.exists()):
                generate(path, n, near)
            os.sync()  # the new file's pages written out first: writeback must not run during the timing
            g = grep_time(path)
            secs, mb, code = run_measured(scan_cmd(path))
            row(f"osqueryd ({'a' if near else 'b'}) {'near-misses' if near else 'no near-misses'}", n, path,
                secs, mb, g, code, 5 if near else 3)
            repeat(args.repeat, path, scan_cmd(path), 5 if near else 3)
            secs, mb, code = run_measured(stored_cmd(path))
            row("  the same, stored (default scan)", n, path, secs, mb, g, code, None)
            if not near and args.csv and n == min(args.rows):
                csv_path = OUT / f"software-{n}.csv"
                if not (args.reuse and csv_path.exists()):
                    csv_export(path, csv_path)
                os.sync()
                g = grep_time(csv_path)
                secs, mb, code = run_measured(scan_cmd(csv_path))
                row("software CSV export (b's rows)", n, csv_path, secs, mb, g, code, None)
                secs, mb, code = run_measured(stored_cmd(csv_path))
                row("  the same, stored (every row read)", n, csv_path, secs, mb, g, code, None)
                if not args.keep:
                    csv_path.unlink()
            if near:
                largest = path
            elif not args.keep:
                path.unlink()
    for fmt in (args.dns_formats if args.dns else []):
        path = OUT / (f"dns-{args.dns}.log" if fmt == "zeek" else f"dns-{args.dns}-{fmt}.log")
        if not (args.reuse and path.exists()):
            subprocess.run([sys.executable, str(ROOT / "bench" / "gen_dns_log.py"), "--lines", str(args.dns), "-o",
                            str(path), "--format", fmt], check=True)
        os.sync()
        g = grep_time(path)
        extra = ("--asset", "resolver") if fmt == "zeek" else ()
        secs, mb, code = run_measured(scan_cmd(path, *extra))
        # the target is for the Zeek dns.log; the other forms of the same queries are shown beside it
        row(DNS_LABELS[fmt], args.dns, path, secs, mb, g, code, 5 if fmt == "zeek" else None)
        if fmt == "zeek":
            repeat(args.repeat, path, scan_cmd(path, *extra), 5)
            secs, mb, code = run_measured(stored_cmd(path, *extra))
            row("  the same, stored (default scan)", args.dns, path, secs, mb, g, code, None)
        if not args.keep:
            path.unlink()
    if largest is not None and not args.no_jobs:
        one, _, _ = run_measured(scan_cmd(largest))
        two, mb, _ = run_measured(scan_cmd(largest, "--jobs", "2"))
        print(f"--jobs 2 on {largest.name}: {one:.2f} s -> {two:.2f} s, speed-up {one / two:.2f}x "
              f"(target close to 2x with two free cores), peak MiB {mb} (parent)")
        one, _, _ = run_measured(stored_cmd(largest))
        two, mb, _ = run_measured(stored_cmd(largest, "--jobs", "2"))
        print(f"--jobs 2 on {largest.name}, stored (default scan): {one:.2f} s -> {two:.2f} s, speed-up "
              f"{one / two:.2f}x, peak MiB {mb} (parent)")
    if largest is not None and not args.keep:
        for p in OUT.glob("osqueryd-*-a.log"):
            p.unlink()
    for p in OUT.glob("bench-store.db*"):
        p.unlink()
    print("wall s: elapsed; cpu s: user+system CPU of the process (on a busy shared machine the CPU\n"
          "ratio is the fairer one); rows/s and MB/s from wall time; peak MiB is the scanning process's\n"
          "own (wait4); exit 1 means detections were found (expected).")


if __name__ == "__main__":
    main()

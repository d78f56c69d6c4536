#!/usr/bin/env python3
"""A longer fuzzing campaign than CI runs: random mutations of every sample under
../shared/samples, each scanned beside a known-good input in a fork-isolated run (memory limit,
timeout), judged by the contract in tests/hardening/fuzzkit.py.  Prints cases/s, failures grouped
by problem (with a command to reproduce each) and the memory and time figures.

    PYTHONPATH=src python3 bench/fuzz.py --cases 500            # CI-sized mutations, random seeds
    PYTHONPATH=src python3 bench/fuzz.py --minutes 10 --aggressive   # past the known blow-up sizes
    PYTHONPATH=src python3 bench/fuzz.py --sample osquery --kind truncate --seed 0 -v   # one case

Exit 0 when no case broke the contract, 1 otherwise.  Failing inputs are kept under --keep
(default /tmp/banscan-fuzz) so they can be added to tests/fixtures/fuzz-regressions.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "hardening"))

from fuzzkit import KINDS, Limits, baseline, mutate, preload_registry, sample_files, scan_case  # noqa: E402


def _signature(failure: str) -> str:
    """A failure message with the variable parts (numbers, paths) blanked, to group them."""
    s = re.sub(r"/\S+", "PATH", failure)
    s = re.sub(r"\d+", "N", s)
    return s[:160]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=200, help="number of cases (default 200)")
    ap.add_argument("--minutes", type=float, help="run for this long instead of --cases")
    ap.add_argument("--aggressive", action="store_true", help="sizes past the known blow-ups")
    ap.add_argument("--sample", help="only samples whose path contains this")
    ap.add_argument("--kind", choices=KINDS, help="only this mutation")
    ap.add_argument("--seed", type=int, help="only this seed (reproduce one case)")
    ap.add_argument("--memory-mb", type=int, default=1536, help="memory budget per case (default 1536)")
    ap.add_argument("--keep", default="/tmp/banscan-fuzz", help="where failing inputs are kept")
    ap.add_argument("--scaling", action="store_true",
                    help="instead of fuzzing: seconds and memory of line-oriented samples grown 1x, 4x, 16x, 64x")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    if a.scaling:
        return scaling(a.sample)

    samples = [s for s in sample_files() if not a.sample or a.sample in str(s)]
    if not samples:
        print("no samples (is ../shared/samples there?)", file=sys.stderr)
        return 2
    limits = Limits.aggressive() if a.aggressive else Limits()
    keep = Path(a.keep)
    keep.mkdir(parents=True, exist_ok=True)
    preload_registry()
    rng = random.Random()
    failures: dict[str, list[str]] = defaultdict(list)
    notes: dict[str, int] = defaultdict(int)
    ratios: list[tuple[float, float, int]] = []  # (s/MB, MB growth per MB, size)
    n = 0
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="banscan-fuzz-") as tmp:
        work = Path(tmp)
        base = baseline(work)
        print(f"{len(samples)} samples, {'aggressive' if a.aggressive else 'CI-sized'} mutations, "
              f"witness read alone: {base.witness_records} records, {base.maxrss_kb // 1024} MB peak")
        while True:
            if a.minutes is not None:
                if time.perf_counter() - t0 > a.minutes * 60:
                    break
            elif n >= a.cases:
                break
            sample = rng.choice(samples)
            kind = a.kind or rng.choice(KINDS)
            seed = a.seed if a.seed is not None else rng.randrange(2**32)
            data = mutate(sample.read_bytes(), kind, seed, limits)
            case = work / f"m-{sample.parent.name}-{sample.name}"
            case.write_bytes(data)
            outcome, verdict = scan_case(case, work, base, memory=a.memory_mb << 20,
                                         formats=("json", "sarif", "csv", "table", "html", "far"))
            n += 1
            size = len(data)
            if size >= 100_000 and outcome.code in (0, 1, 2):
                ratios.append((outcome.seconds / (size / 1e6), max(0, outcome.maxrss_kb - base.maxrss_kb) / 1024
                               / (size / 1e6), size))
            rel = sample.relative_to(sample.parents[1])
            repro = (f"bench/fuzz.py --sample {rel} --kind {kind} --seed {seed}"
                     + (" --aggressive" if a.aggressive else ""))
            for note in verdict.notes:
                notes[_signature(note)] += 1
            if not verdict.ok:
                kept = keep / f"{rel.parent}-{kind}-{seed}-{sample.name}"
                kept.write_bytes(data)
                for f in verdict.failures:
                    failures[_signature(f)].append(f"{repro}  ({outcome.status}, {outcome.seconds:.1f} s; kept {kept})")
                if a.verbose:
                    print(f"FAIL {rel} {kind} seed={seed}: {verdict.failures}")
            elif a.verbose:
                print(f"ok   {rel} {kind} seed={seed} ({outcome.status}, {outcome.seconds:.2f} s, "
                      f"{outcome.maxrss_kb // 1024} MB)")
    elapsed = time.perf_counter() - t0
    print(f"\n{n} cases in {elapsed:.0f} s: {n / elapsed:.2f} cases/s")
    if ratios:
        worst_t = max(ratios, key=lambda r: r[0])
        worst_m = max(ratios, key=lambda r: r[1])
        print(f"inputs of 100 KB or more: worst {worst_t[0]:.1f} s per MB ({worst_t[2]} bytes), "
              f"worst memory growth {worst_m[1]:.0f} MB per MB of input ({worst_m[2]} bytes)")
    print(f"{sum(len(v) for v in failures.values())} failing case(s) in {len(failures)} distinct problem(s)")
    for sig, cases in sorted(failures.items(), key=lambda kv: -len(kv[1])):
        print(f"\n[{len(cases)}] {sig}")
        for c in cases[:3]:
            print(f"    {c}")
    if notes:
        print("\nnotes (not failures):")
        for sig, k in sorted(notes.items(), key=lambda kv: -kv[1])[:10]:
            print(f"  [{k}] {sig}")
    return 1 if failures else 0


LINE_FORMATS = ("osquery/elastic-osqueryd-results-deb_packages.excerpt.log", "zeek/zat-json-dns.log",
                "zeek/brim-zeek6.2-tsv-software.log", "dhcp/dnsmasq-home-network.leases",
                "snmp/netsnmp-snmpwalk-ObentU-linux.snmpwalk", "windows/uninstall-keys-export-csv.csv")


def _grown(data: bytes, factor: int) -> bytes:
    lines = data.splitlines(keepends=True)
    head = [x for x in lines if x.startswith(b"#")] or lines[:1]
    body = [x for x in lines if x not in head]
    tail = [x for x in body if x.startswith(b"#close")]
    body = [x for x in body if x not in tail]
    return b"".join(head + body * factor + tail)


def scaling(only: str | None) -> int:
    """Time and memory against input size: both should grow at most linearly."""
    from fuzzkit import SAMPLES_DIR, run_isolated

    preload_registry()
    print(f"{'sample':58} {'x':>3} {'MB':>7} {'s':>7} {'s/MB':>6} {'peak MB':>8}")
    with tempfile.TemporaryDirectory(prefix="banscan-scale-") as tmp:
        for rel in LINE_FORMATS:
            if only and only not in rel:
                continue
            src = SAMPLES_DIR / rel
            if not src.is_file():
                continue
            for factor in (1, 4, 16, 64):
                p = Path(tmp) / src.name
                p.write_bytes(_grown(src.read_bytes(), factor))
                mb = p.stat().st_size / 1e6
                o = run_isolated(["scan", str(p), "--no-store", "-f", "json", "-o", str(Path(tmp) / "r.json")],
                                 timeout=600)
                print(f"{rel:58} {factor:>3} {mb:7.2f} {o.seconds:7.2f} {o.seconds / mb:6.1f} "
                      f"{o.maxrss_kb / 1024:8.0f}  {o.status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

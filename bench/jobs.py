"""``banscan scan --jobs N`` against ``--jobs 1`` on one input: prints figures, asserts nothing.

Runs ``banscan scan --no-store -f json -o /dev/null --jobs N INPUT`` in fresh processes, the job
counts interleaved (1, 2, 1, 2 …, so that a change in the machine's load falls on both), and
prints for each run the wall time, the CPU seconds of the whole process tree (user + system, from
wait4: the workers are the scan's own children) and the load average before it; then per job
count the median wall and CPU time, and the speed-up of the medians.  The machine is shared: a
load average above 0 means other processes took some of the cores (the CPU ratio is then the
fairer figure: the extra CPU a parallel scan spends).

    python bench/throughput.py --rows 3000000 --dns 0 --no-jobs --keep   # makes the input
    PYTHONPATH=src python bench/jobs.py bench/out/osqueryd-3000000-a.log --runs 3 --jobs 1 2

Target (issue 11): ``--jobs 2`` close to twice as fast as ``--jobs 1`` when two cores are free.

``--halves`` also times, in each round, two one-process scans of the input's two halves (cut at
the newline nearest the middle, written once beside the input) run at the same time: the best any
split of the work into two processes can do on this machine at that moment (two processes
running at once on this machine's two vCPUs are each slower than one alone), with nothing to
cut, hand over or merge.  The figure to compare ``--jobs 2`` with.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def run(path: Path, jobs: int) -> tuple[float, float, int]:
    cmd = [sys.executable, "-m", "banscan", "scan", "--no-store", "-f", "json", "-o", os.devnull,
           "--jobs", str(jobs), str(path)]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    return time.perf_counter() - t0, ru.ru_utime + ru.ru_stime, os.waitstatus_to_exitcode(status)


def halves(path: Path) -> tuple[Path, Path]:
    """The two halves of ``path``, cut after the newline nearest its middle (made once)."""
    one, two = path.with_name(path.stem + "-half1" + path.suffix), path.with_name(path.stem + "-half2" + path.suffix)
    size = path.stat().st_size
    if not (one.exists() and two.exists() and one.stat().st_size + two.stat().st_size == size):
        with path.open("rb") as f:
            f.seek(size // 2)
            f.readline()
            cut = f.tell()
            f.seek(0)
            with one.open("wb") as o:
                left = cut
                while left:
                    chunk = f.read(min(left, 1 << 24))
                    o.write(chunk)
                    left -= len(chunk)
            with two.open("wb") as o:
                while chunk := f.read(1 << 24):
                    o.write(chunk)
    return one, two


def run_pair(paths: tuple[Path, Path]) -> tuple[float, float]:
    """Wall time of one-process scans of both ``paths`` at once, and their CPU seconds."""
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "banscan", "scan", "--no-store", "-f", "json", "-o", os.devnull,
                               str(p)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for p in paths]
    cpu = 0.0
    for p in procs:
        _, _, ru = os.wait4(p.pid, 0)
        cpu += ru.ru_utime + ru.ru_stime
    return time.perf_counter() - t0, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--halves", action="store_true", help="also time two one-process scans of the halves at once")
    args = ap.parse_args()
    pair = halves(args.input) if args.halves else None
    pairs: list[float] = []
    size = args.input.stat().st_size
    print(f"{args.input} ({size / 1e6:.0f} MB), {os.cpu_count()} CPUs")
    walls: dict[int, list[float]] = {j: [] for j in args.jobs}
    cpus: dict[int, list[float]] = {j: [] for j in args.jobs}
    for r in range(args.runs):
        for j in args.jobs:
            load = os.getloadavg()[0]
            wall, cpu, code = run(args.input, j)
            walls[j].append(wall)
            cpus[j].append(cpu)
            print(f"run {r + 1} --jobs {j}: wall {wall:6.2f} s  cpu {cpu:6.2f} s  load before {load:4.2f}  exit {code}",
                  flush=True)
        if pair is not None:
            load = os.getloadavg()[0]
            wall, cpu = run_pair(pair)
            pairs.append(wall)
            print(f"run {r + 1} halves at once: wall {wall:6.2f} s  cpu {cpu:6.2f} s  load before {load:4.2f}", flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    base = args.jobs[0]
    for j in args.jobs:
        w, c = statistics.median(walls[j]), statistics.median(cpus[j])
        line = f"--jobs {j}: median wall {w:6.2f} s ({size / w / 1e6:5.0f} MB/s), median cpu {c:6.2f} s"
        if j != base:
            line += (f"; speed-up over --jobs {base}: {statistics.median(walls[base]) / w:.2f}x wall, "
                     f"cpu {c / statistics.median(cpus[base]):.2f}x of --jobs {base}'s")
        print(line)
    if pairs:
        w = statistics.median(pairs)
        print(f"two one-process scans of the halves at once: median wall {w:6.2f} s; the most a split into two "
              f"processes gave here: {statistics.median(walls[base]) / w:.2f}x over --jobs {base}")
        for j in args.jobs:
            if j != base:
                ratios = [a / b for a, b in zip(walls[j], pairs)]
                print(f"--jobs {j} took {statistics.median(ratios):.2f}x the halves' time (median of the rounds' ratios)")


if __name__ == "__main__":
    main()

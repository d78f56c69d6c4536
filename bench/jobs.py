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
cut, hand over or merge.  The figure to compare ``--jobs 2`` with.  ``--grep`` adds the same
comparison for grep (one grep over the input, then one over each half at once): what two processes
of compiled code gain on the machine at that moment.

Each run's line also gives the tree's system time and page faults (from wait4).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def run(path: Path, jobs: int) -> tuple[float, float, float, int, int]:
    """Wall time, CPU seconds (user + system) and system seconds of the process tree, its page
    faults (minor and major), and the exit code."""
    cmd = [sys.executable, "-m", "banscan", "scan", "--no-store", "-f", "json", "-o", os.devnull,
           "--jobs", str(jobs), str(path)]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    return (time.perf_counter() - t0, ru.ru_utime + ru.ru_stime, ru.ru_stime, ru.ru_minflt + ru.ru_majflt,
            os.waitstatus_to_exitcode(status))


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


def run_grep(paths: list[Path]) -> float:
    """Wall time of ``grep -a -i -F -c -f vendor-names`` over each of ``paths``, all at once (its
    output to a pipe: GNU grep stops at the first match when it writes to /dev/null)."""
    from throughput import VENDOR_NAMES  # (bench/ is this script's directory)

    pat = Path(__file__).parent / "out" / "vendor-names.txt"
    pat.parent.mkdir(exist_ok=True)
    pat.write_text("\n".join(VENDOR_NAMES) + "\n")
    t0 = time.perf_counter()
    procs = [subprocess.Popen(["grep", "-a", "-i", "-F", "-c", "-f", str(pat), str(p)], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL) for p in paths]
    for p in procs:
        p.communicate()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--halves", action="store_true", help="also time two one-process scans of the halves at once")
    ap.add_argument("--grep", action="store_true",
                    help="with --halves: also time grep over the input, and over its halves at once (the "
                         "machine's own speed-up for two processes of compiled code)")
    args = ap.parse_args()
    pair = halves(args.input) if args.halves else None
    greps: list[tuple[float, float]] = []
    pairs: list[float] = []
    size = args.input.stat().st_size
    print(f"{args.input} ({size / 1e6:.0f} MB), {os.cpu_count()} CPUs")
    walls: dict[int, list[float]] = {j: [] for j in args.jobs}
    cpus: dict[int, list[float]] = {j: [] for j in args.jobs}
    for r in range(args.runs):
        for j in args.jobs:
            load = os.getloadavg()[0]
            wall, cpu, sys_cpu, faults, code = run(args.input, j)
            walls[j].append(wall)
            cpus[j].append(cpu)
            print(f"run {r + 1} --jobs {j}: wall {wall:6.2f} s  cpu {cpu:6.2f} s (system {sys_cpu:5.2f} s, "
                  f"{faults:7d} page faults)  load before {load:4.2f}  exit {code}", flush=True)
        if pair is not None:
            load = os.getloadavg()[0]
            wall, cpu = run_pair(pair)
            pairs.append(wall)
            print(f"run {r + 1} halves at once: wall {wall:6.2f} s  cpu {cpu:6.2f} s  load before {load:4.2f}", flush=True)
            if args.grep:
                g1, g2 = run_grep([args.input]), run_grep(list(pair))
                greps.append((g1, g2))
                print(f"run {r + 1} grep: whole {g1:5.2f} s, halves at once {g2:5.2f} s ({g1 / g2:.2f}x)", flush=True)
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
    if greps:
        print(f"grep over the halves at once: {statistics.median(a / b for a, b in greps):.2f}x as fast as over the "
              f"whole (median of the rounds)")


if __name__ == "__main__":
    main()

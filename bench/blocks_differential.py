#!/usr/bin/env python3
"""A longer differential campaign than CI runs for the block scanner: generated inputs of every
block-scanned form (osqueryd results logs, Zeek TSV and JSON dns.logs, DNS server query logs,
installed-software CSV exports), built from every signature value of the bundled registry (the
generators of tests/fast/test_fast_differential.py), with random byte mutations (quotes,
newlines, carriage returns, delimiters, tabs, stray UTF-8 bytes, NUL), cut into small blocks and
scanned three times: with the block scanner, line by line by the format's reader (with its own
prefilter), and with every record read and matched (the slow path).  Counted: the cases whose
detections are not the same in all three (a failure: exit 1), and the cases where only the
input's report (counts, assets, errors and notes, in any order) differs between the block scanner
and the reader (listed; a broken line a prefilter skips may be counted otherwise than when it is
read).  Each with the command that reproduces it.

    PYTHONPATH=src python3 bench/blocks_differential.py --cases 300
    PYTHONPATH=src python3 bench/blocks_differential.py --form software-csv --seed 46 -v   # one case
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fast"))
sys.path.insert(0, str(ROOT / "tests"))

import test_fast_differential as gen  # noqa: E402

from banscan.fast import blocks as fb  # noqa: E402
from banscan.registry import load  # noqa: E402
from banscan.sources.limits import Limits  # noqa: E402

FORMS = ["osquery", "zeek-tsv", "zeek-json", "dns-query-log", "software-csv"]
INSERTS = [b'"', b"\n", b"\r", b",", b";", b"\t", b"\xc3", b"\xa0", b'""', b"\x00", b" ", b"#", b"{", b"\\"]


def write(form: str, path: Path, values: dict[str, list[str]], rnd: random.Random) -> None:
    rows = rnd.randint(40, 400)
    if form == "osquery":
        gen.osquery_log(path, values, rnd, rows)
    elif form == "zeek-tsv":
        gen.zeek_dns_log(path, values, rnd, rows)
    elif form == "zeek-json":
        gen.zeek_json_log(path, values, rnd, rows, with_path=rnd.random() < 0.5)
    elif form == "dns-query-log":
        gen.dns_query_log(path, values, rnd, rows)
    else:
        gen.software_csv_raw(path, values, rnd, rows, delim=rnd.choice([",", ";", "\t"]))
    data = bytearray(path.read_bytes())
    for _ in range(rnd.randint(0, 12)):
        i = rnd.randrange(len(data))
        data[i:i] = rnd.choice(INSERTS)
    path.write_bytes(bytes(data))


def case(form: str, seed: int, registry: Any, values: dict[str, list[str]], tmp: Path,
         verbose: bool) -> tuple[bool, bool]:
    """(the detections agree in all three scans, the input's report agrees with the reader's)."""
    rnd = random.Random(f"{form}:{seed}")
    fb.BLOCK_BYTES = rnd.choice([300, 700, 1024, 2048, 4096])
    limits = Limits(max_line_bytes=rnd.choice([200, 400, 4 << 20]))
    path = tmp / f"{form}-{seed}.log"
    write(form, path, values, rnd)
    fast = gen.scan(registry, [str(path)], limits=limits)
    slow = gen.scan(registry, [str(path)], fast=False, limits=limits)
    # the input's report against the reader's own reading with its prefilter (a reader counts a
    # broken line its prefilter skips as a row: with every line read, counts may differ there)
    lines = gen.scan(registry, [str(path)], blocks=False, limits=limits)
    a = [gen.same_order(i.to_dict()) for i in fast.inputs]
    b = [gen.same_order(i.to_dict()) for i in lines.inputs]
    dets = gen.key(fast) == gen.key(slow) == gen.key(lines)
    same = a == b
    if not (dets and same) and verbose:
        for k in a[0]:
            if a[0][k] != b[0][k]:
                print(f"  {k}: blocks {str(a[0][k])[:300]}\n  {k}: reader {str(b[0][k])[:300]}")
        print(f"  detections: blocks {len(fast.detections)}, reader {len(lines.detections)}, slow "
              f"{len(slow.detections)}; input kept at {path}")
    return dets, same


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=100, help="cases per form")
    ap.add_argument("--form", choices=FORMS, action="append", help="only these forms (default: all)")
    ap.add_argument("--seed", type=int, help="one case: this seed")
    ap.add_argument("-v", "--verbose", action="store_true", help="show what differs")
    args = ap.parse_args()
    registry = load()
    values = gen.signature_values(registry)
    forms = args.form or FORMS
    seeds = [args.seed] if args.seed is not None else list(range(args.cases))
    detections: list[tuple[str, int]] = []
    reports: list[tuple[str, int]] = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d) if args.seed is None else Path(tempfile.mkdtemp(prefix="banscan-blocks-"))
        for form in forms:
            bad_dets = bad_reports = 0
            for seed in seeds:
                dets, same = case(form, seed, registry, values, tmp, args.verbose)
                if not dets:
                    bad_dets += 1
                    detections.append((form, seed))
                elif not same:
                    bad_reports += 1
                    reports.append((form, seed))
            print(f"{form:<15} {len(seeds):>5} cases: detections differ in {bad_dets}, only the input's report "
                  f"in {bad_reports}", flush=True)
    n = len(forms) * len(seeds)
    print(f"{n} cases in {time.perf_counter() - t0:.0f} s")
    for what, cases in (("detections differ", detections), ("the input's report differs", reports)):
        for form, seed in cases:
            print(f"  {what}: PYTHONPATH=src python3 bench/blocks_differential.py --form {form} --seed {seed} -v")
    sys.exit(1 if detections else 0)


if __name__ == "__main__":
    main()

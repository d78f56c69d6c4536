"""Stored evidence: how compact it is, and what keeping it costs a scan.

For each input (default: this machine, and a generated osqueryd results log), prints the
observations read, the distinct records kept, the compressed bytes stored, the size of the
report JSON the store keeps beside it, the scan time with and without collecting evidence (with
it, the prefilter is off and every line is read), the time to record it, and the time to match
the stored evidence again.  Prints figures; asserts nothing.

    python bench/evidence_store.py [--rows 200000] [--no-host]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from banscan import registry as registry_mod  # noqa: E402
from banscan.evidence import rematch  # noqa: E402
from banscan.scan import ScanRequest, run  # noqa: E402
from banscan.store import open_store  # noqa: E402


def measure(name: str, inputs: tuple[str, ...], reg: registry_mod.Registry) -> None:
    t0 = time.perf_counter()
    plain = run(ScanRequest(inputs=inputs, as_of=dt.date.today()), reg)
    t_plain = time.perf_counter() - t0
    t0 = time.perf_counter()
    kept = run(ScanRequest(inputs=inputs, as_of=dt.date.today(), keep_evidence=True), reg)
    t_kept = time.perf_counter() - t0
    assert kept.evidence is not None
    sets = kept.evidence.sets()
    observations = sum(i.observations for i in kept.inputs)
    records = sum(len(s.records) for s in sets.values())
    compressed = sum(len(s.compressed()) for s in sets.values())
    report = len(json.dumps(kept.to_dict(), ensure_ascii=False).encode())
    with tempfile.TemporaryDirectory() as tmp:
        with open_store(f"sqlite:///{tmp}/b.db") as store:
            t0 = time.perf_counter()
            store.record(kept, reg)
            t_rec = time.perf_counter() - t0
            t0 = time.perf_counter()
            ids = [sid for (_s, sid) in store.latest_evidence().values() if sid is not None]
            again = rematch(store.evidence_sets(ids).values(), reg)
            t_match = time.perf_counter() - t0
    print(f"{name:<28}{observations:>12,}{records:>10,}{len(sets):>6}{compressed / 1024:>10,.0f}"
          f"{report / 1024:>10,.0f}{t_plain:>9.2f}{t_kept:>9.2f}{t_rec:>8.2f}{t_match:>8.2f}"
          f"{len(plain.detections):>6}{len(again):>6}{distinct(plain.detections):>7}{distinct(again):>7}")


def distinct(dets: list) -> int:  # type: ignore[type-arg]
    """Detections told apart by what was seen, not where (a record read twice is one)."""
    from banscan.evidence import obs_digest

    return len({(d.asset, d.family, d.product_id, obs_digest(d.observation)) for d in dets})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000, help="rows of the generated osqueryd log (0: none)")
    ap.add_argument("--no-host", action="store_true")
    args = ap.parse_args()
    reg = registry_mod.load()
    print(f"{'input':<28}{'observ.':>12}{'records':>10}{'sets':>6}{'KiB kept':>10}{'KiB rep.':>10}"
          f"{'scan s':>9}{'+evid s':>9}{'rec s':>8}{'match s':>8}{'dets':>6}{'again':>6}{'dist.':>7}{'again':>7}")
    if not args.no_host:
        measure("this machine", (), reg)
    if args.rows:
        import throughput

        out = ROOT / "bench" / "out"
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"osqueryd-{args.rows}.log"
        throughput.generate(path, args.rows)
        measure(f"osqueryd log ({args.rows:,} rows)", (str(path),), reg)


if __name__ == "__main__":
    main()

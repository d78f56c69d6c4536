#!/usr/bin/env python3
"""Build bench/accuracy/winget.tsv: labelled winget packages from the public winget package index.

Input: a clone (or bare clone) of svrooij/winget-pkgs-index, whose index.v2.csv lists every package of
microsoft/winget-pkgs (PackageId, Version, Name, LastUpdate).  The label comes from the manifest
namespace alone, never from banscan: a winget PackageIdentifier is ``<Publisher>.<Package>``, and the
publisher segment of the vendors' own packages is the vendor (``Huawei.HiSuite``, ``ByteDance.Lark``).
``PUBLISHERS`` maps those publisher segments to families; ``Honor`` (sold by Huawei in 2020) is a trap
labelled ``-``.  Packages of other publishers are ``-`` even when they name a vendor (third-party
DeepSeek desktops, DJI metadata tools ...).

Rows kept: every package whose id or name contains a family word (CANDIDATE_WORDS), plus a random
sample of the others (seed 20261201, SAMPLE rows), so that the committed file stays small.

    python bench/accuracy/build_winget.py --repo /path/to/winget-pkgs-index [--commit SHA]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261201
SAMPLE = 3000
PUBLISHERS = {
    "huawei": "huawei", "bytedance": "bytedance", "dahua": "dahua", "dji": "dji", "tencent": "tencent",
    "kaspersky": "kaspersky", "kasperskylab": "kaspersky", "hikvision": "hikvision", "zte": "zte",
    "deepseek": "deepseek", "hytera": "hytera",
}
TRAPS = {"honor": "Honor (sold by Huawei on 2020-11-17)"}
CANDIDATE_WORDS = ["huawei", "bytedance", "dahua", "dji", "tencent", "kaspersky", "hikvision", "hik", "zte",
                   "deepseek", "hytera", "honor", "tiktok", "douyin", "lark", "feishu", "capcut", "doubao",
                   "trae", "wechat", "qq", "ezviz", "imou", "lorex", "amcrest", "hisuite", "volcengine"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, required=True)
    ap.add_argument("--commit", default="HEAD")
    ap.add_argument("-o", "--out", type=Path, default=HERE / "winget.tsv")
    a = ap.parse_args(argv)
    git_dir = a.repo / ".git" if (a.repo / ".git").exists() else a.repo

    def git(*args: str) -> str:
        return subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True, text=True,
                              check=True).stdout

    commit = git("rev-parse", a.commit).strip()
    date = git("log", "-1", "--format=%cI", commit).strip()
    text = git("show", f"{commit}:index.v2.csv").lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    cands, others = [], []
    for r in rows:
        pid, name = r["PackageId"].strip(), (r["Name"] or "").strip()
        hay = f"{pid} {name}".lower()
        (cands if any(w in hay for w in CANDIDATE_WORDS) else others).append((pid, name))
    rng = random.Random(SEED)
    sample = rng.sample(sorted(others), min(SAMPLE, len(others)))
    out = []
    for pid, name in sorted(cands) + sorted(sample):
        pub = pid.split(".", 1)[0].lower()
        if pub in PUBLISHERS:
            fam, rel, note = PUBLISHERS[pub], "product", f"publisher-namespace ({pid.split('.', 1)[0]})"
        elif pub in TRAPS:
            fam, rel, note = "-", "-", f"trap-namespace ({TRAPS[pub]})"
        else:
            fam, rel, note = "-", "-", ("other-publisher (names a family word)" if (pid, name) in cands
                                         else "random-sample")
        out.append((pid, name.replace("\t", " "), fam, rel, note))
    with a.out.open("w", encoding="utf-8", newline="") as fh:
        fh.write(f"# svrooij/winget-pkgs-index index.v2.csv @{commit} ({date}); "
                 f"{len(rows)} packages; built by bench/accuracy/build_winget.py\n")
        w = csv.writer(fh, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar="\\")
        w.writerow(["package_id", "name", "expected_family", "expected_relation", "label_note"])
        w.writerows(out)
    pos = sum(1 for r in out if r[2] != "-")
    print(f"{a.out}: {len(out)} rows ({len(cands)} candidates, {pos} labelled positive), index {commit[:12]}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

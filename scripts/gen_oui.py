#!/usr/bin/env python3
"""Generate src/banscan/registry/data/generated/oui.json from the IEEE registries in Debian's ieee-data.

Reads oui.csv (MA-L), mam.csv (MA-M), oui36.csv (MA-S) and iab.csv (IAB) with the csv module, keeps the
assignments whose registered organisation name, normalised (case-fold, collapse whitespace, remove "."
and ","), equals one of the names in scripts/oui-organizations.yaml, and writes them with the family and
entity that file gives.  Names listed there under ``excluded`` are never assigned, even if a future edit
adds a matching row by mistake.

    python scripts/gen_oui.py                        # the installed package, /usr/share/ieee-data
    python scripts/gen_oui.py --deb ieee-data_20260625_all.deb   # a downloaded package, unpacked to a temp dir
    python scripts/gen_oui.py --data-dir DIR --package-version V

data_date is the upstream snapshot date encoded in the Debian package version (YYYYMMDD) when the version
has that form, else the newest mtime of the four CSV files; ``source`` records which one was used.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
MAPPING = Path(__file__).resolve().parent / "oui-organizations.yaml"
OUT = ROOT / "src" / "banscan" / "registry" / "data" / "generated" / "oui.json"
FILES = (("oui.csv", "MA-L"), ("mam.csv", "MA-M"), ("oui36.csv", "MA-S"), ("iab.csv", "IAB"))


def normalise(name: str) -> str:
    return " ".join(name.casefold().replace(".", "").replace(",", "").split())


def load_mapping(path: Path) -> dict[str, dict[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    excluded = {normalise(e["name"]) for e in data.get("excluded", [])}
    mapping: dict[str, dict[str, str]] = {}
    for row in data["organizations"]:
        key = normalise(row["name"])
        if key in excluded:
            raise SystemExit(f"{path}: {row['name']!r} is both mapped and excluded")
        if key in mapping and mapping[key] != row:
            raise SystemExit(f"{path}: {row['name']!r} is mapped twice")
        mapping[key] = {"family": row["family"], **({"entity": row["entity"]} if row.get("entity") else {})}
    return mapping


def installed_version() -> str | None:
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "ieee-data"], capture_output=True,
                             text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def data_date(version: str | None, data_dir: Path) -> tuple[str, str]:
    m = re.match(r"^(\d{4})(\d{2})(\d{2})", version or "")
    if m:
        return f"{m[1]}-{m[2]}-{m[3]}", "the snapshot date in the package version"
    newest = max((data_dir / f).stat().st_mtime for f, _ in FILES if (data_dir / f).exists())
    return (dt.datetime.fromtimestamp(newest, dt.UTC).date().isoformat(),
            "the newest modification time of the CSV files")


def read_assignments(data_dir: Path, mapping: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for fname, registry in FILES:
        path = data_dir / fname
        if not path.exists():
            raise SystemExit(f"{path}: missing (install the Debian package ieee-data)")
        with path.open(newline="", encoding="utf-8") as fh:
            for rec in csv.DictReader(fh):
                org = (rec.get("Organization Name") or "").strip()
                hit = mapping.get(normalise(org))
                if not hit:
                    continue
                prefix = re.sub(r"[^0-9A-Fa-f]", "", rec["Assignment"]).upper()
                found.append({"prefix": prefix, "registry": rec.get("Registry") or registry,
                              "organization": org, **hit})
    found.sort(key=lambda a: (a["family"], a["prefix"]))
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=Path("/usr/share/ieee-data"))
    ap.add_argument("--deb", type=Path, help="an ieee-data .deb to read instead of the installed package")
    ap.add_argument("--package-version", help="version of the ieee-data the --data-dir came from")
    ap.add_argument("--mapping", type=Path, default=MAPPING)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        if args.deb:
            subprocess.run(["dpkg-deb", "-x", str(args.deb), tmp], check=True)
            data_dir = Path(tmp) / "usr" / "share" / "ieee-data"
            version = subprocess.run(["dpkg-deb", "-f", str(args.deb), "Version"], capture_output=True,
                                     text=True, check=True).stdout.strip()
        else:
            data_dir = args.data_dir
            version = args.package_version or (installed_version()
                                               if data_dir == Path("/usr/share/ieee-data") else None)
        mapping = load_mapping(args.mapping)
        assignments = read_assignments(data_dir, mapping)
        date, how = data_date(version, data_dir)

    table = {
        "source": (f"IEEE Registration Authority registries (MA-L oui.csv, MA-M mam.csv, MA-S oui36.csv, IAB iab.csv) "
                   f"as shipped in Debian package ieee-data {version or '(version unknown)'}; organisations selected by "
                   f"exact normalised name from scripts/oui-organizations.yaml (signatures.md §2.1); "
                   f"data_date taken from {how}"),
        "data_date": date,
        "generated_by": "scripts/gen_oui.py",
        "assignments": assignments,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    counts: dict[str, int] = {}
    for a in assignments:
        counts[a["family"]] = counts.get(a["family"], 0) + 1
    print(f"{args.out}: {len(assignments)} assignments, ieee-data {version}, data_date {date}", file=sys.stderr)
    for fam, n in sorted(counts.items()):
        print(f"  {fam}: {n}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

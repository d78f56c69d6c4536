#!/usr/bin/env python3
"""Generate src/banscan/registry/data/generated/pen.json: the IANA Private Enterprise Numbers of the families.

Reads a copy of IANA's enterprise-numbers registry as shipped in Debian's libwireshark-data
(``/usr/share/wireshark/enterprises.tsv``: number, tab, organisation), keeps the numbers whose organisation
name, normalised (case-fold, collapse whitespace, remove "." and ","), equals one of the names in
scripts/pen-organizations.yaml, and writes them with the family and entity that file gives.  Names listed
there under ``excluded`` (look-alikes) are never assigned.

    python scripts/gen_pen.py                       # the installed libwireshark-data
    python scripts/gen_pen.py --deb libwireshark-data_<version>_all.deb
    python scripts/gen_pen.py --file enterprises.tsv --package-version V

data_date is the newest modification time of the file in the package (the day Wireshark regenerated its
copy from IANA); ``source`` records the package version and the highest number in the copy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
MAPPING = Path(__file__).resolve().parent / "pen-organizations.yaml"
OUT = ROOT / "src" / "banscan" / "registry" / "data" / "generated" / "pen.json"
INSTALLED = Path("/usr/share/wireshark/enterprises.tsv")


def normalise(name: str) -> str:
    return " ".join(name.casefold().replace(".", "").replace(",", "").split())


def read_registry(path: Path) -> list[tuple[int, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        num, _, org = line.partition("\t")
        if num.strip().isdigit():
            out.append((int(num), org.strip()))
    return out


def installed_version() -> str | None:
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libwireshark-data"], capture_output=True,
                             text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, default=INSTALLED)
    ap.add_argument("--deb", type=Path, help="a libwireshark-data .deb to read instead of the installed one")
    ap.add_argument("--package-version")
    ap.add_argument("--mapping", type=Path, default=MAPPING)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)

    data = yaml.safe_load(args.mapping.read_text(encoding="utf-8"))
    excluded = {normalise(e["name"]): e["reason"] for e in data.get("excluded", [])}
    mapping: dict[str, dict[str, str]] = {}
    for row in data["organizations"]:
        key = normalise(row["name"])
        if key in excluded:
            raise SystemExit(f"{args.mapping}: {row['name']!r} is both mapped and excluded")
        mapping[key] = {"family": row["family"], **({"entity": row["entity"]} if row.get("entity") else {})}

    with tempfile.TemporaryDirectory() as tmp:
        if args.deb:
            subprocess.run(["dpkg-deb", "-x", str(args.deb), tmp], check=True)
            path = Path(tmp) / "usr" / "share" / "wireshark" / "enterprises.tsv"
            version = subprocess.run(["dpkg-deb", "-f", str(args.deb), "Version"], capture_output=True,
                                     text=True, check=True).stdout.strip()
        else:
            path = args.file
            version = args.package_version or (installed_version() if path == INSTALLED else None)
        if not path.exists():
            raise SystemExit(f"{path}: missing (apt-get install libwireshark-data)")
        rows = read_registry(path)
        date = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date().isoformat()

    found = []
    seen_names: set[str] = set()
    for num, org in rows:
        hit = mapping.get(normalise(org))
        if hit:
            found.append({"number": num, "organization": org, **hit})
            seen_names.add(normalise(org))
    missing = sorted(set(mapping) - seen_names)
    if missing:
        print(f"warning: mapped names not in the registry copy: {missing}", file=sys.stderr)
    found.sort(key=lambda a: (a["family"], a["number"]))
    table = {
        "source": (f"IANA Private Enterprise Numbers (https://www.iana.org/assignments/enterprise-numbers/) as copied "
                   f"in Debian package libwireshark-data {version or '(version unknown)'} (enterprises.tsv, "
                   f"{len(rows)} numbers, highest {max(n for n, _ in rows)}); organisations selected by exact "
                   f"normalised name from scripts/pen-organizations.yaml (signatures.md §2.2)"),
        "data_date": date,
        "generated_by": "scripts/gen_pen.py",
        "assignments": found,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(found)} enterprise numbers, libwireshark-data {version}, data_date {date}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

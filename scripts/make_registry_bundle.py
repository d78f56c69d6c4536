#!/usr/bin/env python3
"""Build a registry bundle for 'banscan registry update' from a registry data tree.

    python scripts/make_registry_bundle.py --out dist/registry-2026.11.27.tar.gz
    python scripts/make_registry_bundle.py --data path/to/data --out bundle.tar.gz --sign publisher.key

The bundle is a .tar.gz of manifest.json (format, version, registry sha256, per-file sha256) and
the data/ tree; identical trees give byte-identical bundles.  --sign writes OUT.sig, the base64
Ed25519 signature of the bundle (make a key with 'banscan keygen --out publisher.key'; users
pass publisher.key.pub to 'banscan registry update --key').  The bundle's own SHA-256 is printed
for publishing next to it ('--sha256').
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from banscan.errors import BanscanError
    from banscan.registry.loader import DATA_DIR
    from banscan.store.bundle import build_bundle

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA_DIR, help="registry data tree (default: the package's)")
    ap.add_argument("--out", type=Path, required=True, help="bundle file to write (.tar.gz)")
    ap.add_argument("--sign", type=Path, metavar="KEY", help="Ed25519 private key (PEM) to sign the bundle with")
    args = ap.parse_args(argv)
    try:
        m = build_bundle(args.data, args.out, args.sign)
    except BanscanError as e:
        for p in e.problems:
            print(f"make_registry_bundle: error: {p}", file=sys.stderr)
        return 2
    print(f"{args.out}: registry {m['version']} (registry sha256 {m['sha256']}), {len(m['files'])} files")  # type: ignore[arg-type]
    print(f"bundle sha256 {m['bundle_sha256']}")
    if args.sign:
        print(f"signature {args.out}.sig")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""spark-submit entry point: ``spark-submit …/banscan/fast/spark_main.py INPUT… --output DIR``.

Takes the options of ``banscan spark-scan`` (``--profile``, ``--as-of``, ``--registry``,
``--asset``); the master comes from spark-submit.  Exit codes as ``banscan scan``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="banscan-spark", description=__doc__)
    ap.add_argument("inputs", nargs="+", metavar="INPUT")
    ap.add_argument("--output", "-o", required=True, metavar="DIR")
    ap.add_argument("--profile", action="append", default=[])
    ap.add_argument("--as-of", metavar="YYYY-MM-DD")
    ap.add_argument("--registry", action="append", default=[], metavar="FILE")
    ap.add_argument("--asset", metavar="NAME")
    ap.add_argument("--fail-on", default="remove", metavar="LEVEL")
    a = ap.parse_args(argv)
    from pyspark.sql import SparkSession

    from banscan.cli.scan_cmd import exit_code
    from banscan.errors import BanscanError
    from banscan.fast.regcache import load_registry
    from banscan.fast.spark import spark_scan

    try:
        as_of = dt.date.fromisoformat(a.as_of) if a.as_of else None
    except ValueError:
        print(f"banscan: --as-of: '{a.as_of}' is not a date in the form YYYY-MM-DD", file=sys.stderr)
        return 2
    try:
        registry = load_registry(a.registry)
        spark = SparkSession.builder.appName("banscan spark-scan").getOrCreate()
        result = spark_scan(a.inputs, a.output, registry, profiles=a.profile, as_of=as_of, asset=a.asset,
                            spark=spark)
    except BanscanError as e:
        print(f"banscan: {e}", file=sys.stderr)
        return 2
    for i in result.inputs:
        for err in i.errors:
            print(f"banscan: {err}", file=sys.stderr)
    return exit_code(result, a.fail_on)


if __name__ == "__main__":
    sys.exit(main())

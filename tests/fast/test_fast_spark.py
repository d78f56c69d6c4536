"""``banscan spark-scan`` gives the results of ``banscan scan`` on the same files (Spark local[2],
one session for the module: the JVM is slow to start)."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sharedsamples import SHARED_SAMPLES
from test_fast_differential import (
    dns_query_log,
    osquery_log,
    signature_values,
    software_csv_raw,
    zeek_dns_log,
    zeek_json_log,
)

pytest.importorskip("pyspark")
pytest.importorskip("pyarrow")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("no Java runtime (Debian: openjdk-17-jre-headless)", allow_module_level=True)

from banscan.fast import blocks as fb  # noqa: E402
from banscan.fast.spark import session, spark_scan  # noqa: E402
from banscan.registry import Registry, load  # noqa: E402
from banscan.report.json_report import JsonReporter  # noqa: E402
from banscan.scan import ScanRequest, run  # noqa: E402

pytestmark = pytest.mark.spark
AS_OF = dt.date(2026, 11, 1)
BLOCK = 4096


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    os.environ["BANSCAN_BLOCK_BYTES"] = str(BLOCK)  # the executors' Python workers cut small blocks too
    s = session("local[2]")
    yield s
    s.stop()
    os.environ.pop("BANSCAN_BLOCK_BYTES", None)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load()


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in ("started_at", "finished_at")}


def test_spark_scan_equals_scan(spark: Any, registry: Registry, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fb, "BLOCK_BYTES", BLOCK)
    rnd = random.Random(11)
    values = signature_values(registry)
    data = tmp_path / "in"
    data.mkdir()
    osquery_log(data / "osqueryd.results.log", values, rnd, 300, broken=True)
    zeek_dns_log(data / "dns.log", values, rnd, 200)
    dns_query_log(data / "queries.log", values, rnd, 200)
    zeek_json_log(data / "dns.json.log", values, rnd, 200, with_path=False)
    software_csv_raw(data / "software.csv", values, rnd, 300)  # (a record may go on in the next block)
    inputs = [str(data)]
    for rel in ("cyclonedx", "osquery", "windows"):
        if (SHARED_SAMPLES / rel).is_dir():
            inputs.append(str(SHARED_SAMPLES / rel))
    inputs.append(str(tmp_path / "missing.log"))
    out = tmp_path / "out"
    profiles = ("us-federal-agency",)
    got = spark_scan(inputs, out, registry, profiles=profiles, as_of=AS_OF, spark=spark)
    want = run(ScanRequest(inputs=tuple(inputs), profiles=profiles, as_of=AS_OF), registry)
    assert len(want.detections) > 20 and want.findings
    assert [d.to_dict() for d in got.detections] == [d.to_dict() for d in want.detections]
    assert [f.to_dict() for f in got.findings] == [f.to_dict() for f in want.findings]
    assert [i.to_dict() for i in got.inputs] == [i.to_dict() for i in want.inputs]
    # the files written
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    buf = tmp_path / "scan.json"
    with buf.open("w", encoding="utf-8") as fh:
        JsonReporter().write(want, registry, fh, {})
    assert _comparable(report) == _comparable(json.loads(buf.read_text(encoding="utf-8")))
    import pyarrow.parquet as pq

    dets = pq.read_table(out / "detections.parquet").to_pylist()
    assert sorted(d["id"] for d in dets) == sorted(d.id for d in want.detections)
    finds = pq.read_table(out / "findings.parquet").to_pylist()
    assert sorted(f["id"] for f in finds) == sorted(f.id for f in want.findings)
    assert {f["requirement"] for f in finds} <= {"advisory", "report", "do-not-procure", "remove", "prohibited"}

"""``banscan spark-scan``: the block scanner on Apache Spark, for evidence that sits in a data lake.

    banscan spark-scan INPUT… --output DIR [--master URL]
    spark-submit …/banscan/fast/spark_main.py INPUT… --output DIR

Inputs are read with ``spark.read.format("binaryFile")``.  A first ``mapInArrow`` recognises each
file's format and cuts line-oriented inputs into the same blocks ``banscan scan`` cuts (at
newlines, with their first line numbers and the header lines before them); a second runs the pure
block function (:func:`banscan.fast.blocks.scan_block`) on each block with the compiled registry,
broadcast once.  Other inputs (SBOMs, XML …) are scanned whole by one task each.  The driver
merges the results in input and block order, exactly as ``banscan scan`` does, applies the policy
and writes ``DIR/detections.parquet``, ``DIR/findings.parquet`` and ``DIR/report.json`` (the JSON
report of ``banscan scan``).  Files larger than 2 GiB exceed Spark's binaryFile limit.

Needs the ``spark`` extra (pyspark, pyarrow) and a Java 17 runtime.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import pickle
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from banscan.model import Detection, Finding
from banscan.registry import Registry
from banscan.scan import InputReport, ScanResult

_WORKER: dict[str, Any] = {}


# ------------------------------------------------------------------------------ executors


def _worker_scanner(blob: bytes) -> Any:
    """One Scanner (memoised matcher, compiled engine) per Python worker and registry."""
    key = hashlib.sha256(blob).hexdigest()
    if _WORKER.get("key") != key:
        from banscan.scan import Scanner

        registry, limits = pickle.loads(blob)  # noqa: S301 - the driver's own broadcast
        _WORKER["key"] = key
        _WORKER["scanner"] = Scanner(registry, limits=limits)
        _WORKER["plans"] = {}
    return _WORKER["scanner"]


def split_files(batches: Iterator[Any], names: dict[str, tuple[str, str | None, bool]]) -> Iterator[Any]:
    """binaryFile rows -> one row per block (line-oriented formats) or per whole file."""
    import pyarrow as pa

    from banscan.fast import blocks as fb
    from banscan.sources import HEAD_BYTES, detect
    from banscan.sources.encoding import decode_head

    schema = _SPLIT_SCHEMA()
    for batch in batches:
        cols = batch.to_pydict()
        for uri, content in zip(cols["path"], cols["content"]):
            uri = _local(uri)
            if uri not in names:
                continue
            name, _asset, _walked = names[uri]
            data: bytes = content or b""
            sha = hashlib.sha256(data).hexdigest()
            head = data[:HEAD_BYTES]
            sniff_head, encoding = decode_head(head)
            try:
                source = detect(sniff_head, name)
            except Exception:  # noqa: BLE001 - the whole-file scan reports it
                source = None
            plan = fb.plan_for(source, head) if source is not None and encoding is None else None
            if plan is None:
                yield pa.RecordBatch.from_pydict(
                    {"uri": [uri], "idx": [0], "first_line": [1], "header": [b""], "block": [data],
                     "mode": ["whole"], "source": [source.name if source else ""], "sha256": [sha]},
                    schema=schema)
                continue
            stream = io.BytesIO(data)
            for idx, (header, first, block) in enumerate(
                    fb.blocks_with_headers(plan, fb.iter_blocks(stream))):
                yield pa.RecordBatch.from_pydict(
                    {"uri": [uri], "idx": [idx], "first_line": [first], "header": [b"".join(header)],
                     "block": [block], "mode": [plan.name], "source": [source.name if source else ""],
                     "sha256": [sha]},
                    schema=schema)


def scan_blocks(batches: Iterator[Any], blob: bytes, names: dict[str, tuple[str, str | None, bool]]
                ) -> Iterator[Any]:
    """Block rows -> pickled results (BlockResult, or (InputReport, detections) for whole files)."""
    import pyarrow as pa

    from banscan.fast import blocks as fb
    from banscan.scan import _default_asset
    from banscan.sources import by_name
    from banscan.sources.encoding import clean_text, display_path

    scanner = _worker_scanner(blob)
    plans: dict[str, Any] = _WORKER["plans"]
    schema = _RESULT_SCHEMA()
    for batch in batches:
        cols = batch.to_pydict()
        for uri, idx, first, header, block, mode, source, sha in zip(
                cols["uri"], cols["idx"], cols["first_line"], cols["header"], cols["block"],
                cols["mode"], cols["source"], cols["sha256"]):
            name, asset, walked = names[uri]
            if mode == "whole":
                report, dets = scanner.scan_stream(io.BytesIO(block), name, asset, None, walked=walked,
                                                   size=len(block))
                out: Any = (report, dets)
            else:
                plan = plans.get(mode) or plans.setdefault(mode, fb.PLANS[mode]())
                shown = display_path(name)
                default_asset, _ = clean_text(asset or _default_asset(shown))
                out = fb.scan_block(by_name(source), plan, scanner.matcher, fb.file_lines(header),
                                    block, first, shown, default_asset, limits=scanner.limits)
            yield pa.RecordBatch.from_pydict(
                {"uri": [uri], "idx": [idx], "sha256": [sha], "format": [source], "result": [pickle.dumps(out)]},
                schema=schema)


_SPLIT_DDL = ("uri string, idx long, first_line long, header binary, block binary, mode string, "
              "source string, sha256 string")
_RESULT_DDL = "uri string, idx long, sha256 string, format string, result binary"


def _SPLIT_SCHEMA() -> Any:  # noqa: N802 - a constant built on first use (pyarrow is optional)
    import pyarrow as pa

    return pa.schema([("uri", pa.string()), ("idx", pa.int64()), ("first_line", pa.int64()),
                      ("header", pa.binary()), ("block", pa.binary()), ("mode", pa.string()),
                      ("source", pa.string()), ("sha256", pa.string())])


def _RESULT_SCHEMA() -> Any:  # noqa: N802
    import pyarrow as pa

    return pa.schema([("uri", pa.string()), ("idx", pa.int64()), ("sha256", pa.string()),
                      ("format", pa.string()), ("result", pa.binary())])


# ------------------------------------------------------------------------------ driver


def _expand(inputs: Sequence[str]) -> list[tuple[str, Path | None, bool, str]]:
    """(name, file, found by walking a directory, why a directory could not be listed) in the
    order ``banscan scan`` reads them."""
    from banscan.scan import _walk

    out: list[tuple[str, Path | None, bool, str]] = []
    for raw in inputs:
        p = Path(raw)
        if p.is_dir():
            errors: list[tuple[str, str]] = []
            out.extend((str(f), f, True, "") for f in _walk(p, errors))
            out.extend((d, None, True, why) for d, why in errors)
        else:
            out.append((raw, p, False, ""))
    return out


def spark_scan(inputs: Sequence[str], output: str | Path, registry: Registry, *,
               master: str = "local[*]", profiles: Sequence[str] = (), as_of: dt.date | None = None,
               asset: str | None = None, spark: Any = None) -> ScanResult:
    """Scan ``inputs`` on Spark; write DIR/detections.parquet, findings.parquet and report.json."""
    import stat

    from banscan import policy
    from banscan.errors import ConfigError
    from banscan.fast import blocks as fb
    from banscan.scan import Scanner, _dedupe, _now
    from banscan.sources.encoding import display_path
    from banscan.sources.limits import Limits

    started = _now()
    as_of = as_of or dt.date.today()
    profs = [registry.profile(p) for p in profiles]
    try:
        limits = Limits.load()
    except ValueError as e:
        raise ConfigError(str(e)) from None
    files = _expand(inputs)
    reports: dict[str, InputReport] = {}
    dets_of: dict[str, list[Detection]] = {}
    order: list[str] = []
    names: dict[str, tuple[str, str | None, bool]] = {}
    local = Scanner(registry, limits=limits)
    for name, path, walked, why in files:
        order.append(name)
        if path is None:  # a directory that could not be listed
            shown = display_path(name)
            reports[name] = InputReport(path=shown, format=None, errors=[f"{shown}: cannot read directory: {why}"])
            continue
        try:
            ok = stat.S_ISREG(os.stat(path).st_mode) and os.access(path, os.R_OK)
        except OSError:
            ok = False
        if not ok:  # refused, skipped or unreadable: reported here exactly as banscan scan does
            for r, d in local._scan_file(path, name, asset, None, walked):
                reports[name], dets_of[name] = r, d
            continue
        names[_local(path.resolve().as_uri())] = (name, asset, walked)
    own = spark is None
    if own:
        spark = session(master)
    rows: list[tuple[str, int, str, str, bytes]] = []
    try:
        if names:
            blob = pickle.dumps((registry, limits), protocol=pickle.HIGHEST_PROTOCOL)
            bc_blob = spark.sparkContext.broadcast(blob)
            bc_names = spark.sparkContext.broadcast(names)
            uris = [Path(u).as_uri() for u in names]
            df = spark.read.format("binaryFile").load(uris)
            n = max(2, spark.sparkContext.defaultParallelism)
            blocks = df.mapInArrow(lambda it: split_files(it, bc_names.value), _SPLIT_DDL)
            results = blocks.repartition(n).mapInArrow(
                lambda it: scan_blocks(it, bc_blob.value, bc_names.value), _RESULT_DDL)
            rows = [(r["uri"], r["idx"], r["sha256"], r["format"], bytes(r["result"]))
                    for r in results.toLocalIterator()]
    finally:
        if own:
            spark.stop()
    by_name: dict[str, list[tuple[int, str, str, bytes]]] = {}
    for uri, idx, sha, fmt, res in rows:
        uri_name = _match_uri(uri, names)
        by_name.setdefault(uri_name, []).append((idx, sha, fmt, res))
    detections: list[Detection] = [d for ds in dets_of.values() for d in ds]
    for name in order:
        if name in reports:
            continue
        parts = sorted(by_name.get(name, []))
        if not parts:
            shown = display_path(name)
            reports[name] = InputReport(path=shown, format=None, errors=[f"{shown}: cannot open: not read by Spark"])
            continue
        first = pickle.loads(parts[0][3])  # noqa: S301 - our executors' results
        if isinstance(first, tuple):
            report, dets = first
            reports[name] = report
            detections.extend(dets)
            continue
        merged = fb.Merged()
        for _idx, _sha, _fmt, res in parts:
            merged.add(pickle.loads(res))  # noqa: S301
            if merged.stopped:
                break
        reports[name] = InputReport(
            path=display_path(name), format=parts[0][2], observations=merged.observations, errors=merged.errors,
            deviations=merged.final_deviations(), sha256=parts[0][1],
            assets={a: sorted(c) for a, c in merged.covered().items()},
            unidentifiable_macs=merged.unidentifiable_macs)
        detections.extend(merged.detections)
    result = ScanResult(registry=registry.meta(), profiles=[p.id for p in profs], as_of=as_of,
                        started_at=started, finished_at="", inputs=[reports[n] for n in order],
                        detections=_dedupe(detections))
    policy.apply(result, registry, profs)
    result.finished_at = _now()
    write_outputs(result, registry, Path(output))
    return result


def _local(uri: str) -> str:
    """The real local path of a file URI in any of its spellings (file:/x, file:///x)."""
    from urllib.parse import unquote, urlparse

    u = urlparse(uri)
    return os.path.realpath(unquote(u.path)) if u.scheme in ("file", "") else uri


def _match_uri(uri: str, names: dict[str, tuple[str, str | None, bool]]) -> str:
    return names[uri][0] if uri in names else uri


def session(master: str) -> Any:
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master(master).appName("banscan spark-scan")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", str(max(2, os.cpu_count() or 2)))
            .config("spark.sql.execution.arrow.maxRecordsPerBatch", "64")
            .config("spark.driver.memory", os.environ.get("BANSCAN_SPARK_DRIVER_MEMORY", "2g"))
            .getOrCreate())


def write_outputs(result: ScanResult, registry: Registry, out: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from banscan.fast.jsonout import dumps
    from banscan.report.json_report import JsonReporter

    out.mkdir(parents=True, exist_ok=True)
    with (out / "report.json").open("w", encoding="utf-8") as fh:
        JsonReporter().write(result, registry, fh, {})
    pq.write_table(pa.Table.from_pylist([_det_row(d, dumps) for d in result.detections], schema=_DET_SCHEMA()),
                   out / "detections.parquet")
    pq.write_table(pa.Table.from_pylist([_finding_row(f, dumps) for f in result.findings], schema=_FIND_SCHEMA()),
                   out / "findings.parquet")


def _DET_SCHEMA() -> Any:  # noqa: N802
    import pyarrow as pa

    s = pa.string()
    return pa.schema([("id", s), ("asset", s), ("family", s), ("entity", s), ("entity_id", s), ("product", s),
                      ("product_id", s), ("category", s), ("relation", s), ("confidence", s), ("service", s),
                      ("source_path", s), ("source_locator", s), ("evidence", s), ("observation", s),
                      ("notes", s)])


def _det_row(d: Detection, dumps: Any) -> dict[str, Any]:
    x = d.to_dict()
    return {"id": d.id, "asset": d.asset, "family": d.family, "entity": d.entity, "entity_id": d.entity_id,
            "product": d.product, "product_id": d.product_id, "category": d.category,
            "relation": x["relation"], "confidence": x["confidence"], "service": d.service,
            "source_path": d.source.path, "source_locator": d.source.locator,
            "evidence": dumps(x["evidence"], indent=False), "observation": dumps(x["observation"], indent=False),
            "notes": dumps(x["notes"], indent=False)}


def _FIND_SCHEMA() -> Any:  # noqa: N802
    import pyarrow as pa

    s = pa.string()
    return pa.schema([("id", s), ("detection", s), ("restriction", s), ("instrument", s), ("citation", s),
                      ("requirement", s), ("deadline", s), ("profile", s), ("legal_force", s), ("action", s),
                      ("status", s), ("asset", s), ("family", s), ("sources", s), ("reasons", s), ("steps", s),
                      ("report_window", s)])


def _finding_row(f: Finding, dumps: Any) -> dict[str, Any]:
    x = f.to_dict()
    row = {k: (x.get(k) if x.get(k) is None or isinstance(x.get(k), str) else str(x.get(k)))
           for k in ("id", "detection", "restriction", "instrument", "citation", "requirement", "deadline",
                     "profile", "legal_force", "action", "status", "asset", "family")}
    for k in ("sources", "reasons", "steps", "report_window"):
        row[k] = dumps(x.get(k), indent=False)
    return row

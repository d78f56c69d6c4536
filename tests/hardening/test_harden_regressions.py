"""The regression corpus (tests/fixtures/fuzz-regressions/cases.json): every case that ever failed
— from issue 15's report or found by the fuzz harness — run beside a known-good input under the
fuzz contract (fuzzkit.check), plus the records each case must still give.

Cases still open in the readers carry ``xfail`` (not strict) with the reason; they pass as soon
as the readers are fixed."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from fuzzkit import (
    REGRESSIONS,
    SAMPLES_DIR,
    WITNESS,
    baseline,
    check,
    preload_registry,
    run_isolated,
    scan_case,
)

CASES = json.loads((REGRESSIONS / "cases.json").read_text(encoding="utf-8"))["cases"]
TIMEOUT = 30.0  # a hang, not a slow run: each input is at most a few hundred kilobytes


def _params() -> list:
    out = []
    for c in CASES:
        marks = [pytest.mark.xfail(strict=False, reason=c["xfail"])] if c.get("xfail") else []
        out.append(pytest.param(c, id=c["id"], marks=marks))
    return out


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    if not (SAMPLES_DIR / WITNESS).is_file():
        pytest.skip("../shared/samples is not available (the witness input)")
    preload_registry()
    work = tmp_path_factory.mktemp("regress")
    return work, baseline(work)


def build(case: dict, tmp: Path) -> Path:
    """The case's input: its file in the corpus, a path, or its recipe written out."""
    if "file" in case:
        return REGRESSIONS / case["file"]
    if "path" in case:
        return Path(case["path"])
    r = case["recipe"]
    p = tmp / r["name"]
    p.write_bytes((r["head"] + r["repeat"] * r["times"] + r["tail"]).encode(r.get("encoding", "utf-8"),
                                                                            "surrogatepass"))
    return p


def _records(report: Path, path: str) -> int:
    data = json.loads(report.read_text(encoding="utf-8"))
    return next(i["observations"] for i in data["inputs"] if i["path"] == path)


@pytest.mark.parametrize("case", _params())
def test_regression_case(harness, tmp_path, case):
    work, base = harness
    special = case.get("special")
    if special == "fifo-dir":
        return _fifo_dir(tmp_path, base)
    if special == "overlay":
        return _overlay(build(case, tmp_path))
    if special == "stdin-zero":
        return _stdin_zero(tmp_path)
    if special == "unreadable-dir":
        return _unreadable_dir(tmp_path, base)
    path = build(case, tmp_path)
    outcome, verdict = scan_case(path, work, base, tuple(case.get("args", ())), timeout=TIMEOUT,
                                 with_witness=not case.get("no_witness"))  # --input-format applies to all
    assert verdict.ok, f"{case['id']} ({outcome.status}, {outcome.seconds:.1f} s): {verdict.failures}"
    if case.get("min_records"):
        got = _records(work / "report.json", str(path))
        assert got >= case["min_records"], f"{case['id']}: {got} record(s), expected {case['min_records']}"
    if case.get("store"):
        db = tmp_path / "db.sqlite"
        o = run_isolated(["scan", str(path), "--db", str(db), "-f", "json", "-o", str(tmp_path / "r.json")],
                         timeout=TIMEOUT)
        v = check(o, str(path), None, None, tmp_path / "r.json")
        assert v.ok and db.exists(), v.failures
        o = run_isolated(["assets", "--db", str(db), "-f", "json"], timeout=TIMEOUT)
        assert o.code == 0 and json.loads(o.stdout)["assets"], (o.stderr, o.stdout[:300])


def _fifo_dir(tmp: Path, base) -> None:
    d = tmp / "walk"
    d.mkdir()
    witness = SAMPLES_DIR / WITNESS
    (d / "inventory.csv").write_bytes(witness.read_bytes())
    os.mkfifo(d / "pipe.log")
    rep = tmp / "r.json"
    o = run_isolated(["scan", str(d), "--no-store", "-f", "json", "-o", str(rep)], timeout=TIMEOUT)
    assert not o.timed_out, "a FIFO in a scanned directory blocks the walk"
    assert o.code in (0, 1, 2), o.stderr
    got = _records(rep, str(d / "inventory.csv"))
    assert got == base.witness_records


def _overlay(path: Path) -> None:
    o = run_isolated(["registry", "validate", str(path)], timeout=TIMEOUT)
    assert not o.timed_out, "an overlay with many invalid entries takes too long to report"
    err = o.stderr.decode()
    assert o.code == 2 and "Traceback" not in err
    assert err.count("no-such-family") >= 2000


def _stdin_zero(tmp: Path) -> None:
    """``cat /dev/zero | banscan scan -`` must give up after a bounded head, not spool gigabytes."""

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 20, 256 << 20))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"),
           "TMPDIR": str(tmp), "XDG_CACHE_HOME": str(tmp / "c"), "XDG_DATA_HOME": str(tmp / "d")}
    with open("/dev/zero", "rb") as zero:
        try:
            p = subprocess.run([sys.executable, "-m", "banscan", "scan", "-", "--no-store", "-f", "json"],
                               stdin=zero, capture_output=True, timeout=90, preexec_fn=limits, env=env)
        except subprocess.TimeoutExpired:
            pytest.fail("scanning an endless standard input never ends")
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 2 and "Traceback" not in err, err
    assert "File too large" not in err and "MemoryError" not in err and "out of memory" not in err, err


def _unreadable_dir(tmp: Path, base) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every directory: an unreadable one cannot be made")
    d = tmp / "walk"
    (d / "locked").mkdir(parents=True)
    (d / "inventory.csv").write_bytes((SAMPLES_DIR / WITNESS).read_bytes())
    (d / "locked").chmod(0)
    try:
        rep = tmp / "r.json"
        o = run_isolated(["scan", str(d), "--no-store", "-f", "json", "-o", str(rep)], timeout=TIMEOUT)
        assert o.code == 2 and "locked" in o.stderr.decode(), "an unreadable directory is skipped silently"
    finally:
        (d / "locked").chmod(0o755)

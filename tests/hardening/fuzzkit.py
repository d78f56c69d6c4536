"""The fuzzing harness shared by the test suite (tests/hardening/test_harden_fuzz.py) and
``bench/fuzz.py``: mutations of the real sample files, a fork-isolated run of the command line
under a memory limit and a timeout, and the contract every run must keep.

The contract (issue 15):

* exit code 0, 1 or 2 — no crash (signal), no traceback, no other code;
* every line on standard error is banscan's own (``banscan: …``);
* the other inputs are still reported: a known-good witness input given beside the mutated one
  is read in full (same number of records as alone, no error);
* an error about the mutated input names the file;
* memory stays bounded (RLIMIT_AS: no MemoryError) and grows at most linearly with the input;
  time stays bounded (a generous timeout: a hang, not a slow run, fails);
* the output round-trips through its own format's parser: JSON (and the report rebuilt from it),
  SARIF validated against the SARIF 2.1.0 schema, CSV with one cell per column.

A run forks the test process after the registry is loaded (so a case costs milliseconds, not the
seconds of a new interpreter); the child runs ``banscan.cli.main`` with its stdout and stderr
redirected to files, RLIMIT_AS set to what the parent already maps plus a budget, and is killed
at the timeout.  A segmentation fault kills only the child and is reported as such.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import resource
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SHARED = ROOT.parent / "shared"
SAMPLES_DIR = SHARED / "samples"
SARIF_SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"
REGRESSIONS = ROOT / "tests" / "fixtures" / "fuzz-regressions"
WITNESS = "windows/uninstall-keys-export-csv.csv"

ROUND_TRIP = ("json", "sarif", "csv")  # formats every case is written in and parsed back
KINDS = ("truncate", "flip", "splice", "control", "encoding", "bom", "nest", "number", "longline",
         "dupline", "surrogate", "empty-fields")

# ESC/OSC/CSI sequences, C1, bidi override, NUL, invalid UTF-8, an escaped lone surrogate
_CONTROL_SNIPPETS = (b"\x1b[2J", b"\x1b]8;;http://x\x07", b"\xc2\x9b31m", b"\xe2\x80\xae", b"\x00", b"\xff\xfe",
                     b"\x80", b"\\udc80", b"\r", b"\x0b\x0c", b"\xef\xbb\xbf")


def sample_files() -> list[Path]:
    """Every sample file under ../shared/samples (the formats banscan reads, and a few it does not)."""
    if not SAMPLES_DIR.is_dir():
        return []
    return sorted(p for p in SAMPLES_DIR.rglob("*") if p.is_file() and p.name != "README.md"
                  and p.suffix != ".xsd")


@dataclass(frozen=True)
class Limits:
    """How big a mutation may make things.  The CI default stays below the sizes of the known
    blow-ups; ``aggressive`` (bench/fuzz.py --aggressive) goes well past them."""

    nest: int = 48
    digits: int = 300
    line: int = 4096
    dup: int = 200

    @classmethod
    def aggressive(cls) -> Limits:
        return cls(nest=100_000, digits=10_000, line=200_000, dup=20_000)


def mutate(data: bytes, kind: str, seed: int, limits: Limits = Limits()) -> bytes:
    """``data`` mutated by ``kind``, deterministically from ``seed``."""
    r = random.Random(seed)
    n = len(data)
    if kind == "truncate":
        return data[: r.randrange(0, max(n, 1))]
    if kind == "flip":
        b = bytearray(data)
        for _ in range(r.randint(1, 16)):
            if b:
                b[r.randrange(len(b))] ^= 1 << r.randrange(8) if r.random() < 0.7 else r.randrange(1, 256)
        return bytes(b)
    if kind == "splice":
        i = r.randrange(0, n + 1)
        j = min(n, i + r.randrange(0, 64))
        return data[:i] + r.randbytes(r.randrange(0, 64)) + data[j:]
    if kind == "control":
        b = data
        for _ in range(r.randint(1, 8)):
            i = r.randrange(0, len(b) + 1)
            b = b[:i] + r.choice(_CONTROL_SNIPPETS) + b[i:]
        return b
    if kind == "encoding":
        text = data.decode("utf-8", errors="replace")
        enc = r.choice(("utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252", "utf-8-sig"))
        return text.encode(enc, errors="replace")
    if kind == "bom":
        return r.choice((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00")) + data
    if kind == "nest":
        depth = r.randint(2, limits.nest)
        opener, closer = r.choice(((b"[", b"]"), (b"{\"a\":", b"}"), (b"<a>", b"</a>")))
        i = _structural_point(data, r)
        return data[:i] + opener * depth + closer * depth + data[i:]
    if kind == "number":
        digits = str(r.randint(1, 9)).encode() + bytes(r.choice(b"0123456789") for _ in range(r.randint(20, limits.digits)))
        i = _structural_point(data, r)
        if r.random() < 0.5:  # replace an existing number when there is one
            import re

            nums = [m.span() for m in re.finditer(rb"(?<=[:\[, ])\d+", data[:200_000])]
            if nums:
                a, b = r.choice(nums)
                return data[:a] + digits + data[b:]
        return data[:i] + digits + data[i:]
    if kind == "longline":
        unit = r.choice((b":", b" ", b".", b"a.", b"}", b"{", b"\\", b"\"", b"=", b"a:", b"0"))
        line = unit * (r.randint(10, limits.line) // len(unit))
        i = _line_start(data, r)
        return data[:i] + line + b"\n" + data[i:]
    if kind == "dupline":
        lines = data.splitlines(keepends=True)
        if not lines:
            return data
        k = r.randrange(len(lines))
        return b"".join(lines[:k] + [lines[k]] * r.randint(2, limits.dup) + lines[k + 1:])
    if kind == "surrogate":
        # JSON \\udc80 escapes decode to lone surrogates; raw bytes to invalid UTF-8
        i = _quote_point(data, r)
        return data[:i] + r.choice((b"\\udc80", b"\\ud800x", b"\xed\xb2\x80")) + data[i:]
    if kind == "empty-fields":
        for sep in (b"\t", b",", b"="):
            if sep in data[:10_000]:
                return data.replace(sep + sep, sep + b"" + sep).replace(sep, sep + sep, r.randint(1, 50))
        return data
    raise ValueError(kind)


def _structural_point(data: bytes, r: random.Random) -> int:
    idx = [i for i, c in enumerate(data[:200_000]) if c in b"[{:,>\n"]
    return (r.choice(idx) + 1) if idx else 0


def _line_start(data: bytes, r: random.Random) -> int:
    idx = [i + 1 for i, c in enumerate(data[:200_000]) if c == 0x0A]
    return r.choice(idx) if idx else 0


def _quote_point(data: bytes, r: random.Random) -> int:
    idx = [i + 1 for i, c in enumerate(data[:200_000]) if c == 0x22]
    return r.choice(idx) if idx else r.randrange(0, len(data) + 1)


# --------------------------------------------------------------------------- isolated runs


@dataclass
class Outcome:
    code: int | None  # exit code, None when killed by a signal or the timeout
    signal: int | None
    timed_out: bool
    stdout: bytes
    stderr: bytes
    seconds: float
    maxrss_kb: int

    @property
    def status(self) -> str:
        if self.timed_out:
            return "timeout"
        if self.signal is not None:
            return f"signal {signal.Signals(self.signal).name}"
        return f"exit {self.code}"


def _mapped_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def run_isolated(argv: list[str], *, memory: int = 1536 << 20, timeout: float = 120.0,
                 stdin: bytes | None = None) -> Outcome:
    """``banscan ARGV`` in a forked child: RLIMIT_AS = what this process maps + ``memory``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as inp:
        if stdin is not None:
            inp.write(stdin)
            inp.seek(0)
        limit = _mapped_bytes() + memory
        sys.stdout.flush()
        sys.stderr.flush()
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 99
            try:
                os.dup2(inp.fileno(), 0)
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                sys.stdin = io.TextIOWrapper(os.fdopen(0, "rb", closefd=False), encoding="utf-8")
                sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), encoding="utf-8", newline="")
                sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), encoding="utf-8", newline="")
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
                resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                from banscan.cli import main

                try:
                    main(list(argv))
                    code = 0
                except SystemExit as e:
                    code = e.code if isinstance(e.code, int) else (0 if e.code is None else 98)
            except BaseException:  # noqa: BLE001 - reported to the parent as a traceback
                import traceback

                traceback.print_exc()
                code = 97
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        deadline = t0 + timeout
        timed_out = False
        while True:
            wpid, status, usage = os.wait4(pid, os.WNOHANG)
            if wpid:
                break
            if time.perf_counter() > deadline:
                os.kill(pid, signal.SIGKILL)
                _, status, usage = os.wait4(pid, 0)
                timed_out = True
                break
            time.sleep(0.005)
        seconds = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        code = os.waitstatus_to_exitcode(status)
        return Outcome(code=None if (code < 0 or timed_out) else code,
                       signal=-code if code < 0 and not timed_out else None, timed_out=timed_out,
                       stdout=out.read(), stderr=err.read(), seconds=seconds, maxrss_kb=usage.ru_maxrss)


def preload_registry() -> Any:
    """Load the bundled registry once in this process and make the command line reuse it (the
    forked children inherit it)."""
    import banscan.cli.common as common
    from banscan.registry import load

    reg = load()
    original = common.load

    def cached(overlays: Any = (), data_dir: Any = None) -> Any:
        if list(overlays or ()) or data_dir is not None:
            return original(overlays, data_dir=data_dir)
        return reg

    common.load = cached  # type: ignore[assignment]
    global _REG
    _REG = reg
    return reg


# --------------------------------------------------------------------------- the contract


# Failures the harness finds in the readers that are not fixed yet: (pattern, why).  A case
# failing only with these is recorded as a known open problem (the regression corpus keeps one
# file per problem, marked xfail), so CI stays readable while the readers are being fixed.
KNOWN_OPEN: tuple[tuple[str, str], ...] = ()  # none open: "read of closed file" (class 2) is fixed


def known_open(failure: str) -> str | None:
    import re

    for pattern, why in KNOWN_OPEN:
        if re.search(pattern, failure):
            return why
    return None


@dataclass
class Verdict:
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def only_known_open(self) -> bool:
        return bool(self.failures) and all(known_open(f) for f in self.failures)


_SARIF_VALIDATOR: Any = None


def sarif_validator() -> Any:
    global _SARIF_VALIDATOR
    if _SARIF_VALIDATOR is None and SARIF_SCHEMA.is_file():
        import jsonschema

        schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
        _SARIF_VALIDATOR = jsonschema.validators.validator_for(schema)(schema)
    return _SARIF_VALIDATOR


MEMORY_PER_INPUT_BYTE = 200  # generous: the growth allowed per byte of input …
MEMORY_BASE = 384 << 20  # … on top of this much


def check(outcome: Outcome, mutated: str, witness: str | None, witness_records: int | None,
          report_file: Path | None = None, baseline_kb: int | None = None, size: int = 0,
          formats: tuple[str, ...] = ROUND_TRIP) -> Verdict:
    """Judge one ``scan MUTATED WITNESS -f json -o REPORT`` run against the contract."""
    v = Verdict()
    if baseline_kb is not None:
        growth = max(0, outcome.maxrss_kb - baseline_kb) * 1024
        if growth > MEMORY_BASE + MEMORY_PER_INPUT_BYTE * size:
            v.failures.append(f"memory: grew by {growth >> 20} MB for a {size}-byte input")
    err = outcome.stderr.decode("utf-8", errors="replace")
    if outcome.timed_out:
        v.failures.append(f"hang: no answer within {outcome.seconds:.0f} s")
        return v
    if outcome.signal is not None:
        v.failures.append(f"crash: {outcome.status}")
        return v
    if outcome.code not in (0, 1, 2):
        v.failures.append(f"exit code {outcome.code}" + (f": {err[-1500:]}" if err else ""))
        return v
    if "Traceback" in err:
        v.failures.append("traceback on stderr: " + err[-1500:])
    stray = [line for line in err.splitlines() if line.strip() and not line.startswith("banscan")]
    if stray:
        v.failures.append(f"stderr lines not from banscan: {stray[:3]!r}")
    if "MemoryError" in err or "out of memory" in err:
        v.failures.append("memory: the run hit its memory limit")
    data = report_file.read_bytes() if report_file is not None and report_file.exists() else outcome.stdout
    try:
        report = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        last = err.strip().splitlines()[-1] if err.strip() else ""
        v.failures.append(f"no JSON report ({e}); stderr: {last[:300]}")
        return v
    inputs = {i["path"]: i for i in report.get("inputs", [])}
    if mutated not in inputs:
        v.failures.append("the mutated input is missing from the report's inputs")
    else:
        for e in inputs[mutated]["errors"]:
            if "MemoryError" in e:
                v.failures.append(f"memory: {e[:300]}")
            if mutated not in e and Path(mutated).name not in e:
                v.failures.append(f"an error does not name the file: {e[:300]}")
            if "Error:" in e or "Error(" in e:
                v.notes.append(f"exception text in an input error: {e[:200]}")
    if witness is not None:
        w = inputs.get(witness)
        if w is None:
            v.failures.append("the other input is missing from the report")
        elif w["errors"] or (witness_records is not None and w["observations"] != witness_records):
            v.failures.append(f"the other input was not read in full: {w['observations']} records "
                              f"(alone: {witness_records}), errors {w['errors'][:2]}")
    v.failures.extend(round_trip(report, formats))
    return v


def round_trip(report: dict[str, Any], formats: tuple[str, ...] = ROUND_TRIP) -> list[str]:
    """Rebuild the scan from its JSON report and write it in ``formats``; each must parse back
    (bench/fuzz.py also writes table, html and far)."""
    from banscan import report as reports
    from banscan.report.csv_report import COLUMNS
    from banscan.scan import ScanResult

    problems: list[str] = []
    try:
        result = ScanResult.from_dict(report)
    except Exception as e:  # noqa: BLE001
        return [f"the JSON report does not rebuild: {type(e).__name__}: {e}"]
    reg = _registry()
    for r in reports.REPORTERS:
        if r.name not in formats:
            continue
        buf = io.StringIO()
        try:
            r.write(result, reg, buf, {})
            text = buf.getvalue()
            text.encode("utf-8")
        except Exception as e:  # noqa: BLE001
            problems.append(f"{r.name} writer: {type(e).__name__}: {e}")
            continue
        if r.name == "json":
            again = json.loads(text)
            if again.get("detections") != json.loads(json.dumps(report.get("detections"))):
                problems.append("json: detections differ after a round trip")
        elif r.name == "sarif":
            doc = json.loads(text)
            val = sarif_validator()
            if val is not None:
                errs = list(val.iter_errors(doc))[:3]
                if errs:
                    problems.append("sarif: not valid SARIF 2.1.0: " + "; ".join(e.message[:200] for e in errs))
        elif r.name == "csv":
            rows = list(csv.reader(io.StringIO(text, newline="")))
            if not rows or tuple(rows[0]) != COLUMNS or any(len(x) != len(COLUMNS) for x in rows):
                problems.append("csv: rows do not have one cell per column")
        elif r.name == "table":
            if "\x1b" in text:
                problems.append("table: a raw ESC reached the terminal text")
    return problems


_REG: Any = None


def _registry() -> Any:
    global _REG
    if _REG is None:
        from banscan.registry import load

        _REG = load()
    return _REG


@dataclass
class Baseline:
    witness_records: int | None
    maxrss_kb: int


def baseline(workdir: Path) -> Baseline:
    """The witness read alone: its record count, and the peak memory of such a small run."""
    w = SAMPLES_DIR / WITNESS
    if not w.is_file():
        return Baseline(None, 0)
    rep = workdir / "witness.json"
    o = run_isolated(["scan", str(w), "--no-store", "-f", "json", "-o", str(rep)])
    assert o.code in (0, 1), o.stderr.decode(errors="replace")
    return Baseline(int(json.loads(rep.read_text())["inputs"][0]["observations"]), o.maxrss_kb)


def scan_case(path: Path, workdir: Path, base: Baseline, extra: tuple[str, ...] = (), *,
              memory: int = 1536 << 20, timeout: float | None = None,
              with_witness: bool = True, formats: tuple[str, ...] = ROUND_TRIP) -> tuple[Outcome, Verdict]:
    """Scan ``path`` beside the witness (JSON report to a file) and judge the run."""
    w = SAMPLES_DIR / WITNESS
    witness = str(w) if w.is_file() and with_witness else None
    rep = workdir / "report.json"
    if rep.exists():
        rep.unlink()
    size = path.stat().st_size if path.is_file() else 0
    argv = ["scan", str(path), *([witness] if witness else []), "--no-store", "-f", "json", "-o", str(rep),
            *extra]
    t = timeout if timeout is not None else 60.0 + 60.0 * size / 1e6
    o = run_isolated(argv, memory=memory, timeout=t)
    return o, check(o, str(path), witness, base.witness_records, rep, base.maxrss_kb or None, size, formats)

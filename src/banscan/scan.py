"""Orchestration: inputs -> sources -> matcher -> policy -> ScanResult.

The CLI, the store's re-evaluation and the tests all call :func:`run`.  Nothing here formats
output or reads the clock except where the request leaves the date open.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from banscan import __version__
from banscan.errors import ConfigError
from banscan.evidence import EvidenceCollector
from banscan.match import Matcher
from banscan.model import Detection, Finding, Observation, Problem
from banscan.progress import NullProgress, Progress
from banscan.registry import Registry
from banscan.sources import HEAD_BYTES, ReadContext, Source, by_name, detect
from banscan.sources.encoding import (
    Transcoder,
    clean_assets,
    clean_observation,
    clean_problem,
    clean_text,
    decode_head,
    detect_encoding,
    display_path,
)
from banscan.sources.limits import LimitExceeded, Limits

REPORT_SCHEMA = "https://banscan.dev/schema/report-1.json"
REPORT_SCHEMA_VERSION = "1.0.0"
HOST_INPUT = "host:"  # the input name of a scan of this machine


@dataclass(frozen=True)
class ScanRequest:
    inputs: tuple[str, ...] = ()  # paths, directories, "-" for stdin; empty: scan this machine
    host: bool = False  # also scan this machine when inputs are given
    asset: str | None = None  # asset name for single-asset inputs
    profiles: tuple[str, ...] = ()
    as_of: dt.date | None = None  # None: today
    format: str | None = None  # force one source for every input
    limits: Limits | None = None  # reader limits (None: defaults and BANSCAN_LIMIT_* variables)
    keep_evidence: bool = False  # collect the normalised observations (result.evidence) for the store


@dataclass
class InputReport:
    path: str
    format: str | None
    observations: int = 0
    errors: list[str] = field(default_factory=list)
    deviations: list[str] = field(default_factory=list)
    sha256: str | None = None
    assets: dict[str, list[str]] = field(default_factory=dict)  # asset -> evidence classes covered
    skipped: str | None = None  # why a file found while walking a directory was not read
    unidentifiable_macs: int = 0

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "path": self.path,
            "format": self.format,
            "observations": self.observations,
            "errors": list(self.errors),
            "deviations": list(self.deviations),
            "sha256": self.sha256,
            "assets": {k: sorted(v) for k, v in sorted(self.assets.items())},
        }
        if self.skipped:
            d["skipped"] = self.skipped
        if self.unidentifiable_macs:
            d["unidentifiable_macs"] = self.unidentifiable_macs
        return d


@dataclass
class ScanResult:
    registry: dict[str, str]  # {"version", "sha256"}
    profiles: list[str]
    as_of: dt.date
    started_at: str
    finished_at: str
    inputs: list[InputReport]
    detections: list[Detection]
    findings: list[Finding] = field(default_factory=list)
    upcoming: list[dict[str, Any]] = field(default_factory=list)
    information: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # the scan's normalised observations per asset and class (ScanRequest.keep_evidence); not in the report
    evidence: EvidenceCollector | None = None

    @property
    def input_errors(self) -> bool:
        return any(i.errors for i in self.inputs)

    def assets(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for i in self.inputs:
            for a, classes in i.assets.items():
                out.setdefault(a, set()).update(classes)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "schema_version": REPORT_SCHEMA_VERSION,
            "tool": {"name": "banscan", "version": __version__},
            "registry": dict(self.registry),
            "profile": ",".join(self.profiles) if self.profiles else None,
            "profiles": list(self.profiles),
            "as_of": self.as_of.isoformat(),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "inputs": [i.to_dict() for i in self.inputs],
            "assets": [{"asset": a, "evidence": sorted(c)} for a, c in sorted(self.assets().items())],
            "detections": [d.to_dict() for d in self.detections],
            "findings": [f.to_dict() for f in self.findings],
            "upcoming": list(self.upcoming),
            "information": dict(self.information),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScanResult:
        inputs = []
        for i in d.get("inputs", []):
            ir = InputReport(path=i["path"], format=i.get("format"), observations=i.get("observations", 0),
                             errors=list(i.get("errors", [])), deviations=list(i.get("deviations", [])),
                             sha256=i.get("sha256"), assets={k: list(v) for k, v in i.get("assets", {}).items()},
                             skipped=i.get("skipped"), unidentifiable_macs=i.get("unidentifiable_macs", 0))
            inputs.append(ir)
        return cls(
            registry=dict(d.get("registry", {})), profiles=list(d.get("profiles") or []),
            as_of=dt.date.fromisoformat(d["as_of"]), started_at=d.get("started_at", ""),
            finished_at=d.get("finished_at", ""), inputs=inputs,
            detections=[Detection.from_dict(x) for x in d.get("detections", [])],
            findings=[Finding.from_dict(x) for x in d.get("findings", [])],
            upcoming=list(d.get("upcoming", [])), information=dict(d.get("information", {})),
        )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class _HashingReader(io.RawIOBase):
    """Passes reads through, hashing the bytes and reporting progress.

    Progress is reported once per byte of the input: bytes reported by :meth:`show` (blocks read
    from the file by other means) are not reported again when this reader reads them (when a
    scan stopped early and the rest of the input is hashed through it, from its start)."""

    def __init__(self, raw: BinaryIO, progress: Progress, task: object) -> None:
        self.raw = raw
        self.sha = hashlib.sha256()
        self.progress = progress
        self.task = task
        self.read_bytes = 0  # read through this reader
        self.shown = 0  # reported as progress, by this reader or through show()

    def readable(self) -> bool:
        return True

    def show(self, n: int) -> None:
        """Report ``n`` more bytes of the input as read."""
        self.shown += n
        self.progress.advance(self.task, n)

    def readinto(self, b: Any) -> int:
        n = self.raw.readinto(b)  # type: ignore[attr-defined]
        if n:
            self.sha.update(memoryview(b)[:n])
            self.read_bytes += n
            if self.read_bytes > self.shown:
                self.show(self.read_bytes - self.shown)
        return n or 0


def _file_blocks_hashed(fd: int, hashing: _HashingReader, report: InputReport) -> Iterator[tuple[int, bytes]]:
    """The blocks of the regular file ``fd`` (banscan.fast.blocks.iter_file_blocks), hashed and
    reported as progress; ``report.sha256`` set when the last was read (when the scan stops
    before, the caller hashes the file through ``hashing``, which has read none of it)."""
    from banscan.fast.blocks import iter_file_blocks

    sha = hashlib.sha256()
    for first, block in iter_file_blocks(fd):
        sha.update(block)
        hashing.show(len(block))
        yield first, block
    report.sha256 = sha.hexdigest()


def _walk(path: Path, errors: list[tuple[str, str]]) -> Iterator[Path]:
    """Files under ``path`` (hidden ones left out), sorted; a directory that cannot be listed is
    recorded in ``errors`` as (directory, reason)."""

    def onerror(e: OSError) -> None:
        errors.append((str(e.filename or path), e.strerror or str(e)))

    for root, dirs, files in os.walk(path, onerror=onerror):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for f in sorted(files):
            if not f.startswith("."):
                yield Path(root) / f


def _default_asset(path: str) -> str:
    if path == "-":
        return "stdin"
    return Path(path).name.split(".")[0] or path


_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))


def _file_kind(mode: int) -> str:
    for test, what in _KINDS:
        if test(mode):
            return what
    return "not a regular file"


class Scanner:
    """Reads inputs one at a time, keeping only detections in memory (and, with ``evidence``, the
    distinct normalised observations: then the prefilter is off, every record is read, except
    with ``filtered_evidence`` in the block scanner, which keeps its candidate lines and records
    the filter they were selected with: :mod:`banscan.fast.evfilter`)."""

    def __init__(self, registry: Registry, progress: Progress | None = None,
                 limits: Limits | None = None, as_of: dt.date | None = None, jobs: int = 1,
                 fast: bool = True, blocks: bool = True, evidence: EvidenceCollector | None = None,
                 filtered_evidence: bool = False) -> None:
        from banscan.fast.memo import MemoMatcher

        self.registry = registry
        # entity ownership is dated
        self.matcher: Matcher = (MemoMatcher(registry, as_of=as_of) if fast else Matcher(registry, as_of=as_of))
        self.progress = progress or NullProgress()
        self.limits = limits or Limits()
        # values cut to max_field_chars may end inside a word: lines that long always pass the prefilter
        self.matcher.long_line = min(self.matcher.long_line, self.limits.max_field_chars)
        self.evidence = evidence
        self._filter: tuple[str, dict[str, Any]] | None = None
        # keeping every record of the evidence reads every record in this process: no prefilter,
        # block scanner or workers; keeping the block scanner's candidate lines keeps both
        self.filtered_evidence = filtered_evidence
        self.jobs = max(1, jobs)
        self.fast = fast  # False: every line through the reader, no prefilter (the slow twin)
        self.blocks = fast and blocks  # the block scanner for line-oriented inputs

    def scan_stream(self, stream: BinaryIO, path: str, asset: str | None, forced: str | None,
                    walked: bool = False, size: int | None = None,
                    fd: int | None = None) -> tuple[InputReport, list[Detection]]:
        """``fd``: when ``stream`` is a regular file read from its start, its descriptor (``--jobs``
        workers then read their blocks from it)."""
        shown = display_path(path)
        report = InputReport(path=shown, format=None)
        try:
            head = stream.read(min(HEAD_BYTES, self.limits.max_sniff_bytes))
        except OSError as e:
            report.errors.append(f"{shown}: cannot read: {e.strerror or e}")
            return report, []
        sniff_head, encoding = decode_head(head)
        try:
            source: Source | None = by_name(forced) if forced else detect(sniff_head, path)
        except KeyError:
            report.errors.append(f"{shown}: unknown format '{forced}'")
            return report, []
        if source is None:
            what = "empty file" if not head.strip() else "not a recognised inventory format"
            if walked:
                report.skipped = what
            else:
                report.errors.append(f"{shown}: {what} (see 'banscan sources' for the formats banscan reads)")
            report.sha256 = hashlib.sha256(head).hexdigest() if len(head) < HEAD_BYTES else None
            return report, []
        report.format = source.name
        default_asset, _ = clean_text(asset or _default_asset(shown))
        ctx = ReadContext(path=shown, asset=default_asset,
                          prefilter=self.matcher.prefilter if self.fast and self.evidence is None else None,
                          limits=self.limits)
        task = self.progress.start(shown, size)
        hashing = _HashingReader(_Chain(head, stream), self.progress, task)  # type: ignore[arg-type]
        transcoder: Transcoder | None = None
        encoding_name = (encoding or "").upper()
        buffered: io.BufferedReader[Any]
        if encoding is not None:
            bom = detect_encoding(head)
            transcoder = Transcoder(hashing, encoding, bom[1] if bom else 0)
            buffered = io.BufferedReader(transcoder, buffer_size=1 << 20)
            if encoding == "utf-8-sig":
                ctx.deviation("input starts with a UTF-8 byte-order mark; ignored")
            else:
                ctx.deviation(f"input is {encoding_name} text; read as such")
        else:
            buffered = io.BufferedReader(hashing, buffer_size=1 << 20)
        macs_before = self.matcher.unidentifiable_macs
        plan = None
        if self.blocks and (self.evidence is None or self.filtered_evidence) and encoding is None:
            from banscan.fast.blocks import plan_for

            plan = plan_for(source, head, self.limits)
            if plan is not None and self.evidence is not None and not plan.filters_evidence:
                plan = None  # a stored scan keeps every record of this format: read in full
        if plan is not None:
            dets = self._scan_blocks(source, plan, buffered, ctx, report, size, fd, hashing)
        else:
            dets = self._consume(source.read(buffered, ctx), ctx, report, "could not be read")
        if transcoder is not None and transcoder.replaced:
            report.deviations.append(f"bytes that are not valid {encoding_name} were replaced with U+FFFD")
        # hash whatever the source did not read, so the digest covers the whole input (not when
        # reading stopped at an error on a stream of unknown length: it may never end)
        if report.sha256 is None and (size is not None or not report.errors):
            try:
                while hashing.read(1 << 20):
                    pass
                report.sha256 = hashing.sha.hexdigest()
            except (OSError, ValueError) as e:
                report.errors.append(f"{shown}: cannot read to its end: {e}")
        self.progress.finish(task)
        if plan is None:
            report.unidentifiable_macs = self.matcher.unidentifiable_macs - macs_before
        return report, dets

    def _scan_blocks(self, source: Source, plan: Any, stream: BinaryIO, ctx: ReadContext,
                     report: InputReport, size: int | None, fd: int | None = None,
                     hashing: _HashingReader | None = None) -> list[Detection]:
        """Block scanner: candidate lines through the reader, the rest counted (banscan.fast).
        ``hashing``: the reader under ``stream`` (when ``fd`` is given, one process reads the
        blocks from ``fd`` itself, hashing them, and sets ``report.sha256`` once at the end)."""
        from banscan.fast import blocks as fb

        parallel = self.jobs > 1 and (size is None or size > fb.BLOCK_BYTES)
        if fd is not None and hashing is not None and not parallel:
            blocks = fb.blocks_with_headers(plan, _file_blocks_hashed(fd, hashing, report))
        else:
            blocks = fb.blocks_with_headers(plan, fb.iter_blocks(stream))
        results: Iterator[fb.BlockResult]
        keep = self.evidence is not None
        if parallel:
            from banscan.fast.parallel import can_fork, map_blocks

            if can_fork():
                from banscan.fast import shachain

                # workers read a regular file's blocks themselves: the parent only cuts them
                # (reading the end of each, or for a plan with header lines each block, to find
                # them), and the workers count the lines and hash, block after block; or, where
                # the hash state cannot be handed on, the parent hashes and counts, reading the file
                cuts: Iterator[tuple[int, int, bytes, list[bytes]]] | None = None
                spans = None
                if fd is not None and hashing is not None and shachain.available() and not plan.recuts:
                    if plan.has_headers:
                        cuts = fb.iter_file_cuts_with_headers(fd, plan)
                    else:
                        cuts = ((at, n, edge, []) for at, n, edge in fb.iter_file_cuts(fd))
                elif fd is not None and not plan.has_headers:
                    spans = fb.iter_spans(stream)

                def advance(n: int) -> None:
                    if hashing is not None:
                        hashing.show(n)

                def set_digest(hexdigest: str) -> None:
                    report.sha256 = hexdigest

                results = map_blocks(self.matcher, source, plan, blocks, ctx.path, ctx.asset, self.jobs,
                                     self.limits, evidence=keep, fd=fd, spans=spans, cuts=cuts,
                                     advance=advance, digest=set_digest)
            else:
                results = (fb.scan_block(source, plan, self.matcher, h, b, first, ctx.path, ctx.asset,
                                         limits=self.limits, evidence=keep) for h, first, b in blocks)
        else:
            results = (fb.scan_block(source, plan, self.matcher, h, b, first, ctx.path, ctx.asset,
                                     limits=self.limits, evidence=keep) for h, first, b in blocks)
        merged = fb.Merged(evidence=self.evidence)
        for r in results:
            merged.add(r)
            if merged.stopped:
                break
        covered = merged.covered()
        if self.evidence is not None:
            # only the candidate lines were kept: record the filter for every asset and class read
            from banscan.fast.evfilter import spec_of

            if self._filter is None:
                self._filter = spec_of(self.matcher)
            digest, spec = self._filter
            for a, cs in covered.items():
                for c in cs:
                    self.evidence.mark_filtered(a, c, digest, spec)
        report.errors.extend(merged.errors)
        report.observations = merged.observations
        report.deviations.extend(d for d in merged.final_deviations() if d not in report.deviations)
        report.assets = {a: sorted(c) for a, c in covered.items()}
        report.unidentifiable_macs = merged.unidentifiable_macs
        return merged.detections

    def _consume(self, items: Iterator[Observation | Problem], ctx: ReadContext, report: InputReport,
                 failure: str) -> list[Detection]:
        """Match what a reader yields, record its problems, and fill the input's counts.

        An exception inside a reader ends that input only: it becomes the input's error, naming
        the place reached; every other input is still read.
        """
        dets: list[Detection] = []
        last: str = ""
        try:
            for item in items:
                if isinstance(item, Observation):
                    ctx.seen(item)  # (before cleaning: a reader that counted it already gave this object)
                    item = clean_observation(item, ctx)
                    last = item.source.locator
                    dets.extend(self.matcher.match(item))
                    if self.evidence is not None:
                        self.evidence.add(item)
                elif isinstance(item, Problem):
                    report.errors.append(str(clean_problem(item)))
                    if item.fatal:
                        break
        except LimitExceeded as e:
            report.errors.append(f"{ctx.path}: {clean_text(str(e))[0]}")
        except Exception as e:  # noqa: BLE001 - a reader bug must not lose the other inputs
            where = f" after {last}" if last else ""
            msg = clean_text(f"{type(e).__name__}: {e}")[0]
            report.errors.append(f"{ctx.path}: {failure}{where}: {msg}")
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001 - closing a failed reader must not fail the scan
                    pass
        assets = clean_assets(ctx.assets, ctx)
        ctx.finish_notes()
        report.observations = ctx.observations
        report.deviations.extend(clean_text(d)[0] for d in ctx.deviations if d not in report.deviations)
        report.assets = {a: sorted(c) for a, c in assets.items()}
        return dets

    def scan_host(self, asset: str | None) -> tuple[InputReport, list[Detection]]:
        import socket

        from banscan.sources.host import scan_host

        name = asset or socket.gethostname()
        report = InputReport(path=f"{HOST_INPUT}{name}", format="host")
        ctx = ReadContext(path=report.path, asset=name, prefilter=None, limits=self.limits)
        task = self.progress.start(f"this machine ({name})", None)
        dets = self._consume(scan_host(ctx), ctx, report, "host scan failed")
        self.progress.finish(task)
        return report, dets

    def scan_inputs(self, inputs: Sequence[str], asset: str | None, forced: str | None,
                    stdin: IO[bytes] | None = None) -> Iterator[tuple[InputReport, list[Detection]]]:
        for raw in inputs:
            if raw == "-":
                # read as a stream: nothing is spooled, and an unrecognised stream stops at its head
                data = stdin if stdin is not None else sys.stdin.buffer
                yield self.scan_stream(data, "-", asset, forced)  # type: ignore[arg-type]
                continue
            p = Path(raw)
            if p.is_dir():
                errors: list[tuple[str, str]] = []
                for f in _walk(p, errors):
                    yield from self._scan_file(f, str(f), asset, forced, walked=True)
                for d, why in errors:
                    shown = display_path(d)
                    yield InputReport(path=shown, format=None,
                                      errors=[f"{shown}: cannot read directory: {why}"]), []
            else:
                yield from self._scan_file(p, raw, asset, forced, walked=False)

    def _scan_file(self, p: Path, name: str, asset: str | None, forced: str | None,
                   walked: bool) -> Iterator[tuple[InputReport, list[Detection]]]:
        shown = display_path(name)
        # refuse FIFOs, devices and sockets by type, before opening: opening a FIFO blocks until
        # a writer comes, and a device may never end.  A FIFO named explicitly is read (it is how
        # a shell passes a command's output, as with '-').
        try:
            mode = os.stat(p).st_mode
        except OSError as e:
            yield InputReport(path=shown, format=None, errors=[f"{shown}: cannot open: {e.strerror or e}"]), []
            return
        if not stat.S_ISREG(mode) and (walked or not stat.S_ISFIFO(mode)):
            why = f"{_file_kind(mode)}, not a regular file"
            if walked:
                yield InputReport(path=shown, format=None, skipped=why), []
            else:
                yield InputReport(path=shown, format=None, errors=[f"{shown}: refused: {why}"]), []
            return
        # O_NONBLOCK: a regular file swapped for a FIFO after the check must not block the open
        # (a FIFO named explicitly is opened blocking: it is read once its writer comes)
        nonblock = 0 if stat.S_ISFIFO(mode) else getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(p, os.O_RDONLY | nonblock | getattr(os, "O_NOCTTY", 0))
        except OSError as e:
            yield InputReport(path=shown, format=None, errors=[f"{shown}: cannot open: {e.strerror or e}"]), []
            return
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) and (walked or not stat.S_ISFIFO(st.st_mode)):
                os.close(fd)
                why = f"{_file_kind(st.st_mode)}, not a regular file"
                yield InputReport(path=shown, format=None, errors=[f"{shown}: refused: {why}"]), []
                return
            if nonblock:
                os.set_blocking(fd, True)
            fh = os.fdopen(fd, "rb")
        except OSError as e:
            os.close(fd)
            yield InputReport(path=shown, format=None, errors=[f"{shown}: cannot open: {e.strerror or e}"]), []
            return
        with fh:
            size = st.st_size if stat.S_ISREG(st.st_mode) else None
            yield self.scan_stream(fh, name, asset, forced, walked=walked, size=size,
                                   fd=fh.fileno() if size is not None else None)


class _Chain(io.RawIOBase):
    """The already-read head followed by the rest of the stream, without re-reading."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head = memoryview(head)
        self.pos = 0
        self.rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self.pos < len(self.head):
            n = min(len(b), len(self.head) - self.pos)
            b[:n] = self.head[self.pos:self.pos + n]
            self.pos += n
            return n
        readinto = getattr(self.rest, "readinto", None)
        if readinto is not None:  # straight into the caller's buffer: one copy less per byte
            got = readinto(b)
            return int(got or 0)
        data = self.rest.read(len(b))
        n = len(data)
        b[:n] = data
        return n


def run(request: ScanRequest, registry: Registry, progress: Progress | None = None,
        stdin: IO[bytes] | None = None, jobs: int = 1, fast: bool = True,
        blocks: bool = True) -> ScanResult:
    """Scan the requested inputs and evaluate the findings for the requested profiles and date."""
    from banscan import policy

    started = _now()
    as_of = request.as_of or dt.date.today()
    profiles = [registry.profile(p) for p in request.profiles]  # unknown profile: ProfileError before reading
    limits = request.limits
    if limits is None:
        try:
            limits = Limits.load()
        except ValueError as e:
            raise ConfigError(str(e)) from None
    evidence = EvidenceCollector() if request.keep_evidence else None
    scanner = Scanner(registry, progress, limits, as_of=as_of, jobs=jobs, fast=fast, blocks=blocks,
                      evidence=evidence, filtered_evidence=True)
    reports: list[InputReport] = []
    detections: list[Detection] = []
    if not request.inputs or request.host:
        r, d = scanner.scan_host(request.asset if not request.inputs else None)
        reports.append(r)
        detections.extend(d)
    for r, d in scanner.scan_inputs(request.inputs, request.asset, request.format, stdin=stdin):
        reports.append(r)
        detections.extend(d)
    detections = _dedupe(detections)
    result = ScanResult(
        registry=registry.meta(), profiles=[p.id for p in profiles], as_of=as_of, started_at=started,
        finished_at="", inputs=reports, detections=detections, evidence=evidence,
    )
    policy.apply(result, registry, profiles)
    result.finished_at = _now()
    return result


def _dedupe(dets: list[Detection]) -> list[Detection]:
    seen: dict[str, Detection] = {}
    for d in dets:
        seen.setdefault(d.id, d)
    return sorted(seen.values(), key=lambda d: (d.asset, d.family, d.product or "", d.source.path, d.id))

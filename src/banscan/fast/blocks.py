"""The block scanner: line-oriented inputs read in large blocks cut at newlines.

For each block, one pass of the compiled multi-literal engine (:mod:`banscan.fast.engine`) marks
the *candidate* lines: those holding a signature anchor, a non-ASCII byte or a ``\\u``/``\\x``
escape.  Only those lines reach the format's reader (and so the JSON parser and the matcher);
the others are counted, with the asset and evidence class they cover, by C-level scans
(``bytes.count``, one regular expression or C-level split over the block, sets).  Lines a
format's counting rule does not recognise are fed to the reader as well, which counts them its
own way, so nothing is lost.

:func:`scan_block` is pure: block bytes, the header lines before it and its first line number
in; detections, counts and covered assets out.  ``banscan scan`` (one process or ``--jobs N``)
and ``banscan spark-scan`` cut the same blocks and merge the same results in order, so line
numbers, detection ids and counts do not depend on how the work was spread.

Records that carry MAC addresses or other device evidence (Zeek ``dhcp``/``known_devices``…) are
never counted without being read: their format's rule sends them all to the reader.
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from banscan.evidence import EvidenceCollector
from banscan.fast import lines
from banscan.match import Matcher
from banscan.model import Detection, EvidenceClass, F, Locator, Observation, Problem
from banscan.sources.base import MAX_RECORD_NOTES, ReadContext, Source
from banscan.sources.encoding import (
    clean_assets,
    clean_names,
    clean_observation,
    clean_problem,
    clean_text,
)
from banscan.sources.limits import LimitExceeded, Limits

BLOCK_BYTES = int(os.environ.get("BANSCAN_BLOCK_BYTES", "") or 4 << 20)
_LINE_REF = re.compile(r"\bline (\d+)\b(?! column)")
_COUNTED = re.compile(r"^(\d+) (.+)$", re.S)


# ------------------------------------------------------------------------------------ results


@dataclass
class BlockResult:
    first_line: int
    detections: list[Detection] = field(default_factory=list)
    observations: int = 0
    assets: dict[str, set[str]] = field(default_factory=dict)
    # evidence class -> assets of the records counted without reading them (one set per class:
    # merged a set at a time, not an asset at a time)
    classes: dict[str, set[str]] = field(default_factory=dict)
    deviations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    fatal: bool = False
    unidentifiable_macs: int = 0
    candidates: int = 0  # lines that went to the reader
    records_skipped: int = 0  # record-level errors (the first few are noted in deviations)
    evidence: EvidenceCollector | None = None  # the candidate lines' observations (stored scans)


_RECORD_NOTE = re.compile(r": record skipped: ")


@dataclass
class Merged:
    detections: list[Detection] = field(default_factory=list)
    observations: int = 0
    assets: dict[str, set[str]] = field(default_factory=dict)
    classes: dict[str, set[str]] = field(default_factory=dict)  # as BlockResult.classes
    deviations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unidentifiable_macs: int = 0
    candidates: int = 0
    stopped: bool = False
    records_skipped: int = 0
    _notes: int = 0
    _counted: dict[str, int] = field(default_factory=dict)
    evidence: EvidenceCollector | None = None  # blocks' evidence merged into this collector

    def covered(self) -> dict[str, set[str]]:
        """Every asset seen and its evidence classes (read or counted)."""
        out = {a: set(c) for a, c in self.assets.items()}
        for cls, hosts in self.classes.items():
            for a in hosts:
                got = out.get(a)
                if got is None:
                    out[a] = {cls}
                else:
                    got.add(cls)
        return out

    def add(self, r: BlockResult) -> None:
        """Merge the next block's result (blocks after a fatal problem are ignored, as a
        reader stops at it)."""
        if self.stopped:
            return
        self.detections.extend(r.detections)
        self.observations += r.observations
        mine = self.assets
        for a, c in r.assets.items():
            got = mine.get(a)
            if got is None:
                mine[a] = set(c)
            elif not c <= got:
                got |= c
        for cls, hosts in r.classes.items():
            had = self.classes.get(cls)
            if had is None:
                self.classes[cls] = set(hosts)
            else:
                had |= hosts
        for d in r.deviations:
            if _RECORD_NOTE.search(d):  # the first few record-level errors of the whole input
                self._notes += 1
                if self._notes <= MAX_RECORD_NOTES and d not in self.deviations:
                    self.deviations.append(d)
                continue
            m = _COUNTED.match(d)
            if m:  # "N row(s) …": one message with the total
                tail = m.group(2)
                if tail not in self._counted:
                    self.deviations.append(tail)
                    self._counted[tail] = 0
                self._counted[tail] += int(m.group(1))
            elif d not in self.deviations:
                self.deviations.append(d)
        self.errors.extend(r.errors)
        self.unidentifiable_macs += r.unidentifiable_macs
        self.records_skipped += r.records_skipped
        self.candidates += r.candidates
        if self.evidence is not None and r.evidence is not None:
            self.evidence.merge(r.evidence)
        self.stopped = r.fatal

    def final_deviations(self) -> list[str]:
        out = [f"{self._counted[d]} {d}" if d in self._counted else d for d in self.deviations]
        ctx = ReadContext(path="", asset="", records_skipped=self.records_skipped)
        ctx.finish_notes()  # "N more record(s) skipped …", worded as a single pass words it
        return out + [d for d in ctx.deviations if d not in out]


# ------------------------------------------------------------------------------------ blocks


def _cuts(stream: BinaryIO, size: int | None) -> Iterator[tuple[bytes, bytes, int]]:
    """(carry, chunk, cut) for each block of ``stream``: the block is ``carry + chunk[:cut]``,
    ending at a newline (``carry``, the rest of earlier chunks, holds none), except the last, a
    carry without newline, given as (carry, b"", 0)."""
    size = size or BLOCK_BYTES
    parts: list[bytes] = []  # the line carried on: the rest of the chunk before, and chunks without a newline
    while True:
        chunk = stream.read(size)
        if not chunk:
            break
        cut = chunk.rfind(b"\n") + 1
        if cut == 0:
            parts.append(chunk)  # (joined once, when its line ends: a long line is not copied again and again)
            continue
        yield b"".join(parts), chunk, cut
        parts = [chunk[cut:]]
    carry = b"".join(parts)
    if carry:
        yield carry, b"", 0


def iter_blocks(stream: BinaryIO, size: int | None = None) -> Iterator[tuple[int, bytes]]:
    """(first line number, block) for ``stream``, each block ending at a newline (but the last)."""
    line = 1
    for carry, chunk, cut in _cuts(stream, size):
        # one copy of the block (the short carry joined to the chunk up to its last newline)
        block = b"".join((carry, memoryview(chunk)[:cut])) if (carry or cut < len(chunk)) else chunk
        yield line, block
        line += lines.newlines(block)


EDGE = 64  # bytes of each end of a block sent with its offset to a worker that reads it itself
PROBE = 64 << 10  # the end of each window read first, for its last newline (see iter_file_blocks)


def iter_file_blocks(fd: int, size: int | None = None) -> Iterator[tuple[int, bytes]]:
    """(first line number, block) of the regular file ``fd`` read from its start: the blocks
    :func:`iter_blocks` cuts, without copying them.  iter_blocks reads the file in windows of
    ``size`` bytes and makes each block of the line it carries over and its window up to the
    last newline (a copy).  Here the last newline of each window is looked for in the window's
    last :data:`PROBE` bytes (one small read), and the block up to it is read with one
    ``os.pread``: the block is the bytes the read returned.  A window without a newline in its
    probe, the file's end, or a file changed since its probe is read whole and cut as iter_blocks
    cuts it.  Every byte of the file is in exactly one block, in order (the caller hashes them)."""
    line = 1
    for _off, _n, block, _edge in _file_cuts(fd, size, True):
        assert block is not None
        yield line, block
        line += lines.newlines(block)


def iter_file_cuts(fd: int, size: int | None = None) -> Iterator[tuple[int, int, bytes]]:
    """(offset, length, last bytes) of the blocks :func:`iter_file_blocks` gives, for a reader of
    each block that is not this process (``banscan scan --jobs``): a window whose probe holds a
    newline is not read here, only its probe (the last bytes are the block's last :data:`EDGE`
    bytes the probe saw, or fewer in a shorter block: the reader checks its block ends with them)."""
    for off, n, _block, edge in _file_cuts(fd, size, False):
        yield off, n, edge


def iter_file_cuts_with_headers(fd: int, plan: Plan, size: int | None = None
                                ) -> Iterator[tuple[int, int, bytes, list[bytes]]]:
    """(offset, length, last bytes, header lines before it) of the blocks :func:`iter_file_blocks`
    gives, for a plan with header lines (a Zeek log: its header may come again anywhere in a file
    of concatenated logs) and a reader of each block that is not this process: each block is read
    here, to find its header lines, but not hashed or counted (the header lines are those
    :func:`blocks_with_headers` gives with the block)."""
    header: list[bytes] = []
    for off, n, block, edge in _file_cuts(fd, size, True):
        assert block is not None
        yield off, n, edge, list(header)
        header = _after_headers(plan, header, block)


def _file_cuts(fd: int, size: int | None, read: bool) -> Iterator[tuple[int, int, bytes | None, bytes]]:
    """(offset, length, block, its last EDGE bytes) of each block of :func:`iter_file_blocks`;
    without ``read``, the block is None where only the probe was read."""
    size = size or BLOCK_BYTES
    probe = min(PROBE, max(size // 2, 1))
    off, end = 0, 0  # the next block's offset; the window's end
    while True:
        end += size
        tail = os.pread(fd, probe, end - probe)
        k = tail.rfind(b"\n")
        if len(tail) == probe and k >= 0:
            n = end - probe + k + 1 - off
            if not read:
                yield off, n, None, tail[max(0, k + 1 - min(EDGE, n)):k + 1]
                off += n
                continue
            block = os.pread(fd, n, off)
            if len(block) == n and block[-1] == 0x0A:
                yield off, n, block, block[-EDGE:]
                off += n
                continue
            # (else the file changed since the probe: read as below)
        # the window read whole, cut at its last newline, after the line carried into it from
        # ``off`` (it holds no newline; read once, when it ends); at the file's end, the rest
        # is the last block
        start = end - size
        w = os.pread(fd, size, start)
        cut = w.rfind(b"\n") + 1
        if cut:
            block = _after_carried(fd, off, start, w if cut == len(w) else w[:cut])
            yield off, len(block), block, block[-EDGE:]
            off = start + cut
        if len(w) < size:  # the file ends in this window
            rest = _after_carried(fd, off, start + cut, w[cut:])
            if rest:
                yield off, len(rest), rest, rest[-EDGE:]
            return


def _after_carried(fd: int, off: int, start: int, piece: bytes) -> bytes:
    """``piece`` (read at ``start``) after the file's bytes from ``off`` to ``start``."""
    return piece if off >= start else os.pread(fd, start - off, off) + piece


def _fill(stream: BinaryIO, buf: memoryview) -> int:
    """Read into ``buf`` until it is full or the stream ends; the bytes read."""
    got = 0
    while got < len(buf):
        n = stream.readinto(buf[got:])  # type: ignore[attr-defined]
        if not n:
            break
        got += n
    return got


def iter_spans(stream: BinaryIO, size: int | None = None) -> Iterator[tuple[int, int, int, tuple[bytes, bytes]]]:
    """(first line number, offset, length, (first and last EDGE bytes)) of the blocks
    :func:`iter_blocks` cuts from ``stream`` (read from its start), without making them: the
    stream is read into one buffer, again and again (no block-sized allocation per block)."""
    size = size or BLOCK_BYTES
    buf = bytearray(size)
    view = memoryview(buf)
    line, offset = 1, 0
    # the current block's bytes before the chunk in the buffer (they hold no newline): how many,
    # and the first and last EDGE of them
    carried, head, tail = 0, b"", b""
    try:
        while True:
            n = _fill(stream, view)
            if not n:
                break
            cut = buf.rfind(b"\n", 0, n) + 1
            if cut == 0:
                if len(head) < EDGE:
                    head += view[:min(n, EDGE - len(head))].tobytes()
                tail = (tail + view[max(0, n - EDGE):n].tobytes())[-EDGE:]
                carried += n
                continue
            first = head if len(head) >= EDGE else (head + view[:min(cut, EDGE)].tobytes())[:EDGE]
            last = view[cut - EDGE:cut].tobytes() if cut >= EDGE else (tail + view[:cut].tobytes())[-EDGE:]
            yield line, offset, carried + cut, (first, last)
            line += lines.newlines(buf, 0, cut)  # (the carried bytes hold no newline)
            offset += carried + cut
            carried = n - cut
            head = view[cut:min(n, cut + EDGE)].tobytes()
            tail = view[max(cut, n - EDGE):n].tobytes()
        if carried:
            yield line, offset, carried, (head, tail)
    finally:
        view.release()


def file_lines(b: bytes) -> list[bytes]:
    """The lines of ``b`` as a file's readline gives them: each ending with its newline (the last
    may have none), a carriage return kept inside its line (bytes.splitlines would end one there)."""
    out = [x + b"\n" for x in b.split(b"\n")]
    if b.endswith(b"\n") or not b:
        out.pop()
    else:
        out[-1] = out[-1][:-1]
    return out


def _lines_of(block: bytes, starts: Iterable[int]) -> Iterator[tuple[int, int]]:
    """(start, end) of the lines beginning at ``starts`` (end includes the newline)."""
    n = len(block)
    for s in starts:
        e = block.find(b"\n", s)
        yield s, (n if e < 0 else e + 1)


# ------------------------------------------------------------------------------------ formats


class Plan:
    """How one line-oriented format is block-scanned."""

    name = ""
    limits = Limits()  # the scanner's (plan_for sets them): a line longer than max_line_bytes is not read

    def accepts(self, head: bytes) -> bool:
        return False

    def synthetic_header(self) -> bytes:
        """Lines put before every block so that the reader starts in the right mode."""
        return b""

    has_headers = False  # header_lines may return lines (then the parent reads every block)
    recuts = False  # recut moves cuts (then the parent reads every block, and hands the blocks on)
    filters_evidence = True  # a stored scan may keep only the candidate lines (else it reads every record)

    def recut(self, blocks: Iterable[tuple[int, bytes]]) -> Iterator[tuple[int, bytes]]:
        """The blocks (first line number, block), cut where the format allows: as they are."""
        return iter(blocks)

    def header_lines(self, block: bytes) -> list[bytes]:
        """Lines of ``block`` that later blocks need in front of them (Zeek's ``#`` headers)."""
        return []

    def after_headers(self, header: list[bytes], block: bytes) -> list[bytes]:
        """The header lines in force after ``block``, given ``header`` before it: the latest set
        of :meth:`header_lines` (a ``#separator`` line starts a new set)."""
        more = self.header_lines(block)
        if not more:
            return header
        header = header + [h if h.endswith(b"\n") else h + b"\n" for h in more]
        last = max((i for i, h in enumerate(header) if h.startswith(b"#separator")), default=0)
        return header[last:]

    def before(self, header: list[bytes], ctx: ReadContext) -> list[bytes]:
        """The lines fed to the reader before the block's (read, not counted): the synthetic
        header and ``header``.  A plan may set ``ctx.resume`` instead."""
        return self.synthetic_header().splitlines(keepends=True) + list(header)

    def special_starts(self, block: bytes) -> list[int]:
        """Start offsets of lines always fed to the reader (headers)."""
        return []

    def count(self, block: bytes, skip: list[int], header: list[bytes], ctx: BlockContext) -> bool:
        """Count the lines of ``block`` but those starting at the offsets of ``skip`` (the
        candidates, sorted) into ``ctx``; False when they must be read."""
        return False

    def fields(self, header: list[bytes]) -> frozenset[str] | None:
        """Every observation field the records after ``header`` can carry (None: any): candidate
        lines are then marked with the anchors of the kinds that read those fields only."""
        return None


# the start of an event-form line as osqueryd writes it (a match starts at a newline: one per line)
class OsqueryPlan(Plan):
    """osqueryd results logs in event form, as osqueryd writes them (keys in its order)."""

    name = "osquery"

    def __init__(self) -> None:
        self._ec: dict[bytes, EvidenceClass | None] = {}

    def accepts(self, head: bytes) -> bool:
        # as the reader decides: by its first line that is not blank nor longer than max_line_bytes
        # (it skips those; a line that is not a JSON object makes it read JSON documents instead)
        for raw in head.split(b"\n"):
            if len(raw) > self.limits.max_line_bytes:
                continue
            s = raw.lstrip(b"\xef\xbb\xbf").strip()
            if s:
                if not (s.startswith(b"{") and s.endswith(b"}")) or len(s) > (1 << 20):
                    return False  # osqueryi arrays and pretty-printed documents: the reader's own path
                try:
                    return isinstance(json.loads(s), dict)
                except (ValueError, RecursionError):
                    return False
        return False

    def synthetic_header(self) -> bytes:
        return b"{}\n"  # a JSON object: the reader reads one record per line

    def _evidence(self, qname: bytes, block: bytes, skip: list[int]) -> EvidenceClass | None:
        if qname not in self._ec:
            from banscan.sources.osquery import TABLES, classify

            ec = None
            # the first line of the query that is not a candidate (a candidate may be another form)
            head = b'{"name":"' + qname + b'","hostIdentifier"'
            skipped = set(skip)
            i = block.find(head)
            while i >= 0 and block.rfind(b"\n", 0, i) + 1 in skipped:
                i = block.find(head, i + 1)
            if i >= 0:
                e = block.find(b"\n", i)
                try:
                    doc = json.loads(block[i: e if e >= 0 else len(block)])
                    table = classify(doc["columns"].keys(), qname.decode("utf-8"))
                    ec = TABLES[table][1] if table else None
                except (ValueError, KeyError, AttributeError, TypeError, RecursionError):
                    ec = None
            self._ec[qname] = ec
        return self._ec[qname]

    def count(self, block: bytes, skip: list[int], header: list[bytes], ctx: BlockContext) -> bool:
        # every line: the canonical start, one "columns" object, ending with action "added"
        # (batch, snapshot and "removed" lines are never here: the engine marks them, see ALWAYS)
        events = lines.osquery_events(block, skip)
        if events is None:
            return False
        n = unknown = 0
        for qname, (rows, hosts) in events.items():
            n += rows
            ec = self._evidence(qname, block, skip)
            if ec is None:
                unknown += rows  # rows of tables listing no software: counted, as the reader does
                continue
            ctx.counted(ec.value, hosts)  # only which hosts have which classes matters
        ctx.observations += n - unknown  # as ctx.skipped(asset, class, 1) for each row, at once
        if unknown:
            ctx.observations += unknown
            ctx.deviation(f"{unknown} row(s) of tables that list no software were not observed")
        return True


class ZeekTsvPlan(Plan):
    """Zeek TSV logs (``#separator`` header)."""

    name = "zeek"
    has_headers = True

    def __init__(self) -> None:
        self._fields: dict[tuple[bytes, ...], frozenset[str] | None] = {}

    def accepts(self, head: bytes) -> bool:
        return head.lstrip(b"\xef\xbb\xbf").startswith(b"#separator")

    def header_lines(self, block: bytes) -> list[bytes]:
        return [block[s:e] for s, e in _lines_of(block, self.special_starts(block))]

    def special_starts(self, block: bytes) -> list[int]:
        # C-level finds of one byte (memchr): a regular expression anchored at line starts tries
        # every byte, and a two-byte needle starting with the newline stops at every line
        out: list[int] = []
        i = block.find(b"#")
        while i >= 0:
            if i == 0 or block[i - 1] == 0x0A:
                out.append(i)
            i = block.find(b"#", i + 1)
        return out

    def count(self, block: bytes, skip: list[int], header: list[bytes], ctx: BlockContext) -> bool:
        from banscan.sources import zeek

        state = _zeek_state(header)
        if state is None:
            return False
        kind, asset_idx, unset, nf = state
        if kind not in zeek._PREFILTERED:
            return False
        ec = zeek._EVIDENCE[kind]
        # (with no asset column, column 0 is read only to find blank lines)
        got = lines.tsv_column(block, max(asset_idx, 0), skip, nf)  # (a line of other width: the reader reports it)
        if got is None:
            return False  # header, blank or short lines: the reader decides
        n, values = got
        if not n:
            return True
        if asset_idx < 0:
            ctx.skipped(ctx.asset, ec, n)
            return True
        # only which assets were seen matters, and how many rows: as ctx.skipped(asset, ec) per row
        names = {a.decode("utf-8", "replace") for a in values}
        if "" in names or unset in names:  # rows without an asset: the input's default asset
            names -= {"", unset}
            names.add(ctx.asset)
        ctx.counted(ec.value, names)
        ctx.observations += n
        return True

    def fields(self, header: list[bytes]) -> frozenset[str] | None:
        key = tuple(header)
        if key not in self._fields:
            self._fields = {key: _zeek_fields(header)}  # headers change rarely: keep the last
        return self._fields[key]


# log kinds whose reader's fields depend only on which columns are set: their fields are found by
# reading one record with every column set (dns: the query, and answers when there are some)
_PROBED = frozenset({"dns"})


def _zeek_fields(header: list[bytes]) -> frozenset[str] | None:
    state = _zeek_state(header)
    if state is None or state[0] not in _PROBED:
        return None
    columns: list[str] = []
    for raw in header:
        h = raw.rstrip(b"\r\n").decode("utf-8", "replace")
        if h.startswith("#fields\t"):
            columns = h.split("\t")[1:]
    if not columns:
        return None
    return _handler_fields(state[0], tuple(columns))


@functools.lru_cache(maxsize=64)
def _handler_fields(kind: str, columns: tuple[str, ...]) -> frozenset[str]:
    """Every field the Zeek reader's handler of ``kind`` gives a record with ``columns`` all set."""
    from banscan.sources import zeek

    probe = ReadContext(path="", asset="probe")
    out: set[str] = set()
    for _kind, _asset, fields, _ec in zeek.HANDLERS[kind]({c: "x" for c in columns}, probe):
        out.update(fields)
    return frozenset(out)


def _zeek_state(header: list[bytes]) -> tuple[str | None, int, str, int] | None:
    """(log kind, asset column, unset marker, number of fields) after ``header``; None unless
    tab-separated."""
    from banscan.sources import zeek

    sep = "\t"
    unset = "-"
    path: str | None = None
    kind: str | None = None
    idx = nf = -1
    for raw in header:
        h = raw.rstrip(b"\r\n").decode("utf-8", "replace")
        if h.startswith("#separator"):
            v = h[len("#separator"):].strip()
            if v not in ("\\x09", ""):
                return None
            continue
        name, _, val = h[1:].partition(sep)
        if name == "unset_field":
            unset = val
        elif name == "path":
            path = val
        elif name == "fields":
            fields = val.split(sep)
            nf = len(fields)
            kind = zeek.log_kind(fields, path) if path else zeek.log_kind(fields)
            if kind is None and path is not None:
                kind = zeek.log_kind(fields)
            col = zeek._ASSET_COLUMN.get(kind or "")
            idx = fields.index(col) if col and col in fields else -1
    return kind, idx, unset, nf


_PATH_KEY = b'"_path":"'
_PATH_VALUE = re.compile(rb'"_path":"([^"\n]*)"')


class ZeekJsonPlan(Plan):
    """Zeek JSON logs (one record a line).  The JSON reader takes a record for the kind of the
    last one it read unless its ``_path`` names one; the header handed from block to block is that
    kind (the parent finds it, reading only the lines that may change it), and the reader of a
    block starts from it (``ctx.resume``).  A block is counted when every record in it is taken
    for that kind: a line that is not a candidate is counted as the reader counts a record its
    prefilter rules out (:func:`banscan.fast.lines.zeek_json`), or left to the reader when it is
    not a compact flat object.  A block where ``_path`` names another kind is read by the reader,
    and in the first block the lines until one sets the kind."""

    name = "zeek-json"
    has_headers = True

    def accepts(self, head: bytes) -> bool:
        for raw in head.split(b"\n"):
            s = raw.strip()
            if s:
                return s.startswith(b"{")  # (a byte-order mark first: the reader's own path)
        return False

    @staticmethod
    def _kind(header: list[bytes]) -> str | None:
        return header[-1].strip().decode("ascii") if header else None

    def _one_kind(self, block: bytes, kind: str) -> bool:
        """True when no ``_path`` in ``block`` names another kind than ``kind``."""
        n = lines.occurrences(block, _PATH_KEY)
        if not n:
            return True
        found = _PATH_VALUE.findall(block)
        return len(found) == n and set(found) == {kind.encode("ascii")}

    def _kinds(self, block: bytes, kind: str | None) -> Iterator[tuple[int, str | None]]:
        """(start offset, kind in force after it) of each line of ``block`` that may change the
        kind in force, ``kind`` before the block: with no kind yet, every line; then those that
        name a ``_path`` (a line longer than max_line_bytes, which the reader skips, changes nothing)."""
        from banscan.sources.zeek import json_kind_after

        kinds: dict[str, str | None] = {}
        at = 0
        for raw in block.split(b"\n"):
            start, at = at, at + len(raw) + 1
            if start >= len(block):
                return  # (after the last newline: no line)
            if kind is not None and _PATH_KEY not in raw:
                continue
            if len(raw) <= self.limits.max_line_bytes:
                kind = json_kind_after(raw, kind, kinds)
            yield start, kind

    def after_headers(self, header: list[bytes], block: bytes) -> list[bytes]:
        before = self._kind(header)
        if before is not None and self._one_kind(block, before):
            return header
        kind = before
        for _start, after in self._kinds(block, before):
            kind = after
        return [kind.encode("ascii") + b"\n"] if kind is not None else []

    def fields(self, header: list[bytes]) -> frozenset[str] | None:
        """The fields the records of the kind in force can carry (dns: every column the reader
        reads set), as for a Zeek TSV log."""
        from banscan.sources import zeek

        kind = self._kind(header)
        if kind not in _PROBED:
            return None
        return _handler_fields(kind, tuple(sorted(zeek._NEEDED[kind])))

    def before(self, header: list[bytes], ctx: ReadContext) -> list[bytes]:
        from banscan.sources.zeek import JSON_KIND

        kind = self._kind(header)
        ctx.resume = {JSON_KIND: kind} if kind is not None else None
        return [b"\n"]  # (a blank line first: the reader reads JSON whatever the block's first line)

    def count(self, block: bytes, skip: list[int], header: list[bytes], ctx: BlockContext) -> bool:
        from banscan.sources import zeek

        kind = self._kind(header)
        cut = 0
        if kind is None:  # (the first block) the lines until one sets the kind are read
            for start, kind in self._kinds(block, None):
                ctx.read_also.append(start)
                if kind is not None:
                    break
            if ctx.read_also:
                cut = block.find(b"\n", ctx.read_also[-1]) + 1 or len(block)
        rest = block[cut:] if cut else block
        if kind is None or kind not in zeek._PREFILTERED or not self._one_kind(rest, kind):
            ctx.read_also.clear()
            return False
        col = zeek._ASSET_COLUMN.get(kind)
        rows, values, more = lines.zeek_json(rest, [s - cut for s in skip if s >= cut] if cut else skip,
                                            col.encode("ascii") if col else None)
        if values:
            ctx.counted(zeek._EVIDENCE[kind].value, {v.decode("ascii") or ctx.asset for v in values})
        ctx.observations += rows
        ctx.read_also.extend(m + cut for m in more)  # lines of another shape: the reader reads them in full
        return True


class DnsQueryLogPlan(Plan):
    """DNS server query logs (BIND ``queries``, dnsmasq ``log-queries``): one query a line, no
    header.  A line that is not a candidate is counted, and covers its client, as the reader
    would (:func:`banscan.fast.lines.dns_clients`), or is left to the reader when it is of
    another form."""

    name = "dns-query-log"

    def accepts(self, head: bytes) -> bool:
        return True  # (the reader claimed the input: every line of it is read alike)

    def count(self, block: bytes, skip: list[int], header: list[bytes], ctx: BlockContext) -> bool:
        got = lines.dns_clients(block, skip)
        if got is None:
            return False  # a line with a control byte: the reader reads the block
        n, clients, more = got
        if clients:
            ctx.counted(EvidenceClass.NETWORK_TRAFFIC.value, {c.decode("ascii") for c in clients})
        ctx.observations += n
        ctx.read_also.extend(more)  # lines of other forms, which the reader reads
        return True

    def fields(self, header: list[bytes]) -> frozenset[str] | None:
        return frozenset({F.DOMAIN, "qtype"})  # what the reader's observations carry


class SoftwareCsvPlan(Plan):
    """CSV exports of installed software (banscan.sources.software_csv): the first line is the
    header, which every later block's reader reads first.  A record may span lines (a quoted cell
    holding a newline), so blocks are cut only where a record ends (:meth:`recut`).  A block is
    counted when every record in it is one line: a line that is not a candidate is counted as the
    reader counts a row its prefilter rules out (:func:`banscan.fast.lines.csv_rows`), or left to
    the reader.  A block where a record spans lines is read by the reader.  A stored scan reads
    an export in full (every record kept as evidence): the plan serves scans that keep none."""

    name = "software-csv"
    has_headers = True
    recuts = True
    filters_evidence = False  # an export is kept whole by a stored scan, for re-matching under another registry

    def __init__(self) -> None:
        self._layouts: dict[bytes, tuple[bytes, Any] | None] = {}

    def accepts(self, head: bytes) -> bool:
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return False  # UTF-16: the reader's own path
        end = head.find(b"\n")
        return 0 <= end <= self.limits.max_line_bytes and self._layout(head[:end + 1]) is not None

    def _layout(self, line: bytes) -> tuple[bytes, Any] | None:
        """(delimiter, column layout) of the header ``line``, as the reader finds them."""
        if line not in self._layouts:
            from banscan.sources.software_csv import _detect, decode_line

            det = _detect(decode_line(line.removeprefix(b"\xef\xbb\xbf"))[0].rstrip("\r\n"))
            self._layouts[line] = None if det is None else (det[0].encode("ascii"), det[1])
        return self._layouts[line]

    def after_headers(self, header: list[bytes], block: bytes) -> list[bytes]:
        if header or not block:
            return header
        end = block.find(b"\n")
        return [block if end < 0 else block[:end + 1]]

    def recut(self, blocks: Iterable[tuple[int, bytes]]) -> Iterator[tuple[int, bytes]]:
        """The blocks, each cut where a record ends: a block's last record, when it goes on in the
        next, is carried into it."""
        carry, line, delim = b"", None, None
        for first, block in blocks:
            if line is None:
                line = first
            data = carry + block if carry else block
            at = 0
            if delim is None:  # the first block: its first line is the header
                at = data.find(b"\n") + 1
                if not at:
                    carry = data
                    continue
                lay = self._layout(data[:at])
                delim = lay[0] if lay is not None else b","
            end = self._complete(data, at, delim)
            if end:
                yield line, data[:end]
                line += lines.newlines(data, 0, end)
            carry = data[end:]
        if carry:
            yield line or 1, carry

    def _complete(self, data: bytes, at: int, delim: bytes) -> int:
        """The offset in ``data`` after its last whole record ending with a newline (``at``: where
        a record starts), or 0."""
        import csv

        cut = data.rfind(b"\n") + 1
        limit = csv.field_size_limit()
        while True:
            k = lines.csv_open_line(data, delim, at)
            if k < 0 or k >= cut:
                return cut
            end = lines.csv_record_end(data, delim, k, self.limits.max_line_bytes, limit)
            if end == -2:  # (a long line or a long cell: read as the reader reads it)
                end = _csv_record_end(data, k, cut, delim, self.limits)
            if end < 0:
                return k
            at = end

    def count(self, block: bytes, skip: list[int], header: list[bytes], ctx: BlockContext) -> bool:
        from banscan.sources.software_csv import _EC

        if not header:  # the first block: its first line is the header, which the reader reads
            header = self.after_headers(header, block)
            skip = sorted(set(skip) | {0})
            ctx.read_also.append(0)
        got = self._layout(header[0])
        if got is None or lines.csv_open_line(block, got[0]) >= 0:
            ctx.read_also.clear()
            return False
        delim, lay = got
        n, values, more = lines.csv_rows(block, skip, delim, lay.width, _col(lay.name), _col(lay.bundle),
                                         _col(lay.platform), _col(lay.asset), lay.mobile_export)
        if n:
            names = {v.decode("ascii") or ctx.asset for v in values}
            ctx.counted(_EC[lay.mobile_export].value, names)
        ctx.observations += n
        ctx.read_also.extend(more)
        return True


def _col(i: int | None) -> int:
    return -1 if i is None else i


def _csv_record_end(data: bytes, at: int, cut: int, delim: bytes, limits: Limits) -> int:
    """The offset after the last line of the record starting at ``at`` as the CSV reader reads it
    (lines decoded as it decodes them, the csv module's errors ending a record, and a line longer
    than max_line_bytes skipped, ending the record it falls in), or -1 when it does not end before
    ``cut``."""
    import csv

    from banscan.sources.software_csv import decode_line

    ends: list[int] = []
    broken: list[int] = []

    def fed() -> Iterator[str]:
        pos = at
        while pos < cut:
            e = data.index(b"\n", pos) + 1
            raw, pos = data[pos:e], e
            if len(raw) - 1 > limits.max_line_bytes:
                if ends:  # the record is cut there
                    broken.append(e)
                    return
                continue
            ends.append(e)
            yield decode_line(raw)[0]
        yield "\x00\n"  # past the end: a record still open takes it in

    reader = csv.reader(fed(), delimiter=delim.decode("ascii"))
    try:
        next(reader)
    except csv.Error:
        pass
    except StopIteration:
        return broken[0] if broken else -1
    if broken:
        return broken[0]
    k = reader.line_num
    return ends[k - 1] if 0 < k <= len(ends) else -1


# plans by name (a --jobs worker or a Spark executor makes its own), and those each format may use
PLANS: dict[str, type[Plan]] = {p.name: p for p in (OsqueryPlan, ZeekTsvPlan, ZeekJsonPlan, DnsQueryLogPlan,
                                                     SoftwareCsvPlan)}
_FOR_SOURCE: dict[str, tuple[type[Plan], ...]] = {"osquery": (OsqueryPlan,), "zeek": (ZeekTsvPlan, ZeekJsonPlan),
                                                  "dns-query-log": (DnsQueryLogPlan,), "software-csv": (SoftwareCsvPlan,)}


def plan_for(source: Source, head: bytes, limits: Limits | None = None) -> Plan | None:
    for cls in _FOR_SOURCE.get(source.name, ()):
        plan = cls()
        if limits is not None:
            plan.limits = limits
        try:
            if plan.accepts(head):
                return plan
        except Exception:  # noqa: BLE001 - an input the plan cannot judge is read line by line
            return None
    return None


# ------------------------------------------------------------------------------------ one block


class _Fed:
    """The lines fed to a reader, as a binary stream (iteration, readline, read); ``readline(size)``
    and ``read(size)`` return at most ``size`` bytes, as a file's do (a reader's limit on a line's length then
    applies as when it reads the input itself)."""

    def __init__(self, lines: list[bytes]) -> None:
        self._lines = lines
        self._i = 0
        self._at = 0  # bytes of line _i already returned

    def __iter__(self) -> Iterator[bytes]:
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def readline(self, size: int = -1) -> bytes:
        if self._i >= len(self._lines):
            return b""
        line = self._lines[self._i]
        if 0 <= size < len(line) - self._at:
            self._at += size
            return line[self._at - size:self._at]
        out = line[self._at:] if self._at else line
        self._i += 1
        self._at = 0
        return out

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            out = b"".join([self._lines[self._i][self._at:]] + self._lines[self._i + 1:]) if self._i < len(self._lines) else b""
            self._i = len(self._lines)
            self._at = 0
            return out
        parts: list[bytes] = []  # at most n bytes, as a file's read(n) (the CSV reader reads its first 4)
        while n > 0 and self._i < len(self._lines):
            part = self.readline(n)
            parts.append(part)
            n -= len(part)
        return b"".join(parts)


def _always(_line: str) -> bool:
    return True


def _remap(text: str, numbers: list[int]) -> str:
    def sub(m: re.Match[str]) -> str:
        k = int(m.group(1))
        return f"line {numbers[k - 1]}" if 0 < k <= len(numbers) else m.group(0)

    return _LINE_REF.sub(sub, text)


def _local_line(locator: str) -> int:
    m = _LINE_REF.match(locator)
    return int(m.group(1)) if m else -1


@dataclass
class BlockContext(ReadContext):
    """A reader's context in a block, and the assets of the records counted without reading
    them, by evidence class (see :attr:`BlockResult.classes`)."""

    classes: dict[str, set[str]] = field(default_factory=dict)
    # start offsets of lines that are not candidates which the format's count leaves to the reader
    read_also: list[int] = field(default_factory=list)

    def counted(self, cls: str, assets: set[str]) -> None:
        """Rows of evidence class ``cls`` were counted on ``assets`` (a set of the caller's, which
        this context keeps)."""
        had = self.classes.get(cls)
        if had is None:
            self.classes[cls] = assets
        else:
            had |= assets


def _plain(names: Iterable[str]) -> bool:
    """True when no asset name needs cleaning (ASCII, no NUL)."""
    joined = "".join(names)
    return joined.isascii() and "\x00" not in joined


def scan_block(source: Source, plan: Plan, matcher: Matcher, header: list[bytes], block: bytes,
               first_line: int, path: str, asset: str, engine: Any = None,
               limits: Limits | None = None, evidence: bool = False) -> BlockResult:
    """Detections, counts and covered assets of one block (pure: no I/O, no shared state but
    the matcher's memo).  ``path`` is the input's name as shown, ``asset`` its default asset.
    ``evidence``: also collect the observations read (the candidate lines) in ``res.evidence``."""
    res = BlockResult(first_line=first_line, evidence=EvidenceCollector() if evidence else None)
    limits = limits or Limits()
    # a line this long may hold a value cut inside a word (see banscan.match.LONG_LINE)
    long_line = min(matcher.long_line, limits.max_field_chars)
    prefilter = matcher.prefilter
    if long_line < matcher.long_line:
        def prefilter(raw: str) -> bool:
            return len(raw) >= long_line or matcher.prefilter(raw)
    ctx = BlockContext(path=path, asset=asset, prefilter=prefilter, limits=limits)
    special = plan.special_starts(block)
    state: list[bytes] | None = list(header)
    if special:
        own = [block[s:e] for s, e in _lines_of(block, special)]
        leading = all(a == b for a, b in zip(special, [0] + [s + len(x) for s, x in zip(special, own)]))
        changes = any(x.startswith((b"#separator", b"#fields", b"#path", b"#unset_field")) for x in own)
        state = (list(header) + own) if leading or not changes else None
    # the records' possible fields, when the format says: only the kinds reading them mark lines
    eng = engine or matcher.engine_for(plan.fields(state) if state is not None else None)
    starts = eng.candidate_lines(block)
    if not block.isascii():
        # a line marked only for its non-ASCII characters: folded as the matcher folds text, it
        # may still hold no anchor
        spans = list(_lines_of(block, starts))
        texts = [block[s:e] for s, e in spans]
        other = [i for i, t in enumerate(texts) if not t.isascii()]
        need = matcher.unicode_filter.needing([texts[i] for i in other])
        drop = {spans[i][0] for i, n in zip(other, need) if not n}
        starts = [s for s in starts if s not in drop]
    longs = lines.long_lines(block, long_line)
    if longs:
        starts = sorted(set(starts) | set(longs))
    if special:
        starts = sorted(set(starts) | set(special))
    spans = list(_lines_of(block, starts))
    # lines before the block that set the reader's mode (line number 0: dropped)
    pre = plan.before(header, ctx)
    numbers = [0] * len(pre)
    fed = list(pre)
    # the other lines are counted where they are (no copy of the block without the candidates)
    counted = state is not None and plan.count(block, starts, state, ctx)
    if counted:
        # every line fed is a candidate the engine already marked or a header, or a line the count
        # left to the reader (it holds no anchor: read in full, it matches nothing): no second test
        ctx.prefilter = _always
        if ctx.read_also:
            spans = list(_lines_of(block, sorted(set(starts).union(ctx.read_also))))
        line, prev = first_line, 0
        for s, e in spans:
            line += lines.newlines(block, prev, s)
            prev = s
            fed.append(block[s:e])
            numbers.append(line)
        res.candidates = len(spans)
        stream: Any = _Fed(fed)
    else:
        # every line read: the block itself as a file (its readline is C's), after the lines before it
        n = lines.line_count(block)
        numbers.extend(range(first_line, first_line + n))
        res.candidates = n
        head = b"".join(x if x.endswith(b"\n") else x + b"\n" for x in pre)  # (one line each, as fed alone)
        stream = io.BytesIO(head + block if head else block)
    macs_before = matcher.unidentifiable_macs
    last = ""
    items = source.read(stream, ctx)
    try:
        for item in items:
            if isinstance(item, Observation):
                k = _local_line(item.source.locator)
                if 0 < k <= len(numbers) and numbers[k - 1] == 0:
                    continue  # a record of the synthetic header
                if k > 0:
                    item.source = Locator(item.source.path, _remap(item.source.locator, numbers))
                ctx.seen(item)  # (before cleaning: a reader that counted it already gave this object)
                item = clean_observation(item, ctx)
                last = item.source.locator
                res.detections.extend(matcher.match(item))
                if res.evidence is not None:
                    res.evidence.add(item)
            elif isinstance(item, Problem):
                k = _local_line(item.source.locator)
                if 0 < k <= len(numbers) and numbers[k - 1] == 0:
                    continue
                loc = Locator(item.source.path, _remap(item.source.locator, numbers))
                res.errors.append(str(clean_problem(Problem(loc, _remap(item.message, numbers), item.fatal))))
                if item.fatal:
                    res.fatal = True
                    break
    except LimitExceeded as e:
        res.errors.append(f"{ctx.path}: {clean_text(_remap(str(e), numbers))[0]}")
        res.fatal = True
    except Exception as e:  # noqa: BLE001 - a reader bug must not lose the other inputs
        where = f" after {last}" if last else ""
        msg = clean_text(f"{type(e).__name__}: {e}")[0]
        res.errors.append(f"{ctx.path}: could not be read{where}: {msg}")
        res.fatal = True
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # noqa: BLE001 - closing a failed reader must not fail the scan
                pass
    res.unidentifiable_macs = matcher.unidentifiable_macs - macs_before
    res.observations = ctx.observations
    res.records_skipped = ctx.records_skipped
    if _plain(ctx.assets):
        res.assets = ctx.assets  # a fresh dict of this block's own: nothing to clean
    else:
        res.assets = clean_assets(ctx.assets, ctx)
    for cls, hosts in ctx.classes.items():
        res.classes[cls] = hosts if _plain(hosts) else set(clean_names(hosts, ctx).values())
    # (a note on a line before the block, fed again as its header, was made where that line is)
    res.deviations = [clean_text(_remap(d, numbers))[0] for d in ctx.deviations if not _before(d, numbers)]
    return res


def _before(text: str, numbers: list[int]) -> bool:
    """True when ``text`` names a line fed before the block's own (line number 0)."""
    return any(0 < k <= len(numbers) and numbers[k - 1] == 0 for k in map(int, _LINE_REF.findall(text)))


def blocks_with_headers(plan: Plan, blocks: Iterable[tuple[int, bytes]]
                        ) -> Iterator[tuple[list[bytes], int, bytes]]:
    """(header lines before the block, first line, block) for each block."""
    header: list[bytes] = []
    for first, block in plan.recut(blocks):
        yield list(header), first, block
        header = _after_headers(plan, header, block)


def _after_headers(plan: Plan, header: list[bytes], block: bytes) -> list[bytes]:
    """The header lines in force after ``block``, given ``header`` before it."""
    return plan.after_headers(header, block)

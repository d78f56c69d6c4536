"""Line scans of the block scanner: C when the optional extension ``banscan.fast._lines`` is built
(``pip install`` compiles it where a C compiler is present), else the pure-Python functions below,
which compute exactly the same (the tests compare both on generated blocks).

``BANSCAN_PURE_PYTHON=1`` in the environment uses the Python functions even when the extension is
there.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

_OSQ_EVENT = re.compile(rb'\n\{"name":"([^"\\\n]*)","hostIdentifier":"([^"\\\n]*)",')


def newlines_py(b: bytes | bytearray | memoryview, start: int = 0, end: int | None = None) -> int:
    """The newlines of ``b[start:end]`` (any bytes-like object)."""
    if isinstance(b, (bytes, bytearray)):
        return b.count(b"\n", start, end)
    with memoryview(b) as view:  # (a memoryview has no count: its slice copied)
        return view.cast("B")[start:end].tobytes().count(b"\n")


def line_count(rest: bytes) -> int:
    return newlines(rest) + (1 if rest and not rest.endswith(b"\n") else 0)


def long_lines_py(block: bytes, size: int) -> list[int]:
    """Start offsets of the lines of ``block`` at least ``size`` bytes long (without newline)."""
    if len(block) < size:
        return []
    lines = block.split(b"\n")
    if max(map(len, lines)) < size:
        return []
    out: list[int] = []
    pos = 0
    for ln in lines:
        if len(ln) >= size:
            out.append(pos)
        pos += len(ln) + 1
    return out


def without(block: bytes, skip: list[int] | None) -> bytes:
    """``block`` without the lines starting at the offsets of ``skip`` (sorted)."""
    if not skip:
        return block
    pieces: list[bytes] = []
    prev = 0
    for s in skip:
        if s < prev:
            continue
        e = block.find(b"\n", s)
        pieces.append(block[prev:s])
        prev = len(block) if e < 0 else e + 1
    pieces.append(block[prev:])
    return b"".join(pieces)


def osquery_events_py(block: bytes, skip: list[int] | None = None) -> dict[bytes, tuple[int, set[str]]] | None:
    """When every line of ``rest`` is an osqueryd event as osqueryd writes it — starting with
    ``{"name":"Q","hostIdentifier":"H",``, ending with ``"action":"added"}`` (before an optional
    carriage return), with as many ``"columns":{`` as lines — per query name Q, its rows and its
    hosts H (decoded from UTF-8, bad bytes replaced); else None.  ``rest``: ``block`` without
    the lines starting at the offsets of ``skip``."""
    rest = without(block, skip)
    if not rest:
        return {}
    n = line_count(rest)
    body = rest if rest.endswith(b"\n") else rest + b"\n"
    ends = body.count(b'"action":"added"}\n')
    if b"\r" in body:
        ends += body.count(b'"action":"added"}\r\n')
    if ends != n or body.count(b'"columns":{') != n:
        return None
    pairs = _OSQ_EVENT.findall(b"\n" + rest)
    if len(pairs) != n:
        return None
    out: dict[bytes, tuple[int, set[str]]] = {}
    for (q, h), rows in Counter(pairs).items():
        got = out.get(q, (0, set()))
        got[1].add(h.decode("utf-8", "replace"))
        out[q] = (got[0] + rows, got[1])
    return out


def tsv_column_py(block: bytes, index: int, skip: list[int] | None = None,
                  nfields: int = -1) -> tuple[int, set[bytes]] | None:
    """(lines, the set of values of tab-separated column ``index``, each up to the next tab,
    carriage return or newline) when every line has that column (and, with ``nfields``, that
    many fields: as many tabs but one) and none is blank (empty, or a lone carriage return) or a
    header line (starting with ``#``); else None.  The lines are those of ``block`` but the ones
    starting at the offsets of ``skip``."""
    rest = without(block, skip)
    n = line_count(rest)
    if nfields >= 0 and any(ln.count(b"\t") != nfields - 1 for ln in rest.split(b"\n")[:n]):
        return None
    if rest.startswith(b"#") or b"\n#" in rest:
        return None
    if rest.startswith((b"\n", b"\r\n")) or rest == b"\r" or b"\n\n" in rest or b"\n\r\n" in rest \
            or rest.endswith(b"\n\r"):
        return None
    if b"\r" in rest:
        col = re.compile(rb"\n(?:[^\t\n]*\t){%d}([^\t\n\r]*)" % index)
        # (without the last newline: after it, column 0 would match an empty value)
        values = col.findall(b"\n" + (rest[:-1] if rest.endswith(b"\n") else rest))
    else:
        lines = rest.split(b"\n")
        if lines and not lines[-1]:
            lines.pop()
        try:
            values = [ln.split(b"\t", index + 1)[index] for ln in lines]
        except IndexError:
            return None
    if len(values) != n:
        return None
    return n, set(values)


_PRINTABLE = re.compile(rb"[\t\x20-\x7e]*")
# the reader's BIND and dnsmasq query patterns (banscan.sources.dnslog) from after "client" and after
# "dnsmasq", over printable ASCII (where their whitespace is a space or a tab)
_BIND_AFTER = re.compile(rb"[ \t]+(?:@0x[0-9a-fA-F]+[ \t]+)?([0-9A-Fa-f:.]+)#\d+(?:[ \t]+\([^)]*\))?:[ \t]+"
                         rb"(?:view[ \t]+[^ \t]+:[ \t]+)?query:[ \t]+[^ \t]+[ \t]+[^ \t]+[ \t]+[^ \t]+")
_DNSMASQ_AFTER = re.compile(rb"(?:\[\d+\])?:[ \t]+(?:\d+[ \t]+)?(?:[0-9A-Fa-f:.]+/\d+[ \t]+)?"
                            rb"query\[[^\]]+\][ \t]+[^ \t]+[ \t]+from[ \t]+([0-9A-Fa-f:.]+)")


def dns_line_py(line: bytes) -> tuple[int, bytes | None]:
    """How the block scanner judges a DNS query log line of printable ASCII that its prefilter
    rules out: (1, client) when the reader's query pattern matches it (BIND before dnsmasq, as
    the reader tries them), (0, None) when none does, (2, None) when it leaves the line to the
    reader: a pattern that does not match from the first "client" (BIND) or "dnsmasq" may match
    from a later one."""
    if b"query" not in line:
        return 0, None  # (both patterns need it)
    c = line.find(b"client")
    if c >= 0:
        m = _BIND_AFTER.match(line, c + 6)
        if m:
            return 1, m.group(1)
        if line.find(b"client", c + 1) >= 0:
            return 2, None
    d = line.find(b"dnsmasq")  # (BIND matches nowhere)
    if d < 0:
        return 0, None
    m = _DNSMASQ_AFTER.match(line, d + 7)
    if m:
        return 1, m.group(1)
    return (2, None) if line.find(b"dnsmasq", d + 1) >= 0 else (0, None)


def _lines_but(block: bytes, skip: list[int] | None) -> Iterator[tuple[int, bytes]]:
    """(start offset, line without its newline and trailing carriage returns) of each line of
    ``block`` but those starting at the offsets of ``skip``."""
    skipped = set(skip or ())
    start = 0
    for raw in block.split(b"\n"):
        at, start = start, start + len(raw) + 1
        if at < len(block) and at not in skipped:  # (after the last newline: no line)
            yield at, raw.rstrip(b"\r")


def dns_clients_py(block: bytes, skip: list[int] | None = None) -> tuple[int, set[bytes], list[int]] | None:
    """For the lines of ``block`` but those starting at the offsets of ``skip``: (the lines
    counted, the set of clients they cover, the start offsets of the lines left to the reader) as
    :func:`dns_line_py` judges them; blank lines (spaces and tabs) are neither counted nor left.
    None when a line (without its trailing carriage returns) holds a byte that is neither a tab
    nor printable ASCII."""
    n = 0
    clients: set[bytes] = set()
    more: list[int] = []
    for at, line in _lines_but(block, skip):
        if not _PRINTABLE.fullmatch(line):
            return None
        if not line.strip(b" \t"):
            continue
        kind, client = dns_line_py(line)
        if kind == 2:
            more.append(at)
            continue
        n += 1
        if client is not None:
            clients.add(client)
    return n, clients, more


_JSTR = rb'"[^"\\\x00-\x1f\x7f-\xff]*"'
_JNUM = rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_JSCALAR = rb"(?:%s|%s|true|false|null)" % (_JSTR, _JNUM)
_JVALUE = rb"(?:%s|\[(?:%s(?:,%s)*)?\])" % (_JSCALAR, _JSCALAR, _JSCALAR)
_FLAT_OBJECT = re.compile(rb"\{(?:%s:%s(?:,%s:%s)*)?\}" % (_JSTR, _JVALUE, _JSTR, _JVALUE))


def zeek_json_line_py(line: bytes, col: bytes | None) -> bytes | None:
    """The value of key ``col`` (b"" when it is not there, or empty) of a line that is a compact
    JSON object of printable ASCII without a backslash, whose values are strings, numbers, true,
    false, null or arrays of those, holding ``col`` at most once and as a string; None for any
    other line (its reader reads it)."""
    if b"\\" in line or not _FLAT_OBJECT.fullmatch(line):
        return None
    import json

    pairs = json.loads(line, object_pairs_hook=lambda kv: kv)
    got = [v for k, v in pairs if col is not None and k == col.decode("ascii")]
    if len(got) > 1 or (got and not isinstance(got[0], str)):
        return None
    return got[0].encode("ascii") if got else b""


def zeek_json_py(block: bytes, skip: list[int] | None = None,
                 col: bytes | None = None) -> tuple[int, set[bytes], list[int]]:
    """For the lines of ``block`` but those starting at the offsets of ``skip``: (the lines
    :func:`zeek_json_line_py` reads, the set of their ``col`` values, the start offsets of the
    others, left to the reader); blank lines (spaces and tabs) are neither counted nor left.
    Trailing carriage returns are dropped first."""
    n = 0
    values: set[bytes] = set()
    more: list[int] = []
    for at, line in _lines_but(block, skip):
        if _PRINTABLE.fullmatch(line) and not line.strip(b" \t"):
            continue
        v = zeek_json_line_py(line, col)
        if v is None:
            more.append(at)
            continue
        n += 1
        values.add(v)
    return n, values, more


# the csv module's states within a physical line (see csv_open_line_py)
_CSV_START, _CSV_FIELD, _CSV_QUOTED, _CSV_QUOTE_IN_QUOTED, _CSV_CRNL, _CSV_ERROR = range(6)


def _csv_step(st: int, c: int, delim: int) -> int:
    if st in (_CSV_START, _CSV_FIELD, _CSV_QUOTE_IN_QUOTED):
        if c == 0x22 and st != _CSV_FIELD:
            return _CSV_QUOTED
        return _CSV_START if c == delim else _CSV_CRNL if c == 0x0D else _CSV_FIELD
    if st == _CSV_QUOTED:
        return _CSV_QUOTE_IN_QUOTED if c == 0x22 else _CSV_QUOTED
    return _CSV_CRNL if c == 0x0D else _CSV_ERROR  # after a carriage return


def csv_open_line_py(b: bytes, delim: bytes, start: int = 0) -> int:
    """The start offset of the first line of ``b[start:]`` (``start`` at a line's start) that ends
    with its newline inside a quoted field, as Python's csv module (excel dialect, ``delim``) reads
    it, each line starting a record; -1 when there is none.  After a carriage return, any byte but a
    newline or carriage return is an error: the csv module drops the rest of the line."""
    d = delim[0]
    at = start
    for raw in b[start:].split(b"\n")[:-1]:  # (the lines ending with a newline)
        if b'"' in raw:
            st = _CSV_START
            for c in raw:
                st = _csv_step(st, c, d)
                if st == _CSV_ERROR:
                    break
            if st == _CSV_QUOTED:
                return at
        at += len(raw) + 1
    return -1


def csv_record_end_py(b: bytes, delim: bytes, start: int, max_line: int, limit: int) -> int:
    """The offset after the last line of the record starting at ``start`` (a line's start, where
    a record starts) as Python's csv module reads it: -1 when it does not end before the last
    newline of ``b``; -2 when that is not known without reading it as the reader does (a line of
    it longer than ``max_line`` bytes, which the reader skips, or a cell of more than ``limit``
    bytes, which may pass the csv module's field limit, whose error would end the record)."""
    d = delim[0]
    st, cell, over = _CSV_START, 0, False
    p = start
    while True:
        e = b.find(b"\n", p)
        if e < 0:
            return -1
        if e - p > max_line:
            return -2
        for c in b[p:e]:
            st = _csv_step(st, c, d)
            if st == _CSV_ERROR:
                break
            cell = 0 if st == _CSV_START else cell + 1
            over = over or cell > limit
        if st != _CSV_QUOTED:
            return e + 1
        cell += 1
        if over or cell > limit:
            return -2
        p = e + 1


def _csv_cells(line: bytes, delim: int) -> tuple[list[bytes], list[bool]] | None:
    """The cells of a one-line record (a doubled quote in a quoted cell made one) and whether
    each held one, or None when a quoted cell has no closing quote or a byte after it but the
    delimiter."""
    cells: list[bytes] = []
    escaped: list[bool] = []
    p, n = 0, len(line)
    while True:
        if p < n and line[p] == 0x22:
            q = p + 1
            while True:
                q = line.find(b'"', q)
                if q < 0:
                    return None
                if line[q + 1:q + 2] == b'"':
                    q += 2
                    continue
                break
            if q + 1 < n and line[q + 1] != delim:
                return None
            raw = line[p + 1:q]
            cells.append(raw.replace(b'""', b'"'))
            escaped.append(b'""' in raw)
            p = q + 1
        else:
            e = line.find(bytes((delim,)), p)
            e = n if e < 0 else e
            cells.append(line[p:e])
            escaped.append(False)
            p = e
        if p >= n:
            return cells, escaped
        p += 1
        if p == n:
            cells.append(b"")
            escaped.append(False)
            return cells, escaped


_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def _utf8_text(line: bytes) -> bool:
    """UTF-8 as Python decodes it, with no control byte but tabs."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not _CONTROL.search(line)


# a cell that may upper-case to NOASSERTION (its letters, or characters whose upper case is made of them)
_MAY_BE_NONE = re.compile("[noasertiNOASERTI\u00df\u0131\u017f\ufb05\ufb06]*")


def csv_rows_py(block: bytes, skip: list[int] | None, delim: bytes, width: int, name: int, bundle: int,
                platform: int, asset: int, mobile_export: bool) -> tuple[int, set[bytes], list[int]]:
    """For the lines of ``block`` but those starting at the offsets of ``skip``, each a record of
    its own (trailing carriage returns dropped): (the rows counted, the set of their ``asset``
    cells, the start offsets of the lines left to the reader).  Cells are cleaned as the reader
    cleans them (str.strip; NOASSERTION and NONE empty); -1 for a column the export has not.  A
    line whose cells are all blank is neither counted nor left.  A line is counted when it is UTF-8
    text with no control byte but tabs, each quoted cell closed with nothing after its quote but
    the delimiter, ``width`` cells, ASCII asset and platform cells without a doubled quote, name and bundle cells that are ASCII or cannot
    upper-case to NOASSERTION, a software name (or a bundle id in a mobile
    export) and, unless ``mobile_export``, no bundle id and no mobile platform (so every row
    counted is of one evidence class)."""
    from banscan.sources.software_csv import MOBILE_PLATFORMS

    d = delim[0]
    n = 0
    values: set[bytes] = set()
    more: list[int] = []
    for at, line in _lines_but(block, skip):
        got = _csv_cells(line, d) if _utf8_text(line) else None
        if got is None:
            more.append(at)
            continue
        cells, escaped = got
        stripped = [c.decode("utf-8").strip() for c in cells]
        if not any(stripped):
            continue

        def cell(i: int, stripped: list[str] = stripped) -> str:
            v = stripped[i] if 0 <= i < len(stripped) else ""
            return "" if v.upper() in ("NOASSERTION", "NONE") else v

        mobile = bool(cell(bundle)) or cell(platform).lower().startswith(MOBILE_PLATFORMS)
        if (len(cells) != width or not (cell(platform).isascii() and cell(asset).isascii())
                or any(0 <= i < len(escaped) and escaped[i] for i in (platform, asset))
                or any(not c.isascii() and _MAY_BE_NONE.fullmatch(c) for c in (cell(name), cell(bundle)))
                or (mobile and not mobile_export) or not (cell(name) or cell(bundle))):
            more.append(at)
            continue
        n += 1
        values.add(cell(asset).encode("ascii"))
    return n, values, more


def _native() -> Any:
    if os.environ.get("BANSCAN_PURE_PYTHON"):
        return None
    try:
        from banscan.fast import _lines
    except ImportError:
        return None
    # a module built from another version of the source (a stale build in place): not used
    if not all(hasattr(_lines, f) for f in ("newlines", "long_lines", "osquery_events", "span_memo", "tsv_column",
                                          "dns_clients", "zeek_json", "occurrences", "csv_open_line", "csv_rows",
                                          "csv_record_end")):
        return None
    return _lines


_C = _native()

newlines: Callable[..., int] = _C.newlines if _C else newlines_py
long_lines: Callable[[bytes, int], list[int]] = _C.long_lines if _C else long_lines_py


def _osquery_events_native(block: bytes, skip: list[int] | None = None) -> dict[bytes, tuple[int, set[str]]] | None:
    """The C osquery_events, with this process's memo of the spans seen in earlier blocks (made
    on first use; a forked worker goes on with its own copy)."""
    global _SPAN_MEMO
    if _SPAN_MEMO is None:
        _SPAN_MEMO = _C.span_memo()
    return _C.osquery_events(block, skip, _SPAN_MEMO)  # type: ignore[no-any-return]


_SPAN_MEMO: Any = None
osquery_events: Callable[..., dict[bytes, tuple[int, set[str]]] | None] = (
    _osquery_events_native if _C else osquery_events_py)
tsv_column: Callable[..., tuple[int, set[bytes]] | None] = _C.tsv_column if _C else tsv_column_py
dns_clients: Callable[..., tuple[int, set[bytes], list[int]] | None] = _C.dns_clients if _C else dns_clients_py
zeek_json: Callable[..., tuple[int, set[bytes], list[int]]] = _C.zeek_json if _C else zeek_json_py
occurrences: Callable[[bytes, bytes], int] = _C.occurrences if _C else bytes.count  # (a literal of two bytes or more)
csv_open_line: Callable[..., int] = _C.csv_open_line if _C else csv_open_line_py
csv_rows: Callable[..., tuple[int, set[bytes], list[int]]] = _C.csv_rows if _C else csv_rows_py
csv_record_end: Callable[..., int] = _C.csv_record_end if _C else csv_record_end_py


def zeek_json_line(line: bytes, col: bytes | None) -> bytes | None:
    """:func:`zeek_json_line_py` of one line (without its newline and trailing carriage returns)."""
    if _C is None:
        return zeek_json_line_py(line, col)
    n, values, _more = _C.zeek_json(line, None, col)
    return next(iter(values)) if n else None


NATIVE = _C is not None

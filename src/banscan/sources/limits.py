"""Bounds on what a reader may spend on one input, and the guards that enforce them.

Inventory files are hostile input: a reader must never crash the process, never hold more
than a bounded amount per record, and never spend more than linear time.  Every bound here
has a name; the error that reports it names that limit and how to change it.

==========================  ==================================  ===============================
limit                       environment variable                meaning
==========================  ==================================  ===============================
``max_depth``               ``BANSCAN_LIMIT_MAX_DEPTH``         nesting of JSON arrays/objects
                                                                and XML elements
``max_number_digits``       ``BANSCAN_LIMIT_MAX_NUMBER_DIGITS`` digits of one JSON number (at
                                                                most 4300, Python's own bound)
``max_line_bytes``          ``BANSCAN_LIMIT_MAX_LINE_BYTES``    one line of a line-oriented input
``max_field_bytes``         ``BANSCAN_LIMIT_MAX_FIELD_BYTES``   one JSON string / one value
``max_field_chars``         ``BANSCAN_LIMIT_MAX_FIELD_CHARS``   one observation field (longer
                                                                values are cut and noted)
``max_document_bytes``      ``BANSCAN_LIMIT_MAX_DOCUMENT_BYTES`` inputs that must be read whole
                                                                (pretty-printed osquery results)
``max_sniff_bytes``         ``BANSCAN_LIMIT_MAX_SNIFF_BYTES``   bytes read to recognise a format
==========================  ==================================  ===============================

The same names are accepted in a ``[limits]`` table of ``banscan.toml``; the environment wins
over the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, BinaryIO

PY_INT_DIGITS = 4300  # CPython's int <-> str conversion bound (sys.get_int_max_str_digits)


class LimitExceeded(ValueError):
    """An input went past one of the :class:`Limits`; the message names the limit."""

    def __init__(self, limit: str, value: int, what: str) -> None:
        self.limit = limit
        self.value = value
        self.what = what
        super().__init__(
            f"{what}: exceeds the {limit} limit ({value}; raise it with "
            f"BANSCAN_LIMIT_{limit.upper()} or [limits] {limit} in banscan.toml)"
        )


@dataclass(frozen=True)
class Limits:
    max_depth: int = 256
    max_number_digits: int = 1000
    max_line_bytes: int = 4 << 20
    max_field_bytes: int = 16 << 20
    max_field_chars: int = 65536
    max_document_bytes: int = 256 << 20
    max_sniff_bytes: int = 65536

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"limit {f.name} must be a positive integer, not {v!r}")
        if self.max_number_digits > PY_INT_DIGITS:
            raise ValueError(f"limit max_number_digits must be at most {PY_INT_DIGITS}")

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def load(cls, table: Mapping[str, Any] | None = None,
             environ: Mapping[str, str] | None = None) -> Limits:
        """Defaults, overridden by a ``[limits]`` table, overridden by the environment.

        Raises ValueError naming the bad key or value.
        """
        values: dict[str, int] = {}
        for key, v in (table or {}).items():
            if key not in cls.names():
                raise ValueError(f"[limits]: unknown limit '{key}' (known: {', '.join(cls.names())})")
            if not isinstance(v, int) or isinstance(v, bool):
                raise ValueError(f"[limits] {key}: {v!r} is not an integer")
            values[key] = v
        env = os.environ if environ is None else environ
        for key in cls.names():
            raw = env.get(f"BANSCAN_LIMIT_{key.upper()}")
            if raw is None or not raw.strip():
                continue
            try:
                values[key] = int(raw.strip())
            except ValueError:
                raise ValueError(f"BANSCAN_LIMIT_{key.upper()}: '{raw}' is not an integer") from None
        return replace(cls(), **values)


# ---------------------------------------------------------------------------------------------
# JSON guard: structure checked in C-speed passes before the parser sees the bytes

_ESCAPE_PAIR = re.compile(rb"\\.", re.S)  # a backslash and the byte it escapes
_BRACKETS = re.compile(rb"[\[\]{}]")
_NOT_BRACKETS = bytes(i for i in range(256) if i not in b"[]{}")
_TO_SQUARE = bytes.maketrans(b"{}", b"[]")
_DIGIT_MARKS = bytes(0x31 if 0x30 <= i <= 0x39 else 0x30 for i in range(256))  # digit -> "1", else "0"


class JsonGuard:
    """A read-through wrapper that raises :class:`LimitExceeded` before a JSON parser is handed
    nesting deeper than ``max_depth``, a number longer than ``max_number_digits`` digits or a
    string longer than ``max_field_bytes``.  The bytes passed on are the bytes read.

    ijson's C backend crashes the interpreter on an integer of more than 4300 digits, and every
    event-based parser's cost grows with the square of the nesting depth (each event carries
    its full prefix), so both are refused here, at the first byte past the limit.
    """

    def __init__(self, raw: Any, limits: Limits) -> None:
        self.raw = raw
        self.limits = limits
        self.pos = 0  # bytes handed on
        self.depth = 0
        self.in_string = False
        self.escape = False  # the previous chunk ended inside a string on a backslash
        self.string_len = 0
        self.digits = 0  # digits at the end of the previous chunk (outside strings)
        self.pending: LimitExceeded | None = None

    def _state(self) -> tuple[int, bool, bool, int, int]:
        return self.depth, self.in_string, self.escape, self.string_len, self.digits

    def _restore(self, st: tuple[int, bool, bool, int, int]) -> None:
        self.depth, self.in_string, self.escape, self.string_len, self.digits = st

    def read(self, n: int = -1) -> bytes:
        if self.pending is not None:
            raise self.pending
        b = self.raw.read(n)
        if not b:
            return b
        st = self._state()
        try:
            self._check(b)
        except LimitExceeded as exc:
            # hand on the bytes before the offending one, so that the records before it are
            # read; the next read raises.  (Each check is monotonic in the prefix: bisect.)
            lo, hi = 0, len(b)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                self._restore(st)
                try:
                    self._check(b[:mid])
                    lo = mid
                except LimitExceeded:
                    hi = mid
            self._restore(st)
            if lo:
                self._check(b[:lo])
            first = exc
            saved = self._state()
            try:
                self._check(b[lo:hi])  # the offending byte: the limit it passes is the one named
            except LimitExceeded as e:
                first = e
            self._restore(saved)
            # name the exact place: the offending byte's offset in the input
            what = re.sub(r"near byte offset \d+", f"at byte offset {self.pos + lo}", first.what)
            first = LimitExceeded(first.limit, first.value, what)
            if lo == 0:
                raise first from None
            self.pending = first
            self.pos += lo
            return b[:lo]
        self.pos += len(b)
        return b

    def _check(self, b: bytes) -> None:
        """Advance the state over ``b``; raise LimitExceeded at the first limit passed.

        C-speed passes only: escape pairs removed, the chunk split at quotes (pieces alternate
        between outside and inside strings), digits and brackets counted outside strings.
        """
        lim = self.limits
        if self.escape:  # the previous chunk ended on a backslash inside a string
            b = b[1:]
            self.escape = False
        if b"\\" in b:
            b = _ESCAPE_PAIR.sub(b"", b)
            if b.endswith(b"\\"):  # an escape cut by the chunk's end
                self.escape = True
                b = b[:-1]
        pieces = b.split(b'"')
        starts_inside = self.in_string
        inside = pieces[0::2] if starts_inside else pieces[1::2]
        outside = pieces[1::2] if starts_inside else pieces[0::2]
        ends_inside = starts_inside != (len(pieces) % 2 == 0)
        # strings: only the first piece can continue one from before, only the last goes on
        if inside:
            longest = len(inside[0]) + (self.string_len if starts_inside else 0)
            if len(inside) > 1:
                # a string wholly inside this chunk is shorter than the chunk
                longest = max(longest, len(inside[-1]) if len(b) <= lim.max_field_bytes
                              else max(map(len, inside)))
            if longest > lim.max_field_bytes:
                raise LimitExceeded("max_field_bytes", lim.max_field_bytes,
                                    f"JSON string near byte offset {self.pos}")
        if ends_inside:
            last = inside[-1] if inside else b""
            self.string_len = (self.string_len + len(last)) if (starts_inside and len(pieces) == 1) else len(last)
        else:
            self.string_len = 0
        self.in_string = ends_inside
        out = b"_".join(outside)
        if not out:
            return
        # numbers: the longest digit run, with the run carried over from the last chunk
        marks = out.translate(_DIGIT_MARKS)
        run = lim.max_number_digits + 1
        lead = len(marks) - len(marks.lstrip(b"1"))
        if (self.digits and lead and not starts_inside and self.digits + lead >= run) or b"1" * run in marks:
            raise LimitExceeded("max_number_digits", lim.max_number_digits,
                                f"JSON number near byte offset {self.pos}")
        trail = len(marks) - len(marks.rstrip(b"1"))
        if ends_inside:
            self.digits = 0
        elif trail == len(marks) and not starts_inside and len(outside) == 1:
            self.digits += trail
        else:
            self.digits = trail
        # nesting: the brackets alone, as '[' and ']'; balanced pairs cancelled (one pass per
        # level of nesting inside the chunk) leave ']' * closes + '[' * opens
        br = out.translate(_TO_SQUARE, _NOT_BRACKETS)
        if br:
            rounds = 0
            while b"[]" in br and rounds < 64:
                br = br.replace(b"[]", b"")
                rounds += 1
            if b"[]" not in br:
                closes = br.count(b"]")
                opens = len(br) - closes
                # no point of the chunk is deeper than depth + rounds + opens
                if self.depth + rounds + opens <= lim.max_depth:
                    self.depth = max(0, self.depth - closes) + opens
                    return
        else:
            return
        for m in _BRACKETS.finditer(out):
            if m.group() in (b"[", b"{"):
                self.depth += 1
                if self.depth > lim.max_depth:
                    raise LimitExceeded("max_depth", lim.max_depth,
                                        f"JSON nesting near byte offset {self.pos}")
            elif self.depth:
                self.depth -= 1


def guard_json(stream: BinaryIO | Any, limits: Limits) -> JsonGuard:
    return JsonGuard(stream, limits)


def json_text_ok(text: str | bytes, limits: Limits) -> None:
    """Check one complete JSON text (e.g. a line) against the limits; raises LimitExceeded."""
    g = JsonGuard(None, limits)
    g._check(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)


# ---------------------------------------------------------------------------------------------
# bounded lines


def bounded_lines(stream: Any, limits: Limits) -> Any:
    """``(line number, bytes)`` for each line of ``stream``; a line longer than
    ``max_line_bytes`` is read past (never held) and given as ``(line number, None)``."""
    cap = limits.max_line_bytes
    readline = stream.readline
    lineno = 0
    while True:
        raw = readline(cap + 1)
        if not raw:
            return
        lineno += 1
        if len(raw) > cap and not raw.endswith(b"\n"):
            skipped = len(raw)
            while True:
                more = readline(1 << 16)
                skipped += len(more)
                if not more or more.endswith(b"\n"):
                    break
                if skipped > limits.max_document_bytes:
                    raise LimitExceeded("max_document_bytes", limits.max_document_bytes,
                                        f"line {lineno} (no line end found)")
            yield lineno, None
            continue
        yield lineno, raw


def long_line_message(lineno: int, limits: Limits) -> str:
    return (f"line {lineno} is longer than the max_line_bytes limit ({limits.max_line_bytes}); "
            f"skipped (raise it with BANSCAN_LIMIT_MAX_LINE_BYTES or [limits] max_line_bytes)")

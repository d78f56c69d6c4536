"""One compiled multi-literal engine over large blocks of raw bytes.

An *anchor* is ``(literal, left, right)``: a lower-case ASCII literal, and whether the byte before
(``left``) / after (``right``) it must be a token boundary.  A boundary is a byte that is not an
ASCII letter or digit, the start or end of a line, or (on the left) a JSON escape ``\\n \\t \\r
\\b \\f`` whose letter would otherwise touch the literal, or a percent-encoded byte ``%XX``
(purls and URLs are decoded before they are compared).

Two implementations sit behind :func:`compile_engine`: Hyperscan (the ``hyperscan`` package) when
it is installed and works, otherwise pyahocorasick over the lower-cased block with the boundaries
checked in Python.  Both return the same lines for the same block (tests run both).

Lines that hold any non-ASCII byte or a ``\\u``/``\\x`` escape (an odd run of backslashes before
the letter: ``\\\\u`` is an escaped backslash and a letter) are always reported: their text
may normalise (NFKC, unescaping) to something no ASCII literal shows, so they take the full path.
So are lines holding one of :data:`ALWAYS` (osquery's batch and snapshot forms, one line with
many rows, and rows of software that was removed: their reader reads and counts them, the block
scanner's C-level count does not).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

Anchor = tuple[str, bool, bool]

_ALNUM = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_ESC_LETTERS = frozenset(b"nrtbfNRTBF")  # (upper case too: the engines compare case-insensitively)
_HEX = frozenset(b"0123456789abcdefABCDEF")
# an escape \u or \x: a backslash run of odd length before the letter (in an even run, as in the
# JSON text "C:\\Users", every backslash is an escaped backslash and the letter is a letter).  A
# match of _RUN starts at the first backslash of its run (found left to right, runs are maximal).
_SPECIAL = re.compile(rb"[\x80-\xff]|\\+[uUxX]")
_RUN = re.compile(r"\\+[uUxX]")
_RUN_BYTES = re.compile(rb"\\+[uUxX]")


def _special_starts(block: bytes) -> Iterator[int]:
    """Offsets of the non-ASCII bytes and of the escapes in ``block``."""
    for m in _SPECIAL.finditer(block):
        if m.end() - m.start() == 1 or (m.end() - m.start()) % 2 == 0:  # a byte, or an odd run + letter
            yield m.start()


_ASCII = bytes(range(128))


def fold_utf8(line: bytes) -> bytes | None:
    """``unicodedata.normalize("NFKC", line.decode()).casefold()`` as UTF-8, or None when
    ``line`` is not UTF-8; NFKC and case folding applied only from the character before the first
    non-ASCII byte to the last one, the ASCII around lower-cased.

    NFKC may be applied piecewise at any split before an ASCII character: an ASCII character is
    its own normal form, has combining class 0 and is never the second of a composed pair, so
    nothing after it changes what comes before it (the character before a non-ASCII one is kept
    with it: a combining mark composes with it).  Case folding is character by character (no
    context, unlike ``lower``'s final sigma), and gives no ASCII capital."""
    import unicodedata

    i = len(line) - len(line.lstrip(_ASCII))
    if i == len(line):
        return line.lower()
    i = max(i - 1, 0)
    j = len(line.rstrip(_ASCII))
    try:
        mid = line[i:j].decode("utf-8")  # (every byte that is not ASCII lies in it)
    except UnicodeDecodeError:
        return None
    return b"".join((line[:i].lower(), unicodedata.normalize("NFKC", mid).casefold().encode("utf-8"),
                     line[j:].lower()))


def _has_escape(text: str | bytes) -> bool:
    """A ``\\u`` or ``\\x`` escape in a line's text or bytes (see _RUN)."""
    runs = _RUN_BYTES.finditer(text) if isinstance(text, bytes) else _RUN.finditer(text)
    return any((m.end() - m.start()) % 2 == 0 for m in runs)


ALWAYS = ['"snapshot"', '"diffresults"', '"action":"removed"']


def normalise_anchors(anchors: Iterable[Anchor | str]) -> list[Anchor]:
    """Anchors as (literal, left, right), ASCII only, bounded only on alphanumeric ends."""
    out: set[Anchor] = set()
    for a in anchors:
        lit, left, right = (a, False, False) if isinstance(a, str) else a
        lit = lit.lower()
        if not lit or not lit.isascii():
            continue  # a non-ASCII literal never appears in an ASCII line; those lines go the full path
        left = left and lit[0].isalnum()
        right = right and lit[-1].isalnum()
        out.add((lit, left, right))
    out.update((a, False, False) for a in ALWAYS)
    # an unbounded literal makes bounded copies of itself redundant
    free = {lit for lit, lft, rgt in out if not lft and not rgt}
    return sorted(a for a in out if a[0] not in free or (not a[1] and not a[2]))


def _escaped_left(low: bytes, start: int) -> bool:
    """True when the alphanumeric bytes just before ``start`` are a JSON escape's letter or a
    percent-encoded byte (so ``start`` is a token boundary of the decoded text)."""
    c = low[start - 1]
    if c in _ESC_LETTERS and start > 1 and low[start - 2] == 0x5C:
        return True
    return start > 2 and low[start - 3] == 0x25 and c in _HEX and low[start - 2] in _HEX


def _bounded(buf: bytes, start: int, end: int, left: bool, right: bool) -> bool:
    """Whether ``buf[start:end]`` has the boundaries asked for."""
    if left and start > 0 and buf[start - 1] in _ALNUM and not _escaped_left(buf, start):
        return False
    return not (right and end < len(buf) and buf[end] in _ALNUM)


def _line_starts(block: bytes, offsets: Iterable[int]) -> list[int]:
    starts = {block.rfind(b"\n", 0, o) + 1 for o in offsets}
    return sorted(starts)


class Engine(Protocol):
    name: str

    def candidate_lines(self, block: bytes) -> list[int]:
        """Sorted start offsets of the lines of ``block`` that need the full path."""
        ...

    def search(self, line: bytes) -> bool:
        """True when ``line`` (one line) needs the full path."""
        ...


# Literals up to this long carry their boundaries into the Hyperscan database (short ones occur
# inside many words: "ib", "hi", "zte"); longer ones are matched as plain literals and their rare
# hits checked here (boundary expressions for all of them would take seconds to compile).
_SHORT = 6


class HyperscanEngine:
    name = "hyperscan"

    def __init__(self, anchors: Sequence[Anchor], special: bool = True) -> None:
        """``special``: also report lines with a non-ASCII byte or an escape (off for text that
        is already folded: then literals may be non-ASCII, as UTF-8)."""
        import hyperscan

        self._hs = hyperscan
        exprs: list[bytes] = []
        # per expression: None (a match is a hit) or (left, right, length) to check on a match
        self._check: list[tuple[bool, bool, int] | None] = []
        if special:
            # the first non-ASCII byte of a line (one match a line, not one a byte), and escapes
            exprs += [rb"^[^\n\x80-\xff]*[\x80-\xff]", rb"(?:^|[^\\])(?:\\\\)*\\[uUxX]"]
            self._check += [None, None]
        for lit, left, right in anchors:
            raw = lit.encode("utf-8")
            pat = re.escape(raw)
            if len(lit) <= _SHORT or not (left or right):
                if left:
                    pat = rb"(?:^|[^a-z0-9]|\\[nrtbf]|%[0-9a-f]{2})" + pat
                if right:
                    pat = pat + rb"(?:[^a-z0-9]|$)"
                self._check.append(None)
            else:
                self._check.append((left, right, len(raw)))
            exprs.append(pat)
        flags = hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_MULTILINE

        def build() -> bytes:
            db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs),
                       flags=[flags] * len(exprs))
            return bytes(hyperscan.dumpb(db))

        from banscan.fast.regcache import cached, key_of

        version = str(getattr(hyperscan, "__version__", "")).encode()
        # the database depends only on the expressions and the library: not on banscan's code
        blob = cached("hyperscan", key_of([version, *exprs], [], code=False), build)
        self._db = hyperscan.loadb(blob, hyperscan.HS_MODE_BLOCK)
        self._scratch = hyperscan.Scratch(self._db)

    def candidate_lines(self, block: bytes) -> list[int]:
        ends: list[int] = []
        add = ends.append
        check = self._check

        def on(i: int, _frm: int, to: int, _flags: int, _ctx: object) -> None:
            c = check[i]
            if c is None or _bounded(block, to - c[2], to, c[0], c[1]):
                add(to - 1)

        self._db.scan(block, match_event_handler=on, scratch=self._scratch)
        return _line_starts(block, ends)

    def search(self, line: bytes) -> bool:
        found: list[int] = []
        check = self._check

        def on(i: int, _frm: int, to: int, _flags: int, _ctx: object) -> bool:
            c = check[i]
            if c is not None and not _bounded(line, to - c[2], to, c[0], c[1]):
                return False  # go on
            found.append(1)
            return True  # stop scanning

        try:
            self._db.scan(line, match_event_handler=on, scratch=self._scratch)
        except self._hs.ScanTerminated:
            pass
        except Exception as e:  # hyperscan raises its error type with the code on termination
            if not found:
                raise e
        return bool(found)


class AhoCorasickEngine:
    name = "aho-corasick"

    def __init__(self, anchors: Sequence[Anchor]) -> None:
        import ahocorasick

        self._bounds: dict[str, tuple[bool, bool, int]] = {}
        self._ac = ahocorasick.Automaton()
        for lit, left, right in anchors:
            old = self._bounds.get(lit)
            if old is not None:  # the same literal, bounded in two ways: the laxer wins
                left, right = left and old[0], right and old[1]
            self._bounds[lit] = (left, right, len(lit))
            self._ac.add_word(lit, lit)
        self._empty = not self._bounds
        if not self._empty:
            self._ac.make_automaton()

    def _hits(self, low: bytes, text: str) -> list[int]:
        out: list[int] = []
        n = len(low)
        bounds = self._bounds
        for end, lit in self._ac.iter(text):
            left, right, size = bounds[lit]
            start = end - size + 1
            if left and start > 0:
                c = low[start - 1]
                if c in _ALNUM and not _escaped_left(low, start):
                    continue
            if right and end + 1 < n and low[end + 1] in _ALNUM:
                continue
            out.append(end)
        return out

    def candidate_lines(self, block: bytes) -> list[int]:
        offsets: list[int] = []
        if not block.isascii() or b"\\" in block:
            offsets.extend(_special_starts(block))
        if not self._empty:
            low = block.lower()
            offsets.extend(self._hits(low, low.decode("latin-1")))
        return _line_starts(block, offsets)

    def search(self, line: bytes) -> bool:
        if not line.isascii() or (b"\\" in line and next(_special_starts(line), None) is not None):
            return True
        if self._empty:
            return False
        low = line.lower()
        return bool(self._hits(low, low.decode("latin-1")))


_HEXS = "0123456789abcdefABCDEF"


class UnicodeFilter:
    """The same anchors over a line with non-ASCII characters, after the folding the matcher
    applies (NFKC, case folding): False only when no anchor can be in the folded text.  Lines
    with ``\\u``/``\\x`` escapes, or bytes that are not UTF-8, are always passed."""

    def __init__(self, anchors: Iterable[Anchor]) -> None:
        import ahocorasick

        self._bounds: dict[str, tuple[bool, bool, int]] = {}
        self._ac = ahocorasick.Automaton()
        for lit, left, right in anchors:
            lit = lit.casefold()
            if not lit:
                continue
            left = left and lit[0].isascii() and lit[0].isalnum()
            right = right and lit[-1].isascii() and lit[-1].isalnum()
            old = self._bounds.get(lit)
            if old is not None:
                left, right = left and old[0], right and old[1]
            self._bounds[lit] = (left, right, len(lit))
            self._ac.add_word(lit, lit)
        self._empty = not self._bounds
        if not self._empty:
            self._ac.make_automaton()
        self._hs: HyperscanEngine | None | bool = False  # built on first use; None: not available

    def _folded_engine(self) -> HyperscanEngine | None:
        """The same anchors and boundaries in Hyperscan over folded UTF-8 text, or None."""
        if self._hs is False:
            try:
                self._hs = HyperscanEngine([(lit, lft, rgt) for lit, (lft, rgt, _n) in sorted(self._bounds.items())],
                                           special=False)
            except Exception:  # noqa: BLE001 - not installed, or no SSSE3 on this CPU
                self._hs = None
        return self._hs  # type: ignore[return-value]

    def needing(self, lines: Sequence[bytes]) -> list[bool]:
        """:meth:`needs_bytes` of each line (a trailing newline left out), the lines folded
        (:func:`fold_utf8`) and scanned together: a line passed for an escape, a byte that is not
        UTF-8 or a U+FFFD is left out of the scan (an empty line in its place)."""
        eng = None if self._empty else self._folded_engine()
        if eng is None or not lines:
            return [self.needs_bytes(x) for x in lines]
        import bisect

        out = [False] * len(lines)
        parts: list[bytes] = []
        for k, x in enumerate(lines):
            if x.endswith(b"\n"):
                x = x[:-1]
            folded = fold_utf8(x)
            if (folded is None or b"\xef\xbf\xbd" in x  # not UTF-8, or a U+FFFD: passed
                    or (b"\\" in x and _has_escape(x))):  # a \u or \x escape
                out[k] = True
                folded = b""
            parts.append(folded)
        buf = b"\n".join(parts)
        if buf.count(b"\n") != len(lines) - 1:  # (never: a newline composes with nothing)
            return [self.needs_bytes(x) for x in lines]
        hits = eng.candidate_lines(buf)
        if hits:
            bstarts = [0] + [m.end() for m in re.finditer(b"\n", buf)]
            for s in hits:
                out[bisect.bisect_right(bstarts, s) - 1] = True
        return out

    def needs(self, text: str) -> bool:
        if ("\\" in text and _has_escape(text)) or "\ufffd" in text:  # escapes, or bytes that were not UTF-8
            return True
        import unicodedata

        t = unicodedata.normalize("NFKC", text).casefold()
        if self._empty:
            return False
        n = len(t)
        for end, lit in self._ac.iter(t):
            left, right, size = self._bounds[lit]
            start = end - size + 1
            if left and start > 0:
                c = t[start - 1]
                if c.isascii() and c.isalnum() and not (
                        (c in "nrtbf" and start > 1 and t[start - 2] == "\\")
                        or (start > 2 and t[start - 3] == "%" and c in _HEXS and t[start - 2] in _HEXS)):
                    continue
            if right and end + 1 < n:
                c = t[end + 1]
                if c.isascii() and c.isalnum():
                    continue
            return True
        return False

    def needs_bytes(self, line: bytes) -> bool:
        try:
            return self.needs(line.decode("utf-8"))
        except UnicodeDecodeError:
            return True


def hyperscan_available() -> bool:
    try:
        HyperscanEngine([("probe", True, True)])
    except Exception:  # noqa: BLE001 - not installed, or no SSSE3 on this CPU
        return False
    return True


def compile_engine(anchors: Iterable[Anchor | str], prefer: str | None = None) -> Engine:
    """The best engine that works here (``prefer``: "hyperscan" or "aho-corasick" to force one)."""
    norm = normalise_anchors(anchors)
    if prefer != "aho-corasick":
        try:
            return HyperscanEngine(norm)
        except Exception:  # noqa: BLE001 - fall back to the portable engine
            if prefer == "hyperscan":
                raise
    return AhoCorasickEngine(norm)

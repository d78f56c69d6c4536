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
from itertools import repeat
from operator import itemgetter
from typing import Protocol, cast

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


# an escape as _has_escape finds it, found in one pass over many lines: a backslash with none
# before it (the first of its run), an even number more, and the letter (an odd run)
_ESCAPE_BYTES = re.compile(rb"\\(?<!\\\\)(?:\\\\)*[uUxX]")
# translation tables: every ASCII byte to a space (split() then gives the runs of the others);
# ASCII lower-cased and every other byte to 0xff (with the continuation bytes 0x80-0xbf dropped)
_RUNS_ONLY = b" " * 128 + bytes(range(128, 256))
_LOWER_ASCII_ONLY = bytes(range(128)).lower() + b"\xff" * 128
_CONTINUATION = bytes(range(0x80, 0xC0))
_PROBE = "".join(chr(i) + "\uffff" for i in range(128))  # each ASCII character before a placeholder
_ALONE: dict[str, bool] = {}  # character -> _starts_alone
_FOLDS: dict[bytes, bytes | None] = {}  # run of non-ASCII bytes -> _fold_alone
_FOLDS_MAX = 1 << 16  # distinct runs remembered (then forgotten all at once and learnt anew)


def _starts_alone(c: str) -> bool:
    """True when character ``c`` composes (NFKC) with no ASCII character before it: the first
    character of its compatibility decomposition is a starter (combining class 0: nothing is
    reordered across it) that forms no composite with any ASCII character before it (checked
    directly, all ASCII characters at once: ``x d x' d …`` is in NFC)."""
    got = _ALONE.get(c)
    if got is None:
        import unicodedata

        d = unicodedata.normalize("NFKD", c)[0]
        probe = _PROBE.replace("\uffff", d)
        got = unicodedata.combining(d) == 0 and unicodedata.is_normalized("NFC", probe)
        if len(_ALONE) < _FOLDS_MAX:
            _ALONE[c] = got
    return got


def _fold_alone(run: bytes) -> bytes | None:
    """The fold (NFKC, case folding, as UTF-8) of a maximal run of non-ASCII bytes ``run``, the
    same wherever it stands in a line; None when it is not UTF-8, holds a U+FFFD (its line is
    passed) or may compose with the ASCII character before it.

    Why a run folds alone: a line is ASCII pieces and runs (UTF-8 puts every byte of a
    character beyond ASCII at 0x80 or above, so runs hold whole characters).  NFKC decomposes,
    reorders non-starters (characters of combining class above 0) between starters, and
    composes each character with the last starter before it when nothing blocks them.  An ASCII
    character is its own normal form, a starter, and the second character of no composite, so
    NFKC may be applied piecewise before it (see :func:`fold_utf8`).  Before a run, the ASCII
    character ``x`` is a starter too; when the decomposition of the run's first character starts
    with a starter that does not compose with ``x`` (:func:`_starts_alone`), nothing is reordered
    across the split, that starter becomes the last starter as it is at the start of the run
    alone, and nothing after it can reach back past it: NFKC of the line is NFKC of its pieces,
    joined.  Case folding goes character by character, without context, and folds ASCII as
    ``bytes.lower`` does: the fold of the line is the folds of its pieces, joined."""
    try:
        text = run.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\ufffd" in text or not _starts_alone(text[0]):
        return None
    import unicodedata

    folded = unicodedata.normalize("NFKC", text).casefold().encode("utf-8")
    return None if b"\n" in folded else folded


def _folds_of(runs: set[bytes]) -> dict[bytes, bytes | None]:
    """A dict holding :func:`_fold_alone` of each of ``runs``: the memo kept across calls, the
    runs it lacks learnt at once (a new memo when it would grow past _FOLDS_MAX; a memo is never
    emptied, so the dict returned holds them all even while another thread scans)."""
    global _FOLDS
    memo = _FOLDS
    missing = runs.difference(memo)
    if missing:
        if len(memo) + len(missing) > _FOLDS_MAX:
            memo = _FOLDS = {}
            missing = runs
        _learn(list(missing), memo)
    return memo


def _learn(runs: list[bytes], memo: dict[bytes, bytes | None]) -> None:
    """Put :func:`_fold_alone` of each run in ``memo``: all of them folded joined with newlines
    (NFKC and case folding once over the lot) when every run is UTF-8 without U+FFFD and starts
    alone (so it folds alone after a newline too), else one by one."""
    import unicodedata

    try:
        text = b"\n".join(runs).decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if text and "\ufffd" not in text and all(map(_starts_alone, set(map(itemgetter(0), text.split("\n"))))):
        folded = unicodedata.normalize("NFKC", text).casefold().encode("utf-8").split(b"\n")
        if len(folded) == len(runs):  # (never otherwise: no character folds to a newline)
            memo.update(zip(runs, folded))
            return
    for r in runs:
        memo[r] = _fold_alone(r)


def fold_joined(buf: bytes) -> bytes | None:
    """``unicodedata.normalize("NFKC", buf.decode()).casefold()`` as UTF-8 (lines joined, say), in
    a handful of C-level passes: the ASCII lower-cased, each distinct maximal run of non-ASCII
    bytes folded once (:func:`_fold_alone`, remembered across calls) and put back in place; None
    when a run does not fold alone (not UTF-8, a U+FFFD, or a first character that may compose
    with the ASCII one before it)."""
    runs = buf.translate(_RUNS_ONLY).split()  # the maximal runs of non-ASCII bytes, in order
    if not runs:
        return buf.lower()
    distinct = set(runs)
    memo = _folds_of(distinct)
    keys = list(distinct)
    folds = list(map(memo.__getitem__, keys))
    if None in folds:
        return None
    if folds == keys:  # (CJK, lower-case letters…: the fold is the lower-cased text)
        return buf.lower()
    # the ASCII between the runs, lower-cased (each UTF-8 character one separator byte: its lead
    # byte kept, its continuation bytes dropped; the ASCII pieces between runs are never empty)
    asc = [x for x in buf.translate(_LOWER_ASCII_ONLY, _CONTINUATION).split(b"\xff") if x]
    if buf[0] >= 0x80:
        asc.insert(0, b"")
    if buf[-1] >= 0x80:
        asc.append(b"")
    if len(asc) != len(runs) + 1:  # (never: a run of continuation bytes only is not UTF-8)
        return None
    pieces = [b""] * (2 * len(runs) + 1)
    pieces[0::2] = asc
    pieces[1::2] = cast("Iterator[bytes]", map(memo.__getitem__, runs))  # (no None: checked above)
    return b"".join(pieces)


def _folds_alone(lines: Sequence[bytes]) -> list[bool]:
    """Whether every run of non-ASCII bytes of each line folds alone (from the memo
    :func:`_folds_of` keeps, as :func:`fold_joined` decides)."""
    runs = [x.translate(_RUNS_ONLY).split() for x in lines]
    memo = _folds_of(set().union(*runs))
    return [all(memo[r] is not None for r in rs) for rs in runs]


def _joined(lines: Sequence[bytes]) -> bytes | None:
    """The lines without their trailing newline, joined with newlines; None when a line holds
    another newline."""
    if all(map(bytes.endswith, lines[:-1], repeat(b"\n"))):
        buf = b"".join(lines)
        if lines[-1].endswith(b"\n"):
            buf = buf[:-1]
    else:
        buf = b"\n".join([x[:-1] if x.endswith(b"\n") else x for x in lines])
    return buf if buf.count(b"\n") == len(lines) - 1 else None


def _line_numbers(buf: bytes, offsets: Iterable[int]) -> Iterator[int]:
    """The line (0-based) of each offset of ``buf``, in order (``offsets`` sorted)."""
    k = prev = 0
    for o in offsets:
        k += buf.count(b"\n", prev, o)
        prev = o
        yield k


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
        """:meth:`needs_bytes` of each line (a trailing newline left out), the lines folded and
        scanned together.

        The lines are joined once and folded in a handful of C-level passes (:func:`fold_joined`:
        the ASCII lower-cased, each distinct run of non-ASCII bytes folded once).  Lines holding
        a run that does not fold alone (a first character that may compose with the ASCII one
        before it, bytes that are not UTF-8, a U+FFFD) go one by one (:meth:`_needing_by_line`);
        lines with a ``\\u``/``\\x`` escape are passed (found in one pass over the joined lines)."""
        eng = None if self._empty else self._folded_engine()
        if eng is None or not lines:
            return [self.needs_bytes(x) for x in lines]
        buf = _joined(lines)
        if buf is None:  # a line holding a newline besides its last byte (never from the block scanner)
            return [self.needs_bytes(x) for x in lines]
        got = self._needing_joined(eng, buf, len(lines))
        if got is not None:
            return got
        # some line holds a run that does not fold alone: those lines one by one
        alone = _folds_alone(lines)
        out = [False] * len(lines)
        for group, by_line in (([k for k, a in enumerate(alone) if a], False),
                               ([k for k, a in enumerate(alone) if not a], True)):
            if not group:
                continue
            sub = [lines[k] for k in group]
            joined = None if by_line else _joined(sub)
            res = None if joined is None else self._needing_joined(eng, joined, len(sub))
            if res is None:
                res = self._needing_by_line(eng, sub)
            for k, v in zip(group, res):
                out[k] = v
        return out

    def _needing_joined(self, eng: HyperscanEngine, buf: bytes, n: int) -> list[bool] | None:
        """:meth:`needing` of the ``n`` lines joined in ``buf`` (newline-separated), or None
        when a line holds a run of non-ASCII bytes that does not fold alone."""
        folded = fold_joined(buf)
        if folded is None or folded.count(b"\n") != n - 1:  # (never the latter: a run's fold holds no newline)
            return None
        out = [False] * n
        # (a line passed for an escape is scanned too: a hit marks only the line it ends in, and
        # the anchors' boundaries look at bytes of that line and its newline only)
        if b"\\" in buf:  # a \u or \x escape: passed
            for k in _line_numbers(buf, [m.start() for m in _ESCAPE_BYTES.finditer(buf)]):
                out[k] = True
        for k in _line_numbers(folded, eng.candidate_lines(folded)):
            out[k] = True
        return out

    def _needing_by_line(self, eng: HyperscanEngine, lines: Sequence[bytes]) -> list[bool]:
        """:meth:`needing`, each line folded by :func:`fold_utf8`: a line passed for an escape,
        a byte that is not UTF-8 or a U+FFFD is left out of the scan (an empty line in its place)."""
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

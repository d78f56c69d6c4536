"""UnicodeFilter.needing folds a block's non-ASCII lines joined (the ASCII lower-cased, each
distinct run of non-ASCII bytes folded once): the same verdicts as each line folded whole by
NFKC and case folding (``needs_bytes``, the reference).

Inputs: every shared sample, lines shaped like the throughput benchmark's osqueryd log, and lines
from a seeded generator mixing the registry's anchors with case changes, fullwidth forms,
combining marks, Hangul jamo, ligatures, the Kelvin sign, ß, İ, ™, U+0338 after "<", CJK, bytes
that are not UTF-8, U+FFFD and escapes.  And the claim each run's fold rests on, checked for
every code point.
"""

from __future__ import annotations

import json
import random
import sys
import unicodedata
from collections.abc import Sequence

import pytest
from sharedsamples import SHARED_SAMPLES

import banscan.fast.engine as E
from banscan.fast.engine import UnicodeFilter, hyperscan_available
from banscan.match import Matcher
from banscan.registry import load

pytestmark = pytest.mark.skipif(not hyperscan_available(), reason="needing scans folded lines with Hyperscan")


@pytest.fixture(scope="module")
def uf() -> UnicodeFilter:
    got = Matcher(load()).unicode_filter
    assert isinstance(got, UnicodeFilter)
    return got


def mismatches(uf: UnicodeFilter, lines: Sequence[bytes]) -> list[tuple[bytes, bool]]:
    """The lines whose verdict differs from the reference's (with the reference's verdict)."""
    got = uf.needing(lines)
    assert len(got) == len(lines)
    return [(x, want) for x, g, want in zip(lines, got, (uf.needs_bytes(x) for x in lines)) if g != want]


def nfkc_fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


# ------------------------------------------------------------------------------ real inputs


def test_every_shared_sample(uf: UnicodeFilter) -> None:
    if not SHARED_SAMPLES.exists():
        pytest.skip("shared samples not available")
    files = sorted(p for p in SHARED_SAMPLES.rglob("*") if p.is_file() and not p.name.startswith("."))
    checked = 0
    for p in files:
        lines = p.read_bytes().splitlines(keepends=True)
        for group in (lines, [x for x in lines if not x.isascii()]):
            if group:
                assert mismatches(uf, group) == [], p
                checked += 1
    assert checked > len(files)  # (some samples hold non-ASCII lines)


BENCH_NAMES = [("SPDS Extension for AutoCAD® 2015-2016", "Autodesk, Inc."), ("HWiNFO® 64", "Martin Malik, REALiX s.r.o."),
               ("яндекс.диск", "Яндекс"), ("libjq1", "ChangZhuo Chen (陳昌倬) <czchen@debian.org>"),
               ("µTorrent", "BitTorrent Inc."), ("Ölflex Konfigurator", "Lapp Kabel Ståhlberg"),
               ("محرر النصوص", "أحمد"), ("Kaspersky Endpoint Security", "АО Лаборатория Касперского"),
               ("华为手机助手", "华为技术有限公司"), ("HiSuite", "Huawei Technologies Co., Ltd."),
               ("Hikvision iVMS-4200", "杭州海康威视数字技术股份有限公司"), ("Ｔｉｋｔｏｋ", "ＢｙｔｅＤａｎｃｅ"),
               ("Żółta Łódź", "Příliš žluťoučký kůň"), ("Î Ë Ç", "Société Générale")]


def bench_line(i: int, name: str, publisher: str, rnd: random.Random) -> bytes:
    """A row as bench/throughput.py writes the osqueryd log (programs or deb_packages)."""
    if rnd.random() < 0.5:
        cols = {"name": name, "version": "20.1", "install_location": f"C:\\Program Files\\{name.split(' ')[0]}\\",
                "install_source": "", "language": "1033", "publisher": publisher, "uninstall_string": "",
                "install_date": "20261101", "identifying_number": "{7E62AA0A-0000-0000-0000-000000000000}"}
        table = "programs"
    else:
        cols = {"name": name.split()[0].lower(), "version": "1.71-1", "source": "", "size": "634", "arch": "amd64",
                "revision": "1", "status": "install ok installed", "maintainer": publisher, "section": "misc",
                "priority": "optional"}
        table = "deb_packages"
    doc = {"name": f"pack_inventory_{table}", "hostIdentifier": f"host-{i % 2000:05d}.corp.example.net",
           "calendarTime": "Mon Nov 23 10:00:00 2026 UTC", "unixTime": 1795000000 + i, "epoch": 0, "counter": 0,
           "numerics": False, "columns": cols, "action": "added"}
    return (json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


def test_bench_like_lines(uf: UnicodeFilter) -> None:
    rnd = random.Random(11)
    lines = [bench_line(i, *rnd.choice(BENCH_NAMES), rnd) for i in range(600)]
    assert mismatches(uf, lines) == []
    got = uf.needing(lines)
    assert any(got) and not all(got)


# ------------------------------------------------------------------------------ generated lines

# characters that compose, decompose, fold to ASCII or to several characters
TRICKY = ["\u0301", "\u0308", "\u0327", "\u0344", "\u0338", "\u1100", "\u1161", "\u11a8", "\uac00", "\uff21",
          "\uff41", "\ufb01", "\ufb03", "\u212a", "\u212b", "\u017f", "\u00df", "\u0130", "\u2122", "\u00e9",
          "\u03a3", "\u03c2", "\u13a0", "\uab70", "\u83ef", "\u70ba", "\u0416", "\u3300", "\u00bd", "\u2460",
          "\u0cd5", "\u0bbe", "\u09be", "\u0d3e", "\u0b56", "\u1b35", "\uff3c", "\u00b5", "\u1e9e", "\u0345"]
FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"}


def anchors(uf: UnicodeFilter) -> list[str]:
    return sorted(uf._bounds)


def variant(a: str, rnd: random.Random) -> str:
    v = "".join(c.upper() if rnd.random() < 0.5 else c for c in a)
    r = rnd.random()
    if r < 0.15:
        v = "".join(FULLWIDTH.get(c, c) if rnd.random() < 0.5 else c for c in v)
    elif r < 0.25:  # a combining mark on a letter of it, or after it
        k = rnd.randrange(len(v) + 1)
        v = v[:k] + rnd.choice(["\u0301", "\u0308", "\u0338", "\u0345"]) + v[k:]
    elif r < 0.35:
        v = v.replace("k", "\u212a").replace("s", "\u017f").replace("fi", "\ufb01")
    elif r < 0.45:
        v = rnd.choice(["\u00e9", "\u1161", "\u11a8", "\u0301", "x", "\u00df"]) + v + rnd.choice(["\u0301", "\u1100", "ss", ""])
    return v


def generated_line(uf: UnicodeFilter, rnd: random.Random) -> bytes:
    parts: list[str] = []
    for _ in range(rnd.randint(1, 6)):
        r = rnd.random()
        if r < 0.35:
            parts.append(variant(rnd.choice(anchors(uf)), rnd))
        elif r < 0.7:
            parts.append("".join(rnd.choice(TRICKY) for _ in range(rnd.randint(1, 3))))
        elif r < 0.8:
            parts.append(rnd.choice(["<", "=", ">", "e", "A", "I", "K", "\u3131", "\uc548\ub155"]) + rnd.choice(TRICKY))
        else:
            parts.append(rnd.choice(["\\u0041", "\\\\u0041", "\\\\\\u0041", "\\x41", "\\U0041", "C:\\\\Users",
                                     "%40", "\\n", "\ufffd", "\u4e2d\u6587", "\u0394\u03b9\u03ac", "\u00c5ngstr\u00f6m"]))
    sep = rnd.choice([" ", "", "-", "\"", "\\", ", ", "\t"])
    text = sep.join(parts)
    if rnd.random() < 0.5:
        text = json.dumps({"columns": {"name": text}}, ensure_ascii=False)
    raw = text.encode("utf-8", "surrogatepass")
    r = rnd.random()
    if r < 0.04:
        raw += rnd.choice([b"\xff", b"\xc3", b"\x80abc", b"\xe2\x82"])  # not UTF-8
    elif r < 0.06:
        raw = b"\xa9" + raw
    return raw + rnd.choice([b"\n", b"\n", b"\n", b"\r\n", b""])


def test_generated_lines_equal_the_reference(uf: UnicodeFilter, monkeypatch: pytest.MonkeyPatch) -> None:
    joined = [0]
    real = E.UnicodeFilter._needing_joined

    def counting(self: UnicodeFilter, eng: object, buf: bytes, n: int) -> list[bool] | None:
        got = real(self, eng, buf, n)  # type: ignore[arg-type]
        if got is not None:
            joined[0] += n
        return got

    monkeypatch.setattr(E.UnicodeFilter, "_needing_joined", counting)
    rnd = random.Random(20261201)
    total = verdicts = 0
    for _ in range(150):
        lines = [generated_line(uf, rnd) for _ in range(rnd.randint(1, 40))]
        assert mismatches(uf, lines) == []
        total += len(lines)
        verdicts += sum(uf.needing(lines))
    # the joined path decided most lines, and both verdicts occur
    assert joined[0] > total and 0 < verdicts < total


def test_a_small_memo_gives_the_same_verdicts(uf: UnicodeFilter, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runs' memo replaced whenever it would grow past its bound (here: almost every call)."""
    monkeypatch.setattr(E, "_FOLDS_MAX", 5)
    monkeypatch.setattr(E, "_FOLDS", {})
    rnd = random.Random(3)
    for _ in range(40):
        lines = [generated_line(uf, rnd) for _ in range(rnd.randint(1, 10))]
        lines += [bench_line(i, *rnd.choice(BENCH_NAMES), rnd) for i in range(rnd.randint(0, 10))]
        assert mismatches(uf, lines) == []
    assert 0 < len(E._FOLDS) < 60


def test_the_joined_fold_is_the_fold_of_the_whole_text(uf: UnicodeFilter) -> None:
    """fold_joined gives NFKC + case folding of the whole text, or None (then the lines go one by one)."""
    rnd = random.Random(7)
    folded = changed = 0
    for _ in range(300):
        lines = [generated_line(uf, rnd).rstrip(b"\r\n").replace(b"\n", b" ") for _ in range(rnd.randint(0, 4))]
        lines += [bench_line(0, *rnd.choice(BENCH_NAMES), rnd).rstrip(b"\n") for _ in range(rnd.randint(0, 3))]
        buf = b"\n".join(lines)
        got = E.fold_joined(buf)
        try:
            want = nfkc_fold(buf.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            assert got is None
            continue
        if got is not None:
            folded += 1
            changed += got != buf.lower()
            assert got == want, buf
        else:  # a run that does not fold alone, or a U+FFFD
            assert "\ufffd" in buf.decode() or any(
                not E._starts_alone(r.decode()[0]) for r in buf.translate(E._RUNS_ONLY).split()), buf
    assert folded > 100 and changed > 50


def test_lines_without_newline_or_empty(uf: UnicodeFilter) -> None:
    for lines in ([b""], [b"", b""], ["\u00e9".encode()], [b"abc\n", b""], [b"\xc3\xa9", "K\u0301".encode() + b"\n"],
                  ["Ｋａｓｐｅｒｓｋｙ".encode(), b"x\n", "\u00e9huawei".encode()], [b"\n", b"\n"]):
        assert mismatches(uf, lines) == [], lines


# ------------------------------------------------------------------------------ the claim


def test_ascii_is_a_starter_that_composes_with_nothing() -> None:
    """What splitting NFKC around ASCII relies on: every ASCII character is its own normal form,
    of combining class 0, and the second character of no canonical pair (the first of a pair
    only before a combining mark)."""
    for i in range(128):
        c = chr(i)
        assert unicodedata.normalize("NFKD", c) == c and unicodedata.combining(c) == 0
    for i in range(sys.maxunicode + 1):
        d = unicodedata.decomposition(chr(i))
        if d and not d.startswith("<"):
            pair = [chr(int(h, 16)) for h in d.split()]
            if len(pair) == 2:
                assert not pair[1].isascii(), hex(i)
                if pair[0].isascii():
                    assert unicodedata.combining(pair[1]) != 0, hex(i)


def code_points() -> list[str]:
    """Every code point but surrogates, ASCII, and unassigned or private-use ones past the first
    few of each plane (those all behave alike: their own normal form and fold, class 0)."""
    out = []
    for i in range(0x80, sys.maxunicode + 1):
        if 0xD800 <= i <= 0xDFFF:
            continue
        c = chr(i)
        if unicodedata.category(c) in ("Cn", "Co") and i & 0xFFFF > 0x10 and i & 0xFFF != 0xFFF:
            continue
        out.append(c)
    return out


def test_a_run_folds_alone_wherever_it_stands() -> None:
    """For every code point ``c`` said to start a run alone: the fold of a line with the run
    between ASCII characters is the ASCII lower-cased around the run's own fold (runs ``c``,
    ``c c``, ``c`` before a combining mark and before a mark of another class or a Hangul jamo;
    each ASCII character in turn before ``c``).  For the others: some ASCII character before
    ``c`` does change its fold, or its decomposition starts with a combining mark."""
    tails = ["\u0327", "\u0345", "\u05b0", "\u0e48", "\u3099", "\u1161", "\u11a8", "\u0cd5", "\u0f71", "\u0315"]
    alone = 0
    for i, c in enumerate(code_points()):
        if not E._starts_alone(c):
            d0 = unicodedata.normalize("NFKD", c)[0]
            assert unicodedata.combining(d0) or any(
                nfkc_fold(x + c) != x.lower() + nfkc_fold(c) for x in map(chr, range(128))), hex(ord(c))
            continue
        alone += 1
        x = chr(i % 128)
        for run in (c, c + c, c + "\u0301", c + tails[i % len(tails)]):
            folded = E._fold_alone(run.encode("utf-8"))
            want = nfkc_fold(run)
            assert folded == (None if "\ufffd" in run else want.encode("utf-8")), hex(ord(c))
            for line, around in ((x + run + "B", x.lower() + want + "b"), ("<" + run + "=", "<" + want + "=")):
                assert nfkc_fold(line) == around, (hex(ord(c)), line)
    assert alone > 100_000


def test_combining_marks_do_not_start_alone_and_letters_do() -> None:
    """The characters that may compose with the ASCII one before them are not said to start alone."""
    for c in ("\u0301", "\u0338", "\u0327", "\u0345", "\u0344"):  # combining marks (e + U+0301 is é)
        assert not E._starts_alone(c)
    for c in ("\u00e9", "\u83ef", "\u0416", "\uac00", "\u1100", "\uff21", "\u212a", "\u00df", "\u2122"):
        assert E._starts_alone(c)


def test_a_wrong_classifier_is_caught(uf: UnicodeFilter, monkeypatch: pytest.MonkeyPatch) -> None:
    """If characters that compose with the ASCII before them were said to start alone, the
    differential comparison above would fail: a mark after an anchor's last letter composes with
    it (the anchor is gone from the folded line), alone it stays a mark after the anchor."""
    a = next(x for x in anchors(uf) if x.isascii() and x[-1] in "aeiouy" and len(x) > 4)
    lines = [f'{{"name":"{a}\u0301 suite"}}\n'.encode(), f'{{"name":"{a}\u0308"}}\n'.encode(),
             f'{{"name":"x {a}"}}\n'.encode()]
    assert mismatches(uf, lines) == []
    assert [uf.needs_bytes(x) for x in lines] == [False, False, True]
    monkeypatch.setattr(E, "_FOLDS", {})
    monkeypatch.setattr(E, "_ALONE", {})
    monkeypatch.setattr(E, "_starts_alone", lambda c: True)
    assert [x for x, _want in mismatches(uf, lines)] == lines[:2]

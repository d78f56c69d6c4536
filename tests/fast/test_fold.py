"""fold_utf8 folds only the non-ASCII span of a line: the same bytes as NFKC + case folding of
the whole line (the UnicodeFilter relies on it to scan non-ASCII lines as the matcher folds them)."""

from __future__ import annotations

import sys
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from banscan.fast.engine import fold_utf8


def reference(line: bytes) -> bytes | None:
    try:
        return unicodedata.normalize("NFKC", line.decode("utf-8")).casefold().encode("utf-8")
    except UnicodeDecodeError:
        return None


# characters that compose, decompose, fold to ASCII or fold with context elsewhere: combining marks
# (also after an ASCII letter: "e" + U+0301 is é), U+0338 after "<" / "=", Hangul jamo, fullwidth and
# ligature forms, the Kelvin sign and long s, final sigma, Cherokee (folds to capitals), ß, İ, ™
TRICKY = ("\u0301\u0308\u0344\u0338\u0327\u1100\u1161\u11a8\uac00\uff21\uff41\ufb01\ufb03\u212a\u017f"
          "\u03a3\u03c2\uab70\u13a0\u00df\u0130\u2122\u00e9\u83ef\u70ba\u0416\ufdfa\u3300\u00bd\u2460\ufffd")
ALPHABET = st.sampled_from(list(TRICKY) + list("aAzZeE09<=> _-.\\\"{}:,") + ["\u0301"])


@settings(max_examples=400, deadline=None)
@given(st.lists(ALPHABET | st.characters(blacklist_categories=("Cs",)), max_size=40), st.binary(max_size=3))
def test_fold_of_the_non_ascii_span_equals_folding_the_whole_line(chars: list[str], junk: bytes) -> None:
    line = "".join(chars).encode("utf-8")
    assert fold_utf8(line) == reference(line)
    # bytes that are not UTF-8 anywhere in the line: None, as decoding the whole line fails
    bad = line + junk
    assert fold_utf8(bad) == reference(bad)


def test_every_character_folds_as_in_the_whole_line() -> None:
    """Each code point between ASCII neighbours (the tricky ones also alone and before a mark)."""
    for c in (chr(i) for i in range(0x80, sys.maxunicode + 1) if not 0xD800 <= i <= 0xDFFF):
        line = ("a" + c + "B").encode("utf-8")
        assert fold_utf8(line) == reference(line), hex(ord(c))
    for c in TRICKY:
        for line in (c.encode(), ("E" + c + "\u0301x").encode()):
            assert fold_utf8(line) == reference(line), hex(ord(c))


def test_ascii_lines_are_only_lower_cased() -> None:
    assert fold_utf8(b'{"name":"HiSuite \\\\u"}') == b'{"name":"hisuite \\\\u"}'
    assert fold_utf8(b"") == b""
    assert fold_utf8("Ｈｕａｗｅｉ ＨｉＳｕｉｔｅ".encode()) == b"huawei hisuite"
    assert fold_utf8("Cafe\u0301 KASPERSKY".encode()) == "café kaspersky".encode()

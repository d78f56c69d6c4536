"""The terminal and surrogate patterns of banscan.textsafe are compiled when first used: they
escape and replace exactly as the patterns compiled at import did."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from banscan import textsafe

UNSAFE = "\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb"
EAGER_TERM = re.compile(f"[{UNSAFE}\ud800-\udfff]")
EAGER_KEEP_LINES = re.compile(f"[{UNSAFE.replace(chr(0) + '-' + chr(0x1f), chr(0) + '-' + chr(8) + chr(0x0b) + '-' + chr(0x1f))}\ud800-\udfff]")
EAGER_SURROGATE = re.compile("[\ud800-\udfff]")
EDGES = "\x00\x08\t\n\x0b\x1b\x1f\x20\x7e\x7f\x9f\xa0\u061b\u061c\u200a\u200b\u200f\u2010\u2027\u2028\u202e\u202f" \
        "\u205f\u2060\u2069\u206a\ufefe\ufeff\ufff8\ufff9\ufffb\ufffc\ud7ff\ud800\udbff\udc00\udfff\ue000"


def _visible(m: re.Match[str]) -> str:
    o = ord(m.group())
    return f"\\x{o:02x}" if o <= 0xFF else f"\\u{o:04x}"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=EDGES + "ab", max_size=12) | st.text(max_size=12))
def test_term_and_encodable_escape_as_the_eager_patterns(s: str) -> None:
    assert textsafe.term(s) == EAGER_TERM.sub(_visible, s)
    assert textsafe.term_lines(s) == EAGER_KEEP_LINES.sub(_visible, s)
    assert textsafe.encodable(s) == EAGER_SURROGATE.sub("\ufffd", s)


def test_defang_urls_as_before() -> None:
    assert textsafe.defang_urls("see https://x.example and www.y.example, mail a@b.example") == \
        "see https[:]//x.example and www[.]y.example, mail a[@]b.example"
    assert textsafe.defang_urls("mailto:ops@corp.example WWW.Z.example") == "mailto[:]ops[@]corp.example WWW[.]Z.example"

"""Text normalisation shared by the registry compiler and the matcher.

Both sides of every comparison go through the same function, so "AO Kaspersky Lab",
"Kaspersky Lab ZAO" and "KASPERSKY LAB" all become ``kaspersky lab``.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Legal forms dropped from organisation and product names (as whole tokens).
LEGAL_FORMS = frozenset(
    """
    ao zao oao pao jsc ojsc cjsc ooo llc ltd co inc corp corporation incorporated company limited
    gmbh ag sa sas sarl bv nv plc pty pte fz fze sdn bhd kk srl spa ab oy as aps kft sro
    """.split()
)

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)


@functools.cache
def _no_space() -> re.Pattern[str]:
    """Scripts written without spaces between words: patterns in them match without token
    boundaries.  Compiled when first needed (never for ASCII text): re expands its ranges of tens
    of thousands of characters one by one, which takes milliseconds."""
    return re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def normalize(text: str) -> str:
    """NFKC, case-folded, punctuation to spaces, legal forms removed, spaces collapsed."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    tokens = _PUNCT.sub(" ", text.casefold()).split()
    return " ".join(t for t in tokens if t not in LEGAL_FORMS)


def spaceless(text: str) -> bool:
    """True when ``text`` contains characters of a script written without word spaces."""
    return not text.isascii() and bool(_no_space().search(text))  # the ranges hold no ASCII character


_ALNUM = re.compile(r"[^\W_]+", re.UNICODE)


def anchor(value: str) -> str:
    """The longest alphanumeric run of ``value``, lower-cased: present in any raw encoding of it."""
    v = value.casefold()
    if not v.isascii():
        v = unicodedata.normalize("NFKC", v)
    runs = _ALNUM.findall(v)
    return max(runs, key=len) if runs else v


def normalize_mac(mac: str) -> str | None:
    """12 upper-case hex digits, or None when ``mac`` is not a MAC address."""
    h = "".join(c for c in mac if c not in ":-. ").upper()
    if len(h) != 12 or any(c not in "0123456789ABCDEF" for c in h):
        return None
    return h


def locally_administered(mac12: str) -> bool:
    """The U/L bit of the first octet: set on randomised and locally assigned addresses."""
    return bool(int(mac12[:2], 16) & 0x02)


def pypi_name(name: str) -> str:
    """A PyPI project name as PEP 503 compares it (``packaging.utils.canonicalize_name``).

    packaging is imported when a PyPI name is first compared, not with the matcher: a scan whose
    inputs name no PyPI package (or whose registry's indexes come from the compiled cache) never
    needs it."""
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))

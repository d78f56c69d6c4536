"""Text encodings of inputs, and strings every writer can encode.

* :func:`detect_encoding` recognises a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE) and
  BOM-less UTF-16/32 from the pattern of zero bytes at the start of the input.
* :class:`Transcoder` turns such an input into UTF-8 without its BOM, as a stream, so that every
  reader sees one encoding (the input's digest is still taken over the original bytes).
* :func:`clean_text` / :func:`clean_observation` replace what no writer or database can store —
  lone surrogates (``"\\udc80"`` from a JSON escape or an undecodable file name), NUL — with
  U+FFFD, and cut over-long field values, noting each in the input's deviations.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterable
from typing import Any

from banscan.model import F, Locator, Observation, Problem
from banscan.sources.base import ReadContext

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def detect_encoding(head: bytes) -> tuple[str, int] | None:
    """(codec, BOM length) when ``head`` is not plain UTF-8 / ASCII, else None."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name, len(bom)
    if len(head) >= 8:
        h = head[:8]
        if h[1:4] == b"\0\0\0" and h[5:8] == b"\0\0\0" and h[0] and h[4]:
            return "utf-32-le", 0
        if h[0:3] == b"\0\0\0" and h[4:7] == b"\0\0\0" and h[3] and h[7]:
            return "utf-32-be", 0
        if h[1] == 0 and h[3] == 0 and h[5] == 0 and h[0] and h[2] and h[4] and h[0] < 0x80:
            return "utf-16-le", 0
        if h[0] == 0 and h[2] == 0 and h[4] == 0 and h[1] and h[3] and h[5] and h[1] < 0x80:
            return "utf-16-be", 0
    return None


class Transcoder(io.RawIOBase):
    """A raw stream of UTF-8 bytes read from ``raw`` in ``encoding`` (BOM of ``skip`` bytes
    dropped).  Undecodable sequences become U+FFFD; ``replaced`` says whether any did."""

    def __init__(self, raw: Any, encoding: str, skip: int) -> None:
        self.raw = raw
        self.skip = skip
        self.utf8 = encoding in ("utf-8-sig", "utf-8")
        self.decoder = codecs.getincrementaldecoder(encoding.replace("-sig", ""))("replace")
        self.buf = b""
        self.eof = False
        self.replaced = False

    def readable(self) -> bool:
        return True

    def _fill(self, n: int) -> None:
        while len(self.buf) < n and not self.eof:
            data = self.raw.read(max(n, 1 << 16))
            if self.skip:
                cut = min(self.skip, len(data))
                data, self.skip = data[cut:], self.skip - cut
            if not data:
                self.eof = True
                if not self.utf8:
                    tail = self.decoder.decode(b"", final=True)
                    if "\ufffd" in tail:
                        self.replaced = True
                    self.buf += tail.encode("utf-8")
                break
            if self.utf8:
                self.buf += data
            else:
                text = self.decoder.decode(data)
                if "\ufffd" in text:
                    self.replaced = True
                self.buf += text.encode("utf-8", "surrogatepass")

    def readinto(self, b: Any) -> int:
        self._fill(len(b))
        n = min(len(b), len(self.buf))
        b[:n] = self.buf[:n]
        self.buf = self.buf[n:]
        return n


def decode_head(head: bytes) -> tuple[bytes, str | None]:
    """The head as UTF-8 without BOM, and the encoding it was in (None: already UTF-8)."""
    enc = detect_encoding(head)
    if enc is None:
        return head, None
    name, skip = enc
    if name == "utf-8-sig":
        return head[skip:], name
    # the head may end inside a character: decode leniently, without a final flush
    text = codecs.getincrementaldecoder(name)("replace").decode(head[skip:])
    return text.encode("utf-8", "surrogatepass"), name


# ---------------------------------------------------------------------------------------------
# strings every writer can encode

_BAD = "\x00"
_SURROGATE = re.compile("[\ud800-\udfff]")
DOMAIN_MAX = 253  # RFC 1035: a domain name has at most 253 characters in text form


def clean_text(s: str) -> tuple[str, bool]:
    """``s`` with lone surrogates and NUL replaced by U+FFFD; True when anything was replaced."""
    if s.isascii():
        if _BAD in s:
            return s.replace(_BAD, "\ufffd"), True
        return s, False
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", s).replace(_BAD, "\ufffd"), True
    if _BAD in s:
        return s.replace(_BAD, "\ufffd"), True
    return s, False


REPLACED = "strings that cannot be encoded (lone surrogates, NUL) were replaced with U+FFFD"


def clean_names(names: Iterable[str], ctx: ReadContext) -> dict[str, str]:
    """Each of ``names`` (asset names) to its clean form, the replacement noted in ``ctx``'s
    deviations (as for an observation's strings, whether or not the record was read)."""
    out: dict[str, str] = {}
    for n in names:
        c, bad = clean_text(n)
        if bad:
            ctx.deviation(REPLACED)
        out[n] = c
    return out


def clean_assets(assets: dict[str, set[str]], ctx: ReadContext) -> dict[str, set[str]]:
    """``assets`` (asset name -> evidence classes) with clean names (:func:`clean_names`); names
    that clean to the same one have their classes merged."""
    clean = clean_names(assets, ctx)
    out: dict[str, set[str]] = {}
    for a, c in assets.items():
        out.setdefault(clean[a], set()).update(c)
    return out


def _clean_value(key: str, v: str, cap: int, ctx: ReadContext) -> tuple[str, bool]:
    v2, bad = clean_text(v)
    if bad:
        ctx.deviation(REPLACED)
    if key == F.DOMAIN and len(v2) > DOMAIN_MAX:
        ctx.deviation(f"domain names longer than {DOMAIN_MAX} characters were cut to their last {DOMAIN_MAX}")
        return v2[-DOMAIN_MAX:].lstrip("."), True
    if len(v2) > cap:
        ctx.deviation(f"field values longer than the max_field_chars limit ({cap}) were cut")
        return v2[:cap], True
    return v2, bad


def clean_observation(obs: Observation, ctx: ReadContext) -> Observation:
    """The observation with every string encodable and every field value within
    ``max_field_chars`` (a domain within 253 characters, keeping its right-hand labels); a
    field may hold one string or a tuple of strings.  Changes are noted in the deviations."""
    cap = ctx.limits.max_field_chars
    changed = False
    fields: Any = obs.fields
    out: dict[str, Any] | None = None
    for k, v in fields.items():
        kc, kbad = clean_text(k) if not k.isascii() or _BAD in k else (k, False)
        if isinstance(v, str):
            if v.isascii() and len(v) <= min(cap, DOMAIN_MAX) and _BAD not in v:
                new: Any = v
                bad = False
            else:
                new, bad = _clean_value(kc, v, cap, ctx)
        elif isinstance(v, tuple):
            parts = [_clean_value(kc, x, cap, ctx) if isinstance(x, str) else (x, False) for x in v]
            bad = any(b for _, b in parts)
            new = tuple(x for x, _ in parts) if bad else v
        else:
            new, bad = v, False
        if kbad:
            ctx.deviation(REPLACED)
        if bad or kbad:
            if out is None:
                out = dict(fields)
            if kbad:
                out.pop(k, None)
            out[kc] = new
            changed = True
    asset, abad = clean_text(obs.asset)
    if len(asset) > cap:
        asset, abad = asset[:cap], True
    at = obs.observed_at
    atbad = False
    if at is not None:
        at, atbad = clean_text(at)
    loc = obs.source
    lbad = False
    if not loc.locator.isascii():
        lc, lbad = clean_text(loc.locator)
        if lbad:
            loc = Locator(loc.path, lc)
    if abad or atbad or lbad:
        ctx.deviation(REPLACED)
        changed = True
    if not changed:
        return obs
    return Observation(obs.kind, asset, out if out is not None else fields, loc, obs.evidence_class, at)


def clean_problem(p: Problem) -> Problem:
    msg, bad = clean_text(p.message)
    loc, lbad = clean_text(p.source.locator)
    if not (bad or lbad):
        return p
    return Problem(Locator(p.source.path, loc), msg, p.fatal)


def display_path(path: str) -> str:
    """A file name as shown to the user: bytes that are not UTF-8 (kept by the OS as lone
    surrogates) are shown as ``\\xNN``."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")

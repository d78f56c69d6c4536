"""CSV exports of installed software and of MDM app inventories.

Specification: RFC 4180, https://www.rfc-editor.org/rfc/rfc4180 (column layouts: PowerShell
``Get-ItemProperty HKLM:\\...\\Uninstall\\* | Export-Csv``, https://learn.microsoft.com/en-us/powershell/module/microsoft.powershell.utility/export-csv;
SCCM ``v_GS_INSTALLED_SOFTWARE`` / ``v_Add_Remove_Programs``; Lansweeper software reports;
Intune discovered apps; Jamf Pro application inventory).

Only CSVs whose header names a software column (DisplayName, Name, ARPDisplayName0, Software,
Application Name, ...) together with a publisher, version or bundle-id column are claimed.
A per-row asset column (ComputerName, Netbios_Name0, AssetName, Device name, hostname, ...)
makes each row's asset.  Rows with a bundle id, or whose Platform is iOS/iPadOS/Android, or
from a mobile-device export are MOBILE; others INSTALLED.  AppX entries with an X.500
publisher (``CN=..., O=Microsoft Corporation``) get the organisation as publisher and
ecosystem ``appx``.

Streamed with the csv module.  A line longer than max_line_bytes is skipped and noted; a record
it falls in (a quoted cell holding newlines) ends there and is noted as skipped, so a record never
spans such a line.  A row that ``ctx.prefilter`` rules out (its cells joined by tabs) is
counted for its asset and evidence class without building its observation.  Lines are decoded as
UTF-8 (BOM removed); a line that is not
UTF-8 is decoded as Windows-1252 and noted as a deviation.  UTF-16 exports (BOM) are decoded
as such.  Locator: ``line N``, the physical line where the record starts.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import io
import re
from collections.abc import Iterator
from typing import BinaryIO

from banscan.model import EvidenceClass, F, Observation, Problem
from banscan.sources._common import is_x500, put, s, x500_org
from banscan.sources.base import ReadContext, text_head
from banscan.sources.limits import bounded_lines


def _norm(h: str) -> str:
    return re.sub(r"[\s_\-\.]+", "", h.strip().strip('"').lower())


NAME_COLS = [
    "displayname", "arpdisplayname0", "displayname0", "productname0", "software", "softwarename",
    "applicationname", "applicationtitle", "appname", "application", "productname", "name",
    "filedescription", "originalfilename", "filename",  # Windows file inventories (PE version fields)
]
PUBLISHER_COLS = [
    "publisher", "publisher0", "vendor", "softwarepublisher", "manufacturer", "developer",
    "applicationpublisher", "apppublisher", "companyname",
]
VERSION_COLS = [
    "displayversion", "productversion0", "version0", "version", "softwareversion",
    "applicationversion", "appversion", "shortversion", "bundleversion", "applicationshortversion",
]
BUNDLE_COLS = [
    "bundleid", "bundleidentifier", "applicationbundleid", "appidentifier", "applicationid",
    "appid", "identifier", "packagename", "packageidentifier",
]
ASSET_COLS = [
    "computername", "netbiosname0", "assetname", "devicename", "mobiledevicename", "hostname",
    "machinename", "pscomputername", "computer", "device", "name0",
]
PATH_COLS = ["installlocation", "installlocation0", "path", "installpath", "applicationpath", "filepath", "fullpath"]
PLATFORM_COLS = ["platform", "os", "operatingsystem"]
MOBILE_PLATFORMS = ("ios", "ipados", "android")
_REVERSE_DNS = re.compile(r"^[A-Za-z][\w-]*(\.[\w-]+){2,}$")


def _find(index: dict[str, int], names: list[str]) -> int | None:
    for n in names:
        if n in index:
            return index[n]
    return None


class _Layout:
    __slots__ = ("name", "publisher", "version", "bundle", "asset", "path", "platform", "mobile_export", "width")

    def __init__(self, header: list[str]) -> None:
        index: dict[str, int] = {}
        for i, h in enumerate(header):
            index.setdefault(_norm(h), i)
        self.width = len(header)
        self.bundle = _find(index, BUNDLE_COLS)
        self.asset = _find(index, ASSET_COLS)
        self.publisher = _find(index, PUBLISHER_COLS)
        self.version = _find(index, VERSION_COLS)
        self.path = _find(index, PATH_COLS)
        self.platform = _find(index, PLATFORM_COLS)
        self.mobile_export = "mobiledevicename" in index
        names = [n for n in NAME_COLS if n in index and index[n] != self.asset]
        self.name = index[names[0]] if names else None

    @property
    def recognised(self) -> bool:
        if self.name is None and self.bundle is None:
            return False
        return self.publisher is not None or self.version is not None or self.bundle is not None


class _Broken(Exception):
    """Raised by :class:`_Lines` where a line was skipped for its length: the record it falls in
    ends there (its cells are not all there to read)."""


_SKIPPED = object()


class _Lines:
    """The lines of ``stream``, decoded (an iterator for the csv module).  A line longer than
    max_line_bytes is skipped and noted (as read_lines does); where it was, ``__next__`` raises
    :class:`_Broken` once, and goes on after it.  ``skips``: for each line skipped, how many lines
    were given before it (see :func:`_physical`)."""

    def __init__(self, stream: BinaryIO, ctx: ReadContext, skips: list[int]) -> None:
        self._lines = _decoded(stream, ctx, skips)

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        if line is _SKIPPED:
            raise _Broken
        return line  # type: ignore[return-value]


def _decoded(stream: BinaryIO, ctx: ReadContext, skips: list[int]) -> Iterator[str | object]:
    first = stream.read(4)
    if first.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = io.TextIOWrapper(io.BufferedReader(_Join(first, stream)), encoding="utf-16", newline="")  # type: ignore[type-var]
        yield from iter(text.readline, "")  # not the stream itself: closing this must not close it
        return
    if first.startswith(codecs.BOM_UTF8):
        first = first[3:]
    pending = first
    given = 0
    for lineno, raw in bounded_lines(stream, ctx.limits):  # (read_lines, each skipped line given as _SKIPPED)
        if raw is None:
            ctx.long_line(lineno)
            skips.append(given)
            yield _SKIPPED
            continue
        given += 1
        if pending:
            raw, pending = pending + raw, b""
        line, utf8 = decode_line(raw)
        if not utf8:
            ctx.deviation(f"line {lineno} is not UTF-8; decoded as Windows-1252")
        yield line
    if pending:
        yield pending.decode("utf-8", errors="replace")


def decode_line(raw: bytes) -> tuple[str, bool]:
    """(text, whether it was UTF-8) of one line of an export: UTF-8, else Windows-1252 (bytes it
    does not define replaced)."""
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), False


def _physical(k: int, skips: list[int]) -> int:
    """The line number in the input of the ``k``-th line :class:`_Lines` gave (from 1), the lines
    it skipped counted."""
    return k + bisect.bisect_left(skips, k)


class _Join(io.RawIOBase):
    def __init__(self, first: bytes, rest: BinaryIO) -> None:
        self.first = first
        self.rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        if self.first:
            n = min(len(b), len(self.first))
            b[:n] = self.first[:n]
            self.first = self.first[n:]
            return n
        data = self.rest.read(len(b))
        b[: len(data)] = data
        return len(data)


class SoftwareCsvSource:
    name = "software-csv"
    description = "CSV export of installed software (Uninstall keys, SCCM, Lansweeper, Intune, Jamf)"
    documentation_url = "https://www.rfc-editor.org/rfc/rfc4180"

    def sniff(self, head: bytes, path: str) -> bool:
        t = text_head(head).lstrip("\ufeff")
        first = t.split("\n", 1)[0].rstrip("\r")
        if not first or first.lstrip().startswith(("{", "[", "<", "#")):
            return False
        if "," not in first and ";" not in first and "\t" not in first:
            return False
        return _detect(first) is not None

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Observation | Problem]:
        skips: list[int] = []
        lines = _Lines(stream, ctx, skips)
        header_line = ""
        while True:
            try:
                header_line = next(lines)
                break
            except _Broken:  # (a first line too long to read: the header is the next)
                continue
            except StopIteration:
                break
        det = _detect(header_line.rstrip("\r\n"))
        if det is None:
            yield Problem(ctx.loc("line 1"), "header names no software columns", fatal=True)
            return
        delim, lay = det
        prefilter = ctx.prefilter
        reader = csv.reader(lines, delimiter=delim)
        start = 2
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except _Broken:
                if reader.line_num + 2 > start:  # the record's first lines were read: it is cut there
                    ctx.record_error(f"line {_physical(start, skips)}",
                                     "a quoted cell goes on past a line longer than max_line_bytes")
                start = reader.line_num + 2
                continue
            except csv.Error as exc:  # one malformed record (e.g. a cell past the csv field limit)
                ctx.record_error(f"line {_physical(start, skips)}", f"malformed CSV: {exc}")
                if reader.line_num + 2 == start:  # nothing consumed: stop rather than spin
                    break
                start = reader.line_num + 2
                continue
            where = f"line {_physical(start, skips)}"
            start = reader.line_num + 2  # the header line was consumed before the reader
            if not row or not any(c.strip() for c in row):
                continue
            if len(row) != lay.width:
                ctx.deviation("some rows do not have as many cells as the header")
            if prefilter is not None:
                text = "\t".join(row)
                # (a row holding a NUL is read: its observation notes the characters replaced)
                if not prefilter(text) and "\x00" not in text and self._skipped(row, lay, ctx):
                    continue
            yield from self._row(row, lay, where, ctx)

    @staticmethod
    def _skipped(row: list[str], lay: _Layout, ctx: ReadContext) -> bool:
        """Count a row the prefilter rules out (no signature can match any of its cells) as
        :meth:`_row` counts its observation, for the same asset and evidence class; False when
        :meth:`_row` must read it (a row without a software name is reported)."""
        bundle = _cell(row, lay.bundle)
        if not _cell(row, lay.name) and not bundle:
            return False
        mobile = _mobile(lay, bundle, _cell(row, lay.platform).lower())
        ctx.skipped(_cell(row, lay.asset) or ctx.asset, _EC[mobile])
        return True

    def _row(self, row: list[str], lay: _Layout, where: str, ctx: ReadContext) -> Iterator[Observation | Problem]:
        def cell(i: int | None) -> str:
            return _cell(row, i)

        name, pub, bundle = cell(lay.name), cell(lay.publisher), cell(lay.bundle)
        platform = cell(lay.platform).lower()
        fields: dict[str, str] = {}
        put(fields, F.NAME, name)
        put(fields, F.VERSION, cell(lay.version))
        if pub and is_x500(pub):
            put(fields, F.PUBLISHER, x500_org(pub))
            put(fields, "publisher_dn", pub)
            if name:
                fields[F.ECOSYSTEM] = "appx"
                fields[F.PACKAGE] = name
        else:
            put(fields, F.PUBLISHER, pub)
        mobile = _mobile(lay, bundle, platform)
        if not bundle and platform.startswith(MOBILE_PLATFORMS) and _REVERSE_DNS.match(name):
            bundle = name
        put(fields, F.BUNDLE_ID, bundle)
        put(fields, F.PATH, cell(lay.path))
        put(fields, "platform", cell(lay.platform))
        if F.NAME not in fields and F.BUNDLE_ID not in fields:
            if any(c.strip() for c in row):
                yield Problem(ctx.loc(where), "row has no software name")
            return
        asset = cell(lay.asset) or ctx.asset
        yield Observation("app" if mobile else "software", asset, fields, ctx.loc(where), _EC[mobile])


def _cell(row: list[str], i: int | None) -> str:
    """Cell ``i`` of ``row``, cleaned; '' when the row has no such cell."""
    return s(row[i]) if i is not None and i < len(row) else ""


def _mobile(lay: _Layout, bundle: str, platform: str) -> bool:
    """A row of a mobile app: from a mobile-device export, with a bundle id, or on a mobile
    platform (``platform`` lower-cased)."""
    return lay.mobile_export or bool(bundle) or platform.startswith(MOBILE_PLATFORMS)


_EC = {True: EvidenceClass.MOBILE, False: EvidenceClass.INSTALLED}  # by _mobile


def _detect(header: str) -> tuple[str, _Layout] | None:
    for delim in (",", ";", "\t"):
        if delim not in header:
            continue
        try:
            cells = next(csv.reader([header], delimiter=delim))
        except (csv.Error, StopIteration):
            continue
        if len(cells) < 2:
            continue
        lay = _Layout(cells)
        if lay.recognised:
            return delim, lay
    return None


SOURCE = SoftwareCsvSource()

"""osquery results: ``osqueryi --json`` output and osqueryd results logs.

Specification: https://osquery.readthedocs.io/en/stable/deployment/logging/ (result log formats:
event, snapshot and batch) and https://osquery.io/schema/ (table columns).

Forms read:

* ``osqueryi --json`` output: one JSON array of rows (locator ``/3``), asset = the input's asset;
* osqueryd results logs, one JSON object per line (locator ``line N``; rows inside a snapshot or
  batch line add a pointer: ``line 12 /snapshot/3``, ``line 4 /diffResults/added/0``):
  event form (``name``, ``hostIdentifier``, ``columns``, ``action``), snapshot form
  (``snapshot: [rows]``) and batch form (``diffResults.added/removed``, ``hostname``);
* a file holding pretty-printed JSON documents of those forms (as in osquery's documentation).

The asset of a results-log row is its ``hostIdentifier``, else ``hostname``, else
``decorations.hostname``.  The table is recognised from the row's columns (the query name is
only a hint): programs, apps, deb/rpm/python/npm/homebrew packages, chrome_extensions and
firefox_addons, file and authenticode (files on disk, with the PE original file name and the
code-signing subject) (INSTALLED); processes, services, systemd_units, drivers, kernel_modules,
kernel_extensions and prefetch (executables that ran) (RUNTIME); arp_cache (each neighbour is
an asset of its own, named by its address) and interface_details (the host's own adapters) give
network-device observations (see :mod:`banscan.sources.osquery_net`).  Every table is read the
same way in both shapes.  Rows of other tables are counted but not observed.  Rows with action
``removed`` are software that is gone: they are counted and skipped.

Results logs are the hot path: an event-form line that ``ctx.prefilter`` rejects is not parsed;
its asset is sliced out of the raw text and the table comes from a per-query-name cache.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from banscan.model import EvidenceClass, F, Observation, Problem
from banscan.sources._common import (
    CountingReader,
    ijson,
    is_x500,
    json_error_message,
    put,
    s,
    split_contact,
    x500_org,
)
from banscan.sources.base import ReadContext, text_head
from banscan.sources.jsonline import loads
from banscan.sources.limits import LimitExceeded, bounded_lines
from banscan.sources.osquery_net import ARP_CACHE, INTERFACE_DETAILS, network_row, table_of

INSTALLED = EvidenceClass.INSTALLED
RUNTIME = EvidenceClass.RUNTIME


def _base(path: str) -> str:
    p = path.replace("\\", "/").rstrip("/")
    return p.rsplit("/", 1)[-1]


# ------------------------------------------------------------------------------------ tables


_MAX_TABLE_KEYS = 4096  # (query, columns) pairs whose table _doc keeps


def classify(keys: Any, query_name: str = "") -> str | None:
    """The osquery table a row comes from, recognised by its columns."""
    k = keys if isinstance(keys, (set, frozenset)) else set(keys)
    q = query_name.lower()
    if "bundle_identifier" in k:
        return "apps"
    if "identifying_number" in k or {"install_location", "publisher"} <= k:
        return "programs"
    if "identifier" in k and ("browser_type" in k or "update_url" in k or "permissions" in k or "profile" in k):
        return "chrome_extensions"
    if "identifier" in k and ("creator" in k or "source_url" in k or "visible" in k):
        return "firefox_addons"
    if "used_by" in k and "status" in k:
        return "kernel_modules"
    if "linked_against" in k and "name" in k:
        return "kernel_extensions"
    if "device_name" in k and ("image" in k or "service" in k or "provider" in k):
        return "drivers"
    if "service_type" in k or ("display_name" in k and "start_type" in k):
        return "services"
    if "active_state" in k and "id" in k:
        return "systemd_units"
    if "subject_name" in k and ("issuer_name" in k or "original_program_name" in k):
        return "authenticode"
    if "last_execution_time" in k or ("filename" in k and "accessed_files" in k):
        return "prefetch"
    if "filename" in k and "directory" in k and "path" in k:
        return "file"
    if "pid" in k and ("cmdline" in k or "path" in k or "parent" in k or "name" in k):
        if "start_type" not in k:
            return "processes"
    if "name" in k and "version" in k:
        if "release" in k and ("vendor" in k or "package_group" in k or "sha1" in k or "arch" in k):
            return "rpm_packages"
        if "arch" in k and ("source" in k or "revision" in k or "maintainer" in k or "priority" in k):
            return "deb_packages"
        if "summary" in k and "path" in k:
            return "python_packages"
        if "homepage" in k and "path" in k:
            return "npm_packages"
        if "prefix" in k or "auto_updated" in k:
            return "homebrew_packages"
        for t in ("python_packages", "npm_packages", "homebrew_packages", "deb_packages", "rpm_packages"):
            if q.endswith(t):
                return t
        if "path" in k and "author" in k:
            return "python_packages"
    return table_of(k)


def _programs(r: dict[str, Any]) -> tuple[str, dict[str, str]]:
    f: dict[str, str] = {}
    put(f, F.NAME, r.get("name"))
    put(f, F.PUBLISHER, r.get("publisher"))
    put(f, F.VERSION, r.get("version"))
    put(f, F.PATH, r.get("install_location"))
    put(f, "product_code", r.get("identifying_number"))
    return "software", f


def _apps(r: dict[str, Any]) -> tuple[str, dict[str, str]]:
    f: dict[str, str] = {}
    put(f, F.NAME, r.get("bundle_name") or r.get("display_name") or r.get("name"))
    put(f, F.BUNDLE_ID, r.get("bundle_identifier"))
    put(f, F.VERSION, r.get("bundle_short_version") or r.get("bundle_version"))
    put(f, F.PATH, r.get("path"))
    return "app", f


def _pkg(ecosystem: str, publisher_col: str) -> Callable[[dict[str, Any]], tuple[str, dict[str, str]]]:
    def conv(r: dict[str, Any]) -> tuple[str, dict[str, str]]:
        f: dict[str, str] = {}
        put(f, F.NAME, r.get("name"))
        put(f, F.VERSION, r.get("version"))
        who, mail = split_contact(r.get(publisher_col))
        put(f, F.PUBLISHER, who)
        put(f, F.ECOSYSTEM, ecosystem if s(r.get("name")) else "")
        put(f, F.PACKAGE, r.get("name"))
        put(f, F.PATH, r.get("path"))
        if ecosystem == "rpm" and s(r.get("release")) and F.VERSION in f:
            f[F.VERSION] = f"{f[F.VERSION]}-{s(r.get('release'))}"
        put(f, "source_package", r.get("source"))
        # npm_packages has a homepage column (osquery 5.x); an author or maintainer text may hold an
        # e-mail (package.json "Name <a@b.org>", Debian "Name <a@b.org>"): the name is the publisher
        put(f, F.HOMEPAGE, r.get("homepage"))
        put(f, F.MAINTAINER_EMAIL if publisher_col == "maintainer" else F.AUTHOR_EMAIL, mail)
        return "package", f

    return conv


def _extension(r: dict[str, Any]) -> tuple[str, dict[str, str]]:
    f: dict[str, str] = {}
    put(f, F.NAME, r.get("name"))
    put(f, F.EXTENSION_ID, r.get("identifier"))
    put(f, F.VERSION, r.get("version"))
    put(f, F.PUBLISHER, r.get("author") or r.get("creator"))
    put(f, F.PATH, r.get("path"))
    return "browser-extension", f


def _processes(r: dict[str, Any]) -> tuple[str, dict[str, str]]:
    f: dict[str, str] = {}
    path = s(r.get("path"))
    put(f, F.PROCESS, r.get("name") or (_base(path) if path else ""))
    put(f, F.PATH, path)
    return "process", f


def _services(r: dict[str, Any]) -> tuple[str, dict[str, str]]:
    f: dict[str, str] = {}
    put(f, F.SERVICE, r.get("name"))
    put(f, F.NAME, r.get("display_name"))
    put(f, F.PATH, r.get("path") or r.get("module_path"))
    return "service", f


def _systemd(r: dict[str, Any]) -> tuple[str, dict[str, str]]:
    f: dict[str, str] = {}
    put(f, F.SERVICE, r.get("id"))
    put(f, F.NAME, r.get("description"))
    put(f, F.PATH, r.get("fragment_path"))
    return "service", f


def _drivers(r: dict[str, Any]) -> tuple[str, dict[str, str]]:
    f: dict[str, str] = {}
    image = s(r.get("image"))
    put(f, F.DRIVER, _base(image) if image else r.get("service"))
    put(f, F.NAME, r.get("device_name") or r.get("description"))
    put(f, F.PUBLISHER, r.get("provider") or r.get("manufacturer"))
    put(f, F.VERSION, r.get("version"))
    put(f, F.PATH, image)
    put(f, F.SERVICE, r.get("service"))
    return "driver", f


def _kmod(r: dict[str, Any]) -> tuple[str, dict[str, str]]:
    f: dict[str, str] = {}
    put(f, F.KERNEL_MODULE, r.get("name"))
    put(f, F.VERSION, r.get("version"))
    put(f, F.PATH, r.get("path"))
    return "kernel-module", f


def _authenticode(r: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A signed file: its path, the signer (certificate subject) and the program name it was signed for."""
    f: dict[str, str] = {}
    subject = s(r.get("subject_name"))
    put(f, F.PUBLISHER, x500_org(subject) if is_x500(subject) else subject)
    put(f, F.NAME, r.get("original_program_name"))
    put(f, F.PATH, r.get("path"))
    return "file", f


def _prefetch(r: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A Windows prefetch entry: an executable that ran (``filename``), even if it is gone since."""
    f: dict[str, str] = {}
    put(f, F.PROCESS, r.get("filename"))
    put(f, F.PATH, r.get("path"))
    return "process", f


def _file(r: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A file on disk; on Windows with the PE ``original_filename`` and version columns."""
    f: dict[str, str] = {}
    put(f, F.PATH, r.get("path"))
    put(f, F.NAME, r.get("original_filename"))
    put(f, F.VERSION, r.get("product_version") or r.get("file_version"))
    return "file", f


def _network(table: str) -> Callable[[dict[str, Any]], tuple[str, dict[str, str]]]:
    cols = ("address", "mac", "permanent") if table == ARP_CACHE else ("interface", "mac", "type")

    def conv(r: dict[str, Any]) -> tuple[str, dict[str, str]]:
        return "device", network_row(cols, r) or {}

    return conv


TABLES: dict[str, tuple[Callable[[dict[str, Any]], tuple[str, dict[str, str]]], EvidenceClass]] = {
    "programs": (_programs, INSTALLED),
    "apps": (_apps, INSTALLED),
    "deb_packages": (_pkg("deb", "maintainer"), INSTALLED),
    "rpm_packages": (_pkg("rpm", "vendor"), INSTALLED),
    "python_packages": (_pkg("pypi", "author"), INSTALLED),
    "npm_packages": (_pkg("npm", "author"), INSTALLED),
    "homebrew_packages": (_pkg("homebrew", "_none_"), INSTALLED),
    "chrome_extensions": (_extension, INSTALLED),
    "firefox_addons": (_extension, INSTALLED),
    "processes": (_processes, RUNTIME),
    "services": (_services, RUNTIME),
    "systemd_units": (_systemd, RUNTIME),
    "drivers": (_drivers, RUNTIME),
    "kernel_modules": (_kmod, RUNTIME),
    "kernel_extensions": (_kmod, RUNTIME),
    "authenticode": (_authenticode, INSTALLED),
    "file": (_file, INSTALLED),
    "prefetch": (_prefetch, RUNTIME),
    ARP_CACHE: (_network(ARP_CACHE), EvidenceClass.NETWORK_DEVICE),
    INTERFACE_DETAILS: (_network(INTERFACE_DETAILS), EvidenceClass.NETWORK_DEVICE),
}
# tables whose rows carry no product evidence when a row has nothing usable: counted, not a problem
_QUIET = frozenset({ARP_CACHE, INTERFACE_DETAILS})


# ------------------------------------------------------------------------------------ helpers


def _str_after(line: str, key: str, start: int = 0, end: int | None = None) -> str | None:
    """The string value of ``"key": "value"`` found in ``line`` by slicing, without a JSON parse."""
    i = line.find(key, start, end if end is not None else len(line))
    if i < 0:
        return None
    j = i + len(key)
    n = len(line)
    while j < n and line[j] in " \t:":
        j += 1
    if j >= n or line[j] != '"':
        return None
    e = line.find('"', j + 1)
    return line[j + 1 : e] if e > 0 else None


_TS_CACHE: dict[Any, str | None] = {}


def _when(doc: dict[str, Any]) -> str | None:
    ut = doc.get("unixTime")
    if ut is None or not isinstance(ut, (int, str, float)) or isinstance(ut, bool):
        return None
    if isinstance(ut, str) and (len(ut) > 20 or not ut.strip().isdigit()):
        return None
    got = _TS_CACHE.get(ut, "")
    if got != "":
        return got
    try:
        iso = dt.datetime.fromtimestamp(int(ut), dt.UTC).isoformat().replace("+00:00", "Z")
    except (TypeError, ValueError, OverflowError, OSError):
        iso = None
    if len(_TS_CACHE) > 4096:
        _TS_CACHE.clear()
    _TS_CACHE[ut] = iso
    return iso


def _doc_asset(doc: dict[str, Any], default: str) -> str:
    for v in (doc.get("hostIdentifier"), doc.get("hostname")):
        if s(v):
            return s(v)
    deco = doc.get("decorations")
    if isinstance(deco, dict) and s(deco.get("hostname")):
        return s(deco["hostname"])
    return default


def _is_results_doc(d: Any) -> bool:
    return isinstance(d, dict) and (
        "columns" in d or "snapshot" in d or "diffResults" in d
    ) and ("name" in d or "hostIdentifier" in d or "hostname" in d)


# ------------------------------------------------------------------------------------ source


class OsquerySource:
    name = "osquery"
    description = "osquery results: osqueryi --json output and osqueryd results logs (event/snapshot/batch)"
    documentation_url = "https://osquery.readthedocs.io/en/stable/deployment/logging/"

    @property
    def tables(self) -> tuple[str, ...]:
        """The osquery tables whose rows are observed, in both shapes."""
        return tuple(TABLES)

    def sniff(self, head: bytes, path: str) -> bool:
        t = text_head(head).lstrip()
        if t.startswith("{"):
            if '"hostIdentifier"' in t and ('"columns"' in t or '"snapshot"' in t or '"diffResults"' in t):
                return True
            return ('"diffResults"' in t or '"snapshot"' in t or '"columns"' in t) and (
                '"calendarTime"' in t or '"unixTime"' in t
            )
        if t.startswith("["):
            body = t[1:].lstrip()
            if body.startswith("]"):
                return False
            if not body.startswith("{"):
                return False
            try:
                row, _ = json.JSONDecoder().raw_decode(body)
            except ValueError:
                return False
            # osquery 5 prints typed numbers with --json; older releases print every value as text
            return isinstance(row, dict) and all(
                v is None or isinstance(v, (str, int, float, bool)) for v in row.values()
            ) and classify(row.keys()) is not None
        return False

    # ---------------------------------------------------------------------------------- read
    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Observation | Problem]:
        # the first byte that is not white space decides: '[' is osqueryi --json output
        peek = getattr(stream, "peek", None)
        first_byte = b""
        if peek is not None:
            while True:
                chunk = peek(1)
                if not chunk:
                    break
                stripped = chunk.lstrip(b" \t\r\n")
                if stripped:
                    first_byte = stripped[:1]
                    break
                stream.read(len(chunk))
        if first_byte == b"[":
            yield from self._read_array(stream, ctx)
            return
        lines = bounded_lines(stream, ctx.limits)
        first = b""
        lineno = 0
        for lineno, raw in lines:
            if raw is None:
                ctx.long_line(lineno)
                continue
            if raw.strip():
                first = raw
                break
        if not first:
            return
        stripped_first = first.strip()
        if stripped_first.startswith(b"["):
            yield from self._read_array(_Prepend(first, stream), ctx)
            return
        try:
            d = json.loads(stripped_first)
        except (ValueError, RecursionError):
            d = None
        if isinstance(d, dict):
            yield from self._read_lines(first, lineno, lines, ctx)
        else:
            yield from self._read_documents(first, lineno, stream, ctx)

    # osqueryi --json ------------------------------------------------------------------------
    def _read_array(self, stream: Any, ctx: ReadContext) -> Iterator[Observation | Problem]:
        reader = CountingReader(stream, ctx.limits)
        keys: Any = None
        table: str | None = None
        i = -1
        unknown = 0
        try:
            for i, row in enumerate(ijson.items(reader, "item")):
                if not isinstance(row, dict):
                    yield Problem(ctx.loc(f"/{i}"), "row is not a JSON object")
                    continue
                if row.keys() != keys:
                    keys = row.keys()
                    table = classify(keys)
                if table is None:
                    unknown += 1
                    ctx.observations += 1
                    continue
                try:
                    yield from self._row(row, table, ctx.asset, None, f"/{i}", ctx)
                except Exception as exc:  # noqa: BLE001 - one bad row is skipped, the rest is read
                    ctx.record_error(f"/{i}", f"{type(exc).__name__}: {exc}")
        except (ijson.JSONError, ijson.IncompleteJSONError, ValueError) as exc:
            yield Problem(ctx.loc(f"/{i + 1}"), json_error_message(exc, reader), fatal=True)
            return
        if unknown:
            ctx.deviation(f"{unknown} row(s) of an unrecognised table were not observed")

    # results log, one JSON object per line -------------------------------------------------
    def _read_lines(
        self, first: bytes, first_lineno: int, lines: Iterator[tuple[int, bytes | None]], ctx: ReadContext
    ) -> Iterator[Observation | Problem]:
        prefilter = ctx.prefilter
        tables: dict[Any, str | None] = {}  # query name (lines skipped) or (query, columns) (rows read) -> table
        removed = 0
        unknown = 0
        default = ctx.asset
        pending: dict[tuple[str, EvidenceClass], int] = {}  # skipped rows, flushed at the end
        try:
            for lineno, raw in _chain_first(first_lineno, first, lines):
                if raw is None:
                    ctx.long_line(lineno)
                    continue
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError:
                    line = raw.decode("utf-8", errors="replace")
                    ctx.deviation("input is not valid UTF-8; undecodable bytes replaced")
                ok = prefilter is None or prefilter(line)
                if not ok and not line.endswith("\n") and not line.rstrip().endswith("}"):
                    ok = True  # the input ends inside this line: parse it, to report it
                if not ok:
                    ci = line.find('"columns"')
                    if ci >= 0:
                        # fast path: a one-row event line that no signature can match
                        if '"removed"' in line and _str_after(line, '"action"') == "removed":
                            removed += 1
                            continue
                        qname = _str_after(line, '"name"', 0, ci)
                        if qname is None:
                            qname = _str_after(line, '"name"', line.find("}", ci)) or ""
                        table = tables.get(qname, "?")
                        if table == "?":
                            table = tables[qname] = self._table_of_line(line, qname)
                        if table is None:
                            unknown += 1
                            continue
                        if table not in _QUIET:  # network rows are never prefiltered
                            i = line.find('"hostIdentifier":"')
                            if i >= 0:
                                asset = line[i + 18 : line.find('"', i + 18)]
                            else:
                                asset = (
                                    _str_after(line, '"hostIdentifier"')
                                    or _str_after(line, '"hostname"')
                                    or default
                                )
                            key = (asset, TABLES[table][1])
                            pending[key] = pending.get(key, 0) + 1
                            continue
                        ok = True
                if not line.strip():
                    continue
                try:
                    doc = loads(line, raw)
                except (ValueError, RecursionError) as exc:
                    if not line.endswith("\n"):
                        yield Problem(
                            ctx.loc(f"line {lineno}"),
                            f"truncated JSON at line {lineno} (the input ends inside it): {exc}",
                            fatal=True,
                        )
                        return
                    yield Problem(ctx.loc(f"line {lineno}"), f"invalid JSON at line {lineno}: {exc}")
                    continue
                try:
                    r, u, probs = yield from self._doc(doc, f"line {lineno} ", tables, ctx, skip=not ok)
                except Exception as exc:  # noqa: BLE001 - one bad record is skipped, the rest is read
                    ctx.record_error(f"line {lineno}", f"{type(exc).__name__}: {exc}")
                    continue
                removed += r
                unknown += u
                yield from probs
        finally:
            for (asset, ec), n in pending.items():
                ctx.skipped(asset, ec, n)
            ctx.observations += removed + unknown
            self._notes(removed, unknown, ctx)

    def _table_of_line(self, line: str, qname: str) -> str | None:
        try:
            doc = json.loads(line)
        except (ValueError, RecursionError):
            return None
        cols = doc.get("columns") if isinstance(doc, dict) else None
        return classify(cols.keys(), qname) if isinstance(cols, dict) else None

    # pretty-printed documents ---------------------------------------------------------------
    def _read_documents(
        self, first: bytes, first_lineno: int, stream: BinaryIO, ctx: ReadContext
    ) -> Iterator[Observation | Problem]:
        cap = ctx.limits.max_document_bytes
        data = first + stream.read(cap + 1 - len(first))
        if len(data) > cap:
            raise LimitExceeded("max_document_bytes", cap,
                                "pretty-printed osquery results are read whole")
        text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
        dec = json.JSONDecoder()
        pos = 0
        n = len(text)
        docs: list[tuple[int, Any]] = []
        while True:
            while pos < n and text[pos] in " \t\r\n":
                pos += 1
            if pos >= n:
                break
            try:
                doc, end = dec.raw_decode(text, pos)
            except (ValueError, RecursionError) as exc:
                at = getattr(exc, "pos", pos)
                line = first_lineno + text.count("\n", 0, at)
                offset = len(text[:at].encode("utf-8", "surrogatepass"))
                yield Problem(
                    ctx.loc(f"line {line}"),
                    f"invalid or truncated JSON at line {line}, byte offset {offset}: {exc}",
                    fatal=True,
                )
                return
            docs.append((first_lineno + text.count("\n", 0, pos), doc))
            pos = end
        del text, data
        tables: dict[Any, str | None] = {}
        removed = unknown = 0
        single = len(docs) == 1
        for line, doc in docs:
            prefix = "" if single else f"line {line} "
            try:
                r, u, probs = yield from self._doc(doc, prefix, tables, ctx, skip=False)
            except Exception as exc:  # noqa: BLE001 - one bad record is skipped, the rest is read
                ctx.record_error(f"line {line}", f"{type(exc).__name__}: {exc}")
                continue
            removed += r
            unknown += u
            yield from probs
        ctx.observations += removed + unknown
        self._notes(removed, unknown, ctx)

    # one results document --------------------------------------------------------------------
    def _doc(
        self, doc: Any, where: str, tables: dict[Any, str | None], ctx: ReadContext, skip: bool
    ) -> Any:
        """Observations of one results document; returns (removed, unknown, problems)."""
        probs: list[Problem] = []
        if not _is_results_doc(doc):
            probs.append(Problem(ctx.loc(where.strip() or "/"), "not an osquery results record"))
            return 0, 0, probs
        qname = s(doc.get("name"))
        asset = _doc_asset(doc, ctx.asset)
        when = _when(doc)
        removed = unknown = 0
        rows: list[tuple[str, Any]] = []
        if "columns" in doc:
            if doc.get("action") == "removed":
                return 1, 0, probs
            rows.append((where.strip(), doc["columns"]))
        elif "snapshot" in doc:
            snap = doc["snapshot"]
            if isinstance(snap, list):
                rows.extend((f"{where}/snapshot/{i}", r) for i, r in enumerate(snap))
        else:
            diff = doc.get("diffResults")
            if isinstance(diff, dict):
                gone = diff.get("removed")
                if isinstance(gone, list):
                    removed += len(gone)
                added = diff.get("added")
                if isinstance(added, list):
                    rows.extend((f"{where}/diffResults/added/{i}", r) for i, r in enumerate(added))
        for loc, row in rows:
            loc = loc or "/"
            if not isinstance(row, dict):
                probs.append(Problem(ctx.loc(loc), "row is not a JSON object"))
                continue
            # each row's table by its own columns (and its query's name), not by the first row of
            # its query: then a row reads the same wherever the rows before it were read (the block
            # scanner reads a block's lines without the earlier blocks')
            key = (qname, tuple(row))
            table = tables.get(key, "?")
            if table == "?":
                if len(tables) > _MAX_TABLE_KEYS:
                    tables.clear()  # (a log whose rows have ever other columns: bounded memory)
                table = tables[key] = classify(row.keys(), qname)
            if table is None:
                unknown += 1
                continue
            if skip:
                ctx.skipped(asset, TABLES[table][1])
                continue
            yield from self._row(row, table, asset, when, loc, ctx)
        return removed, unknown, probs

    def _row(
        self, row: dict[str, Any], table: str, asset: str, when: str | None, loc: str, ctx: ReadContext
    ) -> Iterator[Observation | Problem]:
        conv, ec = TABLES[table]
        kind, fields = conv(row)
        if not fields:
            if table == ARP_CACHE:  # an incomplete or multicast neighbour: read, no device
                ctx.observations += 1
                return
            if table in _QUIET:  # an interface without a unicast MAC (loopback, tunnel)
                ctx.skipped(asset, ec)
                return
            yield Problem(ctx.loc(loc), f"{table} row has no usable columns")
            return
        if table == ARP_CACHE:  # a neighbour is an asset of its own
            asset = fields.get(F.IP) or fields.get(F.MAC) or asset
        fields["osquery_table"] = table
        yield Observation(kind, asset, fields, ctx.loc(loc), ec, when)

    def _notes(self, removed: int, unknown: int, ctx: ReadContext) -> None:
        if removed:
            ctx.deviation(f"{removed} row(s) with action 'removed' skipped (no longer present)")
        if unknown:
            ctx.deviation(f"{unknown} row(s) of tables that list no software were not observed")


class _Prepend:
    """``first`` followed by the rest of ``stream`` (for parsers that read by size)."""

    def __init__(self, first: bytes, stream: BinaryIO) -> None:
        self.first = first
        self.stream = stream

    def read(self, n: int = -1) -> bytes:
        if self.first:
            if n < 0:
                out, self.first = self.first + self.stream.read(), b""
                return out
            out, self.first = self.first[:n], self.first[n:]
            return out
        return self.stream.read(n)


def _chain_first(first_lineno: int, first: bytes,
                 rest: Iterator[tuple[int, bytes | None]]) -> Iterator[tuple[int, bytes | None]]:
    """The first line, then the others (never delegating to the stream itself: closing this
    generator must not close the input)."""
    yield first_lineno, first
    yield from rest  # a line generator: closing it leaves the stream open


SOURCE = OsquerySource()

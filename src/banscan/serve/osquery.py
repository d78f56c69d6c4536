"""osquery's remote API (the ``tls`` enroll, config, logger and distributed plugins).

Specification: https://osquery.readthedocs.io/en/stable/deployment/remote/ ("Remotely
interfacing osquery") and https://osquery.readthedocs.io/en/stable/deployment/logging/ (result
log formats: event, snapshot and batch; status logs).

* ``POST /api/osquery/enroll``: the enroll secret (``--enroll-secret-file``) buys a node key;
  the node becomes an asset named by its ``host_identifier``.
* ``POST /api/osquery/config``: a schedule of the inventory queries banscan reads.
* ``POST /api/osquery/log``: result logs (snapshot, differential batch or event form) update the
  rows the node holds for each query; status logs are counted.  Bodies may be gzip-compressed.
  The answer comes only after the batch is committed.
* ``POST /api/osquery/distributed/read`` and ``/write``: "scan now" asks the node to run every
  inventory query at once; the answers replace its rows.

A node key that is missing or unknown gets ``{"node_invalid": true}`` (HTTP 200, as osquery's
client re-enrolls only on a successful response carrying that flag).

The node's evidence is kept row by row (``osquery_rows``), so a differential log adds and removes
rows.  A node whose rows changed is marked dirty; an evaluator re-scans its full current rows
through the same osquery reader, matcher and policy as ``banscan scan`` and records the scan in
the store (which opens and resolves findings as for any other scan of the asset).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import math
import threading
import time
import zlib
from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import and_, bindparam, delete, select, update
from sqlalchemy.engine import Connection

from banscan.serve import nodeeval
from banscan.serve.auth import service
from banscan.serve.tokens import new_node_key, node_key_digest
from banscan.store import db
from banscan.store.core import loads
from banscan.store.service_tables import osquery_nodes, osquery_rows

log = logging.getLogger("banscan.serve.osquery")

router = APIRouter(prefix="/api/osquery", tags=["osquery"])

INVALID = {"node_invalid": True}
CHECKIN_LOCK_KEY = 0x62616E73656E72  # PostgreSQL advisory lock of the check-in writes
OSQUERY_DOC = {"x-required-scope": "osquery-node",
               "description": "Authenticated by the node key in the JSON body (enroll: by the enroll secret); "
                              "an invalid key is answered {\"node_invalid\": true}."}

# The inventory queries banscan reads: (table, platform, query).  Platform as osquery's
# schedule 'platform' key; None runs everywhere.
QUERIES: tuple[tuple[str, str | None, str], ...] = (
    ("programs", "windows", "SELECT * FROM programs;"),
    ("apps", "darwin", "SELECT * FROM apps;"),
    ("deb_packages", "linux", "SELECT * FROM deb_packages;"),
    ("rpm_packages", "linux", "SELECT * FROM rpm_packages;"),
    ("python_packages", None, "SELECT * FROM python_packages;"),
    ("npm_packages", None, "SELECT * FROM npm_packages;"),
    ("homebrew_packages", "darwin", "SELECT * FROM homebrew_packages;"),
    ("chrome_extensions", None, "SELECT * FROM users CROSS JOIN chrome_extensions USING (uid);"),
    ("firefox_addons", None, "SELECT * FROM users CROSS JOIN firefox_addons USING (uid);"),
    ("processes", None, "SELECT pid, name, path, cmdline FROM processes;"),
    ("services", "windows", "SELECT * FROM services;"),
    ("systemd_units", "linux", "SELECT * FROM systemd_units;"),
    ("drivers", "windows", "SELECT * FROM drivers;"),
    ("kernel_modules", "linux", "SELECT * FROM kernel_modules;"),
    ("kernel_extensions", "darwin", "SELECT * FROM kernel_extensions;"),
    ("arp_cache", None, "SELECT * FROM arp_cache;"),
    ("interface_details", None, "SELECT * FROM interface_details;"),
)
QUERY_PREFIX = "banscan_"
MAX_DECOMPRESSED = 256 << 20
CACHE_MAX = 500_000  # node keys held in memory at most


def schedule(interval: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for table, platform, sql in QUERIES:
        q: dict[str, Any] = {"query": sql, "interval": interval, "removed": True}
        if platform:
            q["platform"] = platform
        out[QUERY_PREFIX + table] = q
    return out


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- request bodies


# request bodies are read as the CLI reads files: ``json.loads`` results, with orjson where it gives
# the same (integers beyond 64 bits, NaN, lone surrogate escapes go to the json module)
jloads = loads


def jdumps(v: Any, sort: bool = False) -> str:
    try:
        out = orjson.dumps(v, option=orjson.OPT_SORT_KEYS if sort else 0)
    except TypeError:  # lone surrogates, integers beyond 64 bits: the json module writes them
        return json.dumps(v, sort_keys=sort, ensure_ascii=True, separators=(",", ":"))
    if b"null" in out and _non_finite(v):  # orjson writes NaN and infinities as null
        return json.dumps(v, sort_keys=sort, ensure_ascii=True, separators=(",", ":"))
    return out.decode("utf-8")


def _non_finite(v: Any) -> bool:
    if isinstance(v, float):
        return not math.isfinite(v)
    if isinstance(v, dict):
        return any(_non_finite(x) for x in v.values())
    if isinstance(v, list):
        return any(_non_finite(x) for x in v)
    return False


async def _json_body(request: Request) -> Any:
    """The JSON body, gunzipped when sent compressed (never inflated past the body limit).
    The decompressed bytes are kept in ``request.state.raw_body`` (their digest names the batch)."""
    raw = await request.body()
    limit = min(service(request).config.max_body_bytes * 4, MAX_DECOMPRESSED)
    if request.headers.get("content-encoding", "").lower() == "gzip" or raw[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(wbits=47)  # gzip or zlib header
        try:
            data = d.decompress(raw, limit)
        except zlib.error:
            raise HTTPException(400, "the body is not valid gzip") from None
        if d.unconsumed_tail:
            raise HTTPException(413, f"the decompressed body is larger than {limit} bytes")
        request.state.raw_gzip = True
        request.state.received_body = raw
        raw = data
    request.state.raw_body = raw
    try:
        return jloads(raw)
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, "the body is not JSON") from None


class Nodes:
    """Node keys to (node id, asset), cached; last check-ins kept in memory and written in bulk."""

    def __init__(self) -> None:
        self.cache: dict[str, tuple[int, str]] = {}
        self.seen: dict[int, str] = {}
        self.due: dict[int, float] = {}  # node id -> when its pending evaluation is due (monotonic)
        self.scan_requested: dict[int, str | None] | None = None  # node id -> platform, loaded lazily
        self.lock = threading.Lock()

    def cached(self, key: Any) -> tuple[int, str] | None:
        if not isinstance(key, str) or not key or len(key) > 200:
            return None
        hit = self.cache.get(node_key_digest(key))
        if hit is not None:
            self.seen[hit[0]] = _now()
        return hit

    def lookup(self, svc: Any, key: Any) -> tuple[int, str] | None:
        if not isinstance(key, str) or not key or len(key) > 200:
            return None
        digest = node_key_digest(key)
        hit = self.cache.get(digest)
        if hit is None:
            with db.reading(svc.store.engine) as conn:
                r = conn.execute(select(osquery_nodes.c.id, osquery_nodes.c.asset)
                                 .where(osquery_nodes.c.node_key_hash == digest)).first()
            if r is None:
                return None
            hit = (int(r.id), str(r.asset))
            if len(self.cache) > CACHE_MAX:
                self.cache.clear()
            self.cache[digest] = hit
        self.seen[hit[0]] = _now()
        return hit

    def preload(self, svc: Any) -> int:
        """Load every node's key digest (and the nodes asked to "scan now") in one read, so that
        the requests arriving right after a start or restart are answered from memory instead of
        each waiting for a lookup of its own (and a database connection to make it)."""
        with db.reading(svc.store.engine) as conn:
            rows = conn.execute(select(osquery_nodes.c.node_key_hash, osquery_nodes.c.id, osquery_nodes.c.asset,
                                       osquery_nodes.c.platform, osquery_nodes.c.scan_requested)
                                .order_by(osquery_nodes.c.id).limit(CACHE_MAX)).all()
        for r in rows:
            self.cache.setdefault(str(r.node_key_hash), (int(r.id), str(r.asset)))
        if self.scan_requested is None and len(rows) < CACHE_MAX:
            self.scan_requested = {int(r.id): r.platform for r in rows if r.scan_requested}
        return len(rows)

    def schedule(self, node_id: int, delay: float) -> None:
        """Evaluate ``node_id`` within ``delay`` seconds (an earlier schedule stands)."""
        due = time.monotonic() + delay
        with self.lock:
            if due < self.due.get(node_id, float("inf")):
                self.due[node_id] = due

    def is_due(self, node_id: int) -> bool:
        """Dirty nodes not scheduled (e.g. left from before a restart) are due at once."""
        return self.due.get(node_id, 0.0) <= time.monotonic()

    def done(self, node_id: int) -> None:
        with self.lock:
            self.due.pop(node_id, None)

    def requested(self, svc: Any) -> dict[int, str | None]:
        """Nodes asked to "scan now" (kept in memory; the database holds them across restarts)."""
        if self.scan_requested is None:
            with db.reading(svc.store.engine) as conn:
                rows = conn.execute(select(osquery_nodes.c.id, osquery_nodes.c.platform)
                                    .where(osquery_nodes.c.scan_requested > 0)).all()
            self.scan_requested = {int(r.id): r.platform for r in rows}
        return self.scan_requested

    def forget(self, digest: str) -> None:
        self.cache.pop(digest, None)

    def flush_seen(self, svc: Any) -> None:
        with self.lock:
            seen, self.seen = self.seen, {}
        if not seen:
            return

        stmt = update(osquery_nodes).where(osquery_nodes.c.id == bindparam("nid")).values(
            last_seen_at=bindparam("at"))
        params = [{"nid": nid, "at": at} for nid, at in sorted(seen.items())]
        # one statement for all (executemany); check-ins touch no lifecycle row: no need to wait for scans
        db.write(svc.store.engine, lambda conn: conn.execute(stmt, params), lock=CHECKIN_LOCK_KEY)


def nodes_of(svc: Any) -> Nodes:
    n = getattr(svc, "_osquery_nodes", None)
    if n is None:
        n = svc._osquery_nodes = Nodes()
    return n


async def _node(request: Request, body: Any) -> tuple[int, str] | None:
    svc = service(request)
    key = body.get("node_key") if isinstance(body, dict) else None
    nodes = nodes_of(svc)
    node = nodes.cached(key)  # known keys: no thread hand-off
    if node is None:
        node = await run_in_threadpool(nodes.lookup, svc, key)
    if node is None:
        return None
    wait = svc.node_limiter.allow(f"node:{node[0]}")
    if wait:
        raise HTTPException(429, "rate limit exceeded for this node", headers={"Retry-After": str(int(wait) + 1)})
    return node


# --------------------------------------------------------------------------- enroll, config


def _asset_name(body: dict[str, Any]) -> str:
    hid = body.get("host_identifier")
    if isinstance(hid, str) and hid.strip():
        return hid.strip()[:500]
    details = body.get("host_details")
    if isinstance(details, dict):
        si = details.get("system_info")
        if isinstance(si, dict):
            for k in ("hostname", "computer_name", "uuid"):
                v = si.get(k)
                if isinstance(v, str) and v.strip():
                    return v.strip()[:500]
    raise HTTPException(400, "host_identifier is missing")


def _platform(body: dict[str, Any]) -> str | None:
    details = body.get("host_details")
    if isinstance(details, dict):
        for table, key in (("os_version", "platform"), ("platform_info", "platform"), ("osquery_info", "platform")):
            t = details.get(table)
            if isinstance(t, dict) and isinstance(t.get(key), str):
                return str(t[key])[:64]
    return None


@router.post("/enroll", openapi_extra=OSQUERY_DOC, summary="osquery tls enroll: enroll secret → node key")
async def enroll(request: Request) -> dict[str, Any]:
    svc = service(request)
    body = await _json_body(request)
    if not isinstance(body, dict):
        return INVALID
    given = body.get("enroll_secret")
    from banscan.serve.enroll import accepts

    key, digest = new_node_key()
    details = body.get("host_details") if isinstance(body.get("host_details"), dict) else {}
    platform = _platform(body)

    def _tx(conn: Connection, asset: str) -> int:
        r = conn.execute(select(osquery_nodes.c.id, osquery_nodes.c.node_key_hash)
                         .where(osquery_nodes.c.host_identifier == asset)).first()
        now = _now()
        if r is not None:  # a node enrolling again (new install, lost key): same asset, new key
            nodes_of(svc).forget(r.node_key_hash)
            conn.execute(update(osquery_nodes).where(osquery_nodes.c.id == r.id).values(
                node_key_hash=digest, enrolled_at=now, platform=platform,
                host_details=json.dumps(details, ensure_ascii=False)))
            return int(r.id)
        pk = conn.execute(osquery_nodes.insert().values(
            node_key_hash=digest, asset=asset, host_identifier=asset, platform=platform,
            host_details=json.dumps(details, ensure_ascii=False), enrolled_at=now, last_seen_at=now, dirty=0,
            scan_requested=0)).inserted_primary_key
        assert pk is not None
        return int(pk[0])

    def _enroll() -> bool:  # one hand-off to a thread; enrolments queue on a lock of their own, never behind scans
        if not accepts(svc.store.engine, svc.config.enroll_secret, given):
            return False
        asset = _asset_name(body)  # 400 when the host cannot be named
        # enrolments of one host queue (one row per host); others commit side by side
        host_lock = int.from_bytes(hashlib.sha256(b"enroll:" + asset.encode("utf-8", "surrogatepass")).digest()[:8],
                                   "big", signed=True)
        db.write(svc.store.engine, lambda c: _tx(c, asset), lock=host_lock)
        return True

    if not await run_in_threadpool(_enroll):
        return INVALID
    return {"node_key": key, "node_invalid": False}


@router.post("/config", openapi_extra=OSQUERY_DOC, summary="osquery tls config: the inventory schedule")
async def config(request: Request) -> dict[str, Any]:
    body = await _json_body(request)
    if await _node(request, body) is None:
        return INVALID
    svc = service(request)
    return {"schedule": schedule(svc.config.osquery_interval), "node_invalid": False}


# --------------------------------------------------------------------------- logs


def _rowhash(row: dict[str, Any]) -> str:
    return hashlib.sha256(jdumps(row, sort=True).encode("utf-8", "surrogatepass")).hexdigest()


def _rows(v: Any) -> list[dict[str, Any]]:
    return [r for r in v if isinstance(r, dict)] if isinstance(v, list) else []


class Changes:
    """What one request does to a node's rows, per query."""

    def __init__(self) -> None:
        self.replace: dict[str, list[dict[str, Any]]] = {}
        self.added: dict[str, list[dict[str, Any]]] = {}
        self.removed: dict[str, list[dict[str, Any]]] = {}
        self.entries = 0

    def snapshot(self, q: str, rows: list[dict[str, Any]]) -> None:
        self.replace[q] = rows
        self.added.pop(q, None)
        self.removed.pop(q, None)

    def add(self, q: str, rows: list[dict[str, Any]]) -> None:
        if q in self.replace:
            self.replace[q].extend(rows)
        else:
            self.added.setdefault(q, []).extend(rows)

    def remove(self, q: str, rows: list[dict[str, Any]]) -> None:
        if q in self.replace:
            gone = {_rowhash(r) for r in rows}
            self.replace[q] = [r for r in self.replace[q] if _rowhash(r) not in gone]
        else:
            self.removed.setdefault(q, []).extend(rows)

    def result_entry(self, e: Any) -> None:
        if not isinstance(e, dict):
            return
        q = e.get("name")
        if not isinstance(q, str) or not q:
            return
        q = q[:200]
        self.entries += 1
        if "snapshot" in e:
            self.snapshot(q, _rows(e.get("snapshot")))
        elif isinstance(e.get("diffResults"), dict):
            diff = e["diffResults"]
            if str(e.get("counter", "")) == "0" and q not in self.replace:
                # counter 0: the first run of a differential query, its 'added' is the whole state
                self.snapshot(q, [])
            self.remove(q, _rows(diff.get("removed")))
            self.add(q, _rows(diff.get("added")))
        elif isinstance(e.get("columns"), dict):
            if e.get("action") == "removed":
                self.remove(q, [e["columns"]])
            else:
                self.add(q, [e["columns"]])

    @property
    def empty(self) -> bool:
        return not (self.replace or self.added or self.removed)


def _apply(conn: Connection, node_id: int, ch: Changes, may_match: Any) -> tuple[int, int, bool]:
    """Apply the changes; returns (rows added, rows removed, whether a changed row may hold a
    product signature)."""
    from sqlalchemy.dialects import postgresql, sqlite

    ins = (sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert)(osquery_rows)
    added = removed = 0
    interesting = False
    values = []
    for q, rows in ch.replace.items():  # a snapshot: delete what is gone, insert what is new
        new = {_rowhash(r): r for r in rows}
        old = {r.row_hash: r.row for r in conn.execute(select(osquery_rows.c.row_hash, osquery_rows.c.row).where(and_(
            osquery_rows.c.node_id == node_id, osquery_rows.c.query == q)))}
        gone = [h for h in old if h not in new]
        interesting = interesting or any(may_match(old[h]) for h in gone)
        for i in range(0, len(gone), 500):
            removed += conn.execute(delete(osquery_rows).where(and_(
                osquery_rows.c.node_id == node_id, osquery_rows.c.query == q,
                osquery_rows.c.row_hash.in_(gone[i:i + 500])))).rowcount or 0
        for h, r in new.items():
            if h not in old:
                text = jdumps(r)
                interesting = interesting or may_match(text)
                values.append({"node_id": node_id, "query": q, "row_hash": h, "row": text})
    for q, rows in ch.removed.items():
        hashes = list({_rowhash(r) for r in rows})
        interesting = interesting or any(may_match(jdumps(r)) for r in rows)
        for i in range(0, len(hashes), 500):
            removed += conn.execute(delete(osquery_rows).where(and_(
                osquery_rows.c.node_id == node_id, osquery_rows.c.query == q,
                osquery_rows.c.row_hash.in_(hashes[i:i + 500])))).rowcount or 0
    for q, rows in ch.added.items():
        for r in rows:
            text = jdumps(r)
            interesting = interesting or may_match(text)
            values.append({"node_id": node_id, "query": q, "row_hash": _rowhash(r), "row": text})
    for i in range(0, len(values), 500):
        chunk = values[i:i + 500]
        res = conn.execute(ins.on_conflict_do_nothing(), chunk)
        # some drivers cannot count rows of a multi-row insert (-1): count what was sent
        added += res.rowcount if res.rowcount is not None and res.rowcount >= 0 else len(chunk)
    return added, removed, interesting


def _encoding(request: Request) -> str:
    return "gzip" if getattr(request.state, "raw_gzip", False) else "identity"


async def _enqueue(request: Request, node_id: int, log_type: str) -> None:
    """Commit the batch to the inbox (the answer waits for the commit); 503 when it cannot be
    committed, so that osqueryd keeps the batch and sends it again."""
    from banscan.serve.inbox import inbox_of

    svc = service(request)
    digest = hashlib.sha256(request.state.raw_body).hexdigest()
    body = request.state.received_body if _encoding(request) == "gzip" else request.state.raw_body
    try:
        await inbox_of(svc).append(node_id, log_type, body, _encoding(request), digest)
    except Exception:  # noqa: BLE001 - not committed: not acknowledged
        log.exception("could not commit an osquery batch of node %s", node_id)
        raise HTTPException(503, "the batch could not be stored; send it again",
                            headers={"Retry-After": "5"}) from None


@router.post("/log", openapi_extra=OSQUERY_DOC, summary="osquery tls logger: result and status logs")
async def log_endpoint(request: Request) -> dict[str, Any]:
    """The batch is acknowledged once committed to the inbox; it is applied to the node's rows
    and evaluated right after, in the background (see :mod:`banscan.serve.inbox`)."""
    body = await _json_body(request)
    node = await _node(request, body)
    if node is None:
        return INVALID
    log_type = body.get("log_type")
    data = body.get("data")
    if log_type not in ("result", "status") or not isinstance(data, list):
        raise HTTPException(400, "a log needs log_type (result or status) and a data list")
    await _enqueue(request, node[0], log_type)
    return {"node_invalid": False}


# --------------------------------------------------------------------------- distributed


DIST_PREFIX = "banscan_scan_"


@router.post("/distributed/read", openapi_extra=OSQUERY_DOC, summary="osquery tls distributed read")
async def distributed_read(request: Request) -> dict[str, Any]:
    body = await _json_body(request)
    node = await _node(request, body)
    if node is None:
        return INVALID
    svc = service(request)

    requested = nodes_of(svc).requested(svc) if nodes_of(svc).scan_requested is not None else \
        await run_in_threadpool(nodes_of(svc).requested, svc)
    if node[0] not in requested:
        return {"queries": {}, "node_invalid": False}
    platform = requested[node[0]]
    fam = _platform_family(platform)
    queries = {DIST_PREFIX + t: sql for t, p, sql in QUERIES if p is None or fam is None or p == fam}
    return {"queries": queries, "node_invalid": False}


def _platform_family(platform: str | None) -> str | None:
    if not platform:
        return None
    p = platform.lower()
    if p in ("windows",):
        return "windows"
    if p in ("darwin",):
        return "darwin"
    return "linux" if p not in ("freebsd",) else None


@router.post("/distributed/write", openapi_extra=OSQUERY_DOC, summary="osquery tls distributed write")
async def distributed_write(request: Request) -> dict[str, Any]:
    body = await _json_body(request)
    node = await _node(request, body)
    if node is None:
        return INVALID
    svc = service(request)
    await _enqueue(request, node[0], "distributed")

    def _done() -> None:
        db.write(svc.store.engine, lambda c: c.execute(update(osquery_nodes).where(
            osquery_nodes.c.id == node[0]).values(scan_requested=0)), lock=None)
        nodes_of(svc).requested(svc).pop(node[0], None)

    await run_in_threadpool(_done)
    return {"node_invalid": False}


# --------------------------------------------------------------------------- evaluation


def _events(svc: Any) -> asyncio.Event:
    ev = getattr(svc, "_osquery_wake", None)
    if ev is None:
        ev = svc._osquery_wake = asyncio.Event()
    return ev


def wake(svc: Any) -> None:
    _events(svc).set()


def evaluate_dirty(svc: Any, limit: int = 50) -> int:
    """Re-scan due nodes whose rows changed, in this thread; returns how many were evaluated."""
    nodes = nodes_of(svc)
    due = nodeeval.due_nodes(svc.store.engine, nodes.is_due, limit)
    duty = min(max(float(svc.config.evaluator_duty), 0.05), 1.0)
    for n in due:
        t = time.perf_counter()
        nodeeval.evaluate_node(svc, n)
        nodes.done(n[0])
        # share the interpreter with the requests: rest as long as the evaluation took (at duty 0.5)
        time.sleep((time.perf_counter() - t) * (1 - duty) / duty)
    return len(due)


def drain(svc: Any) -> None:
    """Flush check-ins on shutdown (dirty nodes stay marked and are evaluated at the next start)."""
    try:
        nodes_of(svc).flush_seen(svc)
    except Exception:  # noqa: BLE001 - shutting down
        log.exception("could not record the last check-ins")


async def evaluator(svc: Any) -> None:
    """Evaluate dirty nodes as they come (and those left from before a restart), in a thread of
    this process (``ServeConfig.evaluator == "thread"``; see :mod:`banscan.serve.worker` for the
    worker process), and record the nodes' check-ins."""
    ev = _events(svc)
    nodes = nodes_of(svc)
    last_flush = time.monotonic()
    while True:
        n = 0
        try:
            n = await asyncio.to_thread(evaluate_dirty, svc)
            if time.monotonic() - last_flush > 30:
                last_flush = time.monotonic()
                await asyncio.to_thread(nodes.flush_seen, svc)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep evaluating the other nodes next round
            log.exception("osquery evaluation failed")
            await asyncio.sleep(1)
        if n == 0:
            ev.clear()
            try:
                await asyncio.wait_for(ev.wait(), timeout=5.0)
            except TimeoutError:
                pass


async def checkins(svc: Any) -> None:
    """Record the nodes' check-ins every 30 s (when a worker process evaluates the nodes)."""
    while True:
        await asyncio.sleep(30)
        try:
            await asyncio.to_thread(nodes_of(svc).flush_seen, svc)
        except Exception:  # noqa: BLE001 - the next round retries
            log.exception("could not record check-ins")


def _mode(svc: Any) -> str:
    """"auto": a worker process (applying batches and evaluating nodes never holds the serving
    process's interpreter lock, and runs at a lower CPU priority)."""
    mode = str(svc.config.evaluator)
    if mode == "auto":
        return "process"
    return mode


# the node endpoints by path, called directly by the app (see banscan.serve.app._App)
NODE_ENDPOINTS = {
    "/api/osquery/enroll": enroll,
    "/api/osquery/config": config,
    "/api/osquery/log": log_endpoint,
    "/api/osquery/distributed/read": distributed_read,
    "/api/osquery/distributed/write": distributed_write,
}

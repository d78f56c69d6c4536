"""The osquery log inbox: acknowledge a batch once it is committed, apply it afterwards.

A log request (``/api/osquery/log``, ``/distributed/write``) is validated (JSON, node key, log
type) and its raw body, as received, is appended to ``osquery_inbox``.  Appends of concurrent
requests are committed together (one transaction per group: a group commit); each request is
answered only after the transaction holding its batch has committed, so a batch that was
acknowledged survives the server being killed.

A worker drains the inbox in arrival order (so each node's batches are applied in the order the
node sent them): it parses a batch, applies it to the node's rows, records the batch in
``osquery_batches``, marks the node for evaluation and deletes the inbox row, all in one
transaction.  Killed half-way, the row is still in the inbox and is applied after the restart;
applied twice it could not be (the delete is part of the transaction that applies it).

On SQLite the inbox is a database file of its own beside the store (``<db>.inbox``): SQLite lets
one writer at a time into a file, and an append must not wait for a scan being recorded.  The
batch row then names the inbox row it came from, so a batch is applied once even when the server
is killed between applying it and deleting it from the inbox.  On PostgreSQL the inbox is a table
of the store (appends take a lock of their own, never the lifecycle lock).

Reads state how fresh they are: :func:`status` counts what is waiting (the ``X-Banscan-Pending``
header of findings and ``GET /api/v1/osquery/status``), and :func:`flush` waits until everything
received so far is applied and evaluated (``POST /api/v1/osquery/flush``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import logging
import threading
import time
import zlib
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    and_,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

from banscan.store import db
from banscan.store.service_tables import (
    osquery_batches,
    osquery_inbox,
    osquery_node_queries,
    osquery_nodes,
)

log = logging.getLogger("banscan.serve.osquery")

INBOX_LOCK_KEY = 0x62616E7369626F  # the inbox's own advisory lock: appends never queue behind scans
GROUP_MAX = 256  # batches per group commit at most


# the inbox in a SQLite file of its own (ids never reused: AUTOINCREMENT)
_file_metadata = MetaData()
file_inbox = Table(
    "osquery_inbox", _file_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node_id", Integer, nullable=False),
    Column("received_at", String(40), nullable=False),
    Column("log_type", String(16), nullable=False),
    Column("encoding", String(16), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("body", LargeBinary, nullable=False),
    sqlite_autoincrement=True,
)


def inbox_file(store_engine: Engine) -> str | None:
    """The inbox's own SQLite URL for a store in a SQLite file (None: the store's table)."""
    u = store_engine.url
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:" or \
            u.database.startswith("file:"):
        return None
    return str(u.set(database=u.database + ".inbox"))


def open_inbox(store_engine: Engine) -> tuple[Engine, Table]:
    """The engine and table holding the inbox of the store behind ``store_engine``."""
    url = inbox_file(store_engine)
    if url is None:
        return store_engine, osquery_inbox
    from banscan.serve.service import install_write_lock

    engine = db.make_engine(url)
    install_write_lock(engine)
    db.write(engine, lambda c: _file_metadata.create_all(c))
    return engine, file_inbox


def stored_batches(store_engine: Engine) -> list[tuple[int, str]]:
    """(node id, sha256) of every batch received: applied (``osquery_batches``) or waiting."""
    engine, table = open_inbox(store_engine)
    try:
        with db.reading(store_engine) as conn:
            out = [(int(r.node_id), str(r.sha256)) for r in conn.execute(
                select(osquery_batches.c.node_id, osquery_batches.c.sha256))]
        with db.reading(engine) as conn:
            out += [(int(r.node_id), str(r.sha256)) for r in conn.execute(
                select(table.c.node_id, table.c.sha256))]
    finally:
        if engine is not store_engine:
            engine.dispose()
    return out


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Inbox:
    """Group-committed appends to the inbox, and the events the worker and waiters use."""

    def __init__(self, svc: Any) -> None:
        self.svc = svc
        self.engine, self.table = open_inbox(svc.store.engine)
        self.separate = self.engine is not svc.store.engine
        self.cv = threading.Condition()
        self.queue: list[tuple[dict[str, Any], concurrent.futures.Future[None]]] = []
        self.thread: threading.Thread | None = None
        self.stopping = False
        self.arrived = threading.Event()  # set when a group commits (the drain worker waits on it)
        self.appended = 0
        self.groups = 0

    def start(self) -> None:
        with self.cv:
            if self.thread is None or not self.thread.is_alive():
                self.stopping = False
                self.thread = threading.Thread(target=self._run, name="banscan-inbox", daemon=True)
                self.thread.start()

    def stop(self) -> None:
        with self.cv:
            self.stopping = True
            self.cv.notify_all()
        if self.thread is not None:
            self.thread.join(10)
        if self.separate:
            self.engine.dispose()

    async def append(self, node_id: int, log_type: str, body: bytes, encoding: str, sha256: str) -> None:
        """Commit one batch to the inbox; returns once it is committed (raises if it could not be)."""
        fut: concurrent.futures.Future[None] = concurrent.futures.Future()
        row = {"node_id": node_id, "received_at": _now(), "log_type": log_type, "encoding": encoding,
               "sha256": sha256, "body": body}
        self.start()
        with self.cv:
            self.queue.append((row, fut))
            self.cv.notify()
        await asyncio.wrap_future(fut)

    def _run(self) -> None:
        engine, table = self.engine, self.table
        while True:
            with self.cv:
                while not self.queue and not self.stopping:
                    self.cv.wait()
                if not self.queue:
                    return
                group, self.queue = self.queue[:GROUP_MAX], self.queue[GROUP_MAX:]
            try:
                db.write(engine, lambda c, g=group: c.execute(table.insert(), [r for r, _ in g]),  # type: ignore[misc]
                         lock=None)  # appends never conflict: no lock at all
            except Exception as e:  # noqa: BLE001 - every request of the group is told
                for _, f in group:
                    f.set_exception(e)
                continue
            self.appended += len(group)
            self.groups += 1
            for _, f in group:
                f.set_result(None)
            self.arrived.set()
            from banscan.serve.worker import notify

            notify(self.svc)


def inbox_of(svc: Any) -> Inbox:
    ib = getattr(svc, "_osquery_inbox", None)
    if ib is None:
        ib = svc._osquery_inbox = Inbox(svc)
    return ib


# --------------------------------------------------------------------------- the worker


def body_json(row: Any) -> Any:
    from banscan.serve.osquery import jloads

    raw = bytes(row.body)
    if row.encoding == "gzip":
        raw = zlib.decompress(raw, wbits=47)
    return jloads(raw)


def changes_of(log_type: str, body: Any) -> tuple[Any, bool]:
    """The changes a batch makes to its node's rows, and whether it forces an evaluation."""
    from banscan.serve.osquery import DIST_PREFIX, QUERY_PREFIX, Changes, _rows

    ch = Changes()
    data = body.get("data") if isinstance(body, dict) else None
    if log_type == "result" and isinstance(data, list):
        for e in data:
            ch.result_entry(e)
    elif log_type == "status" and isinstance(data, list):
        ch.entries = len(data)
    elif log_type == "distributed" and isinstance(body, dict):
        queries = body.get("queries")
        st = body.get("statuses")
        statuses: dict[str, Any] = st if isinstance(st, dict) else {}
        if isinstance(queries, dict):
            for qid, rows in queries.items():
                if not isinstance(qid, str) or not qid.startswith(DIST_PREFIX):
                    continue
                if str(statuses.get(qid, 0)) not in ("0", ""):
                    continue  # the query failed on the node: keep what we had
                ch.entries += 1
                ch.snapshot(QUERY_PREFIX + qid[len(DIST_PREFIX):], _rows(rows))
        return ch, True
    return ch, False


def _changes(row: Any) -> tuple[Any, bool]:
    from banscan.serve.osquery import Changes

    try:
        return changes_of(row.log_type, body_json(row))
    except Exception:  # noqa: BLE001 - validated when received; a batch that cannot be read is recorded empty
        log.exception("osquery batch %s of node %s cannot be read", row.id, row.node_id)
        return Changes(), False


def _apply_one(svc: Any, conn: Connection, row: Any, ch: Any, force: bool, separate: bool) -> dict[str, Any] | None:
    from banscan.serve.osquery import _apply

    if not separate:  # the inbox row goes in the same transaction
        if not conn.execute(delete(osquery_inbox).where(osquery_inbox.c.id == row.id)).rowcount:
            return None  # applied already
    elif conn.execute(select(osquery_batches.c.id).where(and_(
            osquery_batches.c.inbox_id == row.id, osquery_batches.c.node_id == row.node_id,
            osquery_batches.c.sha256 == row.sha256))).first() is not None:
        return None  # applied before a restart; only the delete from the inbox was lost
    added, removed, interesting = _apply(conn, row.node_id, ch, svc.may_match) if not ch.empty \
        else (0, 0, False)
    conn.execute(osquery_batches.insert().values(
        node_id=row.node_id, received_at=row.received_at, log_type=row.log_type, entries=ch.entries,
        rows_added=added, rows_removed=removed, sha256=row.sha256, inbox_id=row.id))
    vals: dict[str, Any] = {"last_seen_at": row.received_at}
    if added or removed or force:
        vals["dirty"] = osquery_nodes.c.dirty + 1
    conn.execute(update(osquery_nodes).where(osquery_nodes.c.id == row.node_id).values(**vals))
    queries = sorted(set(ch.replace) | set(ch.added) | set(ch.removed))
    if queries:
        have = {r.query for r in conn.execute(select(osquery_node_queries.c.query).where(and_(
            osquery_node_queries.c.node_id == row.node_id, osquery_node_queries.c.query.in_(queries))))}
        new = [{"node_id": row.node_id, "query": q} for q in queries if q not in have]
        if new:
            conn.execute(osquery_node_queries.insert(), new)
    return {"node": row.node_id, "changed": bool(added or removed or force), "now": interesting or force}


def apply_entries(svc: Any, rows: list[Any]) -> int:
    """Apply inbox rows in order, in one transaction (each only if no one applied it yet);
    returns how many were applied here."""
    from banscan.serve.osquery import nodes_of, wake

    ib = inbox_of(svc)
    parsed = [(r, *_changes(r)) for r in rows]

    def _tx(conn: Connection) -> list[dict[str, Any]]:
        if conn.dialect.name == "postgresql":
            # applying is redone from the inbox if this commit is lost (the inbox rows' delete is
            # lost with it): no need to wait for the disk here.  Acknowledged batches were flushed.
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        out = []
        for r, ch, force in parsed:
            o = _apply_one(svc, conn, r, ch, force, ib.separate)
            if o is not None:
                out.append(o)
        return out

    # on PostgreSQL the node's rows are the worker's alone: no need to queue behind scans
    done = db.write(svc.store.engine, _tx, lock=INBOX_LOCK_KEY + 1)
    if ib.separate:
        ids = [r.id for r in rows]
        db.write(ib.engine, lambda c: c.execute(delete(ib.table).where(ib.table.c.id.in_(ids))), lock=None)
    nodes = nodes_of(svc)
    now = False
    for o in done:
        if o["changed"]:
            nodes.schedule(o["node"], 0.0 if o["now"] else svc.config.osquery_eval_delay)
            now = now or o["now"]
    if now:
        wake(svc)
    return len(done)


def drain_once(svc: Any, limit: int = 200, per_transaction: int = 25) -> int:
    """Apply up to ``limit`` inbox rows, oldest first, ``per_transaction`` at a time; returns how
    many rows were taken from the inbox."""
    ib = inbox_of(svc)
    with db.reading(ib.engine) as conn:
        rows = conn.execute(select(ib.table).order_by(ib.table.c.id).limit(limit)).all()
    for i in range(0, len(rows), per_transaction):
        apply_entries(svc, list(rows[i:i + per_transaction]))
    return len(rows)


async def worker(svc: Any) -> None:
    """Drain the inbox as batches arrive (and what was left before a restart)."""
    ib = inbox_of(svc)
    while True:
        try:
            n = await asyncio.to_thread(drain_once, svc)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - retried next round
            log.exception("applying osquery batches failed")
            n = 0
            await asyncio.sleep(1)
        if n == 0:
            ib.arrived.clear()
            await asyncio.to_thread(ib.arrived.wait, 1.0)


# --------------------------------------------------------------------------- freshness


def status(svc: Any) -> dict[str, Any]:
    """What is waiting: batches received but not applied, and nodes waiting for evaluation."""
    ib = inbox_of(svc)
    with db.reading(ib.engine) as conn:
        n, oldest = conn.execute(select(func.count(), func.min(ib.table.c.received_at))).one()
    with db.reading(svc.store.engine) as conn:
        dirty = conn.execute(select(func.count()).select_from(osquery_nodes).where(osquery_nodes.c.dirty > 0)).scalar()
    return {"inbox_pending": int(n or 0), "oldest_pending_received_at": oldest,
            "evaluation_pending": int(dirty or 0)}


def _pending(svc: Any, last_id: int, nodes: dict[int, int]) -> tuple[int, list[int]]:
    ib = inbox_of(svc)
    with db.reading(ib.engine) as conn:
        inbox = conn.execute(select(func.count()).select_from(ib.table).where(ib.table.c.id <= last_id)).scalar() or 0
    with db.reading(svc.store.engine) as conn:
        dirty = {int(r.id): int(r.dirty) for r in conn.execute(
            select(osquery_nodes.c.id, osquery_nodes.c.dirty).where(osquery_nodes.c.dirty > 0))}
    return int(inbox), [n for n in dirty if n in nodes or not nodes]


async def flush(svc: Any, timeout: float) -> dict[str, Any]:
    """Wait (at most ``timeout`` seconds) until every batch received before the call is applied
    and every node it changed is evaluated; returns :func:`status` and ``complete``."""
    from banscan.serve.osquery import nodes_of, wake
    from banscan.serve.worker import notify

    def _last() -> int:
        ib = inbox_of(svc)
        with db.reading(ib.engine) as conn:
            return int(conn.execute(select(func.max(ib.table.c.id))).scalar() or 0)

    last_id = await asyncio.to_thread(_last)
    end = time.monotonic() + max(0.0, timeout)
    nodes = nodes_of(svc)
    complete = False
    while True:
        inbox, dirty = await asyncio.to_thread(_pending, svc, last_id, {})
        if inbox == 0:
            for n in dirty:  # evaluate now what would otherwise wait for its delay
                nodes.schedule(n, 0.0)
            if not dirty:
                complete = True
                break
            wake(svc)
            notify(svc, evaluate_all=True)
        else:
            inbox_of(svc).arrived.set()
            notify(svc)
        if time.monotonic() >= end:
            break
        await asyncio.sleep(0.05)
    return {**await asyncio.to_thread(status, svc), "complete": complete}

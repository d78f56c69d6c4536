"""Evaluation of osquery nodes: re-scan a node's current rows exactly as ``banscan scan`` scans
an osqueryd results log, and record the scan (the store opens and resolves findings).

It runs in a separate worker process by default (``ServeConfig.evaluator = "process"``), so that
scanning never holds the request-serving process's interpreter lock; or in a thread of the
service (``"thread"``).  Nothing here imports the web framework.

The rows are given to the reader in osquery's event form (one row per line): the reader's
prefilter then skips rows no signature can match without parsing them.  The result is the same
as for the snapshot form (``tests/serve/test_serve_osquery.py`` checks both forms agree).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection, Engine

from banscan.store import db
from banscan.store.service_tables import osquery_node_queries, osquery_nodes, osquery_rows

log = logging.getLogger("banscan.serve.osquery")

Node = tuple[int, str, int]  # (node id, asset, dirty generation)


def node_result_bytes(asset: str, rows: list[tuple[str, str]], form: str = "event") -> bytes:
    """A node's current rows as an osqueryd results log (event form, or one snapshot line per query)."""
    unix = str(int(time.time()))
    host = json.dumps(asset, ensure_ascii=False)
    if form == "event":
        lines = [f'{{"name": {json.dumps(q, ensure_ascii=False)}, "hostIdentifier": {host}, "unixTime": "{unix}", '
                 f'"action": "added", "columns": {row}}}' for q, row in sorted(rows)]
    else:
        by_q: dict[str, list[Any]] = {}
        for q, row in rows:
            by_q.setdefault(q, []).append(json.loads(row))
        lines = [json.dumps({"name": q, "hostIdentifier": asset, "unixTime": unix, "action": "snapshot",
                             "snapshot": rs}, ensure_ascii=False) for q, rs in sorted(by_q.items())]
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


def empty_result_bytes(asset: str, queries: list[str]) -> bytes:
    """An osqueryd results log of empty snapshots (a node whose reported queries return no rows)."""
    unix = str(int(time.time()))
    return ("\n".join(json.dumps({"name": q, "hostIdentifier": asset, "unixTime": unix, "action": "snapshot",
                                   "snapshot": []}, ensure_ascii=False) for q in sorted(queries)) + "\n").encode(
        "utf-8", "surrogatepass")


def due_nodes(engine: Engine, is_due: Any, limit: int) -> list[Node]:
    with db.reading(engine) as conn:
        rows = conn.execute(select(osquery_nodes.c.id, osquery_nodes.c.asset, osquery_nodes.c.dirty)
                            .where(osquery_nodes.c.dirty > 0).order_by(osquery_nodes.c.id)).all()
    return [(int(r.id), str(r.asset), int(r.dirty)) for r in rows if is_due(int(r.id))][:limit]


def reported_classes(queries: list[str]) -> set[str]:
    """The evidence classes of the node's own inventory that its reported queries cover, known
    from the query names (a query that now returns no rows still shows that nothing of its table
    is there).  arp_cache rows describe other assets (the neighbours), so it covers none here."""
    from banscan.sources.osquery import TABLES
    from banscan.sources.osquery_net import ARP_CACHE

    out: set[str] = set()
    for q in queries:
        name = q.lower()
        for table, (_conv, ec) in TABLES.items():
            if table != ARP_CACHE and (name == table or name.endswith("_" + table)):
                out.add(ec.value)
                break
    return out


def evaluate_node(svc: Any, node: Node) -> None:
    node_id, asset, generation = node
    engine = svc.store.engine
    try:
        with db.reading(engine) as conn:
            rows = [(r.query, r.row) for r in conn.execute(
                select(osquery_rows.c.query, osquery_rows.c.row).where(osquery_rows.c.node_id == node_id))]
            queries = [r.query for r in conn.execute(
                select(osquery_node_queries.c.query).where(osquery_node_queries.c.node_id == node_id))]
        classes = reported_classes(queries)
        if rows or classes:
            data = node_result_bytes(asset, rows) if rows else empty_result_bytes(asset, queries)
            result = svc.scan_bytes(data, f"osquery:{asset}", asset, "osquery")
            # what the node reported covers its classes even where no row is left (the last row of
            # a table removed by a differential): the findings seen there can resolve
            for inp in result.inputs:
                have = inp.assets.setdefault(asset, [])
                have.extend(sorted(classes - set(have)))
            svc.store_as("osquery").record(result, svc.registry)
    except Exception:  # noqa: BLE001 - one node's failure must not stop the others
        log.exception("evaluating osquery node %s failed", node_id)

    def _tx(c: Connection) -> None:  # clear the mark unless the rows changed again meanwhile
        c.execute(update(osquery_nodes).where(and_(
            osquery_nodes.c.id == node_id, osquery_nodes.c.dirty == generation)).values(dirty=0))

    db.write(engine, _tx)


# --------------------------------------------------------------------------- worker process

_worker: Any = None


def worker_init(db_url: str, registry: list[str], profiles: list[str]) -> None:
    global _worker
    from banscan.registry import load
    from banscan.serve.service import ServeConfig, Service
    from banscan.store import open_store

    logging.basicConfig(level=logging.WARNING)
    cfg = ServeConfig(db=db_url, profiles=profiles, registry=registry)
    _worker = Service(cfg, open_store(db_url, actor="osquery"), load(registry))


def worker_run(nodes: list[Node], registry_sha256: str) -> int:
    from banscan.registry import load

    svc = _worker
    assert svc is not None, "worker_init did not run"
    if svc.registry.meta()["sha256"] != registry_sha256:  # the service switched registries
        svc.set_registry(load(svc.config.registry))
    for n in nodes:
        evaluate_node(svc, n)
    return len(nodes)

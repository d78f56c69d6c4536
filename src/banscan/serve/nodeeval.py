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
from banscan.store.service_tables import osquery_nodes, osquery_rows

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


def due_nodes(engine: Engine, is_due: Any, limit: int) -> list[Node]:
    with db.reading(engine) as conn:
        rows = conn.execute(select(osquery_nodes.c.id, osquery_nodes.c.asset, osquery_nodes.c.dirty)
                            .where(osquery_nodes.c.dirty > 0).order_by(osquery_nodes.c.id)).all()
    return [(int(r.id), str(r.asset), int(r.dirty)) for r in rows if is_due(int(r.id))][:limit]


def evaluate_node(svc: Any, node: Node) -> None:
    node_id, asset, generation = node
    engine = svc.store.engine
    try:
        with db.reading(engine) as conn:
            rows = [(r.query, r.row) for r in conn.execute(
                select(osquery_rows.c.query, osquery_rows.c.row).where(osquery_rows.c.node_id == node_id))]
        if rows:
            result = svc.scan_bytes(node_result_bytes(asset, rows), f"osquery:{asset}", asset, "osquery")
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

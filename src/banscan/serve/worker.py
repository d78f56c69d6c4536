"""The osquery worker process: applies the inbox's batches and evaluates the nodes they changed.

The request-serving process only validates, commits batches to the inbox and answers; the
parsing, matching and recording happen here, in a process of their own (``ServeConfig.evaluator
== "process"``), so that they never hold the serving process's interpreter lock, and at a lower
CPU priority (``nice``), so that answering requests comes first on a busy machine.

The worker exits when the service stops it, and by itself when the service's process is gone
(killed): a new service starts a new worker, which resumes the inbox where it was left.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import time
from typing import Any

log = logging.getLogger("banscan.serve.osquery")


def _run(db_url: str, registry: list[str], profiles: list[str], eval_delay: float, nice: int,
         wake: Any, evaluate_all: Any, registry_sha: Any, parent: int) -> None:
    from sqlalchemy import select

    from banscan.fast.regcache import load_registry
    from banscan.registry import load
    from banscan.serve import inbox, osquery
    from banscan.serve.service import ServeConfig, Service
    from banscan.store import db, open_store
    from banscan.store.service_tables import osquery_nodes

    logging.basicConfig(level=logging.WARNING)
    if nice:
        try:
            os.nice(nice)
        except OSError:
            pass
    cfg = ServeConfig(db=db_url, profiles=profiles, registry=registry, evaluator="thread", evaluator_duty=1.0,
                      osquery_eval_delay=eval_delay, evaluate_at_startup=False, evaluate_every=0)
    # the compiled registry the service cached (keyed by the files' content): not built again here
    svc = Service(cfg, open_store(db_url, actor="osquery"), load_registry(registry, loader=load))
    nodes = osquery.nodes_of(svc)
    try:
        while os.getppid() == parent:
            try:
                sha = registry_sha.value.decode()
                if sha and sha != svc.registry.meta()["sha256"]:  # the service switched registries
                    svc.set_registry(load_registry(registry, loader=load))
                n = inbox.drain_once(svc)
                if evaluate_all.is_set():  # a flush: evaluate now what would wait for its delay
                    evaluate_all.clear()
                    with db.reading(svc.store.engine) as conn:
                        for r in conn.execute(select(osquery_nodes.c.id).where(osquery_nodes.c.dirty > 0)):
                            nodes.schedule(int(r.id), 0.0)
                m = osquery.evaluate_dirty(svc, limit=10)
            except Exception:  # noqa: BLE001 - keep going with the next round
                log.exception("the osquery worker failed; retrying")
                time.sleep(1)
                continue
            if n == 0 and m == 0:
                wake.wait(1.0)
                wake.clear()
    finally:
        svc.store.close()


class Worker:
    """The service's handle on its worker process."""

    def __init__(self, svc: Any) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.ctx = ctx
        self.svc = svc
        self.wake = ctx.Event()
        self.evaluate_all = ctx.Event()
        self.registry_sha: Any = ctx.Array("c", 64)
        self.proc: Any = None

    def start(self) -> None:
        c = self.svc.config
        self.push_registry()
        self.proc = self.ctx.Process(
            target=_run, name="banscan-osquery-worker", daemon=True,
            args=(c.db, list(c.registry), list(c.profiles), float(c.osquery_eval_delay), int(c.worker_nice),
                  self.wake, self.evaluate_all, self.registry_sha, os.getpid()))
        self.proc.start()

    def push_registry(self) -> None:
        sha = str(self.svc.registry.meta()["sha256"]).encode()[:64]
        if self.registry_sha.value != sha:
            self.registry_sha.value = sha
            self.wake.set()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.is_alive()

    def stop(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(10)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join(5)


def worker_of(svc: Any) -> Worker | None:
    w = getattr(svc, "_osquery_worker", None)
    return w if isinstance(w, Worker) else None


def notify(svc: Any, evaluate_all: bool = False) -> None:
    """Tell the worker process there is work (a batch committed; a flush)."""
    w = worker_of(svc)
    if w is None:
        return
    if evaluate_all:
        w.evaluate_all.set()
    w.wake.set()


async def supervise(svc: Any) -> None:
    """Run the worker process while the service runs (restarting it if it dies)."""
    w = Worker(svc)
    svc._osquery_worker = w
    await asyncio.to_thread(w.start)
    try:
        while True:
            await asyncio.sleep(1.0)
            w.push_registry()
            if not w.alive():
                log.error("the osquery worker process exited (code %s); starting a new one",
                          w.proc.exitcode if w.proc is not None else None)
                await asyncio.to_thread(w.start)
    finally:
        await asyncio.to_thread(w.stop)

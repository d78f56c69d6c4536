"""The service's shared state: settings, the store, the registry and one scanner.

Scanning is what ``banscan scan`` does: the same readers (recognised by content), the same
matcher, the same policy, recorded by the same store.  One scanner is shared under a lock (the
work is CPU-bound; the lock keeps the matcher's counters consistent).
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from dataclasses import dataclass, field
from typing import IO, Any

from banscan.evidence import EvidenceCollector
from banscan.registry import Registry
from banscan.scan import InputReport, Scanner, ScanResult, _dedupe, _now
from banscan.serve.limits import RateLimiter
from banscan.serve.tokens import TokenVerifier
from banscan.store.core import Store

MIB = 1 << 20


@dataclass
class ServeConfig:
    db: str
    profiles: list[str] = field(default_factory=list)
    registry: list[str] = field(default_factory=list)
    enroll_secret: str | None = None
    max_body_bytes: int = 64 * MIB
    fail_on: str = "remove"
    token_rate: float = 20.0  # requests per second per API token (average)
    token_burst: float = 200.0
    node_rate: float = 1.0  # requests per second per osquery node (average)
    node_burst: float = 30.0
    evaluate_every: float = 86_400.0  # seconds between continuous evaluations (0: never)
    evaluate_at_startup: bool = True
    osquery_interval: int = 3600  # seconds between runs of each scheduled inventory query
    # a node whose changed rows cannot hold a product signature (the matcher's prefilter says so)
    # is re-evaluated within this many seconds instead of at once (its findings cannot change)
    osquery_eval_delay: float = 300.0
    evaluator_duty: float = 0.5  # in a thread: the share of time the evaluator may run
    # where osquery batches are applied and nodes re-scanned: "process" (a worker), "thread" or "auto"
    evaluator: str = "auto"
    worker_nice: int = 10  # the worker process's CPU priority below the serving process's (os.nice)
    # seconds after a start before the background work begins (the worker process or threads that
    # apply batches and evaluate nodes, the start-up evaluation): after a restart the nodes that
    # waited call at once, and are answered first.  Batches are committed before being
    # acknowledged either way; they are applied that much later.  ``banscan serve`` waits 5 s.
    background_delay: float = 0.0
    far: dict[str, Any] = field(default_factory=dict)
    # web single sign-on: a reverse proxy's header naming the user, believed only from these networks
    sso_header: str | None = None
    trusted_proxies: list[str] = field(default_factory=list)


def install_write_lock(engine: Any) -> threading.RLock:
    """Let one write transaction at a time through ``engine`` in this process.

    The store serialises writers anyway (SQLite's write lock, PostgreSQL's advisory lock); without
    this, dozens of request threads would wait inside SQLite's busy handler (sleeping in steps of
    up to 100 ms) or hold pooled PostgreSQL connections while waiting, so throughput collapses
    under load.  Waiting on a lock in the process hands the database over at once.  Read
    transactions (``banscan_read``) are not affected.
    """
    from sqlalchemy import event

    lock = getattr(engine, "_banscan_write_lock", None)
    if lock is not None:
        return lock
    lock = threading.RLock()

    pg = engine.dialect.name == "postgresql"

    def _begin(conn: Any) -> None:
        opts = conn.get_execution_options()
        # PostgreSQL runs writes that touch no lifecycle rows beside the others
        if not opts.get("banscan_read") and not (pg and opts.get("banscan_unserialized")):
            lock.acquire()
            conn.info["banscan_write_lock"] = conn.info.get("banscan_write_lock", 0) + 1

    def _end(conn: Any) -> None:
        n = conn.info.get("banscan_write_lock", 0)
        if n:
            conn.info["banscan_write_lock"] = n - 1
            lock.release()

    event.listen(engine, "begin", _begin, insert=True)
    event.listen(engine, "commit", _end)
    event.listen(engine, "rollback", _end)
    engine._banscan_write_lock = lock
    return lock


class Service:
    def __init__(self, config: ServeConfig, store: Store, registry: Registry) -> None:
        install_write_lock(store.engine)
        self.config = config
        self.store = store
        self.registry = registry
        self.verifier = TokenVerifier(store.engine)
        self.token_limiter = RateLimiter(config.token_rate, config.token_burst)
        self.node_limiter = RateLimiter(config.node_rate, config.node_burst)
        self._scanner = Scanner(registry)
        self._scan_lock = threading.Lock()
        self.started_at = _now()

    def store_as(self, actor: str) -> Store:
        """The same database, with decisions and scans recorded under ``actor``."""
        return Store(self.store.engine, clock=self.store.clock, actor=actor)

    def set_registry(self, registry: Registry) -> None:
        scanner = Scanner(registry)
        with self._scan_lock:
            self.registry = registry
            self._scanner = scanner

    def scan_streams(self, streams: list[tuple[str, IO[bytes]]], asset: str | None, forced: str | None,
                     profiles: list[str] | None = None, as_of: dt.date | None = None) -> ScanResult:
        """Scan uploaded inputs exactly as ``banscan scan`` scans files."""
        from banscan import policy

        started = _now()
        with self._scan_lock:
            reg = self.registry
            profs = [reg.profile(p) for p in (self.config.profiles if profiles is None else profiles)]
            reports: list[InputReport] = []
            dets = []
            # keep the normalised observations, so that a registry update matches them again
            self._scanner.evidence = evidence = EvidenceCollector()
            try:
                for name, stream in streams:
                    r, d = self._scanner.scan_stream(stream, name, asset, forced)  # type: ignore[arg-type]
                    reports.append(r)
                    dets.extend(d)
            finally:
                self._scanner.evidence = None
        result = ScanResult(registry=reg.meta(), profiles=[p.id for p in profs], as_of=as_of or self.today(),
                            started_at=started, finished_at="", inputs=reports, detections=_dedupe(dets),
                            evidence=evidence)
        policy.apply(result, reg, profs)
        result.finished_at = _now()
        return result

    def may_match(self, text: str) -> bool:
        """False only when no signature can match anything in ``text`` (the matcher's prefilter)."""
        return bool(self._scanner.matcher.prefilter(text))

    def scan_bytes(self, data: bytes, name: str, asset: str | None, forced: str | None) -> ScanResult:
        return self.scan_streams([(name, io.BytesIO(data))], asset, forced)

    def today(self) -> dt.date:
        return self.store.today()

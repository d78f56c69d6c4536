"""``banscan scan --jobs N``: blocks of one input across worker processes.

The workers are forked after the registry is loaded and the matcher and its engine are
compiled, so each starts ready.  Blocks are cut and merged in input order by the parent, with at
most two blocks per worker in flight (memory stays flat); line numbers are global, so detection
ids do not change with N.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from banscan.fast.blocks import PLANS, BlockResult, Plan, scan_block
from banscan.match import Matcher
from banscan.sources import by_name
from banscan.sources.base import Source
from banscan.sources.limits import Limits

_STATE: dict[str, object] = {}


def _work(source_name: str, plan_name: str, header: list[bytes], first: int, block: bytes,
          path: str, asset: str, limits: Limits | None, evidence: bool = False) -> BlockResult:
    matcher = _STATE["matcher"]
    assert isinstance(matcher, Matcher)
    plans = _STATE.setdefault("plans", {})
    assert isinstance(plans, dict)
    plan = plans.get(plan_name)
    if plan is None:
        plan = plans[plan_name] = PLANS[plan_name]()
    return scan_block(by_name(source_name), plan, matcher, header, block, first, path, asset, limits=limits,
                      evidence=evidence)


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def map_blocks(matcher: Matcher, source: Source, plan: Plan,
               blocks: Iterable[tuple[list[bytes], int, bytes]], path: str, asset: str,
               jobs: int, limits: Limits | None = None, evidence: bool = False) -> Iterator[BlockResult]:
    """The results of :func:`scan_block` over ``blocks``, in order, computed by ``jobs`` workers."""
    _ = matcher.engine  # compile before forking
    _STATE["matcher"] = matcher
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as ex:
        pending: deque[Future[BlockResult]] = deque()
        for header, first, block in blocks:
            pending.append(ex.submit(_work, source.name, plan.name, header, first, block, path, asset, limits,
                                     evidence))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

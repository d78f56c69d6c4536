"""``banscan scan --jobs N``: blocks of one input across worker processes.

The workers are forked after the registry is loaded and the matcher and its engine are
compiled, so each starts ready.  Blocks are cut and merged in input order by the parent, with at
most two blocks per worker in flight (memory stays flat); line numbers are global, so detection
ids do not change with N.  For a regular file the workers read their blocks themselves from the
file descriptor they inherit (``os.pread`` at the block's offset; the parent sends the offset and a
few bytes of each end to check them), instead of receiving every byte through a pipe.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from banscan.fast.blocks import EDGE, PLANS, BlockResult, Plan, scan_block
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


def _work_at(source_name: str, plan_name: str, header: list[bytes], first: int, offset: int, length: int,
             edges: tuple[bytes, bytes], path: str, asset: str, limits: Limits | None,
             evidence: bool = False) -> BlockResult:
    """:func:`_work` on the block at ``offset`` of the inherited file descriptor."""
    fd = _STATE["fd"]
    assert isinstance(fd, int)
    try:
        block = os.pread(fd, length, offset)
    except OSError as e:
        block, why = b"", f"{e.strerror or e}"
    else:
        why = "" if len(block) == length and (block[:EDGE], block[-EDGE:]) == edges else "changed while being read"
    if why:
        res = BlockResult(first_line=first)
        res.errors.append(f"{path}: cannot read from line {first}: {why}")
        res.fatal = True
        return res
    return _work(source_name, plan_name, header, first, block, path, asset, limits, evidence)


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def map_blocks(matcher: Matcher, source: Source, plan: Plan,
               blocks: Iterable[tuple[list[bytes], int, bytes]], path: str, asset: str,
               jobs: int, limits: Limits | None = None, evidence: bool = False,
               fd: int | None = None,
               spans: Iterable[tuple[int, int, int, tuple[bytes, bytes]]] | None = None) -> Iterator[BlockResult]:
    """The results of :func:`scan_block` over ``blocks``, in order, computed by ``jobs`` workers.
    ``fd``: the regular file the blocks are cut from, from its offset 0 (the workers read them);
    ``spans``: instead of ``blocks``, their places in it (:func:`banscan.fast.blocks.iter_spans`,
    for a plan without header lines)."""
    _ = matcher.engine  # compile before forking
    _ = matcher.unicode_filter
    _STATE["matcher"] = matcher
    _STATE["fd"] = fd
    ctx = multiprocessing.get_context("fork")
    offset = 0
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as ex:
        pending: deque[Future[BlockResult]] = deque()
        if spans is not None and fd is not None:
            for first, at, n, edges in spans:
                pending.append(ex.submit(_work_at, source.name, plan.name, [], first, at, n, edges, path, asset,
                                         limits, evidence))
                if len(pending) >= 2 * jobs:
                    yield pending.popleft().result()
            blocks = ()
        for header, first, block in blocks:
            if fd is None:
                pending.append(ex.submit(_work, source.name, plan.name, header, first, block, path, asset, limits,
                                         evidence))
            else:
                edges = (block[:EDGE], block[-EDGE:])
                pending.append(ex.submit(_work_at, source.name, plan.name, header, first, offset, len(block),
                                         edges, path, asset, limits, evidence))
            offset += len(block)
            if len(pending) >= 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

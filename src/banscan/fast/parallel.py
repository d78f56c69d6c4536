"""``banscan scan --jobs N``: blocks of one input across worker processes.

The workers are forked after the registry is loaded and the matcher and its engine are
compiled, so each starts ready.  Blocks are cut and merged in input order by the parent, with at
most a few blocks per worker in flight (memory stays flat); line numbers are global, so detection
ids do not change with N.  For a regular file the workers read their blocks themselves from the
file descriptor they inherit (``os.pread`` at the block's offset; the parent sends the offset and a
few bytes of each end to check them), instead of receiving every byte through a pipe.

Each worker has one socket pair to the parent: the parent sends it tasks and reads its results
in its own thread, without the threads and queues of :mod:`concurrent.futures` (their hand-offs
took about as much CPU as reading and hashing the input).  A worker reads its tasks in a thread
of its own, so that a parent sending a large block never waits on a worker that is itself
waiting to send a result.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any

from banscan.fast import lines, shachain
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
    res = scan_block(by_name(source_name), plan, matcher, header, block, first, path, asset, limits=limits,
                     evidence=evidence)
    sent_assets = _STATE.setdefault("assets sent", {})
    sent_classes = _STATE.setdefault("classes sent", {})
    assert isinstance(sent_assets, dict) and isinstance(sent_classes, dict)
    res.assets = _unsent(res.assets, sent_assets)
    res.classes = _unsent(res.classes, sent_classes)
    return res


def _unsent(pairs: dict[str, set[str]], sent: dict[str, set[str]]) -> dict[str, set[str]]:
    """The (key, value) pairs of ``pairs`` not in ``sent``, which then holds them too: (asset,
    evidence class) of :attr:`BlockResult.assets`, (evidence class, asset) of its ``classes``.

    A worker sends each pair once (most blocks of a large log cover the same hosts, and the pairs
    were most of the bytes a block's result took back to the parent).  The merged result is the
    same: a worker scans its blocks in input order, so the block that first had a pair is merged
    before the later ones it is left out of, and a block that stops the input (a fatal problem)
    stops the merge before any block after it."""
    out: dict[str, set[str]] = {}
    for k, values in pairs.items():
        had = sent.get(k)
        if had is None:
            sent[k] = set(values)
            out[k] = values
        elif not values <= had:
            new = values - had
            had |= new
            out[k] = new
    return out


def _work_at(source_name: str, plan_name: str, header: list[bytes], first: int, offset: int, length: int,
             edges: tuple[bytes, bytes], path: str, asset: str, limits: Limits | None,
             evidence: bool = False) -> BlockResult:
    """:func:`_work` on the block at ``offset`` of the inherited file descriptor."""
    block, why = _pread(offset, length, lambda b: (b[:EDGE], b[-EDGE:]) == edges)
    if why:
        return _unreadable(path, first, why)
    return _work(source_name, plan_name, header, first, block, path, asset, limits, evidence)


def _pread(offset: int, length: int, intact: Callable[[bytes], bool]) -> tuple[bytes, str]:
    """The block at ``offset`` of the inherited file descriptor, and why it cannot be scanned
    ("" when it can): the read failed, or it is not ``length`` bytes that are ``intact`` (the file
    changed since the parent cut it)."""
    fd = _STATE["fd"]
    assert isinstance(fd, int)
    try:
        block = os.pread(fd, length, offset)
    except OSError as e:
        return b"", f"{e.strerror or e}"
    return block, "" if len(block) == length and intact(block) else "changed while being read"


def _unreadable(path: str, first: int, why: str) -> BlockResult:
    """The result of a block that could not be read: an error naming its first line, which stops
    the input."""
    res = BlockResult(first_line=first)
    res.errors.append(f"{path}: cannot read from line {first}: {why}")
    res.fatal = True
    return res


def _read_chained(source_name: str, plan_name: str, k: int, offset: int, length: int, edge: bytes,
                  header: list[bytes], path: str, asset: str, limits: Limits | None,
                  evidence: bool = False) -> tuple[Any, ...]:
    """The first half of a ``cuts`` task, done by the worker's receiving thread as the task comes
    in, ahead of the blocks it is still scanning: block ``k`` (``header``: the header lines before
    it, for a plan that has them) read at ``offset`` of the inherited file descriptor, its first
    line waited for (:class:`banscan.fast.shachain.Chain`: block k − 1's count), and its own count
    handed on at once.  So no worker waits, before a block, for another to finish scanning the
    block before it: the counts run ahead of the scans, as far as the tasks sent.  Returns the
    arguments of :func:`_scan_chained`, the second half, which the worker's main thread runs in
    turn.  A wait here ends: the lowest block not counted has its count before it, and the worker
    that has it counts it whatever its main thread does (the counts depend on nothing else)."""
    chain = _STATE["chain"]
    assert isinstance(chain, shachain.Chain)
    block, why = _pread(offset, length, lambda b: b.endswith(edge))
    first, read = chain.line_before(k, _stop())
    ok = read and not why
    chain.put_line(k, first + lines.newlines(block) if ok else first, ok)
    return source_name, plan_name, k, offset, block, why, ok, first, header, path, asset, limits, evidence


def _scan_chained(source_name: str, plan_name: str, k: int, offset: int, block: bytes, why: str, ok: bool,
                  first: int, header: list[bytes], path: str, asset: str, limits: Limits | None,
                  evidence: bool = False) -> BlockResult:
    """:func:`_work` on block ``k`` (at ``offset``), read and counted by :func:`_read_chained`.
    It is hashed after block k − 1 is: here if that state is already there, else before this
    worker's next block, or when it has no block (:func:`_hash_pending`), so that no worker waits
    for another's hash while it could scan."""
    _PENDING.append((k, block if ok else None))
    _hash_pending(wait=False)
    if why:
        return _unreadable(path, first, why)
    if not ok:  # (a block before it stopped the input: this result is never merged)
        return BlockResult(first_line=first, fatal=True)
    return _work(source_name, plan_name, header, first, block, path, asset, limits, evidence)


# the blocks this worker read and has not hashed yet, in input order (block number, bytes or None
# for a block that could not be read); a worker keeps at most MAX_PENDING of them
_PENDING: deque[tuple[int, bytes | None]] = deque()
MAX_PENDING = 2


def _raise(e: Exception) -> None:
    raise e


def _stop() -> threading.Event | None:
    stop = _STATE.get("stop")
    return stop if isinstance(stop, threading.Event) else None


def _hash_pending(wait: bool) -> None:
    """Adds this worker's pending blocks to the hash, in order, while the state before each is
    there; with ``wait``, all of them (waiting for the blocks before, in other workers), else
    waiting only while more than MAX_PENDING are kept.  Every wait ends: the lowest block read
    and not yet hashed has its state before it, and the worker that has it hashes it whatever it
    waits for (its pending blocks come first in a wait for a state; its main thread never waits
    for a line count, which its receiving thread waits for); a worker waits for a new block only
    with none pending."""
    chain = _STATE.get("chain")
    while _PENDING and isinstance(chain, shachain.Chain):
        k, block = _PENDING[0]
        got = chain.state_before(k, _stop(), wait=wait or len(_PENDING) > MAX_PENDING)
        if got is None:
            return
        state = got[0]
        chain.put_state(k, shachain.update(state, block) if state is not None and block is not None else None)
        _PENDING.popleft()


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


# ------------------------------------------------------------------------------------ the pool

Task = tuple[str, tuple[Any, ...]]  # the name of a function of this module, and its arguments


class WorkerLost(Exception):
    """A worker process ended without sending the result of a task (killed, or crashed)."""

    def __init__(self, index: int, exitcode: int | None) -> None:
        super().__init__(f"a worker process stopped (exit code {exitcode})")
        self.index = index  # the task's place in the order the tasks were given


def _serve(conn: Connection, inherited: list[Connection]) -> None:
    """A worker: runs each task received and sends back (True, result) or (False, exception),
    until ``None`` or the parent's end closes (then the tasks still queued are dropped: the
    parent stopped reading the input)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops its workers
    for c in inherited:  # the parent's ends of the pairs forked so far (so that their ends are seen)
        c.close()
    tasks: queue.SimpleQueue[Task | None] = queue.SimpleQueue()
    stop = threading.Event()
    _STATE["stop"] = stop  # (a worker waiting on another gives up when the parent stops)

    def receive() -> None:
        try:
            while True:
                t = conn.recv()
                if t is None:
                    break
                name, args = t
                if name == "_read_chained":  # its first half here, now; the second in turn
                    try:
                        t = ("_scan_chained", _read_chained(*args))
                    except shachain.Stopped:
                        break
                    except Exception as e:  # noqa: BLE001 - sent back as the task's result, in turn
                        t = ("_raise", (e,))
                tasks.put(t)
        except (EOFError, OSError):
            pass
        stop.set()
        tasks.put(None)

    threading.Thread(target=receive, daemon=True).start()
    while True:
        task = tasks.get()
        if task is None or stop.is_set():
            break
        name, args = task
        try:
            out: tuple[bool, Any] = (True, globals()[name](*args))
        except Exception as e:  # noqa: BLE001 - raised again in the parent
            out = (False, e)
        try:
            conn.send(out)
        except (EOFError, OSError):
            break
        except Exception as e:  # noqa: BLE001 - a result or exception that cannot be pickled
            conn.send((False, RuntimeError(f"{type(e).__name__}: {e}")))
        if _PENDING and tasks.empty():
            try:
                _hash_pending(wait=True)  # (nothing else to do: the hash moves on)
            except shachain.Stopped:
                break
    os._exit(0)  # no exit handlers of the parent's (its atexit hooks, its open files' flushes)


class Pool:
    """``jobs`` worker processes forked now; :meth:`map` runs tasks on them in order."""

    def __init__(self, jobs: int) -> None:
        ctx = multiprocessing.get_context("fork")
        self.procs: list[Any] = []
        self.conns: list[Connection] = []
        # the workers' collections leave the parent's objects (and so their pages) alone; when
        # start-up froze its own already (banscan.cli.collector.start_up_done), what was made since
        # stays frozen until the command ends, as start-up's does
        frozen_before = gc.get_freeze_count()
        gc.freeze()
        try:
            for _ in range(jobs):
                mine, theirs = ctx.Pipe(duplex=True)
                p = ctx.Process(target=_serve, args=(theirs, self.conns + [mine]), daemon=True)
                p.start()
                theirs.close()
                self.procs.append(p)
                self.conns.append(mine)
        except BaseException:
            self.close()
            raise
        finally:
            if not frozen_before:
                gc.unfreeze()

    def map(self, tasks: Iterable[Task], per_worker: int = 2) -> Iterator[Any]:
        """The results of ``tasks``, in order; each worker has at most ``per_worker`` tasks in
        flight, and at most two per worker wait for an earlier one (memory stays flat)."""
        jobs = len(self.conns)
        inflight: list[deque[int]] = [deque() for _ in range(jobs)]
        done: dict[int, tuple[bool, Any]] = {}
        sent = out = 0
        limit = (per_worker + 2) * jobs

        def collect(block: bool) -> None:
            ready = wait([c for c, q in zip(self.conns, inflight) if q], None if block else 0)
            for c in ready:
                w = self.conns.index(c)  # type: ignore[arg-type]
                try:
                    got = self.conns[w].recv()
                except (EOFError, OSError):
                    self.procs[w].join(1)
                    raise WorkerLost(inflight[w][0], self.procs[w].exitcode) from None
                done[inflight[w].popleft()] = got

        def ready() -> Iterator[Any]:
            nonlocal out
            while out in done:
                ok, value = done.pop(out)
                out += 1
                if not ok:
                    raise value
                yield value

        for task in tasks:
            while True:
                w = min(range(jobs), key=lambda i: len(inflight[i]))
                if len(inflight[w]) < per_worker and sent - out < limit:
                    break
                collect(True)
                yield from ready()
            try:
                self.conns[w].send(task)
            except (EOFError, OSError):
                self.procs[w].join(1)
                raise WorkerLost(inflight[w][0] if inflight[w] else sent, self.procs[w].exitcode) from None
            inflight[w].append(sent)
            sent += 1
            collect(False)
            yield from ready()
        while out < sent:
            collect(True)
            yield from ready()

    def close(self) -> None:
        for c in self.conns:
            try:
                c.send(None)
            except (OSError, ValueError):
                pass
        for c in self.conns:
            c.close()
        for p in self.procs:
            p.join(5)
            if p.exitcode is None:
                p.kill()
                p.join()
        self.conns, self.procs = [], []


PER_WORKER = 2  # tasks in flight per worker (Pool.map's default)


def map_blocks(matcher: Matcher, source: Source, plan: Plan,
               blocks: Iterable[tuple[list[bytes], int, bytes]], path: str, asset: str,
               jobs: int, limits: Limits | None = None, evidence: bool = False,
               fd: int | None = None,
               spans: Iterable[tuple[int, int, int, tuple[bytes, bytes]]] | None = None,
               cuts: Iterable[tuple[int, int, bytes, list[bytes]]] | None = None,
               advance: Callable[[int], None] | None = None,
               digest: Callable[[str], None] | None = None) -> Iterator[BlockResult]:
    """The results of :func:`scan_block` over ``blocks``, in order, computed by ``jobs`` workers.
    ``fd``: the regular file the blocks are cut from, from its offset 0 (the workers read them);
    ``spans``: instead of ``blocks``, their places in it (:func:`banscan.fast.blocks.iter_spans`,
    for a plan without header lines); ``cuts``: instead of both, (offset, length, last bytes, header
    lines before it) of each block (:func:`banscan.fast.blocks.iter_file_cuts`, or
    :func:`~banscan.fast.blocks.iter_file_cuts_with_headers` for a plan with header lines, which
    reads each block but does not hash or count it) for workers that also count lines and hash
    (when :func:`banscan.fast.shachain.available`): then ``advance`` is given each block's length
    as its result comes, and ``digest`` the file's SHA-256 once every block's result came.  A
    plan with header lines takes ``blocks`` or ``cuts``."""
    _ = matcher.engine  # compile before forking
    _ = matcher.unicode_filter
    _STATE["matcher"] = matcher
    _STATE["fd"] = fd
    chain = _STATE["chain"] = shachain.Chain((PER_WORKER + 2) * jobs + 2) if cuts is not None else None
    # the first line (or for ``cuts``, the length) of each block given to the workers, not yet merged
    firsts: deque[int] = deque()
    count = 0  # blocks given

    def tasks() -> Iterator[Task]:
        nonlocal count
        if cuts is not None and fd is not None:
            for at, n, edge, header in cuts:
                firsts.append(n)
                count += 1
                yield "_read_chained", (source.name, plan.name, count - 1, at, n, edge, header, path, asset, limits,
                                        evidence)
            return
        if spans is not None and fd is not None:
            for first, at, n, edges in spans:
                firsts.append(first)
                yield "_work_at", (source.name, plan.name, [], first, at, n, edges, path, asset, limits, evidence)
            return
        offset = 0
        for header, first, block in blocks:
            firsts.append(first)
            if fd is None:
                yield "_work", (source.name, plan.name, header, first, block, path, asset, limits, evidence)
            else:
                edges = (block[:EDGE], block[-EDGE:])
                yield "_work_at", (source.name, plan.name, header, first, offset, len(block), edges, path, asset,
                                 limits, evidence)
            offset += len(block)

    pool = Pool(jobs)
    try:
        merged = 0
        try:
            for res in pool.map(tasks(), PER_WORKER):
                n = firsts.popleft()
                merged += 1
                if chain is not None and advance is not None:
                    advance(n)
                yield res
            if chain is not None and digest is not None and count:
                # the workers hash their last blocks once they have no more: wait for that while
                # they live
                while (last := chain.state_before(count, timeout=0.5)) is None:
                    if not all(p.is_alive() for p in pool.procs):
                        break
                if last is not None and last[0] is not None:
                    digest(shachain.hexdigest(last[0]))
        except WorkerLost as e:
            if chain is None:
                first = firsts[e.index - merged] if 0 <= e.index - merged < len(firsts) else 0
            else:
                before = chain.peek_line(e.index - 1)  # (the lost block's count was not handed on further)
                first = before[0] if before is not None else 0
            res = BlockResult(first_line=first)
            res.errors.append(f"{path}: cannot scan from line {first}: {e}")
            res.fatal = True
            yield res
    finally:
        if chain is not None:
            chain.stop()  # (a worker waiting on a block that will not come gives up)
        pool.close()
        if chain is not None:
            chain.close()
            del _STATE["chain"]

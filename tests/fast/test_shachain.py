"""The SHA-256 handed from process to process (banscan.fast.shachain): hashlib's digests for any
split of an input, the hand-over between forked processes in block order, a broken block and a
stop; and ``banscan scan --jobs`` reporting the file's digest without the parent reading it."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from banscan.fast import shachain


@pytest.fixture(autouse=True)
def _needs_libcrypto() -> None:
    # hashlib on this project's supported Pythons links OpenSSL; a Python without it falls back
    # (tested in test_fast_differential's "parent-hashes" cases)
    pytest.importorskip("_hashlib")
    assert shachain.available()


def test_any_split_gives_hashlibs_digest() -> None:
    rnd = random.Random(11)
    for _ in range(300):
        data = rnd.randbytes(rnd.choice([0, 1, 55, 56, 63, 64, 65, 127, 128, 1000, 5000]))
        cuts = sorted(rnd.randrange(0, len(data) + 1) for _ in range(rnd.randrange(0, 6)))
        state = shachain.initial()
        for a, b in zip([0] + cuts, cuts + [len(data)]):
            state = shachain.update(bytes(state), data[a:b])  # (bytes: as copied between processes)
        assert shachain.hexdigest(state) == hashlib.sha256(data).hexdigest()
        # the digest does not consume the state: more may follow
        more = rnd.randbytes(70)
        assert shachain.hexdigest(shachain.update(state, more)) == hashlib.sha256(data + more).hexdigest()


def _hand_on(chain: shachain.Chain, blocks: list[bytes], mine: list[int], rnd: random.Random) -> None:
    """A worker's way: each block's lines counted in order; its hash added when the state before
    it is there (now, at the next block, or at the end, waiting)."""
    pending: list[int] = []

    def hash_pending(wait: bool) -> None:
        while pending:
            got = chain.state_before(pending[0], wait=wait)
            if got is None:
                return
            assert got[0] is not None
            chain.put_state(pending[0], shachain.update(got[0], blocks[pending[0]]))
            pending.pop(0)

    for k in mine:
        line, read = chain.line_before(k, meanwhile=lambda: hash_pending(False))
        assert read
        chain.put_line(k, line + blocks[k].count(b"\n"), True)
        pending.append(k)
        hash_pending(wait=rnd.random() < 0.3)
    hash_pending(wait=True)
    os._exit(0)


@pytest.mark.parametrize("seed", range(4))
def test_forked_processes_hand_lines_and_state_on_in_block_order(seed: int) -> None:
    """Three processes, each with every third block, in a ring of fewer slots than blocks, some
    hashing late: the last state is the digest of all blocks in order, and the line count is
    theirs."""
    rnd = random.Random(seed)
    blocks = [b"".join(rnd.randbytes(rnd.randrange(0, 90)) + b"\n" for _ in range(rnd.randrange(1, 20)))
              for _ in range(40)]
    chain = shachain.Chain(5)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_hand_on, args=(chain, blocks, list(range(i, len(blocks), 3)), random.Random(i)))
             for i in (2, 0, 1)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    line = chain.peek_line(len(blocks) - 1)
    state = chain.state_before(len(blocks), wait=False)
    assert line is not None and state is not None and state[0] is not None
    data = b"".join(blocks)
    assert line == (1 + data.count(b"\n"), True)
    assert shachain.hexdigest(state[0]) == hashlib.sha256(data).hexdigest()
    assert chain.peek_line(len(blocks) - 1 - 5) is None  # (its slot was used again)
    chain.close()


def test_a_broken_block_is_handed_on_and_a_stop_ends_a_wait() -> None:
    chain = shachain.Chain(3)
    assert chain.line_before(0) == (1, True) and chain.state_before(0) == (shachain.initial(),)
    chain.put_line(0, 10, False)
    chain.put_state(0, None)
    assert chain.line_before(1) == (10, False) and chain.state_before(1) == (None,)
    assert chain.state_before(2, wait=False) is None and chain.state_before(2, timeout=0.1) is None
    stop = threading.Event()
    out: list[Any] = []

    def waits() -> None:
        try:
            chain.line_before(5, stop)
        except shachain.Stopped as e:
            out.append(e)

    t = threading.Thread(target=waits)
    t.start()
    stop.set()
    t.join(5)
    assert not t.is_alive() and isinstance(out[0], shachain.Stopped)
    chain.stop()
    with pytest.raises(shachain.Stopped):
        chain.state_before(7)
    chain.close()


def test_a_worker_killed_while_it_waits_or_holds_the_lock_stops_no_one() -> None:
    """A worker killed (SIGKILL: out of memory, a signal) while it waits for a hand-over, or while
    it holds the chain's lock: the other processes' hand-overs go on, or end with the scan's
    stop, instead of waiting for it for ever."""
    import signal

    ctx = multiprocessing.get_context("fork")
    chain = shachain.Chain(4)

    def waits() -> None:
        try:
            chain.line_before(3)  # (block 2 never comes)
        except shachain.Stopped:
            pass
        os._exit(0)

    waiter = ctx.Process(target=waits)
    waiter.start()
    time.sleep(0.2)  # (it waits)
    os.kill(waiter.pid, signal.SIGKILL)
    waiter.join(5)

    def hands_on() -> None:
        chain.put_line(0, 5, True)
        chain.put_state(0, shachain.update(shachain.initial(), b"abc"))
        assert chain.line_before(1) == (5, True)
        os._exit(0)

    other = ctx.Process(target=hands_on)
    other.start()
    other.join(10)
    assert other.exitcode == 0  # (a shared condition variable: its notify waited for the dead sleeper)
    assert chain.line_before(1) == (5, True)

    def holds() -> None:
        chain.lock.acquire()
        os.kill(os.getpid(), signal.SIGKILL)

    holder = ctx.Process(target=holds)
    holder.start()
    holder.join(5)
    out: list[Any] = []

    def blocked() -> None:
        try:
            chain.put_line(1, 9, True)
        except shachain.Stopped as e:
            out.append(e)

    t = threading.Thread(target=blocked)
    t.start()
    t.join(0.3)
    assert t.is_alive()  # the lock is held by the dead process
    chain.stop()
    t.join(5)
    assert not t.is_alive() and isinstance(out[0], shachain.Stopped)
    with pytest.raises(shachain.Stopped):
        chain.state_before(2, timeout=0.2)
    chain.close()


def test_jobs_scan_reports_the_files_digest_and_the_parent_reads_only_block_ends(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--jobs 2`` on a log of many blocks: the report's sha256 is the file's and the inputs'
    reports are those of one process; the parent process read about one probe per block (the
    workers read and hashed the blocks), where without the hand-over it read the whole file."""
    import json

    from banscan import scan as scan_mod
    from banscan.fast import blocks as fb
    from banscan.registry import load

    monkeypatch.setattr(fb, "BLOCK_BYTES", 1 << 16)
    monkeypatch.setattr(fb, "PROBE", 1 << 10)
    rows = [{"name": "pack_inventory_programs", "hostIdentifier": f"h{i % 7}", "unixTime": 1795000000 + i,
             "columns": {"name": "Kaspersky Endpoint Security" if i % 97 == 0 else f"Tool {i}",
                         "publisher": "AO Kaspersky Lab" if i % 97 == 0 else "Example", "version": "12.3",
                         "install_location": "C:\\Program Files\\x\\", "identifying_number": ""},
             "action": "added"} for i in range(20_000)]
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    p = tmp_path / "osqueryd.results.log"
    p.write_bytes(data)
    registry = load()

    parent = os.getpid()
    read = [0]
    real_pread, real_readinto = os.pread, scan_mod._HashingReader.readinto

    def pread(fd: int, n: int, off: int) -> bytes:
        b = real_pread(fd, n, off)
        if os.getpid() == parent:
            read[0] += len(b)
        return b

    def readinto(self: Any, b: Any) -> int:
        n = real_readinto(self, b)
        read[0] += n
        return n

    monkeypatch.setattr(os, "pread", pread)
    monkeypatch.setattr(scan_mod._HashingReader, "readinto", readinto)

    def run(jobs: int) -> tuple[dict[str, Any], int]:
        read[0] = 0
        s = scan_mod.Scanner(registry, jobs=jobs)
        with p.open("rb") as fh:
            report, dets = s.scan_stream(fh, str(p), None, None, size=len(data), fd=fh.fileno())
        assert len(dets) == len(range(0, 20_000, 97))
        return report.to_dict(), read[0]

    one, _ = run(1)
    two, parent_read = run(2)
    assert one == two and two["sha256"] == hashlib.sha256(data).hexdigest()
    blocks = len(data) // (1 << 16) + 1
    assert parent_read <= (blocks + 1) * (1 << 10) + (1 << 16) + 64 * 1024  # probes, the last window, the head
    monkeypatch.setattr(shachain, "available", lambda: False)
    three, parent_read = run(2)
    assert three == one and parent_read >= len(data)


def test_no_hand_over_where_no_shared_lock_can_be_made(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sandbox without shared memory for semaphores: the hand-over is off (the parent hashes),
    not a failed scan."""
    import multiprocessing.context

    def refuse(self: Any, *a: Any, **k: Any) -> Any:
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(shachain, "_checked", False)
    monkeypatch.setattr(shachain, "_lib", None)
    monkeypatch.setattr(multiprocessing.context.BaseContext, "Lock", refuse)
    assert not shachain.available()
    monkeypatch.undo()
    monkeypatch.setattr(shachain, "_checked", False)
    assert shachain.available()


def _zeek_logs(sections: int, rows: int) -> bytes:
    """Zeek dns logs concatenated as a log shipper writes them: each section its own header, the
    columns in another order from one section to the next (a block must read its rows with the
    header in force where it starts)."""
    fields = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "query", "qtype_name",
              "rcode_name", "answers"]
    out: list[str] = []
    for s in range(sections):
        cols = fields[:2] + (fields[2:] if s % 2 == 0 else list(reversed(fields[2:])))
        out.append("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
                   f"#open\t2026-11-{s + 1:02d}-00-00-00\n#fields\t" + "\t".join(cols) + "\n")
        for i in range(rows):
            q = "update.kaspersky.com" if i % 89 == 0 else ("vod.tiktokcdn.com" if i % 97 == 0 else f"host{i}.example.org")
            v = {"ts": f"{1795000000 + s * rows + i}.0", "uid": f"C{s}x{i}", "id.orig_h": f"10.0.{s}.{i % 9}",
                 "id.orig_p": "5353", "id.resp_h": "10.0.0.53", "id.resp_p": "53", "proto": "udp", "query": q,
                 "qtype_name": "A", "rcode_name": "NOERROR", "answers": "-"}
            out.append("\t".join(v[c] for c in cols) + "\n")
        out.append(f"#close\t2026-11-{s + 1:02d}-23-59-59\n")
    return "".join(out).encode()


def test_jobs_scan_of_concatenated_zeek_logs_hands_the_hash_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--jobs 2`` on Zeek logs (a plan with header lines) of many blocks, their header coming
    again and changing mid-file: the inputs' reports and the detections are those of one
    process, the sha256 the file's; the parent read the blocks (to find the header lines) but did
    not hash them: its hashing reader read only the head."""
    from banscan import scan as scan_mod
    from banscan.fast import blocks as fb
    from banscan.registry import load

    monkeypatch.setattr(fb, "BLOCK_BYTES", 1 << 14)
    monkeypatch.setattr(fb, "PROBE", 1 << 9)
    data = _zeek_logs(6, 700)
    p = tmp_path / "dns.log"
    p.write_bytes(data)
    registry = load()
    hashed = [0]
    real_readinto = scan_mod._HashingReader.readinto

    def readinto(self: Any, b: Any) -> int:
        n = real_readinto(self, b)
        hashed[0] += n
        return n

    monkeypatch.setattr(scan_mod._HashingReader, "readinto", readinto)

    def run(jobs: int) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
        hashed[0] = 0
        s = scan_mod.Scanner(registry, jobs=jobs)
        with p.open("rb") as fh:
            report, dets = s.scan_stream(fh, str(p), None, None, size=len(data), fd=fh.fileno())
        return report.to_dict(), sorted((d.to_dict() for d in dets), key=lambda d: d["id"]), hashed[0]

    one, dets1, _ = run(1)
    two, dets2, parent_hashed = run(2)
    assert len(data) // (1 << 14) > 20  # many blocks, each section over several
    assert {d["family"] for d in dets1} == {"kaspersky", "bytedance"}
    assert len(dets1) == len({(s, i // 89) for s in range(6) for i in range(0, 700, 89)}) + len(
        {(s, i) for s in range(6) for i in range(0, 700, 97) if i % 89})
    assert two == one and dets2 == dets1 and two["sha256"] == hashlib.sha256(data).hexdigest()
    assert parent_hashed <= 64 * 1024  # the head the source was recognised by
    monkeypatch.setattr(shachain, "available", lambda: False)
    three, dets3, parent_hashed = run(2)
    assert three == one and dets3 == dets1 and parent_hashed >= len(data)

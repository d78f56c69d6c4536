"""iter_file_blocks (blocks read with one pread each, at a newline found by a probe of each
window's end) against iter_blocks: the same blocks, covering the file in order, every block but
the last ending at a newline, with the same first line numbers; and a scan's sha256 over the
whole file."""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from banscan.fast import blocks as fb


def _check(path: Path, size: int) -> list[tuple[int, bytes]]:
    data = path.read_bytes()
    fd = os.open(path, os.O_RDONLY)
    try:
        got = list(fb.iter_file_blocks(fd, size))
    finally:
        os.close(fd)
    assert b"".join(b for _, b in got) == data
    assert all(b.endswith(b"\n") and b for _, b in got[:-1])
    line = 1
    for first, b in got:
        assert first == line
        line += b.count(b"\n")
    # the very blocks iter_blocks cuts (block boundaries order a merged scan's deviations)
    assert got == list(fb.iter_blocks(io.BufferedReader(io.BytesIO(data)), size))  # type: ignore[arg-type]
    # and their places, for workers that read them (--jobs): each block's offset and length, and
    # some of its last bytes, the newline included, to check it with
    fd = os.open(path, os.O_RDONLY)
    try:
        cuts = list(fb.iter_file_cuts(fd, size))
    finally:
        os.close(fd)
    offsets = [sum(len(b) for _, b in got[:i]) for i in range(len(got))]
    assert [(off, n) for off, n, _ in cuts] == [(off, len(b)) for off, (_, b) in zip(offsets, got)]
    assert all(edge and b.endswith(edge) and len(edge) <= fb.EDGE for (_, _, edge), (_, b) in zip(cuts, got))
    return got


@pytest.mark.parametrize("seed", range(40))
def test_file_blocks_cover_the_file_at_newlines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    """Lines short and long (longer than a window, longer than a probe, without a newline at the
    end), blank lines, CRLF: with a small probe, so that every case of the cut is met."""
    monkeypatch.setattr(fb, "PROBE", 16)
    rnd = random.Random(seed)
    lines = []
    for _ in range(rnd.randrange(0, 120)):
        n = rnd.choice([0, 1, 5, 15, 16, 17, 31, 32, 33, 64, 200])
        lines.append("".join(rnd.choice("ab\u00e9\r") for _ in range(n)))
    text = "\n".join(lines) + rnd.choice(["", "\n", "\n\n"])
    p = tmp_path / "f.log"
    p.write_bytes(text.encode("utf-8"))
    for size in (1, 2, 3, 31, 32, 33, 48, 64, 100, 1000):
        _check(p, size)


def test_file_blocks_of_an_empty_file_and_of_newlines_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fb, "PROBE", 16)
    p = tmp_path / "e.log"
    p.write_bytes(b"")
    assert _check(p, 32) == []
    p.write_bytes(b"\n" * 1000)
    assert len(_check(p, 32)) == 32  # (1000 bytes in windows of 32)


def test_file_blocks_read_each_block_with_one_pread_of_its_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of it: a block is the bytes pread returned, not a copy cut from a larger read."""
    monkeypatch.setattr(fb, "PROBE", 16)
    p = tmp_path / "f.log"
    p.write_bytes(b"".join(b"line %05d\n" % i for i in range(1000)))
    reads: list[bytes] = []
    real = os.pread

    def pread(fd: int, n: int, off: int) -> bytes:
        reads.append(b := real(fd, n, off))
        return b

    monkeypatch.setattr(fb.os, "pread", pread)
    got = _check(p, 100)
    assert all(any(b is r for r in reads) for _, b in got)


def test_a_scan_hashes_the_whole_file_read_in_blocks(tmp_path: Path) -> None:
    """The input's sha256 in the report is the file's, whether the blocks were read by pread
    (a file) or from a stream (stdin)."""
    from typer.testing import CliRunner

    from banscan.cli import app

    rows = [{"name": "pack_inventory_programs", "hostIdentifier": f"h{i % 7}", "unixTime": 1795000000 + i,
             "columns": {"name": "Kaspersky Endpoint Security" if i % 50 == 0 else f"Tool {i}",
                         "publisher": "AO Kaspersky Lab" if i % 50 == 0 else "Example",
                         "version": "12.3", "install_location": "C:\\Program Files\\x\\", "identifying_number": ""},
             "action": "added"} for i in range(5000)]
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    p = tmp_path / "osqueryd.results.log"
    p.write_bytes(data)
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["scan", "--no-store", "-f", "json", "-o", str(out), str(p)])
    assert res.exit_code == 1, res.output
    report = json.loads(out.read_text())
    assert report["inputs"][0]["sha256"] == hashlib.sha256(data).hexdigest()
    assert len(report["detections"]) == 100
    out2 = tmp_path / "r2.json"
    res = CliRunner().invoke(app, ["scan", "--no-store", "-f", "json", "-o", str(out2), "-"], input=data)
    report2 = json.loads(out2.read_text())
    assert report2["inputs"][0]["sha256"] == report["inputs"][0]["sha256"]
    def seen(r: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
        return sorted((d["source"]["locator"], json.dumps(d["observation"], sort_keys=True)) for d in r["detections"])

    assert seen(report2) == seen(report)


def test_a_line_longer_than_many_windows_is_read_a_bounded_number_of_times(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A line spanning many windows is carried on without reading what came before again at each
    window: the bytes read stay within a few times the file's size (they grew with its square)."""
    monkeypatch.setattr(fb, "PROBE", 16)
    p = tmp_path / "long.log"
    p.write_bytes(b"x" * 20_000 + b"\nshort\n" + b"y" * 20_000)
    got = _check(p, 100)
    assert [len(b) for _, b in got] == [20_001 + 6, 20_000]
    for cut in (fb.iter_file_blocks, fb.iter_file_cuts):
        n, read = _bytes_read(monkeypatch, p, cut, 100)  # type: ignore[arg-type]
        assert n == 2 and read <= 3 * p.stat().st_size


def _bytes_read(monkeypatch: pytest.MonkeyPatch, path: Path, cut: Callable[[int, int], Iterator[object]],
                size: int) -> tuple[int, int]:
    """The blocks ``cut`` gives for ``path`` in windows of ``size``, and the bytes it preads."""
    read = [0]
    real = os.pread

    def pread(fd: int, n: int, off: int) -> bytes:
        b = real(fd, n, off)
        read[0] += len(b)
        return b

    with monkeypatch.context() as m:
        m.setattr(fb.os, "pread", pread)
        fd = os.open(path, os.O_RDONLY)
        try:
            n = len(list(cut(fd, size)))
        finally:
            os.close(fd)
    return n, read[0]


def test_file_cuts_read_only_the_end_of_each_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cutting a file for workers that read its blocks reads each window's probe, not the window
    (and the last window, to find the file's end)."""
    monkeypatch.setattr(fb, "PROBE", 16)
    p = tmp_path / "f.log"
    p.write_bytes(b"".join(b"line %05d\n" % i for i in range(10_000)))
    _check(p, 1000)
    n, read = _bytes_read(monkeypatch, p, fb.iter_file_cuts, 1000)
    assert n == 110 and read <= 110 * 16 + 1000
    n, read = _bytes_read(monkeypatch, p, fb.iter_file_blocks, 1000)
    assert n == 110 and read >= p.stat().st_size  # (the blocks themselves: the measure sees reads)


class _Counted:
    """A progress display that adds up what it is told was read."""

    def __init__(self) -> None:
        self.total = 0

    def start(self, name: str, total: int | None) -> str:
        return name

    def advance(self, task: object, n: int) -> None:
        self.total += n

    def finish(self, task: object) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("truncated", [False, True])
@pytest.mark.parametrize("handed_on", [True, False])
def test_progress_counts_each_byte_of_the_input_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     jobs: int, truncated: bool, handed_on: bool) -> None:
    """Across several blocks, in one process or with --jobs, with the hash state handed between
    workers or not: the progress shown adds up to the file's size, also when the scan stops at a
    truncated last line (the rest of the input is then hashed again from its start)."""
    import datetime as dt

    from banscan.fast import shachain
    from banscan.registry import load
    from banscan.scan import ScanRequest, run

    monkeypatch.setattr(fb, "BLOCK_BYTES", 1 << 16)
    if not handed_on:
        monkeypatch.setattr(shachain, "available", lambda: False)
    line = ('{"name":"pack_inventory_programs","hostIdentifier":"h%d","unixTime":1,"columns":{"name":"%s",'
            '"publisher":"%s","install_location":"","identifying_number":""},"action":"added"}\n')
    data = "".join(line % (i % 9, "Kaspersky Endpoint Security" if i % 97 == 0 else f"Tool {i}",
                           "AO Kaspersky Lab" if i % 97 == 0 else "Example") for i in range(3000))
    if truncated:
        data += (line % (1, "Kaspersky Endpoint Security", "AO Kaspersky Lab"))[:70]
    p = tmp_path / "osqueryd.results.log"
    p.write_text(data)
    shown = _Counted()
    r = run(ScanRequest(inputs=(str(p),), as_of=dt.date(2026, 11, 1)), load(), shown, jobs=jobs)
    i = r.inputs[0]
    assert len(r.detections) == 31 and bool(i.errors) == truncated, i.errors
    assert i.sha256 == hashlib.sha256(data.encode()).hexdigest()
    assert shown.total == p.stat().st_size

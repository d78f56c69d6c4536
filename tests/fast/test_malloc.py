"""banscan.fast.malloc: a large scan's freed block buffers stay in the process for the next block.

The allocation patterns run in child processes: the thresholds are the whole process's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from banscan.fast import malloc

pytestmark = pytest.mark.skipif(not malloc.glibc(), reason="the thresholds are glibc's")

# a --jobs worker's pattern: a few 4 MiB blocks alive at once, freed out of the order they were made
PATTERN = """
import json, resource, sys
from banscan.fast import malloc
if sys.argv[1] == "mmap":  # glibc's own starting threshold, kept fixed: each block its own mapping
    import ctypes
    ctypes.CDLL(None).mallopt(malloc.M_MMAP_THRESHOLD, 128 * 1024)
kept = malloc.keep_block_buffers() if sys.argv[1] == "keep" else None
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
held = [b"\\x01" * (4 << 20) for _ in range(3)]  # the first blocks: faulted in either way
del held
before = faults()
for i in range(40):
    a = b"\\x01" * (4 << 20)
    b = b"\\x02" * (4 << 20)
    c = b"\\x03" * (4 << 20)
    del b, a, c
print(json.dumps({"kept": kept, "faults": faults() - before}))
"""


def _run(mode: str, env: dict[str, str] | None = None) -> dict[str, object]:
    src = str(Path(malloc.__file__).parents[2])
    e = {**os.environ, "PYTHONPATH": src, **(env or {})}
    out = subprocess.run([sys.executable, "-c", PATTERN, mode], capture_output=True, text=True, env=e, check=True)
    return dict(json.loads(out.stdout))


def test_kept_buffers_are_not_faulted_in_again() -> None:
    """With the thresholds set, 40 rounds of three blocks fault in (almost) nothing after the
    first; served from mappings of their own (what glibc does until its threshold has risen, and
    for what it gives back to the kernel after), every round faults its pages in again.  (Without
    either setting, what glibc does depends on what the process allocated before: not asserted.)"""
    mapped, kept = _run("mmap"), _run("keep")
    assert kept["kept"] is True
    pages = 3 * (4 << 20) // 4096  # one round's pages
    assert isinstance(kept["faults"], int) and kept["faults"] < pages // 4
    assert isinstance(mapped["faults"], int) and mapped["faults"] > 30 * pages


@pytest.mark.parametrize("env", [{"MALLOC_TRIM_THRESHOLD_": "1048576"}, {"MALLOC_MMAP_THRESHOLD_": "65536"},
                                 {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1048576"}])
def test_the_users_own_thresholds_are_left_alone(env: dict[str, str]) -> None:
    assert _run("keep", env)["kept"] is False


def test_keep_for_only_large_regular_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bool] = []
    monkeypatch.setattr(malloc, "keep_block_buffers", lambda: calls.append(True) or True)
    small = tmp_path / "small.log"
    small.write_bytes(b"x\n" * 10)
    large = tmp_path / "large.log"
    with large.open("wb") as f:
        f.truncate(malloc.LARGE)  # sparse: its size is what counts
    assert malloc.keep_for(["-", str(tmp_path / "missing"), str(small), str(tmp_path)]) is False
    assert calls == []
    assert malloc.keep_for([str(small), str(large)]) is True
    assert calls == [True]


def test_scan_command_keeps_buffers_for_a_large_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from banscan.cli import app

    calls: list[bool] = []
    monkeypatch.setattr(malloc, "keep_block_buffers", lambda: calls.append(True) or True)
    monkeypatch.setattr(malloc, "LARGE", 1000)
    log = tmp_path / "osqueryd.results.log"
    row = {"name": "pack_inv_programs", "hostIdentifier": "h1", "calendarTime": "Mon Nov 23 10:00:00 2026 UTC",
           "unixTime": 1795600000, "action": "added",
           "columns": {"name": "Notepad++", "publisher": "Notepad++ Team", "version": "8.6"}}
    log.write_text("\n".join(json.dumps(row) for _ in range(20)) + "\n")
    r = CliRunner().invoke(app, ["scan", "--no-store", "-f", "json", str(log)])
    assert r.exit_code == 0, r.output
    assert calls == [True]
    calls.clear()
    monkeypatch.setattr(malloc, "LARGE", 1 << 40)
    r = CliRunner().invoke(app, ["scan", "--no-store", "-f", "json", str(log)])
    assert r.exit_code == 0 and calls == []

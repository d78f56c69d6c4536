"""Helpers for the hardening tests: an in-process command line, a subprocess one with memory and
time limits, and hostile strings."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"

# ESC sequences that clear the screen, set the window title and print a clickable link; C1 CSI;
# a bidi override; a BEL; NUL is left out (file names and CSV cannot hold it)
HOSTILE = ("\x1b[2J\x1b[H\x1b]0;pwned\x07\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07"
           "\x9b31m\u202etxt.exe\u2066")
CONTROL_CHARS = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066")


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``banscan ARGV`` in-process: (exit code, stdout, stderr)."""
    from banscan.cli import main

    capsys.readouterr()
    try:
        main(list(argv))
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    out, err = capsys.readouterr()
    return code, out, err


def env_for(tmp: Path, **extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("BANSCAN_")}
    e.update({"XDG_CACHE_HOME": str(tmp / "cache"), "XDG_DATA_HOME": str(tmp / "data"),
              "XDG_CONFIG_HOME": str(tmp / "config"), "HOME": str(tmp / "home"),
              "PYTHONPATH": str(SRC), "BANSCAN_DB": str(tmp / "db.sqlite")})
    e.update(extra)
    return e


def run_limited(args: list[str], env: dict[str, str], *, memory: int = 2 << 30, timeout: float = 120,
                cwd: Path | None = None, stdin: bytes | None = None,
                python_code: str | None = None) -> subprocess.CompletedProcess[bytes]:
    """``python -m banscan ARGS`` (or ``python -c CODE ARGS``) under RLIMIT_AS=memory and a timeout."""

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    cmd = [sys.executable, "-c", python_code] if python_code else [sys.executable, "-m", "banscan"]
    return subprocess.run([*cmd, *args], env=env, cwd=cwd or ROOT, capture_output=True, timeout=timeout,
                          preexec_fn=limits, input=stdin)


def peak_rss_kb_of(args: list[str], env: dict[str, str], timeout: float = 120) -> tuple[int, float, int]:
    """(exit code, seconds, peak RSS in KiB) of ``python -m banscan ARGS``, measured by the kernel."""
    import time

    t = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-m", "banscan", *args], env=env, cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _, status, usage = os.wait4(p.pid, 0)
    except BaseException:
        p.kill()
        raise
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, time.perf_counter() - t, usage.ru_maxrss


def assert_no_controls(text: str, where: str) -> None:
    for c in CONTROL_CHARS:
        assert c not in text, f"{where}: raw {c!r} reached the terminal: {text[:300]!r}"

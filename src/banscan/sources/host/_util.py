"""Helpers for the host collectors: bounded subprocesses and observation building."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Mapping

from banscan.model import EvidenceClass, Locator, Observation


class Budget:
    """A deadline shared by every subprocess of one host scan."""

    def __init__(self, seconds: float = 8.0, per_command: float = 4.0) -> None:
        self.deadline = time.monotonic() + seconds
        self.per_command = per_command

    def timeout(self) -> float:
        return max(0.0, min(self.per_command, self.deadline - time.monotonic()))


class ToolUnavailable(Exception):
    """A command is missing, failed or ran out of time."""


def run_tool(argv: list[str], budget: Budget) -> str:
    """The standard output of ``argv``, or ToolUnavailable with the reason."""
    exe = shutil.which(argv[0])
    if exe is None:
        raise ToolUnavailable(f"{argv[0]} not found")
    timeout = budget.timeout()
    if timeout <= 0:
        raise ToolUnavailable(f"{argv[0]} skipped: host scan time budget used up")
    try:
        proc = subprocess.run(  # noqa: S603 - fixed argument lists, no shell
            [exe, *argv[1:]],
            capture_output=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolUnavailable(f"{argv[0]} timed out after {timeout:.1f} s") from exc
    except OSError as exc:
        raise ToolUnavailable(f"{argv[0]} could not run: {exc}") from exc
    out = proc.stdout.decode("utf-8", errors="replace")
    if proc.returncode != 0 and not out.strip():
        err = proc.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise ToolUnavailable(f"{argv[0]} exited with {proc.returncode}" + (f": {err[0]}" if err else ""))
    return out


def obs(
    kind: str,
    asset: str,
    fields: Mapping[str, str | tuple[str, ...]],
    where: str,
    evidence_class: EvidenceClass,
    input_path: str,
) -> Observation:
    clean: dict[str, str | tuple[str, ...]] = {}
    for k, v in fields.items():
        vs = tuple(dict.fromkeys(x.strip() for x in ((v,) if isinstance(v, str) else v) if x and x.strip()))
        if vs:
            clean[k] = vs[0] if isinstance(v, str) or len(vs) == 1 else vs
    return Observation(kind, asset, clean, Locator(input_path, where), evidence_class)

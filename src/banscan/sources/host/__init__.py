"""Scan of the machine banscan runs on.

``scan_host(ctx)`` picks the collectors for ``sys.platform`` (Linux: dpkg, rpm, Python, npm,
snap, flatpak, /opt and /usr/local, systemd units, processes, kernel modules; macOS:
application bundles and pkgutil receipts; Windows: Uninstall keys, services and drivers).
Each collector parses recorded output too, so it is tested on fixtures of its platform.
Subprocesses share a time budget; a missing tool is skipped and listed as a deviation.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator

from banscan.model import Locator, Observation, Problem
from banscan.sources.base import ReadContext
from banscan.sources.host._util import Budget


def scan_host(ctx: ReadContext, platform: str | None = None, budget: Budget | None = None) -> Iterator[Observation | Problem]:
    platform = platform or sys.platform
    asset = ctx.asset or socket.gethostname()
    budget = budget or Budget()
    if platform.startswith("linux"):
        from banscan.sources.host import linux as mod
    elif platform == "darwin":
        from banscan.sources.host import macos as mod  # type: ignore[no-redef]
    elif platform in ("win32", "cygwin"):
        from banscan.sources.host import windows as mod  # type: ignore[no-redef]
    else:
        yield Problem(Locator(ctx.path, ""), f"host scan does not support platform {platform!r}", fatal=True)
        return
    yield from mod.scan(asset, ctx.path, ctx.deviation, budget)


__all__ = ["scan_host", "Budget"]

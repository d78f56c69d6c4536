"""Where installed registry bundles live and which one is active.

Layout under ``platformdirs.user_data_dir("banscan")``::

    registry/
      active            text file: the version of the active bundle
      <version>/        the bundle's data tree (registry.yaml, families/, restrictions/, ...)
        manifest.json   the bundle manifest it was installed from

:func:`active_data_dir` returns the active tree, or ``None`` when nothing is installed, the
pointer is broken, or the bundled registry (shipped with the installed banscan) is at least as
new, so upgrading banscan is never shadowed by an older downloaded bundle.
No SQLAlchemy here: the registry loader imports this module.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import platformdirs

ACTIVE_FILE = "active"


def registry_home() -> Path:
    """The directory holding installed registry bundles (``BANSCAN_REGISTRY_HOME`` overrides)."""
    env = os.environ.get("BANSCAN_REGISTRY_HOME")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("banscan", appauthor=False)) / "registry"


def version_key(version: str) -> tuple[tuple[int, object], ...]:
    """Order versions like ``2026.11.27`` or ``2026.11.27+org.3`` numerically where they are numbers."""
    parts = re.split(r"[.+\-]", version)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def bundled_version() -> str:
    from banscan.registry import DATA_DIR

    try:
        import yaml

        data = yaml.safe_load((DATA_DIR / "registry.yaml").read_text(encoding="utf-8")) or {}
        return str(data.get("version", "0"))
    except (OSError, ValueError):
        return "0"


def active_version() -> str | None:
    try:
        v = (registry_home() / ACTIVE_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return v or None


def active_data_dir(prefer_newer_bundled: bool = True) -> Path | None:
    """The data tree of the installed active registry bundle, or ``None`` to use the bundled one."""
    v = active_version()
    if not v or "/" in v or "\\" in v or v in (".", ".."):
        return None
    d = registry_home() / v
    if not (d / "registry.yaml").is_file():
        return None
    if prefer_newer_bundled and version_key(bundled_version()) > version_key(v):
        return None
    return d

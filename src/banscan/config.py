"""Settings from flags, environment variables and an optional ``banscan.toml``; flags win.

=====================  ======================  ==========================================
banscan.toml key       environment variable    meaning
=====================  ======================  ==========================================
``db``                 ``BANSCAN_DB``          database URL or SQLite file path
``profile``            ``BANSCAN_PROFILE``     organisation profile id(s), comma-separated
``registry``           ``BANSCAN_REGISTRY``    overlay registry file(s), ``os.pathsep``-separated
``fail_on``            ``BANSCAN_FAIL_ON``     requirement level that sets exit code 1
``[limits]`` table     ``BANSCAN_LIMIT_*``     reader limits (banscan.sources.limits.Limits)
``[far]`` table        --                      contract/order numbers etc. for FAR report drafts
=====================  ======================  ==========================================

``banscan.toml`` is read from the current directory, or from the file ``BANSCAN_CONFIG`` names.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from banscan.errors import ConfigError


def default_db_url() -> str:
    d = Path(platformdirs.user_data_dir("banscan", appauthor=False))
    return f"sqlite:///{d / 'banscan.db'}"


@dataclass
class Settings:
    db: str = field(default_factory=default_db_url)
    profiles: list[str] = field(default_factory=list)
    registry: list[str] = field(default_factory=list)
    fail_on: str = "remove"
    far: dict[str, Any] = field(default_factory=dict)
    limits: dict[str, Any] = field(default_factory=dict)  # [limits] table: reader limits
    config_file: str | None = None


def _split(v: str, sep: str = ",") -> list[str]:
    return [x.strip() for x in v.split(sep) if x.strip()]


def load_settings(db: str | None = None, profiles: list[str] | None = None,
                  registry: list[str] | None = None, fail_on: str | None = None,
                  config: str | None = None) -> Settings:
    s = Settings()
    path = Path(config or os.environ.get("BANSCAN_CONFIG") or "banscan.toml")
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as e:
            raise ConfigError(f"{path}: invalid banscan.toml: {e}") from None
        s.config_file = str(path)
        unknown = set(data) - {"db", "profile", "registry", "fail_on", "far", "limits"}
        if unknown:
            raise ConfigError(f"{path}: unknown key(s): {', '.join(sorted(unknown))}")
        if "db" in data:
            s.db = str(data["db"])
        if "profile" in data:
            p = data["profile"]
            s.profiles = _split(p) if isinstance(p, str) else [str(x) for x in p]
        if "registry" in data:
            r = data["registry"]
            base = path.parent
            s.registry = [str(base / x) for x in ([r] if isinstance(r, str) else r)]
        if "fail_on" in data:
            s.fail_on = str(data["fail_on"])
        if "far" in data and isinstance(data["far"], dict):
            s.far = dict(data["far"])
        if "limits" in data:
            if not isinstance(data["limits"], dict):
                raise ConfigError(f"{path}: limits must be a table ([limits])")
            s.limits = dict(data["limits"])
    elif config:
        raise ConfigError(f"{config}: no such configuration file")
    env = os.environ
    if env.get("BANSCAN_DB"):
        s.db = env["BANSCAN_DB"]
    if env.get("BANSCAN_PROFILE"):
        s.profiles = _split(env["BANSCAN_PROFILE"])
    if env.get("BANSCAN_REGISTRY"):
        s.registry = _split(env["BANSCAN_REGISTRY"], os.pathsep)
    if env.get("BANSCAN_FAIL_ON"):
        s.fail_on = env["BANSCAN_FAIL_ON"]
    if db:
        s.db = db
    if profiles:
        s.profiles = [x for p in profiles for x in _split(p)]
    if registry:
        s.registry = list(registry)
    if fail_on:
        s.fail_on = fail_on
    if s.fail_on not in ("advisory", "report", "do-not-procure", "remove", "prohibited"):
        raise ConfigError(f"fail_on: '{s.fail_on}' is not one of advisory, report, do-not-procure, remove, prohibited")
    if "://" not in s.db:
        s.db = f"sqlite:///{Path(s.db).expanduser().resolve()}"
    return s

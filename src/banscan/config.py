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
import re
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


MAX_CONFIG_BYTES = 1 << 20
_KINDS = {dict: "a table", list: "an array", str: "a string", int: "an integer", float: "a number",
          bool: "a boolean"}


MAX_KEY_DEPTH = 32
_QUOTED = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'')


def _check_key_depth(text: str) -> None:
    """Refuse dotted keys nested more than MAX_KEY_DEPTH deep: tomllib's time grows with the
    cube of their depth (a 64 KB line of ``a.a.a…`` takes half a minute)."""
    for line in text.splitlines():
        if line.count(".") > MAX_KEY_DEPTH and _QUOTED.sub("", line).count(".") > MAX_KEY_DEPTH:
            raise RecursionError


def _kind(v: Any) -> str:
    return _KINDS.get(type(v), "a date or time" if hasattr(v, "isoformat") else type(v).__name__)


def _string(path: Path, key: str, v: Any) -> str:
    if not isinstance(v, str):
        raise ConfigError(f"{path}: {key}: expected a string, got {_kind(v)}")
    return v


def _strings(path: Path, key: str, v: Any) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ConfigError(f"{path}: {key}: expected a string or an array of strings, got {_kind(v)}")
    return list(v)


def _split(v: str, sep: str = ",") -> list[str]:
    return [x.strip() for x in v.split(sep) if x.strip()]


def load_settings(db: str | None = None, profiles: list[str] | None = None,
                  registry: list[str] | None = None, fail_on: str | None = None,
                  config: str | None = None) -> Settings:
    s = Settings()
    path = Path(config or os.environ.get("BANSCAN_CONFIG") or "banscan.toml")
    if path.exists():
        import tomllib

        from banscan.safeio import read_limited
        from banscan.textsafe import term

        raw = read_limited(path, MAX_CONFIG_BYTES, "configuration file")
        try:
            text = raw.decode("utf-8")
            _check_key_depth(text)
            data = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{term(path)}: invalid banscan.toml: {term(e)}") from None
        except RecursionError:
            raise ConfigError(f"{term(path)}: invalid banscan.toml: nested too deeply") from None
        s.config_file = str(path)
        unknown = set(data) - {"db", "profile", "registry", "fail_on", "far", "limits"}
        if unknown:
            raise ConfigError(f"{term(path)}: unknown key(s): {term(', '.join(sorted(unknown)))}")
        if "db" in data:
            s.db = _string(path, "db", data["db"])
        if "profile" in data:
            p = data["profile"]
            s.profiles = _split(p) if isinstance(p, str) else _strings(path, "profile", p)
        if "registry" in data:
            r = data["registry"]
            base = path.parent
            s.registry = [str(base / x) for x in ([r] if isinstance(r, str) else _strings(path, "registry", r))]
        if "fail_on" in data:
            s.fail_on = _string(path, "fail_on", data["fail_on"])
        if "far" in data:
            far = data["far"]
            if not isinstance(far, dict):
                raise ConfigError(f"{term(path)}: far: expected a table ([far]), got {_kind(far)}")
            for k, v in far.items():
                if not isinstance(v, str | int | float | bool) and not hasattr(v, "isoformat"):
                    raise ConfigError(f"{term(path)}: far.{term(k)}: expected a string or date, got {_kind(v)}")
            s.far = dict(far)
        if "limits" in data:
            if not isinstance(data["limits"], dict):
                raise ConfigError(f"{term(path)}: limits must be a table ([limits])")
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

"""The compiled registry (with its signature kinds' indexes) and the compiled Hyperscan database, cached
in the user cache dir.

The key is the sha256 of everything the result depends on: banscan's version and the code that
builds it, every bundled data file (or the installed bundle's) and every overlay file, by
content.  A cache file is trusted only when its HMAC-SHA256, under a random key kept beside it
(mode 0600) and written by this user, matches; anything else (corrupt, truncated, written by
someone else, from another version) is ignored and rebuilt.  ``BANSCAN_NO_CACHE=1`` turns the
cache off.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import secrets
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
_MAGIC = b"banscan-cache-1\n"
_CODE_PACKAGES = ("registry", "match", "match/kinds", "fast")
KEEP = 8


def cache_dir() -> Path:
    env = os.environ.get("BANSCAN_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("banscan", appauthor=False)) / "compiled"


def enabled() -> bool:
    return os.environ.get("BANSCAN_NO_CACHE", "") not in ("1", "true", "yes")


def _secret(d: Path) -> bytes | None:
    p = d / "hmac.key"
    try:
        st = p.stat()
        if st.st_uid != os.getuid() or st.st_mode & 0o077:
            return None  # not ours alone: trust nothing signed with it
        key = p.read_bytes()
        return key if len(key) == 32 else None
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = secrets.token_bytes(32)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        return key
    except FileExistsError:
        return _secret(d)
    except OSError:
        return None


def _code_digest(h: Any) -> None:
    import banscan

    h.update(banscan.__version__.encode())
    root = Path(banscan.__file__).parent
    for pkg in _CODE_PACKAGES:
        for f in sorted((root / pkg).glob("*.py")):
            h.update(f.name.encode())
            h.update(f.read_bytes())


def key_of(parts: Iterable[bytes], files: Iterable[Path], code: bool = True) -> str:
    """sha256 of ``parts`` and ``files`` (and of banscan's version and registry/matcher code
    when ``code``: what a pickled registry's layout and its kinds' indexes depend on)."""
    h = hashlib.sha256()
    if code:
        _code_digest(h)
    for p in parts:
        h.update(len(p).to_bytes(8, "big"))
        h.update(p)
    for f in files:
        h.update(str(f).encode("utf-8", "surrogateescape"))
        h.update(b"\0")
        h.update(f.read_bytes())
    return h.hexdigest()


def cached(name: str, key: str, build: Callable[[], T]) -> T:
    """``build()``, or the value stored under (``name``, ``key``) when its HMAC checks out."""
    if not enabled():
        return build()
    d = cache_dir()
    secret = _secret(d)
    if secret is None:
        return build()
    path = d / f"{name}-{key}.bin"
    try:
        data = path.read_bytes()
        if data.startswith(_MAGIC) and len(data) > len(_MAGIC) + 32:
            mac, payload = data[len(_MAGIC):len(_MAGIC) + 32], data[len(_MAGIC) + 32:]
            if hmac.compare_digest(mac, hmac.new(secret, payload, hashlib.sha256).digest()):
                return pickle.loads(payload)  # noqa: S301 - only bytes this user's key signed
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        pass
    value = build()
    try:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        mac = hmac.new(secret, payload, hashlib.sha256).digest()
        fd, tmp = tempfile.mkstemp(dir=d, prefix=f".{name}-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(_MAGIC + mac + payload)
        os.replace(tmp, path)
        entries = sorted(d.glob(f"{name}-*.bin"), key=lambda f: f.stat().st_mtime, reverse=True)
        for old in entries[KEEP:]:  # the newest few per name (several registries in use)
            old.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        pass
    return value


def data_files(base: Path) -> list[Path]:
    """The registry's data files (.yaml, .yml, .json) under ``base``, in path order: those that
    ``base.rglob("*")`` lists and ``is_file()`` accepts (links to files count, linked directories
    are not entered, unreadable ones are skipped), found with ``os.scandir``, whose entries carry
    their type, and sorted as strings split at "/" (Path's own order): a warm start lists about
    160 files, in half the time pathlib takes."""
    found: list[str] = []

    def walk(d: str) -> None:
        try:
            with os.scandir(d) as it:
                entries = list(it)
        except (PermissionError, FileNotFoundError, NotADirectoryError):
            return
        for e in entries:
            try:
                if e.is_dir(follow_symlinks=False):
                    walk(e.path)
                    continue
                if not e.is_file():
                    continue
            except OSError:
                continue
            name = e.name
            i = name.rfind(".")  # Path.suffix: after the last dot, if it neither starts nor ends the name
            if 0 < i < len(name) - 1 and name[i:] in (".yaml", ".yml", ".json"):
                found.append(e.path)

    walk(str(base))
    found.sort(key=lambda p: p.split(os.sep))
    return [Path(p) for p in found]


def load_registry(overlays: Iterable[str | Path] = (), data_dir: Path | None = None,
                  loader: Callable[..., Any] | None = None) -> Any:
    """:func:`banscan.registry.load` (or ``loader``), cached by the sha256 of its inputs
    (overlays included)."""
    from banscan.registry import DATA_DIR
    from banscan.registry import load as default_load

    load = loader or default_load

    overlays = list(overlays)
    if data_dir is None:
        from banscan.store.active import active_data_dir

        data_dir = active_data_dir()
    base = Path(data_dir or DATA_DIR)
    paths = [Path(o) for o in overlays]
    if not enabled() or any(not p.is_file() for p in paths):
        return load(overlays, data_dir=base)  # a missing overlay: load() says so
    files = data_files(base)
    try:
        key = key_of([str(base).encode(), b"\0".join(str(p.resolve()).encode() for p in paths)],
                     files + paths)
    except OSError:
        return load(overlays, data_dir=base)

    def build() -> Any:
        from banscan.match import compile_kinds

        # with the signature kinds' indexes made: a scan of the cached registry does not compile them
        return compile_kinds(load(overlays, data_dir=base))

    return cached("registry", key, build)

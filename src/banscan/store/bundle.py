"""Registry bundles: build, verify and install a newer registry without upgrading banscan.

A bundle is a gzip-compressed tar file (``.tar.gz``; a ``.zip`` with the same members is also
read) holding::

    manifest.json        {"format": "banscan-registry-bundle", "format_version": 1,
                          "version": "<registry version>", "sha256": "<registry digest>",
                          "created": "<ISO time>", "files": {"data/<path>": "<sha256 of the file>", ...}}
    data/registry.yaml   the registry tree, as under banscan/registry/data
    data/families/*.yaml, data/restrictions/*.yaml, data/profiles/*.yaml, data/generated/oui.json

``sha256`` in the manifest is the registry digest banscan reports for the tree (``registry
meta``), so a scan's recorded registry sha256 can be traced to the bundle.  A publisher may sign
the bundle file: ``FILE.sig`` next to it holds the base64 Ed25519 signature of the bundle's
bytes.  ``--sha256`` checks the digest of the bundle file itself.

Installing verifies, in order: the file digest (when given), the signature (when a key is
given: a missing or bad signature fails), the member names (no absolute paths, ``..``, links or
devices), every file against the manifest, then loads the tree with ``banscan.registry.load``
and checks its version and digest against the manifest.  It is then copied to
``registry_home()/<version>`` and the ``active`` pointer is replaced atomically.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING

import yaml

from banscan.errors import BanscanError, RegistryError
from banscan.store.active import ACTIVE_FILE, active_version, registry_home
from banscan.textsafe import term

if TYPE_CHECKING:
    from banscan.registry import Registry

FORMAT = "banscan-registry-bundle"
FORMAT_VERSION = 1
MAX_BUNDLE = 32 << 20  # the bundle file
MAX_MEMBER = 16 << 20  # one member, uncompressed
MAX_TOTAL = 64 << 20  # all members, uncompressed
MAX_MEMBERS = 2000
MAX_DEPTH = 32  # nesting of a YAML or JSON member
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: 10x faster
_MEMBER_RE = re.compile(
    r"^(?:manifest\.json|data/registry\.yaml|data/(?:families|restrictions|profiles|generated)/"
    r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.(?:yaml|json))$")
_SUBDIRS = ("families", "restrictions", "profiles", "generated")
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")


class BundleError(BanscanError):
    """A registry bundle is unreadable, altered or invalid."""


def _files_of(data_dir: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    reg = data_dir / "registry.yaml"
    if reg.is_file():
        out["data/registry.yaml"] = reg.read_bytes()
    for sub in _SUBDIRS:
        d = data_dir / sub
        if not d.is_dir():
            continue
        for p in sorted(d.iterdir()):
            if p.is_file() and p.suffix in (".yaml", ".json") and not p.name.startswith("."):
                out[f"data/{sub}/{p.name}"] = p.read_bytes()
    return out


def build_bundle(data_dir: Path, out: Path, private_key: Path | None = None,
                 created: str | None = None) -> dict[str, object]:
    """Write a bundle of ``data_dir`` to ``out`` (and ``out.sig`` when a private key is given)."""
    from banscan.registry import load

    reg = load(data_dir=data_dir)
    files = _files_of(data_dir)
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "version": reg.version, "sha256": reg.sha256,
        "created": created or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "files": {k: hashlib.sha256(v).hexdigest() for k, v in sorted(files.items())},
    }
    members = {"manifest.json": json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n", **files}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT,
                      compresslevel=9) as tar:  # gzip header mtime is set below
        for name in ["manifest.json", *sorted(files)]:
            content = members[name]
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(content))
    raw = bytearray(buf.getvalue())
    raw[4:8] = b"\0\0\0\0"  # gzip MTIME: byte-identical bundles for identical trees
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(bytes(raw))
    if private_key is not None:
        from banscan.attest import load_private_key

        sig = load_private_key(private_key).sign(bytes(raw))
        Path(str(out) + ".sig").write_text(base64.b64encode(sig).decode() + "\n", encoding="ascii")
    return {**manifest, "bundle_sha256": hashlib.sha256(raw).hexdigest()}


@dataclass
class Installed:
    version: str
    sha256: str
    path: Path
    bundle_sha256: str
    signed: bool
    signature_checked: bool
    previous: str | None
    notes: list[str] = field(default_factory=list)


def _safe_name(name: str) -> str | None:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or any(part in ("..", "") for part in p.parts) or not p.parts:
        return None
    s = str(p)
    if s.startswith("./"):
        s = s[2:]
    return s


def _check_name(name: str, label: str, seen: set[str]) -> None:
    if not _MEMBER_RE.match(name):
        raise BundleError(f"{label}: unexpected member '{term(name)}' (a bundle holds manifest.json, "
                          "data/registry.yaml and files directly under data/families, data/restrictions, "
                          "data/profiles and data/generated)")
    if name in seen:
        raise BundleError(f"{label}: member '{term(name)}' appears twice")
    seen.add(name)


class _Budget:
    """Member count, member size and total size caps, checked before and while reading."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.count = 0
        self.total = 0

    def admit(self, name: str, size: int) -> None:
        self.count += 1
        if self.count > MAX_MEMBERS:
            raise BundleError(f"{self.label}: more than {MAX_MEMBERS} members")
        if size > MAX_MEMBER:
            raise BundleError(f"{self.label}: member '{term(name)}' is {size} bytes (the limit is {MAX_MEMBER})")
        self.total += size
        if self.total > MAX_TOTAL:
            raise BundleError(f"{self.label}: the members add up to more than {MAX_TOTAL} bytes")


def _read_capped(f: IO[bytes], name: str, declared: int, label: str) -> bytes:
    data = f.read(min(declared, MAX_MEMBER) + 1)
    if len(data) != declared:
        raise BundleError(f"{label}: member '{term(name)}' does not have its declared size")
    return data


def _members(raw: bytes, label: str) -> dict[str, bytes]:
    """The bundle's files by name, refusing anything but regular files in the expected layout and
    anything over the member-count, member-size or total-size caps, before installing anything."""
    out: dict[str, bytes] = {}
    seen: set[str] = set()
    budget = _Budget(label)
    if raw[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                infos = z.infolist()
                for zi in infos:  # sizes and types from the central directory first, then read
                    if zi.is_dir():
                        continue
                    name = _safe_name(zi.filename)
                    kind = (zi.external_attr >> 16) & 0o170000
                    if name is None or (kind and kind != stat.S_IFREG) or zi.flag_bits & 0x1:
                        raise BundleError(f"{label}: unsafe member '{term(zi.filename)}' "
                                          "(only plain, unencrypted files are allowed)")
                    _check_name(name, label, seen)
                    budget.admit(name, zi.file_size)
                for zi in infos:
                    if zi.is_dir():
                        continue
                    name = _safe_name(zi.filename)
                    assert name is not None
                    with z.open(zi) as f:
                        out[name] = _read_capped(f, name, zi.file_size, label)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
                NotImplementedError, RuntimeError) as e:
            raise BundleError(f"{label}: not a readable zip file: {term(e)}") from None
        return out
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:*") as tar:
            while True:
                m = tar.next()  # one header at a time: refuse before decompressing the rest
                if m is None:
                    break
                if m.isdir():
                    continue
                name = _safe_name(m.name)
                if name is None or not m.isfile() or m.issparse():
                    raise BundleError(f"{label}: unsafe member '{term(m.name)}' (only plain files are allowed)")
                _check_name(name, label, seen)
                budget.admit(name, m.size)
                member = tar.extractfile(m)
                if member is None:
                    raise BundleError(f"{label}: member '{term(m.name)}' has no content")
                out[name] = _read_capped(member, name, m.size, label)
    except (tarfile.TarError, EOFError, OSError, ValueError, zlib.error) as e:
        raise BundleError(f"{label}: not a readable .tar.gz or .zip registry bundle: {term(e)}") from None
    return out


def _check_content(name: str, content: bytes, label: str) -> None:
    """Each data file parses, is not nested deeper than MAX_DEPTH, and YAML uses no aliases (an
    alias bomb expands exponentially when validated)."""
    where = f"{label}: {name}"
    if name.endswith(".json"):
        try:
            json.loads(content.decode("utf-8"))
        except (ValueError, RecursionError) as e:
            raise BundleError(f"{where}: not valid JSON: {term(' '.join(str(e).split())[:200])}") from None
        _check_json_depth(content, where)
        return
    depth = 0
    try:
        for ev in yaml.parse(content.decode("utf-8"), Loader=_YAML_LOADER):
            if isinstance(ev, yaml.AliasEvent):
                raise BundleError(f"{where}: YAML aliases are not allowed in a registry bundle")
            if isinstance(ev, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise BundleError(f"{where}: nested more than {MAX_DEPTH} levels deep")
            elif isinstance(ev, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                depth -= 1
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as e:
        raise BundleError(f"{where}: not valid YAML: {term(' '.join(str(e).split())[:200])}") from None
    if name == "data/registry.yaml":
        data = yaml.load(content, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
        if not isinstance(data, dict):
            raise BundleError(f"{where}: expected a mapping (version: …), got {type(data).__name__}")


def _check_json_depth(content: bytes, where: str) -> None:
    depth = 0
    in_str = esc = False
    for b in content:
        if in_str:
            if esc:
                esc = False
            elif b == 0x5C:
                esc = True
            elif b == 0x22:
                in_str = False
        elif b == 0x22:
            in_str = True
        elif b in (0x5B, 0x7B):
            depth += 1
            if depth > MAX_DEPTH:
                raise BundleError(f"{where}: nested more than {MAX_DEPTH} levels deep")
        elif b in (0x5D, 0x7D):
            depth -= 1


def verify_bundle(path: Path, public_key: Path | None = None,
                  sha256: str | None = None) -> tuple[dict[str, object], dict[str, bytes], bool, list[str]]:
    """Check a bundle; return (manifest, data files, signature checked, notes)."""
    notes: list[str] = []
    from banscan.safeio import read_limited

    try:
        raw = read_limited(path, MAX_BUNDLE, "registry bundle")
    except BundleError:
        raise
    except BanscanError as e:
        raise BundleError(e.problems) from None
    digest = hashlib.sha256(raw).hexdigest()
    if sha256 is not None:
        if not re.fullmatch(r"[0-9a-fA-F]{64}", sha256.strip()):
            raise BanscanError(f"--sha256: '{sha256}' is not a SHA-256 hex digest")
        if digest != sha256.strip().lower():
            raise BundleError(f"{path}: sha256 {digest} does not match --sha256 {sha256.strip().lower()}")
    sig_path = Path(str(path) + ".sig")
    checked = False
    if public_key is not None:
        from banscan.attest import load_public_key

        if not sig_path.is_file():
            raise BundleError(f"{path}: --key given but there is no signature file {sig_path.name}")
        try:
            sig = base64.b64decode(sig_path.read_text(encoding="ascii").strip(), validate=True)
        except (ValueError, UnicodeDecodeError):
            raise BundleError(f"{sig_path}: not a base64 signature") from None
        from cryptography.exceptions import InvalidSignature

        try:
            load_public_key(public_key).verify(sig, raw)
        except InvalidSignature:
            raise BundleError(f"{path}: the signature does not match the key {public_key}") from None
        checked = True
    elif sig_path.is_file():
        notes.append(f"{sig_path.name} present but not checked (no --key given)")
    elif sha256 is None:
        notes.append("neither --sha256 nor --key given: the bundle's origin is not verified")
    members = _members(raw, str(path))
    if "manifest.json" not in members:
        raise BundleError(f"{path}: no manifest.json (is this a banscan registry bundle?)")
    try:
        manifest = json.loads(members.pop("manifest.json"))
    except (ValueError, RecursionError) as e:
        raise BundleError(f"{path}: manifest.json is not valid JSON: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{path}: manifest.json: format is not '{FORMAT}'")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(f"{path}: manifest.json: unsupported format_version {manifest.get('format_version')!r}")
    version = str(manifest.get("version", ""))
    if not _VERSION_RE.match(version):
        raise BundleError(f"{path}: manifest.json: bad version '{version}'")
    listed = manifest.get("files")
    if not isinstance(listed, dict) or not all(isinstance(v, str) for v in listed.values()):
        raise BundleError(f"{path}: manifest.json: files is missing or not a mapping of names to digests")
    if not isinstance(manifest.get("sha256"), str):
        raise BundleError(f"{path}: manifest.json: sha256 is missing or not a string")
    extra = sorted(set(members) - set(listed))
    missing = sorted(set(listed) - set(members))
    if extra or missing:
        raise BundleError(f"{path}: contents differ from the manifest (extra: {', '.join(extra) or '-'}; "
                          f"missing: {', '.join(missing) or '-'})")
    for name, content in members.items():
        if not name.startswith("data/"):
            raise BundleError(f"{path}: unexpected member '{name}' outside data/")
        if hashlib.sha256(content).hexdigest() != str(listed[name]).lower():
            raise BundleError(f"{path}: {name}: sha256 does not match the manifest")
        _check_content(name, content, str(path))
    manifest["bundle_sha256"] = digest
    return manifest, members, checked, notes


def _materialise(path: Path, manifest: dict[str, object], members: dict[str, bytes], data: Path) -> Registry:
    """Write the bundle's data tree under ``data`` and load it, checking version and digest."""
    from banscan.registry import load

    version = str(manifest["version"])
    for name, content in members.items():
        target = data / name[len("data/"):]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    for sub in _SUBDIRS:
        (data / sub).mkdir(parents=True, exist_ok=True)
    try:
        reg = load(data_dir=data)
    except RegistryError as e:
        raise BundleError([f"{path}: the bundled registry is invalid:", *e.problems]) from None
    if reg.version != version:
        raise BundleError(f"{path}: registry.yaml says version {reg.version}, the manifest {version}")
    if reg.sha256 != manifest.get("sha256"):
        raise BundleError(f"{path}: registry digest {reg.sha256} does not match the manifest's "
                          f"{manifest.get('sha256')}")
    return reg


@contextmanager
def preview_bundle(path: Path, public_key: Path | None = None,
                   sha256: str | None = None) -> Iterator[tuple[Registry, Installed]]:
    """Verify ``path`` and load its registry from a temporary directory, without installing it
    (``banscan registry update --dry-run``).  Yields the registry and what installing would record."""
    manifest, members, checked, notes = verify_bundle(path, public_key, sha256)
    with tempfile.TemporaryDirectory(prefix="banscan-bundle-") as tmp:
        data = Path(tmp) / "data"
        reg = _materialise(path, manifest, members, data)
        yield reg, Installed(version=reg.version, sha256=reg.sha256, path=data,
                             bundle_sha256=str(manifest["bundle_sha256"]), signed=Path(str(path) + ".sig").is_file(),
                             signature_checked=checked, previous=active_version(), notes=notes)


def install_bundle(path: Path, public_key: Path | None = None, sha256: str | None = None) -> Installed:
    """Verify ``path`` and make it the active registry."""
    manifest, members, checked, notes = verify_bundle(path, public_key, sha256)
    version = str(manifest["version"])
    home = registry_home()
    created = not home.exists()
    try:
        home.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".install-", dir=home))
    except OSError as e:
        raise BundleError(f"{term(home)}: cannot install the registry there: {e.strerror or e}") from None
    installed = False
    try:
        data = tmp / "data"
        reg = _materialise(path, manifest, members, data)
        (data / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n",
                                            encoding="utf-8")
        dest = home / version
        if dest.exists():
            aside = home / f".old-{version}-{os.getpid()}"
            os.replace(dest, aside)
            os.replace(data, dest)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(data, dest)
        previous = active_version()
        pointer = home / f".{ACTIVE_FILE}.{os.getpid()}"
        pointer.write_text(version + "\n", encoding="utf-8")
        os.replace(pointer, home / ACTIVE_FILE)
        installed = True
    except OSError as e:
        raise BundleError(f"{term(home)}: cannot install the registry there: {e.strerror or e}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if created and not installed:
            shutil.rmtree(home, ignore_errors=True)
    return Installed(version=version, sha256=reg.sha256, path=dest, bundle_sha256=str(manifest["bundle_sha256"]),
                     signed=Path(str(path) + ".sig").is_file(), signature_checked=checked, previous=previous,
                     notes=notes)

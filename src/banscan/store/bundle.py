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
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from banscan.errors import BanscanError, RegistryError
from banscan.store.active import ACTIVE_FILE, active_version, registry_home

FORMAT = "banscan-registry-bundle"
FORMAT_VERSION = 1
MAX_MEMBER = 64 << 20
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


def _members(raw: bytes, label: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    if raw[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                for zi in z.infolist():
                    if zi.is_dir():
                        continue
                    name = _safe_name(zi.filename)
                    if name is None or zi.file_size > MAX_MEMBER:
                        raise BundleError(f"{label}: unsafe or oversized member '{zi.filename}'")
                    out[name] = z.read(zi)
        except zipfile.BadZipFile as e:
            raise BundleError(f"{label}: not a readable zip file: {e}") from None
        return out
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:*") as tar:
            for m in tar.getmembers():
                if m.isdir():
                    continue
                name = _safe_name(m.name)
                if name is None or not m.isfile() or m.size > MAX_MEMBER:
                    raise BundleError(f"{label}: unsafe member '{m.name}' (only plain files are allowed)")
                f = tar.extractfile(m)
                assert f is not None
                out[name] = f.read()
    except (tarfile.TarError, EOFError, OSError) as e:
        raise BundleError(f"{label}: not a readable .tar.gz or .zip registry bundle: {e}") from None
    return out


def verify_bundle(path: Path, public_key: Path | None = None,
                  sha256: str | None = None) -> tuple[dict[str, object], dict[str, bytes], bool, list[str]]:
    """Check a bundle; return (manifest, data files, signature checked, notes)."""
    notes: list[str] = []
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise BanscanError(f"{path}: cannot read: {e.strerror or e}") from None
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
    except ValueError as e:
        raise BundleError(f"{path}: manifest.json is not valid JSON: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{path}: manifest.json: format is not '{FORMAT}'")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(f"{path}: manifest.json: unsupported format_version {manifest.get('format_version')!r}")
    version = str(manifest.get("version", ""))
    if not _VERSION_RE.match(version):
        raise BundleError(f"{path}: manifest.json: bad version '{version}'")
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise BundleError(f"{path}: manifest.json: files is missing")
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
    manifest["bundle_sha256"] = digest
    return manifest, members, checked, notes


def install_bundle(path: Path, public_key: Path | None = None, sha256: str | None = None) -> Installed:
    """Verify ``path`` and make it the active registry."""
    from banscan.registry import load

    manifest, members, checked, notes = verify_bundle(path, public_key, sha256)
    version = str(manifest["version"])
    home = registry_home()
    home.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".install-", dir=home))
    try:
        data = tmp / "data"
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
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Installed(version=version, sha256=reg.sha256, path=dest, bundle_sha256=str(manifest["bundle_sha256"]),
                     signed=Path(str(path) + ".sig").is_file(), signature_checked=checked, previous=previous,
                     notes=notes)

"""Issue 15 class 10: 'registry update' checks a bundle fully (layout, member types and sizes,
total size, depth, registry.yaml shape) before touching the installed registry, and leaves
nothing behind when it refuses one."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from hardkit import cli

from banscan.registry.loader import DATA_DIR
from banscan.store import bundle as B
from banscan.store.bundle import BundleError, install_bundle, verify_bundle


@pytest.fixture(autouse=True)
def registry_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("BANSCAN_REGISTRY_HOME", str(home))
    return home


def _real_members() -> dict[str, bytes]:
    """The bundled registry tree as bundle members (a real bundle's content)."""
    return {k: v for k, v in B._files_of(DATA_DIR).items()}


def _tar(members: dict[str, bytes], out: Path, manifest: dict | None = None, extra: list | None = None,
         sizes: dict[str, int] | None = None) -> Path:
    files = {k: v for k, v in members.items()}
    m = manifest if manifest is not None else {
        "format": B.FORMAT, "format_version": B.FORMAT_VERSION, "version": "2099.01.01",
        "sha256": "0" * 64, "created": "2099-01-01T00:00:00+00:00",
        "files": {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}}
    with tarfile.open(out, "w:gz") as tar:
        raw = json.dumps(m).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        for info, content in extra or []:
            tar.addfile(info, io.BytesIO(content) if content is not None else None)
    return out


def _refused(path: Path, home: Path, capsys, words: str) -> None:
    with pytest.raises(BundleError) as e:
        install_bundle(path)
    assert words in " ".join(e.value.problems), e.value.problems
    assert not home.exists() or not any(home.iterdir()), list(home.rglob("*"))
    code, _, err = cli(capsys, "registry", "update", str(path), "--no-reevaluate")
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_zip_bomb_of_forty_large_members_is_refused_quickly(tmp_path, registry_home, capsys):
    """40 members of 60 MB of zeros compress to ~2.5 MB: refused from the first header."""
    import gzip

    size = 60 << 20
    zeros = gzip.compress(b"\0" * size, 9)  # one compressed member body, reused: gzip streams concatenate
    parts = []
    for i in range(40):
        info = tarfile.TarInfo(f"data/generated/junk{i}.json")
        info.size = size
        parts += [gzip.compress(info.tobuf(tarfile.PAX_FORMAT)), zeros]
    parts.append(gzip.compress(b"\0" * 1024))
    out = tmp_path / "bomb.tar.gz"
    out.write_bytes(b"".join(parts))
    assert out.stat().st_size < 3 << 20  # a 2.5 MB bundle that would unpack to 2.4 GB
    t = time.perf_counter()
    _refused(out, registry_home, capsys, "limit")
    assert time.perf_counter() - t < 60  # generous: it stops at the first member header


def test_many_members_adding_up_past_the_total_cap(tmp_path, registry_home, capsys):
    blob = b"{}" + b" " * (B.MAX_MEMBER - 10)
    members = {f"data/generated/f{i}.json": blob for i in range(B.MAX_TOTAL // B.MAX_MEMBER + 1)}
    _refused(_tar(members, tmp_path / "b.tar.gz"), registry_home, capsys, "add up")


def test_generated_as_a_file_nested_files_and_non_regular_members(tmp_path, registry_home, capsys):
    real = _real_members()
    cases = {
        "generated-file": {**{k: v for k, v in real.items() if not k.startswith("data/generated/")},
                           "data/generated": b"not a directory"},
        "nested-manifest": {**real, "data/manifest.json": b"{}"},
        "nested-oui": {**real, "data/generated/x/oui.json": b"{}"},
        "nested-yaml": {**real, "data/families/sub/kaspersky.yaml": b"id: x\n"},
        "outside-data": {**real, "other/file.yaml": b"a: 1\n"},
    }
    for name, members in cases.items():
        _refused(_tar(members, tmp_path / f"{name}.tar.gz"), registry_home, capsys, "unexpected member")
    for kind in (tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE, tarfile.CHRTYPE):
        info = tarfile.TarInfo("data/families/link.yaml")
        info.type = kind
        info.linkname = "/etc/passwd"
        _refused(_tar(real, tmp_path / f"t{kind!r}.tar.gz", extra=[(info, None)]), registry_home, capsys,
                 "only plain files")


def test_registry_yaml_that_is_a_list_and_deep_or_aliased_yaml(tmp_path, registry_home, capsys):
    real = _real_members()
    _refused(_tar({**real, "data/registry.yaml": b"- version\n- 2099\n"}, tmp_path / "list.tar.gz"),
             registry_home, capsys, "mapping")
    deep = b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n"
    _refused(_tar({**real, "data/families/deep.yaml": deep}, tmp_path / "deep.tar.gz"), registry_home, capsys,
             "nested")
    bomb = b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b]\n"
    _refused(_tar({**real, "data/families/bomb.yaml": bomb}, tmp_path / "bomb.tar.gz"), registry_home, capsys,
             "aliases")
    deep_json = b"[" * 100 + b"]" * 100
    _refused(_tar({**real, "data/generated/oui.json": deep_json}, tmp_path / "j.tar.gz"), registry_home, capsys,
             "nested")


def test_manifest_of_wrong_types(tmp_path, registry_home, capsys):
    real = _real_members()
    base = {"format": B.FORMAT, "format_version": 1, "version": "2099.01.01", "sha256": "0" * 64}
    for files in ([], "x", {"data/registry.yaml": 5}):
        _refused(_tar(real, tmp_path / "m.tar.gz", manifest={**base, "files": files}), registry_home, capsys,
                 "manifest.json")
    _refused(_tar(real, tmp_path / "m2.tar.gz", manifest=[1, 2]), registry_home, capsys, "format")


def test_zip_with_symlink_and_lying_sizes(tmp_path, registry_home, capsys):
    real = _real_members()
    out = tmp_path / "b.zip"
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("manifest.json", "{}")
        zi = zipfile.ZipInfo("data/families/link.yaml")
        zi.external_attr = (0o120777 << 16)
        z.writestr(zi, "/etc/passwd")
        for k, v in real.items():
            z.writestr(k, v)
    _refused(out, registry_home, capsys, "plain")


def test_bundle_file_that_is_a_device_or_too_big(tmp_path, registry_home, capsys):
    if os.path.exists("/dev/zero"):
        _refused(Path("/dev/zero"), registry_home, capsys, "regular file")
    big = tmp_path / "big.tar.gz"
    with open(big, "wb") as f:
        f.truncate(B.MAX_BUNDLE + 1)
    _refused(big, registry_home, capsys, "too large")


def test_a_good_bundle_still_installs(tmp_path, registry_home):
    from banscan.store.bundle import build_bundle

    out = tmp_path / "good.tar.gz"
    build_bundle(DATA_DIR, out)
    manifest, members, _, _ = verify_bundle(out)
    assert "data/registry.yaml" in members
    inst = install_bundle(out)
    assert inst.path.is_dir() and (registry_home / "active").read_text().strip() == inst.version
    assert not [p for p in registry_home.iterdir() if p.name.startswith(".")]

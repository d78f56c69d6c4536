"""Linux collectors.  Each parser takes text (or a directory root) so it can be tested on
recorded output; the ``collect_*`` wrappers read this machine.

Formats: dpkg status file (deb-control(5) stanzas, https://man7.org/linux/man-pages/man5/deb-control.5.html),
``rpm -qa --queryformat`` (https://rpm-software-management.github.io/rpm/manual/queryformat.html),
``importlib.metadata`` distributions, ``npm ls -g --json``, ``snap list``, ``flatpak list
--columns``, systemd unit directories, ``/proc/<pid>/comm`` and ``exe``, ``/proc/modules``
(proc(5)).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from banscan.model import EvidenceClass, F, Locator, Observation, Problem
from banscan.sources._common import python_metadata_fields, split_contact
from banscan.sources.host._util import Budget, ToolUnavailable, obs, run_tool

INSTALLED = EvidenceClass.INSTALLED
RUNTIME = EvidenceClass.RUNTIME

RPM_QUERYFORMAT = "%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{VENDOR}\\t%{PACKAGER}\\n"
FLATPAK_COLUMNS = "application,name,version,origin"
_FHS = {"bin", "etc", "games", "include", "lib", "lib32", "lib64", "libexec", "man", "sbin", "share", "src", "var", "lost+found"}
SYSTEMD_DIRS = ("/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system")
_UNIT_SUFFIXES = (".service", ".socket", ".timer", ".path", ".mount", ".target")


# ------------------------------------------------------------------------------ dpkg status
def parse_dpkg_status(lines: Iterable[str], asset: str, input_path: str, file: str) -> Iterator[Observation]:
    """Installed packages of a dpkg status file; locator ``<file> line N`` (the Package line)."""
    stanza: dict[str, str] = {}
    start = 0
    last = ""
    n = 0
    for n, line in enumerate(lines, 1):
        if not line.strip():
            if stanza:
                o = _dpkg_obs(stanza, start, asset, input_path, file)
                if o:
                    yield o
            stanza, last = {}, ""
            continue
        if line[0] in " \t":
            continue  # continuation of a multi-line field (Description, Conffiles)
        key, sep, value = line.partition(":")
        if not sep:
            continue
        if not stanza:
            start = n
        last = key.strip()
        stanza[last] = value.strip()
    if stanza:
        o = _dpkg_obs(stanza, start, asset, input_path, file)
        if o:
            yield o


def _dpkg_obs(st: dict[str, str], line: int, asset: str, input_path: str, file: str) -> Observation | None:
    name = st.get("Package", "")
    status = st.get("Status", "install ok installed").split()
    if not name or (status and status[-1] != "installed"):
        return None
    maint = st.get("Maintainer", "")
    publisher, maint_mail = split_contact(maint)
    return obs(
        "package",
        asset,
        {
            F.NAME: name,
            F.VERSION: st.get("Version", ""),
            F.PUBLISHER: publisher,
            F.ECOSYSTEM: "deb",
            F.PACKAGE: name,
            "source_package": st.get("Source", "").split(" ", 1)[0],
            F.HOMEPAGE: st.get("Homepage", ""),
            F.MAINTAINER_EMAIL: maint_mail,
        },
        f"{file} line {line}",
        INSTALLED,
        input_path,
    )


# ------------------------------------------------------------------------------ rpm
def parse_rpm_qa(text: str, asset: str, input_path: str) -> Iterator[Observation]:
    """Lines of ``rpm -qa --queryformat RPM_QUERYFORMAT``."""
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.split("\t")
        if not parts or not parts[0].strip():
            continue
        name = parts[0].strip()
        version = parts[1].strip() if len(parts) > 1 else ""
        vendor = parts[2].strip() if len(parts) > 2 else ""
        packager = parts[3].strip() if len(parts) > 3 else ""
        if vendor == "(none)":
            vendor = ""
        if packager == "(none)":
            packager = ""
        yield obs(
            "package",
            asset,
            {
                F.NAME: name,
                F.VERSION: version,
                F.PUBLISHER: vendor or packager.split("<", 1)[0],
                F.ECOSYSTEM: "rpm",
                F.PACKAGE: name,
            },
            f"rpm -qa line {n}",
            INSTALLED,
            input_path,
        )


# ------------------------------------------------------------------------------ python
def collect_python(asset: str, input_path: str) -> Iterator[Observation]:
    import importlib.metadata as md

    seen: set[tuple[str, str]] = set()
    for dist in md.distributions():
        try:
            meta: Any = dist.metadata
            name = meta.get("Name") or ""
            version = dist.version or ""
        except Exception:  # noqa: BLE001 - a broken distribution is skipped
            continue
        if not name or (name.lower(), version) in seen:
            continue
        seen.add((name.lower(), version))
        author = meta.get("Author") or meta.get("Maintainer") or ""
        if not author:
            email = meta.get("Author-email") or ""
            author = email.split("<", 1)[0].strip().strip('"')
        where = str(getattr(dist, "_path", "") or name)
        fields: dict[str, str | tuple[str, ...]] = {
            F.NAME: name, F.VERSION: version, F.PUBLISHER: author, F.ECOSYSTEM: "pypi", F.PACKAGE: name}
        fields.update(python_metadata_fields(meta.get("Home-page"), meta.get("Download-URL"),
                                             meta.get_all("Project-URL") or [], meta.get("Author-email"),
                                             meta.get("Maintainer-email")))
        yield obs("package", asset, fields, where, INSTALLED, input_path)


# ------------------------------------------------------------------------------ npm
def parse_npm_ls(text: str, asset: str, input_path: str) -> Iterator[Observation | Problem]:
    """``npm ls -g --json --depth=0`` output; locator ``npm ls -g /dependencies/<name>``."""
    try:
        doc = json.loads(text or "{}")
    except ValueError as exc:
        yield Problem(_loc(input_path, "npm ls -g"), f"npm ls output is not JSON: {exc}")
        return
    deps = doc.get("dependencies") if isinstance(doc, dict) else None
    if not isinstance(deps, dict):
        return
    for name, info in deps.items():
        version = info.get("version", "") if isinstance(info, dict) else ""
        yield obs(
            "package",
            asset,
            {F.NAME: name, F.VERSION: version, F.ECOSYSTEM: "npm", F.PACKAGE: name},
            "npm ls -g /dependencies/" + name.replace("~", "~0").replace("/", "~1"),
            INSTALLED,
            input_path,
        )


def _loc(input_path: str, where: str) -> Locator:
    return Locator(input_path, where)


# ------------------------------------------------------------------------------ snap / flatpak
def parse_snap_list(text: str, asset: str, input_path: str) -> Iterator[Observation]:
    """``snap list``: columns Name Version Rev Tracking Publisher Notes (whitespace-separated)."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("Name"):
        return
    header = lines[0].split()
    pub_i = header.index("Publisher") if "Publisher" in header else 4
    for n, line in enumerate(lines[1:], 2):
        parts = line.split()
        if len(parts) < 2:
            continue
        publisher = parts[pub_i] if len(parts) > pub_i else ""
        publisher = publisher.rstrip("✓*✪").strip()
        if publisher == "-":
            publisher = ""
        yield obs(
            "package",
            asset,
            {F.NAME: parts[0], F.VERSION: parts[1], F.PUBLISHER: publisher, F.ECOSYSTEM: "snap", F.PACKAGE: parts[0]},
            f"snap list line {n}",
            INSTALLED,
            input_path,
        )


def parse_flatpak_list(text: str, asset: str, input_path: str) -> Iterator[Observation]:
    """``flatpak list --columns=application,name,version,origin``: tab-separated, no header."""
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.split("\t")
        if not parts[0].strip() or parts[0].strip() == "Application ID":
            continue
        app = parts[0].strip()
        yield obs(
            "app",
            asset,
            {
                F.BUNDLE_ID: app,
                F.PACKAGE: app,
                F.ECOSYSTEM: "flatpak",
                F.NAME: parts[1] if len(parts) > 1 else "",
                F.VERSION: parts[2] if len(parts) > 2 else "",
                "origin": parts[3] if len(parts) > 3 else "",
            },
            f"flatpak list line {n}",
            INSTALLED,
            input_path,
        )


# ------------------------------------------------------------------------------ directories
def collect_app_dirs(roots: Iterable[str], asset: str, input_path: str) -> Iterator[Observation]:
    """One level of directory names under /opt and /usr/local (vendor software lands there)."""
    for root in roots:
        try:
            entries = sorted(os.scandir(root), key=lambda e: e.name)
        except OSError:
            continue
        for e in entries:
            try:
                if not e.is_dir() or e.name.startswith(".") or (root.rstrip("/").endswith("/usr/local") and e.name in _FHS):
                    continue
            except OSError:
                continue
            yield obs("software", asset, {F.NAME: e.name, F.PATH: e.path}, e.path, INSTALLED, input_path)


def collect_systemd_units(dirs: Iterable[str], asset: str, input_path: str) -> Iterator[Observation]:
    seen: set[str] = set()
    for d in dirs:
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for name in names:
            if not name.endswith(_UNIT_SUFFIXES) or name in seen:
                continue
            seen.add(name)
            path = os.path.join(d, name)
            yield obs("service", asset, {F.SERVICE: name, F.PATH: path}, path, RUNTIME, input_path)


def collect_processes(proc: str, asset: str, input_path: str) -> Iterator[Observation]:
    seen: set[tuple[str, str]] = set()
    try:
        pids = [p for p in os.listdir(proc) if p.isdigit()]
    except OSError:
        return
    for pid in sorted(pids, key=int):
        base = os.path.join(proc, pid)
        try:
            comm = Path(base, "comm").read_text(errors="replace").strip()
        except OSError:
            continue
        try:
            exe = os.readlink(os.path.join(base, "exe"))
        except OSError:
            exe = ""
        if (comm, exe) in seen:
            continue
        seen.add((comm, exe))
        name = os.path.basename(exe) if exe else comm
        yield obs("process", asset, {F.PROCESS: name or comm, F.PATH: exe, "comm": comm}, f"{base}/comm", RUNTIME, input_path)


def parse_proc_modules(lines: Iterable[str], asset: str, input_path: str, file: str = "/proc/modules") -> Iterator[Observation]:
    for n, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        yield obs("kernel-module", asset, {F.KERNEL_MODULE: parts[0]}, f"{file} line {n}", RUNTIME, input_path)


# ------------------------------------------------------------------------------ the collector
def scan(asset: str, input_path: str, deviation: Callable[[str], None], budget: Budget) -> Iterator[Observation | Problem]:
    status = "/var/lib/dpkg/status"
    try:
        with open(status, encoding="utf-8", errors="replace") as fh:
            yield from parse_dpkg_status(fh, asset, input_path, status)
    except OSError:
        deviation(f"{status} not readable: dpkg packages not listed")
    for tool, argv, parser in (
        ("rpm", ["rpm", "-qa", "--queryformat", RPM_QUERYFORMAT], parse_rpm_qa),
        ("npm", ["npm", "ls", "-g", "--json", "--depth=0"], parse_npm_ls),
        ("snap", ["snap", "list"], parse_snap_list),
        ("flatpak", ["flatpak", "list", f"--columns={FLATPAK_COLUMNS}"], parse_flatpak_list),
    ):
        try:
            text = run_tool(argv, budget)
        except ToolUnavailable as exc:
            deviation(f"{tool}: {exc}; its packages are not listed")
            continue
        yield from parser(text, asset, input_path)
    yield from collect_python(asset, input_path)
    yield from collect_app_dirs(("/opt", "/usr/local"), asset, input_path)
    yield from collect_systemd_units(SYSTEMD_DIRS, asset, input_path)
    if os.path.isdir("/proc"):
        yield from collect_processes("/proc", asset, input_path)
    try:
        with open("/proc/modules", encoding="utf-8", errors="replace") as fh:
            yield from parse_proc_modules(fh, asset, input_path)
    except OSError:
        deviation("/proc/modules not readable: kernel modules not listed")

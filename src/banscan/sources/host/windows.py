"""Windows collectors: Uninstall registry keys, services and drivers.

Formats: the Uninstall keys (https://learn.microsoft.com/en-us/windows/win32/msi/uninstall-registry-key)
under HKLM, HKLM\\SOFTWARE\\WOW6432Node and HKCU, and the service keys under
``HKLM\\SYSTEM\\CurrentControlSet\\Services`` whose ``Type`` value tells drivers (1 kernel,
2 file system) from services (https://learn.microsoft.com/en-us/windows-hardware/drivers/install/addservice-directive).

The parsing takes a :class:`RegistryReader`, so tests feed it recorded key/value dumps
(:class:`DumpReader`) and a Windows machine uses :class:`WinregReader`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from banscan.model import EvidenceClass, F, Observation, Problem
from banscan.sources._common import is_x500, x500_org

UNINSTALL_ROOTS = (
    ("HKLM", r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"),
    ("HKLM", r"SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall"),
    ("HKCU", r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"),
)
SERVICES_ROOT = ("HKLM", r"SYSTEM\CurrentControlSet\Services")
DRIVER_TYPES = {1, 2}  # SERVICE_KERNEL_DRIVER, SERVICE_FILE_SYSTEM_DRIVER


class RegistryReader(Protocol):
    def subkeys(self, hive: str, path: str) -> list[str]: ...

    def values(self, hive: str, path: str) -> dict[str, Any]: ...


class DumpReader:
    """Registry contents recorded as ``{"HKLM\\\\path\\\\key": {"Value": data, ...}, ...}``."""

    def __init__(self, dump: dict[str, dict[str, Any]]) -> None:
        self.keys = {k.lower(): (k, v) for k, v in dump.items()}

    @classmethod
    def load(cls, path: str | Path) -> DumpReader:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def subkeys(self, hive: str, path: str) -> list[str]:
        prefix = f"{hive}\\{path}\\".lower()
        out: list[str] = []
        for low, (orig, _) in self.keys.items():
            if low.startswith(prefix):
                rest = orig[len(prefix) :]
                child = rest.split("\\", 1)[0]
                if child and child not in out:
                    out.append(child)
        return out

    def values(self, hive: str, path: str) -> dict[str, Any]:
        hit = self.keys.get(f"{hive}\\{path}".lower())
        return dict(hit[1]) if hit else {}


class WinregReader:  # pragma: no cover - only on Windows
    def __init__(self) -> None:
        import winreg  # type: ignore[import-not-found]

        self.winreg = winreg
        self.hives = {"HKLM": winreg.HKEY_LOCAL_MACHINE, "HKCU": winreg.HKEY_CURRENT_USER}  # type: ignore[attr-defined]

    def subkeys(self, hive: str, path: str) -> list[str]:
        w = self.winreg
        out: list[str] = []
        try:
            with w.OpenKey(self.hives[hive], path, 0, w.KEY_READ) as k:
                i = 0
                while True:
                    try:
                        out.append(w.EnumKey(k, i))
                    except OSError:
                        break
                    i += 1
        except OSError:
            pass
        return out

    def values(self, hive: str, path: str) -> dict[str, Any]:
        w = self.winreg
        out: dict[str, Any] = {}
        try:
            with w.OpenKey(self.hives[hive], path, 0, w.KEY_READ) as k:
                i = 0
                while True:
                    try:
                        name, data, _type = w.EnumValue(k, i)
                    except OSError:
                        break
                    out[name] = data
                    i += 1
        except OSError:
            pass
        return out


def _str(v: Any) -> str:
    if v is None or isinstance(v, (bytes, list, dict)):
        return ""
    return str(v).strip()


def _base(path: str) -> str:
    p = path.strip().strip('"')
    if " " in p and not p.lower().endswith((".sys", ".exe", ".dll")):
        p = p.split(" ", 1)[0] if p.lower().split(" ", 1)[0].endswith((".sys", ".exe")) else p
    return p.replace("/", "\\").rsplit("\\", 1)[-1]


def _o(kind: str, asset: str, fields: dict[str, str], where: str, ec: EvidenceClass, input_path: str) -> Observation:
    from banscan.model import Locator

    return Observation(kind, asset, {k: v for k, v in fields.items() if v}, Locator(input_path, where), ec)


def uninstall_entries(reg: RegistryReader, asset: str, input_path: str) -> Iterator[Observation]:
    for hive, root in UNINSTALL_ROOTS:
        for sub in reg.subkeys(hive, root):
            key = f"{root}\\{sub}"
            v = reg.values(hive, key)
            name = _str(v.get("DisplayName"))
            if not name:
                continue  # updates and helper keys without a display name
            pub = _str(v.get("Publisher"))
            fields = {
                F.NAME: name,
                F.PUBLISHER: x500_org(pub) if is_x500(pub) else pub,
                F.VERSION: _str(v.get("DisplayVersion")),
                F.PATH: _str(v.get("InstallLocation")),
                "registry_key": sub,
            }
            yield _o("software", asset, fields, f"{hive}\\{key}", EvidenceClass.INSTALLED, input_path)


def services_and_drivers(reg: RegistryReader, asset: str, input_path: str) -> Iterator[Observation | Problem]:
    hive, root = SERVICES_ROOT
    for sub in reg.subkeys(hive, root):
        key = f"{root}\\{sub}"
        v = reg.values(hive, key)
        try:
            stype = int(v.get("Type", 0))
        except (TypeError, ValueError):
            stype = 0
        if stype == 0:
            continue  # not a service key (e.g. a parameters-only entry)
        image = _str(v.get("ImagePath"))
        display = _str(v.get("DisplayName"))
        if display.startswith("@"):
            display = ""  # a resource reference (@%SystemRoot%\...dll,-100), not a name
        where = f"{hive}\\{key}"
        if stype in DRIVER_TYPES:
            fields: dict[str, str] = {F.DRIVER: _base(image) if image else sub, F.SERVICE: sub, F.NAME: display,
                                      F.PATH: image}
            yield _o("driver", asset, fields, where, EvidenceClass.RUNTIME, input_path)
        else:
            fields = {F.SERVICE: sub, F.NAME: display, F.PATH: image}
            yield _o("service", asset, fields, where, EvidenceClass.RUNTIME, input_path)


def scan(asset: str, input_path: str, deviation: Callable[[str], None], budget: object, reg: RegistryReader | None = None) -> Iterator[Observation | Problem]:
    reg = reg or WinregReader()
    yield from uninstall_entries(reg, asset, input_path)
    yield from services_and_drivers(reg, asset, input_path)

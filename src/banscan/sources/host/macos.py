"""macOS collectors: application bundles and installer package receipts.

Formats: ``Contents/Info.plist`` of each ``.app`` bundle (binary or XML property list,
https://developer.apple.com/documentation/bundleresources/information_property_list) and
``pkgutil --pkgs`` output (one receipt id per line, pkgutil(1)).  XML plists are checked with
defusedxml (no entity declarations, no external references) before plistlib reads them.
"""

from __future__ import annotations

import glob
import os
import plistlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring

from banscan.model import EvidenceClass, F, Locator, Observation, Problem
from banscan.sources.host._util import Budget, ToolUnavailable, obs, run_tool

APP_GLOBS = ("/Applications/*.app", "/Applications/*/*.app", "/System/Applications/*.app", "~/Applications/*.app")


class UnsafePlist(ValueError):
    pass


def load_plist(data: bytes) -> Any:
    """A property list, binary or XML; XML is checked with defusedxml first."""
    if data.startswith(b"bplist"):
        return plistlib.loads(data, fmt=plistlib.FMT_BINARY)
    try:
        safe_fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafePlist(f"refused unsafe XML ({type(exc).__name__})") from exc
    return plistlib.loads(data, fmt=plistlib.FMT_XML)


def app_observation(app_dir: str, data: bytes, asset: str, input_path: str) -> Observation | Problem:
    where = os.path.join(app_dir, "Contents", "Info.plist")
    try:
        info = load_plist(data)
    except Exception as exc:  # noqa: BLE001 - one unreadable bundle does not stop the scan
        return Problem(Locator(input_path, where), f"Info.plist not readable: {exc}")
    if not isinstance(info, dict):
        return Problem(Locator(input_path, where), "Info.plist is not a dictionary")
    name = info.get("CFBundleDisplayName") or info.get("CFBundleName") or os.path.basename(app_dir)[:-4]
    return obs(
        "app",
        asset,
        {
            F.NAME: str(name),
            F.BUNDLE_ID: str(info.get("CFBundleIdentifier") or ""),
            F.VERSION: str(info.get("CFBundleShortVersionString") or info.get("CFBundleVersion") or ""),
            F.PATH: app_dir,
        },
        where,
        EvidenceClass.INSTALLED,
        input_path,
    )


def collect_apps(patterns: Iterable[str], asset: str, input_path: str) -> Iterator[Observation | Problem]:
    seen: set[str] = set()
    for pattern in patterns:
        for app in sorted(glob.glob(os.path.expanduser(pattern))):
            if app in seen:
                continue
            seen.add(app)
            try:
                with open(os.path.join(app, "Contents", "Info.plist"), "rb") as fh:
                    data = fh.read(4 << 20)
            except OSError:
                continue
            yield app_observation(app, data, asset, input_path)


def parse_pkgutil_pkgs(text: str, asset: str, input_path: str) -> Iterator[Observation]:
    for n, line in enumerate(text.splitlines(), 1):
        pkg = line.strip()
        if not pkg:
            continue
        yield obs(
            "package",
            asset,
            {F.PACKAGE: pkg, F.BUNDLE_ID: pkg, F.ECOSYSTEM: "pkgutil"},
            f"pkgutil --pkgs line {n}",
            EvidenceClass.INSTALLED,
            input_path,
        )


def scan(asset: str, input_path: str, deviation: Callable[[str], None], budget: Budget) -> Iterator[Observation | Problem]:
    yield from collect_apps(APP_GLOBS, asset, input_path)
    try:
        text = run_tool(["pkgutil", "--pkgs"], budget)
    except ToolUnavailable as exc:
        deviation(f"pkgutil: {exc}; package receipts are not listed")
        return
    yield from parse_pkgutil_pkgs(text, asset, input_path)

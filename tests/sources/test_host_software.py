"""Host collectors on recorded output of each platform, plus a real scan of this machine."""

from __future__ import annotations

import time
from pathlib import Path

from banscan.model import EvidenceClass, Observation, Problem
from banscan.sources.base import ReadContext
from banscan.sources.host import Budget, linux, macos, scan_host, windows
from banscan.sources.host._util import ToolUnavailable, run_tool

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "host"
A, IN = "host-a", "host:host-a"


def test_dpkg_status_keeps_installed_packages_only() -> None:
    with (FIX / "dpkg-status").open(encoding="utf-8") as fh:
        obs = list(linux.parse_dpkg_status(fh, A, IN, "/var/lib/dpkg/status"))
    names = [o.fields["name"] for o in obs]
    assert names == ["adduser", "apt", "bash", "kesl"]  # kaspersky-old is deinstalled; continuation lines ignored
    kesl = obs[-1]
    assert kesl.fields["publisher"] == "AO Kaspersky Lab"
    assert kesl.fields["ecosystem"] == "deb" and kesl.fields["version"] == "11.4.0-7090"
    start = (FIX / "dpkg-status").read_text().splitlines().index("Package: kesl") + 1
    assert kesl.source.locator == f"/var/lib/dpkg/status line {start}"
    assert kesl.source.path == IN and kesl.asset == A


def test_rpm_qa_output() -> None:
    obs = list(linux.parse_rpm_qa((FIX / "rpm-qa.txt").read_text(), A, IN))
    assert [(o.fields["name"], o.fields.get("publisher")) for o in obs] == [
        ("bash", "CentOS"), ("gpg-pubkey", None), ("kesl", "AO Kaspersky Lab"),
    ]
    assert obs[0].fields["version"] == "4.2.46-34.el7" and obs[2].source.locator == "rpm -qa line 3"


def test_npm_snap_flatpak_output() -> None:
    npm = list(linux.parse_npm_ls((FIX / "npm-ls-g.json").read_text(), A, IN))
    assert [o.fields["package"] for o in npm] == ["corepack", "npm", "@bytedance/mona-cli"]
    assert npm[2].source.locator == "npm ls -g /dependencies/@bytedance~1mona-cli"
    snaps = list(linux.parse_snap_list((FIX / "snap-list.txt").read_text(), A, IN))
    assert [(o.fields["name"], o.fields.get("publisher")) for o in snaps] == [
        ("core22", "canonical"), ("firefox", "mozilla"), ("snapd", "canonical"), ("huawei-example", None),
    ]
    flat = list(linux.parse_flatpak_list((FIX / "flatpak-list.txt").read_text(), A, IN))
    assert [o.fields["bundle_id"] for o in flat] == ["org.mozilla.firefox", "com.tencent.WeChat"]
    bad = list(linux.parse_npm_ls("not json", A, IN))
    assert len(bad) == 1 and isinstance(bad[0], Problem)


def test_proc_modules_and_directories(tmp_path: Path) -> None:
    with (FIX / "proc-modules.txt").open() as fh:
        mods = list(linux.parse_proc_modules(fh, A, IN))
    assert [o.fields["kernel_module"] for o in mods] == ["nls_iso8859_1", "tls", "klif"]
    assert all(o.evidence_class is EvidenceClass.RUNTIME for o in mods)
    (tmp_path / "opt" / "kaspersky").mkdir(parents=True)
    (tmp_path / "usr" / "local" / "share").mkdir(parents=True)
    (tmp_path / "usr" / "local" / "hikvision").mkdir(parents=True)
    (tmp_path / "etc" / "systemd" / "system").mkdir(parents=True)
    (tmp_path / "etc" / "systemd" / "system" / "kesl.service").write_text("[Unit]\n")
    (tmp_path / "etc" / "systemd" / "system" / "README").write_text("x")
    dirs = list(linux.collect_app_dirs([str(tmp_path / "opt"), str(tmp_path / "usr" / "local")], A, IN))
    assert [o.fields["name"] for o in dirs] == ["kaspersky", "hikvision"]  # FHS names under /usr/local skipped
    units = list(linux.collect_systemd_units([str(tmp_path / "etc" / "systemd" / "system")], A, IN))
    assert [o.fields["service"] for o in units] == ["kesl.service"]


def test_macos_app_bundles_binary_and_xml() -> None:
    obs = list(macos.collect_apps([str(FIX / "macos" / "Applications" / "*.app")], A, IN))
    assert all(isinstance(o, Observation) for o in obs)
    by = {o.fields["bundle_id"]: o for o in obs}
    assert set(by) == {"com.kaspersky.kav.gui", "com.apple.TextEdit"}
    assert by["com.kaspersky.kav.gui"].fields["version"] == "21.3.10.391"  # XML plist
    assert by["com.apple.TextEdit"].fields["name"] == "TextEdit"  # binary plist
    assert by["com.apple.TextEdit"].source.locator.endswith("TextEdit.app/Contents/Info.plist")


def test_macos_plist_with_external_entity_is_refused() -> None:
    data = (Path(__file__).resolve().parents[1] / "fixtures" / "software" / "xxe-info.plist").read_bytes()
    got = macos.app_observation("/Applications/Evil.app", data, A, IN)
    assert isinstance(got, Problem) and "refused" in got.message


def test_pkgutil_receipts() -> None:
    obs = list(macos.parse_pkgutil_pkgs((FIX / "pkgutil-pkgs.txt").read_text(), A, IN))
    assert [o.fields["package"] for o in obs] == ["com.apple.pkg.Core", "com.kaspersky.kav.pkg", "com.microsoft.Word"]
    assert obs[1].source.locator == "pkgutil --pkgs line 2"


def test_windows_uninstall_keys_services_and_drivers() -> None:
    reg = windows.DumpReader.load(FIX / "windows-registry.json")
    sw = list(windows.uninstall_entries(reg, A, IN))
    assert [o.fields["name"] for o in sw] == [
        "Kaspersky Endpoint Security for Windows", "7-Zip 23.01 (x64)", "TikTok",
    ]  # the update key without DisplayName is skipped
    assert sw[0].source.locator.startswith("HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{5A2A")
    assert sw[1].source.locator.startswith("HKLM\\SOFTWARE\\WOW6432Node\\")
    assert sw[2].fields["publisher"] == "ByteDance Pte. Ltd." and sw[2].source.locator.startswith("HKCU\\")
    rt = {o.fields["service"]: o for o in windows.services_and_drivers(reg, A, IN)}
    assert set(rt) == {"klif", "AVP.KES.12.3.0.493", "Dhcp"}
    assert rt["klif"].kind == "driver" and rt["klif"].fields["driver"] == "klif.sys"
    assert rt["AVP.KES.12.3.0.493"].kind == "service"
    assert rt["AVP.KES.12.3.0.493"].fields["name"] == "Kaspersky Endpoint Security Service"
    assert "name" not in rt["Dhcp"].fields  # @resource reference is not a name
    assert all(o.evidence_class is EvidenceClass.RUNTIME for o in rt.values())
    whole = list(windows.scan(A, IN, lambda m: None, Budget(), reg=reg))
    assert len(whole) == 6


def test_scan_host_dispatches_by_platform() -> None:
    ctx = ReadContext(path="host:x", asset="x")
    items = list(scan_host(ctx, platform="plan9"))
    assert len(items) == 1 and isinstance(items[0], Problem) and items[0].fatal


def test_missing_tool_is_reported_not_raised() -> None:
    try:
        run_tool(["banscan-no-such-tool-xyz"], Budget())
    except ToolUnavailable as exc:
        assert "not found" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected ToolUnavailable")


def test_scan_of_this_machine_is_fast() -> None:
    ctx = ReadContext(path="host:this", asset="this")
    t = time.perf_counter()
    items = list(scan_host(ctx))
    assert time.perf_counter() - t < 10
    obs = [i for i in items if isinstance(i, Observation)]
    assert obs, "a machine always has some software, processes or Python distributions"
    assert all(o.asset == "this" and o.fields for o in obs)
    assert all(all(v for v in o.fields.values()) for o in obs)

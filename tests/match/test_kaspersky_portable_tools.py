"""Kaspersky's free and portable tools (no Uninstall entry) wherever they show up: process lists,
prefetch, file listings with PE version fields, code-signing records, Windows file inventories."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from banscan import registry as registry_mod
from banscan.match import Matcher
from banscan.model import EvidenceClass, Observation
from banscan.sources import osquery, software_csv
from banscan.sources.base import ReadContext

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "software"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(registry_mod.load())


def _read(source, path: Path) -> list[Observation]:
    ctx = ReadContext(path=str(path), asset="default-asset")
    with path.open("rb") as fh:
        return [i for i in source.read(io.BufferedReader(fh), ctx) if isinstance(i, Observation)]


def _detect(matcher: Matcher, obs: list[Observation]) -> dict[str, tuple[str | None, str, str]]:
    out = {}
    for o in obs:
        for d in matcher.match(o):
            out[o.source.locator] = (d.product_id, d.confidence.value, o.evidence_class.value)
    return out


def test_osquery_processes_prefetch_file_and_authenticode(matcher):
    obs = _read(osquery.SOURCE, FIX / "osquery-kaspersky-portable-tools.log")
    assert len(obs) == 8
    assert {o.asset for o in obs} == {"WS-0107"}
    tables = {o.source.locator: o.fields.get("osquery_table") for o in obs}
    assert tables["line 2"] == "prefetch" and tables["line 3"] == "file" and tables["line 6"] == "authenticode"
    found = _detect(matcher, obs)
    assert found == {
        "line 1": ("kaspersky-virus-removal-tool", "certain", "runtime"),  # process name and path
        "line 2": ("kaspersky-tdsskiller", "likely", "runtime"),  # ran once: prefetch
        "line 3": ("kaspersky-ransomware-decryptors", "certain", "installed"),  # file name + PE OriginalFilename
        "line 4": ("kaspersky-tdsskiller", "likely", "installed"),  # renamed: PE OriginalFilename
        "line 5": ("kaspersky-rescue-disk", "likely", "installed"),  # the ISO
        "line 6": ("kaspersky-virus-removal-tool", "certain", "installed"),  # signer + signed program name
    }  # notepad (line 7) and a text file that only names the tool (line 8) are not Kaspersky software
    signed = next(o for o in obs if o.source.locator == "line 6")
    assert signed.fields["publisher"] == "AO Kaspersky Lab"


def test_windows_file_inventory_pe_version_fields(matcher):
    obs = _read(software_csv.SOURCE, FIX / "windows-file-inventory.csv")
    assert [o.fields.get("publisher") for o in obs] == ["AO Kaspersky Lab", "Kaspersky Lab", "Microsoft Corporation"]
    found = _detect(matcher, obs)
    assert sorted(v[:2] for v in found.values()) == [("kaspersky-ransomware-decryptors", "certain"),
                                                     ("kaspersky-virus-removal-tool", "certain")]
    assert all(o.evidence_class == EvidenceClass.INSTALLED for o in obs)


def test_portable_tools_are_covered_as_security_software(matcher):
    """The tools are Kaspersky security software: BOD 17-01's scope admits them like any Kaspersky product."""
    import datetime as dt

    from banscan.policy import evaluate

    reg = matcher.registry
    obs = _read(osquery.SOURCE, FIX / "osquery-kaspersky-portable-tools.log")
    kvrt = matcher.match(obs[0])[0]
    r = evaluate([kvrt], reg, [reg.profile("us-federal-agency")], dt.date(2018, 10, 1))
    assert "us-ndaa18-s1634" in {f.restriction for f in r.findings}

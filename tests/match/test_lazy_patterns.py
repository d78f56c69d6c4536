"""Patterns compiled when first needed (start-up): they decide as the patterns compiled eagerly did."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from banscan.match import normalize, orgnames

ROOT = Path(__file__).resolve().parents[2]
# the patterns as they were compiled at import
EAGER_SPACELESS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
EAGER_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
EDGES = "".join(chr(c) for c in (0x303F, 0x3040, 0x30FF, 0x3100, 0x33FF, 0x3400, 0x4DBF, 0x4DC0, 0x4E00, 0x9FFF,
                                 0xA000, 0xABFF, 0xAC00, 0xD7AF, 0xD7B0, 0xF8FF, 0xF900, 0xFAFF, 0xFB00))
SAMPLES = ["", "Kaspersky Lab", "AO Лаборатория Касперского", "华为技术有限公司", "ハイクビジョン", "하이크비전",
           "ｈｕａｗｅｉ", "海康威视 Hikvision", "Zoom 🎥", *EDGES, EDGES]


def test_spaceless_and_is_cjk_decide_as_the_eager_patterns() -> None:
    for s in SAMPLES:
        assert normalize.spaceless(s) == bool(EAGER_SPACELESS.search(s)), repr(s)
        assert orgnames.is_cjk(s) == bool(EAGER_CJK.search(s)), repr(s)
    assert normalize.spaceless("하이크비전") and not orgnames.is_cjk("하이크비전")  # Hangul: spaces between words


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12) | st.text(alphabet=EDGES + "abc 华ハ하", max_size=6))
def test_spaceless_and_is_cjk_decide_as_the_eager_patterns_on_any_text(s: str) -> None:
    assert normalize.spaceless(s) == bool(EAGER_SPACELESS.search(s))
    assert orgnames.is_cjk(s) == bool(EAGER_CJK.search(s))


PROBE = """
import json, sys
from banscan.cli import main
from banscan.match import normalize, orgnames
from banscan.sources import arp
try:
    main(sys.argv[1:])
except SystemExit as e:
    code = e.code
print(json.dumps([code, normalize._no_space.cache_info().currsize, orgnames._no_space.cache_info().currsize,
                  "banscan.sources.arp" in sys.modules, arp._rx.cache_info().currsize]))
"""


def test_a_warm_scan_of_ascii_names_compiles_no_script_range_pattern(tmp_path: Path) -> None:
    """The script-range patterns take milliseconds to compile: a warm scan whose names are ASCII
    (its registry's indexes from the compiled cache) never compiles them; a non-ASCII publisher does.
    The ARP reader's line patterns are not compiled either: the osquery reader imports the module
    for its MAC address helpers only."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "BANSCAN_CACHE_DIR": str(tmp_path / "cache"),
           "XDG_CACHE_HOME": str(tmp_path / "xdg")}

    def scan(publisher: str) -> list[int]:
        log = tmp_path / "one.log"
        log.write_text(json.dumps({"name": "pack_inventory_programs", "hostIdentifier": "h", "calendarTime": "x",
                                   "unixTime": 1, "action": "added",
                                   "columns": {"name": "Endpoint Security", "publisher": publisher,
                                               "install_location": "", "identifying_number": ""}}) + "\n")
        p = subprocess.run([sys.executable, "-c", PROBE, "scan", "--no-store", "-f", "json", "-o",
                            str(tmp_path / "r.json"), str(log)], capture_output=True, text=True, env=env,
                           cwd=tmp_path, timeout=300)
        assert p.returncode == 0, p.stderr
        got: list[int] = json.loads(p.stdout.strip().splitlines()[-1])
        return got

    scan("AO Kaspersky Lab")  # cold: writes the compiled cache
    assert scan("AO Kaspersky Lab") == [1, 0, 0, True, 0]
    assert scan("AO Лаборатория Касперского") == [1, 0, 1, True, 0]


EAGER_PAREN = re.compile(r"[(（\[][^()（）\[\]]*[)）\]]")
BRACKETS = "()（）[]"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=BRACKETS + "ab Co.,华\u3000", max_size=16) | st.text(max_size=16))
def test_bracketed_parts_are_dropped_as_the_eager_pattern_dropped_them(s: str) -> None:
    """parse() skips the bracket pattern when no opening bracket is in the name: then it never
    matches; and the pattern compiled on first use matches as the eager one."""
    if not any(c in s for c in "(（["):
        assert EAGER_PAREN.sub(" ", s) == s
    assert orgnames._paren().sub(" ", s) == EAGER_PAREN.sub(" ", s)


def test_names_with_brackets_parse_as_before() -> None:
    got = orgnames.parse("Huawei Device (Dongguan) Co., Ltd.")
    assert "dongguan" in got.full and got.bare == ("huawei", "device")  # the bracketed place left out
    assert orgnames.parse("Hikvision [Europe]").core == orgnames.parse("Hikvision").core

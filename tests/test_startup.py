"""Start-up stays light: a JSON scan imports no reporter library (rich, jinja2) and no database
library (SQLAlchemy, Alembic) it does not use, and the reporters' table matches the reporters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from banscan import report

ROOT = Path(__file__).resolve().parents[1]
LINE = ('{"name":"pack_inventory_programs","hostIdentifier":"h","calendarTime":"x","unixTime":1,'
        '"columns":{"name":"Kaspersky Endpoint Security for Windows","publisher":"AO Kaspersky Lab",'
        '"install_location":"","identifying_number":""},"action":"added"}\n')
PROBE = """
import json, sys
from banscan.cli import main
try:
    main(sys.argv[1:])
except SystemExit as e:
    code = e.code
heavy = ["rich", "jinja2", "sqlalchemy", "alembic"]
print(json.dumps({"code": code, "imported": [m for m in heavy if m in sys.modules]}))
"""


def test_format_table_matches_the_reporters() -> None:
    for name, (_module, _cls, description) in report.FORMATS.items():
        r = report.by_name(name)
        assert (r.name, r.description) == (name, description)
    assert [r.name for r in report.REPORTERS] == report.names()


def _probe(tmp_path: Path, *argv: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "BANSCAN_CACHE_DIR": str(tmp_path / "cache"),
           "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    p = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=300)
    assert p.returncode == 0, p.stderr
    out: dict[str, object] = json.loads(p.stdout.strip().splitlines()[-1])
    return out


def test_a_json_scan_imports_no_reporter_or_database_library(tmp_path: Path) -> None:
    log = tmp_path / "one.log"
    log.write_text(LINE)
    for _ in range(2):  # cold, then with the compiled registry cached
        got = _probe(tmp_path, "scan", "--no-store", "-f", "json", "-o", str(tmp_path / "r.json"), str(log))
        assert got == {"code": 1, "imported": []}
    assert json.loads((tmp_path / "r.json").read_text())["detections"]


def test_a_table_report_and_a_stored_scan_import_what_they_use(tmp_path: Path) -> None:
    log = tmp_path / "one.log"
    log.write_text(LINE)
    got = _probe(tmp_path, "scan", "--no-store", "-f", "table", str(log))
    assert got["code"] == 1 and "rich" in got["imported"] and "sqlalchemy" not in got["imported"]  # type: ignore[operator]
    got = _probe(tmp_path, "scan", "--db", str(tmp_path / "b.db"), "-f", "json", "-o", os.devnull, str(log))
    assert got["code"] == 1 and "sqlalchemy" in got["imported"]  # type: ignore[operator]

"""Start-up stays light: a JSON scan imports no reporter library (rich, jinja2) and no database
library (SQLAlchemy, Alembic) it does not use, nor pydantic once the compiled registry is cached,
and the reporters' table matches the reporters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
heavy = ["rich", "jinja2", "sqlalchemy", "alembic", "pydantic"]
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
    for validated in (["pydantic"], []):  # cold (the registry's files validated), then from the compiled cache
        got = _probe(tmp_path, "scan", "--no-store", "-f", "json", "-o", str(tmp_path / "r.json"), str(log))
        assert got == {"code": 1, "imported": validated}, (
            "a warm scan imported pydantic: from the compiled registry (it should hold records only) "
            "or from typer (0.29 coerces every option through pydantic; pyproject keeps it below)")
    assert json.loads((tmp_path / "r.json").read_text())["detections"]


def test_a_table_report_and_a_stored_scan_import_what_they_use(tmp_path: Path) -> None:
    log = tmp_path / "one.log"
    log.write_text(LINE)
    got = _probe(tmp_path, "scan", "--no-store", "-f", "table", str(log))
    assert got["code"] == 1 and "rich" in got["imported"] and "sqlalchemy" not in got["imported"]  # type: ignore[operator]
    got = _probe(tmp_path, "scan", "--db", str(tmp_path / "b.db"), "-f", "json", "-o", os.devnull, str(log))
    assert got["code"] == 1 and "sqlalchemy" in got["imported"]  # type: ignore[operator]


def _run_app(app: object, argv: list[str], capsys: object) -> tuple[object, str, str]:
    from banscan import cli

    capsys.readouterr()  # type: ignore[attr-defined]
    try:
        code = app(args=argv, prog_name="banscan", standalone_mode=False)  # type: ignore[operator]
    except SystemExit as e:
        code = e.code
    except Exception as e:  # noqa: BLE001 - the error line main() would print
        lines, code = cli._error_lines(e)
        print("\n".join(lines), file=sys.stderr)
    out, err = capsys.readouterr()  # type: ignore[attr-defined]
    return code, out, err


def test_the_scan_command_alone_behaves_as_in_the_full_app(capsys: object, tmp_path: Path) -> None:
    """``banscan scan`` runs through an app holding only the scan command (start-up): the same
    help, the same usage errors and the same result as through the full app."""
    from banscan import cli

    log = tmp_path / "one.log"
    log.write_text(LINE)
    for argv in (["scan", "--help"], ["scan", "--no-such-flag", str(log)], ["scan", "--jobs", "x", str(log)],
                 ["scan", "--jobs", "0", str(log)], ["scan", "-f", "nope", str(log)]):
        one = cli._app_for(argv)
        assert one is not cli.app
        assert _run_app(one, argv, capsys) == _run_app(cli.app, argv, capsys), argv
    argv = ["scan", "--no-store", "-f", "json", str(log)]
    (c1, o1, _), (c2, o2, _) = _run_app(cli._app_for(argv), argv, capsys), _run_app(cli.app, argv, capsys)
    assert c1 == c2 == 1 and json.loads(o1)["detections"] == json.loads(o2)["detections"] != []
    assert cli._app_for(["sources"]) is cli.app and cli._app_for([]) is cli.app


READERS_PROBE = """
import json, sys
import banscan.cli
after_import = sorted(m for m in sys.modules if m.startswith(("banscan.sources.", "banscan.cli.", "banscan.scan")))
from banscan.cli import main
try:
    main(sys.argv[1:])
except SystemExit as e:
    code = e.code
print(json.dumps({"code": code, "after_import": after_import,
                  "after_scan": sorted(m for m in sys.modules if m.startswith(("banscan.sources.", "banscan.cli.",
                                                                                 "banscan.scan")))}))
"""


def test_readers_are_imported_only_when_sniffed_or_used(tmp_path: Path) -> None:
    """Importing the command line imports no command and no reader module; a scan of an osquery
    log imports the readers whose sniffers could accept a JSON object and the osquery reader, not
    the XML, CSV or network ones, and no other command's module."""
    from banscan import sources

    log = tmp_path / "one.log"
    log.write_text(LINE)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "BANSCAN_CACHE_DIR": str(tmp_path / "cache"),
           "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    p = subprocess.run([sys.executable, "-c", READERS_PROBE, "scan", "--no-store", "-f", "json", "-o", os.devnull,
                        str(log)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout.strip().splitlines()[-1])
    readers = {f"banscan.sources.{r.module}" for r in sources.READERS}
    assert got["code"] == 1
    assert got["after_import"] == []
    assert {"banscan.cli.scan_cmd", "banscan.scan"} <= set(got["after_scan"])
    assert not {"banscan.cli.store_cmd", "banscan.cli.policy_cmd", "banscan.cli.serve_cmd"} & set(got["after_scan"])
    scanned = readers.intersection(got["after_scan"])
    assert "banscan.sources.osquery" in scanned
    assert scanned.isdisjoint({"banscan.sources.cyclonedx_xml", "banscan.sources.nmap", "banscan.sources.mdm_plist",
                               "banscan.sources.zeek", "banscan.sources.snmp", "banscan.sources.dhcp",
                               "banscan.sources.dnslog", "banscan.sources.software_csv"}), scanned


def test_the_collector_is_paused_during_start_up_only(tmp_path: Path, monkeypatch: object) -> None:
    """``banscan scan`` pauses the cyclic garbage collector while it starts up, and scans with it
    running (the objects made during start-up frozen out of its view, larger batches); afterwards,
    and after a usage error, the collector is as it was (thresholds too)."""
    import gc

    from banscan import cli, scan

    log = tmp_path / "one.log"
    log.write_text(LINE)
    seen: list[tuple[bool, bool, int]] = []
    real_run = scan.run

    def run(*a: object, **k: object) -> object:
        seen.append((gc.isenabled(), gc.get_freeze_count() > 0, gc.get_threshold()[0]))
        return real_run(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr("banscan.cli.scan_cmd.run", run)  # type: ignore[attr-defined]
    assert gc.isenabled()
    threshold = gc.get_threshold()
    for argv in (["scan", "--no-store", "-f", "json", "-o", str(tmp_path / "r.json"), str(log)],
                 ["scan", "--no-such-flag", str(log)]):
        try:
            cli.main(argv)
        except SystemExit:
            pass
        assert gc.isenabled() and gc.get_freeze_count() == 0 and gc.get_threshold() == threshold, argv
    assert seen == [(True, True, 50_000)]  # running, start-up frozen, in batches (scan_cmd)
    assert json.loads((tmp_path / "r.json").read_text())["detections"]


def test_importing_the_command_line_imports_no_command_and_leaves_the_collector_alone(tmp_path: Path) -> None:
    """``banscan.cli.app`` (every command) is made when first used; importing the module (and the
    collector's pause, which main() enters before importing the command) touches neither the
    commands' modules, the registry nor the garbage collector."""
    probe = ("import gc, sys\nwas = sys.argv[1] == 'on'\n(gc.enable if was else gc.disable)()\n"
             "import banscan.cli as cli, banscan.cli.collector\n"
             "print('banscan.registry' in sys.modules or 'pydantic' in sys.modules)\n"
             "print(gc.isenabled() == was, gc.get_freeze_count(), 'banscan.cli.store_cmd' in sys.modules,\n"
             "      {'scan', 'sources'} <= {c.name for c in cli.app.registered_commands},\n"
             "      cli._app_for(['store']) is cli.app, 'banscan.cli.store_cmd' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for state in ("on", "off"):
        p = subprocess.run([sys.executable, "-c", probe, state], capture_output=True, text=True, env=env,
                           cwd=tmp_path, timeout=300)
        assert p.returncode == 0, p.stderr
        assert p.stdout.split() == ["False", "True", "0", "False", "True", "True", "True"], state


MODULES_PROBE = """
import json, sys
from banscan.cli import main
try:
    main(sys.argv[2:])
except SystemExit as e:
    code = e.code
print(json.dumps({"code": code, "imported": [m for m in sys.argv[1].split(",") if m in sys.modules]}))
"""


def _modules_after(tmp_path: Path, modules: list[str], *argv: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "BANSCAN_CACHE_DIR": str(tmp_path / "cache"),
           "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    p = subprocess.run([sys.executable, "-c", MODULES_PROBE, ",".join(modules), *argv], capture_output=True,
                       text=True, env=env, cwd=tmp_path, timeout=300)
    assert p.returncode == 0, p.stderr
    out: dict[str, object] = json.loads(p.stdout.strip().splitlines()[-1])
    return out


def test_a_warm_scan_of_an_osquery_log_needs_no_pypi_name_rules_nor_a_json_stream(tmp_path: Path) -> None:
    """The signature kinds' indexes come from the compiled cache, osquery rows name no PyPI package
    and a log is read line by line: a warm scan imports neither packaging (the PEP 503 name rules)
    nor ijson (though the JSON readers are imported to sniff the log); a scan of a pip inspect
    report imports both, and finds its restricted package."""
    log = tmp_path / "one.log"
    log.write_text(LINE)
    argv = ("scan", "--no-store", "-f", "json", "-o", str(tmp_path / "r.json"))
    lazy = ["packaging", "ijson", "banscan.sources.pip_inspect"]
    cold = _modules_after(tmp_path, lazy, *argv, str(log))
    assert cold["code"] == 1 and "ijson" not in cold["imported"]  # type: ignore[operator]
    assert _modules_after(tmp_path, lazy, *argv, str(log)) == {"code": 1, "imported": ["banscan.sources.pip_inspect"]}
    assert json.loads((tmp_path / "r.json").read_text())["detections"]
    pip = tmp_path / "pip.json"
    pip.write_text(json.dumps({"version": "1", "pip_version": "24.0", "installed": [
        {"metadata": {"name": "Volcengine_Python_SDK", "version": "1.0.0"}}]}))
    assert _modules_after(tmp_path, lazy, *argv, str(pip)) == {"code": 1, "imported": lazy}
    assert {d["family"] for d in json.loads((tmp_path / "r.json").read_text())["detections"]} == {"bytedance"}


def test_the_scan_command_s_annotations_are_objects_not_strings() -> None:
    """typer reads ``banscan scan``'s options from its parameters' annotations: they are the
    objects themselves (its module does not postpone annotations), not strings that typer would
    compile and evaluate on every run."""
    import inspect

    import typer

    from banscan.cli import scan_cmd

    app = typer.Typer()
    scan_cmd.register(app)
    scan = next(c.callback for c in app.registered_commands if c.name == "scan")
    assert scan is not None
    params = inspect.signature(scan).parameters
    assert {"inputs", "no_store", "jobs", "output"} <= set(params)
    assert not [p.name for p in params.values() if isinstance(p.annotation, str)]


def _command(tmp_path: Path, *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "BANSCAN_CACHE_DIR": str(tmp_path / "cache"),
           "XDG_CACHE_HOME": str(tmp_path / "xdg"), "BANSCAN_DB": str(tmp_path / "db.sqlite")}
    return subprocess.run([sys.executable, "-m", "banscan", *argv], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=300, input=stdin)


def test_a_scan_that_ends_without_teardown_loses_nothing(tmp_path: Path) -> None:
    """``banscan scan`` ends its process without the interpreter's teardown (banscan.cli.entry):
    a large report written to a pipe arrives whole, the exit codes are the scan's (1: detections,
    0: none, 2: an input error, with its message), and a stored scan's database and the last
    report kept for 'banscan explain' are complete."""
    log = tmp_path / "many.log"
    log.write_text("".join(LINE.replace('"h"', f'"h{i}"') for i in range(3000)))
    p = _command(tmp_path, "scan", "--no-store", "-f", "json", str(log))
    assert p.returncode == 1, p.stderr
    report = json.loads(p.stdout)
    assert len(report["detections"]) == 3000 and len(p.stdout) > 1_000_000
    clean = tmp_path / "clean.log"
    clean.write_text(LINE.replace("Kaspersky Endpoint Security for Windows", "Notepad++").replace(
        "AO Kaspersky Lab", "Don Ho"))
    assert _command(tmp_path, "scan", "--no-store", "-f", "json", str(clean)).returncode == 0
    bad = _command(tmp_path, "scan", "--no-store", "-f", "json", str(tmp_path / "missing.log"))
    assert bad.returncode == 2 and "missing.log" in bad.stderr
    stored = _command(tmp_path, "scan", "-f", "json", "-o", str(tmp_path / "r.json"), str(log))
    assert stored.returncode == 1, stored.stderr
    assert json.loads((tmp_path / "r.json").read_text())["detections"]
    import sqlite3

    with sqlite3.connect(tmp_path / "db.sqlite") as db:
        assert db.execute("select count(*) from scans").fetchone()[0] == 1
        assert db.execute("select count(*) from scan_assets").fetchone()[0] == 3000  # (one host per line)
        assert db.execute("select count(*) from products_seen").fetchone()[0] == 3000
    kept = list((tmp_path / "xdg").rglob("last-report.json"))
    assert kept and len(json.loads(kept[0].read_text())["detections"]) == 3000


def test_entry_ends_as_usual_when_a_thread_or_a_child_still_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The short exit is only taken once nothing else runs; a command other than scan, or a
    thread still alive, exits the usual way (SystemExit with the command's code)."""
    import multiprocessing
    import threading

    import banscan.cli as cli

    ended: list[int] = []
    monkeypatch.setattr(cli.os, "_exit", ended.append)  # (recorded; the usual exit follows it here)
    monkeypatch.setattr(cli, "main", lambda: sys.exit(1))
    monkeypatch.setattr(sys, "argv", ["banscan", "scan", "x"])
    with monkeypatch.context() as m:  # nothing else runs (as in a scan's own process; not in pytest's)
        m.setattr(threading, "active_count", lambda: 1)
        m.setattr(multiprocessing, "active_children", lambda: [])
        with pytest.raises(SystemExit):
            cli.entry()
        assert ended == [1]
        ended.clear()
        m.setattr(multiprocessing, "active_children", lambda: [object()])
        with pytest.raises(SystemExit):
            cli.entry()
        assert not ended
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        with pytest.raises(SystemExit) as e:
            cli.entry()
        assert e.value.code == 1 and not ended
    finally:
        stop.set()
        t.join()
    monkeypatch.setattr(sys, "argv", ["banscan", "report", "x"])
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    with pytest.raises(SystemExit):
        cli.entry()
    assert not ended

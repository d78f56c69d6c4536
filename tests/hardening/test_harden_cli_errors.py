"""Issue 15 class 8: usage, configuration, database and output errors are one line and exit 2
(never a traceback, never exit 1, which CI reads as "restricted products found"); --debug still
shows the traceback.  Output is written atomically: a failed write never truncates the target."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hardkit import cli, env_for, run_limited
from sharedsamples import shared_sample

SAMPLE = "windows/uninstall-keys-export-csv.csv"


def one_line_exit_2(code: int, err: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("banscan: error: "), err


@pytest.mark.parametrize("argv", [
    ["--bogus"], ["scan", "--bogus"], ["nosuchcommand"], ["findings", "--status"], ["registry", "nosuch"],
    ["scan", "--format"], ["findings", "set", "X"], ["verify"],
])
def test_unknown_options_and_commands_are_usage_errors(capsys, argv):
    code, out, err = cli(capsys, *argv)
    one_line_exit_2(code, err)


@pytest.mark.parametrize("target", ["DIR", "/dev/full", "/proc/banscan-report.json"])
def test_output_that_cannot_be_written(capsys, tmp_path, target):
    sample = shared_sample(SAMPLE)
    out = str(tmp_path) if target == "DIR" else target
    if target == "/dev/full" and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    code, _, err = cli(capsys, "scan", str(sample), "--no-store", "-f", "json", "-o", out)
    one_line_exit_2(code, err)
    assert ("directory" in err) if target == "DIR" else (out in err)


def test_failed_write_keeps_the_previous_file(capsys, tmp_path, monkeypatch):
    sample = shared_sample(SAMPLE)
    target = tmp_path / "report.json"
    target.write_text("previous report\n")
    from banscan.report.json_report import JsonReporter

    def broken(self, result, registry, out, options):  # a writer failing half-way
        out.write('{"half": ')
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(JsonReporter, "write", broken)
    code, _, err = cli(capsys, "scan", str(sample), "--no-store", "-f", "json", "-o", str(target))
    one_line_exit_2(code, err)
    assert target.read_text() == "previous report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary file left


def test_oscal_without_its_extra_leaves_the_output_alone(tmp_path):
    sample = shared_sample(SAMPLE)
    target = tmp_path / "out.json"
    target.write_text("keep me\n")
    code = ("import sys; sys.modules['trestle'] = None; sys.modules['trestle.oscal'] = None; "
            "sys.modules['trestle.oscal.assessment_results'] = None; sys.argv[0] = 'banscan'; "
            "from banscan.cli import main; main()")
    p = run_limited(["scan", str(sample), "--no-store", "-f", "oscal", "-o", str(target)], env_for(tmp_path),
                    python_code=code)
    err = p.stderr.decode()
    one_line_exit_2(p.returncode, err)
    assert "banscan[oscal]" in err
    assert target.read_text() == "keep me\n"


@pytest.mark.parametrize("fmt", ["html", "far", "json"])
def test_as_of_far_future_is_a_usage_error(capsys, fmt):
    sample = shared_sample(SAMPLE)
    code, _, err = cli(capsys, "scan", str(sample), "--no-store", "-p", "us-federal-contractor",
                       "--as-of", "9999-12-31", "-f", fmt)
    one_line_exit_2(code, err)
    assert "--as-of" in err


def test_latest_as_of_accepted_renders_every_format(capsys, tmp_path):
    from banscan.cli.scan_cmd import MAX_DATE

    inv = tmp_path / "inv.csv"
    inv.write_text(shared_sample(SAMPLE).read_text(encoding="utf-8")
                   + '"Kaspersky Endpoint Security for Windows","AO Kaspersky Lab","12.3",,\n', encoding="utf-8")
    for fmt in ("html", "far", "table", "sarif", "csv", "json"):
        code, out, err = cli(capsys, "scan", str(inv), "--no-store", "-p", "us-federal-contractor",
                             "--as-of", MAX_DATE.isoformat(), "-f", fmt)
        assert code in (0, 1), err
        assert out


def test_database_errors(capsys, tmp_path):
    sample = shared_sample(SAMPLE)
    code, _, err = cli(capsys, "scan", str(sample), "--db", "mysqlx+nosuch://u@h/db")
    one_line_exit_2(code, err)
    code, _, err = cli(capsys, "scan", str(sample), "--db", str(sample))  # not an SQLite file
    one_line_exit_2(code, err)
    assert "database" in err
    code, _, err = cli(capsys, "findings", "--db", str(sample))
    one_line_exit_2(code, err)


@pytest.mark.parametrize("toml", [
    'profile = 5', 'registry = {a = 1}', 'db = ["x"]', 'fail_on = 3', 'far = "x"', 'far = {a = [1, 2]}',
    "x = " + "[" * 5000 + "]" * 5000, "a" + ".a" * 50_000 + " = 1", "x = " + "{a=" * 3000 + "1" + "}" * 3000,
    "\udc80".encode("utf-8", "surrogatepass").decode("latin-1"),
])
def test_bad_banscan_toml(capsys, tmp_path, monkeypatch, toml):
    sample = shared_sample(SAMPLE)
    (tmp_path / "banscan.toml").write_text(toml, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, "scan", str(sample), "--no-store")
    one_line_exit_2(code, err)
    assert "banscan.toml" in err


@pytest.mark.parametrize("overlay", ["DIR", "/dev/zero", "FIFO", "LIST", "DEEP"])
def test_bad_registry_overlays(capsys, tmp_path, overlay):
    sample = shared_sample(SAMPLE)
    path = {"DIR": str(tmp_path), "/dev/zero": "/dev/zero"}.get(overlay, str(tmp_path / "o.yaml"))
    if overlay == "FIFO":
        os.mkfifo(path)
    elif overlay == "LIST":
        Path(path).write_text("- a\n- b\n")
    elif overlay == "DEEP":
        Path(path).write_text("a: " + "[" * 20000 + "]" * 20000 + "\n")
    code, _, err = cli(capsys, "scan", str(sample), "--no-store", "--registry", path)
    one_line_exit_2(code, err)


def test_registry_dev_zero_is_bounded(tmp_path):
    sample = shared_sample(SAMPLE)
    p = run_limited(["scan", str(sample), "--no-store", "--registry", "/dev/zero"], env_for(tmp_path),
                    memory=1 << 30, timeout=60)
    one_line_exit_2(p.returncode, p.stderr.decode())


def test_keygen_out_directory(capsys, tmp_path):
    code, _, err = cli(capsys, "keygen", "--out", str(tmp_path), "--force")
    one_line_exit_2(code, err)


@pytest.mark.parametrize("content", ["[1, 2]", '{"as_of": 5}', '{"as_of": "2024-01-01", "detections": {}}',
                                     '{"as_of": "2024-01-01", "detections": [1]}', "not json", "DEV"])
def test_explain_report_that_is_not_a_report(capsys, tmp_path, content):
    path = "/dev/zero" if content == "DEV" else str(tmp_path / "r.json")
    if content != "DEV":
        Path(path).write_text(content)
    code, _, err = cli(capsys, "explain", "D-0123", "--report", path)
    one_line_exit_2(code, err)


def test_explain_report_on_a_real_sample(capsys):
    code, _, err = cli(capsys, "explain", "D-0123", "--report", str(shared_sample("cyclonedx/cdx-1.6-syft-gomod.json")))
    one_line_exit_2(code, err)


def test_verify_dev_zero_is_unreadable_not_a_crash(tmp_path):
    p = run_limited(["verify", "/dev/zero"], env_for(tmp_path), memory=1 << 30, timeout=60)
    assert p.returncode == 2 and b"Traceback" not in p.stderr
    assert b"UNREADABLE" in p.stdout


def test_debug_still_shows_the_traceback(tmp_path):
    p = run_limited(["--debug", "scan", str(shared_sample(SAMPLE)), "--no-store", "-o", str(tmp_path)],
                    env_for(tmp_path))
    err = p.stderr.decode()
    assert p.returncode == 2 and "Traceback" in err and err.rstrip().splitlines()[-1].startswith("banscan: error:")


def test_unexpected_exception_is_exit_2_not_1(capsys, monkeypatch):
    sample = shared_sample(SAMPLE)
    import banscan.scan

    def boom(*a, **k):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(banscan.scan, "run", boom)
    import banscan.cli.scan_cmd

    monkeypatch.setattr(banscan.cli.scan_cmd, "run", boom)
    code, _, err = cli(capsys, "scan", str(sample), "--no-store")
    one_line_exit_2(code, err)
    assert "internal error" in err and "--debug" in err


@pytest.mark.parametrize("argv", [[], ["registry"]])
def test_a_command_group_alone_shows_its_help(capsys, argv):
    code, out, err = cli(capsys, *argv)
    assert code == 2 and "Traceback" not in err
    assert err.startswith("Usage: banscan") and "Commands" in err and "banscan: error" not in err

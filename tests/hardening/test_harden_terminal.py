"""Issue 15 class 6: inventory strings carrying ESC/OSC/C1/bidi sequences never reach the terminal
raw — through asset names in table titles, input paths, problems, notes, stderr lines, and the
``findings``, ``assets``, ``report``, ``findings show`` and ``verify`` texts.  Markdown (FAR
drafts) leaves no URL from an inventory clickable; CSV neutralises formulas after NFKC."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from hardkit import HOSTILE, assert_no_controls, cli
from sharedsamples import shared_sample

SAMPLE = "windows/uninstall-keys-export-csv.csv"
PROFILE = "us-federal-contractor"


@pytest.fixture
def hostile_inventory(tmp_path: Path) -> Path:
    """The real uninstall-keys export plus a Kaspersky row whose name carries terminal sequences,
    under a file name that carries them too."""
    text = shared_sample(SAMPLE).read_text(encoding="utf-8")
    name = "Kaspersky Endpoint Security " + HOSTILE.replace('"', "")
    text += f'"{name}","AO Kaspersky Lab","11.0 {HOSTILE}",,"https://evil.example/x"\n'
    p = tmp_path / "inv\x1b[2J\u202e.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_scan_table_and_stderr(capsys, tmp_path, hostile_inventory, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    broken = tmp_path / "broken\x1b]0;title\x07.json"
    broken.write_text('{"bomFormat": "CycloneDX", "components": [')
    code, out, err = cli(capsys, "scan", str(hostile_inventory), str(broken), "--no-store", "-f", "table",
                         "--asset", "pc\x1b[31m-1", "-p", PROFILE)
    assert code == 2  # the broken input
    assert "Kaspersky" in out and "\\x1b" in out
    assert_no_controls(out, "table")
    assert_no_controls(err, "stderr")
    assert err.strip() and all(line.startswith("banscan") for line in err.splitlines())


def test_stored_views(capsys, tmp_path, hostile_inventory, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    db = str(tmp_path / "db.sqlite")
    asset = "pc\x1b]8;;https://evil.example/\x07-1"
    code, _, err = cli(capsys, "scan", str(hostile_inventory), "--db", db, "-f", "json", "--asset", asset,
                       "-p", PROFILE)
    assert code == 1, err
    code, out, err = cli(capsys, "findings", "--db", db, "--all")
    assert code == 0, err
    assert "Kaspersky" in out or "kaspersky" in out
    assert_no_controls(out + err, "findings")
    fid = json.loads(cli(capsys, "findings", "--db", db, "--all", "-f", "json")[1])["findings"][0]["id"]
    for argv in (["findings", "show", fid], ["assets"], ["report", "-f", "table"], ["history", asset]):
        code, out, err = cli(capsys, *argv, "--db", db)
        assert code == 0, (argv, err)
        assert out.strip(), argv
        assert_no_controls(out + err, " ".join(argv))
    code, out, err = cli(capsys, "findings", "set", fid, "--status", "planned", "--owner", "it\x1b[2J",
                         "--due", "2030-01-01", "--db", db)
    assert code == 0, err
    assert_no_controls(out + err, "findings set")
    key = tmp_path / "k"
    assert cli(capsys, "keygen", "--out", str(key))[0] == 0
    st = tmp_path / "st.json"
    code, _, err = cli(capsys, "attest", "-p", PROFILE, "--key", str(key), "--out", str(st), "--db", db,
                       "--include-open")
    assert code == 0, err
    code, out, err = cli(capsys, "verify", str(st))
    assert code == 0 and "Kaspersky" in out, err
    assert_no_controls(out + err, "verify")


def test_explain_text(capsys, tmp_path, hostile_inventory):
    rep = tmp_path / "r.json"
    code, _, err = cli(capsys, "scan", str(hostile_inventory), "--no-store", "-f", "json", "-o", str(rep),
                       "-p", PROFILE)
    assert code == 1, err
    det = json.loads(rep.read_text())["detections"][0]["id"]
    code, out, err = cli(capsys, "explain", det, "--report", str(rep))
    assert code == 0, err
    assert_no_controls(out + err, "explain")


def test_far_markdown_has_no_live_link_from_inventory(capsys, tmp_path, hostile_inventory):
    text = hostile_inventory.read_text(encoding="utf-8").replace(
        "Kaspersky Endpoint Security ", "Kaspersky Endpoint Security <https://evil.example/a> www.evil.example "
        "[x](https://evil.example/b) ")
    hostile_inventory.write_text(text, encoding="utf-8")
    code, out, err = cli(capsys, "scan", str(hostile_inventory), "--no-store", "-f", "far", "-p", PROFILE)
    assert code == 1, err
    assert "FAR 52.204-23" in out and "Kaspersky" in out
    assert "evil.example" in out
    assert_no_controls(out, "far")
    # rendered as GitHub does (GFM: links, autolinks, www. and scheme URLs, e-mail addresses):
    # no link points anywhere an inventory string named
    pytest.importorskip("linkify_it")
    from markdown_it import MarkdownIt

    md = MarkdownIt("gfm-like")
    md.linkify.set({"fuzzy_link": False})
    html = md.render(out)
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert not [h for h in hrefs if "evil" in h], hrefs


def test_csv_formula_neutralised_after_nfkc(capsys, tmp_path):
    text = shared_sample(SAMPLE).read_text(encoding="utf-8")
    text += ('"\uff1dHYPERLINK(""https://evil.example"")","AO Kaspersky Lab",,,\n'
             '"Kaspersky Endpoint Security","\uff0bcmd|\' /C calc\'!A0",,,\n')
    inv = tmp_path / "inv.csv"
    inv.write_text(text, encoding="utf-8")
    code, out, err = cli(capsys, "scan", str(inv), "--no-store", "-f", "csv", "--asset", "\uff20SUM(1)")
    assert code in (0, 1), err
    rows = list(csv.reader(io.StringIO(out)))
    assert len(rows) > 1
    for row in rows[1:]:
        for cell in row:
            import unicodedata

            assert not unicodedata.normalize("NFKC", cell).startswith(("=", "+", "-", "@")), row
    assert any(cell.startswith("'\uff20") for row in rows[1:] for cell in row)


def test_progress_description_is_neither_markup_nor_controls():
    from rich.text import Text

    from banscan.progress import RichProgress

    p = RichProgress()
    try:
        task = p.start("inv[link=https://evil.example]x[/link]\x1b[2J.csv", 1 << 40)  # above the threshold
        desc = p._p.tasks[0].description
        rendered = Text.from_markup(desc)
        assert "\x1b" not in rendered.plain and "[link=https://evil.example]" in rendered.plain
        assert not rendered.spans or all("link" not in str(s.style) for s in rendered.spans)
        p.finish(task)
    finally:
        p.close()

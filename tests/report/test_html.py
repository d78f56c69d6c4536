"""HTML: self-contained, escaped, readable; checked in a real headless chromium."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest

from banscan.report import by_name

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def render(result, reg) -> str:
    buf = io.StringIO()
    by_name("html").write(result, reg, buf, {})
    return buf.getvalue()


def test_self_contained(estate, reg):
    html = render(estate, reg)
    assert "<script" not in html.replace("&lt;script", "")
    assert not re.search(r"<link\b", html)
    assert not re.search(r"""\b(src|srcset)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(http" not in html
    assert "Content-Security-Policy" in html
    # the only external references are links to the law, which a reader follows by clicking
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.startswith(("https://", "http://", "#")), href  # '#': chart-internal SVG references
    assert html.count("<svg") == 2


def test_inventory_strings_escaped(estate, reg, hostile):
    html = render(estate, reg)
    assert hostile["xss"] not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert hostile["img"] not in html and "&lt;img src=x onerror=" in html


def test_summary_numbers(estate, reg):
    html = render(estate, reg)
    assert re.search(r'id="assets-scanned">7<', html)  # the assets the inputs cover
    assert re.search(r'id="open-findings">7<', html)
    assert re.search(r'id="next-deadline">2024-01-18<', html)


def test_without_profile(pipeline_result, reg):
    html = render(pipeline_result, reg)
    assert "restriction(s) name this family" in html
    assert html.count("<svg") == 1
    assert 'id="open-findings"' not in html


def test_deterministic(estate, reg):
    assert render(estate, reg) == render(estate, reg)


def _chromium_or_skip() -> None:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian chromium not installed at /usr/bin/chromium")
    pytest.importorskip("playwright.sync_api")


@pytest.mark.browser
def test_in_browser(estate, reg, hostile, tmp_path):
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "report.html"
    page_file.write_text(render(estate, reg), encoding="utf-8")
    dialogs: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")
            # the summary a person reads
            assert page.locator("#assets-scanned").inner_text() == "7"
            assert page.locator("#open-findings").inner_text() == "7"
            assert page.locator("#next-deadline").inner_text() == "2024-01-18"
            assert page.get_by_role("heading", name="Summary").is_visible()
            by_req = page.locator("#by-requirement").inner_text()
            assert "Prohibited" in by_req and "Must be removed" in by_req
            # both charts are drawn and visible
            charts = page.locator("svg.chart")
            assert charts.count() == 2
            for i in range(2):
                box = charts.nth(i).bounding_box()
                assert charts.nth(i).is_visible() and box and box["width"] > 50 and box["height"] > 50
            assert "Open findings by vendor family" in page.locator("#charts").inner_text()
            # hostile names show as text, run nothing
            body = page.locator("body").inner_text()
            assert hostile["xss"] in body
            assert hostile["img"] in body
            assert page.evaluate("window.__xss") is None
            assert page.locator("script").count() == 0
            assert dialogs == []
            assert all(u.startswith("file://") for u in requests), requests
            # citations link to their sources
            link = page.get_by_role("link", name="FAR 52.204-23(c)(2)(i)")
            assert link.get_attribute("href", timeout=2000).startswith("https://")
            assert "unterminated record" in page.locator("#inputs-table").inner_text()
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            page.emulate_media(media="print")
            assert page.locator("#summary").is_visible()
        finally:
            browser.close()

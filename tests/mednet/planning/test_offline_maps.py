"""Interactive maps on a machine with no internet: nothing fetched from outside, background drawn from data,
and the map really drawn by Chromium with every request outside the file refused."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from mednet.cli import main
from mednet.errors import InvalidRequest
from mednet.planning.offline import draw_plan_html, external_links, inline_resources, page_html

pytest.importorskip("offlinefolium")

CHROMIUM = Path(os.environ.get("MEDNET_CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture(scope="module")
def gaps_page(tmp_path_factory):
    path = tmp_path_factory.mktemp("maps") / "gaps.html"
    assert main(["coverage", "quzhou", "-s", "儿科", "--max-km", "30", "--map", str(path)]) == 0
    return path


def test_coverage_map_loads_nothing_from_outside(gaps_page, monkeypatch):
    html = gaps_page.read_text(encoding="utf-8")
    assert external_links(html) == []
    assert "tile.openstreetmap.org" not in html and "L.tileLayer(" not in html
    assert html.count("L.polygon(") == 4 and "近似轮廓" in html and "齐溪卫生院" in html  # 4 counties


def test_a_configured_tile_server_is_used(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDNET_TILES", "http://tiles.intranet.example/{z}/{x}/{y}.png")
    path = tmp_path / "gaps.html"
    assert main(["coverage", "quzhou", "-s", "儿科", "--max-km", "30", "--map", str(path)]) == 0
    html = path.read_text(encoding="utf-8")
    assert "http://tiles.intranet.example/{z}/{x}/{y}.png" in html and "L.polygon(" not in html
    assert external_links(html) == []


def test_a_page_needing_an_unknown_outside_file_is_refused():
    with pytest.raises(InvalidRequest, match="cannot inline"):
        inline_resources('<script src="https://example.invalid/x.js"></script>')


def test_plan_map_shades_people_and_marks_sites(net):
    page = page_html(draw_plan_html(net, lat=np.array([29.0, 29.3]), lon=np.array([118.9, 118.3]),
                                    people=np.array([5000.0, 800.0]), names=("甲", "乙"),
                                    covered=np.array([True, False]), fixed=("kh-people",), new=("kh-hetian",),
                                    title="儿科 <示例>"))
    assert external_links(page) == [] and "乙：800 人（不可达）" in page and "新增：何田卫生院" in page
    assert "儿科 &lt;示例&gt;" in page


def test_chromium_draws_the_map_with_no_network(gaps_page):
    if not CHROMIUM.exists():
        pytest.skip(f"needs-system: Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python (the `test` extra)")
    refused: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox",
                                                                         "--disable-gpu"])
        page = browser.new_page()

        def route(r):
            if r.request.url.startswith(("file:", "data:")):
                r.continue_()
            else:
                refused.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(gaps_page.as_uri())
        page.wait_for_function("typeof L !== 'undefined' && document.querySelectorAll('path.leaflet-interactive')"
                               ".length > 50")
        shapes = page.eval_on_selector_all("path.leaflet-interactive", "els => els.length")
        browser.close()
    assert shapes > 50 and errors == []
    assert [u for u in refused if not u.endswith((".woff2", ".ttf", ".png"))] == []

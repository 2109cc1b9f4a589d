"""Coverage maps drawn with matplotlib's Agg canvas: what a planner sees is checked in the figure."""

import sys

import numpy as np
import pytest

from mednet.network import build_network
from mednet.planning import MissingExtra, Scenario, find_coverage_gaps, what_if
from mednet.planning.maps import GAP_COLOUR, cjk_font, draw_coverage_map
from mednet.regions import load_region


@pytest.fixture(scope="module")
def G():
    return build_network(load_region("quzhou"))


@pytest.fixture(scope="module")
def report(G):
    return find_coverage_gaps(G, specialties=["儿科"], max_km=30)


def gap_labels(fig):
    return [t.get_text() for t in fig.axes[0].texts if t.get_color() == GAP_COLOUR]


def test_png_map_of_paediatric_gaps(G, tmp_path):
    report = find_coverage_gaps(G, specialties=["儿科"], max_km=30)
    path = tmp_path / "paediatrics.png"
    fig = draw_coverage_map(report, "儿科", path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    title = fig.axes[0].get_title()
    assert title.startswith("儿科 Paediatrics: coverage within 30 km" if cjk_font() else "Paediatrics: coverage")
    assert "12 of 56 primary-care institutions beyond 30 km" in title
    gaps = report.gaps("儿科")
    assert len(gap_labels(fig)) == len(gaps) == 12
    if cjk_font():
        assert "齐溪卫生院 43.5 km" in gap_labels(fig) and "上方分院 43.8 km" in gap_labels(fig)
    # the red rings sit on the gap points, in (lon, lat) order
    rings = next(c for c in fig.axes[0].collections if len(c.get_edgecolors()) and  # type: ignore[attr-defined]
                 np.allclose(c.get_edgecolors()[0][:3], (214 / 255, 39 / 255, 40 / 255)))  # type: ignore[attr-defined]
    expected = sorted((G.nodes[p.institution]["lon"], G.nodes[p.institution]["lat"]) for p in gaps)
    assert np.allclose(sorted(map(tuple, rings.get_offsets().tolist())), expected)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("gap: beyond 30 km" in t for t in legend) and len([t for t in legend if "医共体" in t or
                                                                    t.startswith("qj-") or "ygt" in t]) == 6


def test_the_map_shows_the_report_it_is_given(G):
    shown = {}
    for max_km in (20, 40):
        report = find_coverage_gaps(G, specialties=["儿科"], max_km=max_km)
        shown[max_km] = len(gap_labels(draw_coverage_map(report, "paediatrics")))
        assert shown[max_km] == len(report.gaps("儿科"))
    assert shown[20] > shown[40] > 0


def test_after_a_what_if_the_session_is_shown_and_the_gaps_shrink(G, tmp_path):
    scenario = Scenario(name="何田", add=[{"institution": "何田卫生院", "specialty": "儿科",
                                           "session": {"weekday": "tue"}}])
    after = what_if(G, scenario, max_km=30).after
    fig = draw_coverage_map(after, "儿科", tmp_path / "after.svg")
    assert (tmp_path / "after.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert len(gap_labels(fig)) == 10
    assert "visiting sessions only" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_without_a_cjk_font_the_map_uses_ids_and_warns(report, monkeypatch):
    monkeypatch.setattr("mednet.planning.maps.cjk_font", lambda: None)
    with pytest.warns(UserWarning, match="no CJK font"):
        fig = draw_coverage_map(report, "儿科")
    assert "kh-qixi 43.5 km" in gap_labels(fig)
    assert fig.axes[0].get_title().startswith("Paediatrics: coverage within 30 km\nquzhou")


def test_missing_matplotlib_names_the_extra(report, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingExtra, match=r"install mednet's 'planning' extra"):
        draw_coverage_map(report, "儿科")


def test_interactive_html_map(report, tmp_path):
    from mednet.planning.maps import draw_coverage_html

    path = tmp_path / "paediatrics.html"
    draw_coverage_html(report, "儿科", path, tiles=None)
    html = path.read_text(encoding="utf-8")
    assert "儿科 Paediatrics: 12 of 56 primary-care institutions beyond 30 km" in html
    assert "儿科: 43.5 km → 开化县中医院" in html  # 齐溪's popup
    assert html.count(f'"color": "{GAP_COLOUR}"') == 12


def test_html_map_names_the_maps_extra(report, monkeypatch):
    from mednet.planning.maps import draw_coverage_html

    monkeypatch.setitem(sys.modules, "folium", None)
    with pytest.raises(MissingExtra, match=r"'maps' extra"):
        draw_coverage_html(report, "儿科")


def test_a_map_by_minutes_shows_the_report_catchments():
    import warnings

    G = build_network(load_region("quzhou"))
    report = find_coverage_gaps(G, specialties=["儿科"], cost="minutes", max_minutes=45)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig = draw_coverage_map(report, "儿科")
        plain = draw_coverage_map(find_coverage_gaps(G, specialties=["儿科"], max_km=30), "儿科")
    lines = [c for c in fig.axes[0].collections if c.get_label() == "catchment"]
    centre, nearest = report.catchment_links("儿科")
    segments = lines[0].get_segments()  # type: ignore[attr-defined]
    assert len(lines) == 1 and len(segments) == len(centre) == 56
    caught = report.catchments("儿科")
    assert sum(len(v) for v in caught.values()) == 56
    assert len(caught["js-people"]) == (nearest == report.network.index["js-people"]).sum() > 0
    assert "by travel minutes (default model)" in fig.axes[0].get_title()
    assert not [c for c in plain.axes[0].collections if c.get_label() == "catchment"]



def test_an_html_map_by_minutes_draws_the_catchments():
    G = build_network(load_region("quzhou"))
    report = find_coverage_gaps(G, specialties=["儿科"], cost="minutes", max_minutes=45)
    from mednet.planning.maps import draw_coverage_html

    page = draw_coverage_html(report, "儿科", tiles=None).get_root().render()
    assert "catchments (nearest by travel minutes)" in page and "65 min" in page  # 齐溪: 65.4 minutes
    plain = draw_coverage_html(find_coverage_gaps(G, specialties=["儿科"], max_km=30), "儿科", tiles=None)
    assert "catchments" not in plain.get_root().render()

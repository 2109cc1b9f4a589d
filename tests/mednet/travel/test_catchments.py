"""Catchments over the travel layer, checked against a brute-force search."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mednet.errors import InvalidRequest, UnknownSpecialty
from mednet.travel import load_travel
from mednet.travel.catchments import find_catchments, nearest_capable


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 9).flatmap(
        lambda n: st.tuples(
            st.lists(
                st.lists(st.one_of(st.floats(0, 100), st.just(np.inf)), min_size=n, max_size=n), min_size=n, max_size=n
            ),
            st.lists(st.booleans(), min_size=n, max_size=n),
        )
    )
)
def test_nearest_capable_matches_brute_force(case):
    cost, capable = np.array(case[0]), np.array(case[1])
    demand = np.arange(len(cost))
    nearest, value = nearest_capable(cost, demand, capable)
    for d in demand:
        options = [(cost[d, j], j) for j in range(len(cost)) if capable[j] and np.isfinite(cost[d, j])]
        if not options:
            assert nearest[d] == -1 and np.isinf(value[d])
        else:
            best = min(options)  # least cost, then the institution listed first
            assert (value[d], nearest[d]) == best


def test_handmade_catchments_by_road_minutes(handmade_import):
    layer = load_travel(handmade_import.region, travel=handmade_import.travel)
    report = find_catchments(layer, ["儿科", "普外科"], cost="minutes")
    assert report.catchment("fx-a", "儿科") == ("fx-b", "fx-d", "fx-far")
    assert report.unserved("儿科") == ("fx-island",)
    assert report.catchment("fx-d", "普外科") == ("fx-d",)  # a centre offering it is its own nearest
    assert report.catchment("fx-a", "普外科") == ("fx-b", "fx-far")
    summary = report.summary("儿科")[0]
    assert (summary["centres"], summary["population"], summary["population_known"]) == (3, 12000, 1)
    frame = report.to_frame()
    row = frame[(frame.centre == "fx-d") & (frame.specialty == "paediatrics")].iloc[0]
    assert row.nearest == "fx-a" and row.minutes_basis == "road_network"
    assert row.minutes == layer.between("fx-d", "fx-a").minutes
    geo = report.to_geojson("儿科")
    roles = [f["properties"]["role"] for f in geo["features"]]
    assert roles.count("centre") == 4 and roles.count("capable") == 1
    assert geo["features"][0]["geometry"]["coordinates"] == [0.015, 0.0009]  # [lon, lat]


def test_catchments_follow_the_cost(quzhou):
    layer = load_travel(quzhou)
    by_km = find_catchments(layer, ["儿科"], cost="km")
    by_minutes = find_catchments(layer, ["儿科"], cost="minutes")
    # one flat speed everywhere: minutes rank as km do
    assert np.array_equal(by_km.nearest, by_minutes.nearest)
    capable = {r["institution"] for r in by_km.summary("儿科")}
    assert sum(len(by_km.catchment(i, "儿科")) for i in capable) == len(by_km.demand_rows)
    for d, row in enumerate(by_km.demand_rows):  # brute force over the layer's km
        j = by_km.nearest[d, 0]
        others = [layer.dense.km[row, layer.row(c)] for c in capable]
        assert layer.dense.km[row, j] == pytest.approx(min(others))


def test_catchment_errors(quzhou):
    layer = load_travel(quzhou)
    with pytest.raises(InvalidRequest, match="must be a list"):
        find_catchments(layer, "儿科")
    with pytest.raises(InvalidRequest, match="`cost` must be"):
        find_catchments(layer, ["儿科"], cost="hours")
    report = find_catchments(layer, ["儿科"])
    with pytest.raises(UnknownSpecialty):
        report.catchment("kh-people", "普外科")


def test_catchment_map_draws_a_line_per_served_centre(handmade_import):
    from mednet.travel.catchment_map import draw_catchment_map

    layer = load_travel(handmade_import.region, travel=handmade_import.travel)
    fig = draw_catchment_map(find_catchments(layer, ["儿科"]), "儿科")
    lines = fig.axes[0].get_lines()
    assert sum(len(line.get_xdata()) == 2 for line in lines) == 3  # fx-b, fx-d, fx-far joined to fx-a
    assert sum(line.get_marker() == "x" for line in lines) == 1  # the island reaches none
    assert fig.axes[0].get_title().endswith("(4 centres, 1 reach none)")

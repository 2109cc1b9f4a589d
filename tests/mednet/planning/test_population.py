"""Population: the 人口 sheet (registry import rules), a GeoTIFF grid, and the share of people within reach."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.sparse.csgraph import dijkstra

from mednet.errors import InvalidRequest, TableImportError
from mednet.importing.population import read_population, read_population_frames
from mednet.planning.demand import attach, pairs_within
from mednet.planning.passes import network_graph, whole_km
from mednet.planning.population import (
    Population,
    institutions_population,
    population_coverage,
    raster_population,
    townships_population,
)

rasterio = pytest.importorskip("rasterio")



def _sheet(**columns):
    return {"人口": pd.DataFrame(columns)}


def test_sheet_reads_official_townships_with_year_and_source(tmp_path):
    path = tmp_path / "population.csv"
    path.write_text("衢州市常住人口（示例数字）\n区县,乡镇/街道,常住人口,年份,来源,备注\n"
                    "龙游县,湖镇,52000,2020,示例,x\n江山市,峡口镇,\u00a030000,2020,示例,\n合计,,82000,,,\n",
                    encoding="utf-8")
    towns = read_population([path])
    assert [(t.county, t.township, t.people, t.year, t.source) for t in towns] == [
        ("龙游县", "湖镇镇", 52000, 2020, "示例"), ("江山市", "峡口镇", 30000, 2020, "示例")]
    assert towns[0].code.startswith("330825") and towns[0].lat is not None


def test_sheet_problems_all_at_their_cells_in_chinese():
    with pytest.raises(TableImportError) as err:
        read_population_frames(_sheet(
            区县=["龙游县", "龙游县", "龙游县", "不存在县", "龙游县"], 乡镇=["湖镇", "湖镇", "湖镇", "某镇", "詹家"],
            常住人口=["五万", 100, 200, 5, -3], 年份=[2020, 2020, 2020, 1800, 2020]))
    rules = {(p.row, p.rule) for p in err.value.problems if p.severity == "error"}
    assert rules == {(2, "integer"), (4, "duplicate-township"), (5, "year"), (5, "unknown-county"), (6, "integer")}
    assert "第 2 行" in err.value.zh and "未写入任何文件" in err.value.zh


def test_sheet_without_the_required_column_is_one_problem():
    with pytest.raises(TableImportError) as err:
        read_population_frames(_sheet(区县=["龙游县"], 乡镇=["湖镇"]))
    assert [p.rule for p in err.value.problems if p.severity == "error"] == ["required-column"]


def _geotiff(path, values, *, west=118.4, north=29.2, cell=0.1, crs="EPSG:4326", nodata=-1.0):
    from affine import Affine

    values = np.asarray(values, dtype="float32")
    with rasterio.open(path, "w", driver="GTiff", height=values.shape[0], width=values.shape[1], count=1,
                       dtype="float32", crs=crs, transform=Affine(cell, 0, west, 0, -cell, north),
                       nodata=nodata) as dst:
        dst.write(values, 1)
    return path


def test_raster_cells_at_their_centres_without_nodata_or_empty_cells(tmp_path):
    path = _geotiff(tmp_path / "pop.tif", [[100, 0, -1], [250, 50, 7]])
    grid = raster_population(path)
    assert grid.kind == "grid" and grid.total == 407.0
    assert grid.names == ("r0c0", "r1c0", "r1c1", "r1c2")
    assert np.allclose(grid.lat, [29.15, 29.05, 29.05, 29.05])
    assert np.allclose(grid.lon, [118.45, 118.45, 118.55, 118.65])
    west_only = raster_population(path, bounds=(118.4, 28.9, 118.5, 29.2))
    assert west_only.total == 350.0


def test_raster_in_another_crs_or_not_a_raster_is_refused(tmp_path):
    with pytest.raises(InvalidRequest, match="EPSG:4326"):
        raster_population(_geotiff(tmp_path / "m.tif", [[1.0]], west=13_000_000, north=3_400_000, cell=100,
                                   crs="EPSG:3857"))
    bad = tmp_path / "bad.tif"
    bad.write_text("not a raster")
    with pytest.raises(InvalidRequest, match="cannot be read as a raster"):
        raster_population(bad)


def _independent_cost(net, people, column):
    """Leg to the nearest institution (brute force over all) + all-pairs network km."""
    from mednet.geo import haversine_km

    km = haversine_km(people.lat[:, None], people.lon[:, None], net.lat[None, :], net.lon[None, :])
    entry = km.argmin(axis=1)
    leg = km.min(axis=1) * net.G.graph["road_factor"]
    dist = whole_km(dijkstra(network_graph(net), directed=True))  # the graph is in metres
    capable = np.flatnonzero(column)
    return leg + dist[np.ix_(entry, capable)].min(axis=1)


def test_population_weighted_share_equals_an_independent_count(net, tmp_path):
    grid = raster_population(_geotiff(tmp_path / "pop.tif", np.arange(1, 31).reshape(5, 6) * 10.0,
                                      west=118.3, north=29.3, cell=0.08))
    cover = population_coverage(net, grid, specialties=["儿科", "obstetrics"], max_km=25)
    for s, code in enumerate(cover.specialties):
        column = net.capable[:, net.column(code)] | net.in_session[:, net.column(code)]
        expected = _independent_cost(net, grid, column)
        assert np.allclose(cover.cost_to[:, s], expected)
        row = cover.rows[s]
        assert row.covered == pytest.approx(grid.people[expected <= 25].sum())
        assert 0 < row.share < 1
    frame = cover.frame()
    assert list(frame.columns) == ["specialty", "people", "covered", "share"]
    assert len(cover.points_frame()) == len(grid)


def test_people_not_centres_decide_the_share(net):
    far, near = (29.45, 118.2), (28.97, 118.87)
    one_big_far = Population(names=("far", "near"), lat=np.array([far[0], near[0]]), lon=np.array([far[1], near[1]]),
                             people=np.array([9000.0, 1000.0]), kind="points", source="illustrative")
    cover = population_coverage(net, one_big_far, specialties=["儿科"], max_km=10)
    covered = cover.covered[:, 0]
    assert covered.tolist() == [False, True]
    assert cover.rows[0].share == pytest.approx(0.1)


def test_by_minutes_uses_the_travel_layer(net):
    towns = read_population_frames(_sheet(区县=["龙游县", "江山市"], 乡镇=["湖镇", "峡口"], 常住人口=[52000, 30000]))
    people = townships_population(towns, net=net)
    cover = population_coverage(net, people, specialties=["儿科"], max_minutes=40)
    assert cover.cost == "minutes" and np.isfinite(cover.cost_to).all()
    with pytest.raises(InvalidRequest, match="exactly one"):
        population_coverage(net, people, specialties=["儿科"], max_km=10, max_minutes=40)
    with pytest.raises(InvalidRequest, match="> 0"):
        population_coverage(net, people, specialties=["儿科"], max_km=-1)


def test_pairs_within_equal_brute_force(net, tmp_path):
    grid = raster_population(_geotiff(tmp_path / "pop.tif", np.ones((4, 4)), west=118.4, north=29.2, cell=0.1))
    supply = np.flatnonzero(net.capable[:, net.column("paediatrics")])
    point, s, v = pairs_within(net, attach(net, lat=grid.lat, lon=grid.lon), supply, limit=30)
    from mednet.geo import haversine_km

    km = haversine_km(grid.lat[:, None], grid.lon[:, None], net.lat[None, :], net.lon[None, :])
    full = km.min(axis=1)[:, None] * net.G.graph["road_factor"] + whole_km(dijkstra(network_graph(net), directed=True))[
        np.ix_(km.argmin(axis=1), supply)]
    want = np.argwhere(full <= 30)
    assert np.array_equal(np.stack([point, s], axis=1), want)
    assert np.allclose(v, full[full <= 30])


def test_institutions_population_needs_figures(net):
    with pytest.raises(InvalidRequest, match="population"):
        institutions_population(net)

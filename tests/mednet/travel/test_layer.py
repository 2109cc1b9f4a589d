"""The travel layer: precedence of sources, the basis of each figure, unreachable pairs, the file beside the region."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import ValidationError

from mednet.errors import InvalidCoordinates, InvalidRequest, TravelDataError, UnknownInstitution
from mednet.geo import haversine_km
from mednet.models import Source
from mednet.regions import list_regions, load_region
from mednet.travel import (
    CountyTerrain,
    ModelChanges,
    ODTable,
    SpeedRow,
    TravelFile,
    TravelPair,
    load_travel,
    read_travel,
    save_travel,
)
from mednet.travel.layer import TRAVEL_SCHEMA_FILE, dump_travel, travel_json_schema, travel_path

from .conftest import FIXTURES


def test_default_model_is_great_circle_times_the_road_factor_at_the_region_speed(quzhou):
    layer = load_travel(quzhou)
    a, b = quzhou.institution("kh-huabu"), quzhou.institution("kh-people")
    fig = layer.between("kh-huabu", "kh-people")
    km = float(haversine_km(a.lat, a.lon, b.lat, b.lon)) * 1.3
    assert fig.km == pytest.approx(km, abs=1e-3) and fig.minutes == pytest.approx(km / 40 * 60, abs=0.01)
    assert fig.km_basis.kind == fig.minutes_basis.kind == "default_model"
    assert "1.3" in fig.km_basis.detail and "40 km/h" in fig.km_basis.detail


def test_region_speed_sets_the_unknown_road_row():
    huzhou = load_travel("huzhou")  # its region file assumes 30 km/h
    assert huzhou.model.speed("unknown", "plain").kmh == 30.0
    assert huzhou.model.speed("unknown", "plain").assumption


def test_terrain_of_the_rougher_county_slows_the_default_model(quzhou):
    changes = ModelChanges(
        terrain=(
            CountyTerrain(
                county="开化县", terrain="mountain", assumption=True, note="test: Kaihua taken as mountain terrain"
            ),
        )
    )
    layer = load_travel(quzhou, travel=TravelFile(region="quzhou", model=changes))
    plain = load_travel(quzhou)
    fig, before = layer.between("kh-huabu", "kh-people"), plain.between("kh-huabu", "kh-people")
    assert fig.km == before.km and fig.minutes == pytest.approx(before.minutes / 0.7, abs=0.02)
    assert "mountain" in fig.minutes_basis.detail
    mixed = layer.between("kh-people", "qj-tcm")  # 开化县 → 衢江区: the rougher of the two
    assert "mountain" in mixed.minutes_basis.detail


def _with_tables(region, *, road_pairs=(), od_tables=()):
    import datetime as dt

    from mednet.travel.model import RoadTable

    sources = {
        "roads": Source(title="test roads"),
        "od1": Source(title="map service A"),
        "od2": Source(title="map service B"),
    }
    roads = (
        RoadTable(
            source="roads",
            extract="x.osm.pbf",
            extract_date=dt.datetime(2025, 1, 1),
            date_basis="file_mtime",
            ways=1,
            graph_nodes=2,
            graph_arcs=2,
            snaps=(),
            pairs=tuple(road_pairs),
        )
        if road_pairs
        else None
    )
    tables = tuple(ODTable(source=k, file=f"{k}.csv", pairs=tuple(p)) for k, p in od_tables)
    return load_travel(region, travel=TravelFile(region=region.id, sources=sources, roads=roads, od_tables=tables))


def test_od_over_roads_over_default_each_figure_with_its_basis(quzhou):
    layer = _with_tables(
        quzhou,
        road_pairs=[
            TravelPair(a="kh-huabu", b="kh-people", km=22.0, minutes=31.0),
            TravelPair(a="kh-qixi", b="kh-people", unreachable=True),
        ],
        od_tables=[
            (
                "od1",
                [
                    TravelPair(a="kh-huabu", b="kh-people", minutes=28.0),
                    TravelPair(a="kh-qixi", b="kh-people", minutes=70.0),
                ],
            ),
            ("od2", [TravelPair(a="kh-huabu", b="kh-people", minutes=26.5)]),
        ],
    )
    fig = layer.between("华埠", "开化县人民医院")
    assert (fig.km, fig.km_basis.kind, fig.km_basis.source) == (22.0, "road_network", "roads")
    assert (fig.minutes, fig.minutes_basis.kind, fig.minutes_basis.title) == (26.5, "od_table", "map service B")
    back = layer.between("开化县人民医院", "华埠")  # directed: nothing given back, the default model
    assert back.km_basis.kind == "default_model"
    qixi = layer.between("kh-qixi", "kh-people")  # unreachable by road, but the OD table has minutes
    assert not qixi.unreachable and qixi.minutes == 70.0 and qixi.minutes_basis.kind == "od_table"
    assert qixi.km_basis.kind == "default_model" and qixi.km > 0


def test_unreachable_is_said_and_kept_apart_from_the_arrays(quzhou):
    layer = _with_tables(quzhou, road_pairs=[TravelPair(a="kh-qixi", b="kh-people", unreachable=True)])
    fig = layer.between("kh-qixi", "kh-people")
    assert fig.unreachable and fig.km is None and fig.minutes is None and fig.km_basis.kind == "road_network"
    a, b = layer.row("kh-qixi"), layer.row("kh-people")
    assert layer.dense.unreachable[a, b] and np.isinf(layer.matrix("minutes")[a, b])
    assert layer.dense.unreachable.sum() == 1 and not layer.dense.km.flags.writeable
    assert (
        np.all(np.diag(layer.dense.km) == 0) and layer.between("kh-qixi", "kh-qixi").km_basis.kind == "same_institution"
    )


def test_from_point_uses_the_default_model(quzhou):
    layer = load_travel(quzhou)
    inst = quzhou.institution("kh-huabu")
    fig = layer.from_point(lat=29.05, lon=118.40, to="华埠")
    assert fig.origin == "point" and fig.km == pytest.approx(
        float(haversine_km(29.05, 118.4, inst.lat, inst.lon)) * 1.3, abs=1e-3
    )
    with pytest.raises(InvalidCoordinates, match="swapped"):
        layer.from_point(lat=118.4, lon=29.05, to="华埠")


def test_bad_names_and_cost(quzhou):
    layer = load_travel(quzhou)
    with pytest.raises(UnknownInstitution, match="did you mean '华埠"):
        layer.between("华铺", "开化县人民医院")
    with pytest.raises(InvalidRequest, match="`cost` must be 'km' or 'minutes'"):
        layer.matrix("hours")


def test_travel_file_round_trip_beside_the_region(tmp_path, quzhou):
    region_file = tmp_path / "quzhou.json"
    region_file.write_text(load_region("quzhou").model_dump_json(exclude_defaults=True), encoding="utf-8")
    travel = TravelFile(
        region="quzhou",
        sources={"od": Source(title="map service A")},
        od_tables=(
            ODTable(
                source="od",
                file="od.csv",
                pairs=(
                    TravelPair(a="kh-huabu", b="kh-people", minutes=28.0),
                    TravelPair(a="kh-qixi", b="kh-people", unreachable=True),
                ),
            ),
        ),
    )
    path = save_travel(travel, travel_path(region_file))
    assert path.name == "quzhou.travel.json" and read_travel(path) == travel
    assert '\n  {"a":"kh-huabu","b":"kh-people","minutes":28.0},' in path.read_text(encoding="utf-8")
    assert list_regions(tmp_path) == ["quzhou"]  # the travel file is no region
    assert load_travel(region_file).between("kh-qixi", "kh-people").unreachable


@pytest.mark.parametrize(
    "change, message",
    [
        ({"region": "luqiao"}, "region: is 'luqiao', expected 'quzhou'"),
        (
            {
                "od_tables": [
                    {"source": "od", "file": "od.csv", "pairs": [{"a": "kh-huabuu", "b": "kh-people", "km": 1}]}
                ]
            },
            "did you mean 'kh-huabu'",
        ),
        ({"od_tables": [{"source": "nowhere", "file": "od.csv", "pairs": []}]}, "source 'nowhere' is not among"),
        (
            {"od_tables": [{"source": "od", "file": "od.csv", "pairs": [{"a": "kh-huabu", "b": "kh-people"}]}]},
            "give km, minutes or both",
        ),
        ({"model": {"speeds": [{"road_class": "primary", "terrain": "hilly", "kmh": 50}]}}, "mark the row `assumption"),
        (
            {"model": {"terrain": [{"county": "开化", "terrain": "mountain", "source": "od"}]}},
            "'开化' is no county of the region; did you mean '开化县'",
        ),
    ],
)
def test_broken_travel_files_name_the_place(tmp_path, quzhou, change, message):
    raw = {"region": "quzhou", "sources": {"od": {"title": "map service A"}}, **change}
    path = tmp_path / "quzhou.travel.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(TravelDataError, match=message) as err:
        load_travel(quzhou, travel=path)
    assert err.value.file == str(path)


def test_speed_rows_and_pairs_are_checked():
    with pytest.raises(ValidationError, match="given twice"):
        ModelChanges(speeds=(SpeedRow(road_class="primary", terrain="plain", kmh=60, source="s"),) * 2)
    with pytest.raises(ValidationError, match="no km or minutes"):
        TravelPair(a="x", b="y", km=3, unreachable=True)
    with pytest.raises(ValidationError, match="two different institutions"):
        TravelPair(a="x", b="x", km=3)


def test_model_changes_override_builtin_rows(quzhou):
    changes = ModelChanges(
        circuity=1.5, circuity_source="s", speeds=(SpeedRow(road_class="unknown", terrain="plain", kmh=50, source="s"),)
    )
    layer = load_travel(
        quzhou, travel=TravelFile(region="quzhou", sources={"s": Source(title="survey")}, model=changes)
    )
    plain = load_travel(quzhou).between("kh-huabu", "kh-people")
    fig = layer.between("kh-huabu", "kh-people")
    assert fig.km == pytest.approx(plain.km / 1.3 * 1.5, abs=2e-3)
    assert fig.minutes == pytest.approx(fig.km / 50 * 60, abs=0.01)


def test_committed_travel_schema_is_fresh():
    committed = (FIXTURES.parents[2] / "data" / "regions" / TRAVEL_SCHEMA_FILE).read_text(encoding="utf-8")
    assert committed == travel_json_schema(), "run: python tools/write_schema.py"


def test_dump_of_an_empty_layer_is_small():
    assert json.loads(dump_travel(TravelFile(region="quzhou"))) == {"region": "quzhou"}


def test_costs_of_any_pairs_match_the_dense_arrays_and_dense_has_a_limit(quzhou, monkeypatch):
    layer = _with_tables(
        quzhou,
        road_pairs=[
            TravelPair(a="kh-qixi", b="kh-people", unreachable=True),
            TravelPair(a="kh-huabu", b="kh-people", km=22.0, minutes=31.0),
        ],
    )
    rng = np.random.default_rng(7)
    rows, cols = rng.integers(0, layer.n, 500), rng.integers(0, layer.n, 500)
    rows[:2], cols[:2] = layer.row("kh-qixi"), layer.row("kh-people")
    c = layer.costs(rows, cols)
    assert np.array_equal(c.km, layer.dense.km[rows, cols]) and np.array_equal(
        c.minutes_basis, layer.dense.minutes_basis[rows, cols]
    )
    assert c.unreachable[:2].all() and np.array_equal(c.unreachable, layer.dense.unreachable[rows, cols])
    import mednet.travel.layer as layer_module

    monkeypatch.setattr(layer_module, "DENSE_MAX", 10)
    small = load_travel(quzhou)
    with pytest.raises(InvalidRequest, match="use costs"):
        small.matrix("km")
    assert small.costs([0], [10]).km[0] > 0

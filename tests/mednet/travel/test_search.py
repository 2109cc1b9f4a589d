"""The searches on a travel layer against an exhaustive search over every pair (random regions, terrains, OD pairs)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mednet.models import Institution, Location, Region, Source
from mednet.travel import TravelFile, TravelLayer
from mednet.travel.search import nearest_by_cost, nearest_in, within_cost

COUNTIES = ("甲县", "乙县", "丙县")
#: Where the made-up points lie (south, north, west, east): one county's size, all China (searches from afar), and
#: across the antimeridian (no ring bound there: every point is looked at).
BOXES = [(29.0, 29.6, 118.0, 118.8), (18.0, 53.0, 74.0, 134.0), (-10.0, 10.0, -180.0, 180.0)]


def made_up_region(points: list[tuple[float, float]], counties: list[str]) -> Region:
    insts = tuple(
        Institution(id=f"p{i}", name=f"点{i}", tier="township_centre", county=counties[i], lat=lat, lon=lon,
                    location=Location(kind="proxy", source="t", note="made up"), source="t")
        for i, (lat, lon) in enumerate(points)
    )
    return Region(id="r", name="r", synthetic=True, institutions=insts, sources={"t": Source(title="tests")})


def random_layer(draw) -> TravelLayer:
    """A made-up region: points in a box (some on the same spot), counties of random terrain, random OD pairs."""
    n = draw(st.integers(2, 16))
    south, north, west, east = draw(st.sampled_from(BOXES))
    spot = st.tuples(st.floats(south, north), st.floats(west, east))
    points = draw(st.lists(spot, min_size=n, max_size=n))
    for i in draw(st.lists(st.integers(1, n - 1), max_size=3)):
        points[i] = points[i - 1]  # co-located institutions
    counties = draw(st.lists(st.sampled_from(COUNTIES), min_size=n, max_size=n))
    region = made_up_region(points, counties)
    insts = region.institutions
    terrain = [{"county": c, "terrain": draw(st.sampled_from(("plain", "hilly", "mountain"))), "assumption": True,
                "note": "test"} for c in COUNTIES]
    pair = st.fixed_dictionaries({
        "a": st.sampled_from([i.id for i in insts]), "b": st.sampled_from([i.id for i in insts]),
        "km": st.one_of(st.none(), st.floats(0, 150)), "minutes": st.one_of(st.none(), st.floats(0, 200)),
        "unreachable": st.booleans(),
    })
    pairs = [p if p["unreachable"] else {k: v for k, v in p.items() if v is not None}
             for p in draw(st.lists(pair, max_size=2 * n))]
    pairs = [{"a": p["a"], "b": p["b"], "unreachable": True} if p["unreachable"] or len(p) == 3 else p
             for p in pairs if p["a"] != p["b"]]
    travel = TravelFile.model_validate({
        "region": "r", "sources": {"od": {"title": "made-up OD table"}},
        "model": {"terrain": terrain},
        "od_tables": [{"source": "od", "file": "od.csv", "pairs": pairs}] if pairs else [],
    })
    return TravelLayer.build(region, travel)


layers = st.composite(random_layer)


def exhaustive_nearest(layer: TravelLayer, rows: np.ndarray, columns: np.ndarray, cost: str):
    """Every row × every column costed; a row among the columns is its own nearest."""
    block = getattr(layer.costs(rows[:, None], columns[None, :]), cost)
    nearest, value = nearest_in(block, columns)
    own = np.isin(rows, columns)
    nearest[own], value[own] = rows[own], 0.0
    return nearest, value


@settings(max_examples=150, deadline=None)
@given(st.data(), st.sampled_from(("km", "minutes")))
def test_nearest_by_cost_equals_the_exhaustive_search(data, cost):
    layer = data.draw(layers())
    n = layer.n
    rows = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True)))
    columns = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=n, unique=True)), dtype=np.int64)
    got = nearest_by_cost(layer, rows, columns, cost=cost)
    want = exhaustive_nearest(layer, rows, columns, cost)
    assert got[0].tolist() == want[0].tolist()
    assert got[1].tolist() == want[1].tolist()


@settings(max_examples=100, deadline=None)
@given(st.data(), st.sampled_from(("km", "minutes")), st.floats(0.5, 120))
def test_within_cost_equals_the_exhaustive_search(data, cost, limit):
    layer = data.draw(layers())
    every = np.arange(layer.n)
    columns = np.array(data.draw(st.lists(st.integers(0, layer.n - 1), max_size=layer.n, unique=True)),
                       dtype=np.int64)
    got_row, got_col, got_value = within_cost(layer, every, columns, cost=cost, limit=limit)
    block = getattr(layer.costs(every[:, None], columns[None, :]), cost)
    want_row, want_col = np.nonzero(block <= limit)
    assert list(zip(got_row.tolist(), got_col.tolist(), strict=True)) == list(
        zip(want_row.tolist(), want_col.tolist(), strict=True))
    assert got_value.tolist() == block[want_row, want_col].tolist()


def test_an_od_pair_makes_a_farther_institution_the_nearest(quzhou):
    """齐溪 is nearest 开化县人民医院 by the default model; an OD figure of 30 minutes to 江山 makes 江山 nearer."""
    from mednet.travel import load_travel

    layer = load_travel(quzhou)
    qixi, kaihua, jiangshan = layer.row("齐溪"), layer.row("kh-people"), layer.row("js-people")
    columns = np.array([kaihua, jiangshan])
    nearest, minutes = nearest_by_cost(layer, [qixi], columns, cost="minutes")
    assert nearest[0] == kaihua
    od = TravelFile.model_validate({
        "region": "quzhou", "sources": {"od": {"title": "made-up figure for this test"}},
        "od_tables": [{"source": "od", "file": "od.csv", "pairs": [{"a": "kh-qixi", "b": "js-people", "minutes": 30}]}],
    })
    faster = TravelLayer.build(layer.region, od)
    nearest, minutes = nearest_by_cost(faster, [qixi], columns, cost="minutes")
    assert (nearest[0], minutes[0]) == (jiangshan, 30.0)
    nearest, _ = nearest_by_cost(faster, [qixi], columns, cost="km")  # the OD table gives no km: km rank as before
    assert nearest[0] == kaihua


@pytest.mark.parametrize("cost", ["km", "minutes"])
def test_no_capable_institution_means_none_reachable(quzhou, cost):
    from mednet.travel import load_travel

    layer = load_travel(quzhou)
    nearest, value = nearest_by_cost(layer, [0, 1], np.empty(0, dtype=np.int64), cost=cost)
    assert nearest.tolist() == [-1, -1] and np.isinf(value).all()


def od_layer(region: Region, pairs: list[dict]) -> TravelLayer:
    return TravelLayer.build(region, TravelFile.model_validate({
        "region": "r", "sources": {"od": {"title": "made-up OD table"}},
        "od_tables": [{"source": "od", "file": "od.csv", "pairs": pairs}],
    }))


@pytest.mark.parametrize("cost", ["km", "minutes"])
def test_exact_ties_go_to_the_column_listed_first_however_many(cost):
    """1,200 institutions on one spot (more near ties than the search first makes room for): the first listed wins."""
    points = [(29.0, 118.0)] + [(29.1, 118.1)] * 1200
    layer = od_layer(made_up_region(points, ["甲县"] * len(points)), [])
    columns = np.arange(1, len(points))
    for order in (columns, columns[::-1], np.roll(columns, 500)):
        nearest, value = nearest_by_cost(layer, [0], order, cost=cost)
        assert nearest[0] == order[0] and value[0] == exhaustive_nearest(layer, np.array([0]), order, cost)[1][0]


@pytest.mark.parametrize("cost", ["km", "minutes"])
def test_unreachable_pairs_are_never_the_nearest(cost):
    """Every pair from 0 is unreachable but one far away; from 1, every pair: none is reachable."""
    layer = od_layer(made_up_region([(29.0, 118.0), (29.0, 118.01), (29.0, 118.02), (29.0, 118.03), (35.0, 120.0)],
                                    ["甲县"] * 5),
                     [{"a": a, "b": b, "unreachable": True} for a in ("p0", "p1") for b in ("p2", "p3")]
                     + [{"a": "p1", "b": "p4", "unreachable": True}])
    nearest, value = nearest_by_cost(layer, [0, 1], [2, 3, 4], cost=cost)
    assert nearest.tolist() == [4, -1] and np.isfinite(value[0]) and np.isinf(value[1])


@pytest.mark.parametrize("cost", ["km", "minutes"])
def test_the_nearest_across_the_antimeridian(cost):
    """11 km east across the antimeridian beats 1,000 km west: the cells' rings do not wrap, so all are looked at."""
    layer = od_layer(made_up_region([(0.0, -179.95), (0.0, 179.95), (0.0, -170.0)], ["甲县"] * 3), [])
    nearest, _ = nearest_by_cost(layer, [0], [2, 1], cost=cost)
    assert nearest[0] == 1

"""Routing by travel cost: checked against an exhaustive search on the travel layer, its limits, its errors, and
what an OD table changes (library and CLI; the service in tests/service/test_routes_by_cost.py)."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import mednet
from mednet.cli import main
from mednet.errors import InvalidRequest, NoCapableInstitution
from mednet.models import Tier
from mednet.network import compile_network
from mednet.routing import Point, Router
from mednet.routing.answers import SHORT_PASSED_OVER
from mednet.routing.by_cost import classify_all
from mednet.routing.cost_answers import ReferralByCost
from mednet.routing.kernel import part
from mednet.routing.policy import DOWN, MODES, UP
from mednet.specialties import resolve_specialty
from mednet.travel import TravelFile, TravelLayer, load_travel, save_travel
from mednet.travel.od import import_od
from mednet.travel.search import rounded

EXAMPLE_OD = Path(__file__).resolve().parents[2] / "examples" / "quzhou_od_example.csv"
REGION = mednet.load_region("quzhou")
ROUTER = Router.from_region(REGION)
IDS = [i.id for i in REGION.institutions]
SPECIALTIES = [resolve_specialty(s).code for s in ("儿科", "普外科", "骨科", "神经外科", "风湿免疫科", "全科")]


def route(origin: str | Point, code: str, **options) -> ReferralByCost:
    """A route by travel cost (the options ask for one)."""
    r = ROUTER.route(origin, code, **options)
    assert isinstance(r, ReferralByCost)
    return r


def layer_with(kind: str, pairs: list[tuple[int, int, float, bool]]) -> TravelLayer:
    """The default model, or a road or OD table of the figures drawn (some unreachable) over it."""
    rows = []
    for a, b, figure, gone in pairs:
        x, y = IDS[a % len(IDS)], IDS[b % len(IDS)]
        if x != y:
            figures = {"unreachable": True} if gone else {"minutes": figure, "km": figure * 0.9}
            rows.append({"a": x, "b": y, **figures})
    rows = list({(r["a"], r["b"]): r for r in rows}.values())
    data: dict = {"region": "quzhou", "sources": {"t": {"title": "made-up figures for this test"}}}
    if kind == "od" and rows:
        data["od_tables"] = [{"source": "t", "file": "od.csv", "pairs": rows}]
    elif kind == "roads" and rows:
        data["roads"] = {"source": "t", "extract": "test.osm", "extract_date": "2025-01-01T00:00:00",
                         "date_basis": "file_mtime", "ways": 0, "graph_nodes": 0, "graph_arcs": 0, "snaps": [],
                         "pairs": rows}
    return TravelLayer.build(REGION, TravelFile.model_validate(data))


def exhaustive(layer, origin, code, direction, cost, max_km, max_minutes, k, router=ROUTER):
    """Every institution classified by the policy's rule and costed on the layer, then ranked: the destination,
    its step and figures, the alternatives, and who is nearer by ``cost`` (or None: nothing within)."""
    net = router.net
    rows = layer.rows_of(net.ids)
    mode = MODES[direction]
    if isinstance(origin, Point):
        o = router.home_centre(origin)
        kernel_origin, preferred = -1, (o if mode == DOWN else -1)
        c = rounded(layer.point_costs(lat=origin.lat, lon=origin.lon, cols=rows))
    else:
        o = net.index[origin]
        kernel_origin, preferred = o, -1
        c = rounded(layer.costs(rows[o], rows))
    hc = router.tables.homes[o]
    s = router.tables.columns[code]
    mark = np.zeros(net.n)
    if mode == UP and hc >= 0:
        ptr = part(router.tables.com, 2)
        mark[part(router.tables.com, 3)[ptr[hc]:ptr[hc + 1]]] = 1.0
    t = router.tables
    codes = classify_all(np.arange(net.n), kernel_origin, t.ranks[o], mode, t.cap[s], t.rank, t.home, hc, preferred,
                         mark)
    value = getattr(c, cost)
    prio = router.tables.prio
    ok = (codes < 3) & ~c.unreachable & (c.km <= (max_km or np.inf)) & (c.minutes <= (max_minutes or np.inf))
    ordered = sorted(np.flatnonzero(ok), key=lambda j: (codes[j], value[j], prio[j]))
    if not ordered:
        return None
    dest = ordered[0]
    step = codes[dest]
    nearer = {net.ids[j] for j in range(net.n) if j != dest and not c.unreachable[j]
              and (value[j], prio[j]) < (value[dest], prio[dest])}
    for earlier in range(step):  # each earlier step's nearest, beyond the limits
        members = [j for j in range(net.n) if codes[j] == earlier and not c.unreachable[j]]
        if members:
            nearer.add(net.ids[min(members, key=lambda j: (value[j], prio[j]))])
    return {"dest": net.ids[dest], "step": int(step), "km": float(c.km[dest]), "minutes": float(c.minutes[dest]),
            "alternatives": [(net.ids[j], float(value[j])) for j in ordered[1:k + 1]], "nearer": nearer}


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["default", "roads", "od"]),
    pairs=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.floats(0, 120), st.booleans()),
                   max_size=60),
    at=st.integers(0, 10**6),
    from_point=st.booleans(),
    jitter=st.tuples(st.floats(-0.03, 0.03), st.floats(-0.03, 0.03)),
    code=st.sampled_from(SPECIALTIES),
    direction=st.sampled_from(["up", "emergency", "down"]),
    cost=st.sampled_from(["km", "minutes"]),
    max_km=st.one_of(st.none(), st.floats(5, 120)),
    max_minutes=st.one_of(st.none(), st.floats(5, 150)),
    k=st.integers(1, 5),
)
def test_routing_by_cost_equals_the_exhaustive_search(kind, pairs, at, from_point, jitter, code, direction, cost,
                                                      max_km, max_minutes, k):
    check_against_exhaustive(kind, pairs, at, from_point, jitter, code, direction, cost, max_km, max_minutes, k)


def check_against_exhaustive(kind, pairs, at, from_point, jitter, code, direction, cost, max_km, max_minutes, k):
    layer = layer_with(kind, pairs)
    inst = REGION.institutions[at % len(IDS)]
    origin = Point(lat=inst.lat + jitter[0], lon=inst.lon + jitter[1]) if from_point else inst.id
    if direction == "down" and not from_point:
        assume(inst.tier.is_hospital and ROUTER.tables.homes[ROUTER.net.index[inst.id]] >= 0)
    options = dict(direction=direction, cost=cost, max_km=max_km, max_minutes=max_minutes, travel=layer,
                   alternatives=k, explain="full")
    check_route(ROUTER, layer, origin, code, options)


def check_route(router, layer, origin, code, options):
    """The route by cost equals the exhaustive search (``options``: the route's, ``explain="full"``)."""
    want = exhaustive(layer, origin, code, options["direction"], options["cost"], options["max_km"],
                      options["max_minutes"], options["alternatives"], router)
    max_km, max_minutes, cost = options["max_km"], options["max_minutes"], options["cost"]
    if want is None:
        with pytest.raises(NoCapableInstitution):
            router.route(origin, code, **options)
        return
    r = router.route(origin, code, **options)
    assert isinstance(r, ReferralByCost)
    assert (r.destination.id, r.distance_km, r.minutes) == (want["dest"], want["km"], want["minutes"])
    assert r.step == ("own_community", "partners", "any")[want["step"]] if options["direction"] == "up" else True
    ranked = [(a.institution.id, a.minutes if cost == "minutes" else a.distance_km) for a in r.alternatives]
    assert ranked == want["alternatives"]
    assert {i.id for g in r.passed_over for i in g.institutions} == want["nearer"]
    assert sum(g.count for g in r.passed_over) >= len(want["nearer"])
    if max_km is not None:
        assert r.distance_km <= max_km
    if max_minutes is not None:
        assert r.minutes <= max_minutes
    assert r.model_dump_json().encode() == router.route_json(origin, code, **options)
    # The default contract names the nearest few of each reason (counted, not costed, beyond them): the same.
    short = router.route(origin, code, **{**options, "explain": "short"})
    assert (short.destination, short.alternatives) == (r.destination, r.alternatives)
    assert [(g.reason, g.count, g.institutions, g.distances_km, g.minutes) for g in short.passed_over] == [
        (g.reason, g.count, *(named[:SHORT_PASSED_OVER] for named in (g.institutions, g.distances_km, g.minutes)))
        for g in r.passed_over]


@pytest.fixture(scope="module")
def province():
    """A province of the synthetic national network (about 3,000 institutions, sessions too), its router and its
    default travel layer: communities, partners and candidates far more numerous than in Quzhou."""
    from mednet.bench.coverage import national_travel
    from mednet.national import build_national_network

    G = build_national_network(seed=0, provinces=["浙江省"])
    return Router(compile_network(G)), national_travel(G)


@settings(max_examples=80, deadline=None)
@given(at=st.integers(0, 10**6), from_point=st.booleans(), jitter=st.tuples(st.floats(-0.05, 0.05),
                                                                            st.floats(-0.05, 0.05)),
       code=st.integers(0, 29), direction=st.sampled_from(["up", "up", "emergency", "down"]),
       cost=st.sampled_from(["km", "minutes"]), max_km=st.one_of(st.none(), st.floats(3, 80)),
       max_minutes=st.one_of(st.none(), st.floats(3, 120)), k=st.integers(1, 5))
def test_routing_by_cost_on_a_province_equals_the_exhaustive_search(province, at, from_point, jitter, code,
                                                                    direction, cost, max_km, max_minutes, k):
    router, layer = province
    net = router.net
    inst = net.ids[at % net.n]
    lat, lon = router.G.nodes[inst]["lat"], router.G.nodes[inst]["lon"]
    origin = Point(lat=lat + jitter[0], lon=lon + jitter[1]) if from_point else inst
    if direction == "down":
        o = router.home_centre(origin) if from_point else net.index[inst]
        assume(router.tables.homes[o] >= 0 and (from_point or Tier(router.G.nodes[inst]["tier"]).is_hospital))
    options = dict(direction=direction, cost=cost, max_km=max_km, max_minutes=max_minutes, travel=layer,
                   alternatives=k, explain="full")
    check_route(router, layer, origin, net.specialties[code % len(net.specialties)], options)


def test_minutes_say_when_they_come_from_the_default_model():
    r = route("华埠", "普外科", cost="minutes")
    assert (r.destination.name, r.step, r.distance_km, r.minutes) == ("开化县人民医院", "own_community", 20.01, 30.01)
    assert r.minutes_from_default_model and r.minutes_basis.kind == r.km_basis.kind == "default_model"
    assert "默认模型" in r.travel_note
    assert [(h.kind, h.basis, h.from_id, h.to_id) for h in r.path] == [
        ("travel", "default_model", "kh-huabu", "kh-people")]
    point = route(Point(lat=29.05, lon=118.4), "儿科", cost="minutes", lang="en")
    assert point.measured_from == "origin_point" and "from a point, the default model only" in point.travel_note
    assert point.path[0].from_id == "29.05,118.4"


def test_without_the_options_the_answer_is_the_link_route():
    plain = ROUTER.route("华埠", "普外科")
    assert type(plain).__name__ == "Referral" and plain.path[0].kind != "travel"
    assert ROUTER.route_json("华埠", "普外科", cost="km") == plain.model_dump_json().encode()


def test_answers_equal_their_validated_copies():
    """Answers by cost are assembled from already-validated parts, without per-field validation: each equals its
    validated copy, and its JSON the one written directly."""
    od = load_travel(REGION, travel=import_od(REGION, EXAMPLE_OD, source="illustrative example (not measured)"))
    answers = [
        route("华埠", "普外科", cost="minutes", max_minutes=60, explain="full"),
        route("齐溪", "儿科", cost="minutes", max_minutes=45, travel=od, lang="en"),
        route(Point(lat=29.05, lon=118.4), "儿科", cost="km", max_km=40, alternatives=5, travel=od),
        route("衢州市人民医院", None, direction="down", home="虎山", cost="minutes"),
        route("华埠", "骨科", direction="emergency", travel=od),
    ]
    for r in answers:
        assert ReferralByCost.model_validate(r.model_dump()) == r
        assert ReferralByCost.model_validate_json(r.model_dump_json()) == r
        assert r.model_dump()["explanation"] == r.explanation
    assert any(r.passed_over for r in answers) and any(r.alternatives for r in answers)


def test_max_km_and_max_minutes_together():
    """A destination must be within both; a nearer candidate skipped for one limit says which."""
    layer = TravelLayer.build(REGION, TravelFile.model_validate({
        "region": "quzhou", "sources": {"t": {"title": "made-up figures for this test"}},
        "od_tables": [{"source": "t", "file": "od.csv", "pairs": [
            {"a": "kh-huabu", "b": "kh-people", "minutes": 10.0, "km": 50.0}]}]}))
    fast = route("华埠", "普外科", cost="minutes", travel=layer)
    assert (fast.destination.id, fast.minutes, fast.distance_km) == ("kh-people", 10.0, 50.0)
    assert fast.minutes_basis.kind == fast.km_basis.kind == "od_table"
    both = route("华埠", "普外科", cost="minutes", travel=layer, max_km=40, max_minutes=60, explain="full")
    assert both.destination.id != "kh-people" and both.distance_km <= 40 and both.minutes <= 60
    beyond = [g for g in both.passed_over if g.reason == "beyond_max_km"]
    assert [i.id for g in beyond for i in g.institutions] == ["kh-people"]
    assert "40 公里及 60 分钟" in both.explanation
    with pytest.raises(NoCapableInstitution, match="max_km=5 km and max_minutes=5 min"):
        route("华埠", "神经外科", travel=layer, max_km=5, max_minutes=5, lang="en")
    with pytest.raises(NoCapableInstitution, match="限 5 公里、5 分钟内，max_km、max_minutes，按出行层"):  # the default
        route("华埠", "神经外科", travel=layer, max_km=5, max_minutes=5)


def test_an_od_table_changes_the_routed_destination():
    with pytest.raises(NoCapableInstitution, match=r"within max_minutes=45 min .*65\.4 min") as err:
        route("齐溪", "儿科", cost="minutes", max_minutes=45, lang="en")
    assert err.value.nearest == "开化县人民医院"
    with pytest.raises(NoCapableInstitution, match=r"限 45 分钟内.*最近的是开化县人民医院，43\.6 公里，65\.4 分钟"):
        route("齐溪", "儿科", cost="minutes", max_minutes=45)
    layer = load_travel(REGION, travel=import_od(REGION, EXAMPLE_OD, source="illustrative example (not measured)"))
    r = route("齐溪", "儿科", cost="minutes", max_minutes=45, travel=layer)
    assert (r.destination.name, r.step, r.minutes) == ("开化县人民医院", "any", 40.0)
    assert r.minutes_basis.kind == "od_table" and not r.minutes_from_default_model
    assert r.km_basis.kind == "default_model"  # the table gives no km: that figure falls to the default model
    assert "OD 表（illustrative example (not measured)）" in r.travel_note


@pytest.mark.parametrize(("options", "field"), [
    ({"cost": "hours"}, "cost"),
    ({"cost": "minutes", "max_minutes": 0}, "max_minutes"),
    ({"max_minutes": -5}, "max_minutes"),
    ({"max_minutes": float("inf")}, "max_minutes"),
    ({"max_minutes": True}, "max_minutes"),
    ({"travel": "quzhou.travel.json"}, "travel"),
    ({"travel": load_travel("luqiao")}, "travel"),
])
def test_bad_travel_options_name_what_was_wrong(options, field):
    with pytest.raises(InvalidRequest) as err:
        ROUTER.route("华埠", "普外科", **options)
    assert err.value.parameter == field


def test_a_network_without_a_region_needs_a_layer():
    G = nx.Graph(mednet.build_network(REGION))
    del G.graph["region_data"]
    with pytest.raises(InvalidRequest, match="must be given"):
        Router(compile_network(G)).route("华埠", "普外科", cost="minutes")


def test_cli_routes_by_minutes_and_says_the_basis(capsys):
    assert main(["route", "quzhou", "--from", "华埠", "--specialty", "普外科", "--cost", "minutes"]) == 0
    out = capsys.readouterr().out
    assert "出行距离 20.0 公里，约 30 分钟（出行层，直达）" in out and "依据: 按行程分钟排序" in out
    assert "华埠卫生院 →(直达 20.0 km) 开化县人民医院" in out
    assert main(["route", "quzhou", "--from", "华埠", "--specialty", "普外科", "--cost", "minutes",
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(ROUTER.route("华埠", "普外科", cost="minutes")
                                                            .model_dump_json())


def test_cli_with_an_od_table_and_its_errors(tmp_path, capsys):
    args = ["route", "quzhou", "--from", "齐溪", "--specialty", "儿科", "--max-minutes", "45"]
    assert main([*args, "--lang", "en"]) == 1
    assert "within max_minutes=45 min" in capsys.readouterr().err
    assert main(args) == 1
    assert "限 45 分钟内，max_minutes，按出行层" in capsys.readouterr().err
    travel = tmp_path / "quzhou.travel.json"
    save_travel(import_od(REGION, EXAMPLE_OD, source="illustrative example (not measured)"), travel)
    assert main([*args, "--travel", str(travel)]) == 0
    assert "齐溪卫生院 → 开化县人民医院" in capsys.readouterr().out
    for bad in (["--max-minutes", "0"], ["--cost", "hours"], ["--travel", str(EXAMPLE_OD)],
                ["--travel", str(tmp_path / "missing.json")]):
        with pytest.raises(SystemExit) as exit_:
            code = main(["route", "quzhou", "--from", "齐溪", "--specialty", "儿科", *bad])
            raise SystemExit(code)
        assert exit_.value.code == 2, bad

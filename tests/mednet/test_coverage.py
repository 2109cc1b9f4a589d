"""Coverage gaps, what-ifs and upgrade sites, checked against networkx and by hand on Quzhou."""

import copy
import itertools
import json
import math
import mmap
import os
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mednet.errors import InvalidRequest, UnknownInstitution, UnknownSpecialty
from mednet.models import Capability, Community, Institution, Link, Location, Membership, Region, Session, Source
from mednet.network import build_network, compile_network
from mednet.planning import (
    CoverageReport,
    Scenario,
    ScenarioDataError,
    find_coverage_gaps,
    load_scenario,
    nearest_sources,
    passes,
    search_graph,
    suggest_upgrades,
    what_if,
)
from mednet.planning.gaps import as_network
from mednet.regions import load_region
from mednet.routing.links import same_proxy_point
from mednet.travel.layer import travel_layer_of

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SPECIALTIES = ("paediatrics", "cardiology", "ultrasound")


# ---------------------------------------------------------------- small networks built in the tests


def small_region(n, edges, caps, primary, *, population=None, sessions=()):
    """A region of ``n`` institutions: ``edges`` (a, b, km), ``caps[i]`` codes, ``primary[i]`` tier."""
    where = Location(kind="proxy", source="t")
    institutions = [
        Institution(
            id=f"n{i}", name=f"机构{i}", tier="township_centre" if primary[i] else "county_hospital",
            county="甲县" if i % 2 else "乙县", lat=29.0 + 0.01 * i, lon=118.0 + 0.013 * (i % 5), location=where,
            capabilities=[Capability(specialty=c, source="t", sessions=(Session(weekday="tue"),) if (i, c) in sessions
                                     else ()) for c in caps[i]],
            population=None if population is None else population[i], source="t",
        )
        for i in range(n)
    ]
    links = [Link(a=f"n{a}", b=f"n{b}", kind="neighbour", distance_km=km, distance_basis="road", source="t")
             for a, b, km in edges]
    community = Community(
        id="c1", name="试点医共体", kind="county", counties=("甲县", "乙县"), source="t",
        members=[Membership(institution=f"n{i}", role="lead" if i == 0 else "branch", source="t")
                 for i in range(0, n, 2)],
    )
    return Region(id="test", name="测试", synthetic=True, sources={"t": Source(title="test data")},
                  institutions=institutions, links=links, communities=(community,))


@st.composite
def networks(draw, *, min_n=2, max_n=18):
    n = draw(st.integers(min_n, max_n))
    pairs = list(itertools.combinations(range(n), 2))
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=min(len(pairs), 3 * n)))
    edges = [(a, b, draw(st.floats(0.5, 60, allow_nan=False).map(lambda x: round(x, 3)))) for a, b in chosen]
    caps = [draw(st.lists(st.sampled_from(SPECIALTIES), unique=True, max_size=2)) for _ in range(n)]
    primary = [draw(st.booleans()) for _ in range(n)]
    primary[0] = True
    return small_region(n, edges, caps, primary)


def nx_distance(G, code, *, include_sessions=True):
    sources = [v for v in G if code in G.nodes[v]["capabilities"]
               and (include_sessions or G.nodes[v]["capabilities"][code].permanent)]
    if not sources:
        return {}
    return nx.multi_source_dijkstra_path_length(G, sources, weight=counted_km(G))


def counted_km(G):
    """Each link as routing counts it: whole metres, 0 between institutions at one shared proxy point."""
    def km(a, b, data):
        return 0.0 if same_proxy_point(G, a, b) else round(data["distance_km"] * 1000.0) / 1000.0

    return km


def assert_matches_networkx(G, report: CoverageReport):
    for s, code in enumerate(report.specialties):
        expected = nx_distance(G, code, include_sessions=report.include_sessions)
        for d, node in enumerate(report.demand_ids):
            got = report.distance_km[d, s]
            # within 1e-6: scipy takes a 0 km link as planning.passes.ZERO_LINK_KM
            assert got == pytest.approx(expected.get(node, math.inf), abs=1e-6), (node, code)
            nearest = report.nearest_row[d, s]
            if math.isfinite(got):  # the nearest is capable and is at that distance
                src = report.network.ids[nearest]
                assert code in G.nodes[src]["capabilities"]
                assert nx.dijkstra_path_length(G, src, node, weight=counted_km(G)) == pytest.approx(got, abs=1e-6)
            else:
                assert nearest == -1


SMALL = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SMALL
@given(networks())
def test_distances_equal_networkx_multi_source_dijkstra(region):
    G = build_network(region)
    assert_matches_networkx(G, find_coverage_gaps(G, specialties=SPECIALTIES, max_km=20))


@SMALL
@given(networks(), st.data())
def test_adding_a_capability_never_makes_a_distance_worse(region, data):
    G = build_network(region)
    before_graph = copy.deepcopy(G)
    node = data.draw(st.sampled_from(list(G)))
    code = data.draw(st.sampled_from(SPECIALTIES))
    session = data.draw(st.none() | st.just({"weekday": "wed", "part": "morning"}))
    net = compile_network(G)
    arrays = (net.capable.copy(), net.in_session.copy(), net.csr.copy())
    result = what_if(net, Scenario(name="add", add=[{"institution": node, "specialty": code, "session": session}]),
                     max_km=20)
    assert (result.after.distance_km <= result.before.distance_km).all()
    assert result.change(code).newly_uncovered_points == 0
    assert result.after.distance_km[:, 0][np.array(result.after.demand_ids) == node].tolist() in ([], [0.0])
    # neither the graph nor its compiled arrays changed
    assert nx.utils.graphs_equal(G, before_graph)
    assert all(G.nodes[v]["capabilities"] == before_graph.nodes[v]["capabilities"] for v in G)
    assert (net.capable == arrays[0]).all() and (net.in_session == arrays[1]).all()
    assert (net.csr != arrays[2]).nnz == 0


@SMALL
@given(networks(min_n=4), st.floats(5, 40), st.integers(1, 3))
def test_greedy_upgrades_cover_at_least_the_best_single_site_and_63_percent_of_the_best_set(region, max_km, k):
    G = build_network(region)
    plan = suggest_upgrades(G, "paediatrics", k=k, max_km=max_km)
    report = find_coverage_gaps(G, specialties=["paediatrics"], max_km=max_km)
    uncovered = {report.demand_ids[d] for d in np.flatnonzero(report.gap[:, 0])}
    candidates = [v for v in G if "paediatrics" not in G.nodes[v]["capabilities"]]

    def covers(site):
        reach = nx.single_source_dijkstra_path_length(G, site, cutoff=max_km, weight="distance_km")
        return uncovered & set(reach)

    balls = {c: covers(c) for c in candidates}
    best_single = max((len(b) for b in balls.values()), default=0)
    gained = sum(step.gain_points for step in plan.steps)
    assert gained >= best_single
    best_set = max((len(set().union(*combo)) for combo in itertools.combinations(balls.values(), k)), default=0)
    assert gained >= (1 - 1 / math.e) * best_set
    gains = [step.gain_points for step in plan.steps]
    assert gains == sorted(gains, reverse=True)  # marginal gains of a submodular cover never grow
    assert len({s.institution for s in plan.steps}) == len(plan.steps)


def test_a_zero_length_link_is_a_link_not_a_missing_edge():
    region = small_region(3, [(0, 1, 5.0), (1, 2, 7.0)], [[], [], ["paediatrics"]], [True, True, False])
    G = build_network(region)
    G.edges["n0", "n1"]["distance_km"] = 0.0  # scipy reads an explicit 0 as "no edge"
    report = find_coverage_gaps(G, specialties=["paediatrics"])
    assert report.distance_km[:, 0].tolist() == pytest.approx([7.0, 7.0])
    # the matrix searched holds no explicit zero that a later sparse operation could drop
    assert (search_graph(compile_network(G).csr).data > 0).all()


def test_sessions_count_unless_excluded():
    region = small_region(3, [(0, 1, 5.0), (1, 2, 40.0)], [[], ["paediatrics"], ["paediatrics"]],
                          [True, True, False], sessions={(1, "paediatrics")})
    G = build_network(region)
    with_sessions = find_coverage_gaps(G, specialties=["paediatrics"], max_km=30)
    permanent_only = find_coverage_gaps(G, specialties=["paediatrics"], max_km=30, include_sessions=False)
    assert with_sessions.distance_km[:, 0].tolist() == [5.0, 0.0]
    assert permanent_only.distance_km[:, 0].tolist() == [45.0, 40.0]
    assert permanent_only.gap[:, 0].all() and not with_sessions.gap.any()
    assert with_sessions.to_frame()["nearest_in_session"].tolist() == [True, True]
    assert with_sessions.summary[0].in_session == 1 and with_sessions.summary[0].capable == 1


# ---------------------------------------------------------------- Quzhou


@pytest.fixture(scope="module")
def G():
    return build_network(load_region("quzhou"))


@pytest.fixture(scope="module")
def report(G):
    return find_coverage_gaps(G, max_km=30)


def test_quzhou_distances_equal_networkx_for_every_specialty(G, report):
    assert report.specialties == compile_network(G).specialties
    assert_matches_networkx(G, report)


def test_forked_workers_give_the_same_report(G, report):
    split = find_coverage_gaps(compile_network(G), max_km=30, workers=2)
    assert (split.distance_km == report.distance_km).all() and (split.nearest_row == report.nearest_row).all()
    with pytest.raises(InvalidRequest, match="`workers` must be a whole number >= 1"):
        find_coverage_gaps(G, workers=0)


@pytest.mark.parametrize("workers", [2, 3])
def test_passes_a_dead_worker_took_are_made_again(G, report, monkeypatch, workers):
    """A forked worker that dies mid-pass leaves its pass undone; the caller makes it, and the report is whole."""
    parent = os.getpid()

    def dies_in_a_worker(csr, sources, **options):
        if os.getpid() != parent:
            os._exit(1)
        return nearest_sources(csr, sources, **options)

    monkeypatch.setattr(passes, "nearest_sources", dies_in_a_worker)
    split = find_coverage_gaps(compile_network(G), max_km=30, workers=workers)
    assert (split.distance_km == report.distance_km).all() and (split.nearest_row == report.nearest_row).all()
    assert (split.gap == report.gap).all()


def test_an_error_in_the_calling_process_stops_the_passes_and_is_raised(G, monkeypatch):
    """The calling process works beside the forked ones: its error ends the run (the workers take nothing more)."""
    parent = os.getpid()
    in_workers = np.frombuffer(mmap.mmap(-1, 8), dtype=np.int64)  # passes made by the forked worker

    def fails_here(csr, sources, **options):
        if os.getpid() == parent:
            raise MemoryError("no room for the pass")
        in_workers[0] += 1
        time.sleep(0.05)  # a pass as long as a national one: the caller's error comes during the first
        return nearest_sources(csr, sources, **options)

    monkeypatch.setattr(passes, "nearest_sources", fails_here)
    net = compile_network(G)
    with pytest.raises(MemoryError, match="no room"):
        find_coverage_gaps(net, max_km=30, workers=2)
    offered = int((net.capable | net.in_session).any(axis=0).sum())
    assert offered > 20 and in_workers[0] <= 2  # the one it was making, and at most one taken meanwhile


def test_demand_points_are_the_primary_care_institutions_counted_once_each(G, report):
    primary = [v for v in G if G.nodes[v]["tier"].is_primary_care]
    assert sorted(report.demand_ids) == sorted(primary)
    assert report.weight_basis == "uniform" and report.weight.tolist() == [1.0] * len(primary)  # no population yet


def test_kaihua_townships_beyond_30_km_of_paediatrics(G, report):
    # Kaihua's paediatric departments are the four county-seat hospitals; three mountain townships reach
    # them only over long links: 齐溪 (branch link 43.5 km to 开化县中医院), 苏庄 (37.2 km to 开化县人民医院)
    # and 何田 (30.3 km to 开化县中医院); no route through neighbouring townships is shorter.
    kaihua = [p for p in report.gaps("儿科") if G.nodes[p.institution]["county"] == "开化县"]
    assert [(p.name, p.distance_km) for p in kaihua] == [
        ("齐溪卫生院", G.edges["kh-qixi", "kh-tcm"]["distance_km"]),
        ("苏庄卫生院", G.edges["kh-suzhuang", "kh-people"]["distance_km"]),
        ("何田卫生院", G.edges["kh-hetian", "kh-tcm"]["distance_km"]),
    ]
    county = report.county("开化县").specialty("paediatrics")
    assert (county.gap_points, county.demand, county.covered_share) == (3, 15.0, pytest.approx(12 / 15))
    assert [p.name for p in county.worst_served] == ["齐溪卫生院", "苏庄卫生院", "何田卫生院"]


def test_a_weekly_paediatric_session_at_hetian(G, report):
    # 何田 gets the session (distance 0); 齐溪 is 14.2 km from 何田 by a neighbour link, so it is covered too;
    # 苏庄's best route to 何田 runs through 长虹 (15.9 + 17.5 = 33.4 km), still beyond 30 km.
    scenario = load_scenario(FIXTURES / "whatif_hetian_paediatrics.json")
    result = what_if(G, scenario, max_km=30)
    change = result.change("paediatrics")
    assert change.newly_covered == ("kh-qixi", "kh-hetian") and change.newly_uncovered == ()
    after = dict(zip(result.after.demand_ids, result.after.distance_km[:, 0], strict=True))
    assert after["kh-hetian"] == 0.0
    assert after["kh-qixi"] == G.edges["kh-qixi", "kh-hetian"]["distance_km"]
    via_changhong = (G.edges["kh-suzhuang", "kh-changhong"]["distance_km"]
                     + G.edges["kh-changhong", "kh-hetian"]["distance_km"])
    assert after["kh-suzhuang"] == pytest.approx(via_changhong) and via_changhong > 30
    assert result.after.county("开化县").specialty("儿科").covered_share == pytest.approx(14 / 15)
    assert (change.newly_covered_demand, change.covered_demand_before, change.covered_demand_after) == (2.0, 44.0, 46.0)
    assert "paediatrics" not in G.nodes["kh-hetian"]["capabilities"]  # the graph is left alone
    frame = result.to_frame()
    assert frame["newly_covered"].sum() == 2 and set(frame.columns) >= {"distance_km_before", "distance_km_after"}


@settings(max_examples=15, deadline=None)
@given(st.data())
def test_quzhou_what_if_adding_never_worsens_and_leaves_the_graph_alone(G, data):
    node = data.draw(st.sampled_from(sorted(G)))
    code = data.draw(st.sampled_from(["paediatrics", "rheumatology", "tcm_paediatrics", "cardiology"]))
    before_graph = copy.deepcopy(G)
    result = what_if(G, Scenario(name="add", add=[{"institution": node, "specialty": code}]), max_km=30)
    assert (result.after.distance_km <= result.before.distance_km).all()
    assert nx.utils.graphs_equal(G, before_graph)
    assert all(G.nodes[v] == before_graph.nodes[v] for v in G)


def test_quzhou_greedy_first_site_is_the_best_single_site(G, report):
    s = report.column("儿科")
    uncovered = {report.demand_ids[d] for d in np.flatnonzero(report.gap[:, s])}
    best = max(len(uncovered & set(nx.single_source_dijkstra_path_length(G, c, cutoff=30, weight="distance_km")))
               for c in G if "paediatrics" not in G.nodes[c]["capabilities"])
    plan = suggest_upgrades(G, "儿科", k=3, max_km=30)
    assert plan.steps[0].gain_points == best and sum(step.gain_points for step in plan.steps) >= best


def test_a_new_road_link_shortens_routes_and_removing_a_department_opens_gaps(G):
    # a shorter road from 苏庄 to 开化县人民医院 (20 km instead of the 37.2 km link) replaces the old link
    scenario = Scenario(name="road", links=[{"a": "苏庄卫生院", "b": "kh-people", "distance_km": 20.0}],
                        remove=[{"institution": "开化县第二人民医院", "specialty": "儿科"}])
    result = what_if(G, scenario, max_km=30, specialties=["paediatrics"])
    before = dict(zip(result.before.demand_ids, result.before.distance_km[:, 0], strict=True))
    after = dict(zip(result.after.demand_ids, result.after.distance_km[:, 0], strict=True))
    assert before["kh-suzhuang"] > 30 and after["kh-suzhuang"] == 20.0
    assert "kh-suzhuang" in result.change("儿科").newly_covered
    # 开化县第二人民医院 no longer has paediatrics: 华埠 (at its proxy point, 0 km from it) now goes elsewhere
    assert before["kh-huabu"] == pytest.approx(0.0, abs=1e-6) and after["kh-huabu"] > 1.0
    assert result.after.network.csr.nnz == result.before.network.csr.nnz  # replaced, not added
    assert result.before.network.csr.nnz == compile_network(G).csr.nnz


def test_upgrade_sites_for_paediatrics_in_quzhou(G, report):
    plan = suggest_upgrades(G, "儿科", k=3, max_km=30)
    uncovered = int(report.gap[:, report.column("儿科")].sum())
    assert plan.covered_demand_before == 44.0 and sum(s.gain_points for s in plan.steps) <= uncovered
    gains = [s.gain_demand for s in plan.steps]
    assert gains == sorted(gains, reverse=True) and gains[0] >= 2
    # each step's gain is exactly what the what-if of all sites so far adds
    sites = [s.institution for s in plan.steps]
    scenario = Scenario(name="plan", add=[{"institution": site, "specialty": "paediatrics"} for site in sites])
    assert what_if(G, scenario, max_km=30).change("儿科").newly_covered_demand == sum(gains)
    kaihua_only = suggest_upgrades(G, "儿科", k=1, max_km=30, candidates=["何田卫生院", "长虹卫生院", "齐溪卫生院"])
    assert kaihua_only.steps[0].gain_points == 2


def test_missing_specialties_per_community_come_from_the_members(G, report):
    region = load_region("quzhou")
    institutions = {i.id: i for i in region.institutions}
    for com in region.communities:
        offered = {c.specialty for m in com.members for c in institutions[m.institution].capabilities}
        assert set(report.community(com.name).missing) == set(report.specialties) - offered
    summary = {s.specialty: s for s in report.summary}
    assert summary["general_practice"].gap_points == 0 and summary["general_practice"].median_km == 0.0
    assert summary["tcm_paediatrics"].unreachable_points == summary["tcm_paediatrics"].demand_points


# ---------------------------------------------------------------- results are values


def test_report_is_immutable(report):
    with pytest.raises(ValueError):
        report.distance_km[0, 0] = 1.0
    with pytest.raises(AttributeError):
        report.max_km = 10
    with pytest.raises(ValueError):
        report.summary[0].gap_points = 0  # pydantic frozen


def test_frame_csv_and_geojson(G, report):
    frame = report.to_frame()
    assert len(frame) == len(report.demand_ids) * len(report.specialties)
    row = frame[(frame.institution_id == "kh-qixi") & (frame.specialty == "paediatrics")].iloc[0]
    assert (row["name"], row["community"], row["county"], row["nearest_id"], bool(row["gap"])) == (
        "齐溪卫生院", "开化县中医院医共体", "开化县", "kh-tcm", True)
    assert row["minutes"] == pytest.approx(row["distance_km"] / G.graph["speed_kmh"] * 60)
    assert (row["lat"], row["lon"]) == (G.nodes["kh-qixi"]["lat"], G.nodes["kh-qixi"]["lon"])
    text = report.to_csv()
    assert text.splitlines()[0].startswith("institution_id,name,tier,community_id,community,county,lat,lon")
    doc = report.to_geojson("儿科")
    json.dumps(doc, allow_nan=False)
    feature = next(f for f in doc["features"] if f["properties"]["institution_id"] == "kh-qixi")
    assert feature["geometry"]["coordinates"] == [G.nodes["kh-qixi"]["lon"], G.nodes["kh-qixi"]["lat"]]
    assert feature["properties"]["gap"] is True and feature["properties"]["distance_km"] == pytest.approx(43.484)
    unreachable = report.to_geojson("tcm_paediatrics")["features"][0]["properties"]
    assert unreachable["distance_km"] is None and unreachable["nearest_id"] is None and unreachable["gap"] is True
    assert set(report.summary_frame().specialty) == set(report.specialties)
    counties = {G.nodes[v]["county"] for v in report.demand_ids}
    assert len(report.area_frame(by="county")) == len(counties) * len(report.specialties)


def test_weights_population_and_caller():
    pop = [1000, 0, 3000, 500]
    region = small_region(4, [(0, 1, 10.0), (1, 2, 10.0), (2, 3, 50.0)], [[], ["paediatrics"], [], []],
                          [True, False, True, True], population=pop)
    report = find_coverage_gaps(build_network(region), specialties=["paediatrics"], max_km=15)
    assert report.weight_basis == "population" and report.weight.tolist() == [1000, 3000, 500]
    assert report.summary[0].covered_share == pytest.approx(4000 / 4500)
    caller = find_coverage_gaps(build_network(region), specialties=["paediatrics"], max_km=15,
                                weights={"n0": 1, "机构2": 1, "n3": 2})
    assert caller.weight_basis == "caller" and caller.summary[0].covered_share == pytest.approx(0.5)
    with pytest.raises(InvalidRequest, match="must give a weight for every primary-care institution"):
        find_coverage_gaps(build_network(region), weights={"n0": 1})
    with pytest.raises(InvalidRequest, match="must name primary-care institutions"):
        find_coverage_gaps(build_network(region), weights={"n0": 1, "n1": 1, "n2": 1, "n3": 1})


def test_a_minutes_limit_goes_by_the_travel_layer(G):
    """Only the travel layer gives minutes between two institutions: a minutes limit uses it (the default model
    here), ranking by km as asked, as routing does."""
    limited = find_coverage_gaps(G, specialties=["儿科"], max_minutes=45)
    layered = find_coverage_gaps(G, specialties=["儿科"], max_minutes=45, travel=travel_layer_of(as_network(G), None))
    assert limited.cost == "km" and (limited.gap == layered.gap).all() and limited.gap.any()
    assert (limited.gap == (limited.minutes > 45)).all()
    basis = limited.summary[0].minutes_basis
    assert basis is not None and basis[0].kind == "default_model"


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("value", [0, -5, float("nan"), float("inf"), "far"])
def test_max_km_must_be_positive(G, value):
    with pytest.raises(InvalidRequest, match="`max_km` must be a number > 0"):
        find_coverage_gaps(G, specialties=["儿科"], max_km=value)


def test_unknown_specialty_suggests(G):
    with pytest.raises(UnknownSpecialty, match="did you mean 'paediatrics'"):
        find_coverage_gaps(G, specialties=["paediatric"])


def test_scenario_naming_an_unknown_institution_or_specialty(G):
    with pytest.raises(UnknownInstitution,
                       match=r"'何天卫生院' in scenario 'x': add\[0\].institution; did you mean '何田卫生院'"):
        what_if(G, Scenario(name="x", add=[{"institution": "何天卫生院", "specialty": "儿科"}]))
    with pytest.raises(UnknownSpecialty, match=r"in scenario 'x': add\[0\].specialty; did you mean"):
        what_if(G, Scenario(name="x", add=[{"institution": "何田卫生院", "specialty": "pediatric"}]))
    with pytest.raises(UnknownInstitution, match=r"links\[0\].b"):
        what_if(G, Scenario(name="x", links=[{"a": "何田卫生院", "b": "nowhere", "distance_km": 3}]))


@pytest.mark.parametrize("text, place, rule", [
    ("{not json", "line 1 column 2", "invalid JSON"),
    ("[]", "top level", "must be a JSON object"),
    ('{"name": "x"}', "top level", "a scenario must add, remove or link something"),
    ('{"name": "x", "add": [{"institution": "何田卫生院"}]}', r"add\[0\].specialty", "Field required"),
    ('{"name": "x", "links": [{"a": "p", "b": "q", "distance_km": -3}]}', r"links\[0\].distance_km",
     "greater than 0, got -3"),
    ('{"name": "x", "add": [{"institution": "p", "specialty": "儿科", "session": {"weekday": "someday"}}]}',
     r"add\[0\].session.weekday", "Input should be 'mon'"),
])
def test_malformed_scenario_file_names_file_place_and_rule(tmp_path, text, place, rule):
    path = tmp_path / "plan.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioDataError, match=rf"plan.json: {place}: .*{rule}"):
        load_scenario(path)


def test_upgrade_arguments(G):
    with pytest.raises(InvalidRequest, match="`k` must be a whole number >= 1"):
        suggest_upgrades(G, "儿科", k=0, max_km=30)
    with pytest.raises(InvalidRequest, match="`max_km`"):
        suggest_upgrades(G, "儿科", k=1, max_km=None)
    with pytest.raises(UnknownInstitution, match="did you mean '何田卫生院'"):
        suggest_upgrades(G, "儿科", k=1, max_km=30, candidates=["何天卫生院"])
    done = suggest_upgrades(G, "全科", k=2, max_km=30)
    assert done.steps == () and "already within" in (done.note or "")

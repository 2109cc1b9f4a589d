"""The benchmarks' correctness checks as ordinary tests, on the synthetic network of one province.

The benchmarks (tests/benchmarks, ``mednet bench``) time these same calls on
the national network; here the answers are checked, in every plain run.
"""

import numpy as np
import pytest

from mednet.bench.coverage import ONE, capable_sources, networkx_one
from mednet.bench.coverage import national_network as coverage_network
from mednet.bench.routing import draw_queries, networkx_reference
from mednet.bench.routing import national_network as routing_network
from mednet.network import compile_network
from mednet.planning import find_coverage_gaps, nearest_sources, search_graph
from mednet.routing import Router

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def province_router():
    return Router(compile_network(routing_network(quick=True)))


def test_routes_of_the_benchmark_queries_follow_the_network(province_router):
    by_id, by_point = draw_queries(province_router, n=40)
    checked = 0
    for (origin, code), (point, _) in zip(by_id, by_point, strict=True):
        r = province_router.route(origin, code, direction="emergency")
        km = networkx_reference(province_router.G, origin)
        assert r.distance_km == pytest.approx(km[r.destination.id])
        assert all(km[i.id] <= r.distance_km + 1e-9 for g in r.passed_over for i in g.institutions)
        snapped = province_router.route(point, code)
        assert snapped.origin_point == point and snapped.snap_km is not None and snapped.snap_km <= 50
        checked += 1
    assert checked == 40


def test_a_compiled_router_holds_every_institution(province_router):
    assert province_router.net.n == province_router.G.number_of_nodes() > 1000


def test_the_benchmark_coverage_pass_equals_networkx_and_the_forked_workers():
    G = coverage_network(quick=True)
    net = compile_network(G)
    expected = networkx_one(G, net)
    report = find_coverage_gaps(net, specialties=[ONE])
    want = np.array([expected.get(i, np.inf) for i in report.demand_ids])
    assert np.allclose(report.distance_km[:, 0], want, rtol=1e-12, atol=1e-9)
    dist, _ = nearest_sources(search_graph(net.csr), capable_sources(net, ONE))
    assert np.allclose(dist[report.demand_rows], want, rtol=1e-12, atol=1e-9)
    serial, split = find_coverage_gaps(net, max_km=30), find_coverage_gaps(net, max_km=30, workers=2)
    assert (split.distance_km == serial.distance_km).all() and (split.nearest_row == serial.nearest_row).all()


def test_coverage_by_minutes_on_the_province_equals_an_exhaustive_search():
    """What the minutes benchmark times, checked: every centre × every capable institution on the default model."""
    from mednet.bench.coverage import national_travel

    G = coverage_network(quick=True)
    net, layer = compile_network(G), national_travel(G)
    report = find_coverage_gaps(net, specialties=[ONE], cost="minutes", travel=layer, max_minutes=45, workers=2)
    rows, capable = layer.rows_of(net.ids), report.capable_rows(ONE)
    block = layer.costs(rows[report.demand_rows][:, None], rows[capable][None, :]).minutes
    best = block.min(axis=1)
    own = np.isin(report.demand_rows, capable)
    assert np.allclose(report.minutes[:, 0], np.where(own, 0.0, best), rtol=0, atol=1e-9)
    assert (report.gap[:, 0] == (np.where(own, 0.0, best) > 45)).all()

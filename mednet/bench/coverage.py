"""Coverage benchmark: all specialties on the national network, against networkx in the same run.

The network is :func:`mednet.national.build_national_network` (about
73,500 institutions, 30 specialties offered); ``quick`` uses one province.
The networkx reference (``multi_source_dijkstra_path_length``) is measured
for ONE specialty; its time for all specialties is that figure times the
number of specialties offered, and labelled as extrapolated. Coverage with
two workers is also measured beside a plain reference, in the same run: one
scipy multi-source pass per specialty offered, split over two forked
processes (:func:`scipy_passes_split`; the passes alone, nothing written
back), which it must not be slower than.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence

import networkx as nx
import numpy as np
from scipy.sparse import csr_array

from mednet.bench import BenchRow, time_per_call
from mednet.errors import MednetError
from mednet.network import CompiledNetwork, compile_network
from mednet.planning import find_coverage_gaps, nearest_sources, search_graph
from mednet.planning.query import offered
from mednet.travel import TravelLayer, load_travel

AREA = "coverage"
ONE = "paediatrics"
TARGET_S = 1.0
#: Coverage with two workers beside the plain scipy passes split over two processes: no slower.
TARGET_SPLIT_X = 1.0


def national_network(*, quick: bool = False) -> nx.Graph:
    """The synthetic national network (one province when ``quick``)."""
    from mednet.national import build_national_network

    return build_national_network(seed=0, provinces=["浙江省"] if quick else None)


def national_travel(G: nx.Graph) -> TravelLayer:
    """The default travel model of the synthetic national network (its institutions as a synthetic region)."""
    from mednet.models import Institution, Region, Source

    institutions = tuple(
        Institution(id=i, name=a["name"], tier=a["tier"], county=a["county"], township=a["township"], lat=a["lat"],
                    lon=a["lon"], location=a["location"], capabilities=tuple(a["capabilities"].values()),
                    source="synthetic", inferred=True)
        for i, a in G.nodes(data=True)
    )
    region = Region(id=G.graph["region"], name=G.graph["name"], synthetic=True, road_factor=G.graph["road_factor"],
                    speed_kmh=G.graph["speed_kmh"], institutions=institutions,
                    sources={"synthetic": Source(title=G.graph["source"])})
    return load_travel(region)


def capable_sources(net: CompiledNetwork, code: str) -> np.ndarray:
    """The institutions offering ``code`` (sessions included): one pass's sources."""
    return np.flatnonzero(offered(net, [code])[:, 0])


def networkx_one(G: nx.Graph, net: CompiledNetwork, code: str = ONE) -> dict:
    """The naive reference: networkx's multi-source Dijkstra for one specialty."""
    sources = [net.ids[i] for i in capable_sources(net, code)]
    return nx.multi_source_dijkstra_path_length(G, sources, weight="distance_km")


def scipy_passes_split(csr: csr_array, source_sets: Sequence[np.ndarray], *, workers: int = 2) -> None:
    """The plain reference for coverage with workers: one scipy multi-source pass
    (:func:`~mednet.planning.nearest_sources`) per set of sources, the sets dealt over ``workers`` forked
    processes (each inherits the graph); the distances are not sent back."""
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_passes, args=(csr, source_sets[w::workers])) for w in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    if any(process.exitcode != 0 for process in processes):
        raise MednetError("a reference pass failed in its process")


def _passes(csr: csr_array, source_sets: Sequence[np.ndarray]) -> None:
    for sources in source_sets:
        nearest_sources(csr, sources)


def run(*, quick: bool) -> list[BenchRow]:
    G = national_network(quick=quick)
    start = time.perf_counter()
    net = compile_network(G)
    compile_s = time.perf_counter() - start
    source_sets = [np.flatnonzero(held) for held in offered(net, net.specialties).T if held.any()]
    n_offered = len(source_sets)
    repeat = 2 if quick else 5
    csr, sources = search_graph(net.csr), capable_sources(net, ONE)

    one_nx = min(_once(lambda: networkx_one(G, net)) for _ in range(1 if quick else 3))
    one_scipy = time_per_call(lambda: nearest_sources(csr, sources), min_seconds=0.2, repeat=repeat)
    serial = time_per_call(lambda: find_coverage_gaps(net, max_km=30), min_seconds=0.5, repeat=repeat)
    split = time_per_call(lambda: find_coverage_gaps(net, max_km=30, workers=2), min_seconds=0.5, repeat=repeat)
    scipy_split = time_per_call(lambda: scipy_passes_split(csr, source_sets), min_seconds=0.5, repeat=repeat)
    travel = national_travel(G)
    by_minutes = time_per_call(lambda: find_coverage_gaps(net, cost="minutes", travel=travel, max_minutes=45,
                                                          workers=2), min_seconds=0.5, repeat=2 if quick else 3)
    nx_all = one_nx * n_offered
    size = f"{net.n:,} institutions, {n_offered} specialties"
    return [
        BenchRow(AREA, f"compile network ({size})", compile_s, "s"),
        BenchRow(AREA, "one specialty: scipy multi-source pass", one_scipy, "s",
                 "networkx multi_source_dijkstra, measured", one_nx),
        BenchRow(AREA, f"all {n_offered} specialties, 1 process", serial, "s",
                 f"networkx ×{n_offered} (extrapolated)", nx_all, f"≤ {TARGET_S:g} s on 2 cores", serial <= TARGET_S),
        BenchRow(AREA, f"all {n_offered} specialties, workers=2", split, "s",
                 f"networkx ×{n_offered} (extrapolated)", nx_all, f"≤ {TARGET_S:g} s on 2 cores", split <= TARGET_S),
        BenchRow(AREA, f"all {n_offered} specialties, workers=2, beside scipy split", split, "s",
                 f"scipy multi-source ×{n_offered}, 2 forked processes", scipy_split,
                 f"<= {TARGET_SPLIT_X:g}x scipy", split <= TARGET_SPLIT_X * scipy_split, multiple=True),
        BenchRow(AREA, f"all {n_offered} specialties by minutes (travel layer, default model), workers=2", by_minutes,
                 "s", "by km along links, workers=2 (above)", split),
    ]


def _once(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start

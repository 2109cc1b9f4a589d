"""Routing on the synthetic national network (≈73.5k institutions, 30 specialties), beside networkx.

Measured: the mean route query from an institution and from coordinates
(by network km, and by minutes on the default travel model of every institution)
(random origins and specialties drawn once, cycled; each returns the full
:class:`~mednet.routing.Referral` with 3 alternatives), with the default
passed-over list (per reason the count and the nearest five) and with
``explain="full"`` (every one), compiling the
network for routing, and the process's peak memory. The reference is
networkx's single-source Dijkstra from the same origins, measured in the
same run. The numba kernel is loaded (or compiled, the first time on a
machine) before timing; that one-off cost is reported on its own row.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import random
import resource
import statistics
import time
from collections.abc import Callable
from typing import Any

import networkx as nx

from mednet.bench import BenchRow, time_per_call
from mednet.bench.coverage import national_travel
from mednet.errors import NoCapableInstitution
from mednet.network import compile_network
from mednet.routing import Point, Referral, Router, warm_up
from mednet.routing.answers import Explain

AREA = "routing"
N_SPECIALTIES = 30
TARGET_ROUTE_US, TARGET_COORDS_US, TARGET_COMPILE_S, TARGET_MEMORY_MB = 20.0, 30.0, 2.0, 1024.0


def national_network(*, quick: bool = False) -> nx.Graph:
    """The synthetic national network (one province when ``quick``)."""
    from mednet.national import build_national_network

    return build_national_network(seed=0, n_specialties=N_SPECIALTIES, provinces=["浙江省"] if quick else None)


def draw_queries(router: Router, *, n: int, seed: int = 0) -> tuple[list[tuple[str, str]], list[tuple[Point, str]]]:
    """``n`` answerable queries from random institutions, and ``n`` from points near random institutions."""
    rng = random.Random(seed)
    net = router.net
    codes = net.specialties[:N_SPECIALTIES]
    by_id: list[tuple[str, str]] = []
    by_point: list[tuple[Point, str]] = []
    while len(by_id) < n or len(by_point) < n:
        i, code = rng.randrange(net.n), rng.choice(codes)
        point = Point(lat=float(net.lat[i]) + rng.uniform(-0.02, 0.02),
                      lon=float(net.lon[i]) + rng.uniform(-0.02, 0.02))
        if len(by_id) < n:
            with contextlib.suppress(NoCapableInstitution):
                router.route(net.ids[i], code)
                by_id.append((net.ids[i], code))
        if len(by_point) < n:
            with contextlib.suppress(NoCapableInstitution):
                router.route(point, code)
                by_point.append((point, code))
    return by_id, by_point


def cycling(router: Router, queries: list[tuple[Any, str]], *, explain: Explain = "short",
            **options: Any) -> Callable[[], Referral]:
    """A no-argument call routing the next query of the list, round and round (``options``: e.g. by minutes)."""
    it = itertools.cycle(queries)
    route = router.route

    def call():
        origin, code = next(it)
        return route(origin, code, explain=explain, **options)

    return call


def networkx_reference(G: nx.Graph, origin: str) -> dict:
    """The naive answer's core: every network distance from the origin (networkx Dijkstra)."""
    return nx.single_source_dijkstra_path_length(G, origin, weight="distance_km")


def run(*, quick: bool) -> list[BenchRow]:
    start = time.perf_counter()
    warm_up()
    jit_s = time.perf_counter() - start
    rss_before = _peak_rss_mb()
    G = national_network(quick=quick)
    compile_times = []
    for _ in range(1 if quick else 3):
        start = time.perf_counter()
        router = Router(compile_network(G))
        compile_times.append(time.perf_counter() - start)
    compile_s = statistics.median(compile_times)
    by_id, by_point = draw_queries(router, n=200 if quick else 2000)

    origins = [origin for origin, _ in by_id[: 2 if quick else 6]]
    ref_s = statistics.mean(_seconds(functools.partial(networkx_reference, G, o)) for o in origins)
    seconds = 0.2 if quick else 2.0
    route_us = time_per_call(cycling(router, by_id), min_seconds=seconds) * 1e6
    coords_us = time_per_call(cycling(router, by_point), min_seconds=seconds) * 1e6
    full_us = time_per_call(cycling(router, by_id, explain="full"), min_seconds=seconds) * 1e6
    full_coords_us = time_per_call(cycling(router, by_point, explain="full"), min_seconds=seconds) * 1e6
    by_minutes: dict[str, Any] = {"cost": "minutes", "travel": national_travel(G)}  # every institution, default model
    for origin, code in by_id[:1] + by_point[:1]:
        router.route(origin, code, **by_minutes)  # the layer's tables and the classifier's JIT, out of the timings
    minutes_us = time_per_call(cycling(router, by_id, **by_minutes), min_seconds=seconds) * 1e6
    minutes_coords_us = time_per_call(cycling(router, by_point, **by_minutes), min_seconds=seconds) * 1e6
    peak_mb = _peak_rss_mb()
    size = f"{G.number_of_nodes():,} institutions"
    ref_name = "networkx Dijkstra"
    return [
        BenchRow(AREA, f"route from institution ({size})", route_us, "µs", ref_name, ref_s * 1e6,
                 f"<= {TARGET_ROUTE_US:g} µs", route_us <= TARGET_ROUTE_US),
        BenchRow(AREA, "route from coordinates", coords_us, "µs", ref_name, ref_s * 1e6,
                 f"<= {TARGET_COORDS_US:g} µs", coords_us <= TARGET_COORDS_US),
        BenchRow(AREA, "route from institution, explain=full (every passed-over)", full_us, "µs", ref_name,
                 ref_s * 1e6),
        BenchRow(AREA, "route from coordinates, explain=full", full_coords_us, "µs", ref_name, ref_s * 1e6),
        BenchRow(AREA, "route by minutes from institution (travel layer, default model)", minutes_us, "µs",
                 "km route, same run", route_us),
        BenchRow(AREA, "route by minutes from institution, beside networkx", minutes_us, "µs", ref_name,
                 ref_s * 1e6),
        BenchRow(AREA, "route by minutes from coordinates", minutes_coords_us, "µs", "km route from coordinates",
                 coords_us),
        BenchRow(AREA, "compile (compile_network + Router)", compile_s, "s", ref_name, ref_s,
                 f"<= {TARGET_COMPILE_S:g} s", compile_s <= TARGET_COMPILE_S),
        BenchRow(AREA, "kernel load or first JIT (once a process)", jit_s, "s"),
        BenchRow(AREA, "peak memory of the process", peak_mb, "MB", "before the network", rss_before,
                 f"<= {TARGET_MEMORY_MB:g} MB", peak_mb <= TARGET_MEMORY_MB),
    ]


def _seconds(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB

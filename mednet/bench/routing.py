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

Then the same queries beside a plain early-stop Dijkstra in C
(:mod:`mednet.bench.c_reference`, compiled now with the system's compiler,
called in this process on routing's own CSR arrays, from the same sources to
the destination the router chose): the compiled search alone (the kernel
query, its names resolved beforehand), ``route_json`` and
:meth:`Router.route` from an institution and from a point, each as a
multiple of it, timed in
CPU seconds of this process (the machine is shared); and by minutes as a
multiple of by km. The compiled search is also given beside the same C
search carried on to the farthest institution the answer names (the router
ranks three alternatives, so it must search at least that far). Without a C
compiler the bench says so and gives no ratio to C.
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
import numpy as np

from mednet.bench import BenchRow, time_per_call
from mednet.bench.c_reference import compile_reference
from mednet.bench.coverage import national_travel
from mednet.errors import NoCapableInstitution
from mednet.network import compile_network
from mednet.routing import Point, Referral, Router, warm_up
from mednet.routing.answers import Explain
from mednet.routing.by_km import compiled_search
from mednet.routing.links import csr_metres
from mednet.routing.request import RouteQuery

AREA = "routing"
N_SPECIALTIES = 30
TARGET_ROUTE_US, TARGET_COORDS_US, TARGET_COMPILE_S, TARGET_MEMORY_MB = 20.0, 30.0, 2.0, 1024.0
#: Targets as multiples of the C reference (from an institution, from a point), and of by minutes to by km.
TARGET_JSON_X, TARGET_ROUTE_X, TARGET_MINUTES_X = (3.0, 4.0), (4.0, 5.0), 1.3
#: The compiled search alone (the kernel query, without the answer around it) as a multiple of the C reference.
TARGET_SEARCH_X = 2.0


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
    against_c = _beside_c(router, by_id, by_point, by_minutes, seconds=seconds)
    peak_mb = _peak_rss_mb()
    size = f"{G.number_of_nodes():,} institutions"
    ref_name = "networkx Dijkstra"
    return [*against_c,
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


def cpu_per_call(func: Callable[[], object], *, min_seconds: float = 0.5) -> float:
    """CPU seconds of this process per call (:func:`~mednet.bench.time_per_call` on ``time.process_time``)."""
    return time_per_call(func, min_seconds=min_seconds, clock=time.process_time)


def c_queries(router: Router, by_id: list[tuple[str, str]], by_point: list[tuple[Point, str]], *,
              farthest: bool = False
              ) -> tuple[list[tuple[list[int], list[float], int]], list[tuple[list[int], list[float], int]],
                         list[float], list[float]]:
    """The C reference's queries: from the origin (or the point's access legs at their metres) to the
    destination the router chose (``farthest``: to the farthest institution its answer names, destination or
    alternative, as far as the router had to search); and the router's metres to it, to check the two agree."""
    index = router.net.index
    inst: list[tuple[list[int], list[float], int]] = []
    point: list[tuple[list[int], list[float], int]] = []
    inst_m: list[float] = []
    point_m: list[float] = []
    for origins, queries, expected in ((by_id, inst, inst_m), (by_point, point, point_m)):
        for origin, code in origins:
            r = router.route(origin, code)
            named = [(r.distance_km, r.destination.id)]
            if farthest:
                named += [(a.distance_km, a.institution.id) for a in r.alternatives]
            km, target = max(named)
            if isinstance(origin, Point):
                nodes, kms = router.access_legs(origin)
                queries.append((nodes, [float(round(k * 1000.0)) for k in kms], index[target]))
            else:
                queries.append(([index[origin]], [0.0], index[target]))
            expected.append(float(round(km * 1000.0)))
    return inst, point, inst_m, point_m


def _beside_c(router: Router, by_id: list[tuple[str, str]], by_point: list[tuple[Point, str]],
              by_minutes: dict[str, Any], *, seconds: float) -> list[BenchRow]:
    """The rows against the C reference (CPU time), and by minutes against by km."""
    json_us = [cpu_per_call(_cycle_json(router, q), min_seconds=seconds) * 1e6
               for q in (by_id, by_point)]
    route_us = [cpu_per_call(cycling(router, q), min_seconds=seconds) * 1e6 for q in (by_id, by_point)]
    minutes_us = cpu_per_call(cycling(router, by_id, **by_minutes), min_seconds=seconds) * 1e6
    rows = [BenchRow(AREA, "route by minutes, CPU, beside by km (institution)", minutes_us, "µs",
                     "route by km, CPU", route_us[0], f"<= {TARGET_MINUTES_X:g}x by km",
                     minutes_us <= TARGET_MINUTES_X * route_us[0], multiple=True)]
    ref = compile_reference()
    if ref is None:
        return [*rows, BenchRow(AREA, "C reference: no C compiler found (cc, gcc, clang, $CC): no ratio to C",
                                0.0, "µs")]
    net = router.net
    indptr, indices = net.csr.indptr, net.csr.indices
    metres = csr_metres(net, np.repeat(np.arange(net.n), np.diff(indptr)), indices)
    c_us: list[float] = []
    far_us: list[float] = []
    agree: list[float] = []
    for farthest, times in ((False, c_us), (True, far_us)):
        inst, point, inst_m, point_m = c_queries(router, by_id, by_point, farthest=farthest)
        for queries, expected in ((inst, inst_m), (point, point_m)):
            arrays = ref.prepare(indptr, indices, metres, queries)
            agree.append(float(np.mean(ref.run(arrays) == np.asarray(expected, dtype=float))) * 100.0)
            times.append(cpu_per_call(functools.partial(ref.run, arrays), min_seconds=seconds) / len(queries) * 1e6)
    c_name = f"C early-stop Dijkstra ({ref.compiler} -O2)"
    rows.append(BenchRow(AREA, "C reference from institution (same arrays, destinations)", c_us[0], "µs"))
    rows.append(BenchRow(AREA, "C reference from coordinates (from the access legs)", c_us[1], "µs"))
    rows.append(BenchRow(AREA, "C reference from institution, to the farthest named (3 alternatives)", far_us[0],
                         "µs"))
    rows.append(BenchRow(AREA, "C reference from coordinates, to the farthest named", far_us[1], "µs"))
    rows.append(BenchRow(AREA, "C reference: queries whose metres equal the router's", min(agree), "%",
                         target="= 100 %", met=min(agree) == 100.0))
    search_us = [cpu_per_call(_all_searches(router, q), min_seconds=seconds) / len(q) * 1e6
                 for q in (by_id, by_point)]
    for k, origin in enumerate(("institution", "coordinates")):
        rows.append(BenchRow(AREA, f"compiled search alone from {origin}, CPU, beside C", search_us[k], "µs",
                             c_name, c_us[k], f"<= {TARGET_SEARCH_X:g}x C", search_us[k] <= TARGET_SEARCH_X * c_us[k],
                             multiple=True))
        rows.append(BenchRow(AREA, f"compiled search alone from {origin}, beside C searching as far", search_us[k],
                             "µs", "the C search to the farthest institution the answer names", far_us[k],
                             multiple=True))
        rows.append(BenchRow(AREA, f"route_json from {origin}, CPU, beside C", json_us[k], "µs", c_name, c_us[k],
                             f"<= {TARGET_JSON_X[k]:g}x C", json_us[k] <= TARGET_JSON_X[k] * c_us[k], multiple=True))
        rows.append(BenchRow(AREA, f"Router.route from {origin}, CPU, beside C", route_us[k], "µs", c_name,
                             c_us[k], f"<= {TARGET_ROUTE_X[k]:g}x C", route_us[k] <= TARGET_ROUTE_X[k] * c_us[k],
                             multiple=True))
    return rows


def _all_searches(router: Router, queries: list[tuple[Any, str]]) -> Callable[[], None]:
    """A no-argument call running the compiled search of every query of the list, one after another
    (:func:`~mednet.routing.by_km.compiled_search`: the kernel query alone, names resolved beforehand)."""
    searches = []
    for origin, code in queries:
        q = RouteQuery.checked(origin, code)
        searches.append(compiled_search(router.tables, q, router.resolve(q)))

    def call() -> None:
        for search in searches:
            search()

    return call


def _cycle_json(router: Router, queries: list[tuple[Any, str]]) -> Callable[[], bytes]:
    """A no-argument call answering the next query of the list as JSON (:meth:`Router.route_json`)."""
    it = itertools.cycle(queries)
    route_json = router.route_json

    def call() -> bytes:
        origin, code = next(it)
        return route_json(origin, code)

    return call


def _seconds(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB

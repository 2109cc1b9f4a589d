"""Planning benchmark: floating catchments, exact covering and scenario batches, each beside an in-run reference.

- E2SFCA (Gaussian, by minutes) for one specialty on the synthetic national
  network, demand at every primary-care institution (1,000 people each,
  illustrative), against the catchment search it rests on
  (:func:`mednet.planning.demand.pairs_within` by minutes) in the same run:
  target ≤ 2×.
- An exact maximal covering (HiGHS) for the county of the national network
  with the most institutions (≤ 200 candidate sites), 1,000 illustrative
  demand points scattered over it, existing sites fixed, k = 5: target ≤ 5 s;
  the greedy answer is the reference.
- A batch of 1,000 what-ifs on Quzhou (people on a grid over the region,
  illustrative) on a 2-worker Dask LocalCluster, against the sequential run
  in the same process: target ≤ 0.6× its time (cluster start-up and the
  workers' first imports not counted; shipping the arrays to the workers
  counted: the timed batch is the first on its inputs). A second batch on
  the same inputs, which finds the arrays on the workers, is reported
  beside it. CPU time is reported beside the wall times (each worker's, the
  parent's, the sequential run's): on a loaded machine the wall times
  measure the other processes too. Medians of three alternate runs, each
  on a cluster of its own (none runs beside the sequential run).

``python -m mednet.bench.planning batch`` runs only the batch row (``access``,
``covering`` the others; ``--quick`` as in ``mednet bench``).

``quick`` uses one province, fewer points and 100 what-ifs (smoke figures).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from statistics import median

import numpy as np

from mednet.bench import BenchRow
from mednet.network import CompiledNetwork, compile_network

AREA = "planning"
ONE = "paediatrics"


def run(*, quick: bool) -> list[BenchRow]:
    return [*_access_rows(quick), *_covering_rows(quick), *_batch_rows(quick)]


def _best(func: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def _access_rows(quick: bool) -> list[BenchRow]:
    from mednet.bench.coverage import national_network, national_travel
    from mednet.planning.access import access_scores, gaussian_decay
    from mednet.planning.demand import attach, pairs_within
    from mednet.planning.population import Population
    from mednet.planning.query import offered

    G = national_network(quick=quick)
    net = compile_network(G)
    travel = national_travel(G)
    demand = np.flatnonzero(net.primary_care)
    people = Population(names=tuple(net.ids[r] for r in demand), lat=net.lat[demand].astype(float),
                        lon=net.lon[demand].astype(float), people=np.full(len(demand), 1000.0), kind="points",
                        source="illustrative: 1,000 people at each primary-care institution")
    supply = np.flatnonzero(offered(net, [ONE])[:, 0])
    decay = gaussian_decay(20, 60)
    repeat = 2 if quick else 3
    access_scores(net, people, ONE, decay=decay, cost="minutes", travel=travel)  # warm: the travel layer's caches
    search = _best(lambda: pairs_within(net, attach(net, lat=people.lat, lon=people.lon), supply, limit=60,
                                        cost="minutes", travel=travel), repeat)
    e2sfca = _best(lambda: access_scores(net, people, ONE, decay=decay, cost="minutes", travel=travel), repeat)
    return [BenchRow(AREA, f"E2SFCA {ONE} by minutes ({len(demand):,} points, {len(supply):,} sites)", e2sfca, "s",
                     "its catchment search (pairs ≤ 60 min)", search, "≤ 2× the catchment search",
                     e2sfca <= 2 * search, multiple=True)]


def _county(net: CompiledNetwork, limit: int = 200) -> np.ndarray:
    """Rows of the county with the most institutions, at most ``limit`` of them."""
    counties = np.array([net.G.nodes[i].get("county") or "" for i in net.ids])
    names, counts = np.unique(counties, return_counts=True)
    fits = counts <= limit
    chosen = names[fits][np.argmax(counts[fits])] if fits.any() else names[np.argmax(counts)]
    return np.flatnonzero(counties == chosen)[:limit]


def _covering_rows(quick: bool) -> list[BenchRow]:
    from mednet.bench.coverage import national_network
    from mednet.planning.demand import attach, pairs_within
    from mednet.planning.locate import greedy_covering, max_covering

    net = compile_network(national_network(quick=True))  # one province: the county is what is solved
    rows = _county(net)
    rng = np.random.default_rng(0)
    n_points = 1000
    lat = rng.uniform(net.lat[rows].min(), net.lat[rows].max(), n_points)
    lon = rng.uniform(net.lon[rows].min(), net.lon[rows].max(), n_points)
    people = rng.integers(50, 5000, n_points).astype(float)
    point, site, _ = pairs_within(net, attach(net, lat=lat, lon=lon), rows, limit=10)
    fixed = np.flatnonzero(net.capable[rows, net.column(ONE)])
    repeat = 1 if quick else 3
    found = []
    exact = _best(lambda: found.append(max_covering(people, len(rows), point, site, k=5, fixed=fixed)), repeat)
    greedy_answer = greedy_covering(people, len(rows), point, site, k=5, fixed=fixed)
    greedy = _best(lambda: greedy_covering(people, len(rows), point, site, k=5, fixed=fixed), repeat)
    gap = (found[-1].covered - greedy_answer.covered) / found[-1].covered if found[-1].covered else 0.0
    return [BenchRow(AREA, f"exact max covering, county ({len(rows)} sites, {n_points} points, k=5; "
                     f"{found[-1].status}, greedy gap {gap:.2%})", exact, "s", "greedy, same instance", greedy,
                     "≤ 5 s", exact <= 5.0)]


def _batch_rows(quick: bool) -> list[BenchRow]:
    from distributed import Client, LocalCluster

    from mednet.network import build_network
    from mednet.planning.batch import BatchInputs, WhatIf, batch_inputs, compile_what_if, run_batch
    from mednet.planning.population import Population
    from mednet.regions import load_region

    net = compile_network(build_network(load_region("quzhou")))
    side = 150 if quick else 500
    lat, lon = np.meshgrid(np.linspace(28.5, 29.45, side), np.linspace(118.0, 119.2, side), indexing="ij")
    people = Population(names=tuple(str(i) for i in range(lat.size)), lat=lat.ravel(), lon=lon.ravel(),
                        people=np.full(lat.size, 10.0), kind="grid", source="illustrative: 10 people per cell")
    inputs = batch_inputs(net, people, specialties=[ONE, "obstetrics"], max_minutes=45)
    rng = np.random.default_rng(1)
    primary = [net.ids[r] for r in np.flatnonzero(net.primary_care)]
    n = 100 if quick else 1000
    what_ifs = [compile_what_if(net, inputs, WhatIf(f"w{i}", open=tuple((str(s), ONE) for s in rng.choice(
        primary, 2, replace=False)), speed_factor=float(rng.choice([0.9, 1.0, 1.1])))) for i in range(n)]
    seq, cold, warm = [], [], []
    for _ in range(1 if quick else 3):  # medians of alternate runs: the machine's load drifts
        seq.append(_wall_and_cpu(lambda: run_batch(inputs, what_ifs, executor="sequential")))  # no cluster beside
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            run_batch(replace(inputs), what_ifs[:4], executor=client)  # workers warmed (imports), not timed
            fresh = replace(inputs)  # inputs this cluster has not seen: the timed run ships them

            def on_dask(client: Client = client, fresh: BatchInputs = fresh) -> object:
                return run_batch(fresh, what_ifs, executor=client)

            before = client.run(time.process_time)
            wall, parent_cpu = _wall_and_cpu(on_dask)
            after = client.run(time.process_time)
            cold.append((wall, parent_cpu, *sorted((after[w] - before[w] for w in after), reverse=True)))
            warm.append(_wall_and_cpu(on_dask)[0])
    seq_wall, seq_cpu = (median(s[i] for s in seq) for i in (0, 1))
    dask_wall, parent_cpu, busiest, other = (median(c[i] for c in cold) for i in range(4))
    # CPU time beside wall: on a loaded machine the wall times measure the other processes too; the busiest
    # worker's CPU time is what the wall time would be on two idle cores
    cpu = (f"CPU s: workers {busiest:.2f} + {other:.2f}, parent {parent_cpu:.2f}; busiest worker "
           f"{busiest / seq_cpu if seq_cpu else float('nan'):.2f}× the sequential CPU; a second batch on the same "
           f"inputs, the arrays already on the workers: {median(warm):.3f} s")
    runs = f"median of {len(seq)} runs, " if len(seq) > 1 else ""
    return [BenchRow(AREA, f"batch of {n:,} what-ifs, Quzhou, {lat.size:,} grid points, LocalCluster(2) ({runs}{cpu})",
                     dask_wall, "s", f"sequential, same run (CPU {seq_cpu:.2f} s)", seq_wall, "≤ 0.6× sequential",
                     dask_wall <= 0.6 * seq_wall, multiple=True)]


def _wall_and_cpu(func: Callable[[], object]) -> tuple[float, float]:
    """Wall seconds and this process's CPU seconds of one call (CPU time judges a figure taken on a loaded
    machine: wall time there measures the other processes too)."""
    wall, cpu = time.perf_counter(), time.process_time()
    func()
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> None:
    """Run some of this area's rows: ``python -m mednet.bench.planning [access|covering|batch ...] [--quick]``."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    quick = "--quick" in args
    parts = {"access": _access_rows, "covering": _covering_rows, "batch": _batch_rows}
    chosen = [a for a in args if a != "--quick"] or list(parts)
    unknown = [a for a in chosen if a not in parts]
    if unknown:
        raise SystemExit(f"unknown part {unknown[0]!r}: expected one of {', '.join(parts)} (and --quick)")
    for part in chosen:
        for row in parts[part](quick):
            ratio = f" ({row.ratio:.2f}× the reference)" if row.ratio else ""
            print(f"{row.name}: {row.value:.3f} {row.unit}; {row.reference_name}: {row.reference_value:.3f}{ratio}; "
                  f"target {row.target}: {'met' if row.met else 'NOT met'}")


__all__ = ["AREA", "main", "run"]

if __name__ == "__main__":
    main()

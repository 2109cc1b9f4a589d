"""The coverage passes: multi-source shortest distances on the compiled network, split over forked workers.

One pass per distinct set of capable institutions (scipy's csgraph
Dijkstra, from every capable institution at once); ``workers`` > 1 runs the
passes in this process and forked ones, which write into shared memory and
each take the next pass when done with one (scipy's search holds the GIL, so
threads would not help). :func:`travel_passes` does the
same by travel cost on a travel layer, with the travel layer's one search
(:func:`mednet.travel.search.nearest_rows`).
"""

from __future__ import annotations

import gc
import mmap
import multiprocessing
import os
import sys
from collections.abc import Callable

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from mednet.errors import InvalidRequest
from mednet.network import CompiledNetwork
from mednet.routing.links import csr_metres
from mednet.travel.layer import Cost, TravelLayer
from mednet.travel.search import nearest_rows

#: Stand-in length for a zero-length link: scipy's csgraph reads an explicit 0 as "no edge".
ZERO_LINK_KM = 1e-9

#: The same stand-in on :func:`network_graph` (metres): far below half a metre even summed over every link of a
#: path, so :func:`whole_km` takes it out again.
ZERO_LINK_M = 1e-9


def network_graph(net: CompiledNetwork) -> csr_array:
    """The compiled network's links as routing counts them, in metres, made safe for scipy (:func:`search_graph`).

    Whole metres, and 0 between institutions at one shared proxy point
    (:mod:`mednet.routing.links`): planning and routing measure the same
    distance, never the region's nominal 1 km between such institutions.
    A distance searched on it becomes routing's km with :func:`whole_km`.
    """
    csr = net.csr
    link_from = np.repeat(np.arange(net.n), np.diff(csr.indptr))
    metres = csr_metres(net, link_from, csr.indices)
    return search_graph(csr_array((metres, csr.indices, csr.indptr), shape=csr.shape), zero_length=ZERO_LINK_M)


def whole_km(metres: np.ndarray) -> np.ndarray:
    """Distances searched on :func:`network_graph` as routing writes them: whole metres / 1000 (the stand-ins
    for zero-length links dropped), the very float routing compares with ``max_km``.

    >>> whole_km(np.array([2342.000000003, 1e-9, np.inf])).tolist()
    [2.342, 0.0, inf]
    """
    return np.round(metres) / 1000.0


def search_graph(csr: csr_array, *, zero_length: float = ZERO_LINK_KM) -> csr_array:
    """The CSR matrix made safe for scipy's csgraph: zero-length links kept as a tiny length.

    An explicit 0 in a sparse matrix is easily lost (sparse arithmetic and
    conversions drop it, and csgraph reads 0 in dense input as "no edge"),
    so a zero-length link becomes ``zero_length`` (:data:`ZERO_LINK_KM` for a
    graph in km); negative or NaN lengths are refused.
    """
    data = csr.data
    if data.size == 0:
        return csr
    low = data.min()
    if np.isnan(low) or low < 0:
        raise InvalidRequest("distance_km", float(low), "of every link must be a number >= 0")
    if low > 0:
        return csr
    fixed = csr.copy()
    fixed.data = np.where(fixed.data == 0, zero_length, fixed.data)
    return fixed


def all_passes(csr: csr_array, columns: list[np.ndarray], demand: np.ndarray, *, workers: int,
               done: Callable[[int], None] | None) -> tuple[np.ndarray, ...]:
    """(demand × specialties) distance in km and nearest row, one pass per distinct set of capable rows, on
    ``csr`` from :func:`network_graph` (metres; the km are :func:`whole_km`, as routing counts them)."""
    def run(s: int, out: tuple[np.ndarray, ...]) -> None:
        dist, source = nearest_sources(csr, np.flatnonzero(columns[s]))
        out[0][s], out[1][s] = whole_km(dist[demand]), np.maximum(source[demand], -1)

    return _passes(columns, len(demand), ((np.inf, float), (-1, np.int64)), run, workers=workers, done=done)


def travel_passes(layer: TravelLayer, rows: np.ndarray, columns: list[np.ndarray], demand: np.ndarray, *,
                  cost: Cost, workers: int, done: Callable[[int], None] | None) -> tuple[np.ndarray, ...]:
    """By travel cost: (demand × specialties) nearest row, km, minutes and the basis code of each.

    ``rows[i]`` is the layer row of network row ``i``; ``columns`` and
    ``demand`` are in network rows, and so is the nearest row returned (-1:
    none reachable; km and minutes ``inf``, basis -1 there).
    """
    network_row = np.full(layer.n, -1, dtype=np.int64)
    network_row[rows] = np.arange(len(rows))

    def run(s: int, out: tuple[np.ndarray, ...]) -> None:
        found = nearest_rows(layer, rows[demand], rows[np.flatnonzero(columns[s])], cost=cost)
        ok = found >= 0
        c = layer.costs(rows[demand][ok], found[ok])
        for array, value in zip(out, (network_row[found[ok]], c.km, c.minutes, c.km_basis, c.minutes_basis),
                                strict=True):
            array[s, ok] = value

    fills = ((-1, np.int64), (np.inf, float), (np.inf, float), (-1, np.int16), (-1, np.int16))
    return _passes(columns, len(demand), fills, run, workers=workers, done=done)


def _passes(columns: list[np.ndarray], n_demand: int, fills: tuple[tuple[float, type], ...],
            run: Callable[[int, tuple[np.ndarray, ...]], None], *, workers: int,
            done: Callable[[int], None] | None) -> tuple[np.ndarray, ...]:
    """Run one pass per distinct set of capable rows (over forked workers if asked) into (specialties × demand)
    arrays, one per ``fills`` (value, dtype): each row is filled with the value first, then its pass writes it.
    Returns them as (demand × specialties) views, not copies. Forked workers make the rows straight in shared
    memory: the parent neither fills nor copies them."""
    first: dict[bytes, int] = {}
    tasks = [first.setdefault(np.packbits(c).tobytes(), s) for s, c in enumerate(columns)]
    todo = [s for s in sorted(set(tasks)) if columns[s].any()]
    searched = set(todo)
    parallel = workers > 1 and len(todo) > 1 and hasattr(os, "fork") and sys.platform == "linux"
    empty = _shared_empty if parallel else np.empty
    out = tuple(empty((len(columns), n_demand), dtype) for _, dtype in fills)

    def row(s: int) -> None:  # filled first, then its pass (none: nobody offers it, nothing is reachable)
        for array, (value, _) in zip(out, fills, strict=True):
            array[s] = value
        if s in searched:
            run(s, out)

    distinct = [s for s, task in enumerate(tasks) if task == s]
    if parallel:
        for s in _forked(row, distinct, workers):  # a worker that failed: its rows are made here
            row(s)
    for s, task in enumerate(tasks):
        if task != s:
            for array in out:
                array[s] = array[task]
        elif not parallel:
            row(s)
        if done is not None:
            done(s)
    return tuple(array.T for array in out)


def _shared_empty(shape: tuple[int, ...], dtype: type = float) -> np.ndarray:
    """An array in anonymous shared memory (kept across ``fork``; zeros until written)."""
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    array: np.ndarray = np.frombuffer(mmap.mmap(-1, max(size, 1)), dtype=dtype,
                                      count=int(np.prod(shape))).reshape(shape)
    return array


def _forked(run: Callable[[int], None], todo: list[int], workers: int) -> list[int]:
    """Run ``run`` over ``todo`` in this process and ``workers - 1`` forked ones, each taking the next item when
    it has finished one (so none idles while another has a queue); returns the items not done (a worker
    failed), to run here."""
    lock = multiprocessing.get_context("fork").Lock()
    state = _shared_empty((len(todo) + 1,), np.int64)  # [0]: the next item to take; [1 + i]: item i is done

    def work() -> None:
        while True:
            with lock:
                i = int(state[0])
                state[0] = i + 1
            if i >= len(todo):
                return
            run(todo[i])
            state[1 + i] = 1

    pids = []
    for _ in range(min(workers, len(todo)) - 1):
        pid = os.fork()
        if pid == 0:  # the child runs scipy and numpy only, then leaves without any clean-up
            gc.disable()  # a collection would walk (and so copy) the parent's whole heap
            status = 0
            try:
                work()
            except BaseException:
                status = 1
            os._exit(status)
        pids.append(pid)
    try:
        work()
    except BaseException:
        with lock:
            state[0] = len(todo)  # the caller is leaving: the workers take nothing more
        raise
    finally:
        for pid in pids:
            os.waitpid(pid, 0)
    return [item for i, item in enumerate(todo) if not state[1 + i]]


def check_workers(workers: object) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
        raise InvalidRequest("workers", workers, "must be a whole number >= 1")
    return int(workers)


def nearest_sources(csr: csr_array, sources: np.ndarray, *, limit: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """One multi-source pass: each node's distance to the nearest source, and that source's row.

    The matrix is symmetric (both directions stored), so it is searched as
    directed: the same answer as undirected at two thirds of the cost.
    Unreachable nodes get ``inf`` and source -9999 (scipy's marker).
    """
    dist, _, source = dijkstra(csr, directed=True, indices=sources, min_only=True,
                               return_predecessors=True, limit=limit)
    return dist, source



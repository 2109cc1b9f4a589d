"""Scenario batches: many what-ifs evaluated by one call, in this process, local processes or a Dask cluster.

A :class:`WhatIf` opens specialties at institutions, closes them (or whole
institutions) and changes the speed; each is scored by the people within
the limit of each specialty (:mod:`mednet.planning.population`'s rule: first
leg to the nearest institution, then the network; minutes are the network's
km at the region's speed × the what-if's speed factor). :func:`batch_inputs`
compiles the network and the population once into plain arrays
(:class:`BatchInputs`); :func:`run_batch` ships them once per worker — as
the pool's initialiser for local processes, scattered with
``broadcast=True`` on Dask, where a caller's ``Client`` keeps them for the
next batch on the same inputs — and then only the what-ifs, in chunks, each
chunk as three flat arrays (not an object and five arrays per what-if:
each array would be a message frame of its own). The answers equal the
sequential run's exactly (the same arithmetic in the same order).

``executor``: ``"sequential"``; ``"processes"`` (the default: local
processes, ``workers`` of them); a ``distributed.Client``; or a scheduler
address (``tcp://…``). With no executor given, ``MEDNET_DASK_SCHEDULER``
names a scheduler to use.

    >>> import mednet
    >>> from mednet.planning.population import Population
    >>> G = mednet.build_network(mednet.load_region("quzhou"))
    >>> people = Population(names=("甲",), lat=np.array([29.33]), lon=np.array([118.31]),
    ...                     people=np.array([1000.0]), kind="points", source="illustrative")
    >>> inputs = batch_inputs(G, people, specialties=["儿科"], max_km=10)
    >>> result = run_batch(inputs, [WhatIf("today"), WhatIf("何田 儿科", open=(("何田卫生院", "儿科"),))],
    ...                    executor="sequential", G=G)
    >>> result.covered[:, 0].tolist()
    [0.0, 1000.0]
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise
from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from mednet.errors import InvalidRequest
from mednet.network import CompiledNetwork
from mednet.planning.demand import attach, check_limit
from mednet.planning.gaps import as_network
from mednet.planning.passes import network_graph, whole_km
from mednet.planning.population import Population
from mednet.planning.query import offered, resolve_specialties

#: Environment variable naming a Dask scheduler (``tcp://host:8786``) to run batches on.
DASK_ENV = "MEDNET_DASK_SCHEDULER"


@dataclass(frozen=True)
class WhatIf:
    """Specialties opened or closed at institutions (id, name or alias; specialty in any spelling), whole
    institutions closed, and the speed multiplied by ``speed_factor`` (minutes only)."""

    name: str
    open: tuple[tuple[str, str], ...] = ()
    close: tuple[tuple[str, str], ...] = ()
    close_sites: tuple[str, ...] = ()
    speed_factor: float = 1.0


@dataclass(frozen=True, eq=False)
class BatchInputs:
    """The compiled arrays every what-if is scored on (plain numpy: shipped once per worker)."""

    indptr: np.ndarray
    indices: np.ndarray
    metres: np.ndarray  # link lengths in whole metres (network_graph)
    offered: np.ndarray
    entry: np.ndarray
    entry_of: np.ndarray
    leg_km: np.ndarray
    people: np.ndarray
    speed_kmh: float
    cost: str
    limit: float
    specialties: tuple[str, ...]
    ids: tuple[str, ...]


@dataclass(frozen=True)
class CompiledWhatIf:
    """A what-if as rows and columns of the inputs' arrays."""

    name: str
    open_rows: np.ndarray
    open_cols: np.ndarray
    close_rows: np.ndarray
    close_cols: np.ndarray
    closed_sites: np.ndarray
    speed_factor: float


def batch_inputs(G_or_net: nx.Graph | CompiledNetwork, population: Population, *,
                 specialties: Iterable[str] | str | None = None, max_km: float | None = None,
                 max_minutes: float | None = None, include_sessions: bool = True) -> BatchInputs:
    """Compile the network and the population once for :func:`run_batch` (exactly one limit)."""
    net = as_network(G_or_net)
    if (max_km is None) == (max_minutes is None):
        raise InvalidRequest("max_km/max_minutes", (max_km, max_minutes), "must give exactly one of them",
                             rule_zh="须且只须给出公里或分钟中的一个")
    limit = check_limit(max_km, "max_km") if max_km is not None else check_limit(max_minutes, "max_minutes")
    codes = resolve_specialties(net, specialties)
    held = offered(net, codes, include_sessions=include_sessions)
    graph = network_graph(net)
    at = attach(net, lat=population.lat, lon=population.lon)
    entry, entry_of = np.unique(at.row, return_inverse=True)
    return BatchInputs(indptr=graph.indptr, indices=graph.indices, metres=graph.data,
                       offered=np.ascontiguousarray(held),
                       entry=entry, entry_of=entry_of, leg_km=at.km, people=population.people.astype(float),
                       speed_kmh=net.speed_kmh, cost="km" if max_km is not None else "minutes", limit=limit,
                       specialties=codes, ids=net.ids)


def compile_what_if(G_or_net: nx.Graph | CompiledNetwork, inputs: BatchInputs, what: WhatIf) -> CompiledWhatIf:
    """Resolve a what-if's names to rows and columns (a clear error naming the what-if on a bad one)."""
    net = as_network(G_or_net)

    def pairs(items: Sequence[tuple[str, str]], field: str) -> tuple[np.ndarray, np.ndarray]:
        rows, cols = [], []
        for institution, specialty in items:
            (code,) = resolve_specialties(net, [specialty])
            if code not in inputs.specialties:
                raise InvalidRequest(f"{what.name}.{field}", specialty, "must be one of the batch's specialties "
                                     f"({', '.join(inputs.specialties)})")
            rows.append(int(net.nodes([institution])[0]))
            cols.append(inputs.specialties.index(code))
        return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)

    if not (isinstance(what.speed_factor, int | float) and 0 < what.speed_factor < 100):
        raise InvalidRequest(f"{what.name}.speed_factor", what.speed_factor, "must be a number > 0 (1: unchanged)")
    o_rows, o_cols = pairs(what.open, "open")
    c_rows, c_cols = pairs(what.close, "close")
    sites = net.nodes(list(what.close_sites)) if what.close_sites else np.zeros(0, dtype=np.int64)
    return CompiledWhatIf(what.name, o_rows, o_cols, c_rows, c_cols, sites, float(what.speed_factor))


class _Workspace:
    """The buffers and the search graph one run of what-ifs reuses: scoring allocates no per-person array.

    A fresh array per person per what-if costs page faults whenever the
    allocator maps and unmaps large blocks on each call — as glibc does in
    Dask's workers, which the nanny starts with
    ``MALLOC_TRIM_THRESHOLD_=65536`` (a fixed threshold turns off glibc's
    adaptive one): the same scoring took ~3× the CPU there as in the parent.
    """

    def __init__(self, inputs: BatchInputs) -> None:
        n = len(inputs.indptr) - 1
        self.graph = csr_array((inputs.metres, inputs.indices, inputs.indptr), shape=(n, n))
        self.total = np.empty(_BLOCK)
        self.within = np.empty(_BLOCK, dtype=bool)
        self.chosen = np.empty(len(inputs.people))


def evaluate(inputs: BatchInputs, what: CompiledWhatIf) -> np.ndarray:
    """People within the limit of each specialty under the what-if."""
    return _score(inputs, what, _Workspace(inputs))


def _score(inputs: BatchInputs, what: CompiledWhatIf, work: _Workspace) -> np.ndarray:
    held = inputs.offered.copy()  # under the what-if
    held[what.open_rows, what.open_cols] = True
    held[what.close_rows, what.close_cols] = False
    held[what.closed_sites, :] = False
    per_km = 1.0 if inputs.cost == "km" else 60.0 / (inputs.speed_kmh * what.speed_factor)
    limit_km = inputs.limit / per_km
    out = np.zeros(held.shape[1])
    done: dict[bytes, np.ndarray] = {}
    for s in range(held.shape[1]):
        sources = np.flatnonzero(held[:, s])
        key = sources.tobytes()
        if key not in done:
            if len(sources) == 0:
                done[key] = np.full(len(inputs.entry), np.inf)
            else:
                dist = dijkstra(work.graph, directed=True, indices=sources, min_only=True,
                                limit=limit_km * 1000 + 0.5)
                done[key] = whole_km(dist[inputs.entry])
        out[s] = _covered(inputs, done[key], per_km, work).sum()  # people[within]'s pairwise sum
    return out


#: People per block when scoring: the block's buffers stay in cache and np.compress's index array (8 bytes each)
#: small enough to come from the heap, not from a fresh mapping per call.
_BLOCK = 8192


def _covered(inputs: BatchInputs, km: np.ndarray, per_km: float, work: _Workspace) -> np.ndarray:
    """``people[(km[entry_of] + leg_km) * per_km <= limit]``, the same arithmetic element for element, block by
    block in the workspace's buffers (a block stays in the processor's cache; np.compress's index array is small
    enough to come from the heap)."""
    total, within, chosen = work.total, work.within, work.chosen
    at = 0
    for start in range(0, len(inputs.people), _BLOCK):
        stop = min(start + _BLOCK, len(inputs.people))
        t, w = total[:stop - start], within[:stop - start]
        np.take(km, inputs.entry_of[start:stop], out=t, mode="clip")  # indices are valid: clip changes nothing
        np.add(t, inputs.leg_km[start:stop], out=t)
        np.multiply(t, per_km, out=t)
        np.less_equal(t, inputs.limit, out=w)
        count = int(np.count_nonzero(w))
        np.compress(w, inputs.people[start:stop], out=chosen[at:at + count])
        at += count
    return chosen[:at]


@dataclass(frozen=True, eq=False)
class _Packed:
    """What-ifs as three flat arrays, what a worker is sent: a handful of buffers to serialise, not five arrays
    and a name per what-if (each numpy array is a frame of its own on Dask's wire, and the scheduler unpickles
    and pickles a task's arguments again on the way)."""

    counts: np.ndarray  # (n, 3): opened pairs, closed pairs, closed sites of each what-if
    cells: np.ndarray  # each what-if's open rows, open cols, close rows, close cols, closed sites, one after another
    speed: np.ndarray  # speed factors

    def what_ifs(self) -> list[CompiledWhatIf]:
        out, at, cells = [], 0, self.cells
        for (n_open, n_close, n_sites), speed in zip(self.counts.tolist(), self.speed.tolist(), strict=True):
            ends = list(accumulate((n_open, n_open, n_close, n_close, n_sites), initial=at))
            o_rows, o_cols, c_rows, c_cols, sites = (cells[i:j] for i, j in pairwise(ends))
            out.append(CompiledWhatIf("", o_rows, o_cols, c_rows, c_cols, sites, speed))
            at = ends[-1]
        return out


def _checked(w: CompiledWhatIf) -> CompiledWhatIf:
    """A compiled what-if whose opened and closed pairs are whole (a row for every column), whatever runs it."""
    for field, rows, cols in (("open", w.open_rows, w.open_cols), ("close", w.close_rows, w.close_cols)):
        if len(rows) != len(cols):
            raise InvalidRequest(f"{w.name}.{field}", (len(rows), len(cols)), "must have as many rows as columns "
                                 "(rows, columns given; compile_what_if makes them)")
    return w


def _pack(chunk: Sequence[CompiledWhatIf]) -> _Packed:
    """The what-ifs as :class:`_Packed`."""
    counts = np.array([(len(w.open_rows), len(w.close_rows), len(w.closed_sites)) for w in chunk],
                      dtype=np.int64).reshape(len(chunk), 3)
    cells = np.concatenate([np.zeros(0, dtype=np.int64), *(a for w in chunk for a in (
        w.open_rows, w.open_cols, w.close_rows, w.close_cols, w.closed_sites))]).astype(np.int64, copy=False)
    return _Packed(counts, cells, np.array([w.speed_factor for w in chunk], dtype=float))


def _evaluate_chunk(inputs: BatchInputs, chunk: Sequence[CompiledWhatIf]) -> np.ndarray:
    work = _Workspace(inputs)
    return np.array([_score(inputs, w, work) for w in chunk]).reshape(len(chunk), len(inputs.specialties))


def _evaluate_packed(inputs: BatchInputs, packed: _Packed) -> np.ndarray:
    """A chunk a worker was sent, unpacked and scored."""
    return _evaluate_chunk(inputs, packed.what_ifs())


#: Parts per worker a batch is cut into by default.
_PIECES_PER_WORKER = 4

_WORKER_INPUTS: BatchInputs | None = None


def _set_worker_inputs(inputs: BatchInputs) -> None:
    global _WORKER_INPUTS
    _WORKER_INPUTS = inputs


def _evaluate_in_worker(packed: _Packed) -> np.ndarray:
    assert _WORKER_INPUTS is not None, "the pool's initialiser sets the inputs"
    return _evaluate_packed(_WORKER_INPUTS, packed)


@dataclass(frozen=True, eq=False)
class BatchResult:
    """People covered per what-if (rows) and specialty (columns), and the executor that ran them."""

    names: tuple[str, ...]
    specialties: tuple[str, ...]
    covered: np.ndarray
    total_people: float
    executor: str

    def frame(self) -> Any:
        """One row per what-if and specialty: covered people and share (pandas)."""
        import pandas as pd

        covered = self.covered.reshape(-1).astype(float)  # row by row: what-if, then specialty
        share = covered / self.total_people if self.total_people else np.full(len(covered), np.nan)
        return pd.DataFrame({"what_if": [n for n in self.names for _ in self.specialties],
                             "specialty": list(self.specialties) * len(self.names), "covered": covered,
                             "share": share})


def run_batch(inputs: BatchInputs, what_ifs: Sequence[WhatIf | CompiledWhatIf], *, executor: Any = None,
              workers: int = 2, chunks: int | None = None, G: nx.Graph | CompiledNetwork | None = None
              ) -> BatchResult:
    """Score every what-if; the inputs go once to each worker, the what-ifs in ``chunks`` parts (default: 4 per
    worker — per worker thread on Dask — so a worker slowed by other load takes fewer of them). What-ifs given by
    name need ``G`` (the network the inputs were compiled from) unless compiled. On a ``distributed.Client`` of the
    caller's the inputs stay on the workers while ``inputs`` lives: the next batch on them ships only what-ifs."""
    compiled = [_checked(w) if isinstance(w, CompiledWhatIf) else _compiled(G, inputs, w) for w in what_ifs]
    if executor is None:
        executor = os.environ.get(DASK_ENV) or "processes"
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidRequest("workers", workers, "must be a whole number >= 1")
    if chunks is not None and (isinstance(chunks, bool) or not isinstance(chunks, int) or chunks < 1):
        raise InvalidRequest("chunks", chunks, "must be a whole number >= 1")

    def parts_of(n_workers: int) -> list[list[CompiledWhatIf]]:
        parts = max(1, min(len(compiled), chunks or _PIECES_PER_WORKER * n_workers))
        return [compiled[i::parts] for i in range(parts)]  # round-robin; reassembled below

    def split(n_workers: int) -> list[_Packed]:  # what a worker is sent
        return [_pack(part) for part in parts_of(n_workers)]

    pieces: Sequence[object]  # what each result is for: parts of the what-ifs, packed or not
    if executor == "sequential" or not compiled:  # in this process: nothing to pack
        pieces = parts_of(workers)
        results, kind = [_evaluate_chunk(inputs, piece) for piece in pieces], "sequential"
    elif executor == "processes":
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        pieces = split(workers)
        method = "fork" if hasattr(os, "fork") else "spawn"
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context(method), initializer=_set_worker_inputs,
                                 initargs=(inputs,)) as pool:
            results = list(pool.map(_evaluate_in_worker, pieces))
        kind = f"processes ({workers})"
    else:
        pieces, results, kind = _on_dask(executor, inputs, split)
    parts = len(pieces)
    covered = np.zeros((len(compiled), len(inputs.specialties)))
    for i, part in enumerate(results):
        covered[i::parts] = part
    return BatchResult(names=tuple(w.name for w in compiled), specialties=inputs.specialties, covered=covered,
                       total_people=float(inputs.people.sum()), executor=kind)


def _compiled(G: nx.Graph | CompiledNetwork | None, inputs: BatchInputs, what: WhatIf) -> CompiledWhatIf:
    if G is None and not (what.open or what.close or what.close_sites):
        empty = np.zeros(0, dtype=np.int64)
        return CompiledWhatIf(what.name, empty, empty, empty, empty, empty, float(what.speed_factor))
    if G is None:
        raise InvalidRequest("G", None, "must be given to resolve what-ifs by name (or pass compiled what-ifs)")
    return compile_what_if(G, inputs, what)


def _on_dask(executor: Any, inputs: BatchInputs, split: Callable[[int], list[_Packed]]
             ) -> tuple[list[_Packed], list[Any], str]:
    from distributed import Client

    if isinstance(executor, Client):
        client, own = executor, False
    elif isinstance(executor, str) and "://" in executor:
        client, own = Client(executor), True
    else:
        raise InvalidRequest("executor", executor, "must be 'sequential', 'processes', a distributed.Client or a "
                             "scheduler address (tcp://host:port)")
    try:
        pieces = split(max(1, sum(client.nthreads().values())))
        shared = _shipped(client, inputs, keep=not own)
        futures = [client.submit(_evaluate_packed, shared, piece, pure=False) for piece in pieces]
        return pieces, client.gather(futures), f"dask ({getattr(client.scheduler, 'address', '')})"
    finally:
        if own:
            client.close()


#: The inputs on each caller's Dask client (by client id), with their token (a hash of their contents): the first
#: batch ships them, later batches on the same unchanged inputs and client find them there. An entry goes — and the
#: workers' copies with its future — with its inputs.
_SHIPPED: weakref.WeakKeyDictionary[BatchInputs, dict[str, tuple[str, Any]]] = weakref.WeakKeyDictionary()


def _shipped(client: Any, inputs: BatchInputs, *, keep: bool) -> Any:
    """A future of the inputs on every worker of the client's cluster: the one kept from an earlier batch when it
    still holds them and they have not changed since (compared by token, a hash of their contents: a few ms for
    250,000 people), else scattered now (``broadcast=True``: once per worker, not per what-if), and kept when
    ``keep`` (a client the caller owns). The arrays stay writable: numpy's ``take`` copies a read-only index array
    at every call, which made scoring ~10 % slower."""
    if not keep:
        return client.scatter(inputs, broadcast=True, hash=False)
    from dask.base import tokenize

    held = _SHIPPED.get(inputs, {})
    for client_id in [c for c, (_, f) in held.items() if f.client.status != "running"]:
        del held[client_id]
    token = tokenize(inputs)
    kept_token, future = held.get(client.id, ("", None))
    if future is None or kept_token != token or future.status != "finished":
        future = client.scatter(inputs, broadcast=True, hash=False)
        _SHIPPED.setdefault(inputs, {})[client.id] = (token, future)
    return future


__all__ = ["DASK_ENV", "BatchInputs", "BatchResult", "CompiledWhatIf", "WhatIf", "batch_inputs", "compile_what_if",
           "evaluate", "run_batch"]

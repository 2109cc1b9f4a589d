"""The one shortest-path search every routing table and query runs on (numba).

A binary heap of (km, item) pairs and the steps of Dijkstra's search built
on it: start from an origin (or from several, each at its own distance), settle the nearest reached node, relax its
links. The route kernel (:mod:`mednet.routing.kernel`) and the tables
(:mod:`mednet.routing.tables`) drive these steps with their own stopping
rules, as networkx's public functions all drive one ``_dijkstra_multisource``.

Search state is stamped rather than reset: ``stamp[v] == q`` means reached
in search ``q``, ``-q`` settled; any other value, not seen yet.

    >>> import numpy as np
    >>> heap_km, heap_item = np.empty(4), np.empty(4, np.int64)
    >>> size = heap_push(heap_km, heap_item, 0, 2.0, 7)
    >>> size = heap_push(heap_km, heap_item, size, 1.0, 9)
    >>> int(heap_item[0]), heap_pop(heap_km, heap_item, size), int(heap_item[0])
    (9, 1, 7)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
from numba import njit

F = TypeVar("F", bound=Callable[..., Any])


def internal(**options: bool) -> Callable[[F], F]:
    """``njit(cache=True)`` for a helper only compiled code calls: no Python or C entry point is built for it
    (its cold compile costs a fraction; callers inline it all the same).

    >>> type(settle_next).__name__, settle_next.targetoptions["no_cpython_wrapper"]
    ('CPUDispatcher', True)
    """
    jit: Any = njit
    return cast(Callable[[F], F], jit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, **options))


@njit(cache=True)
def heap_push(heap_km, heap_item, size, km, item):  # pragma: no cover - compiled
    """Add ``item`` at ``km``; returns the new size (the arrays must have room)."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if heap_km[parent] <= km:
            break
        heap_km[i] = heap_km[parent]
        heap_item[i] = heap_item[parent]
        i = parent
    heap_km[i] = km
    heap_item[i] = item
    return size + 1


@njit(cache=True)
def heap_pop(heap_km, heap_item, size):  # pragma: no cover - compiled
    """Remove the root (read it first); returns the new size."""
    size -= 1
    km = heap_km[size]
    item = heap_item[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and heap_km[c + 1] < heap_km[c]:
            c += 1
        if heap_km[c] >= km:
            break
        heap_km[i] = heap_km[c]
        heap_item[i] = heap_item[c]
        i = c
    heap_km[i] = km
    heap_item[i] = item
    return size


@internal()
def start_search(origin, dist, pred, stamp, q, heap_km, heap_node):  # pragma: no cover - compiled
    """Search ``q`` from ``origin``: its state, and a heap holding it alone; returns the heap size (1)."""
    dist[origin] = 0.0
    pred[origin] = -1.0
    stamp[origin] = q
    return heap_push(heap_km, heap_node, np.int64(0), 0.0, origin)  # not a literal 0: one compiled heap_push


@internal()
def start_seeds(seeds, seed_km, dist, pred, stamp, q, heap_km, heap_node):  # pragma: no cover - compiled
    """Search ``q`` from several starts at once, each reached at its ``seed_km`` (a point's access legs);
    returns the heap size."""
    size = np.int64(0)
    for i in range(seeds.size):
        v = seeds[i]
        if stamp[v] != q or seed_km[i] < dist[v]:
            dist[v] = seed_km[i]
            pred[v] = -1.0
            stamp[v] = q
            size = heap_push(heap_km, heap_node, size, seed_km[i], v)
    return size


@internal()
def settle_next(stamp, q, heap_km, heap_node, size):  # pragma: no cover - compiled
    """Settle the nearest reached node: ``(node, km, heap size)``; node -1 when nothing is left."""
    while size > 0:
        km = heap_km[0]
        node = heap_node[0]
        size = heap_pop(heap_km, heap_node, size)
        if stamp[node] != -q:
            stamp[node] = -q
            return node, km, size
    return -1, 0.0, 0


@internal()
def relax_links(node, km, first, last, adj_node, adj_km, dist, pred, stamp, q, heap_km, heap_node,
                size):  # pragma: no cover - compiled
    """Reach the neighbours of ``node``, settled at ``km`` (links ``first[node]:last[node]``); returns the heap size."""
    for e in range(first[node], last[node]):
        v = np.int64(adj_node[e])  # one compiled heap_push whatever the links' integer type
        seen = stamp[v]
        if seen == -q:
            continue
        nd = km + adj_km[e]
        if seen != q or nd < dist[v]:
            dist[v] = nd
            pred[v] = node
            stamp[v] = q
            size = heap_push(heap_km, heap_node, size, nd, v)
    return size

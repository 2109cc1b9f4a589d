"""The trip from the discharging hospital (numba): one point-to-point search on the route kernel's arrays.

A ``down`` referral with a home institution ranks the home community from
that home (``measured_from="home"``); the patient still travels from the
discharging hospital, and this search gives that trip's metres and path.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mednet.routing.kernel import NODE_COLUMNS, OUT_HEADER, next_stamp, part, write_path
from mednet.routing.search import relax_links, settle_next, start_search


@njit(cache=True)
def trip_kernel(static_f, static_i, scratch_f, scratch_i, origin, target):  # pragma: no cover - compiled
    """The shortest path from ``origin`` to ``target``: its metres in ``out_f[0]`` and its CSR entries from
    ``out[OUT_HEADER]``; returns how many links, or -1 when ``target`` cannot be reached."""
    node = part(static_i, 0).reshape((-1, NODE_COLUMNS))
    n = node.shape[0]
    adj = part(static_f, 0).reshape((-1, 2))
    heap_node = part(scratch_i, 0)
    out = part(scratch_i, 3)
    state = part(scratch_f, 0).reshape((n, 4))
    heap_km = part(scratch_f, 1)
    out_f = part(scratch_f, 4)
    first, last = node[:, 0], node[:, 1]
    adj_node, adj_m = adj[:, 0], adj[:, 1]
    dist, stamp, pred, mark = state[:, 0], state[:, 1], state[:, 2], state[:, 3]
    q = next_stamp(out, stamp, mark)
    size = start_search(origin, dist, pred, stamp, q, heap_km, heap_node)
    while True:
        j, d, size = settle_next(stamp, q, heap_km, heap_node, size)
        if j < 0:
            return -1
        if j == target:
            out_f[0] = d
            return write_path(target, pred, first, last, adj_node, out, np.int64(OUT_HEADER))  # not a literal
        size = relax_links(j, d, first, last, adj_node, adj_m, dist, pred, stamp, q, heap_km, heap_node, size)

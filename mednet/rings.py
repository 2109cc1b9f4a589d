"""The one compiled ring walk over a lat/lon cell grid (numba), beside :class:`mednet.geo.SpatialIndex`.

A grid lays points out in cells of ``cell`` degrees (``ptr``, ``order``:
the points of cell ``i * width + j``, as :class:`~mednet.geo.SpatialIndex`
builds them). Every compiled search over such a grid walks it ring by ring
around the query's cell with :func:`ring_cells`, in one order: rows from
south to north, each row west to east. The searches built on it: the
spatial index's ``k`` nearest (:func:`k_nearest_in_rings`, routing's
access legs), planning's least travel cost
(:mod:`mednet.travel.search_kernel`) and routing by travel cost
(:mod:`mednet.routing.cost_kernel`); each decides for itself when a farther
ring can no longer matter.

    >>> out = np.empty((ring_room(1), 2), np.int64)
    >>> m = ring_cells(1, 1, 1, 3, 3, out)
    >>> m, out[:m].tolist()
    (8, [[0, 0], [0, 1], [0, 2], [1, 0], [1, 2], [2, 0], [2, 1], [2, 2]])
    >>> m = ring_cells(0, 0, 1, 3, 3, out)  # a corner: only the cells inside the grid
    >>> out[:m].tolist()
    [[0, 1], [1, 0], [1, 1]]
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def ring_room(reach):  # pragma: no cover - compiled
    """Rows an ``out`` array of :func:`ring_cells` needs for every ring up to ``reach``."""
    return 8 * reach + 1


@njit(cache=True)
def ring_cells(ci, cj, r, height, width, out):  # pragma: no cover - compiled
    """The cells (row, column) of the grid ``r`` rings around cell (``ci``, ``cj``), written to ``out`` in walk
    order; returns how many. Cells outside the ``height`` x ``width`` grid are left out."""
    m = 0
    for di in range(-r, r + 1):
        i = ci + di
        if i < 0 or i >= height:
            continue
        step = 1 if abs(di) == r else 2 * r
        j = cj - r
        while j <= cj + r:
            if 0 <= j < width:
                out[m, 0], out[m, 1] = i, j
                m += 1
            j += step
    return m


@njit(cache=True)
def k_nearest_in_rings(lat, lon, ptr, order, phi, lam, cos_phi, cos_min, row0, col0, height, width, cell, k,
                       max_hav):  # pragma: no cover - compiled
    """The ``k`` smallest haversines up to ``max_hav`` and their points (-1 where fewer), ring by ring around
    the query's cell, stopping when no farther ring can hold a nearer point or one within reach.

    A point ``r + 1`` rings away differs by at least ``r`` cells in latitude
    or longitude, so its haversine is at least ``cos(lat) * cos_min *
    sin²(r * cell / 2)`` (``cos_min``: the smallest cos(lat) of the points).
    """
    qphi, qlam = math.radians(lat), math.radians(lon)
    qcos = math.cos(qphi)
    ci = int(math.floor(lat / cell)) - row0  # noqa: RUF046 - numba types floor() as float
    cj = int(math.floor(lon / cell)) - col0  # noqa: RUF046
    best = np.full(k, np.inf)
    best_i = np.full(k, -1, np.int64)
    reach = max(height, width) + abs(ci) + abs(cj) + 1
    cells = np.empty((ring_room(reach), 2), np.int64)
    for r in range(reach + 1):
        for m in range(ring_cells(ci, cj, r, height, width, cells)):
            c = cells[m, 0] * width + cells[m, 1]
            for t in range(ptr[c], ptr[c + 1]):
                a = math.sin((phi[t] - qphi) / 2)
                b = math.sin((lam[t] - qlam) / 2)
                h = a * a + qcos * cos_phi[t] * b * b
                if h <= max_hav and h < best[k - 1]:
                    at = k - 1
                    while at > 0 and best[at - 1] > h:
                        best[at] = best[at - 1]
                        best_i[at] = best_i[at - 1]
                        at -= 1
                    best[at] = h
                    best_i[at] = order[t]
        bound = math.sin(math.radians(r * cell) / 2)
        floor = qcos * cos_min * bound * bound
        if best[k - 1] <= floor or floor > max_hav:
            break
    return best_i, best

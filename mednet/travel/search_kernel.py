"""The kernel of :func:`mednet.travel.search.nearest_by_cost` (numba): each centre's near-best columns, ring by ring.

The columns sit in a grid of lat/lon cells (:class:`mednet.geo.SpatialIndex`'s
layout, its cell sized by :func:`mednet.geo.grid_cell_deg`), searched ring
by ring around each centre as that index searches. Each column met is
costed by the default model as :meth:`mednet.travel.TravelLayer.costs`
costs it (km = great circle × circuity; minutes = km ÷ the speed of the
slower terrain of the two), except the pairs the imported tables give,
whose figures are handed in and which the rings skip. A column farther by
chord than the best found allows is passed over without a sine. The
search stops when no column not met yet can come near the best: a point
``r + 1`` rings away is at least ``r`` cells away in latitude or
longitude, and no pair costs less than ``per_km`` a great-circle km.

It keeps every column within a hair (:data:`NEAR`) of the best it found,
not only the best: the caller costs those again with
:meth:`mednet.travel.TravelLayer.costs` where there are several and picks
from them, so the answer is the layer's own, whatever the last bit of the
compiled sines.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mednet.rings import ring_cells, ring_room
from mednet.travel.model_kernel import model_km, model_minutes

#: A column is kept when it costs at most ``best × (1 + NEAR) + NEAR``: far more than any rounding difference
#: between this kernel's arithmetic and numpy's, far less than any real difference in cost.
NEAR = 1e-9


@njit(cache=True, inline="always")
def _near(best):  # pragma: no cover - compiled
    """The most a kept column may cost."""
    return best + best * NEAR + NEAR


@njit(cache=True, inline="always")
def _chord2(best, per_km, radius2):  # pragma: no cover - compiled
    """The squared chord (unit sphere) beyond which no column comes within :data:`NEAR` of ``best``, with room to
    spare for rounding (a cost is at least ``per_km`` a great-circle km)."""
    angle = _near(best) / per_km / radius2  # half the great-circle angle
    if not angle < math.pi / 2:
        return np.inf
    chord = 2 * math.sin(angle) * (1 + 1e-6) + 1e-12
    return chord * chord


@njit(cache=True, inline="always")
def _listed(cols, c):  # pragma: no cover - compiled
    """Whether ``c`` is in the sorted ``cols``."""
    at = np.searchsorted(cols, c)
    return at < cols.size and cols[at] == c


@njit(cache=True)
def near_best(q_lat, q_lon, q_xyz, q_terrain, ext_ptr, ext_col, ext_value, ptr, order, phi, lam, cos_phi, terrain,
              grid, kmh, by_minutes, room):  # pragma: no cover - compiled
    """For each centre ``q``, the columns (positions) within :data:`NEAR` of its least cost, with their cost.

    The centres are given by ``q_lat``, ``q_lon`` and their unit vectors
    ``q_xyz`` (:func:`mednet.geo.unit_vectors`), the columns by the grid's
    arrays (``ptr``, ``order``; ``phi``, ``lam``, ``cos_phi`` in grid
    order); ``grid``: cos_min, cell (degrees), row0, col0, height, width,
    then 2R, circuity, per_km. Centre ``q``'s imported pairs are
    ``ext_col[ext_ptr[q]:ext_ptr[q + 1]]`` (sorted), costing ``ext_value``
    (``inf``: unreachable). Returns (centre, column, cost) arrays, grouped
    by centre (none for a centre that reaches no column), or three empty
    arrays and ``False`` when they would hold more than ``room`` (ask again
    with more).
    """
    cos_min, cell, radius2, circuity, per_km = grid[0], grid[1], grid[6], grid[7], grid[8]
    row0, col0, height, width = int(grid[2]), int(grid[3]), int(grid[4]), int(grid[5])
    ring_hav = np.empty(height + width + 2)  # the least haversine (÷ cos lat × cos lat) of a point r + 1 rings away
    for r in range(ring_hav.size):
        ring_hav[r] = math.sin(math.radians(min(r * cell, 180.0)) / 2) ** 2
    xyz = np.empty((phi.size, 3))  # the columns' unit vectors, for a quick first test by chord
    for t in range(phi.size):
        xyz[t, 0], xyz[t, 1], xyz[t, 2] = cos_phi[t] * math.cos(lam[t]), cos_phi[t] * math.sin(lam[t]), math.sin(phi[t])
    out_q, out_c, out_v = np.empty(room, np.int64), np.empty(room, np.int64), np.empty(room)
    n = 0
    ring = np.empty((ring_room(height + width), 2), np.int64)  # the cells of one ring (mednet.rings)
    for q in range(q_lat.size):
        start, best = n, np.inf
        lo, hi = ext_ptr[q], ext_ptr[q + 1]
        for e in range(lo, hi):
            v = ext_value[e]
            if v < np.inf and v <= _near(best):  # never an unreachable pair
                if n == room:
                    return out_q[:0], out_c[:0], out_v[:0], False
                out_q[n], out_c[n], out_v[n], n, best = q, ext_col[e], v, n + 1, min(best, v)
        qphi, qlam = math.radians(q_lat[q]), math.radians(q_lon[q])
        qx, qy, qz = q_xyz[q, 0], q_xyz[q, 1], q_xyz[q, 2]
        qcos = math.sqrt(qx * qx + qy * qy)  # cos lat
        reach2 = _chord2(best, per_km, radius2)
        ci = int(math.floor(q_lat[q] / cell)) - row0  # noqa: RUF046 - numba types floor() as float
        cj = int(math.floor(q_lon[q] / cell)) - col0  # noqa: RUF046
        reach = max(height, width) + abs(ci) + abs(cj) + 1
        if ring.shape[0] < ring_room(reach):
            ring = np.empty((ring_room(reach), 2), np.int64)
        for r in range(reach + 1):
            for m in range(ring_cells(ci, cj, r, height, width, ring)):
                cell_at = ring[m, 0] * width + ring[m, 1]
                for t in range(ptr[cell_at], ptr[cell_at + 1]):
                    c = order[t]
                    dx, dy, dz = xyz[t, 0] - qx, xyz[t, 1] - qy, xyz[t, 2] - qz
                    if dx * dx + dy * dy + dz * dz > reach2 or (hi > lo and _listed(ext_col[lo:hi], c)):
                        continue
                    a = math.sin((phi[t] - qphi) / 2)
                    b = math.sin((lam[t] - qlam) / 2)
                    h = a * a + qcos * cos_phi[t] * (b * b)
                    v = model_km(h, radius2, circuity)
                    if by_minutes:
                        v = model_minutes(v, kmh[max(terrain[c], q_terrain[q])])
                    if v <= _near(best):
                        if n == room:
                            return out_q[:0], out_c[:0], out_v[:0], False
                        out_q[n], out_c[n], out_v[n], n = q, c, v, n + 1
                        if v < best:
                            best, reach2 = v, _chord2(v, per_km, radius2)
            if qcos * cos_min * ring_hav[min(r, ring_hav.size - 1)] > reach2 / 4:  # haversine = chord² / 4
                break
        kept = start  # those kept before a nearer one was met may be too far now
        for a in range(start, n):
            if out_v[a] <= _near(best):
                out_c[kept], out_v[kept], kept = out_c[a], out_v[a], kept + 1
        n = kept
    return out_q[:n], out_c[:n], out_v[:n], True

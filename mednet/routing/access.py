"""Where a point joins the network: its access legs, found in one compiled call.

A point (a patient's coordinates) joins the network by access legs to its
``k`` nearest institutions of any tier within a great-circle limit, each leg
great circle x the region's road factor in whole metres; the nearest
primary-care institution among them is its home centre. The nearest are
found by :class:`mednet.geo.SpatialIndex`'s ring search, called here from
compiled code so that a point costs one call rather than several
Python-level steps.

    >>> from mednet.geo import SpatialIndex
    >>> index = SpatialIndex(lat=[29.0, 29.01, 30.0], lon=[118.0, 118.0, 120.0])
    >>> legs = AccessLegs(index, primary=np.array([False, True, True]), road_factor=1.3)
    >>> nodes, km, metres, home, home_km = legs.find(lat=29.0, lon=118.001, k=2, max_km=30.0)
    >>> nodes.tolist(), km.tolist(), home, round(home_km, 3)
    ([0, 1], [0.126, 1.451], 1, 1.116)
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mednet.geo import EARTH_RADIUS_KM, SpatialIndex, _k_ring_search

_ring_search = _k_ring_search()


class AccessLegs:
    """A network's institutions, ready to join points to them (``primary``: which are primary care)."""

    def __init__(self, index: SpatialIndex, *, primary: np.ndarray, road_factor: float) -> None:
        self._index, self._primary, self._factor = index, np.ascontiguousarray(primary, dtype=np.bool_), road_factor

    def find(self, *, lat: float, lon: float, k: int, max_km: float
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, float]:
        """The ``k`` nearest institutions within ``max_km`` (indices, nearest first), each leg's km (road
        factor applied, whole metres) and metres as the search starts them, and the home centre among them
        (-1 when none is primary care) with its great-circle km."""
        ix = self._index
        max_hav = math.sin(min(max_km / (2 * EARTH_RADIUS_KM), math.pi / 2)) ** 2
        return _legs(lat, lon, ix.ptr, ix.order, ix.phi, ix.lam, ix.cos_phi, ix.cos_min, ix.row0, ix.col0,
                     ix.height, ix.width, ix.CELL_DEG, k, max_hav, self._primary, self._factor * 1000.0)


@njit(cache=True)
def _legs(lat, lon, ptr, order, phi, lam, cos_phi, cos_min, row0, col0, height, width, cell, k, max_hav, primary,
          factor_m):  # pragma: no cover - compiled
    found, hav = _ring_search(lat, lon, ptr, order, phi, lam, cos_phi, cos_min, row0, col0, height, width, cell, k,
                              max_hav)
    count = 0
    while count < k and found[count] >= 0:
        count += 1
    nodes = found[:count].copy()
    km = np.empty(count)
    metres = np.empty(count)
    home, home_km = -1, 0.0
    for i in range(count):
        great_circle = 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(hav[i], 1.0)))
        km[i] = np.rint(great_circle * factor_m) / 1000.0
        metres[i] = km[i] * 1000.0
        if home < 0 and primary[nodes[i]]:
            home, home_km = nodes[i], great_circle
    return nodes, km, metres, home, home_km

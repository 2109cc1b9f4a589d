"""Where a point joins the network: its access legs, found in one compiled call.

A point (a patient's coordinates) joins the network by access legs to its
``k`` nearest institutions of any tier within a great-circle limit, each leg
great circle x the region's road factor in whole metres; the nearest
primary-care institution among them is its home centre. The nearest are
found by :class:`mednet.geo.SpatialIndex`'s ring search, called here from
compiled code so that a point costs one call rather than several
Python-level steps.

    >>> from mednet.network import build_network, compile_network
    >>> from mednet.regions import load_region
    >>> legs = AccessLegs(compile_network(build_network(load_region("quzhou"))), region="quzhou", road_factor=1.3)
    >>> nodes, km, metres, home, home_km = legs.legs(Point(lat=28.97, lon=118.86), k=4, max_km=30.0,
    ...                                             snap_max_km=50.0)
    >>> nodes.size, km.tolist()[:3], round(home_km, 3)
    (4, [0.816, 0.816, 0.816], 6.124)
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mednet.errors import InvalidCoordinates, InvalidRequest
from mednet.geo import EARTH_RADIUS_KM, SpatialIndex, check_lat_lon, k_ring_search
from mednet.network import CompiledNetwork
from mednet.routing.answers import Point

_ring_search = k_ring_search()


class AccessLegs:
    """A network's institutions, ready to join points to them; its primary care, to find a point's home centre."""

    def __init__(self, net: CompiledNetwork, *, region: str, road_factor: float) -> None:
        self._net, self._region, self._factor = net, region, road_factor
        self._primary = np.ascontiguousarray(net.primary_care, dtype=np.bool_)
        self._index = SpatialIndex(lat=net.lat, lon=net.lon) if net.n else None
        primary = self._primary_rows = np.flatnonzero(self._primary)
        self._snap = SpatialIndex(lat=net.lat[primary], lon=net.lon[primary]) if primary.size else None

    def legs(self, point: Point, *, k: int, max_km: float, snap_max_km: float
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, float]:
        """:meth:`find` for a point given by a user (checked: mainland China), its home centre always among the
        legs: when none of the nearest is primary care, the nearest primary care within ``snap_max_km``."""
        lat, lon = check_lat_lon(lat=point.lat, lon=point.lon, within_china=True, field="origin")
        if self._index is None:
            raise InvalidRequest("origin", point, f"cannot be placed: region {self._region!r} has no institutions",
                                 rule_zh=f"无法定位：地区 {self._region} 没有机构", code="no_institutions")
        nodes, kms, metres, o, snap_km = self.find(lat=lat, lon=lon, k=k, max_km=max_km)
        if o < 0:  # no primary care among the nearest: the nearest of all, farther away
            o, snap_km = self._home_centre(point, lat, lon, snap_max_km)
            km = round(snap_km * (self._factor * 1000.0)) / 1000.0
            nodes, kms, metres = np.append(nodes, o), np.append(kms, km), np.append(metres, km * 1000.0)
        return nodes, kms, metres, int(o), snap_km

    def _home_centre(self, point: Point, lat: float, lon: float, snap_max_km: float) -> tuple[int, float]:
        """The primary-care institution nearest to the point (great circle), and its km."""
        if self._snap is None:
            raise InvalidRequest("origin", point, f"cannot be snapped: region {self._region!r} has no primary care",
                                 rule_zh=f"无法归属：地区 {self._region} 没有基层医疗机构", code="too_far")
        i, km = self._snap.nearest(lat=lat, lon=lon)
        o = int(self._primary_rows[i])
        if km > snap_max_km:
            nearest = self._net.G.nodes[self._net.ids[o]]["name"]
            raise InvalidCoordinates(
                "lat, lon", (lat, lon),
                f"must lie within {snap_max_km:g} km of a primary-care institution of region {self._region!r} "
                f"(the nearest, {nearest}, is {km:,.0f} km away)", field="origin",
                rule_zh=f"必须在地区 {self._region} 某基层医疗机构 {snap_max_km:g} 公里内"
                        f"（最近的{nearest}相距 {km:,.0f} 公里）", code="too_far",
            )
        return o, km

    def find(self, *, lat: float, lon: float, k: int, max_km: float
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, float]:
        """The ``k`` nearest institutions within ``max_km`` (indices, nearest first), each leg's km (road
        factor applied, whole metres) and metres as the search starts them, and the home centre among them
        (-1 when none is primary care) with its great-circle km."""
        ix = self._index
        assert ix is not None  # a network with institutions
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

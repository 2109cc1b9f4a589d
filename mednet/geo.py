"""Distances and spatial lookups on WGS84 points.

``geodesic_km`` is exact (geopy, WGS84 ellipsoid) for single pairs;
``haversine_km`` is vectorised for bulk work (within 0.5 % of geodesic, see
tests). Coordinates are always named ``lat``/``lon``.

    >>> round(geodesic_km(lat1=29.1400, lon1=118.4103, lat2=29.0105, lon2=118.3543), 2)
    15.35
    >>> check_lat_lon(lat=118.35, lon=29.01)
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidCoordinates: `lat` must be within [-90, 90] (lat and lon look swapped?), got 118.35
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from mednet.errors import InvalidCoordinates

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG), as geopy's great_circle uses

#: Mainland China with a margin (lat 17.5–54, lon 73–135.5): points outside are refused by routing.
CHINA_BOUNDS = {"lat": (17.5, 54.0), "lon": (73.0, 135.5)}


def geodesic_km(*, lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Exact ellipsoidal distance between two points, in km."""
    from geopy.distance import geodesic  # imported here: geopy brings an HTTP client along (tens of ms at start)

    return geodesic((lat1, lon1), (lat2, lon2)).km


def haversine_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> np.ndarray:
    """Great-circle distance in km; array inputs broadcast.

    >>> float(haversine_km(0.0, 0.0, 0.0, 1.0).round(3))
    111.195
    """
    phi1, lam1, phi2, lam2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((phi2 - phi1) / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin((lam2 - lam1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def check_lat_lon(*, lat: float, lon: float, within_china: bool = False, field: str | None = None
                  ) -> tuple[float, float]:
    """Validate a point given by a user; returns it as floats.

    Raises :class:`InvalidCoordinates` naming the bad value, and says so
    when the pair looks swapped; ``field`` is the request parameter that
    held the point (the error's ``field``; default: ``lat``/``lon``).

    >>> check_lat_lon(lat=29.01, lon=118.35, within_china=True)
    (29.01, 118.35)
    >>> check_lat_lon(lat=48.85, lon=2.35, within_china=True)
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidCoordinates: `lat, lon` must lie in mainland China (lat 17.5–54.0, lon 73.0–135.5),
    got (48.85, 2.35)
    """
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError) as err:
        raise InvalidCoordinates("lat, lon", (lat, lon), "must be numbers", field=field, code="not_numbers") from err
    for name, value, bound in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        if not math.isfinite(value):
            raise InvalidCoordinates(name, value, "must be a finite number", field=field, code="not_finite")
        if abs(value) > bound:
            swapped = name == "lat" and abs(lon) <= 90 < abs(lat) <= 180
            hint = " (lat and lon look swapped?)" if swapped else ""
            raise InvalidCoordinates(name, value, f"must be within [-{bound:g}, {bound:g}]{hint}", field=field,
                                     code="swapped" if swapped else "out_of_range")
    if within_china and not in_china(lat=lat, lon=lon):
        (lo_lat, hi_lat), (lo_lon, hi_lon) = CHINA_BOUNDS["lat"], CHINA_BOUNDS["lon"]
        hint = " (lat and lon look swapped?)" if in_china(lat=lon, lon=lat) else ""
        raise InvalidCoordinates(
            "lat, lon", (lat, lon),
            f"must lie in mainland China (lat {lo_lat}–{hi_lat}, lon {lo_lon}–{hi_lon}){hint}", field=field,
            code="swapped" if hint else "outside_china",
        )
    return lat, lon


def in_china(*, lat: float, lon: float) -> bool:
    (lo_lat, hi_lat), (lo_lon, hi_lon) = CHINA_BOUNDS["lat"], CHINA_BOUNDS["lon"]
    return lo_lat <= lat <= hi_lat and lo_lon <= lon <= hi_lon


def unit_vectors(lat: ArrayLike, lon: ArrayLike) -> np.ndarray:
    """The points as (n × 3) unit vectors: their chord is a cheap stand-in for great-circle distance.

    >>> unit_vectors([0.0], [90.0]).round(6).tolist()
    [[0.0, 1.0, 0.0]]
    """
    lat, lon = np.radians(np.asarray(lat, dtype=float)), np.radians(np.asarray(lon, dtype=float))
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


def _chord_to_km(chord: np.ndarray) -> np.ndarray:
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2, 0.0, 1.0))


class SpatialIndex:
    """Nearest points on the sphere: a grid of lat/lon cells searched ring by ring (exact great-circle order).

    The one spatial index of mednet (routing snaps coordinates with it).
    One point costs a few µs (the ring search is compiled with numba on
    first use); the tests check it against a k-d tree on unit vectors.

    >>> index = SpatialIndex(lat=[29.0, 30.0], lon=[118.0, 120.0])
    >>> index.nearest(lat=29.9, lon=119.9)
    (1, 14.71...)
    >>> index.within(lat=29.9, lon=119.9, max_km=20)
    [1]
    >>> index.nearest_k(lat=29.9, lon=119.9, k=2, max_km=300)
    ([1, 0], [14.71..., 209.4...])
    """

    CELL_DEG = 0.1

    def __init__(self, *, lat: ArrayLike, lon: ArrayLike, cell_deg: float | None = None) -> None:
        if cell_deg is not None:  # another cell size than CELL_DEG (see grid_cell_deg)
            self.CELL_DEG = float(cell_deg)
        lat, lon = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
        self.lat, self.lon = lat, lon
        rows = np.floor(lat / self.CELL_DEG).astype(np.int64)
        cols = np.floor(lon / self.CELL_DEG).astype(np.int64)
        self.row0, self.col0 = int(rows.min()), int(cols.min())
        self.height, self.width = int(rows.max()) - self.row0 + 1, int(cols.max()) - self.col0 + 1
        cell = (rows - self.row0) * self.width + (cols - self.col0)
        self.order = np.argsort(cell, kind="stable").astype(np.int64)
        self.ptr = np.zeros(self.height * self.width + 1, dtype=np.int64)
        np.cumsum(np.bincount(cell, minlength=self.height * self.width), out=self.ptr[1:])
        self.phi, self.lam = np.radians(lat[self.order]), np.radians(lon[self.order])
        self.cos_phi = np.cos(self.phi)
        self.cos_min = float(self.cos_phi.min())
        self._search = k_ring_search()

    def nearest(self, *, lat: float, lon: float) -> tuple[int, float]:
        """Index of the nearest point and its great-circle distance in km."""
        found, hav = self._search(lat, lon, self.ptr, self.order, self.phi, self.lam, self.cos_phi, self.cos_min,
                                  self.row0, self.col0, self.height, self.width, self.CELL_DEG, 1, 1.0)
        return int(found[0]), 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(float(hav[0]), 1.0)))

    def nearest_k(self, *, lat: float, lon: float, k: int, max_km: float) -> tuple[list[int], list[float]]:
        """Indices of the ``k`` nearest points within ``max_km`` (great circle), nearest first, and their km."""
        found, hav = self._search(lat, lon, self.ptr, self.order, self.phi, self.lam, self.cos_phi, self.cos_min,
                                  self.row0, self.col0, self.height, self.width, self.CELL_DEG,
                                  k, math.sin(min(max_km / (2 * EARTH_RADIUS_KM), math.pi / 2)) ** 2)
        nodes = [i for i in found.tolist() if i >= 0]
        return nodes, [2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(h, 1.0))) for h in hav.tolist()[:len(nodes)]]

    def within(self, *, lat: float, lon: float, max_km: float) -> list[int]:
        """Indices of the points within ``max_km`` (great circle), in index order."""
        return np.flatnonzero(haversine_km(lat, lon, self.lat, self.lon) <= max_km).tolist()


#: Points a cell of :func:`grid_cell_deg` holds on average over the points' box: few, as points cluster (measured
#: best on the synthetic national network for 40 to 6,000 points).
POINTS_PER_CELL = 0.1


def grid_cell_deg(lat: ArrayLike, lon: ArrayLike, *, queries: tuple[ArrayLike, ArrayLike] | None = None) -> float:
    """A cell size (degrees) for a :class:`SpatialIndex` over sparse points: about :data:`POINTS_PER_CELL` points a
    cell over their box, never under ``SpatialIndex.CELL_DEG``, so that a search from afar walks few rings.

    The rings bound a distance only where longitudes do not wrap around, so
    points and ``queries`` (lat, lon) spanning 180° of longitude or more get
    one cell over the globe (every point looked at).

    >>> round(grid_cell_deg([29.0, 30.0, 31.0, 32.0], [118.0, 119.0, 120.0, 121.0]), 2)
    0.49
    >>> grid_cell_deg([29.0], [118.0], queries=([29.0], [-70.0]))
    360.0
    """
    lat, lon = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
    every_lon = np.concatenate((lon, np.asarray(queries[1], dtype=np.float64))) if queries is not None else lon
    if not len(lat) or every_lon.max() - every_lon.min() >= 180.0:
        return 360.0
    box = (np.ptp(lat) + SpatialIndex.CELL_DEG) * (np.ptp(lon) + SpatialIndex.CELL_DEG)
    return max(math.sqrt(box * POINTS_PER_CELL / len(lat)), SpatialIndex.CELL_DEG)


@functools.cache
def k_ring_search() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """:func:`mednet.rings.k_nearest_in_rings`, compiled (numba is imported only when an index is first built):
    the ring walk of :class:`SpatialIndex`, for compiled code that searches the index's arrays itself
    (routing's access legs). Every compiled ring walk over a cell grid is :func:`mednet.rings.ring_cells`."""
    from mednet.rings import k_nearest_in_rings

    return k_nearest_in_rings


def neighbour_pairs(lat: ArrayLike, lon: ArrayLike, *, k: int, max_km: float
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each point joined to its ``k`` nearest others within ``max_km``.

    Returns index arrays ``i < j`` (each pair once) and the great-circle km
    between them. This is the documented rule for neighbour road links.

    >>> i, j, km = neighbour_pairs([29.0, 29.1, 35.0], [118.0, 118.0, 118.0], k=2, max_km=50)
    >>> i.tolist(), j.tolist(), km.round(1).tolist()
    ([0], [1], [11.1])
    """
    vectors = unit_vectors(lat, lon)
    n = len(vectors)
    if n < 2:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    chord_max = 2 * math.sin(min(max_km / (2 * EARTH_RADIUS_KM), math.pi / 2))
    from scipy.spatial import cKDTree

    chord, idx = cKDTree(vectors).query(vectors, k=min(k + 1, n), distance_upper_bound=chord_max)
    src = np.repeat(np.arange(n), idx.shape[1])
    dst, chord = idx.ravel(), chord.ravel()
    keep = (dst < n) & (dst != src)
    a, b = np.minimum(src[keep], dst[keep]), np.maximum(src[keep], dst[keep])
    pairs = np.unique(np.column_stack((a, b)), axis=0)
    i, j = pairs[:, 0], pairs[:, 1]
    return i, j, _chord_to_km(np.linalg.norm(vectors[i] - vectors[j], axis=1))



def _workers(queries: int) -> int:
    """Threads for a k-d tree query: every core for a batch, one for a few points (threads cost more there)."""
    return -1 if queries > 64 else 1


def point_tree(*, lat: ArrayLike, lon: ArrayLike) -> cKDTree:
    """A k-d tree on the points' unit vectors, for :func:`k_nearest` and :func:`pairs_within`."""
    from scipy.spatial import cKDTree  # imported on first use: a served region needs no tree at start

    return cKDTree(unit_vectors(lat, lon))


def k_nearest(tree: cKDTree, *, lat: ArrayLike, lon: ArrayLike, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For each query point, the ``k`` nearest points of ``tree`` (at most as many as it holds).

    Returns (queries × k) arrays: indices into the tree's points, nearest
    first, and their great-circle km.

    >>> tree = point_tree(lat=[29.0, 29.1, 35.0], lon=[118.0, 118.0, 118.0])
    >>> idx, km = k_nearest(tree, lat=[29.0], lon=[118.0], k=2)
    >>> idx.tolist(), km.round(1).tolist()
    ([[0, 1]], [[0.0, 11.1]])
    """
    queries = unit_vectors(lat, lon)
    k = min(k, tree.n)
    if k < 1:
        return np.zeros((len(queries), 0), dtype=np.int64), np.zeros((len(queries), 0))
    chord, idx = tree.query(queries, k=k, workers=_workers(len(queries)))
    return idx.reshape(len(queries), k).astype(np.int64), _chord_to_km(chord.reshape(len(queries), k))


def pairs_within(tree: cKDTree, *, lat: ArrayLike, lon: ArrayLike, max_km: float) -> tuple[np.ndarray, np.ndarray]:
    """Every (query, point of ``tree``) pair at most ``max_km`` apart by great circle, sorted.

    >>> tree = point_tree(lat=[29.0, 29.1, 35.0], lon=[118.0, 118.0, 118.0])
    >>> pairs_within(tree, lat=[29.0], lon=[118.0], max_km=20)
    (array([0, 0]), array([0, 1]))
    """
    queries = unit_vectors(lat, lon)
    empty = np.empty(0, dtype=np.int64)
    if tree.n == 0 or len(queries) == 0 or not max_km >= 0:
        return empty, empty
    chord_max = 2 * math.sin(min(max_km / (2 * EARTH_RADIUS_KM), math.pi / 2))
    found = tree.query_ball_point(queries, r=chord_max, workers=_workers(len(queries)))
    sizes = np.fromiter((len(f) for f in found), dtype=np.int64, count=len(found))
    if not sizes.sum():
        return empty, empty
    points = np.concatenate([np.asarray(f, dtype=np.int64) for f in found if len(f)])
    rows = np.repeat(np.arange(len(queries)), sizes)
    order = np.lexsort((points, rows))
    return rows[order], points[order]

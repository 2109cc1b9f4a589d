"""Coordinate datums used in China: GCJ-02 and BD-09 points back to WGS84.

Web maps in China publish points in GCJ-02 (国测局, Amap/Tencent) or BD-09
(Baidu). The forward formulas (WGS84 → GCJ-02 → BD-09) come from the
maintained ``coordTransform`` package; their inverse has no closed form, so
:func:`to_wgs84` inverts them by fixed-point iteration until the point maps
back onto the given one within :data:`TOLERANCE_DEG` (about 1 mm), where the
one-step inverse most libraries ship is off by up to a few metres.

    >>> lat, lon = to_wgs84(lat=31.17530398364597, lon=121.531541859215, datum="GCJ-02")
    >>> round(lat, 6), round(lon, 6)
    (31.177428, 121.527211)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import coordTransform
import numpy as np
import numpy.typing as npt

Datum = Literal["WGS84", "GCJ-02", "BD-09"]
DATUMS: tuple[str, ...] = ("WGS84", "GCJ-02", "BD-09")
#: Spellings accepted in tables, case-insensitive, for each datum.
DATUM_ALIASES: dict[str, str] = {
    "wgs84": "WGS84", "wgs-84": "WGS84", "wgs 84": "WGS84", "epsg:4326": "WGS84", "gps": "WGS84",
    "gcj-02": "GCJ-02", "gcj02": "GCJ-02", "gcj": "GCJ-02", "火星坐标": "GCJ-02", "国测局": "GCJ-02", "高德": "GCJ-02",
    "bd-09": "BD-09", "bd09": "BD-09", "bd09ll": "BD-09", "百度": "BD-09",
}
#: Iteration stops when the forward image is this close to the given point (degrees; 1e-8 deg ≈ 1 mm).
TOLERANCE_DEG = 1e-8
MAX_ITERATIONS = 30


def parse_datum(text: str) -> str | None:
    """The datum a table cell names, or None when it names none.

    >>> parse_datum("gcj02"), parse_datum("百度"), parse_datum("UTM")
    ('GCJ-02', 'BD-09', None)
    """
    return DATUM_ALIASES.get(str(text).strip().casefold())


def _forward(datum: str) -> Callable[..., Any]:
    """The library's forward formula (scalars, or arrays through its compiled batch path)."""
    return coordTransform.wgs84_to_gcj02 if datum == "GCJ-02" else coordTransform.wgs84_to_bd09


def from_wgs84(*, lat: float, lon: float, datum: Datum | str) -> tuple[float, float]:
    """A WGS84 point in ``datum`` (the published forward formulas).

    >>> from_wgs84(lat=31.1774276, lon=121.5272106, datum="GCJ-02")
    (31.17530398..., 121.53154185...)
    """
    if datum == "WGS84":
        return lat, lon
    if datum not in DATUMS:
        raise ValueError(f"datum must be one of {', '.join(DATUMS)}, got {datum!r}")
    x, y = _forward(datum)(lon, lat)
    return y, x


def to_wgs84(*, lat: float, lon: float, datum: Datum | str) -> tuple[float, float]:
    """The WGS84 point whose ``datum`` image is (lat, lon), by fixed-point iteration."""
    if datum == "WGS84":
        return lat, lon
    if datum not in DATUMS:
        raise ValueError(f"datum must be one of {', '.join(DATUMS)}, got {datum!r}")
    forward = _forward(datum)
    x, y = lon, lat
    for _ in range(MAX_ITERATIONS):
        fx, fy = forward(x, y)
        dx, dy = lon - fx, lat - fy
        x, y = x + dx, y + dy
        if abs(dx) < TOLERANCE_DEG and abs(dy) < TOLERANCE_DEG:
            break
    return y, x


def to_wgs84_many(lat: npt.ArrayLike, lon: npt.ArrayLike, *, datum: Datum | str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`to_wgs84` for many points at once (the library's compiled batch formulas, the same iteration).

    >>> lat, lon = to_wgs84_many([31.17530398364597], [121.531541859215], datum="GCJ-02")
    >>> round(float(lat[0]), 6), round(float(lon[0]), 6)
    (31.177428, 121.527211)
    """
    want_lat, want_lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    if datum == "WGS84" or not want_lat.size:
        return want_lat.copy(), want_lon.copy()
    if datum not in DATUMS:
        raise ValueError(f"datum must be one of {', '.join(DATUMS)}, got {datum!r}")
    forward = _forward(datum)
    x, y = want_lon.copy(), want_lat.copy()
    todo = np.arange(x.size)
    for _ in range(MAX_ITERATIONS):
        fx, fy = (np.asarray(v) for v in forward(np.ascontiguousarray(x[todo]), np.ascontiguousarray(y[todo])))
        dx, dy = want_lon[todo] - fx, want_lat[todo] - fy
        x[todo] += dx
        y[todo] += dy
        todo = todo[(np.abs(dx) >= TOLERANCE_DEG) | (np.abs(dy) >= TOLERANCE_DEG)]
        if not todo.size:
            break
    return y, x


__all__ = ["DATUMS", "DATUM_ALIASES", "Datum", "from_wgs84", "parse_datum", "to_wgs84", "to_wgs84_many"]

"""Where a query's distances start: the origin, a point (its access legs) or a home institution.

Filled by :class:`~mednet.routing.router.Router` as it checks the query and
read by both engines and their renderers.

    >>> Start().measured_from
    'origin'
    >>> Resolved(o=3, codes=("general_practice",), mode=0, hc=1, preferred=-1, start=Start(), keep=5).o
    3
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from mednet.routing.answers import MeasuredFrom, Point

_NO_STARTS, _NO_KM = np.zeros(0, dtype=np.int64), np.zeros(0)


class Start:
    """Where a query's distances start: the origin, a point (its access legs) or a home institution."""

    __slots__ = ("at", "first", "kms", "legs", "measured_from", "metres", "nodes", "point", "snap_km", "trip")

    def __init__(self) -> None:
        self.point: Point | None = None  # as given (in its datum)
        self.at: tuple[float, float] = (math.nan, math.nan)  # the point in WGS84
        self.snap_km: float | None = None
        self.measured_from: MeasuredFrom = "origin"
        self.nodes: np.ndarray = _NO_STARTS  # the starts (indices), empty: the origin
        self.kms: np.ndarray = _NO_KM  # the km of each start
        self.metres: np.ndarray = _NO_KM  # the metres the search starts each at
        self.first = -1  # the start the destination's path leaves from (set by the search)
        self.legs: tuple[np.ndarray, np.ndarray] | None = None  # measured from home: the point's legs (nodes, km)
        # measured from home: the trip (km, links, and from a point its access leg (node, km))
        self.trip: tuple[float, list[int], tuple[int, float] | None] | None = None


class Resolved(NamedTuple):
    """A checked query's names resolved on one network: what both engines take beside the query itself.

    ``o``: the origin institution (a point's home centre); ``codes``: the care (``down`` with none given: the
    follow-up cares in order); ``mode``: the direction (:data:`mednet.routing.policy.MODES`); ``hc`` and
    ``preferred``: the home community and home institution (-1: none); ``keep``: passed-over institutions named
    per reason.
    """

    o: int
    codes: tuple[str, ...]
    mode: int
    hc: int
    preferred: int
    start: Start
    keep: int

"""The default travel model's formula, compiled once for every kernel that costs pairs by it (numba).

km = great circle × circuity (the great circle from a haversine, on a
sphere of diameter ``radius2``); minutes = km at the speed of the pair's
terrain class. :mod:`mednet.travel.search_kernel` (planning's search) and
:mod:`mednet.routing.cost_kernel` (routing by travel cost) both call these,
inlined, so one formula gives both the same floats.

    >>> round(model_km(0.25, 2 * 6371.0088, 1.3), 3), model_minutes(52.0, 40.0)
    (8673.216, 78.0)
"""

from __future__ import annotations

import math

from numba import njit


@njit(cache=True, inline="always")
def model_km(h: float, radius2: float, circuity: float) -> float:  # pragma: no cover - compiled
    """The default model's km (unrounded) for a pair whose haversine is ``h``."""
    return radius2 * math.asin(math.sqrt(min(max(h, 0.0), 1.0))) * circuity


@njit(cache=True, inline="always")
def model_minutes(km: float, kmh: float) -> float:  # pragma: no cover - compiled
    """The default model's minutes (unrounded) for ``km`` at ``kmh``."""
    return km / kmh * 60.0

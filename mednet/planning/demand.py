"""Demand points on the network: where people live, how they enter it, and what each institution costs them.

A demand point (a township's centre, a grid cell, a health centre) enters
the network at its nearest institution (:func:`attach`): that first leg
is the great-circle km × the region's road factor, and its minutes at the
region's speed. Beyond it, the cost to an institution is the network's:
by ``km`` along the referral links (scipy's csgraph Dijkstra on
:func:`mednet.planning.passes.network_graph`), by ``minutes`` on the
travel layer (:mod:`mednet.travel`, the region's default model unless a
layer is given), the same rules as :func:`mednet.planning.find_coverage_gaps`.

- :func:`nearest_costs`: each point's cost to the nearest capable institution, per specialty;
- :func:`pairs_within`: every (point, institution) pair within a limit (the catchments of
  :mod:`mednet.planning.access` and the candidate sets of :mod:`mednet.planning.locate`).

    >>> import mednet
    >>> net = mednet.planning.gaps.as_network(mednet.build_network(mednet.load_region("quzhou")))
    >>> a = attach(net, lat=[28.96], lon=[118.87])
    >>> net.ids[a.row[0]], round(float(a.km[0]), 1)
    ('qz-tcm', 2.7)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse.csgraph import dijkstra

from mednet.errors import InvalidRequest
from mednet.geo import k_nearest, point_tree
from mednet.network import CompiledNetwork
from mednet.planning.passes import all_passes, network_graph, travel_passes, whole_km
from mednet.travel.layer import Cost, TravelLayer, check_cost, travel_layer_of
from mednet.travel.search import within_cost

#: Supply rows searched together in one Dijkstra call of :func:`pairs_within` (bounds its memory).
SEARCH_BLOCK = 256


@dataclass(frozen=True, eq=False)
class Attachment:
    """Where each demand point enters the network: its institution's row, and the first leg's km and minutes."""

    row: np.ndarray
    km: np.ndarray
    minutes: np.ndarray


def attach(net: CompiledNetwork, *, lat: ArrayLike, lon: ArrayLike) -> Attachment:
    """Each point's nearest institution (great circle) and the leg to it (× road factor; minutes at the speed)."""
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    if net.n == 0:
        raise InvalidRequest("network", net.region, "must hold at least one institution")
    idx, km = k_nearest(point_tree(lat=net.lat, lon=net.lon), lat=lat, lon=lon, k=1)
    leg = km[:, 0] * net.road_factor
    return Attachment(row=idx[:, 0], km=leg, minutes=leg / net.speed_kmh * 60.0)


def check_limit(value: object, name: str) -> float:
    """A cost limit: a finite number > 0.

    >>> check_limit(0, "max_km")
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidRequest: `max_km` must be a number > 0, got 0
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidRequest(name, value, "must be a number > 0", rule_zh="必须是大于 0 的数")
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise InvalidRequest(name, value, "must be a number > 0", rule_zh="必须是大于 0 的数")
    return number


def nearest_costs(net: CompiledNetwork, at: Attachment, columns: list[np.ndarray], *, cost: Cost = "km",
                  travel: TravelLayer | None = None) -> np.ndarray:
    """(points × columns) cost of each point to the nearest institution of each boolean column (inf: none)."""
    cost = check_cost(cost)
    entry, inverse = np.unique(at.row, return_inverse=True)
    if cost == "km" and travel is None:
        found, _ = all_passes(network_graph(net), columns, entry, workers=1, done=None)
        return found[inverse] + at.km[:, None]
    layer = travel_layer_of(net, travel)
    _, km, minutes, _, _ = travel_passes(layer, layer.rows_of(net.ids), columns, entry, cost=cost, workers=1,
                                         done=None)
    return (km[inverse] + at.km[:, None]) if cost == "km" else (minutes[inverse] + at.minutes[:, None])


def pairs_within(net: CompiledNetwork, at: Attachment, supply: ArrayLike, *, limit: float, cost: Cost = "km",
                 travel: TravelLayer | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (point, supply position, cost) with cost ≤ ``limit``, sorted by point then supply position.

    ``supply`` holds network rows; the cost is the first leg plus the
    network's (km along links, or the travel layer's ``cost``).
    """
    cost = check_cost(cost)
    limit = check_limit(limit, "limit")
    supply = np.asarray(supply, dtype=np.int64)
    entry, inverse = np.unique(at.row, return_inverse=True)
    if cost == "km" and travel is None:
        graph = network_graph(net)
        e_parts, s_parts, v_parts = [], [], []
        for start in range(0, len(supply), SEARCH_BLOCK):
            block = supply[start:start + SEARCH_BLOCK]
            dist = dijkstra(graph, directed=True, indices=block, limit=limit * 1000 + 0.5)[:, entry]  # metres
            s_at, e_at = np.nonzero(np.isfinite(dist))
            e_parts.append(e_at)
            s_parts.append(s_at + start)
            v_parts.append(whole_km(dist[s_at, e_at]))
        e, s, v = (np.concatenate(p) if p else np.empty(0) for p in (e_parts, s_parts, v_parts))
        e, s = e.astype(np.int64), s.astype(np.int64)
        leg = at.km
    else:
        layer = travel_layer_of(net, travel)
        rows = layer.rows_of(net.ids)
        e, s, v = within_cost(layer, rows[entry], rows[supply], cost=cost, limit=limit)
        leg = at.km if cost == "km" else at.minutes
    # expand entry rows to the points entering there
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(len(entry)))
    counts = np.bincount(inverse, minlength=len(entry))
    reps = counts[e]
    point = order[np.repeat(starts[e], reps) + _ranges(reps)]
    s, v = np.repeat(s, reps), np.repeat(v, reps) + leg[point]
    keep = v <= limit
    point, s, v = point[keep], s[keep], v[keep]
    sort = np.lexsort((s, point))
    return point[sort], s[sort], v[sort]


def _ranges(counts: np.ndarray) -> np.ndarray:
    """0..c-1 for each c of ``counts``, concatenated."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    return np.arange(total) - np.repeat(ends - counts, counts)


__all__ = ["SEARCH_BLOCK", "Attachment", "attach", "check_limit", "nearest_costs", "pairs_within"]

"""Searches on a travel layer: each centre's nearest capable institution, and every pair within a limit.

Both look at few pairs. The default model costs a pair at least
``per_km`` × its great-circle km (km = great circle × circuity; minutes =
km ÷ the speed of the pair's terrain, never less than km ÷ the fastest of
those speeds), so a search can stop once no farther institution can beat
the best cost found. :func:`nearest_by_cost` walks a grid of cells around
each centre, nearest rings first, in one compiled pass over every centre
(:mod:`mednet.travel.search_kernel`), and settles near ties with
``TravelLayer.costs``; :func:`within_cost` takes the pairs within reach
from a k-d tree (:func:`mednet.geo.pairs_within`) and costs them with
``TravelLayer.costs``. Pairs the imported tables give (road network, OD
tables) can be anything and are always costed. The answers equal an
exhaustive search over every pair (the tests check it).

    >>> from mednet.travel import load_travel
    >>> layer = load_travel("quzhou")
    >>> capable = np.flatnonzero([i.tier == "county_hospital" for i in layer.region.institutions])
    >>> nearest, minutes = nearest_by_cost(layer, [layer.row("齐溪")], capable, cost="minutes")
    >>> layer.ids[nearest[0]], round(float(minutes[0]), 1)
    ('kh-people', 65.4)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from mednet.geo import EARTH_RADIUS_KM, SpatialIndex, grid_cell_deg, pairs_within, point_tree, unit_vectors
from mednet.travel.layer import Cost, PairCosts, TravelLayer, check_cost

#: Shaves the bound so that rounding in a search's km never prunes a pair of equal cost.
BOUND_SLACK = 1 - 1e-9


def nearest_capable(cost: np.ndarray, demand: np.ndarray, capable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each demand row of a dense cost matrix, the capable column of least cost (-1, inf where none).

    >>> cost = np.array([[0, 5, 3], [5, 0, 9], [3, 9, 0.]])
    >>> nearest_capable(cost, np.array([0, 1]), np.array([False, True, True]))
    (array([2, 1]), array([3., 0.]))
    """
    columns = np.flatnonzero(capable)
    return nearest_in(cost[np.ix_(demand, columns)], columns)


def nearest_in(block: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The array core: for each row of a (demand × capable) cost block, the least-cost column (first of ties).

    ``columns`` names the block's columns: one array for every row, or one
    row of names per block row.
    """
    if block.shape[1] == 0:
        return np.full(block.shape[0], -1, dtype=np.int64), np.full(block.shape[0], np.inf)
    best = np.argmin(block, axis=1)
    value = block[np.arange(block.shape[0]), best]
    names = columns[best] if columns.ndim == 1 else columns[np.arange(block.shape[0]), best]
    return np.where(np.isfinite(value), names, -1).astype(np.int64), value


def per_km(layer: TravelLayer, cost: Cost) -> float:
    """The least cost the default model gives one great-circle km (a lower bound on every pair it costs)."""
    if cost == "km":
        return layer.circuity * BOUND_SLACK
    return layer.circuity / float(layer.unknown_kmh.max()) * 60.0 * BOUND_SLACK


def imported_pairs(layer: TravelLayer, rows: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs the imported tables give from ``rows`` to ``columns``: (position in rows, position in columns)."""
    empty = np.empty(0, dtype=np.int64)
    if not len(layer.pair_key) or not len(rows) or not len(columns):
        return empty, empty
    origin, destination = np.divmod(layer.pair_key, layer.n)
    row_at, column_at = _positions(layer.n, rows), _positions(layer.n, columns)
    keep = (row_at[origin] >= 0) & (column_at[destination] >= 0)
    return row_at[origin[keep]], column_at[destination[keep]]


def nearest_by_cost(layer: TravelLayer, rows: ArrayLike, columns: ArrayLike, *, cost: Cost
                    ) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``rows`` (layer rows, from), the least-cost of ``columns`` (layer rows, to) by ``cost``.

    Returns the nearest's layer row (-1 where none is reachable) and its
    cost (``inf`` there). A row that is itself among ``columns`` is its own
    nearest at 0; otherwise ties go to the column listed first, as
    :func:`nearest_in` over every pair would answer.
    """
    cost = check_cost(cost)
    rows, columns = np.asarray(rows, dtype=np.int64), np.asarray(columns, dtype=np.int64)
    nearest, value = nearest_rows(layer, rows, columns, cost=cost), np.full(len(rows), np.inf)
    reached = nearest >= 0
    value[reached] = getattr(layer.costs(rows[reached], nearest[reached]), cost)
    return nearest, value


def nearest_rows(layer: TravelLayer, rows: np.ndarray, columns: np.ndarray, *, cost: Cost) -> np.ndarray:
    """:func:`nearest_by_cost`'s nearest layer rows alone (-1: none reachable), for callers that cost them anyway.

    The kernel keeps, for each row, the columns within a hair of the least
    cost by its own arithmetic; where it keeps more than one, they are
    costed again by :meth:`TravelLayer.costs`, the least (then the column
    listed first) winning.
    """
    nearest = np.full(len(rows), -1, dtype=np.int64)
    if not len(rows) or not len(columns):
        return nearest
    own = _positions(layer.n, columns)[rows] >= 0
    nearest[own] = rows[own]
    todo = np.flatnonzero(~own)
    found_row, found_col = _near_best(layer, rows[todo], columns, cost)
    best_col = np.full(len(todo), -1, dtype=np.int64)
    many = np.bincount(found_row, minlength=len(todo))[found_row] > 1
    best_col[found_row[~many]] = found_col[~many]
    if many.any():  # near ties by the kernel's arithmetic: the layer's figures decide, then the column listed first
        tied_row = np.unique(found_row[many])
        values = getattr(layer.costs(rows[todo][found_row[many]], columns[found_col[many]]), cost)
        best_col[tied_row] = _least(found_row[many], values, found_col[many], len(todo))[0][tied_row]
    reached = best_col >= 0
    nearest[todo[reached]] = columns[best_col[reached]]
    return nearest


def _near_best(layer: TravelLayer, rows: np.ndarray, columns: np.ndarray, cost: Cost
               ) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``rows``, the columns within a hair of its least ``cost`` (:mod:`mednet.travel.search_kernel`):
    (position in rows, position in columns), grouped by row; none for a row that reaches no column."""
    from mednet.travel.search_kernel import near_best  # numba is imported on the first search

    lat, lon = layer.lat[columns], layer.lon[columns]
    grid = SpatialIndex(lat=lat, lon=lon, cell_deg=grid_cell_deg(lat, lon, queries=(layer.lat[rows], layer.lon[rows])))
    # the imported pairs (any cost at all): each row's, by column, with their cost
    ext_row, ext_col = imported_pairs(layer, rows, columns)
    order = np.lexsort((ext_col, ext_row))
    ext_row, ext_col = ext_row[order], ext_col[order]
    ext_value = getattr(layer.costs(rows[ext_row], columns[ext_col]), cost)
    ext_ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(np.bincount(ext_row, minlength=len(rows)), out=ext_ptr[1:])
    shape = [grid.cos_min, grid.CELL_DEG, grid.row0, grid.col0, grid.height, grid.width, 2 * EARTH_RADIUS_KM,
             layer.circuity, per_km(layer, cost)]
    room = 2 * len(rows) + 1024
    while True:  # room for every near-best column: twice as much until it fits (many exact ties)
        found_row, found_col, _, fits = near_best(
            layer.lat[rows], layer.lon[rows], unit_vectors(layer.lat[rows], layer.lon[rows]), layer.terrain[rows],
            ext_ptr, ext_col, ext_value, grid.ptr, grid.order, grid.phi, grid.lam, grid.cos_phi,
            layer.terrain[columns], np.array(shape, dtype=np.float64), layer.unknown_kmh, cost == "minutes", room)
        if fits:
            break
        room *= 2
    return found_row, found_col


#: Figures are ranked and compared as answers give them: km to the metre, minutes to 0.01 min.
KM_DECIMALS, MINUTES_DECIMALS = 3, 2


def rounded(c: PairCosts) -> PairCosts:
    """Figures as an answer gives them (km to the metre, minutes to 0.01), the ones ranked and compared."""
    return PairCosts(km=np.round(c.km, KM_DECIMALS), minutes=np.round(c.minutes, MINUTES_DECIMALS),
                     unreachable=c.unreachable, km_basis=c.km_basis, minutes_basis=c.minutes_basis)


def within_cost(layer: TravelLayer, rows: ArrayLike, columns: ArrayLike, *, cost: Cost, limit: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair from ``rows`` to ``columns`` (layer rows) whose ``cost`` is at most ``limit``.

    Returns (position in rows, position in columns, cost), sorted by row
    then column; unreachable pairs are never within.
    """
    cost = check_cost(cost)
    rows, columns = np.asarray(rows, dtype=np.int64), np.asarray(columns, dtype=np.int64)
    tree = point_tree(lat=layer.lat[columns], lon=layer.lon[columns])
    ball_row, ball_col = pairs_within(tree, lat=layer.lat[rows], lon=layer.lon[rows],
                                      max_km=limit / per_km(layer, cost))
    extra_row, extra_col = imported_pairs(layer, rows, columns)
    key = np.unique(np.concatenate((ball_row, extra_row)) * len(columns) + np.concatenate((ball_col, extra_col)))
    at_row, at_col = np.divmod(key, max(len(columns), 1))
    values = getattr(layer.costs(rows[at_row], columns[at_col]), cost)
    keep = values <= limit
    return at_row[keep], at_col[keep], values[keep]


def _positions(n: int, rows: np.ndarray) -> np.ndarray:
    """Position of each of ``n`` rows in ``rows`` (-1: not there)."""
    at = np.full(n, -1, dtype=np.int64)
    at[rows] = np.arange(len(rows))
    return at


def _least(group: np.ndarray, value: np.ndarray, column: np.ndarray, groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Per group, the (column, value) of least value, then least column (-1, inf where none is finite)."""
    order = np.lexsort((column, value, group))
    group, value, column = group[order], value[order], column[order]
    first = np.ones(len(group), dtype=bool)
    first[1:] = group[1:] != group[:-1]
    best_col, best = np.full(groups, -1, dtype=np.int64), np.full(groups, np.inf)
    best_col[group[first]], best[group[first]] = column[first], value[first]
    best_col[~np.isfinite(best)] = -1
    return best_col, best

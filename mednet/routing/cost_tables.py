"""The tables routing by travel cost reads, built once per network and travel layer (:class:`CostTables`), and
a query's candidates (:class:`Candidates`).

    >>> from mednet.regions import load_region
    >>> from mednet.routing import Router
    >>> tables = cost_tables(Router.from_region(load_region("quzhou")).tables, None)
    >>> tables.layer.n == len(tables.rows)
    True
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np

from mednet.geo import EARTH_RADIUS_KM, SpatialIndex
from mednet.routing import cost_kernel as ck
from mednet.routing.kernel import GROUP_OF_CODE, GROUP_REASONS, N_GROUPS, pack, part
from mednet.routing.policy import DOWN, EMERGENCY, UP
from mednet.routing.render import fragment
from mednet.routing.routing_tables import RoutingTables
from mednet.travel.layer import TravelLayer, travel_layer_of
from mednet.travel.search import per_km, rounded


class CostTables:
    """What routing by cost on one travel layer reads, built once per network and layer: the layer row of each
    network index, a grid of cells over every institution for :func:`~mednet.routing.cost_kernel.cost_query`, its
    per-institution figures (terrain, radians), and a query's scratch (marks stamped per query, buffers), used
    under ``lock`` (queries share it; thread-safe)."""

    def __init__(self, rt: RoutingTables, layer: TravelLayer) -> None:
        self.layer = layer
        self.rows = layer.rows_of(rt.net.ids)  # network index → layer row
        self.index = np.full(layer.n, -1, dtype=np.int64)
        self.index[self.rows] = np.arange(len(self.rows))
        lat, lon = layer.lat[self.rows], layer.lon[self.rows]
        self.lat, self.lon = lat.tolist(), lon.tolist()
        grid = SpatialIndex(lat=lat, lon=lon)
        phi, lam = np.radians(lat), np.radians(lon)
        self.phi, self.lam, self.cos = phi.tolist(), lam.tolist(), np.cos(phi).tolist()
        self.terrain = layer.terrain[self.rows].tolist()
        cell_terrain = np.zeros(len(grid.ptr) - 1, dtype=np.int64)  # the greatest terrain class in each cell
        np.maximum.at(cell_terrain, np.repeat(np.arange(len(cell_terrain)), np.diff(grid.ptr)),
                      layer.terrain[self.rows][grid.order])
        self.static_i = pack(grid.ptr, grid.order, np.array([grid.row0, grid.col0, grid.height, grid.width]),
                             layer.terrain[self.rows], rt.rank, rt.home, rt.prio, reason_slots(),
                             cell_terrain)
        self.static_f = pack(grid.phi, grid.lam, grid.cos_phi,
                             np.array([grid.cos_min, grid.CELL_DEG, 2 * EARTH_RADIUS_KM, layer.circuity,
                                       per_km(layer, "km"), per_km(layer, "minutes")]),
                             phi, lam, np.cos(phi), layer.unknown_kmh, dtype=np.float64)
        n = len(self.rows)
        self.lock = threading.Lock()
        self.mark = np.zeros(n)
        self.mark_base = 0.0
        self.buf_i, self.buf_f = np.empty((n, 5), np.int64), np.empty((n, 2))
        self.cells, self.passed, self.passed_f = np.empty((n, 2), np.int64), np.empty(n, np.int64), np.empty((2, n))
        self.res = np.empty(ck.RES_SIZE, np.int64)
        self._explicit: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.no_ext = (np.empty(0, np.int64), np.empty((0, 2)), np.empty((0, 3), np.int64))
        self.none = np.empty(0, dtype=np.int64)
        self.basis_json = [fragment(b) for b in layer.bases]
        self.notes: dict[tuple, str] = {}  # the travel notes written so far (cost_render's)

    def explicit(self, rt: RoutingTables, hc: int) -> tuple[np.ndarray, np.ndarray]:
        """Who may be a candidate of step 0 or 1 from home community ``hc`` (its members and its partners), and its
        partners."""
        found = self._explicit.get(hc)
        if found is None:
            com = rt.com
            members = part(com, 1)[part(com, 0)[hc]:part(com, 0)[hc + 1]]
            partners = part(com, 3)[part(com, 2)[hc]:part(com, 2)[hc + 1]]
            found = self._explicit[hc] = (np.concatenate((members, partners[rt.home[partners] != hc])), partners)
        return found

    def imported(self, origin: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The figures the imported tables give from network index ``origin``: institutions (sorted), (km, minutes)
        rounded, (km basis, minutes basis, unreachable)."""
        layer = self.layer
        if not len(layer.pair_key):
            return self.no_ext
        row = int(self.rows[origin])
        lo, hi = np.searchsorted(layer.pair_key, [row * layer.n, (row + 1) * layer.n])
        cols = layer.pair_key[lo:hi] - row * layer.n
        nodes = self.index[cols]
        keep = np.argsort(nodes[nodes >= 0])
        cols, nodes = cols[nodes >= 0][keep], nodes[nodes >= 0][keep]
        c = rounded(layer.costs(row, cols))
        return (nodes, np.column_stack((c.km, c.minutes)),
                np.column_stack((c.km_basis, c.minutes_basis, c.unreachable)).astype(np.int64))


def reason_slots() -> np.ndarray:
    """Per direction, the passed-over slot of each kernel code, then of a candidate skipped for max_km and for
    max_minutes: the index of its reason in :func:`reason_order`."""
    out = []
    for mode in (UP, DOWN, EMERGENCY):
        order = reason_order(mode)
        reasons = GROUP_REASONS[mode]
        out += [order.index(reasons[g]) for g in GROUP_OF_CODE.tolist()]
        out += [order.index("beyond_max_km"), order.index("beyond_max_minutes")]
    return np.array(out, dtype=np.int64)


def reason_order(mode: int) -> list[str]:
    """The passed-over reasons of a direction in the order answers list them."""
    reasons = GROUP_REASONS[mode]
    return [*dict.fromkeys(reasons[g] for g in range(N_GROUPS)), "beyond_max_km", "beyond_max_minutes"]


#: :func:`reason_order` of each direction.
REASON_ORDER = {mode: reason_order(mode) for mode in (UP, DOWN, EMERGENCY)}
_TABLES: weakref.WeakKeyDictionary[Any, dict[int, tuple[TravelLayer | None, CostTables]]] = (
    weakref.WeakKeyDictionary())


def cost_tables(rt: RoutingTables, travel: TravelLayer | None) -> CostTables:
    """The tables of ``rt`` on ``travel`` (checked to be its region's; None: the region's default model)."""
    mine = _TABLES.setdefault(rt, {})
    key = id(travel) if travel is not None else 0
    found = mine.get(key)
    if found is None or found[0] is not travel:
        layer = travel_layer_of(rt.net, travel)
        found = mine[key] = (travel, CostTables(rt, layer))
    return found[1]


class Candidates:
    """A query's candidates within the limits, in the policy's order (step, cost, tie priority)."""

    def __init__(self, cand_i: np.ndarray, cand_f: np.ndarray) -> None:
        self.nodes: list[int] = cand_i[:, 0].tolist()
        self.steps: list[int] = cand_i[:, 1].tolist()
        self.km: list[float] = cand_f[:, 0].tolist()
        self.minutes: list[float] = cand_f[:, 1].tolist()
        self.bases: list[tuple[int, int]] = list(zip(cand_i[:, 2].tolist(), cand_i[:, 3].tolist(), strict=True))

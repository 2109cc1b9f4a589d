"""Route by travel cost: the policy decides who may be the destination, the travel layer how far.

With ``cost="minutes"``, a ``max_minutes`` limit or a travel layer given,
:class:`~mednet.routing.Router` hands the query here once it has checked the
request and resolved the origin, the home community and the care. Each
institution holding the specialty is classified by the kernel's own rule
(:func:`mednet.routing.kernel.classify`: a candidate of step 0, 1 or 2, or
why not), so the steps are the link route's: own community, partners, any
(emergency: any permanent holder; down: the home centre, then the home
community). What differs is the distance: the travel layer's km and minutes
from the origin (the institution, the point given, or the home institution of
a ``down`` referral) to each candidate directly, with the basis of each. The
nearest candidate by ``cost`` of the first step that has one within both
limits wins; equal costs go by tier, then community role
(:func:`mednet.routing.tables.tie_priority`).

One compiled call, :func:`mednet.routing.cost_kernel.cost_query`, answers
the query from a grid of cells over every institution, searched ring by ring
around the origin with the default model's lower bound: steps 0 and 1 from
the home community's members and partners whole, step 2 nearest first, and
the passed-over list (every institution nearer by ``cost`` than the
destination, by reason, nearest first). It costs and classifies only the
institutions nearer than what the answer must know, so a query looks at
few institutions even on a national network.

    >>> from mednet.regions import load_region
    >>> from mednet.routing import Router
    >>> router = Router.from_region(load_region("quzhou"))
    >>> r = router.route("齐溪", "儿科", cost="minutes")
    >>> r.destination.name, r.step, r.minutes, r.minutes_basis.kind, r.path[0].kind
    ('开化县中医院', 'own_community', 65.41, 'default_model', 'travel')
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from mednet.errors import NoCapableInstitution
from mednet.geo import EARTH_RADIUS_KM, SpatialIndex
from mednet.routing import cost_kernel as ck
from mednet.routing.answers import Lang, SessionSlot
from mednet.routing.cost_answers import ReferralByCost
from mednet.routing.cost_render import CostAnswer, referral, referral_json, travel_note
from mednet.routing.kernel import (
    DOWN,
    EMERGENCY,
    GROUP_OF_CODE,
    GROUP_REASONS,
    N_GROUPS,
    UP,
    classify,
    pack,
    part,
)
from mednet.routing.render import fragment
from mednet.routing.sessions import window_start
from mednet.travel.layer import Cost, TravelLayer, travel_layer_of
from mednet.travel.search import per_km, rounded

if TYPE_CHECKING:
    from mednet.routing.router import Router, Start


@njit(cache=True)
def classify_all(nodes, origin, origin_rank, mode, capability, rank, home, home_com, preferred,
                 mark):  # pragma: no cover - compiled
    """:func:`~mednet.routing.kernel.classify` of each of ``nodes`` (marks based at 0)."""
    out = np.empty(nodes.size, np.int64)
    for i in range(nodes.size):
        out[i] = classify(nodes[i], origin, origin_rank, mode, capability, rank, home, home_com, preferred, mark,
                          0.0)
    return out


class CostTables:
    """What routing by cost on one travel layer reads, built once per router and layer: the layer row of each
    network index, a grid of cells over every institution for :func:`~mednet.routing.cost_kernel.cost_query`, its
    per-institution figures (terrain, radians), and a query's scratch (marks stamped per query, buffers)."""

    def __init__(self, router: Router, layer: TravelLayer) -> None:
        self.layer = layer
        self.rows = layer.rows_of(router.net.ids)  # network index → layer row
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
                             layer.terrain[self.rows], router._rank, router._home, router._prio, reason_slots(),
                             cell_terrain)
        self.static_f = pack(grid.phi, grid.lam, grid.cos_phi,
                             np.array([grid.cos_min, grid.CELL_DEG, 2 * EARTH_RADIUS_KM, layer.circuity,
                                       per_km(layer, "km"), per_km(layer, "minutes")]),
                             phi, lam, np.cos(phi), layer.unknown_kmh, dtype=np.float64)
        n = len(self.rows)
        self.mark = np.zeros(n)
        self.mark_base = 0.0
        self.buf_i, self.buf_f = np.empty((n, 5), np.int64), np.empty((n, 2))
        self.cells, self.passed, self.passed_f = np.empty((n, 2), np.int64), np.empty(n, np.int64), np.empty((2, n))
        self.res = np.empty(ck.RES_SIZE, np.int64)
        self._explicit: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.no_ext = (np.empty(0, np.int64), np.empty((0, 2)), np.empty((0, 3), np.int64))
        self.none = np.empty(0, dtype=np.int64)
        self.basis_json = [fragment(b) for b in layer.bases]
        self._notes: dict[tuple, str] = {}

    def explicit(self, router: Router, hc: int) -> tuple[np.ndarray, np.ndarray]:
        """Who may be a candidate of step 0 or 1 from home community ``hc`` (its members and its partners), and its
        partners."""
        found = self._explicit.get(hc)
        if found is None:
            com = router._com
            members = part(com, 1)[part(com, 0)[hc]:part(com, 0)[hc + 1]]
            partners = part(com, 3)[part(com, 2)[hc]:part(com, 2)[hc + 1]]
            found = self._explicit[hc] = (np.concatenate((members, partners[router._home[partners] != hc])), partners)
        return found

    def note(self, cost: Cost, km_basis: int, minutes_basis: int, lang: Lang, *, point: bool) -> str:
        """:func:`~mednet.routing.cost_render.travel_note` of the layer's bases ``km_basis`` and ``minutes_basis``
        (kept)."""
        key = (cost, km_basis, minutes_basis, lang, point)
        found = self._notes.get(key)
        if found is None:
            bases = self.layer.bases
            found = self._notes[key] = travel_note(cost, bases[km_basis], bases[minutes_basis], lang, point=point)
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


_REASON_ORDER = {mode: reason_order(mode) for mode in (UP, DOWN, EMERGENCY)}
_TABLES: weakref.WeakKeyDictionary[Any, dict[int, tuple[TravelLayer | None, CostTables]]] = (
    weakref.WeakKeyDictionary())


def cost_tables(router: Router, travel: TravelLayer | None) -> CostTables:
    """The tables of ``router`` on ``travel`` (checked to be its region's; None: the region's default model)."""
    mine = _TABLES.setdefault(router, {})
    key = id(travel) if travel is not None else 0
    found = mine.get(key)
    if found is None or found[0] is not travel:
        layer = travel_layer_of(router.net, travel)
        found = mine[key] = (travel, CostTables(router, layer))
    return found[1]


class Candidates:
    """A query's candidates within the limits, in the policy's order (step, cost, tie priority)."""

    def __init__(self, cand_i: np.ndarray, cand_f: np.ndarray) -> None:
        self.nodes: list[int] = cand_i[:, 0].tolist()
        self.steps: list[int] = cand_i[:, 1].tolist()
        self.km: list[float] = cand_f[:, 0].tolist()
        self.minutes: list[float] = cand_f[:, 1].tolist()
        self.bases: list[tuple[int, int]] = list(zip(cand_i[:, 2].tolist(), cand_i[:, 3].tolist(), strict=True))


def route_by_cost(router: Router, tables: CostTables, o: int, codes: tuple[str, ...], mode: int, hc: int,
                  preferred: int, start: Start, *, cost: Cost, max_km: float | None, max_minutes: float | None,
                  k: int, when: dt.datetime | None, keep: int, lang: Lang, as_json: bool = False
                  ) -> ReferralByCost | bytes:
    """The referral by travel cost (``codes``: the care, or the follow-up cares of ``down`` in order); ``as_json``:
    its JSON (:func:`~mednet.routing.cost_render.referral_json`)."""
    answer = None
    for code in codes[:-1]:
        with contextlib.suppress(NoCapableInstitution):
            answer = _route(router, tables, o, code, mode, hc, preferred, start, cost, max_km, max_minutes, k, when,
                            keep, lang)
            break
    if answer is None:
        answer = _route(router, tables, o, codes[-1], mode, hc, preferred, start, cost, max_km, max_minutes, k,
                        when, keep, lang)
    return (referral_json if as_json else referral)(router, tables, answer)


def _route(router: Router, tables: CostTables, o: int, code: str, mode: int, hc: int, preferred: int,
           start: Start, cost: Cost, max_km: float | None, max_minutes: float | None, k: int,
           when: dt.datetime | None, keep: int, lang: Lang) -> CostAnswer:
    limit_km = math.inf if max_km is None else max_km
    limit_minutes = math.inf if max_minutes is None else max_minutes
    s = router._columns.get(code)
    if s is None:
        raise _nothing(router, o, code, mode, hc, max_km, max_minutes, None, [])
    held = router._sessions[s]
    slots: dict[int, SessionSlot] = {}
    undated: list[int] = []
    session_nodes = tables.none
    if held or when is not None:
        when = window_start(when)
    if held and mode != EMERGENCY:
        session_nodes, slots, _, undated = router._scheduled.codes(held, o, mode, window_start(when), lang)

    # Who may be the destination, by the kernel's rule: marks as the kernel sets them (partners, session codes),
    # stamped on this query's base so that no mark of an earlier query counts.
    mark = tables.mark
    tables.mark_base = base = tables.mark_base + 8.0
    m = len(session_nodes) // 2
    undated_nodes = np.unique(np.asarray(undated, dtype=np.int64)) if undated else tables.none
    if m:
        mark[session_nodes[:m]] = base
    if undated:
        mark[undated_nodes] = base
    explicit = tables.none
    if hc >= 0 and mode != EMERGENCY:
        explicit, partners = tables.explicit(router, hc)
        if mode == UP:
            mark[partners] = base + 1.0
    if mode == DOWN and preferred >= 0 and router._homes[preferred] != hc:
        explicit = np.append(explicit, preferred)
    if m:
        mark[session_nodes[:m]] += session_nodes[m:] * 2.0

    q_i = [0] * 10
    if start.measured_from == "origin_point":
        assert start.point is not None
        o_node, (o_lat, o_lon) = -1, start.at
        o_phi, o_lam = float(np.radians(o_lat)), float(np.radians(o_lon))
        o_cos = float(np.cos(o_phi))
        ext = tables.no_ext
    else:
        o_node = preferred if start.measured_from == "home" else o
        o_lat, o_lon, o_phi, o_lam, o_cos = (tables.lat[o_node], tables.lon[o_node], tables.phi[o_node],
                                             tables.lam[o_node], tables.cos[o_node])
        q_i[ck.QI_TERRAIN] = tables.terrain[o_node]
        ext = tables.imported(o_node)
    want = max(k + 1 + len(undated), 1)
    q_i[ck.QI_NODE], q_i[ck.QI_ORIGIN], q_i[ck.QI_RANK], q_i[ck.QI_MODE] = (
        o_node, -1 if start.point is not None else o, router._ranks[o], mode)
    q_i[ck.QI_HOME], q_i[ck.QI_PREFERRED], q_i[ck.QI_MINUTES], q_i[ck.QI_WANT], q_i[ck.QI_KEEP] = (
        hc, preferred, cost == "minutes", want, keep)
    q_f = (o_phi, o_lam, o_cos, o_lat, o_lon, limit_km, limit_minutes, base)
    cand_i, cand_f = np.empty((len(explicit) + want, 4), np.int64), np.empty((len(explicit) + want, 3))
    ck.cost_query(tables.static_i, tables.static_f, router._cap[s], np.array(q_i, dtype=np.int64),
                  np.array(q_f), *ext, explicit, undated_nodes, mark, cand_i, cand_f, tables.buf_i, tables.buf_f,
                  tables.cells, tables.passed, tables.passed_f, tables.res)
    res: list[int] = tables.res.tolist()
    counts = n0, n1, n2 = res[ck.R_N0:ck.R_N2 + 1]
    dest_row = res[ck.R_DEST]
    n01 = n0 + n1
    within = Candidates(cand_i[:n01 + n2], cand_f[:n01 + n2])  # steps 0 and 1 whole, then step 2's best
    nearest_beyond = {step: res[ck.R_BEYOND + step] for step in range(3)
                      if counts[step] == 0 and res[ck.R_BEYOND + step] >= 0}
    if dest_row < 0:
        beyond = None
        if nearest_beyond:
            figures = {j: _figures_of(tables, o_node, (o_lat, o_lon), j) for j in nearest_beyond.values()}
            j = min(figures, key=lambda j: (figures[j][1] if cost == "minutes" else figures[j][0], router._prio[j]))
            beyond = (j, *figures[j])
        raise _nothing(router, o, code, mode, hc, max_km, max_minutes, beyond, undated)
    first = dest_row
    decided = within.steps[first]
    picked = [first]
    known_left = k
    undated_set = set(undated)
    for i in range(len(within.nodes)):
        if i == first:
            continue
        if within.nodes[i] in undated_set:
            picked.append(i)
        elif known_left > 0:
            picked.append(i)
            known_left -= 1

    passed = _passed_over(tables, res, keep, mode)
    for step in range(decided):
        if step in nearest_beyond and not any(nearest_beyond[step] in g[2] for g in passed):
            j = nearest_beyond[step]
            km, minutes = _figures_of(tables, o_node, (o_lat, o_lon), j)
            passed.append((_beyond_reason(km, limit_km), 1, [j], [km], [minutes]))
    answer = CostAnswer(o, code, mode, start, cost, max_km, max_minutes, within, picked, decided, passed, slots, when,
                        lang)
    if start.point is not None and start.measured_from == "home":  # the patient still travels from the point
        answer.trip = _figures_of(tables, -1, start.at, within.nodes[picked[0]])
    return answer


def _figures_of(tables: CostTables, o_node: int, point: tuple[float, float], j: int) -> tuple[float, float]:
    """Rounded km and minutes from the origin (network index, or -1: the point) to network index ``j``."""
    layer = tables.layer
    if o_node < 0:
        c = rounded(layer.point_costs(lat=point[0], lon=point[1], cols=[tables.rows[j]]))
    else:
        c = rounded(layer.costs(tables.rows[o_node], [tables.rows[j]]))
    return float(c.km[0]), float(c.minutes[0])


def _beyond_reason(km: float, limit_km: float) -> str:
    return "beyond_max_km" if km > limit_km else "beyond_max_minutes"


def _passed_over(tables: CostTables, res: list[int], keep: int, mode: int) -> list[tuple]:
    """Every institution nearer by ``cost`` than the destination (equal cost: before it in tie order), by reason:
    the kernel's groups, then candidates skipped for a limit. Each group: (reason, count, institutions, km,
    minutes), nearest first, at most ``keep`` named: the kernel has grouped and ranked them (``res``: its result
    slots)."""
    counts, named = res[ck.R_SLOTS:ck.R_SLOTS + ck.N_SLOTS], res[ck.R_NAMED]
    nodes: list[int] = tables.passed[:named].tolist()
    kms, minutes = tables.passed_f[:, :named].tolist()
    order = _REASON_ORDER[mode]
    out = []
    at = 0
    for slot, count in enumerate(counts):
        if count:
            end = at + min(count, keep)
            out.append((order[slot], count, nodes[at:end], kms[at:end], minutes[at:end]))
            at = end
    return out


def _nothing(router: Router, o: int, code: str, mode: int, hc: int, max_km: float | None,
             max_minutes: float | None, beyond: tuple[int, float, float] | None,
             undated: list[int]) -> NoCapableInstitution:
    """No candidate within the limits: the router's wording (both languages), with the limits and the nearest
    beyond them."""
    j, km, minutes = beyond if beyond is not None else (-1, None, None)
    return router._nothing(o, code, mode, hc, math.inf if max_km is None else max_km,
                           None if km is None else (km, j), undated, max_minutes=max_minutes,
                           nearest_minutes=minutes, by_travel=True)

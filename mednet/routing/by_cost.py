"""Route by travel cost: the policy decides who may be the destination, the travel layer how far.

With ``cost="minutes"``, a ``max_minutes`` limit or a travel layer given,
:class:`~mednet.routing.Router` hands the query here once it has checked the
request and resolved the origin, the home community and the care. Each
institution holding the specialty is classified by the kernel's own rule
(:func:`mednet.routing.policy.classify`: a candidate of step 0, 1 or 2, or
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
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from mednet.errors import NoCapableInstitution
from mednet.routing import cost_kernel as ck
from mednet.routing.answers import Lang, SessionSlot
from mednet.routing.cost_render import CostAnswer
from mednet.routing.cost_tables import REASON_ORDER, Candidates, CostTables, cost_tables
from mednet.routing.policy import DOWN, EMERGENCY, UP, classify
from mednet.routing.sessions import window_start
from mednet.travel.layer import Cost
from mednet.travel.search import rounded

if TYPE_CHECKING:
    from mednet.routing.request import RouteQuery
    from mednet.routing.routing_tables import RoutingTables
    from mednet.routing.start import Resolved, Start


@njit(cache=True)
def classify_all(nodes, origin, origin_rank, mode, capability, rank, home, home_com, preferred,
                 mark):  # pragma: no cover - compiled
    """:func:`~mednet.routing.policy.classify` of each of ``nodes`` (marks based at 0)."""
    out = np.empty(nodes.size, np.int64)
    for i in range(nodes.size):
        out[i] = classify(nodes[i], origin, origin_rank, mode, capability, rank, home, home_com, preferred, mark,
                          0.0)
    return out


def route_by_cost(rt: RoutingTables, q: RouteQuery, r: Resolved) -> CostAnswer:
    """The engine by travel cost: the decided answer to the checked query ``q`` (names resolved in ``r``), on
    the query's travel layer (None: the region's default model); the care is ``r.codes[0]``, else the next
    (``down`` with none given). The answer writes itself (:meth:`CostAnswer.referral
    <mednet.routing.cost_render.CostAnswer.referral>`, :meth:`CostAnswer.json
    <mednet.routing.cost_render.CostAnswer.json>`)."""
    tables = cost_tables(rt, q.travel)
    o, codes, mode, hc, preferred, start, keep = r
    for code in codes[:-1]:
        with contextlib.suppress(NoCapableInstitution):
            return _route(rt, tables, o, code, mode, hc, preferred, start, q.cost, q.max_km, q.max_minutes,
                          q.alternatives, q.when, keep, q.lang)
    return _route(rt, tables, o, codes[-1], mode, hc, preferred, start, q.cost, q.max_km, q.max_minutes,
                  q.alternatives, q.when, keep, q.lang)


def _route(rt: RoutingTables, tables: CostTables, o: int, code: str, mode: int, hc: int, preferred: int,
           start: Start, cost: Cost, max_km: float | None, max_minutes: float | None, k: int,
           when: dt.datetime | None, keep: int, lang: Lang) -> CostAnswer:
    limit_km = math.inf if max_km is None else max_km
    limit_minutes = math.inf if max_minutes is None else max_minutes
    s = rt.columns.get(code)
    if s is None:
        raise _nothing(rt, o, code, mode, hc, max_km, max_minutes, None, [])
    held = rt.sessions[s]
    slots: dict[int, SessionSlot] = {}
    undated: list[int] = []
    session_nodes = tables.none
    if held or when is not None:
        when = window_start(when)
    if held and mode != EMERGENCY:
        session_nodes, slots, _, undated = rt.scheduled.codes(held, o, mode, window_start(when), lang)

    # Who may be a candidate of steps 0 and 1 (the home community's members and partners, and going down the home).
    m = len(session_nodes) // 2
    undated_nodes = np.unique(np.asarray(undated, dtype=np.int64)) if undated else tables.none
    explicit = partners = tables.none
    if hc >= 0 and mode != EMERGENCY:
        explicit, partners = tables.explicit(rt, hc)
    if mode == DOWN and preferred >= 0 and rt.homes[preferred] != hc:
        explicit = np.append(explicit, preferred)

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
        o_node, -1 if start.point is not None else o, rt.ranks[o], mode)
    q_i[ck.QI_HOME], q_i[ck.QI_PREFERRED], q_i[ck.QI_MINUTES], q_i[ck.QI_WANT], q_i[ck.QI_KEEP] = (
        hc, preferred, cost == "minutes", want, keep)
    cand_i, cand_f = np.empty((len(explicit) + want, 4), np.int64), np.empty((len(explicit) + want, 3))

    with tables.lock:  # the marks, buffers and result slots are the tables' own, shared by every query
        # Who may be the destination, by the kernel's rule: marks as the kernel sets them (partners, session codes),
        # stamped on this query's base so that no mark of an earlier query counts.
        mark = tables.mark
        tables.mark_base = base = tables.mark_base + 8.0
        if m:
            mark[session_nodes[:m]] = base
        if undated:
            mark[undated_nodes] = base
        if mode == UP:
            mark[partners] = base + 1.0
        if m:
            mark[session_nodes[:m]] += session_nodes[m:] * 2.0
        q_f = (o_phi, o_lam, o_cos, o_lat, o_lon, limit_km, limit_minutes, base)
        ck.cost_query(tables.static_i, tables.static_f, rt.cap[s], np.array(q_i, dtype=np.int64),
                      np.array(q_f), *ext, explicit, undated_nodes, mark, cand_i, cand_f, tables.buf_i, tables.buf_f,
                      tables.cells, tables.passed, tables.passed_f, tables.res)
        res: list[int] = tables.res.tolist()
        # The passed-over slots are written only when there is a destination (else they hold an earlier query's).
        passed = _passed_over(tables, res, keep, mode) if res[ck.R_DEST] >= 0 else []
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
            j = min(figures, key=lambda j: (figures[j][1] if cost == "minutes" else figures[j][0], rt.prio[j]))
            beyond = (j, *figures[j])
        raise _nothing(rt, o, code, mode, hc, max_km, max_minutes, beyond, undated)
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

    for step in range(decided):
        if step in nearest_beyond and not any(nearest_beyond[step] in g[2] for g in passed):
            j = nearest_beyond[step]
            km, minutes = _figures_of(tables, o_node, (o_lat, o_lon), j)
            passed.append((_beyond_reason(km, limit_km), 1, [j], [km], [minutes]))
    answer = CostAnswer(tables, o, code, mode, start, cost, max_km, max_minutes, within, picked, decided, passed,
                        slots, when, lang)
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
    order = REASON_ORDER[mode]
    out = []
    at = 0
    for slot, count in enumerate(counts):
        if count:
            end = at + min(count, keep)
            out.append((order[slot], count, nodes[at:end], kms[at:end], minutes[at:end]))
            at = end
    return out


def _nothing(rt: RoutingTables, o: int, code: str, mode: int, hc: int, max_km: float | None,
             max_minutes: float | None, beyond: tuple[int, float, float] | None,
             undated: list[int]) -> NoCapableInstitution:
    """No candidate within the limits: the refusal's wording (both languages), with the limits and the nearest
    beyond them."""
    j, km, minutes = beyond if beyond is not None else (-1, None, None)
    return rt.nothing(o, code, mode, hc, math.inf if max_km is None else max_km,
                           None if km is None else (km, j), undated, max_minutes=max_minutes,
                           nearest_minutes=minutes, by_travel=True)

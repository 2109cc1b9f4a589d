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

Small steps (a community, its partners) are costed whole; the large ones
(``any``, emergency) go through :func:`mednet.travel.search.ranked_by_cost`,
a k-d tree search with the default model's lower bound, so a query looks at
few institutions even on a national network. The passed-over list is every
institution nearer by ``cost`` than the destination (a k-d tree ball), by
reason, nearest first.

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
from scipy.spatial import cKDTree

from mednet.errors import NoCapableInstitution
from mednet.geo import pairs_within, point_tree
from mednet.routing.answers import Hop, InstitutionRef, Lang, SessionSlot, Step
from mednet.routing.cost_answers import AlternativeByCost, PassedOverByCost, ReferralByCost
from mednet.routing.kernel import (
    DIRECTION_NAMES,
    EMERGENCY,
    GROUP_OF_CODE,
    GROUP_REASONS,
    N_GROUPS,
    SESSION_OK,
    STEPS,
    UP,
    classify,
    part,
)
from mednet.routing.sessions import window_start
from mednet.travel.layer import Basis, Cost, PairCosts, TravelLayer, travel_layer_of
from mednet.travel.search import KM_DECIMALS, MINUTES_DECIMALS, imported_pairs, per_km, ranked_by_cost, rounded

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
    network index, a k-d tree on every institution, and per specialty its holders and their k-d tree."""

    def __init__(self, router: Router, layer: TravelLayer) -> None:
        self.layer = layer
        self.rows = layer.rows_of(router.net.ids)  # network index → layer row
        self.index = np.full(layer.n, -1, dtype=np.int64)
        self.index[self.rows] = np.arange(len(self.rows))
        self.everyone = point_tree(lat=layer.lat[self.rows], lon=layer.lon[self.rows])
        self.lower = {"km": per_km(layer, "km"), "minutes": per_km(layer, "minutes")}
        self._holders: dict[int, tuple[np.ndarray, cKDTree]] = {}

    def holders(self, router: Router, s: int) -> tuple[np.ndarray, cKDTree]:
        """The institutions holding specialty column ``s`` (permanently or in sessions), and their k-d tree."""
        found = self._holders.get(s)
        if found is None:
            nodes = np.flatnonzero(router._cap[s] != 0).astype(np.int64)
            rows = self.rows[nodes]
            found = self._holders[s] = (nodes, point_tree(lat=self.layer.lat[rows], lon=self.layer.lon[rows]))
        return found


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


#: A step with at most this many candidates is costed whole; a larger one is searched (k-d tree).
WHOLE_STEP = 64


class Candidates:
    """A query's candidates within the limits, in the policy's order (step, cost, tie priority)."""

    def __init__(self) -> None:
        self.nodes: list[int] = []
        self.steps: list[int] = []
        self.km: list[float] = []
        self.minutes: list[float] = []
        self.bases: list[tuple[int, int]] = []

    def add(self, nodes: np.ndarray, step: int, c: PairCosts) -> None:
        self.nodes += nodes.tolist()
        self.steps += [step] * len(nodes)
        self.km += c.km.tolist()
        self.minutes += c.minutes.tolist()
        self.bases += list(zip(c.km_basis.tolist(), c.minutes_basis.tolist(), strict=True))


def route_by_cost(router: Router, tables: CostTables, o: int, codes: tuple[str, ...], mode: int, hc: int,
                  preferred: int, start: Start, *, cost: Cost, max_km: float | None, max_minutes: float | None,
                  k: int, when: dt.datetime | None, keep: int, lang: Lang) -> ReferralByCost:
    """The referral by travel cost (``codes``: the care, or the follow-up cares of ``down`` in order)."""
    for code in codes[:-1]:
        with contextlib.suppress(NoCapableInstitution):
            return _route(router, tables, o, code, mode, hc, preferred, start, cost, max_km, max_minutes, k, when,
                          keep, lang)
    return _route(router, tables, o, codes[-1], mode, hc, preferred, start, cost, max_km, max_minutes, k, when,
                  keep, lang)


def _route(router: Router, tables: CostTables, o: int, code: str, mode: int, hc: int, preferred: int,
           start: Start, cost: Cost, max_km: float | None, max_minutes: float | None, k: int,
           when: dt.datetime | None, keep: int, lang: Lang) -> ReferralByCost:
    layer = tables.layer
    limit_km = math.inf if max_km is None else max_km
    limit_minutes = math.inf if max_minutes is None else max_minutes
    s = router._columns.get(code)
    if s is None:
        raise _nothing(router, o, code, mode, hc, max_km, max_minutes, None, [])
    held = router._sessions[s]
    slots: dict[int, SessionSlot] = {}
    undated: list[int] = []
    session_nodes = np.zeros(0, dtype=np.int64)
    if held or when is not None:
        when = window_start(when)
    if held and mode != EMERGENCY:
        session_nodes, slots, _, undated = router._scheduled.codes(held, o, mode, window_start(when), lang)

    # Who may be the destination, by the kernel's rule: marks as the kernel sets them (partners, session codes).
    mark = np.zeros(router._n)
    if mode == UP and hc >= 0:
        mark[part(router._com, 3)[part(router._com, 2)[hc]:part(router._com, 2)[hc + 1]]] = 1.0
    m = len(session_nodes) // 2
    mark[session_nodes[:m]] += session_nodes[m:] * 2.0
    kernel_origin = -1 if start.point is not None else o
    nodes, tree = tables.holders(router, s)
    classify_args = (kernel_origin, router._ranks[o], mode, router._cap[s], router._rank, router._home, hc,
                     preferred)
    step_of = classify_all(nodes, *classify_args, mark)
    if undated:  # offered, never the destination: classified as if bookable
        mark[np.asarray(undated)] += SESSION_OK * 2.0
        step_of = classify_all(nodes, *classify_args, mark)
        mark[np.asarray(undated)] -= SESSION_OK * 2.0

    if start.measured_from == "origin_point":
        assert start.point is not None
        origin: int | tuple[float, float] = (start.point.lat, start.point.lon)
    else:
        origin = int(tables.rows[preferred if start.measured_from == "home" else o])
    prio = router._prio
    need = k + 1 + len(undated)
    within = Candidates()
    nearest_beyond: dict[int, tuple[int, float, float]] = {}  # step → (institution, km, minutes)
    for step in range(3):
        eligible = step_of == step
        if not eligible.any():
            continue
        if eligible.sum() <= WHOLE_STEP:  # a community, its partners: cost them all
            at = np.flatnonzero(eligible)
            c = rounded(_costs(layer, origin, tables.rows[nodes[at]]))
            ok = ~c.unreachable & (c.km <= limit_km) & (c.minutes <= limit_minutes)
            order = np.lexsort((prio[nodes[at]], getattr(c, cost)))
            ranked = order[ok[order]]
            within.add(nodes[at[ranked]], step, _take(c, ranked))
            reach = order[~c.unreachable[order]]
            if len(reach) and not ok.any():
                first = int(reach[0])
                nearest_beyond[step] = (int(nodes[at[first]]), float(c.km[first]), float(c.minutes[first]))
            continue
        r = ranked_by_cost(layer, origin, tables.rows[nodes], cost=cost, want=max(need - len(within.nodes), 1),
                           eligible=eligible, order=prio[nodes], max_km=limit_km, max_minutes=limit_minutes,
                           tree=tree)
        within.add(nodes[r.at], step, r.costs)
        if not len(r.at) and not within.nodes:  # nothing anywhere within: the nearest beyond, for the error
            r = ranked_by_cost(layer, origin, tables.rows[nodes], cost=cost, want=1, eligible=eligible,
                               order=prio[nodes], tree=tree)
            if len(r.at):
                nearest_beyond[step] = (int(nodes[r.at[0]]), float(r.costs.km[0]), float(r.costs.minutes[0]))

    known = [i for i, j in enumerate(within.nodes) if j not in undated]
    if not known:
        beyond = min(nearest_beyond.values(), key=lambda b: (b[2] if cost == "minutes" else b[1], prio[b[0]]),
                     default=None)
        raise _nothing(router, o, code, mode, hc, max_km, max_minutes, beyond, undated)
    first = known[0]
    decided, dest = within.steps[first], within.nodes[first]
    picked = [first]
    known_left = k
    for i in range(len(within.nodes)):
        if i == first:
            continue
        if within.nodes[i] in undated:
            picked.append(i)
        elif known_left > 0:
            picked.append(i)
            known_left -= 1

    dest_cost = within.minutes[first] if cost == "minutes" else within.km[first]
    passed = _passed_over(tables, origin, dest, dest_cost, prio, cost, decided, classify_args, mark, limit_km, keep,
                          mode)
    for step in range(decided):
        if step in nearest_beyond and not any(nearest_beyond[step][0] in g[2] for g in passed):
            j, km, minutes = nearest_beyond[step]
            passed.append((_beyond_reason(km, limit_km), 1, [j], [km], [minutes]))
    return _answer(router, tables, o, code, mode, start, cost, max_km, max_minutes, within, picked, decided,
                   passed, slots, when, lang)


def _costs(layer: TravelLayer, origin: int | tuple[float, float], cols: np.ndarray) -> PairCosts:
    if isinstance(origin, tuple):
        return layer.point_costs(lat=origin[0], lon=origin[1], cols=cols)
    return layer.costs(origin, cols)


def _take(c: PairCosts, at: np.ndarray) -> PairCosts:
    return PairCosts(km=c.km[at], minutes=c.minutes[at], unreachable=c.unreachable[at], km_basis=c.km_basis[at],
                     minutes_basis=c.minutes_basis[at])


def _beyond_reason(km: float, limit_km: float) -> str:
    return "beyond_max_km" if km > limit_km else "beyond_max_minutes"


def _passed_over(tables: CostTables, origin: int | tuple[float, float], dest: int, dest_cost: float,
                 prio: np.ndarray, cost: Cost, decided: int, classify_args: tuple[Any, ...], mark: np.ndarray,
                 limit_km: float, keep: int, mode: int) -> list[tuple]:
    """Every institution nearer by ``cost`` than the destination (equal cost: before it in tie order), by reason:
    the kernel's groups, then candidates skipped for a limit. Each group: (reason, count, institutions, km,
    minutes), nearest first, at most ``keep`` named."""
    layer = tables.layer
    half = 0.5 * 10.0 ** -(MINUTES_DECIMALS if cost == "minutes" else KM_DECIMALS)
    lat, lon = origin if isinstance(origin, tuple) else (layer.lat[origin], layer.lon[origin])
    _, near = pairs_within(tables.everyone, lat=[lat], lon=[lon], max_km=(dest_cost + half) / tables.lower[cost])
    if not isinstance(origin, tuple):
        extra = tables.index[imported_pairs(layer, np.array([origin]), np.arange(layer.n))[1]]
        near = np.unique(np.concatenate((near, extra[extra >= 0])))
    c = rounded(_costs(layer, origin, tables.rows[near]))
    value = getattr(c, cost)
    nearer = ~c.unreachable & ((value < dest_cost) | ((value == dest_cost) & (prio[near] < prio[dest])))
    nearer &= near != dest
    at = np.flatnonzero(nearer)
    at = at[np.lexsort((prio[near[at]], value[at]))]
    nodes = near[at]
    codes = classify_all(nodes, *classify_args, mark)  # type: ignore[call-arg]  # numba
    reasons = GROUP_REASONS[mode]
    groups: dict[str, list[int]] = {}
    for i, code in enumerate(codes.tolist()):
        if code < 3 and code <= decided:
            reason = _beyond_reason(float(c.km[at[i]]), limit_km)
        else:
            reason = reasons[GROUP_OF_CODE[code]]
        groups.setdefault(reason, []).append(i)
    order = [*dict.fromkeys(reasons[g] for g in range(N_GROUPS)), "beyond_max_km", "beyond_max_minutes"]
    out = []
    for reason in order:
        members = groups.get(reason)
        if members:
            shown = members[:keep]
            out.append((reason, len(members), nodes[shown].tolist(), c.km[at[shown]].tolist(),
                        c.minutes[at[shown]].tolist()))
    return out


def _answer(router: Router, tables: CostTables, o: int, code: str, mode: int, start: Start, cost: Cost,
            max_km: float | None, max_minutes: float | None, within: Candidates, picked: list[int], decided: int,
            passed: list[tuple], slots: dict[int, SessionSlot], when: dt.datetime | None,
            lang: Lang) -> ReferralByCost:
    """The answer, from its parts."""
    render, bases, steps = router._render, tables.layer.bases, STEPS[mode]
    refs = render.refs
    first = picked[0]
    dest, km, minutes = within.nodes[first], within.km[first], within.minutes[first]
    km_basis, minutes_basis = (bases[b] for b in within.bases[first])
    if start.point is not None:
        from_id = f"{start.point.lat:g},{start.point.lon:g}"
    else:
        from_id = router.net.ids[start.nodes[0] if start.measured_from == "home" else o]
    # Two institutions at one shared proxy point are 0 km apart by the default model: their distance is not known.
    unknown = km == 0.0 and km_basis.kind == "default_model" and refs[dest].location_is_proxy
    path = () if from_id == router.net.ids[dest] else (Hop(
        from_id=from_id, to_id=router.net.ids[dest], kind="travel", distance_km=km,
        basis="same_proxy_point" if unknown else km_basis.kind),)
    step: Step = steps[decided]
    alternatives = tuple(AlternativeByCost(
        institution=refs[within.nodes[i]], distance_km=within.km[i], minutes=within.minutes[i],
        step=steps[within.steps[i]], session=slots.get(within.nodes[i]), contact=render.contacts[within.nodes[i]],
        km_basis=bases[within.bases[i][0]], minutes_basis=bases[within.bases[i][1]]) for i in picked[1:])
    passed_over = tuple(PassedOverByCost(
        reason=reason, count=count, institutions=tuple(refs[j] for j in group), distances_km=tuple(kms),
        minutes=tuple(mins)) for reason, count, group, kms, mins in passed)
    same: list[InstitutionRef] = [refs[j] for j in render._same_point(o, start, [within.nodes[i] for i in picked])]
    return ReferralByCost(
        region=router.region, origin=refs[o], origin_point=start.point, snap_km=start.snap_km,
        measured_from=start.measured_from, specialty=render.specialty_refs[code], direction=DIRECTION_NAMES[mode],
        destination=refs[dest], distance_km=km, minutes=minutes,
        speed_kmh=round(km / minutes * 60.0, 1) if minutes > 0 else router.speed_kmh, path=path, step=step,
        same_proxy_point=tuple(same), session=slots.get(dest), contact=render.contacts[dest],
        alternatives=alternatives, passed_over=passed_over, max_km=max_km, when=when, lang=lang, cost=cost,
        max_minutes=max_minutes, km_basis=km_basis, minutes_basis=minutes_basis,
        minutes_from_default_model=minutes_basis.kind == "default_model",
        travel_note=travel_note(cost, km_basis, minutes_basis, lang, point=start.point is not None),
    )


def travel_note(cost: Cost, km_basis: Basis, minutes_basis: Basis, lang: Lang, *, point: bool = False) -> str:
    """One line on how the answer was ranked and where its km and minutes come from.

    >>> model = Basis(kind="default_model", detail="great circle × 1.3 at 40 km/h (plain terrain)")
    >>> od = Basis(kind="od_table", source="bureau-od", title="县卫健局 OD 表, 2024-05")
    >>> travel_note("minutes", model, od, "en").split("; ")[2]
    'minutes: OD table (县卫健局 OD 表, 2024-05)'
    """
    t = _NOTE[lang]
    text = t["head"].format(cost=t[f"by_{cost}"]) + t["km"] + _basis_text(km_basis, t) + t["minutes"]
    text += _basis_text(minutes_basis, t)
    return text + (t["point"] if point else "")


def _basis_text(b: Basis, t: dict[str, str]) -> str:
    return t[b.kind].format(title=b.title or b.source or "", detail=b.detail or "")


_NOTE: dict[str, dict[str, str]] = {
    "zh": {
        "head": "按{cost}排序（出行层，自起点直达各候选机构）", "by_km": "公里", "by_minutes": "行程分钟",
        "km": "；公里：", "minutes": "；分钟：", "default_model": "默认模型估算（{detail}）",
        "road_network": "道路网（{title}）", "od_table": "OD 表（{title}）", "same_institution": "同一机构",
        "point": "；自坐标点出发时只用默认模型",
    },
    "en": {
        "head": "ranked by {cost} on the travel layer, directly to each candidate", "by_km": "km",
        "by_minutes": "minutes", "km": "; km: ", "minutes": "; minutes: ",
        "default_model": "default-model estimate ({detail})", "road_network": "road network ({title})",
        "od_table": "OD table ({title})", "same_institution": "same institution",
        "point": "; from a point, the default model only",
    },
}


def _nothing(router: Router, o: int, code: str, mode: int, hc: int, max_km: float | None,
             max_minutes: float | None, beyond: tuple[int, float, float] | None,
             undated: list[int]) -> NoCapableInstitution:
    """No candidate within the limits: the router's wording, with the limits and the nearest beyond them."""
    base = router._nothing(o, code, mode, hc, math.inf, None, undated)
    limits = [f"max_km={max_km:g} km"] if max_km is not None else []
    limits += [f"max_minutes={max_minutes:g} min"] if max_minutes is not None else []
    where = f" in region {router.region!r}"
    extra = f" within {' and '.join(limits)} (by the travel layer)" if limits else ""
    nearest = nearest_km = None
    if beyond is not None and limits:
        j, nearest_km, minutes = beyond
        nearest = router.G.nodes[router.net.ids[j]]["name"]
        extra += f"; the nearest is {nearest} at {nearest_km:.1f} km, {minutes:.1f} min"
    return NoCapableInstitution(str(base).replace(where, extra + where, 1), specialty=code, origin=base.origin,
                                nearest=nearest, nearest_km=nearest_km)

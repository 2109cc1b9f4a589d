"""Find coverage gaps: the analysis that makes a :class:`~mednet.planning.report.CoverageReport`.

Demand points are the primary-care institutions (township and community
health centres). For every specialty, one multi-source pass on the
compiled network (:mod:`mednet.planning.passes`) gives each demand point
its network distance to the nearest capable institution; a point is a
*gap* when that is beyond ``max_km``.

    >>> import mednet
    >>> G = mednet.build_network(mednet.load_region("quzhou"))
    >>> report = find_coverage_gaps(G, specialties=["儿科"], max_km=30)
    >>> report.weight_basis
    'uniform'
    >>> s = report.summary[0]
    >>> s.specialty, s.demand_points, s.gap_points > 0
    ('paediatrics', 56, True)
    >>> [p.name for p in report.gaps("儿科") if p.institution.startswith("kh-")]
    ['齐溪卫生院', '苏庄卫生院', '何田卫生院']

By travel cost (``cost="minutes"``, a ``max_minutes`` limit, or a
``travel`` layer given: the rule routing keeps too), the
nearest capable institution is the one of least travel ``cost`` between the
two institutions on the travel layer (road network, OD tables, or the
default model), not along referral links; the report gives its km and
minutes and the basis of each.

    >>> by_minutes = find_coverage_gaps(mednet.build_network(mednet.load_region("quzhou")), specialties=["儿科"],
    ...                                 cost="minutes", max_minutes=45)
    >>> by_minutes.summary[0].gap_points, by_minutes.summary[0].minutes_basis[0].kind
    (12, 'default_model')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

import networkx as nx
import numpy as np

from mednet.errors import InvalidRequest
from mednet.network import CompiledNetwork, compile_network, resolve_institution
from mednet.planning.passes import all_passes, check_workers, network_graph, travel_passes
from mednet.planning.query import CoverageQuery
from mednet.planning.report import CoverageReport, WeightBasis
from mednet.travel.layer import Cost, TravelLayer


def find_coverage_gaps(
    G_or_net: nx.Graph | CompiledNetwork,
    *,
    specialties: Iterable[str] | None = None,
    max_km: float | None = None,
    max_minutes: float | None = None,
    cost: Cost = "km",
    travel: TravelLayer | None = None,
    weights: Mapping[str, float] | None = None,
    include_sessions: bool = True,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
) -> CoverageReport:
    """Distance from each primary-care institution to the nearest capable one, per specialty.

    One multi-source Dijkstra pass per specialty on the compiled network
    (scipy's csgraph; a capable demand point has distance 0). A point is a
    gap when beyond ``max_km``; with no limit, only unreachable points are gaps.

    By travel cost: with ``cost="minutes"``, ``max_minutes`` or a ``travel`` layer (of the
    same region, e.g. :func:`mednet.travel.load_travel`), the nearest
    capable institution is the one of least ``cost`` on the travel layer,
    between the two institutions (``cost="minutes"`` without ``travel``: the
    region's default model). Both limits may be given: a point is a gap when
    its nearest capable institution by ``cost`` is beyond either. Demand is weighted by
    ``population`` where the region gives it, else by ``weights`` (id or
    name → weight, one per primary-care institution), else 1 each;
    ``weight_basis`` says which. Sessions count as capability unless
    ``include_sessions`` is False. Specialties offered at exactly the same
    institutions share one pass. ``workers`` > 1 splits the passes over
    that many forked processes on Linux (scipy's search holds the GIL, so
    threads would not help); elsewhere it runs them in turn. ``progress``
    is called with each specialty code once it is done. Pass a compiled
    network to skip compiling on repeated calls.

    >>> import mednet
    >>> G = mednet.build_network(mednet.load_region("quzhou"))
    >>> find_coverage_gaps(G, specialties=["paediatrics"], max_km=0)
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidRequest: `max_km` must be a number > 0, got 0
    """
    query = CoverageQuery.checked(specialties=specialties, max_km=max_km, max_minutes=max_minutes, cost=cost,
                                  travel=travel, include_sessions=include_sessions)
    return coverage(as_network(G_or_net), query, weights=weights, workers=workers, progress=progress)


def coverage(net: CompiledNetwork, query: CoverageQuery, *, weights: Mapping[str, float] | None = None,
             workers: int = 1, progress: Callable[[str], None] | None = None) -> CoverageReport:
    """:func:`find_coverage_gaps` of a checked :class:`~mednet.planning.query.CoverageQuery` on a compiled
    network (what-ifs ask one query of two networks).

    >>> import mednet
    >>> net = mednet.compile_network(mednet.build_network(mednet.load_region("quzhou")))
    >>> coverage(net, CoverageQuery.checked(specialties=["儿科"], max_km=30)).summary[0].demand_points
    56
    """
    workers = check_workers(workers)
    layer = query.layer(net)
    codes = query.codes(net)
    demand = np.flatnonzero(net.primary_care)
    weight, basis = _demand_weights(net, demand, weights)
    speed = net.speed_kmh

    offered = query.offered(net, codes)
    columns = [offered[:, s] for s in range(len(codes))]
    done = (lambda s: progress(codes[s])) if progress else None
    by_travel: dict[str, np.ndarray] = {}
    if layer is None:
        distance, nearest = all_passes(network_graph(net), columns, demand, workers=workers, done=done)
        minutes = distance / speed * 60.0
    else:
        nearest, distance, minutes, km_basis, minutes_basis = travel_passes(
            layer, layer.rows_of(net.ids), columns, demand, cost=query.cost, workers=workers, done=done)
        by_travel = dict(travel_minutes=minutes, km_basis=km_basis, minutes_basis=minutes_basis)

    gap = ~np.isfinite(distance)
    if query.max_km is not None:
        gap |= distance > query.max_km
    if query.max_minutes is not None:
        gap |= minutes > query.max_minutes
    for a in (demand, weight, distance, nearest, gap, *by_travel.values()):
        a.flags.writeable = False
    return CoverageReport(
        network=net, specialties=codes, max_km=query.max_km, max_minutes=query.max_minutes, speed_kmh=speed,
        include_sessions=query.include_sessions, weight_basis=basis, demand_rows=demand, weight=weight,
        distance_km=distance, nearest_row=nearest, gap=gap, cost=query.cost, travel=layer, **by_travel,
    )


def as_network(G_or_net: nx.Graph | CompiledNetwork) -> CompiledNetwork:
    """The compiled network of a graph (compiled now), or the compiled network given."""
    if isinstance(G_or_net, CompiledNetwork):
        return G_or_net
    if isinstance(G_or_net, nx.Graph):
        return compile_network(G_or_net)
    raise InvalidRequest("G", type(G_or_net).__name__, "must be a network (mednet.build_network) or a compiled one")


def _demand_weights(net: CompiledNetwork, demand: np.ndarray,
                    weights: Mapping[str, float] | None) -> tuple[np.ndarray, WeightBasis]:
    G = net.G
    if weights is not None:
        out = np.full(len(demand), np.nan)
        position = {int(r): d for d, r in enumerate(demand)}
        for name, value in weights.items():
            node = resolve_institution(G, name)
            d = position.get(net.index[node])
            if d is None:
                raise InvalidRequest("weights", name, "must name primary-care institutions (the demand points)")
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise InvalidRequest(f"weights[{name!r}]", value, "must be a number >= 0") from None
            if not (math.isfinite(number) and number >= 0):
                raise InvalidRequest(f"weights[{name!r}]", value, "must be a number >= 0")
            out[d] = number
        missing = [net.ids[demand[d]] for d in np.flatnonzero(np.isnan(out))]
        if missing:
            shown = ", ".join(missing[:3]) + (" …" if len(missing) > 3 else "")
            raise InvalidRequest("weights", f"{len(missing)} demand points left out ({shown})",
                                 "must give a weight for every primary-care institution")
        return out, "caller"
    population = net.population[demand]
    known = ~np.isnan(population)
    if len(demand) and known.all():
        return population, "population"
    if known.any():
        return np.where(known, population, np.median(population[known])), "population_partial"
    return np.ones(len(demand)), "uniform"

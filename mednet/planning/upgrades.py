"""Upgrade sites: where adding a specialty covers the most uncovered demand (maximal covering, greedy).

:func:`maximal_covering` is the array core (a coverage matrix, demand
weights, ``k`` → the chosen candidates and their marginal gains);
:func:`suggest_upgrades` is the adapter that resolves names, computes the
coverage matrix on the network and ends by calling it, as spopt's
``MCLP.from_geodataframe`` ends in ``MCLP.from_cost_matrix``.

    >>> from scipy.sparse import csr_array
    >>> covers = csr_array(np.array([[1, 0], [1, 1], [0, 1], [0, 1]]))  # demand points × candidate sites
    >>> maximal_covering(covers, np.array([5.0, 1.0, 1.0, 1.0]), k=2)
    [(0, 6.0, [0, 1]), (1, 2.0, [2, 3])]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
from pydantic import Field
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from mednet.errors import InvalidRequest
from mednet.extras import require_extra
from mednet.models import Frozen
from mednet.network import CompiledNetwork, resolve_institution
from mednet.planning.gaps import as_network, coverage
from mednet.planning.passes import network_graph, whole_km
from mednet.planning.query import CoverageQuery
from mednet.planning.report import WeightBasis, by_travel, share
from mednet.routing.request import check_max_km
from mednet.travel.layer import Cost, TravelLayer, check_cost
from mednet.travel.search import within_cost

if TYPE_CHECKING:
    import pandas as pd


def maximal_covering(covers: csr_array, weight: np.ndarray, *, k: int) -> list[tuple[int, float, list[int]]]:
    """The maximal covering location problem (Church & ReVelle 1974), solved greedily.

    Given demand points ``i`` with weights ``w_i`` and candidate sites ``j``
    with ``a_ij = 1`` when site ``j`` covers point ``i`` (``covers``, points
    × candidates), choose at most ``k`` sites maximising the covered weight::

        maximise   sum_i w_i y_i
        subject to y_i <= sum_j a_ij x_j   (a point counts as covered only if a chosen site covers it)
                   sum_j x_j <= k,   x_j, y_i in {0, 1}

    Each greedy step takes the site that covers the most still-uncovered
    weight (ties to the lower index). Covered weight is monotone and
    submodular in the chosen set, so greedy reaches at least 1 − 1/e ≈ 63 %
    of the optimum (Nemhauser, Wolsey & Fisher 1978). Stops early when no
    site adds anything. Returns, per chosen site in order, ``(site, gain,
    newly covered points)``.
    """
    covers = csr_array(covers)
    active = np.ones(covers.shape[0], dtype=bool)
    gain = covers.T @ weight
    by_site = covers.tocsc()
    chosen: list[tuple[int, float, list[int]]] = []
    for _ in range(k):
        c = int(np.argmax(gain)) if gain.size else 0
        if not gain.size or gain[c] <= 0:
            break
        hit = by_site.indices[by_site.indptr[c]:by_site.indptr[c + 1]]
        hit = hit[active[hit]]
        active[hit] = False
        gain -= covers[hit].T @ weight[hit]
        gain[c] = 0.0
        chosen.append((c, float(weight[hit].sum()), hit.tolist()))
    return chosen


class UpgradeStep(Frozen):
    """One chosen site and what it adds on top of the sites chosen before it."""

    rank: int
    institution: str
    name: str
    tier: str
    county: str
    lat: float
    lon: float
    gain_demand: float = Field(description="uncovered demand this site brings within the limit (marginal gain)")
    gain_points: int
    covered_demand: float = Field(description="covered demand after this step, cumulative")
    covered_share: float | None
    newly_covered: tuple[str, ...]


class UpgradePlan(Frozen):
    """The greedy maximal-covering choice of upgrade sites for one specialty."""

    region: str
    specialty: str
    max_km: float | None
    max_minutes: float | None = by_travel(description="by travel cost in minutes: the limit (left out by km)")
    cost: Cost | None = by_travel(description="by travel cost: what the limit is in (left out by network km)")
    k: int
    weight_basis: WeightBasis
    demand: float
    covered_demand_before: float
    candidates: int
    steps: tuple[UpgradeStep, ...]
    note: str | None = None

    @property
    def covered_demand_after(self) -> float:
        return self.steps[-1].covered_demand if self.steps else self.covered_demand_before

    def to_frame(self) -> pd.DataFrame:
        pd = require_extra("pandas", "planning")
        frame = pd.DataFrame([s.model_dump() for s in self.steps], columns=list(UpgradeStep.model_fields))
        frame["newly_covered"] = frame["newly_covered"].map(" ".join)
        return frame

    def to_geojson(self) -> dict:
        """The chosen sites as points ([lon, lat]) with rank and marginal gain."""
        features = [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
             "properties": s.model_dump(mode="json", exclude={"lat", "lon"})}
            for s in self.steps
        ]
        return {"type": "FeatureCollection", "features": features,
                "properties": self.model_dump(mode="json", exclude={"steps"})}


def suggest_upgrades(
    G_or_net: nx.Graph | CompiledNetwork,
    specialty: str,
    *,
    k: int,
    max_km: float | None = None,
    max_minutes: float | None = None,
    cost: Cost = "km",
    travel: TravelLayer | None = None,
    candidates: Iterable[str] | None = None,
    weights: Mapping[str, float] | None = None,
    include_sessions: bool = True,
) -> UpgradePlan:
    """The ``k`` institutions where adding ``specialty`` covers the most uncovered demand.

    The adapter of :func:`maximal_covering` (see it for the formulation):
    a candidate covers the demand points within ``max_km`` of it (network
    distance); each step reports its marginal gain. Stops early when no candidate adds anything. Candidates default to
    every institution not yet offering the specialty. Balls come from
    bounded multi-source searches (``limit=max_km``) from the uncovered
    demand points, in batches, into a sparse demand × candidate matrix.

    By travel cost (``cost="minutes"`` or a ``travel`` layer, as in
    :func:`~mednet.planning.gaps.find_coverage_gaps`) a candidate covers the demand points within
    the one limit in the cost's unit (``max_minutes`` or ``max_km``) on the
    travel layer (:func:`mednet.travel.search.within_cost`).

    >>> import mednet
    >>> G = mednet.build_network(mednet.load_region("quzhou"))
    >>> plan = suggest_upgrades(G, "儿科", k=2, max_km=30)
    >>> len(plan.steps), plan.steps[0].gain_demand >= plan.steps[1].gain_demand
    (2, True)
    """
    net = as_network(G_or_net)
    cost = check_cost(cost)
    name, other = ("max_minutes", "max_km") if cost == "minutes" else ("max_km", "max_minutes")
    limit = check_max_km(max_minutes if cost == "minutes" else max_km, name=name)
    if limit is None:
        raise InvalidRequest(name, limit, "must be a number > 0", rule_zh="须为大于 0 的数")
    if (max_km if cost == "minutes" else max_minutes) is not None:
        raise InvalidRequest(other, max_km if cost == "minutes" else max_minutes,
                             f"must be left out with cost={cost!r}: sites cover within the one limit {name}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InvalidRequest("k", k, "must be a whole number >= 1", rule_zh="须为不小于 1 的整数")
    query = CoverageQuery.checked(specialties=[specialty], max_km=limit if name == "max_km" else None,
                                  max_minutes=limit if name == "max_minutes" else None, cost=cost, travel=travel,
                                  include_sessions=include_sessions)
    report = coverage(net, query, weights=weights)
    code, s = report.specialties[0], 0
    if candidates is None:
        offered = report.offered()[:, 0]
        cand = np.flatnonzero(~offered)
    else:
        cand = np.array(sorted({net.index[resolve_institution(net.G, c)] for c in candidates}), dtype=np.int64)
    w_all = report.weight
    uncovered = np.flatnonzero(report.gap[:, s])
    total = float(w_all.sum())
    covered = float(w_all[~report.gap[:, s]].sum())
    common = dict(region=net.region, specialty=code, k=int(k), weight_basis=report.weight_basis,
                  demand=total, covered_demand_before=covered, candidates=len(cand),
                  max_km=report.max_km, max_minutes=report.max_minutes, cost=cost if report.travel else None)
    if not len(uncovered):
        return UpgradePlan(**common, steps=(), note=f"every demand point is already within {name}")
    if not len(cand):
        return UpgradePlan(**common, steps=(), note="no candidate institution")

    if report.travel is None:
        ball = _coverage_matrix(net, report.demand_rows[uncovered], cand, limit)  # uncovered × candidates
    else:
        rows = report.travel.rows_of(net.ids)
        at, site, _ = within_cost(report.travel, rows[report.demand_rows[uncovered]], rows[cand], cost=cost,
                                  limit=limit)
        ball = csr_array((np.ones(len(at)), (at, site)), shape=(len(uncovered), len(cand)))
    w = w_all[uncovered].astype(float)
    steps = []
    for rank, (c, gain, hit) in enumerate(maximal_covering(ball, w, k=int(k)), start=1):
        covered += gain
        node = net.ids[cand[c]]
        attrs = net.G.nodes[node]
        steps.append(UpgradeStep(
            rank=rank, institution=node, name=attrs["name"], tier=str(attrs["tier"]), county=attrs["county"],
            lat=float(net.lat[cand[c]]), lon=float(net.lon[cand[c]]),
            gain_demand=gain, gain_points=len(hit), covered_demand=covered, covered_share=share(covered, total),
            newly_covered=tuple(net.ids[report.demand_rows[uncovered[h]]] for h in hit),
        ))
    note = None
    if len(steps) < int(k):
        note = f"stopped after {len(steps)} sites: no other candidate covers more demand within {name}"
    return UpgradePlan(**common, steps=tuple(steps), note=note)


def _coverage_matrix(net: CompiledNetwork, rows: np.ndarray, cand: np.ndarray, max_km: float) -> csr_array:
    """Sparse (rows × candidates) 0/1 matrix: candidate within ``max_km`` of each row's point.

    The network is undirected, so searching from the demand points gives
    the same distances as from the candidates; batches keep the dense
    scipy output under ~64 MB.
    """
    csr = network_graph(net)
    position = np.full(net.n, -1, dtype=np.int64)
    position[cand] = np.arange(len(cand))
    batch = max(1, 8_000_000 // max(net.n, 1))
    parts_r, parts_c = [], []
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        dist = dijkstra(csr, directed=True, indices=chunk, limit=max_km * 1000.0 + 1.0)
        r, node = np.nonzero(whole_km(dist) <= max_km)  # as routing compares: whole metres / 1000
        keep = position[node] >= 0
        r, c = r[keep], position[node[keep]]
        parts_r.append(r + start)
        parts_c.append(c)
    r, c = np.concatenate(parts_r), np.concatenate(parts_c)
    return csr_array((np.ones(len(r)), (r, c)), shape=(len(rows), len(cand)))

"""Capacity-aware access: two-step floating catchments (2SFCA, E2SFCA) per demand point and specialty.

Step one: each capable institution ``j`` divides its supply ``S_j`` by the
people in its catchment, weighted by distance decay:
``R_j = S_j / Σ_i P_i W(c_ij)`` over points ``i`` with ``c_ij ≤ limit``.
Step two: each point sums the ratios it reaches, weighted the same way:
``A_i = Σ_j R_j W(c_ij)`` (Luo & Wang 2003; the enhanced form of Luo & Qi 2009 uses step weights, McGrail's
a Gaussian). :func:`floating_catchment` is the array core (pure numpy on the
pairs within the limit); :func:`access_scores` computes the pairs on the
network (:func:`mednet.planning.demand.pairs_within`, km or minutes) and the
supply from what the region holds — beds, weekly slots or sessions of the
specialty, one per capable site, or figures the caller gives (referral quota
units) — and says which.

    >>> import numpy as np
    >>> fca = floating_catchment(np.array([100.0, 300.0]), np.array([2.0]), np.array([0, 1]), np.array([0, 0]),
    ...                          np.array([5.0, 15.0]), step_decay(20))
    >>> fca.ratio.tolist(), fca.score.tolist()
    ([0.005], [0.005, 0.005])
    >>> gaussian_decay(10, 30)(np.array([0.0, 10.0, 40.0])).round(4).tolist()
    [1.0, 0.6065, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx
import numpy as np

from mednet.errors import InvalidRequest
from mednet.network import CompiledNetwork, resolve_institution
from mednet.planning.demand import attach, check_limit, pairs_within
from mednet.planning.gaps import as_network
from mednet.planning.population import Population
from mednet.planning.query import offered, resolve_specialties
from mednet.travel.layer import Cost, TravelLayer, check_cost

SupplyBasis = Literal["beds", "weekly_slots", "weekly_sessions", "sites", "caller"]
SUPPLY_BASES: tuple[str, ...] = ("beds", "weekly_slots", "weekly_sessions", "sites")


@dataclass(frozen=True)
class Decay:
    """A distance-decay weight: ``weight(cost)`` on costs within ``limit`` (0 beyond), and how to say it."""

    limit: float
    weight: Callable[[np.ndarray], np.ndarray]
    kind: str
    text: str

    def __call__(self, cost: np.ndarray) -> np.ndarray:
        cost = np.asarray(cost, dtype=float)
        return np.where(cost <= self.limit, self.weight(cost), 0.0)


def step_decay(limit: float) -> Decay:
    """2SFCA: weight 1 within ``limit``."""
    limit = check_limit(limit, "limit")
    return Decay(limit, lambda c: np.ones_like(c), "2sfca", f"weight 1 within {limit:g}")


def steps_decay(steps: Mapping[float, float]) -> Decay:
    """E2SFCA with step weights: ``{10: 1, 20: 0.68, 30: 0.22}`` gives 1 up to 10, 0.68 up to 20, 0.22 up to 30.

    >>> steps_decay({10: 1, 20: 0.5})(np.array([0.0, 10.0, 15.0, 25.0])).tolist()
    [1.0, 1.0, 0.5, 0.0]
    """
    if not steps:
        raise InvalidRequest("steps", {}, "must give at least one (upper bound, weight) pair")
    bounds = np.array(sorted(check_limit(b, "steps") for b in steps), dtype=float)
    weights = np.array([float(steps[b]) for b in sorted(steps)], dtype=float)
    if not (np.isfinite(weights).all() and (weights >= 0).all()):
        raise InvalidRequest("steps", dict(steps), "weights must be numbers >= 0")

    def weight(cost: np.ndarray) -> np.ndarray:
        at = np.searchsorted(bounds, cost, side="left")
        return np.where(at < len(bounds), weights[np.minimum(at, len(bounds) - 1)], 0.0)

    text = ", ".join(f"{w:g} up to {b:g}" for b, w in zip(bounds, weights, strict=True))
    return Decay(float(bounds[-1]), weight, "e2sfca-steps", f"weight {text}")


def gaussian_decay(sigma: float, limit: float) -> Decay:
    """E2SFCA with Gaussian weights ``exp(-c² / 2σ²)`` within ``limit``."""
    sigma, limit = check_limit(sigma, "sigma"), check_limit(limit, "limit")
    return Decay(limit, lambda c: np.exp(-c * c / (2 * sigma ** 2)), "e2sfca-gaussian",
                 f"weight exp(-c²/2·{sigma:g}²) within {limit:g}")


@dataclass(frozen=True, eq=False)
class Catchments:
    """Scores per point (``score``), supply-to-demand ratio per site (``ratio``) and each site's weighted demand."""

    score: np.ndarray
    ratio: np.ndarray
    demand: np.ndarray


def floating_catchment(people: np.ndarray, supply: np.ndarray, point: np.ndarray, site: np.ndarray,
                       cost: np.ndarray, decay: Decay) -> Catchments:
    """Two-step floating catchment over (point, site, cost) pairs.

    A site nobody reaches has ratio 0 (no one to share it), and a point
    reaching no site has score 0.
    """
    people, supply = np.asarray(people, dtype=float), np.asarray(supply, dtype=float)
    w = decay(cost)
    demand = np.bincount(site, weights=people[point] * w, minlength=len(supply))
    ratio = np.divide(supply, demand, out=np.zeros(len(supply)), where=demand > 0)
    score = np.bincount(point, weights=ratio[site] * w, minlength=len(people))
    return Catchments(score=score, ratio=ratio, demand=demand)


@dataclass(frozen=True, eq=False)
class AccessScores:
    """E2SFCA scores for one specialty, with its inputs: the sites and supply used, the basis, decay and cost."""

    population: Population
    specialty: str
    cost: Cost
    decay: Decay
    supply_basis: SupplyBasis
    site_ids: tuple[str, ...]
    supply: np.ndarray
    catchments: Catchments
    left_out: tuple[str, ...]

    @property
    def score(self) -> np.ndarray:
        return self.catchments.score

    def statement(self) -> str:
        """What the scores rest on, in one line."""
        left = f"; {len(self.left_out)} capable sites without a figure left out" if self.left_out else ""
        return (f"{self.specialty}: {self.decay.kind} by {self.cost} ({self.decay.text}); supply = "
                f"{self.supply_basis} at {len(self.site_ids)} sites (total {self.supply.sum():g}){left}; demand = "
                f"{self.population.total:g} people at {len(self.population)} points ({self.population.source})")

    def frame(self) -> Any:
        """One row per demand point: name, lat, lon, people, score (pandas)."""
        import pandas as pd

        p = self.population
        return pd.DataFrame({"name": p.names, "lat": p.lat, "lon": p.lon, "people": p.people, "score": self.score})

    def sites_frame(self) -> Any:
        """One row per site: id, supply, weighted demand, ratio (pandas)."""
        import pandas as pd

        c = self.catchments
        return pd.DataFrame({"id": self.site_ids, "supply": self.supply, "demand": c.demand, "ratio": c.ratio})


def access_scores(G_or_net: nx.Graph | CompiledNetwork, population: Population, specialty: str, *,
                  decay: Decay, cost: Cost = "km", supply: SupplyBasis | Mapping[str, float] = "sites",
                  travel: TravelLayer | None = None, include_sessions: bool = True) -> AccessScores:
    """2SFCA/E2SFCA scores of ``specialty`` at each demand point, catchments by ``cost`` (km or minutes).

    ``supply``: ``beds``, ``weekly_slots``, ``weekly_sessions`` (of the
    specialty, as the region gives them; sessions counted from the
    timetable when no weekly figure is given), ``sites`` (1 per capable
    institution), or a mapping institution → units (e.g. referral quota
    units) covering the sites to count.
    """
    net = as_network(G_or_net)
    cost = check_cost(cost)
    (code,) = resolve_specialties(net, [specialty])
    held = offered(net, [code], include_sessions=include_sessions)[:, 0]
    rows, values, left_out, basis = _supply(net, code, np.flatnonzero(held), supply)
    at = attach(net, lat=population.lat, lon=population.lon)
    point, site, value = pairs_within(net, at, rows, limit=decay.limit, cost=cost, travel=travel)
    found = floating_catchment(population.people, values, point, site, value, decay)
    return AccessScores(population=population, specialty=code, cost=cost, decay=decay, supply_basis=basis,
                        site_ids=tuple(net.ids[r] for r in rows), supply=values, catchments=found,
                        left_out=left_out)


def _supply(net: CompiledNetwork, code: str, capable: np.ndarray, supply: object
            ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], SupplyBasis]:
    if isinstance(supply, Mapping):
        given: dict[int, float] = {}
        for name, units in supply.items():
            row = net.index[resolve_institution(net.G, name)]
            number = float(units) if isinstance(units, int | float) and not isinstance(units, bool) else math.nan
            if not (math.isfinite(number) and number >= 0):
                raise InvalidRequest(f"supply[{name!r}]", units, "must be a number >= 0")
            given[row] = number
        chosen = np.array(sorted(given), dtype=np.int64)
        return chosen, np.array([given[r] for r in chosen]), (), "caller"
    if supply not in SUPPLY_BASES:
        raise InvalidRequest("supply", supply, f"must be one of {', '.join(SUPPLY_BASES)} or a mapping of units",
                             rule_zh="应为 beds、weekly_slots、weekly_sessions、sites 之一，或各机构的数量")
    if supply == "sites":
        return capable, np.ones(len(capable)), (), "sites"
    kept: list[int] = []
    values: list[float] = []
    left: list[str] = []
    for r in capable:
        figure = _figure(net.G.nodes[net.ids[r]]["capabilities"].get(code), str(supply))
        if figure is None:
            left.append(net.ids[r])
        else:
            kept.append(int(r))
            values.append(figure)
    if not kept:
        raise InvalidRequest("supply", supply, f"is given for no institution offering {code} in this region; use "
                             "supply='sites' or give the units", rule_zh=f"该区域没有任何提供{code}的机构填报此数，"
                             "请改用 sites 或给出各机构的数量")
    return np.array(kept, dtype=np.int64), np.array(values, dtype=float), tuple(left), supply  # type: ignore[return-value]


def _figure(capability: Any, basis: str) -> float | None:
    if capability is None:
        return None
    value = getattr(capability, basis, None)
    if value is None and basis == "weekly_sessions" and capability.sessions:
        return float(sum(1.0 / s.every_weeks for s in capability.sessions))
    return None if value is None else float(value)


def ledger_quota_supply(engine: Any, *, region: str, specialty: str) -> dict[str, float]:
    """Referral quota units of ``specialty`` in the ledger (per day × 7: a week's referral places), by
    institution id, for ``access_scores(..., supply=...)``."""
    import sqlalchemy as sa

    from mednet.ledger.store import quotas
    from mednet.specialties import resolve_specialty

    code = resolve_specialty(specialty).code
    query = sa.select(quotas.c.institution, quotas.c.specialty, quotas.c.per_day).where(quotas.c.region == region)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    units: dict[str, float] = {}
    for institution, stored, per_day in rows:
        try:
            same = resolve_specialty(stored).code == code
        except KeyError:
            continue
        if same:
            units[institution] = units.get(institution, 0.0) + 7.0 * float(per_day)
    if not units:
        raise InvalidRequest("supply", "quota", f"needs referral quotas of {code} in the ledger for {region}; none "
                             "are set", rule_zh=f"账本中没有{region}的{code}转诊号源配额")
    return units


def scores_by_specialty(G_or_net: nx.Graph | CompiledNetwork, population: Population,
                        specialties: Iterable[str], **options: Any) -> dict[str, AccessScores]:
    """:func:`access_scores` for each specialty (same options)."""
    net = as_network(G_or_net)
    return {code: access_scores(net, population, code, **options) for code in resolve_specialties(net, specialties)}


__all__ = ["SUPPLY_BASES", "AccessScores", "Catchments", "Decay", "SupplyBasis", "access_scores",
           "floating_catchment", "gaussian_decay", "ledger_quota_supply", "scores_by_specialty", "step_decay",
           "steps_decay"]

"""Access for people: the share of the population within 15, 30 and 60 minutes (and 10, 20, 40 km) of each
specialty.

Where people by township are given (a :class:`~mednet.planning.population.Population`, e.g. the imported 人口
sheet through :func:`~mednet.planning.population.townships_population`), the shares are of *people*, counted
by :func:`~mednet.planning.population.population_coverage` (the first leg from each township to the network,
then the network or the travel layer to the nearest capable institution). Where none is given, each
primary-care centre stands for the people it serves: weighted by the ``population`` the region gives for it,
else each centre counts once, and the ``basis`` column says so (by centres, not people); the minutes there are
the network km at the region's assumed speed (an estimate), as in :func:`mednet.planning.find_coverage_gaps`.

    >>> import mednet
    >>> G = mednet.build_network(mednet.load_region("quzhou"))
    >>> frame = access_shares(G, specialties=["paediatrics"])
    >>> sorted(set(frame["limit"]))[:3], frame["basis"].iloc[0]
    ([10.0, 15.0, 20.0], '按机构计（区域未提供人口）')
    >>> from mednet.planning.population import Population
    >>> people = Population(names=("甲", "乙"), lat=np.array([28.97, 29.25]), lon=np.array([118.87, 118.36]),
    ...                     people=np.array([1000.0, 3000.0]), kind="points", source="示例（虚构）")
    >>> frame = access_shares(G, specialties=["paediatrics"], population=people, km=(500.0,), minutes=())
    >>> float(frame["share"].iloc[0]), float(frame["total"].iloc[0]), frame["basis"].iloc[0]
    (1.0, 4000.0, '按人口计（乡镇/网格人口：示例（虚构））')
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx
import numpy as np
import pandas as pd

from mednet.network import CompiledNetwork
from mednet.planning import find_coverage_gaps
from mednet.planning.gaps import as_network
from mednet.planning.population import Population, population_coverage
from mednet.specialties import resolve_specialty

MINUTES = (15.0, 30.0, 60.0)
KM = (10.0, 20.0, 40.0)
BASIS_ZH = {"population": "按人口计（区域给出各机构服务人口）",
            "population_partial": "按人口计（部分机构缺人口，按 0 计）",
            "caller": "按给定权重计", "uniform": "按机构计（区域未提供人口）"}
COLUMNS = ["specialty", "label_zh", "unit", "limit", "share", "total", "covered", "basis"]


def access_shares(G_or_net: nx.Graph | CompiledNetwork, *, specialties: Iterable[str] | None = None,
                  minutes: Iterable[float] = MINUTES, km: Iterable[float] = KM,
                  population: Population | None = None) -> pd.DataFrame:
    """One row per specialty, unit and limit: the share of people (or of centres) within it, the people (or
    centres, or their weights) in all (``total``) and within it (``covered``), and the basis.

    ``population`` given: the share of its people (:func:`population_coverage`); else by centres. A graph is
    compiled once for every pass (give a compiled network to skip it)."""
    minutes, km = tuple(minutes), tuple(km)
    net = as_network(G_or_net)
    if population is not None:
        return _by_people(net, population, specialties, minutes, km)
    report = find_coverage_gaps(net, specialties=specialties)
    weight = np.asarray(report.weight, dtype=float)
    costs = {"minutes": report.minutes, "km": report.distance_km}
    return _frame(report.specialties, weight, costs, minutes, km, BASIS_ZH[report.weight_basis])


def _by_people(net: CompiledNetwork, population: Population, specialties: Iterable[str] | None,
               minutes: tuple[float, ...], km: tuple[float, ...]) -> pd.DataFrame:
    """The shares of ``population``'s people: each point's cost to the nearest capable institution, found once
    per unit (every point's cost is kept, whatever the limit), compared with every limit of that unit."""
    codes = None if specialties is None else list(specialties)
    costs: dict[str, np.ndarray] = {}
    found: tuple[str, ...] = ()
    if minutes:
        cover = population_coverage(net, population, specialties=codes, max_minutes=max(minutes))
        costs["minutes"], found = cover.cost_to, cover.specialties
    if km:
        cover = population_coverage(net, population, specialties=codes, max_km=max(km))
        costs["km"], found = cover.cost_to, cover.specialties
    basis = f"按人口计（乡镇/网格人口：{population.source}）"
    return _frame(found, np.asarray(population.people, dtype=float), costs, minutes, km, basis)


def _frame(codes: Iterable[str], weight: np.ndarray, costs: dict[str, np.ndarray], minutes: tuple[float, ...],
           km: tuple[float, ...], basis: str) -> pd.DataFrame:
    total = float(weight.sum())
    rows = []
    for s, code in enumerate(codes):
        label = resolve_specialty(code).label_zh
        for unit, limits in (("minutes", minutes), ("km", km)):
            if unit not in costs:
                continue
            values = costs[unit]
            for limit in limits:
                within = float(weight[np.isfinite(values[:, s]) & (values[:, s] <= limit)].sum())
                rows.append(dict(specialty=code, label_zh=label, unit=unit, limit=float(limit),
                                 share=within / total if total else None, total=total, covered=within,
                                 basis=basis))
    return pd.DataFrame(rows, columns=COLUMNS)

"""Access for people: the share of the population within 15, 30 and 60 minutes (and 10, 20, 40 km) of each
specialty, by the network's distance from each primary-care centre to the nearest capable institution.

Each centre stands for the people it serves: weighted by the ``population`` the region gives for it; where
the region gives none, each centre counts once and the ``basis`` column says so (by centres, not people).
Minutes are the network km at the region's assumed speed (an estimate), as in
:func:`mednet.planning.find_coverage_gaps`, whose passes this reads.

    >>> import mednet
    >>> G = mednet.build_network(mednet.load_region("quzhou"))
    >>> frame = access_shares(G, specialties=["paediatrics"])
    >>> sorted(set(frame["limit"]))[:3], frame["basis"].iloc[0]
    ([10.0, 15.0, 20.0], '按机构计（区域未提供人口）')
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx
import numpy as np
import pandas as pd

from mednet.planning import find_coverage_gaps
from mednet.specialties import resolve_specialty

MINUTES = (15.0, 30.0, 60.0)
KM = (10.0, 20.0, 40.0)
BASIS_ZH = {"population": "按人口计", "population_partial": "按人口计（部分机构缺人口，按 0 计）",
            "caller": "按给定权重计", "uniform": "按机构计（区域未提供人口）"}


def access_shares(G: nx.Graph, *, specialties: Iterable[str] | None = None, minutes: Iterable[float] = MINUTES,
                  km: Iterable[float] = KM) -> pd.DataFrame:
    """One row per specialty, unit and limit: the share of people (or of centres) within it, and the basis."""
    report = find_coverage_gaps(G, specialties=specialties)
    weight = np.asarray(report.weight, dtype=float)
    total = float(weight.sum())
    rows = []
    for s, code in enumerate(report.specialties):
        label = resolve_specialty(code).label_zh
        for unit, limits, values in (("minutes", minutes, report.minutes[:, s]), ("km", km,
                                                                                   report.distance_km[:, s])):
            for limit in limits:
                within = float(weight[np.isfinite(values) & (values <= limit)].sum())
                rows.append(dict(specialty=code, label_zh=label, unit=unit, limit=float(limit),
                                 share=within / total if total else None, basis=BASIS_ZH[report.weight_basis]))
    return pd.DataFrame(rows, columns=["specialty", "label_zh", "unit", "limit", "share", "basis"])

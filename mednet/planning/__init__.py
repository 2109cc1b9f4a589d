"""Planning: coverage gaps, what-ifs and upgrade sites, one job per module.

- :mod:`~mednet.planning.query`: :class:`CoverageQuery`, one coverage question checked once.
- :mod:`~mednet.planning.gaps`: :func:`find_coverage_gaps` and :func:`coverage` (of a query), the analysis.
- :mod:`~mednet.planning.report`: the immutable :class:`CoverageReport` and its exports (frames, CSV, GeoJSON).
- :mod:`~mednet.planning.passes`: the multi-source passes, over forked workers.
- :mod:`~mednet.planning.scenarios`: scenario files and :func:`what_if`.
- :mod:`~mednet.planning.upgrades`: :func:`maximal_covering` (the array core) and :func:`suggest_upgrades`.
- :mod:`~mednet.planning.maps`: maps drawn from a report (matplotlib, folium).
- People and capacity (imported on use): :mod:`~mednet.planning.population`, :mod:`~mednet.planning.access`,
  :mod:`~mednet.planning.locate`, :mod:`~mednet.planning.flows`, :mod:`~mednet.planning.batch`,
  :mod:`~mednet.planning.offline` (on :mod:`~mednet.planning.demand`).

Pandas, CSV and maps need the ``planning`` extra (``pip install 'mednet[planning]'``).

    >>> import mednet
    >>> G = mednet.build_network(mednet.load_region("quzhou"))
    >>> suggest_upgrades(G, "儿科", k=1, max_km=30).steps[0].name
    '峡口中心卫生院'
"""

from __future__ import annotations

from mednet.errors import MissingExtra, ScenarioDataError
from mednet.planning.gaps import coverage, find_coverage_gaps
from mednet.planning.passes import nearest_sources, search_graph
from mednet.planning.query import CoverageQuery
from mednet.planning.report import (
    AreaCoverage,
    AreaSpecialty,
    BasisCount,
    CoverageReport,
    ServedPoint,
    SpecialtyCoverage,
    WeightBasis,
)
from mednet.planning.scenarios import (
    Scenario,
    ScenarioCapability,
    ScenarioComparison,
    ScenarioLink,
    ScenarioRemoval,
    SpecialtyChange,
    apply_scenario,
    load_scenario,
    parse_scenario,
    what_if,
)
from mednet.planning.upgrades import UpgradePlan, UpgradeStep, maximal_covering, suggest_upgrades

__all__ = [
    "AreaCoverage", "AreaSpecialty", "BasisCount", "CoverageQuery", "CoverageReport", "MissingExtra", "Scenario",
    "ScenarioCapability", "ScenarioComparison", "ScenarioDataError", "ScenarioLink", "ScenarioRemoval", "ServedPoint",
    "SpecialtyChange", "SpecialtyCoverage", "UpgradePlan", "UpgradeStep", "WeightBasis", "apply_scenario", "coverage",
    "find_coverage_gaps", "load_scenario", "maximal_covering", "nearest_sources", "parse_scenario", "search_graph",
    "suggest_upgrades", "what_if",
]

"""The planner view's people and sites: population coverage of the specialty, and the exact best new sites.

People are the population the region gives its health centres; a region
that gives none is counted by centres (one each), and the page says so.
With ``k`` (新增站点数, 0–10) the exact maximal covering (HiGHS, the sites
offering the specialty fixed) names the new sites, beside the greedy
answer's coverage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mednet.errors import InvalidRequest
from mednet.planning.locate import locate
from mednet.planning.population import Population, institutions_population, population_coverage

#: The most new sites the page solves for (a larger plan belongs to ``mednet plan locate``).
MAX_K = 10


@dataclass(frozen=True)
class PlannerPlan:
    """What the page shows: people counted and how, those within reach, and the new sites (id, name)."""

    basis: str
    people: float
    covered: float
    k: int
    new_sites: tuple[tuple[str, str], ...]
    covered_after: float | None
    greedy_covered: float | None
    status: str | None

    @property
    def share(self) -> float:
        return self.covered / self.people if self.people else 0.0

    @property
    def share_after(self) -> float | None:
        return None if self.covered_after is None or not self.people else self.covered_after / self.people


def parse_k(text: str) -> tuple[int | None, str | None]:
    """The form's 新增站点数: a whole number 0–:data:`MAX_K`, or the Chinese error.

    >>> parse_k("3"), parse_k("")[0], parse_k("x")[1]
    ((3, None), 0, '新增站点数须为 0 到 10 之间的整数，收到“x”。')
    """
    text = text.strip() or "0"
    if text.isdigit() and 0 <= int(text) <= MAX_K:
        return int(text), None
    return None, f"新增站点数须为 0 到 {MAX_K} 之间的整数，收到“{text}”。"


def _people(net: Any) -> tuple[Population, str]:
    try:
        return institutions_population(net), "按区域数据中各基层机构的服务人口计"
    except InvalidRequest:
        rows = np.flatnonzero(net.primary_care)
        return Population(names=tuple(net.ids[r] for r in rows), lat=net.lat[rows].astype(float),
                          lon=net.lon[rows].astype(float), people=np.ones(len(rows)), kind="institutions",
                          source="one per centre"), "区域数据未提供人口，按基层机构计（每家计 1）"


def planner_plan(net: Any, code: str, max_km: float, k: int) -> PlannerPlan:
    """Population coverage of ``code`` within ``max_km``, and the best ``k`` new sites (none for 0)."""
    people, basis = _people(net)
    cover = population_coverage(net, people, specialties=[code], max_km=max_km)
    covered = cover.rows[0].covered
    if k == 0:
        return PlannerPlan(basis, people.total, covered, 0, (), None, None, None)
    plan = locate(net, people, code, max_km=max_km, k=k, time_limit=10)
    names = tuple((i, str(net.G.nodes[i].get("name", i))) for i in plan.new_ids)
    return PlannerPlan(basis, people.total, covered, k, names, plan.exact.covered,
                       None if plan.greedy is None else plan.greedy.covered, plan.exact.status)


__all__ = ["MAX_K", "PlannerPlan", "parse_k", "planner_plan"]

"""Exact location-allocation with HiGHS: maximal covering, p-median, capacitated p-median, set covering.

The array cores take the (point, site, cost) pairs within reach
(:func:`mednet.planning.demand.pairs_within`), the people at each point and
the sites already offering the specialty (``fixed``: always open, never
counted against the budget), and solve the mixed-integer programme with
HiGHS (``highspy``):

- :func:`max_covering`: open at most ``k`` new sites (or new sites whose
  ``site_cost`` sums to at most ``budget``) covering the most people;
  :func:`greedy_covering` is the fast answer (each step the site adding the
  most people, per unit of cost under a budget), and the plan reports the
  gap between the two;
- :func:`p_median`: ``p`` open sites (fixed ones among them) minimising the
  people-weighted cost to the nearest open site; with ``capacity`` each
  point is served whole by one open site holding at most its capacity
  (capacitated p-median);
- :func:`set_covering`: the cheapest set of new sites covering every point
  any site can reach (points no site reaches are listed apart).

:func:`locate` builds the pairs on a network for a population and a specialty.

    >>> import numpy as np
    >>> people = np.array([10.0, 20.0, 30.0, 5.0])
    >>> point, site = np.array([0, 1, 1, 2, 3]), np.array([0, 0, 1, 1, 2])
    >>> best = max_covering(people, 3, point, site, k=1)
    >>> best.open.tolist(), best.covered, best.status
    ([1], 50.0, 'optimal')
    >>> greedy_covering(people, 3, point, site, k=1).open.tolist()
    [1]
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse import coo_array

from mednet.errors import InvalidRequest
from mednet.network import CompiledNetwork
from mednet.planning.demand import attach, check_limit, pairs_within
from mednet.planning.gaps import as_network
from mednet.planning.population import Population
from mednet.planning.query import resolve_specialties
from mednet.travel.layer import Cost, TravelLayer

Problem = Literal["max-covering", "p-median", "capacitated-p-median", "set-covering"]
PROBLEMS: tuple[str, ...] = ("max-covering", "p-median", "capacitated-p-median", "set-covering")


@dataclass(frozen=True, eq=False)
class Solution:
    """Sites open (positions, fixed ones included, ascending), people covered, objective, solver status and the
    solver's relative MIP gap (0 when proven optimal); ``assigned[i]``: the site serving point ``i`` (-1: none)."""

    open: np.ndarray
    covered: float
    objective: float
    status: str
    mip_gap: float
    seconds: float
    assigned: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def _check(people: ArrayLike, n_sites: int, point: ArrayLike, site: ArrayLike, fixed: ArrayLike | None
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    people = np.asarray(people, dtype=float)
    point, site = np.asarray(point, dtype=np.int64), np.asarray(site, dtype=np.int64)
    if not (np.isfinite(people).all() and (people >= 0).all()):
        raise InvalidRequest("people", "a negative or missing count", "must be numbers >= 0")
    if len(point) != len(site) or (len(point) and (point.min() < 0 or point.max() >= len(people)
                                                   or site.min() < 0 or site.max() >= n_sites)):
        raise InvalidRequest("pairs", len(point), "must be (point, site) positions within the problem")
    mask = np.zeros(n_sites, dtype=bool)
    if fixed is not None:
        mask[np.asarray(fixed, dtype=np.int64)] = True
    return people, point, site, mask


def _budget(k: int | None, budget: float | None, site_cost: ArrayLike | None, n_sites: int
            ) -> tuple[np.ndarray, float]:
    """Each site's cost against the budget and the budget: ``k`` new sites (cost 1 each) or ``budget``."""
    if (k is None) == (budget is None):
        raise InvalidRequest("k/budget", (k, budget), "must give exactly one: k new sites or a budget",
                             rule_zh="须且只须给出新增站点数 k 或预算")
    if k is not None:
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
            raise InvalidRequest("k", k, "must be a whole number >= 0")
        return np.ones(n_sites), float(k)
    if site_cost is None:
        raise InvalidRequest("site_cost", None, "must be given with a budget (one cost per site)")
    cost = np.asarray(site_cost, dtype=float)
    if cost.shape != (n_sites,) or not (np.isfinite(cost).all() and (cost >= 0).all()):
        raise InvalidRequest("site_cost", cost.shape, f"must hold one number >= 0 per site ({n_sites})")
    return cost, check_limit(budget, "budget")


def _solve(c: np.ndarray, a: coo_array, row_lo: np.ndarray, row_hi: np.ndarray, col_lo: np.ndarray,
           col_hi: np.ndarray, integer: np.ndarray, *, maximise: bool, time_limit: float
           ) -> tuple[np.ndarray, float, str, float]:
    """HiGHS on ``row_lo ≤ A x ≤ row_hi``, ``col_lo ≤ x ≤ col_hi``; (x, objective, status, mip gap)."""
    import highspy

    h = _new_highs()
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", 0.0)
    csc = a.tocsc()
    csc.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(c), a.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = c.astype(float), col_lo.astype(float), col_hi.astype(float)
    inf = highspy.kHighsInf
    lp.row_lower_ = np.where(np.isfinite(row_lo), row_lo, -inf).astype(float)
    lp.row_upper_ = np.where(np.isfinite(row_hi), row_hi, inf).astype(float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(float)
    lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in integer]
    lp.sense_ = highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        raise InvalidRequest("problem", "infeasible", "has no solution with these sites, capacities and budget",
                             rule_zh="在给定站点、容量和预算下无解")
    info = h.getInfo()
    if info.primal_solution_status != 2:  # no feasible point found within the time limit
        said = h.modelStatusToString(status)
        raise InvalidRequest("time_limit", time_limit, f"was reached before any solution ({said})")
    name = "optimal" if status == highspy.HighsModelStatus.kOptimal else h.modelStatusToString(status).lower()
    gap = 0.0 if name == "optimal" else float(info.mip_gap)
    return np.asarray(h.getSolution().col_value), float(info.objective_function_value), name, gap


def _new_highs() -> Any:
    """A silent HiGHS instance: its constructor prints a banner on the C level's standard output (before any
    option can turn output off), so file descriptor 1 points at the null device for that moment."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    return h


def _covered_by(people: np.ndarray, point: np.ndarray, site: np.ndarray, is_open: np.ndarray) -> float:
    hit = np.zeros(len(people), dtype=bool)
    hit[point[is_open[site]]] = True
    return float(people[hit].sum())


def max_covering(people: ArrayLike, n_sites: int, point: ArrayLike, site: ArrayLike, *, k: int | None = None,
                 budget: float | None = None, site_cost: ArrayLike | None = None, fixed: ArrayLike | None = None,
                 time_limit: float = 60.0) -> Solution:
    """Maximal covering: the most people within reach of an open site, fixed sites open, ``k`` or ``budget``."""
    start = time.perf_counter()
    people, point, site, fixed_mask = _check(people, n_sites, point, site, fixed)
    spend, limit = _budget(k, budget, site_cost, n_sites)
    done = np.zeros(len(people), dtype=bool)
    done[point[fixed_mask[site]]] = True
    keep = ~done[point] & ~fixed_mask[site]
    points = np.unique(point[keep])  # points a new site could add
    if len(points) == 0:
        is_open = fixed_mask.copy()
        return Solution(np.flatnonzero(is_open), _covered_by(people, point, site, is_open),
                        _covered_by(people, point, site, is_open), "optimal", 0.0, time.perf_counter() - start)
    y_of = np.full(len(people), -1, dtype=np.int64)
    y_of[points] = np.arange(len(points))
    n_y = len(points)
    # variables: x (sites), then y (points a new site could add); rows: y_i - Σ x_j ≤ 0, then the budget
    rows = np.concatenate((y_of[point[keep]], np.arange(n_y), np.full(n_sites, n_y)))
    cols = np.concatenate((site[keep], n_sites + np.arange(n_y), np.arange(n_sites)))
    vals = np.concatenate((-np.ones(int(keep.sum())), np.ones(n_y), np.where(fixed_mask, 0.0, spend)))
    a = coo_array((vals, (rows, cols)), shape=(n_y + 1, n_sites + n_y))
    c = np.concatenate((np.zeros(n_sites), people[points]))
    col_lo = np.concatenate((fixed_mask.astype(float), np.zeros(n_y)))
    integer = np.concatenate((np.ones(n_sites, dtype=bool), np.zeros(n_y, dtype=bool)))
    x, _, status, gap = _solve(c, a, np.full(n_y + 1, -np.inf), np.concatenate((np.zeros(n_y), [limit])), col_lo,
                               np.ones(n_sites + n_y), integer, maximise=True, time_limit=time_limit)
    is_open = x[:n_sites] > 0.5
    covered = _covered_by(people, point, site, is_open)
    return Solution(np.flatnonzero(is_open), covered, covered, status, gap, time.perf_counter() - start)


def greedy_covering(people: ArrayLike, n_sites: int, point: ArrayLike, site: ArrayLike, *, k: int | None = None,
                    budget: float | None = None, site_cost: ArrayLike | None = None,
                    fixed: ArrayLike | None = None) -> Solution:
    """The greedy answer to :func:`max_covering`: each step the affordable site adding the most people (per unit
    of cost under a budget; ties to the lower position), until none adds any."""
    start = time.perf_counter()
    people, point, site, fixed_mask = _check(people, n_sites, point, site, fixed)
    spend, left = _budget(k, budget, site_cost, n_sites)
    is_open = fixed_mask.copy()
    hit = np.zeros(len(people), dtype=bool)
    hit[point[is_open[site]]] = True
    while True:
        gain = np.bincount(site, weights=np.where(hit[point], 0.0, people[point]), minlength=n_sites)
        ok = ~is_open & (spend <= left + 1e-9) & (gain > 0)
        if not ok.any():
            break
        score = np.where(ok, gain / np.where(spend > 0, spend, 1e-12) if budget is not None else gain, -np.inf)
        j = int(np.argmax(score))
        is_open[j] = True
        left -= spend[j]
        hit[point[site == j]] = True
    covered = float(people[hit].sum())
    return Solution(np.flatnonzero(is_open), covered, covered, "greedy", np.nan, time.perf_counter() - start)


def p_median(people: ArrayLike, n_sites: int, point: ArrayLike, site: ArrayLike, cost: ArrayLike, *, p: int,
             fixed: ArrayLike | None = None, capacity: ArrayLike | None = None, time_limit: float = 60.0) -> Solution:
    """``p`` open sites (fixed ones among them) minimising Σ people × cost to the serving site.

    Points with no pair are left unassigned (``assigned`` -1) and out of the
    objective. With ``capacity`` (one per site), each point is served whole
    by one site and a site serves at most its capacity of people.
    """
    start = time.perf_counter()
    people, point, site, fixed_mask = _check(people, n_sites, point, site, fixed)
    cost = np.asarray(cost, dtype=float)
    if isinstance(p, bool) or not isinstance(p, int | np.integer) or not fixed_mask.sum() <= p <= n_sites:
        raise InvalidRequest("p", p, f"must be a whole number between the fixed sites ({int(fixed_mask.sum())}) "
                             f"and the sites ({n_sites})")
    served = np.unique(point)
    n_pairs, n_rows_assign = len(point), len(served)
    row_of = np.full(len(people), -1, dtype=np.int64)
    row_of[served] = np.arange(n_rows_assign)
    # variables: x (sites), z (pairs). rows: Σ_j z_ij = 1; z_ij - x_j ≤ 0; Σ x = p; [Σ_i w_i z_ij - cap_j x_j ≤ 0]
    r_assign = row_of[point]
    r_link = n_rows_assign + np.arange(n_pairs)
    r_p = n_rows_assign + n_pairs
    rows = [r_assign, r_link, r_link, np.full(n_sites, r_p)]
    cols = [n_sites + np.arange(n_pairs), n_sites + np.arange(n_pairs), site, np.arange(n_sites)]
    vals = [np.ones(n_pairs), np.ones(n_pairs), -np.ones(n_pairs), np.ones(n_sites)]
    lo: list[np.ndarray] = [np.ones(n_rows_assign), np.full(n_pairs, -np.inf), np.array([float(p)])]
    hi: list[np.ndarray] = [np.ones(n_rows_assign), np.zeros(n_pairs), np.array([float(p)])]
    if capacity is not None:
        cap = np.asarray(capacity, dtype=float)
        if cap.shape != (n_sites,) or not (np.isfinite(cap).all() and (cap >= 0).all()):
            raise InvalidRequest("capacity", cap.shape, f"must hold one number >= 0 per site ({n_sites})")
        r_cap = r_p + 1 + np.arange(n_sites)
        rows += [r_cap[site], r_cap]
        cols += [n_sites + np.arange(n_pairs), np.arange(n_sites)]
        vals += [people[point], -cap]
        lo.append(np.full(n_sites, -np.inf))
        hi.append(np.zeros(n_sites))
    a = coo_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                  shape=(r_p + 1 + (n_sites if capacity is not None else 0), n_sites + n_pairs))
    c = np.concatenate((np.zeros(n_sites), people[point] * cost))
    integer = np.concatenate((np.ones(n_sites, dtype=bool), np.full(n_pairs, capacity is not None)))
    x, objective, status, gap = _solve(c, a, np.concatenate(lo), np.concatenate(hi),
                                       np.concatenate((fixed_mask.astype(float), np.zeros(n_pairs))),
                                       np.ones(n_sites + n_pairs), integer, maximise=False, time_limit=time_limit)
    is_open = x[:n_sites] > 0.5
    z = x[n_sites:]
    assigned = np.full(len(people), -1, dtype=np.int64)
    best = np.lexsort((-z, point))  # per point, the pair carrying its largest share
    first = np.ones(n_pairs, dtype=bool)
    first[1:] = point[best][1:] != point[best][:-1]
    assigned[point[best][first]] = site[best][first]
    return Solution(np.flatnonzero(is_open), float(people[served].sum()), objective, status, gap,
                    time.perf_counter() - start, assigned)


def set_covering(n_points: int, n_sites: int, point: ArrayLike, site: ArrayLike, *,
                 site_cost: ArrayLike | None = None, fixed: ArrayLike | None = None,
                 time_limit: float = 60.0) -> tuple[Solution, np.ndarray]:
    """The cheapest new sites (cost 1 each by default) with every reachable point within reach of an open site;
    returns the solution and the points no site reaches."""
    start = time.perf_counter()
    ones = np.ones(n_points)
    _, point, site, fixed_mask = _check(ones, n_sites, point, site, fixed)
    cost = np.ones(n_sites) if site_cost is None else np.asarray(site_cost, dtype=float)
    if cost.shape != (n_sites,) or not (np.isfinite(cost).all() and (cost >= 0).all()):
        raise InvalidRequest("site_cost", cost.shape, f"must hold one number >= 0 per site ({n_sites})")
    reach = np.zeros(n_points, dtype=bool)
    reach[point] = True
    done = np.zeros(n_points, dtype=bool)
    done[point[fixed_mask[site]]] = True
    todo = np.flatnonzero(reach & ~done)
    row_of = np.full(n_points, -1, dtype=np.int64)
    row_of[todo] = np.arange(len(todo))
    keep = row_of[point] >= 0
    a = coo_array((np.ones(int(keep.sum())), (row_of[point[keep]], site[keep])), shape=(len(todo), n_sites))
    if len(todo):
        x, _, status, gap = _solve(np.where(fixed_mask, 0.0, cost), a, np.ones(len(todo)),
                                   np.full(len(todo), np.inf), fixed_mask.astype(float), np.ones(n_sites),
                                   np.ones(n_sites, dtype=bool), maximise=False, time_limit=time_limit)
        is_open = x > 0.5
    else:
        is_open, status, gap = fixed_mask.copy(), "optimal", 0.0
    spent = float(cost[is_open & ~fixed_mask].sum())
    solution = Solution(np.flatnonzero(is_open), float(reach.sum()), spent, status, gap, time.perf_counter() - start)
    return solution, np.flatnonzero(~reach)


@dataclass(frozen=True, eq=False)
class LocationPlan:
    """An exact plan on a network: the problem, the sites (ids; fixed and new), the people covered before and
    after, the greedy answer and the gap between the two (max-covering), and what it rests on."""

    problem: Problem
    specialty: str
    cost: Cost
    limit: float
    population: Population
    site_ids: tuple[str, ...]
    fixed_ids: tuple[str, ...]
    new_ids: tuple[str, ...]
    exact: Solution
    greedy: Solution | None
    people_before: float
    unreached: tuple[str, ...] = ()

    @property
    def greedy_gap(self) -> float | None:
        """(exact − greedy) people covered ÷ exact (max-covering; 0: the greedy was optimal)."""
        if self.greedy is None or not self.exact.covered:
            return None
        return (self.exact.covered - self.greedy.covered) / self.exact.covered

    def frame(self) -> Any:
        """One row per open site: id, and whether it was fixed (already offering the specialty) or is new."""
        import pandas as pd

        return pd.DataFrame([{"id": i, "fixed": i in self.fixed_ids} for i in (*self.fixed_ids, *self.new_ids)])

    def summary(self) -> dict[str, Any]:
        return {"problem": self.problem, "specialty": self.specialty, "cost": self.cost, "limit": self.limit,
                "new_sites": list(self.new_ids), "fixed_sites": len(self.fixed_ids), "people": self.population.total,
                "covered_before": self.people_before, "covered_after": self.exact.covered,
                "objective": self.exact.objective, "status": self.exact.status, "mip_gap": self.exact.mip_gap,
                "greedy_new_sites": None if self.greedy is None else [self.site_ids[j] for j in self.greedy.open
                                                                      if self.site_ids[j] not in self.fixed_ids],
                "greedy_covered": None if self.greedy is None else self.greedy.covered,
                "greedy_gap": self.greedy_gap, "seconds": self.exact.seconds, "unreached_points": len(self.unreached)}


def locate(G_or_net: nx.Graph | CompiledNetwork, population: Population, specialty: str, *,
           problem: Problem = "max-covering", max_km: float | None = None, max_minutes: float | None = None,
           k: int | None = None, budget: float | None = None, site_cost: Mapping[str, float] | None = None,
           p: int | None = None, capacity: Mapping[str, float] | None = None,
           candidates: Iterable[str] | None = None, travel: TravelLayer | None = None,
           time_limit: float = 60.0) -> LocationPlan:
    """Solve ``problem`` for ``specialty``: existing capable institutions fixed open; candidates (default:
    every other institution) may open. ``max_km`` or ``max_minutes`` is the reach (the p-medians' pairs too)."""
    net = as_network(G_or_net)
    if problem not in PROBLEMS:
        raise InvalidRequest("problem", problem, f"must be one of {', '.join(PROBLEMS)}")
    if (max_km is None) == (max_minutes is None):
        raise InvalidRequest("max_km/max_minutes", (max_km, max_minutes), "must give exactly one of them",
                             rule_zh="须且只须给出公里或分钟中的一个")
    cost: Cost = "km" if max_km is not None else "minutes"
    limit = check_limit(max_km, "max_km") if max_km is not None else check_limit(max_minutes, "max_minutes")
    (code,) = resolve_specialties(net, [specialty])
    column = net.column(code)
    fixed_rows = np.flatnonzero(net.capable[:, column])
    candidate_rows = (np.setdiff1d(np.arange(net.n), fixed_rows) if candidates is None
                      else np.setdiff1d(net.nodes(list(candidates)), fixed_rows))
    rows = np.concatenate((fixed_rows, candidate_rows))
    ids = tuple(net.ids[r] for r in rows)
    fixed = np.arange(len(fixed_rows))
    at = attach(net, lat=population.lat, lon=population.lon)
    point, site, value = pairs_within(net, at, rows, limit=limit, cost=cost, travel=travel)
    people = population.people
    is_fixed = np.zeros(len(rows), dtype=bool)
    is_fixed[fixed] = True
    before = _covered_by(people, point, site, is_fixed)
    per_site = None if site_cost is None else _per_site(net, rows, site_cost, "site_cost")
    greedy = None
    unreached: np.ndarray = np.zeros(0, dtype=np.int64)
    if problem == "max-covering":
        exact = max_covering(people, len(rows), point, site, k=k, budget=budget, site_cost=per_site, fixed=fixed,
                             time_limit=time_limit)
        greedy = greedy_covering(people, len(rows), point, site, k=k, budget=budget, site_cost=per_site, fixed=fixed)
    elif problem == "set-covering":
        exact, unreached = set_covering(len(people), len(rows), point, site, site_cost=per_site, fixed=fixed,
                                        time_limit=time_limit)
        exact = replace(exact, covered=_covered_by(people, point, site, np.isin(np.arange(len(rows)), exact.open)))
    else:
        if p is None:
            raise InvalidRequest("p", None, "must be given for a p-median (the sites open, fixed ones included)")
        cap = None if problem == "p-median" else _per_site(net, rows, capacity, "capacity")
        exact = p_median(people, len(rows), point, site, value, p=p, fixed=fixed, capacity=cap, time_limit=time_limit)
    new = tuple(ids[j] for j in exact.open if not is_fixed[j])
    return LocationPlan(problem=problem, specialty=code, cost=cost, limit=limit, population=population,
                        site_ids=ids, fixed_ids=ids[:len(fixed_rows)], new_ids=new, exact=exact, greedy=greedy,
                        people_before=before, unreached=tuple(population.names[i] for i in unreached))


def _per_site(net: CompiledNetwork, rows: np.ndarray, given: Mapping[str, float] | None, name: str) -> np.ndarray:
    if given is None:
        raise InvalidRequest(name, None, "must be given (one figure per institution)")
    out = np.full(len(rows), np.nan)
    at = {int(r): i for i, r in enumerate(rows)}
    for key, value in given.items():
        (row,) = net.nodes([key])
        if int(row) in at:
            out[at[int(row)]] = float(value)
    missing: Sequence[str] = [net.ids[rows[i]] for i in np.flatnonzero(np.isnan(out))]
    if len(missing):
        raise InvalidRequest(name, f"{len(missing)} sites left out ({', '.join(missing[:3])} …)",
                             "must give a figure for every site considered")
    return out


__all__ = ["PROBLEMS", "LocationPlan", "Problem", "Solution", "greedy_covering", "locate", "max_covering",
           "p_median", "set_covering"]

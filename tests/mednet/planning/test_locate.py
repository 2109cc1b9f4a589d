"""Exact location-allocation (HiGHS) against brute force on small instances, and the greedy gap reported."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mednet.errors import InvalidRequest
from mednet.planning.locate import greedy_covering, locate, max_covering, p_median, set_covering

pytest.importorskip("highspy")


def _instance(seed, n_points=25, n_sites=9, reach=0.35):
    rng = np.random.default_rng(seed)
    pts, sites = rng.random((n_points, 2)), rng.random((n_sites, 2))
    cost = np.linalg.norm(pts[:, None] - sites[None], axis=2)
    point, site = np.nonzero(cost <= reach)
    return rng.integers(1, 100, n_points).astype(float), point, site, cost[point, site], cost


def _covered(people, point, site, chosen):
    hit = np.zeros(len(people), dtype=bool)
    hit[point[np.isin(site, list(chosen))]] = True
    return people[hit].sum()


@pytest.mark.parametrize("seed", range(6))
def test_max_covering_with_fixed_sites_equals_brute_force(seed):
    people, point, site, _, _ = _instance(seed)
    fixed = [0, 1]
    for k in (1, 2, 3):
        exact = max_covering(people, 9, point, site, k=k, fixed=fixed)
        best = max(_covered(people, point, site, {*fixed, *extra})
                   for extra in itertools.combinations(range(2, 9), k))
        assert exact.status == "optimal" and exact.covered == pytest.approx(best)
        assert set(fixed) <= set(exact.open.tolist()) and len(exact.open) <= len(fixed) + k
        greedy = greedy_covering(people, 9, point, site, k=k, fixed=fixed)
        assert greedy.covered <= exact.covered + 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_max_covering_under_a_cost_budget_equals_brute_force(seed):
    people, point, site, _, _ = _instance(seed)
    cost = np.random.default_rng(seed + 100).integers(1, 5, 9).astype(float)
    exact = max_covering(people, 9, point, site, budget=6, site_cost=cost, fixed=[0])
    best = max(_covered(people, point, site, {0, *extra}) for r in range(9) for extra in
               itertools.combinations(range(1, 9), r) if cost[list(extra)].sum() <= 6)
    assert exact.covered == pytest.approx(best)
    assert cost[[j for j in exact.open if j != 0]].sum() <= 6


@pytest.mark.parametrize("seed", range(4))
def test_p_median_and_capacitated_p_median_equal_brute_force(seed):
    people, _, _, _, full = _instance(seed, n_points=12, n_sites=6)
    point, site = np.nonzero(np.ones_like(full, dtype=bool))
    value = full[point, site]
    for p in (2, 3):
        exact = p_median(people, 6, point, site, value, p=p, fixed=[0])
        best = min((people * full[:, [0, *extra]].min(axis=1)).sum() for extra in itertools.combinations(range(1, 6),
                                                                                                          p - 1))
        assert exact.objective == pytest.approx(best) and 0 in exact.open and len(exact.open) == p
        chosen = exact.assigned
        assert ((people * full[np.arange(12), chosen]).sum()) == pytest.approx(best)


@pytest.mark.parametrize("seed", range(3))
def test_capacitated_p_median_equals_brute_force(seed):
    people, _, _, _, full = _instance(seed, n_points=8, n_sites=5)
    point, site = np.nonzero(np.ones_like(full, dtype=bool))
    capacity = np.full(5, people.sum() / 2.5)
    exact = p_median(people, 5, point, site, full[point, site], p=3, capacity=capacity)
    best = np.inf
    for sites in itertools.combinations(range(5), 3):  # every single-source assignment within capacity
        for assign in itertools.product(sites, repeat=8):
            load = np.bincount(assign, weights=people, minlength=5)
            if (load <= capacity + 1e-9).all():
                best = min(best, (people * full[np.arange(8), assign]).sum())
    uncapacitated = p_median(people, 5, point, site, full[point, site], p=3)
    assert exact.objective == pytest.approx(best) and exact.objective >= uncapacitated.objective - 1e-9
    load = np.bincount(exact.assigned, weights=people, minlength=5)
    assert (load <= capacity + 1e-6).all() and set(exact.assigned.tolist()) <= set(exact.open.tolist())


@pytest.mark.parametrize("seed", range(4))
def test_set_covering_equals_brute_force(seed):
    _, point, site, _, _ = _instance(seed, n_points=15, n_sites=8, reach=0.45)
    exact, unreached = set_covering(15, 8, point, site)
    reach = set(point.tolist())
    assert set(unreached.tolist()) == set(range(15)) - reach
    best = min(r for r in range(9) for s in itertools.combinations(range(8), r)
               if reach <= set(point[np.isin(site, s)].tolist()))
    assert exact.objective == best and len(exact.open) == best


def test_locate_on_quzhou_fixes_existing_sites_and_reports_the_greedy_gap(net, scattered):
    people = scattered(3, 200)
    plan = locate(net, people, "儿科", max_km=15, k=3)
    assert plan.exact.status == "optimal" and len(plan.new_ids) <= 3
    assert set(plan.fixed_ids) == {net.ids[r] for r in np.flatnonzero(net.capable[:, net.column("paediatrics")])}
    assert plan.people_before <= plan.greedy.covered <= plan.exact.covered
    assert 0 <= plan.greedy_gap < 1
    summary = plan.summary()
    assert summary["covered_after"] == plan.exact.covered and summary["greedy_gap"] == plan.greedy_gap
    cover = locate(net, people, "儿科", problem="set-covering", max_km=15)
    unreached = sum(people.people[[people.names.index(n) for n in cover.unreached]])
    assert cover.exact.covered == pytest.approx(people.total - unreached) and cover.unreached
    with pytest.raises(InvalidRequest, match="exactly one"):
        locate(net, people, "儿科", max_km=15, k=2, budget=3)
    with pytest.raises(InvalidRequest, match="p"):
        locate(net, people, "儿科", problem="p-median", max_km=15)

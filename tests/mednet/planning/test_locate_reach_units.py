"""Location-allocation and population coverage measure reach alike: the people the existing sites reach before any
opens (``locate``'s pairs within the limit, ``demand.pairs_within``) are the people ``population_coverage`` counts
within the same km. The network graph is in whole metres; a limit in km is searched in metres and read back in km."""

from __future__ import annotations

from pathlib import Path

import pytest

from mednet.network import compile_network

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("max_km", [10, 20, 30])
def test_people_reached_before_opening_equal_population_coverage(quzhou_graph, max_km):
    pytest.importorskip("highspy", reason="HiGHS (the `planning` extra)")
    pytest.importorskip("pandas", reason="the population sheet (the `importing` extra)")
    from mednet.importing.population import read_population
    from mednet.planning.locate import locate
    from mednet.planning.population import population_coverage, townships_population

    net = compile_network(quzhou_graph)
    people = townships_population(read_population([ROOT / "examples" / "quzhou_population_illustrative.csv"]),
                                  net=net)
    covered = population_coverage(net, people, specialties="儿科", max_km=max_km).rows[0].covered
    plan = locate(net, people, "儿科", max_km=max_km, k=1)
    assert covered > 0
    assert plan.people_before == pytest.approx(covered)
    assert plan.exact.covered >= plan.people_before

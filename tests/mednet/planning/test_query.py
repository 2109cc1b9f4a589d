"""One coverage question, checked once, and one rule of who offers a care, across the planning analyses."""

from __future__ import annotations

import numpy as np
import pytest

from mednet import build_network, load_region
from mednet.errors import InvalidRequest, UnknownSpecialty
from mednet.planning import CoverageQuery, coverage, find_coverage_gaps, suggest_upgrades, what_if
from mednet.planning.access import access_scores, step_decay
from mednet.planning.gaps import as_network
from mednet.planning.population import Population, population_coverage
from mednet.planning.query import offered
from mednet.planning.scenarios import Scenario, ScenarioCapability

#: An illustrative what-if: paediatrics added at a township centre beyond 30 km of any today.
PAEDIATRICS_AT_QIXI = Scenario(name="paediatrics at 齐溪", add=(ScenarioCapability(institution="齐溪卫生院",
                                                                                   specialty="儿科"),))

@pytest.mark.parametrize(("options", "field"), [
    ({"max_km": 0}, "max_km"),
    ({"max_km": "far"}, "max_km"),
    ({"max_minutes": -5}, "max_minutes"),
    ({"cost": "hours"}, "cost"),
    ({"travel": "quzhou.travel.json"}, "travel"),
    ({"include_sessions": "yes"}, "include_sessions"),
])
def test_a_wrong_option_is_named_once_for_every_analysis(net, options, field):
    with pytest.raises(InvalidRequest) as checked:
        CoverageQuery.checked(**options)
    assert checked.value.field == field
    for analysis in (lambda: find_coverage_gaps(net, **options), lambda: what_if(net, PAEDIATRICS_AT_QIXI, **options)):
        with pytest.raises(InvalidRequest) as raised:
            analysis()
        assert raised.value.field == field


def test_find_coverage_gaps_is_coverage_of_its_checked_query(net):
    report = find_coverage_gaps(net, specialties=["儿科", "普外科"], max_km=25, include_sessions=False)
    query = CoverageQuery.checked(specialties=["paediatrics", "general_surgery"], max_km=25, include_sessions=False)
    again = coverage(net, query)
    assert report.specialties == again.specialties == ("paediatrics", "general_surgery")
    np.testing.assert_array_equal(report.distance_km, again.distance_km)
    np.testing.assert_array_equal(report.gap, again.gap)
    assert (report.max_km, report.include_sessions) == (again.max_km, again.include_sessions) == (25.0, False)


def test_the_query_resolves_its_specialties_against_a_network(net):
    query = CoverageQuery.checked(specialties="儿科")
    assert query.specialties == ("儿科",)
    assert query.codes(net) == ("paediatrics",)
    assert CoverageQuery.checked().codes(net) == net.specialties
    with pytest.raises(UnknownSpecialty):
        CoverageQuery.checked(specialties=["no such care"]).codes(net)
    with pytest.raises(InvalidRequest):
        CoverageQuery.checked(specialties=[]).codes(net)


def test_by_travel_cost_as_routing_decides_it(net):
    assert not CoverageQuery.checked(max_km=30).by_travel_cost
    assert CoverageQuery.checked(cost="minutes").by_travel_cost
    assert CoverageQuery.checked(max_minutes=45).by_travel_cost
    assert CoverageQuery.checked(max_km=30).layer(net) is None
    assert CoverageQuery.checked(max_minutes=45).layer(net) is not None


@pytest.fixture(scope="module")
def huzhou_net():
    """Huzhou's network: specialists hold sessions at centres that do not offer their care otherwise."""
    return as_network(build_network(load_region("huzhou")))


def session_only_care(net):
    """A care some institution offers only in a specialist's sessions."""
    return next(c for c in net.specialties if (net.in_session[:, net.column(c)] & ~net.capable[:, net.column(c)]).any())


def test_one_rule_of_who_offers_a_care(huzhou_net):
    """Sessions count unless left out, and every analysis counts the same institutions as offering the care."""
    net = huzhou_net
    code = session_only_care(net)
    col = net.column(code)
    with_sessions = offered(net, [code])[:, 0]
    permanent = offered(net, [code], include_sessions=False)[:, 0]
    np.testing.assert_array_equal(with_sessions, net.capable[:, col] | net.in_session[:, col])
    np.testing.assert_array_equal(permanent, net.capable[:, col])
    assert with_sessions.sum() > permanent.sum()
    for include_sessions, expected in ((True, with_sessions), (False, permanent)):
        report = find_coverage_gaps(net, specialties=[code], include_sessions=include_sessions)
        np.testing.assert_array_equal(report.offered()[:, 0], expected)
        np.testing.assert_array_equal(report.capable_rows(code), np.flatnonzero(expected))


def test_population_and_access_count_the_same_institutions(huzhou_net):
    net = huzhou_net
    code = session_only_care(net)
    rng = np.random.default_rng(3)
    at = rng.integers(0, net.n, 40)
    people = Population(names=tuple(f"p{i}" for i in range(40)), lat=net.lat[at] + 0.01, lon=net.lon[at] - 0.01,
                        people=rng.integers(50, 5000, 40).astype(float), kind="points", source="illustrative")
    for include_sessions in (True, False):
        sites = {net.ids[r] for r in np.flatnonzero(offered(net, [code], include_sessions=include_sessions)[:, 0])}
        scores = access_scores(net, people, code, decay=step_decay(60.0), include_sessions=include_sessions)
        assert set(scores.site_ids) <= sites
        reach = population_coverage(net, people, specialties=[code], max_km=1_000.0,
                                    include_sessions=include_sessions)
        assert reach.specialties == (code,)


def test_what_if_asks_one_query_of_both_networks(net):
    comparison = what_if(net, PAEDIATRICS_AT_QIXI, max_km=30)
    assert comparison.before.specialties == comparison.after.specialties == ("paediatrics",)
    assert comparison.before.max_km == comparison.after.max_km == 30.0
    baseline = find_coverage_gaps(net, specialties=["paediatrics"], max_km=30)
    np.testing.assert_array_equal(comparison.before.gap, baseline.gap)
    assert comparison.change("儿科").newly_covered_points >= 1


def test_upgrades_ask_the_query_with_their_one_limit(net):
    plan = suggest_upgrades(net, "儿科", k=1, max_km=30)
    report = coverage(net, CoverageQuery.checked(specialties=["儿科"], max_km=30))
    uncovered = float(report.weight[report.gap[:, 0]].sum())
    assert plan.covered_demand_before == pytest.approx(float(report.weight.sum()) - uncovered)
    with pytest.raises(InvalidRequest) as raised:
        suggest_upgrades(net, "儿科", k=1, max_km=30, max_minutes=45)
    assert raised.value.field == "max_minutes"

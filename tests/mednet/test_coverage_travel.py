"""Coverage by travel cost: checked against an exhaustive search on the travel layer, and what an OD table changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mednet
from mednet.errors import InvalidRequest
from mednet.network import compile_network
from mednet.planning import Scenario, find_coverage_gaps, suggest_upgrades, what_if
from mednet.travel import TravelFile, TravelLayer, load_travel
from mednet.travel.od import import_od

EXAMPLE_OD = Path(__file__).resolve().parents[2] / "examples" / "quzhou_od_example.csv"


@pytest.fixture(scope="module")
def quzhou_net():
    return compile_network(mednet.build_network(mednet.load_region("quzhou")))


def exhaustive(report, layer: TravelLayer):
    """Every centre × every capable institution costed on the layer; a capable centre is its own nearest."""
    net = report.network
    rows = layer.rows_of(net.ids)
    out = []
    for code in report.specialties:
        capable = report.capable_rows(code)
        for d in report.demand_rows:
            if d in capable:
                out.append((d, 0.0))
                continue
            c = layer.costs(np.full(len(capable), rows[d]), rows[capable])
            ranked = getattr(c, report.cost)
            best = int(np.argmin(ranked)) if len(capable) else -1
            out.append((int(capable[best]) if best >= 0 and np.isfinite(ranked[best]) else -1,
                        float(ranked[best]) if best >= 0 else np.inf))
    return out


@settings(max_examples=25, deadline=None)
@given(
    pairs=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.floats(1, 90), st.booleans()),
                   max_size=40),
    cost=st.sampled_from(["km", "minutes"]),
    max_minutes=st.one_of(st.none(), st.floats(10, 90)),
)
def test_coverage_by_travel_equals_the_exhaustive_search(quzhou_net, pairs, cost, max_minutes):
    """Random OD figures (some unreachable) between centres and hospitals: nearest, km, minutes and gaps."""
    region = quzhou_net.G.graph["region_data"]
    insts = region.institutions
    centres = [i.id for i in insts if i.tier.is_primary_care]
    others = [i.id for i in insts if not i.tier.is_primary_care]
    od = {}
    for a, b, figure, gone in pairs:
        key = (centres[a % len(centres)], others[b % len(others)])
        od[key] = {"unreachable": True} if gone else {"minutes": figure, "km": figure * 0.8}
    travel = TravelFile.model_validate({
        "region": "quzhou", "sources": {"od": {"title": "made-up figures for this test"}},
        "od_tables": [{"source": "od", "file": "od.csv",
                       "pairs": [{"a": a, "b": b, **v} for (a, b), v in od.items()]}] if od else [],
    })
    layer = TravelLayer.build(region, travel)
    report = find_coverage_gaps(quzhou_net, specialties=["儿科", "普外科", "风湿免疫科"], cost=cost, travel=layer,
                                max_km=40, max_minutes=max_minutes)
    want = exhaustive(report, layer)
    got_nearest = report.nearest_row.T.ravel().tolist()
    assert got_nearest == [n for n, _ in want]
    assert report.ranked.T.ravel().tolist() == pytest.approx([v for _, v in want])
    gap = ~np.isfinite(report.distance_km) | (report.distance_km > 40)
    if max_minutes is not None:
        gap |= report.minutes > max_minutes
    assert (report.gap == gap).all()


def test_minutes_under_the_default_model_say_so(quzhou_net):
    report = find_coverage_gaps(quzhou_net, specialties=["儿科"], cost="minutes", max_minutes=45)
    s = report.summary[0]
    assert [b.kind for b in s.minutes_basis] == ["default_model"]  # no centre offers paediatrics itself
    points: list[int] = [b.points for b in s.minutes_basis]
    assert sum(points) == s.demand_points
    assert "estimates" in report.basis_note
    frame = report.to_frame()
    assert set(frame.minutes_basis) == {"default_model"}
    far = frame[frame.institution_id == "kh-qixi"].iloc[0]
    assert far.minutes == pytest.approx(load_travel("quzhou").between("kh-qixi", far.nearest_id).minutes, abs=0.01)
    assert report.to_geojson()["properties"]["cost"] == "minutes"


def test_network_km_answers_keep_their_form(quzhou_net):
    report = find_coverage_gaps(quzhou_net, specialties=["儿科"], max_km=30)
    assert report.travel is None and "minutes_basis" not in report.to_frame()
    assert "median_minutes" not in report.summary[0].model_dump()
    assert "minutes" not in report.gaps("儿科")[0].model_dump()


def test_an_od_table_changes_the_nearest_and_the_gaps(quzhou_net):
    """The bundled example OD table (illustrative figures) speeds 齐溪 and 苏庄 to the county hospital."""
    region = quzhou_net.G.graph["region_data"]
    before = find_coverage_gaps(quzhou_net, specialties=["儿科"], cost="minutes", max_minutes=45)
    travel = import_od(region, EXAMPLE_OD, source="illustrative example (not measured)")
    after = find_coverage_gaps(quzhou_net, specialties=["儿科"], cost="minutes", max_minutes=45,
                               travel=TravelLayer.build(region, travel))
    gaps_before = {p.institution for p in before.gaps("儿科")}
    gaps_after = {p.institution for p in after.gaps("儿科")}
    assert {"kh-qixi", "kh-suzhuang"} <= gaps_before and not {"kh-qixi", "kh-suzhuang"} & gaps_after
    d = list(after.demand_ids).index("kh-qixi")
    assert after.minutes[d, 0] < before.minutes[d, 0]
    assert [b.kind for b in after.summary[0].minutes_basis].count("od_table") == 1


def test_travel_errors(quzhou_net):
    with pytest.raises(InvalidRequest, match="`cost` must be 'km' or 'minutes'"):
        find_coverage_gaps(quzhou_net, cost="hours")
    other = load_travel("huzhou")
    with pytest.raises(InvalidRequest, match="travel layer of region 'quzhou'"):
        find_coverage_gaps(quzhou_net, travel=other)
    with pytest.raises(InvalidRequest, match="`max_minutes` must be a number > 0"):
        find_coverage_gaps(quzhou_net, cost="minutes", max_minutes=0)


def test_upgrade_sites_by_minutes_cover_what_an_exhaustive_search_says(quzhou_net):
    plan = suggest_upgrades(quzhou_net, "儿科", k=3, cost="minutes", max_minutes=45)
    layer = load_travel("quzhou")
    before = find_coverage_gaps(quzhou_net, specialties=["儿科"], cost="minutes", max_minutes=45)
    uncovered = [before.demand_ids[d] for d in np.flatnonzero(before.gap[:, 0])]
    left = set(uncovered)
    for step in plan.steps:  # each step's newly covered: the uncovered centres within 45 minutes of the site
        within = {c for c in left if layer.between(c, step.institution).minutes <= 45}
        assert set(step.newly_covered) == within and within
        left -= within
    first_best = max(len({c for c in uncovered if layer.between(c, site).minutes <= 45})
                     for site in quzhou_net.ids if not before.offered()[:, 0][quzhou_net.index[site]])
    assert plan.steps[0].gain_points == first_best
    assert (plan.cost, plan.max_minutes, plan.max_km) == ("minutes", 45.0, None)
    with pytest.raises(InvalidRequest, match="`max_km` must be left out with cost='minutes'"):
        suggest_upgrades(quzhou_net, "儿科", k=1, cost="minutes", max_minutes=45, max_km=30)
    with pytest.raises(InvalidRequest, match="`max_minutes` must be a number > 0"):
        suggest_upgrades(quzhou_net, "儿科", k=1, cost="minutes")


def test_what_if_by_minutes(quzhou_net):
    scenario = Scenario(name="儿科 at 何田", add=[{"institution": "何田卫生院", "specialty": "儿科"}])
    comparison = what_if(quzhou_net, scenario, cost="minutes", max_minutes=45)
    change = comparison.change("儿科")
    layer = load_travel("quzhou")
    assert "kh-hetian" in change.newly_covered
    assert ("kh-qixi" in change.newly_covered) == (layer.between("kh-qixi", "kh-hetian").minutes <= 45)
    assert comparison.after.cost == "minutes" and change.newly_uncovered == ()

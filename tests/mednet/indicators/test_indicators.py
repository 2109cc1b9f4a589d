"""The indicators of a simulated year over Quzhou equal the same figures computed in Python from the simulator's
truth, on SQLite and PostgreSQL; a missing denominator shows as 未采集."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

import pandas as pd
import pytest

from mednet.errors import InvalidRequest
from mednet.indicators import NOT_COLLECTED, compute_indicators, flow_table, parse_period, rejection_reasons
from mednet.indicators.places import place_rows

CST = dt.timezone(dt.timedelta(hours=8))
AS_OF = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)


def nearest_rank(values: list[float], q: int) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(len(ordered) * q / 100) - 1]


def expected(truths, region, period: str, by: str) -> dict[str, dict[str, float | None]]:
    """Every indicator per group, computed from the truth alone."""
    p = parse_period(period)
    place = {row["id"]: row for row in place_rows(region)}
    by_id = {t.id: t for t in truths}

    def key(t) -> str:
        if by == "region":
            return "quzhou"
        if by == "month":
            return t.created.astimezone(CST).strftime("%Y-%m")
        if by in ("county", "community"):
            return place[t.origin][by] or ""
        return {"institution": t.origin}.get(by) or getattr(t, by)

    groups = defaultdict(list)
    for t in truths:
        if p.start <= t.created < p.end:
            groups[key(t)].append(t)
    out = {}
    for k, ts in groups.items():
        up = [t for t in ts if t.direction == "up"]
        down = [t for t in ts if t.direction == "down"]
        booked = [t for t in ts if t.booked]
        routed = [t for t in ts if t.proposed]
        left = [t for t in ts if place[t.origin]["county"] != place[t.destination]["county"]]
        within = [t for t in ts if place[t.origin]["community"]
                  and place[t.origin]["community"] == place[t.destination]["community"]]
        minutes = lambda a, b: (int(a.timestamp()) - int(b.timestamp())) // 60  # noqa: E731
        share = lambda n, d: len(n) / len(d) if d else None  # noqa: E731
        out[k] = {
            "referrals": len(ts), "up": len(up), "down": len(down),
            "emergency": sum(t.direction == "emergency" for t in ts),
            "lateral": sum(place[t.origin]["primary_care"] == place[t.destination]["primary_care"] for t in ts),
            "down_share": share(down, up + down),
            "returned_home_share": share([t for t in up if any(by_id[c].direction == "down" for c in t.children)],
                                         up),
            "acceptance_rate": share([t for t in ts if t.accepted], ts),
            "rejection_rate": share([t for t in ts if t.state == "rejected"], ts),
            "cancellation_rate": share([t for t in ts if t.state == "cancelled"], ts),
            "expiry_rate": share([t for t in ts if t.state == "expired"], ts),
            "no_show_rate": share([t for t in booked if t.state == "expired" and not t.arrived], booked),
            "closure_rate": share([t for t in ts if t.state in ("completed", "rejected", "cancelled", "expired")], ts),
            "response_median": nearest_rank([minutes(t.responded, t.created) for t in ts if t.responded], 50),
            "response_p90": nearest_rank([minutes(t.responded, t.created) for t in ts if t.responded], 90),
            "booking_median": nearest_rank([minutes(t.booked, t.created) for t in booked], 50),
            "booking_p90": nearest_rank([minutes(t.booked, t.created) for t in booked], 90),
            "overdue": sum(t.state in ("requested", "redirected", "accepted", "booked") and t.due_at is not None
                           and t.due_at < min(AS_OF, p.end) for t in ts),
            "left_county_share": share(left, ts),
            "within_community_share": share(within, ts),
            "match_share": share([t for t in routed if t.destination == t.proposed], routed),
            "bypass": sum(t.destination != t.proposed for t in routed),
        }
    return out


@pytest.mark.parametrize("period,by", [("2026", "community"), ("2026-Q3", "region"), ("2026", "month"),
                                       ("2026-07", "county"), ("2026", "priority")])
def test_indicators_equal_the_independent_computation(sim_engine, simulated, quzhou_region, period, by):
    frame = compute_indicators(sim_engine, quzhou_region, period, by=by, now=AS_OF)
    truth = expected(simulated, quzhou_region, period, by)
    assert truth, "the simulated period has referrals"
    got = {(r.group, r.indicator): r for r in frame.itertuples()}
    checked = 0
    for group, figures in truth.items():
        for name, value in figures.items():
            row = got[group, name]
            if value is None:
                assert row.status == NOT_COLLECTED and pd.isna(row.value), (group, name)
            else:
                assert row.value == pytest.approx(value, abs=1e-3), (group, name, row.value, value)
                checked += 1
    assert checked > 20 * len(truth)


def test_known_rates_come_back(sim_engine, quzhou_region):
    """Over the year the rates are near the simulator's: the indicators measure what was simulated."""
    frame = compute_indicators(sim_engine, quzhou_region, "2026", by="direction", now=AS_OF)
    rows = frame[frame["group"] == "up"].set_index("indicator")["value"]  # down-referrals are all accepted
    assert rows["acceptance_rate"] == pytest.approx(0.78, abs=0.05)
    assert rows["rejection_rate"] == pytest.approx(0.12, abs=0.04)
    assert 1 - rows["match_share"] == pytest.approx(0.15, abs=0.04)


def test_missing_denominator_is_not_collected(sim_engine, quzhou_region):
    frame = compute_indicators(sim_engine, quzhou_region, "2025-Q4", by="region", now=AS_OF).set_index("indicator")
    assert frame.loc["referrals", "value"] == 0
    assert pd.isna(frame.loc["down_share", "value"]) and frame.loc["down_share", "status"] == NOT_COLLECTED
    assert frame.loc["county_visit_share", "status"] == NOT_COLLECTED  # no aggregates imported


def test_rejections_by_reason_and_flows(sim_engine, simulated, quzhou_region):
    reasons = rejection_reasons(sim_engine, quzhou_region, "2026")
    want: defaultdict[str | None, int] = defaultdict(int)
    for t in simulated:
        if t.state == "rejected":
            want[t.reject_code] += 1
    assert {(r.reason_code if isinstance(r.reason_code, str) else None): r.count
            for r in reasons.itertuples()} == dict(want)
    flows = flow_table(sim_engine, quzhou_region, "2026")
    routed = [t for t in simulated if t.proposed]
    assert flows["observed"].sum() == flows["modelled"].sum() == len(routed)
    assert flows["bypassed"].sum() == sum(t.destination != t.proposed for t in routed)


def test_bad_period_and_grouping_are_named(sim_engine, quzhou_region):
    with pytest.raises(InvalidRequest, match="`period` must be a year"):
        compute_indicators(sim_engine, quzhou_region, "2026-13")
    with pytest.raises(InvalidRequest, match="`by` must be one of"):
        compute_indicators(sim_engine, quzhou_region, "2026", by="planet")


def test_aggregates_on_both_engines(sim_engine, quzhou_region, tmp_path):
    """The monthly aggregates imported into the same database feed the county indicators (Numeric sums on
    PostgreSQL, float on SQLite: the same values)."""
    from mednet.importing.aggregates import import_aggregates

    sheet = tmp_path / "monthly.csv"
    sheet.write_text("机构,月份,门急诊人次,住院人次,县外就诊人次,县外住院人次,医保基金支出,县外医保基金支出\n"
                     "开化县人民医院,2026-05,9000,800,1000,200,5000000.50,600000\n"
                     "华埠卫生院,2026-05,3000,50,,,200000,\n", encoding="utf-8")
    assert import_aggregates(sim_engine, quzhou_region, sheet) == 2
    frame = compute_indicators(sim_engine, quzhou_region, "2026-05", by="county", now=AS_OF)
    got = frame.set_index(["group", "indicator"])["value"]
    assert got["开化县", "county_visit_share"] == pytest.approx(12000 / 13000)
    assert got["开化县", "insurance_in_county_share"] == pytest.approx(5200000.5 / 5800000.5)
    ups = frame.set_index(["group", "indicator"])
    left = ups.loc[("开化县", "ordered_referral_share"), "numerator"]
    assert ups.loc[("开化县", "ordered_referral_share"), "value"] == pytest.approx(left / 200)

"""One distance for one pair (coverage as routing counts it), a point's trip when distances start at the home,
one booking-window rule for sessions with and without a published day, and points in a map app's datum."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from mednet.cli import main
from mednet.cli.route import format_referral
from mednet.importing.datums import from_wgs84
from mednet.models import WEEKDAYS, Session
from mednet.planning import find_coverage_gaps
from mednet.regions import load_region
from mednet.routing import Point, Router
from mednet.routing.request import CST
from mednet.routing.sessions import day_unknown, first_in_window


@pytest.fixture(scope="module")
def quzhou():
    return Router.from_region(load_region("quzhou"))


# --------------------------------------------------------------------------- coverage counts as routing does


@pytest.mark.parametrize(("region_id", "origin", "specialty", "max_km"), [
    ("luqiao", "lq-luqiao", "neurosurgery", 2.342),
    ("quzhou", "qj-duze", "anaesthesia", 24.383),
])
def test_a_centre_exactly_at_max_km_is_covered_as_routing_reaches_it(region_id, origin, specialty, max_km):
    router = Router.from_region(load_region(region_id))
    route = router.route(origin, specialty, direction="emergency", max_km=max_km)
    assert route.distance_km == max_km  # routing reaches it at the limit itself
    report = find_coverage_gaps(router.G, specialties=[specialty], max_km=max_km)
    row = report.demand_ids.index(origin)
    assert report.distance_km[row, 0] == route.distance_km  # the same float, not 24.383000000000003
    assert not report.gap[row, 0]


def test_a_link_at_a_shared_proxy_point_counts_0_km_in_coverage(quzhou):
    frame = find_coverage_gaps(quzhou.G).to_frame()
    same_point = frame[(frame.nearest_id != frame.institution_id) & (frame.distance_km < 0.001)]
    assert len(same_point) > 0 and (same_point.distance_km == 0.0).all()  # 0, not 1e-9 km


def test_coverage_csv_at_max_km_matches_the_route(capsys):
    assert main(["coverage", "luqiao", "-s", "神经外科", "--max-km", "2.342", "--format", "csv"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("lq-luqiao,"))
    assert ",2.342," in row and ",True," not in row


# --------------------------------------------------------------------------- a point going down to its home

AT = Point(lat=28.4195, lon=118.133)


def test_from_a_point_with_a_home_the_path_runs_from_the_home_and_the_trip_from_the_point(quzhou):
    r = quzhou.route(AT, "内科", direction="down", home="js-wanyao")
    assert r.measured_from == "home" and r.origin_point == AT
    assert r.path[0].from_id == "js-wanyao" and all(h.kind != "access" for h in r.path)
    assert r.distance_km == pytest.approx(sum(h.distance_km for h in r.path), abs=1e-9)
    first = r.trip.path[0]
    assert (first.from_id, first.kind) == ("28.4195,118.133", "access") and first.distance_km > 10
    assert r.trip.path[-1].to_id == r.destination.id
    assert round(sum(h.distance_km for h in r.trip.path) * 1000) == round(r.trip.distance_km * 1000)
    # the trip is the shortest over the point's access legs
    legs, kms = quzhou.access_legs(AT)
    best = min(km + _network_km(quzhou, j, r.destination.id) for j, km in zip(legs, kms, strict=True))
    assert r.trip.distance_km == pytest.approx(best, abs=1e-9)
    assert quzhou.route_json(AT, "内科", direction="down", home="js-wanyao") == r.model_dump_json().encode()
    text = format_referral(r)
    assert "距离自居住地机构起算" in text and "距离自该点起算" not in text
    assert f"从该点出发的行程 {r.trip.distance_km:.1f} 公里" in text


def _network_km(router: Router, a: int, b: str) -> float:
    import networkx as nx

    from mednet.routing.links import link_metres, same_proxy_point

    G = router.G

    def metres(u, v, data):
        return float(link_metres(data["distance_km"], same_proxy_point(G, u, v)))

    try:
        return nx.dijkstra_path_length(G, router.net.ids[a], b, weight=metres) / 1000.0
    except nx.NetworkXNoPath:
        return float("inf")


def test_by_minutes_from_a_point_with_a_home_the_hop_leaves_the_home(quzhou):
    r = quzhou.route(AT, "内科", direction="down", home="js-wanyao", cost="minutes")
    (hop,) = r.path
    assert hop.from_id == "js-wanyao" and hop.distance_km == r.distance_km
    (leg,) = r.trip.path
    assert leg.from_id == "28.4195,118.133" and leg.to_id == r.destination.id
    assert leg.distance_km == r.trip.distance_km > r.distance_km
    assert json.loads(quzhou.route_json(AT, "内科", direction="down", home="js-wanyao", cost="minutes")) == \
        json.loads(r.model_dump_json())


def test_from_a_point_without_a_home_the_path_starts_with_its_access_leg(quzhou):
    r = quzhou.route(AT, "内科", direction="down")
    assert r.measured_from == "origin_point" and r.path[0].kind == "access" and r.trip is None


# --------------------------------------------------------------------------- one rule for sessions


def test_huzhou_undated_sessions_from_the_first_valid_monday_morning_are_offered():
    when = dt.datetime(2019, 3, 11, 9, 0, tzinfo=CST)
    session = Session(provider="hz-first", valid_from=dt.date(2019, 3, 18))
    monday = Session(weekday="mon", provider="hz-first", valid_from=dt.date(2019, 3, 18))
    assert first_in_window(monday, when, 7) == (dt.date(2019, 3, 18), "mon")  # the dated rule offers it
    assert day_unknown(session, when, 7)  # and so the undated one may fall in the window


@pytest.mark.parametrize("hour", [0, 7, 9, 12, 17, 20])
@pytest.mark.parametrize("days", [1, 3, 7, 14])
@pytest.mark.parametrize("part", [None, "morning", "afternoon", "evening"])
@pytest.mark.parametrize("valid", [(None, None), (dt.date(2019, 3, 18), None), (None, dt.date(2019, 3, 12)),
                                   (dt.date(2019, 3, 13), dt.date(2019, 3, 14))])
def test_an_undated_session_is_judged_by_the_dated_rule_on_each_day(hour, days, part, valid):
    when = dt.datetime(2019, 3, 11, hour, 0, tzinfo=CST)
    valid_from, valid_until = valid
    undated = Session(part=part, valid_from=valid_from, valid_until=valid_until)
    dated = [first_in_window(Session(weekday=w, part=part, valid_from=valid_from, valid_until=valid_until),
                             when, days) is not None for w in WEEKDAYS]
    offered = first_in_window(undated, when, days) is not None
    assert offered == all(dated)
    assert day_unknown(undated, when, days) == (any(dated) and not all(dated))


# --------------------------------------------------------------------------- points from map apps


@pytest.mark.parametrize(("datum", "name"), [("gcj02", "GCJ-02"), ("bd09", "BD-09")])
def test_a_point_from_a_map_app_routes_as_its_wgs84_point_and_says_its_datum(quzhou, datum, name):
    wgs = Point(lat=28.97, lon=118.86)
    lat, lon = from_wgs84(lat=wgs.lat, lon=wgs.lon, datum=name)
    given = Point(lat=lat, lon=lon, datum=datum)
    r, plain = quzhou.route(given, "儿科"), quzhou.route(wgs, "儿科")
    assert r.origin_point == given and r.origin_point.datum == datum
    assert (r.destination, r.distance_km, r.snap_km) == (plain.destination, plain.distance_km, plain.snap_km)
    # read as WGS84, the same numbers are some 500 m away: another access leg
    assert quzhou.route(Point(lat=lat, lon=lon), "儿科").snap_km != plain.snap_km
    assert json.loads(quzhou.route_json(given, "儿科"))["origin_point"] == {"lat": lat, "lon": lon, "datum": datum}
    assert quzhou.access_legs(given) == quzhou.access_legs(wgs)
    by_minutes, plain_minutes = (quzhou.route(p, "儿科", cost="minutes") for p in (given, wgs))
    assert (by_minutes.distance_km, by_minutes.minutes) == (plain_minutes.distance_km, plain_minutes.minutes)


def test_the_cli_takes_a_datum_and_the_answer_states_it(capsys):
    lat, lon = from_wgs84(lat=28.97, lon=118.86, datum="GCJ-02")
    assert main(["route", "quzhou", "--at", f"{lat},{lon}", "--datum", "gcj02", "--specialty", "儿科",
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["origin_point"]["datum"] == "gcj02"
    assert main(["route", "quzhou", "--at", f"{lat},{lon}", "--datum", "gcj02", "--specialty", "儿科"]) == 0
    assert "GCJ-02 坐标，换算为 WGS84 28.97000,118.86000" in capsys.readouterr().out
    assert main(["route", "quzhou", "--from", "华埠", "--datum", "bd09", "--specialty", "儿科"]) == 2
    assert "`datum` 只用于 --at" in capsys.readouterr().err

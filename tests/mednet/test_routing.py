"""Referral routing: every answer checked against networkx Dijkstra and the policy applied by hand."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mednet.cli import main
from mednet.errors import (
    InvalidCoordinates,
    InvalidRequest,
    MednetError,
    NoCapableInstitution,
    UnknownCommunity,
    UnknownInstitution,
    UnknownSpecialty,
)
from mednet.geo import haversine_km
from mednet.models import (
    Capability,
    Community,
    Institution,
    Link,
    LinkKind,
    Location,
    Membership,
    Region,
    Role,
    Session,
    Source,
    Tier,
)
from mednet.network import build_network, home_community
from mednet.regions import load_region
from mednet.routing import CST, Point, Referral, Router, route_referral
from mednet.routing.answers import SHORT_PASSED_OVER
from mednet.routing.links import link_metres, same_proxy_point
from mednet.routing.tables import tie_priority

START = "(start)"
STEP_NAMES = {
    "up": ("own_community", "partners", "any"),
    "emergency": ("nearest", "nearest", "nearest"),
    "down": ("home_centre", "home_community", "home_community"),
}


# --------------------------------------------------------------------------- the policy by hand


def partners_of(G: nx.Graph, community: str | None) -> set[str]:
    if community is None:
        return set()
    com = G.graph["communities"][community]
    found = {v for v, data in G.adj[com.lead].items() if data["kind"] == LinkKind.LEAD_CITY}
    return found | set(com.ids(Role.ALLIANCE, Role.COLLABORATOR))


def judge(G: nx.Graph, origin: str | None, code: str, direction: str, *, hc: str | None, preferred: str | None,
          rank_of: str | None = None):
    """For every institution: (step, None) when it is a candidate, else (None, reason)."""
    rank = {v: Tier(G.nodes[v]["tier"]).rank for v in G}
    origin_rank = rank[rank_of or origin]
    partners = partners_of(G, hc) if direction == "up" else set()
    verdict = {}
    for v in G:
        capable = code in G.nodes[v]["capabilities"]
        home = home_community(G, v)
        if v == origin:
            verdict[v] = (None, "is_origin")
        elif not capable:
            verdict[v] = (None, "not_capable")
        elif direction == "up" and rank[v] <= origin_rank:
            verdict[v] = (None, "not_higher_tier")
        elif direction == "up":
            verdict[v] = ((0 if hc is not None and home == hc else 1 if v in partners else 2), None)
        elif direction == "down":
            inside = home == hc
            verdict[v] = ((0 if v == preferred else 1), None) if inside else (None, "outside_community_at_this_step")
        else:
            verdict[v] = (2, None)
    return verdict


def reference_graph(G: nx.Graph) -> nx.Graph:
    """The graph with each link's cost as routing counts it (whole metres, 0 at one proxy point)."""
    R = nx.Graph()
    R.add_nodes_from(G)
    for a, b, km in G.edges(data="distance_km"):
        R.add_edge(a, b, m=float(link_metres(np.array([km]), np.array([same_proxy_point(G, a, b)]))[0]))
    return R


def reference_km(G: nx.Graph, starts: dict[str, float]) -> tuple[dict[str, float], nx.Graph]:
    """km from the starts (each at its km) to every institution, as the exhaustive search finds it."""
    R = reference_graph(G)
    R.add_node(START)
    for v, km in starts.items():
        R.add_edge(START, v, m=round(km * 1000.0))
    metres = nx.single_source_dijkstra_path_length(R, START, weight="m")
    return {v: m / 1000.0 for v, m in metres.items() if v != START}, R


def check_referral(G: nx.Graph, r: Referral | None, error: Exception | None, origin: str | None, code: str,
                   direction: str, *, hc: str | None, preferred: str | None = None, max_km: float | None = None,
                   k: int = 3, starts: dict[str, float] | None = None, rank_of: str | None = None,
                   short: Referral | None = None) -> None:
    """Assert that an answer (or the error) is what the policy gives on the whole graph.

    ``starts``: where the distances start (a point's access legs, a home institution), by default the origin;
    ``origin`` is None for a point, whose home centre ``rank_of`` gives the tier rank going up. ``short`` is the
    same answer with the default passed-over list (``r`` has every one).
    """
    starts = starts or {str(origin): 0.0}
    km, _ = reference_km(G, starts)
    verdict = judge(G, origin, code, direction, hc=hc, preferred=preferred, rank_of=rank_of)
    limit = math.inf if max_km is None else max_km
    prio = dict(zip(G, tie_priority(G, list(G)).tolist(), strict=True))
    candidates = sorted((verdict[v][0], km[v], prio[v], v) for v in km if verdict[v][0] is not None)
    within = [c for c in candidates if c[1] <= limit]
    if not within:
        assert isinstance(error, NoCapableInstitution), f"expected no answer, got {r and r.destination.id}"
        return
    assert error is None, f"expected an answer, got {error!r}"
    decided, best_km, best_prio, _ = within[0]
    dest = r.destination.id
    assert dest != origin
    assert verdict[dest][0] == decided and r.step == STEP_NAMES[direction][decided]
    # One number per distance: the reported km is the exhaustive search's float, the one max_km was compared with.
    assert r.distance_km == best_km == km[dest] and r.distance_km <= limit
    assert prio[dest] == best_prio  # equal distances: higher tier, then community role
    assert r.minutes == round(r.distance_km / r.speed_kmh * 60, 1)
    assert code in G.nodes[dest]["capabilities"]
    # The path: from the start (a point's access leg first) to the destination, adding up to the distance.
    hops = list(r.path)
    if r.origin_point is not None:
        assert hops[0].kind == "access" and starts[hops[0].to_id] == hops[0].distance_km
        hops = hops[1:]
    if hops:
        assert hops[0].from_id in starts and hops[-1].to_id == dest
    for a, b in itertools.pairwise(hops):
        assert a.to_id == b.from_id
    for hop in hops:
        same = same_proxy_point(G, hop.from_id, hop.to_id)
        assert hop.distance_km == (0.0 if same else G.edges[hop.from_id, hop.to_id]["distance_km"])
        assert (hop.basis == "same_proxy_point") == same
    assert sum(h.distance_km for h in r.path) == pytest.approx(r.distance_km, abs=1e-6)  # type: ignore[misc]
    # Alternatives: the next candidates in the policy's (step, distance, tie priority) order.
    rest = [(STEP_NAMES[direction][s], d, p) for s, d, p, v in within if v != dest][:k]
    got = [(a.step, a.distance_km, prio[a.institution.id]) for a in r.alternatives]
    assert got == rest
    for a in r.alternatives:
        assert a.distance_km == km[a.institution.id]
    # Passed over: every institution nearer than the destination, with the reason it was skipped.
    later = "not_home_centre" if direction == "down" else "outside_community_at_this_step"
    seen = {}
    for group in r.passed_over:
        assert group.count == len(group.institutions)
        if group.reason == "beyond_max_km":
            continue
        for inst, d in zip(group.institutions, group.distances_km, strict=True):
            seen[inst.id] = group.reason
            assert d == km[inst.id]
            step, reason = verdict[inst.id]
            assert group.reason == (later if step is not None else reason), inst.id
            assert d <= r.distance_km
    nearer = {v for v in km if km[v] < r.distance_km and v != dest}
    assert nearer <= set(seen), f"missing from passed_over: {nearer - set(seen)}"
    assert dest not in seen
    # Beyond the limit: the best candidate of each earlier step that had one.
    beyond = {i.id: d for g in r.passed_over if g.reason == "beyond_max_km"
              for i, d in zip(g.institutions, g.distances_km, strict=True)}
    expected = {}
    for s in range(decided):
        steps = [c for c in candidates if c[0] == s]
        if steps:
            expected[s] = steps[0][1]
    assert sorted(beyond.values()) == sorted(expected.values())
    if short is not None:  # the default: per reason the count and the nearest five, else the same answer
        assert [(g.reason, g.count) for g in short.passed_over] == [(g.reason, g.count) for g in r.passed_over]
        for g_short, g_full in zip(short.passed_over, r.passed_over, strict=True):
            assert g_short.institutions == g_full.institutions[:SHORT_PASSED_OVER]
            assert g_short.distances_km == g_full.distances_km[:SHORT_PASSED_OVER]
        assert short.model_copy(update={"passed_over": r.passed_over}) == r


def ask(router: Router, origin, code, **options):
    try:
        return router.route(origin, code, **options), None
    except NoCapableInstitution as err:
        return None, err


def ask_both(router: Router, origin, code, **options):
    """The answer with every passed-over institution, the error, and the default answer."""
    full, err = ask(router, origin, code, explain="full", **options)
    short, _ = ask(router, origin, code, **options)
    return full, err, short


# --------------------------------------------------------------------------- small random networks

SPECIALTIES = ("general_practice", "general_surgery", "paediatrics", "rehabilitation")
SOURCES = {"t": Source(title="test")}
WHERE = Location(kind="town_seat", source="t")


def random_region(seed: int) -> Region:
    """1–3 counties (a lead hospital and its townships), a city hospital, a collaborator; random capabilities."""
    rng = np.random.default_rng(seed)
    institutions, communities, links = [], [], []

    def add(id_, tier, lat, lon, county, p_capable):
        caps = tuple(Capability(specialty=c, source="t") for c in SPECIALTIES if rng.random() < p_capable)
        institutions.append(Institution(id=id_, name=f"name-{id_}", tier=tier, county=county, lat=lat, lon=lon,
                                        location=WHERE, capabilities=caps, source="t"))

    city = (29.0 + rng.uniform(-0.2, 0.2), 119.0 + rng.uniform(-0.2, 0.2))
    add("city", Tier.CITY_HOSPITAL, *city, "city", 0.8)
    if rng.random() < 0.5:  # a second hospital at the same point: ties
        add("city2", Tier.CITY_HOSPITAL, *city, "city", 0.6)
    for c in range(int(rng.integers(1, 4))):
        lead = (city[0] + rng.uniform(-0.5, 0.5), city[1] + rng.uniform(-0.5, 0.5))
        county = f"county{c}"
        add(f"lead{c}", Tier.COUNTY_HOSPITAL, *lead, county, 0.7)
        members = [Membership(institution=f"lead{c}", role=Role.LEAD, source="t")]
        for t in range(int(rng.integers(2, 7))):
            add(f"t{c}-{t}", Tier.TOWNSHIP_CENTRE, lead[0] + rng.uniform(-0.25, 0.25),
                lead[1] + rng.uniform(-0.25, 0.25), county, 0.3)
            members.append(Membership(institution=f"t{c}-{t}", role=Role.BRANCH, source="t"))
        if rng.random() < 0.5:
            add(f"collab{c}", Tier.COUNTY_HOSPITAL, lead[0] + 0.05, lead[1] + 0.05, county, 0.7)
            members.append(Membership(institution=f"collab{c}", role=Role.COLLABORATOR, source="t"))
        communities.append(Community(id=f"com{c}", name=f"community {c}", kind="county", counties=(county,),
                                     members=tuple(members), source="t"))
    point = {i.id: (i.lat, i.lon) for i in institutions}

    def link(a, b, kind):
        km = max(float(haversine_km(*point[a], *point[b])) * 1.3, 1.0)
        links.append(Link(a=a, b=b, kind=kind, distance_km=round(km, 3), distance_basis="geodesic_x_road_factor",
                          source="t"))

    for com in communities:
        for m in com.members:
            if m.role is Role.BRANCH:
                link(m.institution, com.lead, LinkKind.BRANCH_LEAD)
            elif m.role is Role.COLLABORATOR:
                link(m.institution, com.lead, LinkKind.COLLABORATOR)
        if rng.random() < 0.8:
            link(com.lead, "city", LinkKind.LEAD_CITY)
    ids = list(point)
    for _ in range(len(ids)):
        a, b = rng.choice(len(ids), 2, replace=False)
        if rng.random() < 0.7:
            link(ids[a], ids[b], LinkKind.NEIGHBOUR)
    return Region(id=f"random{seed}", name="random", sources=SOURCES, institutions=tuple(institutions),
                  communities=tuple(communities), links=tuple(links))


def point_start(router: Router, point: Point) -> tuple[str, dict[str, float]]:
    """A point's home centre (checked: the nearest primary care) and its access legs by id."""
    net = router.net
    nodes, kms = router.access_legs(point)
    primary = np.flatnonzero(net.primary_care)
    centre = net.ids[int(primary[np.argmin(haversine_km(point.lat, point.lon, net.lat[primary], net.lon[primary]))])]
    assert centre in {net.ids[j] for j in nodes}
    return centre, {net.ids[j]: km for j, km in zip(nodes, kms, strict=True)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), direction=st.sampled_from(["up", "up", "emergency", "down"]),
       max_km=st.none() | st.floats(2.0, 60.0), k=st.integers(1, 4), pick=st.integers(0, 10**6),
       at_point=st.booleans())
def test_random_networks_follow_the_policy(seed, direction, max_km, k, pick, at_point):
    # Against an exhaustive search, from institutions and from points (distances from the point through its
    # access legs), with every passed-over institution and with the default short list.
    region = random_region(seed)
    G = build_network(region)
    router = Router.from_graph(G)
    code = SPECIALTIES[pick % len(SPECIALTIES)]
    hc = preferred = home = starts = rank_of = None
    origin: str | Point | None
    if at_point:
        primary = sorted(v for v in G if Tier(G.nodes[v]["tier"]).is_primary_care)
        anchor = primary[pick % len(primary)]
        rng = np.random.default_rng(pick)
        origin = Point(lat=G.nodes[anchor]["lat"] + rng.uniform(-0.1, 0.1),
                       lon=G.nodes[anchor]["lon"] + rng.uniform(-0.1, 0.1))
        rank_of, starts = point_start(router, origin)
        hc = home_community(G, rank_of)
        if direction == "down":
            preferred = rank_of
    elif direction == "down":
        hospitals = [v for v in G if Tier(G.nodes[v]["tier"]).is_hospital]
        origin = hospitals[pick % len(hospitals)]
        branches = sorted(v for v in G if home_community(G, v) is not None)
        home = preferred = branches[(pick // 7) % len(branches)]
        hc = home_community(G, home)
        starts = {home: 0.0}  # down-referral is ranked from the patient's home
    else:
        origin = sorted(G)[pick % len(G)]
        hc = home_community(G, origin)
    r, err, short = ask_both(router, origin, code, direction=direction, home=home, max_km=max_km, alternatives=k)
    check_referral(G, r, err, None if at_point else origin, code, direction, hc=hc, preferred=preferred,
                   max_km=max_km, k=k, starts=starts, rank_of=rank_of, short=short)
    if r is not None:
        check_trip(G, r, origin)


def check_trip(G: nx.Graph, r: Referral, origin: str) -> None:
    """Measured from a home, the answer also gives the trip from the discharging hospital: the exhaustive
    search's km, along links that lead from the origin to the destination (none when no link leads there);
    else no trip."""
    if r.measured_from != "home":
        assert r.trip is None
        return
    km, _ = reference_km(G, {origin: 0.0})
    if r.destination.id not in km:  # no link leads from the discharging hospital there: no trip to give
        assert r.trip is None
        return
    assert r.trip is not None and r.trip.distance_km == km[r.destination.id]
    assert r.trip.minutes == round(r.trip.distance_km / r.speed_kmh * 60.0, 1)
    at = origin
    for hop in r.trip.path:
        assert hop.from_id == at
        at = hop.to_id
    assert at == r.destination.id
    assert round(sum(h.distance_km * 1000.0 for h in r.trip.path)) == round(r.trip.distance_km * 1000.0)


# --------------------------------------------------------------------------- Quzhou


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pick=st.integers(0, 10**6), direction=st.sampled_from(["up", "emergency", "down"]),
       code=st.sampled_from(["general_surgery", "orthopaedics", "paediatrics", "rehabilitation", "tcm",
                             "neurosurgery", "obstetrics", "child_health"]),
       max_km=st.none() | st.floats(1.0, 90.0))
def test_quzhou_answers_follow_the_policy(quzhou_graph, quzhou_router, pick, direction, code, max_km):
    G = quzhou_graph
    nodes = sorted(G)
    origin = nodes[pick % len(nodes)]
    hc, preferred, home = home_community(G, origin), None, None
    if direction == "down":
        hospitals = [v for v in nodes if Tier(G.nodes[v]["tier"]).is_hospital]
        origin = hospitals[pick % len(hospitals)]
        home = sorted(G.graph["communities"])[pick % len(G.graph["communities"])]
        hc = home
    r, err, short = ask_both(quzhou_router, origin, code, direction=direction, home=home, max_km=max_km)
    check_referral(G, r, err, origin, code, direction, hc=hc, preferred=preferred, max_km=max_km, short=short)


def test_kaihua_branch_goes_up_to_its_own_lead(quzhou_router):
    # Seed 004: 开化县人民医院医共体 = 县人民医院 + 华埠、杨林、… 卫生院: 华埠's own lead takes general surgery.
    r = quzhou_router.route("华埠", "普外科")
    assert (r.origin.name, r.destination.name, r.step) == ("华埠卫生院", "开化县人民医院", "own_community")
    # 开化县第二人民医院 (a collaborator, not a member; placed at 华埠镇) is nearer but outside the community.
    skipped = {g.reason: [i.name for i in g.institutions] for g in r.passed_over}
    assert skipped["outside_community_at_this_step"] == ["开化县第二人民医院"]
    assert skipped["is_origin"] == ["华埠卫生院"]
    assert r.minutes == round(r.distance_km / 40 * 60, 1)
    assert "开化县人民医院医共体" in r.explanation


def test_emergency_goes_to_the_nearest_capable_hospital_whatever_the_community(quzhou_router):
    # Seed 004: 开化县第二人民医院 only collaborates; in an emergency the nearest capable hospital is taken.
    r = quzhou_router.route("华埠", "general surgery", direction="emergency")
    assert (r.destination.name, r.step) == ("开化县第二人民医院", "nearest")
    assert [a.institution.name for a in r.alternatives][:1] == ["开化县人民医院"]


def test_jiangshan_patient_goes_down_from_the_city_hospital_to_the_home_centre(quzhou_router):
    # Seed 004: 虎山街道社区卫生服务中心 is a branch of 江山市人民医院医共体; rehabilitation back home (康复回社区).
    r = quzhou_router.route("衢州市人民医院", "康复", direction="down", home="虎山")
    assert (r.destination.name, r.step, r.direction) == ("虎山街道社区卫生服务中心", "home_centre", "down")
    # Distances start at the patient's home: the home centre itself is 0 km from it.
    assert (r.measured_from, r.distance_km, r.path) == ("home", 0.0, ())
    # Given the community only, the nearest member offering rehabilitation: its lead, on the way.
    r = quzhou_router.route("衢州市人民医院", None, direction="down", home="江山市人民医院医共体")
    assert (r.destination.name, r.step, r.specialty.code) == ("江山市人民医院", "home_community", "rehabilitation")


@pytest.mark.parametrize("name", ["华埠", "华埠卫生院", "华埠镇卫生院", "kh-huabu"])
def test_origin_names_and_aliases_resolve(quzhou_router, name):
    assert quzhou_router.route(name, "骨科").origin.id == "kh-huabu"


@pytest.mark.parametrize("name", ["池淮(张湾)", "池淮", "张湾"])
def test_merged_township_names_resolve(quzhou_router, name):
    assert quzhou_router.route(name, "orthopaedics").origin.name == "池淮(张湾)卫生院"


@pytest.mark.parametrize("label", ["general_surgery", "普通外科", "普外", "General surgery", "surgery"])
def test_specialty_labels_and_aliases_resolve(quzhou_router, label):
    assert quzhou_router.route("华埠", label).specialty.code == "general_surgery"


def test_max_km_moves_the_search_to_the_next_step(quzhou_router):
    # 开化县人民医院 is 20 km from 华埠 by the network: with a 10 km limit the partners step decides.
    r = quzhou_router.route("华埠", "骨科", max_km=10)
    assert (r.destination.name, r.step, r.max_km) == ("开化县第二人民医院", "partners", 10.0)
    beyond = next(g for g in r.passed_over if g.reason == "beyond_max_km")
    assert [i.name for i in beyond.institutions] == ["开化县人民医院"]
    assert beyond.distances_km[0] > 10
    with pytest.raises(NoCapableInstitution, match=r"within max_km=0\.5 km") as caught:
        quzhou_router.route("杨林", "骨科", max_km=0.5, lang="en")
    assert caught.value.nearest is not None and caught.value.nearest_km > 0.5


def test_coordinates_snap_to_the_nearest_primary_care_institution(quzhou_router):
    r = quzhou_router.route(Point(lat=29.0105, lon=118.3543), "骨科")
    assert r.origin.id == "kh-huabu" and r.snap_km < 0.1
    assert r.origin_point == Point(lat=29.0105, lon=118.3543)


def test_answers_equal_their_validated_copies(quzhou_router):
    for r in (quzhou_router.route("华埠", "普外科", max_km=10),
              quzhou_router.route("衢州市人民医院", None, direction="down", home="虎山")):
        assert Referral.model_validate(r.model_dump()) == r
        assert Referral.model_validate_json(r.model_dump_json()) == r
        assert r.model_dump()["explanation"] == r.explanation


@pytest.mark.parametrize("region_id", ["quzhou", "huzhou", "luqiao", "minhang"])
def test_route_json_is_the_referrals_own_json(region_id):
    # The service answers with route_json, written without building the Referral: byte for byte the model's JSON,
    # for every origin, in every direction, with sessions (a Monday in the seeds' weeks), limits and coordinates.
    router = Router.from_region(load_region(region_id))
    net = router.net
    monday = dt.datetime(2024, 10, 28, 9, 0)
    asked = 0
    for i, origin in enumerate(net.ids):
        point = Point(lat=float(net.lat[i]) + 0.01, lon=float(net.lon[i]) - 0.01)
        for code in [*net.specialties[i % 5::5], None]:
            for direction, options in (("up", {"when": monday}), ("emergency", {"max_km": 15.0, "when": monday}),
                                       ("down", {"when": monday.replace(tzinfo=CST), "alternatives": 1}),
                                       ("up", {"when": monday, "max_km": 8.0, "alternatives": 6})):
                for where in (origin, point) if code is None else (origin,):
                    try:
                        expected = router.route(where, code, direction=direction, **options).model_dump_json()
                    except MednetError as err:
                        with pytest.raises(type(err)):
                            router.route_json(where, code, direction=direction, **options)
                        continue
                    assert router.route_json(where, code, direction=direction, **options) == expected.encode()
                    asked += 1
    assert asked >= len(net.ids)  # most questions have an answer


def test_a_longer_shortlist_than_before_gets_the_answer_of_a_new_router():
    # A longer shortlist enlarges the router's scratch arrays; the search state left by earlier queries must not
    # leak into them (it once did: nodes settled by the first query counted as settled by the next).
    region = load_region("quzhou")
    fresh = Router.from_region(region)
    asked = 0
    for origin in fresh.net.ids[:40]:
        router = Router.from_region(region)
        with contextlib.suppress(NoCapableInstitution):
            router.route(origin, "儿科")
            assert router.route(origin, "儿科", alternatives=8) == fresh.route(origin, "儿科", alternatives=8)
            asked += 1
    assert asked >= 30


def test_route_referral_compiles_once_per_graph(quzhou_graph):
    first = route_referral(quzhou_graph, "华埠", "骨科")
    router = quzhou_graph.__networkx_cache__["mednet.routing.Router"]
    assert route_referral(quzhou_graph, "华埠", "骨科") == first
    assert quzhou_graph.__networkx_cache__["mednet.routing.Router"] is router


# --------------------------------------------------------------------------- scheduled sessions

TUESDAY_PM = Session(weekday="tue", part="afternoon", provider="C")
TO_BE_ARRANGED = Session(weekday=None, provider="C")
MONDAY_9 = dt.datetime(2026, 11, 2, 9, 0)


def session_region(*, booking_days: int, paediatrics: tuple[Session, ...] = (TUESDAY_PM,),
                   cardiology: tuple[Session, ...] = (TO_BE_ARRANGED,)) -> Region:
    """A county: lead L, branches A (the patient's), B (a city paediatrician on Tuesday afternoons), D (a city
    cardiologist weekly, day to be arranged); the city hospital C, 60 km away, offers both permanently."""
    def inst(id_, tier, lat, lon, *caps):
        return Institution(id=id_, name=f"{id_}-name", tier=tier, county="k", lat=lat, lon=lon, location=WHERE,
                           capabilities=caps, source="t")

    def cap(code, sessions=()):
        return Capability(specialty=code, sessions=sessions, source="t")

    institutions = (
        inst("A", Tier.TOWNSHIP_CENTRE, 29.00, 118.00, cap("general_practice")),
        inst("B", Tier.TOWNSHIP_CENTRE, 29.05, 118.00, cap("paediatrics", paediatrics)),
        inst("D", Tier.TOWNSHIP_CENTRE, 28.95, 118.00, cap("cardiology", cardiology)),
        inst("L", Tier.COUNTY_HOSPITAL, 29.00, 118.15, cap("general_surgery")),
        inst("C", Tier.CITY_HOSPITAL, 29.40, 118.40, cap("paediatrics"), cap("cardiology")),
    )
    members = tuple(Membership(institution=i, role=Role.LEAD if i == "L" else Role.BRANCH, source="t")
                    for i in "ABDL")
    links = tuple(Link(a=a, b=b, kind=kind, distance_km=km, distance_basis="road", source="t")
                  for a, b, kind, km in (("A", "B", LinkKind.NEIGHBOUR, 6.0), ("A", "D", LinkKind.NEIGHBOUR, 6.0),
                                         ("A", "L", LinkKind.BRANCH_LEAD, 15.0), ("B", "L", LinkKind.BRANCH_LEAD, 16.0),
                                         ("D", "L", LinkKind.BRANCH_LEAD, 16.0), ("L", "C", LinkKind.LEAD_CITY, 60.0)))
    return Region(id="sessions", name="sessions", booking_days=booking_days, sources=SOURCES,
                  institutions=institutions, links=links,
                  communities=(Community(id="com", name="com", kind="county", counties=("k",), members=members,
                                         source="t"),))


def test_monday_query_routes_to_tuesdays_session_with_its_date():
    assert MONDAY_9.weekday() == 0
    r = Router.from_region(session_region(booking_days=7)).route("A", "paediatrics", when=MONDAY_9)
    assert (r.destination.id, r.step, r.distance_km) == ("B", "own_community", 6.0)
    assert (r.session.date, r.session.weekday, r.session.part) == (dt.date(2026, 11, 3), "tue", "afternoon")
    assert r.session.provider.id == "C" and "2026-11-03" in r.session.text
    assert r.when == MONDAY_9


def test_a_window_that_misses_the_session_escalates():
    # Booking one day ahead from Monday 09:00 ends before Tuesday afternoon: the city hospital, a partner.
    r = Router.from_region(session_region(booking_days=1)).route("A", "paediatrics", when=MONDAY_9)
    assert (r.destination.id, r.step) == ("C", "partners")
    assert [(i.id, g.reason) for g in r.passed_over for i in g.institutions if i.id == "B"] == [("B", "not_in_session")]
    # Tuesday 18:00: this week's session is over; next week's lies beyond a 1-day window as well.
    late = dt.datetime(2026, 11, 3, 18, 0)
    assert Router.from_region(session_region(booking_days=1)).route("A", "paediatrics", when=late).destination.id == "C"


def test_session_validity_and_fortnightly_sessions_are_honoured():
    ended = Session(weekday="tue", part="afternoon", provider="C", valid_until=dt.date(2026, 11, 1))
    r = Router.from_region(session_region(booking_days=7, paediatrics=(ended,))).route("A", "儿科", when=MONDAY_9)
    assert r.destination.id == "C"
    # Every other week from Tuesday 2026-10-27: not on 11-03, next on 11-10, beyond a 7-day window.
    fortnight = Session(weekday="tue", part="afternoon", provider="C", every_weeks=2,
                        valid_from=dt.date(2026, 10, 27))
    router = Router.from_region(session_region(booking_days=14, paediatrics=(fortnight,)))
    assert router.route("A", "儿科", when=MONDAY_9).session.date == dt.date(2026, 11, 10)
    router = Router.from_region(session_region(booking_days=7, paediatrics=(fortnight,)))
    assert router.route("A", "儿科", when=MONDAY_9).destination.id == "C"


def test_day_to_be_arranged_counts_in_a_week_long_window_without_a_date():
    r = Router.from_region(session_region(booking_days=7)).route("A", "cardiology", when=MONDAY_9, lang="en")
    assert (r.destination.id, r.session.date, r.session.text) == ("D", None, "weekly, day to be arranged")
    r = Router.from_region(session_region(booking_days=3)).route("A", "cardiology", when=MONDAY_9)
    assert r.destination.id == "C"


def test_a_session_held_by_a_lower_tier_is_not_a_referral_up():
    own = Session(weekday="tue", part="afternoon", provider=None)  # the township's own clinic: not 上下联动
    r = Router.from_region(session_region(booking_days=7, paediatrics=(own,))).route("A", "paediatrics",
                                                                                  when=MONDAY_9)
    assert r.destination.id == "C"
    assert ("B", "not_higher_tier") in [(i.id, g.reason) for g in r.passed_over for i in g.institutions]


def test_emergency_ignores_scheduled_sessions():
    r = Router.from_region(session_region(booking_days=7)).route("A", "paediatrics", direction="emergency",
                                                                 when=MONDAY_9)
    assert r.destination.id == "C"


# --------------------------------------------------------------------------- bad input


def test_unknown_names_suggest_the_closest(quzhou_router):
    with pytest.raises(UnknownInstitution, match="did you mean '华埠"):
        quzhou_router.route("华铺", "骨科", lang="en")
    with pytest.raises(UnknownSpecialty, match="did you mean 'orthopaedics'"):
        quzhou_router.route("华埠", "orthopaedic", lang="en")
    with pytest.raises(UnknownCommunity, match="是否要找"):
        quzhou_router.route("衢州市人民医院", "康复", direction="down", home="江山市人民医院医共")


@pytest.mark.parametrize(("options", "parameter", "rule"), [
    ({"max_km": -5.0}, "max_km", "must be a number > 0, got -5.0"),
    ({"max_km": 0}, "max_km", "must be a number > 0, got 0"),
    ({"max_km": float("nan")}, "max_km", "must be a number > 0"),
    ({"alternatives": 0}, "alternatives", "must be a whole number >= 1, got 0"),
    ({"alternatives": 2.5}, "alternatives", "must be a whole number >= 1"),
    ({"direction": "sideways"}, "direction", "must be one of 'up', 'down', 'emergency'"),
    ({"direction": "down"}, "home", "is required for direction='down' from an origin that is not a hospital"),
    ({"home": "江山市人民医院医共体"}, "home", "is only used with direction='down'"),
    ({"when": "tomorrow"}, "when", "must be a date and time"),
])
def test_invalid_requests_name_the_parameter_and_the_rule(quzhou_router, options, parameter, rule):
    with pytest.raises(InvalidRequest, match=f"`{parameter}` {rule}"):
        quzhou_router.route("华埠", "骨科", lang="en", **options)


def test_specialty_is_required_except_going_down(quzhou_router):
    with pytest.raises(InvalidRequest, match="`specialty` is required"):
        quzhou_router.route("华埠", None, lang="en")


@pytest.mark.parametrize(("lat", "lon", "message"), [
    (48.85, 2.35, "must lie in mainland China"),
    (22.3, 114.2, "within 50 km of a primary-care institution"),
])
def test_coordinates_outside_the_region_are_refused(quzhou_router, lat, lon, message):
    with pytest.raises(InvalidCoordinates, match=message):
        quzhou_router.route(Point(lat=lat, lon=lon), "骨科", lang="en")


def test_no_capable_institution_says_what_is_missing(quzhou_router):
    with pytest.raises(NoCapableInstitution, match="no institution of a higher tier than 衢州市人民医院 offers"):
        quzhou_router.route("衢州市人民医院", "骨科", lang="en")


# --------------------------------------------------------------------------- the command line


def test_cli_answers_in_text_for_a_desk_clerk(capsys):
    assert main(["route", "quzhou", "--from", "华埠", "--specialty", "普外科"]) == 0
    out = capsys.readouterr().out
    assert "上转 华埠卫生院 → 开化县人民医院" in out and "20.0 公里" in out and "[本医共体]" in out
    assert "未选的较近机构" in out and "开化县第二人民医院" in out
    assert main(["route", "quzhou", "--from", "华埠", "--specialty", "普外科", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "华埠卫生院 → 开化县人民医院" in out and "20.0 km" in out and "own_community" in out
    assert "passed over" in out and "开化县第二人民医院" in out


def test_cli_answers_in_json(capsys):
    assert main(["route", "quzhou", "--at", "29.0105,118.3543", "--specialty", "骨科", "--format", "json"]) == 0
    r = Referral.model_validate_json(capsys.readouterr().out)
    assert r.destination.name == "开化县人民医院" and r.origin_point is not None


@pytest.mark.parametrize(("argv", "message"), [
    (["--from", "华埠", "--specialty", "骨科", "--max-km", "-5"], "must be a number > 0"),
    (["--from", "华埠", "--specialty", "骨科", "--alternatives", "0"], "must be a whole number >= 1"),
    (["--from", "华铺", "--specialty", "骨科"], "did you mean '华埠"),
    (["--from", "华埠", "--specialty", "骨头"], "unknown specialty"),
    (["--at", "118.35,29.01", "--specialty", "骨科"], "look swapped"),
    (["--at", "48.85,2.35", "--specialty", "骨科"], "mainland China"),
    (["--from", "华埠"], "`specialty` is required"),
    (["--from", "华埠", "--specialty", "骨科", "--when", "next tuesday"], "ISO date-time"),
])
def test_cli_bad_input_exits_2_with_a_message(capsys, argv, message):
    try:
        code = main(["route", "quzhou", *argv, "--lang", "en"])
    except SystemExit as exit_:  # argparse refuses option values itself
        code = exit_.code
    assert code == 2
    assert message in capsys.readouterr().err


def test_cli_no_capable_institution_exits_1(capsys):
    assert main(["route", "quzhou", "--from", "华埠", "--specialty", "神经外科", "--max-km", "30"]) == 1
    assert "最近的是衢州市人民医院" in capsys.readouterr().err
    assert main(["route", "quzhou", "--from", "华埠", "--specialty", "神经外科", "--max-km", "30", "--lang", "en"]) == 1
    assert "the nearest is 衢州市人民医院" in capsys.readouterr().err


def test_concurrent_queries_get_the_answers_of_serial_ones(quzhou_graph, quzhou_router):
    import sys
    from concurrent.futures import ThreadPoolExecutor

    queries = [(origin, code) for origin in sorted(quzhou_graph)[:20] for code in ("骨科", "儿科", "康复")]
    serial = [ask(quzhou_router, o, c)[0] for o, c in queries]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch all the time: shared scratch arrays would show
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            parallel = list(pool.map(lambda q: ask(quzhou_router, *q)[0], queries * 10))
    finally:
        sys.setswitchinterval(interval)
    assert parallel == serial * 10


def test_a_date_far_outside_the_calendar_is_a_clear_error():
    import datetime as _dt

    from mednet.errors import InvalidRequest
    from mednet.regions import load_region
    from mednet.routing import Router

    router = Router.from_region(load_region("huzhou"))  # has dated sessions
    with pytest.raises(InvalidRequest, match=r"`when` must fall in the years 2000–2100, got '9999-12-31T23:00:00'"):
        router.route("wx-huanzhu-longquan", "皮肤科", when=_dt.datetime(9999, 12, 31, 23), lang="en")
    with pytest.raises(InvalidRequest, match=r"参数 `when` 必须在 2000–2100 年之间"):
        router.route("wx-huanzhu-longquan", "皮肤科", when=_dt.datetime(9999, 12, 31, 23))


def test_every_direction_step_and_reason_has_chinese_words():
    from typing import get_args

    from mednet.routing import DIRECTION_ZH, REASON_ZH, STEP_ZH, Direction, Reason, Step

    for words, kind in ((DIRECTION_ZH, Direction), (STEP_ZH, Step), (REASON_ZH, Reason)):
        assert set(words) == set(get_args(kind))
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in w) for w in words.values())


# --------------------------------------------------------------------------- routing a desk can trust

CITY_HOSPITALS = {"衢州市人民医院", "衢州市中医医院", "衢州市第二人民医院"}


def test_a_point_starts_where_the_patient_is(quzhou_router, capsys):
    # A point in Quzhou city, about 0.6 km from the three city hospitals: one of them, not 衢江区中医院 via the
    # home centre 浮石分院 6 km away; the path starts with the access leg, the home centre is named.
    at = Point(lat=28.97, lon=118.86)
    r = quzhou_router.route(at, "急诊", direction="emergency")
    assert r.destination.name in CITY_HOSPITALS and r.distance_km < 1.0 and r.measured_from == "origin_point"
    assert (r.path[0].kind, r.path[0].basis, r.path[0].from_id) == ("access", "geodesic_x_road_factor", "28.97,118.86")
    assert r.path[-1].to_id == r.destination.id and r.origin.name == "衢州市第二人民医院医共体浮石分院"
    assert main(["route", "quzhou", "--at", "28.97,118.86", "--specialty", "急诊", "--direction", "emergency"]) == 0
    out = capsys.readouterr().out
    assert "衢江区中医院 " not in out.split("备选")[0]
    assert "（居住地基层机构 衢州市第二人民医院医共体浮石分院，6.1 公里；距离自该点起算）" in out
    assert "与衢州市第二人民医院同一代用点：" in out and "→(接入 0.8 km)" in out
    assert main(["route", "quzhou", "--at", "28.97,118.86", "--specialty", "急诊", "--direction", "emergency",
                 "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "(home centre 衢州市第二人民医院医共体浮石分院, 6.1 km; distances from the point)" in out
    assert "same proxy point as 衢州市第二人民医院: " in out and "→(access 0.8 km)" in out
    # Going up, the home centre still decides the community: 浮石分院's own community first.
    up = quzhou_router.route(at, "骨科")
    assert up.step == "own_community" and up.destination.community == up.origin.community


def test_access_legs_join_the_nearest_institutions_of_any_tier(quzhou_router):
    at = Point(lat=28.97, lon=118.86)
    nodes, kms = quzhou_router.access_legs(at)
    net = quzhou_router.net
    great_circle = haversine_km(at.lat, at.lon, net.lat, net.lon)
    nearest = np.argsort(great_circle, kind="stable")[:4].tolist()
    assert set(nodes[:4]) == set(nearest) and net.ids[nodes[-1]] == "qj-fushi"  # and the home centre
    for j, km in zip(nodes, kms, strict=True):
        assert km == round(float(great_circle[j]) * 1.3, 3)


def test_one_number_per_distance(quzhou_router):
    # Whole metres and 0.1 min in every answer (no 81.13499999999999), and the km at an exact limit is within it.
    net, asked = quzhou_router.net, 0
    for origin in net.ids:
        for code in ("general_surgery", "paediatrics", "emergency"):
            with contextlib.suppress(NoCapableInstitution):
                r = quzhou_router.route(origin, code, alternatives=6)
                for km, minutes in [(r.distance_km, r.minutes), *((a.distance_km, a.minutes) for a in r.alternatives)]:
                    assert km == round(km, 3) and minutes == round(minutes, 1), (origin, code, km, minutes)
                if r.distance_km > 0:
                    limited = quzhou_router.route(origin, code, max_km=r.distance_km, alternatives=6)
                    assert limited.destination == r.destination and limited.distance_km <= limited.max_km
                    assert [a for a in limited.alternatives if a.distance_km <= r.distance_km] == [
                        a for a in r.alternatives if a.distance_km <= r.distance_km]
                asked += 1
    assert asked > 150


def test_down_referral_is_ranked_from_the_patients_home(quzhou_router):
    # 衢州市人民医院, down, home 廿八都: the member of 江山's community nearest to 廿八都, not 江山市人民医院
    # (66 km from 廿八都), which is nearest to the city.
    r = quzhou_router.route("衢州市人民医院", "康复", direction="down", home="廿八都")
    assert r.destination.name != "江山市人民医院" and r.measured_from == "home"
    assert r.path[0].from_id == quzhou_router.net.ids[quzhou_router.net.index["js-nianbadu"]] if r.path else True
    km, _ = reference_km(quzhou_router.G, {"js-nianbadu": 0.0})
    members = [v for v in quzhou_router.G if home_community(quzhou_router.G, v) == r.destination.community
               and "rehabilitation" in quzhou_router.G.nodes[v]["capabilities"]]
    assert r.distance_km == min(km[v] for v in members) < km["js-people"]
    from mednet.cli.route import format_referral
    assert format_referral(r).startswith("下转 衢州市人民医院（距离自居住地机构起算） → ")
    en = quzhou_router.route("衢州市人民医院", "康复", direction="down", home="廿八都", lang="en")
    assert format_referral(en).startswith("下转 down 衢州市人民医院 (distances from the home institution) → ")


def test_down_to_the_home_itself_states_the_trip_from_the_discharging_hospital(quzhou_router):
    # 廿八都 offers general practice: ranked from the home it is 0 km away, but the patient travels from the city.
    r = quzhou_router.route("衢州市人民医院", "全科", direction="down", home="廿八都")
    assert (r.destination.id, r.distance_km, r.path, r.measured_from) == ("js-nianbadu", 0.0, (), "home")
    check_trip(quzhou_router.G, r, "qz-people")
    assert r.trip is not None and r.trip.distance_km > 100 and r.trip.path[0].from_id == "qz-people"
    assert quzhou_router.route_json("衢州市人民医院", "全科", direction="down", home="廿八都") == \
        r.model_dump_json().encode()
    from mednet.cli.route import format_referral
    assert f"从衢州市人民医院出发的行程 {r.trip.distance_km:.1f} 公里" in format_referral(r)
    assert quzhou_router.route("衢州市人民医院", "全科", direction="down", home="江山市人民医院医共体").trip is None
    assert quzhou_router.route("华埠", "骨科").trip is None


def test_institutions_at_one_proxy_point_are_not_given_invented_distances(quzhou_router):
    # The three Quzhou city hospitals share one proxy point, joined by nominal 1 km links: 0 km apart, the link
    # says it stands for one point, the answer names the others there; ties go by tier, then community role.
    r = quzhou_router.route("衢州市人民医院", "急诊", direction="emergency")
    assert (r.destination.name, r.distance_km) == ("衢州市第二人民医院", 0.0)  # a community lead, of the same tier
    assert [h.basis for h in r.path] == ["same_proxy_point"]
    assert {i.name for i in r.same_proxy_point} == {"衢州市人民医院", "衢州市中医医院"}
    # Luqiao: 恩泽医院 (city tier) and the district hospitals at one point: the same km, 恩泽医院 first.
    r = Router.from_region(load_region("luqiao")).route("金清", "急诊", direction="emergency")
    assert r.destination.name == "台州恩泽医疗中心(集团)恩泽医院"
    assert {a.distance_km for a in r.alternatives} == {r.distance_km}
    assert {a.institution.id for a in r.alternatives} == {i.id for i in r.same_proxy_point}
    # Huzhou's two city hospitals at one point.
    hz = Router.from_region(load_region("huzhou"))
    a, b = ("hz-central", "hz-first")
    assert hz.route(a, "急诊", direction="emergency").distance_km == 0.0
    assert hz.route(b, "急诊", direction="emergency").same_proxy_point[0].id == b


def test_the_passed_over_list_gives_counts_and_the_nearest_five_by_default(capsys):
    router = Router.from_region(load_region("quzhou"))
    seen = 0
    for origin in router.net.ids:
        with contextlib.suppress(NoCapableInstitution):
            short = router.route(origin, "neurosurgery", when=MONDAY_9)
            full = router.route(origin, "neurosurgery", when=MONDAY_9, explain="full")
            for g_short, g_full in zip(short.passed_over, full.passed_over, strict=True):
                assert g_short.count == g_full.count == len(g_full.institutions)
                assert g_short.institutions == g_full.institutions[:SHORT_PASSED_OVER]
                seen += g_full.count > SHORT_PASSED_OVER
            assert router.route_json(origin, "neurosurgery", when=MONDAY_9,
                                     explain="full") == full.model_dump_json().encode()
    assert seen
    with pytest.raises(InvalidRequest, match="explain"):
        router.route(router.net.ids[0], "neurosurgery", explain="all")

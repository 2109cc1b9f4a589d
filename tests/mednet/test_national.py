"""The synthetic national network: real size and geography, connected, one community per county."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy.sparse.csgraph import connected_components

from mednet.errors import InvalidRequest
from mednet.models import Role, Tier
from mednet.national import build_national_network
from mednet.network import compile_network, home_community
from mednet.places import all_places
from mednet.routing import Point, Router


@pytest.fixture(scope="module")
def national():
    return build_national_network()


@pytest.mark.slow
def test_size_and_tiers_are_those_of_the_country(national):
    G = national
    places = all_places()
    tiers = [G.nodes[v]["tier"] for v in G]
    located_towns = sum(1 for p in places if p.level == "township" and p.lat is not None)
    located_cities = sum(1 for p in places if p.level == "city" and p.lat is not None)
    assert 70_000 <= G.number_of_nodes() <= 77_000
    assert sum(t.is_primary_care for t in tiers) == located_towns + 35_000
    assert tiers.count(Tier.CITY_HOSPITAL) == located_cities
    assert tiers.count(Tier.COUNTY_HOSPITAL) == len(G.graph["communities"])
    assert G.graph["synthetic"] is True and all(G.nodes[v]["synthetic"] for v in G)


@pytest.mark.slow
def test_network_is_connected_with_positive_lengths(national):
    net = compile_network(national)
    count, _ = connected_components(net.csr, directed=False)
    assert count == 1
    assert (net.csr.data >= 1.0).all()


@pytest.mark.slow
def test_one_community_per_county_led_by_its_hospital(national):
    G = national
    for com in G.graph["communities"].values():
        assert Tier(G.nodes[com.lead]["tier"]) is Tier.COUNTY_HOSPITAL and len(com.counties) == 1
        for m in com.members:
            assert (m.role is Role.LEAD) == (m.institution == com.lead)
            assert G.nodes[m.institution]["county"] == G.nodes[com.lead]["county"]
    assert len({c.lead for c in G.graph["communities"].values()}) == len(G.graph["communities"])
    primary = [v for v in G if Tier(G.nodes[v]["tier"]).is_primary_care]
    assert all(home_community(G, v) is not None for v in primary)
    leads_city = [v for v in G if Tier(G.nodes[v]["tier"]) is Tier.COUNTY_HOSPITAL
                  and any(d["kind"] == "lead_city" for d in G.adj[v].values())]
    assert len(leads_city) >= 0.99 * len(G.graph["communities"])


@pytest.mark.slow
def test_routes_on_the_national_network_match_networkx(national):
    router = Router.from_graph(national)
    point = Point(lat=29.0105, lon=118.3543)  # 华埠镇, 开化县
    r = router.route(point, "general_surgery")
    assert r.origin.name == "华埠镇卫生院"
    # From the point, through its access legs.
    G = national.copy()
    nodes, kms = router.access_legs(point)
    G.add_weighted_edges_from(((("point", router.net.ids[j], km) for j, km in zip(nodes, kms, strict=True))),
                              weight="distance_km")
    expected = nx.single_source_dijkstra_path_length(G, "point", weight="distance_km")
    assert r.distance_km == pytest.approx(expected[r.destination.id])
    assert sum(h.distance_km for h in r.path) == pytest.approx(r.distance_km)


def test_a_province_builds_alone_and_the_seed_fixes_it():
    a = build_national_network(provinces=["浙江省"], seed=3)
    b = build_national_network(provinces=["浙江省"], seed=3)
    c = build_national_network(provinces=["浙江省"], seed=4)
    assert set(a) == set(b) and nx.utils.edges_equal(a.edges(data="distance_km"), b.edges(data="distance_km"))
    caps = lambda G: sorted((v, tuple(sorted(G.nodes[v]["capabilities"]))) for v in G)  # noqa: E731
    assert caps(a) == caps(b) != caps(c)
    assert nx.is_connected(a) and {G.nodes[v]["county"] for G in (a,) for v in G} >= {"开化县", "江山市"}


def test_capabilities_follow_the_tiers():
    G = build_national_network(provinces=["浙江省"], n_specialties=5)
    codes = {c for v in G for c in G.nodes[v]["capabilities"]}
    assert codes <= {"general_practice", "general_surgery", "paediatrics", "orthopaedics", "urology"}
    for v in G:
        tier, caps = Tier(G.nodes[v]["tier"]), G.nodes[v]["capabilities"]
        if tier is Tier.CITY_HOSPITAL:
            assert len(caps) == 5
        if tier.is_primary_care:
            assert "general_practice" in caps
    share = np.mean([len(G.nodes[v]["capabilities"]) for v in G if G.nodes[v]["tier"] is Tier.COUNTY_HOSPITAL])
    assert 3.5 <= share <= 5


@pytest.mark.parametrize(("options", "parameter"), [
    ({"n_specialties": 0}, "n_specialties"), ({"n_specialties": 99}, "n_specialties"),
    ({"community_centres": -1}, "community_centres"), ({"provinces": ["火星省"]}, "provinces"),
])
def test_bad_options_are_refused(options, parameter):
    with pytest.raises(InvalidRequest, match=f"`{parameter}`"):
        build_national_network(**options)

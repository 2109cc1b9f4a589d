"""The Quzhou region file (data/regions/quzhou.json) against seed article 004 and its own rules."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

from mednet.geo import geodesic_km
from mednet.models import LinkKind, Region, Role, Tier
from mednet.places import county_townships
from mednet.regions import parse_region

ROOT = Path(__file__).resolve().parents[2]
REGION_FILE = ROOT / "data" / "regions" / "quzhou.json"
BUILDER = ROOT / "tools" / "build_quzhou.py"

#: Members named in each published roster (lead + branches).
ROSTER_SIZES = {
    "qj-ygt-city-2nd": 16,  # 衢州市第二人民医院医共体
    "qj-ygt-tcm": 7,  # 衢江区中医院医共体
    "js-ygt-people": 13,  # 江山市人民医院医共体
    "js-ygt-tcm": 9,  # 江山市中医院医共体
    "kh-ygt-people": 10,  # 开化县人民医院医共体
    "kh-ygt-tcm": 7,  # 开化县中医院医共体
}
#: Lead tokens the article writes that are ambiguous in this region (衢州市人民医院/衢州市中医医院 are
#: also "city" hospitals): resolved by the roster entry only, never an alias.
AMBIGUOUS_TOKENS = {"市人民医院", "市中医院"}
STANDARD_SOURCES = {"std-township-2018", "std-community-2006", "std-county-2016", "std-tertiary-2016"}


@pytest.fixture(scope="module")
def builder():
    sys.path.insert(0, str(BUILDER.parent))
    try:
        spec = importlib.util.spec_from_file_location("build_quzhou", BUILDER)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BUILDER.parent))
    return module


@pytest.fixture(scope="module")
def region() -> Region:
    return parse_region(json.loads(REGION_FILE.read_text(encoding="utf-8")), file=str(REGION_FILE))


@pytest.fixture(scope="module")
def by_id(region):
    return {inst.id: inst for inst in region.institutions}


@pytest.fixture(scope="module")
def communities(region):
    return {com.id: com for com in region.communities}


def _names(inst) -> set[str]:
    return {inst.name, *inst.aliases}


# ---------------------------------------------------------------------------- freshness


def test_file_equals_a_fresh_build(builder):
    assert REGION_FILE.read_text(encoding="utf-8") == builder.render(), (
        "data/regions/quzhou.json is stale: run .venv/bin/python tools/build_quzhou.py")


def test_build_is_deterministic(builder):
    assert builder.render() == builder.render()


def test_region_settings(region):
    assert (region.id, region.road_factor, region.speed_kmh, region.booking_days) == ("quzhou", 1.3, 40.0, 7)
    assert not region.synthetic
    assert "40 km/h" in region.description
    assert {(c.name, c.code, c.source) for c in region.covered_counties} == {
        ("衢江区", "330803", "adcode"), ("江山市", "330881", "adcode"), ("开化县", "330824", "adcode")}


# ---------------------------------------------------------------------------- rosters and membership


@pytest.mark.parametrize(("community_id", "size"), sorted(ROSTER_SIZES.items()))
def test_member_counts(communities, region, community_id, size):
    com = communities[community_id]
    assert len(com.ids(Role.LEAD, Role.BRANCH)) == size
    assert len(com.leads) == 1
    assert com.kind == "county" and len(com.counties) == 1
    assert com.published.isoformat() == "2019-04-03" and com.source == "seed004"
    roster = next(r for r in region.rosters if r.community == community_id)
    assert len(roster.entries) == size and roster.unnamed == 0


def test_six_communities_and_rosters(region):
    assert sorted(c.id for c in region.communities) == sorted(ROSTER_SIZES)
    assert sorted(r.community for r in region.rosters) == sorted(ROSTER_SIZES)


@pytest.mark.parametrize("community_id", sorted(ROSTER_SIZES))
def test_roster_entries_resolve_to_members_in_role(region, communities, by_id, community_id):
    com = communities[community_id]
    roles = {m.institution: m.role for m in com.members}
    roster = next(r for r in region.rosters if r.community == community_id)
    first, *rest = roster.entries
    assert first.institution == com.lead and roles[first.institution] is Role.LEAD
    for entry in rest:
        assert entry.institution in by_id, entry
        assert roles.get(entry.institution) is Role.BRANCH, entry
    assert len({e.institution for e in roster.entries}) == len(roster.entries)


@pytest.mark.parametrize("community_id", sorted(ROSTER_SIZES))
def test_roster_text_is_a_name_or_alias_of_its_institution(region, by_id, community_id):
    roster = next(r for r in region.rosters if r.community == community_id)
    for entry in roster.entries:
        if entry.text in AMBIGUOUS_TOKENS:
            assert all(entry.text not in _names(i) for i in region.institutions), entry
        else:
            assert entry.text in _names(by_id[entry.institution]), entry


@pytest.mark.parametrize(("token", "institution"), [
    ("衢州市第二人民医院", "qz-city-2nd"), ("上方分院", "qj-shangfang"), ("乌溪江中心分院", "qj-wuxijiang"),
    ("全旺镇分院", "qj-quanwang"), ("横路分院", "qj-henglu"), ("市人民医院", "js-people"), ("市中医院", "js-tcm"),
    ("淤头中心卫生院", "js-yutou"), ("清湖街道社区卫生服务中心", "js-qinghu"), ("县人民医院", "kh-people"),
    ("华埠", "kh-huabu"), ("池淮(张湾)", "kh-chihuai"), ("芹阳(金村)", "kh-qinyang"), ("马金(塘坞)", "kh-majin"),
])
def test_verbatim_tokens(region, token, institution):
    hits = [e.institution for r in region.rosters for e in r.entries if e.text == token]
    assert hits == [institution]


@pytest.mark.parametrize(("institution", "aliases"), [
    ("kh-huabu", {"华埠", "华埠镇卫生院"}),
    ("kh-chihuai", {"池淮(张湾)", "池淮", "张湾"}),
    ("kh-qinyang", {"芹阳(金村)", "芹阳", "金村"}),
    ("kh-majin", {"马金(塘坞)", "马金", "塘坞"}),
    ("qj-shangfang", {"上方分院", "上方", "上方镇卫生院"}),
    ("qj-wuxijiang", {"乌溪江中心分院", "乌溪江"}),
    ("js-yutou", {"淤头"}),
    ("kh-mch", {"县妇幼保健院"}),
    ("qj-mch", {"区妇幼保健院"}),
])
def test_aliases(by_id, institution, aliases):
    assert aliases <= set(by_id[institution].aliases)


def test_names_and_aliases_are_unique(region):
    counts = Counter(n for inst in region.institutions for n in _names(inst))
    assert [n for n, k in counts.items() if k > 1] == []


@pytest.mark.parametrize(("institution", "role", "communities_"), [
    ("qj-mch", Role.COLLABORATOR, {"qj-ygt-city-2nd", "qj-ygt-tcm"}),
    ("kh-2nd", Role.COLLABORATOR, {"kh-ygt-people"}),
    ("kh-mch", Role.ALLIANCE, {"kh-ygt-people", "kh-ygt-tcm"}),
])
def test_partners(region, institution, role, communities_):
    found = {c.id: m.role for c in region.communities for m in c.members if m.institution == institution}
    assert found == {c: role for c in communities_}


def test_each_branch_in_exactly_one_community(region):
    counts = Counter(m.institution for c in region.communities for m in c.members if m.role is Role.BRANCH)
    assert set(counts.values()) == {1}
    assert len(counts) == sum(ROSTER_SIZES.values()) - len(ROSTER_SIZES)


# ---------------------------------------------------------------------------- institutions


@pytest.mark.parametrize(("institution", "tier", "county"), [
    ("qz-city-2nd", Tier.CITY_HOSPITAL, "柯城区"), ("qz-people", Tier.CITY_HOSPITAL, "柯城区"),
    ("qz-tcm", Tier.CITY_HOSPITAL, "柯城区"), ("qj-tcm", Tier.COUNTY_HOSPITAL, "衢江区"),
    ("kh-2nd", Tier.COUNTY_HOSPITAL, "开化县"), ("qj-mch", Tier.MATERNAL_CHILD_HOSPITAL, "衢江区"),
    ("kh-mch", Tier.MATERNAL_CHILD_HOSPITAL, "开化县"), ("js-hushan", Tier.COMMUNITY_CENTRE, "江山市"),
    ("js-hecun", Tier.TOWNSHIP_CENTRE, "江山市"), ("qj-fushi", Tier.TOWNSHIP_CENTRE, "衢江区"),
])
def test_tiers_and_counties(by_id, institution, tier, county):
    assert (by_id[institution].tier, by_id[institution].county) == (tier, county)


@pytest.mark.parametrize(("institution", "township"), [
    ("js-yutou", "贺村镇"), ("qj-henglu", "高家镇"), ("qj-wuxijiang", "湖南镇"), ("js-qinghu", "清湖镇"),
    ("kh-qinyang", None), ("kh-chihuai", "池淮镇"), ("kh-majin", "马金镇"), ("qj-fushi", "浮石街道"),
])
def test_townships_after_name_changes(by_id, institution, township):
    assert by_id[institution].township == township
    if township is None:
        assert "no NBS township code" in by_id[institution].note


@pytest.mark.parametrize(("county", "code"), [("衢江区", "330803"), ("江山市", "330881"), ("开化县", "330824")])
def test_every_official_township_has_a_centre(region, county, code):
    served = {i.township for i in region.institutions if i.county == county and i.tier.is_primary_care}
    official = {t.name for t in county_townships(county, code=code)}
    assert official <= served, official - served
    assert served - {None} <= official


def test_city_hospitals_not_in_the_article_are_inferred(by_id):
    for key in ("qz-people", "qz-tcm"):
        inst = by_id[key]
        assert inst.inferred and inst.source == "seed_places" and "not named in seed004" in inst.note


def test_every_institution_has_a_sourced_location(region):
    for inst in region.institutions:
        assert inst.location.source in region.sources and inst.location.note, inst.id
        assert inst.location.kind != "surveyed" and inst.location.inferred, inst.id


def test_hospitals_are_placed_at_proxies(region):
    for inst in region.institutions:
        if inst.tier.is_hospital:
            assert inst.location.kind in ("county_seat", "town_seat", "proxy"), inst.id
            assert inst.location.note.startswith("no published point; placed at"), inst.id


# ---------------------------------------------------------------------------- capabilities


def test_every_capability_is_sourced_and_inferred_with_a_note(region):
    for inst in region.institutions:
        assert inst.capabilities, inst.id
        for cap in inst.capabilities:
            assert cap.source in region.sources
            assert cap.inferred and cap.note, (inst.id, cap.specialty)
            if cap.source in STANDARD_SOURCES:
                assert cap.note.startswith("assumed from "), (inst.id, cap.specialty)


def test_township_centres_hold_only_the_basic_standard(builder, region):
    basic = set(builder.rk.TOWNSHIP_BASIC)
    for inst in region.institutions:
        if inst.tier is Tier.TOWNSHIP_CENTRE:
            assert {c.specialty for c in inst.capabilities} == basic, inst.id
            assert inst.capability("general_surgery") is None and inst.capability("paediatrics") is None


def test_kaihua_township_needs_its_lead_for_general_surgery(by_id, communities):
    com = communities["kh-ygt-people"]
    assert by_id["kh-huabu"].capability("general_surgery") is None
    assert by_id[com.lead].capability("general_surgery") is not None


@pytest.mark.parametrize("institution", ["qj-tcm", "js-tcm", "kh-tcm", "qz-tcm"])
def test_tcm_hospitals_offer_tcm(by_id, institution):
    assert by_id[institution].capability("tcm") is not None


# ---------------------------------------------------------------------------- links and network


def test_links_say_how_they_were_made(region):
    for link in region.links:
        assert link.source in region.sources and link.note, link
        assert link.distance_basis == "geodesic_x_road_factor"
        if link.source == "mednet-rule":
            assert link.inferred, link
        if link.kind in (LinkKind.NEIGHBOUR, LinkKind.LEAD_CITY):
            assert link.inferred and link.source == "mednet-rule", link
        if link.kind is LinkKind.LEAD_CITY:
            assert "not published" in link.note
        if link.source == "seed004":
            assert "only distance_km is computed" in link.note


def test_link_distances(region, by_id):
    for link in region.links:
        a, b = by_id[link.a], by_id[link.b]
        km = max(geodesic_km(lat1=a.lat, lon1=a.lon, lat2=b.lat, lon2=b.lon) * region.road_factor, 1.0)
        assert link.distance_km == pytest.approx(km, abs=1e-3), link


def test_at_most_one_link_per_pair(region):
    pairs = Counter(frozenset((link.a, link.b)) for link in region.links)
    assert max(pairs.values()) == 1


def test_structural_links(region, communities):
    pairs = {frozenset((link.a, link.b)): link.kind for link in region.links}
    for com in communities.values():
        for m in com.members:
            expected = {Role.BRANCH: LinkKind.BRANCH_LEAD, Role.COLLABORATOR: LinkKind.COLLABORATOR,
                        Role.ALLIANCE: LinkKind.ALLIANCE}.get(m.role)
            if expected:
                assert pairs[frozenset((m.institution, com.lead))] is expected, (com.id, m.institution)
    city = {"qz-city-2nd": "qz-people", "js-people": "qz-people", "kh-people": "qz-people",
            "qj-tcm": "qz-tcm", "js-tcm": "qz-tcm", "kh-tcm": "qz-tcm"}
    for lead, hospital in city.items():
        assert pairs[frozenset((lead, hospital))] is LinkKind.LEAD_CITY


def test_network_is_connected(region):
    G = nx.Graph()
    G.add_nodes_from(inst.id for inst in region.institutions)
    G.add_weighted_edges_from((link.a, link.b, link.distance_km) for link in region.links)
    assert set(G.nodes) == {inst.id for inst in region.institutions}
    assert nx.is_connected(G)

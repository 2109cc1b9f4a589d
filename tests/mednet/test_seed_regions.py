"""The Huzhou, Luqiao and Minhang region files against seed articles 000, 003 and 001."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

from mednet.models import LinkKind, Region, Role, Tier
from mednet.regions import parse_region
from mednet.validate import validate_membership

ROOT = Path(__file__).resolve().parents[2]
REGIONS = ("huzhou", "luqiao", "minhang")
SEEDS = {  # region: (source key, publisher, date)
    "huzhou": ("seed000", "湖州日报", dt.date(2019, 3, 21)),
    "luqiao": ("seed003", "台州日报", dt.date(2018, 8, 9)),
    "minhang": ("seed001", "人民日报中央厨房·大江东工作室 (via 人民资讯)", dt.date(2024, 10, 28)),
}
CST = dt.timezone(dt.timedelta(hours=8))
MONDAY, WEDNESDAY = dt.datetime(2024, 10, 28, 9, tzinfo=CST), dt.datetime(2024, 10, 30, 9, tzinfo=CST)


def _load_builder(name: str):
    path = ROOT / "tools" / f"build_{name}.py"
    sys.path.insert(0, str(path.parent))
    try:
        spec = importlib.util.spec_from_file_location(f"build_{name}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def _region_file(name: str) -> Path:
    return ROOT / "data" / "regions" / f"{name}.json"


@pytest.fixture(scope="module")
def regions() -> dict[str, Region]:
    return {name: parse_region(json.loads(_region_file(name).read_text(encoding="utf-8")), file=name)
            for name in REGIONS}


@pytest.fixture(scope="module")
def huzhou(regions):
    return regions["huzhou"]


@pytest.fixture(scope="module")
def luqiao(regions):
    return regions["luqiao"]


@pytest.fixture(scope="module")
def minhang(regions):
    return regions["minhang"]


def _by_id(region: Region):
    return {inst.id: inst for inst in region.institutions}


def _community(region: Region, key: str):
    return next(c for c in region.communities if c.id == key)


def _roster(region: Region, key: str):
    return next(r for r in region.rosters if r.community == key)


def _role_map(community) -> dict[str, Role]:
    return {m.institution: m.role for m in community.members}


# ---------------------------------------------------------------------------- every region


@pytest.mark.parametrize("name", REGIONS)
def test_file_equals_a_fresh_build(name):
    assert _region_file(name).read_text(encoding="utf-8") == _load_builder(name).render(), (
        f"data/regions/{name}.json is stale: run .venv/bin/python tools/build_{name}.py")


@pytest.mark.parametrize("name", REGIONS)
def test_validates_without_errors(regions, name):
    report = validate_membership(regions[name])
    assert report.errors == ()
    assert "inferred-data" in report.codes("warning")


def test_expected_warnings(huzhou, luqiao, minhang):
    assert validate_membership(huzhou).codes("warning") == {"roster-unnamed", "inferred-data"}
    township = {p.message for p in validate_membership(luqiao).warnings if p.code == "township-without-centre"}
    assert any("新桥镇" in m for m in township) and any("横街镇" in m for m in township)
    assert validate_membership(minhang).codes("warning") == {"inferred-data", "session-never-in-window"}


@pytest.mark.parametrize("name", REGIONS)
def test_seed_source(regions, name):
    key, publisher, date = SEEDS[name]
    source = regions[name].sources[key]
    assert (source.publisher, source.date) == (publisher, date) and source.title
    assert {"adcode", "mednet-rule"} <= set(regions[name].sources)


@pytest.mark.parametrize("name", REGIONS)
def test_inferred_facts_say_why(regions, name):
    region = regions[name]
    for inst in region.institutions:
        assert inst.location.note and inst.location.source in region.sources, inst.id
        for cap in inst.capabilities:
            assert cap.note, (inst.id, cap.specialty)
    for com in region.communities:
        assert com.note
        for m in com.members:
            assert not m.inferred or m.note, (com.id, m.institution)
    for link in region.links:
        assert not link.inferred or link.note, link


@pytest.mark.parametrize("name", REGIONS)
def test_no_point_is_surveyed(regions, name):
    for inst in regions[name].institutions:
        assert inst.location.kind != "surveyed" and inst.location.inferred, inst.id
        if inst.tier.is_hospital or inst.tier is Tier.SHARED_CENTRE:
            assert inst.location.kind in ("proxy", "county_seat", "town_seat"), inst.id


@pytest.mark.parametrize("name", REGIONS)
def test_session_providers_exist_and_outrank_the_host(regions, name):
    by_id = _by_id(regions[name])
    sessions = [(inst, s) for inst in regions[name].institutions for c in inst.capabilities for s in c.sessions]
    for inst, session in sessions:
        assert session.provider in by_id, (inst.id, session)
        assert by_id[session.provider].tier.rank > inst.tier.rank, (inst.id, session)


@pytest.mark.parametrize("name", REGIONS)
def test_names_unique_and_network_connected(regions, name):
    region = regions[name]
    counts = Counter(n for inst in region.institutions for n in {inst.name, *inst.aliases})
    assert [n for n, k in counts.items() if k > 1] == []
    G = nx.Graph()
    G.add_nodes_from(inst.id for inst in region.institutions)
    G.add_edges_from((link.a, link.b) for link in region.links)
    assert nx.is_connected(G)
    assert max(Counter(frozenset((link.a, link.b)) for link in region.links).values()) == 1


# ---------------------------------------------------------------------------- Huzhou (seed000)

VISITING_HUZHOU = {
    "general_surgery", "paediatrics", "orthopaedics", "urology", "gastroenterology", "respiratory", "neurology",
    "rheumatology", "ent", "infectious_disease", "ophthalmology", "dermatology", "general_practice", "radiology",
    "ultrasound", "nursing",
}


def test_huzhou_two_communities_one_lead_each(huzhou):
    assert {(c.id, c.lead, c.kind) for c in huzhou.communities} == {
        ("hz-uc-central", "hz-central", "urban"), ("hz-uc-first", "hz-first", "urban")}
    for com in huzhou.communities:
        assert "read as one community per lead" in com.note


@pytest.mark.parametrize(("community", "named", "unnamed", "tier"), [
    ("hz-uc-central", {"市中心医院": "hz-central", "环渚龙泉街道社区卫生服务中心": "wx-huanzhu-longquan"}, 7,
     Tier.COMMUNITY_CENTRE),
    ("hz-uc-first", {"市第一人民医院": "hz-first", "吴兴区人民医院": "wx-people"}, 5, Tier.TOWNSHIP_CENTRE),
])
def test_huzhou_rosters_count_what_the_article_does_not_name(huzhou, community, named, unnamed, tier):
    roster = _roster(huzhou, community)
    assert {e.text: e.institution for e in roster.entries} == named
    assert (roster.unnamed, roster.unnamed_tier) == (unnamed, tier)
    assert set(_community(huzhou, community).ids(Role.LEAD, Role.BRANCH)) == set(named.values())


def test_huzhou_only_named_units_are_in_the_data(huzhou):
    primary = [inst.name for inst in huzhou.institutions if inst.tier.is_primary_care]
    assert primary == ["环渚龙泉街道社区卫生服务中心"]
    assert len(huzhou.institutions) == 4


def test_huzhou_visiting_sessions_have_no_invented_days(huzhou):
    by_id = _by_id(huzhou)
    for key, provider, held in (("wx-huanzhu-longquan", "hz-central", VISITING_HUZHOU | {"cardiology"}),
                                ("wx-people", "hz-first", VISITING_HUZHOU)):
        inst = by_id[key]
        for code in held:
            cap = inst.capability(code)
            if cap.sessions:
                assert [(s.weekday, s.part, s.provider, s.valid_from) for s in cap.sessions] == [
                    (None, None, provider, dt.date(2019, 3, 18))], (key, code)
                assert cap.inferred and "not published" in cap.note, (key, code)
            else:  # held permanently by the service standard; the note says the teams come too
                assert cap.source.startswith("std-") and "visiting teams" in cap.note, (key, code)
        assert inst.capability("dermatology") is not None


def test_huzhou_centre_dermatology_is_a_session_of_the_central_hospital(huzhou):
    cap = _by_id(huzhou)["wx-huanzhu-longquan"].capability("皮肤科")
    assert [s.day_to_be_arranged for s in cap.sessions] == [True]
    assert "73 expert teams a week" in cap.note


def test_huzhou_cardiology_session_comes_from_the_named_expert(huzhou):
    cap = _by_id(huzhou)["wx-huanzhu-longquan"].capability("心内科")
    assert cap.sessions[0].provider == "hz-central" and "程震锋" in cap.note


# ---------------------------------------------------------------------------- Luqiao (seed003)

LUQIAO_ROSTERS = {
    "lq-ygt-tcm": {"路橋區中醫院": "lq-tcm", "路橋": "lq-luqiao", "路南": "lq-lunan", "路北": "lq-lubei",
                   "桐嶼": "lq-tongyu", "螺洋": "lq-luoyang", "峰江": "lq-fengjiang"},
    "lq-ygt-2nd": {"區二院": "lq-2nd", "金清": "lq-jinqing", "蓬街": "lq-pengjie"},
    "lq-ygt-3rd": {"路橋區第三人民醫院": "lq-3rd"},
}
SHARED = {"lq-shared-lab": "laboratory", "lq-shared-ecg": "ecg", "lq-shared-pathology": "pathology",
          "lq-shared-sterile": "sterile_supply"}


@pytest.mark.parametrize(("community", "entries"), sorted(LUQIAO_ROSTERS.items()))
def test_luqiao_rosters_verbatim(luqiao, community, entries):
    roster = _roster(luqiao, community)
    assert {e.text: e.institution for e in roster.entries} == entries
    assert roster.unnamed == 0  # the article gives no count for any community
    roles = _role_map(_community(luqiao, community))
    lead, *branches = roster.entries
    assert roles[lead.institution] is Role.LEAD
    assert all(roles[e.institution] is Role.BRANCH for e in branches)
    assert len(_community(luqiao, community).ids(Role.LEAD, Role.BRANCH)) == len(entries)


def test_luqiao_third_community_is_its_lead_alone(luqiao):
    assert "names none of its branches and gives no count" in _roster(luqiao, "lq-ygt-3rd").note


def test_luqiao_street_centres(luqiao):
    by_id = _by_id(luqiao)
    streets = [by_id[key] for key in LUQIAO_ROSTERS["lq-ygt-tcm"].values() if key != "lq-tcm"]
    assert [(i.tier, i.county) for i in streets] == [(Tier.COMMUNITY_CENTRE, "路桥区")] * 6
    assert [i.township for i in streets] == ["路桥街道", "路南街道", "路北街道", "桐屿街道", "螺洋街道", "峰江街道"]


def test_luqiao_city_hospital_above_the_communities(luqiao):
    enze = _by_id(luqiao)["tz-enze"]
    assert enze.tier is Tier.CITY_HOSPITAL and "50" in enze.note
    lead_city = {frozenset((link.a, link.b)) for link in luqiao.links if link.kind is LinkKind.LEAD_CITY}
    assert lead_city == {frozenset((c.lead, "tz-enze")) for c in luqiao.communities}


def test_luqiao_shared_centres_serve_every_community(luqiao):
    by_id = _by_id(luqiao)
    for key, code in SHARED.items():
        inst = by_id[key]
        assert inst.tier is Tier.SHARED_CENTRE and inst.location.kind == "proxy"
        assert [c.specialty for c in inst.capabilities] == [code] and not inst.capabilities[0].inferred
        for com in luqiao.communities:
            assert _role_map(com)[key] is Role.COLLABORATOR
    served = {(link.a, link.b) for link in luqiao.links if link.kind is LinkKind.SHARED_SERVICE}
    members = {m for com in luqiao.communities for m in com.ids(Role.LEAD, Role.BRANCH)}
    assert served == {(m, key) for m in members for key in SHARED}


def test_luqiao_pathology_only_where_the_article_puts_it(luqiao):
    holders = {inst.id for inst in luqiao.institutions if inst.capability("pathology")}
    assert holders == {"lq-shared-pathology", "tz-enze"}  # the city hospital by the tertiary standard


def test_luqiao_imaging_cloud_is_planned_not_running(luqiao):
    assert all(inst.capability("radiology") is None for inst in luqiao.institutions
               if inst.tier is Tier.SHARED_CENTRE)
    assert "planned" in luqiao.description


@pytest.mark.parametrize(("institution", "specialty", "inferred"), [
    ("lq-fengjiang", "tcm", False), ("lq-tongyu", "acupuncture", False), ("lq-lubei", "acupuncture", False),
    ("lq-jinqing", "womens_health", False), ("lq-pengjie", "child_health", False),
    ("lq-2nd", "gynaecology", False), ("lq-2nd", "paediatrics", False), ("lq-3rd", "stomatology", True),
    ("lq-tcm", "public_health", False), ("lq-luoyang", "public_health", False),
    ("lq-luoyang", "general_practice", True),
])
def test_luqiao_published_strengths(luqiao, institution, specialty, inferred):
    cap = _by_id(luqiao)[institution].capability(specialty)
    assert (cap.source, cap.inferred, cap.permanent) == ("seed003", inferred, True)


def test_luqiao_has_no_invented_sessions(luqiao):
    assert [c for inst in luqiao.institutions for c in inst.capabilities if c.sessions] == []


def test_luqiao_covers_the_district(luqiao):
    assert [(c.name, c.code) for c in luqiao.covered_counties] == [("路桥区", "331004")]


# ---------------------------------------------------------------------------- Minhang (seed001)


def test_minhang_settings(minhang):
    assert minhang.booking_days == 5 and "提前5天预约" in minhang.description
    assert minhang.rosters == ()  # the article publishes no membership list


def test_minhang_one_consortium_with_an_inferred_lead(minhang):
    (com,) = minhang.communities
    assert (com.kind, com.lead) == ("urban", "mh-hospital")
    lead = next(m for m in com.members if m.role is Role.LEAD)
    assert lead.inferred and "not stated" in lead.note
    assert _role_map(com) == {
        "mh-hospital": Role.LEAD, "mh-hongqiao": Role.BRANCH, "sh-fudan-children": Role.COLLABORATOR,
        "sh-xinhua": Role.COLLABORATOR, "sh-huashan": Role.COLLABORATOR, "sh-sixth": Role.COLLABORATOR}


def test_minhang_tuesday_afternoon_tcm_paediatrics(minhang):
    cap = _by_id(minhang)["mh-hongqiao"].capability("中医儿科")
    assert [(s.weekday, s.part, s.provider) for s in cap.sessions] == [("tue", "afternoon", "sh-xinhua")]
    assert not cap.inferred and "每周二下午" in cap.note and "每月一次" in cap.note


@pytest.mark.parametrize(("specialty", "provider"), [
    ("urology", "sh-huashan"), ("paediatrics", "mh-hospital"), ("endocrinology", "sh-sixth")])
def test_minhang_expert_clinics_have_no_invented_days(minhang, specialty, provider):
    cap = _by_id(minhang)["mh-hongqiao"].capability(specialty)
    assert [(s.weekday, s.provider) for s in cap.sessions] == [(None, provider)] and cap.inferred


def test_minhang_centre_point_and_own_services(minhang):
    centre = _by_id(minhang)["mh-hongqiao"]
    assert (centre.township, centre.location.kind) == ("虹桥镇", "town_seat")
    assert "万源路2439号" in centre.location.note
    for code in ("general_practice", "tcm", "rehabilitation"):
        cap = centre.capability(code)
        assert (cap.source, cap.permanent) == ("seed001", True), code


@pytest.mark.parametrize(("institution", "district", "tier"), [
    ("sh-fudan-children", "闵行区", Tier.CITY_HOSPITAL), ("sh-xinhua", "杨浦区", Tier.CITY_HOSPITAL),
    ("sh-huashan", "静安区", Tier.CITY_HOSPITAL), ("sh-sixth", "徐汇区", Tier.CITY_HOSPITAL),
    ("mh-hospital", "闵行区", Tier.COUNTY_HOSPITAL),
])
def test_minhang_hospitals_at_their_district_seats(minhang, institution, district, tier):
    inst = _by_id(minhang)[institution]
    assert (inst.county, inst.tier, inst.location.kind) == (district, tier, "county_seat")
    site = next(key for key in minhang.sources if key.startswith("web-") and key in inst.location.note)
    assert minhang.sources[site].url


def test_minhang_referral_links_up_are_inferred(minhang):
    up = {link.b: link for link in minhang.links if link.a == "mh-hongqiao"}
    assert set(up) == {"mh-hospital", "sh-fudan-children", "sh-xinhua", "sh-huashan", "sh-sixth"}
    assert all(link.inferred for link in up.values())


# ---------------------------------------------------------------------------- routing

@pytest.fixture(scope="module")
def routers(regions):
    routing = pytest.importorskip("mednet.routing")
    return {name: routing.Router.from_region(region) for name, region in regions.items()}


def test_route_hongqiao_tcm_paediatrics_on_monday_to_tuesday_session(routers):
    r = routers["minhang"].route("mh-hongqiao", "中医儿科", when=MONDAY)
    assert (r.destination.id, r.step) == ("mh-hongqiao", "own_community")
    assert (r.session.date, r.session.part, r.session.provider.id) == (dt.date(2024, 10, 29), "afternoon",
                                                                      "sh-xinhua")
    assert "上下联动，在本中心就诊" in r.explanation and "新华医院" in r.explanation


def test_route_hongqiao_tcm_paediatrics_beyond_booking_window_to_hospital(routers, minhang):
    # On a Wednesday the next Tuesday is 6 days away, beyond the 5-day booking window.
    assert (dt.date(2024, 11, 5) - WEDNESDAY.date()).days > minhang.booking_days
    r = routers["minhang"].route("mh-hongqiao", "中医儿科", when=WEDNESDAY)
    assert (r.destination.id, r.step, r.session) == ("sh-xinhua", "partners", None)


@pytest.mark.parametrize("branch", ["lq-luqiao", "lq-lunan", "lq-lubei", "lq-tongyu", "lq-luoyang",
                                    "lq-fengjiang", "lq-jinqing", "lq-pengjie"])
def test_route_luqiao_pathology_to_the_shared_centre(routers, branch):
    # The shared centre stands at one proxy point with 恩泽医院 (city tier) and the district hospitals: the
    # distance between them is not known, so the tie goes by tier and the shared centre is the next choice,
    # at the same km, named as standing at the destination's point.
    r = routers["luqiao"].route(branch, "病理")
    assert (r.destination.id, r.step) == ("tz-enze", "partners")
    shared = r.alternatives[0]
    assert (shared.institution.id, shared.institution.tier, shared.step) == (
        "lq-shared-pathology", Tier.SHARED_CENTRE, "partners")
    assert shared.distance_km == r.distance_km and shared.institution in r.same_proxy_point
    assert {hop.basis for hop in r.path[1:]} <= {"same_proxy_point"}


def test_route_huzhou_dermatology_to_the_visiting_session_first(routers):
    r = routers["huzhou"].route("wx-huanzhu-longquan", "皮肤科", when=MONDAY)
    assert (r.destination.id, r.step) == ("wx-huanzhu-longquan", "own_community")
    assert (r.session.text, r.session.provider.id, r.session.day_unknown) == ("每周，日期待定", "hz-central", False)
    assert r.alternatives[0].institution.id == "hz-central"  # the upward referral comes after it


def test_route_huzhou_dermatology_without_the_session_goes_up_to_the_lead(routers):
    before = dt.datetime(2019, 3, 4, 9, tzinfo=CST)  # the visiting teams started on 2019-03-18
    r = routers["huzhou"].route("wx-huanzhu-longquan", "皮肤科", when=before)
    assert (r.destination.id, r.step) == ("hz-central", "own_community")

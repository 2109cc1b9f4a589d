"""Build data/regions/huzhou.json: the urban medical community (城市医共体) of central Huzhou.

Ground truth: seed article 000 (湖州日报, 2019-03-21). From 2019-03-18 two city
hospitals lead it: 湖州市中心医院 sends 73 expert teams a week to the 8
community health service centres (站) of the central city, 湖州市第一人民医院 76
teams a week to 吴兴区人民医院 and 5 township health centres, in fixed but
unpublished times, in the specialties the article lists. The article names one
centre (环渚龙泉街道社区卫生服务中心, where 市中心医院's head of cardiology
saw patients on 18 March); the others are counted, not named, and stay out of
the data (roster ``unnamed``).

    .venv/bin/python tools/build_huzhou.py          # writes data/regions/huzhou.json

The output is deterministic: running it twice gives a byte-identical file.
"""

from __future__ import annotations

import datetime as dt
import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import regionkit as rk

from mednet.models import (
    Capability,
    Community,
    Institution,
    Link,
    LinkKind,
    Membership,
    Region,
    Role,
    Roster,
    RosterEntry,
    Session,
    Source,
    Tier,
)

OUTPUT = rk.REGIONS_DIR / "huzhou.json"
SEED = "seed000"
PUBLISHED = dt.date(2019, 3, 21)
STARTED = dt.date(2019, 3, 18)  # 从3月18日起
ROAD_FACTOR = 1.3
SPEED_KMH = 30.0
BOOKING_DAYS = 7
DISTRICT = "吴兴区"

CENTRAL, FIRST, WUXING, HUANZHU = "hz-central", "hz-first", "wx-people", "wx-huanzhu-longquan"
COM_CENTRAL, COM_FIRST = "hz-uc-central", "hz-uc-first"

#: The specialties seed000 lists for the visiting city experts, in its order (诊疗专业…等, 辅助检查科室, 护理).
VISITING = (
    "general_surgery", "paediatrics", "orthopaedics", "urology", "gastroenterology", "respiratory", "neurology",
    "rheumatology", "ent", "infectious_disease", "ophthalmology", "dermatology", "general_practice",
    "radiology", "ultrasound", "nursing",
)
VISITING_ZH = ("普通外科、儿科、骨科、泌尿科、消化科、呼吸内科、神经内科、风湿科、五官科、感染科、眼科、皮肤科、全科等, "
               "放射科、B超等辅助检查科室, 护理专家")

_TEAMS = {
    CENTRAL: ("湖州市中心医院", 73, "中心城区的8个社区卫生服务中心(站)"),
    FIRST: ("湖州市第一人民医院", 76, "吴兴区人民医院和5个乡镇卫生院"),
}
_CITY_NOTE = ("tier city_hospital: a hospital of 湖州市, the prefecture, and one of the article's 两大牵头医院; "
              "county 吴兴区 is where its proxy point (the 湖州市 seat) lies, the hospital's own site is not published")


def sources() -> dict[str, Source]:
    seed = Source(
        title="家门口找市级专家看病成常态 湖州:加快推进城市医共体建设步伐",
        publisher="湖州日报",
        date=PUBLISHED,
        note=("记者 王炜丽. Seed article 000: the two lead hospitals, the team counts (73 and 76 a week from "
              "2019-03-18), the receiving units, the visiting specialties and the one named centre are "
              "taken from it."),
    )
    return rk.region_sources(
        SEED, seed, road_factor=ROAD_FACTOR,
        rules=("Two communities, not one: the article speaks of one 城市医共体 with 两大牵头医院 and gives each "
               "lead its own receiving units, and mednet requires exactly one lead per community, so each lead "
               "and its units are read as a community of their own. Visiting sessions: the article gives weekly "
               "team counts and specialties but neither days nor the split across units and specialties; each "
               "listed specialty is recorded as one session 'weekly, day to be arranged' at the one receiving "
               "unit the data holds for each lead (the named centre for 湖州市中心医院, 吴兴区人民医院 for "
               "湖州市第一人民医院). Where a unit already holds a specialty permanently (assumed from its "
               "service standard), the permanent capability is kept and its note mentions the visiting teams, "
               "because a capability is either permanent or held in sessions."),
    )


# ----------------------------------------------------------------------------- capabilities


def _visiting_note(provider: str) -> str:
    hospital, teams, receivers = _TEAMS[provider]
    return (f"seed000: from 2019-03-18 {hospital} sends {teams} expert teams a week to {receivers}, at fixed "
            f"times that are not published, in {VISITING_ZH}; which unit gets which specialty on which day is "
            f"not published. Recorded here as one session a week, day to be arranged (a reading: {teams} team "
            f"visits a week across all its units and specialties cannot put every specialty at every unit every "
            f"week)")


def _visiting(codes: tuple[str, ...], *, provider: str, skip: tuple[str, ...]) -> tuple[Capability, ...]:
    session = Session(provider=provider, valid_from=STARTED)
    return tuple(Capability(specialty=code, sessions=(session,), source=SEED, inferred=True,
                            note=_visiting_note(provider))
                 for code in codes if code not in skip)


def _standard(tier: Tier, *, visited_by: str) -> tuple[Capability, ...]:
    """The tier's assumed capabilities; notes mention visiting teams in the same specialty."""
    also = (f"; {_TEAMS[visited_by][0]} also sends visiting teams here, and the specialties seed000 lists for the "
            "city teams include this one (their split is not published): kept permanent because the department "
            "is assumed from the standard")
    capabilities = []
    for cap in rk.tier_capabilities(tier):
        if cap.specialty in VISITING:
            if cap.note is None:  # assumed capabilities always say what they are assumed from
                raise ValueError(f"assumed capability {cap.specialty!r} of {tier.value} has no note to extend")
            cap = cap.model_copy(update={"note": cap.note + also})
        capabilities.append(cap)
    return tuple(capabilities)


def _tertiary() -> tuple[Capability, ...]:
    listed = rk.assumed_capabilities(
        VISITING, source=SEED,
        note=("seed000 lists these specialties for the experts the two city hospitals send out together; "
              "that each of the two hospitals has every one of them is a reading"))
    return rk.merge_capabilities(listed, rk.tier_capabilities(Tier.CITY_HOSPITAL))


def build_institutions(places: dict[tuple[str, str], rk.PlaceRow]) -> list[Institution]:
    central_lat, central_lon, central_loc = rk.hospital_point("湖州市中心医院", places, hospital_county=DISTRICT,
                                                              row_county="湖州市")
    first_lat, first_lon, first_loc = rk.hospital_point("湖州市第一人民医院", places, hospital_county=DISTRICT,
                                                        row_county="湖州市")
    wx_lat, wx_lon, wx_loc = rk.hospital_point("吴兴区人民医院", places, hospital_county=DISTRICT)
    centre_lat, centre_lon, centre_loc = rk.town_point(places[(DISTRICT, "龙泉街道")])

    cardiology = Capability(
        specialty="cardiology", source=SEED,
        note="seed000 names 市中心医院心内科主任程震锋 (head of cardiology of 湖州市中心医院)")
    centre_cardiology = Capability(
        specialty="cardiology", sessions=(Session(provider=CENTRAL, valid_from=STARTED),), source=SEED,
        inferred=True,
        note=("seed000: on 2019-03-18 (a Monday), morning, 程震锋, head of cardiology of 湖州市中心医院, saw "
              "patients here. That the session recurs weekly is implied (the scheme's teams come every week at "
              "fixed times), not stated; its day is not published, so day to be arranged"))
    return [
        Institution(
            id=CENTRAL, name="湖州市中心医院", aliases=("市中心医院",), tier=Tier.CITY_HOSPITAL, county=DISTRICT,
            lat=central_lat, lon=central_lon, location=central_loc,
            capabilities=rk.merge_capabilities((cardiology,), _tertiary()), source=SEED,
            note=_CITY_NOTE + "; sends 73 expert teams a week (seed000)",
        ),
        Institution(
            id=FIRST, name="湖州市第一人民医院", aliases=("市第一人民医院",), tier=Tier.CITY_HOSPITAL,
            county=DISTRICT, lat=first_lat, lon=first_lon, location=first_loc, capabilities=_tertiary(),
            source=SEED, note=_CITY_NOTE + "; sends 76 expert teams a week (seed000)",
        ),
        Institution(
            id=WUXING, name="吴兴区人民医院", tier=Tier.COUNTY_HOSPITAL, county=DISTRICT,
            lat=wx_lat, lon=wx_lon, location=wx_loc,
            capabilities=rk.merge_capabilities(
                _standard(Tier.COUNTY_HOSPITAL, visited_by=FIRST),
                _visiting(VISITING, provider=FIRST, skip=rk.COUNTY_BASIC)),
            source=SEED,
            note=("receives 湖州市第一人民医院's expert teams (seed000); tier county_hospital is our reading of a "
                  "district people's hospital"),
        ),
        Institution(
            id=HUANZHU, name="环渚龙泉街道社区卫生服务中心", tier=Tier.COMMUNITY_CENTRE, county=DISTRICT,
            township="龙泉街道", lat=centre_lat, lon=centre_lon, location=centre_loc,
            capabilities=rk.merge_capabilities(
                (centre_cardiology,),
                _standard(Tier.COMMUNITY_CENTRE, visited_by=CENTRAL),
                _visiting(VISITING, provider=CENTRAL, skip=rk.COMMUNITY_BASIC)),
            source=SEED,
            note=("the one centre seed000 names (李阿姨 of 华丰小区 saw 程震锋 of 湖州市中心医院 here). Its name "
                  "joins two streets, 环渚街道 and 龙泉街道; township 龙泉街道 and its point (the 龙泉街道 seat, "
                  "a high-confidence row; the 环渚街道 row is a GeoNames point of the former 环渚乡, 0.6 km away) "
                  "are our choice"),
        ),
    ]


# ----------------------------------------------------------------------------- communities


def _community(key: str, name: str, lead: str, branch: str, *, branch_note: str, note: str) -> Community:
    reading = ("the article describes one 城市医共体 with 两大牵头医院; read as one community per lead "
               "(mednet requires exactly one lead per community). The name is descriptive, not published")
    return Community(
        id=key, name=name, kind="urban", counties=(DISTRICT,), published=PUBLISHED, source=SEED,
        members=(Membership(institution=lead, role=Role.LEAD, source=SEED, note="one of the 两大牵头医院 (seed000)"),
                 Membership(institution=branch, role=Role.BRANCH, source=SEED, inferred=True, note=branch_note)),
        note=f"{reading}. {note}",
    )


def build_communities() -> list[Community]:
    return [
        _community(COM_CENTRAL, "湖州市中心医院城市医共体", CENTRAL, HUANZHU,
                   branch_note=("one of the 8 centres 湖州市中心医院 serves: its head of cardiology saw patients "
                                "there (seed000); the article does not list the 8"),
                   note=("湖州市中心医院 sends 73 expert teams a week to the 8 community health service centres (站) "
                         "of the central city (中心城区, not delimited in the article; the named centre is in "
                         "吴兴区); 7 of them are not named and not in the data")),
        _community(COM_FIRST, "湖州市第一人民医院城市医共体", FIRST, WUXING,
                   branch_note=("receives the lead's expert teams (seed000); the role branch is our reading, the "
                                "article does not call it a 分院"),
                   note=("湖州市第一人民医院 sends 76 expert teams a week to 吴兴区人民医院 and 5 township health "
                         "centres (乡镇卫生院), which are not named and not in the data; that they stand in 吴兴区 "
                         "is not stated")),
    ]


def build_rosters() -> list[Roster]:
    return [
        Roster(community=COM_CENTRAL, published=PUBLISHED, source=SEED, unnamed=7,
               unnamed_tier=Tier.COMMUNITY_CENTRE,
               entries=(RosterEntry(text="市中心医院", institution=CENTRAL),
                        RosterEntry(text="环渚龙泉街道社区卫生服务中心", institution=HUANZHU)),
               note=("assembled from the article: the lead and the count 中心城区的8个社区卫生服务中心(站); one "
                     "centre is named in another paragraph, so 7 are counted but not named (some may be "
                     "stations, 站)")),
        Roster(community=COM_FIRST, published=PUBLISHED, source=SEED, unnamed=5,
               unnamed_tier=Tier.TOWNSHIP_CENTRE,
               entries=(RosterEntry(text="市第一人民医院", institution=FIRST),
                        RosterEntry(text="吴兴区人民医院", institution=WUXING)),
               note="as published: 吴兴区人民医院和5个乡镇卫生院; the 5 township centres are counted, not named"),
    ]


def build_links(institutions: list[Institution]) -> list[Link]:
    by_id = {inst.id: inst for inst in institutions}
    computed = "only distance_km is computed (geodesic x road factor)"
    links = [
        rk.make_link(by_id[HUANZHU], by_id[CENTRAL], LinkKind.BRANCH_LEAD, road_factor=ROAD_FACTOR, source=SEED,
                     inferred=True, note=("the centre receives 湖州市中心医院's experts (seed000); that it is one of "
                                          f"the lead's 8 centres is a reading; {computed}")),
        rk.make_link(by_id[WUXING], by_id[FIRST], LinkKind.BRANCH_LEAD, road_factor=ROAD_FACTOR, source=SEED,
                     inferred=False, note=f"湖州市第一人民医院 sends its expert teams here (seed000); {computed}"),
    ]
    return links + rk.neighbour_links(institutions, links, road_factor=ROAD_FACTOR)


def build_region(places_path: Path = rk.SEED_PLACES) -> Region:
    institutions = build_institutions(rk.read_seed_places(places_path))
    return Region(
        id="huzhou",
        name="湖州市：城市医共体（吴兴区）",
        description=(
            "The urban medical community of central Huzhou as launched on 2019-03-18: 湖州市中心医院 sends 73 "
            "expert teams a week to 8 community health service centres, 湖州市第一人民医院 76 to 吴兴区人民医院 and "
            "5 township health centres (湖州日报, 2019-03-21). Read as two communities, one per lead. Only the "
            "units the article names are in the data (one centre of the 8, none of the 5 township centres); "
            "the rest are counted in the rosters. Visiting specialties are sessions 'weekly, day to be "
            "arranged' (the article gives no days). Points are street or district seats (no hospital has a "
            "published point). Travel: road km = geodesic km x "
            f"{ROAD_FACTOR:g}; time estimates assume an average {SPEED_KMH:g} km/h in town, an assumption. "
            f"Booking window {BOOKING_DAYS} days: mednet's default, not published."
        ),
        road_factor=ROAD_FACTOR,
        speed_kmh=SPEED_KMH,
        booking_days=BOOKING_DAYS,
        sources=sources(),
        institutions=tuple(institutions),
        communities=tuple(build_communities()),
        links=tuple(build_links(institutions)),
        rosters=tuple(build_rosters()),
    )


#: The region file's text, as the builder writes it.
render = partial(rk.render_region, build_region)

if __name__ == "__main__":
    rk.write_region(build_region, OUTPUT)

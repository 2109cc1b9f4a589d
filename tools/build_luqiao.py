"""Build data/regions/luqiao.json: the three district medical communities of 路桥区 (台州市).

Ground truth: seed article 003 (台州日报, 2018-08-09; the stored copy is in
traditional characters). 路桥区中医院 leads the six street centres it names;
路桥区第二人民医院 leads a community with 金清 and 蓬街 among its units;
路桥区第三人民医院 leads a community whose branches are not named. The city's
恩泽医院 sends experts down; district-wide shared centres for laboratory, ECG,
pathology and sterile supply are running (an imaging cloud is planned).

    .venv/bin/python tools/build_luqiao.py          # writes data/regions/luqiao.json

The output is deterministic: running it twice gives a byte-identical file.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import regionkit as rk

from mednet.models import (
    Capability,
    Community,
    CoveredCounty,
    Institution,
    Link,
    LinkKind,
    Location,
    Membership,
    Region,
    Role,
    Roster,
    RosterEntry,
    Source,
    Tier,
)

OUTPUT = rk.REGIONS_DIR / "luqiao.json"
SEED = "seed003"
PUBLISHED = dt.date(2018, 8, 9)
ROAD_FACTOR = 1.3
SPEED_KMH = 40.0
BOOKING_DAYS = 7
DISTRICT, DISTRICT_CODE = "路桥区", "331004"
ENZE = "tz-enze"


@dataclass(frozen=True)
class Unit:
    """A community member other than the lead, as the article gives it."""

    id: str
    token: str  # verbatim, as the (traditional-character) seed copy lists it
    name: str  # display name, simplified
    tier: Tier
    township: str  # official 2016 township/street, also its seed_places row
    aliases: tuple[str, ...]
    specialties: tuple[tuple[str, str], ...] = ()  # (code, what seed003 says), published for this unit
    note: str | None = None


@dataclass(frozen=True)
class CommunitySpec:
    id: str
    name: str
    lead: str
    lead_token: str  # verbatim
    units: tuple[Unit, ...]
    roster_note: str
    note: str


def _street(key: str, short: str, token: str, *, aliases: tuple[str, ...] = (),
            specialties: tuple[tuple[str, str], ...] = (), note: str | None = None) -> Unit:
    return Unit(id=f"lq-{key}", token=token, name=f"{short}街道社区卫生服务中心", tier=Tier.COMMUNITY_CENTRE,
                township=f"{short}街道", aliases=tuple(dict.fromkeys((short, token, *aliases))),
                specialties=specialties,
                note=("seed003 lists it as one of 路桥、路南、路北、桐屿、螺洋、峰江6家街道社区卫生服务中心; display "
                      "name = street + 社区卫生服务中心" + (f"; {note}" if note else "")))


_ACUPUNCTURE = (("acupuncture", "seed003: 桐屿和路北社区卫生服务中心主打针灸推拿 (acupuncture and tuina are its "
                                "signature service)"),)
_MERGED = ("seed003: in the community 区二院 leads, the women's health (妇保) and child health (儿保) services of "
           "金清 and 蓬街 were merged with 二院's 妇产科 and 儿科 into one 妇女健康科 and one 儿童健康科")

TCM_COMMUNITY = CommunitySpec(
    id="lq-ygt-tcm", name="路桥区中医院医共体", lead="lq-tcm", lead_token="路橋區中醫院",
    units=(
        _street("luqiao", "路桥", "路橋"),
        _street("lunan", "路南", "路南", aliases=("路南分院",), note="the article also calls it 区中医院医共体路南分院"),
        _street("lubei", "路北", "路北", aliases=("路北社区卫生服务中心",), specialties=_ACUPUNCTURE),
        _street("tongyu", "桐屿", "桐嶼", aliases=("桐屿社区卫生服务中心",), specialties=_ACUPUNCTURE),
        _street("luoyang", "螺洋", "螺洋", aliases=("螺洋社区卫生服务中心",),
                note=("seed003: it builds a multidisciplinary chronic-disease demonstration area "
                      "(打造多学科支持的慢性病示范区); chronic-disease care has no code in the specialty vocabulary")),
        _street("fengjiang", "峰江", "峰江", aliases=("峰江社区卫生服务中心",),
                specialties=(("tcm", "seed003: 峰江社区卫生服务中心打造中西医结合的医养模式 (integrated Chinese and "
                                     "Western medicine with elderly care)"),)),
    ),
    roster_note=("verbatim in the seed copy's traditional characters: 路橋、路南、路北、桐嶼、螺洋、峰江6家街道社區"
                 "衛生服務中心 … 路橋區中醫院和這6家社區衛生服務中心成了總院和分院"),
    note=("the six street centres' legal representative became the head of 路桥区中医院 in June 2018 (seed003). "
          "Its strengths: 中医科、公共卫生科; its 市民健康服务中心 (health checks, expert booking) is on the third "
          "floor of 路桥区中医院"),
)

SECOND_COMMUNITY = CommunitySpec(
    id="lq-ygt-2nd", name="路桥区第二人民医院医共体", lead="lq-2nd", lead_token="區二院",
    units=(
        Unit(id="lq-jinqing", token="金清", name="金清卫生院", tier=Tier.TOWNSHIP_CENTRE, township="金清镇",
             aliases=("金清",),
             specialties=(("womens_health", _MERGED), ("child_health", _MERGED)),
             note=("seed003 names it only as 金清 (金清、蓬街两家单位); display name and tier township_centre by "
                   "analogy with 蓬街卫生院, not published")),
        Unit(id="lq-pengjie", token="蓬街", name="蓬街卫生院", tier=Tier.TOWNSHIP_CENTRE, township="蓬街镇",
             aliases=("蓬街", "蓬街衛生院"),
             specialties=(("womens_health", _MERGED), ("child_health", _MERGED)),
             note=("named 蓬街衛生院 in seed003: being rebuilt on a new site (整体迁建), where it is to have 42 beds "
                   "for a general ward; the beds are planned, so not recorded as capacity")),
    ),
    roster_note=("not a complete list: the article names 金清 and 蓬街 (金清、蓬街兩家單位) as units of the community "
                 "區二院 leads and gives no count, so further members, if any, are unknown (unnamed stays 0)"),
    note=("its strengths: 妇科、儿科、中医科 (seed003). 区二院 signed a cooperation agreement with 浙江省人民医院 "
          "to build a 浙江省人民医院消化病诊疗中心路桥分中心 on this community: planned, so 浙江省人民医院 is not in "
          "the data"),
)

THIRD_COMMUNITY = CommunitySpec(
    id="lq-ygt-3rd", name="路桥区第三人民医院医共体", lead="lq-3rd", lead_token="路橋區第三人民醫院",
    units=(),
    roster_note=("the lead alone: seed003 says the same lead–branch change happened at 路桥区第三人民医院 "
                 "(同樣的變化也發生在…路橋區第三人民醫院) but names none of its branches and gives no count"),
    note=("its strengths: 中医科、B超、口腔科 (seed003). 区三院 is a council member of the 上海同济医疗集团 and works "
          "with 上海同济医院, which sends experts to guide it and is preparing (筹建) a 同济医院台州分院: planned "
          "and advisory, so 上海同济医院 is not in the data"),
)

COMMUNITIES = (TCM_COMMUNITY, SECOND_COMMUNITY, THIRD_COMMUNITY)


@dataclass(frozen=True)
class HospitalSpec:
    id: str
    name: str
    tier: Tier
    aliases: tuple[str, ...]
    specialties: tuple[tuple[str, bool, str], ...]  # (code, inferred, what seed003 says)
    source: str = SEED
    note: str | None = None


_COMMUNITY_DEVELOPS = ("seed003: the community it leads develops {what} (发展{zh}); where in the community is not "
                       "stated, recorded at the lead")
HOSPITALS = (
    HospitalSpec(
        ENZE, "台州恩泽医疗中心(集团)恩泽医院", Tier.CITY_HOSPITAL, ("恩泽医院", "恩澤醫院"), (), source="seed_places",
        note=("written 恩澤醫院 in seed003; the full name is its seed_places row. Tier city_hospital: the article "
              "casts it as the city-level hospital (市级医院的领头雁) above the district's communities. Since May "
              "2018 it sends at least 50 experts a week to hold clinics in the communities (每周下派不少于50人的专家"
              "到医共体内坐诊); their specialties and destinations are not published, so they are not recorded as "
              "sessions. Its 互联网医学中心 links the communities for remote consultation")),
    HospitalSpec(
        "lq-tcm", "路桥区中医院", Tier.COUNTY_HOSPITAL, ("区中医院", "路橋區中醫院"),
        (("tcm", False, "a TCM hospital by its name; seed003: 区中医院医共体发展中医科"),
         ("public_health", False, "seed003: 区中医院医共体发展公共卫生科; its 市民健康服务中心 gives the yearly health "
                                  "checks of the elderly of 路南街道"))),
    HospitalSpec(
        "lq-2nd", "路桥区第二人民医院", Tier.COUNTY_HOSPITAL, ("区二院", "區二院", "路橋區第二人民醫院"),
        (("gynaecology", False, "seed003: 二院's 妇产科 became part of the community's 妇女健康科; the community "
                                "develops 妇科"),
         ("obstetrics", False, "seed003: 二院的妇产科 (its obstetrics and gynaecology department)"),
         ("paediatrics", False, "seed003: 二院's 儿科 became part of the community's 儿童健康科; the community "
                                "develops 儿科"),
         ("tcm", True, _COMMUNITY_DEVELOPS.format(what="TCM", zh="中医科")))),
    HospitalSpec(
        "lq-3rd", "路桥区第三人民医院", Tier.COUNTY_HOSPITAL, ("区三院", "區三院", "路橋區第三人民醫院"),
        (("tcm", True, _COMMUNITY_DEVELOPS.format(what="TCM", zh="中医科")),
         ("ultrasound", True, _COMMUNITY_DEVELOPS.format(what="ultrasound", zh="B超")),
         ("stomatology", True, _COMMUNITY_DEVELOPS.format(what="dentistry", zh="口腔科")))),
)

#: The shared centres seed003 says are running: 区域检验、心电、病理、消毒供应等共享中心均已开始运行.
SHARED = (
    ("lq-shared-lab", "检验", "laboratory"),
    ("lq-shared-ecg", "心电", "ecg"),
    ("lq-shared-pathology", "病理", "pathology"),
    ("lq-shared-sterile", "消毒供应", "sterile_supply"),
)
_NO_OWN_PATHOLOGY = (
    "pathology is not assumed from the county standard here: the district's pathology runs as a shared centre "
    "(seed003), and whether the district hospitals keep departments of their own is not stated")


def sources() -> dict[str, Source]:
    seed = Source(
        title="破解就近就醫難 路橋醫共體讓群眾共享健康紅利",
        publisher="台州日报",
        date=PUBLISHED,
        note=("Seed article 003, stored in traditional characters with some passages out of order (a sentence "
              "broken at 各醫共體牽頭醫院每天至 continues further down with 少選派2名…). Roster texts are "
              "verbatim from it; institution names are given in simplified characters."),
    )
    return rk.region_sources(
        SEED, seed, road_factor=ROAD_FACTOR,
        rules=("Neighbour road links join the branches only: every hospital and shared centre stands at one proxy "
               "point (the 路桥区 seat), so they are reached through their published links (branch–lead, "
               "lead–city) and the shared-service links. Shared centres: the article calls them district-wide "
               "(区域) and running; their host and site are not published. Each is recorded as a collaborator of "
               "all three communities and linked to every lead and branch, so a branch needing a laboratory, "
               "ECG, pathology or sterile-supply service reaches the shared centre directly."),
    )


# ----------------------------------------------------------------------------- institutions


def _published(specialties: Iterable[tuple[str, str]]) -> tuple[Capability, ...]:
    return tuple(Capability(specialty=code, source=SEED, note=note) for code, note in specialties)


def _standard(tier: Tier) -> tuple[Capability, ...]:
    """The tier's assumed capabilities; district hospitals without pathology (see ``_NO_OWN_PATHOLOGY``)."""
    if tier is Tier.COUNTY_HOSPITAL:
        return rk.tier_capabilities(tier, without=("pathology",), remark="see the institution's note")
    return rk.tier_capabilities(tier)


#: What every branch holds by seed003, whatever its community.
_BRANCH_PUBLISHED = (
    Capability(specialty="public_health", source=SEED,
               note="seed003: 医共体各分院设立公共卫生管理科 (every branch sets up a public-health management section)"),
    Capability(specialty="general_practice", source=SEED, inferred=True,
               note=("seed003: 各医共体牵头医院每天至少选派2名中级及以上职称医师在各分院驻点执业 (each lead posts at "
                     "least 2 mid-grade or senior physicians at each of its branches every day; 130+ person-visits "
                     "a week in all). Their specialties are not given: recorded as general practice, a reading")),
)


def build_institutions(places: dict[tuple[str, str], rk.PlaceRow]) -> list[Institution]:
    institutions = []
    for spec in HOSPITALS:
        lat, lon, location = rk.hospital_point(spec.name, places, hospital_county=DISTRICT)
        published = tuple(Capability(specialty=code, source=SEED, inferred=inferred, note=note)
                          for code, inferred, note in spec.specialties)
        note = spec.note or f"tier county_hospital: a district (区级) hospital in seed003; {_NO_OWN_PATHOLOGY}"
        institutions.append(Institution(
            id=spec.id, name=spec.name, aliases=spec.aliases, tier=spec.tier, county=DISTRICT, lat=lat, lon=lon,
            location=location, capabilities=rk.merge_capabilities(published, _standard(spec.tier)),
            source=spec.source, note=note,
        ))
    seat = places[(DISTRICT, DISTRICT)]
    for key, zh, code in SHARED:
        location = Location(
            kind="proxy", source=seat.evidence_key, inferred=True,
            note=(f"no published point, nor which institution hosts it: placed at the {DISTRICT} seat, a proxy. "
                  f"seed_places row {seat.name} ({seat.county}, confidence {seat.confidence}): {seat.source}"))
        institutions.append(Institution(
            id=key, name=f"路桥区区域{zh}共享中心", aliases=(f"区域{zh}共享中心",), tier=Tier.SHARED_CENTRE,
            county=DISTRICT, lat=seat.lat, lon=seat.lon, location=location,
            capabilities=(Capability(specialty=code, source=SEED,
                                     note="seed003: 区域检验、心电、病理、消毒供应等共享中心均已开始运行 (running)"),),
            source=SEED,
            note=("one of the district's shared centres named together in seed003 (区域检验、心电、病理、消毒供应等"
                  "共享中心); display name built from that phrase. The planned 影像云平台 (imaging cloud, 近期正式"
                  "启动建设) is not running and not in the data"),
        ))
    for com in COMMUNITIES:
        for unit in com.units:
            lat, lon, location = rk.town_point(places[(DISTRICT, unit.township)])
            institutions.append(Institution(
                id=unit.id, name=unit.name, aliases=unit.aliases, tier=unit.tier, county=DISTRICT,
                township=unit.township, lat=lat, lon=lon, location=location,
                capabilities=rk.merge_capabilities(_published(unit.specialties), _BRANCH_PUBLISHED,
                                                   _standard(unit.tier)),
                source=SEED, note=unit.note,
            ))
    return institutions


# ----------------------------------------------------------------------------- communities and links

_SHARED_MEMBER = ("the district's shared centres (区域…共享中心) serve all three communities: recorded as a "
                  "collaborator of each, a reading")


def build_communities() -> list[Community]:
    common = ("恩泽医院 sends at least 50 experts a week into the three communities (seed003; specialties and "
              "units not published). The three communities were all designated for the national 消化道肿瘤筛查及"
              "早诊早治项目")
    out = []
    for com in COMMUNITIES:
        members = [Membership(institution=com.lead, role=Role.LEAD, source=SEED)]
        members += [Membership(institution=u.id, role=Role.BRANCH, source=SEED) for u in com.units]
        members += [Membership(institution=key, role=Role.COLLABORATOR, source=SEED, inferred=True,
                               note=_SHARED_MEMBER) for key, _, _ in SHARED]
        out.append(Community(id=com.id, name=com.name, kind="county", counties=(DISTRICT,), members=tuple(members),
                             published=PUBLISHED, source=SEED, note=f"{com.note}. {common}"))
    return out


def build_rosters() -> list[Roster]:
    return [
        Roster(community=com.id, published=PUBLISHED, source=SEED, note=com.roster_note,
               entries=(RosterEntry(text=com.lead_token, institution=com.lead),
                        *(RosterEntry(text=u.token, institution=u.id) for u in com.units)))
        for com in COMMUNITIES
    ]


def build_links(institutions: list[Institution]) -> list[Link]:
    by_id = {inst.id: inst for inst in institutions}
    computed = "only distance_km is computed (geodesic x road factor)"
    links: list[Link] = []

    def add(a: str, b: str, kind: LinkKind, *, inferred: bool, note: str) -> None:
        links.append(rk.make_link(by_id[a], by_id[b], kind, road_factor=ROAD_FACTOR, source=SEED,
                                  inferred=inferred, note=f"{note}; {computed}"))

    for com in COMMUNITIES:
        for unit in com.units:
            add(unit.id, com.lead, LinkKind.BRANCH_LEAD, inferred=False, note=f"branch of {com.name} (seed003)")
    for com in COMMUNITIES:
        add(com.lead, ENZE, LinkKind.LEAD_CITY, inferred=False,
            note=("seed003: 恩泽医院 sends experts into the communities and the city, district and town hospitals "
                  "are joined up (市、区、镇三级医院实现无缝对接), with two-way referral opened up"))
    members = [com.lead for com in COMMUNITIES] + [u.id for com in COMMUNITIES for u in com.units]
    for key, _, _ in SHARED:
        for member in members:
            add(member, key, LinkKind.SHARED_SERVICE, inferred=True,
                note="the district-wide shared centre serves every unit of the communities (seed003), a reading")
    branches = [by_id[u.id] for com in COMMUNITIES for u in com.units]
    return links + rk.neighbour_links(branches, links, road_factor=ROAD_FACTOR)


def build_region(places_path: Path = rk.SEED_PLACES) -> Region:
    institutions = build_institutions(rk.read_seed_places(places_path))
    return Region(
        id="luqiao",
        name="台州市路桥区：三个区域医共体",
        description=(
            "The three medical communities of 路桥区 (台州日报, 2018-08-09): 路桥区中医院 with six street centres, "
            "路桥区第二人民医院 with 金清 and 蓬街, 路桥区第三人民医院 (branches not named); the city's 恩泽医院 "
            "above them; district-wide shared centres for laboratory, ECG, pathology and sterile supply, which "
            "every unit reaches directly (the imaging cloud was planned, not running, and is left out). Only "
            "named units are in the data: 新桥镇 and 横街镇 have no centre here. Points are street, town or "
            "district seats (no hospital or shared centre has a published point). Travel: road km = geodesic km "
            f"x {ROAD_FACTOR:g}; time estimates assume an average {SPEED_KMH:g} km/h, an assumption. Booking "
            f"window {BOOKING_DAYS} days: mednet's default, not published."
        ),
        road_factor=ROAD_FACTOR,
        speed_kmh=SPEED_KMH,
        booking_days=BOOKING_DAYS,
        sources=sources(),
        covered_counties=(CoveredCounty(name=DISTRICT, code=DISTRICT_CODE, source="adcode"),),
        institutions=tuple(institutions),
        communities=tuple(build_communities()),
        links=tuple(build_links(institutions)),
        rosters=tuple(build_rosters()),
    )


#: The region file's text, as the builder writes it.
render = partial(rk.render_region, build_region)

if __name__ == "__main__":
    rk.write_region(build_region, OUTPUT)

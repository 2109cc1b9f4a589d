"""Build data/regions/minhang.json: 闵行区虹桥社区卫生服务中心 and the hospitals whose experts hold clinics there.

Ground truth: seed article 001 (人民日报中央厨房·大江东工作室, 2024-10-28). The
centre at 万源路2439号 (虹桥镇, 闵行区) hosts a children's rehabilitation base of
复旦大学附属儿科医院, a named-TCM-doctor studio of 新华医院 (every Tuesday
afternoon), and expert clinics from 华山医院, 闵行医院 and 第六人民医院; family
doctors book released specialist slots 5 days ahead. Shanghai's centres are
all in one of 55 医联体; which one leads Hongqiao's is not stated.

    .venv/bin/python tools/build_minhang.py          # writes data/regions/minhang.json

Points come from data/places/cn_admin_places.csv (the 虹桥镇 seat and district
seats): nothing here is a surveyed point. The output is deterministic.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import regionkit as rk

from mednet.models import (
    Capability,
    Community,
    Contact,
    Detail,
    Institution,
    Link,
    LinkKind,
    Membership,
    Region,
    Role,
    Session,
    Source,
    Tier,
)

OUTPUT = rk.REGIONS_DIR / "minhang.json"
SEED = "seed001"
PUBLISHED = dt.date(2024, 10, 28)
ROAD_FACTOR = 1.3
SPEED_KMH = 25.0
BOOKING_DAYS = 5  # 提前5天预约
DISTRICT = "闵行区"

CENTRE, FUDAN_CHILDREN, XINHUA, HUASHAN, SIXTH, MINHANG = (
    "mh-hongqiao", "sh-fudan-children", "sh-xinhua", "sh-huashan", "sh-sixth", "mh-hospital")
COMMUNITY = "mh-ylt-hongqiao"


@dataclass(frozen=True)
class HospitalSpec:
    id: str
    name: str
    aliases: tuple[str, ...]
    tier: Tier
    district: str  # where its main campus stands, per ``site_source``
    site_source: str
    site: str  # what that source says
    published: tuple[tuple[str, bool, str], ...]  # (code, inferred, what seed001 says)
    standard: bool  # whether the tier's service standard applies
    note: str


HOSPITALS = (
    HospitalSpec(
        FUDAN_CHILDREN, "复旦大学附属儿科医院", ("复旦儿科",), Tier.CITY_HOSPITAL, "闵行区", "web-fudan-children",
        "上海市闵行区万源路399号",
        (("paediatrics", False, "seed001: a children's hospital, with 新华医院 'the ceiling' of paediatric care "
                                "in Shanghai (上海儿科医疗的天花板)"),
         ("rehabilitation", False, "seed001: 来自复旦儿科、闵行医院的康复科专家 (its rehabilitation experts hold "
                                   "clinics at the 虹桥 centre)")),
        standard=False,
        note=("tier city_hospital: a municipal-level children's hospital, above the district; the general "
              "tertiary standard is not applied to a children's hospital, so it holds only what seed001 says. "
              "Its 儿童康复基地 (children's rehabilitation base) is at the 虹桥 centre")),
    HospitalSpec(
        XINHUA, "新华医院", (), Tier.CITY_HOSPITAL, "杨浦区", "web-xinhua", "Yangpu District, 1665 Kongjiang Road",
        (("tcm", False, "seed001: 新华医院中医科 (马碧涛, 副主任医师 of its TCM department, heads the 吴敏 studio)"),
         ("tcm_paediatrics", True, "seed001: the 中医儿科 clinic at the 虹桥 centre comes from 新华医院 (吴敏名中医"
                                   "工作室, 徐氏儿科中医 tradition); that the hospital itself offers TCM paediatrics is "
                                   "a reading"),
         ("paediatrics", False, "seed001: with 复旦儿科 'the ceiling' of paediatric care in Shanghai")),
        standard=True,
        note=("the article writes 新华医院 (the Shanghai hospital 上海交通大学医学院附属新华医院 by the source of its "
              "site; the full name is not in the article). Tier city_hospital: one of the 'big 三甲' hospitals the "
              "article speaks of")),
    HospitalSpec(
        HUASHAN, "华山医院", (), Tier.CITY_HOSPITAL, "静安区", "web-huashan",
        "在上海市静安区乌鲁木齐路上…华山医院总院",
        (("urology", False, "seed001: 华山医院泌尿外科主任医师侯剑刚 (chief physician of its urology department)"),),
        standard=True,
        note="the article writes 华山医院. Tier city_hospital: a municipal tertiary hospital"),
    HospitalSpec(
        SIXTH, "上海市第六人民医院", ("第六人民医院",), Tier.CITY_HOSPITAL, "徐汇区", "web-sixth",
        "Location: Xuhui District, Shanghai",
        (("endocrinology", False, "seed001: 第六人民医院内分泌代谢科团队 (its endocrinology and metabolism team)"),),
        standard=True,
        note="the article writes 第六人民医院; 上海市 is added. Tier city_hospital: a municipal tertiary hospital"),
    HospitalSpec(
        MINHANG, "闵行医院", (), Tier.COUNTY_HOSPITAL, "闵行区", "web-minhang-hospital",
        "上海市闵行区中心医院 … 上海市闵行区莘松路170号 (莘庄镇)",
        (("paediatrics", False, "seed001: 闵行医院儿科主任姚泽忠 (head of its paediatrics department)"),
         ("rehabilitation", False, "seed001: 来自复旦儿科、闵行医院的康复科专家")),
        standard=True,
        note=("the article writes 闵行医院, read as 上海市闵行区中心医院, the district's central hospital in 莘庄 "
              "(a reading). Tier county_hospital: a district (区属) hospital")),
)

_WEB = {
    "web-fudan-children": Source(
        title="复旦大学附属儿科医院 (hospital page)", publisher="微医 (guahao.com)",
        url="https://guangzhou.guahao.com/hospital/introduction/b757d737-494d-4aa9-a7b4-15d5c6ff5c18000",
        note="地址: 上海市闵行区万源路399号; the hospital moved its main campus there in 2008. Used for the district only."),
    "web-xinhua": Source(
        title="Xinhua Hospital, Shanghai", publisher="CancerFax",
        url="https://cancerfax.com/hospital/xinhua-hospital-shanghai",
        note=("Location: Yangpu District, 1665 Kongjiang Road; full name Xinhua Hospital Affiliated to Shanghai Jiao "
              "Tong University School of Medicine. Used for the district only.")),
    "web-huashan": Source(
        title="中国第一家红十字医院", publisher="网易号 (163.com)",
        url="https://www.163.com/dy/article/JR114RDL0514CFU0.html",
        note=("places 华山医院总院 on 乌鲁木齐路 in 静安区. English Wikipedia's Huashan Hospital infobox says Xuhui "
              "District; the two district seats are 4.5 km apart and either is a proxy. Used for the district only.")),
    "web-sixth": Source(
        title="Shanghai Sixth People's Hospital", publisher="Wikipedia",
        url="https://en.wikipedia.org/wiki/Shanghai_Sixth_People%27s_Hospital",
        licence="CC BY-SA 4.0",
        note="Location: Xuhui District, Shanghai (the Xuhui campus, 宜山路600号). Used for the district only."),
    "web-minhang-hospital": Source(
        title="上海市闵行区中心医院 (hospital page)", publisher="iiyiyi.com",
        url="https://yxb.iiyiyi.com/hospital/978.html",
        note="医院地址: 上海市闵行区莘松路170号, in 莘庄镇, the 闵行区 seat. Used for the district only."),
}


def sources() -> dict[str, Source]:
    seed = Source(
        title="大江东|从“大三甲”到“家门口”,医疗资源下沉让看病更便利",
        publisher="人民日报中央厨房·大江东工作室 (via 人民资讯)",
        date=PUBLISHED,
        note=("姜泓冰, in the series “上海践行人民城市理念这五年”. Seed article 001: the centre, its address, "
              "its clinics, the visiting experts and their hospitals, the Tuesday-afternoon TCM paediatric "
              "clinic, the 5-day booking of released specialist slots, and the 278 centres in 55 医联体."),
    )
    return rk.region_sources(
        SEED, seed, road_factor=ROAD_FACTOR, places=("adcode",), others=_WEB,
        rules=("Hospitals have no published point: each is placed at the seat of the district its main campus "
               "stands in (cn_admin_places county row), the district taken from the web source named in its "
               "location note. The consortium (医联体) the 虹桥 centre belongs to is not named, nor its lead: "
               "闵行医院 is recorded as the lead because it is the district's own hospital among those the "
               "article names, and mednet requires one lead per community; the city hospitals whose experts "
               "come to the centre are recorded as its collaborators and linked to the centre directly."),
    )


# ----------------------------------------------------------------------------- institutions


def _standard(tier: Tier) -> tuple[Capability, ...]:
    """The tier's assumed capabilities; a Shanghai district hospital takes the county standard as a floor."""
    if tier is Tier.COUNTY_HOSPITAL:
        return rk.tier_capabilities(tier, remark="a Shanghai district hospital: the county standard as a floor")
    return rk.tier_capabilities(tier)


def _visiting(code: str, provider: str, who: str) -> Capability:
    return Capability(
        specialty=code, sessions=(Session(provider=provider),), source=SEED, inferred=True,
        note=(f"seed001: an expert clinic at the centre by {who}; its days are published only in the centre's "
              "monthly schedule (闵行捷医), not in the article: recorded as weekly, day to be arranged (that it is "
              "weekly is a reading)"))


def _centre_capabilities() -> tuple[Capability, ...]:
    published = (
        Capability(specialty="tcm_paediatrics", sessions=(Session(weekday="tue", part="afternoon", provider=XINHUA),),
                   source=SEED,
                   note=("seed001: 由新华医院吴敏医生领衔的上海市名中医工作室团队，每周二下午在此开设门诊 (every Tuesday "
                         "afternoon); 吴敏 herself comes once a month (每月一次, day not given), which a weekly "
                         "session cannot express exactly and is left to this note")),
        _visiting("urology", HUASHAN, "华山医院泌尿外科主任医师侯剑刚"),
        _visiting("paediatrics", MINHANG, "闵行医院儿科主任姚泽忠 (the district's measures also include a "
                                          "standard paediatric room in every centre, 社区儿科标准化诊室)"),
        _visiting("endocrinology", SIXTH, "第六人民医院内分泌代谢科团队"),
        Capability(specialty="rehabilitation", source=SEED,
                   note=("seed001: 复旦大学附属儿科医院虹桥社区卫生服务中心儿童康复基地 on the second floor, with 10多名"
                         "治疗师 on site (motor, occupational, speech, sensory-integration, physical-agent and TCM "
                         "therapy) — children's rehabilitation. 复旦儿科 and 闵行医院 rehabilitation experts also "
                         "come 定时 (at set times, days not given); a capability is either permanent or in "
                         "sessions, so it is kept permanent")),
        Capability(specialty="general_practice", source=SEED, note="seed001: 中心全科医生 and its 家庭医生 teams"),
        Capability(specialty="tcm", source=SEED,
                   note="seed001: 中医科, half a floor; 裴力娇 is a 主治医生 of the centre's TCM department"),
        Capability(specialty="tuberculosis", source=SEED, inferred=True,
                   note=("seed001: a plaque 结核病预防性治疗门诊 (a clinic for preventive TB treatment) on the "
                         "centre's wall; its hours are not given, so it is recorded as permanent, a reading")),
    )
    return rk.merge_capabilities(published, _standard(Tier.COMMUNITY_CENTRE))


def _centre_contact() -> Contact:
    """What seed001 says about reaching the centre: its address and its booking channel (no phone, no hours)."""
    return Contact(
        address=Detail(value="万源路2439号", source=SEED,
                       note="seed001: 在万源路2439号,闵行区虹桥社区卫生服务中心的外墙上… (the street address as published)"),
        booking=Detail(value="闵行捷医小程序", source=SEED,
                       note=("seed001: 居民通过‘闵行捷医’小程序也能看到专家到社区坐诊的时间,预约参加活动 (the centre's "
                             "director): the mini-programme lists when experts hold clinics at the centre, and "
                             "residents book ahead there (提前就能锁定专家门诊时间)")),
    )


def build_institutions() -> list[Institution]:
    lat, lon, location = rk.admin_town_point(
        DISTRICT, "虹桥镇", note=("the centre is at 万源路2439号 (seed001), in 虹桥镇; the address is not geocoded "
                                 "here: the point is the 虹桥镇 seat, not the building"))
    centre = Institution(
        id=CENTRE, name="闵行区虹桥社区卫生服务中心", aliases=("虹桥社区卫生服务中心",),
        tier=Tier.COMMUNITY_CENTRE, county=DISTRICT, township="虹桥镇", lat=lat, lon=lon, location=location,
        capabilities=_centre_capabilities(), contact=_centre_contact(), source=SEED,
        note=("its wall carries 20多块 plaques, among them 国家儿童医学中心远程医疗协作单位, 慢性肾脏病筛查与管理基地 "
              "(chronic kidney disease screening and management: not a nephrology clinic, so not a capability) and "
              "虹桥国际开放枢纽医疗集团皮肤科专科联盟合作单位 (a partner of a dermatology specialty alliance whose "
              "members the article does not name, so not modelled). 家庭医生 book released specialist slots 5 days "
              "ahead at 36 city and 116 district hospitals"),
    )
    institutions = [centre]
    for spec in HOSPITALS:
        lat, lon, location = rk.admin_seat_point(
            spec.district, note=(f"no published point; placed at the {spec.district} seat (county_seat proxy): "
                                 f"{spec.district} is where its main campus stands per source {spec.site_source} "
                                 f"({spec.site})"))
        published = tuple(Capability(specialty=code, source=SEED, inferred=inferred, note=note)
                          for code, inferred, note in spec.published)
        capabilities = rk.merge_capabilities(published, _standard(spec.tier)) if spec.standard else published
        institutions.append(Institution(
            id=spec.id, name=spec.name, aliases=spec.aliases, tier=spec.tier, county=spec.district,
            lat=lat, lon=lon, location=location, capabilities=capabilities, source=SEED, note=spec.note,
        ))
    return institutions


# ----------------------------------------------------------------------------- community and links

_COLLABORATION = {
    FUDAN_CHILDREN: "its 儿童康复基地 is at the centre and its rehabilitation experts come at set times",
    XINHUA: "its 吴敏名中医工作室 holds the Tuesday-afternoon TCM paediatric clinic at the centre",
    HUASHAN: "its urologist 侯剑刚 holds an expert clinic at the centre",
    SIXTH: "its endocrinology and metabolism team holds an expert clinic at the centre",
}


def build_community() -> Community:
    members = [
        Membership(institution=MINHANG, role=Role.LEAD, source=SEED, inferred=True,
                   note=("not stated: the article says every centre is in one of 55 医联体 led by a 二三级 hospital "
                         "but not which; 闵行医院, the district hospital among those it names, is recorded as the "
                         "lead so that the community has one")),
        Membership(institution=CENTRE, role=Role.BRANCH, source=SEED,
                   note="seed001: 全市278家社区卫生服务中心已全部纳入55个医联体"),
    ]
    members += [Membership(institution=key, role=Role.COLLABORATOR, source=SEED, inferred=True,
                           note=f"seed001: {what}; the role collaborator is a reading")
                for key, what in _COLLABORATION.items()]
    return Community(
        id=COMMUNITY, name="虹桥社区卫生服务中心所在医联体", kind="urban", counties=(DISTRICT,),
        members=tuple(members), published=PUBLISHED, source=SEED,
        note=("the 医联体 the 虹桥 centre belongs to: its name, lead and other members are not published (the name "
              "here is descriptive). 闵行区's centres all take part in the pilot of close-knit urban medical groups "
              "(全覆盖参与紧密型城市医疗集团建设试点). No roster is published, so the region has none"),
    )


def build_links(institutions: list[Institution]) -> list[Link]:
    by_id = {inst.id: inst for inst in institutions}
    computed = "only distance_km is computed (geodesic x road factor)"
    links = [rk.make_link(by_id[CENTRE], by_id[MINHANG], LinkKind.BRANCH_LEAD, road_factor=ROAD_FACTOR,
                          source=SEED, inferred=True,
                          note=f"to the lead recorded for the centre's 医联体 (itself a reading); {computed}")]
    links += [rk.make_link(by_id[CENTRE], by_id[key], LinkKind.COLLABORATOR, road_factor=ROAD_FACTOR, source=SEED,
                           inferred=True,
                           note=(f"referral up to the hospital whose experts come to the centre (seed001: {what}); "
                                 f"the referral channel is a reading; {computed}"))
              for key, what in _COLLABORATION.items()]
    return links + rk.neighbour_links(institutions, links, road_factor=ROAD_FACTOR)


def build_region() -> Region:
    institutions = build_institutions()
    return Region(
        id="minhang",
        name="上海市闵行区：虹桥社区卫生服务中心",
        description=(
            "闵行区虹桥社区卫生服务中心 (万源路2439号) and the five hospitals whose experts hold clinics there, as "
            "described by 人民日报 (2024-10-28): a children's rehabilitation base of 复旦大学附属儿科医院, the "
            "新华医院 吴敏 TCM paediatric clinic every Tuesday afternoon, expert clinics from 华山医院 (urology), "
            "闵行医院 (paediatrics) and 第六人民医院 (endocrinology), whose days are not published (day to be "
            "arranged). The centre's 医联体 is not named: its lead 闵行医院 is inferred. Booking window "
            f"{BOOKING_DAYS} days: the article's window for family doctors booking released specialist slots "
            "(提前5天预约, at 36 city and 116 district hospitals), used here for every session. Points are the "
            "虹桥镇 seat and district seats (proxies). Travel: road km = geodesic km x "
            f"{ROAD_FACTOR:g}; time estimates assume an average {SPEED_KMH:g} km/h in the city, an assumption."
        ),
        road_factor=ROAD_FACTOR,
        speed_kmh=SPEED_KMH,
        booking_days=BOOKING_DAYS,
        sources=sources(),
        institutions=tuple(institutions),
        communities=(build_community(),),
        links=tuple(build_links(institutions)),
    )


#: The region file's text, as the builder writes it.
render = partial(rk.render_region, build_region)

if __name__ == "__main__":
    rk.write_region(build_region, OUTPUT)

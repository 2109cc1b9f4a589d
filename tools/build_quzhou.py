"""Build data/regions/quzhou.json: the six county medical communities of 衢江区, 江山市 and 开化县.

Ground truth: seed article 004 (衢州晚报, 2019-04-03, 据健康衢州在线), whose
rosters are copied verbatim below. Points come from data/places/seed_places.csv;
capabilities are assumed from national service standards per tier and say so.

    .venv/bin/python tools/build_quzhou.py          # writes data/regions/quzhou.json

The output is deterministic: running it twice gives a byte-identical file.
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
    CoveredCounty,
    Institution,
    Link,
    LinkKind,
    Membership,
    Region,
    Role,
    Roster,
    RosterEntry,
    Source,
    Tier,
)

OUTPUT = rk.REGIONS_DIR / "quzhou.json"
SEED = "seed004"
PUBLISHED = dt.date(2019, 4, 3)
ROAD_FACTOR = 1.3
SPEED_KMH = 40.0
BOOKING_DAYS = 7

COUNTIES = (("衢江区", "330803"), ("江山市", "330881"), ("开化县", "330824"))
CITY_SEAT_COUNTY = "柯城区"  # the 衢州市 seat stands in 柯城区


@dataclass(frozen=True)
class Branch:
    """A listed unit of a roster other than the lead."""

    id: str
    token: str  # verbatim, as the article lists it
    name: str  # display name
    tier: Tier
    township: str | None  # official 2016 township/street it serves
    place: str  # seed_places row (name) of its town
    aliases: tuple[str, ...] = ()  # besides the token
    note: str | None = None


@dataclass(frozen=True)
class CommunitySpec:
    id: str
    name: str
    county: str
    lead: str
    lead_token: str
    branches: tuple[Branch, ...]
    note: str | None = None


# ----------------------------------------------------------------------------- the article's rosters

_FENYUAN = "tier township_centre is our reading: seed004 lists it only as a 分院 (branch) of {community}"
_STD_ALIAS = "; the alias {alias} is the usual form of a township centre's name, built from the township, not published"


def _qj_branch(key: str, token: str, township: str, *, community: str, place: str | None = None,
               standard: bool = True, extra: str = "") -> Branch:
    short = token.removesuffix("分院").removesuffix("中心").removesuffix("镇")
    std_name = f"{township}卫生院"
    aliases = (short,) + ((std_name,) if standard else ())
    note = _FENYUAN.format(community=community) + (_STD_ALIAS.format(alias=std_name) if standard else "") + extra
    return Branch(id=f"qj-{key}", token=token, name=f"{community}{token}", tier=Tier.TOWNSHIP_CENTRE,
                  township=township, place=place or township, aliases=aliases, note=note)


_C2 = "衢州市第二人民医院医共体"
_CT = "衢江区中医院医共体"

QJ_CITY_2ND = CommunitySpec(
    id="qj-ygt-city-2nd", name=_C2, county="衢江区", lead="qz-city-2nd", lead_token="衢州市第二人民医院",
    note=("led by a city hospital (衢州市第二人民医院) but a county community of 衢江区 in the article; "
          "its lead has no published point and is placed at the 衢州市 seat in 柯城区"),
    branches=(
        _qj_branch("shangfang", "上方分院", "上方镇", community=_C2),
        _qj_branch("duze", "杜泽分院", "杜泽镇", community=_C2),
        _qj_branch("nianli", "廿里分院", "廿里镇", community=_C2),
        _qj_branch("wuxijiang", "乌溪江中心分院", "湖南镇", community=_C2, place="乌溪江", standard=False,
                   extra="; 乌溪江 is an area name (the 乌溪江 reservoir area), served here by the 湖南镇 seat"),
        _qj_branch("huiping", "灰坪分院", "灰坪乡", community=_C2),
        _qj_branch("lianhua", "莲花分院", "莲花镇", community=_C2),
        _qj_branch("xiachuan", "峡川分院", "峡川镇", community=_C2),
        _qj_branch("zhoujia", "周家分院", "周家乡", community=_C2),
        _qj_branch("taizhen", "太真分院", "太真乡", community=_C2),
        _qj_branch("shuangqiao", "双桥分院", "双桥乡", community=_C2),
        _qj_branch("houxi", "后溪分院", "后溪镇", community=_C2),
        _qj_branch("yunxi", "云溪分院", "云溪乡", community=_C2),
        _qj_branch("fushi", "浮石分院", "浮石街道", community=_C2, standard=False,
                   extra="; 浮石 is a street (街道): the centre may be registered as a 社区卫生服务中心"),
        _qj_branch("lingyang", "岭洋分院", "岭洋乡", community=_C2),
        _qj_branch("jucun", "举村分院", "举村乡", community=_C2),
    ),
)

QJ_TCM = CommunitySpec(
    id="qj-ygt-tcm", name=_CT, county="衢江区", lead="qj-tcm", lead_token="衢江区中医院",
    branches=(
        _qj_branch("zhangtan", "樟潭分院", "樟潭街道", community=_CT, standard=False,
                   extra="; 樟潭 is a street (街道) and the 衢江区 seat: the centre may be registered as a 社区卫生服务中心"),
        _qj_branch("dazhou", "大洲分院", "大洲镇", community=_CT),
        _qj_branch("quanwang", "全旺镇分院", "全旺镇", community=_CT),
        _qj_branch("huangtankou", "黄坛口分院", "黄坛口乡", community=_CT),
        _qj_branch("henglu", "横路分院", "高家镇", community=_CT, place="横路办事处", standard=False,
                   extra="; 横路 is the former 横路乡, now an office (办事处) of 高家镇, so its township is 高家镇"),
        _qj_branch("gaojia", "高家分院", "高家镇", community=_CT),
    ),
)


def _named(key: str, name: str, township: str, *, place: str | None = None, short: str | None = None,
           aliases: tuple[str, ...] = (), note: str | None = None, tier: Tier = Tier.TOWNSHIP_CENTRE) -> Branch:
    """A unit the article names in full (江山)."""
    short = short or name[:2]
    return Branch(id=f"js-{key}", token=name, name=name, tier=tier, township=township, place=place or township,
                  aliases=(short, *aliases), note=note)


_CC = Tier.COMMUNITY_CENTRE
JS_PEOPLE = CommunitySpec(
    id="js-ygt-people", name="江山市人民医院医共体", county="江山市", lead="js-people", lead_token="市人民医院",
    branches=(
        _named("hushan", "虎山街道社区卫生服务中心", "虎山街道", tier=_CC),
        _named("hecun", "贺村中心卫生院", "贺村镇"),
        _named("yutou", "淤头中心卫生院", "贺村镇", place="淤头镇", aliases=("淤头镇",),
               note="淤头镇 has merged into 贺村镇 (not a township in the 2016 codes), so its township is 贺村镇; "
                    "placed at the former 淤头 town seat"),
        _named("xiakou", "峡口中心卫生院", "峡口镇"),
        _named("qinghu", "清湖街道社区卫生服务中心", "清湖镇", place="清湖街道", tier=_CC,
               note="清湖镇 became 清湖街道 after 2016; the township is given by its 2016 name 清湖镇"),
        _named("wanyao", "碗窑乡卫生院", "碗窑乡"),
        _named("tanshi", "坛石镇卫生院", "坛石镇"),
        _named("daqiao", "大桥镇卫生院", "大桥镇"),
        _named("fenglin", "凤林镇卫生院", "凤林镇"),
        _named("xintangbian", "新塘边镇卫生院", "新塘边镇", short="新塘边"),
        _named("baoan", "保安乡卫生院", "保安乡"),
        _named("nianbadu", "廿八都镇卫生院", "廿八都镇", short="廿八都"),
    ),
)

JS_TCM = CommunitySpec(
    id="js-ygt-tcm", name="江山市中医院医共体", county="江山市", lead="js-tcm", lead_token="市中医院",
    branches=(
        _named("changtai", "长台中心卫生院", "长台镇"),
        _named("shuangta", "双塔街道社区卫生服务中心", "双塔街道", tier=_CC),
        _named("shangyu", "上余镇卫生院", "上余镇"),
        _named("dachen", "大陈乡卫生院", "大陈乡"),
        _named("sidu", "四都镇卫生院", "四都镇"),
        _named("shimen", "石门镇卫生院", "石门镇"),
        _named("zhangcun", "张村乡卫生院", "张村乡"),
        _named("tangyuankou", "塘源口乡卫生院", "塘源口乡", short="塘源口"),
    ),
)


def _kh(key: str, token: str, township: str | None, *, short: str | None = None, former: str | None = None,
        place: str | None = None, standard: bool = True, note: str | None = None) -> Branch:
    """A 开化 unit, listed by town name only ("华埠、杨林…等卫生院")."""
    short = short or token
    aliases: list[str] = []
    if token != short:
        aliases.append(short)
    if former:
        aliases.append(former)
    std_name = f"{township}卫生院" if township and standard else None
    if std_name:
        aliases.append(std_name)
    parts = ["listed by town name in seed004 (\"…等卫生院\"); display name = the listed name + 卫生院"]
    if std_name:
        parts.append(f"the alias {std_name} is the usual form of a township centre's name, built from the "
                     f"township, not published")
    if note:
        parts.append(note)
    return Branch(id=f"kh-{key}", token=token, name=f"{token}卫生院", tier=Tier.TOWNSHIP_CENTRE,
                  township=township, place=place or township or token, aliases=tuple(aliases),
                  note="; ".join(parts))


KH_PEOPLE = CommunitySpec(
    id="kh-ygt-people", name="开化县人民医院医共体", county="开化县", lead="kh-people", lead_token="县人民医院",
    note="formed under a 竞合 (co-opetition) model alongside the 开化县中医院医共体",
    branches=(
        _kh("huabu", "华埠", "华埠镇"),
        _kh("yanglin", "杨林", "杨林镇"),
        _kh("tongcun", "桐村", "桐村镇"),
        _kh("chihuai", "池淮(张湾)", "池淮镇", short="池淮", former="张湾",
            note="张湾乡 has merged into 池淮镇; placed at the 池淮镇 seat (the former 张湾 seat is another "
                 "seed_places row, 张湾乡, 11 km to the north-west)"),
        _kh("changhong", "长虹", "长虹乡"),
        _kh("suzhuang", "苏庄", "苏庄镇"),
        _kh("qinyang", "芹阳(金村)", None, short="芹阳", former="金村", place="芹阳办事处", standard=False,
            note="芹阳办事处 is the county-seat office (former 城关镇) with no NBS township code, so township is "
                 "null; 金村乡 has merged into it. Placed at the 芹阳/开化县 seat (the former 金村 seat is another "
                 "seed_places row, 金村乡, 8 km to the north-east)"),
        _kh("linshan", "林山", "林山乡"),
        _kh("zhongcun", "中村", "中村乡"),
    ),
)

KH_TCM = CommunitySpec(
    id="kh-ygt-tcm", name="开化县中医院医共体", county="开化县", lead="kh-tcm", lead_token="县中医院",
    note="formed under a 竞合 (co-opetition) model alongside the 开化县人民医院医共体",
    branches=(
        _kh("majin", "马金(塘坞)", "马金镇", short="马金", former="塘坞",
            note="塘坞乡 has merged into 马金镇; placed at the 马金镇 seat (the former 塘坞 seat is another "
                 "seed_places row, 塘坞乡, 8 km to the north-east)"),
        _kh("qixi", "齐溪", "齐溪镇"),
        _kh("hetian", "何田", "何田乡"),
        _kh("cuntou", "村头", "村头镇"),
        _kh("daxibian", "大溪边", "大溪边乡"),
        _kh("yinkeng", "音坑", "音坑乡"),
    ),
)

COMMUNITIES = (QJ_CITY_2ND, QJ_TCM, JS_PEOPLE, JS_TCM, KH_PEOPLE, KH_TCM)


@dataclass(frozen=True)
class HospitalSpec:
    id: str
    name: str
    tier: Tier
    county: str
    aliases: tuple[str, ...] = ()
    row_county: str | None = None  # county column of its seed_places row when not its county
    source: str = SEED
    inferred: bool = False
    note: str | None = None


_CITY_NOTE = "tier city_hospital is our reading from its name (a hospital of 衢州市, the prefecture)"
HOSPITALS = (
    HospitalSpec("qz-city-2nd", "衢州市第二人民医院", Tier.CITY_HOSPITAL, CITY_SEAT_COUNTY, row_county="衢州市",
                 note=_CITY_NOTE + "; county 柯城区 is where its proxy point (the 衢州市 seat) lies: the "
                                   "hospital's own site is not published"),
    HospitalSpec("qz-people", "衢州市人民医院", Tier.CITY_HOSPITAL, CITY_SEAT_COUNTY, row_county="衢州市",
                 source="seed_places", inferred=True,
                 note=("not named in seed004: added as the general city hospital that the 人民医院 leads (and "
                       "衢州市第二人民医院) refer up to; listed among the hospitals of data/places/seed_places.csv. "
                       + _CITY_NOTE)),
    HospitalSpec("qz-tcm", "衢州市中医医院", Tier.CITY_HOSPITAL, CITY_SEAT_COUNTY, row_county="衢州市",
                 source="seed_places", inferred=True,
                 note=("not named in seed004: added as the city TCM hospital that the 中医院 leads refer up to; "
                       "listed among the hospitals of data/places/seed_places.csv. " + _CITY_NOTE)),
    HospitalSpec("qj-tcm", "衢江区中医院", Tier.COUNTY_HOSPITAL, "衢江区"),
    HospitalSpec("qj-mch", "衢江区妇幼保健院", Tier.MATERNAL_CHILD_HOSPITAL, "衢江区", aliases=("区妇幼保健院",),
                 note="named in seed004 as 区妇幼保健院, a 协作单位 (collaborating unit) of the 衢江 communities"),
    HospitalSpec("js-people", "江山市人民医院", Tier.COUNTY_HOSPITAL, "江山市",
                 note=("the article writes 市人民医院; not kept as an alias because 衢州市人民医院 is also a "
                       "市人民医院 in this region (the roster entry resolves it)")),
    HospitalSpec("js-tcm", "江山市中医院", Tier.COUNTY_HOSPITAL, "江山市",
                 note=("the article writes 市中医院; not kept as an alias because 衢州市中医医院 is also a city "
                       "TCM hospital in this region (the roster entry resolves it)")),
    HospitalSpec("kh-people", "开化县人民医院", Tier.COUNTY_HOSPITAL, "开化县", aliases=("县人民医院",)),
    HospitalSpec("kh-tcm", "开化县中医院", Tier.COUNTY_HOSPITAL, "开化县", aliases=("县中医院",)),
    HospitalSpec("kh-2nd", "开化县第二人民医院", Tier.COUNTY_HOSPITAL, "开化县",
                 note="a 协作医院 (collaborating hospital) of the 开化县人民医院医共体 in seed004"),
    HospitalSpec("kh-mch", "开化县妇幼保健院", Tier.MATERNAL_CHILD_HOSPITAL, "开化县", aliases=("县妇幼保健院",),
                 note="named in seed004 as 县妇幼保健院, in both 开化 communities as a 专科联盟 (specialty alliance)"),
)

#: Each community's partners: (institution, role, inferred, note).
PARTNERS: dict[str, tuple[tuple[str, Role, bool, str], ...]] = {
    QJ_CITY_2ND.id: (("qj-mch", Role.COLLABORATOR, True,
                      "seed004: 区妇幼保健院作为协作单位，参与医共体建设 — said of the 衢江 communities without "
                      "naming one, so recorded as a collaborator of both"),),
    QJ_TCM.id: (("qj-mch", Role.COLLABORATOR, True,
                 "seed004: 区妇幼保健院作为协作单位，参与医共体建设 — said of the 衢江 communities without naming "
                 "one, so recorded as a collaborator of both"),),
    KH_PEOPLE.id: (("kh-2nd", Role.COLLABORATOR, False, "seed004: 开化县第二人民医院以协作医院形式参与县人民医院医共体建设"),
                   ("kh-mch", Role.ALLIANCE, False, "seed004: 县妇幼保健院以专科联盟形式共同参与县人民医院和县中医院两个医共体建设")),
    KH_TCM.id: (("kh-mch", Role.ALLIANCE, False, "seed004: 县妇幼保健院以专科联盟形式共同参与县人民医院和县中医院两个医共体建设"),),
}

#: Lead -> the city hospital it refers up to (not published).
LEAD_CITY = (
    ("qz-city-2nd", "qz-people"),
    ("qj-tcm", "qz-tcm"),
    ("js-people", "qz-people"),
    ("js-tcm", "qz-tcm"),
    ("kh-people", "qz-people"),
    ("kh-tcm", "qz-tcm"),
)


# ----------------------------------------------------------------------------- building


def sources() -> dict[str, Source]:
    seed = Source(
        title="衢州:“医共体”集体揭牌 基层百姓看病不再难",
        publisher="衢州晚报",
        date=PUBLISHED,
        note=("据健康衢州在线 (the paper credits 健康衢州在线). Seed article 004: the six community rosters, "
              "the collaborating units and the specialty alliance are copied from it verbatim."),
    )
    return rk.region_sources(
        SEED, seed, road_factor=ROAD_FACTOR,
        rules=("Lead–city links: each 人民医院 lead (and 衢州市第二人民医院) to 衢州市人民医院, each 中医院 lead to "
               "衢州市中医医院 — the usual referral partners, not published. Maternal and child hospitals are "
               "assumed to offer obstetrics, gynaecology, paediatrics, child and women's health care, laboratory "
               "and ultrasound from their function (no service standard consulted). TCM hospitals offer TCM by "
               "their name."),
    )


def _tier_capabilities(tier: Tier, *, tcm_hospital: bool) -> tuple[Capability, ...]:
    """The tier's assumed capabilities; a TCM hospital also offers TCM, by its name."""
    remark = "applied to the city TCM hospital too" if tier is Tier.CITY_HOSPITAL else None
    caps = rk.tier_capabilities(tier, remark=remark)
    if tcm_hospital:
        tcm = rk.assumed_capabilities(("tcm",), source=SEED,
                                      note="a 中医院/中医医院 (TCM hospital) by its name; the article lists no departments")
        caps = rk.merge_capabilities(tcm, caps)
    return caps


def build_institutions(places: dict[tuple[str, str], rk.PlaceRow]) -> list[Institution]:
    institutions: list[Institution] = []
    for spec in HOSPITALS:
        lat, lon, location = rk.hospital_point(spec.name, places, hospital_county=spec.county,
                                               row_county=spec.row_county)
        tcm = "中医" in spec.name
        institutions.append(Institution(
            id=spec.id, name=spec.name, aliases=spec.aliases, tier=spec.tier, county=spec.county, township=None,
            lat=lat, lon=lon, location=location, capabilities=_tier_capabilities(spec.tier, tcm_hospital=tcm),
            source=spec.source, inferred=spec.inferred, note=spec.note,
        ))
    for com in COMMUNITIES:
        for br in com.branches:
            lat, lon, location = rk.town_point(places[(com.county, br.place)])
            aliases = tuple(dict.fromkeys(a for a in (br.token, *br.aliases) if a != br.name))
            institutions.append(Institution(
                id=br.id, name=br.name, aliases=aliases, tier=br.tier, county=com.county, township=br.township,
                lat=lat, lon=lon, location=location, capabilities=_tier_capabilities(br.tier, tcm_hospital=False),
                source=SEED, note=br.note,
            ))
    return institutions


def build_communities() -> list[Community]:
    out = []
    for com in COMMUNITIES:
        members = [Membership(institution=com.lead, role=Role.LEAD, source=SEED)]
        members += [Membership(institution=br.id, role=Role.BRANCH, source=SEED) for br in com.branches]
        members += [Membership(institution=inst, role=role, source=SEED, inferred=inferred, note=note)
                    for inst, role, inferred, note in PARTNERS.get(com.id, ())]
        out.append(Community(id=com.id, name=com.name, kind="county", counties=(com.county,), members=tuple(members),
                             published=PUBLISHED, source=SEED, note=com.note))
    return out


def build_rosters() -> list[Roster]:
    out = []
    for com in COMMUNITIES:
        entries = [RosterEntry(text=com.lead_token, institution=com.lead)]
        entries += [RosterEntry(text=br.token, institution=br.id) for br in com.branches]
        note = "the list as published, lead first; collaborators and alliances are named elsewhere in the article"
        if com.county == "开化县":
            note += "; the list ends 「…等卫生院组成」, read as closing the list (no unnamed members)"
        out.append(Roster(community=com.id, published=PUBLISHED, source=SEED, entries=tuple(entries), note=note))
    return out


def build_links(institutions: list[Institution]) -> list[Link]:
    by_id = {inst.id: inst for inst in institutions}
    links: list[Link] = []

    def add(a: str, b: str, kind: LinkKind, *, source: str, inferred: bool, note: str) -> None:
        links.append(rk.make_link(by_id[a], by_id[b], kind, road_factor=ROAD_FACTOR, source=source,
                                  inferred=inferred, note=note))

    published = "the link is published in seed004 (membership); only distance_km is computed (geodesic x road factor)"
    for com in COMMUNITIES:
        for br in com.branches:
            add(br.id, com.lead, LinkKind.BRANCH_LEAD, source=SEED, inferred=False,
                note=f"branch of {com.name}: " + published)
    for com in COMMUNITIES:
        for inst, role, inferred, note in PARTNERS.get(com.id, ()):
            kind = LinkKind.COLLABORATOR if role is Role.COLLABORATOR else LinkKind.ALLIANCE
            text = (f"{role.label_zh} of {com.name}: " + published if not inferred
                    else f"{role.label_zh} of {com.name}: {note}; only distance_km is computed")
            add(inst, com.lead, kind, source=SEED, inferred=inferred, note=text)
    for lead, city in LEAD_CITY:
        add(lead, city, LinkKind.LEAD_CITY, source=rk.RULE, inferred=True,
            note="not published: the city hospital this lead is assumed to refer up to")
    links += rk.neighbour_links(institutions, links, road_factor=ROAD_FACTOR)
    return links


def build_region(places_path: Path = rk.SEED_PLACES) -> Region:
    places = rk.read_seed_places(places_path)
    institutions = build_institutions(places)
    return Region(
        id="quzhou",
        name="衢州市：衢江区、江山市、开化县县域医共体",
        description=(
            "The six county medical communities (医共体) of 衢江区, 江山市 and 开化县, unveiled shortly before 2019-04-03, "
            "with their collaborating hospitals, the specialty alliance of 开化县妇幼保健院 and the two city "
            "hospitals the county leads refer up to. Rosters and roles are from 衢州晚报 (2019-04-03); points "
            "are town or county seats (no hospital has a published point); capabilities are assumed from the "
            "national service standards per tier, not published per unit. Travel: road km = geodesic km x "
            f"{ROAD_FACTOR:g} (no road distances known); time estimates assume an average {SPEED_KMH:g} km/h, "
            "an assumption for hilly county roads, not a measurement."
        ),
        road_factor=ROAD_FACTOR,
        speed_kmh=SPEED_KMH,
        booking_days=BOOKING_DAYS,
        sources=sources(),
        covered_counties=tuple(CoveredCounty(name=name, code=code, source="adcode") for name, code in COUNTIES),
        institutions=tuple(institutions),
        communities=tuple(build_communities()),
        links=tuple(build_links(institutions)),
        rosters=tuple(build_rosters()),
    )


#: The region file's text, as the builder writes it.
render = partial(rk.render_region, build_region)

if __name__ == "__main__":
    rk.write_region(build_region, OUTPUT)

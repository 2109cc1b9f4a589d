"""``mednet route REGION (--from NAME | --at LAT,LON) --specialty S [options]``.

Where to send a patient, for a referral desk: the destination, distance and
time, why (the policy step), the path of links, the alternatives and what
nearer institutions were passed over. Exit 0 with an answer, 1 when no
institution can take the referral within the limits given, 2 for bad input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from mednet.cli import EXIT_OK, EXIT_PROBLEMS, add_allow_invalid, from_check
from mednet.cli.output import write_stdout
from mednet.errors import InvalidRequest, MednetError, NoCapableInstitution
from mednet.models import LinkKind
from mednet.routing import Hop, Point, Referral, Router
from mednet.routing.answers import DATUM_NAMES
from mednet.routing.cost_answers import ReferralByCost
from mednet.routing.request import (
    DIRECTIONS,
    EXPLAIN,
    LANGS,
    RouteQuery,
    check_alternatives,
    check_max_km,
    check_max_minutes,
    check_specialty,
    check_when,
    parse_lat_lon,
)
from mednet.travel.layer import load_travel, travel_path
from mednet.valid_regions import load_valid_region

#: Passed-over institutions named per reason in the text answer (the JSON has those the answer names).
SHOWN_PER_REASON = 5


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("route", help="route a referral to the institution the tiered-care policy picks",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("region", metavar="REGION_OR_PATH", help="a region id (e.g. quzhou) or a region JSON file")
    origin = p.add_mutually_exclusive_group(required=True)
    origin.add_argument("--from", dest="origin", metavar="NAME", help="the origin institution: id, name or alias")
    origin.add_argument("--at", type=from_check(parse_lat_lon), metavar="LAT,LON",
                        help="the patient's position (WGS84, or as --datum says): the route starts there, by access "
                             "legs to the nearest institutions; the nearest primary care is the home centre")
    p.add_argument("--datum", choices=tuple(DATUM_NAMES), default="wgs84",
                   help="the datum of --at: wgs84 (GPS, default), gcj02 (Amap, Tencent Maps) or bd09 (Baidu Maps); "
                        "the point is converted to WGS84 and the answer states the datum given")
    p.add_argument("--specialty", metavar="S",
                   help="care needed: code, Chinese or English label, alias (required except for --direction down)")
    p.add_argument("--direction", choices=DIRECTIONS, default="up",
                   help="up 上转 (default), down 下转, emergency 急")
    p.add_argument("--home", metavar="COMMUNITY", help="down only: home community, or the patient's home institution")
    p.add_argument("--max-km", type=from_check(check_max_km, float), metavar="N",
                   help="skip a step whose best lies beyond N km")
    p.add_argument("--max-minutes", type=from_check(check_max_minutes, float), metavar="M",
                   help="skip a step whose best lies beyond M minutes by the travel layer (routes on the layer)")
    p.add_argument("--cost", choices=("km", "minutes"), default="km",
                   help="rank by km along referral links (default) or by minutes on the travel layer, from the "
                        "origin to each candidate directly")
    p.add_argument("--travel", metavar="FILE", help="a travel file: route on the travel layer (default with --cost "
                   "minutes or --max-minutes: the file beside the region, else the default model)")
    p.add_argument("--alternatives", type=from_check(check_alternatives, int), default=3, metavar="K",
                   help="shortlist length (default 3)")
    p.add_argument("--when", type=from_check(check_when, dt.datetime.fromisoformat), metavar="ISO-DATETIME",
                   help="start of the booking window for scheduled sessions (default: now, China Standard Time)")
    p.add_argument("--explain", choices=EXPLAIN, default="short",
                   help="passed-over institutions: per reason the count and the nearest five (short, default), "
                        "or every one (full)")
    p.add_argument("--lang", choices=LANGS, default="zh",
                   help="language of the answer: zh (Chinese, default) or en (English)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    add_allow_invalid(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        check_specialty(args.specialty, args.direction)  # before the region is loaded
    except MednetError as err:
        raise err.in_lang(args.lang) from None
    if args.at is None and args.datum != "wgs84":
        raise InvalidRequest("datum", args.datum, "is only used with --at (the datum of a point)",
                             rule_zh="只用于 --at（坐标点的坐标系）").in_lang(args.lang)
    origin = args.origin if args.at is None else Point(lat=args.at[0], lon=args.at[1], datum=args.datum)
    region = load_valid_region(args.region, allow_invalid=args.allow_invalid)
    router = Router.from_region(region)
    travel = None
    if args.cost == "minutes" or args.max_minutes is not None or args.travel:
        beside = travel_path(args.region)
        travel = load_travel(region, travel=args.travel or (beside if beside.exists() else None))
    try:
        referral = router.answer(RouteQuery.checked(
            origin, args.specialty, direction=args.direction, home=args.home, max_km=args.max_km,
            alternatives=args.alternatives, when=args.when, explain=args.explain, lang=args.lang, cost=args.cost,
            max_minutes=args.max_minutes, travel=travel))
    except NoCapableInstitution as err:
        print(f"mednet: {err}", file=sys.stderr)
        return EXIT_PROBLEMS
    names = {i: router.G.nodes[i]["name"] for h in referral.path for i in (h.from_id, h.to_id) if i in router.G}
    write_stdout(referral.model_dump_json(indent=1) if args.format == "json" else format_referral(referral, names))
    return EXIT_OK


def format_referral(r: Referral, names: dict[str, str] | None = None) -> str:
    """The referral as text for a desk clerk, in the referral's language (Chinese by default)."""
    t = _TEXT[r.lang]
    dest = r.destination
    origin = f"{r.origin.name}"
    if r.origin_point is not None:
        origin = t["point" if r.measured_from == "origin_point" else "point_home"].format(
            lat=r.origin_point.lat, lon=r.origin_point.lon, home=r.origin.name, km=r.snap_km)
        if r.origin_point.datum != "wgs84":
            lat, lon = r.origin_point.wgs84()
            origin += t["datum"].format(datum=DATUM_NAMES[r.origin_point.datum], lat=lat, lon=lon)
    elif r.measured_from == "home":
        origin += t["from_home"]
    proxy = t["proxy"] if dest.location_is_proxy else ""
    care = r.specialty.label_zh if r.lang == "zh" else f"{r.specialty.label_zh} ({r.specialty.label_en})"
    tier = dest.tier.label_zh
    if dest.id == r.origin.id:  # a visiting expert's session at the patient's own centre: no journey
        head = t["own_centre"].format(origin=origin)
    else:
        head = f"{t[r.direction]} {origin} → {dest.name}"
    lines = [
        head,
        "  " + t["what"].format(care=care, tier=tier, county=dest.county) + proxy,
        "  " + (t["travel_distance"].format(km=r.distance_km, minutes=r.minutes) if isinstance(r, ReferralByCost) else
                t["distance"].format(km=r.distance_km, minutes=r.minutes, speed=r.speed_kmh)),
        f"  {t['why']}: [{_label(r.step, r.lang)}] {r.explanation}",
    ]
    if isinstance(r, ReferralByCost):
        lines.append(f"  {t['basis']}: {r.travel_note}")
    if r.trip is not None:
        trip_from = t["the_point"] if r.origin_point is not None else r.origin.name
        lines.insert(3, "  " + t["trip"].format(origin=trip_from, km=r.trip.distance_km, minutes=r.trip.minutes))
    if r.same_proxy_point:
        same = t["names_sep"].join(i.name for i in r.same_proxy_point)
        lines.append("  " + t["same_point"].format(dest=dest.name, names=same))
    if r.session is not None:
        provider = t["expert"].format(name=r.session.provider.name) if r.session.provider else ""
        lines.append(f"  {t['session']}: {r.session.text}{provider}")
    if r.contact is not None:
        details = [f"{t[kind]} {_yes_no(d.value, t) if isinstance(d.value, bool) else d.value}"
                   for kind, d in r.contact.items()]
        lines.append(f"  {t['contact']}: " + t["sep"].join(details))
    names = {**(names or {}), r.origin.id: r.origin.name, dest.id: dest.name}
    names.update((i.id, i.name) for g in r.passed_over for i in g.institutions)
    start = r.path[0].from_id if r.path else dest.id
    lines.append(f"  {t['path']}: " + " ".join([names.get(start, start)] + [
        f"→({_hop_label(h, t)} {h.distance_km:.1f} km) {names.get(h.to_id, h.to_id)}" for h in r.path]))
    if r.alternatives:
        lines.append(f"  {t['alternatives']}:")
        lines.extend(f"    {n}. {a.institution.name}  {a.distance_km:.1f} km{_minutes(r, a.minutes)}  "
                     f"[{_label(a.step, r.lang)}]"
                     + (f"  {t['session']} {a.session.text}" if a.session else "")
                     for n, a in enumerate(r.alternatives, start=1))
    if r.passed_over:
        lines.append(f"  {t['passed_over']}:")
        for g in r.passed_over:
            minutes = getattr(g, "minutes", (None,) * len(g.institutions))
            first = list(zip(g.institutions, g.distances_km, minutes, strict=True))[:SHOWN_PER_REASON]
            shown = ", ".join(f"{i.name} {d:.1f} km{_minutes(r, m)}" for i, d, m in first)
            if g.count > len(first):
                shown += t["more"].format(n=g.count - len(first))
            lines.append(f"    {_label(g.reason, r.lang)}: {shown}")
    return "\n".join(lines)


def _hop_label(h: Hop, t: dict[str, str]) -> str:
    """A path link's kind in Chinese; an access leg, a direct travel leg, and a link within one proxy point, say so."""
    if isinstance(h.kind, LinkKind):
        return h.kind.label_zh + (t["same_point_hop"] if h.basis == "same_proxy_point" else "")
    return t[h.kind]


def _minutes(r: Referral, minutes: float | None) -> str:
    """An institution's minutes beside its km, in an answer by travel cost."""
    return f" {minutes:.1f} min" if isinstance(r, ReferralByCost) and minutes is not None else ""


_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "up": "上转", "down": "下转", "emergency": "急诊",
        "own_centre": "本中心就诊 {origin}（上级专家门诊，无需转诊）", "what": "{care}；{tier}，{county}",
        "point": "{lat:.5f},{lon:.5f}（居住地基层机构 {home}，{km:.1f} 公里；距离自该点起算）",
        "point_home": "{lat:.5f},{lon:.5f}（居住地基层机构 {home}，{km:.1f} 公里；距离自居住地机构起算）",
        "the_point": "该点", "datum": "（{datum} 坐标，换算为 WGS84 {lat:.5f},{lon:.5f}）",
        "from_home": "（距离自居住地机构起算）", "proxy": "；位置为代用点，非机构实址",
        "same_point": "与{dest}同一代用点：{names}（相互距离未知；距离相同时先按级别，再按医共体角色）",
        "same_point_hop": "，同一代用点", "access": "接入", "travel": "直达", "names_sep": "、",
        "travel_distance": "出行距离 {km:.1f} 公里，约 {minutes:.0f} 分钟（出行层，直达）", "basis": "依据",
        "distance": "网络距离 {km:.1f} 公里，按 {speed:g} 公里/小时约 {minutes:.0f} 分钟", "why": "理由",
        "trip": "从{origin}出发的行程 {km:.1f} 公里，约 {minutes:.0f} 分钟",
        "session": "门诊", "expert": "（{name}专家）", "path": "路径", "alternatives": "备选",
        "passed_over": "未选的较近机构", "more": "，…另有 {n} 家", "contact": "联系", "sep": "；",
        "phone": "电话", "address": "地址", "booking": "预约", "hours": "时间", "emergency_24h": "24小时急诊",
        "yes": "有", "no": "无",
    },
    "en": {
        "up": "上转 up", "down": "下转 down", "emergency": "急诊 emergency",
        "own_centre": "at the own centre {origin} (a visiting expert's clinic, no referral needed)",
        "point": "{lat:.5f},{lon:.5f} (home centre {home}, {km:.1f} km; distances from the point)",
        "point_home": "{lat:.5f},{lon:.5f} (home centre {home}, {km:.1f} km; distances from the home institution)",
        "the_point": "the point", "datum": " ({datum} point, {lat:.5f},{lon:.5f} in WGS84)",
        "from_home": " (distances from the home institution)",
        "proxy": "; point is a proxy for the building", "what": "{care}; {tier}, {county}",
        "same_point": "same proxy point as {dest}: {names} (their distance is not known; equal distances go by "
                      "tier, then community role)",
        "same_point_hop": ", same proxy point", "access": "access", "travel": "direct", "names_sep": ", ",
        "travel_distance": "travel {km:.1f} km, about {minutes:.0f} min (travel layer, direct)", "basis": "basis",
        "distance": "distance {km:.1f} km by the network, about {minutes:.0f} min at {speed:g} km/h", "why": "why",
        "trip": "the trip from {origin}: {km:.1f} km, about {minutes:.0f} min",
        "session": "session", "expert": " (expert from {name})", "path": "path", "alternatives": "alternatives",
        "passed_over": "passed over", "more": ", … and {n} more", "contact": "contact", "sep": "; ",
        "phone": "phone", "address": "address", "booking": "booking", "hours": "hours",
        "emergency_24h": "24-hour emergency", "yes": "yes", "no": "no",
    },
}
#: The Chinese words for the answer's codes (policy steps and reasons for passing over).
_ZH = {
    "own_community": "本医共体", "partners": "合作机构", "any": "医共体外", "nearest": "最近",
    "home_centre": "居住地机构", "home_community": "居住地医共体",
    "is_origin": "出发地", "not_capable": "无此专科", "not_higher_tier": "非上级机构",
    "not_in_session": "预约期内无门诊", "outside_community_at_this_step": "本步骤范围外",
    "not_home_centre": "非居住地机构", "beyond_max_km": "超出距离限制", "beyond_max_minutes": "超出时间限制",
}


def _yes_no(value: bool, t: dict[str, str]) -> str:
    return t["yes"] if value else t["no"]


def _label(code: str, lang: str) -> str:
    """A step or reason as the text answer names it: in Chinese, or the code with its Chinese word."""
    return _ZH[code] if lang == "zh" else f"{code} ({_ZH[code]})"

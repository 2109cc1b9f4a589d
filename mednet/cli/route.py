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

from mednet.cli import EXIT_OK, EXIT_PROBLEMS, from_check
from mednet.cli.output import write_stdout
from mednet.errors import NoCapableInstitution
from mednet.models import LinkKind
from mednet.regions import load_region
from mednet.routing import Hop, Point, Referral, Router
from mednet.routing.request import (
    DIRECTIONS,
    EXPLAIN,
    check_alternatives,
    check_max_km,
    check_specialty,
    check_when,
    parse_lat_lon,
)

#: Passed-over institutions named per reason in the text answer (the JSON has those the answer names).
SHOWN_PER_REASON = 5


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("route", help="route a referral to the institution the tiered-care policy picks",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("region", metavar="REGION_OR_PATH", help="a region id (e.g. quzhou) or a region JSON file")
    origin = p.add_mutually_exclusive_group(required=True)
    origin.add_argument("--from", dest="origin", metavar="NAME", help="the origin institution: id, name or alias")
    origin.add_argument("--at", type=from_check(parse_lat_lon), metavar="LAT,LON",
                        help="the patient's position (WGS84): the route starts there, by access legs to the nearest "
                             "institutions; the nearest primary care is the home centre")
    p.add_argument("--specialty", metavar="S",
                   help="care needed: code, Chinese or English label, alias (required except for --direction down)")
    p.add_argument("--direction", choices=DIRECTIONS, default="up",
                   help="up 上转 (default), down 下转, emergency 急")
    p.add_argument("--home", metavar="COMMUNITY", help="down only: home community, or the patient's home institution")
    p.add_argument("--max-km", type=from_check(check_max_km, float), metavar="N",
                   help="skip a step whose best lies beyond N km")
    p.add_argument("--alternatives", type=from_check(check_alternatives, int), default=3, metavar="K",
                   help="shortlist length (default 3)")
    p.add_argument("--when", type=from_check(check_when, dt.datetime.fromisoformat), metavar="ISO-DATETIME",
                   help="start of the booking window for scheduled sessions (default: now, China Standard Time)")
    p.add_argument("--explain", choices=EXPLAIN, default="short",
                   help="passed-over institutions: per reason the count and the nearest five (short, default), "
                        "or every one (full)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_specialty(args.specialty, args.direction)  # before the region is loaded
    origin = args.origin if args.at is None else Point(lat=args.at[0], lon=args.at[1])
    router = Router.from_region(load_region(args.region))
    try:
        referral = router.route(origin, args.specialty, direction=args.direction, home=args.home,
                                max_km=args.max_km, alternatives=args.alternatives, when=args.when,
                                explain=args.explain)
    except NoCapableInstitution as err:
        print(f"mednet: {err}", file=sys.stderr)
        return EXIT_PROBLEMS
    names = {i: router.G.nodes[i]["name"] for h in referral.path for i in (h.from_id, h.to_id) if i in router.G}
    write_stdout(referral.model_dump_json(indent=1) if args.format == "json" else format_referral(referral, names))
    return EXIT_OK


def format_referral(r: Referral, names: dict[str, str] | None = None) -> str:
    """The referral as text for a desk clerk."""
    dest = r.destination
    origin = f"{r.origin.name}"
    if r.origin_point is not None:
        origin = (f"{r.origin_point.lat:.5f},{r.origin_point.lon:.5f} (home centre {r.origin.name}, "
                  f"{r.snap_km:.1f} km; distances from the point)")
    elif r.measured_from == "home":
        origin += " (distances from the home institution)"
    proxy = "; point is a proxy for the building" if dest.location_is_proxy else ""
    lines = [
        f"{_DIRECTION_ZH[r.direction]} {origin} → {dest.name}",
        f"  {r.specialty.label_zh} ({r.specialty.label_en}); {dest.tier.label_zh}, {dest.county}{proxy}",
        f"  distance {r.distance_km:.1f} km by the network, about {r.minutes:.0f} min at {r.speed_kmh:g} km/h",
        f"  why: [{r.step}] {r.explanation}",
    ]
    if r.same_proxy_point:
        lines.append(f"  same proxy point as {dest.name}: " + ", ".join(i.name for i in r.same_proxy_point)
                     + " (their distance is not known; equal distances go by tier, then community role)")
    if r.session is not None:
        provider = f" (expert from {r.session.provider.name})" if r.session.provider else ""
        lines.append(f"  session: {r.session.text}{provider}")
    names = {**(names or {}), r.origin.id: r.origin.name, dest.id: dest.name}
    names.update((i.id, i.name) for g in r.passed_over for i in g.institutions)
    start = r.path[0].from_id if r.path else dest.id
    lines.append("  path: " + " ".join([names.get(start, start)] + [
        f"→({_hop_label(h)} {h.distance_km:.1f} km) {names.get(h.to_id, h.to_id)}" for h in r.path]))
    if r.alternatives:
        lines.append("  alternatives:")
        lines.extend(f"    {n}. {a.institution.name}  {a.distance_km:.1f} km  [{a.step}]"
                     + (f"  session {a.session.text}" if a.session else "")
                     for n, a in enumerate(r.alternatives, start=1))
    if r.passed_over:
        lines.append("  passed over:")
        for g in r.passed_over:
            shown = ", ".join(f"{i.name} {d:.1f} km" for i, d in zip(g.institutions, g.distances_km, strict=False))
            if g.count > SHOWN_PER_REASON:
                first = zip(g.institutions[:SHOWN_PER_REASON], g.distances_km[:SHOWN_PER_REASON], strict=True)
                shown = ", ".join(f"{i.name} {d:.1f} km" for i, d in first)
                shown += f", … and {g.count - SHOWN_PER_REASON} more"
            lines.append(f"    {_REASON_ZH[g.reason]} ({g.reason}): {shown}")
    return "\n".join(lines)


def _hop_label(h: Hop) -> str:
    """A path link's kind in Chinese; an access leg, and a link within one proxy point, say so."""
    if isinstance(h.kind, LinkKind):
        return h.kind.label_zh + ("，同一代理位置" if h.basis == "same_proxy_point" else "")
    return "接入"


_DIRECTION_ZH = {"up": "上转", "down": "下转", "emergency": "急诊"}
_REASON_ZH = {
    "is_origin": "出发地", "not_capable": "无此专科", "not_higher_tier": "非上级机构",
    "not_in_session": "预约期内无门诊", "outside_community_at_this_step": "本步骤范围外",
    "not_home_centre": "非居住地卫生院", "beyond_max_km": "超出距离限制",
}

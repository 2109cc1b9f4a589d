"""Links a region's tables do not give: to each community's lead, and to neighbours.

Every such link is inferred and says by which rule. Costs without a road
distance are the geodesic times the region's road factor, floored at
:data:`DISTANCE_FLOOR_KM` (several institutions placed at one seat would
otherwise refer to each other for free).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mednet.geo import geodesic_km, haversine_km, neighbour_pairs
from mednet.models import Community, Institution, Link, LinkKind, Role

#: Links shorter than this (points that coincide: hospitals placed at one seat) cost this much.
DISTANCE_FLOOR_KM = 1.0
#: Neighbour road links: each institution to its k nearest others within max_km.
NEIGHBOUR_K = 4
NEIGHBOUR_MAX_KM = 30.0
#: The link kind joining a member in each role to its community.
ROLE_LINK = {Role.BRANCH: LinkKind.BRANCH_LEAD, Role.COLLABORATOR: LinkKind.COLLABORATOR,
             Role.ALLIANCE: LinkKind.ALLIANCE}


def link_km(a: Institution, b: Institution, *, road_factor: float, great_circle: bool = False) -> float:
    """Geodesic (or great-circle) km x road factor, floored at :data:`DISTANCE_FLOOR_KM`, rounded to metres."""
    if great_circle:
        km = float(haversine_km(a.lat, a.lon, b.lat, b.lon))
    else:
        km = geodesic_km(lat1=a.lat, lon1=a.lon, lat2=b.lat, lon2=b.lon)
    return round(max(km * road_factor, DISTANCE_FLOOR_KM), 3)


def make_link(
    a: Institution, b: Institution, kind: LinkKind, *, road_factor: float, source: str, inferred: bool, note: str,
    great_circle: bool = False,
) -> Link:
    km = link_km(a, b, road_factor=road_factor, great_circle=great_circle)
    return Link(a=a.id, b=b.id, kind=kind, distance_km=km, distance_basis="geodesic_x_road_factor", source=source,
                inferred=inferred, note=note)


def pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def neighbour_links(
    institutions: Sequence[Institution], existing: Iterable[Link], *, road_factor: float, source: str,
    great_circle: bool = False,
) -> list[Link]:
    """Neighbour road links per :func:`mednet.geo.neighbour_pairs`, skipping pairs already linked.

    ``great_circle`` takes the pairs' great-circle km (vectorised, within 0.5 % of the geodesic) instead of
    one exact geodesic per link, for bulk work such as starting a region for every county.
    """
    taken = {pair_key(link.a, link.b) for link in existing}
    i, j, km = neighbour_pairs([x.lat for x in institutions], [x.lon for x in institutions],
                               k=NEIGHBOUR_K, max_km=NEIGHBOUR_MAX_KM)
    measure = "great-circle" if great_circle else "geodesic"
    note = (f"not published: one of the {NEIGHBOUR_K} nearest institutions within {NEIGHBOUR_MAX_KM:g} km; "
            f"distance is {measure} x road factor")
    links = []
    for p, q, d in zip(i.tolist(), j.tolist(), km.tolist(), strict=True):
        a, b = institutions[p], institutions[q]
        if pair_key(a.id, b.id) in taken:
            continue
        taken.add(pair_key(a.id, b.id))
        if great_circle:
            links.append(Link(a=a.id, b=b.id, kind=LinkKind.NEIGHBOUR, source=source, inferred=True, note=note,
                              distance_km=round(max(d * road_factor, DISTANCE_FLOOR_KM), 3),
                              distance_basis="geodesic_x_road_factor"))
        else:
            links.append(make_link(a, b, LinkKind.NEIGHBOUR, road_factor=road_factor, source=source, inferred=True,
                                   note=note))
    return links


def membership_links(
    communities: Iterable[Community], by_id: dict[str, Institution], existing: Iterable[Link], *,
    road_factor: float, source: str, great_circle: bool = False,
) -> list[Link]:
    """A link to the lead from each branch not linked to it, and from each partner linked to no member."""
    linked: dict[str, set[str]] = {}
    for link in existing:
        linked.setdefault(link.a, set()).add(link.b)
        linked.setdefault(link.b, set()).add(link.a)
    pairs: list[tuple[Institution, Institution, LinkKind, str]] = []
    measure = "great-circle" if great_circle else "geodesic"
    for com in communities:
        lead = com.lead
        if lead is None or lead not in by_id:
            continue
        others = set(com.ids())
        for m in com.members:
            near = linked.get(m.institution, set())
            if m.role is Role.LEAD or m.institution not in by_id or lead in near or (
                    m.role is not Role.BRANCH and near & others):
                continue
            pairs.append((by_id[m.institution], by_id[lead], ROLE_LINK[m.role],
                          f"{m.role.label_zh} of {com.name}: the channel to its lead follows from the membership; "
                          f"distance is {measure} x road factor"))
            linked.setdefault(m.institution, set()).add(lead)
            linked.setdefault(lead, set()).add(m.institution)
    if great_circle and pairs:  # one vectorised pass
        km = haversine_km([a.lat for a, *_ in pairs], [a.lon for a, *_ in pairs], [b.lat for _, b, *_ in pairs],
                          [b.lon for _, b, *_ in pairs]).tolist()
    else:
        km = [geodesic_km(lat1=a.lat, lon1=a.lon, lat2=b.lat, lon2=b.lon) for a, b, *_ in pairs]
    return [Link(a=a.id, b=b.id, kind=kind, distance_km=round(max(d * road_factor, DISTANCE_FLOOR_KM), 3),
                 distance_basis="geodesic_x_road_factor", source=source, inferred=True, note=note)
            for (a, b, kind, note), d in zip(pairs, km, strict=True)]


__all__ = ["DISTANCE_FLOOR_KM", "NEIGHBOUR_K", "NEIGHBOUR_MAX_KM", "link_km", "make_link", "membership_links",
           "neighbour_links", "pair_key"]

"""A starting region for any county or district of the official township list (``mednet init``).

The county-level hospital is a placeholder at the county seat; each
township gets one primary-care centre at its seat (乡镇卫生院 for towns and
townships, 社区卫生服务中心 for streets), named after the township; nearby
institutions are joined by neighbour links. No communities yet: the planner
adds them. Every such fact is inferred and says why.

    >>> region = init_county("龙游县", region_id="longyou")
    >>> len(region.institutions), region.institutions[3].name, region.communities
    (16, '湖镇镇卫生院', ())
"""

from __future__ import annotations

from mednet.importing.links import neighbour_links
from mednet.importing.points import seat_point
from mednet.importing.rows import PLACES_SOURCE
from mednet.models import CoveredCounty, Institution, Location, Region, Source, Tier
from mednet.places import ADCODE_SOURCE, county_townships, find_county, is_street

INIT_RULE = "mednet-init"
ROAD_FACTOR = 1.3


def init_source() -> Source:
    return Source(
        title="Starting region made by mednet init", publisher="mednet",
        note=("One county-level hospital as a placeholder at the county seat; one primary-care centre per official "
              "township (2016 list) at the township's seat: 乡镇卫生院 for towns and townships, 社区卫生服务中心 for "
              "streets, named after the township (the real name may differ). Townships without a point in the places "
              "table put their centre at the county seat. Neighbour links: each institution to its 4 nearest others "
              f"within 30 km, great-circle km x road factor {ROAD_FACTOR:g}, floored at 1 km. Replace what you know "
              "better, and say where it comes from."))


def init_county(county: str, *, region_id: str | None = None) -> Region:
    """The starting region of a county (name, ``衢州市龙游县`` or 6-digit code)."""
    seat = find_county(county)
    lat, lon, where = seat_point(seat)
    hospital = Institution(
        id=f"c{seat.county_code}-hospital", name=f"{seat.name}县级医院（占位）", tier=Tier.COUNTY_HOSPITAL,
        county=seat.name, lat=lat, lon=lon,
        location=Location(kind="county_seat" if seat.lat is not None else "proxy", source=PLACES_SOURCE,
                          inferred=True, note=f"placed at {where}, not the building"),
        source=INIT_RULE, inferred=True,
        note="placeholder: a county has at least one county-level hospital; give its real name, point and departments")
    institutions = [hospital]
    for town in county_townships(seat.name, code=seat.county_code):
        street = is_street(town.name)
        if town.lat is not None:
            point = (town.lat, town.lon, Location(kind="town_seat", source=PLACES_SOURCE, inferred=True,
                                                  note=f"seat of {town.name} (places table row {town.code}), not the "
                                                       "building"))
        else:
            point = (lat, lon, Location(kind="proxy", source=PLACES_SOURCE, inferred=True,
                                        note=f"{town.name} has no point in the places table: placed at {where}"))
        name = f"{town.name.removesuffix('办事处')}社区卫生服务中心" if street else f"{town.name}卫生院"
        institutions.append(Institution(
            id=f"t{town.code}", name=name, tier=Tier.COMMUNITY_CENTRE if street else Tier.TOWNSHIP_CENTRE,
            county=seat.name, township=town.name, lat=point[0], lon=point[1], location=point[2], source=INIT_RULE,
            inferred=True, note=(f"one {'社区卫生服务中心' if street else '乡镇卫生院'} per official township, named "
                                 "after it: the real name may differ")))
    links = neighbour_links(institutions, [], road_factor=ROAD_FACTOR, source=INIT_RULE, great_circle=True)
    return Region(
        id=region_id or f"county-{seat.county_code}", name=f"{seat.province}{seat.city}{seat.name}",
        description=f"Starting region for {seat.name} made by mednet init: placeholders to edit, no communities yet.",
        road_factor=ROAD_FACTOR, sources={INIT_RULE: init_source(), PLACES_SOURCE: ADCODE_SOURCE},
        covered_counties=(CoveredCounty(name=seat.name, code=seat.county_code, source=PLACES_SOURCE),),
        institutions=tuple(institutions), links=tuple(links))


__all__ = ["INIT_RULE", "init_county"]

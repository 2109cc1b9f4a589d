"""A region drawn from its own data, as SVG geometry: institutions by tier, links, communities.

No tiles and nothing fetched: every point comes from the region file. The
projection is equirectangular around the region's middle latitude (a few
hundred km across, the distortion is under 1 %), north up, in a fixed-width
view box; the page's script reads the same numbers back (``data-*`` on the
``<svg>``) to turn a click into a point.

    >>> from mednet.regions import load_region
    >>> drawn = draw_region(load_region("quzhou"))
    >>> drawn.width, len(drawn.nodes) == 67, len(drawn.hulls) == 6
    (800, True, True)
    >>> x, y = drawn.xy(lat=drawn.lat_max, lon=drawn.lon_min)
    >>> (x, y) == (drawn.pad, drawn.pad)
    True
    >>> lat, lon = drawn.lat_lon(x=x, y=y)
    >>> (round(lat, 6), round(lon, 6)) == (round(drawn.lat_max, 6), round(drawn.lon_min, 6))
    True

County outlines are not drawn: the region files hold no boundaries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mednet.models import Region, Role, Tier

#: Tiers drawn (and named on the map) as hospitals; the others are small dots.
LABELLED_TIERS = frozenset({Tier.CITY_HOSPITAL, Tier.COUNTY_HOSPITAL})
#: Colours cycle through this many community classes (``com-0`` … in the stylesheet).
COMMUNITY_COLOURS = 8


@dataclass(frozen=True)
class MapNode:
    id: str
    name: str
    tier: Tier
    x: float
    y: float
    community: int | None  # index of its community (lead or branch), for the colour class
    labelled: bool


@dataclass(frozen=True)
class MapLink:
    a: str
    b: str
    kind: str
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class MapHull:
    name: str
    index: int
    points: str  # SVG polygon points


@dataclass(frozen=True)
class RegionDrawing:
    """A region in view-box coordinates, with the projection that put it there."""

    width: int
    height: int
    pad: float
    lat_max: float
    lon_min: float
    kx: float  # view-box units per degree of longitude
    ky: float  # view-box units per degree of latitude
    nodes: tuple[MapNode, ...]
    links: tuple[MapLink, ...]
    hulls: tuple[MapHull, ...]

    def xy(self, *, lat: float, lon: float) -> tuple[float, float]:
        """View-box coordinates of a point."""
        return round(self.pad + (lon - self.lon_min) * self.kx, 1), round(self.pad + (self.lat_max - lat) * self.ky, 1)

    def lat_lon(self, *, x: float, y: float) -> tuple[float, float]:
        """The point at view-box coordinates (the inverse of :meth:`xy`)."""
        return self.lat_max - (y - self.pad) / self.ky, self.lon_min + (x - self.pad) / self.kx

    def node(self, institution: str) -> MapNode | None:
        return next((n for n in self.nodes if n.id == institution), None)


def draw_region(region: Region, *, width: int = 800, pad: float = 24.0) -> RegionDrawing:
    """Project a region's institutions, links and communities into a ``width``-wide view box."""
    insts = region.institutions
    lats = [i.lat for i in insts]
    lons = [i.lon for i in insts]
    lat_min, lat_max, lon_min, lon_max = min(lats), max(lats), min(lons), max(lons)
    span_lat = max(lat_max - lat_min, 0.01)
    span_lon = max(lon_max - lon_min, 0.01)
    squash = math.cos(math.radians((lat_min + lat_max) / 2))  # a degree of longitude is shorter
    kx = (width - 2 * pad) / span_lon
    ky = kx / squash
    height = round(2 * pad + span_lat * ky)
    if height > width * 1.25:  # a tall region: fit the height instead
        ky = (width * 1.25 - 2 * pad) / span_lat
        kx = ky * squash
        height = round(2 * pad + span_lat * ky)
    drawing = RegionDrawing(width=width, height=height, pad=pad, lat_max=lat_max, lon_min=lon_min, kx=kx, ky=ky,
                            nodes=(), links=(), hulls=())
    home = {m.institution: k for k, c in enumerate(region.communities) for m in c.members
            if m.role in (Role.LEAD, Role.BRANCH)}
    labels = _label_spots(drawing, [i for i in insts if i.tier in LABELLED_TIERS])
    nodes = tuple(
        MapNode(id=i.id, name=i.name, tier=i.tier, community=home.get(i.id), labelled=i.id in labels,
                **dict(zip(("x", "y"), drawing.xy(lat=i.lat, lon=i.lon), strict=True)))
        for i in insts
    )
    where = {n.id: n for n in nodes}
    links = tuple(
        MapLink(a=ln.a, b=ln.b, kind=str(ln.kind), x1=where[ln.a].x, y1=where[ln.a].y, x2=where[ln.b].x,
                y2=where[ln.b].y)
        for ln in region.links if ln.a in where and ln.b in where
    )
    hulls = []
    for k, com in enumerate(region.communities):
        members = [(where[m.institution].x, where[m.institution].y) for m in com.members
                   if m.role in (Role.LEAD, Role.BRANCH) and m.institution in where]
        ring = convex_hull(members)
        if len(ring) >= 3:
            hulls.append(MapHull(name=com.name, index=k % COMMUNITY_COLOURS,
                                 points=" ".join(f"{x},{y}" for x, y in ring)))
    return RegionDrawing(width=width, height=height, pad=pad, lat_max=lat_max, lon_min=lon_min, kx=kx, ky=ky,
                         nodes=nodes, links=links, hulls=tuple(hulls))


def _label_spots(drawing: RegionDrawing, insts: list, *, gap: float = 16.0) -> set[str]:
    """The institutions named on the map: higher tiers first, none within ``gap`` units of one already named
    (hospitals placed at the same county seat would write over each other)."""
    named: list[tuple[float, float]] = []
    chosen = set()
    for inst in sorted(insts, key=lambda i: -i.tier.rank):
        x, y = drawing.xy(lat=inst.lat, lon=inst.lon)
        if all(abs(x - a) > gap * 4 or abs(y - b) > gap for a, b in named):
            named.append((x, y))
            chosen.add(inst.id)
    return chosen


def convex_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The convex hull of points, counter-clockwise (Andrew's monotone chain); fewer than 3 points as given.

    >>> convex_hull([(0, 0), (2, 0), (1, 1), (2, 2), (0, 2)])
    [(0, 0), (2, 0), (2, 2), (0, 2)]
    """
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    upper: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]

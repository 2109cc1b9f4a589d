"""A synthetic referral network with the real size and geography of China.

For benchmarks and tests only: the points are real, everything else is
generated, and the graph says so (``G.graph["synthetic"] is True``, every
node has ``synthetic=True`` and an ``inferred`` location). Never present it
as real data.

Points come from the bundled national places table
(``data/places/cn_admin_places.csv``), derived from the `adcode` data set by
Vonng (GitHub ``Vonng/adcode``), licence CC BY 4.0. On those points:

- one primary-care centre per located township (a township health centre
  卫生院, or a community health centre 社区卫生服务中心 for a street 街道);
- ``community_centres`` more community health centres, spread over the
  located streets (the country has about as many community centres and
  stations as township centres; the places table has one point per street),
  each placed at a seeded random point within 2 km of its street;
- one county hospital per county seat (at the centroid of its townships,
  marked as a proxy, where the seat has no point);
- one city hospital per located city seat;
- one county community (医共体) per county: lead = its county hospital,
  branches = its primary-care centres;
- links: ``branch_lead`` (each centre to its county hospital), ``lead_city``
  (each county hospital to its city's hospital, or the nearest city hospital
  of its province where the city has no seat point), and ``neighbour`` road
  links from :func:`mednet.geo.neighbour_pairs` (``k`` nearest within
  ``neighbour_km``); components left apart are joined through their nearest
  nodes. Distances are great-circle km (vectorised haversine) times the road
  factor, with a floor of 1 km;
- capabilities drawn from ``seed`` over the first ``n_specialties`` codes of
  the vocabulary: primary care always general practice, each other specialty
  with probability 5 %; county hospitals each with probability 85 %; city
  hospitals all. All permanent (no scheduled sessions).

A province-sized network builds in well under a second::

    >>> G = build_national_network(provinces=["浙江省"])
    >>> G.graph["synthetic"], G.graph["region"]
    (True, 'national')
    >>> import networkx as nx
    >>> nx.is_connected(G)
    True
    >>> from mednet.network import resolve_institution
    >>> G.nodes[resolve_institution(G, "开化县人民医院")]["tier"]
    <Tier.COUNTY_HOSPITAL: 'county_hospital'>
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx
import numpy as np
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from mednet.errors import InvalidRequest
from mednet.geo import EARTH_RADIUS_KM, haversine_km, neighbour_pairs
from mednet.models import Capability, Community, LinkKind, Location, Role, Tier
from mednet.network import CRS
from mednet.places import Place, all_places
from mednet.specialties import SPECIALTY_CODES

SOURCE = "synthetic"
ROAD_FACTOR = 1.3
SPEED_KMH = 40.0
DISTANCE_FLOOR_KM = 1.0
STREET_SUFFIXES = ("街道", "街道办事处", "办事处")

_TOWN_SEAT = Location(kind="town_seat", source=SOURCE, inferred=True, note="synthetic: the township's seat")
_STREET_POINT = Location(kind="proxy", source=SOURCE, inferred=True, note="synthetic: random point near the street")
_COUNTY_SEAT = Location(kind="county_seat", source=SOURCE, inferred=True, note="synthetic: the county's seat")
_CENTROID = Location(kind="proxy", source=SOURCE, inferred=True, note="synthetic: centroid of the county's townships")
_CITY_SEAT = Location(kind="proxy", source=SOURCE, inferred=True, note="synthetic: the city's seat")


def build_national_network(
    *,
    seed: int = 0,
    n_specialties: int = 30,
    community_centres: int = 35_000,
    provinces: Iterable[str] | None = None,
    neighbours: int = 4,
    neighbour_km: float = 50.0,
) -> nx.Graph:
    """The synthetic national network (about 73,500 institutions with the defaults).

    ``provinces`` keeps only those provinces (full names, e.g. ``"浙江省"``),
    with ``community_centres`` scaled to their share of streets.
    """
    if not 1 <= n_specialties <= len(SPECIALTY_CODES):
        raise InvalidRequest("n_specialties", n_specialties, f"must be within [1, {len(SPECIALTY_CODES)}]")
    if community_centres < 0:
        raise InvalidRequest("community_centres", community_centres, "must be >= 0")
    rng = np.random.default_rng(seed)
    places = all_places()
    if provinces is not None:
        wanted = set(provinces)
        known = {p.province for p in places}
        if not wanted <= known:
            bad = sorted(wanted - known)[0]
            raise InvalidRequest("provinces", bad, f"must be province names of the places table, e.g. {'浙江省'!r}")
        n_streets_all = sum(1 for p in places if _is_located_street(p))
        places = tuple(p for p in places if p.province in wanted)
        n_streets = sum(1 for p in places if _is_located_street(p))
        community_centres = round(community_centres * n_streets / max(n_streets_all, 1))
    nodes = _Nodes()

    # Primary care: one centre per located township, plus the extra community centres.
    towns = [p for p in places if p.level == "township" and p.lat is not None]
    seats = {p.county_code: p for p in places if p.level == "county"}
    town_county: list[str] = []
    for p in towns:
        street = _is_located_street(p)
        short = _short_street(p.name)
        nodes.add(
            f"t{p.code}", f"{short}社区卫生服务中心" if street else f"{p.name}卫生院",
            Tier.COMMUNITY_CENTRE if street else Tier.TOWNSHIP_CENTRE, p, *p.point, _TOWN_SEAT, township=p.name,
            group=(p.county_code, 2, p.code),
        )
        town_county.append(p.county_code)
    streets = [i for i, p in enumerate(towns) if _is_located_street(p)]
    if streets and community_centres:
        per_street = np.full(len(streets), community_centres // len(streets))
        per_street[rng.choice(len(streets), community_centres % len(streets), replace=False)] += 1
        owners = np.repeat(np.asarray(streets), per_street)
        bearing = rng.uniform(0, 2 * np.pi, len(owners))
        reach_km = 2.0 * np.sqrt(rng.uniform(0, 1, len(owners)))
        lat0 = np.array([towns[i].lat for i in owners])
        lon0 = np.array([towns[i].lon for i in owners])
        lat = lat0 + np.degrees(reach_km * np.cos(bearing) / EARTH_RADIUS_KM)
        lon = lon0 + np.degrees(reach_km * np.sin(bearing) / EARTH_RADIUS_KM) / np.cos(np.radians(lat0))
        number: dict[int, int] = {}
        for i, la, lo in zip(owners.tolist(), lat.tolist(), lon.tolist(), strict=True):
            number[i] = k = number.get(i, 1) + 1
            p = towns[i]
            nodes.add(f"t{p.code}-{k}", f"{_short_street(p.name)}第{k}社区卫生服务中心", Tier.COMMUNITY_CENTRE, p,
                      la, lo, _STREET_POINT, township=p.name, group=(p.county_code, 2, p.code, k))
            town_county.append(p.county_code)

    # County hospitals at county seats (the townships' centroid where the seat has no point).
    by_county: dict[str, list[int]] = {}
    for i, code in enumerate(town_county):
        by_county.setdefault(code, []).append(i)
    county_hospital: dict[str, int] = {}
    for code, seat in seats.items():
        members = by_county.get(code, [])
        if seat.lat is not None:
            (lat_, lon_), where = seat.point, _COUNTY_SEAT
        elif members:
            (lat_, lon_), where = _centroid(nodes, members), _CENTROID
        else:
            continue
        county_hospital[code] = len(nodes.ids)
        nodes.add(f"h{code}", f"{seat.name}人民医院", Tier.COUNTY_HOSPITAL, seat, lat_, lon_, where, group=(code, 1))

    # City hospitals at located city seats.
    city_hospital: dict[str, int] = {}
    for p in places:
        if p.level == "city" and p.lat is not None:
            city = p.province if p.name in ("市辖区", "县") else p.name
            name = f"{city}人民医院" if p.name != "县" else f"{city}第二人民医院"
            city_hospital[p.county_code] = len(nodes.ids)
            nodes.add(f"c{p.county_code}", name, Tier.CITY_HOSPITAL, p, *p.point, _CITY_SEAT,
                      group=(p.county_code, 0))

    # Order nodes by county (a county's hospital, then its centres; a city's hospital before its counties):
    # neighbours in the graph are then near in memory, which the routing search feels.
    new_index = nodes.reorder()
    county_hospital = {code: int(new_index[h]) for code, h in county_hospital.items()}
    city_hospital = {code: int(new_index[c]) for code, c in city_hospital.items()}
    by_county = {code: sorted(int(new_index[x]) for x in members) for code, members in by_county.items()}
    lat, lon = np.asarray(nodes.lat), np.asarray(nodes.lon)
    n = len(nodes.ids)
    edges: dict[tuple[int, int], LinkKind] = {}

    i, j, _ = neighbour_pairs(lat, lon, k=neighbours, max_km=neighbour_km)
    edges.update(dict.fromkeys(zip(i.tolist(), j.tolist(), strict=True), LinkKind.NEIGHBOUR))
    for code, branches in by_county.items():
        lead = county_hospital.get(code)
        if lead is not None:
            edges.update(((min(b, lead), max(b, lead)), LinkKind.BRANCH_LEAD) for b in branches)
    province_cities: dict[str, list[int]] = {}
    for code, c in city_hospital.items():
        province_cities.setdefault(code[:2], []).append(c)
    for code, h in county_hospital.items():
        own_city = city_hospital.get(code[:4] + "00")
        if own_city is None:
            pool = province_cities.get(code[:2]) or list(city_hospital.values())
            if not pool:
                continue
            own_city = pool[int(np.argmin(haversine_km(lat[h], lon[h], lat[pool], lon[pool])))]
        if own_city != h:
            edges[(min(h, own_city), max(h, own_city))] = LinkKind.LEAD_CITY
    edges.update(dict.fromkeys(_joining_pairs(lat, lon, edges, n), LinkKind.NEIGHBOUR))

    a = np.fromiter((e[0] for e in edges), dtype=np.int64, count=len(edges))
    b = np.fromiter((e[1] for e in edges), dtype=np.int64, count=len(edges))
    km = np.maximum(haversine_km(lat[a], lon[a], lat[b], lon[b]) * ROAD_FACTOR, DISTANCE_FLOOR_KM).round(3)

    # Communities: one per county with a hospital.
    communities: dict[str, Community] = {}
    roles: list[dict[str, Role]] = [{} for _ in range(n)]
    for code, h in county_hospital.items():
        com_id = f"com{code}"
        branches = by_county.get(code, [])
        roster = [{"institution": nodes.ids[h], "role": "lead", "source": SOURCE, "inferred": True}]
        roster += [{"institution": nodes.ids[x], "role": "branch", "source": SOURCE, "inferred": True}
                    for x in branches]
        communities[com_id] = Community.model_validate({
            "id": com_id, "name": f"{nodes.names[h]}医共体", "kind": "county",
            "counties": (seats[code].name,), "members": roster, "source": SOURCE,
            "note": "synthetic: the county hospital and the county's primary-care centres",
        })
        roles[h][com_id] = Role.LEAD
        for x in branches:
            roles[x][com_id] = Role.BRANCH

    capabilities = _capability_dicts(rng, nodes.tiers, n_specialties)
    G = nx.Graph(
        region="national", name="China (synthetic national network)", crs=CRS, road_factor=ROAD_FACTOR,
        speed_kmh=SPEED_KMH, booking_days=7, synthetic=True, communities=communities,
        source="synthetic on real points: data/places/cn_admin_places.csv (Vonng/adcode, CC BY 4.0)",
    )
    G.add_nodes_from(
        (nodes.ids[x], {
            "name": nodes.names[x], "aliases": (), "tier": nodes.tiers[x], "county": nodes.counties[x],
            "township": nodes.townships[x], "lat": nodes.lat[x], "lon": nodes.lon[x], "location": nodes.where[x],
            "capabilities": capabilities[x], "population": None, "communities": roles[x], "inferred": True,
            "synthetic": True,
        })
        for x in range(n)
    )
    # Bulk insertion into the adjacency (what add_edges_from does, without its per-edge checks: 3x faster here).
    adj = G._adj
    for p, q, kind, d in zip(a.tolist(), b.tolist(), edges.values(), km.tolist(), strict=True):
        data = {"kind": kind, "distance_km": d, "minutes": None, "distance_basis": "geodesic_x_road_factor",
                "inferred": True}
        adj[nodes.ids[p]][nodes.ids[q]] = adj[nodes.ids[q]][nodes.ids[p]] = data
    nx._clear_cache(G)
    G.graph["names"] = _name_index(nodes.ids, nodes.names)
    return G


class _Nodes:
    """Columns of the institutions being generated."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.names: list[str] = []
        self.tiers: list[Tier] = []
        self.counties: list[str] = []
        self.townships: list[str | None] = []
        self.lat: list[float] = []
        self.lon: list[float] = []
        self.where: list[Location] = []
        self.group: list[tuple] = []

    def add(self, id: str, name: str, tier: Tier, place: Place, lat: float, lon: float, where: Location,
            *, township: str | None = None, group: tuple) -> None:
        self.ids.append(id)
        self.names.append(name)
        self.tiers.append(tier)
        self.counties.append(place.county or place.city or place.province)
        self.townships.append(township)
        self.lat.append(lat)
        self.lon.append(lon)
        self.where.append(where)
        self.group.append(group)

    def reorder(self) -> np.ndarray:
        """Sort the columns by ``group``; returns the new position of each old one."""
        order = sorted(range(len(self.ids)), key=self.group.__getitem__)
        for column in ("ids", "names", "tiers", "counties", "townships", "lat", "lon", "where", "group"):
            values = getattr(self, column)
            setattr(self, column, [values[i] for i in order])
        new_index = np.empty(len(order), dtype=np.int64)
        new_index[order] = np.arange(len(order))
        return new_index


def _is_located_street(p: Place) -> bool:
    return p.level == "township" and p.lat is not None and p.name.endswith(STREET_SUFFIXES)


def _short_street(name: str) -> str:
    return name.removesuffix("办事处") if name.endswith("街道办事处") else name


def _centroid(nodes: _Nodes, members: list[int]) -> tuple[float, float]:
    return (float(np.mean([nodes.lat[i] for i in members])), float(np.mean([nodes.lon[i] for i in members])))


def _joining_pairs(lat: np.ndarray, lon: np.ndarray, edges: dict, n: int) -> list[tuple[int, int]]:
    """Links joining every component to the largest one, each through its nearest pair of nodes."""
    a = np.fromiter((e[0] for e in edges), dtype=np.int64, count=len(edges))
    b = np.fromiter((e[1] for e in edges), dtype=np.int64, count=len(edges))
    graph = coo_array((np.ones(len(a)), (a, b)), shape=(n, n)).tocsr()
    count, label = connected_components(graph, directed=False)
    if count <= 1:
        return []
    main = np.bincount(label).argmax()
    inside = np.flatnonzero(label == main)
    xyz = np.column_stack((np.cos(np.radians(lat)) * np.cos(np.radians(lon)),
                           np.cos(np.radians(lat)) * np.sin(np.radians(lon)), np.sin(np.radians(lat))))
    chord, nearest = cKDTree(xyz[inside]).query(xyz)
    pairs = []
    for c in range(count):
        if c == main:
            continue
        members = np.flatnonzero(label == c)
        best = members[np.argmin(chord[members])]
        other = int(inside[nearest[best]])
        pairs.append((min(int(best), other), max(int(best), other)))
    return pairs


def _capability_dicts(rng: np.random.Generator, tiers: list[Tier], n_specialties: int) -> list[dict[str, Capability]]:
    codes = SPECIALTY_CODES[:n_specialties]
    shared = {code: Capability(specialty=code, source=SOURCE, inferred=True, note="synthetic") for code in codes}
    rank = np.array([t.rank for t in tiers])
    chance = np.where(rank >= 3, 1.0, np.where(rank == 2, 0.85, 0.05))
    has = rng.random((len(tiers), len(codes))) < chance[:, None]
    if "general_practice" in codes:
        has[:, codes.index("general_practice")] |= rank == 1
    rows, cols = np.nonzero(has)
    out: list[dict[str, Capability]] = [{} for _ in tiers]
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        out[r][codes[c]] = shared[codes[c]]
    return out


def _name_index(ids: list[str], names: list[str]) -> dict[str, tuple[str, ...]]:
    """As :func:`mednet.network.name_index`: ids (already lower case) and case-folded names → ids."""
    index: dict[str, tuple[str, ...]] = {id_: (id_,) for id_ in ids}
    for id_, name in zip(ids, names, strict=True):
        key = name.casefold()
        index[key] = (*index.get(key, ()), id_)
    return index


__all__ = ["build_national_network"]

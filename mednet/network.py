"""The referral network: a networkx graph, and its compiled array form.

``build_network`` turns a region into an undirected :class:`networkx.Graph`
(nodes: institution ids with their attributes; edges: links weighted by
``distance_km``). ``compile_network`` turns that graph into compact arrays
(scipy CSR matrix, capability matrix, community tables) for bulk work.

    >>> from mednet.regions import load_region
    >>> G = build_network(load_region("quzhou"))
    >>> G.graph["region"], G.graph["crs"]
    ('quzhou', 'EPSG:4326')
    >>> resolve_institution(G, "华埠")
    'kh-huabu'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from scipy.sparse import csr_array

from mednet.errors import InvalidRequest, UnknownCommunity, UnknownInstitution
from mednet.models import Community, Institution, Region, Role, Tier
from mednet.places import township_short_names
from mednet.specialties import SPECIALTY_CODES

CRS = "EPSG:4326"


def build_network(region: Region) -> nx.Graph:
    """The region as a graph; ``G.graph`` holds the region id, CRS and travel assumptions, and the region itself."""
    G = nx.Graph(
        region=region.id, name=region.name, crs=CRS, road_factor=region.road_factor,
        speed_kmh=region.speed_kmh, booking_days=region.booking_days, synthetic=region.synthetic,
    )
    roles: dict[str, dict[str, Role]] = {}
    for com in region.communities:
        for m in com.members:
            roles.setdefault(m.institution, {})[com.id] = m.role
    for inst in region.institutions:
        G.add_node(
            inst.id, name=inst.name, aliases=inst.aliases, tier=inst.tier, county=inst.county,
            township=inst.township, lat=inst.lat, lon=inst.lon, location=inst.location,
            capabilities={c.specialty: c for c in inst.capabilities}, population=inst.population,
            communities=roles.get(inst.id, {}), inferred=inst.inferred, contact=inst.contact,
        )
    for link in region.links:
        if link.a not in G or link.b not in G:
            continue  # reported by validate_membership (unknown-id); routing ignores it
        old = G.get_edge_data(link.a, link.b)
        if old is None or link.distance_km < old["distance_km"]:
            G.add_edge(
                link.a, link.b, kind=link.kind, distance_km=link.distance_km, minutes=link.minutes,
                distance_basis=link.distance_basis, inferred=link.inferred,
            )
    G.graph["communities"] = {c.id: c for c in region.communities}
    G.graph["names"] = name_index(region)
    G.graph["region_data"] = region  # for the travel layer's default model (mednet.travel.load_travel)
    return G


def name_index(region: Region | Iterable[Institution]) -> dict[str, tuple[str, ...]]:
    """Every id, name and alias (case-folded) → the institution ids it denotes (a region's, or any institutions').

    A township or community centre is also known by its township's names
    (``湖镇镇``, ``湖镇`` for the centre of 湖镇镇) where no id, name or alias
    already means something else.
    """
    institutions = region.institutions if isinstance(region, Region) else tuple(region)
    index: dict[str, list[str]] = {}
    for inst in institutions:
        for key in dict.fromkeys((inst.id, inst.name, *inst.aliases)):
            index.setdefault(key.strip().casefold(), []).append(inst.id)
    derived: dict[str, list[str]] = {}
    for inst in institutions:
        if inst.tier.is_primary_care and inst.township:
            for key in township_short_names(inst.township):
                if key.casefold() not in index:
                    derived.setdefault(key.casefold(), []).append(inst.id)
    index.update(derived)
    return {k: tuple(dict.fromkeys(v)) for k, v in index.items()}


def resolve_institution(G: nx.Graph, name: str, *, field: str = "institution") -> str:
    """The id of the institution an id, name or alias denotes.

    Raises :class:`UnknownInstitution` (with the closest names) or
    :class:`InvalidRequest` when the name is ambiguous; either names the
    request ``field`` that held the name.
    """
    names: dict[str, tuple[str, ...]] = G.graph["names"]
    ids = names.get(str(name).strip().casefold())
    if not ids:
        known = [G.nodes[n]["name"] for n in G] + [a for n in G for a in G.nodes[n]["aliases"]] + list(G)
        raise UnknownInstitution(str(name), known=known, where=f"region {G.graph['region']!r}", field=field)
    if len(ids) > 1:
        choices = ", ".join(f"{i} ({G.nodes[i]['name']})" for i in ids)
        raise InvalidRequest("institution", name, f"is ambiguous: it names {choices}; give an id", field=field,
                             code="ambiguous")
    return ids[0]


def resolve_community(G: nx.Graph, name: str, *, field: str = "community") -> Community:
    """A community by id or name; an unknown one fails naming the request ``field`` that held it."""
    communities: dict[str, Community] = G.graph["communities"]
    key = str(name).strip()
    for com in communities.values():
        if key in (com.id, com.name):
            return com
    known = [c.id for c in communities.values()] + [c.name for c in communities.values()]
    raise UnknownCommunity(key, known=known, where=f"region {G.graph['region']!r}", field=field)


def home_community(G: nx.Graph, node: str) -> str | None:
    """The community an institution belongs to as lead or branch, if any."""
    for com_id, role in G.nodes[node]["communities"].items():
        if role in (Role.LEAD, Role.BRANCH):
            return com_id
    return None


@dataclass(frozen=True, eq=False)
class CompiledNetwork:
    """Array form of a network for bulk and repeated queries (read-only).

    Row ``i`` of every array is institution ``ids[i]``. ``capable[i, s]`` is
    True when institution ``i`` offers ``specialties[s]`` permanently;
    ``in_session[i, s]`` when it offers it in scheduled sessions only.
    ``home[i]`` is the index of the community ``i`` belongs to as lead or
    branch (-1: none); ``community_lead[c]`` the lead of community ``c``.
    ``population[i]`` is the population the region gives for institution
    ``i`` (NaN: none given).
    """

    G: nx.Graph = field(repr=False)
    ids: tuple[str, ...]
    index: dict[str, int] = field(repr=False)
    csr: csr_array = field(repr=False)
    lat: np.ndarray = field(repr=False)
    lon: np.ndarray = field(repr=False)
    tier_rank: np.ndarray = field(repr=False)
    primary_care: np.ndarray = field(repr=False)
    specialties: tuple[str, ...] = field(repr=False)
    capable: np.ndarray = field(repr=False)
    in_session: np.ndarray = field(repr=False)
    community_ids: tuple[str, ...] = field(repr=False)
    community_lead: np.ndarray = field(repr=False)
    home: np.ndarray = field(repr=False)
    population: np.ndarray = field(repr=False)

    @property
    def region(self) -> str:
        return self.G.graph["region"]

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def speed_kmh(self) -> float:
        """The region's assumed average speed (km/h) for time estimates (the region file's, else its default).

        >>> import mednet
        >>> compile_network(mednet.build_network(mednet.load_region("quzhou"))).speed_kmh
        40.0
        """
        return float(self.G.graph.get("speed_kmh", Region.model_fields["speed_kmh"].default))

    @property
    def road_factor(self) -> float:
        """Road km per geodesic km where no road distance is known (the region file's, else its default)."""
        return float(self.G.graph.get("road_factor", Region.model_fields["road_factor"].default))

    def column(self, specialty: str) -> int:
        """Capability column of a specialty code."""
        try:
            return self.specialties.index(specialty)
        except ValueError as err:
            raise InvalidRequest("specialty", specialty, "is not a compiled specialty code") from err

    def nodes(self, names: Iterable[str]) -> np.ndarray:
        """Row indices of institutions given by id, name or alias."""
        return np.fromiter((self.index[resolve_institution(self.G, n)] for n in names), dtype=np.int64)


def compile_network(G: nx.Graph, *, specialties: Iterable[str] = SPECIALTY_CODES) -> CompiledNetwork:
    """Compile the graph once into arrays; O(nodes + edges)."""
    ids = tuple(G.nodes)
    index = {node: i for i, node in enumerate(ids)}
    n = len(ids)
    specialties = tuple(specialties)
    column = {code: s for s, code in enumerate(specialties)}

    rows, cols, weights = [], [], []
    for a, b, km in G.edges(data="distance_km"):
        rows.append(index[a])
        cols.append(index[b])
        weights.append(km)
    r, c, w = np.array(rows, dtype=np.int32), np.array(cols, dtype=np.int32), np.array(weights, dtype=float)
    csr = csr_array((np.concatenate((w, w)), (np.concatenate((r, c)), np.concatenate((c, r)))), shape=(n, n))
    csr.sum_duplicates()

    attrs = G.nodes
    lat = np.fromiter((attrs[i]["lat"] for i in ids), dtype=float, count=n)
    lon = np.fromiter((attrs[i]["lon"] for i in ids), dtype=float, count=n)
    tiers = [Tier(attrs[i]["tier"]) for i in ids]
    tier_rank = np.fromiter((t.rank for t in tiers), dtype=np.int8, count=n)
    primary_care = np.fromiter((t.is_primary_care for t in tiers), dtype=bool, count=n)
    population = np.array([attrs[i].get("population") for i in ids], dtype=float)  # None → NaN
    capable = np.zeros((n, len(specialties)), dtype=bool)
    in_session = np.zeros((n, len(specialties)), dtype=bool)
    for i, node in enumerate(ids):
        for code, cap in attrs[node]["capabilities"].items():
            s = column.get(code)
            if s is not None:
                (capable if cap.permanent else in_session)[i, s] = True

    communities: dict[str, Community] = G.graph.get("communities", {})
    community_ids = tuple(communities)
    community_lead = np.array(
        [index.get(com.lead, -1) if com.lead else -1 for com in communities.values()], dtype=np.int64
    )
    home = np.full(n, -1, dtype=np.int64)
    for position, com in enumerate(communities.values()):
        for m in com.members:
            if m.role in (Role.LEAD, Role.BRANCH) and m.institution in index:
                home[index[m.institution]] = position
    return CompiledNetwork(
        G=G, ids=ids, index=index, csr=csr, lat=lat, lon=lon, tier_rank=tier_rank,
        primary_care=primary_care, specialties=specialties, capable=capable, in_session=in_session,
        community_ids=community_ids, community_lead=community_lead, home=home, population=population,
    )

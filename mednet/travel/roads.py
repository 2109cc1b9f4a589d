"""Road import: snap institutions to an OSM road network and compute their road km and minutes.

``import_roads(region, extract)`` reads the drivable roads of the extract
(:mod:`mednet.travel.osm`), snaps every institution to the nearest point of
a drivable road (the snap distance is reported; more than ``far_km`` is
flagged), splits the road there, and runs scipy's csgraph Dijkstra from
each institution on the directed road graph twice: by km (the shortest
road) and by minutes (the fastest, with one-way roads respected). A pair's
figures add the access legs from each institution's point to its snap, at
the speed of the ``service`` class. An institution joins the largest
strongly connected piece of the network where that is within ``far_km``, else the
nearest road of any piece (an island keeps its own roads). A pair with no road path is recorded as
unreachable.

Speeds: a way's ``maxspeed`` (per direction where tagged) × the model's
``maxspeed_share``; else the speed table's row for the way's class in the
terrain of the county of the institution nearest the segment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from mednet.errors import InvalidRequest, TravelDataError
from mednet.geo import EARTH_RADIUS_KM, SpatialIndex, haversine_km
from mednet.models import Region, Source
from mednet.travel.defaults import ACCESS_CLASS, DefaultModel, default_model
from mednet.travel.model import ROAD_CLASSES, TERRAINS, RoadTable, Snap, TravelFile, TravelPair, replace_travel
from mednet.travel.osm import RoadSegments, extract_date, read_roads

FAR_KM = 2.0
SAMPLE_KM = 0.1  # spacing of the sample points that find snap candidates
ZERO_COST = 1e-9  # csgraph reads an explicit 0 as "no arc"
OSM_LICENCE = "ODbL 1.0 (© OpenStreetMap contributors)"


@dataclass(frozen=True, eq=False)
class Snaps:
    """Where each point joins the roads: segment row, fraction along it (from ``u``), point and km."""

    segment: np.ndarray
    t: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    km: np.ndarray


@dataclass(frozen=True, eq=False)
class RoadGraph:
    """The directed road graph with one extra node per institution (``sources[i]``), as arcs."""

    n_nodes: int
    tail: np.ndarray
    head: np.ndarray
    km: np.ndarray
    minutes: np.ndarray
    sources: np.ndarray

    def matrix(self, weight: str) -> csr_array:
        """CSR matrix of one weight (``km`` or ``minutes``), the lowest of parallel arcs."""
        w = np.maximum(getattr(self, weight), ZERO_COST)
        order = np.lexsort((w, self.head, self.tail))
        tail, head, w = self.tail[order], self.head[order], w[order]
        first = np.ones(len(tail), dtype=bool)
        first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
        return coo_array((w[first], (tail[first], head[first])), shape=(self.n_nodes, self.n_nodes)).tocsr()


@dataclass(frozen=True, eq=False)
class RoadImport:
    """What a road import made: the new travel file, its road table, and what it ran on.

    ``minutes_forward``/``minutes_backward``: minutes along each segment of
    ``segments`` by the speed rules, before the split at the snaps.
    """

    region: Region
    travel: TravelFile
    table: RoadTable
    segments: RoadSegments
    snaps: Snaps
    minutes_forward: np.ndarray
    minutes_backward: np.ndarray
    graph: RoadGraph

    @property
    def far(self) -> tuple[Snap, ...]:
        return tuple(s for s in self.table.snaps if s.far)

    @property
    def unreachable(self) -> tuple[TravelPair, ...]:
        return tuple(p for p in self.table.pairs if p.unreachable)


def segment_km(seg: RoadSegments) -> np.ndarray:
    return haversine_km(seg.node_lat[seg.u], seg.node_lon[seg.u], seg.node_lat[seg.v], seg.node_lon[seg.v])


def main_network(seg: RoadSegments) -> np.ndarray:
    """Which segments belong to the largest strongly connected piece of the road network.

    From any point of it a car can reach any other and come back; a street
    cut off at the extract's border, or one-way into a dead end, is not in it.
    """
    tail = np.concatenate((seg.u[seg.forward], seg.v[seg.backward]))
    head = np.concatenate((seg.v[seg.forward], seg.u[seg.backward]))
    graph = coo_array((np.ones(len(tail)), (tail, head)), shape=(seg.n_nodes, seg.n_nodes))
    _, label = connected_components(graph, directed=True, connection="strong")
    largest = np.bincount(label[seg.u]).argmax()
    return (label[seg.u] == largest) & (label[seg.v] == largest)


def snap_to_roads(seg: RoadSegments, lat: ArrayLike, lon: ArrayLike, *, far_km: float) -> tuple[Snaps, np.ndarray]:
    """Snap to the main road network where it is within ``far_km``, else to the nearest road of any piece.

    A point beside a fragment cut off from the rest (a street clipped at the
    extract's border, a one-way dead end) joins the main network; an island's own roads stay its own. Returns the
    snaps and whether each joins the main network.
    """
    main = main_network(seg)
    on_main = snap_points(seg, lat, lon, segments=np.flatnonzero(main))
    anywhere = snap_points(seg, lat, lon)
    use_main = on_main.km <= far_km
    pick = {
        k: np.where(use_main, getattr(on_main, k), getattr(anywhere, k)) for k in ("segment", "t", "lat", "lon", "km")
    }
    snaps = Snaps(**pick)
    return snaps, main[snaps.segment]


def snap_points(seg: RoadSegments, lat: ArrayLike, lon: ArrayLike, *, segments: np.ndarray | None = None) -> Snaps:
    """The nearest point of any segment to each point (exact: every segment that can be nearest is tried).

    Sample points every ``SAMPLE_KM`` along the segments find the candidates:
    the nearest segment has a sample within half a spacing of its nearest
    point, so every sample within (nearest sample + half a spacing) of the
    point includes it. Distances are measured in the local tangent plane.
    """
    lat, lon = np.atleast_1d(np.asarray(lat, dtype=float)), np.atleast_1d(np.asarray(lon, dtype=float))
    if len(seg) == 0:
        raise InvalidRequest("segments", 0, "must hold at least one drivable road segment")
    pool = np.arange(len(seg)) if segments is None else np.asarray(segments, dtype=np.int64)
    lengths = segment_km(seg)[pool]
    counts = np.maximum(np.ceil(lengths / SAMPLE_KM).astype(np.int64), 1) + 1
    rows = np.repeat(pool, counts)
    starts = np.cumsum(counts) - counts
    frac = (np.arange(counts.sum()) - np.repeat(starts, counts)) / np.repeat(counts - 1, counts)
    ulat, ulon, vlat, vlon = seg.node_lat[seg.u], seg.node_lon[seg.u], seg.node_lat[seg.v], seg.node_lon[seg.v]
    index = SpatialIndex(lat=ulat[rows] + frac * (vlat - ulat)[rows], lon=ulon[rows] + frac * (vlon - ulon)[rows])
    out = {k: np.empty(len(lat)) for k in ("t", "lat", "lon", "km")}
    segment = np.empty(len(lat), dtype=np.int64)
    for i, (plat, plon) in enumerate(zip(lat, lon, strict=True)):
        _, nearest_km = index.nearest(lat=plat, lon=plon)
        candidates = np.unique(rows[index.within(lat=plat, lon=plon, max_km=nearest_km + SAMPLE_KM / 2 + 1e-6)])
        t, d = _project(plat, plon, ulat[candidates], ulon[candidates], vlat[candidates], vlon[candidates])
        best = int(np.argmin(d))
        s = candidates[best]
        segment[i], out["t"][i] = s, t[best]
        out["lat"][i] = ulat[s] + t[best] * (vlat[s] - ulat[s])
        out["lon"][i] = ulon[s] + t[best] * (vlon[s] - ulon[s])
        out["km"][i] = float(haversine_km(plat, plon, out["lat"][i], out["lon"][i]))
    return Snaps(segment=segment, **out)


def _project(
    lat: float, lon: float, ulat: np.ndarray, ulon: np.ndarray, vlat: np.ndarray, vlon: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Fraction along each segment of the point's foot, and its distance (km, local tangent plane)."""
    k = math.radians(1) * EARTH_RADIUS_KM
    c = math.cos(math.radians(lat))
    ux, uy = (ulon - lon) * k * c, (ulat - lat) * k
    dx, dy = (vlon - ulon) * k * c, (vlat - ulat) * k
    length2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(length2 > 0, -(ux * dx + uy * dy) / length2, 0.0)
    t = np.clip(t, 0.0, 1.0)
    return t, np.hypot(ux + t * dx, uy + t * dy)


def segment_minutes(
    seg: RoadSegments, km: np.ndarray, model: DefaultModel, terrain: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Minutes along each segment forward and backward (terrain: a terrain name per segment)."""
    table = np.array([[model.speed(c, t).kmh for t in TERRAINS] for c in ROAD_CLASSES])
    names, inverse = np.unique(np.asarray(terrain, dtype=str), return_inverse=True)
    t_index = np.array([TERRAINS.index(n) for n in names], dtype=np.int64)[inverse]
    by_class = table[seg.road_class.astype(int), t_index]
    fwd = np.where(np.isnan(seg.maxspeed_forward), by_class, seg.maxspeed_forward * model.maxspeed_share)
    bwd = np.where(np.isnan(seg.maxspeed_backward), by_class, seg.maxspeed_backward * model.maxspeed_share)
    return km / fwd * 60.0, km / bwd * 60.0


def merge_chains(seg: RoadSegments, keep_alone: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """Consecutive segments of one way joined where nothing else meets them (fewer nodes for Dijkstra).

    A chain breaks at every node with other than two segment ends (a way's
    end, a junction) and around every segment in ``keep_alone`` (those
    institutions snap to). Returns the chains' ``u``, ``v``, ``forward``,
    ``backward``, each of ``columns`` summed along the chain, and the chain
    of every segment.
    """
    n = len(seg)
    ends = np.bincount(np.concatenate((seg.u, seg.v)), minlength=seg.n_nodes)
    start = np.ones(n, dtype=bool)
    if n > 1:
        start[1:] = (
            (seg.way[1:] != seg.way[:-1])
            | (seg.u[1:] != seg.v[:-1])
            | (ends[seg.u[1:]] != 2)
            | keep_alone[1:]
            | keep_alone[:-1]
        )
    chain = np.cumsum(start) - 1
    first = np.flatnonzero(start)
    last = np.append(first[1:] - 1, n - 1)
    sums = [np.bincount(chain, weights=c, minlength=len(first)) for c in columns]
    return (seg.u[first], seg.v[last], seg.forward[first], seg.backward[first], *sums, chain)


def build_graph(
    seg: RoadSegments, snaps: Snaps, km: np.ndarray, minutes_fwd: np.ndarray, minutes_bwd: np.ndarray
) -> RoadGraph:
    """Directed arcs of the road graph: chains of segments, each snapped segment split at its institutions' snaps.

    Nodes are numbered afresh: the chains' ends first, then one node per
    institution (``sources``).
    """
    split = np.zeros(len(seg), dtype=bool)
    split[snaps.segment] = True
    u, v, forward, backward, k, mf, mb, chain = merge_chains(seg, split, km, minutes_fwd, minutes_bwd)
    nodes, inverse = np.unique(np.concatenate((u, v)), return_inverse=True)
    u, v = inverse[: len(u)], inverse[len(u) :]
    n_points = len(snaps.segment)
    sources = len(nodes) + np.arange(n_points)
    snapped = np.zeros(len(u), dtype=bool)
    snapped[chain[snaps.segment]] = True
    keep = ~snapped
    parts = [(u[keep], v[keep], k[keep], mf[keep], mb[keep], forward[keep], backward[keep])]
    for c in np.flatnonzero(snapped):
        on = np.flatnonzero(chain[snaps.segment] == c)
        on = on[np.argsort(snaps.t[on], kind="stable")]
        stops = np.concatenate(([u[c]], sources[on], [v[c]]))
        share = np.diff(np.concatenate(([0.0], snaps.t[on], [1.0])))
        n = len(share)
        parts.append(
            (
                stops[:-1],
                stops[1:],
                k[c] * share,
                mf[c] * share,
                mb[c] * share,
                np.full(n, forward[c]),
                np.full(n, backward[c]),
            )
        )
    u, v, k, mf, mb, fwd, bwd = (np.concatenate(p) for p in zip(*parts, strict=True))
    tail = np.concatenate((u[fwd], v[bwd]))
    head = np.concatenate((v[fwd], u[bwd]))
    return RoadGraph(
        n_nodes=len(nodes) + n_points,
        tail=tail,
        head=head,
        km=np.concatenate((k[fwd], k[bwd])),
        minutes=np.concatenate((mf[fwd], mb[bwd])),
        sources=sources,
    )


def all_pairs(graph: RoadGraph, weight: str, *, max_cells: int = 20_000_000) -> np.ndarray:
    """Shortest ``weight`` from every source node to every source node (inf: no path); rows in chunks."""
    matrix = graph.matrix(weight)
    n = len(graph.sources)
    out = np.empty((n, n))
    step = max(1, max_cells // max(graph.n_nodes, 1))
    for start in range(0, n, step):
        rows = graph.sources[start : start + step]
        out[start : start + len(rows)] = dijkstra(matrix, directed=True, indices=rows)[:, graph.sources]
    return out


def import_roads(
    region: Region, extract: str | Path, *, travel: TravelFile | None = None, far_km: float = FAR_KM
) -> RoadImport:
    """Build the road table of a region from a local OSM extract; returns the new travel file and a report.

    ``travel`` is the region's current travel file (its model changes and OD
    tables are kept; its road table is replaced).
    """
    from mednet.travel.layer import check_travel

    travel = travel or TravelFile(region=region.id)
    path = Path(extract)
    date, basis = extract_date(path)
    seg = read_roads(path)
    if len(seg) == 0:
        raise TravelDataError(str(path), "", "holds no drivable road (highway=motorway … service, open to cars)",
                              rule_zh="没有可通行汽车的道路（highway=motorway … service）")
    model = default_model(region, travel.model)
    institutions = region.institutions
    lat = np.array([i.lat for i in institutions])
    lon = np.array([i.lon for i in institutions])
    snaps, joins_main = snap_to_roads(seg, lat, lon, far_km=far_km)
    km = segment_km(seg)
    terrain = _segment_terrain(seg, model, region)
    minutes_fwd, minutes_bwd = segment_minutes(seg, km, model, terrain)
    graph = build_graph(seg, snaps, km, minutes_fwd, minutes_bwd)
    road_km, road_minutes = all_pairs(graph, "km"), all_pairs(graph, "minutes")
    access_kmh = np.array([model.speed(ACCESS_CLASS, model.terrain_of(i.county)).kmh for i in institutions])
    access_min = snaps.km / access_kmh * 60.0
    pairs = []
    for a, ia in enumerate(institutions):
        for b, ib in enumerate(institutions):
            if a == b:
                continue
            if not np.isfinite(road_km[a, b]):
                pairs.append(TravelPair(a=ia.id, b=ib.id, unreachable=True))
                continue
            pairs.append(
                TravelPair(
                    a=ia.id,
                    b=ib.id,
                    km=round(float(snaps.km[a] + road_km[a, b] + snaps.km[b]), 3),
                    minutes=round(float(access_min[a] + road_minutes[a, b] + access_min[b]), 2),
                )
            )
    key = f"osm:{path.name}"
    table = RoadTable(
        source=key,
        extract=path.name,
        extract_date=date,
        date_basis=basis,
        far_km=far_km,
        ways=seg.ways,
        graph_nodes=graph.n_nodes,
        graph_arcs=len(graph.tail),
        snaps=tuple(
            Snap(
                institution=inst.id,
                lat=round(float(snaps.lat[i]), 7),
                lon=round(float(snaps.lon[i]), 7),
                km=round(float(snaps.km[i]), 4),
                way=int(seg.way[snaps.segment[i]]),
                far=bool(snaps.km[i] > far_km),
                main_network=bool(joins_main[i]),
            )
            for i, inst in enumerate(institutions)
        ),
        pairs=tuple(pairs),
    )
    when = "OSM header timestamp" if basis == "osm_header" else "file modification time"
    source = Source(
        title=f"OpenStreetMap extract {path.name}",
        date=date.date(),
        licence=OSM_LICENCE,
        note=f"road network read by mednet roads import; date from the {when}",
    )
    new = replace_travel(travel, sources={**travel.sources, key: source}, roads=table)
    check_travel(region, new)
    return RoadImport(
        region=region,
        travel=new,
        table=table,
        segments=seg,
        snaps=snaps,
        minutes_forward=minutes_fwd,
        minutes_backward=minutes_bwd,
        graph=graph,
    )


def _segment_terrain(seg: RoadSegments, model: DefaultModel, region: Region) -> np.ndarray:
    """Terrain of each segment: that of the county of the institution nearest its midpoint."""
    terrains = np.array([model.terrain_of(i.county) for i in region.institutions])
    if len(set(terrains)) <= 1:
        return np.full(len(seg), terrains[0] if len(terrains) else "plain")
    mid_lat = (seg.node_lat[seg.u] + seg.node_lat[seg.v]) / 2
    mid_lon = (seg.node_lon[seg.u] + seg.node_lon[seg.v]) / 2
    tree = cKDTree(
        np.column_stack(
            (np.array([i.lat for i in region.institutions]), np.array([i.lon for i in region.institutions]))
        )
    )
    return terrains[tree.query(np.column_stack((mid_lat, mid_lon)))[1]]

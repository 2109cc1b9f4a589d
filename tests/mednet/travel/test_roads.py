"""Road import on the hand-made network (answers computed by hand) and on a real OSM extract.

The hand-made network (tests/fixtures/travel/handmade.osm) lies on the
equator: U = 0.01° of longitude = 1.11195 km. A primary road 1→2 (maxspeed
CN:rural: a zone, so the class speed 65 km/h), a tertiary 2→3 tagged
maxspeed 60 (× 0.8 = 48 km/h), a residential 3→4 (25 km/h), a one-way trunk
4→5→6 (oneway=yes) and 6→1 (drawn 1→6 with oneway=-1), 5U at 85 km/h, an
island road 7–8 joined only by a footway, an institution 3 km south of node
1. Institutions stand 0.0009° (0.1001 km) off the road; access legs run at
the service class speed (15 km/h).
"""

from __future__ import annotations

import itertools
import json

import networkx as nx
import numpy as np
import pytest

from mednet.cli import main
from mednet.errors import TravelDataError
from mednet.geo import haversine_km
from mednet.travel.layer import load_travel, read_travel
from mednet.travel.osm import read_roads
from mednet.travel.roads import import_roads, segment_km, snap_points

from .conftest import HANDMADE_OSM, HANDMADE_REGION, grid_region

U = float(haversine_km(0, 0, 0, 0.01))
ACCESS = float(haversine_km(0, 0, 0.0009, 0))  # 0.1001 km
ACCESS_MIN = ACCESS / 15 * 60


def pair(result, a, b):
    return next(p for p in result.table.pairs if (p.a, p.b) == (a, b))


def test_unit_figures():
    assert pytest.approx(1.11195, abs=1e-5) == U
    assert pytest.approx(0.10008, abs=1e-5) == ACCESS


def test_reader_keeps_drivable_ways_with_their_directions():
    seg = read_roads(HANDMADE_OSM)
    assert seg.ways == 6  # the footway to the island is not drivable
    by_way = {int(w): (bool(f), bool(b)) for w, f, b in zip(seg.way, seg.forward, seg.backward, strict=True)}
    assert by_way[104] == (True, False) and by_way[105] == (False, True) and by_way[101] == (True, True)
    tagged = dict(zip(seg.way.tolist(), seg.maxspeed_forward.tolist(), strict=True))
    assert tagged[102] == 60 and np.isnan(tagged[101])  # CN:rural names no number


def test_snaps_and_far_flag(handmade_import):
    snaps = {s.institution: s for s in handmade_import.table.snaps}
    assert snaps["fx-b"].way == 102 and snaps["fx-b"].lon == pytest.approx(0.015) and snaps["fx-b"].lat == 0
    assert snaps["fx-a"].km == pytest.approx(ACCESS, abs=1e-4)
    assert snaps["fx-far"].km == pytest.approx(float(haversine_km(0, 0, -0.027, 0)), abs=1e-4)
    assert snaps["fx-far"].km == pytest.approx(3.0023, abs=1e-4)
    assert [s.institution for s in handmade_import.far] == ["fx-far"]


def test_one_way_and_class_change(handmade_import):
    there = pair(
        handmade_import, "fx-a", "fx-d"
    )  # the trunk is one-way the other way: 1U primary, 1U tertiary, 1U residential
    assert there.km == pytest.approx(3 * U + 2 * ACCESS, abs=1e-3)
    assert there.minutes == pytest.approx(60 * U * (1 / 65 + 1 / 48 + 1 / 25) + 2 * ACCESS_MIN, abs=0.01)
    back = pair(handmade_import, "fx-d", "fx-a")  # fastest back: the one-way trunk, 5U at 85 km/h; shortest: 3U
    assert back.minutes == pytest.approx(60 * 5 * U / 85 + 2 * ACCESS_MIN, abs=0.01)
    assert back.km == pytest.approx(3 * U + 2 * ACCESS, abs=1e-3)
    assert back.minutes < there.minutes


def test_maxspeed_and_mid_segment_snap(handmade_import):
    p = pair(handmade_import, "fx-a", "fx-b")  # 1U primary, then half of the tertiary at 60 × 0.8 km/h
    assert p.km == pytest.approx(1.5 * U + 2 * ACCESS, abs=1e-3)
    assert p.minutes == pytest.approx(60 * U * (1 / 65 + 0.5 / 48) + 2 * ACCESS_MIN, abs=0.01)
    q = pair(handmade_import, "fx-b", "fx-d")
    assert q.minutes == pytest.approx(60 * U * (0.5 / 48 + 1 / 25) + 2 * ACCESS_MIN, abs=0.01)


def test_island_unreachable_both_ways_and_far_institution_joined(handmade_import):
    for other in ("fx-a", "fx-b", "fx-d", "fx-far"):
        for a, b in (("fx-island", other), (other, "fx-island")):
            p = pair(handmade_import, a, b)
            assert p.unreachable and p.km is None and p.minutes is None
    far = pair(handmade_import, "fx-far", "fx-a")  # both join the road at node 1
    far_km = float(haversine_km(0, 0, -0.027, 0))
    assert far.km == pytest.approx(far_km + ACCESS, abs=1e-3)
    assert far.minutes == pytest.approx((far_km + ACCESS) / 15 * 60, abs=0.01)


def test_snapping_is_the_exact_nearest_segment(handmade_import, helsinki_osm):
    for seg, lat, lon in (
        (handmade_import.segments, [-0.0009, 0.0009, -0.027, 0.3, 0.0049], [0.0, 0.015, 0.0, 0.2, 0.0301]),
        (read_roads(helsinki_osm), np.linspace(60.163, 60.180, 12), np.linspace(24.934, 24.955, 12)),
    ):
        snaps = snap_points(seg, lat, lon)
        for i in range(len(lat)):  # brute force: every segment, sampled at 1,000 points
            t = np.linspace(0, 1, 1001)[:, None]
            plat = seg.node_lat[seg.u] + t * (seg.node_lat[seg.v] - seg.node_lat[seg.u])
            plon = seg.node_lon[seg.u] + t * (seg.node_lon[seg.v] - seg.node_lon[seg.u])
            brute = float(haversine_km(lat[i], lon[i], plat, plon).min())
            assert snaps.km[i] == pytest.approx(brute, abs=0.002)


def road_digraph(result) -> nx.DiGraph:
    """The same road graph built independently: every segment split at the snaps, in networkx."""
    seg, snaps = result.segments, result.snaps
    km, fwd_min, bwd_min = segment_km(seg), result.minutes_forward, result.minutes_backward
    G = nx.DiGraph()
    for s in range(len(seg)):
        on = sorted((float(snaps.t[i]), ("inst", int(i))) for i in np.flatnonzero(snaps.segment == s))
        stops = [(0.0, int(seg.u[s])), *on, (1.0, int(seg.v[s]))]
        for (t0, a), (t1, b) in itertools.pairwise(stops):
            share = t1 - t0
            if seg.forward[s]:
                _add(G, a, b, km[s] * share, fwd_min[s] * share)
            if seg.backward[s]:
                _add(G, b, a, km[s] * share, bwd_min[s] * share)
    return G


def _add(G, a, b, km, minutes):
    old = G.get_edge_data(a, b)
    G.add_edge(a, b, km=min(km, old["km"]) if old else km, minutes=min(minutes, old["minutes"]) if old else minutes)


@pytest.fixture(scope="module")
def helsinki_import(helsinki_osm):
    region = grid_region("helsinki-grid", south=60.1650, west=24.9365, north=60.1780, east=24.9520, rows=4, cols=4)
    return import_roads(region, helsinki_osm)


@pytest.mark.parametrize("which", ["handmade", "helsinki"])
def test_layer_matches_exhaustive_networkx_search(which, handmade_import, helsinki_import):
    result = handmade_import if which == "handmade" else helsinki_import
    region, G = result.region, road_digraph(result)
    layer = load_travel(region, travel=result.travel)
    ids = [i.id for i in region.institutions]
    for weight in ("km", "minutes"):
        for a, ia in enumerate(ids):
            lengths = nx.single_source_dijkstra_path_length(G, ("inst", a), weight=weight) if ("inst", a) in G else {}
            for b, ib in enumerate(ids):
                if a == b:
                    continue
                fig = layer.between(ia, ib)
                if ("inst", b) not in lengths:
                    assert fig.unreachable, (ia, ib)
                    continue
                legs = result.snaps.km[a] + result.snaps.km[b]  # access legs, at 15 km/h for minutes
                legs = legs if weight == "km" else legs / 15 * 60
                expected = lengths[("inst", b)] + legs
                got = fig.km if weight == "km" else fig.minutes
                assert got == pytest.approx(expected, abs=0.002 if weight == "km" else 0.006), (weight, ia, ib)


def test_real_extract_is_plausible(helsinki_import):
    region, result = helsinki_import.region, helsinki_import
    t = result.table
    assert t.ways > 500 and t.graph_arcs > t.ways
    assert t.graph_nodes < 0.7 * result.segments.n_nodes  # chains of one way joined between junctions
    assert t.date_basis in ("osm_header", "file_mtime")
    assert max(s.km for s in t.snaps) < 0.3  # a city centre: every grid point is near a street
    reachable = [p for p in t.pairs if not p.unreachable]
    assert len(reachable) >= 0.9 * len(t.pairs)
    pos = {i.id: (i.lat, i.lon) for i in region.institutions}
    for p in reachable:
        gc = float(haversine_km(*pos[p.a], *pos[p.b]))
        assert gc <= p.km + 1e-6 and p.km < 3.5 * gc + 0.6  # roads are longer than the line, not absurdly so
        assert 5 <= p.km / (p.minutes / 60) <= 70  # average speed of a city trip with its access legs, km/h
    asym = [
        abs(p.minutes - pair(result, p.b, p.a).minutes) for p in reachable if not pair(result, p.b, p.a).unreachable
    ]
    assert max(asym) > 0.05  # one-way streets make some trips differ by direction


def test_cli_import_writes_the_travel_file_beside_the_region(tmp_path, capsys):
    region = tmp_path / "handmade.json"
    region.write_text(HANDMADE_REGION.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["roads", "import", str(region), str(HANDMADE_OSM), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["far"] == ["fx-far"] and len(out["unreachable"]) == 8 and out["date_basis"] == "file_mtime"
    travel = read_travel(tmp_path / "handmade.travel.json")
    assert travel.roads.extract == "handmade.osm" and travel.sources[travel.roads.source].licence.startswith("ODbL")
    assert load_travel(region).between("fx-d", "fx-a").minutes_basis.kind == "road_network"


@pytest.mark.parametrize(
    "extract, message",
    [
        ("missing.osm.pbf", "no such file"),
        ("roads.geojson", "expected an OpenStreetMap extract"),
    ],
)
def test_cli_import_bad_extract_writes_nothing(tmp_path, capsys, extract, message):
    region = tmp_path / "handmade.json"
    region.write_text(HANDMADE_REGION.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["roads", "import", str(region), str(tmp_path / extract)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "handmade.travel.json").exists()


def test_unreadable_extract_is_a_clear_error(tmp_path, handmade_region):
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"not a pbf at all")
    with pytest.raises(TravelDataError, match=r"broken\.osm\.pbf"):
        import_roads(handmade_region, bad)


def test_extract_without_drivable_roads(tmp_path, handmade_region):
    path = tmp_path / "paths.osm"
    path.write_text(
        '<?xml version="1.0"?><osm version="0.6"><node id="1" lat="0" lon="0"/>'
        '<node id="2" lat="0" lon="0.01"/><way id="9"><nd ref="1"/><nd ref="2"/>'
        '<tag k="highway" v="footway"/></way></osm>',
        encoding="utf-8",
    )
    with pytest.raises(TravelDataError, match=r"paths\.osm: holds no drivable road"):
        import_roads(handmade_region, path)


def test_cli_import_to_an_unwritable_place(tmp_path, capsys):
    region = tmp_path / "handmade.json"
    region.write_text(HANDMADE_REGION.read_text(encoding="utf-8"), encoding="utf-8")
    target = tmp_path / "no-such-folder" / "x.travel.json"
    assert main(["roads", "import", str(region), str(HANDMADE_OSM), "--output", str(target)]) == 2
    assert "cannot be written" in capsys.readouterr().err


def random_extract(path, seed: int) -> None:
    """A random OSM file on a 6 × 6 grid: ways as random walks (rings, shared nodes, parallel ways),
    random classes, one-way tags both ways and maxspeeds."""
    rng = np.random.default_rng(seed)
    nodes = [
        f'<node id="{r * 6 + c + 1}" lat="{r * 0.004:.4f}" lon="{c * 0.004:.4f}"/>' for r in range(6) for c in range(6)
    ]
    ways = []
    classes = ["primary", "secondary", "residential", "service", "track", "trunk_link"]
    for w in range(14):
        r, c = rng.integers(0, 6, 2)
        walk = [(r, c)]
        for _ in range(rng.integers(1, 7)):
            dr, dc = [(0, 1), (1, 0), (0, -1), (-1, 0)][rng.integers(0, 4)]
            r, c = min(max(r + dr, 0), 5), min(max(c + dc, 0), 5)
            if (r, c) != walk[-1]:
                walk.append((r, c))
        if len(walk) < 2:
            continue
        if rng.random() < 0.15:
            walk.append(walk[0])  # a ring (or a way back to its start)
        tags = [f'<tag k="highway" v="{classes[rng.integers(0, len(classes))]}"/>']
        oneway = ["", "yes", "-1", "no"][rng.integers(0, 4)]
        if oneway:
            tags.append(f'<tag k="oneway" v="{oneway}"/>')
        if rng.random() < 0.3:
            tags.append(f'<tag k="maxspeed" v="{["30", "50 km/h", "25 mph", "CN:urban"][rng.integers(0, 4)]}"/>')
        refs = "".join(f'<nd ref="{a * 6 + b + 1}"/>' for a, b in walk)
        ways.append(f'<way id="{w + 1}">{refs}{"".join(tags)}</way>')
    path.write_text('<?xml version="1.0"?><osm version="0.6">' + "".join(nodes + ways) + "</osm>", encoding="utf-8")


@pytest.mark.parametrize("seed", range(6))
def test_random_extracts_match_exhaustive_networkx_search(tmp_path, seed):
    path = tmp_path / f"random{seed}.osm"
    random_extract(path, seed)
    region = grid_region(f"random{seed}", south=-0.001, west=0.0013, north=0.0203, east=0.0213, rows=3, cols=3)
    result = import_roads(region, path)
    G = road_digraph(result)
    layer = load_travel(region, travel=result.travel)
    ids = [i.id for i in region.institutions]
    for a, ia in enumerate(ids):
        for weight in ("km", "minutes"):
            lengths = nx.single_source_dijkstra_path_length(G, ("inst", a), weight=weight)
            for b, ib in enumerate(ids):
                if a == b:
                    continue
                fig = layer.between(ia, ib)
                assert fig.unreachable == (("inst", b) not in lengths), (ia, ib)
                if not fig.unreachable:
                    legs = result.snaps.km[a] + result.snaps.km[b]
                    expected = lengths[("inst", b)] + (legs if weight == "km" else legs / 15 * 60)
                    got = fig.km if weight == "km" else fig.minutes
                    assert got == pytest.approx(expected, abs=0.002 if weight == "km" else 0.006), (weight, ia, ib)


def test_road_import_keeps_the_od_tables_and_model_changes(tmp_path):
    region = tmp_path / "handmade.json"
    region.write_text(HANDMADE_REGION.read_text(encoding="utf-8"), encoding="utf-8")
    od = tmp_path / "od.csv"
    od.write_text("origin,destination,minutes\nfx-island,fx-a,45\n", encoding="utf-8")
    assert main(["travel", "import-od", str(region), str(od), "--source", "ferry timetable"]) == 0
    assert main(["roads", "import", str(region), str(HANDMADE_OSM)]) == 0
    travel = read_travel(tmp_path / "handmade.travel.json")
    assert travel.roads is not None and [t.file for t in travel.od_tables] == ["od.csv"]
    fig = load_travel(region).between("fx-island", "fx-a")  # no road, but the OD table knows a way
    assert not fig.unreachable and fig.minutes == 45.0 and fig.minutes_basis.title == "ferry timetable"
    assert fig.km_basis.kind == "default_model"


def test_extract_date_from_the_osm_header(tmp_path):
    import datetime as dt

    import osmium

    from mednet.travel.osm import extract_date

    header = osmium.io.Header()
    header.set("osmosis_replication_timestamp", "2025-03-01T12:00:00Z")
    path = tmp_path / "dated.osm.pbf"
    writer = osmium.SimpleWriter(str(path), header=header)
    writer.add_node(osmium.osm.mutable.Node(id=1, location=(0.0, 0.0)))
    writer.close()
    assert extract_date(path) == (dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC), "osm_header")
    assert extract_date(HANDMADE_OSM)[1] == "file_mtime"  # plain .osm with no replication timestamp

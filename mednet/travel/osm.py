"""Read the drivable roads of a local OpenStreetMap file (.osm.pbf or .osm) with pyosmium.

The result is a :class:`RoadSegments`: one row per consecutive pair of
nodes of a drivable way, with its class, its allowed directions and the
speed its ``maxspeed`` tags give (NaN where untagged: the speed table then
decides). Nothing is fetched from the network: the planner's file is read
as it is.

    >>> parse_maxspeed("60"), parse_maxspeed("40 mph"), parse_maxspeed("CN:urban"), parse_maxspeed("50;80")
    (60.0, 64.37376, None, 50.0)
    >>> oneway_directions({"highway": "primary", "oneway": "-1"})
    (False, True)
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mednet.errors import TravelDataError
from mednet.travel.model import ROAD_CLASSES

DRIVABLE: frozenset[str] = frozenset(ROAD_CLASSES) - {"unknown"}
#: Access values that close a way to cars (as OSRM's car profile reads them).
NO_ACCESS = frozenset({"no", "private", "agricultural", "forestry", "emergency", "delivery", "psv", "bus"})
ACCESS_TAGS = ("motorcar", "motor_vehicle", "vehicle", "access")  # most specific first
IMPLIED_ONEWAY = frozenset({"motorway"})
MPH_KMH = 1.609344
_SPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph)?\s*$", re.IGNORECASE)
SUFFIXES = (".osm.pbf", ".pbf", ".osm")


def parse_maxspeed(value: str | None) -> float | None:
    """km/h of an OSM ``maxspeed`` value, or None where it gives no number.

    Numbers are km/h unless followed by ``mph``; of several values (``50;80``)
    the lowest counts; zone values (``CN:urban``, ``RU:rural``), ``none``,
    ``signals``, ``walk`` and ``0`` give None (the speed table decides).

    >>> parse_maxspeed("60 km/h"), parse_maxspeed("none"), parse_maxspeed("0"), parse_maxspeed(None)
    (60.0, None, None, None)
    """
    if not value:
        return None
    speeds = []
    for part in value.split(";"):
        match = _SPEED.match(part)
        if match:
            kmh = float(match.group(1)) * (MPH_KMH if (match.group(2) or "").lower() == "mph" else 1.0)
            if kmh > 0:
                speeds.append(kmh)
    return min(speeds) if speeds else None


def is_drivable(tags: dict[str, str]) -> bool:
    """Whether a car may use a way: a drivable ``highway`` class, not an area, not closed to cars.

    >>> is_drivable({"highway": "residential"}), is_drivable({"highway": "footway"})
    (True, False)
    >>> is_drivable({"highway": "service", "access": "private"})
    False
    >>> is_drivable({"highway": "service", "access": "no", "motorcar": "yes"})
    True
    """
    if tags.get("highway") not in DRIVABLE or tags.get("area") == "yes" or tags.get("oneway") == "reversible":
        return False
    for key in ACCESS_TAGS:
        if key in tags:
            return tags[key] not in NO_ACCESS
    return True


def oneway_directions(tags: dict[str, str]) -> tuple[bool, bool]:
    """(forward allowed, backward allowed) along the way's node order.

    ``oneway=yes|true|1`` forward only, ``oneway=-1|reverse`` backward only,
    ``oneway=no`` both; untagged, motorways and roundabouts are one-way.

    >>> oneway_directions({"highway": "motorway"}), oneway_directions({"highway": "residential"})
    ((True, False), (True, True))
    """
    oneway = tags.get("oneway", "").strip().lower()
    if oneway in ("yes", "true", "1"):
        return True, False
    if oneway in ("-1", "reverse"):
        return False, True
    if oneway in ("no", "false", "0"):
        return True, True
    if tags.get("highway") in IMPLIED_ONEWAY or tags.get("junction") in ("roundabout", "circular"):
        return True, False
    return True, True


@dataclass(frozen=True, eq=False)
class RoadSegments:
    """Drivable road segments of an extract (arrays, one row per segment between two way nodes).

    ``u``/``v`` index ``node_lat``/``node_lon`` in the way's node order;
    ``forward``/``backward`` say which directions a car may go;
    ``maxspeed_forward``/``maxspeed_backward`` are km/h from tags (NaN: untagged).
    """

    node_lat: np.ndarray
    node_lon: np.ndarray
    u: np.ndarray
    v: np.ndarray
    way: np.ndarray
    road_class: np.ndarray  # index into ROAD_CLASSES
    forward: np.ndarray
    backward: np.ndarray
    maxspeed_forward: np.ndarray
    maxspeed_backward: np.ndarray
    ways: int

    @property
    def n_nodes(self) -> int:
        return len(self.node_lat)

    def __len__(self) -> int:
        return len(self.u)


def check_extract(path: str | Path) -> Path:
    """The extract's path, or a clear error when it is missing or not an OSM file."""
    path = Path(path)
    if not path.name.lower().endswith(SUFFIXES):
        raise TravelDataError(str(path), "", "expected an OpenStreetMap extract ending .osm.pbf, .pbf or .osm",
                              rule_zh="应为 OpenStreetMap 数据文件（.osm.pbf、.pbf 或 .osm）")
    if not path.is_file():
        raise TravelDataError(str(path), "", "no such file", rule_zh="文件不存在")
    return path


def extract_date(path: str | Path) -> tuple[dt.datetime, str]:
    """The extract's date and where it came from: ``osm_header`` (replication timestamp) or ``file_mtime``."""
    osmium = _osmium()
    path = check_extract(path)
    try:
        reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
        try:
            stamp = reader.header().get("osmosis_replication_timestamp") or reader.header().get("timestamp")
        finally:
            reader.close()
    except RuntimeError as err:
        raise TravelDataError(str(path), "", f"cannot be read as an OpenStreetMap file ({err})") from err
    if stamp:
        try:
            return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")), "osm_header"
        except ValueError:
            pass
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC).replace(microsecond=0)
    return mtime, "file_mtime"


def read_roads(path: str | Path) -> RoadSegments:
    """The drivable road segments of a local OSM file.

    A way's nodes missing from the extract (clipped at its border) split the
    way there. Errors name the file.
    """
    osmium = _osmium()
    path = check_extract(path)
    node_ids: list[int] = []
    lats: list[float] = []
    lons: list[float] = []
    seg_first: list[int] = []  # index into node_ids of each segment's first node
    seg_way, seg_class, seg_fwd, seg_bwd, seg_ms_f, seg_ms_b = [], [], [], [], [], []
    class_index = {c: i for i, c in enumerate(ROAD_CLASSES)}
    ways = 0
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    try:
        for way in processor:
            if way.tags.get("highway") not in DRIVABLE:  # most ways: no need to read every tag
                continue
            tags = dict(way.tags)
            if not is_drivable(tags):
                continue
            ways += 1
            forward, backward = oneway_directions(tags)
            both = parse_maxspeed(tags.get("maxspeed"))
            ms_f = parse_maxspeed(tags.get("maxspeed:forward")) or both
            ms_b = parse_maxspeed(tags.get("maxspeed:backward")) or both
            klass = class_index[tags["highway"]]
            previous_valid = False
            for node in way.nodes:
                location = node.location
                if not location.valid():
                    previous_valid = False
                    continue
                if previous_valid:
                    seg_first.append(len(node_ids) - 1)
                    seg_way.append(way.id)
                    seg_class.append(klass)
                    seg_fwd.append(forward)
                    seg_bwd.append(backward)
                    seg_ms_f.append(np.nan if ms_f is None else ms_f)
                    seg_ms_b.append(np.nan if ms_b is None else ms_b)
                node_ids.append(node.ref)
                lats.append(location.lat)
                lons.append(location.lon)
                previous_valid = True
    except RuntimeError as err:
        raise TravelDataError(str(path), "", f"cannot be read as an OpenStreetMap file ({err})") from err
    ids, inverse = np.unique(np.asarray(node_ids, dtype=np.int64), return_inverse=True)
    node_lat = np.zeros(len(ids))
    node_lon = np.zeros(len(ids))
    node_lat[inverse] = lats
    node_lon[inverse] = lons
    first = np.asarray(seg_first, dtype=np.int64)
    return RoadSegments(
        node_lat=node_lat,
        node_lon=node_lon,
        u=inverse[first],
        v=inverse[first + 1],
        way=np.asarray(seg_way, dtype=np.int64),
        road_class=np.asarray(seg_class, dtype=np.int8),
        forward=np.asarray(seg_fwd, dtype=bool),
        backward=np.asarray(seg_bwd, dtype=bool),
        maxspeed_forward=np.asarray(seg_ms_f, dtype=float),
        maxspeed_backward=np.asarray(seg_ms_b, dtype=float),
        ways=ways,
    )


def _osmium():
    from mednet.extras import require_extra

    return require_extra("osmium", "travel")

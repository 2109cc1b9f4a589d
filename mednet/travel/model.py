"""The travel file: a region's travel layer, kept beside its region file.

``data/regions/quzhou.json`` has its travel layer in
``data/regions/quzhou.travel.json`` (when one was imported). The region
file is built from published sources by the tools and checked against a
fresh build; the travel layer is the planner's own data (an OSM extract, an
origin–destination table from a map service) with its own life: a re-import
replaces the travel file alone, atomically, and the region file is never
rewritten for it.

A travel file holds

- ``model``: changes to the default model (circuity, speed rows, the terrain
  class of each county), each with its source or marked an assumption;
- ``roads``: institution-to-institution km and minutes over a road network
  imported from an OSM extract, with the snap of every institution;
- ``od_tables``: imported origin–destination tables, later ones first in
  precedence.

Every figure names its source (a key of ``sources``); an unreachable pair is
a record that says so, never an infinite number.

    >>> pair = TravelPair(a="kh-huabu", b="kh-people", km=21.4, minutes=26.0)
    >>> pair.unreachable, TravelPair(a="x", b="y", unreachable=True).km
    (False, None)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Literal, get_args

from pydantic import Field, model_validator

from mednet.models import Frozen, Identifier, Latitude, Longitude, Source, SourceKey

#: The source of the default model's speeds, known to every travel file.
OSRM = "osrm-car-profile"
BUILTIN_SOURCES: dict[str, Source] = {
    OSRM: Source(
        title="OSRM car profile, speed table by highway class (profiles/car.lua, osrm-backend 5.x)",
        publisher="Project OSRM",
        url="https://github.com/Project-OSRM/osrm-backend",
        licence="BSD-2-Clause",
        note="average car speeds by OSM highway class in km/h, used for plain terrain",
    ),
}

#: Road classes of the speed table: OSM ``highway=*`` values a car may drive, and
#: ``unknown`` for a pair with no road data (a straight line times the circuity).
RoadClass = Literal[
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "service",
    "road",
    "unknown",
]
ROAD_CLASSES: tuple[str, ...] = get_args(RoadClass)
#: Terrain classes, from the easiest to the roughest.
Terrain = Literal["plain", "hilly", "mountain"]
TERRAINS: tuple[str, ...] = get_args(Terrain)


class _Sourced(Frozen):
    """A figure with its source, or marked an assumption (then ``note`` says why)."""

    source: SourceKey | None = None
    assumption: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _source_or_assumption(self):
        if self.source is None and not self.assumption:
            raise ValueError("give a `source` (a key of the sources) or mark the row `assumption: true` with a note")
        return self


class SpeedRow(_Sourced):
    """Average speed on a road class in a terrain class, km/h."""

    road_class: RoadClass
    terrain: Terrain
    kmh: float = Field(gt=0, le=150, allow_inf_nan=False)


class CountyTerrain(_Sourced):
    """The terrain class of a county (or district): it picks the speed rows for its roads."""

    county: str = Field(min_length=1)
    terrain: Terrain


class ModelChanges(Frozen):
    """A region's changes to the built-in default model; anything left out keeps the built-in figure."""

    circuity: float | None = Field(
        None,
        ge=1.0,
        le=3.0,
        description="road km per great-circle km where no road data is known; None: the region file's `road_factor`",
    )
    circuity_source: SourceKey | None = None
    maxspeed_share: float | None = Field(None, gt=0, le=1.0, description="travel speed as a share of a tagged maxspeed")
    speeds: tuple[SpeedRow, ...] = ()
    terrain: tuple[CountyTerrain, ...] = ()

    @model_validator(mode="after")
    def _one_row_each(self) -> ModelChanges:
        seen: set[tuple[str, str]] = set()
        for row in self.speeds:
            key = (row.road_class, row.terrain)
            if key in seen:
                raise ValueError(f"speed row {row.road_class}/{row.terrain} is given twice")
            seen.add(key)
        counties = [t.county for t in self.terrain]
        if len(set(counties)) != len(counties):
            raise ValueError(
                f"a county's terrain is given twice: {sorted(c for c in counties if counties.count(c) > 1)}"
            )
        return self


class TravelPair(Frozen):
    """Travel from institution ``a`` to institution ``b`` (directed: one-way roads differ).

    ``km`` and ``minutes`` may each be missing (an OD table of minutes only);
    ``unreachable`` says the source knows no way from ``a`` to ``b``.
    """

    a: Identifier
    b: Identifier
    km: float | None = Field(None, ge=0, allow_inf_nan=False)
    minutes: float | None = Field(None, ge=0, allow_inf_nan=False)
    unreachable: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> TravelPair:
        if self.a == self.b:
            raise ValueError(f"a pair joins two different institutions, got {self.a!r} twice")
        if self.unreachable and (self.km is not None or self.minutes is not None):
            raise ValueError(f"{self.a}→{self.b}: an unreachable pair has no km or minutes")
        if not self.unreachable and self.km is None and self.minutes is None:
            raise ValueError(f"{self.a}→{self.b}: give km, minutes or both, or mark the pair unreachable")
        return self


class Snap(Frozen):
    """Where an institution joins the road network: the nearest point of a drivable road."""

    institution: Identifier
    lat: Latitude
    lon: Longitude
    km: float = Field(ge=0, description="great-circle km from the institution's point to the road")
    way: int = Field(description="OSM id of the way it joins")
    far: bool = Field(description="more than the import's `far_km` from any drivable road")
    main_network: bool = Field(description="joins the largest strongly connected piece of the road network")


class RoadTable(Frozen):
    """Institution-to-institution figures over a road network imported from an OSM extract.

    ``km`` of a pair is the shortest road distance, ``minutes`` the fastest
    travel time (their paths may differ); both include the access legs from
    each institution's point to its snap.
    """

    source: SourceKey
    extract: str = Field(min_length=1, description="file name of the OSM extract")
    extract_date: dt.datetime
    date_basis: Literal["osm_header", "file_mtime"] = Field(
        description="osm_header: the file's replication timestamp; file_mtime: the file's modification time"
    )
    far_km: float = Field(2.0, gt=0)
    ways: int = Field(ge=0, description="drivable ways read")
    graph_nodes: int = Field(ge=0)
    graph_arcs: int = Field(ge=0)
    snaps: tuple[Snap, ...]
    pairs: tuple[TravelPair, ...]


class ODTable(Frozen):
    """An imported origin–destination table: km and/or minutes between institutions."""

    source: SourceKey
    file: str = Field(min_length=1, description="file name it was imported from")
    pairs: tuple[TravelPair, ...]


class TravelFile(Frozen):
    """A region's travel layer (``<region>.travel.json`` beside the region file)."""

    schema_version: Literal[1] = 1
    region: Identifier
    sources: dict[str, Source] = Field(default_factory=dict)
    model: ModelChanges = ModelChanges()
    roads: RoadTable | None = None
    od_tables: tuple[ODTable, ...] = Field((), description="later tables take precedence over earlier ones")

    @model_validator(mode="after")
    def _sources_exist(self) -> TravelFile:
        known = {**BUILTIN_SOURCES, **self.sources}
        for place, key in _source_refs(self):
            if key is not None and key not in known:
                raise ValueError(f"{place}: source {key!r} is not among the sources {sorted(known)}")
        return self


def _source_refs(travel: TravelFile) -> Iterator[tuple[str, str | None]]:
    yield "model.circuity_source", travel.model.circuity_source
    for i, row in enumerate(travel.model.speeds):
        yield f"model.speeds[{i}].source", row.source
    for i, county in enumerate(travel.model.terrain):
        yield f"model.terrain[{i}].source", county.source
    if travel.roads is not None:
        yield "roads.source", travel.roads.source
    for i, table in enumerate(travel.od_tables):
        yield f"od_tables[{i}].source", table.source


def replace_travel(travel: TravelFile, **changes: object) -> TravelFile:
    """A travel file with some fields replaced, validated again (``model_copy`` would not check it)."""
    return TravelFile.model_validate({**dict(travel), **changes})

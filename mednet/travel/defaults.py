"""The default travel model: circuity, and speeds by road class and terrain class.

Where a pair of institutions has no road or OD figure, the default model
says: km = great-circle km × ``circuity`` (the region's ``road_factor``, 1.3
in every bundled region), minutes = km at the speed of road class
``unknown`` in the terrain of the pair (the rougher of the two counties).
A road network imported from OSM uses the same table for ways without a
``maxspeed`` tag. Every row has its source or is marked an assumption.

    >>> from mednet.regions import load_region
    >>> model = default_model(load_region("quzhou"))
    >>> model.circuity, model.speed("unknown", "plain").kmh, model.speed("primary", "plain").kmh
    (1.3, 40.0, 65.0)
    >>> model.speed("primary", "mountain").kmh, model.speed("primary", "mountain").assumption
    (45.5, True)
"""

from __future__ import annotations

from dataclasses import dataclass

from mednet.errors import InvalidRequest
from mednet.models import Region
from mednet.travel.model import OSRM, ROAD_CLASSES, TERRAINS, CountyTerrain, ModelChanges, SpeedRow

#: km/h on plain terrain by OSM highway class (OSRM car profile).
OSRM_KMH: dict[str, float] = {
    "motorway": 90,
    "motorway_link": 45,
    "trunk": 85,
    "trunk_link": 40,
    "primary": 65,
    "primary_link": 30,
    "secondary": 55,
    "secondary_link": 25,
    "tertiary": 40,
    "tertiary_link": 20,
    "unclassified": 25,
    "residential": 25,
    "living_street": 10,
    "service": 15,
}
#: Speed in hilly and mountain terrain as a share of plain terrain (assumptions).
TERRAIN_SHARE: dict[str, float] = {"plain": 1.0, "hilly": 0.85, "mountain": 0.7}
TERRAIN_NOTE = (
    "assumption: {share:.0%} of the plain-terrain speed; grades and curves slow roads of the same "
    "class in {terrain} terrain (edit per region with a source where one is known)"
)
MAXSPEED_SHARE = 0.8
MAXSPEED_NOTE = (
    "assumption: traffic averages below the posted limit; OSRM's car profile scales tagged maxspeeds by the same 0.8"
)
#: The road class of the access leg from an institution's point to its snap on the road network.
ACCESS_CLASS = "service"


def builtin_speeds(unknown_kmh: float) -> tuple[SpeedRow, ...]:
    """The built-in speed table; ``unknown_kmh`` is the region's flat ``speed_kmh`` (no road data)."""
    rows = []
    for road_class in ROAD_CLASSES:
        for terrain in TERRAINS:
            share = TERRAIN_SHARE[terrain]
            if road_class == "unknown":
                kmh, source, note = (
                    unknown_kmh * share,
                    None,
                    (
                        "assumption: the region file's flat speed_kmh, for a pair with no road data"
                        + ("" if terrain == "plain" else f"; {share:.0%} of it in {terrain} terrain")
                    ),
                )
            elif road_class == "road":
                kmh, source, note = (
                    OSRM_KMH["unclassified"] * share,
                    None,
                    (
                        "assumption: highway=road (class not yet known) as unclassified"
                        + ("" if terrain == "plain" else f", {share:.0%} in {terrain} terrain")
                    ),
                )
            elif terrain == "plain":
                kmh, source, note = OSRM_KMH[road_class], OSRM, None
            else:
                kmh, source, note = (
                    OSRM_KMH[road_class] * share,
                    None,
                    TERRAIN_NOTE.format(share=share, terrain=terrain),
                )
            rows.append(
                SpeedRow(
                    road_class=road_class,
                    terrain=terrain,
                    kmh=round(kmh, 3),
                    source=source,
                    assumption=source is None,
                    note=note,
                )
            )
    return tuple(rows)


@dataclass(frozen=True)
class DefaultModel:
    """The default model of one region: built-in rows with the region's changes applied."""

    circuity: float
    circuity_source: str
    maxspeed_share: float
    speeds: dict[tuple[str, str], SpeedRow]
    terrain: dict[str, CountyTerrain]

    def speed(self, road_class: str, terrain: str) -> SpeedRow:
        """The speed row of a road class in a terrain class."""
        try:
            return self.speeds[(road_class, terrain)]
        except KeyError:
            raise InvalidRequest(
                "road_class, terrain",
                (road_class, terrain),
                f"must be one of the classes {list(ROAD_CLASSES)} and terrains {list(TERRAINS)}",
            ) from None

    def terrain_of(self, county: str | None) -> str:
        """The terrain class of a county: as the region sets it, else ``plain``."""
        row = self.terrain.get(county or "")
        return row.terrain if row else "plain"

    def rougher(self, *terrains: str) -> str:
        """The roughest of terrain classes.

        >>> from mednet.regions import load_region
        >>> default_model(load_region("quzhou")).rougher("plain", "mountain", "hilly")
        'mountain'
        """
        return max(terrains, key=TERRAINS.index)

    def describe(self, terrain: str) -> str:
        """How the default model makes a pair's figures, for an answer's basis."""
        row = self.speed("unknown", terrain)
        return f"great circle × {self.circuity:g} at {row.kmh:g} km/h ({terrain} terrain)"


def default_model(region: Region, changes: ModelChanges | None = None) -> DefaultModel:
    """The region's default model: the built-in table, the region's ``road_factor``, then ``changes``."""
    changes = changes or ModelChanges()
    speeds: dict[tuple[str, str], SpeedRow] = {(r.road_class, r.terrain): r for r in builtin_speeds(region.speed_kmh)}
    speeds.update({(r.road_class, r.terrain): r for r in changes.speeds})
    circuity, circuity_source = region.road_factor, "the region file's road_factor"
    if changes.circuity is not None:
        circuity, circuity_source = changes.circuity, changes.circuity_source or "assumption (travel file)"
    return DefaultModel(
        circuity=circuity,
        circuity_source=circuity_source,
        maxspeed_share=MAXSPEED_SHARE if changes.maxspeed_share is None else changes.maxspeed_share,
        speeds=speeds,
        terrain={t.county: t for t in changes.terrain},
    )

"""Catchments: for each institution and specialty, the primary-care centres for which it is the nearest capable.

:func:`find_catchments` finds each centre's nearest capable institution by
``cost="km"`` or ``"minutes"`` with the one search on the travel layer,
:func:`mednet.travel.search.nearest_by_cost` (the layer's costs, candidates
from a k-d tree; no n × n array), which coverage by travel cost uses too. A
centre reaches its nearest capable institution from its own point (row →
column: one-way roads count); ties go to the institution listed first; a
centre that offers the specialty itself is its own nearest; a centre that
reaches no capable institution is in no catchment, and says so.

    >>> from mednet.travel import load_travel
    >>> report = find_catchments(load_travel("quzhou"), ["儿科"], cost="minutes")
    >>> row = report.summary("儿科")[0]
    >>> row["institution"], row["centres"] > 0
    ('js-people', True)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from mednet.errors import InvalidRequest, UnknownSpecialty
from mednet.specialties import resolve_specialty
from mednet.travel.layer import Cost, TravelLayer
from mednet.travel.search import check_cost, nearest_by_cost, nearest_capable, nearest_in

__all__ = ["CatchmentReport", "capability_mask", "find_catchments", "nearest_capable", "nearest_in"]

if TYPE_CHECKING:
    import pandas as pd


def capability_mask(layer: TravelLayer, specialty: str, *, include_sessions: bool = True) -> np.ndarray:
    """Which institutions of the layer offer a specialty (permanently, or also in sessions)."""
    code = resolve_specialty(specialty).code
    caps = [inst.capability(code) for inst in layer.region.institutions]
    return np.array([c is not None and (include_sessions or c.permanent) for c in caps], dtype=bool)


@dataclass(frozen=True, eq=False)
class CatchmentReport:
    """The nearest capable institution of every primary-care centre, per specialty (read-only arrays).

    ``nearest[d, s]`` is the row (into ``layer.ids``) of the nearest capable
    institution of centre ``demand_rows[d]`` for ``specialties[s]`` (-1: none
    reachable), ``cost_value[d, s]`` its cost in ``cost`` units.
    """

    layer: TravelLayer = field(repr=False)
    specialties: tuple[str, ...]
    cost: Cost
    include_sessions: bool
    demand_rows: np.ndarray = field(repr=False)
    nearest: np.ndarray = field(repr=False)
    cost_value: np.ndarray = field(repr=False)

    def column(self, specialty: str) -> int:
        code = resolve_specialty(specialty).code
        if code not in self.specialties:
            raise UnknownSpecialty(code, known=self.specialties, where="this report")
        return self.specialties.index(code)

    def catchment(self, institution: str, specialty: str) -> tuple[str, ...]:
        """Ids of the centres for which ``institution`` is the nearest capable, in region order."""
        row, s = self.layer.row(institution), self.column(specialty)
        return tuple(self.layer.ids[self.demand_rows[d]] for d in np.flatnonzero(self.nearest[:, s] == row))

    def unserved(self, specialty: str) -> tuple[str, ...]:
        """Ids of the centres that reach no capable institution."""
        s = self.column(specialty)
        return tuple(self.layer.ids[self.demand_rows[d]] for d in np.flatnonzero(self.nearest[:, s] < 0))

    def records(self) -> list[dict]:
        """One record per centre × specialty: its nearest capable institution, km and minutes with their basis."""
        layer, out = self.layer, []
        insts = layer.region.institutions
        for s, code in enumerate(self.specialties):
            for d, row in enumerate(self.demand_rows):
                centre, j = insts[row], int(self.nearest[d, s])
                fig = layer.between(centre.id, insts[j].id) if j >= 0 else None
                out.append(
                    {
                        "specialty": code,
                        "centre": centre.id,
                        "centre_name": centre.name,
                        "county": centre.county,
                        "population": centre.population,
                        "lat": centre.lat,
                        "lon": centre.lon,
                        "nearest": insts[j].id if j >= 0 else None,
                        "nearest_name": insts[j].name if j >= 0 else None,
                        "km": fig.km if fig else None,
                        "minutes": fig.minutes if fig else None,
                        "km_basis": fig.km_basis.kind if fig else None,
                        "minutes_basis": fig.minutes_basis.kind if fig else None,
                        "reachable": j >= 0,
                    }
                )
        return out

    def summary(self, specialty: str) -> list[dict]:
        """One record per capable institution: its centres, their count and known population (largest first)."""
        s = self.column(specialty)
        layer, insts = self.layer, self.layer.region.institutions
        rows = []
        for j in np.flatnonzero(capability_mask(layer, self.specialties[s], include_sessions=self.include_sessions)):
            members = [insts[self.demand_rows[d]] for d in np.flatnonzero(self.nearest[:, s] == j)]
            known = [m.population for m in members if m.population is not None]
            rows.append(
                {
                    "specialty": self.specialties[s],
                    "institution": insts[j].id,
                    "name": insts[j].name,
                    "lat": insts[j].lat,
                    "lon": insts[j].lon,
                    "centres": len(members),
                    "centre_ids": tuple(m.id for m in members),
                    "population": sum(known) if known else None,
                    "population_known": len(known),
                }
            )
        return sorted(rows, key=lambda r: -r["centres"])

    def to_frame(self) -> pd.DataFrame:
        """The records as a DataFrame (needs pandas)."""
        from mednet.extras import require_extra

        return require_extra("pandas", "planning").DataFrame(self.records())

    def summary_frame(self, specialty: str) -> pd.DataFrame:
        """The per-institution summary of one specialty as a DataFrame (needs pandas)."""
        from mednet.extras import require_extra

        frame = require_extra("pandas", "planning").DataFrame(self.summary(specialty))
        frame["centre_ids"] = frame["centre_ids"].map(" ".join)
        return frame

    def to_geojson(self, specialty: str) -> dict:
        """One specialty as GeoJSON ([lon, lat]): a point per centre (with its nearest) and per capable institution."""
        features = [
            _point(r["lon"], r["lat"], {k: v for k, v in r.items() if k not in ("lat", "lon")} | {"role": "centre"})
            for r in self.records()
            if r["specialty"] == self.specialties[self.column(specialty)]
        ]
        features += [
            _point(
                r["lon"],
                r["lat"],
                {k: list(v) if isinstance(v, tuple) else v for k, v in r.items() if k not in ("lat", "lon")}
                | {"role": "capable"},
            )
            for r in self.summary(specialty)
        ]
        return {
            "type": "FeatureCollection",
            "features": features,
            "properties": {"region": self.layer.region.id, "cost": self.cost, "specialty": specialty},
        }


def _point(lon: float, lat: float, properties: dict) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": properties}


def find_catchments(
    layer: TravelLayer,
    specialties: Iterable[str],
    *,
    cost: Literal["km", "minutes"] = "minutes",
    include_sessions: bool = True,
) -> CatchmentReport:
    """Catchments of every capable institution for each specialty, by travel ``cost`` on the layer."""
    if isinstance(specialties, str):
        raise InvalidRequest("specialties", specialties, "must be a list of specialties, e.g. ['儿科']")
    codes = tuple(dict.fromkeys(resolve_specialty(s).code for s in specialties))
    if not codes:
        raise InvalidRequest("specialties", list(specialties), "must name at least one specialty")
    cost = check_cost(cost)
    demand = np.array(
        [i for i, inst in enumerate(layer.region.institutions) if inst.tier.is_primary_care], dtype=np.int64
    )
    nearest = np.empty((len(demand), len(codes)), dtype=np.int64)
    value = np.empty((len(demand), len(codes)))
    for s, code in enumerate(codes):
        columns = np.flatnonzero(capability_mask(layer, code, include_sessions=include_sessions))
        nearest[:, s], value[:, s] = nearest_by_cost(layer, demand, columns, cost=cost)
    for array in (nearest, value):
        array.setflags(write=False)
    return CatchmentReport(
        layer=layer,
        specialties=codes,
        cost=cost,
        include_sessions=include_sessions,
        demand_rows=demand,
        nearest=nearest,
        cost_value=value,
    )

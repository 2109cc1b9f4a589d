"""The travel layer of a region: km and minutes between any two institutions, with the basis of each.

Figures come, in order of precedence, from the imported OD tables (the
latest first), the imported road table, and the default model; a figure a
source does not give falls to the next. ``km`` and ``minutes`` each name
their basis. An unreachable pair says so (``unreachable=True``, no figures);
the arrays for bulk work hold ``inf`` there, beside an explicit
``unreachable`` mask.

    >>> layer = load_travel("quzhou")
    >>> fig = layer.between("华埠", "开化县人民医院")
    >>> fig.km, fig.minutes, fig.km_basis.kind
    (20.01, 30.01, 'default_model')
    >>> fig.minutes_basis.detail
    'great circle × 1.3 at 40 km/h (plain terrain)'
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from mednet.errors import InvalidRequest, TravelDataError, UnknownInstitution
from mednet.geo import check_lat_lon, haversine_km
from mednet.models import Frozen, Region
from mednet.network import name_index
from mednet.regions import json_schema, load_region, read_json, region_path, validate_document, write_atomic
from mednet.travel.defaults import BUILTIN_SOURCES, DefaultModel, default_model
from mednet.travel.model import TERRAINS, TravelFile, TravelPair

TRAVEL_SUFFIX = ".travel.json"
Cost = Literal["km", "minutes"]
BasisKind = Literal["same_institution", "default_model", "road_network", "od_table"]


class Basis(Frozen):
    """Where a figure comes from: the kind, its source key and title, and how it was made."""

    kind: BasisKind
    source: str | None = None
    title: str | None = None
    detail: str | None = None


class TravelFigure(Frozen):
    """Travel from an origin (an institution id, or ``point``) to an institution."""

    origin: str
    destination: str
    km: float | None = Field(description="None when unreachable")
    minutes: float | None = Field(description="None when unreachable")
    unreachable: bool = False
    km_basis: Basis
    minutes_basis: Basis


TRAVEL_SCHEMA_FILE = "travel.schema.json"


def travel_json_schema() -> str:
    """The JSON Schema of travel files, generated from :class:`TravelFile`."""
    return json_schema(TravelFile, TRAVEL_SCHEMA_FILE)


def travel_path(region: str | os.PathLike[str]) -> Path:
    """The travel file beside a region file (``quzhou`` → ``…/quzhou.travel.json``)."""
    path = region_path(region)
    return path.with_name(path.name.removesuffix(".json") + TRAVEL_SUFFIX)


def read_travel(path: str | os.PathLike[str]) -> TravelFile:
    """Read and validate a travel file; errors name the file and the place."""
    return validate_document(TravelFile, read_json(Path(path), error=TravelDataError), file=str(path),
                             error=TravelDataError)


def check_travel(region: Region, travel: TravelFile, *, file: str = "<travel layer>") -> None:
    """Every institution a travel file names belongs to the region (unknown ids name the closest)."""
    if travel.region != region.id:
        raise TravelDataError(file, "region", f"is {travel.region!r}, expected {region.id!r}")
    known = {i.id for i in region.institutions}
    places = [("model.terrain", None)]
    if travel.roads:
        places = [(f"roads.snaps[{k}]", s.institution) for k, s in enumerate(travel.roads.snaps)]
        places += _pair_places("roads", travel.roads.pairs)
    for t, table in enumerate(travel.od_tables):
        places += _pair_places(f"od_tables[{t}]", table.pairs)
    for place, ident in places:
        if ident is not None and ident not in known:
            err = UnknownInstitution(ident, known=known, where=f"region {region.id!r}")
            raise TravelDataError(file, place, str(err))


def _pair_places(prefix: str, pairs: tuple[TravelPair, ...]):
    for k, p in enumerate(pairs):
        yield f"{prefix}.pairs[{k}].a", p.a
        yield f"{prefix}.pairs[{k}].b", p.b


def dump_travel(travel: TravelFile) -> str:
    """The travel file as JSON text: readable, one pair per line."""
    data = travel.model_dump(mode="json", exclude_defaults=True)
    tables = [data.get("roads")] + data.get("od_tables", [])
    held = []
    for k, table in enumerate(t for t in tables if t):
        held.append(table["pairs"])
        table["pairs"] = f"@pairs{k}@"
    text = json.dumps(data, ensure_ascii=False, indent=1)
    for k, pairs in enumerate(held):
        lines = ",\n  ".join(json.dumps(p, ensure_ascii=False, separators=(",", ":")) for p in pairs)
        text = text.replace(f'"@pairs{k}@"', f"[\n  {lines}\n ]" if pairs else "[]")
    return text + "\n"


def save_travel(travel: TravelFile, path: str | os.PathLike[str]) -> Path:
    """Write a travel file atomically: a crash leaves the old file whole."""
    return write_atomic(path, dump_travel(travel))


def load_travel(region: str | os.PathLike[str] | Region, *, travel: str | os.PathLike[str] | TravelFile | None = None
                ) -> TravelLayer:
    """The travel layer of a region: its travel file beside it when there is one, else the default model alone."""
    if not isinstance(region, Region):
        path = travel_path(region) if travel is None else None
        region = load_region(region)
        if path is not None and path.exists():
            travel = path
    if travel is None:
        file = TravelFile(region=region.id)
    elif isinstance(travel, TravelFile):
        file = travel
    else:
        file = read_travel(travel)
        check_travel(region, file, file=str(travel))
        return TravelLayer.build(region, file)
    check_travel(region, file)
    return TravelLayer.build(region, file)


@dataclass(frozen=True, eq=False)
class TravelLayer:
    """Km and minutes between every pair of a region's institutions (row: from, column: to).

    ``km``/``minutes`` are read-only float arrays (``inf`` where
    ``unreachable``); ``km_basis``/``minutes_basis`` hold an index into
    ``bases`` for every pair.
    """

    region: Region = field(repr=False)
    travel: TravelFile = field(repr=False)
    model: DefaultModel = field(repr=False)
    ids: tuple[str, ...]
    index: dict[str, int] = field(repr=False)
    km: np.ndarray = field(repr=False)
    minutes: np.ndarray = field(repr=False)
    unreachable: np.ndarray = field(repr=False)
    km_basis: np.ndarray = field(repr=False)
    minutes_basis: np.ndarray = field(repr=False)
    bases: tuple[Basis, ...] = field(repr=False)

    @classmethod
    def build(cls, region: Region, travel: TravelFile) -> TravelLayer:
        model = default_model(region, travel.model)
        ids = tuple(i.id for i in region.institutions)
        index = {k: n for n, k in enumerate(ids)}
        lat = np.array([i.lat for i in region.institutions])
        lon = np.array([i.lon for i in region.institutions])
        terrain = np.array([TERRAINS.index(model.terrain_of(i.county)) for i in region.institutions], dtype=np.int64)
        pair_terrain = np.maximum.outer(terrain, terrain)
        bases = [Basis(kind="same_institution")] + [
            Basis(kind="default_model", detail=model.describe(t)) for t in TERRAINS]
        km = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :]) * model.circuity
        speed = np.array([model.speed("unknown", t).kmh for t in TERRAINS])[pair_terrain]
        default_km, default_minutes = km, km / speed * 60.0
        km, minutes = default_km.copy(), default_minutes.copy()
        km_basis = (1 + pair_terrain).astype(np.int16)
        unreachable = np.zeros(km.shape, dtype=bool)
        tables = [("road_network", travel.roads)] if travel.roads else []
        tables += [("od_table", t) for t in travel.od_tables]
        minutes_basis = km_basis.copy()
        sources = {**BUILTIN_SOURCES, **travel.sources}
        for kind, table in tables:
            code = len(bases)
            src = sources[table.source]
            title = f"{src.title}, {src.date}" if src.date else src.title
            bases.append(Basis(kind=kind, source=table.source, title=title, detail=src.note))
            for p in table.pairs:
                a, b = index[p.a], index[p.b]
                if p.unreachable:
                    unreachable[a, b] = True
                    km[a, b] = minutes[a, b] = np.inf
                    km_basis[a, b] = minutes_basis[a, b] = code
                    continue
                if unreachable[a, b]:  # a figure this source leaves out falls to the default model
                    unreachable[a, b] = False
                    km[a, b], minutes[a, b] = default_km[a, b], default_minutes[a, b]
                    km_basis[a, b] = minutes_basis[a, b] = 1 + pair_terrain[a, b]
                if p.km is not None:
                    km[a, b], km_basis[a, b] = p.km, code
                if p.minutes is not None:
                    minutes[a, b], minutes_basis[a, b] = p.minutes, code
        np.fill_diagonal(km, 0.0)
        np.fill_diagonal(minutes, 0.0)
        np.fill_diagonal(km_basis, 0)
        np.fill_diagonal(minutes_basis, 0)
        np.fill_diagonal(unreachable, False)
        for array in (km, minutes, unreachable, km_basis, minutes_basis):
            array.setflags(write=False)
        return cls(region=region, travel=travel, model=model, ids=ids, index=index, km=km, minutes=minutes,
                   unreachable=unreachable, km_basis=km_basis, minutes_basis=minutes_basis, bases=tuple(bases))

    def row(self, name: str) -> int:
        """Row of an institution given by id, name or alias."""
        if name in self.index:
            return self.index[name]
        names = name_index(self.region)
        ids = names.get(str(name).strip().casefold())
        if not ids:
            known = [i.name for i in self.region.institutions] + list(self.ids)
            raise UnknownInstitution(str(name), known=known, where=f"region {self.region.id!r}")
        if len(ids) > 1:
            raise InvalidRequest("institution", name, f"is ambiguous: it names {', '.join(ids)}; give an id")
        return self.index[ids[0]]

    def matrix(self, cost: Cost) -> np.ndarray:
        """The read-only cost matrix by ``km`` or ``minutes`` (``inf``: unreachable)."""
        if cost not in ("km", "minutes"):
            raise InvalidRequest("cost", cost, "must be 'km' or 'minutes'")
        return self.km if cost == "km" else self.minutes

    def between(self, origin: str, destination: str) -> TravelFigure:
        """Km and minutes from one institution to another, with the basis of each."""
        a, b = self.row(origin), self.row(destination)
        gone = bool(self.unreachable[a, b])
        return TravelFigure(
            origin=self.ids[a], destination=self.ids[b], unreachable=gone,
            km=None if gone else round(float(self.km[a, b]), 3),
            minutes=None if gone else round(float(self.minutes[a, b]), 2),
            km_basis=self.bases[self.km_basis[a, b]], minutes_basis=self.bases[self.minutes_basis[a, b]],
        )

    def from_point(self, *, lat: float, lon: float, to: str) -> TravelFigure:
        """Km and minutes from a point to an institution by the default model (terrain of the institution's county).

        >>> layer = load_travel("quzhou")
        >>> layer.from_point(lat=29.05, lon=118.40, to="华埠").km_basis.kind
        'default_model'
        """
        lat, lon = check_lat_lon(lat=lat, lon=lon)
        b = self.row(to)
        inst = self.region.institutions[b]
        terrain = self.model.terrain_of(inst.county)
        km = float(haversine_km(lat, lon, inst.lat, inst.lon)) * self.model.circuity
        minutes = km / self.model.speed("unknown", terrain).kmh * 60.0
        basis = Basis(kind="default_model", detail=self.model.describe(terrain))
        return TravelFigure(origin="point", destination=inst.id, km=round(km, 3), minutes=round(minutes, 2),
                            km_basis=basis, minutes_basis=basis)

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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field

from mednet.errors import InvalidRequest, TravelDataError, UnknownInstitution, closest_names
from mednet.geo import check_lat_lon, haversine_km
from mednet.models import Frozen, Region
from mednet.network import name_index
from mednet.regions import json_schema, load_region, read_json, region_path, validate_document, write_atomic
from mednet.travel.defaults import DefaultModel, default_model
from mednet.travel.model import BUILTIN_SOURCES, TERRAINS, ODTable, RoadTable, TravelFile, TravelPair

if TYPE_CHECKING:
    from mednet.network import CompiledNetwork

TRAVEL_SUFFIX = ".travel.json"
Cost = Literal["km", "minutes"]
BasisKind = Literal["same_institution", "default_model", "road_network", "od_table"]


def check_cost(cost: object) -> Cost:
    """``km`` or ``minutes``: what a search ranks by.

    >>> check_cost("hours")
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidRequest: `cost` must be 'km' or 'minutes', got 'hours'
    """
    if cost not in ("km", "minutes"):
        raise InvalidRequest("cost", cost, "must be 'km' or 'minutes'")
    return cost


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
    return validate_document(
        TravelFile, read_json(Path(path), error=TravelDataError), file=str(path), error=TravelDataError
    )


def check_travel(region: Region, travel: TravelFile, *, file: str = "<travel layer>") -> None:
    """Every institution and county a travel file names belongs to the region (unknown ones name the closest)."""
    if travel.region != region.id:
        raise TravelDataError(file, "region", f"is {travel.region!r}, expected {region.id!r}",
                              rule_zh=f"是 {travel.region!r}，应为 {region.id!r}")
    counties = {i.county for i in region.institutions}
    for k, row in enumerate(travel.model.terrain):
        if row.county not in counties:
            hint = closest_names(row.county, counties)
            raise TravelDataError(
                file,
                f"model.terrain[{k}].county",
                f"{row.county!r} is no county of the region"
                + (f"; did you mean {hint[0]!r}?" if hint else f" ({sorted(counties)})"),
            )
    known = {i.id for i in region.institutions}
    places: list[tuple[str, str]] = []
    if travel.roads:
        places += [(f"roads.snaps[{k}]", s.institution) for k, s in enumerate(travel.roads.snaps)]
        places += _pair_places("roads", travel.roads.pairs)
    for t, table in enumerate(travel.od_tables):
        places += _pair_places(f"od_tables[{t}]", table.pairs)
    for place, ident in places:
        if ident not in known:
            err = UnknownInstitution(ident, known=known, where=f"region {region.id!r}")
            raise TravelDataError(file, place, str(err), rule_zh=err.zh)


def _pair_places(prefix: str, pairs: tuple[TravelPair, ...]) -> Iterator[tuple[str, str]]:
    for k, p in enumerate(pairs):
        yield f"{prefix}.pairs[{k}].a", p.a
        yield f"{prefix}.pairs[{k}].b", p.b


def dump_travel(travel: TravelFile) -> str:
    """The travel file as JSON text: readable, one pair per line."""
    data = travel.model_dump(mode="json", exclude_defaults=True)
    tables = [data.get("roads"), *data.get("od_tables", [])]
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
    """Write a travel file atomically: a crash leaves the old file whole; an unwritable place is a clear error."""
    try:
        return write_atomic(path, dump_travel(travel))
    except OSError as err:
        raise TravelDataError(
            str(path), "", f"cannot be written ({err.strerror or err}); give another place with --output",
            rule_zh=f"无法写入（{err.strerror or err}）；请用 --output 指定别的位置",
        ) from err


def load_travel(
    region: str | os.PathLike[str] | Region, *, travel: str | os.PathLike[str] | TravelFile | None = None
) -> TravelLayer:
    """The travel layer of a region: its travel file beside it when there is one, else the default model alone.

    ``travel`` (a path or a :class:`TravelFile`) replaces the file beside the region.
    """
    if not isinstance(region, Region):
        if travel is None and travel_path(region).exists():
            travel = travel_path(region)
        region = load_region(region)
    if travel is None or isinstance(travel, TravelFile):
        file, where = travel or TravelFile(region=region.id), "<travel layer>"
    else:
        file, where = read_travel(travel), str(travel)
    check_travel(region, file, file=where)
    return TravelLayer.build(region, file)


#: Largest region for which the dense n × n arrays are made (``matrix``, ``km``, …); beyond it use ``costs``.
DENSE_MAX = 5_000


@dataclass(frozen=True, eq=False)
class PairCosts:
    """Km and minutes for arrays of (from, to) rows, with the basis of each (indices into ``TravelLayer.bases``)."""

    km: np.ndarray
    minutes: np.ndarray
    unreachable: np.ndarray
    km_basis: np.ndarray
    minutes_basis: np.ndarray


@dataclass(frozen=True, eq=False)
class TravelLayer:
    """Km and minutes between every pair of a region's institutions, by rows of ``ids``.

    Held compactly: the default model from each institution's point and
    terrain (``lat``, ``lon``, ``terrain`` as an index into ``TERRAINS``,
    ``circuity``, ``unknown_kmh`` per terrain), and the pairs the imported
    tables give, resolved by precedence and sorted by ``pair_key`` (from row
    × n + to row): ``pair_km``/``pair_minutes`` (NaN: this figure falls to
    the default model; ``inf``: unreachable), ``pair_unreachable``, and
    their basis codes (-1: the default model). :meth:`costs` answers any
    arrays of pairs; :attr:`dense` holds every pair as n × n arrays, made
    on first use for regions up to ``DENSE_MAX`` institutions.
    """

    region: Region = field(repr=False)
    travel: TravelFile = field(repr=False)
    model: DefaultModel = field(repr=False)
    ids: tuple[str, ...]
    index: dict[str, int] = field(repr=False)
    lat: np.ndarray = field(repr=False)
    lon: np.ndarray = field(repr=False)
    terrain: np.ndarray = field(repr=False)
    unknown_kmh: np.ndarray = field(repr=False)
    pair_key: np.ndarray = field(repr=False)
    pair_km: np.ndarray = field(repr=False)
    pair_minutes: np.ndarray = field(repr=False)
    pair_unreachable: np.ndarray = field(repr=False)
    pair_km_basis: np.ndarray = field(repr=False)
    pair_minutes_basis: np.ndarray = field(repr=False)
    bases: tuple[Basis, ...] = field(repr=False)

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def circuity(self) -> float:
        return self.model.circuity

    @classmethod
    def build(cls, region: Region, travel: TravelFile) -> TravelLayer:
        model = default_model(region, travel.model)
        ids = tuple(i.id for i in region.institutions)
        index = {k: n for n, k in enumerate(ids)}
        bases = [Basis(kind="same_institution")] + [
            Basis(kind="default_model", detail=model.describe(t)) for t in TERRAINS
        ]
        tables: list[tuple[BasisKind, RoadTable | ODTable]] = [("road_network", travel.roads)] if travel.roads else []
        tables += [("od_table", t) for t in travel.od_tables]
        sources = {**BUILTIN_SOURCES, **travel.sources}
        state: dict[int, list] = {}  # key → [km, km basis, minutes, minutes basis, unreachable]
        for kind, table in tables:
            code = len(bases)
            src = sources[table.source]
            title = f"{src.title}, {src.date}" if src.date else src.title
            bases.append(Basis(kind=kind, source=table.source, title=title, detail=src.note))
            for p in table.pairs:
                key = index[p.a] * len(ids) + index[p.b]
                if p.unreachable:
                    state[key] = [np.inf, code, np.inf, code, True]
                    continue
                entry = state.get(key)
                if entry is None or entry[4]:  # a figure this source leaves out falls to the default model
                    entry = state[key] = [np.nan, -1, np.nan, -1, False]
                if p.km is not None:
                    entry[0], entry[1] = p.km, code
                if p.minutes is not None:
                    entry[2], entry[3] = p.minutes, code
        keys = np.array(sorted(state), dtype=np.int64)
        rows = [state[k] for k in keys.tolist()]
        column = lambda i, dtype: np.array([r[i] for r in rows], dtype=dtype)  # noqa: E731
        arrays = dict(
            lat=np.array([i.lat for i in region.institutions]),
            lon=np.array([i.lon for i in region.institutions]),
            terrain=np.array([TERRAINS.index(model.terrain_of(i.county)) for i in region.institutions], dtype=np.int8),
            unknown_kmh=np.array([model.speed("unknown", t).kmh for t in TERRAINS]),
            pair_key=keys,
            pair_km=column(0, float),
            pair_km_basis=column(1, np.int16),
            pair_minutes=column(2, float),
            pair_minutes_basis=column(3, np.int16),
            pair_unreachable=column(4, bool),
        )
        for array in arrays.values():
            array.setflags(write=False)
        return cls(region=region, travel=travel, model=model, ids=ids, index=index, bases=tuple(bases), **arrays)

    def costs(self, rows: ArrayLike, cols: ArrayLike) -> PairCosts:
        """Km and minutes from ``rows`` to ``cols`` (index arrays, broadcast), with basis codes.

        >>> layer = load_travel("quzhou")
        >>> c = layer.costs([0, 1], [1, 1])
        >>> float(c.km[1]), int(c.km_basis[1]), bool(c.unreachable.any())
        (0.0, 0, False)
        """
        rows, cols = np.broadcast_arrays(np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))
        pair_terrain = np.maximum(self.terrain[rows], self.terrain[cols])
        km = np.array(haversine_km(self.lat[rows], self.lon[rows], self.lat[cols], self.lon[cols]) * self.circuity)
        minutes = np.array(km / self.unknown_kmh[pair_terrain] * 60.0)
        km_basis = np.array(1 + pair_terrain, dtype=np.int16)
        minutes_basis = km_basis.copy()
        unreachable = np.zeros(km.shape, dtype=bool)
        if len(self.pair_key):
            keys = rows * self.n + cols
            pos = np.minimum(np.searchsorted(self.pair_key, keys), len(self.pair_key) - 1)
            hit = self.pair_key[pos] == keys
            for value, basis, pair_value, pair_basis in (
                (km, km_basis, self.pair_km, self.pair_km_basis),
                (minutes, minutes_basis, self.pair_minutes, self.pair_minutes_basis),
            ):
                given = hit & (pair_basis[pos] >= 0)
                value[given] = pair_value[pos[given]]
                basis[given] = pair_basis[pos[given]]
            unreachable = np.array(hit & self.pair_unreachable[pos])
        same = rows == cols
        km[same] = minutes[same] = 0.0
        km_basis[same] = minutes_basis[same] = 0
        unreachable[same] = False
        return PairCosts(
            km=km, minutes=minutes, unreachable=unreachable, km_basis=km_basis, minutes_basis=minutes_basis
        )

    @cached_property
    def dense(self) -> PairCosts:
        """Every pair as n × n arrays (row: from, column: to), made on first use; up to ``DENSE_MAX`` institutions."""
        if self.n > DENSE_MAX:
            raise InvalidRequest(
                "region",
                f"{self.n} institutions",
                f"has more than {DENSE_MAX} institutions for dense n × n arrays; use costs(rows, cols)",
            )
        every = np.arange(self.n)
        dense = self.costs(every[:, None], every[None, :])
        for array in vars(dense).values():
            array.setflags(write=False)
        return dense

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

    def rows_of(self, ids: Iterable[str]) -> np.ndarray:
        """Rows of institutions given by id, in the order given (to align with another array form).

        >>> from mednet.network import build_network, compile_network
        >>> layer = load_travel("quzhou")
        >>> net = compile_network(build_network(layer.region))
        >>> bool((layer.rows_of(net.ids) == range(net.n)).all())
        True
        """
        try:
            return np.fromiter((self.index[i] for i in ids), dtype=np.int64)
        except KeyError as err:
            raise UnknownInstitution(str(err.args[0]), known=self.ids, where=f"region {self.region.id!r}") from None

    def matrix(self, cost: Cost) -> np.ndarray:
        """The read-only cost matrix by ``km`` or ``minutes`` (``inf``: unreachable)."""
        return getattr(self.dense, check_cost(cost))

    def between(self, origin: str, destination: str) -> TravelFigure:
        """Km and minutes from one institution to another, with the basis of each."""
        a, b = self.row(origin), self.row(destination)
        c = self.costs(a, b)
        gone = bool(c.unreachable)
        return TravelFigure(
            origin=self.ids[a],
            destination=self.ids[b],
            unreachable=gone,
            km=None if gone else round(float(c.km), 3),
            minutes=None if gone else round(float(c.minutes), 2),
            km_basis=self.bases[int(c.km_basis)],
            minutes_basis=self.bases[int(c.minutes_basis)],
        )

    def point_costs(self, *, lat: float, lon: float, cols: ArrayLike) -> PairCosts:
        """Km and minutes from a point to ``cols`` (index array) by the default model, with basis codes.

        A point has no row in the imported tables (road network, OD tables),
        so its figures are the default model's: great circle × circuity, at
        the speed of the terrain of each destination's county.

        >>> layer = load_travel("quzhou")
        >>> c = layer.point_costs(lat=29.05, lon=118.40, cols=[layer.row("华埠")])
        >>> layer.bases[int(c.minutes_basis[0])].kind
        'default_model'
        """
        cols = np.asarray(cols, dtype=np.int64)
        terrain = self.terrain[cols]
        km = np.array(haversine_km(lat, lon, self.lat[cols], self.lon[cols]) * self.circuity, ndmin=1)
        minutes = km / self.unknown_kmh[terrain] * 60.0
        basis = np.array(1 + terrain, dtype=np.int16)
        return PairCosts(km=km, minutes=minutes, unreachable=np.zeros(km.shape, dtype=bool), km_basis=basis,
                         minutes_basis=basis.copy())

    def from_point(self, *, lat: float, lon: float, to: str) -> TravelFigure:
        """Km and minutes from a point to an institution by the default model (terrain of the institution's county).

        >>> layer = load_travel("quzhou")
        >>> layer.from_point(lat=29.05, lon=118.40, to="华埠").km_basis.kind
        'default_model'
        """
        lat, lon = check_lat_lon(lat=lat, lon=lon)
        b = self.row(to)
        c = self.point_costs(lat=lat, lon=lon, cols=[b])
        basis = self.bases[int(c.km_basis[0])]
        return TravelFigure(
            origin="point",
            destination=self.ids[b],
            km=round(float(c.km[0]), 3),
            minutes=round(float(c.minutes[0]), 2),
            km_basis=basis,
            minutes_basis=basis,
        )


def travel_layer_of(net: CompiledNetwork, travel: TravelLayer | None) -> TravelLayer:
    """The travel layer given (checked to be the network's region), else the default model of the network's region."""
    if travel is None:
        region = net.G.graph.get("region_data")
        if region is None:
            raise InvalidRequest("travel", None, "must be given (a TravelLayer) for a network not built from a "
                                 "region (mednet.build_network): it has no default travel model")
        return load_travel(region)
    if not isinstance(travel, TravelLayer):
        raise InvalidRequest("travel", type(travel).__name__, "must be a TravelLayer (mednet.travel.load_travel)")
    if travel.region.id != net.region:
        raise InvalidRequest("travel", travel.region.id, f"must be the travel layer of region {net.region!r}")
    return travel

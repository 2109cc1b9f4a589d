"""Where people live, and the share of them within reach of each specialty.

A :class:`Population` is a set of demand points with the people at each:
townships and streets from the 人口 sheet (:func:`townships_population`,
read by :mod:`mednet.importing.population`), grid cells of a raster
(:func:`raster_population`: a GeoTIFF such as WorldPop's 100 m grid, read
with rasterio), or the primary-care institutions with the population the
region gives them (:func:`institutions_population`).
:func:`population_coverage` counts, per specialty, the people whose
nearest capable institution is within ``max_km`` or ``max_minutes``
(:mod:`mednet.planning.demand`: first leg to the nearest institution, then
the network or the travel layer).

    >>> import mednet
    >>> G = mednet.build_network(mednet.load_region("quzhou"))
    >>> people = Population(names=("甲", "乙"), lat=np.array([28.97, 29.25]), lon=np.array([118.87, 118.36]),
    ...                     people=np.array([1000.0, 3000.0]), kind="points", source="illustrative")
    >>> cover = population_coverage(G, people, specialties=["儿科"], max_km=30)
    >>> cover.rows[0].specialty, cover.rows[0].people
    ('paediatrics', 4000.0)
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import networkx as nx
import numpy as np

from mednet.errors import InvalidRequest
from mednet.importing.population import TownshipPopulation
from mednet.network import CompiledNetwork
from mednet.planning.demand import Attachment, attach, check_limit, nearest_costs
from mednet.planning.gaps import as_network
from mednet.planning.query import offered, resolve_specialties
from mednet.travel.layer import Cost, TravelLayer, check_cost

PopulationKind = Literal["townships", "grid", "institutions", "points"]


@dataclass(frozen=True, eq=False)
class Population:
    """Demand points (name, WGS84 lat/lon) and the people at each; ``source`` says where the figures come from."""

    names: tuple[str, ...]
    lat: np.ndarray
    lon: np.ndarray
    people: np.ndarray
    kind: PopulationKind
    source: str

    def __post_init__(self) -> None:
        n = len(self.names)
        for name in ("lat", "lon", "people"):
            if np.shape(getattr(self, name)) != (n,):
                raise InvalidRequest(name, np.shape(getattr(self, name)), f"must hold one value per point ({n})")
        people = np.asarray(self.people, dtype=float)
        if not np.isfinite(people).all() or (people < 0).any():
            raise InvalidRequest("people", "a negative or missing count", "must be numbers >= 0 at every point")
        if not (np.isfinite(self.lat).all() and np.isfinite(self.lon).all()):
            raise InvalidRequest("lat/lon", "a missing point", "must be given for every demand point")

    @property
    def total(self) -> float:
        return float(np.sum(self.people))

    def __len__(self) -> int:
        return len(self.names)


def townships_population(towns: Sequence[TownshipPopulation], *, net: CompiledNetwork | nx.Graph | None = None,
                         source: str = "人口 sheet") -> Population:
    """Townships as demand points at their official centre; one without a centre point stands at the primary-care
    institution serving it (``net`` given), else it is refused."""
    lat, lon = [], []
    compiled = None if net is None else as_network(net)
    for town in towns:
        if town.lat is not None and town.lon is not None:
            lat.append(town.lat)
            lon.append(town.lon)
            continue
        row = _centre_of(compiled, town) if compiled is not None else None
        if row is None:
            raise InvalidRequest("township", f"{town.county}{town.township}",
                                 "has no centre point in the official list and no health centre serving it",
                                 rule_zh="官方名录中没有该乡镇的中心点，也没有服务该乡镇的卫生院")
        lat.append(float(compiled.lat[row]))  # type: ignore[union-attr]
        lon.append(float(compiled.lon[row]))  # type: ignore[union-attr]
    return Population(names=tuple(f"{t.county}{t.township}" for t in towns), lat=np.array(lat, dtype=float),
                      lon=np.array(lon, dtype=float), people=np.array([t.people for t in towns], dtype=float),
                      kind="townships", source=source)


def _centre_of(net: CompiledNetwork, town: TownshipPopulation) -> int | None:
    for r in np.flatnonzero(net.primary_care):
        data = net.G.nodes[net.ids[r]]
        if data.get("county") == town.county and data.get("township") == town.township:
            return int(r)
    return None


def institutions_population(G_or_net: nx.Graph | CompiledNetwork) -> Population:
    """The primary-care institutions with the population the region gives them (those without one left out)."""
    net = as_network(G_or_net)
    rows = np.flatnonzero(net.primary_care & ~np.isnan(net.population))
    if not len(rows):
        raise InvalidRequest("population", net.region, "must be given for some primary-care institution",
                             rule_zh="区域数据中没有任何基层机构的服务人口")
    names = tuple(net.G.nodes[net.ids[r]].get("name", net.ids[r]) for r in rows)
    people = net.population[rows]
    return Population(names=names, lat=net.lat[rows].astype(float), lon=net.lon[rows].astype(float), people=people,
                      kind="institutions", source=f"region {net.region}: population served")


def raster_population(path: str | os.PathLike[str], *, band: int = 1,
                      bounds: tuple[float, float, float, float] | None = None) -> Population:
    """Grid cells of a population raster (people per cell, e.g. WorldPop), each at its centre.

    Cells with no data, NaN or 0 people are left out. ``bounds`` (west,
    south, east, north in degrees) keeps the cells whose centre is inside.
    The raster must be in geographic WGS84 (EPSG:4326) coordinates.
    """
    import rasterio
    from rasterio.errors import RasterioIOError

    path = Path(path)
    try:
        with rasterio.open(path) as src:
            if src.crs is None or src.crs.to_epsg() != 4326:
                raise InvalidRequest("raster", str(path), f"must be in WGS84 lat/lon (EPSG:4326), is {src.crs}",
                                     rule_zh=f"应为 WGS84 经纬度（EPSG:4326），实为 {src.crs}")
            if not 1 <= band <= src.count:
                raise InvalidRequest("band", band, f"must be between 1 and {src.count}")
            values = src.read(band, masked=True).astype(float).filled(np.nan)
            transform = src.transform
    except RasterioIOError as err:
        raise InvalidRequest("raster", str(path), f"cannot be read as a raster ({err})",
                             rule_zh=f"无法作为栅格文件读取（{err}）") from None
    rows, cols = np.nonzero(np.isfinite(values) & (values > 0))
    if (values[np.isfinite(values)] < 0).any():
        raise InvalidRequest("raster", str(path), "holds negative people counts", rule_zh="含有负的人口数")
    xs, ys = rasterio.transform.xy(transform, rows, cols, offset="center")
    lon, lat = np.asarray(xs, dtype=float).reshape(-1), np.asarray(ys, dtype=float).reshape(-1)
    people = values[rows, cols]
    if bounds is not None:
        west, south, east, north = bounds
        inside = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
        rows, cols, lat, lon, people = rows[inside], cols[inside], lat[inside], lon[inside], people[inside]
    names = tuple(f"r{r}c{c}" for r, c in zip(rows.tolist(), cols.tolist(), strict=True))
    return Population(names=names, lat=lat, lon=lon, people=people, kind="grid", source=path.name)


@dataclass(frozen=True, slots=True)
class PopulationCoverageRow:
    """One specialty: the people counted, those within reach, and their share."""

    specialty: str
    people: float
    covered: float

    @property
    def share(self) -> float:
        return self.covered / self.people if self.people else math.nan


@dataclass(frozen=True, eq=False)
class PopulationCoverage:
    """Per specialty, the people within ``limit`` (``cost``) of a capable institution; ``cost_to[p, s]``: each
    point's cost to the nearest one (inf: none reachable)."""

    population: Population
    specialties: tuple[str, ...]
    cost: Cost
    limit: float
    attachment: Attachment
    cost_to: np.ndarray

    @property
    def covered(self) -> np.ndarray:
        """(points × specialties): within the limit."""
        return self.cost_to <= self.limit

    @property
    def rows(self) -> tuple[PopulationCoverageRow, ...]:
        people = self.population.people
        return tuple(PopulationCoverageRow(code, float(people.sum()), float(people[self.covered[:, s]].sum()))
                     for s, code in enumerate(self.specialties))

    def frame(self) -> Any:
        """One row per specialty: people, covered, share (pandas)."""
        import pandas as pd

        return pd.DataFrame([{"specialty": r.specialty, "people": r.people, "covered": r.covered, "share": r.share}
                             for r in self.rows])

    def points_frame(self) -> Any:
        """One row per demand point: name, lat, lon, people, then the cost to each specialty (pandas)."""
        import pandas as pd

        p = self.population
        frame = pd.DataFrame({"name": p.names, "lat": p.lat, "lon": p.lon, "people": p.people})
        for s, code in enumerate(self.specialties):
            frame[f"{self.cost}_{code}"] = self.cost_to[:, s]
        return frame


def population_coverage(G_or_net: nx.Graph | CompiledNetwork, population: Population, *,
                        specialties: Iterable[str] | str | None = None, max_km: float | None = None,
                        max_minutes: float | None = None, travel: TravelLayer | None = None,
                        include_sessions: bool = True) -> PopulationCoverage:
    """The people within ``max_km`` (along the network) or ``max_minutes`` (travel layer) of each specialty.

    Exactly one limit is given. Sessions count as capability unless ``include_sessions`` is False.
    """
    net = as_network(G_or_net)
    if (max_km is None) == (max_minutes is None):
        raise InvalidRequest("max_km/max_minutes", (max_km, max_minutes), "must give exactly one of them",
                             rule_zh="须且只须给出公里或分钟中的一个")
    cost: Cost = check_cost("km" if max_km is not None else "minutes")
    limit = check_limit(max_km, "max_km") if max_km is not None else check_limit(max_minutes, "max_minutes")
    codes = resolve_specialties(net, specialties)
    held = offered(net, codes, include_sessions=include_sessions)
    at = attach(net, lat=population.lat, lon=population.lon)
    cost_to = nearest_costs(net, at, [held[:, s] for s in range(len(codes))], cost=cost, travel=travel)
    cost_to.flags.writeable = False
    return PopulationCoverage(population=population, specialties=codes, cost=cost, limit=limit, attachment=at,
                              cost_to=cost_to)


__all__ = ["Population", "PopulationCoverage", "PopulationCoverageRow", "PopulationKind", "institutions_population",
           "population_coverage", "raster_population", "townships_population"]

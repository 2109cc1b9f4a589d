"""Coverage gaps, what-ifs and upgrade sites for planners.

Demand points are the primary-care institutions (township and community
health centres). For every specialty, one multi-source Dijkstra pass on the
compiled network gives each demand point its network distance to the
nearest capable institution; a point is a *gap* when that is beyond
``max_km`` (or ``max_minutes`` at the region's speed).

    >>> import mednet
    >>> G = mednet.build_network(mednet.load_region("quzhou"))
    >>> report = find_coverage_gaps(G, specialties=["儿科"], max_km=30)
    >>> report.weight_basis
    'uniform'
    >>> s = report.summary[0]
    >>> s.specialty, s.demand_points, s.gap_points > 0
    ('paediatrics', 56, True)

    >>> [p.name for p in report.gaps("儿科") if p.institution.startswith("kh-")]
    ['齐溪卫生院', '苏庄卫生院', '何田卫生院']

What changes with a weekly paediatric session at one township centre::

    >>> scenario = Scenario(name="儿科 at 何田", add=[{"institution": "何田卫生院", "specialty": "儿科",
    ...     "session": {"weekday": "tue", "part": "morning"}}])
    >>> comparison = what_if(G, scenario, max_km=30)
    >>> comparison.change("儿科").newly_covered, comparison.change("儿科").newly_uncovered
    (('kh-qixi', 'kh-hetian'), ())

Pandas, CSV and maps need the ``planning`` extra (``pip install 'mednet[planning]'``).
"""

from __future__ import annotations

import gc
import math
import mmap
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Literal

import networkx as nx
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import dijkstra

from mednet.errors import InvalidRequest, MissingExtra, ScenarioDataError, UnknownInstitution, UnknownSpecialty
from mednet.extras import require_extra
from mednet.models import LinkKind, Session
from mednet.network import CompiledNetwork, compile_network, resolve_institution
from mednet.regions import read_json, validate_document
from mednet.specialties import resolve_specialty

WeightBasis = Literal["population", "population_partial", "caller", "uniform"]

#: Stand-in length for a zero-length link: scipy's csgraph reads an explicit 0 as "no edge".
ZERO_LINK_KM = 1e-9


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- results


class ServedPoint(_Frozen):
    """A demand point and its distance to the nearest capable institution (None: unreachable)."""

    institution: str
    name: str
    distance_km: float | None


class AreaSpecialty(_Frozen):
    """How one community or county is served for one specialty."""

    specialty: str
    demand: float
    covered_demand: float
    covered_share: float | None = Field(description="None when the area has no demand points")
    gap_points: int
    worst_served: tuple[ServedPoint, ...] = Field(
        description="its three farthest demand points, worst first (those with the specialty on site left out)")


class AreaCoverage(_Frozen):
    """Coverage of one community (its lead and branches) or one county."""

    kind: Literal["community", "county"]
    id: str
    name: str
    demand_points: int
    demand: float
    missing: tuple[str, ...] = Field(description="specialties that no institution of the area offers")
    specialties: tuple[AreaSpecialty, ...]

    def specialty(self, name: str) -> AreaSpecialty:
        code = resolve_specialty(name).code
        for entry in self.specialties:
            if entry.specialty == code:
                return entry
        raise UnknownSpecialty(code, known=[e.specialty for e in self.specialties], where="this report")


class SpecialtyCoverage(_Frozen):
    """One specialty over the whole region."""

    specialty: str
    label_zh: str
    label_en: str
    capable: int = Field(description="institutions offering it permanently")
    in_session: int = Field(description="institutions offering it in scheduled sessions only")
    demand_points: int
    demand: float
    covered_demand: float
    covered_share: float | None
    gap_points: int
    unreachable_points: int
    median_km: float | None
    worst_km: float | None = Field(description="farthest reachable demand point")
    communities_missing: tuple[str, ...] = Field(description="communities where no member offers it")


@dataclass(frozen=True, eq=False)
class CoverageReport:
    """Distance from every demand point to the nearest capable institution, per specialty.

    Arrays are read-only, shaped (demand points, specialties); row ``d`` is
    institution ``demand_ids[d]``. ``distance_km`` is ``inf`` and
    ``nearest_row`` -1 where no capable institution is reachable.
    ``network`` holds the arrays the report was computed on (for a
    what-if: the changed arrays; ``network.G`` is the unchanged graph).
    """

    network: CompiledNetwork = field(repr=False)
    specialties: tuple[str, ...]
    max_km: float | None
    max_minutes: float | None
    speed_kmh: float
    include_sessions: bool
    weight_basis: WeightBasis
    demand_rows: np.ndarray = field(repr=False)
    weight: np.ndarray = field(repr=False)
    distance_km: np.ndarray = field(repr=False)
    nearest_row: np.ndarray = field(repr=False)
    gap: np.ndarray = field(repr=False)

    @property
    def region(self) -> str:
        return self.network.region

    @property
    def demand_ids(self) -> tuple[str, ...]:
        return tuple(self.network.ids[r] for r in self.demand_rows)

    @property
    def minutes(self) -> np.ndarray:
        """Travel minutes at the region's assumed speed."""
        return self.distance_km / self.speed_kmh * 60.0

    @property
    def weight_note(self) -> str:
        return {
            "population": "demand weighted by the population each centre serves",
            "population_partial": "demand weighted by population; centres without a figure count as the median",
            "caller": "demand weighted by the weights given",
            "uniform": "each primary-care institution counts once (no population in the region)",
        }[self.weight_basis]

    def column(self, specialty: str) -> int:
        """Column of a specialty (code, label or alias) in this report's arrays."""
        code = resolve_specialty(specialty).code
        try:
            return self.specialties.index(code)
        except ValueError:
            raise UnknownSpecialty(code, known=self.specialties, where="this report") from None

    def capable_rows(self, specialty: str) -> np.ndarray:
        """Rows (into ``network``) of the institutions counted as offering a specialty."""
        s = self.network.column(resolve_specialty(specialty).code)
        mask = self.network.capable[:, s] | (self.network.in_session[:, s] if self.include_sessions else False)
        return np.flatnonzero(mask)

    @cached_property
    def summary(self) -> tuple[SpecialtyCoverage, ...]:
        """One row per specialty over the whole region."""
        net, w = self.network, self.weight
        missing = _missing_matrix(self, _community_members(net))
        rows = []
        for s, code in enumerate(self.specialties):
            spec, col = resolve_specialty(code), net.column(code)
            d = self.distance_km[:, s]
            finite = d[np.isfinite(d)]
            covered = ~self.gap[:, s]
            rows.append(SpecialtyCoverage(
                specialty=code, label_zh=spec.label_zh, label_en=spec.label_en,
                capable=int(net.capable[:, col].sum()),
                in_session=int((net.in_session[:, col] & ~net.capable[:, col]).sum()),
                demand_points=len(d), demand=float(w.sum()), covered_demand=float(w[covered].sum()),
                covered_share=_share(w[covered].sum(), w.sum()), gap_points=int(self.gap[:, s].sum()),
                unreachable_points=int((~np.isfinite(d)).sum()),
                median_km=float(np.median(finite)) if len(finite) else None,
                worst_km=float(finite.max()) if len(finite) else None,
                communities_missing=tuple(c for c, row in zip(net.community_ids, missing, strict=True) if row[s]),
            ))
        return tuple(rows)

    @cached_property
    def communities(self) -> tuple[AreaCoverage, ...]:
        """Per community: demand of its lead and branches, and what no member offers."""
        net = self.network
        communities = net.G.graph.get("communities", {})
        members = _community_members(net)
        missing = _missing_matrix(self, members)
        home = net.home[self.demand_rows]
        return tuple(
            self._area("community", cid, communities[cid].name, home == c, missing[c])
            for c, cid in enumerate(net.community_ids)
        )

    @cached_property
    def counties(self) -> tuple[AreaCoverage, ...]:
        """Per county: demand of its primary-care institutions, and what no institution there offers."""
        net = self.network
        county = np.array([net.G.nodes[i]["county"] for i in net.ids], dtype=object)
        names = sorted(set(county[self.demand_rows]))
        offered = self._offered()
        areas = []
        for name in names:
            in_county = county == name
            missing = ~offered[in_county].any(axis=0)
            areas.append(self._area("county", name, name, county[self.demand_rows] == name, missing))
        return tuple(areas)

    def community(self, name: str) -> AreaCoverage:
        """A community's coverage by id or name."""
        for area in self.communities:
            if name in (area.id, area.name):
                return area
        from mednet.errors import UnknownCommunity

        known = [a.id for a in self.communities] + [a.name for a in self.communities]
        raise UnknownCommunity(name, known=known, where=f"region {self.region!r}")

    def county(self, name: str) -> AreaCoverage:
        for area in self.counties:
            if area.name == name:
                return area
        raise InvalidRequest("county", name, f"must be one of {[a.name for a in self.counties]}")

    def gaps(self, specialty: str) -> tuple[ServedPoint, ...]:
        """The demand points beyond the limit for one specialty, farthest first."""
        s = self.column(specialty)
        rows = np.flatnonzero(self.gap[:, s])
        order = rows[np.argsort(-self.distance_km[rows, s], kind="stable")]
        return tuple(self._served(d, s) for d in order)

    # ---- exports

    def to_frame(self):
        """Long form: one row per demand point × specialty (needs pandas)."""
        pd = require_extra("pandas", "planning")
        return pd.DataFrame(self._columns())

    def summary_frame(self):
        """One row per specialty (needs pandas)."""
        pd = require_extra("pandas", "planning")
        frame = pd.DataFrame([s.model_dump() for s in self.summary])
        frame["communities_missing"] = frame["communities_missing"].map(" ".join)
        return frame

    def area_frame(self, *, by: Literal["community", "county"] = "community"):
        """One row per community (or county) × specialty (needs pandas)."""
        pd = require_extra("pandas", "planning")
        if by not in ("community", "county"):
            raise InvalidRequest("by", by, "must be 'community' or 'county'")
        areas = self.communities if by == "community" else self.counties
        rows = [
            {
                by + "_id": a.id, by: a.name, "specialty": s.specialty, "demand_points": a.demand_points,
                "demand": s.demand, "covered_demand": s.covered_demand, "covered_share": s.covered_share,
                "gap_points": s.gap_points, "missing": s.specialty in a.missing,
                "worst_served": " ".join(p.name for p in s.worst_served),
            }
            for a in areas for s in a.specialties
        ]
        return pd.DataFrame(rows)

    def to_csv(self, path_or_buf=None) -> str | None:
        """The long form as CSV (UTF-8, distances to the metre); returns the text when no path is given."""
        return self.to_frame().round({"distance_km": 3, "minutes": 2}).to_csv(path_or_buf, index=False)

    def to_geojson(self, specialty: str | None = None) -> dict:
        """A GeoJSON FeatureCollection: one point per demand point × specialty ([lon, lat], RFC 7946)."""
        cols = self._columns()
        keep = np.ones(len(cols["specialty"]), dtype=bool)
        if specialty is not None:
            keep = np.asarray(cols["specialty"]) == self.specialties[self.column(specialty)]
        props = [k for k in cols if k not in ("lat", "lon")]
        features = []
        for i in np.flatnonzero(keep):
            p = {k: _json_value(cols[k][i]) for k in props}
            features.append({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [float(cols["lon"][i]), float(cols["lat"][i])]},
                "properties": p,
            })
        return {
            "type": "FeatureCollection",
            "features": features,
            "properties": {"region": self.region, "max_km": self.max_km, "max_minutes": self.max_minutes,
                           "weight_basis": self.weight_basis},
        }

    def to_map(self, specialty: str, path: str | os.PathLike[str] | None = None):
        """A matplotlib map of one specialty (see :func:`mednet.maps.draw_coverage_map`)."""
        from mednet.maps import draw_coverage_map

        return draw_coverage_map(self, specialty, path)

    # ---- helpers

    def _offered(self) -> np.ndarray:
        net = self.network
        cols = [net.column(c) for c in self.specialties]
        offered = net.capable[:, cols]
        return offered | net.in_session[:, cols] if self.include_sessions else offered

    def _served(self, d: int, s: int) -> ServedPoint:
        node = self.network.ids[self.demand_rows[d]]
        km = float(self.distance_km[d, s])
        return ServedPoint(institution=node, name=self.network.G.nodes[node]["name"],
                           distance_km=round(km, 3) if math.isfinite(km) else None)

    def _area(self, kind, id_, name, in_area: np.ndarray, missing: np.ndarray) -> AreaCoverage:
        rows = np.flatnonzero(in_area)
        w = self.weight[rows]
        per = []
        for s, code in enumerate(self.specialties):
            covered = ~self.gap[rows, s]
            far = rows[self.distance_km[rows, s] > 0]
            worst = far[np.argsort(-self.distance_km[far, s], kind="stable")[:3]]
            per.append(AreaSpecialty(
                specialty=code, demand=float(w.sum()), covered_demand=float(w[covered].sum()),
                covered_share=_share(w[covered].sum(), w.sum()), gap_points=int((~covered).sum()),
                worst_served=tuple(self._served(d, s) for d in worst),
            ))
        return AreaCoverage(
            kind=kind, id=id_, name=name, demand_points=len(rows), demand=float(w.sum()),
            missing=tuple(c for c, m in zip(self.specialties, missing, strict=True) if m), specialties=tuple(per),
        )

    def _columns(self) -> dict[str, Sequence]:
        net, G = self.network, self.network.G
        n_d, n_s = self.distance_km.shape
        ids = np.array(self.demand_ids, dtype=object)
        attrs = [G.nodes[i] for i in ids]
        communities = G.graph.get("communities", {})
        home = net.home[self.demand_rows]
        com_id = np.array([net.community_ids[h] if h >= 0 else None for h in home], dtype=object)
        com_name = np.array([communities[c].name if c else None for c in com_id], dtype=object)
        names = np.array([G.nodes[i]["name"] for i in net.ids] + [None], dtype=object)
        all_ids = np.array(list(net.ids) + [None], dtype=object)
        nearest = self.nearest_row.ravel()  # -1 picks the trailing None
        cols = [net.column(c) for c in self.specialties]
        session_only = (net.in_session & ~net.capable)[:, cols]
        nearest_session = np.where(nearest >= 0, session_only[nearest, np.tile(np.arange(n_s), n_d)], False)
        per_point = lambda values: np.repeat(np.array(values, dtype=object), n_s)  # noqa: E731
        return {
            "institution_id": per_point(ids),
            "name": per_point([a["name"] for a in attrs]),
            "tier": per_point([str(a["tier"]) for a in attrs]),
            "community_id": per_point(com_id),
            "community": per_point(com_name),
            "county": per_point([a["county"] for a in attrs]),
            "lat": np.repeat(net.lat[self.demand_rows], n_s),
            "lon": np.repeat(net.lon[self.demand_rows], n_s),
            "weight": np.repeat(self.weight, n_s),
            "specialty": np.tile(np.array(self.specialties, dtype=object), n_d),
            "specialty_zh": np.tile(np.array([resolve_specialty(c).label_zh for c in self.specialties],
                                             dtype=object), n_d),
            "distance_km": self.distance_km.ravel(),
            "minutes": self.minutes.ravel(),
            "nearest_id": all_ids[nearest],
            "nearest_name": names[nearest],
            "nearest_in_session": nearest_session,
            "gap": self.gap.ravel(),
        }


def _share(part: float, whole: float) -> float | None:
    return float(part / whole) if whole > 0 else None


def _json_value(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _community_members(net: CompiledNetwork) -> list[np.ndarray]:
    communities = net.G.graph.get("communities", {})
    return [
        np.array([net.index[m.institution] for m in communities[cid].members if m.institution in net.index],
                 dtype=np.int64)
        for cid in net.community_ids
    ]


def _missing_matrix(report: CoverageReport, members: list[np.ndarray]) -> np.ndarray:
    """(communities, specialties): True where no member of any role offers the specialty."""
    offered = report._offered()
    out = np.ones((len(members), len(report.specialties)), dtype=bool)
    for c, rows in enumerate(members):
        if len(rows):
            out[c] = ~offered[rows].any(axis=0)
    return out


# --------------------------------------------------------------------------- the pass


def find_coverage_gaps(
    G_or_net: nx.Graph | CompiledNetwork,
    *,
    specialties: Iterable[str] | None = None,
    max_km: float | None = None,
    max_minutes: float | None = None,
    weights: Mapping[str, float] | None = None,
    include_sessions: bool = True,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
) -> CoverageReport:
    """Distance from each primary-care institution to the nearest capable one, per specialty.

    One multi-source Dijkstra pass per specialty on the compiled network
    (scipy's csgraph; a capable demand point has distance 0). A point is a
    gap when beyond ``max_km`` or ``max_minutes`` (at the region's speed);
    with neither, only unreachable points are gaps. Demand is weighted by
    ``population`` where the region gives it, else by ``weights`` (id or
    name → weight, one per primary-care institution), else 1 each;
    ``weight_basis`` says which. Sessions count as capability unless
    ``include_sessions`` is False. Specialties offered at exactly the same
    institutions share one pass. ``workers`` > 1 splits the passes over
    that many forked processes on Linux (scipy's search holds the GIL, so
    threads would not help); elsewhere it runs them in turn. ``progress``
    is called with each specialty code once it is done. Pass a compiled
    network to skip compiling on repeated calls.

    >>> import mednet
    >>> G = mednet.build_network(mednet.load_region("quzhou"))
    >>> find_coverage_gaps(G, specialties=["paediatrics"], max_km=0)
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidRequest: `max_km` must be a number > 0, got 0
    """
    net = _as_network(G_or_net)
    max_km = _check_limit("max_km", max_km)
    max_minutes = _check_limit("max_minutes", max_minutes)
    codes = _resolve_specialties(net, specialties)
    demand = np.flatnonzero(net.primary_care)
    weight, basis = _demand_weights(net, demand, weights)
    speed = float(net.G.graph.get("speed_kmh", 40.0))
    csr = search_graph(net.csr)

    offered = net.capable | net.in_session if include_sessions else net.capable
    columns = [offered[:, net.column(code)] for code in codes]
    distance, nearest = _all_passes(csr, columns, demand, workers=_check_workers(workers),
                                    done=(lambda s: progress(codes[s])) if progress else None)

    gap = ~np.isfinite(distance)
    if max_km is not None:
        gap |= distance > max_km
    if max_minutes is not None:
        gap |= distance / speed * 60.0 > max_minutes
    for a in (demand, weight, distance, nearest, gap):
        a.flags.writeable = False
    return CoverageReport(
        network=net, specialties=codes, max_km=max_km, max_minutes=max_minutes, speed_kmh=speed,
        include_sessions=include_sessions, weight_basis=basis, demand_rows=demand, weight=weight,
        distance_km=distance, nearest_row=nearest, gap=gap,
    )


def search_graph(csr: csr_array) -> csr_array:
    """The CSR matrix made safe for scipy's csgraph: zero-length links kept as a tiny length.

    An explicit 0 in a sparse matrix is easily lost (sparse arithmetic and
    conversions drop it, and csgraph reads 0 in dense input as "no edge"),
    so a zero-length link becomes :data:`ZERO_LINK_KM`; negative or NaN
    lengths are refused.
    """
    data = csr.data
    if data.size == 0:
        return csr
    low = data.min()
    if np.isnan(low) or low < 0:
        raise InvalidRequest("distance_km", float(low), "of every link must be a number >= 0")
    if low > 0:
        return csr
    fixed = csr.copy()
    fixed.data = np.where(fixed.data == 0, ZERO_LINK_KM, fixed.data)
    return fixed


def _all_passes(csr, columns: list[np.ndarray], demand: np.ndarray, *, workers: int, done) -> tuple[np.ndarray, ...]:
    """(demand × specialties) distance and nearest row, one pass per distinct set of capable rows."""
    first: dict[bytes, int] = {}
    tasks = [first.setdefault(np.packbits(c).tobytes(), s) for s, c in enumerate(columns)]
    todo = [s for s in sorted(set(tasks)) if columns[s].any()]
    parallel = workers > 1 and len(todo) > 1 and hasattr(os, "fork") and sys.platform == "linux"
    full = _shared_full if parallel else np.full  # forked workers write their results into shared memory
    distance = full((len(columns), len(demand)), np.inf)
    nearest = full((len(columns), len(demand)), -1, dtype=np.int64)

    def run(s: int) -> None:
        dist, source = nearest_sources(csr, np.flatnonzero(columns[s]))
        distance[s], nearest[s] = dist[demand], np.maximum(source[demand], -1)

    if parallel:
        for part in _forked(run, todo, workers):  # a worker that failed: its passes are run here
            for s in part:
                run(s)
    for s, task in enumerate(tasks):
        if not parallel and s == task and s in todo:
            run(s)
        if task != s:
            distance[s], nearest[s] = distance[task], nearest[task]
        if done is not None:
            done(s)
    return np.ascontiguousarray(distance.T), np.ascontiguousarray(nearest.T)


def _shared_full(shape: tuple[int, ...], value, dtype=float) -> np.ndarray:
    """``np.full`` in anonymous shared memory (kept across ``fork``)."""
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    array = np.frombuffer(mmap.mmap(-1, max(size, 1)), dtype=dtype, count=int(np.prod(shape))).reshape(shape)
    array[...] = value
    return array


def _forked(run: Callable[[int], None], todo: list[int], workers: int) -> list[list[int]]:
    """Run ``run`` over ``todo`` split round-robin across forked workers; returns the parts that failed."""
    parts = [todo[w::workers] for w in range(min(workers, len(todo)))]
    pids = []
    for part in parts:
        pid = os.fork()
        if pid == 0:  # the child runs scipy and numpy only, then leaves without any clean-up
            gc.disable()  # a collection would walk (and so copy) the parent's whole heap
            status = 0
            try:
                for s in part:
                    run(s)
            except BaseException:
                status = 1
            os._exit(status)
        pids.append(pid)
    return [part for part, pid in zip(parts, pids, strict=True) if os.waitpid(pid, 0)[1] != 0]


def _check_workers(workers) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
        raise InvalidRequest("workers", workers, "must be a whole number >= 1")
    return int(workers)


def nearest_sources(csr: csr_array, sources: np.ndarray, *, limit: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """One multi-source pass: each node's distance to the nearest source, and that source's row.

    The matrix is symmetric (both directions stored), so it is searched as
    directed: the same answer as undirected at two thirds of the cost.
    Unreachable nodes get ``inf`` and source -9999 (scipy's marker).
    """
    dist, _, source = dijkstra(csr, directed=True, indices=sources, min_only=True,
                               return_predecessors=True, limit=limit)
    return dist, source


def _as_network(G_or_net) -> CompiledNetwork:
    if isinstance(G_or_net, CompiledNetwork):
        return G_or_net
    if isinstance(G_or_net, nx.Graph):
        return compile_network(G_or_net)
    raise InvalidRequest("G", type(G_or_net).__name__, "must be a network (mednet.build_network) or a compiled one")


def _check_limit(name: str, value) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidRequest(name, value, "must be a number > 0") from None
    if not (math.isfinite(number) and number > 0) or isinstance(value, bool):
        raise InvalidRequest(name, value, "must be a number > 0")
    return number


def _resolve_specialties(net: CompiledNetwork, specialties: Iterable[str] | str | None) -> tuple[str, ...]:
    if specialties is None:
        return net.specialties
    if isinstance(specialties, str):
        specialties = [specialties]
    codes = tuple(dict.fromkeys(resolve_specialty(s).code for s in specialties))
    if not codes:
        raise InvalidRequest("specialties", [], "must name at least one specialty (or None for all)")
    for code in codes:
        if code not in net.specialties:
            raise UnknownSpecialty(code, known=net.specialties, where="the compiled network")
    return codes


def _demand_weights(net: CompiledNetwork, demand: np.ndarray, weights) -> tuple[np.ndarray, WeightBasis]:
    G = net.G
    if weights is not None:
        out = np.full(len(demand), np.nan)
        position = {int(r): d for d, r in enumerate(demand)}
        for name, value in weights.items():
            node = resolve_institution(G, name)
            d = position.get(net.index[node])
            if d is None:
                raise InvalidRequest("weights", name, "must name primary-care institutions (the demand points)")
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise InvalidRequest(f"weights[{name!r}]", value, "must be a number >= 0") from None
            if not (math.isfinite(number) and number >= 0):
                raise InvalidRequest(f"weights[{name!r}]", value, "must be a number >= 0")
            out[d] = number
        missing = [net.ids[demand[d]] for d in np.flatnonzero(np.isnan(out))]
        if missing:
            shown = ", ".join(missing[:3]) + (" …" if len(missing) > 3 else "")
            raise InvalidRequest("weights", f"{len(missing)} demand points left out ({shown})",
                                 "must give a weight for every primary-care institution")
        return out, "caller"
    given = dict(G.nodes(data="population"))
    population = np.array([given[net.ids[r]] for r in demand], dtype=float)  # None → nan
    known = ~np.isnan(population)
    if len(demand) and known.all():
        return population, "population"
    if known.any():
        return np.where(known, population, np.median(population[known])), "population_partial"
    return np.ones(len(demand)), "uniform"


# --------------------------------------------------------------------------- what-ifs


class ScenarioCapability(_Frozen):
    """A specialty added at an institution: permanently, or in a visiting ``session``."""

    institution: str = Field(min_length=1, description="id, name or alias")
    specialty: str = Field(min_length=1, description="code, label or alias")
    session: Session | None = Field(None, description="None: a permanent capability")


class ScenarioRemoval(_Frozen):
    """A specialty an institution stops offering (permanent and sessions alike)."""

    institution: str = Field(min_length=1)
    specialty: str = Field(min_length=1)


class ScenarioLink(_Frozen):
    """A new referral link (or a shorter one, replacing a longer existing link)."""

    a: str = Field(min_length=1)
    b: str = Field(min_length=1)
    distance_km: float = Field(gt=0, allow_inf_nan=False)
    kind: LinkKind = LinkKind.NEIGHBOUR


class Scenario(_Frozen):
    """A planned change to compare with today's network.

    >>> Scenario.model_validate_json('{"name": "x", "add": [{"institution": "华埠镇卫生院", "specialty": "儿科"}]}').add[0]
    ScenarioCapability(institution='华埠镇卫生院', specialty='儿科', session=None)
    """

    name: str = Field(min_length=1)
    description: str | None = None
    add: tuple[ScenarioCapability, ...] = ()
    remove: tuple[ScenarioRemoval, ...] = ()
    links: tuple[ScenarioLink, ...] = ()

    @model_validator(mode="after")
    def _changes_something(self) -> Scenario:
        if not (self.add or self.remove or self.links):
            raise ValueError("a scenario must add, remove or link something")
        return self


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read a scenario from a JSON file; a broken file fails naming the file, place and rule."""
    return parse_scenario(read_json(Path(path), error=ScenarioDataError), file=str(path))


def parse_scenario(raw: object, *, file: str = "<scenario>") -> Scenario:
    """Validate a decoded scenario document; errors name ``file`` and the place."""
    return validate_document(Scenario, raw, file=file, error=ScenarioDataError)


class SpecialtyChange(_Frozen):
    """What a scenario changes for one specialty."""

    specialty: str
    covered_demand_before: float
    covered_demand_after: float
    newly_covered_points: int
    newly_covered_demand: float
    newly_uncovered_points: int
    newly_uncovered_demand: float
    closer_points: int
    farther_points: int
    newly_covered: tuple[str, ...] = Field(description="ids of the demand points brought within the limit")
    newly_uncovered: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class ScenarioComparison:
    """Coverage before and after a scenario, on the same demand points."""

    scenario: Scenario
    before: CoverageReport = field(repr=False)
    after: CoverageReport = field(repr=False)
    changes: tuple[SpecialtyChange, ...]

    def change(self, specialty: str) -> SpecialtyChange:
        return self.changes[self.before.column(specialty)]

    def to_frame(self):
        """One row per demand point × specialty with the before and after distance (needs pandas)."""
        pd = require_extra("pandas", "planning")
        before, after = self.before._columns(), self.after._columns()
        keys = ("institution_id", "name", "community", "county", "lat", "lon", "weight", "specialty", "specialty_zh")
        frame = pd.DataFrame({k: before[k] for k in keys})
        for k in ("distance_km", "nearest_id", "nearest_name", "gap"):
            frame[f"{k}_before"] = before[k]
            frame[f"{k}_after"] = after[k]
        frame["newly_covered"] = frame["gap_before"] & ~frame["gap_after"]
        frame["newly_uncovered"] = ~frame["gap_before"] & frame["gap_after"]
        return frame

    def to_geojson(self) -> dict:
        """The points after the scenario, each with its distance and gap before as well."""
        doc = self.after.to_geojson()
        before = self.before.to_geojson()["features"]
        for feature, old in zip(doc["features"], before, strict=True):
            p, q = feature["properties"], old["properties"]
            p["distance_km_before"], p["gap_before"] = q["distance_km"], q["gap"]
            p["newly_covered"], p["newly_uncovered"] = q["gap"] and not p["gap"], p["gap"] and not q["gap"]
        doc["properties"]["scenario"] = self.scenario.name
        return doc

    def summary_frame(self):
        pd = require_extra("pandas", "planning")
        frame = pd.DataFrame([c.model_dump() for c in self.changes])
        for k in ("newly_covered", "newly_uncovered"):
            frame[k] = frame[k].map(" ".join)
        return frame


def apply_scenario(net: CompiledNetwork, scenario: Scenario, *, where: str | None = None) -> CompiledNetwork:
    """A copy of the compiled arrays with the scenario applied; the original is untouched.

    ``where`` (a file name) is put in the messages of unknown names.
    """
    G = net.G
    label = where or f"scenario {scenario.name!r}"
    capable, in_session = net.capable.copy(), net.in_session.copy()
    for place, change in [(f"add[{i}]", c) for i, c in enumerate(scenario.add)] + \
                         [(f"remove[{i}]", c) for i, c in enumerate(scenario.remove)]:
        row = net.index[_resolve_in(G, change.institution, f"{label}: {place}.institution")]
        col = _column_in(net, change.specialty, f"{label}: {place}.specialty")
        if isinstance(change, ScenarioRemoval):
            capable[row, col] = in_session[row, col] = False
        elif change.session is None:
            capable[row, col], in_session[row, col] = True, False
        elif not capable[row, col]:
            in_session[row, col] = True
    csr = net.csr
    if scenario.links:
        ends = [(net.index[_resolve_in(G, link.a, f"{label}: links[{i}].a")],
                 net.index[_resolve_in(G, link.b, f"{label}: links[{i}].b")], link.distance_km)
                for i, link in enumerate(scenario.links)]
        for i, (a, b, _) in enumerate(ends):
            if a == b:
                raise InvalidRequest(f"links[{i}]", scenario.links[i].a, "must join two different institutions")
        csr = _with_links(net.csr, ends)
    return replace(net, capable=capable, in_session=in_session, csr=csr)


def _with_links(csr: csr_array, ends: list[tuple[int, int, float]]) -> csr_array:
    coo = coo_array(csr)
    rows, cols, data = coo.row, coo.col, coo.data
    a = np.array([e[0] for e in ends] + [e[1] for e in ends])
    b = np.array([e[1] for e in ends] + [e[0] for e in ends])
    km = np.array([e[2] for e in ends] * 2, dtype=float)
    rows, cols, data = np.concatenate((rows, a)), np.concatenate((cols, b)), np.concatenate((data, km))
    # keep the shortest of duplicate edges: sort by (row, col, length) and take the first of each pair
    order = np.lexsort((data, cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return csr_array((data[first], (rows[first], cols[first])), shape=csr.shape)


def _resolve_in(G: nx.Graph, name: str, where: str) -> str:
    try:
        return resolve_institution(G, name)
    except UnknownInstitution as err:
        raise UnknownInstitution(name, known=err.suggestions, where=where) from None


def _column_in(net: CompiledNetwork, name: str, where: str) -> int:
    try:
        code = resolve_specialty(name).code
    except UnknownSpecialty as err:
        raise UnknownSpecialty(name, known=err.suggestions, where=where) from None
    return net.column(code)


def what_if(
    G_or_net: nx.Graph | CompiledNetwork,
    scenario: Scenario | str | os.PathLike[str],
    *,
    specialties: Iterable[str] | None = None,
    max_km: float | None = None,
    max_minutes: float | None = None,
    weights: Mapping[str, float] | None = None,
    include_sessions: bool = True,
) -> ScenarioComparison:
    """Coverage before and after a scenario (a :class:`Scenario` or a JSON file path).

    ``specialties`` defaults to those the scenario adds or removes (all of
    them when it only adds links). The graph and its compiled arrays are
    never changed: the scenario is applied to copies.
    """
    where = None
    if not isinstance(scenario, Scenario):
        where = f"scenario file {os.fspath(scenario)}"
        scenario = load_scenario(scenario)
    net = _as_network(G_or_net)
    changed = apply_scenario(net, scenario, where=where)
    if specialties is None and (scenario.add or scenario.remove):
        specialties = [resolve_specialty(c.specialty).code for c in (*scenario.add, *scenario.remove)]
    options = dict(specialties=specialties, max_km=max_km, max_minutes=max_minutes, weights=weights,
                   include_sessions=include_sessions)
    before = find_coverage_gaps(net, **options)
    after = find_coverage_gaps(changed, **options)
    ids = np.array(before.demand_ids, dtype=object)
    changes = []
    for s, code in enumerate(before.specialties):
        gained = before.gap[:, s] & ~after.gap[:, s]
        lost = ~before.gap[:, s] & after.gap[:, s]
        w = before.weight
        changes.append(SpecialtyChange(
            specialty=code,
            covered_demand_before=float(w[~before.gap[:, s]].sum()),
            covered_demand_after=float(w[~after.gap[:, s]].sum()),
            newly_covered_points=int(gained.sum()), newly_covered_demand=float(w[gained].sum()),
            newly_uncovered_points=int(lost.sum()), newly_uncovered_demand=float(w[lost].sum()),
            closer_points=int((after.distance_km[:, s] < before.distance_km[:, s]).sum()),
            farther_points=int((after.distance_km[:, s] > before.distance_km[:, s]).sum()),
            newly_covered=tuple(ids[gained]), newly_uncovered=tuple(ids[lost]),
        ))
    return ScenarioComparison(scenario=scenario, before=before, after=after, changes=tuple(changes))


# --------------------------------------------------------------------------- upgrade sites


class UpgradeStep(_Frozen):
    """One chosen site and what it adds on top of the sites chosen before it."""

    rank: int
    institution: str
    name: str
    tier: str
    county: str
    lat: float
    lon: float
    gain_demand: float = Field(description="uncovered demand this site brings within the limit (marginal gain)")
    gain_points: int
    covered_demand: float = Field(description="covered demand after this step, cumulative")
    covered_share: float | None
    newly_covered: tuple[str, ...]


class UpgradePlan(_Frozen):
    """The greedy maximal-covering choice of upgrade sites for one specialty."""

    region: str
    specialty: str
    max_km: float
    k: int
    weight_basis: WeightBasis
    demand: float
    covered_demand_before: float
    candidates: int
    steps: tuple[UpgradeStep, ...]
    note: str | None = None

    @property
    def covered_demand_after(self) -> float:
        return self.steps[-1].covered_demand if self.steps else self.covered_demand_before

    def to_frame(self):
        pd = require_extra("pandas", "planning")
        frame = pd.DataFrame([s.model_dump() for s in self.steps], columns=list(UpgradeStep.model_fields))
        frame["newly_covered"] = frame["newly_covered"].map(" ".join)
        return frame

    def to_geojson(self) -> dict:
        """The chosen sites as points ([lon, lat]) with rank and marginal gain."""
        features = [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
             "properties": s.model_dump(mode="json", exclude={"lat", "lon"})}
            for s in self.steps
        ]
        return {"type": "FeatureCollection", "features": features,
                "properties": self.model_dump(mode="json", exclude={"steps"})}


def suggest_upgrades(
    G_or_net: nx.Graph | CompiledNetwork,
    specialty: str,
    *,
    k: int,
    max_km: float,
    candidates: Iterable[str] | None = None,
    weights: Mapping[str, float] | None = None,
    include_sessions: bool = True,
) -> UpgradePlan:
    """The ``k`` institutions where adding ``specialty`` covers the most uncovered demand.

    Maximal covering location problem, solved greedily: each step takes the
    candidate whose ball of radius ``max_km`` (network distance) holds the
    most still-uncovered demand, ties to the earlier institution. Covered
    demand is a monotone submodular function of the chosen set, so greedy
    covers at least (1 − 1/e) ≈ 63 % of what the best set of ``k`` sites
    would (Nemhauser, Wolsey & Fisher 1978); each step reports its marginal
    gain. Stops early when no candidate adds anything. Candidates default to
    every institution not yet offering the specialty. Balls come from
    bounded multi-source searches (``limit=max_km``) from the uncovered
    demand points, in batches, into a sparse demand × candidate matrix.

    >>> import mednet
    >>> G = mednet.build_network(mednet.load_region("quzhou"))
    >>> plan = suggest_upgrades(G, "儿科", k=2, max_km=30)
    >>> len(plan.steps), plan.steps[0].gain_demand >= plan.steps[1].gain_demand
    (2, True)
    """
    net = _as_network(G_or_net)
    limit = _check_limit("max_km", max_km)
    if limit is None:
        raise InvalidRequest("max_km", max_km, "must be a number > 0")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InvalidRequest("k", k, "must be a whole number >= 1")
    report = find_coverage_gaps(net, specialties=[specialty], max_km=limit, weights=weights,
                                include_sessions=include_sessions)
    code, s = report.specialties[0], 0
    if candidates is None:
        offered = report._offered()[:, 0]
        cand = np.flatnonzero(~offered)
    else:
        cand = np.array(sorted({net.index[resolve_institution(net.G, c)] for c in candidates}), dtype=np.int64)
    w_all = report.weight
    uncovered = np.flatnonzero(report.gap[:, s])
    total = float(w_all.sum())
    covered = float(w_all[~report.gap[:, s]].sum())
    common = dict(region=net.region, specialty=code, max_km=limit, k=int(k), weight_basis=report.weight_basis,
                  demand=total, covered_demand_before=covered, candidates=len(cand))
    if not len(uncovered):
        return UpgradePlan(**common, steps=(), note="every demand point is already within max_km")
    if not len(cand):
        return UpgradePlan(**common, steps=(), note="no candidate institution")

    ball = _coverage_matrix(net, report.demand_rows[uncovered], cand, limit)  # uncovered × candidates
    w = w_all[uncovered].astype(float)
    active = np.ones(len(uncovered), dtype=bool)
    gain = ball.T @ w
    by_candidate = ball.tocsc()
    steps, note = [], None
    for rank in range(1, int(k) + 1):
        c = int(np.argmax(gain))
        if gain[c] <= 0:
            note = f"stopped after {rank - 1} sites: no other candidate covers more demand within max_km"
            break
        hit = by_candidate.indices[by_candidate.indptr[c]:by_candidate.indptr[c + 1]]
        hit = hit[active[hit]]
        active[hit] = False
        gain -= ball[hit].T @ w[hit]
        gain[c] = 0.0
        covered += float(w[hit].sum())
        node = net.ids[cand[c]]
        attrs = net.G.nodes[node]
        steps.append(UpgradeStep(
            rank=rank, institution=node, name=attrs["name"], tier=str(attrs["tier"]), county=attrs["county"],
            lat=float(net.lat[cand[c]]), lon=float(net.lon[cand[c]]),
            gain_demand=float(w[hit].sum()), gain_points=len(hit), covered_demand=covered,
            covered_share=_share(covered, total),
            newly_covered=tuple(net.ids[report.demand_rows[uncovered[h]]] for h in hit),
        ))
    return UpgradePlan(**common, steps=tuple(steps), note=note)


def _coverage_matrix(net: CompiledNetwork, rows: np.ndarray, cand: np.ndarray, max_km: float) -> csr_array:
    """Sparse (rows × candidates) 0/1 matrix: candidate within ``max_km`` of each row's point.

    The network is undirected, so searching from the demand points gives
    the same distances as from the candidates; batches keep the dense
    scipy output under ~64 MB.
    """
    csr = search_graph(net.csr)
    position = np.full(net.n, -1, dtype=np.int64)
    position[cand] = np.arange(len(cand))
    batch = max(1, 8_000_000 // max(net.n, 1))
    parts_r, parts_c = [], []
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        dist = dijkstra(csr, directed=True, indices=chunk, limit=max_km)
        r, node = np.nonzero(np.isfinite(dist))
        keep = position[node] >= 0
        r, c = r[keep], position[node[keep]]
        parts_r.append(r + start)
        parts_c.append(c)
    r, c = np.concatenate(parts_r), np.concatenate(parts_c)
    return csr_array((np.ones(len(r)), (r, c)), shape=(len(rows), len(cand)))


__all__ = [
    "AreaCoverage", "AreaSpecialty", "CoverageReport", "MissingExtra", "Scenario", "ScenarioCapability",
    "ScenarioComparison", "ScenarioDataError", "ScenarioLink", "ScenarioRemoval", "ServedPoint",
    "SpecialtyChange", "SpecialtyCoverage", "UpgradePlan", "UpgradeStep", "apply_scenario", "find_coverage_gaps",
    "load_scenario", "parse_scenario", "search_graph", "nearest_sources", "suggest_upgrades", "what_if",
]

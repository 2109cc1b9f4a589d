"""The coverage report: distance from each demand point to the care it may need, per specialty, and its exports.

A :class:`CoverageReport` is made by :func:`mednet.planning.gaps.find_coverage_gaps`;
it is immutable and turns into summaries per specialty, community and
county, a long DataFrame, CSV and GeoJSON (pandas: the ``planning`` extra).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from mednet.errors import InvalidRequest, UnknownSpecialty
from mednet.extras import require_extra
from mednet.models import Frozen
from mednet.network import CompiledNetwork
from mednet.planning.query import offered
from mednet.specialties import resolve_specialty
from mednet.travel.layer import Cost, TravelLayer

if TYPE_CHECKING:
    import pandas as pd

WeightBasis = Literal["population", "population_partial", "caller", "uniform"]


def _left_out(value: object) -> bool:
    return value is None


def by_travel(default: None = None, **kwargs: Any) -> Any:
    """A field given only by travel cost: left out of the output otherwise (network km answers keep their form)."""
    return Field(default, exclude_if=_left_out, **kwargs)


class ServedPoint(Frozen):
    """A demand point and its distance to the nearest capable institution (None: unreachable)."""

    institution: str
    name: str
    distance_km: float | None
    minutes: float | None = by_travel(description="by travel cost: its minutes (left out by network km)")


class BasisCount(Frozen):
    """A basis of travel figures and how many demand points' figures rest on it."""

    kind: str = Field(description="default_model, road_network, od_table or same_institution")
    source: str | None = None
    title: str | None = None
    detail: str | None = None
    points: int


class AreaSpecialty(Frozen):
    """How one community or county is served for one specialty."""

    specialty: str
    demand: float
    covered_demand: float
    covered_share: float | None = Field(description="None when the area has no demand points")
    gap_points: int
    worst_served: tuple[ServedPoint, ...] = Field(
        description="its three farthest demand points, worst first (those with the specialty on site left out)")


class AreaCoverage(Frozen):
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


class SpecialtyCoverage(Frozen):
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
    median_minutes: float | None = by_travel(description="by travel cost (left out by network km)")
    worst_minutes: float | None = by_travel(description="by travel cost: slowest reachable demand point")
    km_basis: tuple[BasisCount, ...] | None = by_travel(description="by travel cost: where the km come from")
    minutes_basis: tuple[BasisCount, ...] | None = by_travel(
        description="by travel cost: where the minutes come from (default_model: estimated, not measured)")


@dataclass(frozen=True, eq=False)
class CoverageReport:
    """Distance from every demand point to the nearest capable institution, per specialty.

    Arrays are read-only, shaped (demand points, specialties); row ``d`` is
    institution ``demand_ids[d]``. ``distance_km`` is ``inf`` and
    ``nearest_row`` -1 where no capable institution is reachable.
    ``network`` holds the arrays the report was computed on (for a
    what-if: the changed arrays; ``network.G`` is the unchanged graph).

    By travel cost (``travel`` set): the nearest is of least ``cost`` on the
    travel layer; ``distance_km`` and ``travel_minutes`` are its km and
    minutes there, ``km_basis``/``minutes_basis`` their basis codes (into
    ``travel.bases``; -1 where unreachable).
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
    cost: Cost = "km"
    travel: TravelLayer | None = field(default=None, repr=False)
    travel_minutes: np.ndarray | None = field(default=None, repr=False)
    km_basis: np.ndarray | None = field(default=None, repr=False)
    minutes_basis: np.ndarray | None = field(default=None, repr=False)

    @property
    def region(self) -> str:
        return self.network.region

    @property
    def demand_ids(self) -> tuple[str, ...]:
        return tuple(self.network.ids[r] for r in self.demand_rows)

    @property
    def minutes(self) -> np.ndarray:
        """Travel minutes: on the travel layer by travel cost, else the network km at the region's assumed speed."""
        if self.travel_minutes is not None:
            return self.travel_minutes
        return self.distance_km / self.speed_kmh * 60.0

    @property
    def ranked(self) -> np.ndarray:
        """What the nearest is chosen by, and farthest means: minutes by ``cost="minutes"``, else km."""
        return self.minutes if self.cost == "minutes" else self.distance_km

    @property
    def basis_note(self) -> str:
        """Where distances and minutes come from, in words."""
        if self.travel is None or self.minutes_basis is None:
            return (f"km along referral links (great circle × road factor per link); minutes at the region's "
                    f"{self.speed_kmh:g} km/h")
        kinds = {self.travel.bases[int(c)].kind for c in np.unique(self.minutes_basis) if c >= 0}
        note = f"nearest by travel {self.cost} on the travel layer, between the institutions (not along links)"
        if "default_model" in kinds:
            note += "; minutes of the default model are estimates (great circle × circuity at a speed), not measured"
        return note

    def bases(self, specialty: str, figure: Literal["km", "minutes"]) -> tuple[BasisCount, ...] | None:
        """By travel cost: the bases of one specialty's km or minutes, most points first (None by network km)."""
        if self.travel is None or self.km_basis is None or self.minutes_basis is None:
            return None
        codes = (self.km_basis if figure == "km" else self.minutes_basis)[:, self.column(specialty)]
        found, counts = np.unique(codes[codes >= 0], return_counts=True)
        rows = [(int(n), self.travel.bases[int(c)]) for c, n in zip(found, counts, strict=True)]
        return tuple(BasisCount(**b.model_dump(), points=n) for n, b in sorted(rows, key=lambda r: -r[0]))

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
        code = resolve_specialty(specialty).code
        return np.flatnonzero(offered(self.network, [code], include_sessions=self.include_sessions)[:, 0])

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
                covered_share=share(w[covered].sum(), w.sum()), gap_points=int(self.gap[:, s].sum()),
                unreachable_points=int((~np.isfinite(d)).sum()),
                median_km=float(np.median(finite)) if len(finite) else None,
                worst_km=float(finite.max()) if len(finite) else None,
                communities_missing=tuple(c for c, row in zip(net.community_ids, missing, strict=True) if row[s]),
                **self._travel_summary(s),
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
        offered = self.offered()
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
        order = rows[np.argsort(-self.ranked[rows, s], kind="stable")]
        return tuple(self._served(d, s) for d in order)

    def catchments(self, specialty: str) -> dict[str, tuple[str, ...]]:
        """Each capable institution's catchment: the demand points for which it is the nearest (by ``cost``).

        A demand point offering the specialty is in its own catchment; one
        that reaches none is in no catchment.
        """
        s = self.column(specialty)
        out: dict[str, list[str]] = {self.network.ids[r]: [] for r in self.capable_rows(specialty)}
        for d, j in enumerate(self.nearest_row[:, s].tolist()):
            if j >= 0:
                out.setdefault(self.network.ids[j], []).append(self.network.ids[self.demand_rows[d]])
        return {k: tuple(v) for k, v in out.items()}

    def catchment_links(self, specialty: str) -> tuple[np.ndarray, np.ndarray]:
        """Rows (into ``network``) of each demand point that reaches a capable institution elsewhere, and of it."""
        s = self.column(specialty)
        nearest = self.nearest_row[:, s]
        keep = (nearest >= 0) & (nearest != self.demand_rows)
        return self.demand_rows[keep], nearest[keep]

    # ---- exports

    def to_frame(self) -> pd.DataFrame:
        """Long form: one row per demand point × specialty (needs pandas)."""
        pd = require_extra("pandas", "planning")
        return pd.DataFrame(self._columns())

    def summary_frame(self) -> pd.DataFrame:
        """One row per specialty (needs pandas)."""
        pd = require_extra("pandas", "planning")
        frame = pd.DataFrame([s.model_dump() for s in self.summary])
        frame["communities_missing"] = frame["communities_missing"].map(" ".join)
        return frame

    def area_frame(self, *, by: Literal["community", "county"] = "community") -> pd.DataFrame:
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

    def to_csv(self, path_or_buf: str | os.PathLike[str] | None = None) -> str | None:
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
        for i in np.flatnonzero(keep).tolist():
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
                           "weight_basis": self.weight_basis,
                           **({"cost": self.cost, "basis_note": self.basis_note} if self.travel else {})},
        }

    # ---- helpers

    def offered(self) -> np.ndarray:
        """(institutions × the report's specialties): whether each institution offers the care (in sessions too
        when the report includes them)."""
        return offered(self.network, self.specialties, include_sessions=self.include_sessions)

    def _served(self, d: int, s: int) -> ServedPoint:
        node = self.network.ids[self.demand_rows[d]]
        km, minutes = float(self.distance_km[d, s]), float(self.minutes[d, s])
        return ServedPoint(institution=node, name=self.network.G.nodes[node]["name"],
                           distance_km=round(km, 3) if math.isfinite(km) else None,
                           minutes=round(minutes, 2) if self.travel is not None and math.isfinite(minutes) else None)

    def _travel_summary(self, s: int) -> dict:
        if self.travel is None:
            return {}
        minutes = self.minutes[:, s]
        finite = minutes[np.isfinite(minutes)]
        code = self.specialties[s]
        return dict(median_minutes=float(np.median(finite)) if len(finite) else None,
                    worst_minutes=float(finite.max()) if len(finite) else None,
                    km_basis=self.bases(code, "km"), minutes_basis=self.bases(code, "minutes"))

    def _area(self, kind: str, id_: str, name: str, in_area: np.ndarray, missing: np.ndarray) -> AreaCoverage:
        rows = np.flatnonzero(in_area)
        w = self.weight[rows]
        per = []
        for s, code in enumerate(self.specialties):
            covered = ~self.gap[rows, s]
            far = rows[self.ranked[rows, s] > 0]
            worst = far[np.argsort(-self.ranked[far, s], kind="stable")[:3]]
            per.append(AreaSpecialty(
                specialty=code, demand=float(w.sum()), covered_demand=float(w[covered].sum()),
                covered_share=share(w[covered].sum(), w.sum()), gap_points=int((~covered).sum()),
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
        all_ids = np.array([*list(net.ids), None], dtype=object)
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
            **self._basis_columns(),
        }

    def _basis_columns(self) -> dict[str, np.ndarray]:
        """By travel cost: the basis of each row's km and minutes, and its source's title (none by network km)."""
        if self.travel is None or self.km_basis is None or self.minutes_basis is None:
            return {}
        kind = np.array([b.kind for b in self.travel.bases] + [None], dtype=object)  # -1: unreachable
        title = np.array([b.title or b.detail for b in self.travel.bases] + [None], dtype=object)
        km, minutes = self.km_basis.ravel(), self.minutes_basis.ravel()
        return {"km_basis": kind[km], "km_source": title[km], "minutes_basis": kind[minutes],
                "minutes_source": title[minutes]}


def share(part: float, whole: float) -> float | None:
    """``part / whole``, or None when there is no whole."""
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
    offered = report.offered()
    out = np.ones((len(members), len(report.specialties)), dtype=bool)
    for c, rows in enumerate(members):
        if len(rows):
            out[c] = ~offered[rows].any(axis=0)
    return out


"""Scenarios and what-ifs: a planned change (capabilities added or removed, links) compared with today.

    >>> import mednet
    >>> G = mednet.build_network(mednet.load_region("quzhou"))
    >>> scenario = Scenario(name="儿科 at 何田", add=[{"institution": "何田卫生院", "specialty": "儿科",
    ...     "session": {"weekday": "tue", "part": "morning"}}])
    >>> comparison = what_if(G, scenario, max_km=30)
    >>> comparison.change("儿科").newly_covered, comparison.change("儿科").newly_uncovered
    (('kh-qixi', 'kh-hetian'), ())
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
from pydantic import Field, model_validator
from scipy.sparse import coo_array, csr_array

from mednet.errors import InvalidRequest, ScenarioDataError, UnknownInstitution, UnknownSpecialty
from mednet.extras import require_extra
from mednet.models import Frozen, LinkKind, Session
from mednet.network import CompiledNetwork, resolve_institution
from mednet.planning.gaps import as_network, coverage
from mednet.planning.query import CoverageQuery
from mednet.planning.report import CoverageReport
from mednet.regions import read_json, validate_document
from mednet.specialties import resolve_specialty
from mednet.travel.layer import Cost, TravelLayer

if TYPE_CHECKING:
    import pandas as pd


class ScenarioCapability(Frozen):
    """A specialty added at an institution: permanently, or in a visiting ``session``."""

    institution: str = Field(min_length=1, description="id, name or alias")
    specialty: str = Field(min_length=1, description="code, label or alias")
    session: Session | None = Field(None, description="None: a permanent capability")


class ScenarioRemoval(Frozen):
    """A specialty an institution stops offering (permanent and sessions alike)."""

    institution: str = Field(min_length=1)
    specialty: str = Field(min_length=1)


class ScenarioLink(Frozen):
    """A new referral link (or a shorter one, replacing a longer existing link)."""

    a: str = Field(min_length=1)
    b: str = Field(min_length=1)
    distance_km: float = Field(gt=0, allow_inf_nan=False)
    kind: LinkKind = LinkKind.NEIGHBOUR


class Scenario(Frozen):
    """A planned change to compare with today's network.

    >>> Scenario.model_validate_json(
    ...     '{"name": "x", "add": [{"institution": "华埠镇卫生院", "specialty": "儿科"}]}').add[0]
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


class SpecialtyChange(Frozen):
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

    def to_frame(self) -> pd.DataFrame:
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

    def summary_frame(self) -> pd.DataFrame:
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
                raise InvalidRequest(f"links[{i}]", scenario.links[i].a, "must join two different institutions",
                                     rule_zh="两端须为两家不同的机构")
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
    cost: Cost = "km",
    travel: TravelLayer | None = None,
    weights: Mapping[str, float] | None = None,
    include_sessions: bool = True,
) -> ScenarioComparison:
    """Coverage before and after a scenario (a :class:`Scenario` or a JSON file path).

    ``specialties`` defaults to those the scenario adds or removes (all of
    them when it only adds links). The graph and its compiled arrays are
    never changed: the scenario is applied to copies. By travel cost
    (``cost``, ``travel`` as in :func:`~mednet.planning.gaps.find_coverage_gaps`) new links change
    nothing: links say who may refer to whom, the travel layer how far.
    """
    query = CoverageQuery.checked(specialties=specialties, max_km=max_km, max_minutes=max_minutes, cost=cost,
                                  travel=travel, include_sessions=include_sessions)
    where = None
    if not isinstance(scenario, Scenario):
        where = f"scenario file {os.fspath(scenario)}"
        scenario = load_scenario(scenario)
    net = as_network(G_or_net)
    changed = apply_scenario(net, scenario, where=where)
    if specialties is None and (scenario.add or scenario.remove):
        changed_care = [c.specialty for c in scenario.add] + [c.specialty for c in scenario.remove]
        query = query.with_specialties([resolve_specialty(name).code for name in changed_care])
    before = coverage(net, query, weights=weights)
    after = coverage(changed, query, weights=weights)
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
            closer_points=int((after.ranked[:, s] < before.ranked[:, s]).sum()),
            farther_points=int((after.ranked[:, s] > before.ranked[:, s]).sum()),
            newly_covered=tuple(ids[gained]), newly_uncovered=tuple(ids[lost]),
        ))
    return ScenarioComparison(scenario=scenario, before=before, after=after, changes=tuple(changes))


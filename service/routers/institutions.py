"""The directory of institutions: filter by specialty, tier, community; sort by distance."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from mednet.errors import InvalidRequest
from mednet.geo import haversine_km
from mednet.models import Institution, Role, Tier
from mednet.network import resolve_community, resolve_institution
from mednet.routing.request import parse_lat_lon
from mednet.specialties import resolve_specialty
from service.deps import RegionDep, ServedRegion
from service.errors import problem_responses
from service.limits import MAX_KM, Name, Near, SpecialtyName
from service.openapi import QUERY_OBJECTS

router = APIRouter(prefix="/regions/{region}/institutions", tags=["institutions"])

MAX_PAGE = 500
MAX_OFFSET = 1_000_000


class InstitutionEntry(BaseModel):
    """An institution with the communities it takes part in."""

    model_config = ConfigDict(frozen=True)

    institution: Institution
    communities: dict[str, Role] = Field(description="community id → the institution's role in it")
    distance_km: float | None = Field(None, description="great-circle km from `near`, when it was given")


class InstitutionPage(BaseModel):
    """One page of the directory."""

    model_config = ConfigDict(frozen=True)

    total: int = Field(description="institutions matching the filters, on every page")
    limit: int
    offset: int
    items: list[InstitutionEntry]


def name_match(inst: Institution, text: str) -> int | None:
    """How well ``text`` names ``inst``: 0 an exact id, name or alias, 1 a prefix of one, 2 inside one; None not.

    >>> from mednet.regions import load_region
    >>> huabu = load_region("quzhou").institution("kh-huabu")
    >>> name_match(huabu, "华埠"), name_match(huabu, "华"), name_match(huabu, "卫生院"), name_match(huabu, "池淮")
    (0, 1, 2, None)
    """
    key = text.strip().casefold()
    names = [n.casefold() for n in (inst.id, inst.name, *inst.aliases)]
    if key in names:
        return 0
    if any(n.startswith(key) for n in names):
        return 1
    return 2 if any(key in n for n in names) else None


def entry(served: ServedRegion, inst: Institution, distance_km: float | None = None) -> InstitutionEntry:
    return InstitutionEntry(institution=inst, communities=served.G.nodes[inst.id]["communities"],
                            distance_km=distance_km)


@router.get("", response_model=InstitutionPage, responses=problem_responses(404, 422),
            openapi_extra={QUERY_OBJECTS: {"place": {"members": ["near", "within_km"],
                                                     "dependentRequired": {"within_km": ["near"]}}}})
async def list_institutions(
    served: RegionDep,
    specialty: Annotated[SpecialtyName | None, Query(description="offers this specialty (code, label or alias), "
                                                     "permanently or in sessions")] = None,
    tier: Annotated[Tier | None, Query(description="of this tier")] = None,
    community: Annotated[Name | None, Query(description="member of this community (id or name), any role")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="id, name or alias holds this text "
                                   "(ignoring case); for completion: exact names first, then prefixes, then the "
                                   "rest (unless `near` sorts by distance)", examples=["华埠"])] = None,
    near: Annotated[Near | None, Query(description="`LAT,LON` (WGS84, mainland China): sort by distance from this "
                                      "point", examples=["29.01,118.35"])] = None,
    within_km: Annotated[float | None, Query(gt=0, le=MAX_KM, description="only within this great-circle "
                                             "distance of `near` (only with `near`)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> InstitutionPage:
    """The institutions of a region, filtered; nearest first when `near` is given (distance in each row), best
    name matches first when `q` is."""
    if within_km is not None and near is None:
        raise InvalidRequest("within_km", within_km, "needs `near` (the point to measure from)")
    keep = np.ones(len(served.region.institutions), dtype=bool)
    insts = served.region.institutions
    if specialty is not None:
        code = resolve_specialty(specialty).code
        keep &= np.fromiter((any(c.specialty == code for c in i.capabilities) for i in insts), bool, len(insts))
    if tier is not None:
        keep &= np.fromiter((i.tier is tier for i in insts), bool, len(insts))
    if community is not None:
        members = set(resolve_community(served.G, community).ids())
        keep &= np.fromiter((i.id in members for i in insts), bool, len(insts))
    rank = None
    if q is not None:
        rank = np.fromiter((3 if (m := name_match(i, q)) is None else m for i in insts), int, len(insts))
        keep &= rank < 3
    distances = None
    if near is not None:
        lat, lon = parse_lat_lon(near, name="near")
        distances = haversine_km(lat, lon, served.lat, served.lon)
        if within_km is not None:
            keep &= distances <= within_km
        order = np.flatnonzero(keep)[np.argsort(distances[keep], kind="stable")]
    elif rank is not None:
        order = np.flatnonzero(keep)[np.argsort(rank[keep], kind="stable")]
    else:
        order = np.flatnonzero(keep)
    page = order[offset:offset + limit]
    items = [entry(served, insts[i], None if distances is None else round(float(distances[i]), 3)) for i in page]
    return InstitutionPage(total=len(order), limit=limit, offset=offset, items=items)


@router.get("/{institution}", response_model=InstitutionEntry, responses=problem_responses(404, 422))
async def get_institution(
    served: RegionDep,
    institution: Annotated[Name, PathParam(description="id, name or alias (e.g. `华埠镇卫生院`, URL-encoded)")],
) -> InstitutionEntry:
    """One institution by id, name or alias; 404 with the closest names when unknown."""
    return entry(served, served.institutions[resolve_institution(served.G, institution)])

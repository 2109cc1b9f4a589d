"""Coverage gaps: how far each township/community centre is from the care it may need."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from mednet.planning import AreaCoverage, ServedPoint, SpecialtyCoverage, WeightBasis, find_coverage_gaps
from mednet.routing.request import check_max_km
from mednet.specialties import resolve_specialty
from service.deps import RegionDep, ServedRegion
from service.errors import problem_responses
from service.limits import MAX_SPECIALTIES, SpecialtyName

router = APIRouter(prefix="/regions/{region}/coverage", tags=["coverage"])


class CoverageAnswer(BaseModel):
    """Network distance from every primary-care institution to the nearest capable one, per specialty."""

    model_config = ConfigDict(frozen=True)

    region: str
    cost: Literal["km", "minutes"] = Field(description="what the nearest capable institution is chosen by")
    max_km: float | None = Field(description="the limit beyond which a centre counts as a gap")
    max_minutes: float | None = Field(description="the limit in minutes (with max_km: a gap beyond either)")
    basis_note: str = Field(description="where km and minutes come from (the default model's are estimates)")
    weight_basis: WeightBasis
    weight_note: str
    specialties: list[SpecialtyCoverage] = Field(description="one row per specialty over the whole region")
    gaps: dict[str, list[ServedPoint]] = Field(description="specialty code → centres beyond the limit, "
                                               "farthest first (unreachable: `distance_km` null)")
    communities: list[AreaCoverage]
    counties: list[AreaCoverage]


@router.get("", response_model=CoverageAnswer, responses=problem_responses(404, 422, 503))
async def get_coverage(
    request: Request,
    served: RegionDep,
    specialty: Annotated[list[SpecialtyName] | None, Query(max_length=MAX_SPECIALTIES, description="code, label "
                                                           "or alias; repeat for several; default: every "
                                                           "specialty")] = None,
    max_km: Annotated[float | None, Query(json_schema_extra={"exclusiveMinimum": 0},
                                          description="a centre farther than this (km) is a "
                                          "gap; default: only unreachable centres are")] = None,
    max_minutes: Annotated[float | None, Query(json_schema_extra={"exclusiveMinimum": 0},
                                               description="a centre farther than this many minutes is a gap "
                                               "(on the travel layer, which alone gives minutes between two "
                                               "institutions); max_km, max_minutes, both "
                                               "(a gap beyond either) or neither may be given")] = None,
    cost: Annotated[Literal["km", "minutes"], Query(
        description="km: nearest along referral links (network km); minutes: nearest by travel time on the "
        "region's travel layer, between the institutions (its travel file, else the default model)")] = "km",
) -> Response:
    """Coverage gaps per specialty, per community and per county.

    One multi-source search per specialty, which on a national network takes a noticeable fraction of a
    second: computed off the event loop in the service's pool for slow work, and kept by its parameters.
    """
    max_km = check_max_km(max_km)  # checked before any work is queued
    max_minutes = check_max_km(max_minutes, name="max_minutes")
    codes = None if specialty is None else tuple(dict.fromkeys(resolve_specialty(s).code for s in specialty))
    key = (served.region.id, codes, max_km, max_minutes, cost)
    answer = await request.app.state.heavy.run(("coverage", *key), coverage_of, *key)
    return Response(answer, media_type="application/json")


def coverage_of(regions: Mapping[str, ServedRegion], region: str, codes: tuple[str, ...] | None,
                max_km: float | None, max_minutes: float | None, cost: Literal["km", "minutes"]) -> bytes:
    """The coverage answer of a served region, as JSON (slow work: run in the service's pool)."""
    return coverage_json(regions[region], codes, max_km, max_minutes, cost)


def coverage_json(served: ServedRegion, codes: tuple[str, ...] | None, max_km: float | None,
                  max_minutes: float | None = None, cost: Literal["km", "minutes"] = "km") -> bytes:
    """The coverage answer as JSON (run in the pool); by minutes on the region's travel layer."""
    report = find_coverage_gaps(served.network, specialties=codes and list(codes), max_km=max_km,
                                max_minutes=max_minutes, cost=cost,
                                travel=served.travel if cost == "minutes" else None)
    return CoverageAnswer(
        region=report.region, cost=report.cost, max_km=report.max_km, max_minutes=report.max_minutes,
        basis_note=report.basis_note, weight_basis=report.weight_basis,
        weight_note=report.weight_note, specialties=list(report.summary),
        gaps={code: list(report.gaps(code)) for code in report.specialties},
        communities=list(report.communities), counties=list(report.counties),
    ).model_dump_json().encode()

"""Coverage gaps: how far each township/community centre is from the care it may need."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from mednet.planning import AreaCoverage, ServedPoint, SpecialtyCoverage, WeightBasis, find_coverage_gaps
from service.deps import RegionDep
from service.errors import problem_responses

router = APIRouter(tags=["coverage"])


class CoverageAnswer(BaseModel):
    """Network distance from every primary-care institution to the nearest capable one, per specialty."""

    model_config = ConfigDict(frozen=True)

    region: str
    max_km: float | None = Field(description="the limit beyond which a centre counts as a gap")
    weight_basis: WeightBasis
    weight_note: str
    specialties: list[SpecialtyCoverage] = Field(description="one row per specialty over the whole region")
    gaps: dict[str, list[ServedPoint]] = Field(description="specialty code → centres beyond the limit, "
                                               "farthest first (unreachable: `distance_km` null)")
    communities: list[AreaCoverage]
    counties: list[AreaCoverage]


@router.get("/regions/{region}/coverage", response_model=CoverageAnswer, responses=problem_responses(404, 422))
def get_coverage(
    served: RegionDep,
    specialty: Annotated[list[str] | None, Query(description="code, label or alias; repeat for several; "
                                                 "default: every specialty")] = None,
    max_km: Annotated[float | None, Query(json_schema_extra={"exclusiveMinimum": 0},
                                          description="a centre farther than this (network km) is a "
                                          "gap; default: only unreachable centres are")] = None,
) -> CoverageAnswer:
    """Coverage gaps per specialty, per community and per county.

    A plain (threaded) endpoint: one multi-source search per specialty, which
    on a national network takes a noticeable fraction of a second.
    """
    report = find_coverage_gaps(served.network, specialties=specialty, max_km=max_km)
    return CoverageAnswer(
        region=report.region, max_km=report.max_km, weight_basis=report.weight_basis,
        weight_note=report.weight_note, specialties=list(report.summary),
        gaps={code: list(report.gaps(code)) for code in report.specialties},
        communities=list(report.communities), counties=list(report.counties),
    )

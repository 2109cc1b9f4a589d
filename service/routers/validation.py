"""The membership validation report of a region."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mednet.validate import ValidationReport, validate_membership
from service.deps import RegionDep, ServedRegion
from service.errors import problem_responses

router = APIRouter(prefix="/regions/{region}/validation", tags=["validation"])


@router.get("", response_model=ValidationReport, responses=problem_responses(404, 503))
async def get_validation(request: Request, served: RegionDep) -> Response:
    """Every membership problem of the region (rules, published rosters, geography).

    Computed off the event loop in the service's pool for slow work, once per region (then kept).
    """
    answer = await request.app.state.heavy.run(("validation", served.region.id), validation_of, served.region.id)
    return Response(answer, media_type="application/json")


def validation_of(regions: Mapping[str, ServedRegion], region: str) -> bytes:
    """The validation report of a served region, as JSON (slow work: run in the service's pool)."""
    return validate_membership(regions[region].region).model_dump_json().encode()

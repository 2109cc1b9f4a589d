"""The membership validation report of a region."""

from __future__ import annotations

from fastapi import APIRouter

from mednet.validate import ValidationReport
from service.deps import RegionDep
from service.errors import problem_responses

router = APIRouter(prefix="/regions/{region}/validation", tags=["validation"])


@router.get("", response_model=ValidationReport, responses=problem_responses(404))
def get_validation(served: RegionDep) -> ValidationReport:
    """Every membership problem of the region (rules, published rosters, geography), computed once.

    A plain (threaded) endpoint: the first call per region does the work.
    """
    return served.validation()

"""The regions served, each summarised."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from mednet.models import Source, Tier
from mednet.validate import CommunitySummary
from service.deps import RegionDep, ServedRegion, served_regions
from service.errors import problem_responses

router = APIRouter(prefix="/regions", tags=["regions"])


class RegionSummary(BaseModel):
    """What a region holds: institutions by tier, its communities and its sources."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    description: str | None = None
    synthetic: bool = Field(description="true for generated networks, never for real regions")
    institution_count: int
    tiers: dict[Tier, int] = Field(description="number of institutions of each tier")
    counties: list[str] = Field(description="counties/districts its institutions stand in")
    communities: list[CommunitySummary]
    sources: dict[str, Source] = Field(description="every source its facts cite, by key")
    validation_errors: list[str] = Field(
        default_factory=list, description="error codes of its validation when served despite them (allow_invalid; "
        "`mednet validate` lists them all); empty for a valid region. Region files not served are listed by "
        "`GET /ready` (`refused`)")


def summarize_region(served: ServedRegion, invalid: dict[str, tuple[str, ...]]) -> RegionSummary:
    region = served.region
    tiers = Counter(i.tier for i in region.institutions)
    return RegionSummary(
        id=region.id, name=region.name, description=region.description, synthetic=region.synthetic,
        institution_count=len(region.institutions), tiers={t: tiers[t] for t in Tier if tiers[t]},
        counties=sorted({i.county for i in region.institutions}), communities=list(served.communities),
        sources=region.sources, validation_errors=list(invalid.get(region.id, ())),
    )


@router.get("", response_model=list[RegionSummary])
async def list_regions(request: Request) -> list[RegionSummary]:
    """Every region this service holds, summarised (those served despite validation errors say so)."""
    return [summarize_region(served, request.app.state.loader.invalid) for served in served_regions(request).values()]


@router.get("/{region}", response_model=RegionSummary, responses=problem_responses(404, 503))
async def get_region(request: Request, served: RegionDep) -> RegionSummary:
    """One region: counts by tier, its communities (lead, member count, partners) and sources."""
    return summarize_region(served, request.app.state.loader.invalid)

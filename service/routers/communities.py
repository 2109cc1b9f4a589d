"""Medical communities (医共体) of a region."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict

from mednet.models import Community, Role, Tier
from mednet.network import resolve_community
from mednet.validate import CommunitySummary
from service.deps import RegionDep
from service.errors import problem_responses
from service.limits import Name

router = APIRouter(prefix="/regions/{region}/communities", tags=["communities"])


class Member(BaseModel):
    """A member of a community, named."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    tier: Tier
    county: str
    role: Role


class CommunityDetail(BaseModel):
    """A community as published, with its members named."""

    model_config = ConfigDict(frozen=True)

    community: Community
    members: list[Member]


@router.get("", response_model=list[CommunitySummary],
            responses=problem_responses(404))
async def list_communities(served: RegionDep) -> tuple[CommunitySummary, ...]:
    """Every community: lead, member count (lead and branches) and partners (collaborators, alliances)."""
    return served.communities


@router.get("/{community}", response_model=CommunityDetail,
            responses=problem_responses(404))
async def get_community(
    served: RegionDep,
    community: Annotated[Name, PathParam(description="id or name (e.g. `开化县医共体`, URL-encoded)")],
) -> CommunityDetail:
    """One community by id or name, its members named; 404 with the closest names when unknown."""
    com = resolve_community(served.G, community)
    members = [
        Member(id=m.institution, name=inst.name, tier=inst.tier, county=inst.county, role=m.role)
        for m in com.members
        if (inst := served.institutions.get(m.institution)) is not None
    ]
    return CommunityDetail(community=com, members=members)

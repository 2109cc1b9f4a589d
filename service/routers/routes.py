"""Referral routing: where to send a patient (the hot path: a :class:`~service.fastpath.LeanRoute`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from mednet.errors import InvalidCoordinates, UnknownCommunity, UnknownInstitution
from mednet.geo import check_lat_lon
from mednet.routing import Point, Referral
from service.deps import RegionDep
from service.errors import blame, problem_responses
from service.fastpath import LeanRoute

MAX_ALTERNATIVES = 20
#: Years a visit date may fall in (outside them a date is a typo, and date arithmetic overflows).
WHEN_YEARS = (2000, 2100)


class Coordinates(BaseModel):
    """A patient's position (WGS84); routing snaps it to the nearest primary-care institution."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lat: float = Field(description="latitude, degrees", json_schema_extra={"minimum": -90, "maximum": 90})
    lon: float = Field(description="longitude, degrees", json_schema_extra={"minimum": -180, "maximum": 180})

    @model_validator(mode="after")
    def _in_range(self) -> Coordinates:
        check_lat_lon(lat=self.lat, lon=self.lon)  # its message says when lat and lon look swapped
        return self


def _origin_kind(value: object) -> str | None:
    if isinstance(value, str):
        return "by-name"
    return "by-point" if isinstance(value, dict | Coordinates) else None


#: An institution's name, or a point; errors name `origin` (or `origin.lat`), not a union member.
Origin = Annotated[
    Annotated[Annotated[str, Field(min_length=1, max_length=200)], Tag("by-name")]
    | Annotated[Coordinates, Tag("by-point")],
    Discriminator(_origin_kind, custom_error_type="origin_type",
                  custom_error_message="should be an institution (id, name or alias) or a point {lat, lon}"),
]


class RouteRequest(BaseModel):
    """A referral to route."""

    model_config = ConfigDict(
        frozen=True, extra="forbid",
        json_schema_extra={"examples": [{"origin": "华埠镇卫生院", "specialty": "儿科"}]},
    )

    origin: Origin = Field(description="where the patient is: an institution (id, name or alias) or a point "
                           "`{lat, lon}`", examples=["华埠镇卫生院", {"lat": 29.01, "lon": 118.35}])
    specialty: str | None = Field(None, min_length=1, max_length=100,
                                  description="the care needed: code, label or alias; may be left out only for "
                                  "`down` (then rehabilitation, else general practice)")
    direction: Literal["up", "down", "emergency"] = Field(
        "up", description="`up` (上转) to a higher tier, own community first; `emergency` (急) nearest capable; "
        "`down` (下转) back to the home community"
    )
    home: str | None = Field(None, min_length=1, max_length=200,
                             description="for `down` only: the patient's home community (id or name) or home "
                             "institution; default: the origin hospital's own community")
    max_km: float | None = Field(None, gt=0, allow_inf_nan=False, description="skip destinations farther by road")
    alternatives: int = Field(3, ge=1, le=MAX_ALTERNATIVES, description="length of the ranked shortlist")
    when: dt.datetime | None = Field(None, description="ISO date-time from which the visit can be booked "
                                     "(scheduled sessions count within the region's booking window); "
                                     "default: now, China Standard Time")

    @field_validator("when")
    @classmethod
    def _plausible_when(cls, value: dt.datetime | None) -> dt.datetime | None:
        first, last = WHEN_YEARS
        if value is not None and not first <= value.year <= last:
            raise ValueError(f"must fall in the years {first}–{last}")
        return value


router = APIRouter(prefix="/regions/{region}/routes", tags=["routes"], route_class=LeanRoute)


@router.post("", response_model=Referral, responses=problem_responses(400, 404, 409, 422))
async def route_referral(served: RegionDep, request: RouteRequest) -> Response:
    """Route a referral: the destination, its path and distance, the policy step that chose it, ranked
    alternatives, and why closer institutions were passed over.

    404 when the origin or home community is unknown (closest names in `suggestions`), 422 for an
    unknown specialty or an invalid value (`field` names it), 409 when no institution offers the
    specialty within the limits.
    """
    origin = request.origin if isinstance(request.origin, str) else Point(lat=request.origin.lat,
                                                                           lon=request.origin.lon)
    try:
        answer = served.router.route_json(
            origin, request.specialty, direction=request.direction, home=request.home, max_km=request.max_km,
            alternatives=request.alternatives, when=request.when,
        )
    except (UnknownInstitution, InvalidCoordinates) as err:
        raise blame(err, "origin") from None
    except UnknownCommunity as err:
        raise blame(err, "home") from None
    return Response(answer, media_type="application/json")

"""Referral routing: where to send a patient."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, model_validator
from starlette.routing import request_response

from mednet.routing import Direction, Point, Referral
from mednet.routing.answers import Explain
from mednet.routing.request import (
    MAX_ALTERNATIVES,
    check_alternatives,
    check_home,
    check_max_km,
    check_when,
)
from service.deps import RegionDep, find_region
from service.errors import problem_responses


def _origin_kind(value: object) -> str | None:
    if isinstance(value, str):
        return "by-name"
    return "by-point" if isinstance(value, dict | Point) else None


#: An institution's name, or a point; errors name `origin` (or `origin.lat`), not a union member.
Origin = Annotated[
    Annotated[Annotated[str, Field(min_length=1, max_length=200)], Tag("by-name")]
    | Annotated[Point, Tag("by-point")],
    Discriminator(_origin_kind, custom_error_type="origin_type",
                  custom_error_message="should be an institution (id, name or alias) or a point {lat, lon}"),
]


class RouteRequest(BaseModel):
    """A referral to route; every value is checked by the library's rules (:mod:`mednet.routing.request`)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid",
        json_schema_extra={"examples": [{"origin": "华埠镇卫生院", "specialty": "儿科"}]},
    )

    origin: Origin = Field(description="where the patient is: an institution (id, name or alias) or a point "
                           "`{lat, lon}`", examples=["华埠镇卫生院", {"lat": 29.01, "lon": 118.35}])
    specialty: str | None = Field(None, min_length=1, max_length=100,
                                  description="the care needed: code, label or alias; may be left out only for "
                                  "`down` (then rehabilitation, else general practice)")
    direction: Direction = Field(
        "up", description="`up` (上转) to a higher tier, own community first; `emergency` (急) nearest capable; "
        "`down` (下转) back to the home community"
    )
    home: str | None = Field(None, min_length=1, max_length=200,
                             description="for `down` only: the patient's home community (id or name) or home "
                             "institution; default: the origin hospital's own community")
    max_km: Annotated[float | None, AfterValidator(check_max_km)] = Field(
        None, json_schema_extra={"exclusiveMinimum": 0}, description="skip destinations farther by road")
    alternatives: Annotated[int, AfterValidator(check_alternatives)] = Field(
        3, le=MAX_ALTERNATIVES, json_schema_extra={"minimum": 1}, description="length of the ranked shortlist")
    when: Annotated[dt.datetime | None, AfterValidator(check_when)] = Field(
        None, description="ISO date-time from which the visit can be booked (scheduled sessions count within the "
        "region's booking window); default: now, China Standard Time")
    explain: Explain = Field("short", description="passed-over institutions: per reason the count and the nearest "
                             "five (`short`), or every one (`full`)")

    @model_validator(mode="after")
    def _home_only_down(self) -> RouteRequest:
        check_home(self.home, self.direction)
        return self


class LeanRoute(APIRoute):
    """A route documented like any other, but called without FastAPI's per-request machinery.

    The hot path: the body is parsed and validated in one pass by pydantic-core and the endpoint
    returns a ready :class:`Response` (the library's answer as JSON, ``Router.route_json``), skipping
    dependency solving and generic response handling, about a third of the time of a request
    in-process. Errors take the same road as FastAPI's own (:mod:`service.errors`). Without a body
    size limit it is called through Starlette's request/response adapter, not FastAPI's copy, which
    opens two exit stacks per request for dependencies with ``yield`` (this route has none).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.max_body_size is None:
            self.app = request_response(self.get_route_handler())

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint

        async def handle(http: Request) -> Response:
            served = find_region(http, http.path_params["region"])
            try:
                request = RouteRequest.model_validate_json(await http.body())
            except ValidationError as err:
                raise RequestValidationError(err.errors()) from None
            return await endpoint(served, request)

        return handle


router = APIRouter(tags=["routes"], route_class=LeanRoute)


@router.post("/regions/{region}/routes", response_model=Referral, responses=problem_responses(400, 404, 409, 422))
async def route_referral(served: RegionDep, request: RouteRequest) -> Response:
    """Route a referral: the destination, its path and distance, the policy step that chose it, ranked
    alternatives, and why closer institutions were passed over.

    404 when the origin or home community is unknown (closest names in `suggestions`), 422 for an
    unknown specialty or an invalid value (`field` names it), 409 when no institution offers the
    specialty within the limits.
    """
    answer = served.router.route_json(
        request.origin, request.specialty, direction=request.direction, home=request.home, max_km=request.max_km,
        alternatives=request.alternatives, when=request.when, explain=request.explain,
    )
    return Response(answer, media_type="application/json")

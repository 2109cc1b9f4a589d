"""Referral routing: where to send a patient (the hot path: a :class:`~service.fastpath.LeanRoute`).

Every value is checked by the library's rules (:mod:`mednet.routing.request`);
the request model adds what HTTP needs on top (strict JSON types, capped
names, points within the area served) and states each rule in the schema.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    WithJsonSchema,
    model_validator,
)

from mednet.errors import InvalidRequest, MednetError, TravelDataError
from mednet.geo import check_lat_lon
from mednet.routing import Direction, Lang, Point, Referral
from mednet.routing.answers import Explain
from mednet.routing.cost_answers import ReferralByCost
from mednet.routing.request import (
    MAX_ALTERNATIVES,
    RouteQuery,
    check_alternatives,
    check_home,
    check_max_km,
    check_max_minutes,
    check_when,
    lang_of_accept_language,
)
from mednet.travel.layer import Cost
from service.deps import RegionDep
from service.errors import problem_responses
from service.fastpath import LeanRoute
from service.limits import (
    INTEGER_LITERAL,
    LAT_MAX,
    LAT_MIN,
    LON_MAX,
    LON_MIN,
    WHEN_PATTERN,
    WHEN_YEARS,
    Name,
    SpecialtyName,
)

#: The time zone of a visit date given without an offset (the answer states it with one).
CHINA_TIME = dt.timezone(dt.timedelta(hours=8), "CST")


def _parse_when(value: object) -> dt.datetime:
    """An ISO date-time (or date) matching :data:`WHEN_PATTERN`; China Standard Time unless it has an offset.
    (The library's :func:`~mednet.routing.request.check_when` then applies its rule.)"""
    if isinstance(value, dt.datetime):
        text = value.isoformat()
    elif isinstance(value, str):
        text = value
    else:
        raise ValueError("should be an ISO 8601 date-time string, e.g. `2026-11-03T09:00`")
    first, last = WHEN_YEARS
    if not re.fullmatch(WHEN_PATTERN, text):
        raise ValueError(f"should be an ISO 8601 date-time (or date) in the years {first}–{last}, "
                         "e.g. `2026-11-03T09:00`")
    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(text)
    return when if when.tzinfo is not None else when.replace(tzinfo=CHINA_TIME)


#: A visit date: its JSON Schema is the pattern that reads it.
When = Annotated[dt.datetime, PlainValidator(_parse_when), AfterValidator(check_when), WithJsonSchema({
    "type": "string", "pattern": WHEN_PATTERN, "maxLength": 40,
    "description": "ISO 8601 date-time or date, years 2000–2100, e.g. `2026-11-03T09:00`; without an offset, "
                   "China Standard Time (+08:00)",
})]


class MainlandPoint(Point):
    """A :class:`~mednet.routing.Point` within mainland China, the area the service serves; numbers strictly
    JSON numbers. Routing snaps it to the nearest primary-care institution."""

    model_config = ConfigDict(strict=True)

    lat: float = Field(description=f"latitude, degrees north, {LAT_MIN}–{LAT_MAX}",
                       json_schema_extra={"minimum": LAT_MIN, "maximum": LAT_MAX})
    lon: float = Field(description=f"longitude, degrees east, {LON_MIN}–{LON_MAX}",
                       json_schema_extra={"minimum": LON_MIN, "maximum": LON_MAX})

    @model_validator(mode="after")
    def _in_china(self) -> MainlandPoint:
        check_lat_lon(lat=self.lat, lon=self.lon, within_china=True, field="origin")
        return self


def _origin_kind(value: object) -> str | None:
    if isinstance(value, str):
        return "by-name"
    return "by-point" if isinstance(value, dict | Point) else None


#: An institution's name, or a point; errors name `origin` (or `origin.lat`), not a union member.
Origin = Annotated[
    Annotated[Name, Tag("by-name")] | Annotated[MainlandPoint, Tag("by-point")],
    Discriminator(_origin_kind, custom_error_type="origin_type",
                  custom_error_message="should be an institution (id, name or alias) or a point {lat, lon}"),
]

#: The rules between fields, as JSON Schema (the library checks them, :func:`check_home` and the router's
#: specialty check): `specialty` is required and `home` is not allowed unless `direction` is `down`.
_UNLESS_DOWN: dict[str, Any] = {
    "if": {"properties": {"direction": {"const": "down"}}, "required": ["direction"]},
    "then": {},
    "else": {"required": ["specialty"], "properties": {"specialty": {"type": "string"}, "home": {"type": "null"}}},
}


class RouteRequest(BaseModel):
    """A referral to route. Strict: numbers are JSON numbers, strings JSON strings; every value is checked by
    the library's rules (:mod:`mednet.routing.request`)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", strict=True,
        json_schema_extra={"examples": [{"origin": "华埠镇卫生院", "specialty": "儿科"}], **_UNLESS_DOWN},
    )

    origin: Origin = Field(description="where the patient is: an institution (id, name or alias) or a point "
                           "`{lat, lon}` with its `datum` (`wgs84` by default, `gcj02` or `bd09` for a point "
                           "copied from a Chinese map app; the answer's `origin_point` states it)",
                           examples=["华埠镇卫生院", {"lat": 29.01, "lon": 118.35},
                                     {"lat": 29.0073, "lon": 118.3547, "datum": "gcj02"}])
    specialty: SpecialtyName | None = Field(None, description="the care needed: code, label or alias; may be "
                                            "left out only for `down` (then rehabilitation, else general practice)")
    direction: Direction = Field(
        "up", description="`up` (上转) to a higher tier, own community first; `emergency` (急) nearest capable; "
        "`down` (下转) back to the home community"
    )
    home: Name | None = Field(None, description="for `down` only: the patient's home community (id or name) or "
                              "home institution; default: the origin hospital's own community")
    max_km: Annotated[float | None, AfterValidator(check_max_km)] = Field(
        None, json_schema_extra={"exclusiveMinimum": 0}, description="skip destinations farther by road")
    max_minutes: Annotated[float | None, AfterValidator(check_max_minutes)] = Field(
        None, json_schema_extra={"exclusiveMinimum": 0},
        description="skip destinations farther in minutes by the region's travel layer (routes on the layer; "
                    "with max_km, a destination must be within both)")
    cost: Cost = Field("km", description="`km`: along referral links (network km); `minutes`: by travel time on "
                       "the region's travel layer (its travel file, else the default model), from the origin to each "
                       "candidate directly; the answer then gives km and minutes with the basis of each")
    alternatives: Annotated[int, AfterValidator(check_alternatives)] = Field(
        3, le=MAX_ALTERNATIVES, json_schema_extra={"minimum": 1, INTEGER_LITERAL: True},
        description="length of the ranked shortlist; a JSON integer literal (`3`): `3.0` is refused (422), although "
                    "JSON Schema counts it as an integer")
    when: When | None = Field(None, description="from when the visit can be booked (scheduled sessions count "
                              "within the region's booking window; with an offset, converted to China Standard "
                              "Time); default: now, China Standard Time")
    explain: Explain = Field("short", description="passed-over institutions: per reason the count and the nearest "
                             "five (`short`), or every one (`full`)")
    lang: Lang | None = Field(None, description="language of the explanation and session texts: `zh` (Chinese) or "
                              "`en`; default: the `Accept-Language` header's choice of the two, else `zh`")

    @model_validator(mode="after")
    def _home_only_down(self) -> RouteRequest:
        check_home(self.home, self.direction)
        return self


router = APIRouter(prefix="/regions/{region}/routes", tags=["routes"], route_class=LeanRoute)


@router.post("", response_model=Referral | ReferralByCost,
             responses=problem_responses(400, 404, 409, 413, 415, 422, 503))
async def route_referral(served: RegionDep, request: RouteRequest, http: Request) -> Response:
    """Route a referral: the destination, its path and distance, the policy step that chose it, ranked
    alternatives, and why closer institutions were passed over.

    404 when the origin or home community is unknown (closest names in `suggestions`), 422 for an
    unknown specialty or an invalid value (`field` names it), 409 when no institution offers the
    specialty within the limits. The explanation is in Chinese unless `lang` or `Accept-Language` asks for
    English. With `cost: minutes` or `max_minutes`, the route runs on the region's travel layer and the
    answer is a `ReferralByCost` (km and minutes with the basis of each; the path is the direct travel leg).
    """
    lang = request.lang or lang_of_accept_language(http.headers.get("accept-language"))
    by_cost = {}
    if request.cost == "minutes" or request.max_minutes is not None:
        try:
            travel = served.travel
        except TravelDataError as err:
            raise InvalidRequest("cost", request.cost, f"needs the region's travel layer, which cannot be used "
                                 f"({err})") from err
        by_cost = {"cost": request.cost, "max_minutes": request.max_minutes, "travel": travel}
    try:
        query = RouteQuery.checked(
            request.origin, request.specialty, direction=request.direction, home=request.home, max_km=request.max_km,
            alternatives=request.alternatives, when=request.when, explain=request.explain, lang=lang, **by_cost)
    except MednetError as err:
        raise err.in_lang(lang) from None
    answer = served.router.answer_json(query)
    return Response(answer, media_type="application/json")

"""The answer to a route request: a frozen :class:`Referral` and its parts (no numba here).

    >>> p = Point(lat=29.05, lon=118.4)
    >>> p.lat, p.lon
    (29.05, 118.4)

Answers built by the router from already-validated parts are put together
by :func:`assemble` (what ``model_construct`` does, without its per-field
work); the tests check that they equal their validated copies.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field, model_validator

from mednet.geo import check_lat_lon
from mednet.models import DayPart, Frozen, LinkKind, Tier, Weekday

#: Which way a referral goes: 上转 up the tiers, 下转 back down, 急 to the nearest.
Direction = Literal["up", "down", "emergency"]
Step = Literal["own_community", "partners", "any", "nearest", "home_centre", "home_community"]
#: How much of the passed-over list an answer gives: per reason the count and the nearest few, or every one.
Explain = Literal["short", "full"]
#: Passed-over institutions an answer names per reason with ``explain="short"``.
SHORT_PASSED_OVER = 5
#: Where an answer's distances start: the origin institution, the point given, or the home institution (``down``).
MeasuredFrom = Literal["origin", "origin_point", "home"]
#: How a hop's km is known: a road distance, great circle x the region's road factor, or not at all (both ends
#: stand at one shared proxy point; the hop counts 0 km and the answer says so).
HopBasis = Literal["road", "geodesic_x_road_factor", "same_proxy_point"]
Reason = Literal[
    "is_origin", "not_capable", "not_higher_tier", "not_in_session", "outside_community_at_this_step",
    "not_home_centre", "beyond_max_km",
]

class Point(Frozen):
    """A WGS84 point given by a user, e.g. a patient's home; routing snaps it to the nearest primary care.

    Out-of-range values fail naming ``lat`` or ``lon``, and say so when the
    two look swapped (:func:`mednet.geo.check_lat_lon`).
    """

    lat: float = Field(description="latitude, degrees", json_schema_extra={"minimum": -90, "maximum": 90})
    lon: float = Field(description="longitude, degrees", json_schema_extra={"minimum": -180, "maximum": 180})

    @model_validator(mode="after")
    def _in_range(self) -> Point:
        check_lat_lon(lat=self.lat, lon=self.lon)
        return self


class InstitutionRef(Frozen):
    """An institution as an answer names it."""

    id: str
    name: str
    tier: Tier
    county: str
    community: str | None = None
    community_name: str | None = None
    location_is_proxy: bool = False


class SpecialtyRef(Frozen):
    code: str
    label_zh: str
    label_en: str


class Hop(Frozen):
    """One link of the path, in travel order.

    The first hop from a point is its access leg (``kind`` ``"access"``,
    ``from_id`` the point as ``"LAT,LON"``). A link between two institutions
    placed at one shared proxy point counts 0 km (``basis``
    ``"same_proxy_point"``): the region's nominal km for it is not a distance.
    """

    from_id: str
    to_id: str
    kind: LinkKind | Literal["access"]
    distance_km: float
    basis: HopBasis


class SessionSlot(Frozen):
    """The scheduled session a capability is held in: a date, or "day to be arranged" (``date`` None)."""

    date: dt.date | None
    weekday: Weekday | None
    part: DayPart | None
    every_weeks: int = 1
    provider: InstitutionRef | None = None
    text: str


class Alternative(Frozen):
    """Another capable institution, in the order the policy would pick it."""

    institution: InstitutionRef
    distance_km: float
    minutes: float
    step: Step
    session: SessionSlot | None = None


class PassedOver(Frozen):
    """Institutions skipped for one reason, nearest first.

    Nearer than the destination (``is_origin``, ``not_capable``,
    ``not_higher_tier``, ``not_in_session``, ``outside_community_at_this_step``,
    ``not_home_centre``), or, for ``beyond_max_km``, the best candidate of an
    earlier step that lay beyond the limit. ``count`` says how many; by
    default (``explain="short"``) only the nearest :data:`SHORT_PASSED_OVER`
    are named.
    """

    reason: Reason
    count: int = Field(description="how many were passed over for this reason; `institutions` names the nearest "
                                   "of them (every one with explain='full')")
    institutions: tuple[InstitutionRef, ...]
    distances_km: tuple[float, ...]


class Referral(Frozen):
    """Where a referral goes and why.

    ``distance_km`` is network km along ``path``, in whole metres, and the
    same float ``max_km`` was compared with; ``minutes`` assumes the region's
    ``speed_kmh``, to 0.1 min. Every distance starts where ``measured_from``
    says: the origin; the point (``origin_point``: the patient's place; the
    path's first hop is its access leg; ``origin`` is then the home centre,
    the nearest primary care at ``snap_km``, which decides the community); or
    the home institution of a ``down`` referral, from which its community's
    members are ranked. ``same_proxy_point`` names the origin and the
    alternatives standing at the destination's
    shared proxy point: their distance to it is not known, and equal
    distances are ordered by tier (higher first), then community role (lead,
    branch, collaborator, alliance). ``step`` is the policy step that
    decided (``explanation`` says it in a line); ``session`` the scheduled
    session the destination holds the specialty in, if so. ``alternatives``
    follow the policy's order (step, then distance); ``passed_over`` groups
    the skipped institutions by reason. ``when`` is the start of the booking
    window, when scheduled sessions were considered or ``when`` was given.
    """

    region: str
    origin: InstitutionRef
    origin_point: Point | None = None
    snap_km: float | None = None
    measured_from: MeasuredFrom = "origin"
    specialty: SpecialtyRef
    direction: Direction
    destination: InstitutionRef
    distance_km: float
    minutes: float
    speed_kmh: float
    path: tuple[Hop, ...]
    step: Step
    same_proxy_point: tuple[InstitutionRef, ...] = ()
    session: SessionSlot | None = None
    alternatives: tuple[Alternative, ...] = ()
    passed_over: tuple[PassedOver, ...] = ()
    max_km: float | None = None
    when: dt.datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _drop_computed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "explanation" in data:
            data = {k: v for k, v in data.items() if k != "explanation"}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def explanation(self) -> str:
        """One line on why the destination was chosen."""
        return explain(self)

    def passed_over_by_distance(self) -> list[tuple[InstitutionRef, float, Reason]]:
        """Every passed-over institution as ``(institution, distance_km, reason)``, nearest first."""
        rows = [(i, d, g.reason) for g in self.passed_over
                for i, d in zip(g.institutions, g.distances_km, strict=True)]
        return sorted(rows, key=lambda row: row[1])


def explain(r: Referral) -> str:
    """The one-line human explanation of a referral's policy step."""
    return explain_step(r.step, r.origin, r.destination, r.specialty, r.session, r.max_km)


def explain_step(step: Step, origin: InstitutionRef, destination: InstitutionRef, specialty: SpecialtyRef,
             session: SessionSlot | None, max_km: float | None) -> str:
    dest, care = destination.name, specialty.label_zh
    limit = f" within {max_km:g} km" if max_km is not None else ""
    held = f" in a session ({session.text})" if session else ""
    if step == "own_community" and destination.id == origin.id and session and session.provider:
        return (f"上下联动 at the own centre: {session.provider.name} holds a {care} session at {dest} "
                f"({session.text}), before any upward referral")
    if step == "own_community":
        return (f"上转 within the own community {origin.community_name}: {dest} is its nearest institution "
                f"offering {care}{held} at a higher tier than {origin.name}")
    if step == "partners":
        return (f"上转 to a partner of {origin.community_name}: its own members cannot take {care}{limit}; "
                f"{dest} is the nearest partner (city hospital, alliance or collaborator) that can{held}")
    if step == "any":
        where = "its community and partners" if origin.community else "it belongs to no community, and"
        return (f"上转 beyond the community: {where} offer no higher-tier {care}{limit}; "
                f"{dest} is the nearest institution that does{held}")
    if step == "nearest":
        return f"急诊: {dest} is the nearest institution offering {care} now, communities ignored"
    if step == "home_centre":
        return f"下转 to the patient's home centre {dest}, which offers {care}{held}"
    return (f"下转 to the home community {destination.community_name}: {dest} is its nearest member "
            f"offering {care}{held}{limit}")


new = object.__new__
NO_SLOTS: dict = {}
# The slots every pydantic model instance has, set through their descriptors (as model_construct sets them).
set_dict = BaseModel.__dict__["__dict__"].__set__
set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def assemble(cls: type[BaseModel], values: dict[str, Any]) -> Any:
    """An instance from values that are already valid (what ``model_construct`` does, without its per-field work).

    Every field must be present. Used only for answers built from the
    compiled network, whose parts were validated when the region was loaded
    (the tests check that such answers equal their validated copies).
    """
    obj = new(cls)
    set_dict(obj, values)
    set_fields_set(obj, FIELDS[cls])
    set_extra(obj, None)
    set_private(obj, None)
    return obj


FIELDS: dict[type, set[str]] = {
    cls: set(cls.model_fields)
    for cls in (InstitutionRef, SpecialtyRef, Hop, SessionSlot, Alternative, PassedOver, Referral)
}

"""The data model: institutions, capabilities, communities, links, regions.

All models are frozen pydantic models that reject unknown fields; region
files under ``data/regions/`` are validated by :class:`Region`. Every fact
carries a ``source`` (a key of :attr:`Region.sources`) and says whether it
was ``inferred`` rather than published.

    >>> inst = Institution(id="kh-huabu", name="华埠镇卫生院", tier="township_centre",
    ...     county="开化县", lat=29.010462, lon=118.354319,
    ...     location=Location(kind="town_seat", source="adcode"), source="seed004")
    >>> inst.tier.rank, inst.tier.is_primary_care
    (1, True)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mednet.specialties import SPECIALTY_CODES, resolve_specialty

Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False, description="WGS84 latitude, degrees")]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False, description="WGS84 longitude, degrees")]
Identifier = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
SourceKey = Annotated[str, Field(min_length=1, description="a key of the region's `sources`")]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Provenance(Frozen):
    """Where a fact comes from. ``inferred`` facts were not published as such."""

    source: SourceKey
    inferred: bool = False
    note: str | None = None


class Tier(StrEnum):
    """Level of care of an institution. ``rank`` orders the tiers for referral up."""

    CITY_HOSPITAL = "city_hospital"
    COUNTY_HOSPITAL = "county_hospital"
    SPECIALTY_HOSPITAL = "specialty_hospital"
    MATERNAL_CHILD_HOSPITAL = "maternal_child_hospital"
    SHARED_CENTRE = "shared_centre"
    TOWNSHIP_CENTRE = "township_centre"
    COMMUNITY_CENTRE = "community_centre"

    @property
    def rank(self) -> int:
        return _TIER_RANK[self]

    @property
    def is_primary_care(self) -> bool:
        return self in (Tier.TOWNSHIP_CENTRE, Tier.COMMUNITY_CENTRE)

    @property
    def is_hospital(self) -> bool:
        return self.rank >= 2 and self is not Tier.SHARED_CENTRE

    @property
    def label_zh(self) -> str:
        return _TIER_ZH[self]


_TIER_RANK = {
    Tier.CITY_HOSPITAL: 3,
    Tier.COUNTY_HOSPITAL: 2,
    Tier.SPECIALTY_HOSPITAL: 2,
    Tier.MATERNAL_CHILD_HOSPITAL: 2,
    Tier.SHARED_CENTRE: 2,
    Tier.TOWNSHIP_CENTRE: 1,
    Tier.COMMUNITY_CENTRE: 1,
}
_TIER_ZH = {
    Tier.CITY_HOSPITAL: "市级医院",
    Tier.COUNTY_HOSPITAL: "县级医院",
    Tier.SPECIALTY_HOSPITAL: "专科医院",
    Tier.MATERNAL_CHILD_HOSPITAL: "妇幼保健院",
    Tier.SHARED_CENTRE: "区域共享中心",
    Tier.TOWNSHIP_CENTRE: "乡镇卫生院",
    Tier.COMMUNITY_CENTRE: "社区卫生服务中心",
}


class Location(Provenance):
    """How an institution's point was obtained.

    ``surveyed``: the institution's own point; ``town_seat`` / ``county_seat``:
    the seat of the township or county it stands in (a proxy for the
    building); ``proxy``: another nearby point, explained in ``note``.
    """

    kind: Literal["surveyed", "town_seat", "county_seat", "proxy"]
    converted_from: Literal["GCJ-02", "BD-09"] | None = Field(
        None, description="the datum the point was given in; lat/lon are its conversion to WGS84")

    @property
    def is_proxy(self) -> bool:
        return self.kind != "surveyed"


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DayPart = Literal["morning", "afternoon", "evening", "all_day"]


class Session(Frozen):
    """A recurring session in which a capability is held.

    ``weekday`` None means "weekly, day to be arranged": the source gives a
    number of weekly sessions but not their days. ``provider`` is the id of
    the institution the visiting expert comes from.
    """

    weekday: Weekday | None = None
    part: DayPart | None = None
    every_weeks: int = Field(1, ge=1, le=52)
    provider: str | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None

    @property
    def day_to_be_arranged(self) -> bool:
        return self.weekday is None

    @property
    def dates_known(self) -> bool:
        """Whether its dates follow from the data: a weekday, and for a cycle of several weeks its first date.

        >>> Session(weekday="tue").dates_known, Session().dates_known, Session(weekday="tue", every_weeks=2).dates_known
        (True, False, False)
        """
        return self.weekday is not None and (self.every_weeks == 1 or self.valid_from is not None)

    @property
    def cycle_days(self) -> int:
        """Days in which it is held once: a booking window this long holds it even when its day is unknown."""
        return 7 * self.every_weeks


class Capability(Provenance):
    """A specialty an institution offers: permanently, or in ``sessions``."""

    specialty: str
    sessions: tuple[Session, ...] = ()
    weekly_sessions: int | None = Field(None, ge=1, description="sessions a week, when counted but not dated")
    beds: int | None = Field(None, ge=0)
    weekly_slots: int | None = Field(None, ge=0)

    @field_validator("specialty", mode="before")
    @classmethod
    def _known_specialty(cls, value: object) -> str:
        try:
            return resolve_specialty(str(value)).code
        except KeyError as err:  # pydantic reports ValueErrors with their place
            refused = ValueError(str(err))
            setattr(refused, "zh", getattr(err, "zh", None))  # noqa: B010 - its Chinese wording rides along
            raise refused from err

    @property
    def permanent(self) -> bool:
        return not self.sessions


class Registry(Provenance):
    """What a health registry (卫生机构登记) records of an institution.

    ``category`` is the WS 218-2002 卫生机构类别代码 (``C210`` 中心卫生院);
    ``credit_code`` the 统一社会信用代码, its GB 32100-2015 check character
    verified.
    """

    category: str | None = Field(None, pattern=r"^[A-Z]\d{3}$", description="WS 218-2002 category code, e.g. C210")
    grade: str | None = Field(None, min_length=1, description="hospital grade as registered, e.g. 二级甲等")
    credit_code: str | None = Field(None, description="统一社会信用代码 (18 characters, GB 32100-2015)")
    licence_number: str | None = Field(None, min_length=1, description="医疗机构执业许可证登记号")
    beds: int | None = Field(None, ge=0, description="approved beds (编制床位)")
    other_subjects: tuple[str, ...] = Field((), description="诊疗科目 the registry lists that no mednet specialty "
                                            "routes: codes of the 医疗机构诊疗科目名录 (mednet.specialties."
                                            "NATIONAL_SUBJECTS), kept as registry facts")

    @field_validator("credit_code")
    @classmethod
    def _valid_credit_code(cls, value: str | None) -> str | None:
        from mednet.importing.credit_code import credit_code_problem

        problem = credit_code_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value


class Detail(Provenance):
    """One contact detail and where it comes from."""

    value: str = Field(min_length=1)


class Flag(Provenance):
    """A yes/no fact and where it comes from."""

    value: bool


class Contact(Frozen):
    """How patients and desks reach an institution; each detail names its source.

    ``booking`` is a channel (an app, a mini-programme such as 闵行捷医, a
    desk); ``hours`` opening hours as published; ``emergency_24h`` whether an
    emergency department is open day and night.
    """

    phone: Detail | None = None
    address: Detail | None = None
    booking: Detail | None = None
    hours: Detail | None = None
    emergency_24h: Flag | None = None

    def items(self) -> list[tuple[str, Detail | Flag]]:
        """The details given, as (kind, detail) pairs in field order."""
        return [(k, v) for k in CONTACT_KINDS if (v := getattr(self, k)) is not None]


CONTACT_KINDS: tuple[str, ...] = ("phone", "address", "booking", "hours", "emergency_24h")


class Institution(Frozen):
    """A hospital, health centre or shared service centre."""

    id: Identifier
    name: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    tier: Tier
    county: str = Field(min_length=1, description="county or district it stands in")
    township: str | None = Field(None, description="official township/street it serves, when primary care")
    lat: Latitude
    lon: Longitude
    location: Location
    capabilities: tuple[Capability, ...] = ()
    population: int | None = Field(None, ge=0, description="people served, when known")
    registry: Registry | None = None
    contact: Contact | None = None
    source: SourceKey
    inferred: bool = False
    note: str | None = None

    def capability(self, specialty: str) -> Capability | None:
        code = resolve_specialty(specialty).code
        return next((c for c in self.capabilities if c.specialty == code), None)


class Role(StrEnum):
    LEAD = "lead"
    BRANCH = "branch"
    COLLABORATOR = "collaborator"
    ALLIANCE = "alliance"

    @property
    def label_zh(self) -> str:
        return {"lead": "牵头医院", "branch": "分院", "collaborator": "协作单位", "alliance": "专科联盟"}[self.value]


class Membership(Provenance):
    institution: str
    role: Role


class Community(Frozen):
    """A medical community (医共体/医联体): a lead and its members in roles."""

    id: Identifier
    name: str = Field(min_length=1)
    kind: Literal["county", "urban"]
    counties: tuple[str, ...] = Field(min_length=1, description="counties/districts it covers")
    members: tuple[Membership, ...]
    published: dt.date | None = None
    source: SourceKey
    note: str | None = None

    @property
    def leads(self) -> tuple[str, ...]:
        return tuple(m.institution for m in self.members if m.role is Role.LEAD)

    @property
    def lead(self) -> str | None:
        leads = self.leads
        return leads[0] if len(leads) == 1 else None

    def ids(self, *roles: Role) -> tuple[str, ...]:
        return tuple(m.institution for m in self.members if not roles or m.role in roles)


class LinkKind(StrEnum):
    BRANCH_LEAD = "branch_lead"
    LEAD_CITY = "lead_city"
    ALLIANCE = "alliance"
    COLLABORATOR = "collaborator"
    SHARED_SERVICE = "shared_service"
    NEIGHBOUR = "neighbour"

    @property
    def label_zh(self) -> str:
        return {
            "branch_lead": "分院—牵头医院",
            "lead_city": "牵头医院—市级医院",
            "alliance": "专科联盟",
            "collaborator": "协作",
            "shared_service": "共享中心",
            "neighbour": "邻近道路",
        }[self.value]


class Link(Provenance):
    """A referral channel between two institutions, with its travel cost."""

    a: str
    b: str
    kind: LinkKind
    distance_km: float = Field(gt=0, allow_inf_nan=False)
    distance_basis: Literal["road", "geodesic_x_road_factor"]
    minutes: float | None = Field(None, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _distinct_ends(self) -> Link:
        if self.a == self.b:
            raise ValueError(f"a link joins two different institutions, got {self.a!r} twice")
        return self


class RosterEntry(Frozen):
    """One name as the source lists it, and the institution it denotes."""

    text: str = Field(min_length=1, description="verbatim, as published")
    institution: str | None = Field(None, description="resolved id; None when the source does not name it")


class Roster(Frozen):
    """A published membership list, kept verbatim."""

    community: str
    published: dt.date
    source: SourceKey
    entries: tuple[RosterEntry, ...]
    unnamed: int = Field(0, ge=0, description="members the source counts but does not name")
    unnamed_tier: Tier | None = None
    note: str | None = None


class Source(Frozen):
    title: str
    publisher: str | None = None
    date: dt.date | None = None
    url: str | None = None
    licence: str | None = None
    note: str | None = None


class CoveredCounty(Frozen):
    """A county the region covers completely; its official townships come from the places table."""

    name: str
    code: str = Field(pattern=r"^\d{6}$", description="6-digit statistical code (2016)")
    source: SourceKey


class Region(Frozen):
    """One region file: everything needed to validate, route and plan."""

    schema_version: Literal[1] = 1
    id: Identifier
    name: str
    description: str | None = None
    road_factor: float = Field(1.3, ge=1.0, le=3.0,
                               description="road km per geodesic km where no road distance is known")
    speed_kmh: float = Field(40.0, gt=0, le=200, description="assumed average travel speed for time estimates")
    booking_days: int = Field(7, ge=0, le=90, description="how far ahead a session may be booked")
    synthetic: bool = Field(False, description="true for generated networks (benchmarks), never for real regions")
    sources: dict[str, Source]
    covered_counties: tuple[CoveredCounty, ...] = ()
    institutions: tuple[Institution, ...]
    communities: tuple[Community, ...] = ()
    links: tuple[Link, ...] = ()
    rosters: tuple[Roster, ...] = ()

    @model_validator(mode="after")
    def _sources_exist(self) -> Region:
        for place, key in _source_refs(self):
            if key not in self.sources:
                raise ValueError(f"{place}: source {key!r} is not among the region's sources {sorted(self.sources)}")
        return self

    def institution(self, id: str) -> Institution:
        from mednet.errors import UnknownInstitution

        for inst in self.institutions:
            if inst.id == id:
                return inst
        raise UnknownInstitution(id, known=[i.id for i in self.institutions], where=f"region {self.id!r}")


def _source_refs(region: Region) -> Iterator[tuple[str, str]]:
    for i, inst in enumerate(region.institutions):
        yield f"institutions[{i}].source", inst.source
        yield f"institutions[{i}].location.source", inst.location.source
        for j, cap in enumerate(inst.capabilities):
            yield f"institutions[{i}].capabilities[{j}].source", cap.source
        if inst.registry is not None:
            yield f"institutions[{i}].registry.source", inst.registry.source
        for kind, detail in inst.contact.items() if inst.contact else ():
            yield f"institutions[{i}].contact.{kind}.source", detail.source
    for i, com in enumerate(region.communities):
        yield f"communities[{i}].source", com.source
        for j, m in enumerate(com.members):
            yield f"communities[{i}].members[{j}].source", m.source
    for i, link in enumerate(region.links):
        yield f"links[{i}].source", link.source
    for i, roster in enumerate(region.rosters):
        yield f"rosters[{i}].source", roster.source
    for i, county in enumerate(region.covered_counties):
        yield f"covered_counties[{i}].source", county.source


__all__ = [
    "CONTACT_KINDS",
    "SPECIALTY_CODES",
    "WEEKDAYS",
    "Capability",
    "Community",
    "Contact",
    "CoveredCounty",
    "Detail",
    "Flag",
    "Institution",
    "Link",
    "LinkKind",
    "Location",
    "Membership",
    "Provenance",
    "Region",
    "Registry",
    "Role",
    "Roster",
    "RosterEntry",
    "Session",
    "Source",
    "Tier",
]

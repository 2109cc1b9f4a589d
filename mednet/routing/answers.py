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
from mednet.models import Contact, DayPart, Frozen, LinkKind, Tier, Weekday
from mednet.specialties import Travels

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
#: stand at one shared proxy point; the hop counts 0 km and the answer says so); for the direct leg of a route by
#: travel cost, the travel layer's basis of its km (``default_model``, ``road_network``, ``od_table``, or
#: ``same_institution``: the visiting clinic at the origin itself).
HopBasis = Literal["road", "geodesic_x_road_factor", "same_proxy_point", "default_model", "road_network",
                   "od_table", "same_institution"]
#: The language of an answer's explanation and session texts: Chinese (the default) or English.
Lang = Literal["zh", "en"]
Reason = Literal[
    "is_origin", "not_capable", "not_higher_tier", "not_in_session", "outside_community_at_this_step",
    "not_home_centre", "beyond_max_km", "beyond_max_minutes",
]
#: Each direction, step and passed-over reason in the words of a Chinese referral desk.
DIRECTION_ZH: dict[str, str] = {"up": "上转", "down": "下转", "emergency": "急诊"}
STEP_ZH: dict[str, str] = {
    "own_community": "本医共体内", "partners": "医共体协作单位", "any": "区域内任一机构", "nearest": "最近的有能力机构",
    "home_centre": "居住地卫生院", "home_community": "居住地医共体",
}
REASON_ZH: dict[str, str] = {
    "is_origin": "出发地", "not_capable": "无此专科", "not_higher_tier": "非上级机构",
    "not_in_session": "预约期内无门诊", "outside_community_at_this_step": "本步骤范围外",
    "not_home_centre": "非居住地卫生院", "beyond_max_km": "超出距离限制", "beyond_max_minutes": "超出时间限制",
}

#: The datums a point may be given in: WGS84 (GPS), GCJ-02 (Amap, Tencent Maps), BD-09 (Baidu Maps).
PointDatum = Literal["wgs84", "gcj02", "bd09"]
#: Each datum's name in :mod:`mednet.importing.datums`.
DATUM_NAMES: dict[str, str] = {"wgs84": "WGS84", "gcj02": "GCJ-02", "bd09": "BD-09"}


class Point(Frozen):
    """A point given by a user, e.g. a patient's home, in ``datum`` (WGS84 by default; a point copied from a
    Chinese map app is GCJ-02 or BD-09, some 500 m off as WGS84); routing snaps it to the nearest primary care.

    Out-of-range values fail naming ``lat`` or ``lon``, and say so when the
    two look swapped (:func:`mednet.geo.check_lat_lon`).

    >>> Point(lat=28.97, lon=118.86).wgs84()
    (28.97, 118.86)
    >>> [round(v, 6) for v in Point(lat=28.96691349824191, lon=118.86479362550467, datum="gcj02").wgs84()]
    [28.97, 118.86]
    """

    lat: float = Field(description="latitude, degrees", json_schema_extra={"minimum": -90, "maximum": 90})
    lon: float = Field(description="longitude, degrees", json_schema_extra={"minimum": -180, "maximum": 180})
    datum: PointDatum = Field("wgs84", description="the datum `lat` and `lon` are given in: `wgs84` (GPS, the "
                              "default), `gcj02` (Amap, Tencent Maps) or `bd09` (Baidu Maps); routing converts "
                              "the point to WGS84")

    @model_validator(mode="after")
    def _in_range(self) -> Point:
        check_lat_lon(lat=self.lat, lon=self.lon)
        return self

    def wgs84(self) -> tuple[float, float]:
        """The point's (lat, lon) in WGS84, the datum of every region (GCJ-02 and BD-09 converted back)."""
        if self.datum == "wgs84":
            return self.lat, self.lon
        from mednet.importing.datums import to_wgs84  # imported here: the conversion library loads on first use

        return to_wgs84(lat=self.lat, lon=self.lon, datum=DATUM_NAMES[self.datum])


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
    """The care referred, and what travels to it: the patient, a specimen or a trace."""

    code: str
    label_zh: str
    label_en: str
    travels: Travels = "patient"


class Hop(Frozen):
    """One link of the path, in travel order.

    The first hop from a point is its access leg (``kind`` ``"access"``,
    ``from_id`` the point as ``"LAT,LON"``). A route by travel cost has one
    hop, the direct travel leg (``kind`` ``"travel"``, ``basis`` the travel
    layer's basis of its km). A link between two institutions
    placed at one shared proxy point counts 0 km (``basis``
    ``"same_proxy_point"``): the region's nominal km for it is not a distance.
    """

    from_id: str
    to_id: str
    kind: LinkKind | Literal["access", "travel"]
    distance_km: float
    basis: HopBasis


class SessionSlot(Frozen):
    """The scheduled session a capability is held in: a date, or "day to be arranged" (``date`` None).

    ``day_unknown``: the session's day is not published and the booking
    window is shorter than its cycle, so it is not known to fall in the
    window: offered as an alternative only, never the destination, and
    ``text`` says to ask the centre or see its booking channel.
    """

    date: dt.date | None
    weekday: Weekday | None
    part: DayPart | None
    every_weeks: int = 1
    provider: InstitutionRef | None = None
    text: str
    day_unknown: bool = False


class Alternative(Frozen):
    """Another capable institution, in the order the policy would pick it, with its contact details if known."""

    institution: InstitutionRef
    distance_km: float
    minutes: float
    step: Step
    session: SessionSlot | None = None
    contact: Contact | None = None


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


class Trip(Frozen):
    """The patient's trip from the discharging hospital (the ``origin``), or from the point by its access leg,
    to the destination, when the answer's distances are measured from the home institution: network km along
    ``path`` in whole metres, and minutes at the region's ``speed_kmh`` to 0.1 min (an empty ``path`` and 0 km
    when the destination is the origin)."""

    distance_km: float
    minutes: float
    path: tuple[Hop, ...]


class Referral(Frozen):
    """Where a referral goes and why.

    ``distance_km`` is network km along ``path``, in whole metres, and the
    same float ``max_km`` was compared with; ``minutes`` assumes the region's
    ``speed_kmh``, to 0.1 min. Every distance starts where ``measured_from``
    says: the origin; the point (``origin_point``: the patient's place; the
    path's first hop is its access leg; ``origin`` is then the home centre,
    the nearest primary care at ``snap_km``, which decides the community); or
    the home institution of a ``down`` referral, from which its community's
    members are ranked: then ``distance_km`` and ``path`` run from the home
    (0 km when the destination is the home itself), and ``trip`` states the
    patient's trip to the destination (km, minutes, path) from the
    discharging hospital, or from the point (``origin_point`` given) by its
    shortest access leg, the trip's first hop; it is None when distances
    start at the origin or at a point, or when no link leads there. ``same_proxy_point`` names the origin and the
    alternatives standing at the destination's
    shared proxy point: their distance to it is not known, and equal
    distances are ordered by tier (higher first), then community role (lead,
    branch, collaborator, alliance). ``step`` is the policy step that
    decided (``explanation`` says it in a line); ``session`` the scheduled
    session the destination holds the specialty in, if so; ``contact`` the
    destination's phone, address, booking channel, hours and 24-hour
    emergency, each with its source, where the region has them. ``alternatives``
    follow the policy's order (step, then distance); ``passed_over`` groups
    the skipped institutions by reason. ``when`` is the start of the booking
    window, when scheduled sessions were considered or ``when`` was given, in
    China Standard Time when it has an offset. ``specialty.travels`` says
    what goes to the destination (the patient, a specimen or a trace).
    ``lang`` is the language of ``explanation`` and of the session texts.
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
    trip: Trip | None = None
    step: Step
    same_proxy_point: tuple[InstitutionRef, ...] = ()
    session: SessionSlot | None = None
    contact: Contact | None = None
    alternatives: tuple[Alternative, ...] = ()
    passed_over: tuple[PassedOver, ...] = ()
    max_km: float | None = None
    when: dt.datetime | None = None
    lang: Lang = "zh"

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
    """The one-line explanation of a referral's policy step, in the referral's language."""
    return explain_step(r.step, r.origin, r.destination, r.specialty, r.session, r.max_km, r.lang,
                        max_minutes=getattr(r, "max_minutes", None))


def explain_step(step: Step, origin: InstitutionRef, destination: InstitutionRef, specialty: SpecialtyRef,
                 session: SessionSlot | None, max_km: float | None, lang: Lang = "zh", *,
                 max_minutes: float | None = None) -> str:
    """Why ``destination`` was chosen, in Chinese (``lang="zh"``) or English.

    >>> o = InstitutionRef(id="a", name="华埠卫生院", tier="township_centre", county="开化县", community="c",
    ...                    community_name="开化县人民医院医共体")
    >>> d = InstitutionRef(id="b", name="开化县人民医院", tier="county_hospital", county="开化县")
    >>> care = SpecialtyRef(code="general_surgery", label_zh="普通外科", label_en="General surgery")
    >>> explain_step("own_community", o, d, care, None, None)
    '上转至本医共体开化县人民医院医共体：开化县人民医院是其中最近的、级别高于华埠卫生院且提供普通外科的机构'
    >>> explain_step("nearest", o, d, care, None, None, "en")
    'emergency: 开化县人民医院 is the nearest institution offering General surgery now, communities ignored'
    """
    t = _TEXT[lang]
    own_centre = destination.id == origin.id and session is not None
    key = "own_centre" if own_centre else step if step != "any" or origin.community else "any_alone"
    expert = ""
    if session is not None:
        expert = t["expert"].format(session.provider.name) if session.provider else t["expert_unnamed"]
    text = t[key].format(
        dest=destination.name, origin=origin.name, care=specialty.label_zh if lang == "zh" else specialty.label_en,
        community=origin.community_name, home_community=destination.community_name, expert=expert,
        session=session.text if session else "", held=t["held"].format(session.text) if session else "",
        limit=_limit_text(t, max_km, max_minutes),
    )
    return text + t.get(f"travels_{specialty.travels}", "")


def _limit_text(t: dict[str, str], max_km: float | None, max_minutes: float | None) -> str:
    """The limits of an explanation: km, minutes, or both."""
    if max_minutes is None:
        return t["limit"].format(max_km) if max_km is not None else ""
    if max_km is None:
        return t["limit_minutes"].format(max_minutes)
    return t["limit_both"].format(max_km, max_minutes)


#: The explanation of each policy step, in each language; ``own_centre`` is a session at the origin itself.
_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "own_centre": "上下联动，在本中心就诊：{expert}在{dest}开设{care}门诊（{session}），无需上转",
        "own_community": "上转至本医共体{community}：{dest}是其中最近的、级别高于{origin}且提供{care}的机构{held}",
        "partners": "上转至{community}的合作机构：本医共体成员{limit}不能提供{care}；{dest}是最近的能提供的合作机构"
                    "（市级医院、专科联盟或协作单位）{held}",
        "any": "医共体外上转：本医共体及其合作机构{limit}没有更高级别的{care}；{dest}是最近能提供的机构{held}",
        "any_alone": "医共体外上转：{origin}不属于任何医共体；{dest}是{limit}最近的提供更高级别{care}的机构{held}",
        "nearest": "急诊：{dest}是最近的常设{care}机构，不论所属医共体",
        "home_centre": "下转回患者居住地的{dest}，该机构提供{care}{held}",
        "home_community": "下转回居住地医共体{home_community}：{dest}是其中{limit}最近的提供{care}的成员{held}",
        "expert": "{}的专家", "expert_unnamed": "上级专家", "held": "（门诊：{}）", "limit": "在 {:g} 公里内",
        "limit_minutes": "在 {:g} 分钟内", "limit_both": "在 {:g} 公里及 {:g} 分钟内",
        "travels_specimen": "；送检标本，患者无需前往", "travels_trace": "；传送心电图，患者无需前往",
    },
    "en": {
        "own_centre": "upper-lower linkage at the patient's own centre: {expert} holds a {care} clinic at {dest} "
                      "({session}); no referral up is needed",
        "own_community": "up within the own community {community}: {dest} is its nearest institution offering "
                         "{care}{held} at a higher tier than {origin}",
        "partners": "up to a partner of {community}: its own members cannot take {care}{limit}; {dest} is the "
                    "nearest partner (city hospital, alliance or collaborator) that can{held}",
        "any": "up beyond the community: its community and partners offer no higher-tier {care}{limit}; {dest} is "
               "the nearest institution that does{held}",
        "any_alone": "up beyond the community: {origin} belongs to no community; {dest} is the nearest institution "
                     "offering higher-tier {care}{limit}{held}",
        "nearest": "emergency: {dest} is the nearest institution offering {care} now, communities ignored",
        "home_centre": "down to the patient's home centre {dest}, which offers {care}{held}",
        "home_community": "down to the home community {home_community}: {dest} is its nearest member offering "
                          "{care}{held}{limit}",
        "expert": "an expert of {}", "expert_unnamed": "a higher-tier expert", "held": " in a session ({})",
        "limit": " within {:g} km", "limit_minutes": " within {:g} min", "limit_both": " within {:g} km and {:g} min",
        "travels_specimen": "; the specimen travels, not the patient",
        "travels_trace": "; the trace travels, not the patient",
    },
}


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
    for cls in (InstitutionRef, SpecialtyRef, Hop, SessionSlot, Alternative, PassedOver, Trip, Referral)
}

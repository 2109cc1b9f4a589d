"""Every rule a route request must meet, checked here once for the library, the CLI and the service.

Each check returns the value in the form the router takes, or raises
:class:`~mednet.errors.InvalidRequest` naming the parameter, the value and
the rule::

    >>> check_max_km(30)
    30.0
    >>> check_max_km(-5)
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidRequest: `max_km` must be a number > 0, got -5
    >>> parse_lat_lon("29.01，118.35")
    (29.01, 118.35)
    >>> check_specialty(None, "up")
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidRequest: `specialty` is required (it may be left out only for direction='down'), none given
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from typing import NamedTuple

from mednet.errors import InvalidRequest
from mednet.geo import check_lat_lon
from mednet.routing.answers import Direction, Explain, Lang, Point
from mednet.specialties import Specialty
from mednet.travel.layer import Cost, TravelLayer, check_cost

DIRECTIONS: tuple[Direction, ...] = ("up", "down", "emergency")
EXPLAIN: tuple[Explain, ...] = ("short", "full")
LANGS: tuple[Lang, ...] = ("zh", "en")
#: China Standard Time: sessions are published in it, and the default ``when`` is "now" there.
CST = dt.timezone(dt.timedelta(hours=8), "CST")
#: Years a query date may fall in (booking windows are computed with calendar arithmetic; outside, a typo).
WHEN_RANGE = (2000, 2100)
#: The longest shortlist the service gives (the library takes any length).
MAX_ALTERNATIVES = 20


def check_direction(direction: object) -> Direction:
    """``up``, ``down`` or ``emergency``."""
    if type(direction) is not str or direction not in DIRECTIONS:
        raise InvalidRequest("direction", direction, "must be one of 'up', 'down', 'emergency'",
                             rule_zh="必须是 up（上转）、down（下转）或 emergency（急诊）之一")
    return direction  # type: ignore[return-value,unused-ignore]  # one of DIRECTIONS


def check_alternatives(alternatives: object) -> int:
    """The shortlist length: a whole number >= 1."""
    if type(alternatives) is not int or alternatives < 1:
        raise InvalidRequest("alternatives", alternatives, "must be a whole number >= 1",
                             rule_zh="必须是不小于 1 的整数")
    return alternatives


def check_max_km(max_km: object, *, name: str = "max_km") -> float | None:
    """A distance limit: None (no limit) or a finite number > 0, as a float."""
    if max_km is None:
        return None
    if isinstance(max_km, bool) or not isinstance(max_km, numbers.Real):
        raise InvalidRequest(name, max_km, "must be a number > 0", rule_zh="必须是大于 0 的数", code="not_positive")
    value = float(max_km)
    if not (math.isfinite(value) and value > 0):
        raise InvalidRequest(name, max_km, "must be a number > 0", rule_zh="必须是大于 0 的数", code="not_positive")
    return value


def check_max_minutes(max_minutes: object) -> float | None:
    """A time limit: None (no limit) or a finite number of minutes > 0, as a float.

    >>> check_max_minutes(0)
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidRequest: `max_minutes` must be a number > 0, got 0
    """
    return check_max_km(max_minutes, name="max_minutes")


def check_travel_options(cost: object, max_minutes: object, travel: object) -> tuple[Cost, float | None, bool]:
    """The travel options of a route: ``cost`` (``km`` or ``minutes``), ``max_minutes``, ``travel`` (None or a
    :class:`~mednet.travel.TravelLayer`), and whether the route goes by travel cost: with ``cost="minutes"``, a
    limit in minutes (only the travel layer gives minutes between any two institutions) or a travel layer given.

    >>> check_travel_options("km", None, None)
    ('km', None, False)
    >>> check_travel_options("km", 45, None)
    ('km', 45.0, True)
    >>> check_travel_options("minutes", None, "quzhou.travel.json")
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidRequest: `travel` must be a TravelLayer (mednet.travel.load_travel), got 'str'
    """
    checked_cost, minutes = check_cost(cost), check_max_minutes(max_minutes)
    if travel is not None and not isinstance(travel, TravelLayer):
        raise InvalidRequest("travel", type(travel).__name__, "must be a TravelLayer (mednet.travel.load_travel)")
    return checked_cost, minutes, checked_cost == "minutes" or minutes is not None or travel is not None


def check_when(when: object) -> dt.datetime | None:
    """The start of the booking window: None (now), or a date-time in the years of :data:`WHEN_RANGE`.

    A date means its midnight. A date-time without an offset is China's
    local time; one with an offset is converted to China Standard Time
    (:data:`CST`), the time sessions are published in:

    >>> check_when(dt.date(2024, 10, 28))
    datetime.datetime(2024, 10, 28, 0, 0)
    >>> check_when(dt.datetime.fromisoformat("2024-10-29T10:00:00Z")).isoformat()
    '2024-10-29T18:00:00+08:00'
    """
    if when is None:
        return None
    if not isinstance(when, dt.datetime):
        if isinstance(when, dt.date):
            return dt.datetime.combine(when, dt.time())
        raise InvalidRequest("when", when, "must be a date and time (ISO 8601, e.g. 2026-11-02T09:00)",
                             rule_zh="必须是日期时间（ISO 8601，例如 2026-11-02T09:00）", code="not_datetime")
    first, last = WHEN_RANGE
    if not first <= when.year <= last:
        raise InvalidRequest("when", when.isoformat(), f"must fall in the years {first}–{last}",
                             rule_zh=f"必须在 {first}–{last} 年之间", code="year_range")
    return when if when.tzinfo is None else when.astimezone(CST)


def check_explain(explain: object) -> Explain:
    """How much of the passed-over list an answer gives: ``"short"`` (per reason, the count and the nearest
    :data:`~mednet.routing.answers.SHORT_PASSED_OVER`) or ``"full"`` (every one).

    >>> check_explain("full")
    'full'
    """
    if type(explain) is not str or explain not in EXPLAIN:
        raise InvalidRequest("explain", explain, "must be one of 'short', 'full'",
                             rule_zh="必须是 short（简要）或 full（完整）")
    return explain  # type: ignore[return-value,unused-ignore]  # one of EXPLAIN


def check_home(home: str | None, direction: Direction) -> str | None:
    """The home community or institution: only meaningful going ``down``."""
    if home is not None and direction != "down":
        raise InvalidRequest("home", home, "is only used with direction='down'",
                             rule_zh="仅用于下转（direction='down'）", code="only_down")
    return home


def check_specialty(specialty: str | None, direction: Direction) -> str | None:
    """The care needed: required, except going ``down`` (then the follow-up care defaults)."""
    if specialty is None and direction != "down":
        raise InvalidRequest("specialty", None, "is required (it may be left out only for direction='down')",
                             rule_zh="必须给出（仅下转时可省略）", code="required")
    return specialty


def check_referral_service(specialty: Specialty) -> Specialty:
    """A specialty something travels to (the patient, a specimen, a trace); else no referral at all.

    >>> from mednet.specialties import resolve_specialty
    >>> check_referral_service(resolve_specialty("检验")).travels
    'specimen'
    >>> check_referral_service(resolve_specialty("消毒供应"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidRequest: `specialty` must be ... 消毒供应 (sterile_supply) is ... not a referral service, ...
    """
    if not specialty.is_referral_service:
        raise InvalidRequest("specialty", specialty.code,
                             f"must be care a patient, a specimen or a trace is referred to; {specialty.label_zh} "
                             f"({specialty.code}) is a service between institutions, not a referral service",
                             rule_zh=f"必须是可转诊的服务（患者、标本或心电图可送往）；{specialty.label_zh}是机构之间的服务，"
                                     "不接受转诊", code="not_referral_service")
    return specialty


def check_lang(lang: object) -> Lang:
    """The language of the explanation: ``zh`` (Chinese, the default) or ``en``."""
    if type(lang) is not str or lang not in LANGS:
        raise InvalidRequest("lang", lang, "must be 'zh' (Chinese) or 'en' (English)",
                             rule_zh="必须是 zh（中文）或 en（英文）")
    return lang  # type: ignore[return-value,unused-ignore]  # one of LANGS


def lang_of_accept_language(header: str | None) -> Lang:
    """The language an ``Accept-Language`` header prefers among ``zh`` and ``en`` (by q-value, then order);
    ``zh`` when it names neither.

    >>> lang_of_accept_language("en-GB,en;q=0.9,zh-CN;q=0.8")
    'en'
    >>> lang_of_accept_language("zh-CN,zh;q=0.9,en;q=0.8"), lang_of_accept_language("fr"), lang_of_accept_language(None)
    ('zh', 'zh', 'zh')
    """
    best: tuple[float, int, Lang] | None = None
    for n, item in enumerate((header or "").split(",")):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGS:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0 and (best is None or (q, -n) > best[:2]):
            best = (q, -n, primary)  # primary is one of LANGS
    return best[2] if best else "zh"


def check_origin(origin: object) -> str | Point:
    """An institution (id, name or alias) or a :class:`Point`; a str subclass becomes a plain str."""
    if type(origin) is str or isinstance(origin, Point):
        return origin
    if isinstance(origin, str):
        return str(origin)
    raise InvalidRequest("origin", origin, "must be an institution id, name or alias, or a Point(lat=, lon=)",
                         rule_zh="必须是机构的编号、名称或别名，或坐标 Point(lat=, lon=)")


def parse_lat_lon(text: str, *, name: str = "origin") -> tuple[float, float]:
    """``"LAT,LON"`` (a full-width comma too) → ``(lat, lon)``, checked; errors name ``name``.

    >>> parse_lat_lon("118.35,29.01", name="near")
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidCoordinates: `lat` must be within [-90, 90] (lat and lon look swapped?), got 118.35
    >>> parse_lat_lon("29.01", name="near")
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidRequest: `near` must be LAT,LON: two numbers, e.g. `29.01,118.35`, got '29.01'
    """
    parts = text.replace("，", ",").split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError as err:
        raise InvalidRequest(name, text, "must be LAT,LON: two numbers, e.g. `29.01,118.35`",
                             rule_zh="必须是“纬度,经度”两个数，例如 `29.01,118.35`") from err
    return check_lat_lon(lat=lat, lon=lon, field=name)


class RouteQuery(NamedTuple):
    """One route request, every value checked by this module's rules: what the library, the command line and
    the service each make and hand to :meth:`mednet.routing.Router.answer`.

    ``by_cost`` says whether the route goes by travel cost (``cost="minutes"``,
    a ``max_minutes`` limit, or a ``travel`` layer given).

    >>> q = RouteQuery.checked("华埠", "儿科", max_km=30)
    >>> q.direction, q.max_km, q.alternatives, q.by_cost
    ('up', 30.0, 3, False)
    >>> RouteQuery.checked("华埠", None)
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidRequest: `specialty` is required (it may be left out only for direction='down'), none given
    """

    origin: str | Point
    specialty: str | None
    direction: Direction = "up"
    home: str | None = None
    max_km: float | None = None
    alternatives: int = 3
    when: dt.datetime | None = None
    explain: Explain = "short"
    lang: Lang = "zh"
    cost: Cost = "km"
    max_minutes: float | None = None
    travel: TravelLayer | None = None
    by_cost: bool = False

    @classmethod
    def checked(cls, origin: object, specialty: str | None, *, direction: object = "up", home: str | None = None,
                max_km: object = None, alternatives: object = 3, when: object = None, explain: object = "short",
                lang: object = "zh", cost: object = "km", max_minutes: object = None,
                travel: object = None) -> RouteQuery:
        """The query with every value checked (the first rule broken raises, naming its parameter)."""
        checked_direction = check_direction(direction)
        checked_cost, checked_minutes, by_cost = check_travel_options(cost, max_minutes, travel)
        checked_alternatives = check_alternatives(alternatives)
        checked_km = check_max_km(max_km)
        checked_when = check_when(when)
        checked_explain = check_explain(explain)
        checked_origin = check_origin(origin)
        checked_lang = check_lang(lang)
        check_specialty(specialty, checked_direction)
        if checked_direction != "down":
            check_home(home, checked_direction)
        return cls(origin=checked_origin, specialty=specialty, direction=checked_direction, home=home,
                   max_km=checked_km, alternatives=checked_alternatives, when=checked_when, explain=checked_explain,
                   lang=checked_lang, cost=checked_cost, max_minutes=checked_minutes,
                   travel=travel if isinstance(travel, TravelLayer) else None, by_cost=by_cost)

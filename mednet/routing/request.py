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
    mednet.errors.InvalidRequest: `specialty` is required (it may be left out only for direction='down'), got None
"""

from __future__ import annotations

import datetime as dt
import math
import numbers

from mednet.errors import InvalidRequest
from mednet.geo import check_lat_lon
from mednet.routing.answers import Direction, Explain, Point

DIRECTIONS: tuple[Direction, ...] = ("up", "down", "emergency")
EXPLAIN: tuple[Explain, ...] = ("short", "full")
#: Years a query date may fall in (booking windows are computed with calendar arithmetic; outside, a typo).
WHEN_RANGE = (2000, 2100)
#: The longest shortlist the service gives (the library takes any length).
MAX_ALTERNATIVES = 20


def check_direction(direction: object) -> Direction:
    """``up``, ``down`` or ``emergency``."""
    if type(direction) is not str or direction not in DIRECTIONS:
        raise InvalidRequest("direction", direction, "must be one of 'up', 'down', 'emergency'")
    return direction  # type: ignore[return-value,unused-ignore]  # one of DIRECTIONS


def check_alternatives(alternatives: object) -> int:
    """The shortlist length: a whole number >= 1."""
    if type(alternatives) is not int or alternatives < 1:
        raise InvalidRequest("alternatives", alternatives, "must be a whole number >= 1")
    return alternatives


def check_max_km(max_km: object, *, name: str = "max_km") -> float | None:
    """A distance limit: None (no limit) or a finite number > 0, as a float."""
    if max_km is None:
        return None
    if isinstance(max_km, bool) or not isinstance(max_km, numbers.Real):
        raise InvalidRequest(name, max_km, "must be a number > 0")
    value = float(max_km)
    if not (math.isfinite(value) and value > 0):
        raise InvalidRequest(name, max_km, "must be a number > 0")
    return value


def check_when(when: object) -> dt.datetime | None:
    """The start of the booking window: None (now), or a date-time in the years of :data:`WHEN_RANGE`.

    A date means its midnight.

    >>> check_when(dt.date(2024, 10, 28))
    datetime.datetime(2024, 10, 28, 0, 0)
    """
    if when is None:
        return None
    if not isinstance(when, dt.datetime):
        if isinstance(when, dt.date):
            return dt.datetime.combine(when, dt.time())
        raise InvalidRequest("when", when, "must be a date and time (ISO 8601, e.g. 2026-11-02T09:00)")
    first, last = WHEN_RANGE
    if not first <= when.year <= last:
        raise InvalidRequest("when", when.isoformat(), f"must fall in the years {first}–{last}")
    return when


def check_explain(explain: object) -> Explain:
    """How much of the passed-over list an answer gives: ``"short"`` (per reason, the count and the nearest
    :data:`~mednet.routing.answers.SHORT_PASSED_OVER`) or ``"full"`` (every one).

    >>> check_explain("full")
    'full'
    """
    if type(explain) is not str or explain not in EXPLAIN:
        raise InvalidRequest("explain", explain, "must be one of 'short', 'full'")
    return explain  # type: ignore[return-value,unused-ignore]  # one of EXPLAIN


def check_home(home: str | None, direction: Direction) -> str | None:
    """The home community or institution: only meaningful going ``down``."""
    if home is not None and direction != "down":
        raise InvalidRequest("home", home, "is only used with direction='down'")
    return home


def check_specialty(specialty: str | None, direction: Direction) -> str | None:
    """The care needed: required, except going ``down`` (then the follow-up care defaults)."""
    if specialty is None and direction != "down":
        raise InvalidRequest("specialty", None, "is required (it may be left out only for direction='down')")
    return specialty


def check_origin(origin: object) -> str | Point:
    """An institution (id, name or alias) or a :class:`Point`; a str subclass becomes a plain str."""
    if type(origin) is str or isinstance(origin, Point):
        return origin
    if isinstance(origin, str):
        return str(origin)
    raise InvalidRequest("origin", origin, "must be an institution id, name or alias, or a Point(lat=, lon=)")


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
        raise InvalidRequest(name, text, "must be LAT,LON: two numbers, e.g. `29.01,118.35`") from err
    return check_lat_lon(lat=lat, lon=lon, field=name)

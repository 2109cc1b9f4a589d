"""The shapes every request value must have, stated once for the checks and the OpenAPI schema.

Each type here is enforced by pydantic/FastAPI and appears in
``/openapi.json`` as the same JSON Schema rule, so a client generated from
the document never sends what the service rejects:

- names (institutions, communities, regions, specialties) are 1 to
  :data:`NAME_MAX_CHARS` characters with something besides spaces: the
  "did you mean" search never sees kilobytes of input;
- a point lies within mainland China's bounds (``mednet.geo.CHINA_BOUNDS``);
- ``LAT,LON`` text says the same, by a pattern;
- a visit date falls in the years 2000–2100 (``WHEN_YEARS``), by a pattern
  of real calendar dates.

    >>> import re
    >>> bool(re.fullmatch(NEAR_PATTERN, "29.01,118.35")), bool(re.fullmatch(NEAR_PATTERN, "118.35,29.01"))
    (True, False)
    >>> [bool(re.fullmatch(WHEN_PATTERN, w)) for w in ("2026-02-28T09:00", "2026-02-29", "2024-02-29", "2101-01-01")]
    [True, False, True, False]
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, PlainValidator, StringConstraints, WithJsonSchema

from mednet.errors import InvalidRequest
from mednet.geo import CHINA_BOUNDS, check_lat_lon
from mednet.inputs import NAME_PATTERN as INPUT_NAME_PATTERN
from mednet.routing.request import WHEN_RANGE, parse_lat_lon

#: Longest name accepted anywhere (ids, names, aliases, specialty labels are far shorter).
NAME_MAX_CHARS = 100
#: Something besides spaces, and no control character (see :mod:`mednet.inputs`).
NAME_PATTERN = INPUT_NAME_PATTERN
#: Specialties one coverage request may name (the vocabulary has fewer).
MAX_SPECIALTIES = 50
#: OpenAPI extension on an integer field of a strict body: only the integer literal (``3``) is taken. JSON Schema
#: calls ``3.0`` an integer too and has no keyword to tell the two spellings apart, so the schema says it here
#: and in the field's description.
INTEGER_LITERAL = "x-mednet-integer-literal"
#: Largest distance limit, km (mainland China is about 5,000 km across).
MAX_KM = 10_000.0
#: Years a visit date may fall in (the library's rule; :data:`WHEN_PATTERN` states it).
WHEN_YEARS = WHEN_RANGE

Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX_CHARS, pattern=NAME_PATTERN)]
SpecialtyName = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX_CHARS, pattern=NAME_PATTERN)]

(LAT_MIN, LAT_MAX), (LON_MIN, LON_MAX) = CHINA_BOUNDS["lat"], CHINA_BOUNDS["lon"]
Latitude = Annotated[float, Field(ge=LAT_MIN, le=LAT_MAX, description=f"degrees north, {LAT_MIN}–{LAT_MAX} "
                                  "(mainland China)")]
Longitude = Annotated[float, Field(ge=LON_MIN, le=LON_MAX, description=f"degrees east, {LON_MIN}–{LON_MAX} "
                                   "(mainland China)")]

# LAT,LON within CHINA_BOUNDS (lat 17.5–54.0, lon 73.0–135.5), plain decimals, an optional space after the comma.
_LAT = r"(17\.[5-9][0-9]*|(1[89]|[2-4][0-9]|5[0-3])(\.[0-9]+)?|54(\.0+)?)"
_LON = r"((7[3-9]|[89][0-9]|1[0-2][0-9]|13[0-4])(\.[0-9]+)?|135(\.[0-4][0-9]*|\.50*)?)"
NEAR_PATTERN = rf"^{_LAT}[,，] ?{_LON}$"
NEAR_MAX_CHARS = 60


def check_near(text: object) -> str:
    """``LAT,LON`` text matching :data:`NEAR_PATTERN`; else the library's reading of it says what is wrong.

    >>> check_near("29.01,118.35")
    '29.01,118.35'
    >>> check_near("118.35,29.01")
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidCoordinates: `lat` must be within [-90, 90] (lat and lon look swapped?), got 118.35
    """
    if isinstance(text, str) and len(text) <= NEAR_MAX_CHARS and re.fullmatch(NEAR_PATTERN, text):
        return text
    shown = str(text)[:NEAR_MAX_CHARS]
    lat, lon = parse_lat_lon(shown, name="near")  # two numbers, each in range (says "swapped?")
    check_lat_lon(lat=lat, lon=lon, within_china=True, field="near")
    raise InvalidRequest("near", shown, "must be LAT,LON in plain decimals (e.g. `29.01,118.35`)")


#: ``LAT,LON`` within mainland China; its JSON Schema is the pattern that checks it.
Near = Annotated[str, PlainValidator(check_near), WithJsonSchema({
    "type": "string", "pattern": NEAR_PATTERN, "maxLength": NEAR_MAX_CHARS,
})]

# An ISO date-time (or date) in WHEN_YEARS, every day a real calendar day: YYYY-MM-DD[THH:MM[:SS[.ffffff]]][Z|±HH:MM]
_YEAR = r"(20[0-9]{2}|2100)"
_LEAP_YEAR = r"(20([02468][048]|[13579][26]))"
_DAY = (rf"({_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|{_YEAR}-(0[13-9]|1[0-2])-(29|30)"
        rf"|{_YEAR}-(0[13578]|1[02])-31|{_LEAP_YEAR}-02-29)")
_TIME = r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?)?"
WHEN_PATTERN = rf"^{_DAY}{_TIME}$"
#: A calendar day in WHEN_YEARS (``from`` and ``to`` of the ledger's lists).
DATE_PATTERN = rf"^{_DAY}$"
#: An ``If-Match`` this service takes: ``*``, or one of its ETags (``"3"``, ``W/"3"``, ``3``).
ETAG_PATTERN = r'^[ \t]*(\*|(W/)?"*[0-9]+"*)[ \t]*$'

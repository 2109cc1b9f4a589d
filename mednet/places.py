"""China's official administrative places (bundled, CC BY 4.0).

Read from ``data/places/cn_admin_places.csv`` (Vonng/adcode, 2016 codes,
converted to WGS84) once per process::

    >>> sorted(t.name for t in county_townships("开化县"))[:3]
    ['中村乡', '何田乡', '华埠镇']
    >>> round(county_seat("江山市").lat, 3)
    28.741
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from mednet.errors import RegionDataError, UnknownRegion


@dataclass(frozen=True, slots=True)
class Place:
    code: str
    county_code: str
    province: str
    city: str
    county: str
    name: str
    level: str
    lat: float | None
    lon: float | None


def data_dir() -> Path:
    """The folder holding ``regions/`` and ``places/`` (installed copy first, then the checkout)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data", here.parent / "data"):
        if (candidate / "places").is_dir():
            return candidate
    raise RegionDataError(str(here.parent / "data"), "", "mednet's bundled data folder is missing")


def places_path() -> Path:
    return data_dir() / "places" / "cn_admin_places.csv"


@lru_cache(maxsize=1)
def all_places() -> tuple[Place, ...]:
    """Every row of the national places table."""
    path = places_path()
    with path.open(encoding="utf-8", newline="") as f:
        return tuple(
            Place(
                code=r["code"], county_code=r["county_code"], province=r["province"], city=r["city"],
                county=r["county"], name=r["name"], level=r["level"],
                lat=float(r["lat"]) if r["lat"] else None, lon=float(r["lon"]) if r["lon"] else None,
            )
            for r in csv.DictReader(f)
        )


@lru_cache(maxsize=1)
def _by_county() -> dict[str, tuple[Place, list[Place]]]:
    seats: dict[str, Place] = {}
    towns: dict[str, list[Place]] = {}
    for p in all_places():
        if p.level == "county":
            seats[p.county_code] = p
        elif p.level == "township":
            towns.setdefault(p.county_code, []).append(p)
    return {code: (seat, towns.get(code, [])) for code, seat in seats.items()}


def _county_code(county: str) -> str:
    matches = [code for code, (seat, _) in _by_county().items() if county in (seat.name, code)]
    if not matches:
        raise UnknownRegion(county, known=[seat.name for seat, _ in _by_county().values()])
    return matches[0]


def county_seat(county: str, *, code: str | None = None) -> Place:
    """The seat of a county, by name (or by 6-digit ``code`` where names repeat)."""
    return _by_county()[code or _county_code(county)][0]


def county_townships(county: str, *, code: str | None = None) -> tuple[Place, ...]:
    """The official townships and streets of a county (2016 list)."""
    return tuple(_by_county()[code or _county_code(county)][1])

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
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from mednet.errors import InvalidRequest, RegionDataError, UnknownCounty, UnknownRegion, UnknownTownship, closest_names
from mednet.models import Source


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

    @property
    def point(self) -> tuple[float, float]:
        """``(lat, lon)``; a row without a point fails here (callers pick located rows first).

        >>> tuple(round(x, 3) for x in county_seat("江山市").point)
        (28.741, 118.622)
        """
        if self.lat is None or self.lon is None:
            raise RegionDataError(str(places_path()), f"row {self.code} {self.name}", "has no point (lat, lon)",
                                  rule_zh="没有坐标（lat、lon）", place_zh=f"{self.code} {self.name} 这一行")
        return self.lat, self.lon


def data_dir() -> Path:
    """The folder holding ``regions/`` and ``places/`` (installed copy first, then the checkout)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data", here.parent / "data"):
        if (candidate / "places").is_dir():
            return candidate
    raise RegionDataError(str(here.parent / "data"), "", "mednet's bundled data folder is missing",
                          rule_zh="mednet 自带的数据文件夹不见了，请重新安装")


def places_path() -> Path:
    return data_dir() / "places" / "cn_admin_places.csv"


@lru_cache(maxsize=1)
def all_places() -> tuple[Place, ...]:
    """Every row of the national places table."""
    return tuple(_place(row) for row in _rows())


def _rows() -> list[list[str]]:
    """The places table's rows as read (columns in ``Place``'s order; the header checked)."""
    path = places_path()
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        if next(reader, None) != _COLUMNS:
            raise RegionDataError(str(path), "row 1", f"must be the header {','.join(_COLUMNS)}",
                                  rule_zh=f"须为表头 {','.join(_COLUMNS)}", place_zh="第 1 行")
        return list(reader)


_COLUMNS = ["code", "county_code", "province", "city", "county", "name", "level", "lat", "lon"]


def _place(row: list[str]) -> Place:
    code, county_code, province, city, county, name, level, lat, lon = row
    return Place(code=code, county_code=county_code, province=province, city=city, county=county, name=name,
                 level=level, lat=float(lat) if lat else None, lon=float(lon) if lon else None)


@lru_cache(maxsize=1)
def _by_county() -> dict[str, tuple[Place, list[list[str]]]]:
    """Each county's seat and its township rows, as read (made into places when a county is asked for: a
    server validating its regions needs a few counties, not the 46,000 rows)."""
    seats: dict[str, Place] = {}
    towns: dict[str, list[list[str]]] = {}
    for row in _rows():
        if row[6] == "county":
            seats[row[1]] = _place(row)
        elif row[6] == "township":
            towns.setdefault(row[1], []).append(row)
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
    return _townships(code or _county_code(county))


@lru_cache(maxsize=64)
def _townships(county_code: str) -> tuple[Place, ...]:
    return tuple(_place(row) for row in _by_county()[county_code][1])


#: The source of the places table, as region files cite it (key ``adcode``).
ADCODE_SOURCE = Source(
    title="adcode: China's administrative codes with centre points (Vonng/adcode)",
    publisher="Vonng (GitHub)",
    url="https://github.com/Vonng/adcode",
    licence="CC BY 4.0",
    note=("commit b755d6e, data/adcode/*.csv: National Bureau of Statistics 2016 codes, points added "
          "2018; GCJ-02 converted to WGS84 with prcoords 1.0.2 gcj_wgs_bored (CC0), about 1 m. "
          "Bundled as data/places/cn_admin_places.csv."),
)

STREET_SUFFIXES = ("街道办事处", "地区办事处", "办事处", "街道")
_SHORT = re.compile(r"^(.{2,}?)(?:[\u4e00-\u9fff]{1,3}族)?(?:街道办事处|地区办事处|办事处|街道|镇|乡|苏木)$")


def is_street(name: str) -> bool:
    """A street (街道): its centre is a community health service centre, not a township health centre.

    >>> is_street("龙洲街道"), is_street("湖镇镇")
    (True, False)
    """
    return name.endswith(STREET_SUFFIXES)


def township_short_names(name: str) -> tuple[str, ...]:
    """A township's name and the short form people use (``湖镇`` for 湖镇镇, ``沐尘`` for 沐尘畲族乡).

    >>> township_short_names("湖镇镇"), township_short_names("沐尘畲族乡"), township_short_names("东华街道办事处")
    (('湖镇镇', '湖镇'), ('沐尘畲族乡', '沐尘'), ('东华街道办事处', '东华街道', '东华'))
    """
    names = [name]
    if name.endswith("街道办事处"):
        names.append(name.removesuffix("办事处"))
    found = _SHORT.match(name)
    if found and found.group(1) not in names:
        names.append(found.group(1))
    return tuple(names)


@lru_cache(maxsize=1)
def official_counties() -> tuple[Place, ...]:
    """The seat rows of every county and district of the official list (2016), in code order.

    Statistical placeholders (市辖区 rows without townships) are left out.
    """
    return tuple(seat for seat, towns in _by_county().values() if seat.name != "市辖区" or towns)


def find_county(text: str) -> Place:
    """A county's seat row by 6-digit code, name, or prefecture and name (``衢州市龙游县``).

    >>> find_county("龙游县").county_code, find_county("330825").name, find_county("福州市鼓楼区").city
    ('330825', '龙游县', '福州市')
    >>> find_county("鼓楼区")
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidRequest: `county` is ambiguous: 鼓楼区 is in 南京市 (320106), ...; add the prefecture ...
    """
    key = re.sub(r"\s+", "", str(text))
    matches = _county_names().get(key, [])
    if not matches:
        known = [s.name for s in official_counties()]
        raise UnknownCounty(key, known=known, where="the official list of counties and districts (2016)")
    if len(matches) > 1:
        where = ", ".join(f"{s.city} ({s.county_code})" for s in matches)
        where_zh = "、".join(f"{s.city}（{s.county_code}）" for s in matches)
        raise InvalidRequest("county", key, f"is ambiguous: {matches[0].name} is in {where}; add the prefecture "
                                            f"({matches[0].city}{matches[0].name}) or give the 6-digit code",
                             rule_zh=f"有歧义：{matches[0].name}分别属于 {where_zh}；请加上地市名（"
                                     f"{matches[0].city}{matches[0].name}）或写 6 位区划代码")
    return matches[0]


@lru_cache(maxsize=1)
def _county_names() -> dict[str, list[Place]]:
    """Every way :func:`find_county` accepts a county (code, name, with prefecture, with province) → its seats."""
    index: dict[str, list[Place]] = {}
    for s in official_counties():
        for key in dict.fromkeys((s.county_code, s.name, s.city + s.name, s.province + s.city + s.name,
                                  s.province + s.name)):
            index.setdefault(key, []).append(s)
    return index


def find_township(county_code: str, text: str) -> Place:
    """An official township of a county by its name or short name (``湖镇`` for 湖镇镇).

    >>> find_township("330825", "湖镇").name
    '湖镇镇'
    """
    towns = _townships(county_code)
    key = str(text).strip()
    matches = [t for t in towns if key == t.name] or [t for t in towns if key in township_short_names(t.name)]
    if len(matches) == 1:
        return matches[0]
    seat = _by_county()[county_code][0]
    if matches:
        raise InvalidRequest("township", key, f"names {len(matches)} townships of {seat.name}: "
                                              f"{', '.join(t.name for t in matches)}",
                             rule_zh=f"对应{seat.name}的 {len(matches)} 个乡镇（街道）："
                                     f"{'、'.join(t.name for t in matches)}")
    near = closest_names(key, [t.name for t in towns])
    raise UnknownTownship(key, where=f"the official townships of {seat.name}", suggestions=near)

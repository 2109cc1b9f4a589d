"""The population sheet 人口: residents per township or street, read with the registry import's rules.

One row per township (乡镇) or street (街道): its county (区县), its name,
the resident population (常住人口), the year (年份) and the source (来源).
The sheet is read like the region's tables (:func:`mednet.importing.tables.table_rows`:
headers in Chinese or English, titles above the header, footers, stray
spaces) and every problem goes to one :class:`~mednet.importing.problems.Collector`
at its cell, in Chinese and English; an error anywhere raises
:class:`~mednet.errors.TableImportError` and nothing is returned. Townships
are matched to the official list (:func:`mednet.places.find_township`, short
names allowed), so each row has the township's code and centre point.

    >>> import pandas as pd
    >>> sheet = pd.DataFrame({"区县": ["龙游县", "龙游县"], "乡镇/街道": ["湖镇", "詹家镇"],
    ...                       "常住人口": [52000, 21000], "年份": [2020, 2020], "来源": ["示例", "示例"]})
    >>> towns = read_population_frames({"人口": sheet})
    >>> [(t.township, t.people, t.year) for t in towns]
    [('湖镇镇', 52000, 2020), ('詹家镇', 21000, 2020)]
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mednet.errors import TableImportError
from mednet.importing.cells import Row
from mednet.importing.problems import RULE_LABELS, Collector
from mednet.importing.sheets import Column, Sheet
from mednet.importing.tables import Table, frames_to_tables, read_files, table_rows
from mednet.places import find_county, find_township

#: The sheet this import reads (its own declaration; the region's 人口 sheet assigns people to institutions).
POPULATION_SHEETS: dict[str, Sheet] = {s.key: s for s in (
    Sheet("population", "人口", (
        Column("county", "区县", ("县区", "所属区县", "县(市、区)"), required=True),
        Column("township", "乡镇/街道", ("乡镇街道", "乡镇", "街道", "乡镇(街道)"), required=True),
        Column("people", "常住人口", ("人口", "population", "人口数", "常住人口数"), required=True),
        Column("year", "年份", ("年度", "统计年份")),
        Column("source", "来源", ("出处", "数据来源")),
    ), aliases=("常住人口", "township population")),
)}

RULE_LABELS.update({"duplicate-township": "乡镇街道重复", "year": "年份"})

#: Years accepted in 年份 (a census or a yearbook's year).
YEARS = range(1950, 2101)


@dataclass(frozen=True, slots=True)
class TownshipPopulation:
    """Residents of one official township or street, with its code, centre point (None when the official list
    has none), year and source as the sheet gives them."""

    county: str
    county_code: str
    township: str
    code: str
    people: int
    year: int | None
    source: str | None
    lat: float | None
    lon: float | None


def read_population(paths: Iterable[str | os.PathLike[str]], *, strict_columns: bool = False
                    ) -> list[TownshipPopulation]:
    """The 人口 sheet of workbooks or CSV files; :class:`~mednet.errors.TableImportError` with every problem
    when any is an error."""
    return population_from_tables(read_files(paths), strict_columns=strict_columns)


def read_population_frames(frames: Mapping[str, object], *, file: str = "<DataFrame>") -> list[TownshipPopulation]:
    """The 人口 sheet from pandas DataFrames keyed by sheet name (the header is row 1)."""
    return population_from_tables(frames_to_tables(frames, file=file))


def population_from_tables(tables: Iterable[Table], *, strict_columns: bool = False,
                           problems: Collector | None = None) -> list[TownshipPopulation]:
    """Rows of the 人口 sheet as township populations (the collector given keeps the notes and warnings)."""
    problems = Collector() if problems is None else problems
    tables = list(tables)
    rows = table_rows(tables, problems, sheets=POPULATION_SHEETS, strict_columns=strict_columns).get("population", [])
    if not rows and not problems:
        problems.error("required-sheet", "no sheet 人口 (population) with columns 区县, 乡镇/街道, 常住人口",
                       "缺少“人口”表（应有 区县、乡镇/街道、常住人口 列）",
                       file=tables[0].file if tables else "", sheet="")
    out: list[TownshipPopulation] = []
    seen: dict[str, int] = {}
    for row in rows:
        town = _row(row)
        if town is None:
            continue
        if town.code in seen:
            row.error("township", "duplicate-township", f"{town.township} is already on row {seen[town.code]}",
                      f"{town.township}已在第 {seen[town.code]} 行列出")
            continue
        seen[town.code] = row.row
        out.append(town)
    if problems:
        raise TableImportError(problems.sorted())
    return out


def _row(row: Row) -> TownshipPopulation | None:
    people = row.integer("people", minimum=0) if row.required("people") else None
    year = row.integer("year") if row.text("year") else None
    if year is not None and year not in YEARS:
        row.error("year", "year", f"must be a year between {YEARS.start} and {YEARS.stop - 1}",
                  f"应为 {YEARS.start}–{YEARS.stop - 1} 之间的年份")
        year = None
    seat = row.parse("county", find_county, "unknown-county") if row.required("county") else None
    if seat is None or not row.required("township"):
        return None
    town = row.parse("township", lambda text: find_township(seat.county_code, text), "unknown-township")
    if town is None or people is None:
        return None
    return TownshipPopulation(county=seat.name, county_code=seat.county_code, township=town.name, code=town.code,
                              people=people, year=year, source=row.text("source"), lat=town.lat, lon=town.lon)


__all__ = ["POPULATION_SHEETS", "TownshipPopulation", "population_from_tables", "read_population",
           "read_population_frames"]

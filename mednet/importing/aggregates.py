"""Monthly aggregates per institution from hospital and insurance systems: what the ledger cannot know.

One sheet, 月度汇总 (or any sheet with these columns; a CSV file is one sheet): 机构 (name, alias or id of
the region's institution), 月份 (2026-07, 2026年7月, 2026/7 or a date in the month), and the counts a system
reports — 门急诊人次, 住院人次, 县外就诊人次 and 县外住院人次 (the county's people treated outside it,
from insurance settlement, reported on any one institution's row), 医保基金支出 and 县外医保基金支出 in
yuan. An empty count is *not collected*, never 0: indicators over it show 未采集.

The registry import's rules hold: every problem of every row is reported in one run at its file, sheet, row
and column (:class:`~mednet.importing.problems.Collector`), and nothing is written unless there is no error;
then one transaction replaces the rows of the same institutions and months.

    >>> parse_month("2026年7月"), parse_month("2026/07"), parse_month("2026-07-15")
    ('2026-07', '2026-07', '2026-07')
    >>> parse_month("七月")
    Traceback (most recent call last):
    ...
    mednet.importing.problems.CellError: must be a month such as 2026-07 or 2026年7月
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from mednet.errors import TableImportError, closest_names
from mednet.importing.cells import Row
from mednet.importing.problems import CellError, Collector
from mednet.importing.sheets import Column, Sheet
from mednet.importing.tables import read_files, table_rows
from mednet.models import Region
from mednet.network import name_index

SHEET = Sheet("monthly", "月度汇总", (
    Column("institution", "机构", ("机构名称", "医疗机构", "单位"), required=True),
    Column("month", "月份", ("统计月份", "年月"), required=True),
    Column("visits", "门急诊人次", ("门诊人次",)),
    Column("inpatients", "住院人次", ("出院人次",)),
    Column("visits_outside", "县外就诊人次"),
    Column("inpatients_outside", "县外住院人次"),
    Column("insurance", "医保基金支出", ("医保基金支出（元）", "医保基金支出(元)")),
    Column("insurance_outside", "县外医保基金支出", ("县外医保基金支出（元）", "县外医保基金支出(元)")),
), aliases=("monthly aggregates", "月度数据", "汇总"))
COUNTS = ("visits", "inpatients", "visits_outside", "inpatients_outside")
MONEY = ("insurance", "insurance_outside")
_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:月)?(?:\s*[-/.]\s*\d{1,2}\s*日?)?(?:[ T].*)?$")


def parse_month(text: str) -> str:
    """``YYYY-MM`` of a month written as 2026-07, 2026/7, 2026年7月 or a date in it; :class:`CellError`."""
    found = _MONTH.match(text.strip())
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise CellError("must be a month such as 2026-07 or 2026年7月", "必须是月份，如 2026-07 或 2026年7月")
    return f"{found.group(1)}-{int(found.group(2)):02d}"


def read_aggregates(paths: Iterable[str | os.PathLike[str]], region: Region,
                    problems: Collector) -> list[dict[str, Any]]:
    """The rows of the monthly sheets of ``paths`` as values of ``monthly_aggregates`` (without the region and
    the stamp); every problem goes to ``problems``."""
    rows = table_rows(read_files(paths), problems, sheets={SHEET.key: SHEET}).get(SHEET.key, [])
    names = name_index(region)  # ids, names, aliases and township names, as routing reads them
    seen: dict[tuple[str, str], Row] = {}
    out: list[dict[str, Any]] = []
    for row in rows:
        name = row.required("institution")
        month = row.parse("month", parse_month, "date") if row.text("month") else row.required("month")
        ids = names.get(name.strip().casefold(), ()) if name else ()
        inst = ids[0] if len(ids) == 1 else None
        if name and not ids:
            near = closest_names(name, [i.name for i in region.institutions])
            row.error("institution", "unknown-institution",
                      "not an institution of the region" + (f" (did you mean {near[0]!r}?)" if near else ""),
                      "不是本区域的机构" + (f"（是否为“{near[0]}”？）" if near else ""))
        elif len(ids) > 1:
            row.error("institution", "ambiguous-institution", f"names several institutions ({', '.join(ids)})",
                      f"同时指多个机构（{'、'.join(ids)}），请填写机构编号")
        values: dict[str, Any] = {k: row.integer(k, minimum=0) for k in COUNTS}
        values |= {k: row.number(k, minimum=0) for k in MONEY}
        if inst is None or month is None:
            continue
        if (inst, month) in seen:
            row.error("month", "duplicate-id", f"{name} {month} is already on row {seen[inst, month].row}",
                      f"{name} {month} 已在第 {seen[inst, month].row} 行")
            continue
        seen[inst, month] = row
        out.append(dict(institution=inst, month=month, **values))
    if not rows:
        problems.error("required-sheet", "no monthly sheet (columns 机构, 月份 …) was found",
                       "没有找到月度汇总表（需有 机构、月份 等列）", file=", ".join(str(p) for p in paths))
    return out


def import_aggregates(engine: Engine, region: Region, path: str | os.PathLike[str], *,
                      source: str | None = None) -> int:
    """Import the monthly aggregates of ``path`` (.xlsx or .csv) for ``region``: all rows or none
    (:class:`~mednet.errors.TableImportError` with every problem). Returns the number of rows written."""
    import sqlalchemy as sa

    from mednet.ledger.store import monthly_aggregates, writing

    problems = Collector()
    rows = read_aggregates([path], region, problems)
    if problems:
        raise TableImportError(problems.sorted())
    now = dt.datetime.now(dt.UTC)
    with writing(engine) as conn:
        for row in rows:
            conn.execute(monthly_aggregates.delete().where(
                monthly_aggregates.c.region == region.id, monthly_aggregates.c.institution == row["institution"],
                monthly_aggregates.c.month == row["month"]))
        if rows:
            conn.execute(monthly_aggregates.insert(), [dict(region=region.id, source=source or Path(path).name,
                                                            imported_at=now, **row) for row in rows])
        conn.execute(sa.select(1))
    return len(rows)

"""Import an origin–destination table (CSV or XLSX) into a region's travel layer.

One row per pair, with a header naming the columns (English or Chinese)::

    origin,destination,minutes,km
    华埠,开化县人民医院,28,21.3
    齐溪,开化县人民医院,55,
    某岛卫生院,开化县人民医院,unreachable,

``origin``/``destination`` (起点/终点) are institutions by id, name or
alias; ``minutes`` (分钟) and/or ``km`` (公里) are numbers, an empty cell is
"not given" (the next source decides), and ``unreachable`` (不可达) says the
source knows no way. Every unusable cell is reported at once, and nothing
is written when any is found.

    >>> from mednet.regions import load_region
    >>> region = load_region("quzhou")
    >>> table = parse_od_rows(region, [["起点", "终点", "分钟"], ["华埠", "开化县人民医院", "28"]], file="od.csv")
    >>> table[0].a, table[0].b, table[0].minutes, table[0].km
    ('kh-huabu', 'kh-people', 28.0, None)
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from mednet.errors import TravelDataError, UnknownInstitution
from mednet.models import Region, Source
from mednet.network import name_index
from mednet.travel.model import ODTable, TravelFile, TravelPair, replace_travel

COLUMNS = {
    "origin": ("origin", "from", "起点", "出发地", "出发机构"),
    "destination": ("destination", "to", "终点", "目的地", "到达机构"),
    "minutes": ("minutes", "min", "time_min", "分钟", "时间(分钟)", "时间（分钟）"),
    "km": ("km", "distance_km", "公里", "距离(公里)", "距离（公里）"),
}
UNREACHABLE = ("unreachable", "不可达", "无法到达")
SUFFIXES = (".csv", ".xlsx")
MAX_LISTED = 20


def read_od_rows(path: str | Path, *, sheet: str | None = None) -> list[list[object]]:
    """The rows of a CSV (UTF-8, with or without BOM) or XLSX file, header first."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise TravelDataError(str(path), "", f"expected a .csv or .xlsx table, got {suffix or 'no suffix'!r}",
                              rule_zh=f"应为 .csv 或 .xlsx 表格，收到 {suffix or '无扩展名'!r}")
    if not path.is_file():
        raise TravelDataError(str(path), "", "no such file", rule_zh="文件不存在")
    if suffix == ".csv":
        try:
            with path.open(encoding="utf-8-sig", newline="") as f:
                return [list(row) for row in csv.reader(f)]
        except UnicodeDecodeError as err:
            raise TravelDataError(str(path), "", f"cannot be read as UTF-8 text ({err})",
                                  rule_zh=f"无法作为 UTF-8 文本读取（{err}）") from err
    from mednet.extras import require_extra

    openpyxl = require_extra("openpyxl", "travel")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises several kinds for a broken workbook
        raise TravelDataError(str(path), "", f"cannot be read as an XLSX workbook ({err})",
                              rule_zh=f"无法作为 XLSX 工作簿读取（{err}）") from err
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise TravelDataError(str(path), "sheet", f"{sheet!r} is not among {book.sheetnames}",
                                  rule_zh=f"没有工作表 {sheet!r}（有：{'、'.join(book.sheetnames)}）",
                                  place_zh="工作表")
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        return [list(row) for row in ws.iter_rows(values_only=True)]
    finally:
        book.close()


def parse_od_rows(region: Region, rows: list[list[object]], *, file: str) -> tuple[TravelPair, ...]:
    """Pairs from table rows (header first), names resolved with the region's aliases; every problem at once."""
    rows = [r for r in rows if any(c not in (None, "") for c in r)]
    if not rows:
        raise TravelDataError(file, "", "the table is empty; expected a header row and one row per pair",
                              rule_zh="表格是空的；应有一行表头，每对机构一行")
    header = [str(c or "").strip().casefold() for c in rows[0]]
    column = {}
    for key, accepted in COLUMNS.items():
        for j, text in enumerate(header):
            if text in {n.casefold() for n in accepted}:
                column[key] = j
    missing = [k for k in ("origin", "destination") if k not in column]
    if missing or not ({"minutes", "km"} & column.keys()):
        need = missing + ([] if {"minutes", "km"} & column.keys() else ["minutes or km"])
        raise TravelDataError(
            file,
            "header",
            f"needs the column(s) {need}; found {rows[0]}; "
            f"accepted names: {', '.join(n for ns in COLUMNS.values() for n in ns)}",
            rule_zh=f"缺少列 {need}；表头是 {rows[0]}；可用的列名："
                    f"{'、'.join(n for ns in COLUMNS.values() for n in ns)}", place_zh="表头",
        )
    names = name_index(region)
    known = [i.name for i in region.institutions] + [i.id for i in region.institutions]
    problems: list[str] = []
    problems_zh: list[str] = []

    def say(en: str, zh: str) -> None:
        problems.append(en)
        problems_zh.append(zh)

    pairs: dict[tuple[str, str], TravelPair] = {}
    for n, row in enumerate(rows[1:], start=2):
        cell = lambda key, row=row: row[column[key]] if key in column and column[key] < len(row) else None  # noqa: E731
        ends = []
        for key in ("origin", "destination"):
            text = str(cell(key) or "").strip()
            ids = names.get(text.casefold())
            if not text:
                say(f"row {n}: `{key}` is empty", f"第 {n} 行：`{key}` 是空的")
            elif not ids:
                unknown = UnknownInstitution(text, known=known)
                say(f"row {n}: `{key}` {unknown}", f"第 {n} 行：`{key}` {unknown.zh}")
            elif len(ids) > 1:
                say(f"row {n}: `{key}` {text!r} is ambiguous: it names {', '.join(ids)}; give an id",
                    f"第 {n} 行：`{key}` {text!r} 同时指向 {'、'.join(ids)}，请写编号")
            else:
                ends.append(ids[0])
        figures, unreachable, bad = {}, False, False
        for key in ("minutes", "km"):
            value = cell(key)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            if isinstance(value, str) and value.strip().casefold() in UNREACHABLE:
                unreachable = True
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = math.nan
            if not (math.isfinite(number) and number >= 0):
                say(f"row {n}: `{key}` must be a number >= 0 or 'unreachable', got {value!r}",
                    f"第 {n} 行：`{key}` 须为不小于 0 的数或 'unreachable'，收到 {value!r}")
                bad = True
            else:
                figures[key] = number
        if len(ends) < 2 or bad:
            continue
        a, b = ends
        if a == b:
            say(f"row {n}: origin and destination are the same institution {a!r}",
                f"第 {n} 行：起点和终点是同一家机构 {a!r}")
        elif unreachable and figures:
            say(f"row {n}: says 'unreachable' and gives a figure; give one or the other",
                f"第 {n} 行：既写了 'unreachable' 又给了数值，请只给其一")
        elif not unreachable and not figures:
            say(f"row {n}: gives neither minutes nor km", f"第 {n} 行：既没有分钟也没有公里")
        elif (a, b) in pairs:
            say(f"row {n}: the pair {a}→{b} is given twice", f"第 {n} 行：{a}→{b} 这一对重复出现")
        else:
            pairs[(a, b)] = TravelPair(a=a, b=b, unreachable=unreachable, **figures)
    if problems:
        more = f" (and {len(problems) - MAX_LISTED} more)" if len(problems) > MAX_LISTED else ""
        more_zh = f"（另有 {len(problems) - MAX_LISTED} 个）" if len(problems) > MAX_LISTED else ""
        raise TravelDataError(file, f"{len(problems)} unusable cell(s)", "; ".join(problems[:MAX_LISTED]) + more,
                              rule_zh="；".join(problems_zh[:MAX_LISTED]) + more_zh,
                              place_zh=f"{len(problems)} 处无法使用")
    return tuple(pairs.values())


def import_od(
    region: Region, path: str | Path, *, source: str, travel: TravelFile | None = None, sheet: str | None = None
) -> TravelFile:
    """The region's travel file with the OD table of ``path`` added (replacing one from the same file)."""
    from mednet.travel.layer import check_travel

    if not source or not source.strip():
        raise TravelDataError(str(path), "--source", "name where the figures come from, e.g. a map service and date",
                              rule_zh="请写明数据来源，如地图服务名称和日期")
    path = Path(path)
    pairs = parse_od_rows(region, read_od_rows(path, sheet=sheet), file=str(path))
    travel = travel or TravelFile(region=region.id)
    key = f"od:{path.name}"
    table = ODTable(source=key, file=path.name, pairs=pairs)
    tables = (*tuple(t for t in travel.od_tables if t.source != key), table)
    sources = {**travel.sources, key: Source(title=source.strip(), note=f"OD table imported from {path.name}")}
    new = replace_travel(travel, sources=sources, od_tables=tables)
    check_travel(region, new)
    return new

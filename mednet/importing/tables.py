"""Tables in: workbooks (XLSX, XLS, ODS), CSV files and pandas DataFrames, read as a registry exports them.

A region's tables are sheets of one workbook, or one CSV file per sheet in
a folder (the file name names the sheet). :func:`read_files` reads every
sheet's cells as they stand (row 1 is the spreadsheet's row 1), and
:func:`table_rows` finds each sheet's place among the declared sheets
(:mod:`mednet.importing.sheets`) and yields its rows:

- a sheet is known by its name (Chinese or English, or an alias), else by
  its header row; a sheet with neither (填报说明, a code list) is listed
  once in a note and skipped;
- the header row is the one of the first :data:`HEADER_SCAN_ROWS` rows that
  names the most declared columns: title rows above it are allowed;
- columns the sheet does not declare (序号, 法定代表人, …) are kept aside
  (``Row.extras``) and listed once per sheet in a note, or refused one by one
  with ``strict_columns``; a missing required column is one problem for the
  sheet, never one more per row;
- stray and non-breaking spaces in a cell are removed, with a note;
- a footer row (合计, 填表人：…) is skipped, with a note.

Other imports (a population sheet, monthly aggregates) declare their own
sheets and call :func:`table_rows` with them (``sheets=``).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mednet.errors import RegionDataError, closest_names
from mednet.importing.cells import Row, column_letter
from mednet.importing.problems import Collector
from mednet.importing.sheets import SHEETS, Sheet, normalise, sheet_for

#: Names of sheets that carry instructions for people, never data (skipped with a note).
IGNORED_SHEETS = ("说明", "填写说明", "填报说明", "填表说明", "使用说明", "导入说明", "readme", "notes", "instructions")
#: Workbook formats read (python-calamine); CSV files are read as text.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
#: How many rows from the top may hold titles above the header row.
HEADER_SCAN_ROWS = 10
#: Rows whose first filled cell starts so are footers (totals, who filled the form in), not data.
FOOTER = re.compile(r"^(?:合\s*计|总\s*计|小\s*计|填表人|填报人|制表人|审核人|负责人|单位负责人|"
                    r"填报日期|填表日期|制表日期|填报单位|制表单位)")
#: Characters a cell should not hold: non-breaking, ideographic and zero-width spaces, tabs and line breaks.
_STRAY = re.compile(r"[\u00a0\u3000\u2000-\u200d\u2028\u2029\u202f\u205f\ufeff\t\r\n]")
_ZERO_WIDTH = re.compile(r"[\u200b-\u200d\ufeff]")
_CJK_GAP = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef]) +(?=[\u3000-\u9fff\uff00-\uffef])")


@dataclass(frozen=True)
class Table:
    """One sheet as read: its file, its name there, and its cells by spreadsheet row (row 1 first, column A
    first). ``path`` is the file read (None for DataFrames)."""

    file: str
    name: str
    cells: Sequence[Sequence[object]]
    path: Path | None = None


def read_files(paths: Iterable[str | os.PathLike[str]]) -> list[Table]:
    """Every sheet of the given workbooks and CSV files (folders: the files in them)."""
    tables: list[Table] = []
    for path in map(Path, paths):
        if path.is_dir():
            tables += read_files(sorted(p for p in path.iterdir() if p.suffix.lower() in (".csv", *WORKBOOK_SUFFIXES)
                                        and not p.name.startswith((".", "~$"))))
        elif not path.exists():
            raise RegionDataError(str(path), "", "no such file or folder", rule_zh="文件或文件夹不存在")
        elif path.suffix.lower() in WORKBOOK_SUFFIXES:
            tables += _read_workbook(path)
        elif path.suffix.lower() == ".csv":
            tables.append(Table(path.name, path.stem, _read_csv(path), path))
        else:
            raise RegionDataError(str(path), "", "expected a workbook (.xlsx, .xls, .ods), a .csv file or a folder "
                                  "of them", rule_zh="应为工作簿（.xlsx、.xls、.ods）、.csv 文件或存放它们的文件夹")
    return tables


def _read_workbook(path: Path) -> list[Table]:
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        return [Table(path.name, name, book.get_sheet_by_name(name).to_python(skip_empty_area=False), path)
                for name in book.sheet_names]
    except FileNotFoundError as err:
        raise RegionDataError(str(path), "", "no such file", rule_zh="文件不存在") from err
    except (OSError, ValueError, KeyError, python_calamine.CalamineError) as err:
        raise RegionDataError(str(path), "", f"cannot be read as a workbook ({err})",
                              rule_zh=f"无法作为工作簿读取（{err}）") from err


def _read_csv(path: Path) -> list[list[str]]:
    import csv

    try:
        data = path.read_bytes()
    except FileNotFoundError as err:
        raise RegionDataError(str(path), "", "no such file", rule_zh="文件不存在") from err
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GB18030/GBK
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        try:
            return list(csv.reader(text.splitlines()))
        except csv.Error as err:
            raise RegionDataError(str(path), "", f"cannot be read as CSV ({err})",
                                  rule_zh=f"无法作为 CSV 读取（{err}）") from err
    raise RegionDataError(str(path), "", "cannot be read as UTF-8 or GB18030 text",
                          rule_zh="既不是 UTF-8 也不是 GB18030 编码的文本")


def frames_to_tables(frames: Mapping[str, object], *, file: str) -> list[Table]:
    """pandas DataFrames keyed by sheet name, as tables of one (possibly imaginary) file: the header is row 1."""
    tables = []
    for name, frame in frames.items():
        header = [str(c) for c in frame.columns]  # type: ignore[attr-defined]
        tables.append(Table(file, name, [header, *frame.to_numpy(dtype=object).tolist()]))  # type: ignore[attr-defined]
    return tables


def cell_text(value: object) -> str:
    """A cell as text: empty for NaN/None, whole floats without ``.0``, dates as ISO.

    >>> cell_text(12.0), cell_text(float("nan")), cell_text(29.5), cell_text(dt.date(2019, 4, 3))
    ('12', '', '29.5', '2019-04-03')
    """
    if value is None:
        return ""
    if type(value) is str:
        return value.strip()
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time | dt.timedelta):
        return str(value)
    text = str(value).strip()
    return "" if text in ("NaT", "<NA>") else text


def clean_text(text: str) -> str:
    """``text`` without stray spaces: non-breaking, ideographic and zero-width spaces, tabs and line breaks become
    one space (zero-width: nothing), runs of spaces one.

    >>> clean_text("湖镇镇\\u00a0卫生院"), clean_text("Hu \\tzhen\\u200b")
    ('湖镇镇 卫生院', 'Hu zhen')
    """
    return " ".join(_STRAY.sub(" ", _ZERO_WIDTH.sub("", text)).split())


def clean_name(text: str) -> str:
    """A name without spaces between Chinese characters (which no institution's name has).

    >>> clean_name("湖镇镇 卫生院"), clean_name("Huzhen Health Centre")
    ('湖镇镇卫生院', 'Huzhen Health Centre')
    """
    return _CJK_GAP.sub("", text)


@dataclass(frozen=True)
class Layout:
    """Where a sheet's columns stand: its header row, each declared column's key and index, and the columns kept
    aside (header as written, or ``F 列`` when it has none, and index)."""

    header_row: int
    keys: tuple[tuple[str, int], ...]
    headers: Mapping[str, str]
    extras: tuple[tuple[str, int], ...]


def table_rows(tables: Iterable[Table], problems: Collector, *, sheets: Mapping[str, Sheet] | None = None,
               strict_columns: bool = False) -> dict[str, list[Row]]:
    """Rows of each declared sheet (``sheets``, default the region's), by sheet key; problems of sheets and
    headers, and notes on what was set aside, go to ``problems``."""
    declared = SHEETS if sheets is None else sheets
    rows: dict[str, list[Row]] = {}
    read_as: dict[str, list[Table]] = {}
    for table in tables:
        problems.sheet_order.setdefault((table.file, table.name), len(problems.sheet_order))
        if not any(any(cell_text(v) for v in r) for r in table.cells):
            continue  # an empty sheet: nothing to say
        if normalise(table.name) in {normalise(n) for n in IGNORED_SHEETS}:
            _skipped(problems, table, "instructions for people, not a table", "填写说明，不是数据表")
            continue
        sheet = sheet_for(table.name, declared)
        found = _header(table, sheet, declared) if sheet is not None else _header_anywhere(table, declared)
        if found is None:
            if sheet is not None:
                _no_header(problems, table, sheet)
            else:
                near = closest_names(table.name, [s.zh for s in declared.values()] + list(declared), n=1)
                en = "no header row of a sheet mednet reads" + (f" (is it {near[0]!r}?)" if near else "")
                zh = "没有可识别的表头行" + (f"（是否为“{near[0]}”？）" if near else "")
                _skipped(problems, table, en, zh)
            continue
        sheet, header_index = found
        if not sheet_for(table.name, declared):
            problems.note("unknown-sheet", f"read as the {sheet.title} sheet, by its columns",
                          f"按列名识别为“{sheet.zh}”表", file=table.file, sheet=table.name)
        layout = _layout(table, sheet, header_index, problems, strict_columns=strict_columns)
        read_as.setdefault(sheet.key, []).append(table)
        rows.setdefault(sheet.key, []).extend(_rows(table, layout, problems))
    for key, group in read_as.items():
        if len(group) > 1:
            names = "、".join(f"{t.file}［{t.name}］" for t in group)
            problems.note("duplicate-sheet", f"{len(group)} sheets read as {declared[key].title}, one after the "
                          f"other: {', '.join(f'{t.file} [{t.name}]' for t in group)}",
                          f"{len(group)} 个工作表按“{declared[key].zh}”表依次读取：{names}", file=group[0].file,
                          sheet=group[0].name)
    return rows


def _skipped(problems: Collector, table: Table, en: str, zh: str) -> None:
    problems.note("unknown-sheet", f"skipped: {en}", f"已跳过：{zh}", file=table.file, sheet=table.name)


def _matches(sheet: Sheet, cells: Sequence[object]) -> set[str]:
    return {col.key for v in cells if (text := cell_text(v)) and (col := sheet.column(text)) is not None}


def _header(table: Table, sheet: Sheet, declared: Mapping[str, Sheet]) -> tuple[Sheet, int] | None:
    """The row of the first :data:`HEADER_SCAN_ROWS` naming most of ``sheet``'s columns (the first such)."""
    best, at = 0, None
    for i, cells in enumerate(table.cells[:HEADER_SCAN_ROWS]):
        n = len(_matches(sheet, cells))
        if n > best:
            best, at = n, i
    return None if at is None else (sheet, at)


def _header_anywhere(table: Table, declared: Mapping[str, Sheet]) -> tuple[Sheet, int] | None:
    """The declared sheet whose columns a row near the top names best: all its required columns and at least
    two in all; None when no sheet qualifies or two qualify equally."""
    scored: list[tuple[int, str, int]] = []
    for key, sheet in declared.items():
        required = {c.key for c in sheet.required}
        for i, cells in enumerate(table.cells[:HEADER_SCAN_ROWS]):
            found = _matches(sheet, cells)
            if required <= found and len(found) >= min(2, len(sheet.columns)):
                scored.append((len(found), key, i))
    if not scored:
        return None
    scored.sort(key=lambda s: -s[0])
    if len(scored) > 1 and scored[1][0] == scored[0][0] and scored[1][1] != scored[0][1]:
        return None
    return declared[scored[0][1]], scored[0][2]


def _no_header(problems: Collector, table: Table, sheet: Sheet) -> None:
    wanted = "、".join(c.zh for c in sheet.required) or "、".join(c.zh for c in sheet.columns[:3])
    problems.error("header-row", f"no header row in the first {HEADER_SCAN_ROWS} rows names a column of "
                   f"{sheet.title} (expected {', '.join(c.header for c in sheet.required) or sheet.columns[0].header}"
                   " …)", f"前 {HEADER_SCAN_ROWS} 行中没有“{sheet.zh}”表的表头（应有 {wanted} 等列）",
                   file=table.file, sheet=table.name, row=1)


def _layout(table: Table, sheet: Sheet, header_index: int, problems: Collector, *, strict_columns: bool) -> Layout:
    header_row = header_index + 1
    width = max(len(r) for r in table.cells)
    header_cells = list(table.cells[header_index]) + [None] * (width - len(table.cells[header_index]))
    keys: list[tuple[str, int]] = []
    headers: dict[str, str] = {}
    extras: list[tuple[str, int]] = []
    place = {"file": table.file, "sheet": table.name, "row": header_row}
    for index, value in enumerate(header_cells):
        header = clean_text(cell_text(value))
        letter = column_letter(index)
        if not header:
            if any(len(r) > index and cell_text(r[index]) for r in table.cells[header_row:]):
                extras.append((f"{letter} 列", index))
            continue
        column = sheet.column(header)
        if column is None:
            extras.append((header, index))
        elif column.key in headers:
            problems.error("duplicate-column", f"names the same column as {headers[column.key]!r}",
                           f"与“{headers[column.key]}”是同一列", **place, column=header, cell=f"{letter}{header_row}")
        else:
            headers[column.key] = header
            keys.append((column.key, index))
    if header_index:
        problems.note("header-row", f"the header is row {header_row}; the rows above it are read as a title",
                      f"表头在第 {header_row} 行，其上各行视为标题", file=table.file, sheet=table.name)
    if extras and strict_columns:
        for header, index in extras:
            near = closest_names(header, [c.zh for c in sheet.columns], n=1)
            problems.error("unknown-column", f"not a column of {sheet.title}" + (f"; did you mean {near[0]!r}?"
                                                                                 if near else ""),
                           f"不是“{sheet.zh}”表的列" + (f"；是否要写“{near[0]}”？" if near else ""), **place,
                           column=header, cell=f"{column_letter(index)}{header_row}")
    elif extras:
        listed = ", ".join(f"{h} ({column_letter(i)})" for h, i in extras)
        listed_zh = "、".join(f"{h}（{column_letter(i)}）" for h, i in extras)
        problems.note("extra-columns", f"{len(extras)} columns mednet does not use, kept aside: {listed}",
                      f"{len(extras)} 列未使用，已保留备查：{listed_zh}", file=table.file, sheet=table.name,
                      row=header_row)
    for column in sheet.required:
        if column.key not in headers:
            unused = [h for h, _ in extras]
            near = closest_names(column.zh, unused, n=1) if unused else []
            hint_en = f"; is {near[0]!r} it? rename it {column.zh}" if near else ""
            hint_zh = f"；“{near[0]}”是否就是这一列？请改为“{column.zh}”" if near else ""
            problems.error("required-column", f"{sheet.title} needs a column {column.zh} ({column.key}){hint_en}",
                           f"“{sheet.zh}”表缺少必填列“{column.zh}”{hint_zh}", **place, column=column.zh)
    return Layout(header_row, tuple(keys), headers, tuple(extras))


def _rows(table: Table, layout: Layout, problems: Collector) -> list[Row]:
    out: list[Row] = []
    columns = dict(layout.keys)
    for index in range(layout.header_row, len(table.cells)):
        values = table.cells[index]
        number = index + 1
        n = len(values)
        cells: dict[str, str] = {}
        for key, i in layout.keys:
            v = values[i] if i < n else None
            if v is None or v == "":
                cells[key] = ""
                continue
            text = cell_text(v)
            if text and _STRAY.search(text):
                clean = clean_text(text)
                problems.note("normalised", f"stray spaces removed: read as {clean!r}",
                              f"已去除多余空白，读作“{clean}”",
                              file=table.file, sheet=table.name, row=number, column=layout.headers[key],
                              cell=f"{column_letter(i)}{number}", value=text)
                text = clean
            cells[key] = text
        extras = {h: t for h, i in layout.extras if i < n and (t := cell_text(values[i]))}
        if not any(cells.values()):
            continue  # an empty row, or one filled only in columns kept aside
        first = next(t for v in values if (t := cell_text(v)))
        if FOOTER.match(first):
            problems.note("header-row", f"skipped a footer row: {first[:30]!r}", f"已跳过表尾行：“{first[:30]}”",
                          file=table.file, sheet=table.name, row=number)
            continue
        out.append(Row(problems, file=table.file, sheet=table.name, row=number, cells=cells, headers=layout.headers,
                       columns=columns, extras=extras))
    return out


__all__ = [
    "HEADER_SCAN_ROWS",
    "IGNORED_SHEETS",
    "WORKBOOK_SUFFIXES",
    "Layout",
    "Table",
    "cell_text",
    "clean_name",
    "clean_text",
    "frames_to_tables",
    "read_files",
    "table_rows",
]

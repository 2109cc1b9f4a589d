"""Tables in and out: CSV files, XLSX workbooks and pandas DataFrames.

A region's tables are sheets of one workbook, or one CSV file per sheet in
a folder (the file name names the sheet). :func:`read_files` reads them as
text, :func:`table_rows` matches sheet and column names (Chinese or English,
see :mod:`mednet.importing.sheets`) and yields each row's cells; unknown or
missing sheets and columns are problems, collected like any bad cell.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mednet.errors import RegionDataError, closest_names
from mednet.importing.cells import Collector, Row
from mednet.importing.sheets import SHEETS, normalise, sheet_for

#: Sheets a workbook may carry for people, ignored on import (instructions, notes).
IGNORED_SHEETS = ("说明", "填写说明", "readme", "notes")


@dataclass(frozen=True)
class Table:
    """One sheet as read: the file it came from, its name there, and its cells as a DataFrame."""

    file: str
    name: str
    frame: pd.DataFrame


def read_files(paths: Iterable[str | os.PathLike[str]]) -> list[Table]:
    """Every sheet of the given XLSX workbooks and CSV files (folders: the files in them)."""
    tables: list[Table] = []
    for path in map(Path, paths):
        if path.is_dir():
            tables += read_files(sorted(p for p in path.iterdir() if p.suffix.lower() in (".csv", ".xlsx")))
        elif path.suffix.lower() == ".xlsx":
            try:
                sheets = pd.read_excel(path, sheet_name=None, dtype=str, na_filter=False, engine="calamine")
            except FileNotFoundError as err:
                raise RegionDataError(str(path), "", "no such file") from err
            except (OSError, ValueError, KeyError) as err:
                raise RegionDataError(str(path), "", f"cannot be read as an XLSX workbook ({err})") from err
            tables += [Table(path.name, name, frame) for name, frame in sheets.items()]
        elif path.suffix.lower() == ".csv":
            tables.append(Table(path.name, path.stem, _read_csv(path)))
        elif not path.exists():
            raise RegionDataError(str(path), "", "no such file or folder")
        else:
            raise RegionDataError(str(path), "", "expected an .xlsx workbook, a .csv file or a folder of them")
    return tables


def _read_csv(path: Path) -> pd.DataFrame:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GB18030/GBK
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except FileNotFoundError as err:
            raise RegionDataError(str(path), "", "no such file") from err
        except (OSError, pd.errors.ParserError) as err:
            raise RegionDataError(str(path), "", f"cannot be read as CSV ({err})") from err
    raise RegionDataError(str(path), "", "cannot be read as UTF-8 or GB18030 text")


def frames_to_tables(frames: Mapping[str, pd.DataFrame], *, file: str) -> list[Table]:
    """DataFrames keyed by sheet name, as tables of one (possibly imaginary) file."""
    return [Table(file, name, frame) for name, frame in frames.items()]


def cell_text(value: object) -> str:
    """A cell as text: empty for NaN/None, whole floats without ``.0``, dates as ISO.

    >>> cell_text(12.0), cell_text(float("nan")), cell_text(29.5), cell_text(dt.date(2019, 4, 3))
    ('12', '', '29.5', '2019-04-03')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def table_rows(tables: Iterable[Table], problems: Collector) -> dict[str, list[Row]]:
    """Rows of each known sheet, by sheet key; sheet and header problems go to ``problems``."""
    rows: dict[str, list[Row]] = {}
    seen: dict[str, Table] = {}
    for table in tables:
        if normalise(table.name) in {normalise(n) for n in IGNORED_SHEETS}:
            continue
        sheet = sheet_for(table.name)
        if sheet is None:
            known = [s.zh for s in SHEETS.values()] + list(SHEETS)
            near = closest_names(table.name, known)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            expected = ", ".join(s.title for s in SHEETS.values())
            problems.add(file=table.file, sheet=table.name, rule="unknown-sheet",
                         message=f"not a sheet mednet reads (expected {expected}){hint}")
            continue
        if sheet.key in seen:
            other = seen[sheet.key]
            problems.add(file=table.file, sheet=table.name, rule="duplicate-sheet",
                         message=f"a second {sheet.title} sheet (the first is {other.name!r} in {other.file})")
            continue
        seen[sheet.key] = table
        headers: dict[str, str] = {}
        usable: list[tuple[str, str]] = []  # (header as written, column key)
        for header in map(str, table.frame.columns):
            column = sheet.column(header)
            if header.startswith("Unnamed:") and table.frame[header].map(cell_text).eq("").all():
                continue  # an empty spreadsheet column
            if column is None:
                near = closest_names(header, [c.zh for c in sheet.columns] + [c.key for c in sheet.columns])
                hint = f"; did you mean {near[0]!r}?" if near else ""
                problems.add(file=table.file, sheet=table.name, row=1, column=header, rule="unknown-column",
                             message=f"not a column of {sheet.title}{hint}")
            elif column.key in headers:
                problems.add(file=table.file, sheet=table.name, row=1, column=header, rule="duplicate-column",
                             message=f"names the same column as {headers[column.key]!r}")
            else:
                headers[column.key] = header
                usable.append((header, column.key))
        for column in sheet.columns:
            if column.required and column.key not in headers:
                problems.add(file=table.file, sheet=table.name, row=1, column=column.header, rule="required-column",
                             message=f"{sheet.title} needs a column {column.zh} ({column.key})")
        sheet_rows = rows.setdefault(sheet.key, [])
        records = table.frame[[h for h, _ in usable]].to_numpy(dtype=object).tolist() if usable else []
        for index, values in enumerate(records):
            cells = {key: cell_text(v) for (_, key), v in zip(usable, values, strict=True)}
            if any(cells.values()):
                sheet_rows.append(Row(problems, file=table.file, sheet=table.name, row=index + 2, cells=cells,
                                      headers=headers))
    return rows


__all__ = ["Table", "cell_text", "frames_to_tables", "read_files", "table_rows"]

"""The planner's own workbook handed back with every problem at its cell, as registry systems return a refused
upload.

:func:`annotate_workbook` writes a copy of the workbook that was read (an
``.xlsx``; sheets read from CSV, XLS or ODS files, or from DataFrames, are
added as sheets of their values): each problem becomes a comment on its cell
(a problem about a whole row: the row's first cell; about a whole sheet: A1)
and the cell is filled by severity (red an error, yellow a warning, blue a
note); a first sheet lists every problem (errors first, each as the
problems are given: by place) with a link to its cell. Written with
openpyxl.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from mednet.importing.problems import (
    SEVERITIES,
    SEVERITY_ZH,
    CellProblem,
    Lang,
    problem_records,
    summarise,
    summary_line,
)
from mednet.importing.tables import Table

#: Cell fills by severity (Excel's own "bad", "neutral" and a light blue).
FILLS = {"error": "FFC7CE", "warning": "FFEB9C", "note": "DDEBF7"}
#: The name of the sheet listing the problems, by language.
LIST_SHEET = {"zh": "导入问题", "en": "import problems"}
_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def annotate_workbook(problems: Sequence[CellProblem], tables: Sequence[Table], path: str | os.PathLike[str], *,
                      lang: Lang = "zh") -> Path:
    """Write the annotated copy of ``tables`` (as :func:`~mednet.importing.tables.read_files` read them) to
    ``path``."""
    import openpyxl

    sources = [t for t in tables if t.path is not None and t.path.suffix.lower() in (".xlsx", ".xlsm")]
    first = sources[0].path if sources else None
    book = openpyxl.load_workbook(first) if first is not None else openpyxl.Workbook()
    if first is None:
        book.remove(book.active)
    sheets = {(t.file, t.name): book[t.name] for t in tables if t.path == first and first is not None}
    for table in tables:
        if (table.file, table.name) not in sheets:
            sheet = book.create_sheet(_free_name(book, table.name if len({t.file for t in tables}) == 1
                                                 else f"{Path(table.file).stem} {table.name}"))
            for values in table.cells:
                sheet.append([_value(v) for v in values])
            sheets[(table.file, table.name)] = sheet
    _comment(problems, sheets, lang)
    _list_sheet(book, problems, sheets, lang)
    book.save(path)
    return Path(path)


def _value(value: object) -> object:
    return "" if value is None else value


def _free_name(book: object, wanted: str) -> str:
    names = set(book.sheetnames)  # type: ignore[attr-defined]
    base = "".join(c for c in wanted if c not in "[]:*?/\\")[:28] or "sheet"
    name, n = base, 2
    while name in names:
        name, n = f"{base}-{n}"[:31], n + 1
    return name


def cell_of(problem: CellProblem) -> str:
    """The cell a problem is shown at: its own, else its row's first cell, else A1."""
    if problem.cell:
        return problem.cell
    return f"A{problem.row}" if problem.row else "A1"


def _comment(problems: Sequence[CellProblem], sheets: dict, lang: Lang) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    by_cell: dict[tuple, list[CellProblem]] = defaultdict(list)
    for p in problems:
        if (p.file, p.sheet) in sheets:
            by_cell[(p.file, p.sheet, cell_of(p))].append(p)
    for (file, sheet, ref), found in by_cell.items():
        found.sort(key=lambda p: _RANK[p.severity])
        lines = [f"{SEVERITY_ZH[p.severity] if lang == 'zh' else p.severity}〔{p.rule}〕{p.message_in(lang)}"
                 for p in found]
        cell = sheets[(file, sheet)][ref]
        comment = Comment("\n".join(lines), "mednet")
        comment.width, comment.height = 320, 40 + 30 * len(lines)
        cell.comment = comment
        colour = FILLS[found[0].severity]
        cell.fill = PatternFill(start_color=colour, end_color=colour, fill_type="solid")


def _list_sheet(book: object, problems: Sequence[CellProblem], sheets: dict, lang: Lang) -> None:
    from openpyxl.styles import Font

    sheet = book.create_sheet(_free_name(book, LIST_SHEET[lang]), 0)  # type: ignore[attr-defined]
    sheet.append([summary_line(summarise(problems), lang)])
    headers = (["级别", "规则", "类别", "文件", "工作表", "行", "列", "单元格", "值", "说明"] if lang == "zh" else
               ["severity", "rule", "kind", "file", "sheet", "row", "column", "cell", "value", "message"])
    sheet.append(headers)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    ordered = sorted(problems, key=lambda p: _RANK[p.severity])  # errors first, each in the order given
    for problem, record in zip(ordered, problem_records(ordered, lang), strict=True):
        sheet.append([record[k] for k in ("severity", "rule", "kind", "file", "sheet", "row", "column", "cell",
                                          "value", "message")])
        target = sheets.get((problem.file, problem.sheet))
        if target is not None:
            link = sheet.cell(row=sheet.max_row, column=8, value=cell_of(problem))
            link.hyperlink = f"#'{target.title}'!{cell_of(problem)}"
            link.font = Font(color="0563C1", underline="single")
    for letter, width in zip("ABCDEFGHIJ", (8, 20, 18, 16, 12, 6, 16, 8, 20, 80), strict=True):
        sheet.column_dimensions[letter].width = width


__all__ = ["FILLS", "LIST_SHEET", "annotate_workbook", "cell_of"]

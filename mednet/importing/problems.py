"""Problems found while reading a planner's tables: each at its file, sheet, row and column, in Chinese and English.

Every sheet an import reads (the region's, a population sheet, monthly
aggregates) reports through one :class:`Collector`: an **error** blocks the
import (nothing is written), a **warning** is worth a look, a **note** says
what the import did with something it does not use (a column kept aside, a
sheet skipped, a cell normalised). An import raises
:class:`~mednet.errors.TableImportError` with ``collector.sorted()`` when the
collector holds an error (it is then true). Each :class:`CellProblem` carries its
place (file, sheet, spreadsheet row, column header as written, cell
reference), the value, a stable ``rule`` code and the message in English
and Chinese. :func:`format_problems` puts a summary first (how many problems
in how many rows, by kind), then the list; :func:`write_problems` writes
them as CSV or JSON for a spreadsheet.

    >>> problems = Collector()
    >>> problems.error("number", "must be a number", "必须是数字", file="t.xlsx", sheet="机构", row=3,
    ...                column="床位", cell="D3", value="十二")
    >>> print(problems.problems[0].text("zh"))
    t.xlsx［机构］第 3 行，床位（D3）=“十二”：必须是数字〔number〕
    >>> print(problems.problems[0].text("en"))
    t.xlsx [机构] row 3, 床位 (D3) = '十二': number: must be a number
    >>> print(format_problems(problems.problems, lang="zh").splitlines()[0])
    1 个问题，涉及 1 行：1 个错误
"""

from __future__ import annotations

import csv
import io
import json
import os
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Severity = Literal["error", "warning", "note"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "note")
Lang = Literal["zh", "en"]
SEVERITY_ZH = {"error": "错误", "warning": "警告", "note": "提示"}

#: What each rule is, in Chinese, for the summary by kind (English output uses the code itself). A module that
#: adds a sheet adds its rules here: a test checks that every rule reported has a label.
RULE_LABELS: dict[str, str] = {
    # reading the tables
    "unknown-sheet": "不是表格的工作表", "duplicate-sheet": "重复的工作表", "required-sheet": "缺少工作表",
    "unknown-column": "未使用的列", "duplicate-column": "重复的列", "required-column": "缺少必填列",
    "header-row": "表头位置", "normalised": "已规范化的单元格", "extra-columns": "未使用的列",
    # cells
    "required": "必填项为空", "number": "数字", "integer": "整数", "yes-no": "是/否", "date": "日期",
    "choice": "取值", "phone": "电话号码", "grade": "医院等级", "credit-code": "统一社会信用代码",
    "coordinates": "坐标", "datum": "坐标系", "datum-suspect": "坐标系可疑", "id": "编号",
    "region-id": "区域编号", "region-rows": "区域表行数", "unknown-county": "区县", "county-code": "区划代码",
    "unknown-township": "乡镇街道", "category": "机构类别", "skipped-category": "未纳入的机构类别",
    "kept-category": "无法保留的机构类别", "unknown-specialty": "科室/诊疗科目", "not-routed": "不参与转诊的诊疗科目",
    "unknown-source": "来源代号", "duplicate-source": "来源代号重复", "unknown-institution": "机构名称",
    "skipped-institution": "引用了未纳入的机构", "ambiguous-institution": "机构名称有歧义", "role": "成员角色",
    "weekday": "星期", "part": "时段", "tier": "层级", "link-kind": "连接类型", "distance-basis": "距离依据",
    "location-kind": "位置类型", "contact-kind": "联系方式类别", "community-kind": "医共体类型",
    "contact-twice": "联系方式重复", "duplicate-capability": "专科重复", "duplicate-member": "成员重复",
    "duplicate-community": "医共体重复", "unknown-community": "未列出的医共体",
    "community-created": "由成员生成的医共体",
    "link-ends": "连接两端", "no-centre": "乡镇无卫生院", "membership-twice": "成员关系重复",
    # the region's own rules (mednet.validate), placed at the row that causes them
    "file-name-id": "文件名与区域编号不符", "unknown-id": "未知编号", "duplicate-id": "编号重复",
    "duplicate-name": "名称重复", "lead-count": "牵头医院数量", "lead-tier": "牵头医院层级",
    "multiple-communities": "同属多个医共体", "partner-as-lead": "协作单位不能牵头",
    "member-outside-county": "成员不在医共体区县内", "orphan-primary-care": "基层机构未加入医共体",
    "unreachable-member": "成员与牵头医院不连通", "session-provider": "出诊派出机构",
    "point-outside-county": "坐标不在所属区县", "roster-missing": "名单中缺少成员",
    "roster-extra": "成员不在公布名单中",
    "roster-moved": "名单成员在其他医共体", "roster-alias": "名单名称不符",
}


class CellError(ValueError):
    """A cell's value breaks a rule: the English message, and its Chinese wording in ``zh``.

    >>> err = CellError("must be a number", "必须是数字")
    >>> str(err), err.zh
    ('must be a number', '必须是数字')
    """

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.zh = zh


class CellProblem(BaseModel):
    """One problem: its place (``row`` None for a whole sheet or file), value, rule, severity and message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    sheet: str
    row: int | None = None
    column: str | None = None
    cell: str | None = None
    value: str | None = None
    rule: str
    severity: Severity = "error"
    message: str
    message_zh: str

    def place(self, lang: Lang = "zh") -> str:
        """Where it is, as a planner finds it in the workbook."""
        if lang == "zh":
            text = f"{self.file}［{self.sheet}］" if self.sheet else self.file
            if self.row is not None:
                text += f"第 {self.row} 行"
            if self.column is not None:
                text += ("，" if self.row is not None else "") + self.column
                text += f"（{self.cell}）" if self.cell else ""
                if self.value is not None:
                    text += f"=“{self.value}”"
            return text
        text = f"{self.file} [{self.sheet}]" if self.sheet else self.file
        if self.row is not None:
            text += f" row {self.row}"
        if self.column is not None:
            text += f", {self.column}" + (f" ({self.cell})" if self.cell else "")
            if self.value is not None:
                text += f" = {self.value!r}"
        return text

    def text(self, lang: Lang = "zh") -> str:
        """One line: place, message and rule."""
        if lang == "zh":
            return f"{self.place('zh')}：{self.message_zh}〔{self.rule}〕"
        return f"{self.place('en')}: {self.rule}: {self.message}"

    def message_in(self, lang: Lang) -> str:
        return self.message_zh if lang == "zh" else self.message

    def __str__(self) -> str:
        return self.text("en")


@dataclass
class Collector:
    """Every problem found, in the order found. True when an error is among them (warnings and notes never
    block an import)."""

    problems: list[CellProblem] = field(default_factory=list)
    error_count: int = 0
    #: The order of the sheets as read ((file, sheet) → position), for listing problems in workbook order.
    sheet_order: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, *, rule: str, message: str, message_zh: str, severity: Severity = "error",
            **place: Any) -> CellProblem:
        problem = CellProblem(rule=rule, message=message, message_zh=message_zh, severity=severity, **place)
        self.problems.append(problem)
        self.error_count += severity == "error"
        return problem

    def error(self, rule: str, en: str, zh: str, **place: Any) -> None:
        """An error at ``place`` (file, sheet, row, column, cell, value): the import writes nothing."""
        self.add(rule=rule, message=en, message_zh=zh, severity="error", **place)

    def warning(self, rule: str, en: str, zh: str, **place: Any) -> None:
        """A warning: worth the planner's look, never blocking."""
        self.add(rule=rule, message=en, message_zh=zh, severity="warning", **place)

    def note(self, rule: str, en: str, zh: str, **place: Any) -> None:
        """A note: what the import did with something it does not use."""
        self.add(rule=rule, message=en, message_zh=zh, severity="note", **place)

    def of(self, severity: Severity) -> list[CellProblem]:
        return [p for p in self.problems if p.severity == severity]

    @property
    def errors(self) -> list[CellProblem]:
        return self.of("error")

    def __bool__(self) -> bool:
        return self.error_count > 0

    def sorted(self) -> list[CellProblem]:
        """Every problem, sorted by place: sheets as read, rows in order (what
        :class:`~mednet.errors.TableImportError` is raised with)."""
        return sort_problems(self.problems, self.sheet_order)


def sort_problems(problems: Iterable[CellProblem],
                  order: dict[tuple[str, str], int] | None = None) -> list[CellProblem]:
    """By file and sheet (in ``order`` when given: as the workbook has them), then row (sheet-wide ones first),
    keeping the order found within a row."""
    known = order or {}
    return sorted(problems, key=lambda p: (p.file, known.get((p.file, p.sheet), len(known)), p.sheet, p.row or 0))


@dataclass(frozen=True)
class ProblemSummary:
    """How many of each severity, in how many rows, and how many of each rule (most first)."""

    errors: int
    warnings: int
    notes: int
    rows: int
    by_rule: tuple[tuple[Severity, str, int], ...]

    @property
    def problems(self) -> int:
        """Errors and warnings: what needs the planner's look (notes say what the import did)."""
        return self.errors + self.warnings


def summarise(problems: Sequence[CellProblem]) -> ProblemSummary:
    """Counts for the summary line and the list by kind.

    >>> c = Collector()
    >>> c.error("number", "x", "x", file="f", sheet="s", row=2); c.error("number", "y", "y", file="f", sheet="s", row=2)
    >>> summarise(c.problems).rows, summarise(c.problems).by_rule
    (1, (('error', 'number', 2),))
    """
    counts = Counter(p.severity for p in problems)
    rows = {(p.file, p.sheet, p.row) for p in problems if p.severity != "note" and p.row is not None}
    by_rule = Counter((p.severity, p.rule) for p in problems)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    ranked = sorted(by_rule.items(), key=lambda kv: (order[kv[0][0]], -kv[1], kv[0][1]))
    return ProblemSummary(errors=counts["error"], warnings=counts["warning"], notes=counts["note"], rows=len(rows),
                          by_rule=tuple((s, r, n) for (s, r), n in ranked))


def rule_label(rule: str, lang: Lang = "zh") -> str:
    """The kind of a rule, in Chinese (its label) or English (the code)."""
    return RULE_LABELS.get(rule, rule) if lang == "zh" else rule


def summary_line(summary: ProblemSummary, lang: Lang = "zh") -> str:
    """``N problems in M rows: …`` (notes counted apart).

    >>> summary_line(ProblemSummary(errors=2, warnings=1, notes=3, rows=2, by_rule=()), "en")
    '3 problems in 2 rows: 2 errors, 1 warning; 3 notes'
    """
    if lang == "zh":
        parts = [f"{n} 个{SEVERITY_ZH[s]}" for s, n in (("error", summary.errors), ("warning", summary.warnings)) if n]
        line = f"{summary.problems} 个问题，涉及 {summary.rows} 行：{'、'.join(parts) or '无错误'}"
        return line + (f"；另有 {summary.notes} 条提示" if summary.notes else "")
    parts = [f"{n} {s}{'s' if n != 1 else ''}" for s, n in (("error", summary.errors),
                                                            ("warning", summary.warnings)) if n]
    line = f"{summary.problems} problem{'s' if summary.problems != 1 else ''} in {summary.rows} " \
           f"row{'s' if summary.rows != 1 else ''}: {', '.join(parts) or 'no errors'}"
    return line + (f"; {summary.notes} note{'s' if summary.notes != 1 else ''}" if summary.notes else "")


#: Notes of one rule shown one by one up to this many; beyond, counted (``--problems`` lists them all).
NOTES_SHOWN = 5


def format_problems(problems: Sequence[CellProblem], *, lang: Lang = "zh") -> str:
    """The summary, the count of each kind, then every error and warning, then the notes (a few of each kind),
    each in the order given (:meth:`Collector.sorted`: by place).

    >>> c = Collector()
    >>> c.warning("phone", "no area code", "缺少区号", file="f.xlsx", sheet="机构", row=4, column="电话",
    ...           value="7012345")
    >>> print(format_problems(c.problems, lang="en"))
    1 problem in 1 row: 1 warning
    by kind:
      warning  phone  1
    warnings:
      f.xlsx [机构] row 4, 电话 = '7012345': phone: no area code
    """
    summary = summarise(problems)
    lines = [summary_line(summary, lang), "按类别：" if lang == "zh" else "by kind:"]
    width = max((_width(rule_label(r, lang)) for _, r, _ in summary.by_rule), default=0)
    for severity, rule, n in summary.by_rule:
        label = rule_label(rule, lang)
        kind = SEVERITY_ZH[severity] if lang == "zh" else severity
        lines.append(f"  {kind:<{2 if lang == 'zh' else 7}}  {label}{' ' * (width - _width(label))}  {n}")
    for severity in SEVERITIES:
        chosen = [p for p in problems if p.severity == severity]
        if not chosen:
            continue
        lines.append(f"{SEVERITY_ZH[severity]}：" if lang == "zh" else f"{severity}s:")
        shown: Counter[str] = Counter()
        for p in chosen:
            shown[p.rule] += 1
            if severity != "note" or shown[p.rule] <= NOTES_SHOWN:
                lines.append(f"  {p.text(lang)}")
        for rule, n in shown.items():
            if severity == "note" and n > NOTES_SHOWN:
                more = n - NOTES_SHOWN
                lines.append(f"  …另有 {more} 条“{rule_label(rule, lang)}”提示（--problems 文件列出全部）"
                             if lang == "zh" else f"  … and {more} more {rule} notes (--problems FILE lists them all)")
    return "\n".join(lines)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


#: The columns of a problem list written as CSV, in order (Chinese headers, then the key, like export's).
CSV_COLUMNS = (("severity", "级别"), ("rule", "规则"), ("kind", "类别"), ("file", "文件"), ("sheet", "工作表"),
               ("row", "行"), ("column", "列"), ("cell", "单元格"), ("value", "值"), ("message", "说明"))


def problem_records(problems: Iterable[CellProblem], lang: Lang = "zh") -> list[dict[str, Any]]:
    """One flat record per problem, in the order given and the chosen language (severity, rule, kind, place,
    value, message)."""
    return [{"severity": SEVERITY_ZH[p.severity] if lang == "zh" else p.severity, "rule": p.rule,
             "kind": rule_label(p.rule, lang), "file": p.file, "sheet": p.sheet, "row": p.row, "column": p.column,
             "cell": p.cell, "value": p.value, "message": p.message_in(lang)} for p in problems]


def problems_csv(problems: Iterable[CellProblem], lang: Lang = "zh") -> str:
    """The problems as CSV text (headers ``级别 severity`` …), for a spreadsheet's filter, in the order given."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f"{zh} {key}" if lang == "zh" else key for key, zh in CSV_COLUMNS])
    for record in problem_records(problems, lang):
        writer.writerow(["" if record[key] is None else record[key] for key, _ in CSV_COLUMNS])
    return out.getvalue()


def problems_json(problems: Iterable[CellProblem]) -> str:
    """The problems as a JSON list, every field (both languages), in the order given."""
    return json.dumps([p.model_dump() for p in problems], ensure_ascii=False, indent=1) + "\n"


def problems_file_kind(path: str | os.PathLike[str]) -> Literal["csv", "json"]:
    """``csv`` or ``json`` by the file's suffix; :class:`ValueError` otherwise.

    >>> problems_file_kind("problems.CSV"), problems_file_kind("p.json")
    ('csv', 'json')
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".json":
        return "json"
    raise ValueError("must end in .csv or .json")


def write_problems(problems: Iterable[CellProblem], path: str | os.PathLike[str], *, lang: Lang = "zh") -> None:
    """Write the problems to ``path``: CSV (UTF-8 with a byte-order mark, as Excel opens it) or JSON."""
    if problems_file_kind(path) == "csv":
        Path(path).write_text(problems_csv(problems, lang), encoding="utf-8-sig", newline="")
    else:
        Path(path).write_text(problems_json(problems), encoding="utf-8")


__all__ = ["CSV_COLUMNS", "RULE_LABELS", "SEVERITIES", "CellError", "CellProblem", "Collector", "Lang",
           "ProblemSummary", "Severity", "format_problems", "problem_records", "problems_csv", "problems_file_kind",
           "problems_json", "rule_label", "sort_problems", "summarise", "summary_line", "write_problems"]

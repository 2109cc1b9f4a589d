"""The import framework other sheets reuse: reading tables as registries write them, the collector of problems,
its summary and files, and the annotated copy."""

import contextlib
import csv
import io
import json

import openpyxl
import pandas as pd
import pytest

from mednet.errors import TableImportError
from mednet.importing import import_tables
from mednet.importing.annotate import annotate_workbook
from mednet.importing.cells import Row
from mednet.importing.problems import Collector, format_problems, problems_csv, summarise, write_problems
from mednet.importing.sheets import Column, Sheet
from mednet.importing.tables import Table, read_files, table_rows

#: A sheet another module might declare (monthly figures per institution), to show the framework serves it.
MONTHLY = {"monthly": Sheet("monthly", "月度数据", (
    Column("institution", "机构", ("机构名称",), required=True), Column("month", "月份", required=True),
    Column("up", "上转人次"), Column("down", "下转人次"),
))}


def institutions(**columns) -> dict[str, pd.DataFrame]:
    base = {"名称": ["湖镇镇卫生院", "塔石镇卫生院"], "层级": ["C210", "C220"], "区县": ["龙游县", "龙游县"],
            "乡镇街道": ["湖镇", "塔石"]}
    return {"机构": pd.DataFrame({**base, **columns})}


def problems_of(frames, **options) -> list:
    collector = Collector()
    with contextlib.suppress(TableImportError):
        import_tables(frames, file="t.xlsx", region_id="t", problems=collector, **options)
    return collector.problems


def test_another_sheet_is_declared_by_columns_and_read_with_the_same_rules(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "2024年上转下转统计"
    sheet.append(["龙游县 2024 年双向转诊月报（示例）"])  # a title above the header
    sheet.append(["机构名称", "月份", "上转人次", "下转人次", "备注说明"])
    sheet.append(["湖镇镇卫生院", "2024-01", "１２", "3", "x"])  # full-width digits
    sheet.append(["塔石镇卫生院", "2024-01", "十二", "", ""])
    sheet.append(["合计", "", "24", "3", ""])  # a footer
    path = tmp_path / "monthly.xlsx"
    book.save(path)
    problems = Collector()
    rows = table_rows(read_files([path]), problems, sheets=MONTHLY)
    got = [(r.row, r.integer("up", minimum=0), r.text("institution"), dict(r.extras)) for r in rows["monthly"]]
    assert got == [(3, 12, "湖镇镇卫生院", {"备注说明": "x"}), (4, None, "塔石镇卫生院", {})]
    said = {(p.rule, p.severity, p.cell) for p in problems.problems}
    assert ("integer", "error", "C4") in said and ("normalised", "note", "C3") in said
    assert ("unknown-sheet", "note", None) in said  # known by its columns, not its name
    assert {"header-row", "extra-columns"} <= {p.rule for p in problems.problems}
    assert bool(problems) and summarise(problems.problems).errors == 1


def test_a_missing_required_column_is_one_problem_not_one_per_row():
    frames = {"机构": pd.DataFrame({"名称": ["a", "b", "c"], "层级": ["C210"] * 3})}
    found = [p for p in problems_of(frames) if p.severity == "error"]
    assert [(p.rule, p.row, p.column) for p in found] == [("required-column", 1, "区县")]


def test_instruction_sheets_and_sheets_without_a_header_are_listed_once_and_skipped():
    frames = {**institutions(), "填表说明": pd.DataFrame({"说明": ["请按要求填写"]}),
              "代码表": pd.DataFrame({"x": ["A100 综合医院"], "y": ["C210 中心卫生院"]})}
    notes = [p for p in problems_of(frames) if p.rule == "unknown-sheet"]
    assert [(p.sheet, p.severity) for p in notes] == [("填表说明", "note"), ("代码表", "note")]


def test_stray_spaces_and_full_width_digits_are_normalised_with_a_note():
    problems = problems_of(institutions(名称=["湖镇镇\u00a0卫生院", "塔石镇 卫生院"], 床位=["１２０", "30"]))
    assert {p.severity for p in problems} == {"note"}
    assert {(p.rule, p.cell) for p in problems} >= {("normalised", "A2"), ("normalised", "A3"), ("normalised", "E2")}
    region = import_tables(institutions(名称=["湖镇镇\u00a0卫生院", "塔石镇 卫生院"], 床位=["１２０", "30"]),
                           region_id="t")
    assert [i.name for i in region.institutions] == ["湖镇镇卫生院", "塔石镇卫生院"]
    assert region.institutions[0].registry.beds == 120


def test_the_id_is_the_output_files_name_unless_given_and_then_must_be_it():
    assert import_tables(institutions(), file_name="longyou.json").id == "longyou"
    found = problems_of({**institutions(), "区域": pd.DataFrame({"编号": ["ly"]})}, file_name="longyou.json")
    [problem] = [p for p in found if p.severity == "error"]
    assert problem.rule == "file-name-id" and problem.cell == "A2" and "longyou.json" in problem.message_zh


def test_a_membership_naming_an_unlisted_community_is_an_error_never_created():
    frames = {**institutions(所属医共体=["甲医共体", "乙医共体"], 医共体角色=["成员单位", "成员单位"]),
              "医共体": pd.DataFrame({"名称": ["甲医共体"]})}
    found = [p for p in problems_of(frames) if p.rule == "unknown-community"]
    assert [(p.row, p.column) for p in found] == [(3, "所属医共体")] and "是否为“甲医共体”" in found[0].message_zh


def test_checks_across_rows_see_rows_with_unusable_cells():
    """塔石's phone has letters and its point is out of range: its name still clashes with 湖镇's row."""
    frames = institutions(名称=["湖镇镇卫生院", "湖镇镇卫生院"], 电话=["0570-7012345", "0570-70l2345"],
                          纬度=["29.06", "290"], 经度=["119.29", "119.15"])
    rules = {(p.row, p.rule) for p in problems_of(frames) if p.severity == "error"}
    assert rules == {(3, "phone"), (3, "coordinates"), (3, "duplicate-name")}


def test_summary_first_then_the_list_with_notes_counted(tmp_path):
    c = Collector()
    for row in range(2, 10):
        c.note("normalised", "x", "规范化", file="f", sheet="s", row=row)
    c.error("number", "must be a number", "必须是数字", file="f", sheet="s", row=3, column="床位", value="x")
    text = format_problems(c.problems, lang="zh")
    assert text.splitlines()[:4] == ["1 个问题，涉及 1 行：1 个错误；另有 8 条提示", "按类别：",
                                     "  错误  数字              1", "  提示  已规范化的单元格  8"]
    assert "…另有 3 条“已规范化的单元格”提示（--problems 文件列出全部）" in text
    rows = list(csv.reader(io.StringIO(problems_csv(c.problems, "en"))))
    assert rows[0][:3] == ["severity", "rule", "kind"] and len(rows) == 10
    write_problems(c.problems, tmp_path / "p.json")
    assert len(json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))) == 9
    with pytest.raises(ValueError, match=r"\.csv or \.json"):
        write_problems(c.problems, tmp_path / "p.txt")


def test_an_annotated_copy_of_csv_tables_is_a_new_workbook(tmp_path):
    (tmp_path / "机构.csv").write_text("名称,层级,区县\n湖镇镇卫生院,C2l0,龙游县\n", encoding="utf-8")
    tables = read_files([tmp_path / "机构.csv"])
    collector = Collector()
    row = table_rows(tables, collector)["institutions"][0]
    row.parse("tier", lambda v: (_ for _ in ()).throw(ValueError("bad")), "category")
    annotate_workbook(collector.problems, tables, tmp_path / "out.xlsx", lang="en")
    book = openpyxl.load_workbook(tmp_path / "out.xlsx")
    assert book.sheetnames == ["import problems", "机构"] and "〔category〕bad" in book["机构"]["B2"].comment.text


def test_row_reads_nothing_twice_and_reports_a_missing_column_once():
    collector = Collector()
    row = Row(collector, file="f", sheet="s", row=2, cells={"name": ""}, headers={"name": "名称"})
    assert row.required("name") is None and row.required("county") is None  # the sheet said 区县 is missing
    assert [(p.rule, p.column) for p in collector.problems] == [("required", "名称")]


def test_tables_from_frames_keep_spreadsheet_numbering():
    [table] = [Table("f.xlsx", "机构", [["名称"], ["a"], [None], ["b"]])]
    rows = table_rows([table], Collector())["institutions"]
    assert [r.row for r in rows] == [2, 4]

"""A registry's export as it is: it imports, validates and routes; a workbook with 30 planted mistakes of 28 kinds
reports every one at its cell in one run, writes nothing, and hands back an annotated copy; corrected, it imports.

The workbooks are written by ``tests/fixtures/importing/registry_workbooks.py`` (fictional names, the places
table's points).
"""

import csv
import json
from pathlib import Path

import openpyxl
import pytest

from mednet.cli import main
from mednet.errors import TableImportError
from mednet.importing import import_files
from mednet.importing.annotate import FILLS, LIST_SHEET
from mednet.importing.problems import RULE_LABELS, Collector
from mednet.network import build_network
from mednet.regions import load_region
from mednet.routing import route_referral
from mednet.validate import validate_membership

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "importing"
EXPECTED = json.loads((FIXTURES / "mistakes.expected.json").read_text(encoding="utf-8"))
EXAMPLES = {"registry.xlsx": "龙游县医疗机构名录.xlsx", "planner.xlsx": "龙游县医疗机构名录-补充.xlsx",
            "mistakes.xlsx": "龙游县医疗机构名录-有误.xlsx"}


def imported(name: str, **options):
    problems = Collector()
    region = import_files([FIXTURES / name], problems=problems, file_name="longyou.json", **options)
    return region, problems.problems


def test_the_registry_export_imports_validates_and_routes():
    region, problems = imported("registry.xlsx")
    assert validate_membership(region).ok and region.id == "longyou"  # the id is the output file's name
    assert {p.severity for p in problems} == {"note"}
    said = {p.rule: p.message for p in problems}
    assert "序号 (A), 法定代表人 (K), 经济类型 (L), 隶属关系 (M), 审批日期 (N)" in said["extra-columns"]
    skipped = [p.message for p in problems if p.rule == "skipped-category"]
    assert any(m.startswith("5 rows of 村卫生室 (D600) skipped") for m in skipped) and len(skipped) == 4
    assert "07.01 新生儿专业 (1)" in said["not-routed"] and "52 中西医结合科 (2)" in said["not-routed"]
    assert any(p.sheet == "填报说明" and p.rule == "unknown-sheet" for p in problems)
    assert not any("卫生室" in i.name or "诊所" in i.name for i in region.institutions)
    hospital = region.institution(next(i.id for i in region.institutions if i.name == "龙游县示例人民医院（虚构）"))
    assert hospital.registry.other_subjects == ("07.01", "52") and hospital.registry.grade == "二级甲等"
    assert region.sources["医疗机构诊疗科目名录"].title.startswith("医疗机构诊疗科目名录（卫医发〔1994〕第27号")
    assert {"general_surgery", "respiratory", "critical_care", "tcm"} <= {c.specialty for c in hospital.capabilities}
    tcm = next(i for i in region.institutions if i.name == "龙游县示例中医院（虚构）")
    assert tcm.registry.grade == "二级甲等" and "acupuncture" in {c.specialty for c in tcm.capabilities}
    centres = [i for i in region.institutions if i.tier.is_primary_care]
    assert len(centres) == 15 and all(c.location.converted_from in ("GCJ-02", "BD-09", None) for c in centres)
    assert {c.location.converted_from for c in centres} == {"GCJ-02", "BD-09", None}
    assert all({"general_practice", "public_health", "ultrasound"} <= {x.specialty for x in c.capabilities}
               for c in centres)
    leads = {c.name: region.institution(c.lead).name for c in region.communities}
    assert leads == {"龙游县示例医共体甲（虚构）": "龙游县示例人民医院（虚构）",
                     "龙游县示例医共体乙（虚构）": "龙游县示例中医院（虚构）",
                     "龙游县示例医共体丙（虚构）": "龙游县示例妇幼保健院（虚构）"}
    answer = route_referral(build_network(region), "湖镇", "儿科")
    assert answer.destination.name == "龙游县示例人民医院（虚构）" and answer.step == "own_community"


@pytest.mark.parametrize(("fixture", "example"), list(EXAMPLES.items()))
def test_the_walkthrough_uses_the_same_workbooks(fixture, example):
    def cells(path: Path) -> dict:
        book = openpyxl.load_workbook(path)
        return {name: [[c.value for c in row] for row in book[name].iter_rows()] for name in book.sheetnames}

    assert cells(ROOT / "examples" / "longyou" / "registry" / example) == cells(FIXTURES / fixture)


def test_every_planted_mistake_is_reported_at_its_cell_in_one_run(tmp_path, capsys):
    out, annotated, listed = tmp_path / "longyou.json", tmp_path / "批注.xlsx", tmp_path / "problems.csv"
    assert main(["import", str(FIXTURES / "mistakes.xlsx"), "-o", str(out), "--annotate", str(annotated),
                 "--problems", str(listed)]) == 1
    text = capsys.readouterr().out
    assert not out.exists()  # nothing written but the reports
    assert text.startswith("31 个问题，涉及 26 行：29 个错误、2 个警告；另有 9 条提示\n按类别：")
    assert text.rstrip().endswith(f"只写入了问题报告：{listed}、{annotated}")
    with listed.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    found = {(r["工作表 sheet"], int(r["行 row"] or 0), r["列 column"], r["规则 rule"]) for r in rows
             if r["级别 severity"] != "提示"}
    wanted = {(e["sheet"], e["row"], e["column"], e["rule"]) for e in EXPECTED}
    assert found == wanted  # every mistake where it is, and nothing more
    assert len({e["rule"] for e in EXPECTED}) >= 20
    book = openpyxl.load_workbook(annotated)
    assert book.sheetnames[0] == LIST_SHEET["zh"]
    worst: dict[tuple, str] = {}
    for e in EXPECTED:  # a cell with an error and a warning is filled as an error
        key = (e["sheet"], e["row"], e["column"])
        worst[key] = "error" if "error" in (worst.get(key), e["severity"]) else e["severity"]
    for e in EXPECTED:
        sheet = book[e["sheet"]]
        header_row = 3 if e["sheet"] == "医疗机构名录" else 1
        column = next(c.column_letter for c in sheet[header_row] if c.value == e["column"])
        cell = sheet[f"{column}{e['row']}"]
        assert cell.comment is not None and f"〔{e['rule']}〕" in cell.comment.text, (e, cell.comment)
        assert cell.fill.start_color.rgb.endswith(FILLS[worst[(e["sheet"], e["row"], e["column"])]])
    assert book["医疗机构名录"]["A1"].value.startswith("龙游县医疗卫生机构名录")  # the planner's own workbook


def test_the_corrected_workbook_imports_and_validates_with_no_error(tmp_path, capsys):
    out = tmp_path / "longyou.json"
    assert main(["import", str(FIXTURES / "planner.xlsx"), "-o", str(out)]) == 0
    assert "校验无错误" in capsys.readouterr().out
    assert main(["validate", str(out)]) == 0
    region = load_region(out)
    assert region.name == "龙游县（示例）" and len(region.communities) == 3
    assert main(["route", str(out), "--from", "湖镇", "--specialty", "儿科"]) == 0


def test_problems_speak_english_when_asked_and_as_json(tmp_path, capsys):
    out = tmp_path / "longyou.json"
    assert main(["import", str(FIXTURES / "mistakes.xlsx"), "-o", str(out), "--lang", "en"]) == 1
    text = capsys.readouterr().out
    assert text.startswith("31 problems in 26 rows: 29 errors, 2 warnings; 9 notes\nby kind:")
    assert "[医疗机构名录] row 5, 医院等级 (F5) = '二家': grade: not a hospital grade" in text
    assert main(["import", str(FIXTURES / "mistakes.xlsx"), "-o", str(out), "--format", "json"]) == 1
    problems = json.loads(capsys.readouterr().out)
    grade = next(p for p in problems if p["rule"] == "grade")
    assert grade["cell"] == "F5" and "是否为“二甲”" in grade["message_zh"]


def test_every_rule_has_a_chinese_label():
    _, problems = imported("registry.xlsx")
    with pytest.raises(TableImportError) as caught:
        import_files([FIXTURES / "mistakes.xlsx"], file_name="longyou.json")
    rules = {p.rule for p in (*problems, *caught.value.problems)}
    assert rules <= set(RULE_LABELS)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in p.message_zh) for p in caught.value.problems)


def test_strict_columns_refuses_what_is_otherwise_kept_aside():
    with pytest.raises(TableImportError) as caught:
        imported("registry.xlsx", strict_columns=True)
    refused = [(p.cell, p.column) for p in caught.value.problems if p.rule == "unknown-column"]
    assert refused == [("A3", "序号"), ("K3", "法定代表人"), ("L3", "经济类型"), ("M3", "隶属关系"), ("N3", "审批日期")]


def test_keep_category_refuses_the_rows_it_would_skip():
    with pytest.raises(TableImportError) as caught:
        imported("registry.xlsx", keep_categories=["d600"])
    kept = [p for p in caught.value.problems if p.rule == "kept-category"]
    assert len(kept) == 5 and all(p.column == "机构类别代码" and p.value == "D600" for p in kept)
    assert "无法保留" in kept[0].message_zh


def test_nothing_replaces_an_existing_region_when_an_error_remains(tmp_path):
    out = tmp_path / "longyou.json"
    out.write_text("the planner's previous region", encoding="utf-8")
    assert main(["import", str(FIXTURES / "mistakes.xlsx"), "-o", str(out)]) == 1
    assert out.read_text(encoding="utf-8") == "the planner's previous region"

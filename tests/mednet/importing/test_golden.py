"""Golden workbooks: planted errors all reported in one run; a clean workbook to its stored region; round trips."""

from pathlib import Path

import pandas as pd
import pytest

from mednet.errors import TableImportError
from mednet.importing import export_tables, import_files, import_tables, write_tables
from mednet.network import build_network, resolve_institution
from mednet.regions import dump_region, load_region
from mednet.validate import validate_membership

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "importing"


def test_planted_errors_are_reported_exactly_and_all_at_once(tmp_path):
    with pytest.raises(TableImportError) as caught:
        import_files([FIXTURES / "planted.xlsx"])
    expected = (FIXTURES / "planted.expected.txt").read_text(encoding="utf-8").splitlines()
    assert [str(p) for p in caught.value.problems] == expected
    rules = {p.rule for p in caught.value.problems}
    assert rules == {"credit-code", "unknown-specialty", "coordinates", "multiple-communities", "duplicate-name",
                     "point-outside-county", "required", "lead-count", "orphan-primary-care", "community-created"}


def test_clean_workbook_imports_to_the_stored_region():
    region = import_files([FIXTURES / "clean.xlsx"])
    assert dump_region(region) == (FIXTURES / "clean.expected.json").read_text(encoding="utf-8")
    assert validate_membership(region).ok
    hospital = region.institutions[0]
    assert hospital.location.converted_from == "GCJ-02" and (hospital.lat, hospital.lon) == (29.031218, 119.167074)
    assert resolve_institution(build_network(region), "湖镇") == region.institutions[1].id


@pytest.mark.parametrize("form", ["frames", "xlsx", "csv"])
@pytest.mark.parametrize("name", ["quzhou", "huzhou", "luqiao", "minhang", "clean"])
def test_export_then_import_is_identical(name, form, tmp_path):
    region = import_files([FIXTURES / "clean.xlsx"]) if name == "clean" else load_region(name)
    if form == "frames":
        back = import_tables(export_tables(region), file=f"{name}.xlsx")
    else:
        back = import_files([write_tables(region, tmp_path / (f"{name}.xlsx" if form == "xlsx" else name))])
    assert dump_region(back) == dump_region(region)


def test_english_headers_and_sheet_names_work_too():
    frames = {"institutions": pd.DataFrame({"name": ["湖镇镇卫生院"], "tier": ["township_centre"], "county": ["龙游县"],
                                            "township": ["湖镇镇"]})}
    region = import_tables(frames, region_id="en")
    assert region.institutions[0].location.kind == "town_seat"


@pytest.mark.parametrize(("frames", "message"), [
    ({"机购": pd.DataFrame({"名称": ["x"]})},
     "[机购]: unknown-sheet: skipped: no header row of a sheet mednet reads (is it '机构'?)"),
    ({"机构": pd.DataFrame({"名字": ["x"], "层级": ["C210"], "区县": ["龙游县"]})},
     "row 1, 名称: required-column: 机构 institutions needs a column 名称 (name); is '名字' it? rename it 名称"),
    ({"机构": pd.DataFrame({"名称": ["x"], "层级": ["C210"], "区县": ["龙游"]})},
     "区县 (C2) = '龙游': unknown-county: unknown county '龙游' in the official list of counties and districts "
     "(2016); did you mean '龙游县'?"),
    ({"机构": pd.DataFrame({"名称": ["x"], "层级": ["C210"], "区县": ["鼓楼区"]})}, "is ambiguous"),
    ({"机构": pd.DataFrame({"名称": ["x"], "层级": ["C210"], "区县": ["龙游县"], "乡镇街道": ["胡镇"]})},
     "unknown-township: unknown township '胡镇' in the official townships of 龙游县; did you mean '湖镇镇'?"),
    ({"机构": pd.DataFrame({"名称": ["x"], "层级": ["C210"], "区县": ["龙游县"], "纬度": [29.0]})},
     "coordinates: give both lat and lon, or neither"),
    ({"机构": pd.DataFrame({"名称": ["x"], "层级": ["C210"], "区县": ["龙游县"], "来源": ["s9"]})},
     "unknown-source: no source has this key; add it to the 来源 sources sheet"),
])
def test_unusable_tables_say_where_and_why(frames, message):
    with pytest.raises(TableImportError) as caught:
        import_tables(frames, file="t.xlsx", region_id="t")
    assert any(message in str(p) for p in caught.value.problems), caught.value


def test_nothing_is_written_when_an_error_remains(tmp_path):
    from mednet.cli import main

    out = tmp_path / "region.json"
    assert main(["import", str(FIXTURES / "planted.xlsx"), "-o", str(out)]) == 1
    assert not out.exists()


def test_csv_saved_by_excel_in_gb18030_reads_and_instruction_sheets_are_skipped(tmp_path):
    folder = tmp_path / "tables"
    folder.mkdir()
    (folder / "机构.csv").write_bytes("名称,层级,区县,乡镇街道\n湖镇镇卫生院,C210,龙游县,湖镇\n".encode("gb18030"))
    (folder / "说明.csv").write_text("这是填写说明\n", encoding="utf-8")
    region = import_files([folder], region_id="gbk")
    assert region.institutions[0].township == "湖镇镇" and region.sources["file:机构.csv"].title == "机构.csv"

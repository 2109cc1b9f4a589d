"""OD table import: CSV and XLSX, names by alias, every unusable cell at once, nothing written on error."""

from __future__ import annotations

import pytest

from mednet.cli import main
from mednet.errors import TravelDataError
from mednet.regions import load_region
from mednet.travel import load_travel, read_travel
from mednet.travel.od import import_od, parse_od_rows

CSV = "起点,终点,分钟,公里\n华埠,县人民医院,28,21.3\n上方,杜泽分院,,12.5\nkh-qixi,开化县人民医院,不可达,\n"


@pytest.fixture()
def region_copy(tmp_path):
    path = tmp_path / "quzhou.json"
    path.write_text(load_region("quzhou").model_dump_json(exclude_defaults=True), encoding="utf-8")
    return path


def test_csv_import_resolves_aliases_and_keeps_the_source(tmp_path, quzhou):
    od = tmp_path / "amap.csv"
    od.write_text("\ufeff" + CSV, encoding="utf-8")
    travel = import_od(quzhou, od, source="map service A, 2025-03")
    table = travel.od_tables[-1]
    assert [(p.a, p.b, p.minutes, p.km, p.unreachable) for p in table.pairs] == [
        ("kh-huabu", "kh-people", 28.0, 21.3, False),
        ("qj-shangfang", "qj-duze", None, 12.5, False),
        ("kh-qixi", "kh-people", None, None, True),
    ]
    assert travel.sources[table.source].title == "map service A, 2025-03"
    layer = load_travel(quzhou, travel=travel)
    fig = layer.between("上方", "杜泽")
    assert fig.km == 12.5 and fig.km_basis.kind == "od_table" and fig.minutes_basis.kind == "default_model"
    assert layer.between("kh-qixi", "kh-people").unreachable


def test_xlsx_import(tmp_path, quzhou):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "时间"
    for row in (["origin", "destination", "minutes"], ["华埠", "开化县人民医院", 27.5], ["齐溪", "开化县人民医院", 61]):
        sheet.append(row)
    path = tmp_path / "od.xlsx"
    book.save(path)
    travel = import_od(quzhou, path, source="bureau survey", sheet="时间")
    assert [(p.a, p.minutes) for p in travel.od_tables[0].pairs] == [("kh-huabu", 27.5), ("kh-qixi", 61.0)]
    with pytest.raises(TravelDataError, match="'Sheet9' is not among"):
        import_od(quzhou, path, source="bureau survey", sheet="Sheet9")


def test_every_unusable_cell_is_reported_at_once(quzhou):
    rows = [
        ["origin", "destination", "minutes", "km"],
        ["华铺", "开化县人民医院", "20", ""],  # unknown name, with a suggestion
        ["华埠", "开化县人民医院", "abc", ""],  # not a number
        ["华埠", "华埠", "5", ""],  # the same institution
        ["齐溪", "开化县人民医院", "", ""],  # no figure
        ["齐溪", "开化县人民医院", "-3", ""],
    ]  # negative
    with pytest.raises(TravelDataError) as err:
        parse_od_rows(quzhou, rows, file="od.csv")
    text = str(err.value)
    assert "5 unusable cell(s)" in text and "did you mean '华埠" in text and "got 'abc'" in text
    assert "same institution 'kh-huabu'" in text and "row 5: gives neither" in text and "got '-3'" in text


@pytest.mark.parametrize(
    "rows, message",
    [
        ([["from", "to"], ["a", "b"]], r"needs the column\(s\) \['minutes or km'\]"),
        ([["起点", "分钟"], ["华埠", "3"]], r"needs the column\(s\) \['destination'\]"),
        ([], "the table is empty"),
    ],
)
def test_header_problems(quzhou, rows, message):
    with pytest.raises(TravelDataError, match=message):
        parse_od_rows(quzhou, rows, file="od.csv")


def test_cli_import_od_adds_a_table_and_replaces_one_from_the_same_file(tmp_path, region_copy, capsys):
    od = tmp_path / "amap.csv"
    od.write_text(CSV, encoding="utf-8")
    assert main(["travel", "import-od", str(region_copy), str(od), "--source", "map service A"]) == 0
    assert "3 pairs (1 unreachable)" in capsys.readouterr().out
    od.write_text("origin,destination,minutes\n华埠,开化县人民医院,30\n", encoding="utf-8")
    assert main(["travel", "import-od", str(region_copy), str(od), "--source", "map service A, again"]) == 0
    travel = read_travel(tmp_path / "quzhou.travel.json")
    assert len(travel.od_tables) == 1 and travel.od_tables[0].pairs[0].minutes == 30.0
    assert main(["travel", "between", str(region_copy), "华埠", "开化县人民医院"]) == 0
    out = capsys.readouterr().out
    assert "30.0 minutes  basis: od_table, map service A, again" in out and "basis: default_model" in out


def test_cli_import_od_errors_write_nothing(tmp_path, region_copy, capsys):
    bad = tmp_path / "od.csv"
    bad.write_text("origin,destination,minutes\n华铺,开化县人民医院,20\n", encoding="utf-8")
    assert main(["travel", "import-od", str(region_copy), str(bad), "--source", "x"]) == 2
    assert "did you mean" in capsys.readouterr().err
    assert main(["travel", "import-od", str(region_copy), str(tmp_path / "od.txt"), "--source", "x"]) == 2
    assert "expected a .csv or .xlsx table" in capsys.readouterr().err
    assert not (tmp_path / "quzhou.travel.json").exists()

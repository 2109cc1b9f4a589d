"""``mednet indicators``: the simulated ledger as text, CSV, JSON and a workbook; monthly aggregates imported
all or nothing, every problem in one run, and the county indicators computed from them."""

from __future__ import annotations

import json

import openpyxl
import pytest
import sqlalchemy as sa

from mednet.cli import main
from mednet.indicators import compute_indicators
from mednet.indicators.places import place_rows
from mednet.ledger.store import monthly_aggregates

HEADER = "机构,月份,门急诊人次,住院人次,县外就诊人次,县外住院人次,医保基金支出,县外医保基金支出\n"


@pytest.fixture
def cli_db(tmp_path, simulated):
    """A SQLite ledger in a data folder holding the simulated year (written through the same simulator)."""
    from mednet.ledger import open_ledger_engine

    from .conftest import write

    engine = open_ledger_engine(data_dir=tmp_path)
    write(engine, simulated)
    engine.dispose()
    return ["--data-dir", str(tmp_path)]


def test_the_command_in_every_format(cli_db, tmp_path, capsys):
    assert main(["indicators", "quzhou", "--period", "2026-Q3", "--by", "community", *cli_db]) == 0
    text = capsys.readouterr().out
    assert "## 转诊量" in text and "下转占比" in text and "江山市人民医院医共体" in text
    assert main(["indicators", "quzhou", "--period", "2026", "--by", "month", "--format", "json", *cli_db]) == 0
    answer = json.loads(capsys.readouterr().out)
    months = {row["group"] for row in answer["rows"]}
    assert months == {f"2026-{m:02d}" for m in range(1, 13)}
    county = [r for r in answer["rows"] if r["indicator"] == "county_visit_share"]
    assert county and all(r["status"] == "未采集" and r["value"] is None for r in county)
    out = tmp_path / "i.csv"
    assert main(["indicators", "quzhou", "--period", "2026-Q3", "--format", "csv", "-o", str(out), *cli_db]) == 0
    assert out.read_text(encoding="utf-8").startswith("period,by,group,group_label,dimension,indicator")
    book = tmp_path / "i.xlsx"
    assert main(["indicators", "quzhou", "--period", "2026-Q3", "--format", "xlsx", "-o", str(book), *cli_db]) == 0
    assert "indicators" in openpyxl.load_workbook(book).sheetnames


def test_bad_input_is_one_line(cli_db, capsys):
    assert main(["indicators", "quzhou", "--period", "2026-Q9", *cli_db]) == 2
    assert "`period` must be a year (2026), a quarter (2026-Q3) or a month (2026-07)" in capsys.readouterr().err
    assert main(["indicators", "quzhou", "--period", "2026", "--format", "xlsx", *cli_db]) == 2
    assert "--output" in capsys.readouterr().err


def test_aggregates_import_all_or_nothing(cli_db, tmp_path, capsys, quzhou_region):
    names = {row["id"]: row for row in place_rows(quzhou_region)}
    lead = next(i for i in quzhou_region.institutions if i.name == "开化县人民医院")
    centre = next(i for i in quzhou_region.institutions if i.county == "开化县" and names[i.id]["primary_care"])
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "开化县人民医院,2026-07,100,10,5,2,1000,50\n"
                   "开化县人民医院,2026年7月,1,1,1,1,1,1\n"
                   "不存在的医院,2026-07,1,1,1,1,1,1\n"
                   f"{centre.name},七月,-3,1,,,1,\n", encoding="utf-8")
    assert main(["indicators", "quzhou", "--import-aggregates", str(bad), *cli_db]) == 2
    err = capsys.readouterr().err
    for expected in ("row 3", "row 4", "不存在的医院", "row 5", "-3"):
        assert expected in err, expected
    from mednet.ledger import open_ledger_engine

    engine = open_ledger_engine(data_dir=tmp_path)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(monthly_aggregates)).scalar() == 0
    good = tmp_path / "good.csv"
    good.write_text(HEADER + f"{lead.name},2026-07,9000,800,1000,200,5000000,600000\n"
                    f"{centre.name},2026/7,3000,50,,,200000,\n"
                    f"{lead.id},2026-08,8000,700,,,,\n", encoding="utf-8")
    assert main(["indicators", "quzhou", "--import-aggregates", str(good), *cli_db]) == 0
    assert "imported 3 monthly rows" in capsys.readouterr().out
    frame = compute_indicators(engine, quzhou_region, "2026-07", by="county").set_index(["group", "indicator"])
    assert frame.loc[("开化县", "county_visit_share"), "value"] == pytest.approx(12000 / 13000)
    assert frame.loc[("开化县", "primary_visit_share"), "value"] == pytest.approx(3000 / 12000)
    assert frame.loc[("开化县", "county_inpatient_share"), "value"] == pytest.approx(850 / 1050)
    assert frame.loc[("开化县", "insurance_in_county_share"), "value"] == pytest.approx(5200000 / 5800000)
    assert frame.loc[("江山市", "county_visit_share"), "status"] == "未采集"  # nothing reported there
    august = compute_indicators(engine, quzhou_region, "2026-08", by="county").set_index(["group", "indicator"])
    assert august.loc[("开化县", "county_visit_share"), "status"] == "未采集"  # 县外就诊人次 not reported
    engine.dispose()


def test_aggregates_name_institutions_as_routing_does(tmp_path, quzhou_region):
    """A row names its institution by id, name, alias or township (``华埠``), whatever the case; a name two
    institutions share is refused, not given to the first."""
    from mednet.importing.aggregates import read_aggregates
    from mednet.importing.problems import Collector

    good = tmp_path / "good.csv"
    good.write_text(HEADER + "华埠,2026-07,3000,50,,,200000,\nKH-PEOPLE,2026-07,9000,800,1000,200,5000000,600000\n",
                    encoding="utf-8")
    problems = Collector()
    rows = read_aggregates([good], quzhou_region, problems)
    assert not [p for p in problems.sorted() if p.severity == "error"]
    assert [r["institution"] for r in rows] == ["kh-huabu", "kh-people"]

    first, second = quzhou_region.institutions[:2]
    shared = quzhou_region.model_copy(update={"institutions": (
        first.model_copy(update={"aliases": (*first.aliases, "同名医院")}),
        second.model_copy(update={"aliases": (*second.aliases, "同名医院")}),
        *quzhou_region.institutions[2:])})
    both = tmp_path / "both.csv"
    both.write_text(HEADER + "同名医院,2026-07,1,1,,,1,\n", encoding="utf-8")
    problems = Collector()
    assert read_aggregates([both], shared, problems) == []
    [problem] = [p for p in problems.sorted() if p.severity == "error"]
    assert problem.rule == "ambiguous-institution" and first.id in problem.message and second.id in problem.message

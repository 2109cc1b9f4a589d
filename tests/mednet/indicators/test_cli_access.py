"""``mednet indicators REGION --access``: the share of people within reach of each specialty, from a 人口 sheet,
a GeoTIFF or, without either, by health centres."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mednet.cli import main
from mednet.importing.population import read_population
from mednet.network import build_network
from mednet.planning.gaps import as_network
from mednet.planning.population import population_coverage, townships_population
from mednet.regions import load_region


def test_shares_of_the_people_of_a_sheet(population_sheet, capsys):
    assert main(["indicators", "quzhou", "--access", "--population", str(population_sheet), "-s", "儿科", "--format",
                 "json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    rows = {(r["unit"], r["limit"]): r for r in answer["rows"]}
    assert {r["specialty"] for r in answer["rows"]} == {"paediatrics"}
    assert set(rows) == {("minutes", 15.0), ("minutes", 30.0), ("minutes", 60.0), ("km", 10.0), ("km", 20.0),
                         ("km", 40.0)}
    assert "人口.csv" in answer["basis"] and answer["basis"].startswith("按人口计")
    # The same people counted independently: each township's km to the nearest paediatrics, against 40 km.
    net = as_network(build_network(load_region("quzhou")))
    people = townships_population(read_population([population_sheet]), net=net)
    cover = population_coverage(net, people, specialties=["paediatrics"], max_km=40.0)
    within = float(people.people[np.isfinite(cover.cost_to[:, 0]) & (cover.cost_to[:, 0] <= 40.0)].sum())
    assert rows[("km", 40.0)]["total"] == 105_000.0
    assert rows[("km", 40.0)]["covered"] == within
    assert rows[("km", 40.0)]["share"] == pytest.approx(within / 105_000.0)
    assert rows[("km", 10.0)]["covered"] <= rows[("km", 20.0)]["covered"] <= within


def test_without_people_by_centres_saying_so(capsys):
    assert main(["indicators", "quzhou", "--access", "-s", "儿科", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "specialty,label_zh,unit,limit,share,total,covered,basis"
    assert len(lines) == 7 and all(line.endswith("按机构计（区域未提供人口）") for line in lines[1:])


def test_text_and_workbook(population_sheet, tmp_path, capsys):
    assert main(["indicators", "quzhou", "--access", "--population", str(population_sheet), "-s", "普外科"]) == 0
    text = capsys.readouterr().out
    assert "可及性（按人口计" in text and "普通外科" in text
    out = tmp_path / "access.xlsx"
    assert main(["indicators", "quzhou", "--access", "-s", "普外科", "--format", "xlsx", "-o", str(out)]) == 0
    import openpyxl

    sheet_rows = list(openpyxl.load_workbook(out)["access"].values)
    assert sheet_rows[0][:4] == ("specialty", "label_zh", "unit", "limit") and len(sheet_rows) == 7


@pytest.mark.parametrize(("argv", "said"), [
    (["--access", "--period", "2026"], "`--period` is for the ledger's indicators"),
    (["--access", "--import-aggregates", "m.xlsx"], "`--import-aggregates` is for the ledger's indicators"),
    (["--period", "2026", "--population", "人口.csv"], "`--population` is for --access"),
    (["--period", "2026", "-s", "儿科"], "`--specialty` is for --access"),
])
def test_options_of_the_other_view_are_refused(argv, said, capsys):
    assert main(["indicators", "quzhou", *argv]) == 2
    assert said in capsys.readouterr().err


def test_a_sheet_with_mistakes_is_refused_whole(tmp_path, capsys):
    path = tmp_path / "人口.csv"
    path.write_text("区县,乡镇/街道,常住人口\n开化县,华埠镇,很多\n", encoding="utf-8")
    assert main(["indicators", "quzhou", "--access", "--population", str(path)]) == 2
    assert "常住人口" in capsys.readouterr().err

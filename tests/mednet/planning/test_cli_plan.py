"""``mednet plan population|access|locate|flows|batch``: the planner's commands, their outputs and their errors."""

from __future__ import annotations

import json

import pytest

from mednet.cli import main

pytest.importorskip("highspy")

def test_population_table_and_csv(population_sheet, tmp_path, capsys):
    assert main(["plan", "population", "quzhou", "--population", str(population_sheet),
                 "-s", "儿科", "--max-km", "25"]) == 0
    out = capsys.readouterr().out
    assert "105,000 人" in out and "覆盖比例" in out and "paediatrics" in out
    target = tmp_path / "cover.csv"
    assert main(["plan", "population", "quzhou", "--population", str(population_sheet), "-s", "儿科", "--max-km", "25",
                 "--format", "csv", "--lang", "en", "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8").splitlines()[0] == "specialty,people,covered,share"


def test_access_geojson(population_sheet, capsys):
    assert main(["plan", "access", "quzhou", "--population", str(population_sheet), "-s", "儿科", "--max-minutes", "60",
                 "--decay", "gaussian", "--format", "geojson"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 4
    assert all(f["properties"]["score"] >= 0 for f in doc["features"])


def test_locate_json_says_the_greedy_gap(population_sheet, capsys):
    assert main(["plan", "locate", "quzhou", "--population", str(population_sheet), "-s", "儿科", "--max-km", "10",
                 "--k", "2", "--format", "json"]) == 0
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert "optimal" in doc["said"] and "贪心法" in doc["said"] and "Running HiGHS" not in out
    assert any(not row["fixed"] for row in doc["rows"])


def test_flows_from_a_table(tmp_path, capsys):
    table = tmp_path / "flows.csv"
    table.write_text("起点,终点,人次\n齐溪卫生院,开化县人民医院,40\n齐溪卫生院,衢州市人民医院,10\n"
                     "华埠镇卫生院,开化县人民医院,30\n", encoding="utf-8")
    assert main(["plan", "flows", "quzhou", "--flows", str(table), "-s", "儿科", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("起点,起点名称,终点") and "衢州市人民医院" in out


def test_batch_from_a_file(population_sheet, tmp_path, capsys):
    what_ifs = tmp_path / "w.json"
    what_ifs.write_text(json.dumps([{"name": "today"}, {"name": "齐溪儿科", "open": [["齐溪卫生院", "儿科"]]}],
                                   ensure_ascii=False), encoding="utf-8")
    assert main(["plan", "batch", "quzhou", "--population", str(population_sheet), "-s", "儿科", "--max-km", "10",
                 "--what-ifs", str(what_ifs), "--workers", "1", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [r["what_if"] for r in rows] == ["today", "齐溪儿科"] and rows[1]["covered"] >= rows[0]["covered"] + 9000


@pytest.mark.parametrize(("argv", "said"), [
    (["plan", "population", "quzhou", "-s", "儿科"], "须且只须给出其中一个"),
    (["plan", "access", "quzhou", "-s", "儿科", "-s", "骨科", "--max-km", "5"], "须且只须指定一个专科"),
    (["plan", "batch", "quzhou", "-s", "儿科", "--max-km", "5", "--population", "{population_sheet}"], "--what-ifs"),
    (["plan", "flows", "quzhou", "-s", "儿科"], "须且只须给出一个流向来源"),
])
def test_bad_input_is_one_clear_line(argv, said, population_sheet, capsys):
    assert main([a.replace("{population_sheet}", str(population_sheet)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err


def test_a_bad_sheet_lists_its_problems_in_chinese(tmp_path, capsys):
    path = tmp_path / "人口.csv"
    path.write_text("区县,乡镇/街道,常住人口\n开化县,不存在镇,五千\n", encoding="utf-8")
    assert main(["plan", "population", "quzhou", "--population", str(path), "-s", "儿科", "--max-km", "5"]) == 2
    err = capsys.readouterr().err
    assert "第 2 行" in err and "未写入任何文件" in err


def test_locate_writes_an_offline_map_of_people_and_sites(population_sheet, tmp_path, capsys):
    pytest.importorskip("offlinefolium")
    from mednet.planning.offline import external_links

    path = tmp_path / "sites.html"
    assert main(["plan", "locate", "quzhou", "--population", str(population_sheet),
                 "-s", "儿科", "--max-km", "10", "--k", "1",
                 "--map", str(path)]) == 0
    html = path.read_text(encoding="utf-8")
    assert external_links(html) == [] and "新增：" in html and "原有：" in html
    assert main(["plan", "flows", "quzhou", "-s", "儿科", "--flows", str(population_sheet), "--map", str(path)]) == 2
    assert "--map" in capsys.readouterr().err

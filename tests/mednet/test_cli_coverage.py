"""``mednet coverage``: readable tables, machine formats, and nothing written when input is wrong."""

import json
from pathlib import Path

import pytest

from mednet.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_tables_and_errors_speak_chinese_by_default(capsys):
    assert main(["coverage", "quzhou", "--specialty", "儿科", "--max-km", "30"]) == 0
    out = capsys.readouterr().out
    assert "56 个基层医疗机构；缺口 = 超过 30 公里" in out and "儿科：12 个超过 30 公里" in out
    assert "按医共体（儿科）：" in out and "Paediatrics" not in out and "primary-care" not in out
    assert main(["coverage", "quzhou", "--specialty", "儿料", "--max-km", "30"]) == 2
    assert "未知的专科“儿料”" in capsys.readouterr().err


def test_table_lists_the_paediatric_gaps_by_name(capsys):
    assert main(["coverage", "quzhou", "--specialty", "儿科", "--max-km", "30", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "56 primary-care institutions; gap = beyond 30 km" in out
    # the km say what they are: estimates along the links, not measured road distances
    assert "distance: km along referral links (224 links at great circle × road factor (estimated))" in out
    assert "儿科 Paediatrics: 12 beyond 30 km" in out
    line = next(x for x in out.splitlines() if x.startswith("齐溪卫生院"))
    assert line.split() == ["齐溪卫生院", "开化县", "开化县中医院医共体", "43.5", "开化县中医院"]


def test_all_specialties_to_a_csv_file(tmp_path, capsys):
    out = tmp_path / "gaps.csv"
    assert main(["coverage", "quzhou", "--all", "--max-km", "30", "--format", "csv", "--output", str(out)]) == 0
    assert capsys.readouterr().out == ""
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("institution_id,name,") and len(lines) == 1 + 56 * 42
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gaps.csv"]  # no temporary file left


def test_what_if_table_and_geojson(capsys):
    args = ["coverage", "quzhou", "-s", "paediatrics", "--max-km", "30", "--lang", "en", "--what-if",
            str(FIXTURES / "whatif_hetian_paediatrics.json")]
    assert main(args) == 0
    row = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("儿科 paediatrics"))
    assert row.split() == ["儿科", "paediatrics", "44", "46", "+2", "-0", "5", "齐溪卫生院", "何田卫生院"]
    assert main([*args, "--format", "geojson"]) == 0
    doc = json.loads(capsys.readouterr().out)
    newly = sorted(f["properties"]["institution_id"] for f in doc["features"] if f["properties"]["newly_covered"])
    assert newly == ["kh-hetian", "kh-qixi"] and doc["properties"]["scenario"].startswith("每周一次儿科门诊")


def test_suggest_and_map(tmp_path, capsys, caplog):
    png = tmp_path / "paediatrics.png"
    assert main(["coverage", "quzhou", "-s", "儿科", "--max-km", "30", "--suggest", "3", "--map", str(png),
                 "--format", "json"]) == 0
    assert not [r.getMessage() for r in caplog.records if "findfont" in r.getMessage()]  # no font noise at the user
    plan = json.loads(capsys.readouterr().out)
    assert [s["rank"] for s in plan["steps"]] == [1, 2, 3] and plan["covered_demand_before"] == 44
    assert png.read_bytes()[:4] == b"\x89PNG"
    page = tmp_path / "paediatrics.html"
    args = ["coverage", "quzhou", "-s", "儿科", "--max-km", "30", "--map", str(page), "-o", str(tmp_path / "t")]
    assert main(args) == 0
    assert "齐溪卫生院" in page.read_text(encoding="utf-8")


def test_progress_only_on_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert main(["coverage", "quzhou", "--all", "--max-km", "30", "--format", "json"]) == 0
    assert "coverage: 42/42" in capsys.readouterr().err
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)
    assert main(["coverage", "quzhou", "--all", "--max-km", "30", "--format", "json"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("extra, message", [
    (["-s", "paediatric"], "unknown specialty 'paediatric'; did you mean 'paediatrics'?"),
    (["-s", "儿科", "--max-km", "0"], "`--max-km` must be a number > 0, got 0.0"),
    (["-s", "儿科", "--max-km", "-5"], "`--max-km` must be a number > 0, got -5.0"),
    (["-s", "儿科", "--what-if", str(FIXTURES / "whatif_unknown_institution.json")],
     "unknown institution '何天卫生院' in scenario file"),
    (["-s", "儿科", "--what-if", str(FIXTURES / "whatif_malformed.json")],
     "whatif_malformed.json: links[0].distance_km: Input should be greater than 0, got 0"),
    (["--all", "--map", "MAP"], "`--map` needs exactly one --specialty"),
    (["-s", "儿科", "--map", "map.jpg"], "must end in .png, .svg, .pdf, .html"),
    (["-s", "儿科", "--suggest", "3", "--what-if", str(FIXTURES / "whatif_hetian_paediatrics.json")],
     "`--suggest/--what-if` cannot be combined: give one of them"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, extra, message):
    out, png = tmp_path / "out.csv", tmp_path / "map.png"
    args = ["coverage", "quzhou", "--lang", "en", "--max-km", "30", "--format", "csv", "--output", str(out),
            "--map", str(png)]
    extra = [str(tmp_path / x) if x.startswith("map.") else (str(png) if x == "MAP" else x) for x in extra]
    if "--map" in extra:
        args = args[:-2]
    assert main(args + extra) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mednet: error: ") and message in err
    assert list(tmp_path.iterdir()) == []


def test_coverage_by_minutes_says_the_basis_and_an_od_table_changes_it(tmp_path, capsys):
    assert main(["coverage", "quzhou", "-s", "儿科", "--cost", "minutes", "--max-minutes", "45", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "gap = beyond 45 min" in out and "56 from default_model" in out and "not measured" in out
    assert "齐溪卫生院" in out and "12 beyond 45 min" in out
    county = out.split("by county (儿科):", 1)[1].splitlines()
    assert any(line.startswith("开化县") and "齐溪卫生院 65.4 min" in line for line in county)
    example = Path(__file__).resolve().parents[2] / "examples" / "quzhou_od_example.csv"
    travel = tmp_path / "quzhou.travel.json"
    assert main(["travel", "import-od", "quzhou", str(example), "--source", "illustrative example",
                 "-o", str(travel)]) == 0
    capsys.readouterr()
    assert main(["coverage", "quzhou", "-s", "儿科", "--cost", "minutes", "--max-minutes", "45",
                 "--travel", str(travel), "--format", "json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    gaps = {p["institution"] for p in answer["gaps"]["paediatrics"]}
    assert not {"kh-qixi", "kh-suzhuang"} & gaps and len(gaps) == 10
    assert [b["kind"] for b in answer["specialties"][0]["minutes_basis"]] == ["default_model", "od_table"]


def test_coverage_needs_a_limit(capsys):
    assert main(["coverage", "quzhou", "-s", "儿科"]) == 2
    assert "至少给出一个上限（公里或分钟）" in capsys.readouterr().err
    assert main(["coverage", "quzhou", "-s", "儿科", "--lang", "en"]) == 2
    assert "give at least one limit" in capsys.readouterr().err
    assert main(["coverage", "quzhou", "-s", "儿科", "--cost", "minutes", "--max-km", "30", "--suggest", "2",
                 "--lang", "en"]) == 2
    assert "`--max-minutes` is needed by --suggest with --cost minutes" in capsys.readouterr().err
    assert main(["coverage", "quzhou", "-s", "儿科", "--cost", "minutes", "--max-km", "30", "--suggest", "2"]) == 2
    assert "在 --cost minutes 下使用 --suggest 时必须给出" in capsys.readouterr().err


def test_the_travel_lines_speak_chinese(capsys):
    assert main(["coverage", "quzhou", "--specialty", "儿科", "--max-km", "10", "--cost", "minutes"]) == 0
    out = capsys.readouterr().out
    assert "  儿科公里：56 个按默认模型估算（直线距离 × 1.3，车速 40 公里/小时，平原）" in out
    assert " from " not in out and "default_model" not in out and "terrain" not in out

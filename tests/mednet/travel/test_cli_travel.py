"""``mednet travel model | between | catchments`` end to end."""

from __future__ import annotations

import json

from mednet.cli import main


def test_model_lists_every_row_with_its_source(capsys):
    assert main(["travel", "model", "quzhou"]) == 0
    out = capsys.readouterr().out
    assert "circuity 1.3 (the region file's road_factor)" in out
    assert out.count("source osrm-car-profile") == 14 and out.count("assumption:") == 34


def test_between_json(capsys):
    assert main(["travel", "between", "quzhou", "齐溪", "开化县人民医院", "--format", "json"]) == 0
    fig = json.loads(capsys.readouterr().out)
    assert fig["origin"] == "kh-qixi" and fig["km_basis"]["kind"] == "default_model" and fig["minutes"] > 60


def test_between_unknown_name(capsys):
    assert main(["travel", "between", "quzhou", "齐西", "开化县人民医院"]) == 2
    assert "did you mean '齐溪" in capsys.readouterr().err


def test_catchments_table_csv_and_geojson(capsys):
    assert main(["travel", "catchments", "quzhou", "-s", "儿科"]) == 0
    out = capsys.readouterr().out
    assert "江山市人民医院 (js-people): 24 centres" in out
    # the minutes that chose each catchment say where they come from
    assert "minutes: 56 centres by default_model, great circle × 1.3 at 40 km/h (plain terrain)" in out
    assert main(["travel", "catchments", "quzhou", "-s", "儿科", "--cost", "km", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("specialty,centre,centre_name") and len(lines) == 1 + 56
    assert main(["travel", "catchments", "quzhou", "-s", "paediatrics", "--format", "geojson"]) == 0
    geo = json.loads(capsys.readouterr().out)
    assert geo["type"] == "FeatureCollection" and geo["properties"]["cost"] == "minutes"


def test_catchment_map(tmp_path, capsys):
    target = tmp_path / "paediatrics.png"
    assert main(["travel", "catchments", "quzhou", "-s", "儿科", "--map", str(target)]) == 0
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["travel", "catchments", "quzhou", "-s", "儿科", "--map", str(tmp_path / "x.gif")]) == 2
    assert "must end .png" in capsys.readouterr().err

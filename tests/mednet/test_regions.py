import json

import pytest

from mednet.errors import RegionDataError, UnknownRegion
from mednet.regions import (
    SCHEMA_FILE,
    dump_region,
    list_regions,
    load_region,
    parse_region,
    region_json_schema,
    regions_dir,
)


def test_committed_schema_is_fresh():
    committed = (regions_dir() / SCHEMA_FILE).read_text(encoding="utf-8")
    assert committed == region_json_schema(), "run: python tools/write_schema.py"


@pytest.mark.parametrize("name", list_regions())
def test_every_bundled_region_loads_and_round_trips(name):
    region = load_region(name)
    assert parse_region(json.loads(dump_region(region))) == region


def test_unknown_region_suggests_closest():
    with pytest.raises(UnknownRegion, match="did you mean 'quzhou'"):
        load_region("quzou")


def test_missing_file(tmp_path):
    with pytest.raises(RegionDataError, match="no such file"):
        load_region(tmp_path / "absent.json")


def test_invalid_json_names_line_and_column(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x",\n "name": }', encoding="utf-8")
    with pytest.raises(RegionDataError, match=r"bad.json: line 2 column 10: invalid JSON"):
        load_region(bad)


@pytest.fixture
def quzhou_doc():
    return json.loads((regions_dir() / "quzhou.json").read_text(encoding="utf-8"))


def test_latitude_out_of_range_names_the_place(quzhou_doc):
    quzhou_doc["institutions"][2]["lat"] = 200
    node = quzhou_doc["institutions"][2]["id"]
    with pytest.raises(RegionDataError,
                       match=rf"x.json: institutions\[2\] \({node}\)\.lat: .*less than or equal to 90.*200"):
        parse_region(quzhou_doc, file="x.json")


def test_swapped_coordinates_are_called_swapped(quzhou_doc):
    inst = quzhou_doc["institutions"][3]
    inst["lat"], inst["lon"] = inst["lon"], inst["lat"]
    with pytest.raises(RegionDataError, match="lat and lon look swapped"):
        parse_region(quzhou_doc, file="x.json")


def test_unknown_specialty_suggests_closest(quzhou_doc):
    inst = next(i for i in quzhou_doc["institutions"] if i.get("capabilities"))
    inst["capabilities"][0]["specialty"] = "paediatric"
    with pytest.raises(RegionDataError,
                       match=r"capabilities\[0\]\.specialty: .*unknown specialty 'paediatric'; "
                             r"did you mean 'paediatrics'"):
        parse_region(quzhou_doc, file="x.json")


def test_unknown_source_key_is_refused(quzhou_doc):
    quzhou_doc["institutions"][0]["source"] = "hearsay"
    with pytest.raises(RegionDataError, match="source 'hearsay' is not among the region's sources"):
        parse_region(quzhou_doc, file="x.json")


def test_extra_fields_are_refused(quzhou_doc):
    quzhou_doc["institutions"][0]["colour"] = "red"
    with pytest.raises(RegionDataError, match=r"institutions\[0\].*\.colour: Extra inputs are not permitted"):
        parse_region(quzhou_doc, file="x.json")


def test_top_level_must_be_an_object():
    with pytest.raises(RegionDataError, match="must be a JSON object, got list"):
        parse_region([], file="x.json")


def test_a_region_file_s_problems_are_worded_in_chinese_too(tmp_path, quzhou_doc):
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x",\n "name": }', encoding="utf-8")
    with pytest.raises(RegionDataError) as caught:
        load_region(bad)
    assert str(caught.value.in_lang("zh")) == f"{bad}：第 2 行第 10 列：不是有效的 JSON（Expecting value）"
    with pytest.raises(RegionDataError) as caught:
        load_region(tmp_path / "absent.json")
    assert str(caught.value.in_lang("zh")).endswith("absent.json：文件不存在")
    inst = quzhou_doc["institutions"][3]
    inst["lat"], inst["lon"] = inst["lon"], inst["lat"]
    with pytest.raises(RegionDataError) as caught:
        parse_region(quzhou_doc, file="x.json")
    zh = str(caught.value.in_lang("zh"))
    assert zh.startswith(f"x.json：institutions[3] ({inst['id']}).lat：须不大于 90.0，收到 ")
    assert "纬度和经度似乎填反了" in zh
    quzhou_doc["surplus"] = 1
    with pytest.raises(RegionDataError) as caught:
        parse_region(quzhou_doc, file="x.json")
    assert "不是可用的字段" in str(caught.value.in_lang("zh")) or "须不大于 90" in str(caught.value.in_lang("zh"))
    with pytest.raises(RegionDataError) as caught:
        parse_region([], file="x.json")
    assert str(caught.value.in_lang("zh")) == "x.json：最外层：须为 JSON 对象，收到的是 list"


def test_an_od_table_s_problems_are_worded_in_chinese_too():
    from mednet.errors import TravelDataError
    from mednet.travel.od import parse_od_rows

    rows = [["origin", "destination", "minutes"], ["华埠卫生院", "开化县人民医院", "abc"],
            ["华铺", "开化县人民医院", 10], ["华埠卫生院", "华埠卫生院", 5]]
    with pytest.raises(TravelDataError) as caught:
        parse_od_rows(load_region("quzhou"), rows, file="od.csv")
    assert str(caught.value.in_lang("zh")) == (
        "od.csv：3 处无法使用：第 2 行：`minutes` 须为不小于 0 的数或 'unreachable'，收到 'abc'；"
        "第 3 行：`origin` 未知的机构“华铺”；是否要找“华埠卫生院”？；第 4 行：起点和终点是同一家机构 'kh-huabu'")

"""Registry values checked as a planner would: grades, phone numbers, 诊疗科目, categories, datums, points."""

import pandas as pd
import pytest

from mednet.errors import TableImportError, UnknownSpecialty
from mednet.importing import import_tables
from mednet.importing.categories import unmodelled_category
from mednet.importing.datums import from_wgs84
from mednet.importing.grades import parse_grade
from mednet.importing.phones import parse_phone
from mednet.importing.problems import CellError, Collector
from mednet.importing.rows import resolve_department
from mednet.places import county_townships
from mednet.specialties import NATIONAL_SUBJECTS, resolve_subject

HUZHEN = next(t for t in county_townships("龙游县") if t.name == "湖镇镇")


@pytest.mark.parametrize(("text", "grade"), [
    ("三级甲等", "三级甲等"), ("三甲", "三级甲等"), ("二乙", "二级乙等"), ("2级丙等", "二级丙等"),
    ("三级特等", "三级特等"),
    ("一级", "一级"), ("三级", "三级"), ("未定级", "未定级"), ("未评级", "未定级"), (" 二级 甲等 ", "二级甲等"),
])
def test_official_grades_in_every_spelling(text, grade):
    assert parse_grade(text) == grade


@pytest.mark.parametrize(("text", "suggested"), [("二家", "二甲"), ("三已", "三乙"), ("一饼", "一丙"),
                                                 ("二级X等", "二甲"), ("四甲", None), ("甲等", None)])
def test_a_grade_typo_suggests_what_the_input_method_meant(text, suggested):
    with pytest.raises(CellError) as caught:
        parse_grade(text)
    assert (f"是否为“{suggested}”" in caught.value.zh) if suggested else "是否" not in caught.value.zh


@pytest.mark.parametrize(("text", "spelt", "warns"), [
    ("0570-7012345", "0570-7012345", False), ("(0570)7012345", "0570-7012345", False),
    ("021 6543 2100", "021-65432100", False), ("0570-7012345转8001", "0570-7012345-8001", False),
    ("0570-7012345 ext. 12", "0570-7012345-12", False), ("+86 138 0000 0000", "13800000000", False),
    ("400-123-4567", "400-123-4567", False), ("8001234567", "800-123-4567", False), ("120", "120", False),
    ("０５７０－７０１２３４５", "0570-7012345", False), ("7012345", "7012345", True),
    ("0570-7012345；13800000000", "0570-7012345；13800000000", False),
])
def test_phone_numbers_are_checked_and_spelt_one_way(text, spelt, warns):
    phone = parse_phone(text)
    assert phone.text == spelt and (phone.warning_zh is not None) == warns


@pytest.mark.parametrize(("text", "said"), [
    ("0570-70l2345", "含有字母"), ("abc", "含有字母"), ("1380000000", "手机号码应为 11 位"),
    ("0570-701234", "应为 7 或 8 位"), ("+1 555 1234", "不是中国大陆号码"), ("010-12345678", "不以 0 或 1 开头"),
])
def test_impossible_phone_numbers_are_refused(text, said):
    with pytest.raises(CellError) as caught:
        parse_phone(text)
    assert said in caught.value.zh


@pytest.mark.parametrize(("text", "code", "specialty"), [
    ("全科医疗科", "02", "general_practice"), ("预防保健科", "01", "public_health"),
    ("妇女保健科", "06", "womens_health"), ("儿童保健科", "09", "child_health"),
    ("普通外科专业", "04.01", "general_surgery"), ("04.01", "04.01", "general_surgery"),
    ("0401", "04.01", "general_surgery"), ("03.01 呼吸内科专业", "03.01", "respiratory"),
    ("中医科：针灸科专业", "50.13", "acupuncture"), ("中医科内科专业", "50.01", None), ("中西医结合科", "52", None),
    ("52", "52", None), ("07.01", "07.01", None), ("新生儿专业", "07.01", None), ("09.01", "09.01", None),
])
def test_the_national_list_by_code_and_official_name(text, code, specialty):
    subject = resolve_subject(text)
    assert subject is not None and subject.code == code
    assert (subject.specialty.code if subject.specialty else None) == specialty


def test_the_subject_list_is_the_official_one_and_invents_no_code():
    assert len(NATIONAL_SUBJECTS) == len(set(NATIONAL_SUBJECTS.values()))  # one name, one code
    assert all(c[:2] in NATIONAL_SUBJECTS for c in NATIONAL_SUBJECTS)  # every second level under its first
    assert NATIONAL_SUBJECTS["52"] == "中西医结合科" and NATIONAL_SUBJECTS["27"] == "疼痛科"
    with pytest.raises(UnknownSpecialty, match="no such code"):
        resolve_subject("29")
    with pytest.raises(UnknownSpecialty, match="is 呼吸内科专业, not 消化内科专业"):
        resolve_subject("03.01 消化内科专业")


@pytest.mark.parametrize(("text", "suggested"), [("儿料", "儿科"), ("全科医疗", "全科医疗科"), ("普外", None)])
def test_department_typos_suggest_chinese_words(text, suggested):
    if suggested is None:
        assert resolve_department(text)[0] == "routed"
        return
    with pytest.raises(CellError) as caught:
        resolve_department(text)
    assert f"是否为“{suggested}”" in caught.value.zh


@pytest.mark.parametrize(("text", "found"), [("D600", ("D600", "村卫生室")), ("村卫生室", ("D600", "村卫生室")),
                                             ("诊所", ("D200", "诊所")), ("D100 门诊部", ("D100", "门诊部")),
                                             ("医务室", ("D400", "医务室")), ("C210", None), ("卫生院", None)])
def test_categories_mednet_does_not_model(text, found):
    assert unmodelled_category(text) == found


def one_row(**cells) -> dict[str, pd.DataFrame]:
    base = {"名称": ["湖镇镇卫生院（示例）"], "类别": ["C210"], "区县": ["龙游县"], "乡镇街道": ["湖镇"]}
    return {"机构": pd.DataFrame({**base, **{k: [v] for k, v in cells.items()}})}


def test_a_baidu_point_declared_as_amap_is_a_warning_with_both_distances():
    lat, lon = from_wgs84(lat=HUZHEN.lat, lon=HUZHEN.lon, datum="BD-09")
    problems = Collector()
    region = import_tables(one_row(纬度=lat, 经度=lon, 坐标系="高德"), region_id="t", problems=problems)
    [warning] = [p for p in problems.problems if p.severity == "warning"]
    assert warning.rule == "datum-suspect" and warning.column == "坐标系"
    assert "湖镇镇驻地 0.93 公里" in warning.message_zh and "按 BD-09（百度地图）读仅 0.00 公里" in warning.message_zh
    assert region.institutions[0].location.converted_from == "GCJ-02"  # as declared: the planner decides


@pytest.mark.parametrize("datum", ["WGS84", "GCJ-02", "BD-09"])
def test_a_point_in_its_declared_datum_is_not_suspect(datum):
    lat, lon = from_wgs84(lat=HUZHEN.lat + 0.004, lon=HUZHEN.lon - 0.003, datum=datum)
    problems = Collector()
    import_tables(one_row(纬度=lat, 经度=lon, 坐标系=datum), region_id="t", problems=problems)
    assert not [p for p in problems.problems if p.severity != "note"]


def test_a_swap_is_suggested_only_when_swapping_puts_the_point_in_its_county():
    with pytest.raises(TableImportError) as caught:
        import_tables(one_row(纬度=HUZHEN.lon, 经度=HUZHEN.lat), region_id="t")
    [problem] = caught.value.problems
    assert "纬度与经度互换后位于龙游县内" in problem.message_zh
    with pytest.raises(TableImportError) as caught:
        import_tables(one_row(纬度=119.9, 经度=31.5), region_id="t")  # swapped, still not 龙游县
    assert "互换" not in caught.value.problems[0].message_zh
    with pytest.raises(TableImportError) as caught:  # in range, outside the county: the distance
        import_tables({**one_row(纬度=29.14, 经度=118.41), "覆盖区县": pd.DataFrame({"区县": ["龙游县"]})},
                      region_id="t")
    outside = next(p for p in caught.value.problems if p.rule == "point-outside-county")
    assert "68 公里以上" in outside.message_zh and "互换" not in outside.message_zh


def test_a_capabilities_row_naming_a_subject_no_specialty_routes_is_kept_as_a_registry_fact():
    problems = Collector()
    frames = {**one_row(), "专科": pd.DataFrame({"机构": ["湖镇"] * 2, "专科": ["中西医结合科", "全科医疗科"]})}
    inst = import_tables(frames, region_id="t", problems=problems).institutions[0]
    assert inst.registry.other_subjects == ("52",) and [c.specialty for c in inst.capabilities] == ["general_practice"]
    [note] = [p for p in problems.problems if p.rule == "not-routed"]
    assert "52 中西医结合科（1 处）" in note.message_zh
    with pytest.raises(TableImportError) as caught:  # a visiting clinic must be of a routed specialty
        import_tables({**one_row(), "出诊": pd.DataFrame({"机构": ["湖镇"], "专科": ["中西医结合科"]})}, region_id="t")
    assert "不在 mednet 的转诊专科中" in caught.value.problems[0].message_zh

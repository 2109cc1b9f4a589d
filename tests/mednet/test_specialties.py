import pytest

from mednet.errors import UnknownSpecialty
from mednet.specialties import SPECIALTIES, resolve_specialty

# Every specialty and service the seed articles name must resolve (seeds 000, 001, 003).
SEED_TERMS = ["全科", "普通外科", "儿科", "骨科", "泌尿科", "消化科", "呼吸内科", "神经内科", "风湿科", "五官科",
              "感染科", "眼科", "皮肤科", "妇科", "产科", "中医", "康复", "口腔", "放射科", "B超", "心电", "检验",
              "病理", "心内科", "内分泌代谢科", "中医儿科", "泌尿外科", "消毒供应", "针灸推拿", "公共卫生科",
              "妇女健康科", "儿童健康科", "护理", "慢性肾脏病", "结核病预防性治疗门诊", "影像"]


@pytest.mark.parametrize("term", SEED_TERMS)
def test_seed_terms_resolve(term):
    assert resolve_specialty(term).code


def test_each_code_label_or_alias_names_one_specialty():
    owners: dict[str, set[str]] = {}
    for s in SPECIALTIES:
        for key in (s.code, s.label_zh, s.label_en, *s.aliases):
            owners.setdefault(key.casefold(), set()).add(s.code)
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}


@pytest.mark.parametrize("name, code", [("Pediatrics", "paediatrics"), (" 中医 ", "tcm"), ("ENT", "ent"),
                                        ("ICU", "critical_care")])
def test_resolution_ignores_case_and_spaces(name, code):
    assert resolve_specialty(name).code == code


def test_unknown_specialty_suggests_closest():
    with pytest.raises(UnknownSpecialty, match=r"unknown specialty 'dermatolgy'; did you mean 'dermatology'\?"):
        resolve_specialty("dermatolgy")
    with pytest.raises(KeyError):  # also a builtin KeyError
        resolve_specialty("nothing like it")

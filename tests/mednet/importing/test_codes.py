"""统一社会信用代码 checksum, WS 218 categories and 诊疗科目 codes."""

import pytest

from mednet.errors import UnknownSpecialty
from mednet.importing.categories import resolve_category
from mednet.importing.credit_code import ALPHABET, check_character, credit_code_problem
from mednet.models import Registry, Tier
from mednet.specialties import NATIONAL_SUBJECTS, SPECIALTIES, resolve_specialty

VALID = "91350100M000100Y43"  # the worked example of GB 32100-2015


def test_valid_code_passes_and_every_single_change_is_caught():
    assert credit_code_problem(VALID) is None
    for i in range(18):
        for c in ALPHABET:
            if c != VALID[i]:
                changed = VALID[:i] + c + VALID[i + 1:]
                assert credit_code_problem(changed) is not None, changed


@pytest.mark.parametrize(("code", "message"), [
    ("91350100M000100Y4", "must be 18 characters (GB 32100-2015), has 17"),
    ("91350100M000I00Y43", "'I' at position 13 is not allowed"),
    ("91350100M000100Y44", "check character is 4, expected 3 (GB 32100-2015)"),
])
def test_bad_codes_say_why(code, message):
    assert message in (credit_code_problem(code) or "")


def test_check_character_can_be_zero_and_models_refuse_bad_codes():
    assert check_character("00000000000000000") == "0"
    with pytest.raises(ValueError, match="expected 3"):
        Registry(credit_code="91350100M000100Y44", source="s")


@pytest.mark.parametrize(("text", "grade", "tier", "code"), [
    ("B100", None, Tier.COMMUNITY_CENTRE, "B100"),
    ("C210 中心卫生院", None, Tier.TOWNSHIP_CENTRE, "C210"),
    ("乡卫生院", None, Tier.TOWNSHIP_CENTRE, "C220"),
    ("A100", "二级甲等", Tier.COUNTY_HOSPITAL, "A100"),
    ("A210", "三级甲等", Tier.CITY_HOSPITAL, "A210"),
    ("A309", None, Tier.SPECIALTY_HOSPITAL, "A309"),
    ("G100", None, Tier.MATERNAL_CHILD_HOSPITAL, "G100"),
    ("township_centre", None, Tier.TOWNSHIP_CENTRE, None),
    ("社区卫生服务中心", None, Tier.COMMUNITY_CENTRE, None),
])
def test_categories_and_tiers(text, grade, tier, code):
    assert resolve_category(text, grade=grade) == (tier, code)


@pytest.mark.parametrize(("text", "message"), [
    ("D600", r"村卫生室 \(D600\) is not an institution mednet models"),
    ("C210 乡卫生院", "WS 218 code C210 is 中心卫生院, not 乡卫生院"),
    ("clinic", "must be a mednet tier"),
])
def test_unusable_categories(text, message):
    with pytest.raises(ValueError, match=message):
        resolve_category(text)


def test_national_subject_codes_resolve_in_every_spelling():
    assert {resolve_specialty(c).code for c in ("0301", "03.01")} == {"respiratory"}
    assert resolve_specialty("0300").code == resolve_specialty("03").code == "internal_medicine"
    assert resolve_specialty("5004").code == "tcm_paediatrics"


def test_each_code_names_one_entry_and_is_in_the_national_list():
    codes = [c for s in SPECIALTIES for c in s.national_codes]
    assert len(codes) == len(set(codes))
    assert set(codes) <= set(NATIONAL_SUBJECTS)


def test_unmapped_code_names_its_subject_and_suggests_its_parent():
    with pytest.raises(UnknownSpecialty, match=r"03.05 血液内科专业, not in mednet's vocabulary.*'internal_medicine'"):
        resolve_specialty("0305")
    with pytest.raises(UnknownSpecialty, match="no such code"):
        resolve_specialty("9901")

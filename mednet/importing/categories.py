"""Institution categories: mednet's tiers, WS 218-2002 category codes and their labels.

A table's category cell may hold a mednet tier (``township_centre``, or its
Chinese label 乡镇卫生院), or a WS 218-2002 卫生机构（组织）类别代码 with or
without its label (``C210``, ``中心卫生院``, ``C210 中心卫生院``).

    >>> resolve_category("C210 中心卫生院")
    (<Tier.TOWNSHIP_CENTRE: 'township_centre'>, 'C210')
    >>> resolve_category("B100")
    (<Tier.COMMUNITY_CENTRE: 'community_centre'>, 'B100')
    >>> resolve_category("A100", grade="三级甲等")[0].value
    'city_hospital'

Hospitals (A1xx general, A2xx TCM, integrated and ethnic-medicine) are
county hospitals unless their grade is 三级 (tertiary), which mednet ranks
as city hospitals; A3xx hospitals are specialty hospitals, G100
妇幼保健院 maternal and child hospitals. Categories mednet does not model
as institutions (clinics, village posts, CDCs) raise :class:`ValueError`
(:func:`unmodelled_category` tells them apart, so that an import skips
their rows instead).
"""

from __future__ import annotations

import re
from functools import lru_cache

from mednet.errors import closest_names
from mednet.importing.problems import CellError
from mednet.models import Tier

#: WS 218-2002 codes mednet models, with their labels.
WS218_LABELS: dict[str, str] = {
    "A100": "综合医院", "A210": "中医医院", "A220": "中西医结合医院", "A230": "民族医院",
    "A300": "专科医院", "A301": "口腔医院", "A302": "眼科医院", "A303": "耳鼻喉科医院", "A304": "肿瘤医院",
    "A305": "心血管病医院", "A306": "胸科医院", "A307": "血液病医院", "A308": "妇产(科)医院", "A309": "儿童医院",
    "A310": "精神病医院", "A311": "传染病医院", "A312": "皮肤病医院", "A313": "结核病医院", "A314": "麻风病医院",
    "A315": "职业病医院", "A316": "骨科医院", "A317": "康复医院", "A318": "整形外科医院", "A319": "美容医院",
    "A399": "其他专科医院",
    "B100": "社区卫生服务中心",
    "C100": "街道卫生院", "C200": "乡镇卫生院", "C210": "中心卫生院", "C220": "乡卫生院",
    "G100": "妇幼保健院",
}
#: Registry words for categories mednet models that are not WS 218 labels, with their code.
REGISTRY_WORDS: dict[str, str] = {"卫生院": "C200", "街道卫生院": "C100", "社区卫生服务中心(站)": "B100",
                                  "妇幼保健院(所、站)": "G100", "妇幼保健计划生育服务中心": "G100"}
#: WS 218-2002 codes of units mednet does not model as institutions, with their labels (for messages).
WS218_UNMODELLED: dict[str, str] = {
    "B200": "社区卫生服务站", "D100": "门诊部", "D200": "诊所", "D300": "卫生所(室)", "D400": "医务室",
    "D500": "中小学卫生保健所", "D600": "村卫生室", "E100": "急救中心", "E200": "急救站", "G200": "妇幼保健所",
    "G300": "妇幼保健站", "J100": "疾病预防控制中心",
}
#: Words registries use for units of those categories, beside the WS 218 labels.
UNMODELLED_WORDS: dict[str, str] = {
    "卫生室": "D600", "村卫生室": "D600", "村卫生所": "D600", "卫生所": "D300", "卫生室(所)": "D300",
    "卫生所(室)": "D300", "诊所": "D200", "中医诊所": "D200", "口腔诊所": "D200", "个体诊所": "D200",
    "门诊部": "D100", "综合门诊部": "D100", "中医门诊部": "D100", "医务室": "D400", "卫生保健所": "D500",
    "社区卫生服务站": "B200", "卫生服务站": "B200", "急救站": "E200", "急救中心": "E100", "妇幼保健站": "G300",
    "妇幼保健所": "G200", "疾控中心": "J100", "疾病预防控制中心": "J100",
}
_LOOKALIKE = str.maketrans({"L": "1", "I": "1", "O": "0"})
_CODE = re.compile(r"^\s*([A-Z]\d{3})\b\s*(.*)$")


def unmodelled_category(text: str) -> tuple[str, str] | None:
    """(WS 218 code, label) when a category cell names units mednet does not model as institutions (village
    clinics, clinics, outpatient departments, …), else None.

    >>> unmodelled_category("D600"), unmodelled_category("诊所"), unmodelled_category("C210")
    (('D600', '村卫生室'), ('D200', '诊所'), None)
    """
    value = str(text).strip()
    found = _CODE.match(value.upper())
    code = found.group(1) if found else UNMODELLED_WORDS.get(value.replace("（", "(").replace("）", ")")) or next(
        (c for c, label in WS218_UNMODELLED.items() if label == value), None)
    return (code, WS218_UNMODELLED[code]) if code in WS218_UNMODELLED else None


def _tier_of_code(code: str, grade: str | None) -> Tier:
    if code[:2] in ("A1", "A2"):
        return Tier.CITY_HOSPITAL if grade and grade.strip().startswith(("三级", "3级")) else Tier.COUNTY_HOSPITAL
    if code.startswith("A3"):
        return Tier.SPECIALTY_HOSPITAL
    if code == "B100":
        return Tier.COMMUNITY_CENTRE
    if code.startswith("C"):
        return Tier.TOWNSHIP_CENTRE
    return Tier.MATERNAL_CHILD_HOSPITAL  # G100


@lru_cache(maxsize=256)
def resolve_category(text: str, *, grade: str | None = None) -> tuple[Tier, str | None]:
    """The tier a category cell names, and its WS 218 code when it gives one."""
    value = str(text).strip()
    for tier in Tier:
        if value.casefold() in (tier.value, tier.label_zh.casefold()):
            return tier, None
    found = _CODE.match(value.upper())
    code = found.group(1) if found else next((c for c, label in WS218_LABELS.items() if label == value), value)
    if code in WS218_LABELS:
        label = found.group(2).strip() if found else ""
        if label and label != WS218_LABELS[code]:
            raise CellError(f"WS 218 code {code} is {WS218_LABELS[code]}, not {label}",
                            f"WS 218 代码 {code} 是“{WS218_LABELS[code]}”，不是“{label}”")
        return _tier_of_code(code, grade), code
    if code in REGISTRY_WORDS:
        return _tier_of_code(REGISTRY_WORDS[code], grade), REGISTRY_WORDS[code]
    unmodelled = unmodelled_category(value)
    if unmodelled is not None:
        raise CellError(f"{unmodelled[1]} ({unmodelled[0]}) is not an institution mednet models (hospitals "
                        "A1xx–A3xx, B100, C1xx–C2xx, G100)",
                        f"{unmodelled[1]}（{unmodelled[0]}）不是 mednet 建模的机构类别"
                        "（医院 A1xx–A3xx、B100、C1xx–C2xx、G100）")
    tiers = ", ".join(t.value for t in Tier)
    labels = [*WS218_LABELS.values(), *(t.label_zh for t in Tier)]
    typed = value.upper().translate(_LOOKALIKE)  # a letter typed for a digit: C2l0, C2IO
    near = [typed] if typed in WS218_LABELS else closest_names(value, labels, n=1)
    raise CellError(f"must be a mednet tier ({tiers}), a Chinese tier label or a WS 218 code such as C210"
                    + (f"; did you mean {near[0]!r}?" if near else ""),
                    "应为机构层级（如乡镇卫生院、县级医院）或 WS 218 类别代码（如 C210 中心卫生院）"
                    + (f"；是否为“{near[0]}”？" if near else ""))


def category_label(code: str) -> str:
    """The WS 218 label of a code mednet models.

    >>> category_label("C220")
    '乡卫生院'
    """
    return WS218_LABELS[code]


__all__ = ["WS218_LABELS", "WS218_UNMODELLED", "category_label", "resolve_category", "unmodelled_category"]

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
as institutions (clinics, village posts, CDCs) raise :class:`ValueError`.
"""

from __future__ import annotations

import re
from functools import lru_cache

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
#: WS 218-2002 codes of units mednet does not model as institutions, with their labels (for messages).
WS218_UNMODELLED: dict[str, str] = {
    "B200": "社区卫生服务站", "D100": "门诊部", "D200": "诊所", "D300": "卫生所(室)", "D400": "医务室",
    "D500": "中小学卫生保健所", "D600": "村卫生室", "E100": "急救中心", "E200": "急救站", "G200": "妇幼保健所",
    "G300": "妇幼保健站", "J100": "疾病预防控制中心",
}
_CODE = re.compile(r"^\s*([A-Z]\d{3})\b\s*(.*)$")


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
    code = found.group(1) if found else next((c for c, label in WS218_LABELS.items() if label == value), None)
    if code in WS218_LABELS:
        label = found.group(2).strip() if found else ""
        if label and label != WS218_LABELS[code]:
            raise ValueError(f"WS 218 code {code} is {WS218_LABELS[code]}, not {label}")
        return _tier_of_code(code, grade), code
    if code in WS218_UNMODELLED or value in WS218_UNMODELLED.values():
        label = WS218_UNMODELLED.get(code or "", value)
        raise ValueError(f"{label} is not an institution mednet models (hospitals A1xx–A3xx, B100, C1xx–C2xx, G100)")
    tiers = ", ".join(t.value for t in Tier)
    raise ValueError(f"must be a mednet tier ({tiers}), a Chinese tier label or a WS 218 code such as C210")


def category_label(code: str) -> str:
    """The WS 218 label of a code mednet models.

    >>> category_label("C220")
    '乡卫生院'
    """
    return WS218_LABELS[code]


__all__ = ["WS218_LABELS", "WS218_UNMODELLED", "category_label", "resolve_category"]

"""The controlled vocabulary of specialties and services.

Each entry has a stable code, Chinese and English labels and aliases (the
words the seed articles and desk clerks use). Resolve any of them to the
entry with :func:`resolve_specialty`::

    >>> resolve_specialty("儿科").code
    'paediatrics'
    >>> resolve_specialty("B超").code
    'ultrasound'
    >>> resolve_specialty("Pediatrics").label_zh
    '儿科'
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

from mednet.errors import UnknownSpecialty, closest_names

Kind = Literal["clinical", "diagnostic", "service"]


class Specialty(BaseModel):
    """One entry of the vocabulary."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    label_zh: str
    label_en: str
    kind: Kind = "clinical"
    aliases: tuple[str, ...] = ()


def _s(code: str, zh: str, en: str, *aliases: str, kind: Kind = "clinical") -> Specialty:
    return Specialty(code=code, label_zh=zh, label_en=en, kind=kind, aliases=aliases)


#: The vocabulary, in a stable order (the order of compiled capability columns).
SPECIALTIES: tuple[Specialty, ...] = (
    # Named in the seed articles (000: 湖州 visiting experts; 001: 闵行; 003: 路桥).
    _s("general_practice", "全科", "General practice", "全科医学", "全科医学科", "家庭医生", "general medicine", "GP"),
    _s("general_surgery", "普通外科", "General surgery", "普外科", "普外", "外科", "surgery"),
    _s("paediatrics", "儿科", "Paediatrics", "小儿科", "pediatrics", "儿童健康科"),
    _s("orthopaedics", "骨科", "Orthopaedics", "骨伤科", "orthopedics"),
    _s("urology", "泌尿科", "Urology", "泌尿外科"),
    _s("gastroenterology", "消化科", "Gastroenterology", "消化内科", "消化病"),
    _s("respiratory", "呼吸内科", "Respiratory medicine", "呼吸科", "pulmonology"),
    _s("neurology", "神经内科", "Neurology", "神经科"),
    _s("rheumatology", "风湿科", "Rheumatology", "风湿免疫科"),
    _s("ent", "五官科", "Ear, nose and throat", "耳鼻喉科", "耳鼻咽喉科", "otolaryngology"),
    _s("infectious_disease", "感染科", "Infectious diseases", "感染性疾病科", "传染科"),
    _s("ophthalmology", "眼科", "Ophthalmology"),
    _s("dermatology", "皮肤科", "Dermatology", "皮肤性病科"),
    _s("gynaecology", "妇科", "Gynaecology", "gynecology", "妇女健康科"),
    _s("obstetrics", "产科", "Obstetrics", "妇产科"),
    _s("tcm", "中医", "Traditional Chinese medicine", "中医科", "中医药", "traditional chinese medicine"),
    _s("rehabilitation", "康复", "Rehabilitation", "康复医学科", "康复科", "rehab"),
    _s("stomatology", "口腔", "Stomatology (dental)", "口腔科", "dentistry", "dental"),
    _s("radiology", "放射/影像", "Radiology and imaging", "放射科", "影像", "医学影像科", "影像科", "imaging", "X光",
       kind="diagnostic"),
    _s("ultrasound", "B超", "Ultrasound", "超声", "超声科", "B超室", kind="diagnostic"),
    _s("ecg", "心电", "Electrocardiography", "心电图", "心电图室", "electrocardiogram", kind="diagnostic"),
    _s("laboratory", "检验", "Laboratory medicine", "医学检验科", "检验科", "化验", "lab", kind="diagnostic"),
    _s("pathology", "病理", "Pathology", "病理科", kind="diagnostic"),
    _s("cardiology", "心内科", "Cardiology", "心血管内科", "心血管科"),
    _s("endocrinology", "内分泌科", "Endocrinology", "内分泌代谢科", "内分泌"),
    _s("tcm_paediatrics", "中医儿科", "TCM paediatrics", "儿科中医", "tcm pediatrics"),
    _s("nephrology", "肾内科", "Nephrology", "肾病科", "慢性肾脏病"),
    _s("acupuncture", "针灸推拿", "Acupuncture and tuina", "针灸", "推拿", "针灸科", "推拿科"),
    # Expected of a county hospital (县医院医疗服务能力基本标准, 2016).
    _s("emergency", "急诊", "Emergency medicine", "急诊科", "急诊医学科", "急救"),
    _s("internal_medicine", "内科", "Internal medicine", "普通内科", "大内科"),
    _s("critical_care", "重症医学", "Critical care", "重症医学科", "ICU", "重症监护"),
    _s("anaesthesia", "麻醉", "Anaesthesiology", "麻醉科", "anesthesia"),
    _s("neurosurgery", "神经外科", "Neurosurgery"),
    _s("thoracic_surgery", "胸外科", "Thoracic surgery", "心胸外科"),
    _s("psychiatry", "精神科", "Psychiatry", "精神卫生科", "心理科"),
    _s("oncology", "肿瘤科", "Oncology", "肿瘤内科"),
    # Services named in the seeds that are not clinical departments.
    _s("child_health", "儿童保健", "Child health care", "儿保", kind="service"),
    _s("womens_health", "妇女保健", "Women's health care", "妇保", kind="service"),
    _s("public_health", "公共卫生", "Public health", "公共卫生科", "预防保健", kind="service"),
    _s("nursing", "护理", "Nursing", "护理专科", kind="service"),
    _s("sterile_supply", "消毒供应", "Sterile supply", "消毒供应中心", kind="service"),
    _s("tuberculosis", "结核病", "Tuberculosis care", "结核病门诊", "结核病预防性治疗门诊", "肺结核"),
)

SPECIALTY_CODES: tuple[str, ...] = tuple(s.code for s in SPECIALTIES)


@lru_cache(maxsize=1)
def _index() -> dict[str, Specialty]:
    index: dict[str, Specialty] = {}
    for s in SPECIALTIES:
        for key in (s.code, s.label_zh, s.label_en, *s.aliases):
            index.setdefault(key.casefold(), s)
    return index


def resolve_specialty(name: str | Specialty) -> Specialty:
    """The specialty a code, label or alias names; raises :class:`UnknownSpecialty`.

    >>> resolve_specialty("ultrasound").label_zh
    'B超'
    >>> resolve_specialty("paediatric")
    Traceback (most recent call last):
    ...
    mednet.errors.UnknownSpecialty: unknown specialty 'paediatric'; did you mean 'paediatrics'?
    """
    if isinstance(name, Specialty):
        return name
    found = _index().get(str(name).strip().casefold())
    if found is None:
        near = closest_names(str(name), (k for s in SPECIALTIES for k in (s.code, s.label_zh, s.label_en, *s.aliases)))
        raise UnknownSpecialty(str(name), suggestions=list(dict.fromkeys(_index()[k.casefold()].code for k in near)))
    return found


def specialty_code(name: str | Specialty) -> str:
    """The stable code of a specialty given by code, label or alias.

    >>> specialty_code("中医")
    'tcm'
    """
    return resolve_specialty(name).code

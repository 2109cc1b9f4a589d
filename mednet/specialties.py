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

Each entry also says what travels when care is referred (``travels``):
the patient (clinical care, imaging), a specimen or a trace read
elsewhere (laboratory, pathology, ECG), or nothing: a service that is no
referral at all (sterile supply). ``travels_note`` gives the basis when it
is not the patient::

    >>> resolve_specialty("心电").travels, resolve_specialty("消毒供应").travels
    ('trace', 'nothing')

Registries list departments by the national 诊疗科目 codes of the
医疗机构诊疗科目名录 (卫医发〔1994〕第27号 and its amendments: 27 疼痛科 2007,
28 重症医学科 2009): a first-level subject ``03`` (内科) or a second-level
``03.01`` (呼吸内科专业), also written ``0301``. Entries carry the codes that
denote them (:attr:`Specialty.national_codes`), so a code resolves too::

    >>> resolve_specialty("0301").code, resolve_specialty("07").code
    ('respiratory', 'paediatrics')
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

from mednet.errors import UnknownSpecialty, closest_names

Kind = Literal["clinical", "diagnostic", "service"]
#: What goes to the destination of a referral: the patient, a specimen, a trace (an ECG), or nothing.
Travels = Literal["patient", "specimen", "trace", "nothing"]

#: The seed's words on Luqiao's shared centres, the basis of what travels to them.
_SHARED_CENTRES = ("台州日报 2018-08-09 (路桥): 区域检验、心电、病理、消毒供应等共享中心均已开始运行，患者可以少跑甚至"
                   "不用跑")
_BY_SPECIMEN = (f"{_SHARED_CENTRES}. Inferred from it: the shared centre receives the {{what}} taken at the "
                "patient's own centre, so the patient need not travel")
_NOT_REFERRED = (f"{_SHARED_CENTRES}. Inferred: sterile supply reprocesses the instruments of member units; it "
                 "is a service between institutions, not care a patient is referred to")


class Specialty(BaseModel):
    """One entry of the vocabulary."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    label_zh: str
    label_en: str
    kind: Kind = "clinical"
    aliases: tuple[str, ...] = ()
    national_codes: tuple[str, ...] = ()
    travels: Travels = "patient"
    travels_note: str | None = None

    @property
    def is_referral_service(self) -> bool:
        """Whether anything travels: a request for a service that nothing travels to is no referral."""
        return self.travels != "nothing"


def _s(
    code: str, zh: str, en: str, *aliases: str, kind: Kind = "clinical", subjects: tuple[str, ...] = (),
    travels: Travels = "patient", travels_note: str | None = None,
) -> Specialty:
    return Specialty(code=code, label_zh=zh, label_en=en, kind=kind, aliases=aliases, national_codes=subjects,
                     travels=travels, travels_note=travels_note)


#: The vocabulary, in a stable order (the order of compiled capability columns).
SPECIALTIES: tuple[Specialty, ...] = (
    # Named in the seed articles (000: 湖州 visiting experts; 001: 闵行; 003: 路桥).
    _s("general_practice", "全科", "General practice", "全科医学", "全科医学科", "家庭医生", "general medicine", "GP",
       subjects=("02",)),
    _s("general_surgery", "普通外科", "General surgery", "普外科", "普外", "外科", "surgery", subjects=("04", "04.01")),
    _s("paediatrics", "儿科", "Paediatrics", "小儿科", "pediatrics", "儿童健康科", subjects=("07",)),
    _s("orthopaedics", "骨科", "Orthopaedics", "骨伤科", "orthopedics", subjects=("04.03", "50.10")),
    _s("urology", "泌尿科", "Urology", "泌尿外科", subjects=("04.04",)),
    _s("gastroenterology", "消化科", "Gastroenterology", "消化内科", "消化病", subjects=("03.02",)),
    _s("respiratory", "呼吸内科", "Respiratory medicine", "呼吸科", "pulmonology", subjects=("03.01",)),
    _s("neurology", "神经内科", "Neurology", "神经科", subjects=("03.03",)),
    _s("rheumatology", "风湿科", "Rheumatology", "风湿免疫科", subjects=("03.08",)),
    _s("ent", "五官科", "Ear, nose and throat", "耳鼻喉科", "耳鼻咽喉科", "otolaryngology", subjects=("11",)),
    _s("infectious_disease", "感染科", "Infectious diseases", "感染性疾病科", "传染科", subjects=("16",)),
    _s("ophthalmology", "眼科", "Ophthalmology", subjects=("10",)),
    _s("dermatology", "皮肤科", "Dermatology", "皮肤性病科", subjects=("13",)),
    _s("gynaecology", "妇科", "Gynaecology", "gynecology", "妇女健康科", subjects=("05.01",)),
    _s("obstetrics", "产科", "Obstetrics", "妇产科", subjects=("05", "05.02")),
    _s("tcm", "中医", "Traditional Chinese medicine", "中医科", "中医药", "traditional chinese medicine",
       subjects=("50",)),
    _s("rehabilitation", "康复", "Rehabilitation", "康复医学科", "康复科", "rehab", subjects=("21",)),
    _s("stomatology", "口腔", "Stomatology (dental)", "口腔科", "dentistry", "dental", subjects=("12",)),
    _s("radiology", "放射/影像", "Radiology and imaging", "放射科", "影像", "医学影像科", "影像科", "imaging", "X光",
       kind="diagnostic", subjects=("32", "32.01", "32.02", "32.03")),
    _s("ultrasound", "B超", "Ultrasound", "超声", "超声科", "B超室", kind="diagnostic", subjects=("32.05",)),
    _s("ecg", "心电", "Electrocardiography", "心电图", "心电图室", "electrocardiogram",
       kind="diagnostic", subjects=("32.06",),
       travels="trace", travels_note=_BY_SPECIMEN.format(what="ECG trace")),
    _s("laboratory", "检验", "Laboratory medicine", "医学检验科", "检验科", "化验", "lab",
       kind="diagnostic", subjects=("30",),
       travels="specimen", travels_note=_BY_SPECIMEN.format(what="specimen")),
    _s("pathology", "病理", "Pathology", "病理科", kind="diagnostic", subjects=("31",),
       travels="specimen", travels_note=_BY_SPECIMEN.format(what="tissue specimen")),
    _s("cardiology", "心内科", "Cardiology", "心血管内科", "心血管科", subjects=("03.04",)),
    _s("endocrinology", "内分泌科", "Endocrinology", "内分泌代谢科", "内分泌", subjects=("03.07",)),
    _s("tcm_paediatrics", "中医儿科", "TCM paediatrics", "儿科中医", "tcm pediatrics", subjects=("50.04",)),
    _s("nephrology", "肾内科", "Nephrology", "肾病科", "慢性肾脏病", subjects=("03.06",)),
    _s("acupuncture", "针灸推拿", "Acupuncture and tuina", "针灸", "推拿", "针灸科", "推拿科",
       subjects=("50.13", "50.14")),
    # Expected of a county hospital (县医院医疗服务能力基本标准, 2016).
    _s("emergency", "急诊", "Emergency medicine", "急诊科", "急诊医学科", "急救", subjects=("20",)),
    _s("internal_medicine", "内科", "Internal medicine", "普通内科", "大内科", subjects=("03",)),
    _s("critical_care", "重症医学", "Critical care", "重症医学科", "ICU", "重症监护", subjects=("28",)),
    _s("anaesthesia", "麻醉", "Anaesthesiology", "麻醉科", "anesthesia", subjects=("26",)),
    _s("neurosurgery", "神经外科", "Neurosurgery", subjects=("04.02",)),
    _s("thoracic_surgery", "胸外科", "Thoracic surgery", "心胸外科", subjects=("04.05",)),
    _s("psychiatry", "精神科", "Psychiatry", "精神卫生科", "心理科", subjects=("15",)),
    _s("oncology", "肿瘤科", "Oncology", "肿瘤内科", subjects=("19",)),
    # Services named in the seeds that are not clinical departments.
    _s("child_health", "儿童保健", "Child health care", "儿保", kind="service", subjects=("09",)),
    _s("womens_health", "妇女保健", "Women's health care", "妇保", kind="service", subjects=("06",)),
    _s("public_health", "公共卫生", "Public health", "公共卫生科", "预防保健", kind="service", subjects=("01",)),
    _s("nursing", "护理", "Nursing", "护理专科", kind="service"),
    _s("sterile_supply", "消毒供应", "Sterile supply", "消毒供应中心", kind="service", travels="nothing",
       travels_note=_NOT_REFERRED),
    _s("tuberculosis", "结核病", "Tuberculosis care", "结核病门诊", "结核病预防性治疗门诊", "肺结核", subjects=("17",)),
)

SPECIALTY_CODES: tuple[str, ...] = tuple(s.code for s in SPECIALTIES)

#: Subjects of the 医疗机构诊疗科目名录 (卫医发〔1994〕第27号, annex; 27 疼痛科 added 2007, 28 重症医学科 2009):
#: every first-level subject, and the second-level ones mednet's import reads by code or official name. Codes and
#: names as the 名录 prints them; a second-level code it lists that is missing here is still read (as a sub-code
#: of its first-level subject), never invented. Source key of these facts: :data:`SUBJECTS_SOURCE`.
NATIONAL_SUBJECTS: dict[str, str] = {
    "01": "预防保健科", "02": "全科医疗科", "03": "内科", "03.01": "呼吸内科专业", "03.02": "消化内科专业",
    "03.03": "神经内科专业", "03.04": "心血管内科专业", "03.05": "血液内科专业", "03.06": "肾病学专业",
    "03.07": "内分泌专业", "03.08": "免疫学专业", "03.09": "变态反应专业", "03.10": "老年病专业",
    "04": "外科", "04.01": "普通外科专业", "04.02": "神经外科专业", "04.03": "骨科专业", "04.04": "泌尿外科专业",
    "04.05": "胸外科专业", "04.06": "心脏大血管外科专业", "04.07": "烧伤科专业", "04.08": "整形外科专业",
    "05": "妇产科", "05.01": "妇科专业", "05.02": "产科专业", "05.03": "计划生育专业", "05.04": "优生学专业",
    "05.05": "生殖健康与不孕症专业", "06": "妇女保健科", "07": "儿科", "07.01": "新生儿专业",
    "07.02": "小儿传染病专业", "07.03": "小儿消化专业", "07.04": "小儿呼吸专业", "07.05": "小儿心脏病专业",
    "07.06": "小儿肾病专业", "07.07": "小儿血液病专业", "07.08": "小儿神经病学专业", "07.09": "小儿内分泌专业",
    "07.10": "小儿遗传病专业", "07.11": "小儿免疫专业", "08": "小儿外科", "08.01": "小儿普通外科专业",
    "08.02": "小儿骨科专业", "08.03": "小儿泌尿外科专业", "08.04": "小儿胸心外科专业", "08.05": "小儿神经外科专业",
    "09": "儿童保健科", "10": "眼科", "11": "耳鼻咽喉科", "11.01": "耳科专业", "11.02": "鼻科专业",
    "11.03": "咽喉科专业", "12": "口腔科", "12.01": "口腔内科专业", "12.02": "口腔颌面外科专业", "12.03": "正畸专业",
    "12.04": "口腔修复专业", "12.05": "口腔预防保健专业", "13": "皮肤科", "13.01": "皮肤病专业",
    "13.02": "性传播疾病专业", "14": "医疗美容科", "15": "精神科", "16": "传染科", "17": "结核病科",
    "18": "地方病科", "19": "肿瘤科", "20": "急诊医学科", "21": "康复医学科", "22": "运动医学科", "23": "职业病科",
    "24": "临终关怀科", "25": "特种医学与军事医学科", "26": "麻醉科", "27": "疼痛科", "28": "重症医学科",
    "30": "医学检验科", "31": "病理科", "32": "医学影像科", "32.01": "X线诊断专业", "32.02": "CT诊断专业",
    "32.03": "磁共振成像诊断专业", "32.04": "核医学专业", "32.05": "超声诊断专业", "32.06": "心电诊断专业",
    "32.07": "脑电及脑血流图诊断专业", "32.08": "神经肌肉电图专业", "32.09": "介入放射学专业", "32.10": "放射治疗专业",
    "50": "中医科", "50.01": "内科专业", "50.02": "外科专业", "50.03": "妇产科专业", "50.04": "儿科专业",
    "50.05": "皮肤科专业", "50.06": "眼科专业", "50.07": "耳鼻咽喉科专业", "50.08": "口腔科专业",
    "50.09": "肿瘤科专业", "50.10": "骨伤科专业", "50.11": "肛肠科专业", "50.12": "老年病科专业",
    "50.13": "针灸科专业", "50.14": "推拿科专业", "50.15": "康复医学专业", "50.16": "急诊科专业",
    "50.17": "预防保健科专业", "51": "民族医学科", "52": "中西医结合科", "69": "其他业务科室",
}
#: The source of :data:`NATIONAL_SUBJECTS`, as region files cite it.
SUBJECTS_SOURCE = "医疗机构诊疗科目名录"
SUBJECTS_SOURCE_TITLE = ("医疗机构诊疗科目名录（卫医发〔1994〕第27号附件；2007年增加疼痛科，2009年增加重症医学科）："
                         "诊疗科目代码与名称")

def national_subject(text: str) -> str | None:
    """The canonical form (``03`` or ``03.01``) of a 诊疗科目 code cell, or None if it is not a code.

    >>> national_subject("0301"), national_subject("03.01"), national_subject("0300"), national_subject("儿科")
    ('03.01', '03.01', '03', None)
    """
    text = str(text).strip()
    digits = text.replace(".", "")
    if not digits.isascii() or not digits.isdigit() or len(digits) not in (2, 4) or text.count(".") > 1:
        return None
    if "." in text and (len(text) != 5 or text[2] != "."):
        return None
    head, tail = digits[:2], digits[2:]
    return head if tail in ("", "00") else f"{head}.{tail}"


class Subject(NamedTuple):
    """A 诊疗科目 of the 名录: its code, its official name (None for a second-level code mednet's list lacks)
    and the mednet specialty that routes it (None: not routed, a registry fact only)."""

    code: str
    name: str | None
    specialty: Specialty | None


_CODE_AND_NAME = re.compile(r"^(\d{2}(?:\.?\d{2})?)\s*[-—－:：、.．]?\s*(\D.*)$")


@lru_cache(maxsize=1)
def _subject_names() -> dict[str, str]:
    """Official name → code; a second-level name also with its first-level one before it (中医科内科专业)."""
    names: dict[str, str] = {}
    for code, name in NATIONAL_SUBJECTS.items():
        names.setdefault(name, code)
        if "." in code and code[:2] in NATIONAL_SUBJECTS:
            names.setdefault(NATIONAL_SUBJECTS[code[:2]] + name, code)
    return names


def resolve_subject(text: str) -> Subject | None:
    """The 诊疗科目 a cell names by code (``03.01``, ``0301``), official name (``呼吸内科专业``), both
    (``03.01 呼吸内科专业``) or first-level name and second (``中医科：内科专业``); None when it names none (a
    mednet word such as 儿科 resolves through :func:`resolve_specialty`). A code the 名录 lacks, or a name that
    is not its code's, raises :class:`UnknownSpecialty`.

    >>> resolve_subject("全科医疗科").specialty.code, resolve_subject("04.01").specialty.code
    ('general_practice', 'general_surgery')
    >>> resolve_subject("中西医结合科"), resolve_subject("0701").name
    (Subject(code='52', name='中西医结合科', specialty=None), '新生儿专业')
    >>> resolve_subject("儿科").code, resolve_subject("B超") is None
    ('07', True)
    """
    text = re.sub(r"\s+", "", str(text))
    for separator in ("：", ":", "/", "／", "-", "—"):
        head, found, tail = text.partition(separator)
        if found and head in _subject_names() and tail in _subject_names():
            text = head + tail if head + tail in _subject_names() else tail
    code, name = national_subject(text), None
    both = _CODE_AND_NAME.match(text) if code is None else None
    if both is not None:
        code, name = national_subject(both.group(1)), both.group(2)
    if code is None:
        code = _subject_names().get(text)
    if code is None:
        return None
    official = NATIONAL_SUBJECTS.get(code)
    if code[:2] not in NATIONAL_SUBJECTS:
        error = UnknownSpecialty(text, suggestions=[],
                                 detail=f"诊疗科目 {code}: no such code in the 医疗机构诊疗科目名录")
        error.zh = f"《医疗机构诊疗科目名录》中没有代码 {code}"
        raise error
    if name is not None and official is not None and name != official and _subject_names().get(name) != code:
        error = UnknownSpecialty(text, suggestions=[], detail=f"诊疗科目 {code} is {official}, not {name}")
        error.zh = f"诊疗科目代码 {code} 是“{official}”，不是“{name}”"
        raise error
    entry = _index().get(code)
    return Subject(code=code, name=official, specialty=entry if entry is not None and code in entry.national_codes
                   else None)


@lru_cache(maxsize=1)
def _index() -> dict[str, Specialty]:
    index: dict[str, Specialty] = {}
    for s in SPECIALTIES:
        for key in (s.code, s.label_zh, s.label_en, *s.aliases, *s.national_codes):
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
    subject = national_subject(str(name))
    if subject is not None:
        return _resolve_subject(subject, str(name))
    found = _index().get(str(name).strip().casefold())
    if found is None:
        near = closest_names(str(name), (k for s in SPECIALTIES for k in (s.code, s.label_zh, s.label_en, *s.aliases)))
        error = UnknownSpecialty(str(name), suggestions=list(dict.fromkeys(_index()[k.casefold()].code for k in near)))
        if error.suggestions:  # the Chinese wording suggests the Chinese name (全科, not general_practice)
            error.zh = f"未知的专科“{name}”；是否要找“{_index()[error.suggestions[0]].label_zh}”？"
        raise error
    return found


def _resolve_subject(subject: str, text: str) -> Specialty:
    """A 诊疗科目 code's entry; an unmapped second-level code suggests its first level's entry.

    >>> _resolve_subject("03.05", "0305")
    Traceback (most recent call last):
    ...
    mednet.errors.UnknownSpecialty: unknown specialty '0305' (诊疗科目 03.05 血液内科专业, not in mednet's ...); ...
    """
    found = _index().get(subject)
    if found is not None:
        return found
    label = NATIONAL_SUBJECTS.get(subject)
    if label is None and subject[:2] not in NATIONAL_SUBJECTS:
        where = "no such code in the 医疗机构诊疗科目名录"
    else:
        where = f"诊疗科目 {subject} {label or ''}".rstrip() + ", not in mednet's vocabulary"
    parent = _index().get(subject[:2])
    error = UnknownSpecialty(text, suggestions=[parent.code] if parent else [], detail=where)
    if parent is not None:
        error.zh = f"未知的专科“{text}”；是否要找“{parent.label_zh}”？"
    raise error


def specialty_code(name: str | Specialty) -> str:
    """The stable code of a specialty given by code, label or alias.

    >>> specialty_code("中医")
    'tcm'
    """
    return resolve_specialty(name).code

"""What the desk page says, in Chinese: sessions, numbers and every error a clerk can meet.

An error becomes a :class:`DeskProblem`: the form field at fault, a sentence
in Chinese saying what was wrong and what is expected, the closest names to
pick from, and the library's own words (shown small, for support staff).

    >>> from mednet.errors import UnknownInstitution
    >>> p = explain_error(UnknownInstitution("华铺", known=["华埠卫生院", "杨林卫生院"]), field="origin")
    >>> p.field, p.message, p.suggestions
    ('origin', '找不到机构“华铺”。请从下面的相近名称中选择，或检查输入。', ('华埠卫生院',))
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mednet.errors import (
    AlreadySentHome,
    Forbidden,
    IdempotencyConflict,
    IllegalTransition,
    InvalidRequest,
    LedgerUnavailable,
    MednetError,
    NoCapableInstitution,
    NotAuthenticated,
    SlotUnavailable,
    StaleVersion,
    UnknownCommunity,
    UnknownInstitution,
    UnknownReferral,
    UnknownRegion,
    UnknownSpecialty,
)
from mednet.models import WEEKDAYS
from mednet.specialties import resolve_specialty

WEEKDAY_ZH = dict(zip(WEEKDAYS, ("周一", "周二", "周三", "周四", "周五", "周六", "周日"), strict=True))
PART_ZH = {"morning": "上午", "afternoon": "下午", "evening": "晚上", "all_day": "全天", None: ""}
#: Form fields by the parameter names the library uses in its errors.
FIELD_OF_PARAMETER = {"institution": "origin", "lat, lon": "lat", "lat": "lat", "lon": "lon"}
FIELD_ZH = {
    "origin": "出发机构", "lat": "纬度", "lon": "经度", "specialty": "专科", "direction": "转诊方向",
    "when": "就诊时间", "home": "居住地医共体", "max_km": "距离上限", "region": "区域",
    "reason": "转诊原因", "patient_ref": "患者编号", "birth_year": "出生年份", "destination": "去向机构",
    "destination_why": "不选建议去向的理由", "slot": "号源", "priority": "紧急程度", "key": "密钥",
}
#: The clinical summary's items (转诊记录, WS 445.16).
SUMMARY_ZH = {"diagnosis_code": "初步诊断编码（ICD-10）", "diagnosis_text": "初步诊断", "history": "病情摘要",
              "findings": "主要检查结果", "treatment": "治疗经过", "purpose": "转诊目的"}
#: The ledger's states, actions, priorities and roles in the words of a referral desk.
STATE_ZH = {"requested": "待接收", "accepted": "已接收", "rejected": "已拒绝", "redirected": "已改转",
            "booked": "已预约", "arrived": "已到诊", "completed": "已完成", "cancelled": "已撤销", "expired": "已过期"}
ACTION_ZH = {"accept": "接收", "reject": "拒绝", "redirect": "改转他院", "hold": "暂留号源", "book": "预约号源",
             "arrive": "登记到诊", "complete": "诊疗完成", "send_home": "康复回社区（下转）", "cancel": "撤销",
             "expire": "作过期处理", "create": "创建转诊单", "hold_lapsed": "暂留到期，号源已释放",
             "rerefer": "改转下一家"}
PRIORITY_ZH = {"routine": "普通", "urgent": "加急", "emergency": "急诊"}
ROLE_ZH = {"desk": "转诊服务台", "planner": "规划人员（只读）", "admin": "管理员"}
SEX_ZH = {"female": "女", "male": "男", "unknown": "未填"}
CONTACT_ZH = {"phone": "电话", "address": "地址", "booking": "预约渠道", "hours": "开放时间",
              "emergency_24h": "24小时急诊"}


#: Why a key may not do something, by the rule that refused it (:class:`mednet.errors.Forbidden`'s ``reason``).
FORBIDDEN_ZH = {
    "planner": "规划人员的密钥只能查看，不能办理转诊。",
    "not_party": "这张转诊单既不是转给本机构的，也不是本机构转出或改转的，本服务台不能查看。请核对转诊单编号。",
    "destination_only": "只有接收方（去向机构）的服务台可以办理这一步。",
    "origin_only": "只有转出方（出发机构）的服务台可以办理这一步。",
    "needs_admin": "这一步只有管理员的密钥可以办理。",
    "needs_desk": "这一步需要转诊服务台的密钥（规划人员和管理员的密钥不能办理转诊）。",
    "region": "这个服务台的密钥属于另一个区域，不能办理本区域的转诊。",
    "role": "这个密钥的角色不能办理这一步。",
}


@dataclass(frozen=True)
class DeskProblem:
    """An error as the page shows it."""

    field: str | None
    message: str
    suggestions: tuple[str, ...] = ()
    detail: str = ""


def session_zh(*, weekday: str | None, part: str | None, every_weeks: int = 1, date: object = None,
               provider: str | None = None) -> str:
    """A session in Chinese.

    >>> session_zh(weekday="tue", part="afternoon", provider="新华医院")
    '每周二下午（新华医院专家）'
    >>> session_zh(weekday=None, part=None, every_weeks=2)
    '每2周一次，日期待定'
    >>> session_zh(weekday="tue", part="afternoon", date="2024-10-29")
    '2024-10-29 周二下午'
    """
    part_zh = PART_ZH.get(part, "")
    if weekday is None:
        text = ("每周一次" if every_weeks == 1 else f"每{every_weeks}周一次") + f"{part_zh}，日期待定"
    elif date is not None:
        text = f"{date} {WEEKDAY_ZH[weekday]}{part_zh}"
    else:
        text = ("每" if every_weeks == 1 else f"每{every_weeks}周的") + f"{WEEKDAY_ZH[weekday]}{part_zh}"
    return text + (f"（{provider}专家）" if provider else "")


def contact_value_zh(value: object) -> str:
    """A contact detail's value as shown: a yes/no flag in words, text as given.

    >>> contact_value_zh(True), contact_value_zh("万源路2439号")
    ('有', '万源路2439号')
    """
    if isinstance(value, bool):
        return "有" if value else "无"
    return str(value)


def explain_error(err: MednetError, *, field: str | None = None) -> DeskProblem:
    """The page's words for a library error; ``field`` is the form field the caller knows to be at fault."""
    detail = str(err)
    if (ledger := _ledger_zh(err)) is not None:
        at = None if isinstance(err, IllegalTransition) else field or getattr(err, "field", None)
        return DeskProblem(at, ledger, (), detail)
    if isinstance(err, UnknownInstitution | UnknownCommunity | UnknownSpecialty | UnknownRegion | UnknownReferral):
        what = {UnknownInstitution: "机构", UnknownCommunity: "医共体或机构", UnknownSpecialty: "专科",
                UnknownRegion: "区域", UnknownReferral: "转诊单"}[type(err)]
        hint = "请从下面的相近名称中选择，或检查输入。" if err.suggestions else "没有相近的名称，请检查输入。"
        suggestions = tuple(err.suggestions)
        if isinstance(err, UnknownSpecialty):  # the vocabulary's codes as the names a clerk types
            suggestions = tuple(dict.fromkeys(_specialty_zh(s) for s in suggestions))
        return DeskProblem(field, f"找不到{what}“{err.name}”。{hint}", suggestions, detail)
    if isinstance(err, NoCapableInstitution):
        text = "在所给条件下没有机构能接收这位患者：" + _no_capable_zh(err)
        if err.nearest is not None:
            text += f"最近的是 {err.nearest}，{err.nearest_km:.1f} 公里。"
        return DeskProblem(field, text, (), detail)
    if isinstance(err, InvalidRequest):
        field = field or FIELD_OF_PARAMETER.get(err.parameter, err.parameter)
        return DeskProblem(field, _invalid_zh(err), (), detail)
    return DeskProblem(field, "请求无法处理：" + detail, (), detail)


def _specialty_zh(name: str) -> str:
    try:
        return resolve_specialty(name).label_zh
    except MednetError:
        return name


def _no_capable_zh(err: NoCapableInstitution) -> str:
    """Why no one, from the error's ``limits`` and ``reason``.

    >>> _no_capable_zh(NoCapableInstitution("…", reason="higher_tier", limits=("max_minutes",)))
    '行程时间上限内没有提供该专科的机构；可放宽上限后再试。'
    """
    if err.limits:
        names: dict[tuple[str, ...], str] = {("max_km",): "距离上限", ("max_minutes",): "行程时间上限"}
        within = names.get(err.limits, "距离和行程时间上限")
        return f"{within}内没有提供该专科的机构；可放宽{'距离上限' if err.limits == ('max_km',) else '上限'}后再试。"
    if err.reason == "home_community":
        return "居住地医共体内没有成员提供该项诊疗。"
    if err.reason == "higher_tier":
        return "没有比出发机构更高一级的机构提供该专科。"
    return "区域内没有其他机构常设该专科。"


#: The desk's sentence for each code of a routing request's rule (:attr:`InvalidRequest.code`), by parameter
#: where one code serves several (``*``: any parameter).
INVALID_ZH: dict[tuple[str, str], str] = {
    ("*", "ambiguous"): "名称“{value}”同时指向几家机构，请从下面选一家。",
    ("*", "swapped"): "纬度和经度似乎填反了：纬度在前（如 29.05），经度在后（如 118.40）。",
    ("*", "outside_china"): "这个点不在中国大陆范围内，请检查纬度和经度。",
    ("*", "too_far"): "这个点离本区域任何基层医疗机构都太远（超过 50 公里），无法确定患者的居住地卫生院。",
    ("*", "out_of_range"): "{label}须为有效数字：纬度在 -90 到 90 之间，经度在 -180 到 180 之间。",
    ("*", "not_finite"): "{label}须为有效数字：纬度在 -90 到 90 之间，经度在 -180 到 180 之间。",
    ("*", "not_numbers"): "{label}须为有效数字：纬度在 -90 到 90 之间，经度在 -180 到 180 之间。",
    ("*", "year_range"): "就诊时间须在 2000 至 2100 年之间。",
    ("specialty", "required"): "请填写所需专科（只有下转可以不填，默认康复或全科）。",
    ("specialty", "not_referral_service"): "这是机构之间的服务（如消毒供应），不是转诊的专科："
                                           "患者、标本和检查资料都不送往那里。",
    ("home", "only_down"): "居住地医共体只在下转时使用；上转和急诊请留空。",
    ("home", "*"): "下转需要填写患者的居住地医共体，或其所属的牵头医院、卫生院。",
    ("max_km", "*"): "距离上限须为大于 0 的公里数。",
}


def _invalid_zh(err: InvalidRequest) -> str:
    """The sentence for the rule's code (:data:`INVALID_ZH`); the field name and the rule otherwise.

    >>> _invalid_zh(InvalidRequest("home", "x", "is only used with direction='down'", code="only_down"))
    '居住地医共体只在下转时使用；上转和急诊请留空。'
    """
    label = FIELD_ZH.get(FIELD_OF_PARAMETER.get(err.parameter, err.parameter), err.parameter)
    for key in ((err.parameter, err.code), ("*", err.code), (err.parameter, "*")):
        if key in INVALID_ZH:
            return INVALID_ZH[key].format(value=err.value, label=label)
    return f"{label}的值不符合要求（{err.rule}）。"


def _ledger_zh(err: MednetError) -> str | None:
    """The sentence for each refusal of the ledger (keys, owners, states, versions, slots); None for others."""
    if isinstance(err, NotAuthenticated):
        return "请先用本服务台的密钥登录（密钥无效、已吊销或未登录）。"
    if isinstance(err, Forbidden):
        return FORBIDDEN_ZH.get(getattr(err, "reason", "role"), FORBIDDEN_ZH["role"])
    if isinstance(err, IllegalTransition):
        allowed = "、".join(ACTION_ZH.get(a, a) for a in err.allowed) or "无（转诊单已结束）"
        return (f"转诊单现在是“{STATE_ZH.get(err.state, err.state)}”，不能“{ACTION_ZH.get(err.action, err.action)}”。"
                f"现在可以办理：{allowed}。")
    if isinstance(err, StaleVersion):
        return (f"转诊单 {err.number} 在您打开页面后已被修改（现为第 {err.stored} 版，页面上是第 {err.expected} 版）。"
                "请看下面的最新状态后再办理。")
    if isinstance(err, SlotUnavailable):
        return f"号源 {slot_zh(err.slot)} 不能预约：{SLOT_WHY_ZH.get(err.code, err.why)}。请另选一个号源。"
    if isinstance(err, IdempotencyConflict):
        return "这张表单已经提交过另一份内容；请刷新页面后重新填写。"
    if isinstance(err, AlreadySentHome):
        return (f"转诊单 {err.number} 已经下转为 {err.existing}（{STATE_ZH.get(err.state, err.state)}），不能重复下转。"
                f"请跟进 {err.existing}；如需改派，请先取消它。")
    if isinstance(err, LedgerUnavailable):
        return "转诊登记库暂时无法使用，请稍后再试。"
    if isinstance(err, InvalidRequest) and err.parameter in LEDGER_RULES_ZH:
        return LEDGER_RULES_ZH[err.parameter](err)
    return None


#: Why a slot cannot be taken, by :attr:`~mednet.errors.SlotUnavailable.code`.
SLOT_WHY_ZH = {
    "taken": "刚被其他转诊单占用",
    "quota_used_up": "当天的转诊号源已用完（刚被其他转诊单约走）",
    "no_quota": "该机构没有为这个专科设置转诊号源",
    "outside_window": "不在可预约的时间范围内",
    "no_session": "当天没有这一门诊号",
}


def slot_zh(slot: str) -> str:
    """A slot id in words: the day, the part of the day and the unit.

    >>> slot_zh("quota/kh-people/general_surgery/2026-03-02"), slot_zh("session/mh-a/tcm/2024-10-29/afternoon/2")
    ('2026-03-02 周一（转诊号源）', '2024-10-29 周二 下午 第2号')
    """
    parts = slot.split("/")
    if len(parts) >= 4:
        try:
            day = dt.date.fromisoformat(parts[3])
        except ValueError:
            return slot
        shown = f"{parts[3]} {WEEKDAY_ZH[WEEKDAYS[day.weekday()]]}"
        if parts[0] == "quota" and len(parts) == 4:
            return f"{shown}（转诊号源）"
        if parts[0] == "session" and len(parts) == 6:
            return f"{shown} {PART_ZH.get(parts[4], parts[4])} 第{parts[5]}号"
    return slot


#: The ledger's rules on a request's fields, each in Chinese (by the parameter the rule names).
LEDGER_RULES_ZH = {
    "reason": lambda err: {"early_arrival": "提前到诊须写明理由（如：病情加重，提前来院）。",
                           "other_needs_words": "选择“其他”时请写明理由。"}.get(
                               err.code, "请选择或填写理由：拒绝、改转都需要说明原因。"),
    "reason_code": lambda err: "请从列表中选择理由。",
    "destination_why": lambda err: "选择了建议去向以外的机构，请填写不选建议去向的理由。",
    "destination": lambda err: {"required": "请填写去向机构。",
                                "not_offered": "请从路由结果中尚未试过、能提供该专科的机构里选择去向。"}.get(
                                    err.code, "去向机构不能是本机构，也不能是转诊单现在的去向或出发机构。"),
    "slot": lambda err: "请选择一个号源。" if err.value is None else f"号源 {err.value} 不是去向机构该专科的号源。",
    "If-Match": lambda err: "页面上的版本号无效，请刷新页面。",
    "form": lambda err: "表单内容过多，请刷新页面后重新填写。",
}


def validation_zh(location: tuple[str | int, ...], message: str) -> tuple[str, str]:
    """A pydantic error of a referral's fields as (form field, Chinese sentence)."""
    name = str(location[-1]) if location else "form"
    field = {"ref": "patient_ref", "birth_year": "birth_year", "sex": "sex"}.get(name, name)
    if "national ID number" in message:
        return field, "这里像是居民身份证号。转诊登记不保存身份证号，请改用本服务台自己的患者编号（如 HB-2024-0192）。"
    if field == "patient_ref":
        return field, "患者编号须为 1–64 个字母、数字或 . - : / # _ 组成的本服务台编号（不填姓名、身份证号）。"
    if field == "birth_year":
        return field, "出生年份须为 1900 至 2100 之间的四位数字。"
    if field in ("reason", "destination_why"):
        return field, f"请填写{FIELD_ZH[field]}（最多 2000 字）。"
    if field == "diagnosis_code":
        return field, "ICD-10 编码格式不对：应为一个字母加两位数字，可带小数点和扩展码，如 K35.8、J18.900x001。"
    if field in SUMMARY_ZH:
        return field, f"{SUMMARY_ZH[field]}最多 4000 字。"
    return field, f"{FIELD_ZH.get(field, field)}的值不符合要求。"

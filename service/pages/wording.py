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

from dataclasses import dataclass

from mednet.errors import (
    InvalidCoordinates,
    InvalidRequest,
    MednetError,
    NoCapableInstitution,
    UnknownCommunity,
    UnknownInstitution,
    UnknownRegion,
    UnknownSpecialty,
)
from mednet.models import WEEKDAYS
from mednet.routing import Referral

WEEKDAY_ZH = dict(zip(WEEKDAYS, ("周一", "周二", "周三", "周四", "周五", "周六", "周日"), strict=True))
PART_ZH = {"morning": "上午", "afternoon": "下午", "evening": "晚上", "all_day": "全天", None: ""}
#: Form fields by the parameter names the library uses in its errors.
FIELD_OF_PARAMETER = {"institution": "origin", "lat, lon": "lat", "lat": "lat", "lon": "lon"}
FIELD_ZH = {
    "origin": "出发机构", "lat": "纬度", "lon": "经度", "specialty": "专科", "direction": "转诊方向",
    "when": "就诊时间", "home": "居住地医共体", "max_km": "距离上限", "region": "区域",
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


def explain_error(err: MednetError, *, field: str | None = None) -> DeskProblem:
    """The page's words for a library error; ``field`` is the form field the caller knows to be at fault."""
    detail = str(err)
    if isinstance(err, UnknownInstitution | UnknownCommunity | UnknownSpecialty | UnknownRegion):
        what = {UnknownInstitution: "机构", UnknownCommunity: "医共体或机构", UnknownSpecialty: "专科",
                UnknownRegion: "区域"}[type(err)]
        hint = "请从下面的相近名称中选择，或检查输入。" if err.suggestions else "没有相近的名称，请检查输入。"
        return DeskProblem(field, f"找不到{what}“{err.name}”。{hint}", tuple(err.suggestions), detail)
    if isinstance(err, NoCapableInstitution):
        text = "在所给条件下没有机构能接收这位患者：" + _no_capable_zh(str(err.args[0]))  # the English, stable
        if err.nearest is not None:
            text += f"最近的是 {err.nearest}，{err.nearest_km:.1f} 公里。"
        return DeskProblem(field, text, (), detail)
    if isinstance(err, InvalidRequest):
        field = field or FIELD_OF_PARAMETER.get(err.parameter, err.parameter)
        return DeskProblem(field, _invalid_zh(err), (), detail)
    return DeskProblem(field, "请求无法处理：" + detail, (), detail)


def _no_capable_zh(detail: str) -> str:
    if "within max_km" in detail:
        return "距离上限内没有提供该专科的机构；可放宽距离上限后再试。"
    if "home community" in detail:
        return "居住地医共体内没有成员提供该项诊疗。"
    if "higher tier" in detail:
        return "没有比出发机构更高一级的机构提供该专科。"
    return "区域内没有其他机构常设该专科。"


def _invalid_zh(err: InvalidRequest) -> str:
    """One sentence per rule the routing request has; the field name and the rule otherwise."""
    rule, label = err.rule, FIELD_ZH.get(FIELD_OF_PARAMETER.get(err.parameter, err.parameter), err.parameter)
    if "ambiguous" in rule:
        return f"名称“{err.value}”同时指向几家机构，请从下面选一家。"
    if "swapped" in rule:
        return "纬度和经度似乎填反了：纬度在前（如 29.05），经度在后（如 118.40）。"
    if "mainland China" in rule:
        return "这个点不在中国大陆范围内，请检查纬度和经度。"
    if "primary-care institution" in rule or "cannot be snapped" in rule:
        return "这个点离本区域任何基层医疗机构都太远（超过 50 公里），无法确定患者的居住地卫生院。"
    if isinstance(err, InvalidCoordinates) or "must be within" in rule or "finite" in rule:
        return f"{label}须为有效数字：纬度在 -90 到 90 之间，经度在 -180 到 180 之间。"
    if "years" in rule:
        return "就诊时间须在 2000 至 2100 年之间。"
    if err.parameter == "specialty" and "required" in rule:
        return "请填写所需专科（只有下转可以不填，默认康复或全科）。"
    if err.parameter == "home" and "only used" in rule:
        return "居住地医共体只在下转时使用；上转和急诊请留空。"
    if err.parameter == "home":
        return "下转需要填写患者的居住地医共体，或其所属的牵头医院、卫生院。"
    if err.parameter == "max_km":
        return "距离上限须为大于 0 的公里数。"
    return f"{label}的值不符合要求（{rule}）。"


def why_zh(r: Referral) -> str:
    """Why the referral goes where it goes, in one Chinese sentence (the library's line is in English).

    >>> import mednet
    >>> router = mednet.Router.from_region(mednet.load_region("quzhou"))
    >>> why_zh(router.route("华埠", "普外科"))
    '上转先在本医共体（开化县人民医院医共体）内：开化县人民医院是其中比华埠卫生院高一级、能看普通外科的最近机构。'
    """
    dest, care, origin = r.destination.name, r.specialty.label_zh, r.origin.name
    held = ""
    if r.session:
        s = r.session
        held = "，" + session_zh(weekday=s.weekday, part=s.part, every_weeks=s.every_weeks, date=s.date,
                                provider=s.provider.name if s.provider else None) + "有门诊"
    limit = f"{r.max_km:g} 公里内" if r.max_km is not None else ""
    if r.step == "own_community" and r.destination.id == r.origin.id and r.session and r.session.provider:
        return f"上下联动：{r.session.provider.name}的专家在本机构开设{care}门诊{held}，无需上转。"
    if r.step == "own_community":
        return (f"上转先在本医共体（{r.origin.community_name}）内：{dest}是其中比{origin}高一级、"
                f"能看{care}的最近机构{held}。")
    if r.step == "partners":
        return (f"本医共体（{r.origin.community_name}）{limit}没有能看{care}的上级成员，"
                f"转到其协作单位（市级医院、专科联盟或协作医院）中最近的{dest}{held}。")
    if r.step == "any":
        where = "本医共体及其协作单位" if r.origin.community else f"{origin}不属于任何医共体，区域内"
        return f"{where}{limit}没有能看{care}的上级机构，转到区域内最近的{dest}{held}。"
    if r.step == "nearest":
        return f"急诊不分医共体：{dest}是现在能看{care}的最近机构。"
    if r.step == "home_centre":
        return f"下转回患者的居住地卫生院{dest}，可提供{care}{held}。"
    return f"下转回居住地医共体（{r.destination.community_name}）：{dest}是其中{limit}能提供{care}的最近成员{held}。"

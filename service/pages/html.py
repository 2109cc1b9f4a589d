"""How every desk page is rendered: the templates, their helpers, and each page's own security policy.

    >>> format_km(19.958), format_km(None), format_km(float("inf"))
    ('20.0', '—', '—')
    >>> str(time_tag(dt.datetime(2024, 10, 28, 1, 5, tzinfo=dt.UTC)))
    '<time datetime="2024-10-28T09:05:00+08:00">2024-10-28 周一 09:05</time>'
    >>> str(time_tag(dt.date(2024, 10, 29)))
    '<time datetime="2024-10-29">2024-10-29 周二</time>'
"""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache
from importlib.resources import files
from typing import Any

from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse

from mednet.ledger import ApiKey
from mednet.ledger.attachments import KIND_ZH
from mednet.routing import CST, DIRECTION_ZH, REASON_ZH, STEP_ZH
from mednet.specialties import resolve_specialty
from service.pages.session import desk_key
from service.pages.wording import (
    ACTION_ZH,
    CONTACT_ZH,
    PRIORITY_ZH,
    ROLE_ZH,
    SEX_ZH,
    STATE_ZH,
    contact_value_zh,
    session_zh,
    slot_zh,
)

#: Every page's policy: its own files only, forms posted to itself, never framed, no inline code.
PAGE_CSP = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
PACKAGE = files("service.pages")


def format_km(value: float | None) -> str:
    """``20.0``; a dash for no value."""
    return "—" if value is None or not math.isfinite(value) else f"{value:.1f}"


def with_param(query: QueryParams, key: str, value: str) -> str:
    """The query string with one parameter replaced: a suggestion as a link that routes again.

    >>> with_param(QueryParams("origin=华铺&specialty=儿科"), "origin", "华埠卫生院")
    '?origin=%E5%8D%8E%E5%9F%A0%E5%8D%AB%E7%94%9F%E9%99%A2&specialty=%E5%84%BF%E7%A7%91'
    """
    items = [(k, v) for k, v in query.multi_items() if k != key]
    items.insert([k for k, _ in query.multi_items()].index(key) if key in query else len(items), (key, value))
    return "?" + str(QueryParams(items))


def specialty_zh(code: str) -> str:
    """A specialty's Chinese name by its code.

    >>> specialty_zh("general_surgery")
    '普通外科'
    """
    return resolve_specialty(code).label_zh


WEEKDAY_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def day_zh(day: dt.date) -> str:
    """A day with its weekday: ``2024-10-29 周二``."""
    return f"{day.isoformat()} {WEEKDAY_ZH[day.weekday()]}"


def time_tag(value: dt.datetime | dt.date | None, *, short: bool = False) -> Markup:
    """A ``<time>`` element: the machine-readable value (a date-time with its offset, in China Standard Time) and
    the date with its weekday for the reader; ``short`` leaves out the year."""
    if value is None:
        return Markup("")
    if isinstance(value, dt.datetime):
        local = value.astimezone(CST) if value.tzinfo else value.replace(tzinfo=dt.UTC).astimezone(CST)
        text = f"{day_zh(local.date())} {local:%H:%M}"
        machine = local.isoformat()
    else:
        text, machine = day_zh(value), value.isoformat()
    if short:
        text = text[5:]
    return Markup('<time datetime="{}">{}</time>').format(machine, text)


def size_zh(size: int) -> str:
    """A file's size for a clerk.

    >>> size_zh(812), size_zh(53_200), size_zh(3_500_000)
    ('812 字节', '52 KB', '3.3 MB')
    """
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1048576:.1f} MB"


#: What a recorded read was, in Chinese (:meth:`mednet.ledger.Ledger.summary` and the attachments' ``what``).
READ_WHAT_ZH = {"page": "转诊单页面", "slip": "打印转诊单", "fhir": "FHIR 导出", "api": "接口（转诊记录）",
                "summary": "转诊记录", "attachments": "附件列表", "api attachments": "接口（附件列表）"}


def read_what_zh(what: str) -> str:
    """A recorded read in Chinese.

    >>> read_what_zh("slip"), read_what_zh("attachment 7"), read_what_zh("other")
    ('打印转诊单', '下载附件（第 7 号）', 'other')
    """
    if what.startswith("attachment ") and what[11:].isdigit():
        return f"下载附件（第 {what[11:]} 号）"
    return READ_WHAT_ZH.get(what, what)


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    env = Jinja2Templates(directory=str(PACKAGE / "templates"))
    env.env.globals.update(DIRECTION_ZH=DIRECTION_ZH, STEP_ZH=STEP_ZH, REASON_ZH=REASON_ZH, STATE_ZH=STATE_ZH,
                           ACTION_ZH={**ACTION_ZH, "attach": "上传附件"}, PRIORITY_ZH=PRIORITY_ZH, ROLE_ZH=ROLE_ZH,
                           SEX_ZH=SEX_ZH,
                           CONTACT_ZH=CONTACT_ZH, contact_value_zh=contact_value_zh, session_zh=session_zh,
                           km=format_km, with_param=with_param, slot_zh=slot_zh, specialty_zh=specialty_zh, CST=CST,
                           time_tag=time_tag, day_zh=day_zh, KIND_ZH=KIND_ZH, size_zh=size_zh,
                           read_what_zh=read_what_zh)
    return env


def key_holder(request: Request, key: ApiKey | None) -> str:
    """The signed-in key's institution by name (its id when the region is not loaded), or its label."""
    if key is None or key.institution is None:
        return key.label if key else ""
    regions = getattr(request.app.state.loader, "regions", None) or {}
    served = regions.get(key.region or "")
    inst = served.institutions.get(key.institution) if served is not None else None
    return inst.name if inst is not None else key.institution


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from its template, with who is signed in (``who``, ``holder``) and the page's own policy."""
    if "who" not in context:
        context["who"] = desk_key(request)
    context["holder"] = key_holder(request, context["who"])
    return templates().TemplateResponse(request, name, context, status_code=status,
                                        headers={"Content-Security-Policy": PAGE_CSP})

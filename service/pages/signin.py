"""Signing in to the desk page with the desk's API key, signing out, and refusing forms posted from elsewhere.

    >>> safe_next("/desk/quzhou/worklist"), safe_next("https://evil.example/"), safe_next("//evil.example")
    ('/desk/quzhou/worklist', None, None)
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mednet.errors import LedgerUnavailable, MednetError, NotAuthenticated
from mednet.ledger import ApiKey
from mednet.ledger.sessions import end_session, start_session
from service.deps import opened_ledger
from service.pages.html import render
from service.pages.session import (
    COOKIE,
    desk_key,
    forget_session,
    from_own_page,
    keep_session,
    read_form,
    session_ended,
)
from service.pages.wording import DeskProblem, explain_error

router = APIRouter(prefix="/desk", include_in_schema=False)
#: A form posted when no one was signed in (the session ended mid-form) is carried through the sign-in form in
#: hidden fields named ``carry.<field>``; once signed in, the page that owns the form shows it again as typed.
CARRY = "carry."
Resumer = Callable[[Request, ApiKey, "re.Match[str]", dict[str, str]], Response]
RESUMERS: list[tuple[re.Pattern[str], Resumer]] = []


def resumable(pattern: str) -> Callable[[Resumer], Resumer]:
    """Register the function that shows a form again (with what was typed) for posts to paths like ``pattern``."""
    def register(resumer: Resumer) -> Resumer:
        RESUMERS.append((re.compile(pattern), resumer))
        return resumer
    return register


def sign_in_again(request: Request, fields: dict[str, str]) -> HTMLResponse:
    """The sign-in page (401) for a form posted without a live session, carrying what the clerk typed."""
    carry = {k: v for k, v in fields.items() if k not in ("key", "resume") and not k.startswith(CARRY)}
    resume = request.url.path if any(p.match(request.url.path) for p, _ in RESUMERS) else ""
    problem = DeskProblem("key", "登录已失效（签退、关闭浏览器或超时）。请重新输入密钥登录；"
                          + ("您填写的内容已保留，登录后回到原表单，核对后再提交。" if resume else "然后重新操作。"))
    return render(request, "signin.html", status=401, who=None, problem=problem, next="", resume=resume,
                  carry=carry if resume else {})


def resumed(request: Request, key: ApiKey, fields: dict[str, str]) -> Response | None:
    """The form's page again, as typed, for a sign-in that carried a form; None when it carried none."""
    path = safe_next(fields.get("resume"))
    if path is None:
        return None
    carried = {k[len(CARRY):]: v for k, v in fields.items() if k.startswith(CARRY)}
    for pattern, resumer in RESUMERS:
        if match := pattern.match(path):
            return resumer(request, key, match, carried)
    return None


def safe_next(path: str | None) -> str | None:
    """Where to go after signing in: a path of the desk page only (never another site)."""
    if path and path.startswith("/desk/") and not path.startswith("//") and "\\" not in path:
        return path
    return None


def home_of(key: ApiKey) -> str:
    """A key's first screen: a desk's worklist, else the regions (a planner's coverage view is one link away)."""
    return f"/desk/{key.region}/worklist" if key.role == "desk" and key.region else "/desk/"


def cross_site_refusal(request: Request) -> HTMLResponse | None:
    """The refusal (403) of a form posted from another site or from nowhere; None for the page's own."""
    if from_own_page(request):
        return None
    return render(request, "refused.html", status=403, title="已拒绝",
                  message="这张表单不是从本服务的页面提交的，已拒绝（防止其他网站冒用您的登录）。请回到服务台页面重新操作。")


@router.get("/signin", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str | None = None) -> HTMLResponse:
    """The sign-in form (and who is signed in now, if anyone)."""
    return render(request, "signin.html", next=safe_next(next) or "")


@router.post("/signin", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    """Check the key; keep it in the page's cookie and go to the key's first screen (or back where asked)."""
    if (refused := cross_site_refusal(request)) is not None:
        return refused
    fields: dict[str, str] = {}
    try:
        fields = await read_form(request)
        text = fields.get("key", "")
        if not text:
            raise NotAuthenticated("no key given")
        key, token = start_session(opened_ledger(request).engine, text)
        end_session(opened_ledger(request).engine, request.cookies.get(COOKIE))  # the one it replaces, if any
    except (NotAuthenticated, LedgerUnavailable) as err:
        problem = explain_error(err, field="key")
        if isinstance(err, NotAuthenticated):
            problem = DeskProblem("key", "密钥无效或已吊销。请核对后重新输入（密钥以 mk_ 开头，由管理员发放）。",
                                    (), problem.detail)
        carried = {k[len(CARRY):]: v for k, v in fields.items() if k.startswith(CARRY)}  # kept for the next try
        return render(request, "signin.html", status=401 if isinstance(err, NotAuthenticated) else 503,
                      who=None, problem=problem, next=safe_next(fields.get("next")) or "",
                      resume=safe_next(fields.get("resume")) or "", carry=carried)
    except MednetError as err:
        return render(request, "signin.html", status=422, who=None, problem=explain_error(err), next="")
    answer = resumed(request, key, fields) or RedirectResponse(safe_next(fields.get("next")) or home_of(key),
                                                               status_code=303)
    keep_session(answer, request, token)
    return answer


@router.post("/signout")
def sign_out(request: Request) -> Response:
    """End the session (on the server, and its cookie); back to the sign-in form."""
    if (refused := cross_site_refusal(request)) is not None:
        return refused
    with contextlib.suppress(LedgerUnavailable):  # the ledger away: the cookie goes all the same
        end_session(opened_ledger(request).engine, request.cookies.get(COOKIE))
    answer = RedirectResponse("/desk/signin", status_code=303)
    forget_session(answer, request)
    return answer


#: What the sign-in page says when the cookie's session is over, by why (:func:`service.pages.session.session_ended`).
ENDED_ZH = {"idle": "登录已超时（长时间未操作），请重新登录。",
            "signed_out": "您已签退或登录已失效，请重新登录。",
            "revoked": "这个服务台的密钥已被吊销，请联系管理员领取新密钥后登录。",
            "not_a_session": "登录方式已更新，请重新输入密钥登录。"}


def signed_in_or_page(request: Request) -> ApiKey | HTMLResponse:
    """The signed-in key, or the sign-in page (401) saying the screen needs one, or why the session ended (its
    cookie then cleared)."""
    key = desk_key(request)
    if key is not None:
        return key
    problem = explain_error(NotAuthenticated("the ledger screens need a signed-in key"))
    ended = session_ended(request)
    if ended is not None:
        problem = DeskProblem("key", ENDED_ZH[ended], (), f"desk session ended: {ended}")
    page = render(request, "signin.html", status=401, who=None, next=request.url.path, problem=problem)
    if ended is not None:
        forget_session(page, request)
    return page

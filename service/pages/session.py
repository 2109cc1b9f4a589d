"""Who is signed in to the desk page, and the rules every form post of the page keeps.

Signing in opens a server-side session (:mod:`mednet.ledger.sessions`): the
cookie holds its random id, never the API key, and the ledger keeps only the
id's hash, bound to the key. The session ends after ``MEDNET_DESK_IDLE_MINUTES``
without use, at 签退, and when the key is revoked; a cookie from before
sessions (one holding a key) is refused and cleared: the desk signs in again.
Why a session ended is kept on the request (:func:`session_ended`) for the
page to say. The cookie is seen only by the pages: ``HttpOnly`` (no script
reads it), ``SameSite=Strict`` (no other site's page makes the browser send
it), ``Path=/desk`` (the API never receives it) and ``Secure`` over HTTPS.
A form post is taken only from the page's own origin: its ``Origin`` header
(or, without one, its ``Referer``) must name this host.

    >>> same_host("http://127.0.0.1:8000", "127.0.0.1:8000"), same_host("https://evil.example", "127.0.0.1:8000")
    (True, False)
    >>> same_host(None, "127.0.0.1:8000"), same_host("null", "127.0.0.1:8000")
    (False, False)
"""

from __future__ import annotations

import datetime as dt
from typing import cast
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from mednet.errors import InvalidRequest, LedgerUnavailable, NotAuthenticated
from mednet.ledger import ApiKey, authenticate
from mednet.ledger.sessions import SessionEnded, session_key
from service.deps import opened_ledger

#: The cookie holding the signed-in desk's session id, and the path it is sent on.
COOKIE = "mednet_desk"
COOKIE_PATH = "/desk"
#: Longest form the pages read (the service's body limit still applies first).
FORM_MAX_FIELDS = 50
_UNKNOWN = object()


def desk_key(request: Request) -> ApiKey | None:
    """The signed-in key, or None (no session, one that ended, or the ledger not open); found once per request.
    Without a cookie, ``Authorization: Bearer`` counts (scripts, tests)."""
    found = getattr(request.state, "desk_key", _UNKNOWN)
    if found is _UNKNOWN:
        found = request.state.desk_key = _find_key(request)
    return cast(ApiKey | None, found)


def stream_key(request: Request) -> ApiKey | None:
    """:func:`desk_key` for a page's live stream: its reconnects are not the clerk's doing, so they do not keep
    the session alive (an open worklist left alone still times out)."""
    return _find_key(request, touch=False)


def _find_key(request: Request, *, touch: bool = True) -> ApiKey | None:
    try:
        engine = opened_ledger(request).engine
        if (token := request.cookies.get(COOKIE)) is not None:
            return session_key(engine, token, idle=dt.timedelta(minutes=request.app.state.settings.desk_idle_minutes),
                               touch=touch)
        auth = request.headers.get("authorization")
        text = auth.removeprefix("Bearer").strip() if auth else None
        return authenticate(engine, text) if text else None
    except SessionEnded as ended:
        request.state.session_ended = ended.why
    except (NotAuthenticated, LedgerUnavailable):
        pass
    return None


def session_ended(request: Request) -> str | None:
    """Why the request's cookie signs no one in (``idle``, ``signed_out``, ``revoked``, ``not_a_session``), after
    :func:`desk_key` looked; None when it did, or there was no cookie."""
    found: str | None = getattr(request.state, "session_ended", None)
    return found


def reads_need_key(request: Request) -> bool:
    """True when the service is run with ``MEDNET_READS_NEED_KEY=1`` and this request has no live key."""
    return bool(request.app.state.settings.reads_need_key) and desk_key(request) is None


def same_host(origin: str | None, host: str | None) -> bool:
    """``origin`` (an ``Origin`` or ``Referer`` value) names ``host`` (the request's ``Host``)."""
    if not origin or not host or origin == "null":
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


def from_own_page(request: Request) -> bool:
    """The post comes from one of the service's own pages: ``Origin`` names this host, or, when the browser
    sent none, ``Referer`` does. A post from another site (or from nowhere) is refused by the caller."""
    host = request.headers.get("host")
    origin = request.headers.get("origin")
    if origin is not None:
        return same_host(origin, host)
    return same_host(request.headers.get("referer"), host)


async def read_form(request: Request) -> dict[str, str]:
    """The posted form's fields (urlencoded; the first value of each, stripped)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        pairs = parse_qsl(body, keep_blank_values=True, max_num_fields=FORM_MAX_FIELDS)
    except ValueError:
        raise InvalidRequest("form", f"{body.count('&') + 1} fields", f"must have at most {FORM_MAX_FIELDS} "
                             "fields") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value.strip())
    return fields


def keep_session(response: Response, request: Request, token: str) -> None:
    """Set the sign-in cookie to the session's id (it goes when the browser closes, at 签退, or when the session
    ends on the server)."""
    response.set_cookie(COOKIE, token, path=COOKIE_PATH, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


def forget_session(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")

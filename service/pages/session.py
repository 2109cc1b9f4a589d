"""Who is signed in to the desk page, and the rules every form post of the page keeps.

The desk's API key is kept in a cookie only the pages see: ``HttpOnly`` (no
script reads it), ``SameSite=Strict`` (no other site's page makes the
browser send it), ``Path=/desk`` (the API never receives it) and ``Secure``
over HTTPS. A form post is taken only from the page's own origin: its
``Origin`` header (or, without one, its ``Referer``) must name this host.

    >>> same_host("http://127.0.0.1:8000", "127.0.0.1:8000"), same_host("https://evil.example", "127.0.0.1:8000")
    (True, False)
    >>> same_host(None, "127.0.0.1:8000"), same_host("null", "127.0.0.1:8000")
    (False, False)
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from mednet.errors import InvalidRequest, LedgerUnavailable, NotAuthenticated
from mednet.ledger import ApiKey, authenticate
from service.deps import opened_ledger

#: The cookie holding the signed-in desk's key, and the path it is sent on.
COOKIE = "mednet_desk"
COOKIE_PATH = "/desk"
#: Longest form the pages read (the service's body limit still applies first).
FORM_MAX_FIELDS = 50


def key_text(request: Request) -> str | None:
    """The key the request carries: the sign-in cookie, else ``Authorization: Bearer`` (scripts, tests)."""
    if text := request.cookies.get(COOKIE):
        return text
    auth = request.headers.get("authorization")
    return auth.removeprefix("Bearer").strip() or None if auth else None


def desk_key(request: Request) -> ApiKey | None:
    """The signed-in key, or None (no key, an unknown or revoked one, or the ledger not open)."""
    text = key_text(request)
    if not text:
        return None
    try:
        return authenticate(opened_ledger(request).engine, text)
    except (NotAuthenticated, LedgerUnavailable):
        return None


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


def keep_key(response: Response, request: Request, text: str) -> None:
    """Set the sign-in cookie (session-long: it goes when the browser closes, or at 签退)."""
    response.set_cookie(COOKIE, text, path=COOKIE_PATH, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


def forget_key(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")

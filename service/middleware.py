"""What every HTTP exchange goes through: limits, security headers, the access log and the metrics.

One plain ASGI middleware (:class:`Guard`), cheap enough for the referral
hot path. For every request it

- refuses a body that is not JSON (``415``; a request without a body, such
  as a referral's ``POST …/accept``, needs no content type; the desk page's
  own forms under ``/desk/`` may post ``application/x-www-form-urlencoded``,
  and the pages check that such a post comes from their own origin), too large (``413``, by its
  ``Content-Length`` or while it streams in) or too many requests at once
  (``503`` with ``Retry-After``), each as a problem answer;
- refuses a control character (see :mod:`mednet.inputs`) in the path or a
  query parameter (``422`` naming it), in a header or a cookie (``400``
  naming it; tab is allowed in a header) and in a desk form's field (``422``;
  tab and line breaks allowed there, the write models then say which fields
  take several lines), each as a problem answer with one log line;
- when reads need a key (``MEDNET_READS_NEED_KEY``), refuses a routing or
  directory request without a live one (``401``, see
  :func:`service.deps.read_key_refusal`);
- refuses a ``Host`` the service does not answer for (``400``, see
  :mod:`service.hosts`), a body larger than the limit whatever the method
  (``413``, closing the connection) and a ``Content-Encoding`` other than
  identity (``415``); answers ``OPTIONS`` (``204``) and every ``405`` with
  ``Allow`` naming every method the path takes;
- gives the request an id (the client's ``X-Request-ID`` when it is a short
  token, else a new one), returned in ``X-Request-ID``;
- adds ``X-Content-Type-Options: nosniff``, ``Cache-Control: no-store``
  (unless the answer sets its own) and a ``Content-Security-Policy`` (pages
  set their own, everything else gets ``default-src 'none'``);
- counts it in :mod:`service.metrics` and logs one JSON line
  (``service.access``) with the id, route, status and duration.

    >>> media_type_is_json(b"application/json; charset=utf-8"), media_type_is_json(b"text/plain")
    (True, False)
    >>> form = b"application/x-www-form-urlencoded"
    >>> is_desk_form("/desk/quzhou/referrals", form), is_desk_form("/regions", form)
    (True, False)
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, cookie_parser
from starlette.responses import Response
from starlette.routing import BaseRoute, Match

from mednet.inputs import control_rule, find_control
from service.accesslog import AccessLog
from service.config import Settings
from service.deps import read_key_refusal
from service.errors import ProblemResponse, internal_error, problem
from service.headers import NO_CONTENT, NO_STORE, NOSNIFF
from service.hosts import AllowedHosts
from service.live import STREAM_SUFFIX
from service.metrics import Metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_logger = logging.getLogger("service.access")
logger = logging.getLogger("service")

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
#: The methods ``OPTIONS`` and a 405 look for on a path (``Allow``).
PROBED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
#: Control characters a header value may not hold (HTTP allows tab in it).
_HEADER_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def media_type_is_json(content_type: bytes) -> bool:
    """``application/json`` or ``application/<anything>+json``, with or without parameters."""
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


#: Where HTML forms may post (the desk page), and the one form encoding they may use.
FORM_PREFIX = "/desk/"
FORM_MEDIA_TYPE = b"application/x-www-form-urlencoded"


def is_desk_form(path: str, content_type: bytes) -> bool:
    """A desk page's form post: urlencoded, to a path under ``/desk/`` (nothing else may post a form)."""
    return path.startswith(FORM_PREFIX) and content_type.split(b";", 1)[0].strip().lower() == FORM_MEDIA_TYPE


#: Where files are uploaded (a referral's attachments: the API's raw body, the page's multipart form), the
#: types they come as, and the room a multipart form needs beside its file.
UPLOAD_SUFFIX = "/attachments"
UPLOAD_MEDIA_TYPES = frozenset({b"application/pdf", b"image/png", b"image/jpeg", b"multipart/form-data"})
UPLOAD_OVERHEAD = 64 * 1024


def is_upload(method: str, path: str, content_type: bytes | None) -> bool:
    """A file posted to a referral's attachments (its body may be up to ``MEDNET_MAX_ATTACHMENT_BYTES``).

    >>> is_upload("POST", "/referrals/R1/attachments", b"application/pdf"), is_upload("POST", "/x", b"image/png")
    (True, False)
    """
    return method == "POST" and path.endswith(UPLOAD_SUFFIX) and content_type is not None \
        and content_type.split(b";", 1)[0].strip().lower() in UPLOAD_MEDIA_TYPES


class Guard:
    """The service's one middleware (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, settings: Settings, metrics: Metrics, routes: Sequence[BaseRoute] = (),
                 access: AccessLog | None = None) -> None:
        self.app, self.settings, self.metrics, self.routes = app, settings, metrics, routes
        self.access = access or AccessLog(access_logger)
        self.hosts = AllowedHosts(settings.allowed_hosts)
        self.in_flight = 0
        self._ids = itertools.count(1)
        self._id_prefix = f"{os.getpid():x}-"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = content_type = length = host = encoding = authorization = None
        chunked = False
        cookies: list[bytes] = []
        headers = scope["headers"]
        for name, value in headers:
            if name == b"x-request-id":
                request_id = value
            elif name == b"content-type":
                content_type = value
            elif name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"host":
                host = value
            elif name == b"content-encoding":
                encoding = value
            elif name == b"authorization":
                authorization = value
            elif name == b"cookie" and b"\\" in value:  # a quoted cookie's escapes may decode to controls
                cookies.append(value)
        bad_header = control_header(headers)
        if request_id is None or not _REQUEST_ID.fullmatch(request_id):
            request_id = (self._id_prefix + str(next(self._ids))).encode()
        status = [500]
        started = [False]

        async def send_guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                started[0] = True
                headers = list(message.get("headers", ()))
                if status[0] == 405:  # every method the path takes, not only the first route's
                    headers = [(n, v) for n, v in headers if n != b"allow"]
                    headers.append((b"allow", ", ".join(self.allowed_methods(scope)).encode()))
                own_cache = own_policy = False
                for name, _ in headers:
                    if name == b"cache-control":
                        own_cache = True
                    elif name == b"content-security-policy":
                        own_policy = True
                headers.append(NOSNIFF)
                headers.append((b"x-request-id", request_id))
                if not own_cache:
                    headers.append(NO_STORE)
                if not own_policy:
                    headers.append(NO_CONTENT)
                message["headers"] = headers
            await send(message)

        upload = is_upload(scope["method"], scope["path"], content_type)
        limit = self.settings.max_attachment_bytes + UPLOAD_OVERHEAD if upload else self.settings.max_body_bytes
        refusal = self._host_refusal(host, scope) \
            or self._refusal(scope["method"], content_type, length, chunked, scope["path"], encoding, limit, upload) \
            or refused_text(scope, bad_header, cookies) or self._options(scope)
        if refusal is None and (length is not None or chunked):  # any method: the limit holds for every body
            receive = self._limited(receive, limit)
            if scope["method"] in BODY_METHODS and content_type is not None and is_desk_form(scope["path"],
                                                                                             content_type):
                try:
                    receive, refusal = await checked_form(scope, receive)
                except BodyTooLarge:
                    refusal = too_large(limit)
        try:
            if refusal is not None:
                await refusal(scope, receive, send_guarded)
                return
            if scope["path"].endswith(STREAM_SUFFIX):  # a page's live stream: open for hours, idle, not counted
                await self.app(scope, receive, send_guarded)
                return
            self.in_flight += 1
            try:
                answer = self.app
                if self.settings.reads_need_key:  # a routing or directory read needs a live key
                    answer = await read_key_refusal(HTTPConnection(scope), authorization) or answer
                await answer(scope, receive, send_guarded)
            except Exception as err:  # a bug: logged once, answered 500 with the same headers as any answer
                if started[0]:
                    raise
                logger.error("unhandled error on %s %s", scope["method"], scope["path"], exc_info=err)
                await internal_error()(scope, receive, send_guarded)
            finally:
                self.in_flight -= 1
        finally:
            seconds = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(scope["method"], template, status[0], seconds)
            if self.settings.access_log and access_logger.isEnabledFor(logging.INFO):
                self.access.record(request_id, scope["method"], scope["path"], template, status[0], seconds,
                                   scope.get("client"))

    def _host_refusal(self, host: bytes | None, scope: Scope) -> ASGIApp | None:
        """The 400 answering a request whose ``Host`` this service does not answer for (DNS rebinding), or None."""
        if self.hosts.allows(host, scope.get("server")):
            return None
        shown = (host or b"").decode("latin-1")[:100]
        logger.info("refused %s %s: Host %r not allowed", scope["method"], scope["path"][:200], shown)
        return problem(400, "host-not-allowed", "Host not allowed",
                       f"`Host` {shown!r} is not a name this service answers for; expected one of "
                       f"{self.hosts.expected()} (MEDNET_ALLOWED_HOSTS)", field="Host")

    def allowed_methods(self, scope: Scope) -> list[str]:
        """Every method some route takes on the path (with ``OPTIONS``); empty when no route has the path. Each
        method is tried against the routes (routers included in the app answer for their own routes)."""
        methods = []
        for method in PROBED_METHODS:
            probe = {"type": "http", "path": scope["path"], "root_path": scope.get("root_path", ""),
                     "method": method, "headers": []}
            if any(route.matches(probe)[0] is Match.FULL for route in self.routes):
                methods.append(method)
        return sorted([*methods, "OPTIONS"]) if methods else []

    def _options(self, scope: Scope) -> ASGIApp | None:
        """``OPTIONS`` on a path some route has: 204 with ``Allow`` listing every method (else None: 404/405)."""
        if scope["method"] != "OPTIONS":
            return None
        methods = self.allowed_methods(scope)
        if not methods:
            return None
        return Response(status_code=204, headers={"Allow": ", ".join(methods)})

    def _refusal(self, method: str, content_type: bytes | None, length: bytes | None, chunked: bool, path: str,
                 encoding: bytes | None, limit: int, upload: bool) -> ASGIApp | None:
        """The answer to a request refused before the app sees it (``limit``: the body limit that holds for it), or
        None."""
        if self.in_flight >= self.settings.max_concurrency:
            answer = problem(503, "busy", "Busy", f"more than {self.settings.max_concurrency} requests at once; "
                             "retry shortly")
            answer.headers["Retry-After"] = "1"
            return answer
        if length is not None and length.isdigit() and int(length) > limit:
            return too_large(limit, "MEDNET_MAX_ATTACHMENT_BYTES" if upload else "MEDNET_MAX_BODY_BYTES")
        if encoding is not None and encoding.strip().lower() not in (b"identity", b""):
            return problem(415, "unsupported-media-type", "Unsupported media type",
                           f"`Content-Encoding` {encoding.decode('latin-1')[:40]!r} is not taken: send the body "
                           "unencoded (identity)", field="Content-Encoding")
        if method not in BODY_METHODS:
            return None
        if upload:
            return None  # a file for a referral's attachments (checked by its content there)
        if content_type is None and not chunked and length in (None, b"0"):
            return None  # no body at all: nothing to read as JSON or otherwise
        if content_type is not None and is_desk_form(path, content_type):
            return None  # the desk page's own form (its views refuse one posted from another origin)
        if content_type is None or not media_type_is_json(content_type):
            shown = "none" if content_type is None else repr(content_type.decode("latin-1")[:60])
            return problem(415, "unsupported-media-type", "Unsupported media type",
                           f"the request body must be JSON sent as `Content-Type: application/json`, got {shown}",
                           field="body")
        return None

    def _limited(self, receive: Receive, limit: int | None = None) -> Receive:
        """``receive`` that raises 413 once the body grows past the limit (a body without a length)."""
        limit, seen = limit or self.settings.max_body_bytes, 0

        async def receive_limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        return receive_limited


def control_header(headers: Iterable[tuple[bytes, bytes]]) -> bytes | None:
    """The name of the first header whose value holds a control character other than tab, or None (one search
    over every value joined by a tab, the header found only when there is one).

    >>> control_header([(b"host", b"a"), (b"x-a", b"b\\tc")]), control_header([(b"host", b"a"), (b"x-a", b"b\\x00")])
    (None, b'x-a')
    """
    values = [value for _, value in headers]
    if _HEADER_CONTROL.search(b"\t".join(values)) is None:
        return None
    return next(name for name, value in headers if _HEADER_CONTROL.search(value) is not None)


def refused_text(scope: Scope, bad_header: bytes | None, cookies: Iterable[bytes]) -> ProblemResponse | None:
    """The answer to a request whose path, query, headers or cookies hold a control character, or None."""
    path = scope["path"]
    position = find_control(path)
    if position is not None:
        return _refused(scope, 422, "path", control_rule(path, position))
    query = scope["query_string"]
    if b"%" in query:  # only an escape can smuggle in a control (the parser refuses a raw one)
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            for text in (name, value):
                position = find_control(text)
                if position is not None:
                    return _refused(scope, 422, name[:60] or "query", control_rule(text, position))
    if bad_header is not None:
        return _refused(scope, 400, bad_header.decode("latin-1")[:60], "must not contain control characters "
                        "(only tab is allowed in a header)")
    for header in cookies:
        for name, value in cookie_parser(header.decode("latin-1")).items():
            position = find_control(value)
            if position is not None:
                return _refused(scope, 400, name[:60], control_rule(value, position))
    return None


async def checked_form(scope: Scope, receive: Receive) -> tuple[Receive, ASGIApp | None]:
    """A desk form's body read whole (it is small and limited): a ``receive`` that replays it, and the answer
    refusing it when a field holds a control character other than tab or a line break (else None)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return _replay([message], receive), None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    refusal = None
    try:
        pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=1000)
    except ValueError:  # too many fields: the page says so
        pairs = []
    for name, value in pairs:
        for text in (name, value):
            position = find_control(text, multiline=True)
            if position is not None:
                refusal = _refused(scope, 422, name[:60] or "form", control_rule(text, position))
                break
        if refusal is not None:
            break
    return _replay([{"type": "http.request", "body": body, "more_body": False}], receive), refusal


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` giving ``messages`` first, then what ``receive`` gives (the disconnect)."""
    queue = list(messages)

    async def replay() -> Message:
        return queue.pop(0) if queue else await receive()

    return replay


def _refused(scope: Scope, status: int, field: str, rule: str) -> ProblemResponse:
    """A refusal of a control character: the problem answer, and its one log line."""
    where = {400: "header or cookie", 422: "field"}[status]
    logger.info("refused %s %s: %s `%s` %s", scope["method"], scope["path"].encode("unicode_escape").decode()[:200],
                where, field, rule)
    slug, title = ("invalid-header", "Invalid header") if status == 400 else ("invalid-value", "Invalid value")
    return problem(status, slug, title, f"`{field}` {rule}", field=field)


class BodyTooLarge(HTTPException):
    """A body that outgrew the limit while it was read (answered 413 by :mod:`service.errors`)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


def too_large(limit: int, setting: str = "MEDNET_MAX_BODY_BYTES") -> Any:
    """413, closing the connection: the rest of the body is not read; ``setting`` names the limit that holds."""
    answer = problem(413, "body-too-large", "Request body too large",
                     f"the request body is larger than {limit} bytes ({setting})", field="body")
    answer.headers["Connection"] = "close"
    return answer

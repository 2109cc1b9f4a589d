"""What every HTTP exchange goes through: limits, security headers, the access log and the metrics.

One plain ASGI middleware (:class:`Guard`), cheap enough for the referral
hot path. For every request it

- refuses a body that is not JSON (``415``; a request without a body, such
  as a referral's ``POST …/accept``, needs no content type; the desk page's
  own forms under ``/desk/`` may post ``application/x-www-form-urlencoded``,
  and the pages check that such a post comes from their own origin), too large (``413``, by its
  ``Content-Length`` or while it streams in) or too many requests at once
  (``503`` with ``Retry-After``), each as a problem answer;
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
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from starlette.exceptions import HTTPException

from service.config import Settings
from service.errors import problem
from service.live import STREAM_SUFFIX
from service.metrics import Metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_logger = logging.getLogger("service.access")

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
_ALWAYS = [(b"x-content-type-options", b"nosniff")]
_NO_STORE = (b"cache-control", b"no-store")
_NO_CONTENT = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")


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

    def __init__(self, app: ASGIApp, *, settings: Settings, metrics: Metrics) -> None:
        self.app, self.settings, self.metrics = app, settings, metrics
        self.in_flight = 0
        self._ids = itertools.count(1)
        self._id_prefix = f"{os.getpid():x}-"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = content_type = length = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value
            elif name == b"content-type":
                content_type = value
            elif name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
        if request_id is None or not _REQUEST_ID.fullmatch(request_id):
            request_id = (self._id_prefix + str(next(self._ids))).encode()
        status = [500]

        async def send_guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = list(message.get("headers", ()))
                own_cache = own_policy = False
                for name, _ in headers:
                    if name == b"cache-control":
                        own_cache = True
                    elif name == b"content-security-policy":
                        own_policy = True
                headers += _ALWAYS
                headers.append((b"x-request-id", request_id))
                if not own_cache:
                    headers.append(_NO_STORE)
                if not own_policy:
                    headers.append(_NO_CONTENT)
                message["headers"] = headers
            await send(message)

        upload = is_upload(scope["method"], scope["path"], content_type)
        limit = self.settings.max_attachment_bytes + UPLOAD_OVERHEAD if upload else self.settings.max_body_bytes
        refusal = self._refusal(scope["method"], content_type, length, chunked, scope["path"], limit, upload)
        if refusal is None and scope["method"] in BODY_METHODS:
            receive = self._limited(receive, limit)
        try:
            if refusal is not None:
                await refusal(scope, receive, send_guarded)
                return
            if scope["path"].endswith(STREAM_SUFFIX):  # a page's live stream: open for hours, idle, not counted
                await self.app(scope, receive, send_guarded)
                return
            self.in_flight += 1
            try:
                await self.app(scope, receive, send_guarded)
            finally:
                self.in_flight -= 1
        finally:
            seconds = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(scope["method"], template, status[0], seconds)
            if self.settings.access_log and access_logger.isEnabledFor(logging.INFO):
                client = scope.get("client")
                access_logger.info(orjson.dumps({
                    "request_id": request_id.decode(), "method": scope["method"], "path": scope["path"],
                    "route": template, "status": status[0], "duration_ms": round(seconds * 1e3, 3),
                    "client": client[0] if client else None,
                }).decode())

    def _refusal(self, method: str, content_type: bytes | None, length: bytes | None,
                 chunked: bool = False, path: str = "", limit: int | None = None,
                 upload: bool = False) -> ASGIApp | None:
        """The answer to a request refused before the app sees it, or None."""
        limit = limit or self.settings.max_body_bytes
        if self.in_flight >= self.settings.max_concurrency:
            answer = problem(503, "busy", "Busy", f"more than {self.settings.max_concurrency} requests at once; "
                             "retry shortly")
            answer.headers["Retry-After"] = "1"
            return answer
        if method not in BODY_METHODS:
            return None
        if length is not None and length.isdigit() and int(length) > limit:
            return too_large(limit)
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


class BodyTooLarge(HTTPException):
    """A body that outgrew the limit while it was read (answered 413 by :mod:`service.errors`)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


def too_large(limit: int) -> Any:
    return problem(413, "body-too-large", "Request body too large",
                   f"the request body is larger than {limit} bytes (MEDNET_MAX_BODY_BYTES)", field="body")

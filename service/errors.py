"""The one place where errors become HTTP responses.

Every error body is ``application/problem+json`` (RFC 9457) with ``type``,
``title``, ``status`` and ``detail``, plus ``field`` (the request field at
fault) and ``suggestions`` (closest known names) where known:

=========================================================  ======
unknown region, institution, community or referral         404
unknown specialty; invalid value (library or pydantic)     422
malformed JSON body                                        400
no API key, or an unknown or revoked one                   401
a key whose role or institution may not do this            403
no institution capable within the limits                   409
an action the referral's state does not allow              409
a slot taken, full, outside its window                     409
``If-Match`` older than the stored version                 412
body too large; body not ``application/json``              413; 415
client too slow sending headers or body; headers too large 408; 431
busy (too many requests, or slow work queued); not ready   503 (``Retry-After``)
the ledger's database unreachable, locked or out of conns  503 (``Retry-After``)
anything else (a bug: logged, never expected)              500
=========================================================  ======

``detail`` is at most :data:`DETAIL_MAX_CHARS` characters: it never echoes
kilobytes of input back. A routing error's ``detail`` is in the request's
language (``lang``, else ``Accept-Language``; Chinese by default); its
``type`` and ``field`` are the same in both.

Routes declare what they may answer with :func:`problem_responses`, so the
OpenAPI document lists these bodies and clients can rely on them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from mednet.errors import (
    AlreadySentHome,
    AttachmentRefused,
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
    UnknownAttachment,
    UnknownCommunity,
    UnknownInstitution,
    UnknownReferral,
    UnknownRegion,
    UnknownSpecialty,
)

logger = logging.getLogger("service")

PROBLEM_MEDIA_TYPE = "application/problem+json"
_TYPE_PREFIX = "urn:mednet:problem:"
#: Longest ``detail``; longer ones are cut and end in "…".
DETAIL_MAX_CHARS = 500


class FieldProblem(BaseModel):
    """One invalid field of a request."""

    model_config = ConfigDict(frozen=True)

    field: str = Field(description="dotted path of the field, e.g. `origin.lat`; `body` for the whole body")
    rule: str = Field(description="the rule the value breaks")


class ProblemDetails(BaseModel):
    """An error answer (RFC 9457 problem details)."""

    model_config = ConfigDict(frozen=True)

    type: str = Field(description="stable problem kind, e.g. `urn:mednet:problem:unknown-institution`")
    title: str = Field(description="short summary of the kind")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="what was wrong in this request and what is expected")
    field: str | None = Field(None, description="the request field at fault, when one is")
    suggestions: list[str] = Field(default_factory=list, description="closest known names, best first")
    errors: list[FieldProblem] = Field(default_factory=list, description="every invalid field, for 422s")
    allowed: list[str] = Field(default_factory=list,
                               description="for `illegal-transition`: the actions the referral's state allows")


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


#: status -> (slug, title) of each problem kind; the slug is the end of ``type``.
_NOT_FOUND = {
    UnknownRegion: ("unknown-region", "Unknown region"),
    UnknownInstitution: ("unknown-institution", "Unknown institution"),
    UnknownCommunity: ("unknown-community", "Unknown community"),
    UnknownReferral: ("unknown-referral", "Unknown referral"),
    UnknownAttachment: ("unknown-attachment", "Unknown attachment"),
}
#: Ledger errors with a fixed status: (status, slug, title).
_LEDGER = {
    NotAuthenticated: (401, "not-authenticated", "API key needed"),
    Forbidden: (403, "forbidden", "Not allowed for this key"),
    IllegalTransition: (409, "illegal-transition", "Action not allowed in this state"),
    SlotUnavailable: (409, "slot-unavailable", "Slot unavailable"),
    AlreadySentHome: (409, "already-sent-home", "Already sent home"),
    AttachmentRefused: (409, "attachment-refused", "Attachment refused by what the referral holds"),
    StaleVersion: (412, "stale-version", "Stale version"),
    IdempotencyConflict: (422, "idempotency-key-reused", "Idempotency key reused"),
    LedgerUnavailable: (503, "ledger-unavailable", "Ledger unavailable"),
}
_DESCRIPTIONS = {
    400: "Malformed request body (not JSON)",
    401: "No API key, or an unknown or revoked one (`Authorization: Bearer mk_…`)",
    403: "The key's role or institution may not do this",
    404: "Unknown region, institution, community or referral; `suggestions` holds the closest names",
    409: "No institution offers the specialty within the limits given (`detail` says why), a file the referral "
         "already holds or one too many, an action the "
         "referral's state does not allow (`allowed` names those it does), a slot that is taken, full or "
         "outside its window, or a second send-home while the first down-referral is in force (`detail` names it)",
    412: "`If-Match` names an older version than the stored one: read the referral again",
    413: "Request body larger than the service accepts (`MEDNET_MAX_BODY_BYTES`)",
    415: "Request body not sent as `application/json`",
    422: "Invalid value; `field` names it, `detail` states the rule",
    503: "Not ready (regions still loading) or busy, retry after `Retry-After` seconds; or the ledger's "
         "database unreachable",
}
#: status -> (slug, title) of the HTTP-level problems.
_HTTP_KINDS = {
    404: ("not-found", "Not found"), 405: ("method-not-allowed", "Method not allowed"),
    408: ("request-timeout", "Request timeout"), 413: ("body-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"), 431: ("headers-too-large", "Headers too large"),
    503: ("not-ready", "Not ready"),
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entry documenting problem bodies for these statuses."""
    schema = {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
    return {s: {"description": _DESCRIPTIONS[s], "content": {PROBLEM_MEDIA_TYPE: schema}} for s in statuses}


def problem(status: int, slug: str, title: str, detail: str, *, field: str | None = None,
            suggestions: Iterable[str] = (), errors: Iterable[FieldProblem] = (),
            allowed: Iterable[str] = ()) -> ProblemResponse:
    """A problem answer; ``detail`` cut to :data:`DETAIL_MAX_CHARS`.

    >>> len(problem(422, "invalid-value", "Invalid value", "x" * 10_000).body) < 1_000
    True
    """
    if len(detail) > DETAIL_MAX_CHARS:
        detail = detail[:DETAIL_MAX_CHARS - 1] + "…"
    body = ProblemDetails(type=_TYPE_PREFIX + slug, title=title, status=status, detail=detail, field=field,
                          suggestions=list(suggestions), errors=list(errors), allowed=list(allowed))
    return ProblemResponse(body.model_dump(mode="json"), status_code=status)


def problem_from_error(err: MednetError) -> ProblemResponse:
    """The HTTP answer to a library error."""
    field = err.field  # every library error is raised naming its field
    for kind, (slug, title) in _NOT_FOUND.items():
        if isinstance(err, kind):
            return problem(404, slug, title, str(err), field=field, suggestions=err.suggestions)
    for ledger_error, (status, slug, title) in _LEDGER.items():
        if isinstance(err, ledger_error):
            response = problem(status, slug, title, str(err), field=field, allowed=getattr(err, "allowed", ()))
            if status == 401:
                response.headers["WWW-Authenticate"] = "Bearer"
            if status == 503:
                response.headers["Retry-After"] = "1"
            return response
    if isinstance(err, UnknownSpecialty):
        return problem(422, "unknown-specialty", "Unknown specialty", str(err), field=field,
                       suggestions=err.suggestions)
    if isinstance(err, InvalidRequest):
        return problem(422, "invalid-value", "Invalid value", str(err), field=field,
                       errors=[FieldProblem(field=field or err.parameter, rule=err.rule)])
    if isinstance(err, NoCapableInstitution):
        return problem(409, "no-capable-institution", "No capable institution", str(err), field=field)
    return internal_error()


def problem_from_validation(err: RequestValidationError) -> ProblemResponse:
    """A pydantic/FastAPI validation failure: 400 for malformed JSON, else 422 naming every field."""
    found = err.errors()
    if any(e.get("type") == "json_invalid" for e in found):
        where = next(e for e in found if e.get("type") == "json_invalid")
        ctx = where.get("ctx") or {}
        why = ctx.get("error", where.get("msg", "invalid JSON"))
        return problem(400, "malformed-json", "Malformed JSON body",
                       f"the request body is not valid JSON ({why}); send a JSON object", field="body")
    fields = [_field_problem(e) for e in found]
    first = fields[0] if fields else FieldProblem(field="body", rule="invalid request")
    detail = "; ".join(f"`{f.field}` {f.rule}" for f in fields) or first.rule
    return problem(422, "invalid-value", "Invalid value", detail, field=first.field, errors=fields)


def _field_problem(error: dict[str, Any]) -> FieldProblem:
    """One pydantic error as a field and a rule; a library error inside it keeps its own wording."""
    field = _dotted(error.get("loc", ()))
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, InvalidRequest):
        if cause.field is not None and cause.field != cause.parameter:  # raised naming the request field
            field = cause.field
        elif cause.parameter.isidentifier() and field.rsplit(".", 1)[-1] != cause.parameter:
            field = cause.parameter if field == "body" else f"{field}.{cause.parameter}"
        return FieldProblem(field=field, rule=f"{cause.rule}, got {cause.value!r}")
    return FieldProblem(field=field, rule=_rule(error))


def _dotted(loc: Iterable[Any]) -> str:
    """``("body", "origin", "lat")`` → ``"origin.lat"``.

    List positions become ``[0]``; labels that are not field names (union
    members such as ``function-after[...]`` or ``by-point``) are dropped.

    >>> _dotted(("body", "origin", "by-point", "lat")), _dotted(("query", "limit")), _dotted(("body",))
    ('origin.lat', 'limit', 'body')
    """
    parts = list(loc)
    if len(parts) > 1 and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    text = ""
    for p in parts:
        if isinstance(p, int):
            text += f"[{p}]"
        elif str(p).isidentifier():
            text += f".{p}" if text else str(p)
    return text or "body"


def _rule(error: dict[str, Any]) -> str:
    """A pydantic message as a rule, with the offending value when it is short."""
    kind = error.get("type")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    message = message.replace("Input should be", "should be", 1)
    value = error.get("input")
    if isinstance(value, str | int | float | bool) and len(repr(value)) <= 80 and "got " not in message:
        message += f", got {value!r}"
    return message


def internal_error() -> ProblemResponse:
    """The answer to a request the service failed on (a bug: the error is logged where it is caught)."""
    return problem(500, "internal-error", "Internal error",
                   "the service failed on this request; it has been logged (please report it)")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on an app (called by ``create_app``)."""

    @app.exception_handler(MednetError)
    async def _mednet(request: Request, err: MednetError) -> ProblemResponse:
        response = problem_from_error(err)
        if response.status_code == 500:
            logger.error("unexpected library error on %s %s", request.method, request.url.path, exc_info=err)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, err: RequestValidationError) -> ProblemResponse:
        return problem_from_validation(err)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException) -> ProblemResponse:
        slug, title = _HTTP_KINDS.get(err.status_code, ("http-error", "HTTP error"))
        response = problem(err.status_code, slug, title, str(err.detail),
                           field="body" if err.status_code in (413, 415) else None)
        response.headers.update(err.headers or {})
        return response

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, err: ClientDisconnect) -> ProblemResponse:
        # Nobody is left to read the answer: one line, not a traceback.
        logger.info("client disconnected before sending the whole request: %s %s", request.method, request.url.path)
        return problem(400, "client-disconnected", "Client disconnected", "the client hung up mid-request")

    @app.exception_handler(sa_exc.OperationalError)
    @app.exception_handler(sa_exc.TimeoutError)
    async def _database(request: Request, err: Exception) -> ProblemResponse:
        # The ledger's database away, locked past its busy timeout, or no connection free in time (overload):
        # the client may retry; one line, not a traceback.
        reason = " ".join(str(getattr(err, "orig", None) or err).split())[:200]
        logger.warning("the ledger's database did not answer %s %s: %s", request.method, request.url.path, reason)
        return problem_from_error(LedgerUnavailable(f"the ledger's database is busy or unreachable ({reason}); "
                                                    "retry shortly"))

    @app.exception_handler(Exception)
    async def _last_resort(request: Request, err: Exception) -> ProblemResponse:
        logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=err)
        return internal_error()


def document_problems(openapi: dict[str, Any]) -> dict[str, Any]:
    """Every 422 in the OpenAPI document as a problem body: FastAPI's default 422 entry describes a
    body this service never sends. (:class:`ProblemDetails` itself is added by the app.)"""
    for item in openapi.get("paths", {}).values():
        for operation in item.values():
            responses = operation.get("responses", {})
            if "application/json" in responses.get("422", {}).get("content", {}):
                responses["422"] = problem_responses(422)[422]  # the key as the document writes it: one 422
    components = openapi.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    return openapi

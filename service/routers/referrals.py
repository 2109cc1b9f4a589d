"""The referral ledger over HTTP: record, list, follow and move referrals; slots and quotas.

Every endpoint needs an API key (``Authorization: Bearer mk_…``): a desk
key acts for its institution, a planner key reads everything, an admin key
sets quotas and expires stale referrals. Writes take an ``Idempotency-Key``
(a retry with the same key gets the first answer, ``Idempotent-Replayed:
true``) and answer with the referral's version as ``ETag``; send it back as
``If-Match`` and a write on an older version is refused with 412.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.requests import Request

from mednet.errors import InvalidRequest
from mednet.ledger import ActionIn, EventRecord, NewReferral, Outcome, QuotaIn, ReferralPage, ReferralRecord, SlotView
from mednet.ledger.attachments import download_headers
from mednet.ledger.records import AttachmentInfo, ClinicalSummary, ReadRecord
from mednet.ledger.states import STATES
from service.deps import KeyDep, LedgerDep, LedgerKeyDep, find_region
from service.errors import problem_responses
from service.fastpath import LeanLedgerRoute

router = APIRouter(prefix="/referrals", tags=["referrals"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200, description=(
    "any unique string per intended change (e.g. a UUID): a retry with the same key returns the first answer "
    "and changes nothing"))]
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=100, description=(
    "the `ETag` of the referral as last read (its version, e.g. `\"3\"`): a stale one is refused with 412"))]
Number = Annotated[str, Path(description="the referral number, e.g. `R20261125-000042`", max_length=32)]
READ_ERRORS = problem_responses(401, 403, 404, 422, 503)
WRITE_ERRORS = problem_responses(400, 401, 403, 404, 409, 412, 422, 503)


class WhoAmI(BaseModel):
    """The key's holder, for a page to sign in with: its role, institution and label."""

    key: str
    role: Literal["desk", "planner", "admin"]
    label: str
    region: str | None
    institution: str | None


def _answer(outcome: Outcome, *, status: int = 200) -> Response:
    record = outcome.record
    headers = {"ETag": f'"{record.version}"'}
    if outcome.created:
        status = 201
        headers["Location"] = f"/referrals/{record.number}"
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(record.model_dump_json(), status_code=status, media_type="application/json", headers=headers)


def _version(if_match: str | None) -> int | None:
    """``"3"``, ``W/"3"`` or ``3`` → 3; ``*`` or nothing → None (no version asserted)."""
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise InvalidRequest("If-Match", if_match, 'must be an ETag from this service, e.g. "3"')
    return int(text)


@router.get("/whoami", response_model=WhoAmI, responses=READ_ERRORS)
def who_am_i(key: KeyDep) -> WhoAmI:
    """Check a key and say whose it is (sign-in for a desk page)."""
    return WhoAmI(key=key.id, role=key.role, label=key.label, region=key.region, institution=key.institution)


def create_referral(request: Request, ledger: LedgerDep, key: LedgerKeyDep, referral: NewReferral,
                    idempotency_key: IdempotencyKey = None) -> Response:
    """Record a referral from the desk's own institution (转诊申请); state `requested`.

    With `route: true` (the default) the region's router proposes the destination from the desk's
    institution for the specialty and direction, and the answer is stored as given (`routing`); leave out
    `destination` to take the proposal, or give another with `destination_why`. With `route: false`,
    `destination` is required. Answers 201 with `Location` and `ETag`.
    """
    key.require("desk")
    routing: dict[str, Any] | None = None
    if referral.route:
        served = find_region(request, key.region or "")
        answer = served.router.route(str(key.institution), referral.specialty, direction=referral.direction,
                                     when=referral.when)
        routing = answer.model_dump(mode="json")
    return _answer(ledger.create(key, referral, routing=routing, idempotency_key=idempotency_key))


router.add_api_route("", create_referral, methods=["POST"], status_code=201, response_model=ReferralRecord,
                     responses=WRITE_ERRORS, route_class_override=LeanLedgerRoute)


@router.get("", response_model=ReferralPage, responses=READ_ERRORS)
def list_referrals(
    ledger: LedgerDep, key: LedgerKeyDep,
    status: Annotated[list[Literal[STATES]] | None, Query(description="states to keep (repeat for several)")] = None,  # type: ignore[valid-type]
    institution: Annotated[str | None, Query(max_length=120, description="origin or destination id")] = None,
    direction: Literal["up", "down", "emergency"] | None = None,
    created_from: Annotated[dt.date | None, Query(alias="from", description="created on or after (CST date)")] = None,
    created_to: Annotated[dt.date | None, Query(alias="to", description="created on or before (CST date)")] = None,
    after: Annotated[str | None, Query(max_length=32, description="the `next` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ReferralPage:
    """Referrals the key may see, oldest first (a desk's worklist: those to or from its institution)."""
    return ledger.list(key, states=status or (), institution=institution, direction=direction,
                       created_from=created_from, created_to=created_to, after=after, limit=limit)


@router.get("/reads", response_model=list[ReadRecord], responses=READ_ERRORS)
def list_reads(ledger: LedgerDep, key: KeyDep, region: Annotated[str | None, Query(max_length=120)] = None,
               limit: Annotated[int, Query(ge=1, le=10000)] = 1000) -> list[ReadRecord]:
    """Who read which referral's clinical summary or attachments, and when, newest first (admins)."""
    return ledger.reads(key, region=region, limit=limit)


@router.get("/slots", response_model=list[SlotView], responses=READ_ERRORS)
def list_slots(
    ledger: LedgerDep, key: KeyDep,
    region: Annotated[str, Query(max_length=120, description="region id")],
    institution: Annotated[str, Query(max_length=200, description="institution id, name or alias")],
    specialty: Annotated[str, Query(max_length=100, description="code, label or alias")],
    start: Annotated[dt.date | None, Query(alias="from", description="first day (default: today, CST)")] = None,
    days: Annotated[int | None, Query(ge=0, le=90, description="days after the first (default: the region's "
                                                                "booking window)")] = None,
) -> list[SlotView]:
    """An institution's slots for a specialty in the booking window: session units and referral-quota days,
    with how many are free now (expired holds count as free)."""
    return ledger.slots(region, institution, specialty, first=start, days=days)


@router.put("/quotas", status_code=204, responses=problem_responses(400, 401, 403, 404, 422, 503))
def set_quota(ledger: LedgerDep, key: LedgerKeyDep, region: Annotated[str, Query(max_length=120)],
              quota: QuotaIn) -> Response:
    """Set an institution's referral quota (号源) for a specialty: units a day, released N days ahead (admins)."""
    ledger.set_quota(key, region, quota)
    return Response(status_code=204)


class ReasonOut(BaseModel):
    """A coded reason: its code, its Chinese label, the actions that take it."""

    code: str
    label_zh: str
    label_en: str
    actions: list[str]


@router.get("/reasons", response_model=list[ReasonOut])
def list_reasons() -> list[ReasonOut]:
    """The coded reasons of rejections, redirects, cancellations and closures (send one as `reason_code`)."""
    from mednet.ledger.reasons import REASONS

    return [ReasonOut(code=r.code, label_zh=r.label_zh, label_en=r.label_en, actions=sorted(r.actions))
            for r in REASONS]


@router.get("/{number}", response_model=ReferralRecord, responses=READ_ERRORS)
def get_referral(ledger: LedgerDep, key: LedgerKeyDep, number: Number) -> Response:
    """One referral with the actions its state allows now; `ETag` is its version."""
    return _answer(Outcome(ledger.get(key, number)))


@router.get("/{number}/events", response_model=list[EventRecord], responses=READ_ERRORS)
def referral_events(ledger: LedgerDep, key: LedgerKeyDep, number: Number) -> list[EventRecord]:
    """Every change of the referral, oldest first: who, when, from which state to which, why."""
    return ledger.history(key, number)


@router.get("/{number}/fhir", responses={200: {"description": "a FHIR R4 Bundle (collection) holding the "
                                               "ServiceRequest and its Task", "content": {
                                                   "application/fhir+json": {"schema": {"type": "object"}}}},
                                         **READ_ERRORS})
def referral_fhir(ledger: LedgerDep, key: LedgerKeyDep, number: Number) -> Response:
    """The referral as FHIR R4: a ServiceRequest (the referral) and a Task (where it stands)."""
    from mednet.ledger.fhir import to_fhir  # imported on first use: the FHIR models take tens of ms to import

    record = ledger.get(key, number)
    summary, files = None, list[AttachmentInfo]()
    if key.role == "desk" and key.institution in (record.origin.id, record.destination.id):
        summary = ledger.summary(key, number, what="fhir")  # the two desks' export carries it; the read is recorded
        files = ledger.attachments(key, number, what=None)  # listed (not their content) in the export just recorded
    return Response(orjson.dumps(to_fhir(record, ledger.history(key, number), summary, files)),
                    media_type="application/fhir+json")


@router.get("/{number}/summary", response_model=ClinicalSummary | None, responses=READ_ERRORS)
def referral_summary(ledger: LedgerDep, key: KeyDep, number: Number) -> ClinicalSummary | None:
    """The clinical summary (转诊记录) — for the desks of the referral's origin and destination only; every read
    is recorded (see `GET /referrals/reads`)."""
    return ledger.summary(key, number, what="api")


_UPLOAD_BODY = {"required": True, "description": "the file itself (at most `MEDNET_MAX_ATTACHMENT_BYTES`); its type "
                "is checked by its content", "content": {m: {"schema": {"type": "string", "format": "binary"}}
                                                         for m in ("application/pdf", "image/png", "image/jpeg")}}


@router.post("/{number}/attachments", status_code=201, response_model=AttachmentInfo,
             responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 503),
             openapi_extra={"requestBody": _UPLOAD_BODY})
async def add_attachment(request: Request, ledger: LedgerDep, key: LedgerKeyDep, number: Number,
                         name: Annotated[str, Query(min_length=1, max_length=200, description="the file's name")]
                         ) -> AttachmentInfo:
    """Attach a PDF, PNG or JPEG file to the referral — for its two desks. The type is judged by the content
    (it must agree with `Content-Type`); a PDF with active content, the same file twice, or a 21st file is
    refused with 422."""
    return ledger.attach(key, number, name, await request.body(), content_type=request.headers.get("content-type"),
                         max_bytes=request.app.state.settings.max_attachment_bytes)


@router.get("/{number}/attachments", response_model=list[AttachmentInfo], responses=READ_ERRORS)
def list_attachments(ledger: LedgerDep, key: LedgerKeyDep, number: Number) -> list[AttachmentInfo]:
    """The referral's attachments without their content — for its two desks only; the read is recorded."""
    return ledger.attachments(key, number, what="api attachments")


@router.get("/{number}/attachments/{attachment_id}", responses={200: {
    "description": "the file, always as a download (`Content-Disposition: attachment`)",
    "content": {m: {"schema": {"type": "string", "format": "binary"}}
                for m in ("application/pdf", "image/png", "image/jpeg")}}, **READ_ERRORS})
def get_attachment(ledger: LedgerDep, key: LedgerKeyDep, number: Number,
                   attachment_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> Response:
    """One attachment's content — for the referral's two desks only, never to be shown inline; every read is
    recorded (see `GET /referrals/reads`)."""
    info, content = ledger.attachment(key, number, attachment_id)
    return Response(content, media_type=info.media_type, headers=download_headers(info.name, info.media_type, info.id))


_ACTION_DOCS = {
    "accept": "Accept (应答): the receiving desk takes the referral. From `requested` or `redirected`.",
    "reject": "Reject: the receiving desk refuses it; `reason` is required. From `requested` or `redirected`.",
    "redirect": "Redirect onward: the receiving desk sends it to `destination` instead, with a `reason`; "
                "the new destination's desk answers it next.",
    "hold": "Hold a `slot` for a while (the hold expires; see the slots endpoint). From `accepted`; the state stays.",
    "book": "Book (预约) a `slot` of the destination in its booking window; turns the referral's hold into a "
            "booking. From `accepted`. A slot taken or a quota used up is 409.",
    "arrive": "Mark arrived (到诊). From `booked`.",
    "complete": "Mark completed (完成). From `arrived`.",
    "send-home": "Send the patient home (康复回社区): records a new down-referral from this hospital to "
                 "`destination` (default: the referral's origin) for `specialty` (default: rehabilitation), "
                 "linked to this one; answers 201 with the new referral. From `completed`.",
    "cancel": "Cancel: the referring desk withdraws it; a held or booked slot is given back. From an open state.",
    "expire": "Expire a stale open referral (admins); a held or booked slot is given back.",
}


def _action_endpoint(action: str) -> Callable[..., Response]:
    def take_action(ledger: LedgerDep, key: LedgerKeyDep, number: Number, body: ActionIn | None = None,
                    if_match: IfMatch = None, idempotency_key: IdempotencyKey = None) -> Response:
        return _answer(ledger.act(key, number, action, body, if_match=_version(if_match),
                                  idempotency_key=idempotency_key))

    take_action.__name__ = f"{action}_referral"
    return take_action


for _path, _doc in _ACTION_DOCS.items():
    _action = _path.replace("-", "_")
    router.add_api_route(f"/{{number}}/{_path}", _action_endpoint(_action), methods=["POST"],
                         response_model=ReferralRecord, responses=WRITE_ERRORS, summary=_doc.split(":")[0],
                         description=_doc + "\n\nOwners, versions and states are checked in that order: 403, "
                         "412, 409 (with `allowed`).", name=f"{_action}_referral", route_class_override=LeanLedgerRoute)

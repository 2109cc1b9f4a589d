"""The ledger's screens: record a referral from a route answer, the desk's worklist, one referral with the
actions its state and its owner allow, booking a slot, its history, and the printable 转诊单.

Every change goes through :class:`mednet.ledger.Ledger` with the signed-in key, the version the page showed
(a change made meanwhile is refused as stale) and the form's own idempotency token (a double click records
once). A refusal is shown in Chinese where it happened, with the status the API would answer.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError
from starlette.datastructures import QueryParams

from mednet.errors import AttachmentRefused, Forbidden, IllegalTransition, InvalidRequest, MednetError
from mednet.ledger import ActionIn, ApiKey, Ledger, ReferralRecord, SlotView
from mednet.ledger import slots as slotting
from mednet.ledger.ledger import check_transition_for
from mednet.ledger.reasons import reason_label, reasons_for
from mednet.ledger.records import AttachmentInfo
from mednet.ledger.slots import parse_slot
from mednet.ledger.states import FINAL_STATES, check_transition
from mednet.ledger.walkin import WALK_IN_ZH, walk_in_care
from mednet.routing import Referral
from mednet.specialties import SPECIALTIES, resolve_specialty
from service.deps import ServedRegion, find_region, opened_ledger
from service.errors import problem_from_error
from service.pages.html import render
from service.pages.refer import PATIENT_FIELDS, ROUTE_FIELDS, SUMMARY_FIELDS, new_referral
from service.pages.session import desk_key, read_form
from service.pages.signin import cross_site_refusal, resumable, sign_in_again, signed_in_or_page
from service.pages.views import RouteForm, institution_sources, route_page
from service.pages.wording import ACTION_ZH, STATE_ZH, DeskProblem, explain_error, validation_zh

router = APIRouter(prefix="/desk", include_in_schema=False)

#: Actions the page offers (a slot is booked at once; a timed hold is for API clients).
PAGE_ACTIONS = ("accept", "reject", "redirect", "book", "arrive", "complete", "send_home", "cancel", "expire")
REFER_FIELDS = ("token", "destination", "destination_why", "priority", "reason", "duplicate_ok", *PATIENT_FIELDS,
                *SUMMARY_FIELDS)


def status_of(err: MednetError) -> int:
    """The status the API answers this error with (401, 403, 404, 409, 412, 422, 503)."""
    return problem_from_error(err).status_code


def open_screen(request: Request, region: str) -> tuple[ApiKey, ServedRegion, Ledger] | HTMLResponse:
    """The signed-in key, the region and the ledger; or the page saying what is missing."""
    key = signed_in_or_page(request)
    if isinstance(key, HTMLResponse):
        return key
    try:
        return key, find_region(request, region), opened_ledger(request)
    except MednetError as err:
        return message_page(request, err)


Opened = tuple[ApiKey, ServedRegion, Ledger, dict[str, str]]


async def open_form(request: Request, region: str) -> Opened | HTMLResponse:
    """:func:`open_screen` for a form post, with its fields: it must come from the service's own pages (else 403);
    posted when no one is signed in any more, it goes to the sign-in page carrying what was typed."""
    if (refused := cross_site_refusal(request)) is not None:
        return refused
    try:
        fields = await read_form(request)
    except MednetError as err:
        return message_page(request, err)
    if desk_key(request) is None:
        return sign_in_again(request, fields)
    opened = open_screen(request, region)
    return opened if isinstance(opened, HTMLResponse) else (*opened, fields)


def problem_zh(err: MednetError, subject: str = "") -> DeskProblem:
    """The error as the page shows it: a rule that carries its own Chinese words (``rule_zh``) says them, about
    ``subject`` (e.g. the file's name); any other error as :func:`~service.pages.wording.explain_error` words it."""
    if isinstance(err, InvalidRequest | AttachmentRefused) and err.rule_zh:
        return DeskProblem(err.field, f"{subject}{err.rule_zh}。", (), str(err))
    return explain_error(err)


def message_page(request: Request, err: MednetError, **context: Any) -> HTMLResponse:
    """The page saying why the screen cannot be shown (in Chinese, with the API's status)."""
    problem = explain_error(err)
    return render(request, "refused.html", status=status_of(err), title="无法办理", message=problem.message,
                  detail=problem.detail, **context)


# ---------------------------------------------------------------------------- refer


@router.post("/{region}/referrals", response_class=HTMLResponse)
async def create_referral(request: Request, region: str) -> Response:
    """Record the referral from the route answer (routed again from the desk's institution, as shown)."""
    opened = await open_form(request, region)
    if isinstance(opened, HTMLResponse):
        return opened
    key, served, ledger, fields = opened
    try:
        key.require("desk")
        if key.region != served.region.id:
            raise Forbidden(f"key {key.id} is a desk of region {key.region}", reason="region")
    except MednetError as err:
        return message_page(request, err)
    return record_referral(request, key, served, ledger, fields)


def refer_query(served: ServedRegion, key: ApiKey, fields: dict[str, str]) -> QueryParams:
    """The route screen's query a referral form was made from (routed again from the desk's institution)."""
    own = served.institutions.get(str(key.institution))
    return QueryParams({"origin": own.name if own else str(key.institution),
                        **{k: fields[k] for k in ROUTE_FIELDS if fields.get(k)}})


@resumable(r"^/desk/(?P<region>[^/]+)/referrals$")
def resume_referral(request: Request, key: ApiKey, match: re.Match[str], fields: dict[str, str]) -> Response:
    """The route screen with the referral form as typed, after signing in again."""
    try:
        served = find_region(request, match["region"])
    except MednetError as err:
        return message_page(request, err, who=key)
    values = {k: fields.get(k, "") for k in REFER_FIELDS}
    return route_page(request, served, refer_query(served, key, fields), values=values, who=key, resumed=True)


def record_referral(request: Request, key: ApiKey, served: ServedRegion, ledger: Ledger,
                    fields: dict[str, str]) -> Response:
    """Route again as the form says, and record the referral; a refusal goes back to the route screen."""
    region = served.region.id
    query = refer_query(served, key, fields)
    values = {k: fields.get(k, "") for k in REFER_FIELDS}
    arguments = RouteForm.from_query(query).request()
    if arguments is None:
        return route_page(request, served, query)
    try:
        referral = served.router.route(**arguments)
    except MednetError:
        return route_page(request, served, query)  # the route screen says what is wrong with the route
    new, errors = new_referral(fields, referral)
    if new is None:
        return route_page(request, served, query, values=values, errors=errors, status=422)
    if fields.get("duplicate_ok") != "yes" and (same := ledger.open_for_patient(key, new.patient.ref, new.specialty)):
        shown = "、".join(f"{n}（{STATE_ZH[st]}）" for n, st in same)
        return route_page(request, served, query, values=values, status=409, duplicates=same, errors={
            "patient_ref": f"患者 {new.patient.ref} 已有未结束的同专科转诊单：{shown}。请先查看；确需再开一张，"
                           "勾选“仍要新建”后再提交。"})
    try:
        outcome = ledger.create(key, new, routing=referral.model_dump(mode="json"),
                                idempotency_key=fields.get("token") or None)
    except MednetError as err:
        problem = explain_error(err)
        return route_page(request, served, query, values=values, errors={problem.field or "form": problem.message},
                          status=status_of(err))
    return RedirectResponse(f"/desk/{region}/referrals/{outcome.record.number}?done=create", status_code=303)


# ---------------------------------------------------------------------------- worklist


# ---------------------------------------------------------------------------- one referral


def actions_for(key: ApiKey, record: ReferralRecord, served: ServedRegion,
                follow_ups: list[tuple[str, str]] = ()) -> list[str]:  # type: ignore[assignment]
    """The actions this key may take on the referral now: the ledger's state table and owner rules, arrival
    without a booking only where the destination has walk-in care, and no second send-home while a
    down-referral is open."""
    row = {"origin_id": record.origin.id, "destination_id": record.destination.id, "region": record.region,
           "number": record.number, "state": record.state}
    allowed = []
    for action in PAGE_ACTIONS:
        try:
            transition = check_transition_for(key, row, action)
            check_transition(record.state, action)
        except (Forbidden, IllegalTransition):
            continue
        if record.state in transition.walk_in_from and walk_in_of(served, record) is None:
            continue
        if action == "send_home" and any(state not in FINAL_STATES for _, state in follow_ups):
            continue
        allowed.append(action)
    return allowed


def walk_in_of(served: ServedRegion, record: ReferralRecord) -> str | None:
    """Why the patient may arrive without a booking at the referral's destination (or None)."""
    return walk_in_care(served.institutions.get(record.destination.id), record.specialty,
                        priority=record.priority, direction=record.direction)


def home_route(served: ServedRegion, record: ReferralRecord, specialty: str | None = None,
               home: str | None = None) -> Referral:
    """The down-referral the router proposes: from the hospital back to the patient's home (the origin)."""
    return served.router.route(record.destination.id, specialty or None, direction="down",
                               home=home or record.origin.id)


def referral_page(request: Request, key: ApiKey, served: ServedRegion, ledger: Ledger, number: str, *,
                  failed: str | None = None, problem: DeskProblem | None = None, values: dict[str, str] | None = None,
                  status: int = 200, resumed: bool = False) -> HTMLResponse:
    """One referral: its facts, the actions open to this key (with their forms), free slots, its history.
    ``resumed``: the clerk signed in again after the session ended, and ``values`` are what they had typed."""
    try:
        record = ledger.get(key, number)
        events = ledger.history(key, number)
        follow_ups = ledger.follow_ups(key, number)
    except MednetError as err:
        return message_page(request, err, served=served, who=key)
    actions = actions_for(key, record, served, follow_ups)
    next_up = ledger.next_destinations(key, number) if record.state == "rejected" and key.role == "desk" \
        and key.institution == record.origin.id else []
    rejection = next((e for e in reversed(events) if e.action == "reject"), None)
    slots: list[SlotView] = []
    home: Referral | DeskProblem | None = None
    if "book" in actions:
        slots = [s for s in ledger.slots(served.region.id, record.destination.id, record.specialty) if s.free > 0]
    if "send_home" in actions:
        try:
            home = home_route(served, record)
        except MednetError as err:
            home = explain_error(err)
    summary, files = None, list[AttachmentInfo]()
    if key.role == "desk" and key.institution in (record.origin.id, record.destination.id):
        summary = ledger.summary(key, number, what="page")  # the read is recorded
        files = ledger.attachments(key, number, what=None)  # shown on the page whose read was just recorded
    done = request.query_params.get("done", "") if not resumed else ""
    booked_day = parse_slot(record.claim.slot).day if record.claim else None
    early = booked_day is not None and slotting.today(ledger.now()) < booked_day
    values = dict(values or {})
    return render(request, "referral.html", status=status, served=served, who=key, r=record, events=events,
                  actions=actions, slots=slots, home=home, failed=failed, problem=problem, values=values,
                  token=(values.get("token") if resumed else None) or secrets.token_urlsafe(16), done=done,
                  specialty=resolve_specialty(record.specialty), specialties=SPECIALTIES, active="worklist",
                  resumed=resumed, follow_ups=follow_ups, walk_in=walk_in_of(served, record), early=early,
                  booked_day=booked_day, WALK_IN_ZH=WALK_IN_ZH, reasons={a: reasons_for(a) for a in actions},
                  reason_label=reason_label, next_up=next_up, rejection=rejection, summary=summary, files=files,
                  max_file_mb=f"{request.app.state.settings.max_attachment_bytes / 1048576:g}",
                  two_desks=key.role == "desk" and key.institution in (record.origin.id, record.destination.id),
                  passed_on=key.role == "desk" and key.institution not in (
                      record.origin.id, record.destination.id))


@router.get("/{region}/referrals/{number}", response_class=HTMLResponse)
def referral_screen(request: Request, region: str, number: str) -> HTMLResponse:
    opened = open_screen(request, region)
    if isinstance(opened, HTMLResponse):
        return opened
    return referral_page(request, *opened, number)


#: Actions a clerk confirms with a tick before the page takes them (they cannot be undone).
CONFIRMED = {"arrive": "已核对患者身份，确认患者已到诊", "complete": "确认本次诊疗已完成"}


@router.post("/{region}/referrals/{number}/{action}", response_class=HTMLResponse)
async def take_action(request: Request, region: str, number: str, action: str) -> Response:
    """Take one action with the version the page showed; a refusal comes back on the referral's page."""
    opened = await open_form(request, region)
    if isinstance(opened, HTMLResponse):
        return opened
    key, served, ledger, fields = opened
    action = action.replace("-", "_")
    try:
        if action == "rerefer":  # after a rejection: the next capable institution, in one step
            outcome = ledger.rerefer(key, number, fields.get("destination", ""),
                                     idempotency_key=fields.get("token") or None)
            return RedirectResponse(f"/desk/{region}/referrals/{outcome.record.number}?done=rerefer",
                                    status_code=303)
        if action not in PAGE_ACTIONS:
            check_transition(ledger.get(key, number).state, action)  # an unknown action: 409 naming the allowed
        if action in CONFIRMED and fields.get("confirm") != "yes":
            words = f"请先勾选“{CONFIRMED[action]}”，再按“{ACTION_ZH[action]}”。"
            return referral_page(request, key, served, ledger, number, failed=action, values=fields, status=422,
                                 problem=DeskProblem("confirm", words))
        body = action_body(served, ledger, key, number, action, fields)
        version = fields.get("version", "")
        outcome = ledger.act(key, number, action, body, if_match=int(version) if version.isdigit() else None,
                             idempotency_key=fields.get("token") or None)
    except ValidationError as err:
        name, words = validation_zh(tuple(err.errors()[0]["loc"]), str(err.errors()[0]["msg"]))
        return referral_page(request, key, served, ledger, number, failed=action, values=fields, status=422,
                             problem=DeskProblem(name, words, (), str(err)))
    except MednetError as err:
        return referral_page(request, key, served, ledger, number, failed=action, values=fields,
                             problem=explain_error(err), status=status_of(err))
    shown = outcome.record.number
    return RedirectResponse(f"/desk/{region}/referrals/{shown}?done={action}", status_code=303)


@resumable(r"^/desk/(?P<region>[^/]+)/referrals/(?P<number>[^/]+)/(?P<action>[a-z_-]+)$")
def resume_action(request: Request, key: ApiKey, match: re.Match[str], fields: dict[str, str]) -> Response:
    """The referral's page with the action's form as typed, after signing in again."""
    try:
        served, ledger = find_region(request, match["region"]), opened_ledger(request)
    except MednetError as err:
        return message_page(request, err, who=key)
    return referral_page(request, key, served, ledger, match["number"], failed=match["action"].replace("-", "_"),
                         values=fields, resumed=True)


def qr_svg(number: str) -> Markup:
    """The referral number as a QR code, inline SVG made here (segno): no image service, nothing fetched."""
    import segno

    code = segno.make(number, micro=False, error="m")
    svg = code.svg_inline(scale=3, title=f"转诊单编号 {number}", svgclass="qr", lineclass="qr-line")
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="转诊单编号 {number} 的二维码" ', 1))


def action_body(served: ServedRegion, ledger: Ledger, key: ApiKey, number: str, action: str,
                fields: dict[str, str]) -> ActionIn:
    """The ledger's body for an action from the form; sending home asks the router where home is."""
    reason = fields.get("reason") or None
    if action == "send_home":
        home = home_route(served, ledger.get(key, number), fields.get("specialty"))
        return ActionIn(reason=reason, destination=home.destination.id, specialty=home.specialty.code)
    return ActionIn(reason=reason, reason_code=fields.get("reason_code") or None, slot=fields.get("slot") or None,
                    destination=fields.get("destination") or None if action == "redirect" else None)


# ---------------------------------------------------------------------------- 转诊单


@router.get("/{region}/referrals/{number}/print", response_class=HTMLResponse)
def referral_slip(request: Request, region: str, number: str) -> HTMLResponse:
    """The printable 转诊单: the referral, the routing answer's why, the destination's contact details and the
    sources of what it says."""
    opened = open_screen(request, region)
    if isinstance(opened, HTMLResponse):
        return opened
    key, served, ledger = opened
    try:
        record = ledger.get(key, number)
    except MednetError as err:
        return message_page(request, err, served=served)
    summary, files = None, list[AttachmentInfo]()
    if key.role == "desk" and key.institution in (record.origin.id, record.destination.id):
        summary = ledger.summary(key, number, what="slip")
        files = ledger.attachments(key, number, what=None)  # listed by name on the slip, the read just recorded
    routing = record.routing or {}
    why = routing.get("explanation") if (routing.get("destination") or {}).get("id") == record.destination.id \
        else None
    dest = served.institutions.get(record.destination.id)
    return render(request, "slip.html", served=served, who=key, r=record, why=why, qr=qr_svg(record.number),
                  summary=summary, files=files,
                  contact=dest.contact if dest else None, specialty=resolve_specialty(record.specialty),
                  sources=institution_sources(served, record.destination.id, record.specialty))

"""The worklist a desk lives in: search, filters, counts per state, pages with no cap, overdue marks, and live
updates (server-sent events: one connection per open page; a count badge and the new row marked; a plain reload
shows the same).

The page is one query (:func:`mednet.ledger.worklist.read_worklist`); the live stream is the worker's
:class:`service.live.ChangeFeed`; a changed or new row is fetched as HTML from ``/worklist/rows/{number}`` (the
same macro as the page), so the script only inserts what the server rendered.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.datastructures import QueryParams

from mednet.errors import InvalidRequest, MednetError
from mednet.ledger import ApiKey
from mednet.ledger.states import STATES
from mednet.ledger.worklist import SIDES, WorklistQuery, read_worklist
from mednet.specialties import SPECIALTIES, resolve_specialty
from service.deps import find_region
from service.live import ChangeFeed, event_stream
from service.pages.html import render
from service.pages.ledgerviews import message_page, open_screen
from service.pages.session import stream_key
from service.pages.wording import explain_error

router = APIRouter(prefix="/desk", include_in_schema=False)

#: The worklist's default: every state in which a desk still has something to do.
WORKING_STATES = ("requested", "redirected", "accepted", "booked", "arrived", "completed")
#: Rows on a page.
PER_PAGE = 50


def worklist_query(params: QueryParams) -> WorklistQuery:
    """The worklist's query from the page's form (GET), or :class:`InvalidRequest` naming the field."""
    status = [s for s in params.getlist("status") if s]
    states: tuple[str, ...] = tuple(WORKING_STATES) if not status else () if status == ["all"] else tuple(status)
    specialty = params.get("specialty", "").strip()
    days: dict[str, dt.date | None] = {}
    for name, field in (("from", "created_from"), ("to", "created_to")):
        text = params.get(name, "").strip()
        try:
            days[field] = dt.date.fromisoformat(text) if text else None
        except ValueError:
            raise InvalidRequest(name, text, "must be a date like 2026-12-07", field=name) from None
    page = params.get("page", "1")
    return WorklistQuery(
        side=params.get("side") or "all",  # type: ignore[arg-type]
        states=states, direction=params.get("direction") or None,
        specialty=resolve_specialty(specialty).code if specialty else None,
        priority=params.get("priority") or None, search=params.get("q", "").strip()[:64] or None,
        overdue=params.get("overdue") == "1", page=int(page) if page.isdigit() and int(page) > 0 else 1,
        per_page=PER_PAGE, **days)


@router.get("/{region}/worklist", response_class=HTMLResponse)
def worklist(request: Request, region: str) -> HTMLResponse:
    """The desk's referrals (a planner or an admin: the region's), filtered, a page at a time, with the count in
    each state and, while the page is open, live changes."""
    opened = open_screen(request, region)
    if isinstance(opened, HTMLResponse):
        return opened
    key, served, ledger = opened
    params = request.query_params
    try:
        query = worklist_query(params)
        now = ledger.now()
        with ledger.engine.connect() as conn:
            found = read_worklist(conn, key, query, now, region=served.region.id)
    except MednetError as err:
        problem = explain_error(err)
        return render(request, "worklist.html", status=422, served=served, who=key, problem=problem,
                      found=None, query=None, params=params, states=STATES, sides=SIDES,
                      specialties=SPECIALTIES, now=dt.datetime.now(dt.UTC), active="worklist")
    return render(request, "worklist.html", served=served, who=key, found=found, query=query, params=params,
                  states=STATES, sides=SIDES, specialties=SPECIALTIES, now=now, problem=None, active="worklist",
                  overdue=sum(1 for r in found.rows if r.overdue(now)))


@router.get("/{region}/worklist/rows/{number}", response_class=HTMLResponse)
def worklist_row(request: Request, region: str, number: str) -> HTMLResponse:
    """One worklist row as HTML, for the live script (the referral as this key sees it now). Fetched because a
    change arrived, not by the clerk: like the stream, it keeps no session alive."""
    request.state.desk_key = stream_key(request)
    opened = open_screen(request, region)
    if isinstance(opened, HTMLResponse):
        return opened
    key, served, ledger = opened
    try:
        with ledger.engine.connect() as conn:
            found = read_worklist(conn, key, WorklistQuery(search=number, per_page=1), ledger.now(),
                                  region=served.region.id)
    except MednetError as err:
        return message_page(request, err, served=served, who=key)
    if not found.rows or found.rows[0].number != number:
        return HTMLResponse("", status_code=404)
    return render(request, "_row.html", served=served, who=key, r=found.rows[0], now=ledger.now(), live=True)


@router.get("/{region}/worklist/events")
async def worklist_events(request: Request, region: str) -> Response:
    """The open page's live changes (``text/event-stream``): one connection per page."""
    key: ApiKey | None = await run_in_threadpool(stream_key, request)  # a reconnect keeps no session alive
    if key is None:
        return Response("event: signin\ndata: {}\n\n", status_code=401, media_type="text/event-stream")
    try:
        served = find_region(request, region)
    except MednetError:
        return Response("", status_code=404, media_type="text/event-stream")
    feed: ChangeFeed = request.app.state.live
    subscriber = feed.subscribe(key, served.region.id)
    return StreamingResponse(event_stream(feed, subscriber), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

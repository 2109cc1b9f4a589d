"""A desk's destinations: which publish bookable care for each specialty (a referral quota, dated sessions, a
standing clinic) and which publish none — with whom to ask (the destination's contact as the region data gives
it, and the admins who set referral quotas). See :mod:`mednet.ledger.bookable`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mednet.errors import MednetError
from mednet.ledger import list_keys
from mednet.ledger.bookable import HOW_ZH
from service.pages.html import render
from service.pages.ledgerviews import message_page, open_screen

router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("/{region}/destinations", response_class=HTMLResponse)
def destinations_screen(request: Request, region: str) -> HTMLResponse:
    """The desk's destinations by specialty, those without bookable care first, with whom to ask."""
    opened = open_screen(request, region)
    if isinstance(opened, HTMLResponse):
        return opened
    key, served, ledger = opened
    try:
        care = ledger.destination_care(key)
    except MednetError as err:
        return message_page(request, err, served=served, who=key)
    admins = [k.label for k in list_keys(ledger.engine) if k.role == "admin" and k.revoked_at is None]
    return render(request, "destinations.html", served=served, who=key, care=care, HOW_ZH=HOW_ZH, admins=admins,
                  missing=[c for c in care if c.how in ("none", "walk_in")], active="destinations",
                  own=served.institutions[str(key.institution)].name)

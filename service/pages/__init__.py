"""The referral desk page: Chinese, server-rendered, every asset shipped in the package.

``router`` owns ``/desk``: signing in with the desk's key (``signin``), the
route screen for clerks and the planner's coverage view (``views``), the
ledger's screens — refer, worklist, one referral with its actions, the
printable 转诊单 (``ledgerviews``), a referral's attachments
(``attachmentviews``), which destinations publish bookable care
(``destinationviews``) —, the admin screens (``admin``) and the static files.
Templates live in ``templates/``, the stylesheet and the one script in ``static/``; nothing is
fetched from outside, and no page has inline script or style, so a strict
``Content-Security-Policy: default-src 'self'`` holds.
"""

from fastapi import APIRouter

from service.pages import (
    admin,
    attachmentviews,
    destinationviews,
    indicators,
    ledgerviews,
    signin,
    views,
    worklistviews,
)

router = APIRouter(include_in_schema=False)
# The fixed paths (/desk/signin) and the ledger's screens before the route screen's /desk/{region}.
for _module in (signin, admin, worklistviews, attachmentviews, destinationviews, ledgerviews, indicators, views):
    router.include_router(_module.router)
router.include_router(views.root)

__all__ = ["router"]

"""A referral's attachments on the desk page: upload one (a multipart form on the referral's page) and download
one, for the referral's two desks only; every download is recorded (:mod:`mednet.ledger.attachments`).

A file is always served as a download (``Content-Disposition: attachment``), with ``nosniff`` and a sandboxing
policy, never shown inline.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from mednet.errors import InvalidRequest, MednetError
from mednet.inputs import contains_id_number
from mednet.ledger import ApiKey
from mednet.ledger.attachments import download_headers
from service.deps import find_region, opened_ledger
from service.pages.ledgerviews import message_page, open_screen, problem_zh, referral_page, status_of
from service.pages.session import desk_key
from service.pages.signin import cross_site_refusal, resumable, sign_in_again
from service.pages.wording import DeskProblem

router = APIRouter(prefix="/desk", include_in_schema=False)
UPLOAD_PATH = r"^/desk/(?P<region>[^/]+)/referrals/(?P<number>[^/]+)/attachments$"


@router.post("/{region}/referrals/{number}/attachments", response_class=HTMLResponse)
async def upload_attachment(request: Request, region: str, number: str) -> Response:
    """Attach the chosen file; a refusal (its type by content, its size, the same file twice) comes back on the
    referral's page."""
    if (refused := cross_site_refusal(request)) is not None:
        return refused
    if desk_key(request) is None:
        return sign_in_again(request, {})
    opened = open_screen(request, region)
    if isinstance(opened, HTMLResponse):
        return opened
    key, served, ledger = opened
    limit = request.app.state.settings.max_attachment_bytes
    subject = ""
    try:
        form = await request.form(max_files=1, max_fields=5)
        chosen = form.get("file")
        if not isinstance(chosen, UploadFile) or not chosen.filename:
            raise InvalidRequest("file", None, "is required: choose a file", rule_zh="请先选择要上传的文件")
        subject = "附件" if contains_id_number(chosen.filename) else f"附件“{chosen.filename}”"  # never echoed
        content = await chosen.read(limit + 1)
        ledger.attach(key, number, chosen.filename, content, content_type=chosen.content_type, max_bytes=limit)
    except MednetError as err:
        return referral_page(request, key, served, ledger, number, failed="attach", problem=problem_zh(err, subject),
                             status=status_of(err))
    return RedirectResponse(f"/desk/{region}/referrals/{number}?done=attach", status_code=303)


@resumable(UPLOAD_PATH)
def resume_upload(request: Request, key: ApiKey, match: re.Match[str], fields: dict[str, str]) -> Response:
    """The referral's page after signing in again (a chosen file cannot be carried: it is chosen again)."""
    try:
        served, ledger = find_region(request, match["region"]), opened_ledger(request)
    except MednetError as err:
        return message_page(request, err, who=key)
    return referral_page(request, key, served, ledger, match["number"], failed="attach", status=200,
                         problem=DeskProblem("file", "已重新登录。浏览器不会保留已选择的文件，请重新选择后上传。"))


@router.get("/{region}/referrals/{number}/attachments/{attachment_id}")
def download_attachment(request: Request, region: str, number: str, attachment_id: int) -> Response:
    """The file, as a download, for the referral's two desks; the read is recorded."""
    opened = open_screen(request, region)
    if isinstance(opened, HTMLResponse):
        return opened
    key, served, ledger = opened
    try:
        info, content = ledger.attachment(key, number, attachment_id)
    except MednetError as err:
        return message_page(request, err, served=served)
    return Response(content, media_type=info.media_type,
                    headers=download_headers(info.name, info.media_type, info.id))

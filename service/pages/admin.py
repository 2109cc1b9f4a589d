"""The admin screens (an admin key only): referral quotas (号源) per institution and specialty — set, and see
each released day's used and free units —, the region's service levels per priority — set, or back to the
default — and API keys — create (the key shown once), list, revoke.

The same as ``mednet quotas set|list``, ``mednet service-levels list|set|reset`` and ``mednet keys
create|list|revoke``; every change goes through the ledger (:meth:`mednet.ledger.Ledger.set_quota`,
:meth:`mednet.ledger.Ledger.set_service_level`, :mod:`mednet.ledger.keys`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from mednet.errors import InvalidRequest, MednetError
from mednet.ledger import ApiKey, QuotaIn, create_key, list_keys, revoke_key
from mednet.ledger.ledger import ReadRecords
from mednet.ledger.service_levels import (
    DEFAULT_LEVELS,
    MEASURE_ZH,
    MEASURES,
    PRIORITIES,
    UNIT_ZH,
    UNITS,
    Allowance,
    check_measure,
    check_priority,
)
from mednet.network import resolve_institution
from mednet.specialties import SPECIALTIES
from service.deps import ServedRegion, find_region, opened_ledger, served_regions
from service.pages.html import read_what_zh, render
from service.pages.ledgerviews import message_page, open_form, open_screen, problem_zh, status_of
from service.pages.session import desk_key, read_form
from service.pages.signin import cross_site_refusal, sign_in_again, signed_in_or_page
from service.pages.wording import PRIORITY_ZH, DeskProblem, explain_error, validation_zh

router = APIRouter(prefix="/desk", include_in_schema=False)
QUOTA_FIELDS = ("institution", "specialty", "per_day", "release_days", "note")


def region_admin_page(request: Request, key: ApiKey, served: ServedRegion, template: str,
                      read: Callable[[], dict[str, Any]], **context: Any) -> HTMLResponse:
    """A region's admin screen: ``read`` (what it shows) for an admin key only, else the page saying why."""
    try:
        key.require("admin")
        found = read()
    except MednetError as err:
        return message_page(request, err, served=served, who=key)
    return render(request, template, served=served, who=key, **found, **context)


def quota_page(request: Request, key: ApiKey, served: ServedRegion, ledger, *,  # type: ignore[no-untyped-def]
               values: dict[str, str] | None = None, problem: DeskProblem | None = None, done: str = "",
               status: int = 200) -> HTMLResponse:
    return region_admin_page(request, key, served, "quotas.html", lambda: {"quotas": ledger.quotas(served.region.id)},
                             status=status, values=values or {}, problem=problem, done=done,
                             specialties=SPECIALTIES, active="admin")


@router.get("/{region}/admin/quotas", response_class=HTMLResponse)
def quotas_screen(request: Request, region: str) -> HTMLResponse:
    """Every referral quota of the region, with used and free units per released day, and the form to set one."""
    opened = open_screen(request, region)
    if isinstance(opened, HTMLResponse):
        return opened
    key, served, ledger = opened
    return quota_page(request, key, served, ledger, done=request.query_params.get("done", ""))


@router.post("/{region}/admin/quotas", response_class=HTMLResponse)
async def set_quota(request: Request, region: str) -> Response:
    """Set (or replace) one institution's quota for a specialty."""
    opened = await open_form(request, region)
    if isinstance(opened, HTMLResponse):
        return opened
    key, served, ledger, fields = opened
    values = {k: fields.get(k, "") for k in QUOTA_FIELDS}
    try:
        quota = QuotaIn(institution=values["institution"], specialty=values["specialty"],
                        per_day=values["per_day"] or -1, release_days=values["release_days"] or 5,
                        note=values["note"] or None)
        ledger.set_quota(key, served.region.id, quota)
    except ValidationError as err:
        name, _ = validation_zh(tuple(err.errors()[0]["loc"]), str(err.errors()[0]["msg"]))
        words = {"per_day": "每日号源须为 0 到 10000 的整数。", "release_days": "提前放号天数须为 0 到 90 的整数。",
                 "institution": "请填写机构。", "specialty": "请填写专科。"}.get(name, "请检查输入。")
        return quota_page(request, key, served, ledger, values=values, status=422,
                          problem=DeskProblem(name, words))
    except MednetError as err:
        return quota_page(request, key, served, ledger, values=values, status=status_of(err),
                          problem=explain_error(err))
    inst = served.institutions[resolve_institution(served.G, values["institution"])]
    return quota_page(request, key, served, ledger, done=f"已设置{inst.name}的转诊号源。")


def keys_page(request: Request, key: ApiKey, ledger, *, created: str = "",  # type: ignore[no-untyped-def]
              values: dict[str, str] | None = None, problem: DeskProblem | None = None, done: str = "",
              status: int = 200) -> HTMLResponse:
    try:
        key.require("admin")
    except MednetError as err:
        return message_page(request, err, who=key)
    regions = served_regions(request)
    names = {(r, i.id): i.name for r, s in regions.items() for i in s.region.institutions}
    return render(request, "keys.html", status=status, who=key, keys=list_keys(ledger.engine), names=names,
                  regions=list(regions), created=created, values=values or {}, problem=problem, done=done,
                  active="admin", served=None)


@router.get("/admin/keys", response_class=HTMLResponse)
def keys_screen(request: Request) -> HTMLResponse:
    """Every key (never a secret): who holds it, its role and institution, when made, whether revoked."""
    key = signed_in_or_page(request)
    if isinstance(key, HTMLResponse):
        return key
    try:
        return keys_page(request, key, opened_ledger(request))
    except MednetError as err:
        return message_page(request, err, who=key)


async def admin_form(request: Request) -> tuple[ApiKey, dict[str, str]] | HTMLResponse:
    """An admin screen's form post: from the service's own page, by a signed-in key (else the sign-in page
    carrying what was typed)."""
    if (refused := cross_site_refusal(request)) is not None:
        return refused
    try:
        fields = await read_form(request)
    except MednetError as err:
        return message_page(request, err)
    key = desk_key(request)
    return sign_in_again(request, fields) if key is None else (key, fields)


@router.post("/admin/keys", response_class=HTMLResponse)
async def create_key_form(request: Request) -> Response:
    """Create a key; its clear text is shown once, on the answer to this post."""
    posted = await admin_form(request)
    if isinstance(posted, HTMLResponse):
        return posted
    key, fields = posted
    values = {k: fields.get(k, "") for k in ("role", "label", "region", "institution")}
    ledger = opened_ledger(request)
    try:
        key.require("admin")
        region, institution = values["region"] or None, values["institution"] or None
        if values["role"] == "desk":
            served = find_region(request, region or "")
            institution = resolve_institution(served.G, institution or "", field="institution")
        made, text = create_key(ledger.engine, role=values["role"], label=values["label"], region=region,
                                institution=institution)
    except MednetError as err:
        return keys_page(request, key, ledger, values=values, problem=explain_error(err), status=status_of(err))
    return keys_page(request, key, ledger, created=text, done=f"已创建密钥 {made.id}（{made.label}）。")


@router.post("/admin/keys/{key_id}/revoke", response_class=HTMLResponse)
async def revoke_key_form(request: Request, key_id: str) -> Response:
    """Revoke a key at once."""
    posted = await admin_form(request)
    if isinstance(posted, HTMLResponse):
        return posted
    key, _ = posted
    ledger = opened_ledger(request)
    try:
        key.require("admin")
        gone = revoke_key(ledger.engine, key_id)
    except MednetError as err:
        return keys_page(request, key, ledger, problem=explain_error(err), status=status_of(err))
    return keys_page(request, key, ledger, done=f"已吊销密钥 {gone.id}（{gone.label}）。")


def read_record(request: Request, limit: int) -> tuple[ApiKey, ReadRecords] | HTMLResponse:
    """The signed-in admin and the newest ``limit`` reads; or the page saying why not."""
    key = signed_in_or_page(request)
    if isinstance(key, HTMLResponse):
        return key
    try:
        return key, opened_ledger(request).reads(key, limit=limit)
    except MednetError as err:
        return message_page(request, err, who=key)


@router.get("/admin/reads", response_class=HTMLResponse)
def reads_screen(request: Request) -> HTMLResponse:
    """Who read which referral's clinical summary or attachments, and when (newest first; admins)."""
    found = read_record(request, 1000)
    if isinstance(found, HTMLResponse):
        return found
    return render(request, "reads.html", who=found[0], reads=found[1], served=None, active="admin",
                  names=institution_names(request),
                  labels={k.id: k.label for k in list_keys(opened_ledger(request).engine)})


def institution_names(request: Request) -> dict[str, str]:
    """Every served institution's name by its id (a desk's institution shown by name, not by id)."""
    return {i.id: i.name for s in served_regions(request).values() for i in s.region.institutions}


@router.get("/admin/reads.csv")
def reads_csv(request: Request) -> Response:
    """The same record as CSV (UTF-8 with a byte-order mark), every read kept."""
    answer = read_record(request, 1_000_000)
    if isinstance(answer, HTMLResponse):
        return answer
    found = answer[1]
    out = io.StringIO()
    writer = csv.writer(out)
    names = institution_names(request)
    writer.writerow(["时间", "密钥", "机构", "机构名称", "转诊单", "查看内容"])
    for r in found:
        writer.writerow([r.at.isoformat(), r.key_id, r.institution or "", names.get(r.institution or "", ""),
                         r.referral, read_what_zh(r.what)])
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="summary-reads.csv"'})


# ---------------------------------------------------------------------------- service levels

LEVEL_FIELDS = ("priority", "measure", "amount", "unit", "note", "reset")


def levels_page(request: Request, key: ApiKey, served: ServedRegion, ledger, *,  # type: ignore[no-untyped-def]
                values: dict[str, str] | None = None, problem: DeskProblem | None = None, done: str = "",
                status: int = 200) -> HTMLResponse:
    return region_admin_page(request, key, served, "levels.html",
                             lambda: {"levels": ledger.service_levels(served.region.id)}, status=status,
                             values=values or {}, problem=problem, done=done, active="levels", PRIORITIES=PRIORITIES,
                             MEASURES=MEASURES, UNITS=UNITS, UNIT_ZH=UNIT_ZH, MEASURE_ZH=MEASURE_ZH,
                             defaults=DEFAULT_LEVELS)


@router.get("/{region}/admin/service-levels", response_class=HTMLResponse)
def levels_screen(request: Request, region: str) -> HTMLResponse:
    """The region's service levels per priority (its own or mednet's defaults), and the form to set one."""
    opened = open_screen(request, region)
    if isinstance(opened, HTMLResponse):
        return opened
    return levels_page(request, *opened)


@router.post("/{region}/admin/service-levels", response_class=HTMLResponse)
async def set_levels(request: Request, region: str) -> Response:
    """Set one allowance of the region, or go back to the default."""
    opened = await open_form(request, region)
    if isinstance(opened, HTMLResponse):
        return opened
    key, served, ledger, fields = opened
    values = {k: fields.get(k, "") for k in LEVEL_FIELDS}
    try:
        priority, measure = check_priority(values["priority"]), check_measure(values["measure"])
        if values["reset"] == "yes":
            ledger.set_service_level(key, served.region.id, priority, measure, None)
        else:
            if not values["amount"].isdigit():
                raise InvalidRequest("amount", values["amount"], "must be a whole number",
                                     rule_zh="须为正整数")
            allowance = Allowance(int(values["amount"]), values["unit"])  # type: ignore[arg-type]
            ledger.set_service_level(key, served.region.id, priority, measure, allowance,
                                     note=values["note"] or None)
    except MednetError as err:
        return levels_page(request, key, served, ledger, values=values, status=status_of(err),
                           problem=problem_zh(err, "时长" if getattr(err, "field", "") == "amount" else ""))
    level = ledger.service_levels(served.region.id)[priority]
    words = "恢复为默认" if values["reset"] == "yes" else "设置为"
    return levels_page(request, key, served, ledger, done=f"已将{PRIORITY_ZH[priority]}转诊的“{MEASURE_ZH[measure]}”"
                       f"时限{words} {level.allowance(measure).label_zh}。新的时限从之后开始计时的转诊单起生效。")

"""``GET /indicators``: the bureau's referral and medical-community indicators, for planner and admin keys."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from mednet.errors import Forbidden
from mednet.indicators import Period, compute_indicators, definitions_table, parse_period
from mednet.ledger import ApiKey, Ledger
from service.deps import KeyDep, LedgerDep, ServedRegion, find_region
from service.errors import problem_responses

router = APIRouter(prefix="/indicators", tags=["indicators"])

By = Literal["region", "county", "community", "institution", "specialty", "direction", "priority", "month"]


class IndicatorRow(BaseModel):
    """One indicator of one group: ``value`` is null and ``status`` 未采集 when its denominator is missing."""

    model_config = ConfigDict(frozen=True)

    period: str
    by: str
    group: str
    group_label: str
    dimension: str
    indicator: str
    label_zh: str
    unit: Literal["count", "share", "minutes", "km"]
    value: float | None
    numerator: float | None
    denominator: float | None
    status: Literal["ok", "未采集"]
    target: float | None
    source: str


class IndicatorDefinition(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    label_zh: str
    dimension: str
    unit: str
    numerator: str
    denominator: str | None
    filters: str
    source: str
    target: float | None
    target_note: str | None


class IndicatorsAnswer(BaseModel):
    """The period's indicators per group, the previous period's beside them, and every definition."""

    model_config = ConfigDict(frozen=True)

    region: str
    period: str
    previous_period: str
    by: By
    rows: list[IndicatorRow] = Field(description="this period, one row per group and indicator")
    previous: list[IndicatorRow] = Field(description="the period of the same length before, same shape")
    definitions: list[IndicatorDefinition]


@router.get("", response_model=IndicatorsAnswer, responses=problem_responses(401, 403, 404, 422, 503))
async def get_indicators(
    request: Request,
    ledger: LedgerDep,
    key: KeyDep,
    region: Annotated[str, Query(min_length=1, max_length=100, description="region id, e.g. `quzhou`")],
    period: Annotated[str, Query(min_length=4, max_length=7, description="2026 (a year), 2026-Q3 (a quarter) "
                                 "or 2026-07 (a month), China Standard Time")],
    by: Annotated[By, Query(description="group by (institution dimensions: the referral's origin)")] = "region",
) -> IndicatorsAnswer:
    """Referral indicators (volume, outcomes, timeliness, flows, quotas, recommendation match and bypass) from
    the ledger, and the county indicators from imported monthly aggregates, computed by the database."""
    check_reader(key, region)
    p = parse_period(period)
    served = find_region(request, region)
    return await run_in_threadpool(answer, ledger, served, p, by)


def check_reader(key: ApiKey, region: str) -> None:
    """:class:`Forbidden` (→ 403) unless a planner or admin key, of this region when it is bound to one."""
    key.require("planner", "admin")
    if key.region is not None and key.region != region:
        raise Forbidden(f"key {key.id} reads region {key.region}, not {region}", reason="other_region")


def answer(ledger: Ledger, served: ServedRegion, p: Period, by: By) -> IndicatorsAnswer:
    """This period's and the previous period's indicators (slow work: run in the thread pool)."""
    now = ledger.now()
    rows = _rows(compute_indicators(ledger.engine, served.region, p, by=by, now=now))
    previous = _rows(compute_indicators(ledger.engine, served.region, p.previous(), by=by, now=now))
    return IndicatorsAnswer(region=served.region.id, period=p.label, previous_period=p.previous().label, by=by,
                            rows=rows, previous=previous,
                            definitions=[IndicatorDefinition.model_validate(d) for d in definitions_table()])


def _rows(frame: pd.DataFrame) -> list[IndicatorRow]:
    records: list[dict[str, Any]] = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return [IndicatorRow.model_validate(r) for r in records]

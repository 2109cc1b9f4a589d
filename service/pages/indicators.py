"""The bureau's indicator page (planner and admin keys): one table per dimension with this period, the previous
one and the national target where one is stated; charts drawn on the server as SVG (monthly trend, the flow
matrix between communities and levels, the bypass list with its map). Nothing is fetched from outside.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mednet.errors import Forbidden, InvalidRequest, MednetError
from mednet.indicators import (
    DIMENSIONS,
    INDICATORS,
    NOT_COLLECTED,
    bypass_table,
    compute_indicators,
    flow_matrix,
    parse_period,
)
from mednet.indicators.access import access_shares
from mednet.indicators.charts import bypass_map, matrix_chart, trend_chart
from mednet.indicators.periods import CST, Period
from mednet.indicators.render import format_value
from service.pages.html import render
from service.pages.ledgerviews import message_page, open_screen

router = APIRouter(prefix="/desk", include_in_schema=False)
BY_ZH = {"region": "全区域", "county": "区县", "community": "医共体", "institution": "机构（转出方）",
         "specialty": "专科", "direction": "转诊方向", "priority": "紧急程度", "month": "月份"}
#: Indicators drawn month by month over the period's year.
TRENDS = ("referrals", "down_share", "acceptance_rate", "response_median", "match_share", "left_county_share")


@dataclass(frozen=True)
class Cell:
    now: str
    before: str


@dataclass(frozen=True)
class Table:
    key: str
    label: str
    groups: list[str]
    rows: list[tuple[str, str, list[Cell], str]]  # indicator key, label, cells per group, target


def tables(now: pd.DataFrame, before: pd.DataFrame) -> list[Table]:
    """One table per dimension: per indicator and group, this period's and the previous period's value."""
    shown = lambda f: {(r.group, r.indicator): format_value(r.value, r.unit) for r in f.itertuples()}  # noqa: E731
    this, last = shown(now), shown(before)
    groups = list(dict.fromkeys(now["group"]))
    labels = dict(zip(now["group"], now["group_label"], strict=True))
    out = []
    for dim in DIMENSIONS:
        members = [i for i in INDICATORS.values() if i.dimension == dim.key]
        rows = [(i.key, i.label_zh,
                 [Cell(this.get((g, i.key), NOT_COLLECTED), last.get((g, i.key), NOT_COLLECTED)) for g in groups],
                 format_value(i.target, i.unit) if i.target is not None else "—") for i in members]
        out.append(Table(dim.key, dim.label_zh, [labels[g] for g in groups], rows))
    return out


def period_of(request: Request) -> tuple[str, str, dict[str, str]]:
    """The form's period (default: the current quarter in China) and grouping, and their errors in Chinese."""
    today = dt.datetime.now(CST)
    period = request.query_params.get("period", f"{today.year}-Q{(today.month - 1) // 3 + 1}").strip()
    by = request.query_params.get("by", "community")
    errors: dict[str, str] = {}
    try:
        parse_period(period)
    except InvalidRequest:
        errors["period"] = f"统计期须为年份（2026）、季度（2026-Q3）或月份（2026-07），收到“{period}”。"
    if by not in BY_ZH:
        errors["by"] = f"分组须为 {'、'.join(BY_ZH.values())} 之一。"
        by = "community"
    return period, by, errors


@router.get("/{region}/indicators", response_class=HTMLResponse)
def indicators_screen(request: Request, region: str) -> HTMLResponse:
    """The indicator page of a region for a period (``?period=2026-Q3&by=community``)."""
    opened = open_screen(request, region)
    if isinstance(opened, HTMLResponse):
        return opened
    key, served, ledger = opened
    try:
        key.require("planner", "admin")
        if key.region is not None and key.region != served.region.id:
            raise Forbidden(f"key {key.id} reads region {key.region}", reason="region")
    except MednetError as err:
        return message_page(request, err, served=served, who=key)
    period, by, errors = period_of(request)
    context: dict[str, Any] = dict(served=served, who=key, period=period, by=by, errors=errors, BY_ZH=BY_ZH,
                                   active="indicators")
    if errors:
        return render(request, "indicators.html", status=422, **context)
    p = parse_period(period)
    now = ledger.now()
    engine, data = ledger.engine, served.region
    this = compute_indicators(engine, data, p, by=by, now=now)
    before = compute_indicators(engine, data, p.previous(), by=by, now=now)
    context.update(p=p, tables=tables(this, before), access=access_table(served.G),
                   **charts(engine, data, served.G, p, now=now))
    return render(request, "indicators.html", **context)


def access_table(G: Any) -> tuple[str, list[str], list[tuple[str, list[str]]]]:
    """The share of people (or centres) within each limit, a row per specialty: (basis, headers, rows)."""
    frame = access_shares(G)
    headers = [f"{limit:g} {'分钟' if unit == 'minutes' else '公里'}"
               for unit, limit in dict.fromkeys(zip(frame["unit"], frame["limit"], strict=True))]
    rows = [(label, [format_value(v, "share") for v in part["share"]])
            for label, part in frame.groupby("label_zh", sort=False)]
    return (str(frame["basis"].iloc[0]) if len(frame) else "", headers, rows)


def charts(engine: Any, data: Any, G: Any, p: Period, *, now: dt.datetime) -> dict[str, Any]:
    """The trend charts over the period's year, the flow matrix and the bypass list with its map."""
    year = parse_period(str(p.year))
    months = compute_indicators(engine, data, year, by="month", now=now)
    trends = []
    for name in TRENDS:
        ind = INDICATORS[name]
        part = months[months["indicator"] == name]
        line = [(r.group, None if pd.isna(r.value) else float(r.value)) for r in part.itertuples()]
        trends.append((ind.label_zh, trend_chart(ind.label_zh, line, unit=ind.unit)))
    matrix = flow_matrix(engine, data, p)
    bypass = bypass_table(engine, data, G, p)
    hospital = {i.id: ("primary" if i.tier.is_primary_care else "hospital") for i in data.institutions}
    points = {i.id: (i.lat, i.lon, hospital[i.id]) for i in data.institutions}
    return dict(trends=trends, matrix=matrix, matrix_svg=matrix_chart(matrix), bypass=bypass.head(30),
                bypass_svg=bypass_map(points, bypass.head(30)), bypass_total=int(bypass["referrals"].sum()))

"""The indicators as tidy DataFrames: one row per group and indicator, from the facts the database counted.

``compute_indicators`` opens one connection, makes the region's places table in it, asks
:mod:`mednet.indicators.ledger_sql` and :mod:`mednet.indicators.aggregates_sql` for the facts of every group,
and divides them as :mod:`mednet.indicators.definitions` says. A share whose denominator is missing or zero is
not a number: its ``value`` is None and its ``status`` is 未采集.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from mednet.errors import InvalidRequest
from mednet.indicators import aggregates_sql, ledger_sql
from mednet.indicators.definitions import INDICATORS, NOT_COLLECTED, Indicator
from mednet.indicators.periods import Period, parse_period
from mednet.indicators.places import place_rows, places_relation
from mednet.ledger.store import quotas
from mednet.models import Region

#: Columns of :func:`compute_indicators`' frame, in order.
COLUMNS = ("period", "by", "group", "group_label", "dimension", "indicator", "label_zh", "unit", "value",
           "numerator", "denominator", "status", "target", "source")
DIRECTION_ZH = {"up": "上转", "down": "下转", "emergency": "急诊转诊"}
PRIORITY_ZH = {"routine": "普通", "urgent": "加急", "emergency": "急诊"}
#: PostgreSQL's memory for the hashes of one indicator query (its default, 4 MB, spills a county-year to disk).
WORK_MEM = "64MB"
#: Facts the ledger always knows (a group without referrals has 0 of them).
_LEDGER_COUNTS = ("created", "up", "down", "emergency", "lateral", "up_down", "up_returned", "accepted", "rejected",
                  "cancelled", "expired", "booked", "no_show", "closed", "responded", "overdue", "located",
                  "left_county", "up_left_county", "within_community", "routed", "matched", "bypassed",
                  "quota_booked", "quota_used")


def as_period(period: str | Period) -> Period:
    return period if isinstance(period, Period) else parse_period(period)


def check_by(by: str) -> str:
    """``by`` when it is a grouping the indicators know; :class:`InvalidRequest` otherwise.

    >>> check_by("community")
    'community'
    """
    if by not in ledger_sql.BY:
        raise InvalidRequest("by", by, "must be one of " + ", ".join(ledger_sql.BY), rule_zh="必须是 "
                             + "、".join(ledger_sql.BY) + " 之一")
    return by


def compute_indicators(engine: Engine, region: Region, period: str | Period, *, by: str = "region",
                       now: dt.datetime | None = None) -> pd.DataFrame:
    """Every indicator of ``region`` over ``period`` (``2026``, ``2026-Q3``, ``2026-07``) per group of ``by``
    (region, county, community, institution, specialty, direction, priority, month), as a tidy frame of
    :data:`COLUMNS`. ``now`` (default: the clock) bounds the moment overdue referrals are counted at."""
    p, by = as_period(period), check_by(by)
    as_of = min(p.end, now or dt.datetime.now(dt.UTC))
    with engine.connect() as conn:
        facts = gather_facts(conn, region, p, by, as_of=as_of)
        conn.rollback()
    groups = group_labels(region, p, by, facts)
    rows = [_row(p, by, key, label, ind, facts.get(key, {}))
            for key, label in groups.items() for ind in INDICATORS.values()]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def gather_facts(conn: Connection, region: Region, p: Period, by: str, *,
                 as_of: dt.datetime) -> dict[str, dict[str, float | None]]:
    """The facts of every group key from the ledger, the quotas and the monthly aggregates."""
    if conn.dialect.name == "postgresql":
        # every statement below reads the same snapshot of the ledger (the counts, the minute histograms, the
        # quotas and the aggregates are separate statements)
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        # for this transaction only: hash joins in memory, no JIT compile,
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{WORK_MEM}'")
        conn.exec_driver_sql("SET LOCAL jit = off")
        # and grouping by hashing: the planner multiplies the distinct values of the grouped columns (and
        # takes a month or a number of minutes for as many values as there are moments) into about a group
        # per referral and would sort the whole period (measured: 6.0 CPU s against 3.8 for a county-year),
        # or walk it in origin order through an index to sort it a part at a time (by month: 3.5 CPU s
        # against 1.1 for the counts); the rows grouped are in fact a few thousand
        conn.exec_driver_sql("SET LOCAL enable_sort = off")
        conn.exec_driver_sql("SET LOCAL enable_incremental_sort = off")
    places = places_relation(region)
    facts: dict[str, dict[str, float | None]] = {}
    sources = (ledger_sql.ledger_facts(conn, places, region.id, p.start, p.end, by, as_of=as_of),
               _quota_offered(conn, region, p, by),
               aggregates_sql.aggregate_facts(conn, places, region.id, p.months(), by))
    for source in sources:
        for key, values in source.items():
            facts.setdefault(key, {}).update(values)
    return facts


def _quota_offered(conn: Connection, region: Region, p: Period, by: str) -> dict[str, dict[str, float | None]]:
    """Units offered: the quotas in force now, ``per_day`` × the period's days (quotas keep no history)."""
    if by in ("direction", "priority"):
        return {}
    place = {row["id"]: row for row in place_rows(region)}
    out: dict[str, dict[str, float | None]] = {}
    for rule in conn.execute(sa.select(quotas).where(quotas.c.region == region.id)).mappings():
        if by == "month":
            for month in p.months():
                one = parse_period(month)
                _add(out, month, rule["per_day"] * one.days)
            continue
        holder = place.get(rule["institution"], {})
        key = {"region": region.id, "specialty": rule["specialty"], "institution": rule["institution"]}.get(
            by, holder.get(by))
        _add(out, "" if key is None else str(key), rule["per_day"] * p.days)
    return out


def _add(out: dict[str, dict[str, float | None]], key: str, units: int) -> None:
    bucket = out.setdefault(key, {})
    bucket["quota_offered"] = (bucket.get("quota_offered") or 0.0) + units


def group_labels(region: Region, p: Period, by: str, facts: dict[str, Any]) -> dict[str, str]:
    """Every group of ``by`` with its label: all of the region's (counties, communities, institutions,
    months) even without a fact, and whatever else the facts hold (specialties, priorities)."""
    from mednet.specialties import resolve_specialty

    labels: dict[str, str] = {}
    if by == "region":
        labels[region.id] = region.name
    elif by == "county":
        labels.update({c: c for c in sorted({i.county for i in region.institutions})})
    elif by == "community":
        labels.update({c.id: c.name for c in region.communities})
    elif by == "institution":
        labels.update({i.id: i.name for i in region.institutions})
    elif by == "month":
        labels.update({m: m for m in p.months()})
    elif by == "direction":
        labels.update(DIRECTION_ZH)
    for key in sorted(facts):
        if key in labels:
            continue
        if key == "":
            labels[key] = "（不在任何医共体）" if by == "community" else "（未知）"
        elif by == "specialty":
            try:
                labels[key] = resolve_specialty(key).label_zh
            except LookupError:
                labels[key] = key
        else:
            labels[key] = PRIORITY_ZH.get(key, key)
    return labels


def _row(p: Period, by: str, key: str, label: str, ind: Indicator, facts: dict[str, float | None]) -> dict[str, Any]:
    def fact(name: str | None) -> float | None:
        if name is None:
            return None
        value = facts.get(name)
        if value is None and name in _LEDGER_COUNTS:
            return 0.0
        return value

    numerator, denominator = fact(ind.numerator), fact(ind.denominator)
    if ind.unit == "count":
        value = numerator
    elif ind.unit == "minutes":
        value = numerator if denominator else None
    else:
        value = numerator / denominator if numerator is not None and denominator else None
    return dict(period=p.label, by=by, group=key, group_label=label, dimension=ind.dimension, indicator=ind.key,
                label_zh=ind.label_zh, unit=ind.unit, value=value, numerator=numerator, denominator=denominator,
                status="ok" if value is not None else NOT_COLLECTED, target=ind.target, source=ind.source)


def rejection_reasons(engine: Engine, region: Region, period: str | Period, *, by: str = "region") -> pd.DataFrame:
    """Rejections per group and coded reason (label in Chinese; 未填写 where none was coded)."""
    from mednet.ledger.reasons import reason_label

    p, by = as_period(period), check_by(by)
    with engine.connect() as conn:
        places = places_relation(region)
        rows = ledger_sql.rejection_reasons(conn, places, region.id, p.start, p.end, by)
        conn.rollback()
    for row in rows:
        row["label_zh"] = reason_label(row["reason_code"]) if row["reason_code"] else "未填写"
    return pd.DataFrame(rows, columns=["key", "reason_code", "label_zh", "count"])

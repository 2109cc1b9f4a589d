"""The ledger's facts for the indicators, counted by the database (SQLAlchemy Core, one query shape for SQLite
and PostgreSQL): nothing loads the referrals into Python, only one row per group comes back.

Two constructs compile differently per engine and mean the same: :class:`WholeMinutes` (the whole minutes
from one moment to a later one) and :class:`CstMonth` (a moment's month in China Standard Time, ``YYYY-MM``).
Medians and 90th percentiles are the *nearest rank* (the value at rank ⌈q·n⌉ of the n values in order) of
whole minutes, read off a histogram the database counts.

    >>> from sqlalchemy.dialects import postgresql, sqlite
    >>> from mednet.ledger.store import referrals
    >>> str(CstMonth(referrals.c.created_at).compile(dialect=sqlite.dialect()))
    "strftime('%Y-%m', referrals.created_at, '+8 hours')"
    >>> str(CstMonth(referrals.c.created_at).compile(dialect=postgresql.dialect()))
    "to_char(referrals.created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')"
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from mednet.ledger.states import OPEN_STATES
from mednet.ledger.store import events, referrals

#: What a referral can be grouped by; the institution dimensions are the origin's (the quota facts: the
#: institution holding the quota).
By = Literal["region", "county", "community", "institution", "specialty", "direction", "priority", "month"]
BY: tuple[str, ...] = ("region", "county", "community", "institution", "specialty", "direction", "priority", "month")
CLOSED_STATES = ("completed", "rejected", "cancelled", "expired")
#: The states of a referral whose patient arrived (no transition leads out of them but ``send_home``, which
#: keeps the state).
ARRIVED_STATES = ("arrived", "completed")
#: Time statistics: (name, q in per cent).
QUANTILES = (("median", 50), ("p90", 90))


class WholeMinutes(FunctionElement[int]):
    """Whole minutes from ``earlier`` to ``later`` (both UTC stamps of the ledger): each moment cut to its whole
    second, the difference divided by 60 and rounded down — the same integer on both engines."""

    type = sa.Integer()
    inherit_cache = True
    name = "whole_minutes"


@compiles(WholeMinutes, "sqlite")
def _minutes_sqlite(element: WholeMinutes, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"((CAST(strftime('%s', {later}) AS INTEGER) - CAST(strftime('%s', {earlier}) AS INTEGER)) / 60)"


@compiles(WholeMinutes, "postgresql")
def _minutes_pg(element: WholeMinutes, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)  # date_part: float8, not numeric
    return (f"CAST(FLOOR((FLOOR(date_part('epoch', {later})) - FLOOR(date_part('epoch', {earlier}))) / 60) "
            "AS INTEGER)")


class CstMonth(FunctionElement[str]):
    """A moment's month (``YYYY-MM``) in China Standard Time."""

    type = sa.String()
    inherit_cache = True
    name = "cst_month"


@compiles(CstMonth, "sqlite")
def _month_sqlite(element: CstMonth, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m', {compiler.process(next(iter(element.clauses)), **kw)}, '+8 hours')"


@compiles(CstMonth, "postgresql")
def _month_pg(element: CstMonth, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(next(iter(element.clauses)), **kw)} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')"


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return sa.case((condition, 1), else_=0)


def _key(by: str, r: Any, place: Any, region: str) -> ColumnElement[Any]:
    if by == "region":
        return sa.literal(region, sa.String())
    if by in ("county", "community"):
        return place.c[by]
    if by == "institution":
        return place.c.id
    if by == "month":
        return CstMonth(r.c.created_at)
    return r.c[by]


def _in_period(r: Any, region: str, start: dt.datetime, end: dt.datetime) -> ColumnElement[bool]:
    return sa.and_(r.c.region == region, r.c.created_at >= start, r.c.created_at < end)


def base_query(places: sa.Table, region: str, start: dt.datetime, end: dt.datetime, by: str) -> sa.CTE:
    """One row per referral created in the period: its group key and what the indicators ask of it.

    Everything comes from the referral's own row: when it was answered (``answered_at``: accepted or
    rejected) and booked (``booked_at``), which the ledger keeps there as it records those events (each at most
    once in a referral's life, :mod:`mednet.ledger.states`). It was accepted when it was answered and is not
    rejected (nothing leads out of ``rejected``), and the patient arrived when its state is ``arrived`` or
    ``completed`` (nothing leads out of those two). Only the down-referral children are looked up."""
    r = referrals.alias("r")
    o, d = places.alias("o"), places.alias("d")
    c = referrals.alias("c")
    home = sa.select(c.c.parent_id).where(c.c.direction == "down", c.c.parent_id.is_not(None)) \
        .group_by(c.c.parent_id).subquery("home")
    located = sa.and_(o.c.county.is_not(None), d.c.county.is_not(None))
    return sa.select(
        _key(by, r, o, region).label("key"),
        r.c.direction, r.c.state, r.c.due_at,
        _flag(r.c.proposed_id.is_not(None)).label("routed"),
        _flag(r.c.proposed_id == r.c.destination_id).label("matched"),
        _flag(home.c.parent_id.is_not(None)).label("returned"),
        _flag(sa.and_(r.c.answered_at.is_not(None), r.c.state != "rejected")).label("accepted"),
        _flag(r.c.answered_at.is_not(None)).label("answered"),
        _flag(r.c.booked_at.is_not(None)).label("booked"),
        WholeMinutes(r.c.answered_at, r.c.created_at).label("response_min"),
        WholeMinutes(r.c.booked_at, r.c.created_at).label("booking_min"),
        _flag(located).label("located"),
        _flag(o.c.primary_care == d.c.primary_care).label("lateral"),
        _flag(sa.and_(located, o.c.county != d.c.county)).label("left_county"),
        _flag(sa.and_(o.c.community.is_not(None), o.c.community == d.c.community)).label("within_community"),
    ).select_from(
        r.outerjoin(home, home.c.parent_id == r.c.id)
        .outerjoin(o, o.c.id == r.c.origin_id)
        .outerjoin(d, d.c.id == r.c.destination_id)
    ).where(_in_period(r, region, start, end)).cte("facts")


def ledger_facts(conn: Connection, places: sa.Table, region: str, start: dt.datetime, end: dt.datetime, by: str,
                 *, as_of: dt.datetime) -> dict[str, dict[str, float | None]]:
    """Facts per group key: counts of :mod:`mednet.indicators.definitions`, time statistics in whole minutes.

    One statement: the counts per key, and beside them (``UNION ALL`` over the same per-referral rows) how many
    referrals per key took each whole number of minutes to be answered and to be booked; the nearest-rank
    median and 90th percentile are read off those small histograms here."""
    f = base_query(places, region, start, end, by)
    booked = f.c.booked == 1
    counts = {
        "created": sa.func.count(),
        "up": sa.func.sum(_flag(f.c.direction == "up")),
        "down": sa.func.sum(_flag(f.c.direction == "down")),
        "emergency": sa.func.sum(_flag(f.c.direction == "emergency")),
        "lateral": sa.func.sum(f.c.lateral),
        "up_returned": sa.func.sum(_flag(sa.and_(f.c.direction == "up", f.c.returned == 1))),
        "accepted": sa.func.sum(f.c.accepted),
        "rejected": sa.func.sum(_flag(f.c.state == "rejected")),
        "cancelled": sa.func.sum(_flag(f.c.state == "cancelled")),
        "expired": sa.func.sum(_flag(f.c.state == "expired")),
        "booked": sa.func.sum(f.c.booked),
        "no_show": sa.func.sum(_flag(sa.and_(booked, f.c.state == "expired"))),  # expired: never arrived
        "closed": sa.func.sum(_flag(f.c.state.in_(CLOSED_STATES))),
        "responded": sa.func.sum(f.c.answered),
        "overdue": sa.func.sum(_flag(sa.and_(f.c.state.in_(sorted(OPEN_STATES)), f.c.due_at < as_of))),
        "located": sa.func.sum(f.c.located),
        "left_county": sa.func.sum(f.c.left_county),
        "up_left_county": sa.func.sum(_flag(sa.and_(f.c.direction == "up", f.c.left_county == 1))),
        "within_community": sa.func.sum(f.c.within_community),
        "routed": sa.func.sum(f.c.routed),
        "matched": sa.func.sum(f.c.matched),
        "bypassed": sa.func.sum(_flag(sa.and_(f.c.routed == 1, f.c.matched == 0))),
    }
    nothing = [sa.cast(sa.null(), sa.Integer).label(k) for k in counts if k != "created"]
    parts = [sa.select(sa.literal("counts").label("part"), f.c.key, sa.cast(sa.null(), sa.Integer).label("minute"),
                       *(v.label(k) for k, v in counts.items())).group_by(f.c.key)]
    for metric in ("response", "booking"):
        minute = f.c[f"{metric}_min"]
        parts.append(sa.select(sa.literal(metric).label("part"), f.c.key, minute.label("minute"),
                               sa.func.count().label("created"), *nothing)
                     .where(minute.is_not(None)).group_by(f.c.key, minute))
    out: dict[str, dict[str, float | None]] = {}
    histograms: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for row in conn.execute(sa.union_all(*parts)).mappings():
        key = _text(row["key"])
        if row["part"] == "counts":
            facts: dict[str, float | None] = {k: float(row[k] or 0) for k in counts}
            facts["up_down"] = facts["up"] + facts["down"]  # type: ignore[operator]
            out.setdefault(key, {}).update(facts)
        else:
            histograms.setdefault((key, row["part"]), []).append((int(row["minute"]), int(row["created"])))
    for (key, metric), histogram in histograms.items():
        for name, q in QUANTILES:
            out.setdefault(key, {})[f"{metric}_{name}"] = float(nearest_rank(histogram, q))
    return out


def nearest_rank(histogram: list[tuple[int, int]], q: int) -> int:
    """The value at rank ⌈q·n/100⌉ of the values counted in ``histogram`` ((value, how many) pairs).

    >>> nearest_rank([(5, 1), (1, 2), (9, 1)], 50), nearest_rank([(5, 1), (1, 2), (9, 1)], 90)
    (1, 9)
    """
    n = sum(k for _, k in histogram)
    rank, seen = (n * q + 99) // 100, 0
    for value, k in sorted(histogram):
        seen += k
        if seen >= rank:
            return value
    raise ValueError("empty histogram")


def rejection_reasons(conn: Connection, places: sa.Table, region: str, start: dt.datetime, end: dt.datetime,
                      by: str) -> list[dict[str, Any]]:
    """Rejections per group key and coded reason (``None``: no code was given)."""
    r, e, o = referrals.alias("r"), events.alias("e"), places.alias("o")
    key = _key(by, r, o, region).label("key")
    statement = sa.select(key, e.c.reason_code, sa.func.count().label("n")) \
        .select_from(e.join(r, r.c.id == e.c.referral_id).outerjoin(o, o.c.id == r.c.origin_id)) \
        .where(e.c.action == "reject", _in_period(r, region, start, end)).group_by(key, e.c.reason_code)
    return [dict(key=_text(row.key), reason_code=row.reason_code, count=int(row.n)) for row in conn.execute(statement)]


def quota_facts(conn: Connection, places: sa.Table, region: str, start: dt.datetime, end: dt.datetime,
                by: str) -> dict[str, dict[str, float]]:
    """Quota units booked and used per group key of the institution holding the quota (its referrals'
    destination)."""
    r, d = referrals.alias("r"), places.alias("d")
    key = _key(by, r, d, region)
    statement = sa.select(key.label("key"), sa.func.count().label("booked"),
                          sa.func.sum(_flag(r.c.state.in_(ARRIVED_STATES))).label("used")) \
        .select_from(r.outerjoin(d, d.c.id == r.c.destination_id)) \
        .where(_in_period(r, region, start, end), r.c.slot.like("quota/%"), r.c.booked_at.is_not(None)) \
        .group_by(key)
    return {_text(row.key): {"quota_booked": float(row.booked), "quota_used": float(row.used or 0)}
            for row in conn.execute(statement)}


def pair_counts(conn: Connection, region: str, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """Referrals per (origin, destination, proposal, direction, stated reason for leaving the proposal): the
    observed flows, for the flow matrix and the bypass table."""
    r = referrals
    columns = (r.c.origin_id, r.c.destination_id, r.c.proposed_id, r.c.direction, r.c.destination_why)
    statement = sa.select(*columns, sa.func.count().label("n")).where(_in_period(r, region, start, end)) \
        .group_by(*columns)
    return [dict(row._mapping) for row in conn.execute(statement)]


def _text(key: object) -> str:
    return "" if key is None else str(key)

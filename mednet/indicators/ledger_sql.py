"""The ledger's facts for the indicators, counted by the database (SQLAlchemy Core, one query shape for SQLite
and PostgreSQL): nothing loads the referrals into Python, only one row per group comes back.

One construct compiles differently per engine and means the same: :class:`WholeMinutes` (the whole minutes
from one moment to a later one). A moment's month in China Standard Time (:func:`month_key`) is read off
comparisons with the period's month beginnings, so no row is converted to a time zone.
Medians and 90th percentiles are the *nearest rank* (the value at rank ⌈q·n⌉ of the n values in order) of
whole minutes, read off a histogram the database counts.

    >>> import datetime as dt
    >>> from sqlalchemy.dialects import sqlite
    >>> from mednet.ledger.store import referrals
    >>> start = dt.datetime(2026, 6, 30, 16, tzinfo=dt.UTC)
    >>> print(month_key(referrals.c.created_at, start, start + dt.timedelta(days=62)).compile(
    ...     dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    CASE WHEN (referrals.created_at < '2026-07-31 16:00:00.000000') THEN '2026-07' \
WHEN (referrals.created_at < '2026-08-31 16:00:00.000000') THEN '2026-08' END
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from mednet.indicators.periods import month_starts
from mednet.indicators.places import Places
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


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return sa.case((condition, 1), else_=0)


def month_key(moment: ColumnElement[Any], start: dt.datetime, end: dt.datetime) -> ColumnElement[Any]:
    """The month (``YYYY-MM``, China Standard Time) of ``moment``, a moment from ``start`` to before ``end``:
    the first of the months whose end is after it (NULL after ``end``), by comparisons of the moment as
    stored, the same on both engines."""
    months = month_starts(start, end)
    ends = [first for _, first in months[1:]] + [end]
    return sa.case(*((moment < until, sa.literal(month, sa.String())) for (month, _), until in zip(months, ends,
                                                                                                   strict=True)))


def _key(by: str, r: Any, place: Any, region: str, start: dt.datetime, end: dt.datetime) -> ColumnElement[Any]:
    if by == "region":
        return sa.literal(region, sa.String())
    if by in ("county", "community"):
        return place.c[by]
    if by == "institution":
        return place.c.id
    if by == "month":
        return month_key(r.c.created_at, start, end)
    return r.c[by]


def _in_period(r: Any, region: str, start: dt.datetime, end: dt.datetime) -> ColumnElement[bool]:
    return sa.and_(r.c.region == region, r.c.created_at >= start, r.c.created_at < end)


def _raw_key(by: str, r: Any, start: dt.datetime, end: dt.datetime) -> ColumnElement[Any]:
    """What a referral is grouped by before the places are joined: its own column for the referral
    dimensions, nothing for the institution ones (the origin's id is grouped anyway)."""
    if by == "month":
        return month_key(r.c.created_at, start, end)
    if by in ("specialty", "direction", "priority"):
        return r.c[by]
    return sa.literal("", sa.String())


def _place_key(by: str, raw: Any, o: Any, region: str) -> ColumnElement[Any]:
    if by == "region":
        return sa.literal(region, sa.String())
    if by in ("county", "community"):
        return o.c[by]
    if by == "institution":
        return o.c.id
    return raw.c.raw_key


def grouped_referrals(places: Places, region: str, start: dt.datetime, end: dt.datetime, by: str, *,
                      as_of: dt.datetime) -> sa.CTE:
    """The period's referrals grouped by origin, destination, direction and state (and the key, for the
    referral dimensions), each group's referrals (``n``) and how many of them were routed, matched the
    proposal, were sent home, answered, booked, overdue and booked on a quota unit; the places then joined
    to these few rows for the group key and the place flags.

    One pass over the period's referrals, grouped by a few of their own columns: the database can count
    it in parallel workers. Everything comes from the referral's own row: when it was answered
    (``answered_at``: accepted or rejected) and booked (``booked_at``), which the ledger keeps there as it
    records those events (each at most once in a referral's life, :mod:`mednet.ledger.states`). It was
    accepted when it was answered and is not rejected (nothing leads out of ``rejected``), and the patient
    arrived when its state is ``arrived`` or ``completed`` (nothing leads out of those two). An up-referral
    was sent home when it is the parent of a down-referral: the down-referrals' parents are read off their
    own index (migration 0006) and looked up as a set. A common table expression: the counts by origin and
    the quota units by destination read the same grouped rows."""
    r, c = referrals.alias("r"), referrals.alias("c")
    sent_home = sa.select(c.c.parent_id).where(c.c.direction == "down", c.c.parent_id.is_not(None))
    keys = (r.c.origin_id, r.c.destination_id, _raw_key(by, r, start, end).label("raw_key"), r.c.direction,
            r.c.state)

    def how_many(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return sa.func.sum(_flag(condition))

    raw = sa.select(
        *keys, sa.func.count().label("n"),
        how_many(r.c.proposed_id.is_not(None)).label("routed"),
        how_many(r.c.proposed_id == r.c.destination_id).label("matched"),
        how_many(sa.and_(r.c.direction == "up", r.c.id.in_(sent_home))).label("returned"),
        how_many(r.c.answered_at.is_not(None)).label("answered"),
        how_many(r.c.booked_at.is_not(None)).label("booked"),
        how_many(sa.and_(r.c.state.in_(sorted(OPEN_STATES)), r.c.due_at < as_of)).label("overdue"),
        how_many(sa.and_(r.c.slot.like("quota/%"), r.c.booked_at.is_not(None))).label("quota"),
    ).where(_in_period(r, region, start, end)).group_by(*keys).subquery("raw")
    o, d = places.alias("o"), places.alias("d")
    located = sa.and_(o.c.county.is_not(None), d.c.county.is_not(None))
    return sa.select(
        _place_key(by, raw, o, region).label("key"), _place_key(by, raw, d, region).label("destination_key"),
        raw.c.direction, raw.c.state, raw.c.n, raw.c.routed, raw.c.matched, raw.c.returned, raw.c.answered,
        raw.c.booked, raw.c.overdue, raw.c.quota,
        _flag(located).label("located"),
        _flag(o.c.primary_care == d.c.primary_care).label("lateral"),
        _flag(sa.and_(located, o.c.county != d.c.county)).label("left_county"),
        _flag(sa.and_(o.c.community.is_not(None), o.c.community == d.c.community)).label("within_community"),
    ).select_from(raw.outerjoin(o, o.c.id == raw.c.origin_id).outerjoin(d, d.c.id == raw.c.destination_id)) \
        .cte("facts")


def minutes_histogram(places: Places, region: str, start: dt.datetime, end: dt.datetime, by: str) -> sa.Select:
    """Referrals per part (``response``: whole minutes to be answered, ``booking``: to be booked), group key
    and whole minutes, both in one pass over the period's referrals (each row read once, paired with the two
    parts). The places are joined before grouping here: grouped by origin first, the many distinct minutes
    would make a group of nearly every row."""
    r = referrals.alias("r")
    part = sa.union_all(sa.select(sa.literal("response", sa.String()).label("part")),
                        sa.select(sa.literal("booking", sa.String()).label("part"))).subquery("parts")
    moment = sa.case((part.c.part == "response", r.c.answered_at), else_=r.c.booked_at)
    minute = WholeMinutes(moment, r.c.created_at)
    o = places.alias("minutes_o")
    key = _key(by, r, o, region, start, end)
    return sa.select(part.c.part, key.label("key"), minute.label("minute"), sa.func.count().label("n")) \
        .select_from(r.join(part, sa.true()).outerjoin(o, o.c.id == r.c.origin_id)) \
        .where(_in_period(r, region, start, end), moment.is_not(None)) \
        .group_by(part.c.part, key, minute)


def ledger_facts(conn: Connection, places: Places, region: str, start: dt.datetime, end: dt.datetime, by: str,
                 *, as_of: dt.datetime) -> dict[str, dict[str, float | None]]:
    """Facts per group key: counts of :mod:`mednet.indicators.definitions`, time statistics in whole minutes.

    Two statements, each one pass over the period's referrals: the counts per key and the quota units booked
    and used per key of their destination (the institution holding the quota), both from
    :func:`grouped_referrals`; then how many referrals per key took each whole number of minutes to be
    answered and to be booked (:func:`minutes_histogram`, a few narrow rows per key), whose nearest-rank
    median and 90th percentile are read off here."""
    f = grouped_referrals(places, region, start, end, by, as_of=as_of)

    def n_if(condition: ColumnElement[bool], column: Any = f.c.n) -> ColumnElement[Any]:
        return sa.func.sum(sa.case((condition, column), else_=0))

    counts = {
        "created": sa.func.sum(f.c.n),
        "up": n_if(f.c.direction == "up"),
        "down": n_if(f.c.direction == "down"),
        "emergency": n_if(f.c.direction == "emergency"),
        "lateral": n_if(f.c.lateral == 1),
        "up_returned": sa.func.sum(f.c.returned),  # counted of up-referrals only
        "accepted": n_if(f.c.state != "rejected", f.c.answered),
        "rejected": n_if(f.c.state == "rejected"),
        "cancelled": n_if(f.c.state == "cancelled"),
        "expired": n_if(f.c.state == "expired"),
        "booked": sa.func.sum(f.c.booked),
        "no_show": n_if(f.c.state == "expired", f.c.booked),  # expired: never arrived
        "closed": n_if(f.c.state.in_(CLOSED_STATES)),
        "responded": sa.func.sum(f.c.answered),
        "overdue": sa.func.sum(f.c.overdue),
        "located": n_if(f.c.located == 1),
        "left_county": n_if(f.c.left_county == 1),
        "up_left_county": n_if(sa.and_(f.c.direction == "up", f.c.left_county == 1)),
        "within_community": n_if(f.c.within_community == 1),
        "routed": sa.func.sum(f.c.routed),
        "matched": sa.func.sum(f.c.matched),
        "bypassed": sa.func.sum(f.c.routed - f.c.matched),  # matched ones were routed
    }
    quota = {"quota_booked": sa.func.sum(f.c.quota),
             "quota_used": n_if(f.c.state.in_(ARRIVED_STATES), f.c.quota)}
    columns = (*counts, *quota)

    def part(name: str, key: Any, values: dict[str, Any]) -> sa.Select:
        return sa.select(sa.literal(name, sa.String()).label("part"), key.label("key"),
                         *(values.get(c, sa.cast(sa.null(), sa.Integer)).label(c) for c in columns))

    statement = sa.union_all(
        part("counts", f.c.key, counts).group_by(f.c.key),
        part("quota", f.c.destination_key, quota).where(f.c.quota > 0).group_by(f.c.destination_key))
    out: dict[str, dict[str, float | None]] = {}
    for row in conn.execute(statement).mappings():
        key = _text(row["key"])
        if row["part"] == "counts":
            facts: dict[str, float | None] = {k: float(row[k] or 0) for k in counts}
            facts["up_down"] = facts["up"] + facts["down"]  # type: ignore[operator]
            out.setdefault(key, {}).update(facts)
        else:
            out.setdefault(key, {}).update({k: float(row[k] or 0) for k in quota})
    histograms: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for metric, key, minute, n in conn.execute(minutes_histogram(places, region, start, end, by)):
        histograms.setdefault((_text(key), metric), []).append((int(minute), int(n)))
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


def rejection_reasons(conn: Connection, places: Places, region: str, start: dt.datetime, end: dt.datetime,
                      by: str) -> list[dict[str, Any]]:
    """Rejections per group key and coded reason (``None``: no code was given)."""
    r, e, o = referrals.alias("r"), events.alias("e"), places.alias("o")
    key = _key(by, r, o, region, start, end).label("key")
    statement = sa.select(key, e.c.reason_code, sa.func.count().label("n")) \
        .select_from(e.join(r, r.c.id == e.c.referral_id).outerjoin(o, o.c.id == r.c.origin_id)) \
        .where(e.c.action == "reject", _in_period(r, region, start, end)).group_by(key, e.c.reason_code)
    return [dict(key=_text(row.key), reason_code=row.reason_code, count=int(row.n)) for row in conn.execute(statement)]


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

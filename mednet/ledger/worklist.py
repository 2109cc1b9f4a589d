"""A desk's worklist: one page of its referrals, filtered and searched, with the count in each state — read in
one SQL statement.

The desk sees the referrals to or from its institution and those it passed on
(redirected); a planner or an admin sees the region's. Filters: side
(incoming, outgoing, passed on), states, direction, specialty, priority, the
day it was created (from, to; China Standard Time), overdue only, and a
search that finds a referral number or a patient id (exact, or the start of
either). Pages of ``per_page`` rows, newest first, with no cap on how far one
pages. The counts per state follow every filter but the states, so a desk
sees how many wait in each state while it looks at one.

The one statement: the page's rows ``UNION ALL`` the counts per state (a
``GROUP BY`` over the same filtered rows), told apart by a marker column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mednet.errors import InvalidRequest
from mednet.ledger.keys import ApiKey
from mednet.ledger.service_levels import MEASURE_OF_STATE
from mednet.ledger.slots import CST, check_day
from mednet.ledger.states import STATES
from mednet.ledger.store import events, referrals

Side = Literal["all", "incoming", "outgoing", "passed"]
SIDES: tuple[Side, ...] = ("all", "incoming", "outgoing", "passed")
MAX_PER_PAGE = 200
#: The columns a worklist row shows.
COLUMNS = ("number", "region", "state", "origin_id", "destination_id", "specialty", "direction", "priority",
           "patient_ref", "slot", "created_at", "updated_at", "due_at")


@dataclass(frozen=True)
class WorklistQuery:
    """What a desk asks of its worklist."""

    side: Side = "all"
    states: tuple[str, ...] = ()
    direction: str | None = None
    specialty: str | None = None
    priority: str | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    search: str | None = None
    overdue: bool = False
    page: int = 1
    per_page: int = 50

    def __post_init__(self) -> None:
        if self.side not in SIDES:
            raise InvalidRequest("side", self.side, f"must be one of {', '.join(SIDES)}")
        for state in self.states:
            if state not in STATES:
                raise InvalidRequest("status", state, f"must be one of {', '.join(STATES)}")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise InvalidRequest("per_page", self.per_page, f"must be between 1 and {MAX_PER_PAGE}")
        if self.page < 1:
            raise InvalidRequest("page", self.page, "must be 1 or more")
        for name in ("created_from", "created_to"):
            if (day := getattr(self, name)) is not None:
                check_day(name, day)


@dataclass(frozen=True)
class WorklistRow:
    """One referral as the worklist shows it, and which side of the desk it is on."""

    number: str
    region: str
    state: str
    origin_id: str
    destination_id: str
    specialty: str
    direction: str
    priority: str
    patient_ref: str
    slot: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    due_at: dt.datetime | None
    side: Side

    def overdue(self, now: dt.datetime) -> bool:
        return self.due_at is not None and self.state in MEASURE_OF_STATE and self.due_at <= now


@dataclass(frozen=True)
class Worklist:
    """A page of rows, the number of rows the filters keep, and the count in each state (states filter aside)."""

    rows: tuple[WorklistRow, ...]
    total: int
    counts: dict[str, int] = field(default_factory=dict)
    page: int = 1
    per_page: int = 50

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _aware(value: Any) -> Any:
    return value.replace(tzinfo=dt.UTC) if isinstance(value, dt.datetime) and value.tzinfo is None else value


def worklist_statement(actor: ApiKey, query: WorklistQuery, now: dt.datetime, *,
                       region: str | None = None) -> sa.CompoundSelect:
    """The one statement behind a worklist page (see the module's docstring)."""
    r = referrals.c
    mine = str(actor.institution) if actor.role == "desk" else None
    where: list[sa.ColumnElement[bool]] = []
    if mine is not None:
        passed = sa.select(events.c.referral_id).where(events.c.actor_institution == mine,
                                                       events.c.action == "redirect")
        sides = {"incoming": r.destination_id == mine, "outgoing": r.origin_id == mine,
                 "passed": sa.and_(r.id.in_(passed), r.origin_id != mine, r.destination_id != mine)}
        where += [r.region == actor.region,
                  sa.or_(*sides.values()) if query.side == "all" else sides[query.side]]
    elif region is not None:
        where.append(r.region == region)
    if query.direction:
        where.append(r.direction == query.direction)
    if query.specialty:
        where.append(r.specialty == query.specialty)
    if query.priority:
        where.append(r.priority == query.priority)
    if query.created_from:
        where.append(r.created_at >= _day_start(query.created_from))
    if query.created_to:
        where.append(r.created_at < _day_start(query.created_to + dt.timedelta(days=1)))
    if query.search:
        text = query.search.strip()
        where.append(sa.or_(r.number == text, r.patient_ref == text, r.number.startswith(text, autoescape=True),
                            r.patient_ref.startswith(text, autoescape=True)))
    if query.overdue:
        where += [r.due_at <= now, r.state.in_(sorted(MEASURE_OF_STATE))]
    kept = [*where, r.state.in_(query.states)] if query.states else where
    page = sa.select(sa.literal("row").label("kind"), r.id.label("rid"), *(r[c] for c in COLUMNS),
                     sa.literal(0).label("n")) \
        .where(*kept).order_by(r.id.desc()).limit(query.per_page).offset((query.page - 1) * query.per_page)
    nulls = [sa.null().label(c) if c != "state" else r.state for c in COLUMNS]
    counts = sa.select(sa.literal("count").label("kind"), sa.null().label("rid"), *nulls,
                       sa.func.count().label("n")).where(*where) \
        .group_by(r.state)
    return sa.union_all(page.subquery().select(), counts)


def read_worklist(conn: Connection, actor: ApiKey, query: WorklistQuery, now: dt.datetime, *,
                  region: str | None = None) -> Worklist:
    """A page of the worklist and its counts, from :func:`worklist_statement`."""
    mine = str(actor.institution) if actor.role == "desk" else None
    rows: list[tuple[int, WorklistRow]] = []
    counts: dict[str, int] = {}
    for found in conn.execute(worklist_statement(actor, query, now, region=region)).mappings():
        if found["kind"] == "count":
            counts[found["state"]] = int(found["n"])
            continue
        values = {c: _aware(found[c]) for c in COLUMNS}
        side: Side = "incoming" if mine is None or values["destination_id"] == mine else \
            "outgoing" if values["origin_id"] == mine else "passed"
        rows.append((int(found["rid"]), WorklistRow(**values, side=side)))
    rows.sort(key=lambda pair: -pair[0])  # newest first (a UNION keeps no order of its own)
    total = sum(n for s, n in counts.items() if not query.states or s in query.states)
    ordered: dict[str, int] = {str(state): counts[state] for state in STATES if state in counts}
    return Worklist(tuple(row for _, row in rows), total, ordered, query.page, query.per_page)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=CST).astimezone(dt.UTC)


__all__ = ["MAX_PER_PAGE", "SIDES", "Side", "Worklist", "WorklistQuery", "WorklistRow", "read_worklist",
           "worklist_statement"]

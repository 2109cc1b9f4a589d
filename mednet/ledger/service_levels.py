"""Service levels: how long a receiving desk has to answer a referral, and then to book it.

Each priority has two allowances: a time to **respond** (accept, reject or
redirect; the clock starts when the referral reaches the desk — created, or
redirected to it) and a time to **book** (the clock starts at acceptance).
A referral still waiting, or still unbooked, when its allowance has run out
is *overdue*. The clock's end is worked out when the clock starts and kept
on the referral (``referrals.due_at``), with the allowances in force then.

Defaults (mednet's, for a region that sets none; the urgent and routine
figures are the ones the desks asked for): routine 2 working days, urgent
2 hours, emergency 30 minutes to respond and 1 hour to book. A region's
admin may set each allowance (``Ledger.set_service_level``; kept in the
``service_levels`` table).

**Working days** are the days China's State Council notice makes working
days — Monday to Friday, except public holidays, plus the weekend days
worked in exchange (调休) — as the ``chinese-calendar`` package ships them;
for a year it does not cover yet, Monday to Friday. An allowance in working
days is counted in whole working days of China Standard Time: time runs on
working days only, so 2 working days from Friday 16:00 end on Tuesday 16:00,
and from Saturday 10:00 at the end of Tuesday. Hours and minutes run on
every day.

>>> friday = dt.datetime(2024, 10, 25, 16, 0, tzinfo=CST)
>>> Allowance(2, "working_days").due(friday).astimezone(CST).isoformat()
'2024-10-29T16:00:00+08:00'
>>> Allowance(2, "hours").due(friday).astimezone(CST).isoformat()
'2024-10-25T18:00:00+08:00'
>>> DEFAULT_LEVELS["routine"].respond.label_zh
'2 个工作日'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from mednet.errors import InvalidRequest

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

Priority = Literal["routine", "urgent", "emergency"]
Measure = Literal["respond", "book"]
Unit = Literal["minutes", "hours", "working_days"]
PRIORITIES: tuple[Priority, ...] = ("emergency", "urgent", "routine")
MEASURES: tuple[Measure, ...] = ("respond", "book")
UNITS: tuple[Unit, ...] = ("minutes", "hours", "working_days")
#: China Standard Time: working days are days there.
CST = dt.timezone(dt.timedelta(hours=8), "CST")
UNIT_ZH = {"minutes": "分钟", "hours": "小时", "working_days": "个工作日"}
MEASURE_ZH = {"respond": "应答（接收、拒绝或改转）", "book": "预约号源"}
#: The states whose clock runs, and which allowance it runs on.
MEASURE_OF_STATE: dict[str, Measure] = {"requested": "respond", "redirected": "respond", "accepted": "book"}
#: Longest allowance that may be set, per unit (a month of working days; beyond that it is no service level).
MAX_AMOUNT = {"minutes": 60 * 24 * 7, "hours": 24 * 30, "working_days": 30}


@dataclass(frozen=True)
class Allowance:
    """A time allowed: ``amount`` minutes, hours, or working days."""

    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise InvalidRequest("unit", self.unit, f"must be one of {', '.join(UNITS)}",
                                 rule_zh="须为分钟、小时或工作日")
        if not 1 <= self.amount <= MAX_AMOUNT[self.unit]:
            raise InvalidRequest("amount", self.amount, f"must be between 1 and {MAX_AMOUNT[self.unit]} "
                                 f"{self.unit}", rule_zh=f"须在 1 到 {MAX_AMOUNT[self.unit]} {UNIT_ZH[self.unit]}之间")

    def due(self, start: dt.datetime) -> dt.datetime:
        """When this allowance, started at ``start`` (aware), runs out; in UTC."""
        if self.unit == "working_days":
            return add_working_days(start, self.amount)
        minutes = self.amount * (60 if self.unit == "hours" else 1)
        return (start + dt.timedelta(minutes=minutes)).astimezone(dt.UTC)

    @property
    def label_zh(self) -> str:
        return f"{self.amount} {UNIT_ZH[self.unit]}"

    @property
    def text(self) -> str:
        """``2 working_days``, ``30 minutes``: how the command line reads and prints it."""
        return f"{self.amount} {self.unit}"


@dataclass(frozen=True)
class ServiceLevel:
    """A priority's two allowances, and whether they are the defaults or the region's own."""

    priority: Priority
    respond: Allowance
    book: Allowance
    source: Literal["default", "region"] = "default"

    def allowance(self, measure: Measure) -> Allowance:
        return self.respond if measure == "respond" else self.book


DEFAULT_LEVELS: dict[str, ServiceLevel] = {
    "emergency": ServiceLevel("emergency", Allowance(30, "minutes"), Allowance(1, "hours")),
    "urgent": ServiceLevel("urgent", Allowance(2, "hours"), Allowance(2, "hours")),
    "routine": ServiceLevel("routine", Allowance(2, "working_days"), Allowance(2, "working_days")),
}


# ---------------------------------------------------------------------------- working days


def calendar_covers(day: dt.date) -> bool:
    """True when the holiday calendar knows ``day``'s year (else working days are Monday to Friday)."""
    import chinese_calendar

    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


def is_working_day(day: dt.date) -> bool:
    """A working day in China: the State Council's calendar where published, else Monday to Friday.

    >>> is_working_day(dt.date(2024, 10, 1)), is_working_day(dt.date(2024, 10, 12))  # National Day; a 调休 Saturday
    (False, True)
    >>> is_working_day(dt.date(2099, 6, 1)), is_working_day(dt.date(2099, 6, 6))  # beyond the calendar: Mon–Fri
    (True, False)
    """
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """The moment ``days`` whole working days of time have run from ``start`` (time runs on working days only,
    China Standard Time); in UTC.

    >>> saturday = dt.datetime(2024, 10, 26, 10, 0, tzinfo=CST)
    >>> add_working_days(saturday, 2).astimezone(CST).isoformat()
    '2024-10-30T00:00:00+08:00'
    >>> before_holiday = dt.datetime(2024, 9, 30, 9, 0, tzinfo=CST)  # the last day before National Day week
    >>> add_working_days(before_holiday, 1).astimezone(CST).isoformat()
    '2024-10-08T09:00:00+08:00'
    """
    if start.tzinfo is None:
        raise InvalidRequest("start", start, "must carry its time zone")
    if days < 0:
        raise InvalidRequest("days", days, "must be >= 0")
    position = start.astimezone(CST)
    remaining = dt.timedelta(days=days)
    day = position.date()
    while True:
        if is_working_day(day):
            available = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), CST) - position
            if remaining <= available:
                return (position + remaining).astimezone(dt.UTC)
            remaining -= available
        day += dt.timedelta(days=1)
        position = dt.datetime.combine(day, dt.time(), CST)


# ---------------------------------------------------------------------------- a referral's clock


def due_at(state: str, priority: str, since: dt.datetime,
           levels: Mapping[str, ServiceLevel] | None = None) -> dt.datetime | None:
    """When a referral in ``state`` since ``since`` becomes overdue (None: no clock runs in that state).

    >>> start = dt.datetime(2024, 10, 28, 9, 0, tzinfo=CST)
    >>> due_at("requested", "urgent", start).astimezone(CST).strftime("%m-%d %H:%M")
    '10-28 11:00'
    >>> due_at("booked", "urgent", start) is None
    True
    """
    measure = MEASURE_OF_STATE.get(state)
    if measure is None:
        return None
    level = (levels or DEFAULT_LEVELS).get(priority) or DEFAULT_LEVELS.get(check_priority(priority))
    assert level is not None  # every priority has a default
    return level.allowance(measure).due(since)


def is_overdue(due: dt.datetime | None, now: dt.datetime) -> bool:
    """True when a clock with end ``due`` has run out at ``now``."""
    return due is not None and due <= now


# ---------------------------------------------------------------------------- a region's settings


def check_priority(priority: str) -> Priority:
    if priority not in PRIORITIES:
        raise InvalidRequest("priority", priority, f"must be one of {', '.join(PRIORITIES)}",
                             rule_zh="须为急诊、加急或普通")
    return priority


def check_measure(measure: str) -> Measure:
    if measure not in MEASURES:
        raise InvalidRequest("measure", measure, f"must be one of {', '.join(MEASURES)}",
                             rule_zh="须为应答（respond）或预约（book）")
    return measure


def parse_allowance(text: str) -> Allowance:
    """``"2 working_days"``, ``"2h"``, ``"30 minutes"``, ``"2 工作日"`` as an :class:`Allowance`.

    >>> parse_allowance("2h"), parse_allowance("2 工作日").text
    (Allowance(amount=2, unit='hours'), '2 working_days')
    """
    words = {"m": "minutes", "min": "minutes", "minute": "minutes", "minutes": "minutes", "分钟": "minutes",
             "h": "hours", "hour": "hours", "hours": "hours", "小时": "hours", "wd": "working_days",
             "working_day": "working_days", "working_days": "working_days", "工作日": "working_days",
             "个工作日": "working_days"}
    text = str(text).strip()
    digits = len(text) - len(text.lstrip("0123456789"))
    unit = words.get(text[digits:].strip().lower())
    if not digits or unit is None:
        raise InvalidRequest("allowance", text, "must be a whole number and a unit: 30 minutes, 2 hours, "
                             "2 working_days", rule_zh="须为整数加单位，如 30 分钟、2 小时、2 工作日")
    return Allowance(int(text[:digits]), unit)  # type: ignore[arg-type]


def read_levels(conn: Connection, region: str) -> dict[str, ServiceLevel]:
    """The region's service level for every priority: its own settings over the defaults."""
    import sqlalchemy as sa

    from mednet.ledger.store import service_levels

    found = dict(DEFAULT_LEVELS)
    rows = conn.execute(sa.select(service_levels).where(service_levels.c.region == region)).mappings()
    for row in rows:
        priority = row["priority"]
        if priority not in found:
            continue
        allowance = Allowance(row["amount"], row["unit"])
        if row["measure"] == "respond":
            found[priority] = replace(found[priority], source="region", respond=allowance)
        elif row["measure"] == "book":
            found[priority] = replace(found[priority], source="region", book=allowance)
    return found


def set_level(conn: Connection, *, region: str, priority: str, measure: str, allowance: Allowance,
              note: str | None, now: dt.datetime) -> None:
    """Set one allowance of a region (replacing the one set before); referrals whose clock is already running
    keep the end it had."""
    from mednet.ledger.store import dialect_insert, service_levels

    values = dict(region=region, priority=check_priority(priority), measure=check_measure(measure),
                  amount=allowance.amount, unit=allowance.unit, note=note, updated_at=now)
    statement = dialect_insert(conn)(service_levels).values(**values)
    conn.execute(statement.on_conflict_do_update(
        index_elements=["region", "priority", "measure"],
        set_={k: statement.excluded[k] for k in ("amount", "unit", "note", "updated_at")}))


def reset_level(conn: Connection, *, region: str, priority: str, measure: str) -> None:
    """Go back to the default for one allowance of a region."""
    from mednet.ledger.store import service_levels

    t = service_levels.c
    conn.execute(service_levels.delete().where(t.region == region, t.priority == check_priority(priority),
                                               t.measure == check_measure(measure)))


__all__ = ["CST", "DEFAULT_LEVELS", "MEASURES", "MEASURE_OF_STATE", "MEASURE_ZH", "PRIORITIES", "UNITS", "UNIT_ZH",
           "Allowance", "Measure", "Priority", "ServiceLevel", "Unit", "add_working_days", "calendar_covers",
           "check_measure", "check_priority", "due_at", "is_overdue", "is_working_day", "parse_allowance",
           "read_levels", "reset_level", "set_level"]

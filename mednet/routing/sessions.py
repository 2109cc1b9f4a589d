"""The session calendar: whether a scheduled session falls in the booking window, and how to name it.

A session is taken to run 08:00–12:00 (morning), 14:00–17:30 (afternoon),
18:00–21:00 (evening) or 08:00–17:30 (all day or unstated); it is in the
window when it has not ended at ``when`` and starts before the window
closes. Dates outside ``valid_from``..``valid_until`` never count.
``every_weeks`` > 1 counts every N-th week from the first such weekday on
or after ``valid_from``; with no ``valid_from`` its weeks are unknown, so,
like a session with no weekday ("weekly, day to be arranged"), it is judged
by the same rule on every day it might be held: it counts when the window
holds it on each of them (a whole cycle), and its day is unknown when on
some but not all.

    >>> from mednet.models import Session
    >>> tuesday = Session(weekday="tue", part="afternoon")
    >>> monday = dt.datetime(2024, 10, 28, 9, 0, tzinfo=CST)
    >>> first_in_window(tuesday, monday, 7)
    (datetime.date(2024, 10, 29), 'tue')
    >>> session_text(tuesday, dt.date(2024, 10, 29))
    '2024-10-29（星期二）下午'
    >>> session_text(tuesday, dt.date(2024, 10, 29), "en")
    'Tuesday 2024-10-29 afternoon'
"""

from __future__ import annotations

import datetime as dt

from mednet.models import WEEKDAYS, Session
from mednet.routing.answers import Lang
from mednet.routing.request import CST, check_when

#: When each part of the day runs (start, end), for the booking window.
PART_HOURS: dict[str | None, tuple[dt.time, dt.time]] = {
    "morning": (dt.time(8), dt.time(12)),
    "afternoon": (dt.time(14), dt.time(17, 30)),
    "evening": (dt.time(18), dt.time(21)),
    "all_day": (dt.time(8), dt.time(17, 30)),
    None: (dt.time(8), dt.time(17, 30)),
}
_WEEKDAY_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def window_start(when: dt.datetime | None) -> dt.datetime:
    """The start of the booking window: ``when`` checked, or now in China Standard Time."""
    checked = check_when(when)
    return dt.datetime.now(CST) if checked is None else checked


def first_in_window(session: Session, when: dt.datetime, days: int) -> tuple[dt.date | None, str | None] | None:
    """The first date the session is held in the window, ``(date, weekday)``; ``(None, ...)`` when not dated."""
    end = when + dt.timedelta(days=days)
    period = session.cycle_days
    start_day, stop_day = when.date(), end.date()
    if not session.dates_known:
        held, possible = _days_held(session, when, days)
        return (None, session.weekday) if held == possible else None
    assert session.weekday is not None  # dates known
    wd = WEEKDAYS.index(session.weekday)
    begin, finish = PART_HOURS[session.part]
    day = start_day + dt.timedelta(days=(wd - start_day.weekday()) % 7)
    if session.valid_from and session.every_weeks > 1:
        first = session.valid_from + dt.timedelta(days=(wd - session.valid_from.weekday()) % 7)
        if day < first:
            day = first
        else:
            day += dt.timedelta(days=(-(day - first).days) % period)
    while day <= stop_day:
        in_validity = (session.valid_from is None or day >= session.valid_from) and (
            session.valid_until is None or day <= session.valid_until)
        opens = dt.datetime.combine(day, begin, tzinfo=when.tzinfo)
        closes = dt.datetime.combine(day, finish, tzinfo=when.tzinfo)
        if in_validity and closes > when and opens < end:
            return (day, session.weekday)
        day += dt.timedelta(days=period if session.every_weeks > 1 else 7)
    return None


def day_unknown(session: Session, when: dt.datetime, days: int) -> bool:
    """Whether a session may fall in the window but its day is not published: no weekday (or a cycle with no
    first date) and a window, within the session's validity, that holds some days but not a whole cycle.

    >>> monday = dt.datetime(2024, 10, 28, 9, 0)
    >>> day_unknown(Session(), monday, 5), day_unknown(Session(), monday, 7)
    (True, False)
    >>> day_unknown(Session(weekday="tue"), monday, 5)
    False
    """
    if session.dates_known:
        return False
    held, possible = _days_held(session, when, days)
    return 0 < held < possible


def _days_held(session: Session, when: dt.datetime, days: int) -> tuple[int, int]:
    """For a session whose dates are unknown: on how many of the days of its cycle it might be held (its
    weekday, or any day) the window would hold it by the rule for dated sessions (the session's hours on a valid
    day not ended at ``when`` and starting before the window closes), and how many such days the cycle has.

    >>> monday = dt.datetime(2019, 3, 11, 9, 0)
    >>> _days_held(Session(valid_from=dt.date(2019, 3, 18)), monday, 7)  # 08:00 on the 18th is before 09:00
    (1, 7)
    >>> _days_held(Session(), monday, 7), _days_held(Session(weekday="tue", every_weeks=2), monday, 7)
    ((7, 7), (1, 2))
    """
    end = when + dt.timedelta(days=days)
    begin, finish = PART_HOURS[session.part]
    cycle = session.cycle_days
    wd = None if session.weekday is None else WEEKDAYS.index(session.weekday)
    held = set()
    day = when.date()
    while day <= end.date():
        if (wd is None or day.weekday() == wd) \
                and (session.valid_from is None or day >= session.valid_from) \
                and (session.valid_until is None or day <= session.valid_until) \
                and dt.datetime.combine(day, finish, tzinfo=when.tzinfo) > when \
                and dt.datetime.combine(day, begin, tzinfo=when.tzinfo) < end:
            held.add(day.toordinal() % cycle)
        day += dt.timedelta(days=1)
    return len(held), cycle if wd is None else session.every_weeks


def session_text(session: Session, date: dt.date | None, lang: Lang = "zh") -> str:
    """The session as a desk reads it, in Chinese (``lang="zh"``) or English.

    >>> session_text(Session(part="afternoon"), None)
    '每周下午，日期待定'
    >>> session_text(Session(weekday="tue", part="afternoon", every_weeks=2), None, "en")
    'every 2 weeks on Tuesday afternoon, date to be confirmed'
    """
    if lang == "en":
        part = {None: "", "all_day": " all day"}.get(session.part, f" {session.part}")
        if session.weekday is None:
            every = "weekly" if session.every_weeks == 1 else f"every {session.every_weeks} weeks"
            return f"{every}{part}, day to be arranged"
        day = _WEEKDAY_EN[WEEKDAYS.index(session.weekday)]
        if date is None:
            return f"every {session.every_weeks} weeks on {day}{part}, date to be confirmed"
        return f"{day} {date.isoformat()}{part}"
    part_zh = _PART_ZH[session.part]
    every_zh = "每周" if session.every_weeks == 1 else f"每{session.every_weeks}周"
    if session.weekday is None:
        return f"{every_zh}{part_zh}，日期待定"
    day_zh = _WEEKDAY_ZH[WEEKDAYS.index(session.weekday)]
    if date is None:
        return f"{every_zh}{day_zh}{part_zh}，具体日期待确认"
    return f"{date.isoformat()}（{day_zh}）{part_zh}"


def day_not_published(lang: Lang = "zh", *, booking: str | None = None) -> str:
    """The mark of a session whose day is not published, so not known to fall in the booking window; with the
    centre's booking channel when known.

    >>> day_not_published("en")
    'day not published: ask the centre / see the booking channel'
    >>> day_not_published(booking="闵行捷医")
    '日期未公布：请询问该中心或查看预约渠道（闵行捷医）'
    """
    text = _DAY_NOT_PUBLISHED[lang]
    if booking:
        text += f"（{booking}）" if lang == "zh" else f" ({booking})"
    return text


_WEEKDAY_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_PART_ZH = {None: "", "all_day": "全天", "morning": "上午", "afternoon": "下午", "evening": "晚上"}
_DAY_NOT_PUBLISHED = {"zh": "日期未公布：请询问该中心或查看预约渠道",
                      "en": "day not published: ask the centre / see the booking channel"}

"""Bookable slots: from the capabilities' scheduled sessions and from referral quotas (号源).

Two kinds, each named by a slot id that says everything needed to check it:

- ``session/<institution>/<specialty>/<date>/<part>/<n>``: unit ``n`` of a
  dated session (a visiting expert's Tuesday afternoon). A session gives the
  capability's ``weekly_slots`` spread over its sessions a week, or
  ``session_slots`` units where the region does not count them (a setting,
  4 by default: an assumption, not a published figure). Sessions "day to be
  arranged" have no date and give no slot. Bookable within the region's
  ``booking_days`` from today.
- ``quota/<institution>/<specialty>/<date>``: one day of a referral quota
  that an admin sets per institution and specialty (``per_day`` units,
  released ``release_days`` ahead: Shanghai's platform releases specialist
  slots to community doctors 5 days ahead).

Taking a slot is done by the database: a session unit is a row with a
unique ``exclusive_slot`` (``INSERT … ON CONFLICT DO NOTHING``), a quota unit
a conditional ``… SET used = used + 1 WHERE used < capacity`` (an upsert that makes the day's counter
on its first unit).
A hold is a claim with ``held_until``; once that has passed, the next taker
of the same slot removes it in its own transaction.

>>> parse_slot("session/mh-hongqiao/tcm_paediatrics/2024-10-29/afternoon/2")
SlotRef(kind='session', institution='mh-hongqiao', specialty='tcm_paediatrics', day=datetime.date(2024, 10, 29), \
part='afternoon', unit=2)
>>> parse_slot("quota/sh-xinhua/paediatrics/2024-10-30").text
'quota/sh-xinhua/paediatrics/2024-10-30'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mednet.errors import InvalidRequest, SlotUnavailable
from mednet.ledger.store import claims, dialect_insert, insert_ignoring_conflict, quota_days, quotas
from mednet.ledger.writes import record_lapsed_hold
from mednet.models import WEEKDAYS, Institution, Session

#: Units a session gives where the region does not count its slots (``weekly_slots``); an assumption.
SESSION_SLOTS = 4
#: Days ahead a quota is released unless the admin says otherwise (Shanghai's 5-day window).
RELEASE_DAYS = 5
#: China Standard Time: "today" of a booking window is a date there.
CST = dt.timezone(dt.timedelta(hours=8), "CST")
PARTS = ("morning", "afternoon", "evening", "all_day")

# Statements built once (see ledger.py): the counter's rule ``used < capacity`` lives in _take_unit.
_QUOTA_RULE = quotas.select().where(quotas.c.region == sa.bindparam("region"),
                                    quotas.c.institution == sa.bindparam("institution"),
                                    quotas.c.specialty == sa.bindparam("specialty"))
_DELETE_EXPIRED = claims.delete().where(claims.c.slot == sa.bindparam("at_slot"),
                                        claims.c.held_until <= sa.bindparam("now")) \
    .returning(claims.c.referral_id, claims.c.held_until)
_GIVE_BACK = quota_days.update().where(quota_days.c.slot == sa.bindparam("counter")) \
    .values(used=quota_days.c.used - sa.bindparam("units"))
_INSERT_CLAIM = claims.insert()
_RELEASE = claims.delete().where(claims.c.referral_id == sa.bindparam("rid")) \
    .returning(claims.c.slot, claims.c.exclusive_slot)
_CLAIM_OF = claims.select().where(claims.c.referral_id == sa.bindparam("rid"))
_CONFIRM = claims.update().where(claims.c.referral_id == sa.bindparam("rid")).values(held_until=None)


@dataclass(frozen=True)
class SlotRef:
    """A slot named by its id."""

    kind: Literal["session", "quota"]
    institution: str
    specialty: str
    day: dt.date
    part: str | None = None
    unit: int | None = None

    @property
    def text(self) -> str:
        base = f"{self.kind}/{self.institution}/{self.specialty}/{self.day.isoformat()}"
        return base if self.kind == "quota" else f"{base}/{self.part}/{self.unit}"

    @property
    def counter(self) -> str:
        """The row that counts a quota day's units (the slot id without a unit)."""
        return self.text


def parse_slot(text: str) -> SlotRef:
    """A slot id as a :class:`SlotRef`; :class:`InvalidRequest` naming the expected shapes."""
    parts = str(text).split("/")
    try:
        if parts[0] == "quota" and len(parts) == 4:
            return SlotRef("quota", parts[1], parts[2], check_day("slot", dt.date.fromisoformat(parts[3])))
        if parts[0] == "session" and len(parts) == 6 and parts[4] in PARTS and int(parts[5]) >= 1:
            return SlotRef("session", parts[1], parts[2], check_day("slot", dt.date.fromisoformat(parts[3])),
                           parts[4], int(parts[5]))
    except InvalidRequest:
        raise
    except ValueError:
        pass
    raise InvalidRequest("slot", text, "must be session/<institution>/<specialty>/<YYYY-MM-DD>/<part>/<n> or "
                         "quota/<institution>/<specialty>/<YYYY-MM-DD> (see the slots endpoint)")


#: Years a slot or a filter date may fall in (outside them a date is a typo, and date arithmetic overflows).
YEARS = (2000, 2100)


def check_day(parameter: str, day: dt.date) -> dt.date:
    """``day`` when its year is plausible; :class:`InvalidRequest` naming ``parameter`` otherwise.

    >>> check_day("from", dt.date(9999, 12, 31))
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidRequest: `from` must fall in the years 2000–2100, got datetime.date(9999, 12, 31)
    """
    if not YEARS[0] <= day.year <= YEARS[1]:
        raise InvalidRequest(parameter, day, f"must fall in the years {YEARS[0]}–{YEARS[1]}")
    return day


def today(now: dt.datetime) -> dt.date:
    return now.astimezone(CST).date()


def session_dates(session: Session, first: dt.date, last: dt.date) -> list[dt.date]:
    """The dates in ``[first, last]`` on which a dated session is held (none when "day to be arranged").

    >>> s = Session(weekday="tue", part="afternoon")
    >>> session_dates(s, dt.date(2024, 10, 28), dt.date(2024, 11, 2))
    [datetime.date(2024, 10, 29)]
    >>> session_dates(Session(), dt.date(2024, 10, 28), dt.date(2024, 11, 30))
    []
    """
    if session.weekday is None:
        return []
    wd = WEEKDAYS.index(session.weekday)
    anchor = session.valid_from or first
    day = anchor + dt.timedelta(days=(wd - anchor.weekday()) % 7)
    step = dt.timedelta(days=7 * session.every_weeks)
    if day < first:
        day += step * (-(-(first - day).days // step.days))
    found = []
    while day <= last:
        if session.valid_until is None or day <= session.valid_until:
            found.append(day)
        day += step
    return found


def session_slots(inst: Institution, specialty: str, first: dt.date, last: dt.date, *,
                  per_session: int = SESSION_SLOTS) -> list[SlotRef]:
    """Every session unit of ``inst`` for ``specialty`` (a code) dated in ``[first, last]``, in date order."""
    cap = inst.capability(specialty)
    if cap is None or not cap.sessions:
        return []
    units = per_session
    if cap.weekly_slots is not None:
        units = max(cap.weekly_slots // max(len(cap.sessions), 1), 0)
    slots = [SlotRef("session", inst.id, cap.specialty, day, s.part or "all_day", n)
             for s in cap.sessions for day in session_dates(s, first, last) for n in range(1, units + 1)]
    return sorted(slots, key=lambda s: (s.day, PARTS.index(s.part or "all_day"), s.unit or 0))


def session_basis(inst: Institution, specialty: str, *, per_session: int = SESSION_SLOTS) -> tuple[str, bool]:
    """Where a session's units come from, and whether they are an assumption (no ``weekly_slots`` given).

    >>> from mednet.models import Capability
    >>> inst = Institution.model_construct(id="x", capabilities=(
    ...     Capability(specialty="paediatrics", source="s1", sessions=(Session(weekday="tue"),)),))
    >>> basis, assumed = session_basis(inst, "paediatrics")
    >>> assumed, basis.split(",")[0]
    (True, 'assumed: 4 units a session (MEDNET_SESSION_SLOTS)')
    """
    cap = inst.capability(specialty)
    if cap is None:
        return "no such capability", False
    if cap.weekly_slots is None:
        return (f"assumed: {per_session} units a session (MEDNET_SESSION_SLOTS), since the region gives no "
                f"weekly_slots for this capability (its sessions: source {cap.source})", True)
    inferred = ", inferred" if cap.inferred else ""
    return (f"{cap.weekly_slots} units a week (weekly_slots, source {cap.source}{inferred}) over "
            f"{len(cap.sessions)} session(s) a week", False)


def quota_slots(conn: Connection, region: str, institution: str, specialty: str, first: dt.date,
                last: dt.date, start: dt.date) -> list[tuple[SlotRef, int, str]]:
    """Each released day of the quota in ``[first, last]`` with its capacity and basis; ``start`` is today."""
    rule = quota_rule(conn, region, institution, specialty)
    if rule is None:
        return []
    basis = (f"referral quota (号源) set by an admin: {rule['per_day']} a day, released {rule['release_days']} "
             f"day(s) ahead" + (f" ({rule['note']})" if rule["note"] else ""))
    open_until = start + dt.timedelta(days=rule["release_days"])
    day, found = max(first, start), []
    while day <= min(last, open_until):
        found.append((SlotRef("quota", institution, specialty, day), rule["per_day"], basis))
        day += dt.timedelta(days=1)
    return found


def quota_rule(conn: Connection, region: str, institution: str, specialty: str) -> sa.RowMapping | None:
    found = conn.execute(_QUOTA_RULE, dict(region=region, institution=institution, specialty=specialty))
    return found.mappings().first()


def taken_counts(conn: Connection, slots: list[str], now: dt.datetime) -> dict[str, int]:
    """Live claims (booked, or held until after ``now``) per slot id."""
    if not slots:
        return {}
    live = sa.or_(claims.c.held_until.is_(None), claims.c.held_until > now)
    rows = conn.execute(sa.select(claims.c.slot, sa.func.count()).where(claims.c.slot.in_(slots), live)
                        .group_by(claims.c.slot))
    return dict(rows.all())


def take(conn: Connection, referral_id: int, slot: SlotRef, *, capacity: int | None, now: dt.datetime,
         held_until: dt.datetime | None) -> None:
    """Claim one unit of ``slot`` for a referral (which holds nothing else), or :class:`SlotUnavailable`.

    ``capacity`` is the quota's units for that day (None for a session unit).
    Expired holds on the slot are removed first, in the same transaction, each recorded on its referral as the
    sweep does (:func:`mednet.ledger.writes.record_lapsed_hold`).
    """
    lapsed = conn.execute(_DELETE_EXPIRED, {"at_slot": slot.text, "now": now}).all()
    for gone in lapsed:
        record_lapsed_hold(conn, gone.referral_id, slot.text, gone.held_until, now)
    expired = len(lapsed)
    row = dict(referral_id=referral_id, slot=slot.text, held_until=held_until, at=now)
    if slot.kind == "session":
        if not insert_ignoring_conflict(conn, claims, {**row, "exclusive_slot": slot.text}):
            raise SlotUnavailable(slot.text, "already held or booked for another referral", code="taken")
        return
    if expired:
        conn.execute(_GIVE_BACK, {"counter": slot.counter, "units": expired})
    took = None
    if capacity:  # the day's counter is made with its first unit taken, or counts one more while below capacity
        took = conn.execute(_take_unit(conn), {"counter": slot.counter, "capacity": capacity}).first()
    if took is None:
        raise SlotUnavailable(slot.text, f"the day's referral quota ({capacity}) is used up", code="quota_used_up")
    conn.execute(_INSERT_CLAIM, {**row, "exclusive_slot": None})


def _take_unit(conn: Connection) -> sa.Insert:
    """``INSERT … (used = 1) ON CONFLICT DO UPDATE SET used = used + 1 WHERE used < capacity RETURNING used``:
    one statement that takes a quota unit, or returns nothing when the day is used up."""
    statement = _TAKE_UNIT.get(conn.dialect.name)
    if statement is None:
        q = quota_days.c
        insert = dialect_insert(conn)(quota_days).values(slot=sa.bindparam("counter"),
                                                          capacity=sa.bindparam("capacity"), used=1)
        statement = _TAKE_UNIT[conn.dialect.name] = insert.on_conflict_do_update(
            index_elements=[q.slot], set_={"used": q.used + 1}, where=q.used < q.capacity).returning(q.used)
    return statement


_TAKE_UNIT: dict[str, sa.Insert] = {}


def release(conn: Connection, referral_id: int) -> str | None:
    """Give back whatever the referral holds or booked; returns the slot id, if any."""
    gone = conn.execute(_RELEASE, {"rid": referral_id}).first()
    if gone is None:
        return None
    if gone.exclusive_slot is None:  # a quota unit
        conn.execute(_GIVE_BACK, {"counter": gone.slot, "units": 1})
    return gone.slot


def current_claim(conn: Connection, referral_id: int) -> sa.RowMapping | None:
    return conn.execute(_CLAIM_OF, {"rid": referral_id}).mappings().first()


def confirm(conn: Connection, referral_id: int) -> None:
    """Turn the referral's hold into a booking (it no longer expires)."""
    conn.execute(_CONFIRM, {"rid": referral_id})


def set_quota(conn: Connection, *, region: str, institution: str, specialty: str, per_day: int,
              release_days: int = RELEASE_DAYS, note: str | None = None, now: dt.datetime) -> None:
    """Set (or change) a referral quota; days already counted keep their capacity unless it grows."""
    if per_day < 0:
        raise InvalidRequest("per_day", per_day, "must be >= 0")
    if not 0 <= release_days <= 90:
        raise InvalidRequest("release_days", release_days, "must be between 0 and 90")
    conn.execute(quotas.delete().where(quotas.c.region == region, quotas.c.institution == institution,
                                       quotas.c.specialty == specialty))
    conn.execute(quotas.insert().values(region=region, institution=institution, specialty=specialty, per_day=per_day,
                                        release_days=release_days, note=note, updated_at=now))
    prefix = f"quota/{institution}/{specialty}/"
    conn.execute(quota_days.update().where(quota_days.c.slot.startswith(prefix, autoescape=True),
                                           quota_days.c.used <= per_day).values(capacity=per_day))

"""Expiring what is overdue without an admin: open referrals left too long, and holds past their time.

- A hold whose time has passed is released: its slot or quota unit is given
  back, the referral (still ``accepted``) no longer holds a slot, its version
  goes up and an event ``hold_lapsed`` by ``system`` says which slot.
- An open referral (requested, redirected, accepted, booked) nobody changed
  for the ledger's ``expire_days`` (a booked one: counted from the day after
  its booked day, when that is later) takes the ``expire`` transition as the
  ``system`` actor: state ``expired``, its slot given back, an event with why.

Each referral changes in its own transaction through the ledger's own
checks, at the version the sweep read: a desk that acted meanwhile wins and
the sweep leaves that referral alone. One sweep runs at a time
(:func:`mednet.ledger.store.exclusive`: a PostgreSQL advisory lock, or a
file lock beside a SQLite file); a sweep that finds it taken does nothing,
since another worker or a cron job is sweeping. The service runs it every
``MEDNET_SWEEP_SECONDS``; ``mednet referrals expire`` runs it once (cron).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from mednet.errors import IllegalTransition, StaleVersion, UnknownReferral
from mednet.ledger import slots as slotting
from mednet.ledger.keys import ApiKey
from mednet.ledger.ledger import Ledger
from mednet.ledger.records import ActionIn
from mednet.ledger.states import OPEN_STATES
from mednet.ledger.store import claims, exclusive, referrals, writing
from mednet.ledger.writes import SYSTEM_ACTOR, record_lapsed_hold

#: The actor of the sweep's changes (an admin's rights: ``expire`` is an admin's action).
SYSTEM = ApiKey(id=SYSTEM_ACTOR, role="admin", label="automatic expiry", region=None, institution=None,
                created_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC), local=True)
#: Referrals looked at per sweep, of each kind (the next sweep takes the rest).
BATCH = 500


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did: the referrals it expired, those whose lapsed hold it released; ``ran`` is False
    when another sweep held the lock (nothing was done)."""

    expired: tuple[str, ...] = ()
    released: tuple[str, ...] = ()
    ran: bool = True


def expire_overdue(ledger: Ledger, *, batch: int = BATCH) -> SweepResult:
    """Release lapsed holds, then expire overdue open referrals, at the ledger's clock's time."""
    with exclusive(ledger.engine, "sweep", wait=False) as taken:
        if not taken:
            return SweepResult(ran=False)
        now = ledger.now()
        released = tuple(number for number in _lapsed_holds(ledger, now, batch) if _release(ledger, number))
        expired = tuple(number for number, version in _overdue(ledger, now, batch)
                        if _expire(ledger, number, version))
    return SweepResult(expired, released)


def _lapsed_holds(ledger: Ledger, now: dt.datetime, batch: int) -> list[str]:
    query = sa.select(referrals.c.number).join(claims, claims.c.referral_id == referrals.c.id) \
        .where(claims.c.held_until <= now).order_by(referrals.c.id).limit(batch)
    with ledger.engine.connect() as conn:
        return list(conn.execute(query).scalars())


def _overdue(ledger: Ledger, now: dt.datetime, batch: int) -> list[tuple[str, int]]:
    """(number, version) of open referrals unchanged for ``expire_days`` and, if booked, past their day by that."""
    r = referrals.c
    query = sa.select(r.number, r.version, r.state, r.slot).where(
        r.state.in_(sorted(OPEN_STATES)), r.updated_at <= now - ledger.expire_after).order_by(r.id).limit(batch)
    with ledger.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [(row.number, row.version) for row in rows
            if row.state != "booked" or not row.slot or _booked_until(row.slot) + ledger.expire_after <= now]


def _booked_until(slot: str) -> dt.datetime:
    """The end of a booked slot's day (China Standard Time), in UTC."""
    day = slotting.parse_slot(slot).day + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(), tzinfo=slotting.CST).astimezone(dt.UTC)


def _expire(ledger: Ledger, number: str, version: int) -> bool:
    days = ledger.expire_after / dt.timedelta(days=1)
    why = f"no change for {days:g} days: expired automatically"
    try:
        ledger.act(SYSTEM, number, "expire", ActionIn(reason=why, reason_code="no_response"), if_match=version)
    except (StaleVersion, IllegalTransition, UnknownReferral):  # changed (or gone) since it was read
        return False
    return True


def _release(ledger: Ledger, number: str) -> bool:
    """Give back the referral's hold if it has lapsed (checked again under the row's lock)."""
    with writing(ledger.engine) as conn:
        now = ledger.now()
        row = ledger._row(conn, number, lock=True)
        held = slotting.current_claim(conn, row["id"]) if row["slot"] else None
        if held is None or held["held_until"] is None or held["held_until"] > now:
            return False
        slot = slotting.release(conn, row["id"])
        record_lapsed_hold(conn, row["id"], slot or held["slot"], held["held_until"], now)
    return True

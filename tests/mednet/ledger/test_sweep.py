"""The expiry sweep on both engines: lapsed holds released and overdue open referrals expired by the system,
each with its event; nothing else touched; one sweep at a time. Time is the ledger's fake clock."""

from __future__ import annotations

import datetime as dt

import pytest

from mednet.ledger.records import ActionIn
from mednet.ledger.store import exclusive
from mednet.ledger.sweep import expire_overdue
from tests.mednet.ledger.conftest import MONDAY, Desks


@pytest.fixture
def fresh(db_url, minhang_data):
    """Desks over a database of their own: the sweep looks at every referral in it."""
    d = Desks(db_url, minhang_data)
    yield d
    d.engine.dispose()


def free_units(desks, slot: str) -> int:
    day = dt.date.fromisoformat(slot.rsplit("/", 1)[1])
    return next(s.free for s in desks.ledger.slots("minhang", "sh-xinhua", "paediatrics") if s.day == day)


def test_a_lapsed_hold_is_released_by_the_system(fresh):
    number = fresh.drive("accepted")
    slot = fresh.quota_slot()
    before = free_units(fresh, slot)
    fresh.ledger.act(fresh.xinhua, number, "hold", ActionIn(slot=slot))
    fresh.clock.advance(minutes=14)
    assert expire_overdue(fresh.ledger).released == ()  # the hold still runs
    fresh.clock.advance(minutes=2)
    result = expire_overdue(fresh.ledger)
    assert result.released == (number,) and result.expired == ()
    record = fresh.ledger.get(fresh.admin, number)
    assert record.state == "accepted" and record.claim is None and record.version == 4
    last = fresh.ledger.history(fresh.admin, number)[-1]
    assert (last.action, last.actor_key, last.from_state, last.to_state) == ("hold_lapsed", "system", "accepted",
                                                                             "accepted")
    assert last.data == {"released": slot}
    assert free_units(fresh, slot) == before
    assert expire_overdue(fresh.ledger) == type(result)()  # nothing left to do
    fresh.ledger.act(fresh.xinhua, number, "book", ActionIn(slot=slot))  # the desk can still book


def test_overdue_open_referrals_expire_and_the_rest_stay(fresh):
    waiting, accepted, done = fresh.drive("requested"), fresh.drive("accepted"), fresh.drive("completed")
    rejected = fresh.drive("rejected")
    fresh.clock.advance(days=29)
    recent = fresh.drive("requested")
    assert expire_overdue(fresh.ledger).expired == ()
    fresh.clock.advance(days=1, seconds=1)
    result = expire_overdue(fresh.ledger)
    assert set(result.expired) == {waiting, accepted}
    for number in (waiting, accepted):
        record = fresh.ledger.get(fresh.admin, number)
        assert record.state == "expired" and record.allowed_actions == ()
        event = fresh.ledger.history(fresh.admin, number)[-1]
        assert (event.action, event.actor_key, event.to_state) == ("expire", "system", "expired")
        assert event.why == "no change for 30 days: expired automatically"
    states = {n: fresh.ledger.get(fresh.admin, n).state for n in (done, rejected, recent)}
    assert states == {done: "completed", rejected: "rejected", recent: "requested"}


def test_a_booking_expires_only_once_its_day_is_long_past(fresh):
    slot = fresh.quota_slot(days_ahead=3)  # booked for Thursday
    number = fresh.drive("accepted")
    fresh.ledger.act(fresh.xinhua, number, "book", ActionIn(slot=slot))
    before = free_units(fresh, slot)
    fresh.clock.advance(days=31)  # unchanged for 31 days, but its day ended 27 days ago
    assert expire_overdue(fresh.ledger).expired == ()
    fresh.clock.time = dt.datetime(2024, 10, 31, 16, 0, tzinfo=dt.UTC) + dt.timedelta(days=30)  # Thursday's end
    assert expire_overdue(fresh.ledger).expired == (number,)
    assert fresh.ledger.history(fresh.admin, number)[-1].data == {"released": slot}
    fresh.clock.time = MONDAY
    assert free_units(fresh, slot) == before + 1  # the unit is given back


def test_a_sweep_in_progress_elsewhere_is_not_repeated(fresh):
    number = fresh.drive("requested")
    fresh.clock.advance(days=31)
    with exclusive(fresh.engine, "sweep") as taken:
        assert taken
        assert expire_overdue(fresh.ledger).ran is False
        assert fresh.ledger.get(fresh.admin, number).state == "requested"
    assert expire_overdue(fresh.ledger).expired == (number,)


def test_a_shorter_expiry_is_the_ledgers_setting(fresh):
    from mednet.ledger import Ledger

    number = fresh.drive("requested")
    fresh.clock.advance(days=2, seconds=1)
    quick = Ledger(fresh.engine, fresh.ledger.regions, now=fresh.clock, expire_days=2)
    assert expire_overdue(fresh.ledger).expired == ()
    assert expire_overdue(quick).expired == (number,)
    assert fresh.ledger.history(fresh.admin, number)[-1].why == "no change for 2 days: expired automatically"


def test_the_command_sweeps_once_for_cron(fresh, db_url, capsys):
    from mednet.cli import main

    number = fresh.drive("requested")  # on the fake clock's Monday in 2024: long overdue by the real clock
    assert main(["referrals", "expire", "--database-url", db_url]) == 0
    assert capsys.readouterr().out.splitlines() == [f"expired 1 referral(s): {number}", "released 0 lapsed hold(s)"]
    assert fresh.ledger.history(fresh.admin, number)[-1].actor_key == "system"
    with pytest.raises(SystemExit) as stopped:
        main(["referrals", "expire", "--database-url", db_url, "--expire-days", "0"])
    assert stopped.value.code == 2 and "must be a number > 0, got 0" in capsys.readouterr().err

"""Slots and quotas: windows, holds that expire, no unit taken twice, units given back."""

from __future__ import annotations

import datetime as dt

import pytest

from mednet.errors import InvalidRequest, SlotUnavailable
from mednet.ledger.records import ActionIn, QuotaIn
from mednet.ledger.slots import parse_slot, session_dates
from mednet.models import Session

HONGQIAO_TCM = "session/mh-hongqiao/tcm_paediatrics/2024-10-29/afternoon/{}"


def accepted(desks, destination="sh-xinhua", specialty="paediatrics"):
    number = desks.new(destination=destination, specialty=specialty).number
    actor = desks.xinhua if destination == "sh-xinhua" else desks.huashan
    desks.ledger.act(actor, number, "accept")
    return number


@pytest.fixture
def small_quota(desks):
    """Xinhua's paediatric quota at 2 a day for this test (put back to 500 after)."""
    desks.ledger.set_quota(desks.admin, "minhang", QuotaIn(institution="sh-xinhua", specialty="paediatrics",
                                                           per_day=2, release_days=5))
    yield desks.quota_slot(days_ahead=3)
    desks.ledger.set_quota(desks.admin, "minhang", QuotaIn(institution="sh-xinhua", specialty="paediatrics",
                                                           per_day=500, release_days=5))


def test_session_dates_follow_weekday_fortnights_and_validity():
    assert session_dates(Session(weekday="tue", every_weeks=2, valid_from=dt.date(2024, 10, 1)),
                         dt.date(2024, 10, 1), dt.date(2024, 10, 31)) == [
        dt.date(2024, 10, 1), dt.date(2024, 10, 15), dt.date(2024, 10, 29)]
    assert session_dates(Session(weekday="fri", valid_until=dt.date(2024, 10, 10)),
                         dt.date(2024, 10, 1), dt.date(2024, 10, 31)) == [dt.date(2024, 10, 4)]


def test_a_session_gives_its_units_in_the_window(desks):
    slots = desks.ledger.slots("minhang", "虹桥社区卫生服务中心", "中医儿科")
    assert [s.slot for s in slots] == [HONGQIAO_TCM.format(n) for n in range(1, 5)]
    assert all(s.kind == "session" and s.capacity == 1 for s in slots)
    assert all(s.assumed and "MEDNET_SESSION_SLOTS" in s.basis for s in slots)  # Minhang gives no weekly_slots
    # sessions "day to be arranged" have no date: no slot
    assert desks.ledger.slots("minhang", "mh-hongqiao", "urology") == []


def test_a_quota_is_released_n_days_ahead(desks):
    days = [s.day for s in desks.ledger.slots("minhang", "sh-xinhua", "儿科", days=30)]
    today = dt.date(2024, 10, 28)
    assert days == [today + dt.timedelta(days=n) for n in range(6)]  # today and the next 5 days
    far = desks.quota_slot(days_ahead=6)
    number = accepted(desks)
    with pytest.raises(SlotUnavailable, match="outside the released window"):
        desks.ledger.act(desks.xinhua, number, "book", ActionIn(slot=far))


def test_a_session_unit_is_booked_once(desks):
    centre_to_itself = HONGQIAO_TCM.format(1)
    # the community centre holds the session: a hospital sends the patient there (a down-referral)
    number = desks.ledger.create(desks.xinhua, _down("mh-hongqiao")).record.number
    other = desks.ledger.create(desks.xinhua, _down("mh-hongqiao")).record.number
    for n in (number, other):
        desks.ledger.act(desks.centre, n, "accept")
    desks.ledger.act(desks.centre, number, "book", ActionIn(slot=centre_to_itself))
    with pytest.raises(SlotUnavailable, match="already held or booked"):
        desks.ledger.act(desks.centre, other, "book", ActionIn(slot=centre_to_itself))
    assert desks.ledger.get(desks.admin, other).state == "accepted"
    assert desks.ledger.slots("minhang", "mh-hongqiao", "tcm_paediatrics")[0].free == 0
    desks.ledger.act(desks.xinhua, number, "cancel")  # the referring desk withdraws: the unit comes back
    assert desks.ledger.act(desks.centre, other, "book", ActionIn(slot=centre_to_itself)).record.state == "booked"
    desks.ledger.act(desks.xinhua, other, "cancel")


def _down(to: str):
    from mednet.ledger import NewReferral

    return NewReferral(specialty="中医儿科", direction="down", reason="回社区中医调理", patient={"ref": "D1"},
                       destination=to, route=False)


def test_a_slot_must_belong_to_the_destination_and_exist(desks):
    number = accepted(desks)
    with pytest.raises(InvalidRequest, match="must be a slot of the destination sh-xinhua"):
        desks.ledger.act(desks.xinhua, number, "book", ActionIn(slot=HONGQIAO_TCM.format(1)))
    with pytest.raises(InvalidRequest, match="must be session/"):
        desks.ledger.act(desks.xinhua, number, "book", ActionIn(slot="tomorrow please"))
    with pytest.raises(InvalidRequest, match="`slot` is required"):
        desks.ledger.act(desks.xinhua, number, "book")
    with pytest.raises(SlotUnavailable, match="outside the released window"):
        desks.ledger.act(desks.xinhua, number, "book", ActionIn(slot="quota/sh-xinhua/paediatrics/2099-01-01"))
    cardiology = accepted(desks, specialty="cardiology")
    with pytest.raises(SlotUnavailable, match="no referral quota"):
        desks.ledger.act(desks.xinhua, cardiology, "book", ActionIn(slot="quota/sh-xinhua/cardiology/2024-10-29"))


def test_the_last_unit_of_a_quota_goes_once(desks, small_quota):
    first, second, third = (accepted(desks) for _ in range(3))
    desks.ledger.act(desks.xinhua, first, "book", ActionIn(slot=small_quota))
    desks.ledger.act(desks.xinhua, second, "book", ActionIn(slot=small_quota))
    with pytest.raises(SlotUnavailable, match=r"quota \(2\) is used up"):
        desks.ledger.act(desks.xinhua, third, "book", ActionIn(slot=small_quota))
    view = next(s for s in desks.ledger.slots("minhang", "sh-xinhua", "paediatrics") if s.slot == small_quota)
    assert (view.capacity, view.free) == (2, 0)
    desks.ledger.act(desks.centre, first, "cancel")
    desks.ledger.act(desks.xinhua, third, "book", ActionIn(slot=small_quota))
    for n in (second, third):
        desks.ledger.act(desks.centre, n, "cancel")


def test_a_hold_expires_and_the_next_taker_gets_the_unit(desks, small_quota):
    holders = [accepted(desks) for _ in range(3)]
    for n in holders[:2]:
        desks.ledger.act(desks.xinhua, n, "hold", ActionIn(slot=small_quota))
    with pytest.raises(SlotUnavailable):
        desks.ledger.act(desks.xinhua, holders[2], "hold", ActionIn(slot=small_quota))
    desks.clock.advance(minutes=16)
    try:
        assert desks.ledger.get(desks.admin, holders[0]).claim.held_until < desks.clock()
        view = next(s for s in desks.ledger.slots("minhang", "sh-xinhua", "paediatrics") if s.slot == small_quota)
        assert view.free == 2
        desks.ledger.act(desks.xinhua, holders[2], "book", ActionIn(slot=small_quota))
        # the expired holders lost their units: booking again needs a free one (one is left)
        desks.ledger.act(desks.xinhua, holders[0], "book", ActionIn(slot=small_quota))
        with pytest.raises(SlotUnavailable):
            desks.ledger.act(desks.xinhua, holders[1], "book", ActionIn(slot=small_quota))
    finally:
        desks.clock.advance(minutes=-16)
        for n in holders:
            desks.ledger.act(desks.centre, n, "cancel")


def test_holding_then_booking_keeps_the_same_unit(desks, small_quota):
    number = accepted(desks)
    desks.ledger.act(desks.xinhua, number, "hold", ActionIn(slot=small_quota))
    record = desks.ledger.act(desks.xinhua, number, "book", ActionIn(slot=small_quota)).record
    assert record.claim.status == "booked" and record.claim.held_until is None
    view = next(s for s in desks.ledger.slots("minhang", "sh-xinhua", "paediatrics") if s.slot == small_quota)
    assert view.free == 1
    desks.ledger.act(desks.centre, number, "cancel")


def test_parse_slot_round_trips():
    for text in (HONGQIAO_TCM.format(3), "quota/sh-xinhua/paediatrics/2024-10-30"):
        assert parse_slot(text).text == text


def test_a_session_counted_by_its_region_is_not_an_assumption(desks):
    from mednet.ledger.slots import session_basis

    inst = desks.ledger.regions["minhang"].region.institution("mh-hongqiao")
    cap = inst.capability("tcm_paediatrics")
    counted = inst.model_copy(update={"capabilities": tuple(
        c.model_copy(update={"weekly_slots": 6}) if c is cap else c for c in inst.capabilities)})
    basis, assumed = session_basis(counted, "tcm_paediatrics")
    assert not assumed and basis == f"6 units a week (weekly_slots, source {cap.source}) over 1 session(s) a week"
    assert session_basis(inst, "tcm_paediatrics")[1] is True

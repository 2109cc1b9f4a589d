"""Service levels: working days counted as stated, each referral's clock, a region's own allowances."""

from __future__ import annotations

import datetime as dt

import pytest

from mednet.errors import Forbidden, InvalidRequest
from mednet.ledger.records import ActionIn
from mednet.ledger.service_levels import (
    CST,
    DEFAULT_LEVELS,
    Allowance,
    add_working_days,
    calendar_covers,
    due_at,
    is_working_day,
    parse_allowance,
)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=CST)


@pytest.mark.parametrize(("start", "days", "end"), [
    ("2024-10-25T16:00", 2, "2024-10-29T16:00"),  # Friday afternoon: Monday and Tuesday count
    ("2024-10-26T10:00", 2, "2024-10-30T00:00"),  # Saturday: from Monday's start, to Tuesday's end
    ("2024-10-28T00:00", 1, "2024-10-29T00:00"),  # a whole Monday
    ("2024-09-30T09:00", 1, "2024-10-08T09:00"),  # National Day week (Oct 1–7) does not count
    ("2024-10-11T12:00", 1, "2024-10-12T12:00"),  # Saturday Oct 12 is a make-up working day (调休)
    ("2024-10-28T09:00", 0, "2024-10-28T09:00"),
])
def test_working_days_run_on_the_state_councils_working_days_only(start, days, end):
    assert add_working_days(at(start), days) == at(end).astimezone(dt.UTC)


def test_a_year_the_calendar_does_not_cover_counts_monday_to_friday():
    assert not calendar_covers(dt.date(2099, 1, 5))
    assert calendar_covers(dt.date(2024, 1, 5))
    assert [is_working_day(dt.date(2099, 6, d)) for d in range(1, 8)] == [True] * 5 + [False] * 2  # Mon 1 June
    assert add_working_days(at("2099-06-05T16:00"), 2) == at("2099-06-09T16:00").astimezone(dt.UTC)


def test_a_start_without_its_zone_is_refused():
    with pytest.raises(InvalidRequest, match="must carry its time zone"):
        add_working_days(dt.datetime(2024, 10, 28, 9), 1)


@pytest.mark.parametrize(("text", "rule"), [("", "whole number and a unit"), ("2 weeks", "whole number"),
                                            ("0 hours", "between 1 and"), ("31 working_days", "between 1 and 30")])
def test_an_allowance_must_be_a_whole_number_of_a_known_unit(text, rule):
    with pytest.raises(InvalidRequest, match=rule):
        parse_allowance(text)


def test_the_defaults_are_urgent_two_hours_and_routine_two_working_days():
    assert DEFAULT_LEVELS["urgent"].respond == Allowance(2, "hours")
    assert DEFAULT_LEVELS["routine"].respond == Allowance(2, "working_days")
    assert due_at("completed", "urgent", at("2024-10-28T09:00")) is None


def test_each_state_runs_its_own_clock_and_a_redirect_restarts_it(desks):
    clock = desks.clock
    record = desks.new(priority="urgent")
    assert record.due_at == clock.time + dt.timedelta(hours=2) and record.state_since == clock.time
    clock.advance(minutes=30)
    redirected = desks.ledger.act(desks.xinhua, record.number, "redirect",
                                  ActionIn(reason_code="no_bed", destination="sh-huashan")).record
    assert redirected.due_at == clock.time + dt.timedelta(hours=2)  # the new desk gets its full time
    clock.advance(minutes=10)
    accepted = desks.ledger.act(desks.huashan, record.number, "accept").record
    assert accepted.due_at == clock.time + dt.timedelta(hours=2) and accepted.state_since == clock.time
    routine = desks.new()  # Monday 09:00 in Shanghai: two working days later is Wednesday 09:00
    assert routine.due_at.astimezone(CST).strftime("%a %H:%M") == "Wed " + routine.created_at.astimezone(
        CST).strftime("%H:%M")


def test_a_regions_own_allowance_applies_to_clocks_started_after_it(desks):
    before = desks.new(priority="urgent")
    with pytest.raises(Forbidden):
        desks.ledger.set_service_level(desks.xinhua, "minhang", "urgent", "respond", Allowance(4, "hours"))
    desks.ledger.set_service_level(desks.admin, "minhang", "urgent", "respond", Allowance(4, "hours"),
                                   note="区卫健委 2024 年文件")
    try:
        levels = desks.ledger.service_levels("minhang")
        assert levels["urgent"].respond == Allowance(4, "hours") and levels["urgent"].source == "region"
        assert levels["urgent"].book == DEFAULT_LEVELS["urgent"].book
        after = desks.new(priority="urgent")
        assert after.due_at == desks.clock.time + dt.timedelta(hours=4)
        assert desks.ledger.get(desks.centre, before.number).due_at == before.due_at  # a running clock keeps its end
    finally:
        desks.ledger.set_service_level(desks.admin, "minhang", "urgent", "respond", None)
    assert desks.ledger.service_levels("minhang")["urgent"] == DEFAULT_LEVELS["urgent"]

"""Random sequences of actions by random desks: the event log replays to the stored state, refused
actions change nothing, and quota counters always equal the claims they count (both engines)."""

from __future__ import annotations

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mednet.errors import MednetError
from mednet.ledger import ACTIONS
from mednet.ledger.records import ActionIn
from mednet.ledger.states import TRANSITIONS
from mednet.ledger.store import claims, quota_days
from tests.mednet.ledger.conftest import MONDAY

DESKS = ("centre", "xinhua", "huashan", "planner", "admin")
BODIES = st.sampled_from([
    ActionIn(), ActionIn(reason="理由"), ActionIn(reason="转华山", destination="sh-huashan"),
    ActionIn(reason="转新华", destination="sh-xinhua"), ActionIn(slot="quota/sh-xinhua/paediatrics/2024-10-29"),
    ActionIn(slot="quota/sh-huashan/paediatrics/2024-10-29"),
])
STEP = st.tuples(st.integers(0, 2), st.sampled_from(DESKS), st.sampled_from(ACTIONS), BODIES,
                 st.booleans(), st.integers(0, 20))


def snapshot(desks, number):
    return desks.ledger.get(desks.admin, number), desks.ledger.history(desks.admin, number)


@settings(max_examples=30, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(STEP, min_size=1, max_size=25))
def test_random_actions_by_random_desks(desks, steps):
    desks.clock.time = MONDAY
    numbers = [desks.new().number for _ in range(3)]
    for which, desk, action, body, stale, minutes in steps:
        number = numbers[which]
        desks.clock.advance(minutes=minutes)  # holds may expire along the way
        before, history = snapshot(desks, number)
        if_match = before.version - 1 if stale else before.version
        try:
            outcome = desks.ledger.act(getattr(desks, desk), number, action, body, if_match=if_match)
        except MednetError:
            assert snapshot(desks, number) == (before, history)
            continue
        after, events = snapshot(desks, number)
        assert not stale and action in before.allowed_actions
        assert after.state == (TRANSITIONS[action].to or before.state)
        assert after.version == before.version + 1 and len(events) == len(history) + 1
        if outcome.created:
            numbers.append(outcome.record.number)
    for number in numbers:
        record, events = snapshot(desks, number)
        state = None
        for seq, event in enumerate(events, start=1):
            assert event.seq == seq and event.from_state == state
            state = event.to_state
        assert state == record.state and record.version == len(events)
    with desks.engine.connect() as conn:
        counted = dict(conn.execute(sa.select(quota_days.c.slot, quota_days.c.used)).all())
        claimed = dict(conn.execute(sa.select(claims.c.slot, sa.func.count()).where(claims.c.exclusive_slot.is_(None))
                                    .group_by(claims.c.slot)).all())
    assert {k: v for k, v in counted.items() if v} == claimed

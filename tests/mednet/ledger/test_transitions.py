"""Every allowed and every refused transition, on SQLite and PostgreSQL; owners; versions."""

from __future__ import annotations

import pytest

from mednet.errors import Forbidden, IllegalTransition, InvalidRequest, StaleVersion
from mednet.ledger import ACTIONS, STATES, allowed_actions
from mednet.ledger.records import ActionIn
from mednet.ledger.states import TRANSITIONS

#: Expected from the issue's wording, written out independently of the table in states.py.
EXPECTED = {
    "requested": {"accept", "reject", "redirect", "cancel", "expire"},
    "redirected": {"accept", "reject", "redirect", "cancel", "expire"},
    "accepted": {"hold", "book", "arrive", "cancel", "expire"},  # arrive: 新华医院's standing paediatric clinic
    "booked": {"arrive", "cancel", "expire"},
    "arrived": {"complete"},
    "completed": {"send_home"},
    "rejected": set(), "cancelled": set(), "expired": set(),
}
AFTER = {"accept": "accepted", "reject": "rejected", "redirect": "redirected", "hold": "accepted", "book": "booked",
         "arrive": "arrived", "complete": "completed", "send_home": "completed", "cancel": "cancelled",
         "expire": "expired"}
PAIRS = [(s, a) for s in STATES for a in ACTIONS]


def test_the_table_matches_the_closed_loop():
    assert {s: set(allowed_actions(s)) for s in STATES} == EXPECTED


@pytest.mark.parametrize(("state", "action"), PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_each_state_and_action(desks, state, action):
    number = desks.drive(state)
    before = desks.ledger.get(desks.admin, number)
    assert before.state == state
    events = desks.ledger.history(desks.admin, number)
    actor = desks.actor_for(action, number)
    if action in EXPECTED[state]:
        outcome = desks.ledger.act(actor, number, action, desks.body_for(action), if_match=before.version)
        after = desks.ledger.get(desks.admin, number)
        assert after.state == AFTER[action] and after.version == before.version + 1
        last = desks.ledger.history(desks.admin, number)[-1]
        assert (last.action, last.from_state, last.to_state, last.actor_key) == (action, state, after.state, actor.id)
        if action == "send_home":
            child = outcome.record
            assert child.parent == number and child.direction == "down" and child.state == "requested"
            assert child.origin.id == "sh-xinhua" and child.destination.id == "mh-hongqiao"
        if action in ("hold", "book"):
            assert after.claim.slot == desks.quota_slot()
            assert after.claim.status == ("held" if action == "hold" else "booked")
    else:
        with pytest.raises(IllegalTransition, match=f"cannot `{action}` a referral that is {state}") as err:
            desks.ledger.act(actor, number, action, desks.body_for(action))
        assert set(err.value.allowed) == EXPECTED[state]
        assert desks.ledger.get(desks.admin, number) == before
        assert desks.ledger.history(desks.admin, number) == events


@pytest.mark.parametrize("action", [a for a in ACTIONS if TRANSITIONS[a].owner == "destination"])
def test_only_the_receiving_desk_acts_on_what_it_receives(desks, action):
    state = next(s for s in STATES if action in EXPECTED[s])
    number = desks.drive(state)
    for stranger in (desks.centre, desks.huashan, desks.planner, desks.admin):
        with pytest.raises(Forbidden):
            desks.ledger.act(stranger, number, action, desks.body_for(action))
    assert desks.ledger.get(desks.admin, number).state == state


def test_only_the_referring_desk_cancels_and_only_an_admin_expires(desks):
    number = desks.drive("requested")
    for stranger in (desks.xinhua, desks.huashan, desks.planner, desks.admin):
        with pytest.raises(Forbidden, match=r"referring desk|planner|admin key|desk key"):
            desks.ledger.act(stranger, number, "cancel")
    for stranger in (desks.centre, desks.xinhua, desks.planner):
        with pytest.raises(Forbidden):
            desks.ledger.act(stranger, number, "expire")


def test_reject_and_redirect_need_a_reason(desks):
    number = desks.drive("requested")
    for action in ("reject", "redirect"):
        with pytest.raises(InvalidRequest, match="`reason` is required"):
            desks.ledger.act(desks.xinhua, number, action, ActionIn(destination="sh-huashan"))


def test_redirect_hands_the_referral_to_the_new_destination(desks):
    number = desks.drive("redirected")
    record = desks.ledger.get(desks.admin, number)
    assert record.destination.id == "sh-huashan"
    with pytest.raises(Forbidden):
        desks.ledger.act(desks.xinhua, number, "accept")
    assert desks.ledger.act(desks.huashan, number, "accept").record.state == "accepted"
    event = desks.ledger.history(desks.admin, number)[1]
    assert event.data == {"from": "sh-xinhua", "to": "sh-huashan"} and event.why == "转华山"


def test_a_stale_version_is_refused_and_changes_nothing(desks):
    number = desks.drive("requested")
    desks.ledger.act(desks.xinhua, number, "accept", if_match=1)
    with pytest.raises(StaleVersion, match="at version 2, not 1"):
        desks.ledger.act(desks.centre, number, "cancel", if_match=1)
    assert desks.ledger.get(desks.admin, number).state == "accepted"


def test_a_desk_reads_only_referrals_to_or_from_it(desks):
    number = desks.drive("requested")
    assert desks.ledger.get(desks.xinhua, number).number == number
    assert desks.ledger.get(desks.planner, number).number == number
    with pytest.raises(Forbidden):
        desks.ledger.get(desks.huashan, number)
    seen_by_huashan = desks.ledger.list(desks.huashan, limit=200).items
    assert number not in {r.number for r in seen_by_huashan}
    passed_on = {r.number for r in seen_by_huashan if "sh-huashan" not in (r.origin.id, r.destination.id)}
    for other in passed_on:  # the others it sees it redirected onward (it keeps sight of them)
        assert any(e.action == "redirect" and e.actor_institution == "sh-huashan"
                   for e in desks.ledger.history(desks.huashan, other))
    everything = desks.ledger.list(desks.planner, states=["requested"], institution="sh-xinhua", limit=200)
    assert number in {r.number for r in everything.items}


def test_only_desks_create_and_planners_never_write(desks):
    from mednet.ledger import NewReferral

    body = NewReferral(specialty="儿科", reason="x", patient={"ref": "p"}, destination="sh-xinhua", route=False)
    for key in (desks.planner, desks.admin):
        with pytest.raises(Forbidden):
            desks.ledger.create(key, body)


def test_arrival_without_a_booking_needs_walk_in_care_and_before_the_booked_day_a_reason(desks):
    # a session-only capability (a visiting expert's Tuesday clinic) is booked by the unit: no walk-in
    from mednet.ledger.walkin import walk_in_care

    minhang = desks.ledger.regions["minhang"].region
    sessions_only = [(i, c) for i in minhang.institutions for c in i.capabilities if c.sessions]
    assert sessions_only  # the region has visiting-expert clinics
    inst, cap = sessions_only[0]
    assert walk_in_care(inst, cap.specialty, priority="routine", direction="up") is None
    assert walk_in_care(inst, cap.specialty, priority="emergency", direction="up") == "emergency"
    number = desks.drive("booked")  # booked for tomorrow
    with pytest.raises(InvalidRequest, match="before the booked day"):
        desks.ledger.act(desks.xinhua, number, "arrive", ActionIn())
    assert desks.ledger.get(desks.admin, number).state == "booked"
    desks.ledger.act(desks.xinhua, number, "arrive", ActionIn(reason="病情变化，提前来院"))
    last = desks.ledger.history(desks.admin, number)[-1]
    assert last.data == {"early": desks.quota_slot()[-10:]} and last.why == "病情变化，提前来院"

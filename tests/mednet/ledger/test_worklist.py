"""A desk's worklist in one statement, on both engines: sides, filters, search, counts per state, overdue only,
and pages past the old 1,000-row cap."""

from __future__ import annotations

import datetime as dt

import pytest

from mednet.errors import InvalidRequest
from mednet.ledger.records import ActionIn
from mednet.ledger.store import referrals, writing
from mednet.ledger.worklist import WorklistQuery, read_worklist


def page(desks, key, **query):
    with desks.engine.connect() as conn:
        return read_worklist(conn, key, WorklistQuery(**query), desks.ledger.now(), region="minhang")


def test_sides_filters_search_and_counts(desks):
    urgent = desks.new(priority="urgent", patient={"ref": "WL-URGENT-1"}).number
    routine = desks.new(patient={"ref": "WL-ROUTINE-1"}).number
    redirected = desks.new(patient={"ref": "WL-PASSED-1"}).number
    desks.ledger.act(desks.xinhua, redirected, "redirect", ActionIn(reason_code="no_bed", destination="sh-huashan"))
    found = page(desks, desks.xinhua, states=("requested",), search="WL-")
    assert {r.number for r in found.rows} == {urgent, routine}
    assert found.counts["requested"] == 2 and found.counts["redirected"] == 1 and found.total == 2
    assert [r.number for r in page(desks, desks.xinhua, search="WL-", side="passed").rows] == [redirected]
    assert page(desks, desks.xinhua, search="WL-", side="passed").rows[0].side == "passed"
    assert [r.number for r in page(desks, desks.xinhua, search="WL-", priority="urgent").rows] == [urgent]
    assert [r.number for r in page(desks, desks.xinhua, search="WL-ROUTINE-1").rows] == [routine]
    assert [r.number for r in page(desks, desks.xinhua, search=routine).rows] == [routine]
    assert page(desks, desks.centre, search="WL-", side="outgoing").total == 3
    assert page(desks, desks.huashan, search="WL-").total == 1  # only what reached it
    assert page(desks, desks.xinhua, search="WL-", specialty="cardiology").total == 0
    today = desks.ledger.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    assert page(desks, desks.xinhua, search="WL-", created_from=today, created_to=today).total == 3
    assert page(desks, desks.xinhua, search="WL-", created_to=today - dt.timedelta(days=1)).total == 0


def test_overdue_only(desks):
    late = desks.new(priority="urgent", patient={"ref": "WL-LATE"}).number
    desks.clock.advance(hours=3)
    try:
        found = page(desks, desks.xinhua, search="WL-LATE", overdue=True)
        assert [r.number for r in found.rows] == [late] and found.rows[0].overdue(desks.ledger.now())
    finally:
        desks.clock.advance(hours=-3)
    assert page(desks, desks.xinhua, search="WL-LATE", overdue=True).total == 0


def test_pages_go_past_a_thousand_rows(desks):
    now = desks.ledger.now()
    rows = [dict(number=f"RPAGE-{n:06d}", region="minhang", origin_id="mh-hongqiao", origin_desk=desks.centre.id,
                 destination_id="sh-xinhua", specialty="paediatrics", direction="up", priority="routine",
                 reason="x", patient_ref=f"PG-{n}", state="requested", version=1, created_at=now, updated_at=now,
                 state_since=now) for n in range(1050)]
    with writing(desks.engine) as conn:
        conn.execute(referrals.insert(), rows)
    first = page(desks, desks.xinhua, search="RPAGE-", per_page=200)
    assert first.total == 1050 and first.pages == 6 and len(first.rows) == 200
    assert first.rows[0].number == "RPAGE-001049"  # newest first
    last = page(desks, desks.xinhua, search="RPAGE-", per_page=200, page=6)
    assert len(last.rows) == 50 and last.rows[-1].number == "RPAGE-000000"


@pytest.mark.parametrize(("field", "value", "rule"), [("states", ("nonsense",), "must be one of"),
                                                      ("per_page", 500, "between 1 and 200"),
                                                      ("page", 0, "1 or more"), ("side", "left", "must be one of")])
def test_a_bad_query_is_refused(field, value, rule):
    with pytest.raises(InvalidRequest, match=rule):
        WorklistQuery(**{field: value})

"""Through HTTP, two uvicorn workers, on SQLite and on PostgreSQL:

- 50 concurrent bookers of the last session unit → exactly one 200 and 49 × 409, and the same for the last
  unit of a referral quota (the database decides: a unique claim, a conditional counter);
- crash safety: the service is SIGKILLed during a burst of creates and bookings and restarted; clients
  retry with their idempotency keys; no acknowledged referral is lost and none is duplicated.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import httpx
import pytest
import sqlalchemy as sa

from mednet.bench.ledger import LedgerService, prepare, serving_regions
from mednet.ledger import Ledger, LedgerRegion, NewReferral, QuotaIn, authenticate, open_ledger_engine
from mednet.ledger.records import ActionIn
from mednet.ledger.store import claims, quota_days, referrals
from mednet.regions import load_region

BOOKERS = 50
@pytest.fixture(params=["sqlite", "postgresql"])
def setting(request, tmp_path):
    """(database URL or None for SQLite, data folder, regions folder, clear keys, a library Ledger)."""
    url = request.getfixturevalue("pg_server").new_database() if request.param == "postgresql" else None
    keys = prepare(url, tmp_path / "data")
    regions_dir = serving_regions(tmp_path / "regions")
    engine = open_ledger_engine(url, data_dir=tmp_path / "data")
    ledger = Ledger(engine, {"minhang": LedgerRegion.from_region(load_region(regions_dir / "minhang.json"))})
    yield url, tmp_path / "data", regions_dir, keys, ledger
    engine.dispose()


def bearer(text: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {text}"}


def at_once(calls) -> list[httpx.Response]:
    """Run the calls from one thread each, released together; their answers in order."""
    barrier = threading.Barrier(len(calls))
    answers: list[httpx.Response | None] = [None] * len(calls)

    def run(i, call):
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            answers[i] = call(client)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [a for a in answers if a is not None]


def test_fifty_bookers_for_the_last_session_unit_and_the_last_quota_unit(setting):
    url, data, regions_dir, keys, ledger = setting
    centre, xinhua = authenticate(ledger.engine, keys["centre"]), authenticate(ledger.engine, keys["xinhua"])
    # down-referrals to the community centre, whose Tuesday-afternoon session has the units
    down = [ledger.create(xinhua, NewReferral(specialty="中医儿科", direction="down", reason="回社区",
                                              patient={"ref": f"S{i}"}, destination="mh-hongqiao", route=False))
            .record.number for i in range(BOOKERS)]
    up = [ledger.create(centre, NewReferral(specialty="儿科", reason="会诊", patient={"ref": f"Q{i}"},
                                            destination="sh-xinhua", route=False)).record.number
          for i in range(BOOKERS + 2)]
    for n in down:
        ledger.act(centre, n, "accept")
    for n in up:
        ledger.act(xinhua, n, "accept")
    units = ledger.slots("minhang", "mh-hongqiao", "tcm_paediatrics")
    last_session = units[0].slot
    admin = authenticate(ledger.engine, keys["admin"])
    ledger.set_quota(admin, "minhang", QuotaIn(institution="sh-xinhua", specialty="paediatrics", per_day=3))
    day = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date() + dt.timedelta(days=1)
    last_quota = f"quota/sh-xinhua/paediatrics/{day}"
    for n in up[:2]:  # two of the three units go first: one is left
        ledger.act(xinhua, n, "book", ActionIn(slot=last_quota))

    with LedgerService(url, data, regions_dir) as service:
        def booking(number, slot, key):
            return lambda client: client.post(f"{service.base}/referrals/{number}/book", json={"slot": slot},
                                              headers=bearer(key))

        for numbers, slot, key in ((down, last_session, keys["centre"]), (up[2:], last_quota, keys["xinhua"])):
            answers = at_once([booking(n, slot, key) for n in numbers])
            statuses = sorted(a.status_code for a in answers)
            assert statuses == [200] + [409] * (BOOKERS - 1), statuses
            refused = [a.json() for a in answers if a.status_code == 409]
            assert {r["type"] for r in refused} == {"urn:mednet:problem:slot-unavailable"}
            winner = next(a.json() for a in answers if a.status_code == 200)
            assert winner["claim"] == {"slot": slot, "status": "booked", "held_until": None}

    with ledger.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).where(claims.c.slot == last_session)).scalar_one() == 1
        assert conn.execute(sa.select(quota_days.c.used).where(quota_days.c.slot == last_quota)).scalar_one() == 3
        booked = conn.execute(sa.select(sa.func.count()).where(referrals.c.state == "booked")).scalar_one()
    assert booked == 1 + 3


def test_no_acknowledged_referral_is_lost_or_duplicated_across_a_crash(setting):
    url, data, regions_dir, keys, ledger = setting
    day = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date() + dt.timedelta(days=1)
    slot = f"quota/sh-xinhua/paediatrics/{day}"
    service = LedgerService(url, data, regions_dir).start()
    acknowledged: dict[str, str] = {}  # patient ref (one per create key) -> number, once answered
    booked: set[str] = set()
    stop_at = time.monotonic() + 120
    lock = threading.Lock()

    def retrying(client, method, path, key, idem, body=None):
        """Send until answered (the server may be down for a while); same idempotency key every time."""
        while time.monotonic() < stop_at:
            try:
                answer = client.request(method, f"{service.base}{path}", json=body, timeout=10,
                                        headers=bearer(key) | {"Idempotency-Key": idem})
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            if answer.status_code < 500:
                return answer
            time.sleep(0.05)
        raise AssertionError(f"no answer to {method} {path} within the time allowed")

    def client_work(c: int) -> None:
        with httpx.Client() as client:
            for i in range(12):
                ref = f"C{c}-{i}"
                created = retrying(client, "POST", "/referrals", keys["centre"], f"create-{ref}",
                                   {"specialty": "儿科", "reason": "crash test", "route": False,
                                    "destination": "sh-xinhua", "patient": {"ref": ref}})
                assert created.status_code == 201, created.text
                number = created.json()["number"]
                with lock:
                    acknowledged[ref] = number
                accepted = retrying(client, "POST", f"/referrals/{number}/accept", keys["xinhua"], f"accept-{ref}")
                assert accepted.status_code == 200, accepted.text
                done = retrying(client, "POST", f"/referrals/{number}/book", keys["xinhua"], f"book-{ref}",
                                {"slot": slot})
                assert done.status_code == 200, done.text
                with lock:
                    booked.add(number)

    errors: list[BaseException] = []

    def guarded(c: int) -> None:
        try:
            client_work(c)
        except BaseException as err:  # reported below
            errors.append(err)

    workers = [threading.Thread(target=guarded, args=(c,)) for c in range(6)]
    try:
        for w in workers:
            w.start()
        while len(acknowledged) < 15 and any(w.is_alive() for w in workers):
            time.sleep(0.01)
        service.kill()  # mid-burst: SIGKILL the server and both workers
        before_crash = dict(acknowledged)
        service.start()  # the same port and database; the clients retry
        for w in workers:
            w.join()
    finally:
        service.stop()
    assert not errors, errors
    assert len(before_crash) >= 15
    assert len(acknowledged) == 6 * 12
    with ledger.engine.connect() as conn:
        rows = conn.execute(sa.select(referrals.c.patient_ref, referrals.c.number, referrals.c.state)
                            .where(referrals.c.patient_ref.like("C%"))).all()
    stored = {}
    for ref, number, state in rows:
        assert ref not in stored, f"referral for {ref} recorded twice"
        stored[ref] = (number, state)
    assert {ref: n for ref, (n, _) in stored.items()} == acknowledged  # none lost, none extra
    assert all(state == "booked" for _, state in stored.values()) and len(booked) == 6 * 12
    with ledger.engine.connect() as conn:
        assert conn.execute(sa.select(quota_days.c.used).where(quota_days.c.slot == slot)).scalar_one() == 6 * 12


def test_a_revoked_key_is_refused_by_every_worker_from_the_next_request(setting):
    """Two workers; the key works on both, is revoked (committed), and the very next requests, on fresh
    connections spread over both workers, are 401 for writes and reads alike."""
    from mednet.ledger import revoke_key

    url, data, regions_dir, keys, ledger = setting
    body = {"specialty": "paediatrics", "reason": "会诊", "route": False, "destination": "sh-xinhua",
            "patient": {"ref": "RV"}}
    with LedgerService(url, data, regions_dir) as service:
        numbers = []
        for _ in range(6):  # new connections: both workers answer some
            with httpx.Client(base_url=service.base, timeout=30) as client:
                answer = client.post("/referrals", json=body, headers=bearer(keys["centre"]))
                assert answer.status_code == 201, answer.text
                numbers.append(answer.json()["number"])
        revoke_key(ledger.engine, keys["centre"])
        for _ in range(12):
            with httpx.Client(base_url=service.base, timeout=30) as client:
                write = client.post("/referrals", json=body, headers=bearer(keys["centre"]))
                read = client.get(f"/referrals/{numbers[0]}", headers=bearer(keys["centre"]))
                assert (write.status_code, read.status_code) == (401, 401), (write.text, read.text)
                assert "revoked" in write.json()["detail"]
    with ledger.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(referrals)).scalar() == len(numbers)

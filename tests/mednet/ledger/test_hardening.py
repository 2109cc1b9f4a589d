"""The ledger's second hardening, on both engines: times in UTC with their offset, a lapsed hold recorded when
the next taker clears it, one down-referral in force per parent (the database's rule), a revocation refused
at once by another process's engine, and the SQLite files readable by their owner only."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest
import sqlalchemy as sa

from mednet.errors import AlreadySentHome, NotAuthenticated
from mednet.ledger import Ledger, authenticate, create_key, open_ledger_engine, revoke_key
from mednet.ledger.records import ActionIn, NewReferral
from mednet.ledger.store import exclusive, referrals
from tests.mednet.ledger.conftest import Desks


@pytest.fixture
def fresh(db_url, minhang_data):
    d = Desks(db_url, minhang_data)
    yield d
    d.engine.dispose()


def test_every_time_comes_back_in_utc_with_its_offset(fresh):
    number = fresh.drive("accepted")
    fresh.ledger.act(fresh.xinhua, number, "hold", ActionIn(slot=fresh.quota_slot()))
    record = fresh.ledger.get(fresh.admin, number)
    moments = [record.created_at, record.updated_at, record.claim.held_until,
               *(e.at for e in fresh.ledger.history(fresh.admin, number))]
    assert all(m.utcoffset() == dt.timedelta(0) for m in moments), moments
    assert record.created_at == fresh.clock()  # the fake clock's moment, exactly
    text = record.model_dump_json()
    assert '"created_at":"2024-10-28T01:00:00Z"' in text and '"held_until":"2024-10-28T01:15:00Z"' in text
    # a moment given with another offset is stored as the same instant
    fresh.clock.time = dt.datetime(2024, 10, 28, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    later = fresh.ledger.act(fresh.xinhua, number, "book", ActionIn(slot=fresh.quota_slot())).record
    assert later.updated_at.isoformat() == "2024-10-28T01:30:00+00:00"


def test_a_hold_cleared_by_the_next_taker_is_recorded_as_the_sweep_does(fresh, minhang_data):
    from mednet.ledger.records import QuotaIn

    fresh.ledger.set_quota(fresh.admin, "minhang", QuotaIn(institution="sh-xinhua", specialty="paediatrics",
                                                           per_day=1, release_days=5))
    slot = fresh.quota_slot(days_ahead=2)
    holder, taker = fresh.drive("accepted"), fresh.drive("accepted")
    held = fresh.ledger.act(fresh.xinhua, holder, "hold", ActionIn(slot=slot)).record
    fresh.clock.advance(minutes=16)
    fresh.ledger.act(fresh.xinhua, taker, "book", ActionIn(slot=slot))  # the day's one unit, the hold lapsed
    after = fresh.ledger.get(fresh.admin, holder)
    assert after.version == held.version + 1 and after.claim is None and after.state == "accepted"
    last = fresh.ledger.history(fresh.admin, holder)[-1]
    assert (last.action, last.actor_key, last.seq, last.data) == ("hold_lapsed", "system", after.version,
                                                                  {"released": slot})
    with fresh.engine.connect() as conn:  # the stored slot is cleared
        assert conn.execute(sa.select(referrals.c.slot).where(referrals.c.number == holder)).scalar() is None
    with pytest.raises(Exception, match="used up"):  # and the unit is the taker's
        fresh.ledger.act(fresh.xinhua, holder, "book", ActionIn(slot=slot))


def test_one_down_referral_in_force_per_parent(fresh):
    parent = fresh.drive("completed")
    first = fresh.ledger.act(fresh.xinhua, parent, "send_home", ActionIn(reason="康复")).record
    version = fresh.ledger.get(fresh.admin, parent).version
    with pytest.raises(AlreadySentHome) as refused:
        fresh.ledger.act(fresh.xinhua, parent, "send_home", ActionIn(reason="再次"))
    assert refused.value.existing == first.number and first.number in str(refused.value)
    assert fresh.ledger.get(fresh.admin, parent).version == version  # the refusal changed nothing
    # a cancelled down-referral (the hospital's own, as its origin) no longer counts: send home again
    fresh.ledger.act(fresh.xinhua, first.number, "cancel", ActionIn(reason="改派"))
    second = fresh.ledger.act(fresh.xinhua, parent, "send_home", ActionIn(reason="改派社区")).record
    assert second.parent == parent and second.number != first.number


def test_the_database_itself_refuses_a_second_down_referral_in_force(fresh):
    parent = fresh.drive("completed")
    child = fresh.ledger.act(fresh.xinhua, parent, "send_home", ActionIn(reason="康复")).record
    with fresh.engine.connect() as conn:
        row = dict(conn.execute(referrals.select().where(referrals.c.number == child.number)).mappings().one())
    copy = {**row, "id": row["id"] + 1000, "number": row["number"] + "x"}
    with pytest.raises(sa.exc.IntegrityError), fresh.engine.begin() as conn:
        conn.execute(referrals.insert().values(copy))
    with fresh.engine.begin() as conn:  # an ended one beside it is fine
        conn.execute(referrals.insert().values({**copy, "state": "rejected"}))


def test_a_revocation_by_another_engine_is_refused_at_once(fresh, db_url, minhang_data):
    """Two processes' engines on one database: the next request after the revocation commits is refused,
    by authentication and inside the ledger's own transaction (a key already checked)."""
    key, text = create_key(fresh.engine, role="desk", label="second desk", region="minhang",
                           institution="mh-hongqiao")
    other = open_ledger_engine(db_url)
    try:
        ledger = Ledger(other, minhang_data, now=fresh.clock)
        actor = authenticate(other, text)
        body = NewReferral(specialty="儿科", reason="发热", patient={"ref": "RV1"}, destination="sh-xinhua",
                           route=False)
        ledger.create(actor, body)
        revoke_key(fresh.engine, key.id)
        with pytest.raises(NotAuthenticated, match="revoked"):
            authenticate(other, text)
        with pytest.raises(NotAuthenticated, match="revoked"):
            ledger.create(actor, body)
        with pytest.raises(NotAuthenticated, match="revoked"):
            ledger.list(actor)
    finally:
        other.dispose()


def test_the_sqlite_ledger_and_its_folder_are_private_whatever_the_umask(tmp_path, minhang_data):
    old = os.umask(0)
    try:
        url = f"sqlite:///{tmp_path / 'data' / 'ledger.sqlite3'}"
        d = Desks(url, minhang_data)  # creates the folder and the file, migrates, writes
        d.drive("accepted")
        with exclusive(d.engine, "sweep"):
            pass
        with d.engine.connect() as conn:  # the -wal and -shm files exist while a connection is open
            conn.execute(sa.text("SELECT 1"))
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "data").iterdir()}
        d.engine.dispose()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    assert {"ledger.sqlite3", "ledger.sqlite3-wal", "ledger.sqlite3-shm", "ledger.sqlite3.sweep-lock"} <= set(modes)
    assert set(modes.values()) == {0o600}, modes


def test_a_sized_pool_never_opens_more_connections_than_its_size(db_url, minhang_data):
    """Eight threads writing through a pool of three: they wait for a connection rather than open a fourth
    (on PostgreSQL, a backend per request), and every write lands."""
    import threading

    from mednet.ledger.store import create_ledger_engine, database_url

    Desks(db_url, minhang_data).engine.dispose()  # migrated, with keys
    engine = create_ledger_engine(database_url(db_url, data_dir="."), pool_size=3)
    opened: list[object] = []
    sa.event.listen(engine, "connect", lambda conn, _record: opened.append(conn))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                with engine.begin() as conn:
                    conn.execute(sa.select(sa.func.count()).select_from(referrals)).scalar()
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert errors == [] and len(opened) <= 3

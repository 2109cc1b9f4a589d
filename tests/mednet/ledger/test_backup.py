"""``mednet db backup`` and ``restore`` on both engines: a backup taken during a burst of writes holds every
referral acknowledged before it began, restores whole, and passes the integrity checks; what a restore refuses."""

from __future__ import annotations

import shutil
import stat
import threading

import pytest
import sqlalchemy as sa

from mednet.cli import main
from mednet.errors import InvalidRequest, LedgerUnavailable
from mednet.ledger import open_ledger_engine
from mednet.ledger.backup import backup, restore, serving
from mednet.ledger.records import NewReferral
from mednet.ledger.store import api_keys, database_url, events, referrals
from tests.mednet.ledger.conftest import Desks, make_url


@pytest.fixture
def fresh(db_url, minhang_data):
    if db_url.startswith("postgresql") and shutil.which("pg_dump") is None:
        pytest.skip("needs-system: pg_dump and pg_restore (Debian: apt-get install postgresql-client)")
    d = Desks(db_url, minhang_data)
    yield d
    d.engine.dispose()


def burst(desks, stop: threading.Event, acked: list[str]) -> None:
    """Create referrals one after another until told to stop; each number is kept once acknowledged."""
    n = 0
    while not stop.is_set():
        n += 1
        body = NewReferral(specialty="儿科", reason="发热", patient={"ref": f"B{n}"}, destination="sh-xinhua",
                           route=False)
        acked.append(desks.ledger.create(desks.centre, body).record.number)


def test_a_backup_during_writes_restores_every_referral_acknowledged_before_it(fresh, db_url, request, tmp_path):
    url = database_url(db_url, data_dir=tmp_path)
    acked: list[str] = []
    stop = threading.Event()
    writer = threading.Thread(target=burst, args=(fresh, stop, acked))
    writer.start()
    try:
        while len(acked) < 30:
            stop.wait(0.01)
        before = list(acked)
        copy = backup(url, tmp_path / "ledger.backup")
    finally:
        stop.set()
        writer.join()
    assert len(acked) > len(before)  # the writes went on meanwhile
    assert stat.S_IMODE((tmp_path / "ledger.backup").stat().st_mode) == 0o600
    assert copy.revision == "0006_sent_home" and copy.referrals >= len(before)

    target = database_url(make_url(request.node.callspec.params["db_url"], request, tmp_path / "restored"),
                          data_dir=tmp_path / "restored")
    restored = restore(target, tmp_path / "ledger.backup")
    assert restored.referrals == copy.referrals
    engine = open_ledger_engine(target)
    try:
        with engine.connect() as conn:
            numbers = set(conn.execute(sa.select(referrals.c.number)).scalars())
            without_events = conn.execute(sa.select(sa.func.count()).select_from(referrals).where(
                ~sa.exists().where(events.c.referral_id == referrals.c.id))).scalar()
            if engine.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalars().all() == ["ok"]
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            keys = set(conn.execute(sa.select(api_keys.c.id)).scalars())
        assert set(before) <= numbers and without_events == 0
        assert fresh.centre.id in keys  # the keys came along
    finally:
        engine.dispose()
    # a second restore over a ledger that now holds referrals needs --replace
    with pytest.raises(InvalidRequest, match="--replace"):
        restore(target, tmp_path / "ledger.backup")
    assert restore(target, tmp_path / "ledger.backup", replace=True).referrals == copy.referrals


def test_a_restore_refuses_a_ledger_a_service_has_open_and_a_file_that_is_no_backup(fresh, db_url, tmp_path):
    url = database_url(db_url, data_dir=tmp_path)
    backup(url, tmp_path / "b")
    with pytest.raises(LedgerUnavailable, match=r"stop (it|them)"), serving(fresh.engine), \
            fresh.engine.connect():  # a service holds its lock (SQLite) and its sessions (PostgreSQL)
        restore(url, tmp_path / "b", replace=True)
    (tmp_path / "junk").write_text("not a backup")
    with pytest.raises((InvalidRequest, LedgerUnavailable)):
        restore(url, tmp_path / "junk", replace=True)


def test_the_commands_back_up_and_restore(tmp_path, capsys, minhang_data):
    desks = Desks(f"sqlite:///{tmp_path / 'data' / 'ledger.sqlite3'}", minhang_data)
    desks.drive("booked")
    desks.engine.dispose()
    where = ["--data-dir", str(tmp_path / "data")]
    assert main(["db", "backup", str(tmp_path / "copy.sqlite3"), *where]) == 0
    assert "schema revision 0006_sent_home, 1 referrals" in capsys.readouterr().out
    assert main(["db", "restore", str(tmp_path / "copy.sqlite3"), *where]) == 2
    assert "--replace" in capsys.readouterr().err
    assert main(["db", "restore", str(tmp_path / "copy.sqlite3"), "--replace", *where]) == 0
    assert main(["db", "backup", str(tmp_path), *where]) == 2  # a folder: refused in one line
    assert "is a folder" in capsys.readouterr().err

"""Backing the ledger up while the service writes, and restoring it whole.

:func:`backup` writes one file, 0600 (it holds the referrals), through
:mod:`mednet.files` (complete or absent):

- SQLite: SQLite's online backup API copies every page inside one read
  transaction, so the copy is the database as it was at one instant while
  the service goes on writing (WAL mode: readers never stop writers); the
  copy passes ``PRAGMA integrity_check`` before it is kept;
- PostgreSQL: ``pg_dump --format=custom`` of a snapshot exported by a
  repeatable-read transaction that also counts what the backup holds;
  without ``pg_dump`` on this machine, :class:`BackupToolMissing` says the one
  command to run where it is installed.

:func:`restore` puts a backup in place of the ledger, all of it or nothing:

- it refuses while a service has the ledger open (:func:`serving` holds a
  shared lock beside a SQLite file for the service's life; on PostgreSQL any
  other session on the database counts): stop the service, restore, start;
- it refuses to replace a ledger that holds referrals unless ``replace``
  (``--replace``): a restore throws away everything written since the backup;
- SQLite: the backup, checked first, is copied into the ledger file by the
  backup API in one write transaction (a crash midway leaves the old ledger);
  PostgreSQL: ``pg_restore --clean --single-transaction``;
- then the schema is brought to this version's (a backup from an older
  mednet is migrated) and checked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from mednet.errors import InvalidRequest, LedgerUnavailable, MednetError
from mednet.files import write_files
from mednet.ledger.store import PRIVATE_FILE, create_ledger_engine, open_private, private_file, referrals, upgrade


class BackupToolMissing(MednetError, FileNotFoundError):
    """``pg_dump`` or ``pg_restore`` is not installed here: names the command to run where it is."""


@dataclass(frozen=True)
class LedgerCopy:
    """What a backup or a restore held: the engine, the schema revision and the number of referrals."""

    engine: str
    revision: str
    referrals: int


def backup(url: str, target: str | os.PathLike[str]) -> LedgerCopy:
    """Copy the ledger at ``url`` to the file ``target`` (consistent while the service writes)."""
    if make_url(url).get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        if not path.exists():
            raise InvalidRequest("--data-dir", str(path.parent), "must hold a ledger (no ledger.sqlite3 there)")
        found: list[LedgerCopy] = []

        def copy_sqlite(tmp: str) -> None:
            source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            copy_to = sqlite3.connect(tmp)
            try:
                source.backup(copy_to)  # every page, in one read transaction of the source
                found.append(_check_sqlite(copy_to, tmp))
            finally:
                copy_to.close()
                source.close()

        write_files({Path(target): copy_sqlite}, mode=PRIVATE_FILE)
        return found[0]
    dump = _program("pg_dump", f"pg_dump --format=custom --no-owner --no-privileges --file {target} "
                               f"--dbname '{_libpq_url(url, hide=True)}'")
    engine = create_ledger_engine(url)
    try:  # pg_dump reads the snapshot of this transaction: the figures said are the backup's own
        with engine.connect() as conn:
            conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
                copy = LedgerCopy("postgresql", conn.execute(sa.text("SELECT version_num FROM alembic_version"))
                                  .scalar() or "", conn.execute(sa.select(sa.func.count()).select_from(referrals))
                                  .scalar() or 0)
                write_files({Path(target): lambda tmp: _run([
                    dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}", "--file",
                    tmp, "--dbname", _libpq_url(url)])}, mode=PRIVATE_FILE)
    finally:
        engine.dispose()
    return copy


def restore(url: str, source: str | os.PathLike[str], *, replace: bool = False) -> LedgerCopy:
    """Put the backup ``source`` in place of the ledger at ``url`` (see the module for what is refused)."""
    source = Path(source)
    if not source.is_file():
        raise InvalidRequest("FILE", str(source), "must be a backup file made by `mednet db backup`")
    if make_url(url).get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        try:
            backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            _check_sqlite(backup_db, str(source))
        except sqlite3.DatabaseError as err:
            raise InvalidRequest("FILE", str(source), f"must be a SQLite backup of the ledger ({err})") from None
        with _not_serving(path):
            _refuse_replacing(url, replace)
            private_file(path)
            ledger = sqlite3.connect(path)
            try:
                backup_db.backup(ledger)  # the whole database in one write transaction of the ledger
            finally:
                ledger.close()
                backup_db.close()
    else:
        program = _program("pg_restore", f"pg_restore --clean --if-exists --no-owner --single-transaction "
                                          f"--dbname '{_libpq_url(url, hide=True)}' {source}")
        _refuse_other_sessions(url)
        _refuse_replacing(url, replace)
        _run([program, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
              "--exit-on-error", "--dbname", _libpq_url(url), str(source)])
    upgrade(url)
    return _describe(url, check=True)


@contextlib.contextmanager
def serving(engine: Engine) -> Iterator[None]:
    """Held by a service while it has the ledger open: a shared lock beside a SQLite file (``.serving-lock``),
    which :func:`restore` will not take from it. Nothing on PostgreSQL (its sessions show)."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        yield
        return
    with os.fdopen(open_private(Path(f"{engine.url.database}.serving-lock"), os.O_WRONLY | os.O_APPEND), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def _not_serving(path: Path) -> Iterator[None]:
    private_file(path)
    with os.fdopen(open_private(Path(f"{path}.serving-lock"), os.O_WRONLY | os.O_APPEND), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LedgerUnavailable(f"a service has the ledger {path} open: stop it, restore, then start it "
                                    "again") from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _refuse_replacing(url: str, replace: bool) -> None:
    if replace:
        return
    engine = create_ledger_engine(url)
    try:
        with engine.connect() as conn:
            held = conn.execute(sa.select(sa.func.count()).select_from(referrals)).scalar() \
                if sa.inspect(conn).has_table("referrals") else 0
    finally:
        engine.dispose()
    if held:
        raise InvalidRequest("--replace", None, f"is needed: the ledger holds {held} referrals, which the restore "
                             "replaces with the backup's (everything written since the backup is lost)")


def _refuse_other_sessions(url: str) -> None:
    engine = create_ledger_engine(url)
    try:
        with engine.connect() as conn:
            others = conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")).scalar()
    finally:
        engine.dispose()
    if others:
        raise LedgerUnavailable(f"{others} other session(s) have the ledger's database open (a running service?): "
                                "stop them, restore, then start the service again")


def _check_sqlite(conn: sqlite3.Connection, name: str) -> LedgerCopy:
    """The SQLite database passes ``PRAGMA integrity_check`` and its foreign keys hold; what it holds."""
    problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    if problems != ["ok"] or conn.execute("PRAGMA foreign_key_check").fetchall():
        raise LedgerUnavailable(f"{name} fails SQLite's integrity check: {'; '.join(problems)[:300]}")
    try:
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        count = conn.execute("SELECT count(*) FROM referrals").fetchone()
    except sqlite3.OperationalError as err:
        raise InvalidRequest("FILE", name, f"must be a backup of mednet's ledger ({err})") from None
    return LedgerCopy("sqlite", revision[0] if revision else "", count[0] if count else 0)


def _describe(url: str, *, check: bool = False) -> LedgerCopy:
    if make_url(url).get_backend_name() == "sqlite":
        ledger = sqlite3.connect(_sqlite_path(url))
        try:
            return _check_sqlite(ledger, str(_sqlite_path(url)))
        finally:
            ledger.close()
    engine = create_ledger_engine(url)
    try:
        with engine.connect() as conn:
            if check:  # every referral has its history from its first version on
                broken = conn.execute(sa.text(
                    "SELECT count(*) FROM referrals r WHERE (SELECT count(*) FROM events e WHERE "
                    "e.referral_id = r.id) < 1")).scalar()
                if broken:
                    raise LedgerUnavailable(f"the restored ledger has {broken} referrals without their events")
            revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() or ""
            count = conn.execute(sa.select(sa.func.count()).select_from(referrals)).scalar() or 0
    finally:
        engine.dispose()
    return LedgerCopy("postgresql", revision, count)


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def _libpq_url(url: str, *, hide: bool = False) -> str:
    """The URL as libpq's programs take it (no ``+psycopg``), the password hidden when shown."""
    plain = make_url(url).set(drivername="postgresql")
    return plain.render_as_string(hide_password=hide)


def _program(name: str, command: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupToolMissing(f"{name} is not installed here (Debian: apt-get install postgresql-client); "
                                f"run where it is: {command}")
    return found


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = " ".join((done.stderr or done.stdout).split())[:500]
        raise LedgerUnavailable(f"{Path(command[0]).name} failed (exit {done.returncode}): {detail}")

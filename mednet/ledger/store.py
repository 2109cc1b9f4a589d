"""The ledger's tables (SQLAlchemy Core) and its database: SQLite by default, PostgreSQL by URL.

Rules the database itself enforces, so that they hold under any concurrency
and on both engines:

- a session slot is claimed at most once: ``claims.exclusive_slot`` is unique;
- a referral holds at most one slot or quota unit: ``claims.referral_id`` is the key;
- a quota day never gives more units than it has: ``quota_days`` is updated with
  ``used = used + 1 WHERE used < capacity`` and checks ``0 <= used <= capacity``;
- every event has its own place in a referral's history: ``(referral_id, seq)`` is unique;
- an idempotency key is used once per API key: ``(key_id, key)`` is the primary key;
- a referral has at most one down-referral in force (:data:`ONE_DOWN_REFERRAL`): a partial unique index.

The schema is created and changed only by the Alembic migrations in
``mednet/ledger/migrations`` (:func:`upgrade`); these tables describe it to
the code and a test checks that both agree.

    >>> sorted(metadata.tables)
    ['api_keys', 'attachments', 'claims', 'desk_sessions', 'events', 'idempotency', 'monthly_aggregates', \
'quota_days', 'quotas', 'reads', 'referrals', 'service_levels', 'summaries']
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from mednet.errors import InvalidRequest, LedgerUnavailable
from mednet.ledger.states import FINAL_STATES

if TYPE_CHECKING:
    from alembic.config import Config

metadata = sa.MetaData()


class UtcDateTime(sa.TypeDecorator[dt.datetime]):
    """A moment, always given back in UTC with its offset, on both engines.

    PostgreSQL keeps it as ``timestamp with time zone``; SQLite, which has no
    date-time type, as the UTC wall time in text. Either way the value read is
    an aware date-time in UTC, so every answer carries its offset
    (``2026-12-06T23:32:19.756064Z``). A naive value written is taken as UTC.

    >>> from sqlalchemy.dialects import sqlite
    >>> stamp, on_sqlite = UtcDateTime(), sqlite.dialect()
    >>> moment = dt.datetime(2026, 12, 7, 7, 32, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    >>> stored = stamp.process_bind_param(moment, on_sqlite)
    >>> stored, stamp.process_result_value(stored, on_sqlite).isoformat()
    (datetime.datetime(2026, 12, 6, 23, 32), '2026-12-06T23:32:00+00:00')
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


Stamp = UtcDateTime()

referrals = sa.Table(
    "referrals", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("number", sa.String(32), nullable=False, unique=True),
    sa.Column("region", sa.String(120), nullable=False),
    sa.Column("origin_id", sa.String(120), nullable=False, index=True),
    sa.Column("origin_desk", sa.String(32), nullable=False),
    sa.Column("destination_id", sa.String(120), nullable=False, index=True),
    sa.Column("proposed_id", sa.String(120)),
    sa.Column("destination_why", sa.Text),
    sa.Column("specialty", sa.String(64), nullable=False),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("priority", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("patient_ref", sa.String(64), nullable=False),
    sa.Column("patient_sex", sa.String(8)),
    sa.Column("patient_birth_year", sa.Integer),
    sa.Column("routing", sa.JSON),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("referrals.id")),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("slot", sa.String(300)),
    sa.Column("created_at", Stamp, nullable=False, index=True),
    sa.Column("updated_at", Stamp, nullable=False),
    # when the referral entered its state, and when its service level runs out there (service_levels.py)
    sa.Column("state_since", Stamp),
    sa.Column("due_at", Stamp, index=True),
    # a re-referral: the rejected referral this one replaces
    sa.Column("replaces_id", sa.Integer, sa.ForeignKey("referrals.id", name="fk_referrals_replaces_id")),
    # when the referral was answered (accept or reject) and booked: each happens at most once (indicators)
    sa.Column("answered_at", Stamp),
    sa.Column("booked_at", Stamp),
    sa.Index("ix_referrals_region_patient", "region", "patient_ref"),
)
#: At most one down-referral in force per parent: one not ended without the patient going home (rejected,
#: cancelled, expired end it; arrived and completed still count, the patient got there). A partial unique index,
#: the same on both engines.
ONE_DOWN_REFERRAL = f"direction = 'down' AND state NOT IN ({', '.join(repr(s) for s in sorted(FINAL_STATES))})"
sa.Index("uq_referrals_one_down_referral", referrals.c.parent_id, unique=True,
         sqlite_where=sa.text(ONE_DOWN_REFERRAL), postgresql_where=sa.text(ONE_DOWN_REFERRAL))

events = sa.Table(
    "events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("referral_id", sa.Integer, sa.ForeignKey("referrals.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("from_state", sa.String(16)),
    sa.Column("to_state", sa.String(16), nullable=False),
    sa.Column("actor_key", sa.String(32), nullable=False),
    sa.Column("actor_institution", sa.String(120)),
    sa.Column("at", Stamp, nullable=False),
    sa.Column("why", sa.Text),
    sa.Column("data", sa.JSON),
    sa.Column("reason_code", sa.String(32)),  # reasons.py
    sa.UniqueConstraint("referral_id", "seq", name="uq_events_referral_seq"),
    sa.Index("ix_events_actor_action", "actor_institution", "action"),  # what a desk passed on (redirected)
)

api_keys = sa.Table(
    "api_keys", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("secret_sha256", sa.String(64), nullable=False),
    sa.Column("region", sa.String(120)),
    sa.Column("institution", sa.String(120)),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("revoked_at", Stamp),
)

desk_sessions = sa.Table(
    "desk_sessions", metadata,
    sa.Column("id_sha256", sa.String(64), primary_key=True),  # the SHA-256 of the cookie's random id
    sa.Column("key_id", sa.String(32), sa.ForeignKey("api_keys.id"), nullable=False, index=True),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("last_used_at", Stamp, nullable=False),
)

claims = sa.Table(
    "claims", metadata,
    sa.Column("referral_id", sa.Integer, sa.ForeignKey("referrals.id"), primary_key=True),
    sa.Column("slot", sa.String(300), nullable=False, index=True),
    sa.Column("exclusive_slot", sa.String(300), unique=True),  # session slots; NULL for quota units
    sa.Column("held_until", Stamp),  # NULL: booked
    sa.Column("at", Stamp, nullable=False),
)

quotas = sa.Table(
    "quotas", metadata,
    sa.Column("region", sa.String(120), primary_key=True),
    sa.Column("institution", sa.String(120), primary_key=True),
    sa.Column("specialty", sa.String(64), primary_key=True),
    sa.Column("per_day", sa.Integer, sa.CheckConstraint("per_day >= 0", name="ck_quotas_per_day"), nullable=False),
    sa.Column("release_days", sa.Integer, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("updated_at", Stamp, nullable=False),
)

quota_days = sa.Table(
    "quota_days", metadata,
    sa.Column("slot", sa.String(300), primary_key=True),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("used", sa.Integer, nullable=False),
    sa.CheckConstraint("used >= 0 AND used <= capacity", name="ck_quota_days_used"),
)

idempotency = sa.Table(
    "idempotency", metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("at", Stamp, nullable=False),
)


service_levels = sa.Table(
    "service_levels", metadata,
    sa.Column("region", sa.String(120), primary_key=True),
    sa.Column("priority", sa.String(16), primary_key=True),
    sa.Column("measure", sa.String(16), primary_key=True),  # respond | book
    sa.Column("amount", sa.Integer, nullable=False),
    sa.Column("unit", sa.String(16), nullable=False),  # minutes | hours | working_days
    sa.Column("note", sa.Text),
    sa.Column("updated_at", Stamp, nullable=False),
)

summaries = sa.Table(  # the clinical summary (转诊记录, WS 445.16): read only by the two desks, every read recorded
    "summaries", metadata,
    sa.Column("referral_id", sa.Integer, sa.ForeignKey("referrals.id"), primary_key=True),
    sa.Column("diagnosis_code", sa.String(16)),
    sa.Column("diagnosis_text", sa.Text),
    sa.Column("history", sa.Text),
    sa.Column("findings", sa.Text),
    sa.Column("treatment", sa.Text),
    sa.Column("purpose", sa.Text),
    sa.Column("actor_key", sa.String(32), nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
)

attachments = sa.Table(
    "attachments", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("referral_id", sa.Integer, sa.ForeignKey("referrals.id"), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("media_type", sa.String(64), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("actor_key", sa.String(32), nullable=False),
    sa.Column("actor_institution", sa.String(120)),
    sa.Column("at", Stamp, nullable=False),
    sa.Index("uq_attachments_referral_sha256", "referral_id", "sha256", unique=True),  # a file once a referral
)

reads = sa.Table(  # who read a referral's clinical summary or attachments, and when
    "reads", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", Stamp, nullable=False, index=True),
    sa.Column("key_id", sa.String(32), nullable=False),
    sa.Column("institution", sa.String(120)),
    sa.Column("referral_id", sa.Integer, sa.ForeignKey("referrals.id"), nullable=False, index=True),
    sa.Column("what", sa.String(64), nullable=False),
)
# what the indicator queries read by (migration 0005_indicators)
sa.Index("ix_referrals_region_created", referrals.c.region, referrals.c.created_at)
sa.Index("ix_referrals_parent", referrals.c.parent_id)
sa.Index("ix_events_action_referral", events.c.action, events.c.referral_id, events.c.at)
# the down-referrals' parents, read as a set by the indicator counts (migration 0006_sent_home)
sa.Index("ix_referrals_down_parent", referrals.c.parent_id, sqlite_where=sa.text("direction = 'down'"),
         postgresql_where=sa.text("direction = 'down'"))


monthly_aggregates = sa.Table(  # what hospital and insurance systems count per institution and month (indicators)
    "monthly_aggregates", metadata,
    sa.Column("region", sa.String(120), primary_key=True),
    sa.Column("institution", sa.String(120), primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True),  # YYYY-MM, China Standard Time
    sa.Column("visits", sa.Integer),  # 门急诊人次
    sa.Column("inpatients", sa.Integer),  # 住院人次
    sa.Column("visits_outside", sa.Integer),  # 县外就诊人次 of the county's people
    sa.Column("inpatients_outside", sa.Integer),  # 县外住院人次
    sa.Column("insurance", sa.Numeric(18, 2)),  # 医保基金支出, yuan
    sa.Column("insurance_outside", sa.Numeric(18, 2)),  # 县外医保基金支出, yuan
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("imported_at", Stamp, nullable=False),
)


def default_data_dir() -> Path:
    """The service's data folder: ``$MEDNET_DATA_DIR``, else ``$XDG_DATA_HOME/mednet`` or ``~/.local/share/mednet``."""
    if folder := os.environ.get("MEDNET_DATA_DIR"):
        return Path(folder)
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "mednet"


def database_url(url: str | None, *, data_dir: Path, given_as: str = "MEDNET_DATABASE_URL") -> str:
    """The SQLAlchemy URL: ``url`` (PostgreSQL through psycopg 3) or SQLite in ``data_dir``; an error names
    ``url`` as the user gave it (``given_as``: the setting or option).

    >>> database_url("postgresql://u@127.0.0.1:5432/mednet", data_dir=Path("."))
    'postgresql+psycopg://u@127.0.0.1:5432/mednet'
    >>> database_url(None, data_dir=Path("/srv/mednet"))
    'sqlite:////srv/mednet/ledger.sqlite3'
    """
    if not url:
        return f"sqlite:///{Path(data_dir).resolve() / 'ledger.sqlite3'}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    if url.startswith(("postgresql+psycopg://", "sqlite:///")):
        return url
    raise InvalidRequest(given_as, url, "must name a PostgreSQL database (postgresql://user@host/db) "
                         "or a SQLite file (sqlite:////path/ledger.sqlite3)")


def create_ledger_engine(url: str, *, pool_size: int | None = None) -> Engine:
    """An engine for ``url``. SQLite: WAL, ``synchronous=FULL`` (an answered write survives a crash),
    a busy timeout, foreign keys on, and write transactions opened with ``BEGIN IMMEDIATE`` (see :func:`writing`).

    ``pool_size``: connections kept open, and never more (a caller at the limit waits for one): a service
    gives one per thread that may use the database, so that no connection (no PostgreSQL backend) is opened
    per request under load. By default 10, with up to 20 more opened for a burst and closed after it."""
    sizes = {"pool_size": 10, "max_overflow": 20} if pool_size is None else {"pool_size": pool_size,
                                                                              "max_overflow": 0}
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        private_file(path)
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **sizes)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return sa.create_engine(url, pool_recycle=3600, **sizes)


#: Modes of what the ledger creates on disk: only its owner reads the referrals (whatever the umask).
PRIVATE_FOLDER, PRIVATE_FILE = 0o700, 0o600


def private_file(path: Path) -> None:
    """Make ``path`` (and any missing folders above it, 0700) as an empty file readable by its owner only
    (0600), or narrow an existing one to 0600. SQLite gives its ``-wal`` and ``-shm`` files the database
    file's mode. A folder that already exists is left as its owner set it."""
    missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another worker made it first
            folder.mkdir(mode=PRIVATE_FOLDER)
            os.chmod(folder, PRIVATE_FOLDER)
    os.close(open_private(path, os.O_RDWR))


def open_private(path: Path, flags: int) -> int:
    """A file descriptor of ``path`` opened with ``flags``, the file created 0600 (or narrowed to it) whatever
    the umask."""
    fd = os.open(path, flags | os.O_CREAT, PRIVATE_FILE)
    if os.fstat(fd).st_mode & 0o777 != PRIVATE_FILE:
        os.fchmod(fd, PRIVATE_FILE)
    return fd


def _sqlite_connect(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy, not the driver, opens transactions
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
        dbapi_connection.execute(f"PRAGMA {pragma}")


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("writing") else "BEGIN")


@contextlib.contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction, committed on success. On SQLite it takes the write lock at once
    (``BEGIN IMMEDIATE``), so a transaction that reads then writes never fails to upgrade its lock."""
    with _writer(engine).begin() as conn:
        yield conn


def _writer(engine: Engine) -> Engine:
    """``engine`` with the ``writing`` option, made once per engine and kept on it (making one takes a
    logger lookup under the logging module's lock: measurable on every write)."""
    found: Engine | None = engine.__dict__.get("_mednet_writer")
    if found is None:
        found = engine.__dict__["_mednet_writer"] = engine.execution_options(writing=True)
    return found


def is_postgresql(conn: Connection | Engine) -> bool:
    return conn.dialect.name == "postgresql"


def insert_ignoring_conflict(conn: Connection, table: sa.Table, values: dict) -> bool:
    """``INSERT … ON CONFLICT DO NOTHING``; True when the row went in (the database decides, not Python)."""
    key = (conn.dialect.name, table.name)
    statement = _INSERT_IGNORING.get(key)
    if statement is None:
        statement = _INSERT_IGNORING[key] = dialect_insert(conn)(table).on_conflict_do_nothing() \
            .returning(sa.literal(1))
    return conn.execute(statement, values).first() is not None


def dialect_insert(conn: Connection) -> Callable[[sa.Table], Any]:
    """The engine's own ``insert`` (with ``on_conflict_do_nothing`` / ``on_conflict_do_update``)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql.insert if is_postgresql(conn) else sqlite.insert


_INSERT_IGNORING: dict[tuple[str, str], sa.Insert] = {}


# --------------------------------------------------------------------------- migrations

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> str:
    """Create or migrate the database at ``url`` to the newest schema; returns the revision.

    Several workers may start at once: the migration runs under a lock (a file
    lock beside a SQLite file, an advisory lock on PostgreSQL), so only one
    migrates and the others find the schema current.
    """
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    engine = create_ledger_engine(url)
    try:
        with exclusive(engine, "migrate"):
            command.upgrade(alembic_config(url), "head")
            with engine.connect() as conn:
                return MigrationContext.configure(conn).get_current_revision() or ""
    except sa.exc.OperationalError as err:
        reason = " ".join(str(err.orig).split())  # psycopg's hint comes on a line of its own
        raise LedgerUnavailable(f"cannot open the ledger database {engine.url!r}: {reason}") from err
    finally:
        engine.dispose()


#: PostgreSQL advisory lock keys of :func:`exclusive` ("medn" for migrations, "mexp" for the expiry sweep).
ADVISORY_LOCKS = {"migrate": 0x6D65646E, "sweep": 0x6D657870}


@contextlib.contextmanager
def exclusive(engine: Engine, name: str, *, wait: bool = True) -> Iterator[bool]:
    """One holder at a time across processes and hosts: a PostgreSQL advisory lock, or a file lock beside
    a SQLite file (``<file>.<name>-lock``). Yields whether it was taken: with ``wait=False`` a lock held
    elsewhere is not waited for (False); with ``wait=True`` it always is (True)."""
    if is_postgresql(engine):
        with engine.connect() as conn:
            function = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
            taken = conn.execute(sa.text(f"SELECT {function}(:k)"), {"k": ADVISORY_LOCKS[name]}).scalar()
            taken = wait or bool(taken)
            try:
                yield taken
            finally:
                if taken:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCKS[name]})
                conn.commit()
        return
    lock_path = Path(f"{engine.url.database}.{name}-lock")
    with os.fdopen(open_private(lock_path, os.O_WRONLY | os.O_APPEND), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

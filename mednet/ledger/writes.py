"""A referral's row written together with its event: one round trip on PostgreSQL.

Every change of a referral appends an event in the same transaction. On
PostgreSQL the two go to the server as one statement (a data-modifying
``WITH``: the referral's ``INSERT`` or ``UPDATE … RETURNING id`` feeds the
event's ``INSERT … SELECT``), so a change costs one round trip, not two. On
SQLite, which runs in-process, they are two statements in the same
transaction. The statements are built once per dialect (and, for an update,
per set of changed columns), so SQLAlchemy compiles each once.

The update names the version it expects (``WHERE version = :old_version``);
when it finds no such row nothing is written and :class:`StaleVersion` is
raised (the row is locked by then, so this is a guard, not the check).

Text reaches here already checked by the write models; as a last guard
(the CLI, the library), a value holding a control character other than tab
or a line break is refused with :class:`InvalidRequest` before any statement
runs, on both engines (see :mod:`mednet.inputs`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mednet.errors import StaleVersion
from mednet.inputs import check_text
from mednet.ledger.store import events, is_postgresql, referrals

#: The event's columns, in the order the combined statement selects them (the referral's id first).
EVENT_COLUMNS = ("referral_id", "seq", "action", "from_state", "to_state", "actor_key", "actor_institution", "at",
                 "why", "data", "reason_code")
_INSERT_REFERRAL = referrals.insert()
_INSERT_EVENT = events.insert()
_LAPSE = referrals.update().where(referrals.c.id == sa.bindparam("rid")).values(
    slot=None, version=referrals.c.version + 1, updated_at=sa.bindparam("now", type_=referrals.c.updated_at.type)) \
    .returning(referrals.c.version, referrals.c.state)
#: The actor of changes nobody made: lapsed holds, automatic expiry.
SYSTEM_ACTOR = "system"
_BUILT: dict[tuple[str, ...], sa.Executable] = {}


def _event_select(source: Any) -> sa.Select:
    """``SELECT source.id, :ev_seq, …``: the event of the row ``source`` returned."""
    return sa.select(source.c.id, *(sa.bindparam(f"ev_{name}", type_=events.c[name].type)
                                    for name in EVENT_COLUMNS[1:]))


def _event_params(event: dict[str, Any]) -> dict[str, Any]:
    return {f"ev_{name}": event.get(name) for name in EVENT_COLUMNS[1:]}


def _check_texts(*values: dict[str, Any]) -> None:
    """Refuse a text value holding a control character (tab and line breaks aside) before anything is written."""
    for mapping in values:
        for name, value in mapping.items():
            if isinstance(value, str):
                check_text(name, value, multiline=True)


def insert_with_event(conn: Connection, row: dict[str, Any], event: dict[str, Any]) -> None:
    """Insert the referral ``row`` (every column) and its first ``event`` (without ``referral_id``)."""
    _check_texts(row, event)
    if not is_postgresql(conn):
        conn.execute(_INSERT_REFERRAL, row)
        conn.execute(_INSERT_EVENT, {**event, "referral_id": row["id"]})
        return
    statement = _BUILT.get(("insert",))
    if statement is None:
        created = referrals.insert().values({c.name: sa.bindparam(c.name, type_=c.type) for c in referrals.c}) \
            .returning(referrals.c.id).cte("created")
        statement = _BUILT[("insert",)] = events.insert().from_select(EVENT_COLUMNS, _event_select(created))
    conn.execute(statement, {**row, **_event_params(event)})


def update_with_event(conn: Connection, referral_id: int, old_version: int, values: dict[str, Any],
                      event: dict[str, Any], *, number: str) -> None:
    """Set ``values`` on the referral if its version is still ``old_version``, and append ``event``."""
    _check_texts(values, event)
    if not is_postgresql(conn):
        changed = conn.execute(_update(tuple(values)), {"rid": referral_id, "old_version": old_version,
                                                        **{f"set_{k}": v for k, v in values.items()}}).rowcount
        if changed:
            conn.execute(_INSERT_EVENT, {**event, "referral_id": referral_id})
    else:
        key = ("update", *values)
        statement = _BUILT.get(key)
        if statement is None:
            changed_row = _update(tuple(values)).returning(referrals.c.id).cte("changed")
            statement = _BUILT[key] = events.insert().from_select(EVENT_COLUMNS, _event_select(changed_row))
        changed = conn.execute(statement, {"rid": referral_id, "old_version": old_version,
                                           **{f"set_{k}": v for k, v in values.items()},
                                           **_event_params(event)}).rowcount
    if not changed:
        stored = conn.execute(sa.select(referrals.c.version).where(referrals.c.id == referral_id)).scalar_one()
        raise StaleVersion(number, old_version, stored)


def _update(columns: tuple[str, ...]) -> sa.Update:
    key = ("plain-update", *columns)
    statement = _BUILT.get(key)
    if statement is None:
        statement = _BUILT[key] = referrals.update().where(
            referrals.c.id == sa.bindparam("rid"), referrals.c.version == sa.bindparam("old_version")).values(
            {name: sa.bindparam(f"set_{name}", type_=referrals.c[name].type) for name in columns})
    return statement  # type: ignore[return-value]


def record_lapsed_hold(conn: Connection, referral_id: int, slot: str, held_until: dt.datetime,
                       now: dt.datetime) -> None:
    """The referral whose hold on ``slot`` lapsed (its claim already deleted) no longer holds it: its slot is
    cleared, its version raised (a new ETag) and the event ``hold_lapsed`` by ``system`` appended. The sweep
    and the next taker of the slot both record a lapse through here."""
    row = conn.execute(_LAPSE, {"rid": referral_id, "now": now}).one()
    conn.execute(_INSERT_EVENT, dict(
        referral_id=referral_id, seq=row.version, action="hold_lapsed", from_state=row.state, to_state=row.state,
        actor_key=SYSTEM_ACTOR, actor_institution=None, at=now,
        why=f"the hold ended at {held_until.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC", data={"released": slot}))

"""Signed-in sessions of the desk page: a random id in the browser's cookie, its hash in the ledger.

Signing in with a key (:func:`start_session`) stores a new session bound to
that key and gives back its id, ``ms_`` and 32 random bytes, which the page
keeps in its cookie: the API key itself never leaves the sign-in form. The
ledger stores only the id's SHA-256 (a random id of that length needs no
slow hash), so a copy of the database signs no one in.

A session ends (:func:`session_key` then raises :class:`SessionEnded` with
``why``):

- ``idle``: nothing was done with it for the idle time (``idle``: the
  service's ``MEDNET_DESK_IDLE_MINUTES``);
- ``signed_out``: :func:`end_session` deleted it (签退), or it never existed;
- ``revoked``: its key was revoked (:func:`mednet.ledger.keys.revoke_key`
  deletes the key's sessions in the revocation's own transaction, and the
  lookup reads the key's state in the same statement);
- ``not_a_session``: the cookie holds something else, such as an API key
  from before sessions existed: the desk signs in again.

Each use moves the session's last use forward, written at most once every
:data:`TOUCH_EVERY` (a page view does not cost a write).

>>> token = new_session_id()
>>> token.startswith("ms_") and len(token) == 46 and session_hash(token) != token
True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from mednet.errors import NotAuthenticated
from mednet.ledger.keys import ApiKey, authenticate, key_from_row
from mednet.ledger.store import api_keys, desk_sessions, writing

#: Idle minutes after which a session ends, unless the service says otherwise.
IDLE_MINUTES = 30.0
#: A session's last use is written again only when older than this (or than a tenth of the idle time).
TOUCH_EVERY = dt.timedelta(seconds=60)
PREFIX = "ms_"
#: How long a timed-out session is kept (never usable) so that a clerk coming back is told it timed out.
KEEP_ENDED = dt.timedelta(days=1)
Why = Literal["idle", "signed_out", "revoked", "not_a_session"]

_FIND = sa.select(desk_sessions.c.last_used_at, api_keys).join(api_keys, api_keys.c.id == desk_sessions.c.key_id) \
    .where(desk_sessions.c.id_sha256 == sa.bindparam("digest"))
_TOUCH = desk_sessions.update().where(desk_sessions.c.id_sha256 == sa.bindparam("digest")) \
    .values(last_used_at=sa.bindparam("now", type_=desk_sessions.c.last_used_at.type))
_END = desk_sessions.delete().where(desk_sessions.c.id_sha256 == sa.bindparam("digest"))


class SessionEnded(NotAuthenticated):
    """A desk session that is over, or a cookie that holds none; ``why`` says which (see the module)."""

    def __init__(self, why: Why) -> None:
        self.why = why
        super().__init__({"idle": "the desk session ended after its idle time: sign in again",
                          "signed_out": "no such desk session (signed out): sign in again",
                          "revoked": "the desk session's key was revoked",
                          "not_a_session": "the cookie holds no desk session: sign in again"}[why])


def new_session_id() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def session_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def start_session(engine: Engine, key_text: str, *, now: dt.datetime | None = None) -> tuple[ApiKey, str]:
    """Check the API key and open a session for it; returns the key and the session id for the cookie (shown
    once, never stored)."""
    key = authenticate(engine, key_text)
    token, at = new_session_id(), now or utc_now()
    with writing(engine) as conn:
        conn.execute(desk_sessions.insert().values(id_sha256=session_hash(token), key_id=key.id, created_at=at,
                                                   last_used_at=at))
    return key, token


def session_key(engine: Engine, token: str | None, *, idle: dt.timedelta, now: dt.datetime | None = None,
                touch: bool = True) -> ApiKey:
    """The live key of the session ``token``; :class:`SessionEnded` when it is over (idle, signed out, its key
    revoked) or ``token`` is not a session id. ``touch=False``: a use that is not the clerk's own (a page's
    live stream reconnecting by itself) does not move the session's last use forward.

    An idle session is not deleted when found idle: it stays ``idle`` (never usable again, since its last
    use only gets older) until the sweep deletes it :data:`KEEP_ENDED` later, so every look at it — the
    stream's reconnect, then the clerk's next page — says the same: the session timed out."""
    if not token or not token.startswith(PREFIX):
        raise SessionEnded("not_a_session")
    now, digest = now or utc_now(), session_hash(token)
    with engine.connect() as conn:
        row = conn.execute(_FIND, {"digest": digest}).mappings().first()
    if row is None:
        raise SessionEnded("signed_out")
    if row["revoked_at"] is not None:
        raise SessionEnded("revoked")
    if row["last_used_at"] <= now - idle:
        raise SessionEnded("idle")
    if touch and now - row["last_used_at"] >= min(TOUCH_EVERY, idle / 10):
        with writing(engine) as conn:
            conn.execute(_TOUCH, {"digest": digest, "now": now})
    return key_from_row(row)


def end_session(engine: Engine, token: str | None) -> None:
    """Sign out: the session is deleted (nothing happens for an unknown one)."""
    if token and token.startswith(PREFIX):
        with writing(engine) as conn:
            conn.execute(_END, {"digest": session_hash(token)})


def end_idle_sessions(engine: Engine, *, idle: dt.timedelta, now: dt.datetime | None = None) -> int:
    """Delete sessions idle for longer than ``idle`` plus :data:`KEEP_ENDED` (the expiry sweep's housekeeping;
    until then a timed-out session is still told apart from a signed-out one); returns how many."""
    with writing(engine) as conn:
        return conn.execute(desk_sessions.delete().where(
            desk_sessions.c.last_used_at <= (now or utc_now()) - idle - KEEP_ENDED)).rowcount

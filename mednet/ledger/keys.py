"""API keys of desks, planners and admins: shown once, stored as a SHA-256 of their secret.

A key reads ``mk_<id>_<secret>``: the id finds the row, the secret (24
random bytes) is checked against its stored hash in constant time. A random
secret of that length needs no slow password hash; the clear key exists only
in the answer to :func:`create_key`.

A revoked key is refused from the moment its revocation commits, by every
worker: :func:`authenticate` reads the key's row on every call (no cache of
its state), and the ledger checks the key again inside each of its own
transactions (:func:`check_live`), so its callers may take the key from
:func:`identify` (no read of the database once this process has checked the
secret). On PostgreSQL :func:`revoke_key` first
takes the ``api_keys`` table's exclusive lock, so it waits for the writes
that already read the key (they commit before the revocation, as they began
before it) and every later read of a key waits for the revocation and sees
it. On SQLite writes are one at a time already.

>>> key = new_key_text()
>>> key_id, secret = split_key(key)
>>> key.startswith("mk_") and len(key_id) == 10 and secret_sha256(secret) != secret
True
>>> split_key("not-a-key")
Traceback (most recent call last):
...
mednet.errors.NotAuthenticated: malformed API key: expected mk_<id>_<secret>
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from mednet.errors import Forbidden, InvalidRequest, NotAuthenticated
from mednet.ledger.store import api_keys, desk_sessions, is_postgresql, writing

#: Keys this process authenticated, by (engine, id, secret's hash): see :func:`known_key`.
_identified: dict[tuple[int, str, str], ApiKey] = {}
_KEY_ROW = api_keys.select().where(api_keys.c.id == sa.bindparam("id"))
_REVOKED_AT = sa.select(api_keys.c.revoked_at).where(api_keys.c.id == sa.bindparam("id"))

Role = Literal["desk", "planner", "admin"]
ROLES: tuple[Role, ...] = ("desk", "planner", "admin")


@dataclass(frozen=True)
class ApiKey:
    """A key as the ledger knows it (never its secret): who acts, for which institution, in which role."""

    id: str
    role: Role
    label: str
    region: str | None
    institution: str | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    #: An actor the process makes for itself (the expiry sweep, the command line's reader), not a stored key:
    #: there is no row to check, and no one holds its text.
    local: bool = False

    def require(self, *roles: Role) -> None:
        """:class:`Forbidden` unless the key has one of ``roles``."""
        if self.role not in roles:
            raise Forbidden(f"key {self.id} is a {self.role} key; this needs a {' or '.join(roles)} key",
                            reason="planner" if self.role == "planner" else "needs_" + "_or_".join(roles))


def new_key_text() -> str:
    return f"mk_{secrets.token_hex(5)}_{secrets.token_urlsafe(24)}"


def split_key(text: str) -> tuple[str, str]:
    parts = text.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != "mk" or not parts[1] or not parts[2]:
        raise NotAuthenticated("malformed API key: expected mk_<id>_<secret>")
    return parts[1], parts[2]


def secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(engine: Engine, *, role: str, label: str, region: str | None = None,
               institution: str | None = None, now: dt.datetime | None = None) -> tuple[ApiKey, str]:
    """Store a new key; returns it and its clear text, which is never available again.

    A desk key needs its ``region`` and ``institution`` (checked by the caller
    against the region's institutions); planner and admin keys may have none.
    """
    if role not in ROLES:
        raise InvalidRequest("role", role, f"must be one of {', '.join(ROLES)}")
    if role == "desk" and not (region and institution):
        raise InvalidRequest("institution", institution, "a desk key must name its region and institution")
    if not label.strip():
        raise InvalidRequest("label", label, "must name who holds the key (e.g. 华埠卫生院转诊窗口)")
    text = new_key_text()
    key_id, secret = split_key(text)
    row = dict(id=key_id, secret_sha256=secret_sha256(secret), role=role, label=label.strip(), region=region,
               institution=institution, created_at=now or dt.datetime.now(dt.UTC), revoked_at=None)
    with writing(engine) as conn:
        conn.execute(api_keys.insert().values(**row))
    return key_from_row(row), text


def authenticate(engine: Engine, text: str | None) -> ApiKey:
    """The live key whose clear text is ``text``; :class:`NotAuthenticated` when missing, unknown or revoked.
    Reads the key's row every time: a revocation committed by any worker is seen at once."""
    if not text:
        raise NotAuthenticated("this needs an API key: send `Authorization: Bearer mk_…`")
    key_id, secret = split_key(text)
    with engine.connect() as conn:
        row = conn.execute(_KEY_ROW, {"id": key_id}).mappings().first()
    if row is None or not hmac.compare_digest(row["secret_sha256"], secret_sha256(secret)):
        raise NotAuthenticated("unknown API key")
    if row["revoked_at"] is not None:
        raise NotAuthenticated(f"API key {key_id} was revoked")
    return key_from_row(row)


def known_key(engine: Engine, text: str | None) -> ApiKey | None:
    """The key whose clear text this process already authenticated (its id and secret's hash match; neither
    ever changes), without reading the database; None otherwise. It says nothing of a revocation since: only
    for callers that check the key's state in their own transaction (:func:`check_live`, as every operation of
    :class:`mednet.ledger.Ledger` does)."""
    if not text:
        return None
    try:
        key_id, secret = split_key(text)
    except NotAuthenticated:
        return None
    return _identified.get((id(engine), key_id, secret_sha256(secret)))


def identify(engine: Engine, text: str | None) -> ApiKey:
    """:func:`known_key`, else :func:`authenticate` (and remembered); for callers that check the key's state in
    their own transaction."""
    found = known_key(engine, text)
    if found is None:
        found = authenticate(engine, text)
        if len(_identified) > 10_000:
            _identified.clear()
        _identified[(id(engine), found.id, secret_sha256(split_key(text or "")[1]))] = found
    return found


def check_live(conn: Connection, key: ApiKey) -> None:
    """:class:`NotAuthenticated` if ``key`` has been revoked, read in the caller's transaction (a ``local`` actor
    has no row and is always live)."""
    if key.local:
        return
    revoked = conn.execute(_REVOKED_AT, {"id": key.id}).first()
    if revoked is None or revoked[0] is not None:
        raise NotAuthenticated(f"API key {key.id} was revoked")


def list_keys(engine: Engine) -> list[ApiKey]:
    with engine.connect() as conn:
        rows = conn.execute(api_keys.select().order_by(api_keys.c.created_at, api_keys.c.id)).mappings().all()
    return [key_from_row(r) for r in rows]


def revoke_key(engine: Engine, key_id: str, *, now: dt.datetime | None = None) -> ApiKey:
    """Revoke a key by its id (``mk_<id>_…`` or the bare id); revoking twice keeps the first time."""
    key_id = key_id.removeprefix("mk_").split("_", 1)[0]
    with writing(engine) as conn:
        if is_postgresql(conn):  # wait for the writes that read the key; later reads wait for this commit
            conn.execute(sa.text("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE"))
        conn.execute(desk_sessions.delete().where(desk_sessions.c.key_id == key_id))  # its desk sessions end
        conn.execute(api_keys.update().where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                     .values(revoked_at=now or dt.datetime.now(dt.UTC)))
        row = conn.execute(api_keys.select().where(api_keys.c.id == key_id)).mappings().first()
        if row is None:
            known = conn.execute(sa.select(api_keys.c.id)).scalars().all()
            raise InvalidRequest("key", key_id, f"must be the id of a stored key ({', '.join(known) or 'none yet'})")
    return key_from_row(row)


def key_from_row(row: sa.RowMapping | Mapping[str, Any]) -> ApiKey:
    """The key of an ``api_keys`` row (its secret's hash left out)."""
    return ApiKey(id=row["id"], role=row["role"], label=row["label"], region=row["region"],
                  institution=row["institution"], created_at=row["created_at"], revoked_at=row["revoked_at"])

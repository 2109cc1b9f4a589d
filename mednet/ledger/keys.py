"""API keys of desks, planners and admins: shown once, stored as a SHA-256 of their secret.

A key reads ``mk_<id>_<secret>``: the id finds the row, the secret (24
random bytes) is checked against its stored hash in constant time. A random
secret of that length needs no slow password hash; the clear key exists only
in the answer to :func:`create_key`.

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
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from mednet.errors import Forbidden, InvalidRequest, NotAuthenticated
from mednet.ledger.store import api_keys, writing

Role = Literal["desk", "planner", "admin"]
#: Seconds a checked key is trusted without reading it again (a revocation takes at most this long).
RECHECK_SECONDS = 5.0
_recent: dict[tuple[int, str, str], tuple[float, ApiKey]] = {}
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
    return _key(row), text


def authenticate(engine: Engine, text: str | None) -> ApiKey:
    """The live key whose clear text is ``text``; :class:`NotAuthenticated` when missing, unknown or revoked.

    Keys checked in the last :data:`RECHECK_SECONDS` are taken from a small per-process cache (keyed by
    the secret's hash, never the clear text), so a revocation reaches every worker within that time.
    """
    if not text:
        raise NotAuthenticated("this needs an API key: send `Authorization: Bearer mk_…`")
    if known := recent_key(engine, text):
        return known
    key_id, secret = split_key(text)
    digest = secret_sha256(secret)
    with engine.connect() as conn:
        row = conn.execute(api_keys.select().where(api_keys.c.id == key_id)).mappings().first()
    if row is None or not hmac.compare_digest(row["secret_sha256"], digest):
        raise NotAuthenticated("unknown API key")
    if row["revoked_at"] is not None:
        raise NotAuthenticated(f"API key {key_id} was revoked")
    key = _key(row)
    if len(_recent) > 10_000:
        _recent.clear()
    _recent[(id(engine), key_id, digest)] = (time.monotonic(), key)
    return key


def recent_key(engine: Engine, text: str | None) -> ApiKey | None:
    """The key if :func:`authenticate` accepted this text in the last :data:`RECHECK_SECONDS`, else None."""
    if not text:
        return None
    try:
        key_id, secret = split_key(text)
    except NotAuthenticated:
        return None
    cached = _recent.get((id(engine), key_id, secret_sha256(secret)))
    if cached is not None and time.monotonic() - cached[0] < RECHECK_SECONDS:
        return cached[1]
    return None


def list_keys(engine: Engine) -> list[ApiKey]:
    with engine.connect() as conn:
        rows = conn.execute(api_keys.select().order_by(api_keys.c.created_at, api_keys.c.id)).mappings().all()
    return [_key(r) for r in rows]


def revoke_key(engine: Engine, key_id: str, *, now: dt.datetime | None = None) -> ApiKey:
    """Revoke a key by its id (``mk_<id>_…`` or the bare id); revoking twice keeps the first time."""
    key_id = key_id.removeprefix("mk_").split("_", 1)[0]
    for cached in [c for c in _recent if c[1] == key_id]:  # this process forgets it at once
        _recent.pop(cached, None)
    with writing(engine) as conn:
        conn.execute(api_keys.update().where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                     .values(revoked_at=now or dt.datetime.now(dt.UTC)))
        row = conn.execute(api_keys.select().where(api_keys.c.id == key_id)).mappings().first()
        if row is None:
            known = conn.execute(sa.select(api_keys.c.id)).scalars().all()
            raise InvalidRequest("key", key_id, f"must be the id of a stored key ({', '.join(known) or 'none yet'})")
    return _key(row)


def _key(row: sa.RowMapping | Mapping[str, Any]) -> ApiKey:
    return ApiKey(id=row["id"], role=row["role"], label=row["label"], region=row["region"],
                  institution=row["institution"], created_at=row["created_at"], revoked_at=row["revoked_at"])

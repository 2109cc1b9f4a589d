"""The referral ledger (双向转诊 as a closed loop): record, accept, book, arrive, complete, send home.

``store`` (tables, engine, migrations) · ``states`` (the state machine and
its owners) · ``slots`` (session units and referral quotas) · ``keys`` (API
keys) · ``records`` (values in and out) · ``ledger`` (the operations) ·
``fhir`` (export as FHIR ServiceRequest + Task) · ``sweep`` (expiring overdue referrals and holds) ·
``reasons`` (the coded reasons of rejections, redirects, cancellations and closures) · ``service_levels``
(time to respond and to book per priority, working days).

    >>> from mednet.ledger import allowed_actions
    >>> allowed_actions("accepted")
    ('hold', 'book', 'arrive', 'cancel', 'expire')
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mednet.extras import lazy_names

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from mednet.ledger.keys import ApiKey, authenticate, create_key, list_keys, revoke_key
    from mednet.ledger.ledger import Ledger, LedgerRegion, Outcome
    from mednet.ledger.records import (
        ActionIn,
        EventRecord,
        NewReferral,
        QuotaIn,
        ReferralPage,
        ReferralRecord,
        SlotView,
    )
    from mednet.ledger.states import ACTIONS, STATES, allowed_actions, check_transition
    from mednet.ledger.store import create_ledger_engine, database_url, upgrade
    from mednet.ledger.sweep import expire_overdue

#: Where each public name lives. They are imported when first used: the state machine and the records need
#: no database library, so ``mednet.ledger.states`` loads without the ``ledger`` extra (SQLAlchemy).
_HOMES = {
    "keys": ("ApiKey", "authenticate", "create_key", "list_keys", "revoke_key"),
    "ledger": ("Ledger", "LedgerRegion", "Outcome"),
    "records": ("ActionIn", "EventRecord", "NewReferral", "QuotaIn", "ReferralPage", "ReferralRecord", "SlotView"),
    "states": ("ACTIONS", "STATES", "allowed_actions", "check_transition"),
    "store": ("create_ledger_engine", "database_url", "upgrade"),
    "sweep": ("expire_overdue",),
}
__getattr__ = lazy_names(__name__, {name: f"{__name__}.{module}" for module, names in _HOMES.items()
                                     for name in names})


def open_ledger_engine(url: str | None = None, *, data_dir: Path | str = ".", pool_size: int | None = None) -> Engine:
    """The ledger's database at ``url`` (else SQLite in ``data_dir``), created or migrated first (``pool_size``:
    see :func:`mednet.ledger.store.create_ledger_engine`)."""
    from mednet.ledger.store import create_ledger_engine, database_url, upgrade

    full = database_url(url, data_dir=Path(data_dir))
    upgrade(full)
    return create_ledger_engine(full, pool_size=pool_size)


__all__ = [
    "ACTIONS", "STATES", "ActionIn", "ApiKey", "EventRecord", "Ledger", "LedgerRegion", "NewReferral", "Outcome",
    "QuotaIn", "ReferralPage", "ReferralRecord", "SlotView", "allowed_actions", "authenticate", "check_transition",
    "create_key", "create_ledger_engine", "database_url", "expire_overdue", "list_keys", "open_ledger_engine",
    "revoke_key", "upgrade",
]

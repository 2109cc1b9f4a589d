"""The referral ledger (双向转诊 as a closed loop): record, accept, book, arrive, complete, send home.

``store`` (tables, engine, migrations) · ``states`` (the state machine and
its owners) · ``slots`` (session units and referral quotas) · ``keys`` (API
keys) · ``records`` (values in and out) · ``ledger`` (the operations) ·
``fhir`` (export as FHIR ServiceRequest + Task).

    >>> from mednet.ledger import allowed_actions
    >>> allowed_actions("accepted")
    ('hold', 'book', 'cancel', 'expire')
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from mednet.ledger.keys import ApiKey, authenticate, create_key, list_keys, revoke_key
from mednet.ledger.ledger import Ledger, LedgerRegion, Outcome
from mednet.ledger.records import ActionIn, EventRecord, NewReferral, QuotaIn, ReferralPage, ReferralRecord, SlotView
from mednet.ledger.states import ACTIONS, STATES, allowed_actions, check_transition
from mednet.ledger.store import create_ledger_engine, database_url, upgrade


def open_ledger_engine(url: str | None = None, *, data_dir: Path | str = ".") -> Engine:
    """The ledger's database at ``url`` (else SQLite in ``data_dir``), created or migrated first."""
    full = database_url(url, data_dir=Path(data_dir))
    upgrade(full)
    return create_ledger_engine(full)


__all__ = [
    "ACTIONS", "STATES", "ActionIn", "ApiKey", "EventRecord", "Ledger", "LedgerRegion", "NewReferral", "Outcome",
    "QuotaIn", "ReferralPage", "ReferralRecord", "SlotView", "allowed_actions", "authenticate", "check_transition",
    "create_key", "create_ledger_engine", "database_url", "list_keys", "open_ledger_engine", "revoke_key", "upgrade",
]

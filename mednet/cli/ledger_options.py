"""What the ledger's commands (``db``, ``keys``, ``referrals``) share: where the database is.

Nothing here (nor in those commands' modules) imports SQLAlchemy at load
time, so every other ``mednet`` command works without the ``ledger`` extra;
a ledger command run without it gets the one-line answer of
:func:`mednet.cli.main` (the extra to install, exit 2).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def add_database_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database-url", metavar="URL", default=None,
                   help="PostgreSQL URL (default: $MEDNET_DATABASE_URL, else SQLite ledger.sqlite3 in the data folder)")
    p.add_argument("--data-dir", type=Path, metavar="DIR", default=None,
                   help="the service's data folder (default: $MEDNET_DATA_DIR or ~/.local/share/mednet)")


def ledger_url(args: argparse.Namespace) -> str:
    from mednet.ledger.store import database_url, default_data_dir

    return database_url(args.database_url or os.environ.get("MEDNET_DATABASE_URL"),
                        data_dir=args.data_dir or default_data_dir(),
                        given_as="--database-url" if args.database_url else "MEDNET_DATABASE_URL")


def open_engine(args: argparse.Namespace) -> Engine:
    """The ledger's database, created or migrated first (as the service does at start)."""
    from mednet.ledger import open_ledger_engine

    return open_ledger_engine(ledger_url(args))


def console_ledger(args: argparse.Namespace, label: str):  # type: ignore[no-untyped-def]
    """The ledger over ``args.region`` (loaded from its file) and the operator at the console acting as admin:
    no stored key (``local``), named ``label`` in what it records."""
    import datetime as dt

    from mednet.ledger import ApiKey, Ledger, LedgerRegion
    from mednet.regions import load_region

    ledger = Ledger(open_engine(args), {args.region: LedgerRegion.from_region(load_region(args.region))})
    admin = ApiKey(id="cli", role="admin", label=label, region=None, institution=None,
                   created_at=dt.datetime.now(dt.UTC), local=True)
    return ledger, admin

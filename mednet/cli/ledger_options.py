"""What the ledger's commands (``db``, ``keys``, ``referrals``) share: where the database is, and the one-line
answer when the ``ledger`` extra is not installed.

Nothing here (nor in those commands' modules) imports SQLAlchemy at load
time, so every other ``mednet`` command works without the extra.
"""

from __future__ import annotations

import argparse
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from mednet.errors import MissingExtra

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

#: Modules of the ``ledger`` extra (top-level names as ``ModuleNotFoundError.name`` gives them).
LEDGER_MODULES = ("sqlalchemy", "alembic", "psycopg", "fhir")


def needs_ledger(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A ledger command that answers :class:`MissingExtra` (one line, exit 2) when the extra is missing."""

    @functools.wraps(run)
    def checked(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except ModuleNotFoundError as err:
            top = (err.name or "").split(".")[0]
            if top in LEDGER_MODULES:
                raise MissingExtra(module=top, extra="ledger") from None
            raise

    return checked


def add_database_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database-url", metavar="URL", default=None,
                   help="PostgreSQL URL (default: $MEDNET_DATABASE_URL, else SQLite ledger.sqlite3 in the data folder)")
    p.add_argument("--data-dir", type=Path, metavar="DIR", default=None,
                   help="the service's data folder (default: $MEDNET_DATA_DIR or ~/.local/share/mednet)")


def ledger_url(args: argparse.Namespace) -> str:
    from mednet.ledger.store import database_url, default_data_dir

    return database_url(args.database_url or os.environ.get("MEDNET_DATABASE_URL"),
                        data_dir=args.data_dir or default_data_dir())


def open_engine(args: argparse.Namespace) -> Engine:
    """The ledger's database, created or migrated first (as the service does at start)."""
    from mednet.ledger import open_ledger_engine

    return open_ledger_engine(ledger_url(args))

"""``mednet db upgrade [--database-url URL] [--data-dir DIR]``: create or migrate the ledger's database.

The service does the same at start; run it by hand before starting several
workers or hosts on a new PostgreSQL database, or after installing a newer
mednet.
"""

from __future__ import annotations

import argparse

from mednet.cli.ledger_options import add_database_options, ledger_url, needs_ledger


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="the ledger's database (upgrade)", description=__doc__)
    actions = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = actions.add_parser("upgrade", help="create or migrate the database to the newest schema")
    add_database_options(up)
    up.set_defaults(func=run_upgrade)


@needs_ledger
def run_upgrade(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    from mednet.ledger import upgrade

    url = ledger_url(args)
    revision = upgrade(url)
    print(f"ledger at {make_url(url).render_as_string(hide_password=True)}: schema revision {revision}")
    return 0

"""``mednet db upgrade|backup FILE|restore FILE [--replace] [--database-url URL] [--data-dir DIR]``.

``upgrade`` creates or migrates the ledger's database; the service does the
same at start: run it by hand before starting several workers or hosts on a
new PostgreSQL database, or after installing a newer mednet.

``backup FILE`` copies the ledger while the service keeps writing (SQLite's
online backup; PostgreSQL through ``pg_dump``), readable by its owner only.
``restore FILE`` puts a backup in place of the ledger, all or nothing, with
the service stopped; over a ledger holding referrals only with ``--replace``
(what was written since the backup is lost).
"""

from __future__ import annotations

import argparse

from mednet.cli.ledger_options import add_database_options, ledger_url


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="the ledger's database (upgrade, backup, restore)", description=__doc__)
    actions = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = actions.add_parser("upgrade", help="create or migrate the database to the newest schema")
    add_database_options(up)
    up.set_defaults(func=run_upgrade)
    save = actions.add_parser("backup", help="copy the ledger to FILE (consistent while the service writes)")
    save.add_argument("file", metavar="FILE", help="the backup file to write (SQLite file, or pg_dump's format)")
    add_database_options(save)
    save.set_defaults(func=run_backup)
    back = actions.add_parser("restore", help="put a backup in place of the ledger (the service stopped)")
    back.add_argument("file", metavar="FILE", help="a file written by `mednet db backup`")
    back.add_argument("--replace", action="store_true",
                      help="replace a ledger that holds referrals (everything written since the backup is lost)")
    add_database_options(back)
    back.set_defaults(func=run_restore)


def run_upgrade(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    from mednet.ledger import upgrade

    url = ledger_url(args)
    revision = upgrade(url)
    print(f"ledger at {make_url(url).render_as_string(hide_password=True)}: schema revision {revision}")
    return 0


def run_backup(args: argparse.Namespace) -> int:
    from mednet.ledger.backup import backup

    copy = backup(ledger_url(args), args.file)
    print(f"backed up the ledger ({copy.engine}, schema revision {copy.revision}, {copy.referrals} referrals) "
          f"to {args.file}")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from mednet.ledger.backup import restore

    copy = restore(ledger_url(args), args.file, replace=args.replace)
    print(f"restored the ledger ({copy.engine}, schema revision {copy.revision}, {copy.referrals} referrals) "
          f"from {args.file}")
    return 0

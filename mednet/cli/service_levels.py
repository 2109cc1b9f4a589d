"""``mednet service-levels list|set|reset``: a region's service levels — per priority, the time a receiving desk
has to respond (accept, reject or redirect) and then to book — mednet's defaults unless the region sets its own.

    mednet service-levels list --region quzhou
    mednet service-levels set --region quzhou --priority urgent --measure respond --allowance "1 hours" \\
        --note "医共体 2026 年转诊管理办法"
    mednet service-levels reset --region quzhou --priority urgent --measure respond

An allowance is a whole number and a unit: ``30 minutes``, ``2 hours``, ``2 working_days`` (or ``2 工作日``).
A change applies to clocks started after it; referrals already waiting keep the end they had.
"""

from __future__ import annotations

import argparse
import json

from mednet.cli.ledger_options import add_database_options, console_ledger

PRIORITY_CHOICES = ("emergency", "urgent", "routine")
MEASURE_CHOICES = ("respond", "book")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("service-levels", help="a region's service levels: time to respond and to book, per priority",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="levels_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the region's service levels (its own over the defaults)")
    listing.add_argument("--region", required=True)
    listing.add_argument("--format", choices=("text", "json"), default="text")
    listing.set_defaults(func=run_list)
    setting = actions.add_parser("set", help="set one allowance of the region (replacing the one set before)")
    setting.add_argument("--region", required=True)
    setting.add_argument("--priority", required=True, choices=PRIORITY_CHOICES)
    setting.add_argument("--measure", required=True, choices=MEASURE_CHOICES,
                         help="respond: accept, reject or redirect; book: book a slot once accepted")
    setting.add_argument("--allowance", required=True, help="e.g. '30 minutes', '2 hours', '2 working_days'")
    setting.add_argument("--note", help="where the figure comes from")
    setting.set_defaults(func=run_set)
    resetting = actions.add_parser("reset", help="go back to mednet's default for one allowance")
    resetting.add_argument("--region", required=True)
    resetting.add_argument("--priority", required=True, choices=PRIORITY_CHOICES)
    resetting.add_argument("--measure", required=True, choices=MEASURE_CHOICES)
    resetting.set_defaults(func=run_reset)
    for action in (listing, setting, resetting):
        add_database_options(action)


def _ledger(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    return console_ledger(args, "mednet service-levels")


def run_list(args: argparse.Namespace) -> int:
    from mednet.ledger.service_levels import PRIORITIES

    ledger, _ = _ledger(args)
    levels = ledger.service_levels(args.region)
    if args.format == "json":
        print(json.dumps([{"priority": p, "respond": levels[p].respond.text, "book": levels[p].book.text,
                           "source": levels[p].source} for p in PRIORITIES], ensure_ascii=False, indent=1))
        return 0
    for p in PRIORITIES:
        level = levels[p]
        print(f"{p:<10} respond {level.respond.text:<16} book {level.book.text:<16} ({level.source})")
    return 0


def run_set(args: argparse.Namespace) -> int:
    from mednet.ledger.service_levels import parse_allowance

    ledger, admin = _ledger(args)
    allowance = parse_allowance(args.allowance)
    ledger.set_service_level(admin, args.region, args.priority, args.measure, allowance, note=args.note)
    print(f"{args.region}: {args.priority} {args.measure} within {allowance.text}")
    return 0


def run_reset(args: argparse.Namespace) -> int:
    ledger, admin = _ledger(args)
    ledger.set_service_level(admin, args.region, args.priority, args.measure, None)
    level = ledger.service_levels(args.region)[args.priority]
    print(f"{args.region}: {args.priority} {args.measure} back to the default, "
          f"{level.allowance(args.measure).text}")
    return 0

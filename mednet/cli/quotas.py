"""``mednet quotas set|list``: referral quotas (号源) per institution and specialty — the units a day an
institution keeps for referrals, released some days ahead — and how many are taken each day.

    mednet quotas set --region quzhou --institution 开化县人民医院 --specialty 普外科 --per-day 5 \\
        --release-days 5 --note "医务科 2026-12 排班"
    mednet quotas list --region quzhou
    mednet quotas list --region quzhou --institution 开化县人民医院 --format json

Setting a quota again replaces it; ``--per-day 0`` keeps the rule but gives no units.
"""

from __future__ import annotations

import argparse
import json

from mednet.cli import positive_int
from mednet.cli.ledger_options import add_database_options, console_ledger


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("quotas", help="referral quotas (号源) per institution and specialty", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="quotas_command", metavar="ACTION", required=True)
    setting = actions.add_parser("set", help="set (or replace) an institution's quota for a specialty")
    setting.add_argument("--region", required=True)
    setting.add_argument("--institution", required=True, help="id, name or alias")
    setting.add_argument("--specialty", required=True, help="code, Chinese name or alias")
    setting.add_argument("--per-day", type=int, required=True, help="units a day kept for referrals (0 or more)")
    setting.add_argument("--release-days", type=int, default=5, help="days ahead a day's units are released "
                         "(0–90, default 5)")
    setting.add_argument("--note", help="where the figure comes from")
    setting.set_defaults(func=run_set)
    listing = actions.add_parser("list", help="the region's quotas with used and free units per released day")
    listing.add_argument("--region", required=True)
    listing.add_argument("--institution", help="only this institution's (id, name or alias)")
    listing.add_argument("--days", type=positive_int, default=None, help="show at most this many days of each")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    listing.set_defaults(func=run_list)
    for action in (setting, listing):
        add_database_options(action)


def _ledger(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    return console_ledger(args, "mednet quotas")


def run_set(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from mednet.errors import InvalidRequest
    from mednet.ledger import QuotaIn
    from mednet.specialties import resolve_specialty

    ledger, admin = _ledger(args)
    try:
        quota = QuotaIn(institution=args.institution, specialty=args.specialty, per_day=args.per_day,
                        release_days=args.release_days, note=args.note)
    except ValidationError as err:
        first = err.errors()[0]
        option = "--" + str(first["loc"][-1]).replace("_", "-")
        raise InvalidRequest(option, first.get("input"), str(first["msg"]).lower()) from err
    ledger.set_quota(admin, args.region, quota)
    shown = ledger.quotas(args.region, institution=args.institution)
    code = resolve_specialty(args.specialty).code
    view = next(q for q in shown if q.specialty == code)
    print(f"{view.institution.name} {resolve_specialty(code).label_zh}: {view.per_day} a day, released "
          f"{view.release_days} day(s) ahead")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from mednet.specialties import resolve_specialty

    ledger, _ = _ledger(args)
    found = ledger.quotas(args.region, institution=args.institution)
    if args.format == "json":
        print(json.dumps([q.model_dump(mode="json") for q in found], ensure_ascii=False, indent=1))
        return 0
    for q in found:
        print(f"{q.institution.name} ({q.institution.id})  {resolve_specialty(q.specialty).label_zh}: "
              f"{q.per_day} a day, released {q.release_days} day(s) ahead" + (f"  [{q.note}]" if q.note else ""))
        for d in q.days[:args.days]:
            print(f"  {d.day} {d.day:%a}  used {d.used}/{d.capacity}  free {d.free}")
    print(f"{len(found)} quota(s)")
    return 0

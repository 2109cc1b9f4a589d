"""``mednet referrals list|show|overdue|expire``: read the referral ledger (as a planner would, everything),
list the referrals past their service level, and run its expiry sweep once (for cron, where the service's own
sweep is off).

    mednet referrals list --status requested --institution sh-xinhua
    mednet referrals overdue --region quzhou
    mednet referrals show R20261125-000042 --events
    mednet referrals show R20261125-000042 --format fhir
    mednet referrals expire --expire-days 30 --hold-minutes 15
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from typing import TYPE_CHECKING

from mednet.cli import positive_float, positive_int
from mednet.cli.ledger_options import add_database_options, open_engine
from mednet.errors import InvalidRequest
from mednet.ledger.states import STATES

if TYPE_CHECKING:
    from mednet.ledger import ApiKey, Ledger


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("referrals", help="list and show referrals in the ledger", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="referrals_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="referrals, oldest first")
    listing.add_argument("--status", action="append", choices=STATES, help="keep these states (repeatable)")
    listing.add_argument("--institution", help="origin or destination id")
    listing.add_argument("--direction", choices=("up", "down", "emergency"))
    listing.add_argument("--limit", type=positive_int, default=50)
    listing.add_argument("--format", choices=("text", "json"), default="text")
    listing.set_defaults(func=run_list)
    show = actions.add_parser("show", help="one referral")
    show.add_argument("number")
    show.add_argument("--events", action="store_true", help="also its history")
    show.add_argument("--format", choices=("text", "json", "fhir"), default="text")
    show.set_defaults(func=run_show)
    overdue = actions.add_parser("overdue", help="open referrals past their service level now, longest first")
    overdue.add_argument("--region", help="only this region's")
    overdue.add_argument("--limit", type=positive_int, default=200)
    overdue.add_argument("--format", choices=("text", "json"), default="text")
    overdue.set_defaults(func=run_overdue)
    expire = actions.add_parser("expire", help="release lapsed holds and expire overdue open referrals (once)")
    expire.add_argument("--expire-days", type=positive_float, default=None,
                        help="days an open referral may stay unchanged (default: $MEDNET_EXPIRE_DAYS, else 30)")
    expire.add_argument("--hold-minutes", type=positive_float, default=None,
                        help="how long a hold lasts (default: $MEDNET_HOLD_MINUTES, else 15)")
    expire.set_defaults(func=run_expire)
    for action in (listing, show, overdue, expire):
        add_database_options(action)


def _reader(args: argparse.Namespace, **options: float) -> tuple[Ledger, ApiKey]:
    from mednet.ledger import ApiKey, Ledger, LedgerRegion
    from mednet.regions import list_regions, load_region

    regions = {name: LedgerRegion.from_region(load_region(name)) for name in list_regions()}
    reader = ApiKey(id="cli", role="planner", label="mednet referrals", region=None, institution=None,
                    created_at=dt.datetime.now(dt.UTC), local=True)
    return Ledger(open_engine(args), regions, **options), reader  # type: ignore[arg-type]


def _setting(name: str, default: float) -> float:
    """The service's setting ``name`` from the environment (so that cron sweeps as the service does)."""
    text = os.environ.get(name)
    if not text:
        return default
    try:
        return positive_float(text)
    except argparse.ArgumentTypeError as err:
        raise InvalidRequest(name, text, "must be a number > 0") from err


def run_expire(args: argparse.Namespace) -> int:
    from mednet.ledger.ledger import EXPIRE_DAYS, HOLD_MINUTES
    from mednet.ledger.sweep import expire_overdue

    options = {"expire_days": args.expire_days or _setting("MEDNET_EXPIRE_DAYS", EXPIRE_DAYS),
               "hold_minutes": args.hold_minutes or _setting("MEDNET_HOLD_MINUTES", HOLD_MINUTES)}
    ledger, _ = _reader(args, **options)
    result = expire_overdue(ledger)
    ledger.engine.dispose()
    if not result.ran:
        print("another expiry sweep is running; nothing done")
        return 0
    print(f"expired {len(result.expired)} referral(s)" + (f": {', '.join(result.expired)}" if result.expired else ""))
    print(f"released {len(result.released)} lapsed hold(s)"
          + (f": {', '.join(result.released)}" if result.released else ""))
    return 0


def run_list(args: argparse.Namespace) -> int:
    ledger, reader = _reader(args)
    page = ledger.list(reader, states=args.status or (), institution=args.institution, direction=args.direction,
                       limit=min(args.limit, 200))
    if args.format == "json":
        print(json.dumps([r.model_dump(mode="json") for r in page.items], ensure_ascii=False, indent=1))
        return 0
    for r in page.items:
        print(f"{r.number}  {r.state:10} {r.direction:9} {r.specialty:18} {r.origin.name} → {r.destination.name}"
              f"  v{r.version}  {r.created_at:%Y-%m-%d %H:%M}")
    print(f"{len(page.items)} referral(s)" + (f"; more after {page.next}" if page.next else ""))
    return 0


def run_overdue(args: argparse.Namespace) -> int:
    from mednet.ledger.service_levels import MEASURE_OF_STATE

    ledger, reader = _reader(args)
    found = ledger.overdue(reader, region=args.region, limit=min(args.limit, 1000))
    if args.format == "json":
        print(json.dumps([r.model_dump(mode="json") for r in found], ensure_ascii=False, indent=1))
        return 0
    now = ledger.now()
    for r in found:
        late = now - r.due_at if r.due_at else dt.timedelta()
        print(f"{r.number}  {r.state:10} {r.priority:9} to {MEASURE_OF_STATE[r.state]:7} due "
              f"{r.due_at:%Y-%m-%d %H:%M} UTC ({late.total_seconds() / 3600:.1f} h late)  "
              f"{r.origin.name} → {r.destination.name}")
    print(f"{len(found)} overdue referral(s)")
    return 0


def run_show(args: argparse.Namespace) -> int:
    ledger, reader = _reader(args)
    record = ledger.get(reader, args.number)
    if args.format == "fhir":
        from mednet.ledger.fhir import to_fhir

        print(json.dumps(to_fhir(record, ledger.history(reader, args.number)), ensure_ascii=False, indent=1))
        return 0
    history = ledger.history(reader, args.number) if args.events else []
    if args.format == "json":
        body = record.model_dump(mode="json") | ({"events": [e.model_dump(mode="json") for e in history]}
                                                 if args.events else {})
        print(json.dumps(body, ensure_ascii=False, indent=1))
        return 0
    allowed = ", ".join(record.allowed_actions) or "-"
    print(f"{record.number}  {record.state} (version {record.version}); next: {allowed}")
    print(f"  {record.direction} {record.priority}  {record.specialty}: "
          f"{record.origin.name} → {record.destination.name}")
    if record.proposed_destination and record.proposed_destination != record.destination:
        print(f"  proposed {record.proposed_destination.name}; chosen because: {record.destination_why}")
    print(f"  patient {record.patient.ref} ({record.patient.sex}, {record.patient.birth_year or '?'})")
    print(f"  reason: {record.reason}")
    if record.claim:
        print(f"  slot {record.claim.slot} ({record.claim.status})")
    if record.parent:
        print(f"  follows {record.parent}")
    for e in history:
        print(f"  {e.seq:3}. {e.at:%Y-%m-%d %H:%M} {e.action:9} {e.from_state or '-':>10} → {e.to_state:10} "
              f"by {e.actor_institution or e.actor_key}" + (f": {e.why}" if e.why else ""))
    return 0

"""``mednet keys create|list|revoke``: API keys of referral desks, planners and admins.

    mednet keys create --role desk --region quzhou --institution 华埠 --label "华埠卫生院转诊窗口"
    mednet keys list
    mednet keys revoke 3f2a9c81d0

A key is printed once, when created; the ledger keeps only its hash. A desk
key is bound to one institution (an id, name or alias of the region).
"""

from __future__ import annotations

import argparse

from mednet.cli.ledger_options import add_database_options, needs_ledger, open_engine


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("keys", help="API keys of desks, planners and admins", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a key and print it (once)")
    create.add_argument("--role", choices=("desk", "planner", "admin"), required=True)
    create.add_argument("--label", required=True, help="who holds it, e.g. the desk's name")
    create.add_argument("--region", help="a desk's region (id)")
    create.add_argument("--institution", help="a desk's institution (id, name or alias)")
    create.set_defaults(func=run_create)
    listing = actions.add_parser("list", help="every key, without secrets")
    listing.set_defaults(func=run_list)
    revoke = actions.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key", help="the key's id (the part after mk_), or the whole key")
    revoke.set_defaults(func=run_revoke)
    for action in (create, listing, revoke):
        add_database_options(action)


@needs_ledger
def run_create(args: argparse.Namespace) -> int:
    from mednet.errors import InvalidRequest
    from mednet.ledger import create_key
    from mednet.network import build_network, resolve_institution
    from mednet.regions import load_region

    institution = None
    if args.role == "desk" and not (args.region and args.institution):
        raise InvalidRequest("--institution", args.institution, "a desk key needs --region and --institution")
    if args.region and args.institution:
        institution = resolve_institution(build_network(load_region(args.region)), args.institution)
    key, text = create_key(open_engine(args), role=args.role, label=args.label, region=args.region,
                           institution=institution)
    print(text)
    where = f" for {key.institution} ({key.region})" if key.institution else ""
    print(f"created {key.role} key {key.id}{where}: store it now, it is not shown again", flush=True)
    return 0


@needs_ledger
def run_list(args: argparse.Namespace) -> int:
    from mednet.ledger import list_keys

    print(f"{'id':10}  {'role':7}  {'region':8}  {'institution':22}  {'created':16}  {'revoked':16}  label")
    for k in list_keys(open_engine(args)):
        revoked = f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "-"
        print(f"{k.id:10}  {k.role:7}  {k.region or '-':8}  {k.institution or '-':22}  "
              f"{k.created_at:%Y-%m-%d %H:%M}  {revoked:16}  {k.label}")
    return 0


@needs_ledger
def run_revoke(args: argparse.Namespace) -> int:
    from mednet.ledger import revoke_key

    key = revoke_key(open_engine(args), args.key)
    print(f"revoked {key.role} key {key.id} ({key.label}) at {key.revoked_at:%Y-%m-%d %H:%M:%S}")
    return 0

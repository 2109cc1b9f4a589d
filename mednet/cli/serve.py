"""``mednet serve [--host 127.0.0.1] [--port 8000] [--workers N] [--regions-dir DIR]``.

Runs the referral-desk HTTP service (the FastAPI app in ``service/``): a
pre-fork server over uvicorn. The port answers at once (``/ready`` 503 with
Retry-After while loading); the regions are read, validated and built and
the routing kernel compiled once, then the workers are forked and share all
of it. Every broken region file, every region whose validation has errors
and every file whose name is not its region's id are reported, one line per
file and error code, and the server does not start (exit 2); with
``--allow-invalid`` it serves the valid regions and the invalid ones
(marked), and lists the files it cannot read in ``/ready``. The referral
ledger is a SQLite file in the data folder, or the PostgreSQL database of
``--database-url``, created or migrated before the workers start. The
interactive OpenAPI document is at ``http://HOST:PORT/docs``. Limits and
timeouts come from ``MEDNET_*`` settings.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from mednet.cli import add_allow_invalid, positive_int
from mednet.cli.ledger_options import add_database_options
from mednet.errors import InvalidRequest, MissingExtra
from mednet.regions import list_regions, regions_dir


def port_number(text: str) -> int:
    """A TCP port, 1–65535 (0 is refused: the address must be known to the desks calling it)."""
    port = positive_int(text)
    if port > 65535:
        raise argparse.ArgumentTypeError(f"must be <= 65535, got {port}")
    return port


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the referral-desk HTTP service", description=__doc__)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0 for every interface)")
    p.add_argument("--port", type=port_number, default=8000, help="TCP port (default: 8000)")
    p.add_argument("--workers", type=positive_int, default=1,
                   help="worker processes, forked after the regions are built and sharing them (default: 1)")
    p.add_argument("--regions-dir", type=Path, metavar="DIR",
                   help="folder of region files (default: $MEDNET_REGIONS_DIR or the bundled data/regions)")
    add_database_options(p)
    p.add_argument("--no-access-log", action="store_true", help="do not log each request")
    add_allow_invalid(p)
    p.set_defaults(func=run)


def check_regions_dir(folder: Path) -> list[str]:
    """The region ids in ``folder`` (the files are read and validated by the server, once, after it binds)."""
    if not folder.is_dir():
        raise InvalidRequest("--regions-dir", str(folder), "must be an existing folder of region files")
    names = list_regions(folder)
    if not names:
        raise InvalidRequest("--regions-dir", str(folder), "must hold at least one region file (<id>.json)")
    return names


def run(args: argparse.Namespace) -> int:
    try:
        from service.server import serve
    except ModuleNotFoundError as err:
        raise MissingExtra(module=err.name or "the service", extra="service") from None
    folder = (args.regions_dir or regions_dir()).resolve()
    check_regions_dir(folder)
    # The server reads its settings from the environment (as an app started without the CLI does).
    os.environ["MEDNET_REGIONS_DIR"] = str(folder)
    if args.database_url:
        os.environ["MEDNET_DATABASE_URL"] = args.database_url
    if args.data_dir:
        os.environ["MEDNET_DATA_DIR"] = str(args.data_dir.resolve())
    os.environ["MEDNET_ALLOW_INVALID"] = "1" if args.allow_invalid else "0"
    if args.no_access_log:
        os.environ["MEDNET_ACCESS_LOG"] = "false"
    from mednet.cli import INTERRUPTED

    return serve(host=args.host, port=args.port, workers=args.workers, interrupted=INTERRUPTED.is_set)

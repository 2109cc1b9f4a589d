"""``mednet bench [--area AREA ...] [--http] [--quick] [--format text|json]``: every figure beside a reference.

Measures each area beside a reference measured in the same run and prints
the ratio: absolute times drift on a shared machine, ratios much less.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import sys

from mednet.bench import AREAS, BenchRow, format_rows
from mednet.cli.output import write_stdout
from mednet.errors import MissingExtra

#: Where each area's ``run(*, quick)`` lives, imported only when asked for. The HTTP load benchmark imports the
#: service's app, so it lives in the service package (installed with mednet; the library never imports it); the
#: ledger's starts ``mednet serve`` as a separate process and talks to it over HTTP alone.
AREA_MODULES = {"routing": "mednet.bench.routing", "coverage": "mednet.bench.coverage", "http": "service.bench",
                "ledger": "mednet.bench.ledger", "import": "mednet.bench.importing", "desk": "service.deskbench",
                "planning": "mednet.bench.planning", "indicators": "mednet.bench.indicators"}
#: The extra an area needs beyond the library's own dependencies.
AREA_EXTRAS = {"http": "service", "ledger": "service", "import": "importing", "desk": "service",
               "planning": "planning"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure performance against in-run references", description=__doc__)
    p.add_argument("--area", action="append", choices=AREAS, help="areas to run (default: routing and coverage)")
    p.add_argument("--http", action="store_true", help="also run the HTTP load benchmark (starts a local server)")
    p.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run, not for quoting)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    areas = list(dict.fromkeys((args.area or ["routing", "coverage"]) + (["http"] if args.http else [])))
    rows: list[BenchRow] = []
    for area in areas:
        try:
            module = importlib.import_module(AREA_MODULES[area])
        except ModuleNotFoundError as err:
            raise MissingExtra(module=err.name or area, extra=AREA_EXTRAS.get(area, "all")) from None
        print(f"measuring {area} …", file=sys.stderr, flush=True)
        rows.extend(module.run(quick=args.quick))
    if args.quick:  # a smaller network: its figures say nothing about the national targets
        rows = [dataclasses.replace(r, met=None) for r in rows]
        print("quick run on a smaller network: smoke figures only, targets not judged", file=sys.stderr)
    if args.format == "json":
        write_stdout(json.dumps([dataclasses.asdict(r) | {"ratio": r.ratio} for r in rows], ensure_ascii=False,
                                indent=1))
    else:
        write_stdout(format_rows(rows))
    return 0

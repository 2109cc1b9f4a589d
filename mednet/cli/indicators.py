"""``mednet indicators REGION --period 2026-Q3 --by community [--format text|csv|json|xlsx] [-o OUT]``:
the bureau's referral and medical-community indicators from the ledger (and imported monthly aggregates).

    mednet indicators quzhou --period 2026-Q3 --by community
    mednet indicators quzhou --period 2026 --by month --format csv -o indicators.csv
    mednet indicators quzhou --period 2026-Q3 --format xlsx -o indicators.xlsx
    mednet indicators quzhou --import-aggregates monthly.xlsx
    mednet indicators quzhou --access --population 人口.xlsx

``--access`` writes the access for people instead (no ledger needed): per specialty, the share of people within
15, 30 and 60 minutes and 10, 20 and 40 km of an institution offering it — of the people of ``--population`` (a
人口 sheet) or ``--raster`` (a GeoTIFF) when given, else by health centres (the ``basis`` column says which).

``--import-aggregates FILE`` loads monthly aggregates per institution (机构, 月份, 门急诊人次, 住院人次,
县外就诊人次, 县外住院人次, 医保基金支出, 县外医保基金支出) first: every problem of every row is reported
in one run, and nothing is written unless all rows are right. Definitions: docs/indicators.md.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mednet.cli.ledger_options import add_database_options, open_engine
from mednet.cli.output import write_files, write_stdout, write_text_file
from mednet.cli.people import add_people_options, people_given

FORMATS = ("text", "csv", "json", "xlsx")
BY = ("region", "county", "community", "institution", "specialty", "direction", "priority", "month")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("indicators", help="referral and medical-community indicators (下转占比, 接收率, 绕转 …)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("region", help="region id or path")
    p.add_argument("--period", help="2026 (a year), 2026-Q3 (a quarter) or 2026-07 (a month), China Standard Time")
    p.add_argument("--by", choices=BY, default="region", help="group by (institution dimensions: the origin's)")
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("-o", "--output", type=Path, help="file to write (required for xlsx; else standard output)")
    p.add_argument("--import-aggregates", type=Path, metavar="FILE",
                   help="import monthly aggregates (.xlsx or .csv) before computing")
    p.add_argument("--access", action="store_true",
                   help="write the share of people within 15/30/60 minutes and 10/20/40 km of each specialty")
    p.add_argument("--specialty", "-s", action="append", metavar="S", help="--access: a specialty (repeatable)")
    add_people_options(p)
    add_database_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mednet.errors import InvalidRequest
    from mednet.indicators import compute_indicators
    from mednet.indicators.render import to_text, wide_tables
    from mednet.regions import load_region

    if args.format == "xlsx" and args.output is None:
        raise InvalidRequest("--output", None, "is required with --format xlsx (a workbook is not text)")
    if args.access:
        if args.period is not None or args.import_aggregates is not None:
            given = "--period" if args.period is not None else "--import-aggregates"
            raise InvalidRequest(given, getattr(args, given[2:].replace("-", "_")),
                                 "is for the ledger's indicators, not --access (the access for people)")
        return _access(args)
    if args.population or args.raster or args.specialty:
        given = "--population" if args.population else "--raster" if args.raster else "--specialty"
        raise InvalidRequest(given, getattr(args, given[2:]), "is for --access (the access for people)")
    if args.period is None and args.import_aggregates is None:
        raise InvalidRequest("--period", None, "is required (2026, 2026-Q3 or 2026-07)")
    region = load_region(args.region)
    engine = open_engine(args)
    try:
        if args.import_aggregates is not None:
            from mednet.importing.aggregates import import_aggregates

            count = import_aggregates(engine, region, args.import_aggregates)
            write_stdout(f"imported {count} monthly rows from {args.import_aggregates}")
            if args.period is None:
                return 0
        frame = compute_indicators(engine, region, args.period, by=args.by)
    finally:
        engine.dispose()
    def sheets(writer: Any) -> None:
        frame.to_excel(writer, sheet_name="indicators", index=False)
        for label, table in wide_tables(frame):
            table.to_excel(writer, sheet_name=label[:31])

    return _emit(args, frame, sheets, {"region": region.id, "period": args.period, "by": args.by},
                 lambda: to_text(frame, title=f"{region.name} {args.period} 指标（按 {args.by}）"))


def _access(args: argparse.Namespace) -> int:
    """``--access``: the share of people (or of centres) within reach of each specialty."""
    from mednet.indicators.access import access_shares
    from mednet.network import build_network
    from mednet.planning.gaps import as_network
    from mednet.regions import load_region

    region = load_region(args.region)
    net = as_network(build_network(region))
    frame = access_shares(net, specialties=args.specialty, population=people_given(args, net))
    basis = frame["basis"].iloc[0] if len(frame) else ""
    return _emit(args, frame, lambda writer: frame.to_excel(writer, sheet_name="access", index=False),
                 {"region": region.id, "basis": basis},
                 lambda: f"{region.name} 可及性（{basis}）\n\n" + frame.drop(columns="basis").to_string(index=False)
                 + "\n")


def _emit(args: argparse.Namespace, frame: Any, sheets: Callable[[Any], None], about: dict[str, Any],
          text_of: Callable[[], str]) -> int:
    """Write ``frame`` in the format asked: a workbook (``sheets`` fills it), CSV, JSON (``about`` beside its
    rows) or text (``text_of``), to ``--output`` or standard output."""
    if args.format == "xlsx":
        def workbook(tmp: str) -> None:
            import pandas as pd

            with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
                sheets(writer)

        write_files({args.output: workbook})
        return 0
    if args.format == "csv":
        text = frame.to_csv(index=False)
    elif args.format == "json":
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        text = json.dumps({**about, "rows": records}, ensure_ascii=False, indent=1)
    else:
        text = text_of()
    if args.output is not None:
        write_text_file(args.output, text)
    else:
        write_stdout(text)
    return 0

"""``mednet indicators REGION --period 2026-Q3 --by community [--format text|csv|json|xlsx] [-o OUT]``:
the bureau's referral and medical-community indicators from the ledger (and imported monthly aggregates).

    mednet indicators quzhou --period 2026-Q3 --by community
    mednet indicators quzhou --period 2026 --by month --format csv -o indicators.csv
    mednet indicators quzhou --period 2026-Q3 --format xlsx -o indicators.xlsx
    mednet indicators quzhou --import-aggregates monthly.xlsx

``--import-aggregates FILE`` loads monthly aggregates per institution (机构, 月份, 门急诊人次, 住院人次,
县外就诊人次, 县外住院人次, 医保基金支出, 县外医保基金支出) first: every problem of every row is reported
in one run, and nothing is written unless all rows are right. Definitions: docs/indicators.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mednet.cli.ledger_options import add_database_options, open_engine
from mednet.cli.output import write_files, write_stdout, write_text_file

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
    add_database_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mednet.errors import InvalidRequest
    from mednet.indicators import compute_indicators
    from mednet.indicators.render import to_text, wide_tables
    from mednet.regions import load_region

    if args.format == "xlsx" and args.output is None:
        raise InvalidRequest("--output", None, "is required with --format xlsx (a workbook is not text)")
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
    if args.format == "xlsx":
        def workbook(tmp: str) -> None:
            import pandas as pd

            with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
                frame.to_excel(writer, sheet_name="indicators", index=False)
                for label, table in wide_tables(frame):
                    table.to_excel(writer, sheet_name=label[:31])

        write_files({args.output: workbook})
        return 0
    if args.format == "csv":
        text = frame.to_csv(index=False)
    elif args.format == "json":
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        text = json.dumps({"region": region.id, "period": args.period, "by": args.by, "rows": records},
                          ensure_ascii=False, indent=1)
    else:
        text = to_text(frame, title=f"{region.name} {args.period} 指标（按 {args.by}）")
    if args.output is not None:
        write_text_file(args.output, text)
    else:
        write_stdout(text)
    return 0

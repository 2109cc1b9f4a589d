"""``mednet export REGION_OR_PATH -o OUT [--format tables|fhir]``: a region as tables to edit, or a FHIR R4 Bundle.

Tables: ``OUT.xlsx`` is one workbook, any other OUT a folder of CSV files;
importing them gives the same region. FHIR: ``OUT`` is a JSON Bundle.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write a region as tables (XLSX/CSV) or a FHIR R4 Bundle", description=__doc__)
    p.add_argument("region", metavar="REGION_OR_PATH", help="a region id (e.g. quzhou) or a region JSON file")
    p.add_argument("-o", "--output", required=True, help="workbook (.xlsx), folder (CSV) or .json (FHIR)")
    p.add_argument("--format", choices=("tables", "fhir"), default="tables")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mednet.importing import require_importing

    require_importing()
    from mednet.cli.output import write_files, write_folder
    from mednet.regions import load_region

    region = load_region(args.region)
    path = Path(args.output)
    if args.format == "fhir":
        from mednet.importing.fhir import write_bundle

        write_files({path: lambda tmp: write_bundle(region, tmp)})
    else:
        from mednet.importing.export import csv_files, is_workbook, write_tables

        if is_workbook(path, "--output"):  # a workbook
            write_files({path: lambda tmp: write_tables(region, tmp)})
        else:  # a folder of CSV files, all of them or none
            write_folder(path, csv_files(region))
    print(f"wrote {path}")
    return 0

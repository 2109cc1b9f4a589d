"""``mednet init COUNTY [--id ID] [-o WORKBOOK.xlsx|FOLDER]``: a starting region's tables to edit.

COUNTY is a county or district of the official list: its name, the
prefecture and name where names repeat (``福州市鼓楼区``), or its 6-digit code.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mednet.errors import InvalidRequest


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="start a region for a county from the official township list", description=__doc__)
    p.add_argument("county", metavar="COUNTY", help="e.g. 龙游县, 衢州市龙游县 or 330825")
    p.add_argument("--id", dest="region_id", help="region id (letters, digits, - _ . :); default county-CODE")
    p.add_argument("-o", "--output", help="workbook (.xlsx) or folder of CSV files to write (default ID.xlsx)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mednet.importing import require_importing

    require_importing()
    from mednet.cli.output import write_files, write_folder
    from mednet.importing.export import csv_files, is_workbook, write_tables
    from mednet.importing.init import init_county

    region = init_county(args.county, region_id=args.region_id)
    path = Path(args.output or f"{region.id}.xlsx")
    if path.exists() and not args.force:
        raise InvalidRequest("--output", str(path), "already exists (add --force to overwrite)")
    if is_workbook(path, "--output"):  # a workbook
        write_files({path: lambda tmp: write_tables(region, tmp)})
    else:  # a folder of CSV files, all of them or none
        write_folder(path, csv_files(region))
    primary = sum(i.tier.is_primary_care for i in region.institutions)
    print(f"wrote {path}: {region.name}, 1 placeholder county hospital, {primary} township and community centres, "
          f"{len(region.links)} neighbour links, no communities yet.\n"
          f"next: name the hospitals in 机构 institutions, add communities in 成员 members, then "
          f"`mednet import {path} -o {region.id}.json`")
    return 0

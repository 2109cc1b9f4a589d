"""``mednet import TABLES... -o REGION.json``: a region from tables (XLSX, CSV, folders) or a FHIR Bundle (.json).

Every unusable cell is listed (file, sheet, row, column, value, rule) and
nothing is written; exit 1 then, 0 when the region was written.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mednet.errors import InvalidRequest, TableImportError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="make a region from a planner's tables or a FHIR Bundle", description=__doc__)
    p.add_argument("paths", nargs="+", metavar="TABLES", help="XLSX workbooks, CSV files, folders, or a FHIR .json")
    p.add_argument("-o", "--output", required=True, help="region JSON file to write")
    p.add_argument("--id", dest="region_id", help="region id (overrides the 区域 region sheet)")
    p.add_argument("--name", help="region name (overrides the 区域 region sheet)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="how to list problems")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mednet.importing import require_importing

    require_importing()
    from mednet.cli.output import write_text_file
    from mednet.importing.build import import_files
    from mednet.regions import dump_region
    from mednet.validate import validate_membership

    output = Path(args.output)
    if output.suffix != ".json":
        raise InvalidRequest("--output", str(output), "must be a .json file")
    try:
        if len(args.paths) == 1 and args.paths[0].endswith(".json"):
            from mednet.importing.fhir import read_bundle

            region = read_bundle(args.paths[0], region_id=args.region_id)
        else:
            region = import_files(args.paths, region_id=args.region_id, name=args.name)
    except TableImportError as err:
        if args.format == "json":
            print(json.dumps([p.model_dump() for p in err.problems], ensure_ascii=False, indent=1))
        else:
            print(str(err))
        return 1
    write_text_file(output, dump_region(region))
    report = validate_membership(region, file=output)  # as `mednet validate FILE` will: the file's name too
    print(f"wrote {output}: {region.name} ({region.id}), {len(region.institutions)} institutions, "
          f"{len(region.communities)} communities, {len(region.links)} links; validation: {len(report.errors)} errors, "
          f"{len(report.warnings)} warnings (mednet validate {output})")
    return 0

"""``mednet import TABLES... -o REGION.json``: a region from a registry export, a planner's tables (XLSX, XLS, ODS,
CSV, folders) or a FHIR Bundle (.json).

Every problem of every row is reported in one run, at its sheet, row and
column, in Chinese (``--lang en``: English): a summary first, then the list.
Nothing is written while an error remains (exit 1); otherwise the region,
which then validates with no error (exit 0). ``--problems FILE.csv`` lists
every problem for a spreadsheet, ``--annotate OUT.xlsx`` hands back the
workbook with each problem as a comment on its cell. Columns mednet does not
use are kept aside with a note (``--strict-columns`` refuses them); rows of
categories it does not model (村卫生室 D600, 诊所, 门诊部, …) are skipped with
a count (``--keep-category D600`` refuses them). The region's id is the
output file's name unless ``--id`` or the 区域 sheet gives it, and then it
must be that name.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mednet.cli.import_options import add_import_options, check_import_options, finish_import
from mednet.errors import InvalidRequest, TableImportError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="make a region from a registry export, a planner's tables or a FHIR Bundle",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", metavar="TABLES", help="workbooks, CSV files, folders, or a FHIR .json")
    p.add_argument("-o", "--output", required=True, help="region JSON file to write (its name is the region's id)")
    p.add_argument("--id", dest="region_id", help="region id (overrides the 区域 region sheet; must be the output's "
                   "file name)")
    p.add_argument("--name", help="region name (overrides the 区域 region sheet)")
    p.add_argument("--keep-category", action="append", default=[], metavar="CODE",
                   help="refuse rows of this WS 218 category mednet does not model (D600 村卫生室, D200 诊所, …) "
                   "instead of skipping them")
    add_import_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mednet.importing import require_importing

    require_importing()
    output = Path(args.output)
    if output.suffix != ".json":
        raise InvalidRequest("--output", str(output), "must be a .json file")
    check_import_options(args, inputs=args.paths, outputs=[args.output])
    if len(args.paths) == 1 and args.paths[0].endswith(".json"):
        return _from_fhir(args, output)

    from mednet.importing.build import ImportOptions, build_region
    from mednet.importing.problems import Collector
    from mednet.importing.tables import read_files
    from mednet.regions import dump_region

    tables = read_files(args.paths)
    problems = Collector()
    options = ImportOptions(region_id=args.region_id, name=args.name, file_name=output.name,
                            strict_columns=args.strict_columns,
                            keep_categories=frozenset(c.strip().upper() for c in args.keep_category))
    try:
        region = build_region(tables, problems=problems, options=options)
    except TableImportError:
        return finish_import(args, problems.sorted(), tables=tables, outputs={}, done=lambda lang: "")
    text = dump_region(region)

    def done(lang: str) -> str:
        if lang == "zh":
            return (f"已写入 {output}：{region.name}（{region.id}），{len(region.institutions)} 个机构、"
                    f"{len(region.communities)} 个医共体、{len(region.links)} 条连接；"
                    f"校验无错误（mednet validate {output}）")
        return (f"wrote {output}: {region.name} ({region.id}), {len(region.institutions)} institutions, "
                f"{len(region.communities)} communities, {len(region.links)} links; it validates with no error "
                f"(mednet validate {output})")

    return finish_import(args, problems.sorted(), tables=tables,
                         outputs={output: lambda tmp: Path(tmp).write_text(text, encoding="utf-8")}, done=done)


def _from_fhir(args: argparse.Namespace, output: Path) -> int:
    from mednet.cli.output import write_stdout, write_text_file
    from mednet.importing.fhir import read_bundle
    from mednet.regions import dump_region
    from mednet.validate import validate_membership

    region = read_bundle(args.paths[0], region_id=args.region_id)
    if region.id != output.stem:
        raise InvalidRequest("--output", str(output), f"must be named {region.id}.json: a region file's name is its "
                             "id (or give --id)")
    report = validate_membership(region, file=output)
    if not report.ok:
        lines = [p.text(args.lang) for p in report.errors]
        write_stdout(("区域未通过校验，未写入任何文件：\n" if args.lang == "zh" else
                      "the region has validation errors; nothing was written:\n") + "\n".join(f"  {x}" for x in lines))
        return 1
    write_text_file(output, dump_region(region))
    write_stdout(f"已写入 {output}：{region.name}（{region.id}）" if args.lang == "zh" else
                 f"wrote {output}: {region.name} ({region.id})")
    return 0

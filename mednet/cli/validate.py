"""``mednet validate REGION_OR_PATH [--format text|json]``.

Exit 0 when the region has no errors (warnings alone do not fail), 1 when it
has errors, 2 when the input cannot be used at all.
"""

from __future__ import annotations

import argparse

from mednet.cli.output import write_stdout
from mednet.regions import load_region, region_path
from mednet.validate import ValidationReport, validate_membership


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check communities against the rules and the published rosters",
                       description=__doc__)
    p.add_argument("region", metavar="REGION_OR_PATH", help="a region id (e.g. quzhou) or a region JSON file")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = region_path(args.region)
    region = load_region(path)
    report = validate_membership(region, file=path)
    title = f"{region.name} ({region.id})"
    write_stdout(report.to_json() if args.format == "json" else format_report(report, title=title))
    return 0 if report.ok else 1


def format_report(report: ValidationReport, *, title: str) -> str:
    """The report as text for a terminal: communities, then errors, then warnings."""
    lines = [f"{title}: {len(report.communities)} communities"]
    for c in report.communities:
        partners = f"; partners: {', '.join(c.partners)}" if c.partners else ""
        lines.append(f"  {c.name} ({c.id}): lead {c.lead_name or '—'}, {c.member_count} members{partners}")
    for label, problems in (("errors", report.errors), ("warnings", report.warnings)):
        lines.append(f"{label}: {len(problems) or 'none'}")
        lines.extend(f"  [{p.code}] {p.message}" for p in problems)
    return "\n".join(lines)

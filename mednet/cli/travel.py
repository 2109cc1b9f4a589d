"""``mednet travel ACTION REGION …``: the travel layer of a region.

- ``import-od REGION FILE.csv|.xlsx --source "…"``: add an origin–destination
  table (columns origin/起点, destination/终点, minutes/分钟 and/or km/公里);
- ``between REGION FROM TO``: km and minutes with the basis of each;
- ``model REGION``: the default model (circuity, speed table, terrain) with sources;
- ``catchments REGION -s SPECIALTY [--cost minutes|km]``: each capable
  institution's primary-care centres.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from mednet.cli.output import write_files, write_text_file
from mednet.errors import InvalidRequest
from mednet.files import writing_mode
from mednet.regions import load_region
from mednet.specialties import resolve_specialty
from mednet.travel.catchments import CatchmentReport, find_catchments
from mednet.travel.layer import (
    Basis,
    TravelFigure,
    TravelLayer,
    dump_travel,
    load_travel,
    read_travel,
    travel_path,
)
from mednet.travel.model import ROAD_CLASSES, TERRAINS
from mednet.travel.od import import_od


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("travel", help="the travel layer: OD import, figures between institutions, catchments",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(p))

    od = actions.add_parser("import-od", help="add an origin–destination table of minutes and/or km")
    _region(od)
    od.add_argument("file", metavar="FILE", help="a .csv (UTF-8) or .xlsx table, one row per pair")
    od.add_argument("--source", required=True, help="where the figures come from, e.g. 'map service X, 2025-03'")
    od.add_argument("--sheet", help="the workbook sheet (default: the first)")
    od.add_argument("--output", "-o", metavar="FILE", help="write the travel file here (default: beside the region)")
    od.set_defaults(func=run_import_od)

    between = actions.add_parser("between", help="km and minutes from one institution to another")
    _region(between)
    between.add_argument("origin", metavar="FROM")
    between.add_argument("destination", metavar="TO")
    between.add_argument("--format", choices=("text", "json"), default="text")
    between.set_defaults(func=run_between)

    model = actions.add_parser("model", help="the default model with the source of every row")
    _region(model)
    model.set_defaults(func=run_model)

    catch = actions.add_parser("catchments", help="the centres for which each institution is the nearest capable")
    _region(catch)
    catch.add_argument("--specialty", "-s", required=True, help="a specialty by code or label, e.g. 儿科")
    catch.add_argument("--cost", choices=("minutes", "km"), default="minutes")
    catch.add_argument("--permanent-only", action="store_true", help="do not count visiting sessions as capability")
    catch.add_argument("--format", choices=("table", "csv", "geojson"), default="table")
    catch.add_argument("--map", metavar="FILE.png", help="also draw the catchments (.png, .svg or .pdf)")
    catch.set_defaults(func=run_catchments)


def _region(p: argparse.ArgumentParser) -> None:
    p.add_argument("region", metavar="REGION_OR_PATH", help="a region id (e.g. quzhou) or a region JSON file")
    p.add_argument("--travel", metavar="FILE", help="a travel file (default: the one beside the region, if any)")


def _layer(args: argparse.Namespace) -> TravelLayer:
    return load_travel(args.region, travel=args.travel)


def run_import_od(args: argparse.Namespace) -> int:
    region = load_region(args.region)
    target = Path(args.output) if args.output else travel_path(args.region)
    current = read_travel(args.travel or target) if Path(args.travel or target).is_file() else None
    travel = import_od(region, args.file, source=args.source, travel=current, sheet=args.sheet)
    write_text_file(target, dump_travel(travel))
    table = travel.od_tables[-1]
    gone = sum(p.unreachable for p in table.pairs)
    print(f"{table.file}: {len(table.pairs)} pairs ({gone} unreachable) from {args.source!r}; written: {target}")
    return 0


def format_figure(fig: TravelFigure, names: dict[str, str]) -> str:
    head = f"{names.get(fig.origin, fig.origin)} → {names[fig.destination]}"
    if fig.unreachable:
        return f"{head}: unreachable (by {fig.km_basis.kind}: {fig.km_basis.title})"
    return "\n".join((
        head,
        f"  {fig.km:.2f} km       basis: {_basis(fig.km_basis)}",
        f"  {fig.minutes:.1f} minutes  basis: {_basis(fig.minutes_basis)}",
    ))


def _basis(b: Basis) -> str:
    return ", ".join(x for x in (b.kind, b.title, b.detail) if x)


def _catchment_bases(report: CatchmentReport, code: str) -> str:
    """How many centres' figures (in the report's cost) come from each basis, most first."""
    layer, s = report.layer, report.column(code)
    said = Counter(_basis(getattr(layer.between(layer.ids[d], layer.ids[j]), f"{report.cost}_basis"))
                   for d, j in zip(report.demand_rows, report.nearest[:, s], strict=True) if j >= 0)
    return "; ".join(f"{n} centres by {b}" for b, n in said.most_common()) or "none reachable"


def run_between(args: argparse.Namespace) -> int:
    layer = _layer(args)
    fig = layer.between(args.origin, args.destination)
    names = {i.id: i.name for i in layer.region.institutions}
    print(fig.model_dump_json(indent=1) if args.format == "json" else format_figure(fig, names))
    return 0


def run_model(args: argparse.Namespace) -> int:
    layer = _layer(args)
    m = layer.model
    lines = [f"circuity {m.circuity:g} ({m.circuity_source}); tagged maxspeed × {m.maxspeed_share:g}",
             "speed table, km/h (road class × terrain):"]
    for c in ROAD_CLASSES:
        for t in TERRAINS:
            row = m.speed(c, t)
            why = f"source {row.source}" if row.source else row.note
            lines.append(f"  {c:15} {t:9} {row.kmh:7.2f}  {why}")
    lines.append("terrain by county: " + (", ".join(f"{k} {v.terrain}" for k, v in m.terrain.items())
                                          or "none set (every county plain)"))
    print("\n".join(lines))
    return 0


def run_catchments(args: argparse.Namespace) -> int:
    code = resolve_specialty(args.specialty).code
    if args.map and Path(args.map).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise InvalidRequest("--map", args.map, "must end .png, .svg or .pdf")
    if args.map:
        writing_mode(args.map)  # a folder or a socket: refused before any work
    report = find_catchments(_layer(args), [code], cost=args.cost, include_sessions=not args.permanent_only)
    if args.map:
        from mednet.travel.catchment_map import draw_catchment_map

        figure = draw_catchment_map(report, code)
        write_files({args.map: lambda tmp: figure.savefig(tmp, dpi=150, format=Path(args.map).suffix[1:].lower())})
    if args.format == "geojson":
        print(json.dumps(report.to_geojson(code), ensure_ascii=False))
    elif args.format == "csv":
        print(report.to_frame().to_csv(index=False), end="")
    else:
        lines = [f"catchments of {code} by {args.cost}:"]
        for r in report.summary(code):
            pop = f", population {r['population']:,} ({r['population_known']} known)" if r["population"] else ""
            lines.append(f"  {r['name']} ({r['institution']}): {r['centres']} centres{pop}")
        unserved = report.unserved(code)
        lines.append(f"  reaching no capable institution: {', '.join(unserved) if unserved else 'none'}")
        lines.append(f"{args.cost}: {_catchment_bases(report, code)}")
        print("\n".join(lines))
    return 0

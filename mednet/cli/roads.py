"""``mednet roads import REGION EXTRACT.osm.pbf|.osm [--output FILE] [--far-km 2] [--format text|json]``.

Reads the drivable roads of a local OpenStreetMap extract, snaps every
institution to them, computes institution-to-institution road km and
minutes both ways, and stores them in the region's travel layer
(``<region>.travel.json`` beside the region file, or ``--output``) with the
extract's name and date as source. Prints each institution's snap distance,
flags those farther than ``--far-km`` from any drivable road, and lists the
unreachable pairs. Nothing is written when anything fails.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mednet.cli import from_check
from mednet.cli.output import write_text_file
from mednet.models import Region
from mednet.regions import load_region
from mednet.routing.request import check_max_km
from mednet.travel.layer import dump_travel, read_travel, travel_path
from mednet.travel.roads import FAR_KM, RoadImport, import_roads

LISTED = 30


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("roads", help="import a road network from an OpenStreetMap extract into the travel layer",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(p))
    imp = actions.add_parser("import", help="road km and minutes between institutions from a local .osm.pbf/.osm",
                             description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    imp.add_argument("region", metavar="REGION_OR_PATH", help="a region id (e.g. quzhou) or a region JSON file")
    imp.add_argument("extract", metavar="EXTRACT", help="a local OpenStreetMap file (.osm.pbf or .osm)")
    imp.add_argument("--output", "-o", metavar="FILE", help="write the travel file here (default: beside the region)")
    imp.add_argument("--far-km", type=from_check(check_max_km, float), default=FAR_KM, metavar="KM",
                     help=f"flag institutions farther than KM from any drivable road (default {FAR_KM:g})")
    imp.add_argument("--format", choices=("text", "json"), default="text")
    imp.set_defaults(func=run_import)


def run_import(args: argparse.Namespace) -> int:
    region = load_region(args.region)
    target = Path(args.output) if args.output else travel_path(args.region)
    current = read_travel(target) if target.is_file() else None
    result = import_roads(region, args.extract, travel=current, far_km=args.far_km)
    write_text_file(target, dump_travel(result.travel))
    print(json.dumps(summary(result, target), ensure_ascii=False, indent=1) if args.format == "json"
          else format_import(result, region, target))
    return 0


def summary(result: RoadImport, target: Path) -> dict:
    t = result.table
    return {
        "written": str(target), "extract": t.extract, "extract_date": t.extract_date.isoformat(),
        "date_basis": t.date_basis, "ways": t.ways, "graph_nodes": t.graph_nodes, "graph_arcs": t.graph_arcs,
        "snaps": [s.model_dump() for s in t.snaps], "far": [s.institution for s in result.far],
        "pairs": len(t.pairs), "unreachable": [[p.a, p.b] for p in result.unreachable],
    }


def format_import(result: RoadImport, region: Region, target: Path) -> str:
    t = result.table
    name = {i.id: i.name for i in region.institutions}
    when = "OSM header timestamp" if t.date_basis == "osm_header" else "file modification time"
    lines = [
        f"{t.extract}: {t.extract_date:%Y-%m-%d %H:%M} UTC ({when}); © OpenStreetMap contributors, ODbL",
        f"  {t.ways} drivable ways, road graph of {t.graph_nodes} nodes and {t.graph_arcs} arcs",
        f"snaps ({len(t.snaps)} institutions; far: more than {t.far_km:g} km from any drivable road):",
    ]
    for s in sorted(t.snaps, key=lambda s: -s.km):
        lines.append(f"  {s.km:8.3f} km  {name[s.institution]} ({s.institution}) → way {s.way}"
                     + ("  FAR" if s.far else ""))
    gone = result.unreachable
    lines.append(f"pairs: {len(t.pairs)}, of which unreachable by road: {len(gone)}")
    lines.extend(f"  {name[p.a]} → {name[p.b]}: unreachable" for p in gone[:LISTED])
    if len(gone) > LISTED:
        lines.append(f"  … and {len(gone) - LISTED} more (--format json lists all)")
    lines.append(f"written: {target}")
    return "\n".join(lines)

"""``mednet coverage REGION (--specialty S | --all) (--max-km N | --max-minutes M) [options]``.

Distance from every township and community health centre to the nearest
institution offering a specialty; gaps beyond ``--max-km`` (or
``--max-minutes``) per community and county; ``--cost minutes`` (or
``--travel FILE``) finds the nearest by travel time on the travel layer
(the region's travel file, else the default model) instead of along
referral links; ``--what-if FILE`` compares with a scenario (JSON: add or remove
specialties or sessions, add links); ``--suggest K`` names the K best
upgrade sites. Output files are written only when everything succeeded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mednet.cli import add_allow_invalid, positive_int
from mednet.cli.output import write_files, write_stdout
from mednet.errors import InvalidRequest
from mednet.files import writing_mode
from mednet.network import build_network, compile_network
from mednet.planning import (
    CoverageReport,
    ScenarioComparison,
    ServedPoint,
    UpgradePlan,
    find_coverage_gaps,
    suggest_upgrades,
    what_if,
)
from mednet.routing.request import check_max_km
from mednet.specialties import resolve_specialty
from mednet.travel.layer import load_travel, travel_path
from mednet.validate import load_valid_region

FORMATS = ("table", "csv", "json", "geojson")
MAP_SUFFIXES = (".png", ".svg", ".pdf", ".html")
LARGE_NETWORK = 20_000  # institutions: from here the passes are split over the cores


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("coverage", help="find coverage gaps, compare what-ifs, suggest upgrade sites",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("region", metavar="REGION_OR_PATH", help="a region id (e.g. quzhou) or a region JSON file")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--specialty", "-s", action="append", metavar="S",
                       help="a specialty by code, Chinese or English label (repeatable), e.g. 儿科")
    which.add_argument("--all", action="store_true", help="every specialty of the vocabulary")
    p.add_argument("--max-km", type=float, metavar="N", help="a gap is farther than N km")
    p.add_argument("--max-minutes", type=float, metavar="M",
                   help="a gap is farther than M minutes (on the travel layer: only it gives minutes between two "
                   "institutions); with --max-km: a gap beyond either")
    p.add_argument("--cost", choices=("km", "minutes"), default="km",
                   help="rank by km along referral links (default) or by minutes on the travel layer")
    p.add_argument("--travel", metavar="FILE", help="a travel file: rank on the travel layer (default with "
                   "--cost minutes: the file beside the region, else the default model)")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--output", "-o", metavar="FILE", help="write the result to FILE instead of standard output")
    p.add_argument("--map", metavar="FILE.png",
                   help="draw a map of the (one) specialty (.png, .svg, .pdf; .html: interactive)")
    p.add_argument("--what-if", metavar="FILE", help="a scenario JSON file to compare with today's network")
    p.add_argument("--suggest", type=positive_int, metavar="K", help="the K best sites to add the (one) specialty")
    p.add_argument("--permanent-only", action="store_true", help="do not count visiting sessions as capability")
    add_allow_invalid(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # everything that can fail on input is checked before any work or any file is touched
    specialties = None if args.all else [resolve_specialty(s).code for s in args.specialty]
    for name in ("max_km", "max_minutes"):
        check_max_km(getattr(args, name), name=f"--{name.replace('_', '-')}")
    if args.max_km is None and args.max_minutes is None:
        raise InvalidRequest("--max-km/--max-minutes", None, "give at least one limit")
    limit = "--max-minutes" if args.cost == "minutes" else "--max-km"
    if args.suggest and (args.max_minutes if args.cost == "minutes" else args.max_km) is None:
        raise InvalidRequest(limit, None, f"is needed by --suggest with --cost {args.cost}")
    one = specialties[0] if specialties and len(specialties) == 1 else None
    if (args.map or args.suggest) and one is None:
        raise InvalidRequest("--map/--suggest" if args.map and args.suggest else ("--map" if args.map else "--suggest"),
                             "--all" if args.all else specialties, "needs exactly one --specialty")
    if args.what_if and args.suggest:
        raise InvalidRequest("--suggest/--what-if", f"--suggest {args.suggest} --what-if {args.what_if}",
                             "cannot be combined: give one of them")
    for option, path, suffixes in (("--output", args.output, None), ("--map", args.map, MAP_SUFFIXES)):
        if path is not None:
            _check_target(option, path, suffixes)
    region = load_valid_region(args.region, allow_invalid=args.allow_invalid)
    travel = None
    if args.cost == "minutes" or args.travel:
        beside = travel_path(args.region)
        travel = load_travel(region, travel=args.travel or (beside if beside.exists() else None))
    net = compile_network(build_network(region))
    options: dict[str, Any] = dict(specialties=specialties, max_km=args.max_km, max_minutes=args.max_minutes,
                                   include_sessions=not args.permanent_only, cost=args.cost, travel=travel)
    workers = min(os.cpu_count() or 1, 4) if net.n >= LARGE_NETWORK else 1

    with _Progress(len(specialties or net.specialties)) as progress:
        if args.what_if:  # by path, so that errors name the file
            comparison = what_if(net, args.what_if, **options)
            result: CoverageReport | ScenarioComparison | UpgradePlan = comparison
            report = comparison.after
        else:
            report = find_coverage_gaps(net, workers=workers, progress=progress, **options)
            result = report
        if args.suggest and one is not None:
            result = suggest_upgrades(net, one, k=args.suggest, include_sessions=not args.permanent_only,
                                      cost=args.cost, travel=travel,
                                      **({"max_minutes": args.max_minutes} if args.cost == "minutes"
                                         else {"max_km": args.max_km}))

    text = render(result, args.format, title=f"{region.name} ({region.id})", names=net.G.nodes)
    outputs: dict[str, Callable[[str], object]] = {}
    if args.map and one is not None and args.map.lower().endswith(".html"):
        from mednet.planning.maps import draw_coverage_html

        page = draw_coverage_html(report, one)
        outputs[args.map] = lambda tmp: page.save(tmp)
    elif args.map and one is not None:
        from mednet.planning.maps import quiet_font_lookup

        figure = report.to_map(one)

        def save_map(tmp: str) -> None:
            with quiet_font_lookup():
                figure.savefig(tmp, format=Path(args.map).suffix[1:].lower())

        outputs[args.map] = save_map
    if args.output:
        outputs[args.output] = lambda tmp: Path(tmp).write_text(text, encoding="utf-8")
    write_files(outputs)  # the map and the table together, or neither
    if not args.output:
        write_stdout(text)
    return 0


# ---------------------------------------------------------------- output


def render(result: CoverageReport | ScenarioComparison | UpgradePlan, fmt: str, *, title: str,
           names: Mapping[str, Any] | None = None) -> str:
    """The result as text in one of :data:`FORMATS`."""
    if fmt == "csv":
        if isinstance(result, CoverageReport):
            return result.to_csv() or ""
        return str(result.to_frame().to_csv(index=False))
    if fmt == "geojson":
        return json.dumps(result.to_geojson(), ensure_ascii=False, allow_nan=False) + "\n"
    if fmt == "json":
        return json.dumps(_as_json(result), ensure_ascii=False, indent=1, allow_nan=False) + "\n"
    if isinstance(result, ScenarioComparison):
        return format_comparison(result, title=title)
    if isinstance(result, UpgradePlan):
        return format_plan(result, names or {}, title=title)
    return format_report(result, title=title)


def _as_json(result: CoverageReport | ScenarioComparison | UpgradePlan) -> dict[str, Any]:
    if isinstance(result, UpgradePlan):
        return result.model_dump(mode="json")
    if isinstance(result, ScenarioComparison):
        return {"scenario": result.scenario.model_dump(mode="json"),
                "changes": [c.model_dump(mode="json") for c in result.changes],
                "before": _as_json(result.before), "after": _as_json(result.after)}
    return {
        "region": result.region, "max_km": result.max_km, "max_minutes": result.max_minutes,
        "weight_basis": result.weight_basis, "weight_note": result.weight_note,
        "specialties": [s.model_dump(mode="json") for s in result.summary],
        "communities": [a.model_dump(mode="json") for a in result.communities],
        "counties": [a.model_dump(mode="json") for a in result.counties],
        "gaps": {code: [p.model_dump(mode="json") for p in result.gaps(code)] for code in result.specialties},
    }


def format_report(report: CoverageReport, *, title: str) -> str:
    limit = _limit(report)
    n = len(report.demand_ids)
    lines = [f"{title}: {n} primary-care institution{'' if n == 1 else 's'}; gap = beyond {limit}",
             f"demand: {report.weight_note}", *_travel_lines(report), ""]
    timed = report.travel is not None
    rows = [[f"{s.label_zh} {s.specialty}", s.capable + s.in_session, _pct(s.covered_share), s.gap_points,
             _km(s.median_km), _km(s.worst_km), *([_km(s.median_minutes), _km(s.worst_minutes)] if timed else []),
             " ".join(s.communities_missing) or "—"] for s in report.summary]
    lines += table(["专科 specialty", "offer", "covered", "gaps", "median km", "worst km",
                    *(["median min", "worst min"] if timed else []), "communities lacking it"], rows)
    if len(report.specialties) <= 3:
        for code in report.specialties:
            spec = resolve_specialty(code)
            gaps = report.gaps(code)
            lines += ["", f"{spec.label_zh} {spec.label_en}: {len(gaps)} beyond {limit}"]
            nearest = dict(zip(report.demand_ids, report.nearest_row[:, report.column(code)], strict=True))
            G, net = report.network.G, report.network
            minutes = ["minutes"] if report.travel else []
            lines += table(["institution", "county", "community", "km", *minutes, "nearest capable"], [
                [p.name, G.nodes[p.institution]["county"], _community_name(report, p.institution),
                 _km(p.distance_km), *([_km(p.minutes)] if report.travel else []),
                 G.nodes[net.ids[nearest[p.institution]]]["name"] if nearest[p.institution] >= 0
                 else "none reachable"] for p in gaps])
            for kind, areas in (("community", report.communities), ("county", report.counties)):
                lines += ["", f"by {kind} ({spec.label_zh}):"]
                lines += table([kind, "demand", "covered", "gaps", "worst served"], [
                    [a.name, _num(a.demand), _pct(a.specialty(code).covered_share), a.specialty(code).gap_points,
                     ", ".join(f"{p.name} {_served(report, p)}" for p in a.specialty(code).worst_served[:2])]
                    for a in areas])
    return "\n".join(lines) + "\n"


def _travel_lines(report: CoverageReport) -> list[str]:
    """Where the figures come from: by network km, the links' basis; by travel cost, how the nearest was chosen
    and each specialty's km and minutes."""
    if report.travel is None:
        bases = Counter(b for _, _, b in report.network.G.edges(data="distance_basis"))
        said = ", ".join(f"{n} links {'by road' if b == 'road' else 'at great circle × road factor (estimated)'}"
                         for b, n in sorted(bases.items()))
        return [f"distance: km along referral links ({said}); minutes at the region's {report.speed_kmh:g} km/h"]
    lines = [f"travel: {report.basis_note}"]
    for s in report.summary:
        for figure, counts in (("km", s.km_basis), ("minutes", s.minutes_basis)):
            said = "; ".join(f"{c.points} from {', '.join(x for x in (c.kind, c.title, c.detail) if x)}"
                             for c in counts or ())
            lines.append(f"  {s.specialty} {figure}: {said or 'none reachable'}")
    return lines


def _served(report: CoverageReport, point: ServedPoint) -> str:
    return f"{_km(point.minutes)} min" if report.cost == "minutes" else _km(point.distance_km)


def format_comparison(result: ScenarioComparison, *, title: str) -> str:
    s = result.scenario
    limit = _limit(result.before)
    lines = [f"{title}: what if — {s.name}", *( [s.description] if s.description else []),
             f"gap = beyond {limit}; demand: {result.before.weight_note}", ""]
    names = result.before.network.G.nodes
    rows = [[f"{resolve_specialty(c.specialty).label_zh} {c.specialty}", _num(c.covered_demand_before),
             _num(c.covered_demand_after), f"+{_num(c.newly_covered_demand)}", f"-{_num(c.newly_uncovered_demand)}",
             c.closer_points, " ".join(names[i]["name"] for i in c.newly_covered) or "—"] for c in result.changes]
    lines += table(["专科 specialty", "covered before", "after", "newly covered", "newly uncovered", "closer",
                    "newly covered institutions"], rows)
    lost = [c for c in result.changes if c.newly_uncovered]
    for c in lost:
        lost_names = " ".join(names[i]["name"] for i in c.newly_uncovered)
        lines.append(f"newly beyond {limit} for {c.specialty}: {lost_names}")
    return "\n".join(lines) + "\n"


def format_plan(plan: UpgradePlan, names: Mapping[str, Any], *, title: str) -> str:
    spec = resolve_specialty(plan.specialty)
    within = f"{plan.max_minutes:g} min" if plan.cost == "minutes" else f"{plan.max_km:g} km"
    lines = [f"{title}: best {plan.k} sites to add {spec.label_zh} {spec.label_en} (within {within})",
             f"covered before: {_num(plan.covered_demand_before)} of {_num(plan.demand)} "
             f"({_pct(plan.covered_demand_before / plan.demand if plan.demand else None)}); "
             f"{plan.candidates} candidates; greedy, at least 63 % of the best possible set", ""]
    lines += table(["rank", "institution", "county", "gain", "covered after", "newly covered"], [
        [s.rank, s.name, s.county, f"+{_num(s.gain_demand)}", f"{_num(s.covered_demand)} ({_pct(s.covered_share)})",
         " ".join(names[i]["name"] for i in s.newly_covered)] for s in plan.steps])
    if plan.note:
        lines.append(plan.note)
    return "\n".join(lines) + "\n"


def table(header: list[str], rows: list[list]) -> list[str]:
    """Plain aligned columns; Chinese characters count as two columns wide."""
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(header))]
    out = []
    for n, r in enumerate(cells):
        out.append("  ".join(c + " " * (w - _width(c)) for c, w in zip(r, widths, strict=True)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _community_name(report: CoverageReport, node: str) -> str:
    h = report.network.home[report.network.index[node]]
    return report.network.G.graph["communities"][report.network.community_ids[h]].name if h >= 0 else "—"


def _limit(report: CoverageReport) -> str:
    parts = [f"{report.max_km:g} km"] if report.max_km is not None else []
    if report.max_minutes is not None:
        parts.append(f"{report.max_minutes:g} min")
    return " or ".join(parts) or "reach"


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.0f} %"


def _km(km: float | None) -> str:
    return "unreachable" if km is None or km == float("inf") else f"{km:.1f}"


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-9 else f"{x:,.1f}"


# ---------------------------------------------------------------- files and progress


def _check_target(option: str, path: str, suffixes: tuple[str, ...] | None) -> None:
    target = Path(path)
    if suffixes and target.suffix.lower() not in suffixes:
        raise InvalidRequest(option, path, f"must end in {', '.join(suffixes)}")
    if not target.parent.resolve().is_dir():
        raise InvalidRequest(option, path, "must be in an existing folder")
    if target.is_dir():
        raise InvalidRequest(option, path, "must be a file, not a folder")
    writing_mode(target)  # a socket or the like: refused before any work


class _Progress:
    """``coverage: 12/42 paediatrics`` on standard error, only when it is a terminal."""

    def __init__(self, total: int):
        self.total, self.done = total, 0
        self.on = sys.stderr.isatty() and total > 1

    def __call__(self, code: str) -> None:
        self.done += 1
        if self.on:
            sys.stderr.write(f"\rcoverage: {self.done}/{self.total} {code:<24}")
            sys.stderr.flush()

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.on and self.done:
            sys.stderr.write("\r" + " " * 48 + "\r")
            sys.stderr.flush()

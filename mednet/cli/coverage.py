"""``mednet coverage REGION (--specialty S | --all) (--max-km N | --max-minutes M) [options]``.

Distance from every township and community health centre to the nearest
institution offering a specialty; gaps beyond ``--max-km`` (or
``--max-minutes``) per community and county; ``--cost minutes`` (or
``--travel FILE``) finds the nearest by travel time on the travel layer
(the region's travel file, else the default model) instead of along
referral links; ``--what-if FILE`` compares with a scenario (JSON: add or remove
specialties or sessions, add links); ``--suggest K`` names the K best
upgrade sites. Tables and errors speak Chinese by default (``--lang en``:
English). Output files are written only when everything succeeded.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
from mednet.valid_regions import load_valid_region

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
    p.add_argument("--lang", choices=("zh", "en"), default="zh",
                   help="language of the tables: zh (Chinese, default) or en (English)")
    add_allow_invalid(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # everything that can fail on input is checked before any work or any file is touched
    specialties = None if args.all else [resolve_specialty(s).code for s in args.specialty]
    for name in ("max_km", "max_minutes"):
        check_max_km(getattr(args, name), name=f"--{name.replace('_', '-')}")
    if args.max_km is None and args.max_minutes is None:
        raise InvalidRequest("--max-km/--max-minutes", None, "give at least one limit",
                             rule_zh="至少给出一个上限（公里或分钟）")
    limit = "--max-minutes" if args.cost == "minutes" else "--max-km"
    if args.suggest and (args.max_minutes if args.cost == "minutes" else args.max_km) is None:
        raise InvalidRequest(limit, None, f"is needed by --suggest with --cost {args.cost}",
                             rule_zh=f"在 --cost {args.cost} 下使用 --suggest 时必须给出")
    one = specialties[0] if specialties and len(specialties) == 1 else None
    if (args.map or args.suggest) and one is None:
        raise InvalidRequest("--map/--suggest" if args.map and args.suggest else ("--map" if args.map else "--suggest"),
                             "--all" if args.all else specialties, "needs exactly one --specialty",
                             rule_zh="只能配合一个 --specialty 使用")
    if args.what_if and args.suggest:
        raise InvalidRequest("--suggest/--what-if", f"--suggest {args.suggest} --what-if {args.what_if}",
                             "cannot be combined: give one of them", rule_zh="不能同时使用，请只给其中一个")
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

    title = f"{region.name}（{region.id}）" if args.lang == "zh" else f"{region.name} ({region.id})"
    text = render(result, args.format, title=title, names=net.G.nodes, lang=args.lang)
    outputs: dict[str, Callable[[str], object]] = {}
    if args.map and one is not None and args.map.lower().endswith(".html"):
        from mednet.planning.maps import draw_coverage_html
        from mednet.planning.offline import add_background, save_offline

        page = draw_coverage_html(report, one, tiles=None)  # offline: scripts inline; tiles only when configured
        add_background(page, report.network)
        outputs[args.map] = lambda tmp: save_offline(page, tmp)
    elif args.map and one is not None:
        from mednet.planning.maps import draw_coverage_map, quiet_font_lookup

        figure = draw_coverage_map(report, one)

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
           names: Mapping[str, Any] | None = None, lang: str = "zh") -> str:
    """The result as text in one of :data:`FORMATS`; tables in ``lang`` (CSV, JSON and GeoJSON keep their keys)."""
    if fmt == "csv":
        if isinstance(result, CoverageReport):
            return result.to_csv() or ""
        return str(result.to_frame().to_csv(index=False))
    if fmt == "geojson":
        return json.dumps(result.to_geojson(), ensure_ascii=False, allow_nan=False) + "\n"
    if fmt == "json":
        return json.dumps(_as_json(result), ensure_ascii=False, indent=1, allow_nan=False) + "\n"
    if isinstance(result, ScenarioComparison):
        return format_comparison(result, title=title, lang=lang)
    if isinstance(result, UpgradePlan):
        return format_plan(result, names or {}, title=title, lang=lang)
    return format_report(result, title=title, lang=lang)


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


#: The words of the tables, by language.
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "head": "{title}: {n} primary-care institution{s}; gap = beyond {limit}", "demand": "demand: {note}",
        "specialty": "专科 specialty", "offer": "offer", "covered": "covered", "gaps": "gaps", "median km": "median km",
        "worst km": "worst km", "median min": "median min", "worst min": "worst min",
        "lacking": "communities lacking it", "beyond": "{label}: {n} beyond {limit}", "institution": "institution",
        "county": "county", "community": "community", "km": "km", "minutes": "minutes",
        "nearest": "nearest capable", "none reachable": "none reachable", "by": "by {kind} ({label}):",
        "worst served": "worst served", "unreachable": "unreachable", "min": "min", "or": " or ",
        "reach": "reach", "what if": "{title}: what if — {name}", "gap limit": "gap = beyond {limit}; demand: {note}",
        "before": "covered before", "after": "after", "newly covered": "newly covered",
        "newly uncovered": "newly uncovered", "closer": "closer", "newly covered inst": "newly covered institutions",
        "lost": "newly beyond {limit} for {code}: {names}",
        "plan": "{title}: best {k} sites to add {label} (within {within})",
        "plan before": "covered before: {covered} of {demand} ({share}); {candidates} candidates; greedy, at least "
                       "63 % of the best possible set",
        "rank": "rank", "gain": "gain", "covered after": "covered after", "distance": "distance: km along referral "
        "links ({said}); minutes at the region's {speed} km/h", "by road": "{n} links by road",
        "estimated": "{n} links at great circle × road factor (estimated)", "travel": "travel: {note}",
    },
    "zh": {
        "head": "{title}：{n} 个基层医疗机构；缺口 = 超过 {limit}", "demand": "需求：{note}",
        "specialty": "专科", "offer": "提供机构", "covered": "覆盖率", "gaps": "缺口", "median km": "中位公里",
        "worst km": "最远公里", "median min": "中位分钟", "worst min": "最远分钟", "lacking": "缺少该专科的医共体",
        "beyond": "{label}：{n} 个超过 {limit}", "institution": "机构", "county": "区县", "community": "医共体",
        "km": "公里", "minutes": "分钟", "nearest": "最近的提供机构", "none reachable": "无可达机构",
        "by": "按{kind}（{label}）：", "worst served": "最远的机构", "unreachable": "不可达", "min": "分钟",
        "or": " 或 ", "reach": "可达范围", "what if": "{title}：假设 —— {name}",
        "gap limit": "缺口 = 超过 {limit}；需求：{note}", "before": "之前覆盖", "after": "之后",
        "newly covered": "新覆盖", "newly uncovered": "新失去覆盖", "closer": "变近",
        "newly covered inst": "新覆盖的机构",
        "lost": "{code} 新超过 {limit} 的机构：{names}",
        "plan": "{title}：增设{label}的最佳 {k} 个地点（{within} 以内）",
        "plan before": "之前覆盖：{demand} 中的 {covered}（{share}）；候选 {candidates} 个；"
                       "贪心法，至少达到最优组合的 63 %",
        "rank": "名次", "gain": "增加", "covered after": "之后覆盖",
        "distance": "距离：沿转诊连接的公里数（{said}）；分钟按区域车速 {speed} 公里/小时估算",
        "by road": "{n} 条按道路", "estimated": "{n} 条按直线距离 × 道路系数（估算）", "travel": "路程：{note}",
    },
}
#: The demand's basis in Chinese, by the report's ``weight_basis`` (others as the report words them).
WEIGHTS_ZH = {"population": "按各中心服务的人口加权", "population_partial": "按人口加权；缺少人口数的中心按中位数计",
              "caller": "按给定的权重加权", "uniform": "每个基层医疗机构计一次（区域中没有人口数据）"}
AREA_ZH = {"community": "医共体", "county": "区县"}


def _w(lang: str, key: str, **values: Any) -> str:
    return WORDS["zh" if lang == "zh" else "en"][key].format(**values)


def _weight(report: CoverageReport, lang: str) -> str:
    return WEIGHTS_ZH.get(report.weight_basis, report.weight_note) if lang == "zh" else report.weight_note


def format_report(report: CoverageReport, *, title: str, lang: str = "zh") -> str:
    limit = _limit(report, lang)
    n = len(report.demand_ids)
    lines = [_w(lang, "head", title=title, n=n, s="" if n == 1 else "s", limit=limit),
             _w(lang, "demand", note=_weight(report, lang)), *_travel_lines(report, lang), ""]
    timed = report.travel is not None
    rows = [[f"{s.label_zh} {s.specialty}" if lang != "zh" else s.label_zh, s.capable + s.in_session,
             _pct(s.covered_share), s.gap_points, _km(s.median_km, lang), _km(s.worst_km, lang),
             *([_km(s.median_minutes, lang), _km(s.worst_minutes, lang)] if timed else []),
             ("、" if lang == "zh" else ", ").join(_community(report, c) for c in s.communities_missing) or "—"]
            for s in report.summary]
    lines += table([_w(lang, k) for k in ("specialty", "offer", "covered", "gaps", "median km", "worst km")]
                   + ([_w(lang, "median min"), _w(lang, "worst min")] if timed else []) + [_w(lang, "lacking")], rows)
    if len(report.specialties) <= 3:
        for code in report.specialties:
            spec = resolve_specialty(code)
            gaps = report.gaps(code)
            label = spec.label_zh if lang == "zh" else f"{spec.label_zh} {spec.label_en}"
            lines += ["", _w(lang, "beyond", label=label, n=len(gaps), limit=limit)]
            nearest = dict(zip(report.demand_ids, report.nearest_row[:, report.column(code)], strict=True))
            G, net = report.network.G, report.network
            minutes = [_w(lang, "minutes")] if report.travel else []
            lines += table([_w(lang, "institution"), _w(lang, "county"), _w(lang, "community"), _w(lang, "km"),
                            *minutes, _w(lang, "nearest")], [
                [p.name, G.nodes[p.institution]["county"], _community_name(report, p.institution),
                 _km(p.distance_km, lang), *([_km(p.minutes, lang)] if report.travel else []),
                 G.nodes[net.ids[nearest[p.institution]]]["name"] if nearest[p.institution] >= 0
                 else _w(lang, "none reachable")] for p in gaps])
            for kind, areas in (("community", report.communities), ("county", report.counties)):
                said = AREA_ZH[kind] if lang == "zh" else kind
                lines += ["", _w(lang, "by", kind=said, label=spec.label_zh)]
                lines += table([_w(lang, kind), "demand" if lang != "zh" else "需求", _w(lang, "covered"),
                                _w(lang, "gaps"), _w(lang, "worst served")], [
                    [a.name, _num(a.demand), _pct(a.specialty(code).covered_share), a.specialty(code).gap_points,
                     ("、" if lang == "zh" else ", ").join(f"{p.name} {_served(report, p, lang)}"
                                                          for p in a.specialty(code).worst_served[:2])]
                    for a in areas])
    return "\n".join(lines) + "\n"


def _travel_lines(report: CoverageReport, lang: str = "zh") -> list[str]:
    """Where the figures come from: by network km, the links' basis; by travel cost, how the nearest was chosen
    and each specialty's km and minutes."""
    if report.travel is None:
        bases = Counter(b for _, _, b in report.network.G.edges(data="distance_basis"))
        said = ("，" if lang == "zh" else ", ").join(
            _w(lang, "by road" if b == "road" else "estimated", n=n) for b, n in sorted(bases.items()))
        return [_w(lang, "distance", said=said, speed=f"{report.speed_kmh:g}")]
    note = report.basis_note
    if lang == "zh":
        note = f"在路程层上按{'分钟' if report.cost == 'minutes' else '公里'}找最近的机构（机构之间直达，不沿转诊连接）"
        if "default model" in report.basis_note:
            note += "；默认模型的分钟数为估算（直线距离 × 绕行系数 ÷ 车速），并非实测"
    lines = [_w(lang, "travel", note=note)]
    for s in report.summary:
        for figure, counts in (("km", s.km_basis), ("minutes", s.minutes_basis)):
            if lang == "zh":
                said = "；".join(f"{c.points} 个{_basis_zh(c.kind, c.title, c.detail)}" for c in counts or ())
                lines.append(f"  {resolve_specialty(s.specialty).label_zh}{_w(lang, figure)}："
                             f"{said or _w(lang, 'none reachable')}")
                continue
            said = "; ".join(f"{c.points} from {', '.join(x for x in (c.kind, c.title, c.detail) if x)}"
                             for c in counts or ())
            lines.append(f"  {s.specialty} {figure}: {said or _w(lang, 'none reachable')}")
    return lines


#: Where a figure comes from, in Chinese (the travel layer's kinds of basis).
BASIS_ZH = {"default_model": "按默认模型估算", "road_network": "按道路网", "od_table": "按 OD 表",
            "same_institution": "为同一机构"}
_MODEL_DETAIL = re.compile(r"great circle × ([\d.]+) at ([\d.]+) km/h \((\w+) terrain\)")
TERRAIN_ZH = {"plain": "平原", "hilly": "丘陵", "mountain": "山区"}


def _basis_zh(kind: str, title: str | None, detail: str | None) -> str:
    """A basis count's source in Chinese: its kind, the source's own title, and the default model's figures.

    >>> _basis_zh("default_model", None, "great circle × 1.3 at 40 km/h (plain terrain)")
    '按默认模型估算（直线距离 × 1.3，车速 40 公里/小时，平原）'
    >>> _basis_zh("od_table", "县卫健局 OD 表, 2024-05", None)
    '按 OD 表（县卫健局 OD 表, 2024-05）'
    """
    said = BASIS_ZH.get(kind, kind)
    if detail and (found := _MODEL_DETAIL.fullmatch(detail)):
        circuity, kmh, terrain = found.groups()
        detail = f"直线距离 × {circuity}，车速 {kmh} 公里/小时，{TERRAIN_ZH.get(terrain, terrain)}"
    shown = "，".join(x for x in (title, detail) if x)
    return f"{said}（{shown}）" if shown else said


def _served(report: CoverageReport, point: ServedPoint, lang: str = "zh") -> str:
    return f"{_km(point.minutes, lang)} {_w(lang, 'min')}" if report.cost == "minutes" else _km(point.distance_km, lang)


def format_comparison(result: ScenarioComparison, *, title: str, lang: str = "zh") -> str:
    s = result.scenario
    limit = _limit(result.before, lang)
    lines = [_w(lang, "what if", title=title, name=s.name), *([s.description] if s.description else []),
             _w(lang, "gap limit", limit=limit, note=_weight(result.before, lang)), ""]
    names = result.before.network.G.nodes
    rows = [[resolve_specialty(c.specialty).label_zh if lang == "zh" else
             f"{resolve_specialty(c.specialty).label_zh} {c.specialty}", _num(c.covered_demand_before),
             _num(c.covered_demand_after), f"+{_num(c.newly_covered_demand)}", f"-{_num(c.newly_uncovered_demand)}",
             c.closer_points, " ".join(names[i]["name"] for i in c.newly_covered) or "—"] for c in result.changes]
    lines += table([_w(lang, k) for k in ("specialty", "before", "after", "newly covered", "newly uncovered", "closer",
                                          "newly covered inst")], rows)
    lost = [c for c in result.changes if c.newly_uncovered]
    for c in lost:
        lost_names = " ".join(names[i]["name"] for i in c.newly_uncovered)
        lines.append(_w(lang, "lost", limit=limit, code=c.specialty, names=lost_names))
    return "\n".join(lines) + "\n"


def format_plan(plan: UpgradePlan, names: Mapping[str, Any], *, title: str, lang: str = "zh") -> str:
    spec = resolve_specialty(plan.specialty)
    unit = _w(lang, "min") if plan.cost == "minutes" else "km" if lang != "zh" else "公里"
    within = f"{plan.max_minutes:g} {unit}" if plan.cost == "minutes" else f"{plan.max_km:g} {unit}"
    label = spec.label_zh if lang == "zh" else f"{spec.label_zh} {spec.label_en}"
    lines = [_w(lang, "plan", title=title, k=plan.k, label=label, within=within),
             _w(lang, "plan before", covered=_num(plan.covered_demand_before), demand=_num(plan.demand),
                share=_pct(plan.covered_demand_before / plan.demand if plan.demand else None),
                candidates=plan.candidates), ""]
    lines += table([_w(lang, k) for k in ("rank", "institution", "county", "gain", "covered after", "newly covered")], [
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


def _community(report: CoverageReport, community: str) -> str:
    """A community by its name (its id only when the network does not know it)."""
    found = report.network.G.graph["communities"].get(community)
    return found.name if found is not None else community


def _community_name(report: CoverageReport, node: str) -> str:
    h = report.network.home[report.network.index[node]]
    return report.network.G.graph["communities"][report.network.community_ids[h]].name if h >= 0 else "—"


def _limit(report: CoverageReport, lang: str = "zh") -> str:
    km, minutes = ("公里", "分钟") if lang == "zh" else ("km", "min")
    parts = [f"{report.max_km:g} {km}"] if report.max_km is not None else []
    if report.max_minutes is not None:
        parts.append(f"{report.max_minutes:g} {minutes}")
    return _w(lang, "or").join(parts) or _w(lang, "reach")


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.0f} %"


def _km(km: float | None, lang: str = "en") -> str:
    return _w(lang, "unreachable") if km is None or km == float("inf") else f"{km:.1f}"


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-9 else f"{x:,.1f}"


# ---------------------------------------------------------------- files and progress


def _check_target(option: str, path: str, suffixes: tuple[str, ...] | None) -> None:
    target = Path(path)
    if suffixes and target.suffix.lower() not in suffixes:
        raise InvalidRequest(option, path, f"must end in {', '.join(suffixes)}",
                             rule_zh=f"扩展名须为 {'、'.join(suffixes)}")
    if not target.parent.resolve().is_dir():
        raise InvalidRequest(option, path, "must be in an existing folder", rule_zh="所在的文件夹不存在")
    if target.is_dir():
        raise InvalidRequest(option, path, "must be a file, not a folder", rule_zh="须为文件，不能是文件夹")
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

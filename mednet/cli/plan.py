"""``mednet plan population|access|locate|flows|batch REGION …``: planning with people and capacity.

- ``population``: the share of people within ``--max-km``/``--max-minutes`` of each specialty;
- ``access``: 2SFCA/E2SFCA scores per demand point (``--decay step|gaussian|steps``);
- ``locate``: exact maximal covering (existing sites fixed, ``--k`` new), p-median, capacitated p-median or set
  covering, with the greedy answer and the gap;
- ``flows``: a Huff model fitted to observed referral flows (``--flows`` table or ``--ledger`` URL), observed
  against modelled, with the nearer institutions bypassed;
- ``batch``: many what-ifs (``--what-ifs FILE.json``) over local processes or a Dask cluster (``--scheduler``).

People come from ``--population`` (a 人口 sheet: 区县, 乡镇/街道, 常住人口, 年份, 来源), ``--raster`` (a
GeoTIFF in WGS84, people per cell) or, without either, the population the region gives its health centres.
``--format table|csv|json|geojson``; ``-o FILE`` writes the result (all or nothing).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from mednet.cli import add_allow_invalid, positive_float, positive_int
from mednet.cli.output import write_files, write_stdout
from mednet.cli.people import add_people_options, people_given
from mednet.errors import InvalidRequest

ACTIONS = ("population", "access", "locate", "flows", "batch")
FORMATS = ("table", "csv", "json", "geojson")
#: Column headers in Chinese for ``--lang zh`` (the default).
HEADERS_ZH = {"specialty": "专科", "people": "人口", "covered": "覆盖人口", "share": "覆盖比例", "name": "名称",
              "lat": "纬度", "lon": "经度", "score": "可达性得分", "id": "编号", "fixed": "原有", "origin": "起点",
              "origin_name": "起点名称", "destination": "终点", "destination_name": "终点名称", "observed": "实际人次",
              "modelled": "模型人次", "km": "公里", "minutes": "分钟", "bypassed": "绕过的更近机构",
              "what_if": "情景", "supply": "供给", "demand": "加权需求", "ratio": "供需比"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plan", help="population coverage, floating catchments, exact siting, observed flows, batches",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=ACTIONS)
    p.add_argument("region", metavar="REGION_OR_PATH", help="a region id (e.g. quzhou) or a region JSON file")
    p.add_argument("--specialty", "-s", action="append", metavar="S", help="a specialty (repeatable), e.g. 儿科")
    add_people_options(p)
    p.add_argument("--max-km", type=positive_float, metavar="N", help="within N km (along the network)")
    p.add_argument("--max-minutes", type=positive_float, metavar="M", help="within M minutes (travel layer)")
    p.add_argument("--decay", choices=("step", "gaussian", "steps"), default="step",
                   help="access: 2SFCA step (default), E2SFCA Gaussian (--sigma) or E2SFCA steps (1, 0.68, 0.22)")
    p.add_argument("--sigma", type=positive_float, help="access: the Gaussian's width (default: a third of the limit)")
    p.add_argument("--supply", default="sites", choices=("sites", "beds", "weekly_slots", "weekly_sessions", "quota"),
                   help="access: the supply at each site (default: 1 per site; quota: the ledger's referral quotas "
                   "a week, with --ledger)")
    p.add_argument("--problem", default="max-covering",
                   choices=("max-covering", "p-median", "capacitated-p-median", "set-covering"))
    p.add_argument("--k", type=int, metavar="K", help="locate: how many new sites (max-covering)")
    p.add_argument("--p", type=positive_int, metavar="P", help="locate: how many open sites (p-median)")
    p.add_argument("--flows", metavar="FILE", help="flows: a 流向 table (起点, 终点, 人次)")
    p.add_argument("--ledger", metavar="URL", help="flows, access --supply quota: the referral ledger's database URL")
    p.add_argument("--cost", choices=("km", "minutes"), default="km", help="flows: km (network) or minutes")
    p.add_argument("--what-ifs", metavar="FILE.json", help="batch: a JSON list of what-ifs")
    p.add_argument("--workers", type=positive_int, default=2, help="batch: local processes (default 2)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="batch: a Dask scheduler (default: MEDNET_DASK_SCHEDULER, "
                   "else local processes)")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--output", "-o", metavar="FILE", help="write the result to FILE instead of standard output")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the headers (zh default)")
    p.add_argument("--map", metavar="FILE.html", help="population, access, locate: also write an interactive map "
                   "that works offline (people shaded, out of reach in red, sites kept and opened)")
    add_allow_invalid(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mednet.network import build_network
    from mednet.planning.gaps import as_network
    from mednet.valid_regions import load_valid_region

    if args.action != "flows" and (args.max_km is None) == (args.max_minutes is None):
        raise InvalidRequest("--max-km/--max-minutes", None, "give exactly one of them", rule_zh="须且只须给出其中一个")
    if args.action in ("access", "locate", "flows") and len(args.specialty or ()) != 1:
        raise InvalidRequest("--specialty", args.specialty, f"plan {args.action} needs exactly one specialty",
                             rule_zh=f"plan {args.action} 须且只须指定一个专科")
    if args.format == "geojson" and args.action not in ("population", "access"):
        raise InvalidRequest("--format", "geojson", "is for demand points: plan population or plan access")
    if args.map and (args.action not in ("population", "access", "locate") or not args.map.lower().endswith(".html")):
        raise InvalidRequest("--map", args.map, "is an .html file, for plan population, access or locate")
    region = load_valid_region(args.region, allow_invalid=args.allow_invalid)
    net = as_network(build_network(region))
    args.drawn = None  # the runner leaves its map here
    frame, said = ACTION_RUNNERS[args.action](args, net)
    return _emit(args, frame, said)


def _people(args: argparse.Namespace, net: Any) -> Any:
    from mednet.planning.population import institutions_population

    given = people_given(args, net)
    return given if given is not None else institutions_population(net)


def _limit(args: argparse.Namespace) -> dict[str, Any]:
    return {"max_km": args.max_km} if args.max_km is not None else {"max_minutes": args.max_minutes}


def _population(args: argparse.Namespace, net: Any) -> tuple[Any, str]:
    from mednet.planning.population import population_coverage

    cover = population_coverage(net, _people(args, net), specialties=args.specialty, **_limit(args))
    frame = cover.frame() if args.format != "geojson" else cover.points_frame()
    p = cover.population
    _draw(args, net, p, covered=cover.covered.all(axis=1), title=f"{'、'.join(cover.specialties)}：{cover.limit:g} "
          f"{'km' if cover.cost == 'km' else '分钟'}以内的人口（红圈：有专科不可达）")
    unit = "km" if args.max_km is not None else "分钟"
    return frame, f"{cover.population.total:,.0f} 人（{cover.population.source}），{cover.limit:g} {unit}以内"


def _access(args: argparse.Namespace, net: Any) -> tuple[Any, str]:
    from mednet.planning.access import access_scores, gaussian_decay, step_decay, steps_decay

    limit = args.max_km if args.max_km is not None else args.max_minutes
    if args.decay == "step":
        decay = step_decay(limit)
    elif args.decay == "gaussian":
        decay = gaussian_decay(args.sigma or limit / 3, limit)
    else:
        decay = steps_decay({limit / 3: 1.0, 2 * limit / 3: 0.68, limit: 0.22})
    supply: Any = args.supply
    if supply == "quota":
        if not args.ledger:
            raise InvalidRequest("--ledger", None, "is needed with --supply quota (the ledger's database URL)")
        import sqlalchemy as sa

        from mednet.planning.access import ledger_quota_supply

        supply = ledger_quota_supply(sa.create_engine(args.ledger), region=net.region, specialty=args.specialty[0])
    scores = access_scores(net, _people(args, net), args.specialty[0], decay=decay, supply=supply,
                           cost="km" if args.max_km is not None else "minutes")
    _draw(args, net, scores.population, covered=scores.score > 0, fixed=scores.site_ids,
          title=f"{scores.specialty} {scores.decay.kind}（红圈：得分为 0）")
    return scores.frame(), scores.statement()


def _locate(args: argparse.Namespace, net: Any) -> tuple[Any, str]:
    from mednet.planning.locate import locate

    capacity = None if args.problem != "capacitated-p-median" else _even_capacity(net, args)
    plan = locate(net, _people(args, net), args.specialty[0], problem=args.problem, k=args.k, p=args.p,
                  capacity=capacity, **_limit(args))
    s = plan.summary()
    _draw(args, net, plan.population, fixed=plan.fixed_ids, new=plan.new_ids,
          title=f"{plan.specialty} {plan.problem}：新增 {len(plan.new_ids)} 处")
    frame = plan.frame()
    frame["name"] = [net.G.nodes[i].get("name", i) for i in frame["id"]]
    gap = "" if s["greedy_gap"] is None else f"；贪心法覆盖 {s['greedy_covered']:,.0f} 人，差距 {s['greedy_gap']:.2%}"
    said = (f"{s['problem']}（{s['status']}）：新增 {len(s['new_sites'])} 处，覆盖 {s['covered_before']:,.0f} → "
            f"{s['covered_after']:,.0f} / {s['people']:,.0f} 人{gap}；求解 {s['seconds']:.2f} 秒")
    return frame, said


def _even_capacity(net: Any, args: argparse.Namespace) -> dict[str, float]:
    """Capacitated p-median from the command line: the people shared evenly over P sites, with 20% to spare."""
    people = _people(args, net)
    if args.p is None:
        raise InvalidRequest("--p", None, "is needed for a p-median")
    each = people.total / args.p * 1.2
    return {i: each for i in net.ids}


def _flows(args: argparse.Namespace, net: Any) -> tuple[Any, str]:
    from mednet.planning.flows import fit_flows, ledger_flows, table_flows

    if (args.flows is None) == (args.ledger is None):
        raise InvalidRequest("--flows/--ledger", None, "give exactly one source of flows",
                             rule_zh="须且只须给出一个流向来源")
    if args.flows:
        flows = table_flows([args.flows], net)
    else:
        import sqlalchemy as sa

        flows = ledger_flows(sa.create_engine(args.ledger), region=net.region, specialty=args.specialty[0])
    fit = fit_flows(net, flows, args.specialty[0], cost=args.cost)
    said = (f"{fit.specialty}：β = {fit.beta:.4f}（{fit.decay}，按{fit.cost}），绕过更近机构的转诊占 "
            f"{fit.bypass_share:.1%}")
    return fit.frame(), said


def _batch(args: argparse.Namespace, net: Any) -> tuple[Any, str]:
    from mednet.planning.batch import WhatIf, batch_inputs, run_batch

    if not args.what_ifs:
        raise InvalidRequest("--what-ifs", None, "is needed: a JSON list of what-ifs",
                             rule_zh="缺少情景文件 --what-ifs")
    try:
        raw = json.loads(Path(args.what_ifs).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise InvalidRequest("--what-ifs", args.what_ifs, f"must be a JSON list ({err})") from None
    if not isinstance(raw, list) or not all(isinstance(w, dict) and isinstance(w.get("name"), str) for w in raw):
        raise InvalidRequest("--what-ifs", args.what_ifs, "must be a JSON list of objects with a name")
    what_ifs = []
    for w in raw:
        try:
            what_ifs.append(WhatIf(name=w["name"], open=tuple(tuple(x) for x in w.get("open", ())),
                                   close=tuple(tuple(x) for x in w.get("close", ())),
                                   close_sites=tuple(w.get("close_sites", ())),
                                   speed_factor=float(w.get("speed_factor", 1.0))))
        except (TypeError, ValueError) as err:
            raise InvalidRequest("--what-ifs", w.get("name"), f"has a malformed field ({err})") from None
    inputs = batch_inputs(net, _people(args, net), specialties=args.specialty, **_limit(args))
    result = run_batch(inputs, what_ifs, executor=args.scheduler, workers=args.workers, G=net)
    return result.frame(), f"{len(what_ifs)} 个情景，{result.executor}"


def _draw(args: argparse.Namespace, net: Any, people: Any, *, covered: Any = None, fixed: tuple[str, ...] = (),
          new: tuple[str, ...] = (), title: str = "") -> None:
    if args.map:
        from mednet.planning.offline import draw_plan_html

        args.drawn = draw_plan_html(net, lat=people.lat, lon=people.lon, people=people.people, names=people.names,
                                    covered=covered, fixed=fixed, new=new, title=title)


ACTION_RUNNERS = {"population": _population, "access": _access, "locate": _locate, "flows": _flows, "batch": _batch}


def _emit(args: argparse.Namespace, frame: Any, said: str) -> int:
    if args.format == "geojson":
        text = _geojson(frame)
    elif args.format == "json":
        text = json.dumps({"said": said, "rows": json.loads(frame.to_json(orient="records", force_ascii=False))},
                          ensure_ascii=False, indent=1)
    else:
        shown = frame
        if args.lang == "zh":  # yes/no columns read 是/否, headers in Chinese
            flags = [c for c in frame.columns if frame[c].dtype == bool]
            yes_no = {c: frame[c].map({True: "是", False: "否"}) for c in flags}
            shown = frame.assign(**yes_no).rename(columns=HEADERS_ZH)
        text = shown.to_csv(index=False) if args.format == "csv" else said + "\n" + shown.to_string(index=False)
    files: dict[Path, Any] = {}
    if args.output:
        files[Path(args.output)] = lambda tmp: Path(tmp).write_text(text, encoding="utf-8")
    if args.drawn is not None:
        from mednet.planning.offline import save_offline

        files[Path(args.map)] = lambda tmp: save_offline(args.drawn, tmp)
    write_files(files)
    write_stdout(said if args.output else text)
    return 0


def _geojson(frame: Any) -> str:
    """Demand points as a GeoJSON FeatureCollection (every other column a property; NaN/inf as null)."""
    features = []
    for record in frame.to_dict(orient="records"):
        lat, lon = record.pop("lat"), record.pop("lon")
        props = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                         "properties": props})
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


__all__ = ["ACTIONS", "register", "run"]

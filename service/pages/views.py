"""The desk's screens: pick a region, route a referral, see coverage gaps (read-only), and the static files.

Forms submit with GET, so every answer has an address a clerk can keep or
send; the page works without its script (which only adds name completion
and picking the patient's home on the map).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.datastructures import QueryParams

from mednet.coverage import CoverageReport, find_coverage_gaps
from mednet.errors import (
    InvalidCoordinates,
    MednetError,
    NotAuthenticated,
    UnknownCommunity,
    UnknownInstitution,
    UnknownSpecialty,
)
from mednet.geo import check_lat_lon
from mednet.routing import CST, DIRECTION_ZH, Point, Referral
from mednet.specialties import SPECIALTIES, resolve_specialty
from service.deps import ServedRegion, find_region, served_regions
from service.pages.html import PACKAGE, render
from service.pages.plannerplan import parse_k, planner_plan
from service.pages.refer import refer_form
from service.pages.regionmap import RegionDrawing, draw_region
from service.pages.session import desk_key, reads_need_key
from service.pages.wording import DeskProblem, explain_error, session_zh
from service.routers.institutions import list_institutions

router = APIRouter(prefix="/desk", include_in_schema=False)
#: The service's root: a browser is sent to the desk page; an API client is told where things are.
root = APIRouter(include_in_schema=False)
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".svg": "image/svg+xml"}


@lru_cache(maxsize=1)
def static_files() -> dict[str, Path]:
    """The files the page may load, by name (anything else is 404: no paths from the request reach the disk)."""
    folder = Path(str(PACKAGE / "static"))
    return {p.name: p for p in folder.iterdir() if p.suffix in STATIC_TYPES}


@lru_cache(maxsize=16)
def drawing(served: ServedRegion) -> RegionDrawing:
    """The region's map geometry, drawn once per loaded region."""
    return draw_region(served.region)


def sign_in_first(request: Request) -> HTMLResponse | None:
    """With ``MEDNET_READS_NEED_KEY=1``, the sign-in page (401) for a request without a live key; else None."""
    if not reads_need_key(request):
        return None
    return render(request, "signin.html", status=401, who=None, next=request.url.path,
                  problem=explain_error(NotAuthenticated("this service needs an API key for reads")))


@root.get("/")
def service_root(request: Request) -> Response:
    """``/``: a browser (it asks for HTML) goes to the desk page; any other client gets where to look, as JSON."""
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/desk/", status_code=303)
    return Response('{"desk": "/desk/", "docs": "/docs", "openapi": "/openapi.json"}', media_type="application/json")


@router.get("/static/{name}")
async def static(name: str) -> Response:
    path = static_files().get(name)
    if path is None:
        return Response("not found", status_code=404, media_type="text/plain; charset=utf-8")
    return FileResponse(path, media_type=STATIC_TYPES[path.suffix], headers={"Cache-Control": "no-cache"})


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def choose_region(request: Request) -> HTMLResponse:
    """Every region served, with links to its route screen and planner view."""
    return sign_in_first(request) or render(request, "index.html",
                                            regions=[s.region for s in served_regions(request).values()])


def region_or_page(request: Request, region: str) -> ServedRegion | HTMLResponse:
    """The region; or the sign-in page when reads need a key and none is signed in; or the page saying the
    region is unknown (with the closest ids as links)."""
    if (sign_in := sign_in_first(request)) is not None:
        return sign_in
    try:
        return find_region(request, region)
    except MednetError as err:
        problem = explain_error(err, field="region")
        return render(request, "index.html", status=404, problem=problem,
                      regions=[s.region for s in served_regions(request).values()])


@router.get("/{region}", response_class=HTMLResponse)
async def region_home(region: str) -> RedirectResponse:
    return RedirectResponse(f"/desk/{region}/route", status_code=307)


@router.get("/{region}/names")
async def complete_names(request: Request, region: str, q: str = "") -> Response:
    """Name completion for the page's script: the directory's ``q`` search (ten best), with the page's sign-in
    (the cookie is sent to ``/desk`` only)."""
    if reads_need_key(request):
        return Response('{"items": []}', status_code=401, media_type="application/json")
    try:
        served = find_region(request, region)
    except MednetError:
        return Response('{"items": []}', status_code=404, media_type="application/json")
    q = q.strip()[:100]
    if not q:
        return Response('{"items": []}', media_type="application/json")
    page = await list_institutions(served, q=q, limit=10)
    return Response(page.model_dump_json(include={"items": {"__all__": {"institution": {"name", "aliases",
                                                                                         "county"}}}}),
                    media_type="application/json")


# ---------------------------------------------------------------------------- route screen


@dataclass
class RouteForm:
    """The route form as typed, and what was wrong with it (field -> Chinese sentence)."""

    origin_kind: str = "institution"
    origin: str = ""
    lat: str = ""
    lon: str = ""
    specialty: str = ""
    direction: str = "up"
    when: str = ""
    home: str = ""
    max_km: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_query(cls, query: QueryParams) -> RouteForm:
        form = cls()
        for name in cls.__dataclass_fields__:
            if name != "errors" and (value := query.get(name, "").strip()):
                setattr(form, name, value)
        if form.origin_kind not in ("institution", "point"):
            form.origin_kind = "institution"
        if form.direction not in DIRECTION_ZH:
            form.errors["direction"] = "转诊方向须为上转、急诊或下转。"
        return form

    @property
    def submitted(self) -> bool:
        return bool(self.origin or self.lat or self.lon or self.specialty)

    def number(self, name: str, words: str) -> float | None:
        text = getattr(self, name).replace("，", ",")
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            self.errors[name] = f"{words}须为数字，收到“{text}”。"
            return None
        if not math.isfinite(value):
            self.errors[name] = f"{words}须为有限的数字，收到“{text}”。"
            return None
        return value

    def request(self) -> dict[str, Any] | None:
        """The router's arguments, or None when the form has errors of its own."""
        if self.origin_kind == "point":
            lat, lon = self.number("lat", "纬度"), self.number("lon", "经度")
            origin: str | Point | None = None
            if self.errors:
                pass
            elif lat is None or lon is None:
                self.errors["lat"] = "请在地图上点选患者住址，或填写纬度和经度（如 29.05 和 118.40）。"
            else:
                try:
                    checked_lat, checked_lon = check_lat_lon(lat=lat, lon=lon)
                    origin = Point(lat=checked_lat, lon=checked_lon)
                except InvalidCoordinates as err:
                    self.errors["lat"] = explain_error(err).message
        else:
            origin = self.origin or None
            if origin is None:
                self.errors["origin"] = "请填写出发机构（名称、简称或编号），或选择“患者住址”并在地图上点选。"
        max_km = self.number("max_km", "距离上限")
        if max_km is not None and max_km <= 0:
            self.errors["max_km"] = "距离上限须为大于 0 的公里数。"
        when = None
        if self.when:
            try:
                when = dt.datetime.fromisoformat(self.when)
            except ValueError:
                self.errors["when"] = f"就诊时间须为日期和时间，如 2026-03-02T09:00，收到“{self.when}”。"
            else:
                when = when if when.tzinfo else when.replace(tzinfo=CST)
        if self.errors:
            return None
        return {"origin": origin, "specialty": self.specialty or None, "direction": self.direction,
                "home": self.home or None, "max_km": max_km, "when": when, "alternatives": 5}


@dataclass(frozen=True)
class Shown:
    """A routed referral with what the page adds: sessions in Chinese, the destination's schedule."""

    referral: Referral
    schedule: list[str]
    sources: list[str]


def route_problem(served: ServedRegion, err: MednetError, form: RouteForm) -> DeskProblem:
    """The page's words for a routing error, on the field at fault."""
    if isinstance(err, UnknownInstitution | InvalidCoordinates):
        problem = explain_error(err, field="origin" if form.origin_kind == "institution" else "lat")
    elif isinstance(err, UnknownCommunity):
        problem = explain_error(err, field="home")
    elif isinstance(err, UnknownSpecialty):
        problem = explain_error(err, field="specialty")
    else:
        problem = explain_error(err)
    if problem.field == "origin" and "ambiguous" in problem.detail:  # offer each institution the name denotes
        ids = served.G.graph["names"].get(form.origin.casefold(), ())
        problem = DeskProblem("origin", problem.message, tuple(served.institutions[i].name for i in ids),
                              problem.detail)
    return replace(problem, suggestions=names_of(served, problem.suggestions))


def names_of(served: ServedRegion, suggestions: tuple[str, ...]) -> tuple[str, ...]:
    """Suggestions as names a clerk reads: an institution's or a community's id becomes its name (once each)."""
    communities = served.G.graph.get("communities", {})
    named = []
    for s in suggestions:
        if s in served.institutions:
            s = served.institutions[s].name
        elif s in communities:
            s = communities[s].name
        named.append(s)
    return tuple(dict.fromkeys(named))


def institution_sources(served: ServedRegion, inst_id: str, specialty: str) -> list[str]:
    """The titles of the sources of what the page says of an institution: itself, its location, its capability
    for the specialty and its contact details."""
    inst = served.institutions[inst_id]
    keys = {inst.source, inst.location.source, *(c.source for c in inst.capabilities if c.specialty == specialty)}
    if inst.contact is not None:
        keys |= {d.source for _, d in inst.contact.items()}
    return [served.region.sources[k].title if k in served.region.sources else k for k in sorted(keys)]


def show(served: ServedRegion, referral: Referral) -> Shown:
    """The destination's sessions for the specialty, in Chinese, and the sources of its facts."""
    inst = served.institutions[referral.destination.id]
    schedule = []
    for cap in inst.capabilities:
        if cap.specialty != referral.specialty.code:
            continue
        for s in cap.sessions:
            provider = served.institutions.get(s.provider or "")
            schedule.append(session_zh(weekday=s.weekday, part=s.part, every_weeks=s.every_weeks,
                                       provider=provider.name if provider else None))
    return Shown(referral, schedule, institution_sources(served, inst.id, referral.specialty.code))


def route_overlay(draw: RegionDrawing, referral: Referral | None, picked: tuple[float, float] | None) -> dict:
    """What the map draws over the region for an answer: the path, its ends, the alternatives, the point."""
    overlay: dict[str, Any] = {"path": "", "origin": None, "destination": None, "alternatives": [], "point": None}
    if picked is not None:
        overlay["point"] = draw.xy(lat=picked[0], lon=picked[1])
    if referral is None:
        return overlay
    ids = [referral.path[0].from_id, *(h.to_id for h in referral.path)] if referral.path else [referral.origin.id]
    nodes = [n for n in (draw.node(i) for i in ids) if n is not None]
    overlay["path"] = " ".join(f"{n.x},{n.y}" for n in nodes)
    overlay["origin"] = draw.node(referral.origin.id)
    overlay["destination"] = draw.node(referral.destination.id)
    overlay["alternatives"] = [n for a in referral.alternatives if (n := draw.node(a.institution.id))]
    return overlay


@router.get("/{region}/route", response_class=HTMLResponse)
def route_screen(request: Request, region: str) -> HTMLResponse:
    """The clerk's screen: the form, and when it was sent, the answer or what was wrong."""
    served = region_or_page(request, region)
    if isinstance(served, HTMLResponse):
        return served
    return route_page(request, served, request.query_params)


def route_page(request: Request, served: ServedRegion, query: QueryParams, **refer: Any) -> HTMLResponse:
    """The route screen for ``query``; ``refer`` carries a refused referral form back to it (its values, its
    errors and the status to answer with)."""
    form = RouteForm.from_query(query)
    answer: Shown | None = None
    problem: DeskProblem | None = None
    status = 200
    arguments = form.request() if form.submitted else None
    if arguments is not None:
        try:
            answer = show(served, served.router.route(**arguments))
        except MednetError as err:
            problem = route_problem(served, err, form)
            status = 409 if problem.field is None else 422
    elif form.errors:
        status = 422
    if problem is not None and problem.field is not None:
        form.errors.setdefault(problem.field, problem.message)
    draw = drawing(served)
    picked = None
    if form.origin_kind == "point" and "lat" not in form.errors and "lon" not in form.errors and form.lat:
        picked = (float(form.lat), float(form.lon))
    who = refer.pop("who", None) or desk_key(request)
    resumed = refer.pop("resumed", False)
    duplicates = refer.pop("duplicates", [])
    return render(
        request, "route.html", status=refer.pop("status", status), served=served, form=form, answer=answer,
        problem=problem, specialties=SPECIALTIES, draw=draw, who=who, query=query, resumed=resumed,
        duplicates=duplicates,
        overlay=route_overlay(draw, answer.referral if answer else None, picked),
        refer=refer_form(who, served, form, answer.referral if answer else None, **refer),
    )


# ---------------------------------------------------------------------------- planner view


@dataclass(frozen=True)
class CoverageRow:
    """One township or community centre: how far the specialty is, and from where."""

    id: str
    name: str
    county: str
    community: str
    distance_km: float | None
    minutes: float | None
    nearest: str
    gap: bool


def coverage_rows(served: ServedRegion, report: CoverageReport) -> list[CoverageRow]:
    """Every demand point of the report's one specialty, gaps first, farthest first."""
    net, G = report.network, served.G
    communities = G.graph.get("communities", {})
    rows = []
    for d, inst_id in enumerate(report.demand_ids):
        km = float(report.distance_km[d, 0])
        near = int(report.nearest_row[d, 0])
        home = int(net.home[report.demand_rows[d]])
        com = communities.get(net.community_ids[home]) if home >= 0 else None
        reachable = math.isfinite(km)
        rows.append(CoverageRow(
            id=inst_id, name=G.nodes[inst_id]["name"], county=G.nodes[inst_id]["county"],
            community=com.name if com else "", distance_km=round(km, 3) if reachable else None,
            minutes=round(float(report.minutes[d, 0]), 1) if reachable else None,
            nearest=G.nodes[net.ids[near]]["name"] if near >= 0 else "", gap=bool(report.gap[d, 0]),
        ))
    rows.sort(key=lambda r: (not r.gap, -(r.distance_km if r.distance_km is not None else math.inf)))
    return rows


def planner_request(request: Request) -> tuple[str, str, dict[str, str], Any, float | None]:
    """The planner form: specialty and distance, and the errors of its own (Chinese)."""
    query = request.query_params
    specialty = query.get("specialty", "").strip() or "儿科"
    max_km_text = query.get("max_km", "").strip() or "30"
    errors: dict[str, str] = {}
    code = None
    try:
        code = resolve_specialty(specialty)
    except UnknownSpecialty as err:
        problem = explain_error(err, field="specialty")
        errors["specialty"] = problem.message
        errors["_suggestions"] = " ".join(problem.suggestions)
    max_km = None
    try:
        max_km = float(max_km_text)
        if not (math.isfinite(max_km) and max_km > 0):
            raise ValueError
    except ValueError:
        errors["max_km"] = f"距离须为大于 0 的公里数，收到“{max_km_text}”。"
        max_km = None
    return specialty, max_km_text, errors, code, max_km


@router.get("/{region}/planner", response_class=HTMLResponse)
def planner_screen(request: Request, region: str) -> HTMLResponse:
    """Read-only: which centres are farther than the distance from the specialty; the table and the map."""
    served = region_or_page(request, region)
    if isinstance(served, HTMLResponse):
        return served
    specialty, max_km_text, errors, spec, max_km = planner_request(request)
    k, k_error = parse_k(request.query_params.get("k", ""))  # people and new sites: service/pages/plannerplan.py
    if k_error:
        errors["k"] = k_error
    rows: list[CoverageRow] = []
    summary = plan = None
    if not errors:
        report = find_coverage_gaps(served.network, specialties=[spec.code], max_km=max_km)
        rows = coverage_rows(served, report)
        summary = report.summary[0]
        plan = planner_plan(served.network, spec.code, max_km or 0.0, k or 0)
    draw = drawing(served)
    capable = set()
    if spec is not None:
        capable = {i.id for i in served.region.institutions if i.capability(spec.code)}
    gaps = [(draw.node(r.id), r) for r in rows if r.gap]
    return render(
        request, "planner.html", status=422 if errors else 200, served=served, specialty=specialty,
        max_km=max_km_text, errors=errors, rows=rows, summary=summary, spec=spec, draw=draw,
        capable=capable, gaps=gaps, specialties=SPECIALTIES, query=request.query_params, plan=plan,
        k=request.query_params.get("k", "0"),
    )


@router.get("/{region}/planner.csv")
def planner_csv(request: Request, region: str) -> Response:
    """The planner's table as CSV (UTF-8 with a byte-order mark, so that spreadsheet programs read Chinese)."""
    served = region_or_page(request, region)
    if isinstance(served, HTMLResponse):
        return served
    _, _, errors, spec, max_km = planner_request(request)
    if errors:
        text = "；".join(v for k, v in errors.items() if not k.startswith("_"))
        return Response(text, status_code=422, media_type="text/plain; charset=utf-8")
    rows = coverage_rows(served, find_coverage_gaps(served.network, specialties=[spec.code], max_km=max_km))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["institution_id", "名称", "县区", "医共体", "专科", "距离_km", "时间_分钟", "最近的有能力机构",
                     f"超过{max_km:g}公里"])
    for r in rows:
        writer.writerow([r.id, r.name, r.county, r.community, spec.label_zh,
                         "" if r.distance_km is None else f"{r.distance_km:.3f}",
                         "" if r.minutes is None else f"{r.minutes:.1f}", r.nearest, "是" if r.gap else "否"])
    name = f"coverage-{served.region.id}-{spec.code}-{max_km:g}km.csv"
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})

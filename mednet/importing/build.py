"""Tables to a region: :func:`import_tables` (pandas DataFrames) and :func:`import_files` (CSV/XLSX).

Every sheet's rows are read by :mod:`mednet.importing.rows`; the region is
assembled, links the tables do not give are added (:mod:`mednet.importing.links`),
and :func:`mednet.validate.validate_membership` checks it. Every unusable
cell, and every validation error that makes the data ambiguous
(:data:`BLOCKING`), is reported at once as a
:class:`~mednet.errors.TableImportError`, each with its file, sheet, row,
column, value and rule. Nothing is returned (so nothing written) then.

    >>> import pandas as pd
    >>> region = import_tables({
    ...     "机构": pd.DataFrame({"名称": ["湖镇镇卫生院", "龙游县县级医院（占位）"], "层级": ["C210", "A100"],
    ...                          "区县": ["龙游县", "龙游县"], "乡镇街道": ["湖镇", None]}),
    ...     "成员": pd.DataFrame({"医共体": ["示例医共体"] * 2, "机构": ["龙游县县级医院（占位）", "湖镇"],
    ...                          "角色": ["牵头医院", "分院"]}),
    ... }, file="example.xlsx", region_id="example")
    >>> [i.township for i in region.institutions], region.communities[0].lead == region.institutions[1].id
    (['湖镇镇', None], True)
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from mednet.errors import TableImportError
from mednet.importing.cells import Collector, Row
from mednet.importing.links import membership_links, neighbour_links, pair_key
from mednet.importing.rows import (
    COMMUNITY_KINDS,
    PLACES_SOURCE,
    Context,
    make_id,
    read_capability,
    read_contact,
    read_institution,
    read_link,
    read_membership,
    read_roster_entry,
    read_session,
    read_sources,
    read_travel,
    row_names,
)
from mednet.importing.tables import Table, frames_to_tables, read_files, table_rows
from mednet.models import (
    Capability,
    Community,
    Contact,
    CoveredCounty,
    Institution,
    Link,
    LinkKind,
    Region,
    Role,
    Roster,
    Source,
)
from mednet.places import ADCODE_SOURCE, find_county, find_township
from mednet.validate import Problem, validate_membership

#: Validation errors that stop an import: the tables contradict themselves or place something wrongly.
#: Other rules (a community without a lead, a centre in no community, …) are for ``mednet validate``.
BLOCKING = ("duplicate-id", "duplicate-name", "multiple-communities", "partner-as-lead", "lead-tier",
            "session-provider", "point-outside-county", "unknown-id")
#: Key of the source that links added by import cite.
IMPORT_RULE = "mednet-import"


def import_source(road_factor: float) -> Source:
    return Source(title="Links mednet import adds", publisher="mednet", note=(
        "Each branch not linked to its lead gets a 分院—牵头医院 link to it, each collaborator or alliance member "
        "linked to no member a 协作 or 专科联盟 link to the lead. When the tables give no links, each institution is "
        "also linked to its 4 nearest others within 30 km (mednet.geo.neighbour_pairs) where no link joins them. "
        f"Distances: great-circle km (within 0.5 % of the geodesic) x road factor {road_factor:g}, floored at 1 km."))


def import_files(paths: Iterable[str | os.PathLike[str]], *, region_id: str | None = None,
                 name: str | None = None) -> Region:
    """A region from XLSX workbooks, CSV files or folders of them (see :func:`import_tables`)."""
    return _import(read_files(paths), region_id=region_id, name=name)


def import_tables(frames: Mapping[str, pd.DataFrame], *, file: str = "tables", region_id: str | None = None,
                  name: str | None = None) -> Region:
    """A region from DataFrames keyed by sheet name (Chinese or English); ``file`` names them in problems."""
    return _import(frames_to_tables(frames, file=file), region_id=region_id, name=name)


def _import(tables: list[Table], *, region_id: str | None, name: str | None) -> Region:
    problems = Collector()
    rows = table_rows(tables, problems)
    if "institutions" not in rows and not any(p.rule == "required-column" for p in problems.problems):
        files = sorted({t.file for t in tables}) or ["(no tables)"]
        problems.add(file=", ".join(files), sheet="", rule="required-sheet",
                     message="no 机构 institutions sheet (or institutions.csv) with at least one row")
    ctx = Context(sources=read_sources(rows.get("sources", [])))
    meta = _region_fields(rows.get("region", []), problems, region_id=region_id, name=name, tables=tables)
    counties = _counties(rows.get("counties", []), ctx)
    institutions = _institutions(rows.get("institutions", []), ctx)
    _population(rows.get("population", []), ctx, institutions)
    _contacts(rows.get("contacts", []), ctx, institutions)
    _capabilities(rows.get("capabilities", []), rows.get("sessions", []), ctx, institutions)
    communities, member_rows = _communities(rows.get("communities", []), rows.get("members", []), ctx, institutions)
    ordered = list(institutions.values())
    links = _links(rows.get("links", []), rows.get("travel", []), ctx, ordered, communities, meta["road_factor"])
    rosters = _rosters(rows.get("rosters", []), ctx, communities)
    sources = dict(ctx.sources)
    for key in sorted(ctx.used_sources - set(sources)):
        if key.startswith("file:"):
            sources[key] = Source(title=key.removeprefix("file:"), publisher="the planner",
                                  note="the table mednet import read: facts its rows give without naming a source")
        elif key == PLACES_SOURCE:
            sources[key] = ADCODE_SOURCE
        elif key == IMPORT_RULE:
            sources[key] = import_source(meta["road_factor"])
        elif problems:
            sources[key] = Source(title="(unknown source, reported)")
    region = Region(**meta, sources=sources, covered_counties=counties, institutions=tuple(ordered),
                    communities=tuple(communities.values()), links=tuple(links), rosters=tuple(rosters))
    for problem in validate_membership(region).errors:
        if problem.code in BLOCKING:
            _report(problem, ctx, member_rows, problems, region)
    if problems:
        raise TableImportError(sorted(problems.problems, key=lambda p: (p.file, p.sheet, p.row or 0)))
    return region


def _region_fields(rows: list[Row], problems: Collector, *, region_id: str | None, name: str | None,
                   tables: list[Table]) -> dict[str, Any]:
    row = rows[0] if rows else None
    for extra in rows[1:]:
        extra.problem(None, "region-rows", "the 区域 region sheet has one row; this one is extra")
    value = (lambda key: row.text(key)) if row else (lambda key: None)
    meta: dict[str, Any] = {"id": region_id or value("id"), "name": name or value("name") or region_id or value("id"),
            "description": value("description"), "road_factor": 1.3, "speed_kmh": 40.0, "booking_days": 7}
    if row:
        for key, low, high in (("road_factor", 1.0, 3.0), ("speed_kmh", 0.0, 200.0)):
            number = row.number(key, minimum=low, exclusive=key == "speed_kmh")
            if number is not None and number > high:
                row.problem(key, "number", f"must be <= {high:g}")
            elif number is not None:
                meta[key] = number
        days = row.integer("booking_days", minimum=0)
        meta["booking_days"] = days if days is not None else 7
    if not meta["id"] or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:-]*", meta["id"]):
        where = dict(row.place("id")) if row else {"file": ", ".join(sorted({t.file for t in tables})), "sheet": "区域"}
        problems.add(**where, rule="region-id", message="the region needs an id of letters, digits, '_', '.', ':' "
                                                         "or '-' (give --id, or fill the 区域 region sheet)")
        meta["id"] = "invalid"
    meta["name"] = meta["name"] or meta["id"]
    return meta


def _counties(rows: list[Row], ctx: Context) -> tuple[CoveredCounty, ...]:
    counties = []
    for row in rows:
        seat = row.parse("name", find_county, "unknown-county") if row.required("name") else None
        code = row.text("code")
        if seat is not None and code is not None and code != seat.county_code:
            row.problem("code", "county-code", f"{seat.name} has the code {seat.county_code}")
        source = ctx.source(row)
        if seat is not None:
            counties.append(CoveredCounty(name=seat.name, code=seat.county_code, source=source))
    return tuple(counties)


def _institutions(rows: list[Row], ctx: Context) -> dict[str, Institution]:
    institutions: dict[str, Institution] = {}
    for row in rows:
        inst = read_institution(row, ctx)
        if inst is None:
            ctx.unusable |= row_names(row)
            continue
        key = inst.id
        if key in institutions:
            if row.text("id"):  # two rows give one id
                row.problem("id", "duplicate-id", f"row {ctx.rows[key].row} has the same id")
                continue
            key = f"{inst.id}-{row.row}"  # a derived id: keep both rows, let the name rule speak
            inst = replace_id(inst, key)
        institutions[key] = inst
        ctx.rows[key] = row
    ctx.institutions = list(institutions.values())
    return institutions


def replace_id(inst: Institution, new_id: str) -> Institution:
    return inst.model_copy(update={"id": new_id})


def _population(rows: list[Row], ctx: Context, institutions: dict[str, Institution]) -> None:
    for row in rows:
        people = row.integer("population", minimum=0)
        targets = [ctx.resolve(row, "institution")] if row.text("institution") else _centres_of(row, institutions)
        for node in targets:
            if node is not None and people is not None:
                institutions[node] = institutions[node].model_copy(update={"population": people})


def _centres_of(row: Row, institutions: dict[str, Institution]) -> list[str]:
    """The township or community centres serving the row's county and township."""
    seat = row.parse("county", find_county, "unknown-county") if row.required("county") else None
    if seat is None or not row.required("township"):
        return []
    code = seat.county_code
    town = row.parse("township", lambda text: find_township(code, text), "unknown-township")
    if town is None:
        return []
    found = [i.id for i in institutions.values()
             if i.county == seat.name and i.township == town.name and i.tier.is_primary_care]
    if not found:
        row.problem("township", "no-centre", f"no township or community centre serves {town.name}")
    return found


def _contacts(rows: list[Row], ctx: Context, institutions: dict[str, Institution]) -> None:
    for row in rows:
        found = read_contact(row, ctx)
        if found is None:
            continue
        node, kind, detail = found
        contact = institutions[node].contact or Contact()
        if getattr(contact, kind) is not None:
            row.problem("kind", "contact-twice", f"{institutions[node].name} already has a {kind}")
            continue
        institutions[node] = institutions[node].model_copy(
            update={"contact": Contact(**{**dict(contact.items()), kind: detail})})


def _capabilities(cap_rows: list[Row], session_rows: list[Row], ctx: Context,
                  institutions: dict[str, Institution]) -> None:
    listed: dict[str, dict[str, Capability]] = {}
    for row in cap_rows:
        listing = read_capability(row, ctx)
        if listing is None:
            continue
        node, cap = listing
        if cap.specialty in listed.setdefault(node, {}):
            row.problem("specialty", "duplicate-capability", f"{institutions[node].name} already lists {cap.specialty}")
            continue
        listed[node][cap.specialty] = cap
    for row in session_rows:
        found = read_session(row, ctx)
        if found is None:
            continue
        host, code, session = found
        caps = listed.setdefault(host, {})
        given = next((c for c in institutions[host].capabilities if c.specialty == code), None)
        cap = caps.get(code) or given or Capability(specialty=code, source=ctx.source(row), note=row.text("note"))
        caps[code] = cap.model_copy(update={"sessions": (*cap.sessions, session)})
    for node, caps in listed.items():
        inst = institutions[node]
        merged = {**caps, **{c.specialty: c for c in inst.capabilities if c.specialty not in caps}}
        institutions[node] = inst.model_copy(update={"capabilities": tuple(merged.values())})


def _communities(
    com_rows: list[Row], member_rows: list[Row], ctx: Context, institutions: dict[str, Institution],
) -> tuple[dict[str, Community], dict[tuple[str, str], Row]]:
    declared: dict[str, dict[str, Any]] = {}
    for row in com_rows:
        name = row.required("name")
        kind = row.parse("kind", lambda v: COMMUNITY_KINDS[v.casefold()], "community-kind")
        published, source = row.date("published"), ctx.source(row)
        if name is None:
            continue
        com_id = row.text("id") or make_id("c", name)
        if any(name == d["name"] or com_id == d["id"] for d in declared.values()):
            row.problem("name", "duplicate-community", "another row declares this community")
            continue
        declared[com_id] = {"id": com_id, "name": name, "kind": kind or "county", "counties": row.items("counties"),
                            "published": published, "source": source, "note": row.text("note"), "members": []}
    by_text = {k: d for d in declared.values() for k in (d["id"], d["name"])}
    rows_of: dict[tuple[str, str], Row] = {}
    for row in member_rows:
        found = read_membership(row, ctx)
        if found is None:
            continue
        text, member = found
        com = by_text.get(text)
        if com is None:
            com = {"id": make_id("c", text), "name": text, "kind": "county", "counties": (), "published": None,
                   "source": member.source, "members": [],
                   "note": "created from the 成员 members sheet: no 医共体 row; counties are its members'"}
            declared[com["id"]] = by_text[text] = com
        if any(m.institution == member.institution for m in com["members"]):
            row.problem("institution", "duplicate-member", f"already a member of {com['name']}")
            continue
        com["members"].append(member)
        rows_of[(com["id"], member.institution)] = row
    communities = {}
    for com in declared.values():
        counties = com["counties"] or tuple(dict.fromkeys(
            institutions[m.institution].county for m in com["members"] if m.role in (Role.LEAD, Role.BRANCH)))
        communities[com["id"]] = Community(
            id=com["id"], name=com["name"], kind=com["kind"], counties=counties or ("-",),
            members=tuple(com["members"]), published=com["published"], source=com["source"], note=com["note"])
    return communities, rows_of


def _links(link_rows: list[Row], travel_rows: list[Row], ctx: Context, institutions: list[Institution],
           communities: dict[str, Community], road_factor: float) -> list[Link]:
    """The links sheet, the links import adds (members to leads; neighbours when the sheet gives none), then the
    travel sheet's road distances and times on the links they name (or new road links)."""
    links = [link for row in link_rows if (link := read_link(row, ctx)) is not None]
    by_id = {i.id: i for i in institutions}
    links += membership_links(communities.values(), by_id, links, road_factor=road_factor, source=IMPORT_RULE,
                              great_circle=True)
    if not link_rows:
        links += neighbour_links(institutions, links, road_factor=road_factor, source=IMPORT_RULE, great_circle=True)
    for row in travel_rows:
        found = read_travel(row, ctx)
        if found is None:
            continue
        a, b, km, minutes, source, note = found
        at = next((i for i, link in enumerate(links) if pair_key(link.a, link.b) == pair_key(a, b)), None)
        if at is None:
            if km is None:
                row.problem("distance_km", "required", "no link joins these two: give the road distance")
                continue
            links.append(Link(a=a, b=b, kind=LinkKind.NEIGHBOUR, distance_km=km, distance_basis="road",
                              minutes=minutes, source=source, note=note or "a road connection the travel table gives"))
            continue
        old = links[at]
        told = f"road distance and time from source {source}" + (f" ({note})" if note else "")
        kept = old.note.split("; distance is")[0] if old.note and km is not None else old.note
        update = {"minutes": minutes, "source": source, "note": f"{kept}; {told}" if kept else told}
        if km is not None:
            update.update(distance_km=km, distance_basis="road")
        links[at] = old.model_copy(update=update)
    if any(link.source == IMPORT_RULE for link in links):
        ctx.used_sources.add(IMPORT_RULE)
    return links


def _rosters(rows: list[Row], ctx: Context, communities: dict[str, Community]) -> list[Roster]:
    groups: dict[tuple, dict] = {}
    names = {k: c.id for c in communities.values() for k in (c.id, c.name)}
    for row in rows:
        found = read_roster_entry(row, ctx)
        if found is None:
            continue
        (text, published, source), entry, fields = found
        com = names.get(text)
        if com is None:
            row.problem("community", "unknown-community", "no community has this id or name")
            continue
        group = groups.setdefault((com, published, source), {"entries": [], "unnamed": None, "unnamed_tier": None,
                                                            "note": None})
        if entry is not None:
            group["entries"].append(entry)
        for key, value in fields.items():
            if value is not None and group[key] is None:
                group[key] = value
    return [Roster(community=com, published=published, source=source, entries=tuple(g["entries"]),
                   unnamed=g["unnamed"] or 0, unnamed_tier=g["unnamed_tier"], note=g["note"])
            for (com, published, source), g in groups.items()]


def _report(problem: Problem, ctx: Context, member_rows: dict[tuple[str, str], Row], problems: Collector,
            region: Region) -> None:
    """A validation error, placed at the row (and cell) that made it."""
    if problem.code in ("duplicate-name", "duplicate-id"):
        ids = problem.message.rsplit(": ", 1)[-1].split(", ") if problem.code == "duplicate-name" else \
            [problem.institution]
        rows = sorted((ctx.rows[i] for i in ids if i in ctx.rows), key=lambda r: r.row)
        for row in rows[1:] or rows:
            row.problem("name", problem.code, f"{problem.message} (first in row {rows[0].row})")
        return
    if problem.code == "multiple-communities":
        rows = sorted((r for (c, i), r in member_rows.items() if i == problem.institution), key=lambda r: r.row)
        for row in rows[1:]:
            row.problem("community", problem.code, problem.message)
        return
    member = member_rows.get((problem.community, problem.institution or "")) if problem.community else None
    if member is not None:
        member.problem("role" if problem.code in ("lead-tier", "partner-as-lead") else "institution", problem.code,
                       problem.message)
        return
    own = ctx.rows.get(problem.institution or "")
    if own is not None:
        own.problem("lat" if problem.code == "point-outside-county" else "name", problem.code, problem.message)
        return
    problems.add(file=region.id, sheet="", rule=problem.code, message=problem.message)


__all__ = ["BLOCKING", "IMPORT_RULE", "import_files", "import_tables"]

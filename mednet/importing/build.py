"""Tables to a region: :func:`import_files` (workbooks, CSV), :func:`import_tables` (pandas DataFrames) and
:func:`build_region` (tables already read).

Every sheet's rows are read by :mod:`mednet.importing.rows`, every point
placed at once (:mod:`mednet.importing.points`); the region is assembled,
links the tables do not give are added (:mod:`mednet.importing.links`), and
:func:`mednet.validate.validate_membership` checks it, rows with unusable
cells included (as stand-ins: a row whose phone is bad still has a name).
Every unusable cell, and every error the validation finds, placed at the
row and cell that cause it, is reported at once as a
:class:`~mednet.errors.TableImportError` (with the run's warnings and
notes): an import either gives a region that validates with no error, or
nothing. Warnings and notes of a run that succeeds go to the ``problems``
collector when one is given.

    >>> import pandas as pd
    >>> region = import_tables({
    ...     "机构": pd.DataFrame({"名称": ["湖镇镇卫生院", "龙游县县级医院（占位）"], "层级": ["C210", "A100"],
    ...                          "区县": ["龙游县", "龙游县"], "乡镇街道": ["湖镇", None],
    ...                          "所属医共体": ["示例医共体"] * 2, "医共体角色": ["成员单位", "牵头单位"]}),
    ... }, file="example.xlsx", region_id="example")
    >>> [i.township for i in region.institutions], region.communities[0].lead == region.institutions[1].id
    (['湖镇镇', None], True)
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mednet.errors import TableImportError, closest_names
from mednet.importing.cells import Row
from mednet.importing.links import membership_links, neighbour_links, pair_key
from mednet.importing.points import place_points
from mednet.importing.problems import Collector
from mednet.importing.rows import (
    COMMUNITY_KINDS,
    PLACES_SOURCE,
    ROLES,
    Context,
    Draft,
    NotRouted,
    draft_institution,
    finish_institution,
    make_id,
    read_capability,
    read_contact,
    read_link,
    read_membership,
    read_roster_entry,
    read_session,
    read_sources,
    read_travel,
    row_names,
    skipped_category,
)
from mednet.importing.tables import Table, clean_name, frames_to_tables, read_files, table_rows
from mednet.models import (
    Capability,
    Community,
    Contact,
    CoveredCounty,
    Institution,
    Link,
    LinkKind,
    Membership,
    Region,
    Registry,
    Role,
    Roster,
    Source,
)
from mednet.places import ADCODE_SOURCE, find_county, find_township
from mednet.specialties import NATIONAL_SUBJECTS, SUBJECTS_SOURCE, SUBJECTS_SOURCE_TITLE
from mednet.validate import Problem, validate_membership

#: Key of the source that links added by import cite.
IMPORT_RULE = "mednet-import"
#: Validation codes that a row with an unusable field cannot be judged by (its stand-in lacks that field, or a
#: membership of it could not be read).
NEEDS = {"lead-tier": {"tier"}, "orphan-primary-care": {"tier", "membership"}, "session-provider": {"tier"},
         "member-outside-county": {"county"}, "point-outside-county": {"point"},
         "unreachable-member": {"point", "membership"}, "multiple-communities": {"membership"}}
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
#: Names a note lists before it counts the rest.
NAMES_SHOWN = 10


def import_source(road_factor: float) -> Source:
    return Source(title="Links mednet import adds", publisher="mednet", note=(
        "Each branch not linked to its lead gets a 分院—牵头医院 link to it, each collaborator or alliance member "
        "linked to no member a 协作 or 专科联盟 link to the lead. When the tables give no links, each institution is "
        "also linked to its 4 nearest others within 30 km (mednet.geo.neighbour_pairs) where no link joins them. "
        f"Distances: great-circle km (within 0.5 % of the geodesic) x road factor {road_factor:g}, floored at 1 km."))


@dataclass(frozen=True)
class ImportOptions:
    """How to read a region's tables.

    ``region_id`` and ``name`` override the 区域 sheet; ``file_name`` is the region file the import will be
    written to: its stem is the id when none is given, and an id that differs from it is refused (a region
    file's name is its id). ``strict_columns`` refuses columns the sheets do not declare; ``keep_categories``
    refuses, instead of skipping, rows of those WS 218 categories mednet does not model.
    """

    region_id: str | None = None
    name: str | None = None
    file_name: str | None = None
    strict_columns: bool = False
    keep_categories: frozenset[str] = field(default_factory=frozenset)


def import_files(paths: Iterable[str | os.PathLike[str]], *, problems: Collector | None = None,
                 **options: Any) -> Region:
    """A region from workbooks, CSV files or folders of them (options: :class:`ImportOptions`)."""
    return build_region(read_files(paths), problems=problems, options=_options(options))


def import_tables(frames: Mapping[str, Any], *, file: str = "tables", problems: Collector | None = None,
                  **options: Any) -> Region:
    """A region from DataFrames keyed by sheet name (Chinese or English); ``file`` names them in problems."""
    return build_region(frames_to_tables(frames, file=file), problems=problems, options=_options(options))


def _options(options: Mapping[str, Any]) -> ImportOptions:
    given = dict(options)
    given["keep_categories"] = frozenset(c.strip().upper() for c in given.get("keep_categories") or ())
    return ImportOptions(**given)


def build_region(tables: list[Table], *, problems: Collector | None = None,
                 options: ImportOptions | None = None) -> Region:
    """The region of tables read by :func:`~mednet.importing.tables.read_files`; raises
    :class:`~mednet.errors.TableImportError` with every problem when any is an error."""
    options = options or ImportOptions()
    problems = Collector() if problems is None else problems
    rows = table_rows(tables, problems, strict_columns=options.strict_columns)
    if not rows.get("institutions") and not any(p.sheet and p.rule in ("required-column", "header-row")
                                                for p in problems.problems):
        files = ", ".join(sorted({t.file for t in tables})) or "(no tables)"
        problems.error("required-sheet", "no 机构 institutions sheet (or institutions.csv) with at least one row",
                       "没有至少有一行数据的“机构”表（或 institutions.csv）", file=files, sheet="")
    ctx = Context(sources=read_sources(rows.get("sources", [])))
    meta = _region_fields(rows.get("region", []), problems, options=options, tables=tables)
    counties = _counties(rows.get("counties", []), ctx)
    institutions, inline, skipped = _institutions(rows.get("institutions", []), ctx, options.keep_categories)
    _population(rows.get("population", []), ctx, institutions)
    _contacts(rows.get("contacts", []), ctx, institutions)
    sessions = _capabilities(rows.get("capabilities", []), rows.get("sessions", []), ctx, institutions)
    communities, places = _communities(rows.get("communities", []), rows.get("members", []), inline, ctx,
                                       institutions)
    ordered = list(institutions.values())
    links = _links(rows.get("links", []), rows.get("travel", []), ctx, ordered, communities, meta["road_factor"])
    rosters, roster_rows = _rosters(rows.get("rosters", []), ctx, communities)
    _notes(ctx, problems, rows.get("institutions", []), skipped)
    region = Region(**meta, sources=_sources(ctx, meta, problems), covered_counties=counties,
                    institutions=tuple(ordered), communities=tuple(communities.values()), links=tuple(links),
                    rosters=tuple(rosters))
    placed = Placing(ctx, places, sessions, roster_rows, problems, region)
    for problem in validate_membership(region).errors:
        placed.report(problem)
    if problems:
        raise TableImportError(problems.sorted())
    return region


def _sources(ctx: Context, meta: dict[str, Any], problems: Collector) -> dict[str, Source]:
    sources = dict(ctx.sources)
    for key in sorted(ctx.used_sources - set(sources)):
        if key.startswith("file:"):
            sources[key] = Source(title=key.removeprefix("file:"), publisher="the planner",
                                  note="the table mednet import read: facts its rows give without naming a source")
        elif key == PLACES_SOURCE:
            sources[key] = ADCODE_SOURCE
        elif key == IMPORT_RULE:
            sources[key] = import_source(meta["road_factor"])
        elif key == SUBJECTS_SOURCE:
            sources[key] = Source(title=SUBJECTS_SOURCE_TITLE, publisher="卫生部",
                                  note="the codes and names of 诊疗科目 the registry lists that no mednet specialty "
                                  "routes (registry.other_subjects), as mednet.specialties.NATIONAL_SUBJECTS holds "
                                  "them")
        elif problems:
            sources[key] = Source(title="(unknown source, reported)")
    return sources


def _region_fields(rows: list[Row], problems: Collector, *, options: ImportOptions,
                   tables: list[Table]) -> dict[str, Any]:
    row = rows[0] if rows else None
    for extra in rows[1:]:
        extra.error(None, "region-rows", "the 区域 region sheet has one row; this one is extra",
                    "“区域”表只有一行，这一行是多余的")
    value = (lambda key: row.text(key)) if row else (lambda key: None)
    from_file = Path(options.file_name).stem if options.file_name else None
    region_id = options.region_id or value("id") or from_file
    meta: dict[str, Any] = {"id": region_id, "name": options.name or value("name") or region_id,
                            "description": value("description"), "road_factor": 1.3, "speed_kmh": 40.0,
                            "booking_days": 7}
    if row:
        for key, low, high in (("road_factor", 1.0, 3.0), ("speed_kmh", 0.0, 200.0)):
            number = row.number(key, minimum=low, exclusive=key == "speed_kmh")
            if number is not None and number > high:
                row.error(key, "number", f"must be <= {high:g}", f"必须小于或等于 {high:g}")
            elif number is not None:
                meta[key] = number
        days = row.integer("booking_days", minimum=0)
        meta["booking_days"] = days if days is not None else 7
    where = (dict(row.place("id")) if row and row.has("id") else
             {"file": ", ".join(sorted({t.file for t in tables})), "sheet": "区域"})
    if not meta["id"] or not ID_PATTERN.fullmatch(meta["id"]):
        problems.error("region-id", "the region needs an id of letters, digits, '_', '.', ':' or '-' (give --id, "
                       "fill the 区域 region sheet, or name the output file after it)",
                       "区域需要由字母、数字和 _ . : - 组成的编号（用 --id 给出，填在“区域”表中，"
                       "或以它命名输出文件）", **where)
        meta["id"] = "invalid"
    elif from_file is not None and meta["id"] != from_file:
        problems.error("file-name-id", f"the region's id is {meta['id']!r} but it would be written to "
                       f"{Path(options.file_name or '').name}: a region file's name is its id (write it to "
                       f"{meta['id']}.json, or change the id)",
                       f"区域编号是“{meta['id']}”，却要写入 {Path(options.file_name or '').name}："
                       "区域文件名须与编号一致"
                       f"（请写入 {meta['id']}.json，或修改编号）", **where)
    meta["name"] = meta["name"] or meta["id"]
    return meta


def _counties(rows: list[Row], ctx: Context) -> tuple[CoveredCounty, ...]:
    counties = []
    for row in rows:
        seat = row.parse("name", find_county, "unknown-county") if row.required("name") else None
        code = row.normal("code")
        if seat is not None and code is not None and code != seat.county_code:
            row.error("code", "county-code", f"{seat.name} has the code {seat.county_code}",
                      f"{seat.name}的区划代码是 {seat.county_code}")
        source = ctx.source(row)
        if seat is not None:
            counties.append(CoveredCounty(name=seat.name, code=seat.county_code, source=source))
    return tuple(counties)


def _institutions(rows: list[Row], ctx: Context, keep: frozenset[str]
                  ) -> tuple[dict[str, Institution], list[tuple[Row, str, str, str]], Counter[tuple[str, str]]]:
    """The institutions by id (stand-ins for unusable rows with a name), the memberships the sheet carries
    (row, institution id, community as written, role), and how many rows of each category were skipped."""
    drafts: list[Draft] = []
    skipped: Counter[tuple[str, str]] = Counter()
    for row in rows:
        category = skipped_category(row, ctx, keep)
        if category is not None:
            skipped[category] += 1
            continue
        draft = draft_institution(row, ctx)
        if draft is not None:
            drafts.append(draft)
        else:
            ctx.unusable |= row_names(row)
    place_points(drafts, ctx)
    institutions: dict[str, Institution] = {}
    inline: list[tuple[Row, str, str, str]] = []
    for draft in drafts:
        (inst, unread), row = finish_institution(draft), draft.row
        key = inst.id
        if key in institutions:
            if row.text("id"):  # two rows give one id
                row.error("id", "duplicate-id", f"row {ctx.rows[key].row} has the same id",
                          f"与第 {ctx.rows[key].row} 行的编号相同")
                continue
            key = f"{inst.id}-{row.row}"  # a derived id: keep both rows, let the name rule speak
            inst = inst.model_copy(update={"id": key})
        if draft.membership is None and row.text("community"):  # a membership it gives, unusable (reported)
            unread.add("membership")
        if unread:
            ctx.standins[key] = unread
        institutions[key] = inst
        ctx.rows[key] = row
        if draft.membership is not None:
            inline.append((row, key, *draft.membership))
    ctx.institutions = list(institutions.values())
    return institutions, inline, skipped


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
        row.error("township", "no-centre", f"no township or community centre serves {town.name}",
                  f"没有服务{town.name}的乡镇卫生院或社区卫生服务中心")
    return found


def _contacts(rows: list[Row], ctx: Context, institutions: dict[str, Institution]) -> None:
    for row in rows:
        found = read_contact(row, ctx)
        if found is None:
            continue
        node, kind, detail = found
        contact = institutions[node].contact or Contact()
        if getattr(contact, kind) is not None:
            row.error("kind", "contact-twice", f"{institutions[node].name} already has a {kind}",
                      f"{institutions[node].name}已有这一项联系方式")
            continue
        institutions[node] = institutions[node].model_copy(
            update={"contact": Contact(**{**dict(contact.items()), kind: detail})})


def _capabilities(cap_rows: list[Row], session_rows: list[Row], ctx: Context,
                  institutions: dict[str, Institution]) -> dict[str, list[tuple[Row, str | None]]]:
    """Capabilities and sessions onto the institutions; the sessions rows by host (with the provider)."""
    listed: dict[str, dict[str, Capability]] = {}
    for row in cap_rows:
        listing = read_capability(row, ctx)
        if listing is None:
            continue
        if isinstance(listing, NotRouted):  # a 诊疗科目 no specialty routes: a registry fact
            _add_other_subject(institutions, listing.institution, listing.code)
            continue
        node, cap = listing
        if cap.specialty in listed.setdefault(node, {}):
            row.error("specialty", "duplicate-capability", f"{institutions[node].name} already lists {cap.specialty}",
                      f"{institutions[node].name}已列出这一专科")
            continue
        listed[node][cap.specialty] = cap
    by_host: dict[str, list[tuple[Row, str | None]]] = defaultdict(list)
    for row in session_rows:
        found = read_session(row, ctx)
        if found is None:
            continue
        host, code, session = found
        by_host[host].append((row, session.provider))
        caps = listed.setdefault(host, {})
        given = next((c for c in institutions[host].capabilities if c.specialty == code), None)
        cap = caps.get(code) or given or Capability(specialty=code, source=ctx.source(row), note=row.text("note"))
        caps[code] = cap.model_copy(update={"sessions": (*cap.sessions, session)})
    for node, caps in listed.items():
        inst = institutions[node]
        merged = {**caps, **{c.specialty: c for c in inst.capabilities if c.specialty not in caps}}
        institutions[node] = inst.model_copy(update={"capabilities": tuple(merged.values())})
    return by_host


def _add_other_subject(institutions: dict[str, Institution], node: str, code: str) -> None:
    inst = institutions[node]
    registry = inst.registry or Registry(source=inst.source)
    if code not in registry.other_subjects:
        registry = registry.model_copy(update={"other_subjects": (*registry.other_subjects, code)})
    institutions[node] = inst.model_copy(update={"registry": registry})


@dataclass
class MemberPlace:
    """Where a membership was given: its row, and the columns of its community, institution and role."""

    row: Row
    community: str
    institution: str
    role: str


def _communities(
    com_rows: list[Row], member_rows: list[Row], inline: list[tuple[Row, str, str, str]], ctx: Context,
    institutions: dict[str, Institution],
) -> tuple[dict[str, Community], dict[str, Any]]:
    """The communities and where each fact stands (``places``: community rows, member places, communities whose
    rows were unusable)."""
    declared: dict[str, dict[str, Any]] = {}
    com_row_of: dict[str, Row] = {}
    for row in com_rows:
        name = row.required("name")
        kind = row.choice("kind", COMMUNITY_KINDS, rule="community-kind")
        published, source = row.date("published"), ctx.source(row)
        if name is None:
            continue
        com_id = row.text("id") or make_id("c", name)
        if any(name == d["name"] or com_id == d["id"] for d in declared.values()):
            row.error("name", "duplicate-community", "another row declares this community", "已有另一行列出这个医共体")
            continue
        declared[com_id] = {"id": com_id, "name": name, "kind": kind or "county", "counties": row.items("counties"),
                            "published": published, "source": source, "note": row.text("note"), "members": []}
        com_row_of[com_id] = row
    listed = bool(declared)
    by_text = {k.casefold(): d for d in declared.values() for k in (d["id"], d["name"])}
    member_places: dict[tuple[str, str], MemberPlace] = {}
    incomplete: set[str] = set()  # communities a membership row could not be read for
    given: list[tuple[str, Membership, MemberPlace]] = []
    for row in member_rows:
        found = read_membership(row, ctx)
        if found is None:
            if row.text("community"):
                incomplete.add(row.text("community") or "")
            for node in ctx.index().get(clean_name(row.text("institution") or "").casefold(), ()):
                ctx.standins.setdefault(node, set()).add("membership")
            continue
        text, member = found
        given.append((text, member, MemberPlace(row, "community", "institution", "role")))
    unroled = 0
    for row, node, text, role in inline:
        if not role:
            unroled += 1
        member = Membership(institution=node, role=Role(role or "branch"), source=institutions[node].source)
        given.append((text, member, MemberPlace(row, "community", "name", "community_role")))
    if unroled:
        first = inline[0][0]
        first.problems.note("role", f"{unroled} rows name a community (所属医共体) without a role (医共体角色): read "
                            "as 成员单位 (branch)",
                            f"{unroled} 行写了所属医共体而没有医共体角色：按成员单位（分院）读取",
                            file=first.file, sheet=first.sheet)
    created: dict[str, MemberPlace] = {}
    for text, member, place in given:
        com = by_text.get(text.casefold())
        if com is None and listed:
            hint = closest_names(text, [d["name"] for d in declared.values()], n=1)
            place.row.error(place.community, "unknown-community", "no community of the 医共体 communities sheet has "
                            "this name" + (f"; did you mean {hint[0]!r}?" if hint else ""),
                            "“医共体”表中没有这个医共体"
                            + (f"；是否为“{hint[0]}”？" if hint else "：请先在“医共体”表中列出"))
            incomplete.add(text)
            continue
        if com is None:
            com = {"id": make_id("c", text), "name": text, "kind": "county", "counties": (), "published": None,
                   "source": member.source, "members": [],
                   "note": "named by its members' rows: no 医共体 row; counties are its members'"}
            declared[com["id"]] = by_text[text.casefold()] = com
            created[com["id"]] = place
        clash = next((m for m in com["members"] if m.institution == member.institution), None)
        if clash is not None:
            if clash.role != member.role:
                place.row.error(place.role, "duplicate-member", f"already a member of {com['name']} as "
                                f"{clash.role.label_zh}", f"已是“{com['name']}”的{clash.role.label_zh}")
            continue
        com["members"].append(member)
        member_places[(com["id"], member.institution)] = place
    if created:
        first = next(iter(created.values())).row
        shown = [declared[c]["name"] for c in created][:NAMES_SHOWN]
        more = len(created) - len(shown)
        names = "、".join(shown) + (f" 等 {len(created)} 个" if more else "")
        first.problems.note("community-created", f"{len(created)} communities named by their members (no 医共体 "
                            f"sheet): {', '.join(shown)}" + (f" and {more} more" if more else ""),
                            f"没有“医共体”表：按成员所写生成了 {len(created)} 个医共体：{names}", file=first.file,
                            sheet=first.sheet)
    communities = {}
    for com in declared.values():
        counties = com["counties"] or tuple(dict.fromkeys(
            institutions[m.institution].county for m in com["members"] if m.role in (Role.LEAD, Role.BRANCH)
            and "county" not in ctx.standins.get(m.institution, ())))
        communities[com["id"]] = Community(
            id=com["id"], name=com["name"], kind=com["kind"], counties=counties or ("-",),
            members=tuple(com["members"]), published=com["published"], source=com["source"], note=com["note"])
    incomplete_ids = {c["id"] for t in incomplete if (c := by_text.get(t.casefold()))}
    return communities, {"rows": com_row_of, "members": member_places, "incomplete": incomplete_ids,
                         "created": created}


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
                row.error("distance_km", "required", "no link joins these two: give the road distance",
                          "这两个机构之间没有连接：请填写道路距离")
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


def _rosters(rows: list[Row], ctx: Context, communities: dict[str, Community]
             ) -> tuple[list[Roster], dict[tuple[str, str], Row]]:
    groups: dict[tuple, dict] = {}
    names = {k: c.id for c in communities.values() for k in (c.id, c.name)}
    entry_rows: dict[tuple[str, str], Row] = {}
    for row in rows:
        found = read_roster_entry(row, ctx)
        if found is None:
            continue
        (text, published, source), entry, fields = found
        com = names.get(text)
        if com is None:
            row.error("community", "unknown-community", "no community has this id or name",
                      "没有这个编号或名称的医共体")
            continue
        group = groups.setdefault((com, published, source), {"entries": [], "unnamed": None, "unnamed_tier": None,
                                                            "note": None})
        if entry is not None:
            group["entries"].append(entry)
            entry_rows[(com, entry.institution or entry.text)] = row
        entry_rows.setdefault((com, ""), row)
        for key, value in fields.items():
            if value is not None and group[key] is None:
                group[key] = value
    rosters = [Roster(community=com, published=published, source=source, entries=tuple(g["entries"]),
                      unnamed=g["unnamed"] or 0, unnamed_tier=g["unnamed_tier"], note=g["note"])
               for (com, published, source), g in groups.items()]
    return rosters, entry_rows


def _notes(ctx: Context, problems: Collector, rows: list[Row], skipped: Counter[tuple[str, str]]) -> None:
    """What the import set aside, said once: rows of categories it does not model, 诊疗科目 it does not route."""
    first = rows[0] if rows else None
    if first is None:
        return
    place = {"file": first.file, "sheet": first.sheet}
    for (code, label), n in sorted(skipped.items()):
        problems.note("skipped-category", f"{n} rows of {label} ({code}) skipped: mednet does not model this category "
                      f"(--keep-category {code} refuses them instead)",
                      f"已跳过 {n} 行{label}（{code}）：mednet 不纳入这一机构类别"
                      f"（加 --keep-category {code} 则改为报错）",
                      **place)
    if ctx.not_routed:
        listed = ", ".join(f"{c} {NATIONAL_SUBJECTS.get(c, '')} ({n})" for c, n in sorted(ctx.not_routed.items()))
        listed_zh = "、".join(f"{c} {NATIONAL_SUBJECTS.get(c, '')}（{n} 处）"
                             for c, n in sorted(ctx.not_routed.items()))
        problems.note("not-routed", f"诊疗科目 no mednet specialty routes, kept as registry facts: {listed}",
                      f"以下诊疗科目不参与转诊，作为登记信息保留：{listed_zh}", **place)
        ctx.used_sources.add(SUBJECTS_SOURCE)


@dataclass
class Placing:
    """Puts each validation error at the row (and cell) that causes it."""

    ctx: Context
    places: dict[str, Any]
    sessions: dict[str, list[tuple[Row, str | None]]]
    rosters: dict[tuple[str, str], Row]
    problems: Collector
    region: Region

    def report(self, problem: Problem) -> None:
        if self._judged_without(problem):
            return
        en, zh = problem.message, problem.message_zh or problem.message
        code = problem.code
        if code in ("duplicate-name", "duplicate-id"):
            self._duplicates(problem)
        elif code in ("multiple-communities", "lead-tier", "partner-as-lead", "member-outside-county",
                      "unreachable-member"):
            self._membership(problem)
        elif code == "lead-count":
            self._lead_count(problem)
        elif code == "session-provider":
            for row, provider in self.sessions.get(problem.institution or "", []):
                if provider == problem.other:
                    row.error("provider", code, en, zh)
        elif code.startswith("roster-"):
            key = (problem.community or "", problem.institution or "")
            at = self.rosters.get(key) or self.rosters.get((problem.community or "", ""))
            self._at(at, "institution" if code != "roster-extra" else "community", problem)
        elif problem.institution in self.ctx.rows:
            column = {"point-outside-county": "lat", "orphan-primary-care": "community"}.get(code, "name")
            row = self.ctx.rows[problem.institution or ""]
            self._at(row, column if row.has(column) else "name", problem)
        else:
            self.problems.error(code, en, zh, file=self.region.id, sheet="")

    def _judged_without(self, problem: Problem) -> bool:
        """Whether the problem rests on a field a stand-in lacks, or on a membership row that was unusable."""
        needed = NEEDS.get(problem.code)
        for node in (problem.institution, problem.other):
            unread = self.ctx.standins.get(node or "", set())
            if needed and needed & unread:
                return True
        return problem.code == "lead-count" and problem.community in self.places["incomplete"]

    def _at(self, row: Row | None, column: str, problem: Problem) -> None:
        if row is None:
            self.problems.error(problem.code, problem.message, problem.message_zh or problem.message,
                                file=self.region.id, sheet="")
        else:
            row.error(column, problem.code, problem.message, problem.message_zh or problem.message)

    def _duplicates(self, problem: Problem) -> None:
        rows_of = self.ctx.rows
        if problem.code == "duplicate-id":
            rows = sorted((r for r in (rows_of.get(problem.institution or ""),) if r), key=lambda r: r.row)
            for row in rows:
                row.error("id", problem.code, problem.message, problem.message_zh or problem.message)
            return
        by_id = {i.id: i for i in self.region.institutions}
        a, b = by_id.get(problem.institution or ""), by_id.get(problem.other or "")
        if a is None or b is None:
            return
        names = lambda inst: {n.strip().casefold(): n for n in (inst.name, *inst.aliases)}  # noqa: E731
        shared = sorted(set(names(a)) & set(names(b)))
        if not shared:
            return
        name = names(a)[shared[0]]
        holders = [i for i in self.region.institutions if shared[0] in names(i)]
        rows = sorted((rows_of[i.id] for i in holders if i.id in rows_of), key=lambda r: (r.sheet, r.row))
        first = rows[0]
        for row in rows[1:]:
            column = "name" if clean_name(row.text("name") or "").casefold() == shared[0] or not row.has("aliases") \
                else "aliases"
            row.error(column, problem.code, f"the name or alias {name!r} is also row {first.row}'s: each institution "
                      "needs its own (rename one of them, or merge the rows)",
                      f"名称或简称“{name}”与第 {first.row} 行的机构相同：每个机构的名称须唯一（请改名，或合并这两行）")

    def _membership(self, problem: Problem) -> None:
        members: dict[tuple[str, str], MemberPlace] = self.places["members"]
        node = problem.institution or ""
        if problem.code == "multiple-communities":
            found = sorted((p for (c, i), p in members.items() if i == node),  # the institution's own row first
                           key=lambda p: (p.institution != "name", p.row.sheet, p.row.row))
            for place in found[1:]:
                place.row.error(place.community, problem.code, problem.message, problem.message_zh or "")
            return
        given = members.get((problem.community or "", node))
        if given is None:
            self._at(self.ctx.rows.get(node), "name", problem)
            return
        place = given
        column = {"lead-tier": place.role, "partner-as-lead": place.role, "member-outside-county": place.community,
                  "unreachable-member": place.institution}[problem.code]
        place.row.error(column, problem.code, problem.message, problem.message_zh or "")

    def _lead_count(self, problem: Problem) -> None:
        com = problem.community or ""
        members: dict[tuple[str, str], MemberPlace] = self.places["members"]
        leads = sorted((p for (c, i), p in members.items() if c == com and p.row.cells.get(p.role) is not None
                        and ROLES.get((p.row.text(p.role) or "").casefold()) == "lead"),
                       key=lambda p: (p.row.sheet, p.row.row))
        if len(leads) > 1:
            for place in leads[1:]:
                place.row.error(place.role, problem.code, f"{problem.message} (first in row {leads[0].row.row})",
                                f"{problem.message_zh}（第一家在第 {leads[0].row.row} 行）")
            return
        row = self.places["rows"].get(com)
        if row is not None:
            row.error("name", problem.code, problem.message, problem.message_zh or "")
            return
        mine = sorted((p for (c, i), p in members.items() if c == com), key=lambda p: (p.row.sheet, p.row.row))
        if mine:
            mine[0].row.error(mine[0].role, problem.code, problem.message + ": mark its lead (牵头单位) in the role "
                              "column", (problem.message_zh or "") + "：请在角色列标明牵头单位")
        else:
            self.problems.error(problem.code, problem.message, problem.message_zh or "", file=self.region.id,
                                sheet="")


__all__ = ["IMPORT_RULE", "ImportOptions", "build_region", "import_files", "import_source", "import_tables"]

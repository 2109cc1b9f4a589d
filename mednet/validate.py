"""Membership validation: structural rules, published rosters, geography.

``validate_membership`` collects every problem, then returns one immutable
report; each problem has a stable ``code``, a ``severity`` and a message
naming the institutions involved.

    >>> from mednet.regions import load_region
    >>> report = validate_membership(load_region("quzhou"))
    >>> report.ok, [c.member_count for c in report.communities]
    (True, [16, 7, 13, 9, 10, 7])

Rules (code — severity — meaning):

=============================  ========  ==================================================
file-name-id                   error     a region file's name differs from the id inside it
unknown-id                     error     a membership, link or roster names no institution
duplicate-id                   error     two institutions share an id
duplicate-name                 error     two institutions share a name or alias
lead-count                     error     a community has no lead, or more than one
lead-tier                      error     a lead is not a hospital
multiple-communities           error     an institution is lead/branch of two communities
partner-as-lead                error     a collaborator or alliance member leads a community
member-outside-county          error     a branch stands outside its community's counties
orphan-primary-care            error     a township/community centre of a covered county is in no community
unreachable-member             error     a member has no path of links to its lead
session-provider               error     a visiting session's provider is unknown or not of a higher tier than its host
point-outside-county           error     a point lies outside its county (how far; a lat/lon swap suggested only
                                         when swapping puts it inside)
roster-missing                 error     a published member is not in the community
roster-extra                   error     a community member is not in its published roster
roster-moved                   error     a published member sits in another community
roster-alias                   error     a roster name is not a name or alias of the institution it resolves to
roster-unnamed                 warning   the source counts members it does not name
township-without-centre        warning   an official township of a covered county has no centre in the data
township-not-official          warning   a centre's township is not in the official 2016 list
branch-nearer-other-lead       warning   a branch is much nearer another community's lead than its own
session-never-in-window        warning   a session's day is not published and the booking window is shorter than its
                                         cycle: it is only ever offered as an alternative, marked
inferred-data                  warning   facts inferred rather than published (counted per kind)
=============================  ========  ==================================================
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Literal

import networkx as nx
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from mednet.errors import UnknownRegion
from mednet.geo import haversine_km
from mednet.models import Institution, Region, Role
from mednet.places import county_seat, county_townships

Severity = Literal["error", "warning"]

#: A point farther than this from every official township point of its county is outside it.
OUTSIDE_COUNTY_KM = 15.0
#: A branch is "much nearer" another lead when nearer by this factor and by at least NEARER_MIN_KM.
NEARER_FACTOR, NEARER_MIN_KM = 0.5, 5.0
#: Branches compared with every lead at once (bounds the memory of the distance block).
BLOCK = 2048


class Problem(BaseModel):
    """One finding of the validator."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    severity: Severity
    message: str
    message_zh: str | None = None
    institution: str | None = None
    community: str | None = None
    other: str | None = Field(None, description="the second institution or community involved: a session's "
                              "provider, the second lead, the other community, the other holder of a name")

    def text(self, lang: str = "zh") -> str:
        """The message in ``lang`` (Chinese by default)."""
        return self.message_zh or self.message if lang == "zh" else self.message


class CommunitySummary(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    lead: str | None
    lead_name: str | None
    member_count: int
    partners: tuple[str, ...] = ()
    partner_names: tuple[str, ...] = ()


class ValidationReport(BaseModel):
    """All problems found in a region, and a summary of its communities."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str
    communities: tuple[CommunitySummary, ...]
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings do not count)."""
        return not self.errors

    def codes(self, severity: Severity | None = None) -> set[str]:
        return {p.code for p in self.problems if severity in (None, p.severity)}

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, indent=1)


def validate_membership(region: Region, *, file: str | os.PathLike[str] | None = None) -> ValidationReport:
    """Check a region's communities against the rules and its published rosters; with the ``file`` it was read
    from, also that the file's name is the region's id."""
    names = {i.id: i.name for i in region.institutions}
    problems = [
        *_file_name(region, file),
        *_identity(region),
        *_structure(region, names),
        *_rosters(region, names),
        *_geography(region, names),
        *_sessions(region),
        *_inferred(region),
    ]
    return ValidationReport(region=region.id, communities=summarize_communities(region), problems=tuple(problems))


def _file_name(region: Region, file: str | os.PathLike[str] | None) -> Iterator[Problem]:
    if file is not None and Path(file).stem != region.id:
        name, stem = Path(file).name, Path(file).stem
        yield _error("file-name-id", f"the file {name} holds region {region.id!r}: a region file's name and its id "
                     f"must agree (rename it {region.id}.json, or set its id to {stem!r})",
                     f"文件 {name} 中是区域“{region.id}”：区域文件名须与其编号一致"
                     f"（改名为 {region.id}.json，或把编号改为“{stem}”）")


def _label(names: dict[str, str], node: str) -> str:
    """An institution as messages name it: by its name (its id only when it has none)."""
    return names.get(node, repr(node))


def _error(code: str, message: str, message_zh: str, *, institution: str | None = None,
           community: str | None = None, other: str | None = None) -> Problem:
    return Problem(code=code, severity="error", message=message, message_zh=message_zh, institution=institution,
                   community=community, other=other)


def _warning(code: str, message: str, message_zh: str, *, institution: str | None = None,
             community: str | None = None, other: str | None = None) -> Problem:
    return Problem(code=code, severity="warning", message=message, message_zh=message_zh, institution=institution,
                   community=community, other=other)


def _identity(region: Region) -> Iterator[Problem]:
    known = {i.id for i in region.institutions}
    by_id = {i.id: i for i in region.institutions}
    for node, n in Counter(i.id for i in region.institutions).items():
        if n > 1:
            yield _error("duplicate-id", f"{n} institutions share the id {node!r}", f"{n} 个机构共用编号“{node}”",
                         institution=node)
    holders: dict[str, set[str]] = defaultdict(set)
    for inst in region.institutions:
        for name in {inst.name, *inst.aliases}:
            holders[name.strip().casefold()].add(inst.id)
    for name, ids in holders.items():
        if len(ids) > 1:
            listed = sorted(ids)
            said = "; ".join(f"{by_id[i].name}, a {by_id[i].tier.label_zh} in {by_id[i].county} ({i})" for i in listed)
            said_zh = "；".join(f"{by_id[i].county}的{by_id[i].tier.label_zh}{by_id[i].name}（{i}）" for i in listed)
            yield _error("duplicate-name", f"the name or alias {name!r} is used by {len(ids)} institutions: {said}",
                         f"名称或简称“{name}”被 {len(ids)} 个机构使用：{said_zh}",
                         institution=listed[0], other=listed[1])
    communities = {c.id: c.name for c in region.communities}
    for com in region.communities:
        for m in com.members:
            if m.institution not in known:
                yield _error("unknown-id", f"community {com.name} lists unknown institution {m.institution!r} as "
                             f"{m.role.value}",
                             f"医共体“{com.name}”的{m.role.label_zh}“{m.institution}”不是数据中的机构",
                             institution=m.institution, community=com.id)
    for i, link in enumerate(region.links):
        for end in (link.a, link.b):
            if end not in known:
                yield _error("unknown-id", f"links[{i}] ({link.kind.value}) joins unknown institution {end!r}",
                             f"第 {i + 1} 条连接（{link.kind.label_zh}）连到不在数据中的机构“{end}”", institution=end)
    for inst in region.institutions:
        for cap in inst.capabilities:
            for provider in {s.provider for s in cap.sessions if s.provider}:
                spec = _specialty_zh(cap.specialty)
                if provider not in by_id:
                    yield _error("unknown-id", f"a {cap.specialty} session at {inst.name} names unknown provider "
                                 f"{provider!r}", f"{inst.name}的{spec}出诊写的派出机构“{provider}”不在数据中",
                                 institution=provider)
                elif by_id[provider].tier.rank <= inst.tier.rank:
                    giver = by_id[provider]
                    yield _error("session-provider", f"the {cap.specialty} session at {inst.name} is provided by "
                                 f"{giver.name}, a {giver.tier.label_zh}, not of a higher tier than its host "
                                 f"({inst.tier.label_zh})", f"{inst.name}的{spec}出诊由{giver.name}（"
                                 f"{giver.tier.label_zh}）派出，派出机构的层级须高于本机构（{inst.tier.label_zh}）",
                                 institution=inst.id, other=provider)
    for roster in region.rosters:
        if roster.community not in communities:
            yield _error("unknown-id", f"a roster names unknown community {roster.community!r}",
                         f"名单写的医共体“{roster.community}”不在数据中", community=roster.community)
        for entry in roster.entries:
            if entry.institution is not None and entry.institution not in known:
                said = communities.get(roster.community, roster.community)
                yield _error("unknown-id", f"roster of {said} resolves {entry.text!r} to unknown institution "
                             f"{entry.institution!r}", f"“{said}”的名单把“{entry.text}”对应到不在数据中的机构"
                             f"“{entry.institution}”", institution=entry.institution, community=roster.community)


def _specialty_zh(code: str) -> str:
    from mednet.specialties import resolve_specialty

    try:
        return resolve_specialty(code).label_zh
    except KeyError:
        return code


def _sessions(region: Region) -> Iterator[Problem]:
    """Sessions that can never be known to fall in the region's booking window."""
    for inst in region.institutions:
        for cap in inst.capabilities:
            for session in cap.sessions:
                if not session.dates_known and region.booking_days < session.cycle_days:
                    yield _warning("session-never-in-window", f"the {cap.specialty} session at {inst.name} has no "
                                   f"published day and the region's {region.booking_days}-day booking window never "
                                   f"holds its whole {session.cycle_days}-day cycle: it is offered only as an "
                                   "alternative marked 'day not published'",
                                   f"{inst.name}的{_specialty_zh(cap.specialty)}出诊未公布日期，区域 "
                                   f"{region.booking_days} 天的预约期容不下它 {session.cycle_days} 天的周期：只作为标注"
                                   "“日期未公布”的备选", institution=inst.id)


def _structure(region: Region, names: dict[str, str]) -> Iterator[Problem]:
    by_id = {i.id: i for i in region.institutions}
    com_names = {c.id: c.name for c in region.communities}
    home: dict[str, list[str]] = defaultdict(list)
    partner_of: dict[str, list[str]] = defaultdict(list)
    led: dict[str, list[str]] = defaultdict(list)
    for com in region.communities:
        leads = com.leads
        if not leads:
            yield _error("lead-count", f"community {com.name} has no lead: it must have exactly one",
                         f"医共体“{com.name}”没有牵头医院：应有且只有一家", community=com.id)
        elif len(leads) > 1:
            found = ", ".join(_label(names, n) for n in leads)
            found_zh = "、".join(_label(names, n) for n in leads)
            yield _error("lead-count", f"community {com.name} must have exactly one lead, has {len(leads)}: {found}",
                         f"医共体“{com.name}”应有且只有一家牵头医院，现有 {len(leads)} 家：{found_zh}",
                         community=com.id, other=leads[1])
        for m in com.members:
            if m.role in (Role.LEAD, Role.BRANCH):
                home[m.institution].append(com.id)
            else:
                partner_of[m.institution].append(com.id)
            if m.role is Role.LEAD:
                led[m.institution].append(com.id)
            inst = by_id.get(m.institution)
            if inst is None:
                continue
            if m.role is Role.LEAD and not inst.tier.is_hospital:
                yield _error("lead-tier", f"{inst.name} leads {com.name} but is a {inst.tier.label_zh} "
                             f"({inst.tier.value}); a lead must be a hospital",
                             f"{inst.name}是“{com.name}”的牵头单位，但它是{inst.tier.label_zh}；牵头单位须为医院",
                             institution=inst.id, community=com.id)
            if m.role is Role.BRANCH and inst.county not in com.counties:
                yield _error("member-outside-county", f"branch {inst.name} stands in {inst.county}, outside "
                             f"{com.name}'s counties ({', '.join(com.counties)})",
                             f"分院{inst.name}位于{inst.county}，不在“{com.name}”覆盖的区县（{'、'.join(com.counties)}）内",
                             institution=inst.id, community=com.id)
    for node, coms in home.items():
        if len(coms) > 1:
            listed = ", ".join(com_names[c] for c in coms)
            yield _error("multiple-communities", f"{_label(names, node)} is lead or branch of {len(coms)} "
                         f"communities ({listed}); a branch belongs to exactly one",
                         f"{_label(names, node)}同时是 {len(coms)} 个医共体（{'、'.join(com_names[c] for c in coms)}）"
                         "的牵头单位或分院；每家只能属于一个医共体", institution=node, community=coms[1])
    for node, coms in led.items():
        if node in partner_of:
            lead_of = ", ".join(com_names[c] for c in coms)
            part_of = ", ".join(com_names[c] for c in partner_of[node])
            yield _error("partner-as-lead", f"{_label(names, node)} leads {lead_of} but takes part in {part_of} as a "
                         "collaborator or alliance, which never lead",
                         f"{_label(names, node)}牵头“{lead_of}”，又以协作单位或专科联盟身份参加“{part_of}”；协作单位和"
                         "专科联盟不能牵头", institution=node, community=partner_of[node][0])
    covered = {c.name for c in region.covered_counties}
    for inst in region.institutions:
        if inst.tier.is_primary_care and inst.county in covered and inst.id not in home:
            yield _error("orphan-primary-care", f"{inst.name} is a {inst.tier.label_zh} in covered county "
                         f"{inst.county} but belongs to no community",
                         f"{inst.name}是覆盖区县{inst.county}的{inst.tier.label_zh}，但不属于任何医共体",
                         institution=inst.id)
    G = nx.Graph()
    G.add_nodes_from(by_id)
    G.add_edges_from((link.a, link.b) for link in region.links if link.a in by_id and link.b in by_id)
    component = {node: k for k, nodes in enumerate(nx.connected_components(G)) for node in nodes}
    for com in region.communities:
        lead = com.lead
        if lead not in by_id:
            continue
        for m in com.members:
            if m.institution in by_id and component[m.institution] != component[lead]:
                yield _error("unreachable-member", f"{_label(names, m.institution)} ({m.role.value} of {com.name}) "
                             f"has no path of links to its lead {_label(names, lead)}",
                             f"{_label(names, m.institution)}（“{com.name}”的{m.role.label_zh}）与牵头医院"
                             f"{_label(names, lead)}之间没有连接路径", institution=m.institution, community=com.id)


def _rosters(region: Region, names: dict[str, str]) -> Iterator[Problem]:
    by_id = {i.id: i for i in region.institutions}
    home = {m.institution: com.id for com in region.communities for m in com.members
            if m.role in (Role.LEAD, Role.BRANCH)}
    communities = {c.id: c for c in region.communities}
    for roster in region.rosters:
        com = communities.get(roster.community)
        if com is None:
            continue
        published = set()
        for entry in roster.entries:
            node = entry.institution
            if node is None or node not in by_id:
                continue
            published.add(node)
            inst = by_id[node]
            if not _denotes(entry.text, inst.name, inst.aliases):
                yield _error("roster-alias", f"roster of {com.name} lists {entry.text!r}, resolved to {inst.name}, "
                             "which has no such name or alias",
                             f"“{com.name}”的名单写作“{entry.text}”，对应{inst.name}，但该机构没有这个名称或简称",
                             institution=node, community=com.id)
            if node not in com.ids(Role.LEAD, Role.BRANCH):
                if node in home:
                    other = communities[home[node]]
                    yield _error("roster-moved", f"{entry.text!r} ({inst.name}) is published in {com.name} but sits "
                                 f"in {other.name}", f"“{entry.text}”（{inst.name}）在“{com.name}”的公布名单中，却属于"
                                 f"“{other.name}”", institution=node, community=com.id, other=other.id)
                else:
                    yield _error("roster-missing", f"{entry.text!r} ({inst.name}) is published in {com.name} but is "
                                 "not one of its members", f"“{entry.text}”（{inst.name}）在“{com.name}”的公布名单中，"
                                 "但不是它的成员", institution=node, community=com.id)
        unnamed = roster.unnamed + sum(1 for e in roster.entries if e.institution is None)
        extra = [n for n in com.ids(Role.LEAD, Role.BRANCH) if n not in published and n in by_id]
        for node in extra[unnamed:] if unnamed else extra:
            yield _error("roster-extra", f"{_label(names, node)} is a member of {com.name} but not in its roster "
                         f"published {roster.published}", f"{_label(names, node)}是“{com.name}”的成员，但不在 "
                         f"{roster.published} 公布的名单中", institution=node, community=com.id)
        if unnamed:
            tier = f" {roster.unnamed_tier.label_zh}" if roster.unnamed_tier else ""
            yield _warning("roster-unnamed", f"the source counts {unnamed}{tier} member(s) of {com.name} it does "
                           "not name; they are not in the data", f"来源提到“{com.name}”有 {unnamed} 家{tier.strip()}"
                           "成员未写名称，数据中没有它们", community=com.id)


def _denotes(text: str, name: str, aliases: tuple[str, ...]) -> bool:
    """A roster name denotes an institution: its name, an alias, or a contextual short form.

    Articles shorten within a county's paragraph: "市人民医院" for 江山市人民医院.

    >>> _denotes("市人民医院", "江山市人民医院", ()), _denotes("县中医院", "江山市人民医院", ())
    (True, False)
    """
    text = text.strip().casefold()
    names = {n.strip().casefold() for n in (name, *aliases)}
    return text in names or (len(text) >= 4 and any(n.endswith(text) for n in names))


@lru_cache(maxsize=4096)
def _county_points(county: str, code: str | None) -> tuple[np.ndarray, np.ndarray] | None:
    """The official township points of a county (its seat when it has none), as arrays; None when unknown."""
    try:
        places = county_townships(county, code=code)
    except (KeyError, UnknownRegion):
        return None
    points = [(p.lat, p.lon) for p in places if p.lat is not None and p.lon is not None]
    if not points:
        try:
            seat = county_seat(county, code=code)
        except (KeyError, UnknownRegion):
            return None
        points = [(seat.lat, seat.lon)] if seat.lat is not None and seat.lon is not None else []
    if not points:
        return None
    lats, lons = np.array(points, dtype=float).T
    return lats, lons


def county_distance_km(county: str, *, lat: float, lon: float, code: str | None = None) -> float | None:
    """How far a point lies from the nearest official township point of a county (its seat when it has none);
    None when the places table does not know the county. Beyond :data:`OUTSIDE_COUNTY_KM` it is outside.

    >>> round(county_distance_km("龙游县", lat=29.03, lon=119.17), 1), county_distance_km("龙游县", lat=119.17,
    ...                                                                                   lon=29.03) > 1000
    (0.6, True)
    """
    found = _county_points(county, code)
    if found is None:
        return None
    lats, lons = found
    return float(haversine_km(lat, lon, lats, lons).min())


def swap_fits(county: str, *, lat: float, lon: float, code: str | None = None) -> bool:
    """Whether the point, lat and lon swapped, lies inside the county: only then is a swap worth suggesting."""
    if not (-90 <= lon <= 90 and -180 <= lat <= 180):
        return False
    km = county_distance_km(county, lat=lon, lon=lat, code=code)
    return km is not None and km <= OUTSIDE_COUNTY_KM


def _geography(region: Region, names: dict[str, str]) -> Iterator[Problem]:
    by_id = {i.id: i for i in region.institutions}
    covered = {c.name: c.code for c in region.covered_counties}
    townships = {}
    for name, code in covered.items():
        try:
            townships[name] = county_townships(name, code=code)
        except (KeyError, UnknownRegion):
            yield _warning("township-without-centre", f"covered county {name} ({code}) is not in the places table",
                           f"覆盖区县{name}（{code}）不在地名表中")
    served = {i.township for i in region.institutions if i.tier.is_primary_care}
    in_county: dict[str, list] = defaultdict(list)
    for inst in region.institutions:
        in_county[inst.county].append(inst)
    for county, places in townships.items():
        official = {p.name for p in places}
        for name in sorted(official - served):
            yield _warning("township-without-centre", f"official township {name} of {county} has no health centre "
                           "in the data", f"{county}的乡镇（街道）{name}在数据中没有卫生院或社区卫生服务中心")
        for inst in in_county[county]:
            if inst.tier.is_primary_care and inst.township not in official:
                yield _warning("township-not-official", f"{inst.name} serves {inst.township or 'no official township'}"
                               f", not in {county}'s official 2016 list (its note in the data says why)",
                               f"{inst.name}服务的乡镇“{inst.township or '（未填）'}”不在{county} 2016 年的官方名单中（"
                               "数据中的说明写明原因）", institution=inst.id)
        found = _county_points(county, covered[county])
        if found is None or not in_county[county]:
            continue
        lats, lons = found
        members = in_county[county]
        nearest = haversine_km(np.array([[i.lat] for i in members]), np.array([[i.lon] for i in members]),
                               lats, lons).min(axis=1)
        for inst, km in zip(members, nearest.tolist(), strict=True):
            if km > OUTSIDE_COUNTY_KM:
                yield _outside(inst, county, covered[county], km)
    leads = {c.id: c.lead for c in region.communities if c.lead in by_id}
    lead_coms, lead_ids = list(leads), list(leads.values())
    com_names = {c.id: c.name for c in region.communities}
    lead_lat = np.array([by_id[n].lat for n in lead_ids])
    lead_lon = np.array([by_id[n].lon for n in lead_ids])
    branches = [(com, node, leads[com.id]) for com in region.communities if com.id in leads
                for node in com.ids(Role.BRANCH) if node in by_id]
    for start in range(0, len(branches), BLOCK):  # a block of branches against every lead at once
        block = branches[start:start + BLOCK]
        lat = np.array([by_id[node].lat for _, node, _ in block])
        lon = np.array([by_id[node].lon for _, node, _ in block])
        own_km_all = haversine_km(lat, lon, np.array([by_id[own].lat for *_, own in block]),
                                  np.array([by_id[own].lon for *_, own in block]))
        other_all = haversine_km(lat[:, None], lon[:, None], lead_lat[None, :], lead_lon[None, :])
        nearer_all = (other_all < NEARER_FACTOR * own_km_all[:, None]) & \
            (own_km_all[:, None] - other_all >= NEARER_MIN_KM)
        for b, k in zip(*np.nonzero(nearer_all), strict=True):
            com, node, own = block[int(b)]
            other_id, other = lead_coms[int(k)], lead_ids[int(k)]
            if other_id == com.id or other == own:
                continue
            own_km, km = float(own_km_all[b]), float(other_all[b, k])
            yield _warning("branch-nearer-other-lead", f"branch {_label(names, node)} of {com.name} is "
                           f"{km:.1f} km from {_label(names, other)} (lead of {com_names[other_id]}) but "
                           f"{own_km:.1f} km from its own lead",
                           f"“{com.name}”的分院{_label(names, node)}距{_label(names, other)}"
                           f"（“{com_names[other_id]}”的牵头医院）{km:.1f} 公里，"
                           f"距本医共体牵头医院 {own_km:.1f} 公里",
                           institution=node, community=com.id, other=other)


def _outside(inst: Institution, county: str, code: str | None, km: float) -> Problem:
    """``point-outside-county``: how far, and a swap only when swapping puts the point inside."""
    swap = swap_fits(county, lat=inst.lat, lon=inst.lon, code=code)
    hint = "; swapped, lat and lon put it inside: are they swapped?" if swap else ""
    hint_zh = "；纬度与经度互换后位于该区县内：是否填反了？" if swap else ""
    return _error("point-outside-county", f"{inst.name} at lat={inst.lat}, lon={inst.lon} is {km:.0f} km from every "
                  f"township of {county}: outside the county{hint}",
                  f"{inst.name}（纬度 {inst.lat}，经度 {inst.lon}）距{county}的每个乡镇驻地都在 {km:.0f} 公里以上，"
                  f"不在该区县内{hint_zh}", institution=inst.id)


def _inferred(region: Region) -> Iterator[Problem]:
    counts = {
        ("institutions", "机构"): sum(i.inferred for i in region.institutions),
        ("locations placed at a seat or proxy point", "位置（放在驻地或代替点）"):
            sum(i.location.is_proxy for i in region.institutions),
        ("capabilities", "专科"): sum(c.inferred for i in region.institutions for c in i.capabilities),
        ("memberships", "成员关系"): sum(m.inferred for c in region.communities for m in c.members),
        ("links", "连接"): sum(link.inferred for link in region.links),
    }
    for (what, what_zh), n in counts.items():
        if n:
            yield _warning("inferred-data", f"{n} {what} are inferred, not published (each says why in the data)",
                           f"{n} 个{what_zh}是推断所得，并非公布数据（数据中各自写明原因）")


def summarize_communities(region: Region) -> tuple[CommunitySummary, ...]:
    """Each community's id, name, lead and member count (lead and branches), in file order."""
    names = {i.id: i.name for i in region.institutions}
    return tuple(
        CommunitySummary(
            id=c.id, name=c.name, lead=c.lead, lead_name=names.get(c.lead) if c.lead else None,
            member_count=len(c.ids(Role.LEAD, Role.BRANCH)), partners=c.ids(Role.COLLABORATOR, Role.ALLIANCE),
            partner_names=tuple(names.get(p, p) for p in c.ids(Role.COLLABORATOR, Role.ALLIANCE)),
        )
        for c in region.communities
    )


__all__ = ["CommunitySummary", "Problem", "ValidationReport", "county_distance_km", "summarize_communities",
           "swap_fits", "validate_membership"]

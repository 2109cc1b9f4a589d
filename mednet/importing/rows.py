"""Row rules: each sheet's rows turned into model values, every unusable cell reported.

One function per sheet. Each takes the sheet's :class:`~mednet.importing.cells.Row`
values and a :class:`Context` (sources, the file's own source key, the
institutions read so far) and returns plain values; the problems go to the
rows' collector. Names of institutions resolve through
:func:`mednet.network.name_index` (ids, names, aliases), as everywhere else.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import NoReturn

from mednet.errors import InvalidCoordinates, UnknownInstitution, closest_names
from mednet.geo import check_lat_lon
from mednet.importing.categories import resolve_category
from mednet.importing.cells import Row
from mednet.importing.credit_code import credit_code_problem
from mednet.importing.datums import parse_datum, to_wgs84
from mednet.models import (
    CONTACT_KINDS,
    Capability,
    Contact,
    Detail,
    Flag,
    Institution,
    Link,
    LinkKind,
    Location,
    Membership,
    Registry,
    Role,
    RosterEntry,
    Session,
    Source,
    Tier,
)
from mednet.network import name_index
from mednet.places import Place, find_county, find_township, township_short_names
from mednet.specialties import resolve_specialty

ROLES = {"lead": "lead", "牵头医院": "lead", "牵头": "lead", "牵头单位": "lead",
         "branch": "branch", "分院": "branch", "成员单位": "branch", "成员": "branch",
         "collaborator": "collaborator", "协作单位": "collaborator", "协作医院": "collaborator", "协作": "collaborator",
         "alliance": "alliance", "专科联盟": "alliance", "联盟": "alliance"}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS = {**{d: d for d in _DAYS}, "周天": "sun", "星期天": "sun", **{str(i): d for i, d in enumerate(_DAYS, 1)},
            **{f"{p}{c}": d for d, c in zip(_DAYS, "一二三四五六日", strict=True) for p in ("周", "星期", "礼拜")}}
PARTS = {"morning": "morning", "上午": "morning", "afternoon": "afternoon", "下午": "afternoon",
         "evening": "evening", "晚上": "evening", "夜间": "evening", "all_day": "all_day", "全天": "all_day"}
COMMUNITY_KINDS = {"county": "county", "县域": "county", "县域医共体": "county", "urban": "urban", "城市": "urban",
                   "城市医联体": "urban", "医联体": "urban"}
LINK_KINDS = {**{k.value: k.value for k in LinkKind}, **{k.label_zh.casefold(): k.value for k in LinkKind}}
BASES = {"road": "road", "道路": "road", "geodesic_x_road_factor": "geodesic_x_road_factor",
         "直线x道路系数": "geodesic_x_road_factor"}
LOCATION_KINDS = {"surveyed": "surveyed", "实测": "surveyed", "town_seat": "town_seat", "乡镇驻地": "town_seat",
                  "county_seat": "county_seat", "县城驻地": "county_seat", "proxy": "proxy", "代替点": "proxy"}
CONTACTS = {"phone": "phone", "电话": "phone", "address": "address", "地址": "address", "booking": "booking",
            "预约渠道": "booking", "预约": "booking", "hours": "hours", "开放时间": "hours",
            "emergency_24h": "emergency_24h", "24小时急诊": "emergency_24h"}
TIERS = {**{t.value: t.value for t in Tier}, **{t.label_zh: t.value for t in Tier}}  # for 未具名层级
#: Source key of the places table (seats of counties and townships).
PLACES_SOURCE = "adcode"


def make_id(prefix: str, text: str) -> str:
    """A stable ASCII id for a name without one.

    >>> make_id("i", "湖镇镇卫生院")
    'i-...'
    """
    return f"{prefix}-{hashlib.sha1(text.encode()).hexdigest()[:10]}"


def file_source_key(file: str) -> str:
    """The source key of facts a table gives without naming a source: the file itself.

    >>> file_source_key("longyou.xlsx")
    'file:longyou.xlsx'
    """
    return f"file:{file}"


@dataclass
class Context:
    """What rows of later sheets need: sources, the default source, the institutions and their rows."""

    sources: dict[str, Source] = field(default_factory=dict)
    used_sources: set[str] = field(default_factory=set)
    institutions: list[Institution] = field(default_factory=list)
    rows: dict[str, Row] = field(default_factory=dict)  # institution id -> its row
    places: dict[str, Place] = field(default_factory=dict)  # county name -> seat row
    unusable: set[str] = field(default_factory=set)  # names (case-folded) of institution rows not imported
    _index: dict[str, tuple[str, ...]] | None = None

    def source(self, row: Row, key: str = "source") -> str:
        """The row's source key (its file's own when empty); an unknown key is a problem."""
        value = row.text(key)
        if value is None:
            value = file_source_key(row.file)
            self.used_sources.add(value)
            return value
        if value not in self.sources:
            near = closest_names(value, self.sources)
            hint = f"; did you mean {near[0]!r}?" if near else "; add it to the 来源 sources sheet"
            row.problem(key, "unknown-source", f"no source has this key{hint}")
        self.used_sources.add(value)
        return value

    def resolve(self, row: Row, key: str) -> str | None:
        """The id of the institution a cell names (id, name or alias)."""
        text = row.text(key)
        if text is None:
            return None
        if self._index is None:
            self._index = name_index(self.institutions)
        ids = self._index.get(text.casefold())
        if not ids and text.casefold() in self.unusable:
            return None  # its institution's row is unusable and says why: one mistake, one report
        if not ids:
            known = [n for i in self.institutions for n in (i.name, *i.aliases)]
            row.problem(key, "unknown-institution", str(UnknownInstitution(text, known=known)))
            return None
        if len(ids) > 1:
            row.problem(key, "ambiguous-institution", f"names {len(ids)} institutions ({', '.join(ids)}); give an id")
            return None
        return ids[0]


def read_sources(rows: list[Row]) -> dict[str, Source]:
    sources: dict[str, Source] = {}
    for row in rows:
        key, title = row.required("key"), row.required("title")
        if key is None or title is None:
            continue
        if key in sources:
            row.problem("key", "duplicate-source", "another row already has this key")
            continue
        sources[key] = Source(title=title, publisher=row.text("publisher"), date=row.date("date"), url=row.text("url"),
                              licence=row.text("licence"), note=row.text("note"))
    return sources


def county_place(row: Row, key: str) -> Place | None:
    text = row.required(key)
    return None if text is None else row.parse(key, find_county, "unknown-county")


def read_institution(row: Row, ctx: Context) -> Institution | None:
    """One institution row; None (with its problems recorded) when unusable."""
    name = row.required("name")
    seat = county_place(row, "county")
    source, inferred = ctx.source(row), bool(row.boolean("inferred"))
    grade = row.text("grade")
    tier, category = _tier(row, grade)
    township = _township(row, seat)
    location = _location(row, ctx, seat, township, tier, source)
    registry = _registry(row, ctx, category, grade, source)
    contact = _contact(row, source)
    departments = [resolve_specialty(d).code for d in row.items("departments") if _specialty_ok(row, d)]
    population = row.integer("population", minimum=0)
    if name is None or seat is None or tier is None or location is None:
        return None
    lat, lon, point = location
    official = township.name if township is not None else row.text("township")
    aliases = row.items("aliases")
    capabilities = tuple(Capability(specialty=code, source=source) for code in dict.fromkeys(departments))
    try:
        return Institution(
            id=row.text("id") or make_id("i", f"{seat.county_code}/{name}"), name=name, aliases=aliases, tier=tier,
            county=seat.name, township=official, lat=lat, lon=lon, location=point, capabilities=capabilities,
            population=population, registry=registry, contact=contact, source=source, inferred=inferred,
            note=row.text("note"))
    except ValueError as err:  # a malformed id: the only field not checked above
        row.problem("id", "id", str(err).splitlines()[-1].strip())
        return None


def row_names(row: Row) -> set[str]:
    """The names (case-folded) other sheets may use for an institution row: id, name, aliases, township.

    Known even when the row itself is unusable, so that references to it are not reported again.
    """
    township = row.text("township")
    names = [row.text("id"), row.text("name"), *row.items("aliases"),
             *(township_short_names(township) if township else ())]
    return {n.casefold() for n in names if n}


def _specialty_ok(row: Row, text: str) -> bool:
    try:
        resolve_specialty(text)
        return True
    except KeyError as err:
        row.problem("departments", "unknown-specialty", str(err))
        return False


def _tier(row: Row, grade: str | None) -> tuple[Tier | None, str | None]:
    """Tier and WS 218 code from the 层级 and 类别 cells (either may hold a tier or a code; 层级 decides the tier)."""
    given = [row.parse(key, lambda v: resolve_category(v, grade=grade), "category") for key in ("tier", "category")]
    if row.text("tier") is None and row.text("category") is None:
        row.problem("category", "required", "give a tier (层级) or a WS 218 category (类别) such as C210")
    found = [g for g in given if g is not None]
    if len(found) < sum(row.text(k) is not None for k in ("tier", "category")) or not found:
        return None, None
    return found[0][0], next((code for _, code in found if code), None)


def _township(row: Row, seat: Place | None) -> Place | None:
    text = row.text("township")
    if text is None or seat is None:
        return None
    try:
        return find_township(seat.county_code, text)
    except (KeyError, ValueError) as err:
        if row.text("lat") is None:  # the township was to place it
            row.problem("township", "unknown-township", str(err).strip("'\""))
        return None


def _location(row: Row, ctx: Context, seat: Place | None, township: Place | None, tier: Tier | None,
              source: str) -> tuple[float, float, Location] | None:
    lat_text, lon_text = row.text("lat"), row.text("lon")
    if lat_text is None and lon_text is None:
        return None if seat is None else _seat_point(seat, township, tier, ctx)
    if lat_text is None or lon_text is None:
        row.problem("lat" if lat_text is None else "lon", "coordinates", "give both lat and lon, or neither")
        return None
    lat, lon = row.number("lat"), row.number("lon")
    datum = row.parse("datum", lambda v: parse_datum(v) or _bad_datum(), "datum") if row.text("datum") else "WGS84"
    if lat is None or lon is None or datum is None:
        return None
    try:
        check_lat_lon(lat=lat, lon=lon, within_china=True)
    except InvalidCoordinates as err:
        row.problem("lon" if err.parameter == "lon" else "lat", "coordinates", str(err))
        return None
    converted = row.choice("converted_from", {"gcj-02": "GCJ-02", "bd-09": "BD-09"}, rule="datum")
    note = row.text("location_note")
    if datum != "WGS84":
        converted = datum
        given = f"given as {datum} lat={lat}, lon={lon}; converted to WGS84 by mednet (iterative inverse, < 1 m)"
        note = f"{note}; {given}" if note else given
        lat, lon = (round(v, 7) for v in to_wgs84(lat=lat, lon=lon, datum=datum))
    kind = row.choice("location_kind", LOCATION_KINDS, rule="location-kind") or "surveyed"
    location = Location(kind=kind, source=ctx.source(row, "location_source") if row.text("location_source") else source,
                        inferred=bool(row.boolean("location_inferred")), note=note, converted_from=converted)
    return lat, lon, location


def _bad_datum() -> NoReturn:
    raise ValueError("must be WGS84, GCJ-02 (高德/腾讯) or BD-09 (百度)")


def _seat_point(seat: Place, township: Place | None, tier: Tier | None,
                ctx: Context) -> tuple[float, float, Location]:
    ctx.used_sources.add(PLACES_SOURCE)
    if (township is not None and township.lat is not None and township.lon is not None and tier is not None
            and tier.is_primary_care):
        note = (f"no point given: placed at the seat of {township.name} (places table row {township.code}), not the "
                "building")
        return township.lat, township.lon, Location(kind="town_seat", source=PLACES_SOURCE, inferred=True, note=note)
    lat, lon, where = seat_point(seat)
    why = "its township has no point in the places table" if township is not None else "no township given"
    note = f"no point given ({why}): placed at {where}, not the building"
    kind = "county_seat" if where.startswith("the seat of") else "proxy"
    return lat, lon, Location(kind=kind, source=PLACES_SOURCE, inferred=True, note=note)


def seat_point(seat: Place) -> tuple[float, float, str]:
    """A county's seat point, or the best stand-in the places table has, and what it is."""
    from mednet.places import all_places, county_townships

    if seat.lat is not None and seat.lon is not None:
        return seat.lat, seat.lon, f"the seat of {seat.name} (places table row {seat.code})"
    towns = [(t.lat, t.lon) for t in county_townships(seat.name, code=seat.county_code)
             if t.lat is not None and t.lon is not None]
    if towns:
        lat = round(sum(t[0] for t in towns) / len(towns), 6)
        lon = round(sum(t[1] for t in towns) / len(towns), 6)
        return lat, lon, f"the mean of {len(towns)} township points of {seat.name} (its seat has no point)"
    located = [p for p in all_places() if p.lat is not None and p.lon is not None]
    for prefix in (seat.code[:4], seat.code[:2]):
        above = [p for p in located if p.code.startswith(prefix) and p.level == "city"]
        above = above or [p for p in located if p.code.startswith(prefix)]
        if above and above[0].lat is not None and above[0].lon is not None:
            return above[0].lat, above[0].lon, (f"{above[0].name} (places table row {above[0].code}): neither "
                                                f"{seat.name} nor its townships have a point; a distant proxy")
    raise ValueError(f"no point for {seat.name} or anything above it in the places table")


def _registry(row: Row, ctx: Context, category: str | None, grade: str | None, source: str) -> Registry | None:
    code = row.parse("credit_code", _credit_code, "credit-code")
    beds = row.integer("beds", minimum=0)
    licence = row.text("licence_number")
    if not any((category, grade, code, licence, beds is not None)):
        return None
    registry_source = ctx.source(row, "registry_source") if row.text("registry_source") else source
    return Registry(category=category, grade=grade, credit_code=code, licence_number=licence, beds=beds,
                    source=registry_source, inferred=bool(row.boolean("registry_inferred")),
                    note=row.text("registry_note"))


def _credit_code(text: str) -> str:
    code = text.strip().upper()
    problem = credit_code_problem(code)
    if problem:
        raise ValueError(problem)
    return code


def _contact(row: Row, source: str) -> Contact | None:
    details: dict[str, Detail | Flag] = {}
    for kind in CONTACT_KINDS:
        if kind == "emergency_24h":
            value = row.boolean(kind)
            if value is not None:
                details[kind] = Flag(value=value, source=source)
        elif (text := row.text(kind)) is not None:
            details[kind] = Detail(value=text, source=source)
    return Contact(**details) if details else None


def read_contact(row: Row, ctx: Context) -> tuple[str, str, Detail | Flag] | None:
    node, kind = ctx.resolve(row, "institution"), row.choice("kind", CONTACTS, rule="contact-kind")
    text, source = row.required("value"), ctx.source(row)
    inferred, note = bool(row.boolean("inferred")), row.text("note")
    detail: Detail | Flag | None
    if kind == "emergency_24h" and text is not None:
        flag = row.boolean("value")
        detail = None if flag is None else Flag(value=flag, source=source, inferred=inferred, note=note)
    else:
        detail = None if text is None else Detail(value=text, source=source, inferred=inferred, note=note)
    return None if node is None or kind is None or detail is None else (node, kind, detail)


def read_capability(row: Row, ctx: Context) -> tuple[str, Capability] | None:
    node = ctx.resolve(row, "institution")
    code = row.parse("specialty", lambda v: resolve_specialty(v).code, "unknown-specialty")
    if row.text("specialty") is None:
        row.required("specialty")
    cap = dict(source=ctx.source(row), inferred=bool(row.boolean("inferred")), note=row.text("note"),
               beds=row.integer("beds", minimum=0), weekly_slots=row.integer("weekly_slots", minimum=0),
               weekly_sessions=row.integer("weekly_sessions", minimum=1))
    return None if node is None or code is None else (node, Capability(specialty=code, **cap))


def read_session(row: Row, ctx: Context) -> tuple[str, str, Session] | None:
    """(host id, specialty code, session) of a sessions row; its source and note serve a capability it creates."""
    host = ctx.resolve(row, "institution")
    code = row.parse("specialty", lambda v: resolve_specialty(v).code, "unknown-specialty")
    if row.text("specialty") is None:
        row.required("specialty")
    provider = ctx.resolve(row, "provider")
    session = dict(weekday=row.choice("weekday", WEEKDAYS, rule="weekday"), part=row.choice("part", PARTS, rule="part"),
                   every_weeks=row.integer("every_weeks", minimum=1) or 1, provider=provider,
                   valid_from=row.date("valid_from"), valid_until=row.date("valid_until"))
    if (row.text("provider") and provider is None) or (row.text("source") and row.text("source") not in ctx.sources):
        ctx.source(row)  # reports the unknown key
        return None
    return None if host is None or code is None else (host, code, Session(**session))


def read_membership(row: Row, ctx: Context) -> tuple[str, Membership] | None:
    community = row.required("community")
    node = ctx.resolve(row, "institution")
    if row.text("institution") is None:
        row.required("institution")
    role = row.choice("role", ROLES, rule="role")
    if row.text("role") is None:
        row.required("role")
    source, inferred, note = ctx.source(row), bool(row.boolean("inferred")), row.text("note")
    if community is None or node is None or role is None:
        return None
    return community, Membership(institution=node, role=Role(role), source=source, inferred=inferred, note=note)


def read_link(row: Row, ctx: Context) -> Link | None:
    a, b = ctx.resolve(row, "a"), ctx.resolve(row, "b")
    kind = row.choice("kind", LINK_KINDS, rule="link-kind")
    km = row.number("distance_km", minimum=0, exclusive=True)
    if row.text("distance_km") is None:
        row.required("distance_km")
    basis = row.choice("distance_basis", BASES, rule="distance-basis") or "road"
    minutes = row.number("minutes", minimum=0, exclusive=True)
    source, inferred, note = ctx.source(row), bool(row.boolean("inferred")), row.text("note")
    if a is None or b is None or kind is None or km is None:
        return None
    if a == b:
        row.problem("b", "link-ends", "a link joins two different institutions")
        return None
    return Link(a=a, b=b, kind=LinkKind(kind), distance_km=km, distance_basis=basis, minutes=minutes, source=source,
                inferred=inferred, note=note)


def read_travel(row: Row, ctx: Context) -> tuple[str, str, float | None, float | None, str, str | None] | None:
    a, b = ctx.resolve(row, "origin"), ctx.resolve(row, "destination")
    km = row.number("distance_km", minimum=0, exclusive=True)
    minutes = row.number("minutes", minimum=0, exclusive=True)
    if row.text("distance_km") is None and row.text("minutes") is None:
        row.problem("distance_km", "required", "give a road distance (km), a travel time (minutes) or both")
        return None
    source = ctx.source(row)
    if a is None or b is None:
        return None
    if a == b:
        row.problem("destination", "link-ends", "origin and destination must differ")
        return None
    return a, b, km, minutes, source, row.text("note")


def read_roster_entry(row: Row, ctx: Context) -> tuple[tuple, RosterEntry | None, dict] | None:
    """((community, published, source), entry or None, roster fields) of a rosters row."""
    community, published = row.required("community"), row.date("published")
    if row.text("published") is None:
        row.required("published")
    node = ctx.resolve(row, "institution") if row.text("institution") else None
    if row.text("institution") and node is None:
        return None
    text = row.text("text")
    fields = {"unnamed": row.integer("unnamed", minimum=0), "note": row.text("note"),
              "unnamed_tier": row.choice("unnamed_tier", TIERS, rule="tier")}
    source = ctx.source(row)
    if community is None or published is None:
        return None
    if text is None and node is not None:
        row.problem("text", "required", "a roster entry needs the name as published")
        return None
    return (community, published, source), RosterEntry(text=text, institution=node) if text else None, fields


__all__ = ["Context", "make_id", "read_capability", "read_contact", "read_institution", "read_link",
           "read_membership", "read_roster_entry", "read_session", "read_sources", "read_travel", "row_names",
           "seat_point"]

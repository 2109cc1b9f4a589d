"""Row rules: each sheet's rows turned into model values, every unusable cell reported, in Chinese and English.

One function per sheet. Each takes the sheet's :class:`~mednet.importing.cells.Row`
values and a :class:`Context` (sources, the file's own source key, the
institutions read so far) and returns plain values; the problems go to the
rows' collector. Names of institutions resolve through
:func:`mednet.network.name_index` (ids, names, aliases, township names), as
everywhere else.

An institution row is read in two steps: :func:`draft_institution` reads its
cells (a :class:`Draft`: the fields, the point as given, the membership the
row may carry), :mod:`mednet.importing.points` places every point at once,
and :func:`finish_institution` makes the model value. A row with an unusable
cell still becomes a stand-in institution when it has a name, so that the
checks across rows (duplicate names, memberships) see every row; the import
writes nothing then.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from mednet.errors import UnknownSpecialty, closest_names
from mednet.importing.categories import resolve_category, unmodelled_category
from mednet.importing.cells import Row
from mednet.importing.credit_code import credit_code_problem
from mednet.importing.datums import parse_datum
from mednet.importing.grades import parse_grade
from mednet.importing.phones import parse_phone
from mednet.importing.problems import CellError
from mednet.importing.tables import clean_name
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
from mednet.specialties import NATIONAL_SUBJECTS, SPECIALTIES, Specialty, resolve_specialty, resolve_subject

#: Roles as tables and registries write them (牵头单位, 成员单位, 协作单位, 分院 …) → mednet's roles.
ROLES = {"lead": "lead", "牵头医院": "lead", "牵头": "lead", "牵头单位": "lead", "牵头医疗机构": "lead", "总院": "lead",
         "龙头医院": "lead",
         "branch": "branch", "分院": "branch", "成员单位": "branch", "成员": "branch", "成员医院": "branch",
         "成员机构": "branch", "分院（成员单位）": "branch",
         "collaborator": "collaborator", "协作单位": "collaborator", "协作医院": "collaborator", "协作": "collaborator",
         "合作单位": "collaborator", "协作成员": "collaborator",
         "alliance": "alliance", "专科联盟": "alliance", "联盟": "alliance", "联盟单位": "alliance",
         "专科联盟成员": "alliance", "联盟成员": "alliance"}
ROLES_SHOWN = "牵头单位、成员单位（分院）、协作单位、专科联盟"
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS = {**{d: d for d in _DAYS}, "周天": "sun", "星期天": "sun", **{str(i): d for i, d in enumerate(_DAYS, 1)},
            **{f"{p}{c}": d for d, c in zip(_DAYS, "一二三四五六日", strict=True) for p in ("周", "星期", "礼拜")}}
PARTS = {"morning": "morning", "上午": "morning", "afternoon": "afternoon", "下午": "afternoon",
         "evening": "evening", "晚上": "evening", "夜间": "evening", "all_day": "all_day", "全天": "all_day"}
COMMUNITY_KINDS = {"county": "county", "县域": "county", "县域医共体": "county", "urban": "urban", "城市": "urban",
                   "城市医联体": "urban", "医联体": "urban", "城市医共体": "urban"}
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
    """What rows of later sheets need: sources, the default source, the institutions and their rows, the rows
    set aside (categories mednet does not model), the stand-ins of unusable rows and what their checks skip."""

    sources: dict[str, Source] = field(default_factory=dict)
    used_sources: set[str] = field(default_factory=set)
    institutions: list[Institution] = field(default_factory=list)
    rows: dict[str, Row] = field(default_factory=dict)  # institution id -> its row
    standins: dict[str, set[str]] = field(default_factory=dict)  # id -> fields not read: tier, county, point
    skipped: dict[str, tuple[str, str]] = field(default_factory=dict)  # names (case-folded) -> (code, label)
    not_routed: Counter[str] = field(default_factory=Counter)  # 诊疗科目 codes kept as registry facts
    unusable: set[str] = field(default_factory=set)  # other names (case-folded) of rows without a name
    _index: dict[str, tuple[str, ...]] | None = None
    _capabilities: dict[tuple[str, str], Capability] = field(default_factory=dict)

    def source(self, row: Row, key: str = "source") -> str:
        """The row's source key (its file's own when empty); an unknown key is a problem."""
        value = row.text(key)
        if value is None:
            value = file_source_key(row.file)
            self.used_sources.add(value)
            return value
        if value == PLACES_SOURCE:  # the bundled places table: a source every region may cite
            self.used_sources.add(value)
            return value
        if value not in self.sources:
            near = closest_names(value, self.sources, n=1)
            row.error(key, "unknown-source", "no source has this key" + (f"; did you mean {near[0]!r}?" if near else
                                                                        "; add it to the 来源 sources sheet"),
                      "来源表中没有这个代号" + (f"；是否为“{near[0]}”？" if near else "：请在“来源”表中补上"))
        self.used_sources.add(value)
        return value

    def index(self) -> dict[str, tuple[str, ...]]:
        if self._index is None:
            self._index = name_index(self.institutions)
        return self._index

    def resolve(self, row: Row, key: str) -> str | None:
        """The id of the institution a cell names (id, name, alias or township); None, with a problem, else. A
        name of a row set aside (a village clinic) is a note, not an error."""
        text = row.text(key)
        if text is None:
            return None
        text = clean_name(text)
        ids = self.index().get(text.casefold())
        if not ids and text.casefold() in self.unusable:
            return None  # its row has no name and says so: one mistake, one report
        if not ids and text.casefold() in self.skipped:
            code, label = self.skipped[text.casefold()]
            row.note(key, "skipped-institution", f"names a {label} ({code}), a category mednet does not model: this "
                     "row is skipped too", f"引用的是{label}（{code}），mednet 不纳入这一类别：本行一并跳过")
            return None
        if not ids:
            known = [n for i in self.institutions for n in (i.name, *i.aliases)]
            near = closest_names(text, known, n=1)
            row.error(key, "unknown-institution", f"unknown institution {text!r}" + (f"; did you mean {near[0]!r}?"
                                                                                    if near else ""),
                      f"机构表中没有“{text}”" + (f"；是否为“{near[0]}”？" if near else ""))
            return None
        if len(ids) > 1:
            where = ", ".join(f"row {self.rows[i].row}" if i in self.rows else i for i in ids)
            where_zh = "、".join(f"第 {self.rows[i].row} 行" if i in self.rows else i for i in ids)
            row.error(key, "ambiguous-institution", f"names {len(ids)} institutions ({where}); give the full name or "
                      "an id", f"对应 {len(ids)} 个机构（{where_zh}）：请写全称或编号")
            return None
        return ids[0]

    def capability(self, code: str, source: str) -> Capability:
        """A permanent capability a departments cell gives: one value, shared by every row that gives it."""
        key = (code, source)
        found = self._capabilities.get(key)
        if found is None:
            found = self._capabilities[key] = Capability(specialty=code, source=source)
        return found


def read_sources(rows: list[Row]) -> dict[str, Source]:
    sources: dict[str, Source] = {}
    for row in rows:
        key, title = row.required("key"), row.required("title")
        if key is None or title is None:
            continue
        if key in sources:
            row.error("key", "duplicate-source", "another row already has this key", "已有另一行使用这个代号")
            continue
        sources[key] = Source(title=title, publisher=row.text("publisher"), date=row.date("date"), url=row.text("url"),
                              licence=row.text("licence"), note=row.text("note"))
    return sources


def county_place(row: Row, key: str) -> Place | None:
    text = row.required(key)
    return None if text is None else row.parse(key, find_county, "unknown-county")


# ----------------------------------------------------------------------------- institutions


@dataclass
class Draft:
    """An institution row as read, before its point is placed: the model's fields (None where a cell was
    unusable), the point as given, the membership the row carries, and whether the row had an error."""

    row: Row
    fields: dict[str, Any]
    seat: Place | None
    township: Place | None
    given: tuple[float, float, str] | None  # lat, lon, datum as given
    location: dict[str, Any]  # the Location's other fields as given
    membership: tuple[str, str] | None  # (community as written, role; "" when the row gives none)
    ok: bool
    point_bad: bool = False  # coordinates given but unusable (reported)
    point: tuple[float, float, Location] | None = None


def skipped_category(row: Row, ctx: Context, keep: frozenset[str]) -> tuple[str, str] | None:
    """(code, label) when the row's category is one mednet does not model: the row is set aside (its names
    remembered so that references to it are notes too), or refused when ``keep`` names its code."""
    for key in ("category", "tier"):
        text = row.normal(key)
        found = unmodelled_category(text) if text else None
        if found is None:
            continue
        code, label = found
        if code in keep:
            row.error(key, "kept-category", f"{label} ({code}) is not an institution mednet models: it cannot keep "
                      f"them (drop --keep-category {code} to skip these rows)",
                      f"{label}（{code}）不是 mednet 建模的机构类别，无法保留"
                      f"（去掉 --keep-category {code} 即可跳过这些行）")
            return None
        for name in row_names(row, township=False):
            ctx.skipped[name] = found
        return found
    return None


def draft_institution(row: Row, ctx: Context) -> Draft | None:
    """One institution row read (see :class:`Draft`); None when it has no name (nothing can refer to it)."""
    before = row.problems.error_count
    name = _name(row)
    seat = county_place(row, "county")
    source, inferred = ctx.source(row), bool(row.boolean("inferred"))
    grade = row.parse("grade", parse_grade, "grade")
    tier, category = _tier(row, grade)
    township = _township(row, seat)
    given, location, point_bad = _given_point(row, ctx, seat, source)
    routed, not_routed = read_departments(row, "departments", ctx)
    extra_routed, other = read_departments(row, "other_subjects", ctx)
    registry = _registry(row, ctx, category, grade, source, (*not_routed, *other))
    contact = _contact(row, source)
    population = row.integer("population", minimum=0)
    membership = _membership(row)
    if name is None:
        return None
    capabilities = tuple(ctx.capability(code, source) for code in dict.fromkeys((*routed, *extra_routed)))
    official = township.name if township is not None else row.text("township")
    fields = dict(id=row.text("id") or make_id("i", f"{seat.county_code}/{name}" if seat else name), name=name,
                  aliases=tuple(clean_name(a) for a in row.items("aliases")), tier=tier,
                  county=seat.name if seat else None, township=official, capabilities=capabilities,
                  population=population, registry=registry, contact=contact, source=source, inferred=inferred,
                  note=row.text("note"))
    return Draft(row, fields, seat, township, given, location, membership, ok=row.problems.error_count == before,
                 point_bad=point_bad)


def finish_institution(draft: Draft) -> tuple[Institution, set[str]]:
    """The institution of a placed draft, and what it lacks: a stand-in when a field is missing (``tier``,
    ``county``, ``point``) or the row has an error (``row``): the checks that rest on it are skipped."""
    fields = dict(draft.fields)
    unread = {key for key in ("tier", "county") if fields[key] is None}
    if draft.point is None:
        unread.add("point")
        lat, lon = (draft.seat.lat, draft.seat.lon) if draft.seat and draft.seat.lat is not None else (35.0, 105.0)
        location = Location(kind="proxy", source=fields["source"], inferred=True, note="stand-in: the row is unusable")
    else:
        lat, lon, location = draft.point
    fields.update(tier=fields["tier"] or Tier.TOWNSHIP_CENTRE, county=fields["county"] or "?", lat=lat, lon=lon,
                  location=location)
    if not draft.ok:
        unread.add("row")
    try:
        inst = Institution(**fields)
    except ValueError as err:  # a malformed id: the only field not checked above
        draft.row.error("id", "id", str(err).splitlines()[-1].strip(),
                        "编号只能由字母、数字和 _ . : - 组成")
        inst = Institution(**{**fields, "id": make_id("i", fields["name"])})
        unread.add("row")
    return inst, unread


def row_names(row: Row, *, township: bool = True) -> set[str]:
    """The names (case-folded) other sheets may use for an institution row: id, name, aliases, and its township's
    names (a centre is known by them)."""
    town = row.text("township") if township else None
    names = [row.text("id"), row.text("name") and clean_name(row.text("name") or ""), *row.items("aliases"),
             *(township_short_names(town) if town else ())]
    return {n.casefold() for n in names if n}


def _name(row: Row) -> str | None:
    name = row.required("name")
    if name is not None and (clean := clean_name(name)) != name:
        row.note("name", "normalised", f"spaces between Chinese characters removed: read as {clean!r}",
                 f"已去除汉字之间的空格，读作“{clean}”")
        return clean
    return name


def _membership(row: Row) -> tuple[str, str] | None:
    """(community, role) when the institutions sheet carries the membership (所属医共体, 医共体角色)."""
    community = row.text("community")
    role = row.choice("community_role", ROLES, rule="role", shown=ROLES_SHOWN)
    if community is None:
        if row.text("community_role"):
            row.error("community", "required", "a role without a community: name the community (所属医共体)",
                      "填了医共体角色却没有所属医共体：请写明所属医共体")
        return None
    if role is None and row.text("community_role"):
        return None
    return clean_name(community), role or ""


def read_departments(row: Row, key: str, ctx: Context) -> tuple[list[str], list[str]]:
    """The specialties a departments cell names (mednet codes), and the 诊疗科目 it names that no specialty
    routes (their codes: registry facts, counted in ``ctx.not_routed``); an unknown one is a problem."""
    routed: list[str] = []
    other: list[str] = []
    for text in row.items(key):
        try:
            kind, code = resolve_department(text)
        except CellError as err:
            row.error(key, "unknown-specialty", str(err), err.zh)
            continue
        if kind == "routed":
            routed.append(code)
        else:
            other.append(code)
            ctx.not_routed[code] += 1
    return routed, list(dict.fromkeys(other))


@lru_cache(maxsize=4096)
def resolve_department(text: str) -> tuple[str, str]:
    """``("routed", specialty code)`` or ``("not-routed", 诊疗科目 code)`` for a department as a table or a
    registry names it (诊疗科目 code or official name, or a mednet specialty's label or alias).

    >>> resolve_department("全科医疗科"), resolve_department("52"), resolve_department("B超")
    (('routed', 'general_practice'), ('not-routed', '52'), ('routed', 'ultrasound'))
    >>> resolve_department("儿料")
    Traceback (most recent call last):
    ...
    mednet.importing.problems.CellError: unknown department '儿料'; did you mean '儿科'?
    """
    try:
        subject = resolve_subject(text)
    except UnknownSpecialty as err:
        raise CellError(str(err), err.zh or str(err)) from None
    if subject is not None:
        return ("routed", subject.specialty.code) if subject.specialty else ("not-routed", subject.code)
    try:
        return "routed", resolve_specialty(text).code
    except UnknownSpecialty:
        pass
    near = closest_names(text, _department_words(not text.isascii()), n=1)
    raise CellError(f"unknown department {text!r}" + (f"; did you mean {near[0]!r}?" if near else ""),
                    f"不认识的科室或诊疗科目“{text}”" + (f"；是否为“{near[0]}”？" if near else ""))


def _department_words(chinese: bool) -> list[str]:
    if chinese:
        words = [w for s in SPECIALTIES for w in (s.label_zh, *s.aliases) if not w.isascii()]
        return [*words, *NATIONAL_SUBJECTS.values()]
    return [w for s in SPECIALTIES for w in (s.code, s.label_en, *s.aliases) if w.isascii()]


def _tier(row: Row, grade: str | None) -> tuple[Tier | None, str | None]:
    """Tier and WS 218 code from the 层级 and 类别 cells (either may hold a tier or a code; 层级 decides the tier)."""
    given = [row.parse(key, lambda v: resolve_category(v, grade=grade), "category") for key in ("tier", "category")]
    if row.text("tier") is None and row.text("category") is None:
        if row.has("category") or row.has("tier"):
            row.error("category" if row.has("category") else "tier", "required",
                      "give a tier (层级) or a WS 218 category (类别) such as C210",
                      "请填写机构层级或 WS 218 机构类别代码（如 C210 中心卫生院）")
        else:
            row.error(None, "required", "the sheet has no tier (层级) or category (类别) column",
                      "机构表缺少“层级”或“类别”列")
    found = [g for g in given if g is not None]
    if len(found) < sum(row.text(k) is not None for k in ("tier", "category")) or not found:
        return None, None
    return found[0][0], next((code for _, code in found if code), None)


def _township(row: Row, seat: Place | None) -> Place | None:
    text = row.text("township")
    if text is None or seat is None:
        return None
    if row.text("lat") is not None:  # placed by its point: the township is a fact as given, checked if known
        try:
            return find_township(seat.county_code, text)
        except (KeyError, ValueError):
            return None
    return row.parse("township", lambda value: find_township(seat.county_code, value), "unknown-township")


def _given_point(row: Row, ctx: Context, seat: Place | None, source: str
                 ) -> tuple[tuple[float, float, str] | None, dict[str, Any], bool]:
    """The point as given (lat, lon, datum), checked for range; the Location's other fields; and whether
    coordinates were given but are unusable."""
    location = {"kind": row.choice("location_kind", LOCATION_KINDS, rule="location-kind") or "surveyed",
                "source": ctx.source(row, "location_source") if row.text("location_source") else source,
                "inferred": bool(row.boolean("location_inferred")), "note": row.text("location_note"),
                "converted_from": row.choice("converted_from", {"gcj-02": "GCJ-02", "bd-09": "BD-09"}, rule="datum")}
    lat_text, lon_text = row.text("lat"), row.text("lon")
    if lat_text is None and lon_text is None:
        return None, location, False
    if lat_text is None or lon_text is None:
        row.error("lat" if lat_text is None else "lon", "coordinates", "give both lat and lon, or neither",
                  "纬度和经度要么都填，要么都不填")
        return None, location, True
    lat, lon = row.number("lat"), row.number("lon")
    datum = row.parse("datum", _datum, "datum") if row.text("datum") else "WGS84"
    if lat is None or lon is None or datum is None:
        return None, location, True
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or not (17.5 <= lat <= 54.0 and 73.0 <= lon <= 135.5):
        _point_problem(row, seat, lat, lon)
        return None, location, True
    return (lat, lon, datum), location, False


def _point_problem(row: Row, seat: Place | None, lat: float, lon: float) -> None:
    """A point out of range or outside mainland China; a lat/lon swap suggested only when swapping puts it in
    its county."""
    from mednet.validate import county_distance_km, swap_fits

    swap = seat is not None and swap_fits(seat.name, lat=lat, lon=lon, code=seat.county_code)
    if not -90 <= lat <= 90:
        en, zh, key = f"`lat` must be within [-90, 90], got {_show(lat)}", \
            f"纬度必须在 -90 到 90 之间，现为 {_show(lat)}", "lat"
    elif not -180 <= lon <= 180:
        en, zh, key = f"`lon` must be within [-180, 180], got {_show(lon)}", \
            f"经度必须在 -180 到 180 之间，现为 {_show(lon)}", "lon"
    else:
        km = county_distance_km(seat.name, lat=lat, lon=lon, code=seat.county_code) if seat else None
        far = f", {km:.0f} km from {seat.name}" if km is not None and seat else ""
        far_zh = f"，距{seat.name} {km:.0f} 公里" if km is not None and seat else ""
        en = f"lat={lat}, lon={lon} lies outside mainland China (lat 17.5–54.0, lon 73.0–135.5){far}"
        zh = f"纬度 {lat}、经度 {lon} 不在中国大陆范围内（纬度 17.5–54.0，经度 73.0–135.5）{far_zh}"
        key = "lat"
    if swap and seat is not None:
        en += f"; swapped, it lies in {seat.name}: are lat and lon swapped?"
        zh += f"；纬度与经度互换后位于{seat.name}内：是否填反了？"
    row.error(key, "coordinates", en, zh)


def _show(x: float) -> str:
    """A coordinate as written: 200, 119.174772.

    >>> _show(200.0), _show(119.174772)
    ('200', '119.174772')
    """
    return str(int(x)) if x.is_integer() else repr(x)


def _datum(text: str) -> str:
    found = parse_datum(text)
    if found is None:
        raise CellError("must be WGS84, GCJ-02 (高德/腾讯) or BD-09 (百度)",
                        "坐标系应为 WGS84、GCJ-02（高德、腾讯地图）或 BD-09（百度地图）")
    return found


def _registry(row: Row, ctx: Context, category: str | None, grade: str | None, source: str,
              other: tuple[str, ...]) -> Registry | None:
    code = row.parse("credit_code", _credit_code, "credit-code")
    beds = row.integer("beds", minimum=0)
    licence = row.normal("licence_number")
    if not any((category, grade, code, licence, beds is not None, other)):
        return None
    registry_source = ctx.source(row, "registry_source") if row.text("registry_source") else source
    return Registry(category=category, grade=grade, credit_code=code, licence_number=licence, beds=beds,
                    other_subjects=tuple(dict.fromkeys(other)), source=registry_source,
                    inferred=bool(row.boolean("registry_inferred")), note=row.text("registry_note"))


def _credit_code(text: str) -> str:
    code = text.strip().upper()
    problem = credit_code_problem(code)
    if problem:
        raise CellError(problem, "统一社会信用代码有误：" + _credit_zh(problem))
    return code


def _credit_zh(problem: str) -> str:
    """The credit code's problem in Chinese (its checks speak English, with the numbers that matter)."""
    import re

    if found := re.search(r"check character is (\w), expected (\w)", problem):
        return f"校验码是 {found.group(1)}，按 GB 32100-2015 应为 {found.group(2)}"
    if found := re.search(r"must be 18 characters.*has (\d+)", problem):
        return f"应为 18 位，实为 {found.group(1)} 位"
    if found := re.search(r"'(.)' at position (\d+)", problem):
        return f"第 {found.group(2)} 位的“{found.group(1)}”不是允许的字符"
    return problem


def _contact(row: Row, source: str) -> Contact | None:
    details: dict[str, Detail | Flag] = {}
    for kind in CONTACT_KINDS:
        if kind == "emergency_24h":
            value = row.boolean(kind)
            if value is not None:
                details[kind] = Flag(value=value, source=source)
        elif kind == "phone":
            phone = read_phone(row, "phone")
            if phone is not None:
                details[kind] = Detail(value=phone, source=source)
        elif (text := row.text(kind)) is not None:
            details[kind] = Detail(value=text, source=source)
    return Contact(**details) if details else None


def read_phone(row: Row, key: str) -> str | None:
    """A phone cell checked and spelt one way; a landline without an area code is a warning."""
    phone = row.parse(key, parse_phone, "phone")
    if phone is not None and phone.warning_en and phone.warning_zh:
        row.warning(key, "phone", phone.warning_en, phone.warning_zh)
    return None if phone is None else phone.text


# ----------------------------------------------------------------------------- other sheets


def read_contact(row: Row, ctx: Context) -> tuple[str, str, Detail | Flag] | None:
    node, kind = ctx.resolve(row, "institution"), row.choice("kind", CONTACTS, rule="contact-kind")
    text, source = row.required("value"), ctx.source(row)
    inferred, note = bool(row.boolean("inferred")), row.text("note")
    detail: Detail | Flag | None
    if kind == "emergency_24h" and text is not None:
        flag = row.boolean("value")
        detail = None if flag is None else Flag(value=flag, source=source, inferred=inferred, note=note)
    elif kind == "phone" and text is not None:
        phone = read_phone(row, "value")
        detail = None if phone is None else Detail(value=phone, source=source, inferred=inferred, note=note)
    else:
        detail = None if text is None else Detail(value=text, source=source, inferred=inferred, note=note)
    return None if node is None or kind is None or detail is None else (node, kind, detail)


def _specialty_cell(row: Row, key: str) -> Specialty | None:
    """A cell that must name a specialty mednet routes (a 诊疗科目 that none routes is said so)."""
    text = row.required(key)
    if text is None:
        return None

    def parse(value: str) -> Specialty:
        kind, code = resolve_department(value)
        if kind == "not-routed":
            name = NATIONAL_SUBJECTS.get(code, code)
            raise CellError(f"诊疗科目 {code} {name} is not routed by mednet: no specialty of its vocabulary is it",
                            f"诊疗科目 {code} {name} 不在 mednet 的转诊专科中，不能用于此处")
        return resolve_specialty(code)

    return row.parse(key, parse, "unknown-specialty")


class NotRouted(NamedTuple):
    """A capabilities row naming a 诊疗科目 no specialty routes: a registry fact of the institution."""

    institution: str
    code: str


def read_capability(row: Row, ctx: Context) -> tuple[str, Capability] | NotRouted | None:
    """(id, capability) of a capabilities row, or :class:`NotRouted` (counted in ``ctx.not_routed``)."""
    node = ctx.resolve(row, "institution")
    text = row.required("specialty")
    kind = code = None
    if text is not None:
        try:
            kind, code = resolve_department(row.normal("specialty") or text)
        except CellError as err:
            row.error("specialty", "unknown-specialty", str(err), err.zh)
    cap = dict(source=ctx.source(row), inferred=bool(row.boolean("inferred")), note=row.text("note"),
               beds=row.integer("beds", minimum=0), weekly_slots=row.integer("weekly_slots", minimum=0),
               weekly_sessions=row.integer("weekly_sessions", minimum=1))
    if node is None or code is None:
        return None
    if kind == "not-routed":
        ctx.not_routed[code] += 1
        return NotRouted(node, code)
    return node, Capability(specialty=code, **cap)


def read_session(row: Row, ctx: Context) -> tuple[str, str, Session] | None:
    """(host id, specialty code, session) of a sessions row; its source and note serve a capability it creates."""
    host = ctx.resolve(row, "institution")
    spec = _specialty_cell(row, "specialty")
    provider = ctx.resolve(row, "provider")
    session = dict(weekday=row.choice("weekday", WEEKDAYS, rule="weekday", shown="周一…周日（或星期一…星期日、1…7）"),
                   part=row.choice("part", PARTS, rule="part", shown="上午、下午、晚上、全天"),
                   every_weeks=row.integer("every_weeks", minimum=1) or 1, provider=provider,
                   valid_from=row.date("valid_from"), valid_until=row.date("valid_until"))
    if (row.text("provider") and provider is None) or (row.text("source") and row.text("source") not in ctx.sources):
        ctx.source(row)  # reports the unknown key
        return None
    return None if host is None or spec is None else (host, spec.code, Session(**session))


def read_membership(row: Row, ctx: Context) -> tuple[str, Membership] | None:
    community = row.required("community")
    node = ctx.resolve(row, "institution")
    if row.text("institution") is None:
        row.required("institution")
    role = row.choice("role", ROLES, rule="role", shown=ROLES_SHOWN)
    if row.text("role") is None:
        row.required("role")
    source, inferred, note = ctx.source(row), bool(row.boolean("inferred")), row.text("note")
    if community is None or node is None or role is None:
        return None
    return clean_name(community), Membership(institution=node, role=Role(role), source=source, inferred=inferred,
                                             note=note)


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
        row.error("b", "link-ends", "a link joins two different institutions", "连接的两端必须是两个不同的机构")
        return None
    return Link(a=a, b=b, kind=LinkKind(kind), distance_km=km, distance_basis=basis, minutes=minutes, source=source,
                inferred=inferred, note=note)


def read_travel(row: Row, ctx: Context) -> tuple[str, str, float | None, float | None, str, str | None] | None:
    a, b = ctx.resolve(row, "origin"), ctx.resolve(row, "destination")
    km = row.number("distance_km", minimum=0, exclusive=True)
    minutes = row.number("minutes", minimum=0, exclusive=True)
    if row.text("distance_km") is None and row.text("minutes") is None:
        row.error("distance_km", "required", "give a road distance (km), a travel time (minutes) or both",
                  "请填写道路距离（公里）或行车时间（分钟），或两者都填")
        return None
    source = ctx.source(row)
    if a is None or b is None:
        return None
    if a == b:
        row.error("destination", "link-ends", "origin and destination must differ", "起点和终点必须不同")
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
        row.error("text", "required", "a roster entry needs the name as published", "名单条目需要写出公布时的名称")
        return None
    return (community, published, source), RosterEntry(text=text, institution=node) if text else None, fields


__all__ = ["ROLES", "Context", "Draft", "NotRouted", "draft_institution", "finish_institution", "make_id",
           "read_capability", "read_contact", "read_departments", "read_link", "read_membership", "read_phone",
           "read_roster_entry", "read_session", "read_sources", "read_travel", "resolve_department", "row_names",
           "skipped_category"]

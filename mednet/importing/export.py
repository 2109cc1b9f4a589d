"""A region back to its tables, for a planner to edit and import again without loss.

:func:`export_tables` gives one DataFrame per sheet (headers ``名称 name``:
Chinese, then the key); :func:`write_tables` writes them as one XLSX
workbook or a folder of CSV files. Every fact keeps its source, ``inferred``
flag and note; capabilities, contact details and links go to their own
sheets, so importing the export gives the same region.

    >>> from mednet.regions import load_region
    >>> frames = export_tables(load_region("quzhou"))
    >>> frames["机构 institutions"].shape[0], list(frames["机构 institutions"].columns[:3])
    (67, ['编号 id', '名称 name', '简称 aliases'])
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from mednet.errors import InvalidRequest
from mednet.importing.sheets import SHEETS
from mednet.models import Flag, Institution, Provenance, Region

LIST_JOIN = "; "


def _yes(value: bool) -> str:
    return "是" if value else "否"


def _sheet(key: str, records: list[dict]) -> tuple[str, pd.DataFrame]:
    sheet = SHEETS[key]
    columns = [c.header for c in sheet.columns]
    frame = pd.DataFrame([{sheet.columns[i].header: r.get(c.key) for i, c in enumerate(sheet.columns)}
                          for r in records], columns=columns, dtype=object)
    return sheet.title, frame


def _provenance(fact: Provenance | Institution) -> dict[str, object]:
    return {"source": fact.source, "inferred": _yes(fact.inferred), "note": fact.note}


def export_tables(region: Region) -> dict[str, pd.DataFrame]:
    """The region's sheets, keyed by sheet title, in the order a workbook shows them."""
    institutions, capabilities, sessions, contacts = [], [], [], []
    for inst in region.institutions:
        reg, loc = inst.registry, inst.location
        institutions.append({
            "id": inst.id, "name": inst.name, "aliases": LIST_JOIN.join(inst.aliases), "tier": inst.tier.value,
            "category": reg and reg.category, "grade": reg and reg.grade, "county": inst.county,
            "township": inst.township, "lat": inst.lat, "lon": inst.lon, "datum": "WGS84", "location_kind": loc.kind,
            "location_source": loc.source, "location_inferred": _yes(loc.inferred), "location_note": loc.note,
            "converted_from": loc.converted_from, "credit_code": reg and reg.credit_code,
            "licence_number": reg and reg.licence_number, "beds": reg and reg.beds,
            "registry_source": reg and reg.source, "registry_inferred": reg and _yes(reg.inferred),
            "registry_note": reg and reg.note, "population": inst.population,
            "other_subjects": LIST_JOIN.join(reg.other_subjects) if reg and reg.other_subjects else None,
            **_provenance(inst),
        })
        for cap in inst.capabilities:
            capabilities.append({"institution": inst.id, "specialty": cap.specialty, **_provenance(cap),
                                 "beds": cap.beds, "weekly_slots": cap.weekly_slots,
                                 "weekly_sessions": cap.weekly_sessions})
            sessions += [{"institution": inst.id, "specialty": cap.specialty, "weekday": s.weekday, "part": s.part,
                          "provider": s.provider, "every_weeks": s.every_weeks, "valid_from": s.valid_from,
                          "valid_until": s.valid_until} for s in cap.sessions]
        for kind, detail in inst.contact.items() if inst.contact else ():
            value = _yes(detail.value) if isinstance(detail, Flag) else detail.value
            contacts.append({"institution": inst.id, "kind": kind, "value": value, **_provenance(detail)})
    sheets = [
        _sheet("region", [{"id": region.id, "name": region.name, "description": region.description,
                           "road_factor": region.road_factor, "speed_kmh": region.speed_kmh,
                           "booking_days": region.booking_days}]),
        _sheet("sources", [{"key": k, **s.model_dump()} for k, s in region.sources.items()]),
        _sheet("counties", [c.model_dump() for c in region.covered_counties]),
        _sheet("institutions", institutions),
        _sheet("capabilities", capabilities),
        _sheet("sessions", sessions),
        _sheet("contacts", contacts),
        _sheet("communities", [{"id": c.id, "name": c.name, "kind": c.kind, "counties": LIST_JOIN.join(c.counties),
                                "published": c.published, "source": c.source, "note": c.note}
                               for c in region.communities]),
        _sheet("members", [{"community": c.id, "institution": m.institution, "role": m.role.value, **_provenance(m)}
                           for c in region.communities for m in c.members]),
        _sheet("links", [{"a": link.a, "b": link.b, "kind": link.kind.value, "distance_km": link.distance_km,
                          "distance_basis": link.distance_basis, "minutes": link.minutes, **_provenance(link)}
                         for link in region.links]),
        _sheet("rosters", [
            {"community": r.community, "published": r.published, "source": r.source, "text": e.text if e else None,
             "institution": e.institution if e else None, **({"unnamed": r.unnamed or None,
                                                              "unnamed_tier": r.unnamed_tier and r.unnamed_tier.value,
                                                              "note": r.note} if first else {})}
            for r in region.rosters for first, e in _entries(r)]),
        _sheet("travel", []),
        _sheet("population", []),
    ]
    return dict(sheets)


def _entries(roster):
    entries = roster.entries or (None,)
    return [(i == 0, e) for i, e in enumerate(entries)]


def write_tables(region: Region, path: str | os.PathLike[str]) -> Path:
    """Write the region's tables: ``*.xlsx`` as one workbook, any other path as a folder of CSV files."""
    path = Path(path)
    if is_workbook(path):
        frames = export_tables(region)
        tmp = path.with_name(path.name + ".tmp.xlsx")
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for title, frame in frames.items():
                frame.to_excel(writer, sheet_name=title, index=False)
        tmp.replace(path)
        return path
    path.mkdir(parents=True, exist_ok=True)
    for name, write in csv_files(region).items():
        write(path / name)
    return path


def is_workbook(path: str | os.PathLike[str], field: str = "path") -> bool:
    """True for a workbook path (``*.xlsx``), False for a folder of CSV files (no suffix); else InvalidRequest.

    >>> is_workbook("ly.xlsx"), is_workbook("tables")
    (True, False)
    """
    suffix = Path(path).suffix
    if suffix and suffix.lower() != ".xlsx":
        raise InvalidRequest(field, str(path), "must end in .xlsx (a workbook) or name a folder (CSV files)")
    return bool(suffix)


def csv_files(region: Region) -> dict[str, Callable[[str | os.PathLike[str]], object]]:
    """The region's tables as CSV files: file name → a function writing that file to the path it is given.

    >>> from mednet.regions import load_region
    >>> sorted(csv_files(load_region("minhang")))[:3]
    ['capabilities.csv', 'communities.csv', 'contacts.csv']
    """
    def writer(frame: pd.DataFrame) -> Callable[[str | os.PathLike[str]], object]:
        return lambda target: frame.to_csv(target, index=False, encoding="utf-8-sig")

    return {f"{title.split(' ')[-1]}.csv": writer(frame) for title, frame in export_tables(region).items()}


__all__ = ["csv_files", "export_tables", "is_workbook", "write_tables"]

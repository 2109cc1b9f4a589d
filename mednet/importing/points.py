"""Placing every institution row's point at once: datums converted in bulk, seats for rows without one, and the
plausibility check of the datum a row declares.

Points given in GCJ-02 or BD-09 are converted to WGS84 in one vectorised
pass per datum (:func:`mednet.importing.datums.to_wgs84_many`). A row
without coordinates stands at its township's seat (primary care) or its
county's (hospitals), marked inferred.

A point whose declared datum is unlikely is a warning giving both
distances: read in another datum it lies much nearer its township's seat
(:data:`NEARER_KM` or less, at most half the distance, and at least
:data:`GAIN_KM` nearer). Map apps in China show GCJ-02 (高德, 腾讯) or BD-09
(百度); the two differ from WGS84 and from each other by a few hundred
metres, so a point copied from one and declared as another lands off its
building in a consistent direction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from mednet.geo import haversine_km
from mednet.importing.datums import DATUMS, to_wgs84_many
from mednet.importing.rows import PLACES_SOURCE, Context, Draft
from mednet.models import Location, Tier
from mednet.places import Place

#: A datum is suspect when another reading lies at most this far from the township seat …
NEARER_KM = 1.5
#: … and at least this much nearer than the declared reading, and at most half its distance.
GAIN_KM = 0.3
DATUM_ZH = {"WGS84": "WGS84（GPS）", "GCJ-02": "GCJ-02（高德、腾讯地图）", "BD-09": "BD-09（百度地图）"}
DATUM_APP = {"WGS84": "a GPS device", "GCJ-02": "Amap or Tencent Maps", "BD-09": "Baidu Maps"}


def place_points(drafts: Sequence[Draft], ctx: Context) -> None:
    """Set each draft's ``point`` (lat, lon, Location): converted, or the seat of its township or county; warn
    of suspect datums."""
    by_datum: dict[str, list[Draft]] = defaultdict(list)
    for draft in drafts:
        if draft.given is not None:
            by_datum[draft.given[2]].append(draft)
        elif not draft.point_bad and draft.seat is not None:
            draft.point = seat_location(draft.seat, draft.township, draft.fields["tier"], ctx)
    for datum, group in by_datum.items():
        lat = np.array([d.given[0] for d in group if d.given])
        lon = np.array([d.given[1] for d in group if d.given])
        ys, xs = to_wgs84_many(lat, lon, datum=datum)
        for draft, y, x in zip(group, ys.tolist(), xs.tolist(), strict=True):
            _place(draft, y, x)
    _check_datums([d for d in drafts if d.point is not None and d.given is not None and d.township is not None
                   and d.township.lat is not None])


def _place(draft: Draft, lat: float, lon: float) -> None:
    if draft.given is None:
        return
    given_lat, given_lon, datum = draft.given
    location = dict(draft.location)
    if datum != "WGS84":
        given = (f"given as {datum} lat={given_lat}, lon={given_lon}; converted to WGS84 by mednet (iterative "
                 "inverse, < 1 m)")
        location["note"] = f"{location['note']}; {given}" if location["note"] else given
        location["converted_from"] = datum
        lat, lon = round(lat, 7), round(lon, 7)
    draft.point = (lat, lon, Location(**location))


def _check_datums(drafts: Sequence[Draft]) -> None:
    """Each point read in every datum, and its distance to its township's seat in each."""
    if not drafts:
        return
    seat_lat = np.array([d.township.lat for d in drafts if d.township])
    seat_lon = np.array([d.township.lon for d in drafts if d.township])
    lat = np.array([d.given[0] for d in drafts if d.given])
    lon = np.array([d.given[1] for d in drafts if d.given])
    km = {datum: haversine_km(*_reading(lat, lon, datum), seat_lat, seat_lon) for datum in DATUMS}
    for k, draft in enumerate(drafts):
        declared = draft.given[2] if draft.given else "WGS84"
        own = float(km[declared][k])
        best = min((d for d in DATUMS if d != declared), key=lambda d: float(km[d][k]))
        near = float(km[best][k])
        if near <= NEARER_KM and near <= own / 2 and own - near >= GAIN_KM:
            _suspect(draft, declared, own, best, near)


def _reading(lat: np.ndarray, lon: np.ndarray, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """The points read as given in ``datum``, in WGS84."""
    return to_wgs84_many(lat, lon, datum=datum)


def _suspect(draft: Draft, declared: str, own: float, best: str, near: float) -> None:
    row, seat = draft.row, draft.township
    if seat is None:
        return
    key = "datum" if row.has("datum") else "lat"
    row.warning(key, "datum-suspect",
                f"read as {declared} the point is {own:.2f} km from the seat of {seat.name}; read as {best}, "
                f"{near:.2f} km: if it was copied from {DATUM_APP[best]}, set 坐标系 to {best}",
                f"按 {DATUM_ZH[declared]}读，该点距{seat.name}驻地 {own:.2f} 公里；按 {DATUM_ZH[best]}读仅 "
                f"{near:.2f} 公里：若坐标取自{DATUM_APP_ZH[best]}，请把坐标系改为 {best}")


DATUM_APP_ZH = {"WGS84": "GPS 设备", "GCJ-02": "高德或腾讯地图", "BD-09": "百度地图"}


def seat_location(seat: Place, township: Place | None, tier: Tier | None,
                  ctx: Context) -> tuple[float, float, Location]:
    """A row without coordinates: its township's seat (primary care), else its county's, marked inferred."""
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


__all__ = ["GAIN_KM", "NEARER_KM", "place_points", "seat_location", "seat_point"]

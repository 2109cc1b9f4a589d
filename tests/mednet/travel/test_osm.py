"""The OSM tag rules: maxspeed values, drivable ways, one-way directions."""

from __future__ import annotations

import pytest

from mednet.travel.osm import is_drivable, oneway_directions, parse_maxspeed


@pytest.mark.parametrize(
    "value, kmh",
    [
        ("60", 60.0),
        ("60 km/h", 60.0),
        ("60km/h", 60.0),
        ("80 kmh", 80.0),
        ("50 kph", 50.0),
        ("25.5", 25.5),
        ("40 mph", 40 * 1.609344),
        ("30MPH", 30 * 1.609344),
        ("50;80", 50.0),
        ("80; 60", 60.0),
        ("CN:urban", None),
        ("CN:rural", None),
        ("CN:motorway", None),
        ("RU:living_street", None),
        ("none", None),
        ("signals", None),
        ("walk", None),
        ("variable", None),
        ("0", None),
        ("", None),
        (None, None),
        ("60 knots", None),
    ],
)
def test_maxspeed(value, kmh):
    got = parse_maxspeed(value)
    assert got == (pytest.approx(kmh) if kmh is not None else None)


@pytest.mark.parametrize(
    "tags, drivable",
    [
        ({"highway": "motorway"}, True),
        ({"highway": "trunk_link"}, True),
        ({"highway": "living_street"}, True),
        ({"highway": "road"}, True),
        ({"highway": "footway"}, False),
        ({"highway": "cycleway"}, False),
        ({"highway": "track"}, False),
        ({"highway": "construction"}, False),
        ({"highway": "pedestrian"}, False),
        ({"highway": "service", "access": "private"}, False),
        ({"highway": "service", "motor_vehicle": "no"}, False),
        ({"highway": "service", "access": "no", "motorcar": "yes"}, True),
        ({"highway": "service", "access": "yes"}, True),
        ({"highway": "residential", "area": "yes"}, False),
        ({"highway": "primary", "oneway": "reversible"}, False),
        ({"building": "yes"}, False),
    ],
)
def test_drivable(tags, drivable):
    assert is_drivable(tags) is drivable


@pytest.mark.parametrize(
    "tags, directions",
    [
        ({"highway": "primary"}, (True, True)),
        ({"highway": "primary", "oneway": "yes"}, (True, False)),
        ({"highway": "primary", "oneway": "true"}, (True, False)),
        ({"highway": "primary", "oneway": "1"}, (True, False)),
        ({"highway": "primary", "oneway": "-1"}, (False, True)),
        ({"highway": "primary", "oneway": "reverse"}, (False, True)),
        ({"highway": "motorway"}, (True, False)),
        ({"highway": "motorway", "oneway": "no"}, (True, True)),
        ({"highway": "primary", "junction": "roundabout"}, (True, False)),
        ({"highway": "primary", "junction": "roundabout", "oneway": "no"}, (True, True)),
    ],
)
def test_oneway(tags, directions):
    assert oneway_directions(tags) == directions

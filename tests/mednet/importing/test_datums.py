"""GCJ-02 and BD-09 back to WGS84, against published reference pairs, within a metre."""

import coordTransform
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mednet.geo import geodesic_km
from mednet.importing.datums import from_wgs84, parse_datum, to_wgs84

# (WGS84 lat, lon, datum, lat, lon, where the pair is published)
REFERENCE = [
    (31.1774276, 121.5272106, "GCJ-02", 31.17530398364597, 121.531541859215, "eviltransform tests, Shanghai"),
    (22.543847, 113.912316, "GCJ-02", 22.540796131694766, 113.9171764808363, "eviltransform tests, Shenzhen"),
    (39.911954, 116.377817, "GCJ-02", 39.91334545536069, 116.38404722455657, "eviltransform tests, Beijing"),
    (39.90734, 116.39089, "GCJ-02", 39.90874539, 116.39713623, "geoChina tests, the map API's own answer"),
    (44.99804071, 122.99395597, "GCJ-02", 45.0, 123.0, "gcoord tests (8 decimals)"),
    (30.6107779, 121.0917077, "GCJ-02", 30.608604331756705, 121.09626935575027, "geotool tests"),
    (30.6107779, 121.0917077, "BD-09", 30.61484572185035, 121.10271732371203, "geotool tests"),
    (44.99171540, 122.98762210, "BD-09", 45.0, 123.0, "gcoord tests (8 decimals)"),
]


def metres(a, b) -> float:
    return geodesic_km(lat1=a[0], lon1=a[1], lat2=b[0], lon2=b[1]) * 1000


@pytest.mark.parametrize(("lat", "lon", "datum", "dlat", "dlon", "where"), REFERENCE)
def test_reference_pairs_back_to_wgs84_within_a_metre(lat, lon, datum, dlat, dlon, where):
    assert metres(to_wgs84(lat=dlat, lon=dlon, datum=datum), (lat, lon)) < 1.0, where


@pytest.mark.parametrize(("lat", "lon", "datum", "dlat", "dlon", "where"), REFERENCE)
def test_reference_pairs_forward_within_a_metre(lat, lon, datum, dlat, dlon, where):
    assert metres(from_wgs84(lat=lat, lon=lon, datum=datum), (dlat, dlon)) < 1.0, where


def test_the_iteration_is_what_reaches_the_metre():
    lat, lon, _, glat, glon, _ = REFERENCE[0]
    one_step_lon, one_step_lat = coordTransform.gcj02_to_wgs84(glon, glat)
    assert metres((one_step_lat, one_step_lon), (lat, lon)) > 1.5  # the closed-form guess is metres off
    assert metres(to_wgs84(lat=glat, lon=glon, datum="GCJ-02"), (lat, lon)) < 0.01


@settings(max_examples=200, deadline=None)
@given(st.floats(18.5, 53.0), st.floats(74.0, 134.5), st.sampled_from(["GCJ-02", "BD-09"]))
def test_round_trip_anywhere_in_china_within_a_centimetre(lat, lon, datum):
    back = to_wgs84(**dict(zip(("lat", "lon"), from_wgs84(lat=lat, lon=lon, datum=datum), strict=True)), datum=datum)
    assert metres(back, (lat, lon)) < 0.01


def test_wgs84_is_unchanged_and_spellings_resolve():
    assert to_wgs84(lat=29.0, lon=119.0, datum="WGS84") == (29.0, 119.0)
    assert [parse_datum(t) for t in ("WGS-84", "gcj02", "高德", "BD09", "百度", "Krassowsky")] == \
        ["WGS84", "GCJ-02", "GCJ-02", "BD-09", "BD-09", None]

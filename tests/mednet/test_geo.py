import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mednet.errors import InvalidCoordinates
from mednet.geo import SpatialIndex, check_lat_lon, geodesic_km, haversine_km, neighbour_pairs


@settings(max_examples=200, deadline=None)
@given(st.floats(-89, 89), st.floats(-180, 180), st.floats(-89, 89), st.floats(-180, 180))
def test_haversine_agrees_with_geodesic_within_half_a_percent(lat1, lon1, lat2, lon2):
    exact = geodesic_km(lat1=lat1, lon1=lon1, lat2=lat2, lon2=lon2)
    fast = float(haversine_km(lat1, lon1, lat2, lon2))
    assert fast == pytest.approx(exact, rel=0.006, abs=1e-6)


@pytest.mark.parametrize(
    "a, b, km",
    [
        ((29.0, 118.0), (29.0, 118.0), 0.0),  # identical points
        ((0.0, 179.9), (0.0, -179.9), 22.24),  # across the antimeridian, not round the world
        ((89.9, 0.0), (89.9, 180.0), 22.24),  # over the pole
    ],
)
def test_edge_cases(a, b, km):
    assert float(haversine_km(*a, *b)) == pytest.approx(km, abs=0.05)
    assert geodesic_km(lat1=a[0], lon1=a[1], lat2=b[0], lon2=b[1]) == pytest.approx(km, rel=0.01, abs=0.05)


@pytest.mark.parametrize(
    "lat, lon, match",
    [
        (200, 118, r"`lat` must be within \[-90, 90\], got 200"),
        (118.35, 29.01, "lat and lon look swapped"),
        (math.nan, 118, "`lat` must be a finite number"),
        (29, math.inf, "`lon` must be a finite number"),
        ("north", 118, "must be numbers"),
    ],
)
def test_check_lat_lon_rejects_bad_points(lat, lon, match):
    with pytest.raises(InvalidCoordinates, match=match):
        check_lat_lon(lat=lat, lon=lon)


def test_points_outside_china_are_refused_when_asked():
    assert check_lat_lon(lat=48.85, lon=2.35) == (48.85, 2.35)
    with pytest.raises(InvalidCoordinates, match="mainland China"):
        check_lat_lon(lat=48.85, lon=2.35, within_china=True)
    with pytest.raises(InvalidCoordinates, match="swapped"):  # valid numbers, but swapped: lands in the Indian Ocean
        check_lat_lon(lat=80.0, lon=30.0, within_china=True)


def test_spatial_index_matches_brute_force():
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(20, 50, 500), rng.uniform(75, 130, 500)
    index = SpatialIndex(lat=lat, lon=lon)
    for qlat, qlon in rng.uniform((20, 75), (50, 130), (50, 2)):
        brute = haversine_km(qlat, qlon, lat, lon)
        i, km = index.nearest(lat=qlat, lon=qlon)
        assert i == int(brute.argmin()) and km == pytest.approx(float(brute.min()))
        assert sorted(index.within(lat=qlat, lon=qlon, max_km=300)) == sorted(np.flatnonzero(brute <= 300).tolist())
        # The k nearest within a radius (a point's access legs): exactly those of the exhaustive order.
        found, kms = index.nearest_k(lat=qlat, lon=qlon, k=4, max_km=400)
        expected = [i for i in np.argsort(brute, kind="stable")[:4].tolist() if brute[i] <= 400]
        assert found == expected and kms == pytest.approx(brute[expected].tolist())


def test_neighbour_pairs_are_the_k_nearest_within_radius():
    rng = np.random.default_rng(2)
    lat, lon = rng.uniform(28, 30, 200), rng.uniform(118, 120, 200)
    i, j, km = neighbour_pairs(lat, lon, k=3, max_km=25)
    assert (i < j).all() and (km <= 25 + 1e-9).all()
    full = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    np.fill_diagonal(full, np.inf)
    expected = set()
    for a in range(200):
        for b in np.argsort(full[a])[:3]:
            if full[a, b] <= 25:
                expected.add((min(a, b), max(a, b)))
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == expected
    assert km == pytest.approx(full[i, j])


@pytest.mark.parametrize("seed", range(3))
def test_the_spatial_index_finds_the_great_circle_nearest(seed):
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(27, 31.5, 3000), rng.uniform(118, 123, 3000)  # Zhejiang-sized, with cell-edge cases
    lat[:10], lon[:10] = np.round(lat[:10], 1), np.round(lon[:10], 1)
    index = SpatialIndex(lat=lat, lon=lon)
    for q_lat, q_lon in zip(rng.uniform(17.5, 54, 300).tolist() + lat[:50].tolist(),
                            rng.uniform(73, 135.5, 300).tolist() + (lon[:50] + 0.01).tolist(), strict=True):
        i, km = index.nearest(lat=q_lat, lon=q_lon)
        every = haversine_km(q_lat, q_lon, lat, lon)
        assert km == pytest.approx(float(every.min()), abs=1e-6)
        assert every[i] == pytest.approx(float(every.min()), abs=1e-6)

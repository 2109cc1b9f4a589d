import datetime as dt
import json

import pytest

from mednet.regions import load_region
from mednet.routing import CST, Point, Router

URL = "/regions/quzhou/routes"


@pytest.fixture(scope="module")
def router():
    return Router.from_region(load_region("quzhou"))


@pytest.mark.parametrize(("body", "origin", "specialty", "options"), [
    ({"origin": "华埠", "specialty": "普外科"}, "华埠", "普外科", {}),
    ({"origin": "kh-huabu", "specialty": "general surgery", "direction": "emergency"}, "kh-huabu",
     "general surgery", {"direction": "emergency"}),
    ({"origin": "池淮(张湾)", "specialty": "骨科", "alternatives": 5, "max_km": 80}, "池淮(张湾)", "骨科",
     {"alternatives": 5, "max_km": 80}),
    ({"origin": "kh-people", "direction": "down", "home": "华埠"}, "kh-people", None,
     {"direction": "down", "home": "华埠"}),
    ({"origin": "kh-people", "specialty": "儿科", "direction": "down", "home": "开化县中医院医共体"}, "kh-people",
     "儿科", {"direction": "down", "home": "开化县中医院医共体"}),
    ({"origin": {"lat": 29.05, "lon": 118.4}, "specialty": "儿科", "when": "2026-03-02T09:00:00+08:00"},
     Point(lat=29.05, lon=118.4), "儿科", {"when": dt.datetime(2026, 3, 2, 9, tzinfo=CST)}),
    ({"origin": "华埠", "specialty": "神经外科", "explain": "full"}, "华埠", "神经外科", {"explain": "full"}),
    ({"origin": {"lat": 29.0473, "lon": 118.4046, "datum": "gcj02"}, "specialty": "儿科"},
     Point(lat=29.0473, lon=118.4046, datum="gcj02"), "儿科", {}),
])
def test_the_answer_is_the_librarys_referral(client, router, body, origin, specialty, options):
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    expected = router.route(origin, specialty, **options)
    assert response.json() == json.loads(expected.model_dump_json())


def test_an_up_referral_explains_itself(client):
    body = client.post(URL, json={"origin": "华埠", "specialty": "普外科"}).json()
    assert body["destination"]["name"] == "开化县人民医院"
    assert body["step"] == "own_community"
    assert body["path"][0]["from_id"] == "kh-huabu" and body["path"][-1]["to_id"] == "kh-people"
    assert body["passed_over"][0]["reason"] == "is_origin"
    assert "上转" in body["explanation"]
    assert 1 <= len(body["alternatives"]) <= 3


def test_unknown_region(client, problem):
    body = problem(client.post("/regions/quzou/routes", json={"origin": "华埠", "specialty": "儿科"}), 404,
                   field="region", kind="unknown-region")
    assert body["suggestions"][0] == "quzhou"


def test_unknown_origin_suggests_the_closest_names(client, problem):
    body = problem(client.post(URL, json={"origin": "华铺", "specialty": "儿科"}), 404, field="origin",
                   kind="unknown-institution")
    assert "华埠" in body["suggestions"]


def test_unknown_home_community(client, problem):
    body = problem(client.post(URL, json={"origin": "kh-people", "specialty": "儿科", "direction": "down",
                                          "home": "开化县中医医共体"}), 404, field="home", kind="unknown-community")
    assert "开化县中医院医共体" in body["suggestions"]


def test_bad_specialty_is_422_with_suggestions(client, problem):
    body = problem(client.post(URL, json={"origin": "华埠", "specialty": "paediatric"}), 422, field="specialty",
                   kind="unknown-specialty")
    assert body["suggestions"][0] == "paediatrics"


@pytest.mark.parametrize(("origin", "field", "words"), [
    ({"lat": 118.35, "lon": 29.01}, "origin.lat", "swapped"),
    ({"lat": 95, "lon": 118.35}, "origin.lat", "must be within [-90, 90]"),
    ({"lat": 29.01, "lon": 190}, "origin.lon", "must be within [-180, 180]"),
    ({"lat": 48.85, "lon": 2.35}, "origin", "mainland China"),
    ({"lat": 39.9, "lon": 116.4}, "origin", "某基层医疗机构 50 公里内"),
    ({"lat": 29.01}, "origin.lon", "is required"),
    ({"lat": 29.01, "lon": 118.35, "datum": "utm"}, "origin.datum", "'wgs84', 'gcj02' or 'bd09'"),
    ({"lat": "north", "lon": 118}, "origin.lat", "valid number"),
    (42, "origin", "an institution (id, name or alias) or a point"),
    ("", "origin", "at least 1 character"),
])
def test_bad_coordinates_are_422_naming_the_field(client, problem, origin, field, words):
    body = problem(client.post(URL, json={"origin": origin, "specialty": "儿科"}), 422, field=field)
    assert words in body["detail"], body["detail"]


@pytest.mark.parametrize(("extra", "field", "words"), [
    ({"max_km": -5}, "max_km", "must be a number > 0"),
    ({"max_km": 0}, "max_km", "must be a number > 0"),
    ({"alternatives": 0}, "alternatives", "must be a whole number >= 1"),
    ({"alternatives": 21}, "alternatives", "less than or equal to 20"),
    ({"alternatives": 2.5}, "alternatives", "valid integer"),
    ({"direction": "sideways"}, "direction", "'up', 'down' or 'emergency'"),
    ({"when": "next tuesday"}, "when", "ISO 8601 date-time"),
    ({"when": "9999-12-31T23:59:59"}, "when", "in the years 2000–2100"),
    ({"home": "开化县中医院医共体"}, "home", "only used with direction='down'"),
    ({"explain": "all"}, "explain", "'short' or 'full'"),
    ({"urgent": True}, "urgent", "is not a known field"),
])
def test_bad_options_are_422_naming_the_field_and_rule(client, problem, extra, field, words):
    body = problem(client.post(URL, json={"origin": "华埠", "specialty": "儿科", **extra}), 422, field=field)
    assert words in body["detail"], body["detail"]


def test_missing_specialty_is_required_except_for_down(client, problem):
    body = problem(client.post(URL, json={"origin": "华埠"}), 422, field="specialty")
    assert "必须给出（仅下转时可省略）" in body["detail"]
    body = problem(client.post(URL, json={"origin": "华埠", "lang": "en"}), 422, field="specialty")
    assert "is required" in body["detail"]
    body = problem(client.post(URL, json={"origin": "华埠"}, headers={"Accept-Language": "en"}), 422, field="specialty")
    assert "is required" in body["detail"]


def test_down_from_a_township_needs_a_home(client, problem):
    problem(client.post(URL, json={"origin": "华埠", "direction": "down"}), 422, field="home")


@pytest.mark.parametrize("content", [b"{bad", b"", b'{"origin": "\xe5"}'])
def test_malformed_json_is_400(client, problem, content):
    response = client.post(URL, content=content, headers={"content-type": "application/json"})
    body = problem(response, 400, field="body", kind="malformed-json")
    assert "not valid JSON" in body["detail"]


def test_a_body_that_is_not_an_object_is_422(client, problem):
    problem(client.post(URL, json=["华埠", "儿科"]), 422, field="body")


def test_no_capable_institution_is_409_with_the_reason(client, problem):
    body = problem(client.post(URL, json={"origin": "华埠", "specialty": "结核病"}), 409,
                   kind="no-capable-institution")
    assert "结核病" in body["detail"] and "华埠" in body["detail"]


def test_nothing_within_max_km_is_409(client, problem):
    body = problem(client.post(URL, json={"origin": "华埠", "specialty": "神经外科", "direction": "emergency",
                                          "max_km": 0.5}), 409, kind="no-capable-institution")
    assert "0.5" in body["detail"] and "最近的是" in body["detail"]
    body = problem(client.post(URL, json={"origin": "华埠", "specialty": "神经外科", "direction": "emergency",
                                          "max_km": 0.5}, headers={"Accept-Language": "en-GB,en"}), 409,
                   kind="no-capable-institution")
    assert "within max_km=0.5 km" in body["detail"]

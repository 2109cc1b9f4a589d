"""The route endpoint by travel cost: the library's answer, its errors, and the region's OD table changing it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mednet.places import data_dir
from mednet.regions import load_region
from mednet.routing import Point, Router
from mednet.travel import load_travel, save_travel
from mednet.travel.od import import_od
from service.app import create_app
from service.config import Settings

URL = "/regions/quzhou/routes"
EXAMPLE_OD = Path(__file__).resolve().parents[2] / "examples" / "quzhou_od_example.csv"


@pytest.fixture(scope="module")
def router():
    return Router.from_region(load_region("quzhou"))


@pytest.mark.parametrize("body", [
    {"origin": "华埠", "specialty": "普外科", "cost": "minutes"},
    {"origin": "华埠", "specialty": "神经外科", "cost": "minutes", "max_minutes": 120, "explain": "full"},
    {"origin": "kh-people", "direction": "down", "home": "华埠", "cost": "minutes"},
    {"origin": {"lat": 29.05, "lon": 118.4}, "specialty": "儿科", "max_minutes": 60, "max_km": 40, "lang": "en"},
    {"origin": "华埠", "specialty": "普外科", "direction": "emergency", "cost": "km", "max_minutes": 60},
])
def test_the_answer_is_the_librarys_referral_by_cost(client, router, body):
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.text
    options = {k: v for k, v in body.items() if k not in ("origin", "specialty")}
    origin = body["origin"] if isinstance(body["origin"], str) else Point(**body["origin"])
    expected = router.route(origin, body.get("specialty"), travel=load_travel(load_region("quzhou")), **options)
    assert response.json() == json.loads(expected.model_dump_json())
    assert all(hop["kind"] == "travel" for hop in response.json()["path"]) and response.json()["minutes_basis"]["kind"]


def test_errors(client, problem):
    problem(client.post(URL, json={"origin": "华埠", "specialty": "儿科", "cost": "hours"}), 422, field="cost")
    problem(client.post(URL, json={"origin": "华埠", "specialty": "儿科", "max_minutes": 0}), 422,
            field="max_minutes")
    problem(client.post(URL, json={"origin": "华埠", "specialty": "儿科", "max_minutes": -1}), 422,
            field="max_minutes")
    problem(client.post(URL, json={"origin": "华埠", "specialty": "儿科", "max_minutes": "45"}), 422,
            field="max_minutes")
    body = problem(client.post(URL, json={"origin": "齐溪", "specialty": "儿科", "cost": "minutes",
                                          "max_minutes": 45, "lang": "en"}), 409)
    assert "within max_minutes=45 min" in body["detail"]
    body = problem(client.post(URL, json={"origin": "齐溪", "specialty": "儿科", "cost": "minutes",
                                          "max_minutes": 45}), 409)
    assert "限 45 分钟内，max_minutes，按出行层" in body["detail"]  # Chinese by default, as every routing error


def test_the_regions_od_table_changes_the_destination_and_a_broken_one_is_a_422(tmp_path, problem):
    shutil.copy(data_dir() / "regions" / "quzhou.json", tmp_path / "quzhou.json")
    region = load_region("quzhou")
    save_travel(import_od(region, EXAMPLE_OD, source="illustrative example (not measured)"),
                tmp_path / "quzhou.travel.json")
    body = {"origin": "齐溪", "specialty": "儿科", "cost": "minutes", "max_minutes": 45}
    app = create_app(Settings(regions_dir=tmp_path))
    with TestClient(app) as client:
        app.state.loader.thread.join()
        answer = client.post(URL, json=body).json()
        assert (answer["destination"]["name"], answer["minutes"]) == ("开化县人民医院", 40.0)
        assert answer["minutes_basis"]["kind"] == "od_table" and answer["minutes_from_default_model"] is False
    (tmp_path / "quzhou.travel.json").write_text("{not json", encoding="utf-8")
    broken = create_app(Settings(regions_dir=tmp_path))
    with TestClient(broken) as client:
        broken.state.loader.thread.join()
        problem(client.post(URL, json=body), 422, field="cost")
        assert client.post(URL, json={"origin": "齐溪", "specialty": "儿科"}).status_code == 200

from mednet.network import build_network
from mednet.planning import find_coverage_gaps
from mednet.regions import load_region

URL = "/regions/quzhou/coverage"


def test_coverage_of_one_specialty_matches_the_library(client):
    body = client.get(URL, params={"specialty": "儿科", "max_km": 30}).json()
    expected = find_coverage_gaps(build_network(load_region("quzhou")), specialties=["儿科"], max_km=30)
    assert [s["specialty"] for s in body["specialties"]] == ["paediatrics"]
    assert body["specialties"][0]["gap_points"] == expected.summary[0].gap_points > 0
    assert [p["institution"] for p in body["gaps"]["paediatrics"]] == [p.institution for p in expected.gaps("儿科")]
    assert len(body["communities"]) == 6
    assert body["max_km"] == 30


def test_coverage_of_several_specialties_and_of_all(client):
    two = client.get(URL, params=[("specialty", "急诊"), ("specialty", "cardiology")]).json()
    assert [s["specialty"] for s in two["specialties"]] == ["emergency", "cardiology"]
    assert two["max_km"] is None
    everything = client.get(URL).json()
    assert len(everything["specialties"]) > 30


def test_coverage_errors(client, problem):
    problem(client.get(URL, params={"specialty": "儿"}), 422, field="specialty", kind="unknown-specialty")
    problem(client.get(URL, params={"max_km": -5}), 422, field="max_km")
    problem(client.get(URL, params={"max_km": "inf"}), 422, field="max_km")
    problem(client.get("/regions/nowhere/coverage"), 404, field="region")


def test_coverage_by_minutes_matches_the_library_and_names_the_basis(client):
    body = client.get(URL, params={"specialty": "儿科", "cost": "minutes", "max_minutes": 45}).json()
    expected = find_coverage_gaps(build_network(load_region("quzhou")), specialties=["儿科"], cost="minutes",
                                  max_minutes=45)
    assert (body["cost"], body["max_minutes"], body["max_km"]) == ("minutes", 45, None)
    assert [p["institution"] for p in body["gaps"]["paediatrics"]] == [p.institution for p in expected.gaps("儿科")]
    assert body["gaps"]["paediatrics"][0]["minutes"] == expected.gaps("儿科")[0].minutes > 45
    assert body["specialties"][0]["minutes_basis"][0]["kind"] == "default_model"
    assert "estimates" in body["basis_note"]
    assert {c["name"] for c in body["counties"]} == {"衢江区", "江山市", "开化县"}


def test_coverage_by_minutes_errors(client, problem):
    problem(client.get(URL, params={"cost": "hours"}), 422, field="cost")
    problem(client.get(URL, params={"cost": "minutes", "max_minutes": 0}), 422, field="max_minutes")
    problem(client.get(URL, params={"max_minutes": "inf"}), 422, field="max_minutes")

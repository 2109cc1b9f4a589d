from urllib.parse import quote

import pytest

from mednet.geo import haversine_km
from mednet.regions import load_region

URL = "/regions/quzhou/institutions"
HUABU = {"lat": 29.010462, "lon": 118.354319}


def test_directory_pages_through_every_institution(client):
    first = client.get(URL, params={"limit": 40}).json()
    rest = client.get(URL, params={"limit": 40, "offset": 40}).json()
    assert first["total"] == rest["total"] == 67
    ids = [e["institution"]["id"] for e in first["items"] + rest["items"]]
    assert len(ids) == len(set(ids)) == 67
    assert all(e["distance_km"] is None for e in first["items"])


def test_filter_by_specialty_label_tier_and_community(client):
    body = client.get(URL, params={"specialty": "儿科", "tier": "county_hospital", "community": "开化县人民医院医共体"})
    items = body.json()["items"]
    roles = {e["institution"]["id"]: e["communities"]["kh-ygt-people"] for e in items}
    region = load_region("quzhou")
    community = next(c for c in region.communities if c.id == "kh-ygt-people")
    expected = {m.institution: m.role.value for m in community.members
                if region.institution(m.institution).tier == "county_hospital"
                and region.institution(m.institution).capability("paediatrics")}
    assert roles == expected
    assert roles["kh-people"] == "lead"


def test_filter_by_specialty_keeps_only_capable_institutions(client):
    items = client.get(URL, params={"specialty": "obstetrics", "limit": 500}).json()["items"]
    assert items
    assert all(any(c["specialty"] == "obstetrics" for c in e["institution"]["capabilities"]) for e in items)


def test_near_sorts_by_distance_and_within_km_cuts(client):
    near = f"{HUABU['lat']},{HUABU['lon']}"
    everything = client.get(URL, params={"near": near, "limit": 500}).json()["items"]
    distances = [e["distance_km"] for e in everything]
    assert distances == sorted(distances)
    assert distances[0] == 0.0  # 华埠 itself (and anything placed at the same town seat)
    far = everything[-1]["institution"]
    expected = float(haversine_km(HUABU["lat"], HUABU["lon"], far["lat"], far["lon"]))
    assert everything[-1]["distance_km"] == pytest.approx(expected, abs=1e-3)
    close = client.get(URL, params={"near": near, "within_km": 20, "limit": 500}).json()
    assert close["total"] == sum(d <= 20 for d in distances) < len(distances)


def test_within_km_without_near_is_422(client, problem):
    body = problem(client.get(URL, params={"within_km": 10}), 422, field="within_km", kind="invalid-value")
    assert "needs `near`" in body["detail"]


@pytest.mark.parametrize(("near", "words"), [
    ("118.35,29.01", "swapped"),
    ("29.01", "LAT,LON"),
    ("north,east", "LAT,LON"),
    ("nan,118", "finite"),
])
def test_bad_near_is_422_naming_near(client, problem, near, words):
    body = problem(client.get(URL, params={"near": near}), 422, field="near")
    assert words in body["detail"]


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": 0}, "limit"),
    ({"offset": -1}, "offset"),
    ({"tier": "clinic"}, "tier"),
    ({"near": "29,118", "within_km": -5}, "within_km"),
])
def test_out_of_range_parameters_are_422(client, problem, params, field):
    body = problem(client.get(URL, params=params), 422, field=field, kind="invalid-value")
    assert body["errors"][0]["field"] == field


def test_unknown_specialty_is_422_with_suggestions(client, problem):
    body = problem(client.get(URL, params={"specialty": "paediatric"}), 422, field="specialty",
                   kind="unknown-specialty")
    assert body["suggestions"][0] == "paediatrics"


def test_unknown_community_filter_is_404(client, problem):
    problem(client.get(URL, params={"community": "no-such"}), 404, field="community")


@pytest.mark.parametrize("name", ["kh-huabu", "华埠卫生院", "华埠镇卫生院", "华埠"])
def test_institution_by_id_name_or_alias(client, name):
    body = client.get(f"{URL}/{quote(name)}").json()
    assert body["institution"]["id"] == "kh-huabu"
    assert body["communities"] == {"kh-ygt-people": "branch"}


def test_unknown_institution_is_404_with_the_closest_name(client, problem):
    body = problem(client.get(f"{URL}/{quote('华铺')}"), 404, field="institution", kind="unknown-institution")
    assert "华埠" in body["suggestions"]
    assert "did you mean" in body["detail"]


@pytest.mark.parametrize(("q", "first"), [
    ("华埠", "kh-huabu"),          # an alias, exactly
    ("池淮", "kh-chihuai"),        # the start of a merged name 池淮(张湾)卫生院
    ("张湾", "kh-chihuai"),        # inside it
    ("KH-HUABU", "kh-huabu"),     # an id, any case
])
def test_q_completes_names_best_match_first(client, q, first):
    body = client.get(URL, params={"q": q, "limit": 5}).json()
    assert body["items"][0]["institution"]["id"] == first
    for item in body["items"]:
        inst = item["institution"]
        assert any(q.casefold() in n.casefold() for n in (inst["id"], inst["name"], *inst["aliases"]))


def test_q_ranks_exact_then_prefix_then_inside(client):
    items = client.get(URL, params={"q": "开化县", "limit": 500}).json()["items"]
    names = [e["institution"]["name"] for e in items]
    prefixed = [n.startswith("开化县") for n in names]
    assert prefixed == sorted(prefixed, reverse=True) and any(prefixed)


def test_q_matching_nothing_is_an_empty_page(client):
    body = client.get(URL, params={"q": "不存在的医院"}).json()
    assert body == {"total": 0, "limit": 50, "offset": 0, "items": []}

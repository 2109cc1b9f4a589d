from mednet.places import data_dir
from mednet.regions import list_regions


def test_regions_lists_each_region_summarised(client):
    body = client.get("/regions").json()
    assert [r["id"] for r in body] == list_regions(data_dir() / "regions")
    assert "quzhou" in [r["id"] for r in body]
    assert all(r["institution_count"] == sum(r["tiers"].values()) for r in body)


def test_region_summary_counts_tiers_and_names_communities(client):
    body = client.get("/regions/quzhou").json()
    assert body["institution_count"] == sum(body["tiers"].values())
    assert body["tiers"]["township_centre"] > body["tiers"]["county_hospital"] > 0
    kaihua = next(c for c in body["communities"] if c["id"] == "kh-ygt-people")
    assert kaihua["lead"] == "kh-people"
    assert kaihua["lead_name"] == "开化县人民医院"
    assert kaihua["member_count"] > 1
    assert "seed004" in body["sources"]
    assert set(body["counties"]) >= {"衢江区", "江山市", "开化县"}


def test_unknown_region_is_404_with_the_closest_name(client, problem):
    body = problem(client.get("/regions/quzou"), 404, field="region", kind="unknown-region")
    assert body["suggestions"][0] == "quzhou"
    assert "quzou" in body["detail"]
